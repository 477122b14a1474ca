"""A mapping compiled into one Python function: the hot path of every list.

:func:`compile_reader` writes the source of a function specialised for one (partner, entity)
mapping and one set of fields, and ``exec``\\ s it once. Compared with the field-by-field reading
of :class:`adapters.mapping.FieldReader` it saves, per field of every record: the method calls,
the path walk (keys are unrolled into ``dict.get`` chains), the ``set_path`` of each nested name
(the common-syntax dict is written as one literal) and, for the plain types, the converter call
(a value of the right type is taken as it is).

The generated function raises :class:`~adapters.coercion.MappingError` without naming the
field; :class:`~adapters.mapping.Mapper` then reads that record again with the reference readers,
which name every failing field. Anything unusual (an index or ``[*]`` in a path, a default that
does not convert) is delegated to the reference reader or to :func:`~adapters.mapping.read_path`,
so both give the same records. The source is kept on the function (``__source__``) for debugging.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.coercion import MappingError
from adapters.mapping import MISSING, compile_path, is_empty, read_path
from adapters.types import Provenance, Record

if TYPE_CHECKING:
    from adapters.mapping import FieldReader, Mapper, RecordReader

_PLAIN = {"str": "str", "int": "int", "float": "float", "bool": "bool"}
_Tree = dict[str, "str | _Tree"]


def compile_reader(mapper: Mapper, readers: list[FieldReader]) -> RecordReader:
    writer = _Writer(mapper)
    source = writer.module(readers)
    code = compile(source, f"<mapping of {mapper.partner}.{mapper.entity}>", "exec")
    exec(code, writer.namespace)  # noqa: S102 - our own source, built from validated names only
    function: RecordReader = writer.namespace["read_record"]
    function.__source__ = source  # type: ignore[attr-defined]
    return function


class _Writer:
    def __init__(self, mapper: Mapper) -> None:
        def read_or_none(data: Any, steps: Any) -> Any:
            value = read_path(data, steps)
            return None if value is MISSING else value

        self.mapper = mapper
        self.namespace: dict[str, Any] = {
            "ME": MappingError,
            "Mapping": Mapping,
            "Record": Record,
            "Provenance": Provenance,
            "_rp": read_or_none,
            "_empty": is_empty,
            "ENTITY": mapper.entity,
            "PARTNER": mapper.partner,
        }
        self.functions: list[list[str]] = []
        self.lines: list[str] = []
        self.count = 0

    # -- names and lines

    def constant(self, value: Any, prefix: str) -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        self.namespace[name] = value
        return name

    def local(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    # -- the module

    def module(self, readers: list[FieldReader]) -> str:
        mapper = self.mapper
        self.lines = []
        self.emit(0, "def read_record(raw, fetched_at):")
        self.emit(1, "if type(raw) is not dict and not isinstance(raw, Mapping):")
        self.emit(2, "raise ME('expected an object')")
        self.get(1, "pid", "raw", compile_path(mapper.id_path))
        self.emit(1, "if pid is None or isinstance(pid, (list, dict, bool)):")
        self.emit(2, "raise ME('record without an identifier')")
        self.emit(1, "if type(pid) is not str:")
        self.emit(2, "pid = str(pid)")
        fields = self.object(1, readers, "raw", [(("id",), "pid")])
        self.emit(1, f"return Record(ENTITY, {fields}, [Provenance(PARTNER, pid, fetched_at)])")
        main = self.lines
        return "\n".join(line for function in [*self.functions, main] for line in function) + "\n"

    def object(
        self,
        depth: int,
        readers: list[FieldReader],
        source: str,
        first: list[tuple[tuple[str, ...], str]] | None = None,
    ) -> str:
        """Emit the fields of ``readers`` read from ``source``; the dict literal of them."""
        entries = list(first or [])
        for reader in readers:
            entries.append((reader.name, self.field(depth, reader, source)))
        tree: _Tree = {}
        for name, variable in entries:
            node = tree
            for part in name[:-1]:
                child = node.setdefault(part, {})
                assert isinstance(child, dict)
                node = child
            node[name[-1]] = variable
        return _literal(tree)

    # -- one path

    def get(self, depth: int, target: str, source: str, steps: tuple[Any, ...]) -> None:
        """``target`` = the value at ``steps`` in ``source``, None when absent."""
        if not all(isinstance(step, str) for step in steps):
            self.emit(depth, f"{target} = _rp({source}, {self.constant(steps, 'S')})")
            return
        fallback = f"_rp({source}, {self.constant(steps, 'S')})"
        self.emit(depth, f"{target} = {source}.get({steps[0]!r})")
        self._steps(depth, target, steps[1:], fallback)

    def _steps(self, depth: int, target: str, keys: tuple[Any, ...], fallback: str) -> None:
        if not keys:
            return
        self.emit(depth, f"if type({target}) is dict:")
        self.emit(depth + 1, f"{target} = {target}.get({keys[0]!r})")
        self._steps(depth + 1, target, keys[1:], fallback)
        # Not a plain dict (another Mapping, or not a table at all): the general walk decides.
        self.emit(depth, f"elif {target} is not None:")
        self.emit(depth + 1, f"{target} = {fallback}")

    # -- one field

    def field(self, depth: int, reader: FieldReader, source: str) -> str:
        """Emit the reading of one field; the name of the local holding its value."""
        out = self.local("f")
        read = self.constant(reader, "R")
        if reader.of_record:
            element = self.local("o")
            self.emit(depth, f"{element} = {self.object(depth, reader.each or [], source)}")
            self.emit(depth, f"{out} = [] if _empty({element}) else [{element}]")
            return out
        if reader.steps is None:  # a constant
            self.emit(depth, f"{out} = {self._fixed(reader, read, source)}")
            return out
        value = self.local("v")
        self.get(depth, value, source, reader.steps)
        self.emit(depth, f"if {value} is None:")
        self.emit(depth + 1, f"{out} = {self._fixed(reader, read, source)}")
        if reader.is_list and reader.each is not None:
            item = self.item_function(reader)
            self.emit(depth, "else:")
            self.emit(
                depth + 1,
                f"{out} = [{item}(x) for x in ({value} if isinstance({value}, list) "
                f"else [{value}])]",
            )
        elif reader.is_list:
            self.emit(depth, "else:")
            self.emit(depth + 1, f"{out} = {self.constant(reader.read_list, 'L')}({value})")
        else:
            plain = _PLAIN.get(reader.kind.scalar) if reader.plain else None
            if plain is not None:
                self.emit(depth, f"elif type({value}) is {plain}:")
                self.emit(depth + 1, f"{out} = {value}")
            self.emit(depth, f"elif isinstance({value}, (list, dict)):")
            self.emit(depth + 1, "raise ME('expected a single value')")
            self.emit(depth, "else:")
            self.emit(depth + 1, f"{out} = {self.constant(reader.convert, 'C')}({value})")
        return out

    def _fixed(self, reader: FieldReader, read: str, source: str) -> str:
        """The expression of a field's value when its path is absent: worked out once."""
        try:
            value = reader.read({})
        except MappingError:
            return f"{read}.read({source})"  # fails the same way for every record
        if value is None or isinstance(value, bool):
            return repr(value)
        if isinstance(value, str | int | float):
            return self.constant(value, "K")
        if isinstance(value, list) and not any(isinstance(v, list | dict) for v in value):
            return f"{self.constant(value, 'K')}[:]" if value else "[]"
        return f"{read}.read({source})"  # a fresh nested value for every record

    def item_function(self, reader: FieldReader) -> str:
        """Emit a function reading one element of a list of objects; its name."""
        name = self.local("_item")
        saved, self.lines = self.lines, []
        self.emit(0, f"def {name}(item):")
        self.emit(1, "if not isinstance(item, Mapping):")
        self.emit(2, "raise ME('expected an object')")
        self.emit(1, f"return {self.object(1, reader.each or [], 'item')}")
        self.functions.append(self.lines)
        self.lines = saved
        return name


def _literal(tree: _Tree) -> str:
    parts = [
        f"{key!r}: {_literal(value) if isinstance(value, dict) else value}"
        for key, value in tree.items()
    ]
    return "{" + ", ".join(parts) + "}"
