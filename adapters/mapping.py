"""The declarative mapping: a partner's raw record in, a common-syntax :class:`Record` out.

A :class:`Mapper` is compiled once per (partner, entity) from its :class:`EntityMapping`; its
``map`` is on the hot path of every list, so paths are pre-split and the field table is a
flat list. Types come from :mod:`adapters.syntax`: a value that cannot be coerced raises
:class:`MappingError`, which the adapter turns into ``SOURCE_BAD_RESPONSE`` for that record.
Fields of the partner's record that no mapping names are simply never read (dropped).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from adapters.config import EntityMapping, FieldMappingType, FieldSpec
from adapters.errors import SourceBadResponse
from adapters.syntax import ENTITIES, FieldType
from adapters.types import Fields, Provenance, Record

logger = logging.getLogger(__name__)
MISSING = object()
"""What :func:`read_path` returns for an absent path (distinct from a null value)."""
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]")


class MappingError(ValueError):
    """A partner value that does not fit the common syntax (message carries no value)."""


PathStep = str | int | None  # str: key, int: index, None: map over the list ("[*]")


_PATH_SYNTAX = re.compile(r"(?:[^.\[\]]+|\[(?:\d+|\*)\])(?:\.[^.\[\]]+|\[(?:\d+|\*)\])*")


def valid_path(path: str) -> bool:
    """Whether ``path`` is well formed; :func:`compile_path` itself skips what it cannot read."""
    return _PATH_SYNTAX.fullmatch(path) is not None


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


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MappingError("expected text")
    return str(value)


def _to_int(value: Any, decimal_comma: bool) -> int:
    if isinstance(value, bool):
        raise MappingError("expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace("\u202f", "").replace(" ", "")
        if decimal_comma:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise MappingError("expected an integer") from None
        if number.is_integer():
            return int(number)
    raise MappingError("expected an integer")


def _to_float(value: Any, decimal_comma: bool) -> float:
    if isinstance(value, bool):
        raise MappingError("expected a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace("\u202f", "").replace(" ", "")
        if decimal_comma:
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            raise MappingError("expected a number") from None
    raise MappingError("expected a number")


_TRUE = {"true", "1", "yes", "oui", "o", "y", "vrai"}
_FALSE = {"false", "0", "no", "non", "n", "faux", ""}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise MappingError("expected a boolean")


def _parse_datetime(value: Any, fmt: str | None) -> datetime:
    if not isinstance(value, str):
        raise MappingError("expected a date")
    try:
        parsed = (
            datetime.strptime(value, fmt)
            if fmt
            else datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
    except ValueError:
        raise MappingError("expected a date") from None
    return parsed


def to_date(value: Any, fmt: str | None = None) -> str:
    if isinstance(value, datetime):  # a database timestamp read as a day
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _parse_datetime(value, fmt).date().isoformat()


def to_instant(value: Any, fmt: str | None = None) -> str:
    """An instant as a UTC ISO string; a naive time is taken as UTC, a bare day as its midnight.

    Drivers hand over ``date`` objects for DATE columns (asyncpg) where others give text
    (SQLite): both mean the same day.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = value if isinstance(value, datetime) else _parse_datetime(value, fmt)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Converter = Callable[[Any], Any]


def _scalar_converter(kind: FieldType, spec: FieldSpec) -> Converter:
    fmt, comma = spec.format, spec.decimal_comma
    base: Converter
    if kind.scalar == "str":
        base = _to_str
    elif kind.scalar == "int":
        base = lambda v: _to_int(v, comma)  # noqa: E731
    elif kind.scalar == "float":
        base = lambda v: _to_float(v, comma)  # noqa: E731
    elif kind.scalar == "bool":
        base = _to_bool
    elif kind.scalar == "date":
        base = lambda v: to_date(v, fmt)  # noqa: E731
    elif kind.scalar == "datetime":
        base = lambda v: to_instant(v, fmt)  # noqa: E731
    else:
        raise ValueError(f"no scalar converter for {kind.scalar}")
    values, strict, choices = spec.values, spec.strict_values, kind.choices
    if values is None and choices is None:
        return base

    def convert(value: Any) -> Any:
        if values is not None:
            key = value if isinstance(value, str) else str(value)
            if key in values:
                return values[key]
            if strict:
                raise MappingError("value outside the value map")
        out = base(value)
        if choices is not None and out not in choices:
            raise MappingError("value outside the allowed set")
        return out

    return convert


class _FieldReader:
    __slots__ = ("convert", "default", "each", "get", "is_list", "name", "path", "split", "steps")

    def __init__(self, name: str, kind: FieldType, spec: FieldSpec, entity: str) -> None:
        self.name = tuple(name.split("."))
        self.path = spec.path
        self.steps = compile_path(spec.path) if spec.path else None
        self.get: Getter | None = compile_getter(self.steps) if self.steps else None
        self.default = spec.default if spec.path else spec.const
        self.is_list = kind.is_list
        self.split = spec.split
        self.each: list[_FieldReader] | None = None
        if kind.scalar == "object":
            if not spec.each:
                raise ValueError(f"{name}: a list of objects needs an `each` table")
            self.each = [
                _FieldReader(sub, ENTITIES[entity][f"{name}.{sub}"], as_spec(sub_spec), entity)
                for sub, sub_spec in spec.each.items()
            ]
            self.convert: Converter = lambda v: v
        else:
            self.convert = _scalar_converter(kind, spec)

    def read(self, raw: Any) -> Any:
        value = self.get(raw) if self.get is not None else MISSING
        if value is MISSING or value is None:
            value = self.default
            if value is None:
                return [] if self.is_list else None
        if self.is_list:
            if isinstance(value, str) and self.split is not None:
                value = [part.strip() for part in value.split(self.split) if part.strip()]
            elif not isinstance(value, list):
                value = [value]
            if self.each is not None:
                return [self._read_object(item) for item in value]
            out = []
            for item in value:
                converted = self.convert(item)
                if converted is not None and converted not in out:
                    out.append(converted)
            return out
        if isinstance(value, list | dict):
            raise MappingError("expected a single value")
        return self.convert(value)

    def _read_object(self, item: Any) -> Fields:
        if not isinstance(item, Mapping):
            raise MappingError("expected an object")
        out: Fields = {}
        for reader in self.each or ():
            set_path(out, reader.name, reader.read(item))
        return out


def as_spec(mapping: FieldMappingType) -> FieldSpec:
    return FieldSpec(path=mapping) if isinstance(mapping, str) else mapping


def set_path(target: Fields, name: tuple[str, ...], value: Any) -> None:
    for part in name[:-1]:
        target = target.setdefault(part, {})
    target[name[-1]] = value


def unknown_fields(entity: str, mapping: EntityMapping) -> list[str]:
    """Target names in ``mapping`` that the common syntax does not have."""
    known = ENTITIES.get(entity, {})
    bad = []
    for name, spec in mapping.fields.items():
        if name not in known:
            bad.append(name)
        elif isinstance(spec, FieldSpec) and spec.each:
            bad.extend(f"{name}.{sub}" for sub in spec.each if f"{name}.{sub}" not in known)
    return bad


def unknown_values(entity: str, mapping: EntityMapping) -> list[tuple[str, str]]:
    """(field, value) pairs of value maps whose target is outside the field's closed set."""
    known = ENTITIES.get(entity, {})
    bad: list[tuple[str, str]] = []

    def check(name: str, spec: FieldMappingType) -> None:
        if not isinstance(spec, FieldSpec):
            return
        kind = known.get(name)
        if kind and kind.choices and spec.values:
            bad.extend((name, str(v)) for v in spec.values.values() if v not in kind.choices)
        for sub, sub_spec in (spec.each or {}).items():
            check(f"{name}.{sub}", sub_spec)

    for name, spec in mapping.fields.items():
        check(name, spec)
    return bad


class Mapper:
    """Compiled mapping of one entity of one partner."""

    def __init__(self, partner: str, entity: str, mapping: EntityMapping) -> None:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}")
        bad = unknown_fields(entity, mapping)
        if bad:
            raise ValueError(f"unknown fields for {entity}: {', '.join(bad)}")
        self.partner = partner
        self.entity = entity
        self._id_steps = compile_path(mapping.id)
        self._readers = [
            _FieldReader(name, ENTITIES[entity][name], as_spec(spec), entity)
            for name, spec in mapping.fields.items()
        ]

    def partner_id(self, raw: Any) -> str:
        value = read_path(raw, self._id_steps)
        if value is MISSING or value is None or isinstance(value, list | dict | bool):
            raise MappingError("record without an identifier")
        return str(value)

    def map(self, raw: Any, fetched_at: str) -> Record:
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise MappingError("expected an object")
        partner_id = self.partner_id(raw)
        fields: Fields = {"id": partner_id}
        for reader in self._readers:
            set_path(fields, reader.name, reader.read(raw))
        return Record(self.entity, fields, [Provenance(self.partner, partner_id, fetched_at)])

    def map_many(self, raws: Iterable[Any], fetched_at: str) -> tuple[list[Record], int]:
        """Map every raw record; returns the good ones and how many were rejected."""
        records, rejected = [], 0
        for raw in raws:
            try:
                records.append(self.map(raw, fetched_at))
            except MappingError:
                rejected += 1
        return records, rejected


def now_instant() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refuse_if_none_fit(partner: str, entity: str, rejected: int, kept: int) -> None:
    """An answer of which no record fits the common syntax is a bad answer, not an empty one."""
    if rejected and not kept:
        raise SourceBadResponse(partner, f"no {entity} record fits the common syntax")


def log_dropped(partner: str, entity: str, rejected: int) -> None:
    """Records that do not fit are dropped; say how many (never which values)."""
    if rejected:
        logger.warning(
            "%s: %d %s record(s) dropped: not in the common syntax", partner, rejected, entity
        )
