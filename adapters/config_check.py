"""``check-config``: every problem of a partners file, at its line; and the file's JSON Schema.

:func:`check_file` reports what :func:`adapters.partners_file.check_partners` finds, plus what
only shows outside the models: an environment secret that is not set, a record path that cannot
be read, and (``probe=True``) a partner that does not answer. Each problem carries the line of
the mistake, so an editor or a terminal jumps straight to it::

    demo/partners.toml:41: partners.hub3e.entities.offer.fields.status.values.OUVERTE:
    'OPEN' is not an allowed value of status (hint: one of: ACTIVE, CANCELLED, FILLED, PENDING)

``tomllib`` keeps no positions and no maintained Python TOML library exposes them (tomlkit
keeps the layout, not line numbers), so :class:`_KeyIndex` scans the text of a file ``tomllib``
has already accepted and records where every key path is written: table headers, arrays of
tables, dotted keys, inline tables, arrays.

:func:`partners_json_schema` is the schema of the whole file, built from the config model of
every kind in :func:`adapters.registry.kinds` and discriminated by ``kind``, for editors.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import operator
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, create_model

from adapters import rest_config
from adapters.config import EntityMapping, EnvSecret, FieldMappingType, PartnerBase
from adapters.errors import SourceError
from adapters.mapping import valid_path
from adapters.partners_file import check_partners
from adapters.registry import build_adapter, kinds

KeyPath = tuple[str | int, ...]

_PATH_HINT = "dotted keys, `[0]` to index a list, `[*]` to map over it: `a.b[*].c`"
# Fields of the REST models that hold a path inside a partner's answer (not a URL path).
_BODY_PATHS: dict[type[BaseModel], tuple[str, ...]] = {
    rest_config.Endpoint: ("items",),
    rest_config.Lookup: ("items",),
    rest_config.BatchLookup: ("items",),
    rest_config.PagePagination: ("total",),
    rest_config.OffsetPagination: ("total",),
    rest_config.CursorPagination: ("next",),
}
_TOML_ERROR_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_QUERY_ERROR_AT = re.compile(r"\(line (\d+), column (\d+) of the query\)")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: int | None
    location: str  # dotted path in the file: partners.<id>.entities.offer.fields.title
    message: str
    hint: str = ""


# --- where keys are written ---------------------------------------------------------------------


class _KeyIndex:
    """Line and column of every key path written in a TOML text (assumed valid TOML)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.keys: dict[KeyPath, int] = {}  # key path -> offset of its key token
        self.values: dict[KeyPath, int] = {}  # key path -> offset of its value
        self._explicit: set[KeyPath] = set()
        self._arrays: dict[KeyPath, int] = {}  # array of tables -> index of its last element
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self._scan()

    # -- answers

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def find(self, location: str) -> KeyPath:
        """The longest written key path along ``location`` (dotted; keys may hold dots).

        A step that is not written is skipped: the key the author must add, or a name the
        validator gave a union branch.
        """
        steps = location.split(".")
        found: KeyPath = ()
        at = 0
        while at < len(steps):
            for width in range(len(steps) - at, 0, -1):
                name = ".".join(steps[at : at + width])
                candidates: list[KeyPath] = [(*found, name)]
                if width == 1 and name.isdigit():
                    candidates.append((*found, int(name)))
                hit = next((c for c in candidates if c in self.keys), None)
                if hit is not None:
                    found, at = hit, at + width
                    break
            else:
                at += 1
        return found

    # -- scanning

    def _mark(self, path: KeyPath, offset: int, explicit: bool) -> None:
        if path in self._explicit or (path in self.keys and not explicit):
            return
        self.keys[path] = offset
        if explicit:
            self._explicit.add(path)

    def _scan(self) -> None:
        text = self.text
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(text):
                return
            start = self.pos
            if text.startswith("[[", self.pos):
                self.pos += 2
                table = self._header(self._key(), array=True)
                self._skip_past("]]")
            elif text[self.pos] == "[":
                self.pos += 1
                table = self._header(self._key(), array=False)
                self._skip_past("]")
            else:
                names = self._key()
                for depth, (_, offset) in enumerate(names):
                    path = (*table, *(n for n, _ in names[: depth + 1]))
                    self._mark(path, offset, explicit=depth == len(names) - 1)
                self._skip_blank(newlines=False)
                if self.pos < len(text) and text[self.pos] == "=":
                    self.pos += 1
                self._value((*table, *(n for n, _ in names)))
            self._skip_line()
            if self.pos == start:
                self.pos += 1  # never loop in place, whatever the text

    def _header(self, names: list[tuple[str, int]], *, array: bool) -> KeyPath:
        path: KeyPath = ()
        for depth, (name, offset) in enumerate(names):
            path = (*path, name)
            last = depth == len(names) - 1
            if last and array:
                index = self._arrays.get(path, -1) + 1
                self._arrays[path] = index
                self._mark(path, offset, explicit=False)
                path = (*path, index)
                self._mark(path, offset, explicit=True)
            else:
                self._mark(path, offset, explicit=last)
                if path in self._arrays:  # `[a.b]` under `[[a]]` is in a's last element
                    path = (*path, self._arrays[path])
        return path

    def _key(self) -> list[tuple[str, int]]:
        text = self.text
        names: list[tuple[str, int]] = []
        while self.pos < len(text):
            self._skip_blank(newlines=False)
            offset = self.pos
            if text.startswith('"', offset):
                self._skip_string()
                token = text[offset : self.pos]
                names.append((tomllib.loads(f"k = {token}")["k"], offset))
            elif text.startswith("'", offset):
                self._skip_string()
                names.append((text[offset + 1 : self.pos - 1], offset))
            else:
                match = re.compile(r"[A-Za-z0-9_-]+").match(text, offset)
                if match is None:
                    break
                names.append((match.group(), offset))
                self.pos = match.end()
            self._skip_blank(newlines=False)
            if self.pos < len(text) and text[self.pos] == ".":
                self.pos += 1
                continue
            break
        return names

    def _value(self, path: KeyPath) -> None:
        text = self.text
        self._skip_blank(newlines=False)
        self.values.setdefault(path, self.pos)
        if self.pos >= len(text):
            return
        char = text[self.pos]
        if char in "\"'":
            self._skip_string()
        elif char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        else:
            match = re.compile(r"[^,\]}#\r\n]*").match(text, self.pos)
            self.pos = match.end() if match else self.pos + 1

    def _array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while not self._closed("]"):
            before = self.pos
            self._mark((*path, index), self.pos, explicit=True)
            self._value((*path, index))
            index += 1
            self._separator(before)

    def _inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while not self._closed("}"):
            before = self.pos
            names = self._key()
            for depth, (_, offset) in enumerate(names):
                key = (*path, *(n for n, _ in names[: depth + 1]))
                self._mark(key, offset, explicit=depth == len(names) - 1)
            self._skip_blank(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == "=":
                self.pos += 1
            self._value((*path, *(n for n, _ in names)))
            self._separator(before)

    def _closed(self, bracket: str) -> bool:
        """Past the closing ``bracket`` (or the end of the text) when it comes next."""
        self._skip_blank(newlines=True)
        if self.pos >= len(self.text) or self.text[self.pos] == bracket:
            self.pos += 1
            return True
        return False

    def _separator(self, before: int) -> None:
        self._skip_blank(newlines=True)
        at_comma = self.pos < len(self.text) and self.text[self.pos] == ","
        if at_comma or self.pos == before:  # a comma, or a character nothing could read
            self.pos += 1

    def _skip_string(self) -> None:
        text, start = self.text, self.pos
        quote = text[start]
        if text.startswith(quote * 3, start):
            end = start + 3
            while end < len(text):
                if quote == '"' and text[end] == "\\":
                    end += 2
                elif text.startswith(quote * 3, end):
                    end += 3
                    extra = 0  # up to two quotes may end the content itself: `""""`
                    while end < len(text) and text[end] == quote and extra < 2:
                        end, extra = end + 1, extra + 1
                    break
                else:
                    end += 1
            self.pos = min(end, len(text))
            return
        end = start + 1
        while end < len(text) and text[end] != quote and text[end] != "\n":
            end += 2 if quote == '"' and text[end] == "\\" else 1
        self.pos = min(end + 1, len(text))

    def _skip_past(self, token: str) -> None:
        end = self.text.find(token, self.pos)
        self.pos = len(self.text) if end < 0 else end + len(token)

    def _skip_blank(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#" and newlines:
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            else:
                return

    def _skip_line(self) -> None:
        self._skip_blank(newlines=False)
        if self.pos < len(self.text) and self.text[self.pos] == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end


# --- the checks ---------------------------------------------------------------------------------


def _nodes(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """Every value inside a validated partner block, with its key path, depth first."""
    yield path, value
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _nodes(getattr(value, name), (*path, name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _missing_secrets(partner: str, config: PartnerBase) -> Iterator[tuple[KeyPath, str, str]]:
    for path, value in _nodes(config, ("partners", partner)):
        if isinstance(value, EnvSecret) and os.environ.get(value.env) is None:
            yield (
                (*path, "env"),
                f"environment variable {value.env} is not set",
                "set it where the hub runs; secrets never go in the partners file",
            )


def _field_paths(spec: FieldMappingType, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(spec, str):
        yield path, spec
        return
    if spec.path is not None:
        yield (*path, "path"), spec.path
    for sub, sub_spec in (spec.each or {}).items():
        yield from _field_paths(sub_spec, (*path, "each", sub))


def _record_paths(partner: str, config: PartnerBase) -> Iterator[tuple[KeyPath, str]]:
    """Every path into a partner's records or answers that the file writes."""
    for path, value in _nodes(config, ("partners", partner)):
        if isinstance(value, EntityMapping):
            yield (*path, "id"), value.id
            for name, spec in value.fields.items():
                yield from _field_paths(spec, (*path, "fields", name))
        for name in _BODY_PATHS.get(type(value), ()):
            written = getattr(value, name)
            if isinstance(written, str):
                yield (*path, name), written


def _bad_paths(partner: str, config: PartnerBase) -> Iterator[tuple[KeyPath, str, str]]:
    for path, written in _record_paths(partner, config):
        if not valid_path(written):
            yield path, f"{written!r} is not a valid path", _PATH_HINT


async def _probe_one(partner: str, config: PartnerBase, timeout_s: float) -> str | None:
    """Why ``partner`` cannot be used right now, or ``None`` when it answers."""
    try:
        adapter = build_adapter(partner, config)
    except LookupError:
        return None  # a missing secret, reported on its own line
    except (ValueError, TypeError) as error:
        return f"cannot build its adapter: {error}"
    try:
        async with asyncio.timeout(timeout_s):
            await adapter.probe()
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except SourceError as error:
        return f"unreachable: {error.code} ({error.message})"
    finally:
        await adapter.aclose()
    return None


async def probe_partners(
    partners: Mapping[str, PartnerBase], timeout_s: float = 3.0
) -> dict[str, str]:
    """Each enabled partner that does not answer its probe, with the reason; all at once."""
    enabled = [(pid, config) for pid, config in partners.items() if config.enabled]
    reasons = await asyncio.gather(*(_probe_one(p, c, timeout_s) for p, c in enabled))
    return {pid: reason for (pid, _), reason in zip(enabled, reasons, strict=True) if reason}


def check_file(
    path: str | Path, *, probe: bool = False, probe_timeout_s: float = 3.0
) -> list[Problem]:
    """Every problem of the partners file at ``path``, in the order of its lines."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [Problem(file, 1, None, "", f"cannot read the file: {error.__class__.__name__}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = _TOML_ERROR_AT.search(str(error))
        line, column = (int(at.group(1)), int(at.group(2))) if at else (1, None)
        message = _TOML_ERROR_AT.sub("", str(error)).strip()
        return [Problem(file, line, column, "", f"not valid TOML: {message}", "")]
    index = _KeyIndex(text)
    partners, found = check_partners(data)
    problems = [_at(index, file, where, message, hint) for where, message, hint in found]
    for partner, config in partners.items():
        for key_path, message, hint in [
            *_missing_secrets(partner, config),
            *_bad_paths(partner, config),
        ]:
            problems.append(_at(index, file, _dotted(key_path), message, hint, exact=key_path))
    if probe:
        usable = {p: c for p, c in partners.items() if not _blocked(p, problems)}
        for partner, reason in asyncio.run(probe_partners(usable, probe_timeout_s)).items():
            where = f"partners.{partner}"
            if "base_url" in type(partners[partner]).model_fields:
                where += ".base_url"
            problems.append(_at(index, file, where, reason, "is it running, at this address?"))
    return sorted(problems, key=lambda p: (p.line, p.column or 0))


def _blocked(partner: str, problems: list[Problem]) -> bool:
    """A partner with a problem in its block is not worth probing: it cannot be built."""
    prefix = f"partners.{partner}"
    return any(p.location == prefix or p.location.startswith(prefix + ".") for p in problems)


def _dotted(path: KeyPath) -> str:
    return ".".join(str(step) for step in path)


def _at(
    index: _KeyIndex,
    file: str,
    location: str,
    message: str,
    hint: str,
    exact: KeyPath | None = None,
) -> Problem:
    found = exact if exact is not None and exact in index.keys else index.find(location)
    if not found:
        return Problem(file, 1, None, location, message, hint)
    line, column = index.position(index.keys[found])
    inner = _QUERY_ERROR_AT.search(message)
    if inner is not None and found in index.values:
        line, column = _inside_string(index, index.values[found], int(inner[1]), int(inner[2]))
    return Problem(file, line, column, location, message, hint)


def _inside_string(index: _KeyIndex, offset: int, line: int, column: int) -> tuple[int, int]:
    """File position of (line, column) inside the string value starting at ``offset``."""
    text = index.text
    start = offset + 1
    if text.startswith(('"""', "'''"), offset):
        start = offset + 3
        if text.startswith("\n", start):  # TOML drops a newline right after the delimiter
            start += 1
        elif text.startswith("\r\n", start):
            start += 2
    first_line, first_column = index.position(start)
    if line == 1:
        return first_line, first_column + column - 1
    return first_line + line - 1, column


def format_problems(problems: list[Problem]) -> str:
    """One problem a line: ``FILE:LINE: location: message (hint: ...)``."""
    lines = []
    for problem in problems:
        where = f"{problem.location}: " if problem.location else ""
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        lines.append(f"{problem.file}:{problem.line}: {where}{problem.message}{hint}")
    return "\n".join(lines)


# --- the JSON Schema of the partners file -------------------------------------------------------


@functools.cache
def _document_model() -> type[BaseModel]:
    configs = [kind.config for kind in kinds().values()]
    partner: Any = functools.reduce(operator.or_, configs)
    if len(configs) > 1:
        partner = cast(Any, Annotated)[partner, Field(discriminator="kind")]
    return create_model(
        "PartnersFile",
        __config__=ConfigDict(extra="forbid", title="alternance-hub partners file"),
        version=(
            cast(Any, Literal[1]),
            Field(1, description="version of the partners file format"),
        ),
        partners=(
            dict[str, partner],
            Field(description="one block per partner system, keyed by the partner's id"),
        ),
    )


def partners_json_schema() -> dict[str, Any]:
    """A JSON Schema (2020-12) of the whole partners file, for editors."""
    schema = _document_model().model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }
