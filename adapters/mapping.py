"""The declarative mapping: a partner's raw record in, a common-syntax :class:`Record` out.

A :class:`Mapper` is built once per (partner, entity) from its :class:`EntityMapping`. Its
field readers (:class:`FieldReader`) are the reference reading of the mapping; for the hot path
they are compiled into one Python function per set of fields read
(:mod:`adapters.mapping_compiler`): paths unrolled into ``dict.get`` chains, the common-syntax
dict written as one literal. Both give the same records (the tests run them side by side).

Types come from :mod:`adapters.syntax`: a value that cannot be coerced raises
:class:`MappingError` naming the field, the partner path and the partners-file line (never the
value); :meth:`Mapper.map_many` drops that record and counts it, by field, in
:mod:`adapters.mapping_stats`. Fields of the partner's record that no mapping names are never
read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.coercion import MappingError, scalar_converter, to_date, to_instant
from adapters.config import EntityMapping, FieldMappingType, FieldSpec
from adapters.errors import SourceBadResponse
from adapters.mapping_checks import mapping_problems, valid_path
from adapters.mapping_stats import FieldFailure, count_dropped, count_mapped, recent_failures
from adapters.syntax import ENTITIES, FieldType
from adapters.types import Fields, Provenance, Record

__all__ = [
    "MISSING",
    "FieldReader",
    "Mapper",
    "MappingError",
    "RecordReader",
    "SourceUnfit",
    "as_spec",
    "compile_path",
    "log_dropped",
    "now_instant",
    "read_path",
    "refuse_if_none_fit",
    "set_path",
    "to_date",
    "to_instant",
    "valid_path",
]

logger = logging.getLogger(__name__)
MISSING = object()
"""What :func:`read_path` returns for an absent path (distinct from a null value)."""
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")
RecordReader = Callable[[Any, str], Record]
"""A compiled mapping: (raw record, fetched_at) -> Record, or :class:`MappingError`."""


PathStep = str | int | None  # str: key, int: index, None: map over the list ("[*]")


def compile_path(path: str) -> tuple[PathStep, ...]:
    steps: list[PathStep] = []
    for key, index in _STEP.findall(path):
        if key:
            steps.append(key)
        else:
            steps.append(None if index == "*" else int(index))
    if not steps:
        raise ValueError(f"empty path {path!r}")
    return tuple(steps)


def read_path(data: Any, steps: tuple[PathStep, ...]) -> Any:
    """Follow ``steps`` into ``data``; ``MISSING`` when any step is absent."""
    for position, step in enumerate(steps):
        if step is None:
            if not isinstance(data, list):
                return MISSING
            rest = steps[position + 1 :]
            out = [read_path(item, rest) if rest else item for item in data]
            return [v for v in out if v is not MISSING and v is not None]
        if isinstance(step, int):
            if not isinstance(data, list) or step >= len(data):
                return MISSING
            data = data[step]
        else:
            # `type(...) is dict` first: partner records are plain dicts, and the ABC check of
            # Mapping is several times slower on this hot path.
            if type(data) is not dict and not isinstance(data, Mapping):
                return MISSING
            data = data.get(step, MISSING)
            if data is MISSING:
                return MISSING
    return data


Getter = Callable[[Any], Any]


def compile_getter(steps: tuple[PathStep, ...]) -> Getter:
    """A reader specialised for one path: plain keys are followed with ``dict.get`` only.

    Mapping runs for every field of every record a partner returns, so the common case (a
    dotted path of keys into plain dicts) avoids the general walk of :func:`read_path`.
    """
    if not all(isinstance(step, str) for step in steps):
        return lambda raw: read_path(raw, steps)
    keys = tuple(str(step) for step in steps)
    if len(keys) == 1:
        (only,) = keys

        def one(raw: Any) -> Any:
            if type(raw) is dict:
                return raw.get(only, MISSING)
            return read_path(raw, steps)

        return one

    def walk(raw: Any) -> Any:
        data = raw
        for key in keys:
            if type(data) is not dict:
                return read_path(raw, steps)
            data = data.get(key, MISSING)
            if data is MISSING:
                return MISSING
        return data

    return walk


Converter = Callable[[Any], Any]


class FieldReader:
    """Reads one common-syntax field (and, for a list of objects, each element's fields)."""

    __slots__ = (
        "convert",
        "default",
        "each",
        "get",
        "is_list",
        "kind",
        "label",
        "line",
        "location",
        "name",
        "of_record",
        "path",
        "plain",
        "split",
        "steps",
    )
    label: str
    location: tuple[str, ...]

    def __init__(
        self,
        name: str,
        spec: FieldSpec,
        entity: str,
        mapping: EntityMapping,
        zone: ZoneInfo,
        parent: FieldReader | None = None,
    ) -> None:
        self.label = f"{parent.label}.{name}" if parent else name
        self.location = (*parent.location, "each", name) if parent else ("fields", name)
        self.line = mapping.line_of(self.location)
        self.kind: FieldType = ENTITIES[entity][self.label]
        self.name = tuple(name.split("."))
        self.path = spec.path
        self.steps = compile_path(spec.path) if spec.path else None
        self.get: Getter | None = compile_getter(self.steps) if self.steps else None
        self.default = spec.default if spec.path else spec.const
        self.is_list = self.kind.is_list
        self.split = spec.split
        self.of_record = spec.of_record
        self.plain = spec.values is None and self.kind.choices is None
        self.each: list[FieldReader] | None = None
        if self.kind.scalar == "object":
            self.each = [
                FieldReader(sub, as_spec(sub_spec), entity, mapping, zone, self)
                for sub, sub_spec in (spec.each or {}).items()
            ]
            self.convert: Converter = lambda v: v
        else:
            self.convert = scalar_converter(self.kind, spec, zone)

    def read(self, raw: Any) -> Any:
        """The field's value in ``raw``; a :class:`MappingError` names this field."""
        try:
            return self._read(raw)
        except MappingError as error:
            if error.field is not None:
                raise
            raise self.error(error.reason) from None

    def error(self, reason: str) -> MappingError:
        return MappingError(reason, field=self.label, path=self.path, line=self.line)

    def failure(self, reason: str) -> FieldFailure:
        return FieldFailure(self.label, self.path, self.line, reason, self.location)

    def _read(self, raw: Any) -> Any:
        if self.of_record:
            return self.read_objects([raw])
        value = self.get(raw) if self.get is not None else MISSING
        if value is MISSING or value is None:
            value = self.default
            if value is None:
                return [] if self.is_list else None
        if self.is_list:
            return self.read_list(value)
        if isinstance(value, list | dict):
            raise MappingError("expected a single value")
        return self.convert(value)

    def read_list(self, value: Any) -> list[Any]:
        """A present value of a list field: split, wrapped, converted, duplicates dropped."""
        if self.each is not None:
            return self.read_objects(value)
        if isinstance(value, str) and self.split is not None:
            value = [part.strip() for part in value.split(self.split) if part.strip()]
        elif not isinstance(value, list):
            value = [value]
        out: list[Any] = []
        for item in value:
            converted = self.convert(item)
            if converted is not None and converted not in out:
                out.append(converted)
        return out

    def read_objects(self, value: Any) -> list[Fields]:
        """A list of objects; over the record itself, an element with no field set is none."""
        items = value if isinstance(value, list) else [value]
        out = [self.read_object(item) for item in items]
        if self.of_record:
            return [item for item in out if not is_empty(item)]
        return out

    def read_object(self, item: Any) -> Fields:
        if not isinstance(item, Mapping):
            raise MappingError("expected an object")
        out: Fields = {}
        for reader in self.each or ():
            set_path(out, reader.name, reader.read(item))
        return out

    def failures(self, raw: Any) -> list[FieldFailure]:
        """Every field that fails in ``raw`` (each element's fields one by one)."""
        try:
            self.read(raw)
        except MappingError as error:
            inner = self._inner_failures(raw) if self.each is not None else []
            return inner or [self.failure(error.reason)]
        return []

    def _inner_failures(self, raw: Any) -> list[FieldFailure]:
        found: dict[str, FieldFailure] = {}
        for item in self._items(raw):
            if not isinstance(item, Mapping):
                found.setdefault(self.label, self.failure("expected an object"))
                continue
            for reader in self.each or ():
                for failure in reader.failures(item):
                    found.setdefault(failure.field, failure)
        return list(found.values())

    def _items(self, raw: Any) -> list[Any]:
        if self.of_record:
            return [raw]
        value = self.get(raw) if self.get is not None else MISSING
        if value is MISSING or value is None:
            value = self.default
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def is_empty(value: Any) -> bool:
    """Whether an object read from a record holds nothing (every field null or empty)."""
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    return value is None or value == []


def as_spec(mapping: FieldMappingType) -> FieldSpec:
    return FieldSpec(path=mapping) if isinstance(mapping, str) else mapping


def set_path(target: Fields, name: tuple[str, ...], value: Any) -> None:
    for part in name[:-1]:
        target = target.setdefault(part, {})
    target[name[-1]] = value


class SourceUnfit(SourceBadResponse):
    """An answer of which no record fits the common syntax; ``failures`` names the fields
    (``extensions.field`` for whoever turns it into a GraphQL error)."""

    def __init__(self, partner: str, entity: str, failures: list[FieldFailure]) -> None:
        fields = "; ".join(failure.describe() for failure in failures)
        message = f"no {entity} record fits the common syntax"
        super().__init__(partner, f"{message} ({fields})" if fields else message)
        self.entity = entity
        self.failures = failures

    @property
    def field(self) -> str | None:
        """The first field that failed (``sessions.capacity``)."""
        return self.failures[0].field if self.failures else None


class Mapper:
    """The mapping of one entity of one partner, compiled once.

    >>> mapper = Mapper("hub3e", "offer", EntityMapping(id="ref", fields={"title": "libelle"}))
    >>> records, dropped = mapper.map_many([{"ref": 1, "libelle": "Cuisinier"}], now_instant())
    >>> records[0].fields
    {'id': '1', 'title': 'Cuisinier'}
    """

    def __init__(self, partner: str, entity: str, mapping: EntityMapping) -> None:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}")
        problems = mapping_problems(entity, mapping)
        if problems:
            listed = "; ".join(
                f"{where}: {message}" + (f" (hint: {hint})" if hint else "")
                for where, message, hint in problems
            )
            raise ValueError(f"the {entity} mapping of {partner} cannot be used: {listed}")
        self.partner = partner
        self.entity = entity
        self.mapping = mapping  # the benchmark rebuilds an older mapper from it
        zone = ZoneInfo(mapping.timezone)
        self.id_path = mapping.id
        self.id_line = mapping.line_of(("id",))
        self._id_steps = compile_path(mapping.id)
        self.readers = [
            FieldReader(name, as_spec(spec), entity, mapping, zone)
            for name, spec in mapping.fields.items()
        ]
        self._compiled: dict[frozenset[str] | None, RecordReader] = {}

    # -- the reference reading -------------------------------------------------------------

    def partner_id(self, raw: Any) -> str:
        value = read_path(raw, self._id_steps)
        if value is MISSING or value is None or isinstance(value, list | dict | bool):
            raise MappingError(
                "record without an identifier", field="id", path=self.id_path, line=self.id_line
            )
        return str(value)

    def selected(self, only: frozenset[str] | None) -> list[FieldReader]:
        """The readers of the top-level fields in ``only`` (all when None)."""
        if only is None:
            return self.readers
        return [reader for reader in self.readers if reader.name[0] in only]

    def map_interpreted(
        self, raw: Any, fetched_at: str, only: frozenset[str] | None = None
    ) -> Record:
        """The mapping read field by field: what the compiled reader must give."""
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise MappingError("expected an object", field="id", path=self.id_path)
        partner_id = self.partner_id(raw)
        fields: Fields = {"id": partner_id}
        for reader in self.selected(only):
            set_path(fields, reader.name, reader.read(raw))
        return Record(self.entity, fields, [Provenance(self.partner, partner_id, fetched_at)])

    def failures(self, raw: Any, only: frozenset[str] | None = None) -> list[FieldFailure]:
        """Every field that fails in ``raw``, not only the first."""
        if type(raw) is not dict and not isinstance(raw, Mapping):
            return [FieldFailure("id", self.id_path, self.id_line, "expected an object", ("id",))]
        found: list[FieldFailure] = []
        try:
            self.partner_id(raw)
        except MappingError as error:
            found.append(FieldFailure("id", self.id_path, self.id_line, error.reason, ("id",)))
        for reader in self.selected(only):
            found.extend(reader.failures(raw))
        return found

    # -- the hot path ----------------------------------------------------------------------

    def reader(self, only: frozenset[str] | None = None) -> RecordReader:
        """The compiled reader of the fields in ``only`` (every field when None), made once."""
        compiled = self._compiled.get(only)
        if compiled is None:
            from adapters.mapping_compiler import compile_reader

            compiled = self._compiled[only] = compile_reader(self, self.selected(only))
        return compiled

    def map(self, raw: Any, fetched_at: str, only: frozenset[str] | None = None) -> Record:
        """One record; a record that does not fit is counted as dropped and raised."""
        try:
            record = self.reader(only)(raw, fetched_at)
        except MappingError:
            record = self._examine(raw, fetched_at, only)
        count_mapped(self.partner, self.entity, 1)
        return record

    def map_many(
        self, raws: Iterable[Any], fetched_at: str, only: frozenset[str] | None = None
    ) -> tuple[list[Record], int]:
        """Map every raw record; the good ones, and how many were dropped.

        ``only`` (top-level common-syntax names: ``title``, ``location``) restricts the fields
        read; the caller includes those it filters, sorts and de-duplicates on.
        """
        read = self.reader(only)
        records: list[Record] = []
        append = records.append
        rejected = 0
        for raw in raws:
            try:
                append(read(raw, fetched_at))
            except MappingError:
                try:
                    append(self._examine(raw, fetched_at, only))
                except MappingError:
                    rejected += 1
        count_mapped(self.partner, self.entity, len(records))
        return records, rejected

    def _examine(self, raw: Any, fetched_at: str, only: frozenset[str] | None) -> Record:
        """A record the compiled reader refused: name every failing field, count, raise."""
        failures = self.failures(raw, only)
        if not failures:  # the two readings disagree: the reference one decides
            logger.error("%s: compiled %s mapping disagrees", self.partner, self.entity)
            return self.map_interpreted(raw, fetched_at, only)
        count_dropped(self.partner, self.entity, failures)
        first = failures[0]
        raise MappingError(
            first.reason,
            field=first.field,
            path=first.path,
            line=first.line,
            failures=tuple(failures),
        )


def now_instant() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refuse_if_none_fit(partner: str, entity: str, rejected: int, kept: int) -> None:
    """An answer of which no record fits the common syntax is a bad answer, not an empty one.

    The records were just mapped, so the mapping's latest failures are theirs: the error
    names those fields.
    """
    if rejected and not kept:
        raise SourceUnfit(partner, entity, recent_failures(partner, entity))


def log_dropped(partner: str, entity: str, rejected: int) -> None:
    """Records that do not fit are dropped; say how many and which fields (never values)."""
    if rejected:
        fields = "; ".join(f.describe() for f in recent_failures(partner, entity))
        logger.warning(
            "%s: %d %s record(s) dropped: not in the common syntax (%s)",
            partner,
            rejected,
            entity,
            fields,
        )
