"""``check-config``: every problem of a partners file, at its line; and the file's JSON Schema.

:func:`check_file` reports what :func:`adapters.partners_file.check_partners` finds, plus what
only shows outside the models: an environment secret that is not set, a record path that cannot
be read, and (``probe=True``) a partner that does not answer. Each problem carries the line of
the mistake, so an editor or a terminal jumps straight to it::

    demo/partners.toml:41: partners.hub3e.entities.offer.fields.status.values.OUVERTE:
    'OPEN' is not an allowed value of status (hint: one of: ACTIVE, CANCELLED, FILLED, PENDING)

Positions come from :class:`adapters.toml_positions.KeyIndex`.

:func:`partners_json_schema` is the schema of the whole file, built from the config model of
every kind in :func:`adapters.registry.kinds` and discriminated by ``kind``, for editors.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from adapters.base import Adapter
from adapters.config import EnvSecret, PartnerBase
from adapters.errors import SourceError
from adapters.mapping import SourceUnfit
from adapters.mapping_checks import PATH_HINT, valid_path
from adapters.mapping_stats import watching_failures
from adapters.partners_file import check_partners, locate_mappings
from adapters.registry import build_adapter, kinds
from adapters.toml_positions import KeyIndex, KeyPath
from adapters.types import ListQuery

Finding = tuple[KeyPath, str, str]  # (key path, message, hint), placed on a line afterwards
_SAMPLE = 50  # records probed from a partner without pagination
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
_QUERY_ERROR_AT = re.compile(r"\(line (\d+), column (\d+) of the (?:query|mutation)\)")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: int | None
    location: str  # dotted path in the file: partners.<id>.entities.offer.fields.title
    message: str
    hint: str = ""


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


def _record_paths(partner: str, config: PartnerBase) -> Iterator[tuple[KeyPath, str]]:
    """Every path into a partner's answers that the file writes (the mappings' own paths are
    checked with the mapping, :mod:`adapters.mapping_checks`)."""
    for path, value in _nodes(config, ("partners", partner)):
        for name in _BODY_PATHS.get(type(value), ()):
            written = getattr(value, name)
            if isinstance(written, str):
                yield (*path, name), written


def _bad_paths(partner: str, config: PartnerBase) -> Iterator[tuple[KeyPath, str, str]]:
    for path, written in _record_paths(partner, config):
        if not valid_path(written):
            yield path, f"{written!r} is not a valid path", PATH_HINT


async def _probe_one(partner: str, config: PartnerBase, timeout_s: float) -> list[Finding]:
    """Why ``partner`` cannot be used right now: it does not answer, or a page of each entity
    it lists does not map (one finding per failing field, at the field's own key)."""
    where: KeyPath = ("partners", partner)
    if "base_url" in type(config).model_fields:
        where = (*where, "base_url")
    unreachable = "is it running, at this address?"
    try:
        adapter = build_adapter(partner, config)
    except LookupError:
        return []  # a missing secret, reported on its own line
    except (ValueError, TypeError) as error:
        return [(where, f"cannot build its adapter: {error}", "")]
    try:
        async with asyncio.timeout(timeout_s):
            with contextlib.suppress(SourceUnfit):  # it answers; the page below says what fails
                await adapter.probe()
            findings: list[Finding] = []
            for entity in sorted(adapter.entities()):
                if adapter.listable(entity):
                    findings.extend(await _probe_page(adapter, partner, entity, config))
            return findings
    except TimeoutError:
        return [(where, f"no answer within {timeout_s:g} s", unreachable)]
    except SourceError as error:
        return [(where, f"unreachable: {error.code} ({error.message})", unreachable)]
    finally:
        await adapter.aclose()


async def _probe_page(
    adapter: Adapter, partner: str, entity: str, config: PartnerBase
) -> list[Finding]:
    """Fetch and map one page of ``entity``; every field that fails, once, at its key."""
    base: KeyPath = ("partners", partner, "entities", entity)
    size = _page_size(config, entity)
    with watching_failures() as failures:
        try:
            page = await adapter.list(ListQuery(entity, {}, limit=size))
        except SourceUnfit:
            page = None  # every record failed: the failures say why
        except SourceError as error:
            return [(base, f"listing {entity} failed: {error.code} ({error.message})", "")]
    findings: dict[str, Finding] = {}
    for _, _, failure in failures:
        if failure.field not in findings:
            sampled = f"{len(page.records)} mapped" if page is not None else "none mapped"
            findings[failure.field] = (
                (*base, *failure.location),
                f"{failure.field}: {failure.reason} in records of the first page ({sampled}; "
                f"partner path `{failure.path or '-'}`)",
                "fix the path or the value map; such records are dropped",
            )
    return list(findings.values())


def _page_size(config: PartnerBase, entity: str) -> int:
    """The partner's own page size for ``entity`` (one call), else a small sample."""
    entities = getattr(config, "entities", {})
    spec = entities.get(entity) if isinstance(entities, Mapping) else None
    for holder in (getattr(spec, "pagination", None), getattr(spec, "list", None)):
        size = getattr(holder, "page_size", None)
        if isinstance(size, int):
            return min(size, config.max_items)
    return min(_SAMPLE, config.max_items)


async def _build_each(partners: Mapping[str, PartnerBase]) -> list[Finding]:
    """Build every partner's adapter as ``serve`` does, without calling anyone: whatever it
    refuses is reported here first, not as a traceback at start-up."""
    findings: list[Finding] = []
    for partner, config in partners.items():
        try:
            adapter = build_adapter(partner, config)
        except LookupError:
            continue  # a missing secret, reported on its own line
        except (ValueError, TypeError) as error:
            findings.append((("partners", partner), f"cannot be used: {error}", ""))
            continue
        await adapter.aclose()
    return findings


async def probe_partners(
    partners: Mapping[str, PartnerBase], timeout_s: float = 3.0
) -> dict[str, list[Finding]]:
    """What each enabled partner's probe found (unreachable, fields that fail); all at once."""
    enabled = [(pid, config) for pid, config in partners.items() if config.enabled]
    found = await asyncio.gather(*(_probe_one(p, c, timeout_s) for p, c in enabled))
    return {pid: items for (pid, _), items in zip(enabled, found, strict=True) if items}


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
    index = KeyIndex(text)
    partners, found = check_partners(data)
    locate_mappings(partners, index, file)
    problems = [_at(index, file, where, message, hint) for where, message, hint in found]
    for partner, config in partners.items():
        for key_path, message, hint in [
            *_missing_secrets(partner, config),
            *_bad_paths(partner, config),
        ]:
            problems.append(_at(index, file, _dotted(key_path), message, hint, exact=key_path))
    usable = {p: c for p, c in partners.items() if not _blocked(p, problems)}
    findings = asyncio.run(_build_each(usable))
    if probe:
        built = {p: c for p, c in usable.items() if not any(f[0][1] == p for f in findings)}
        for items in asyncio.run(probe_partners(built, probe_timeout_s)).values():
            findings.extend(items)
    for key_path, message, hint in findings:
        problems.append(_at(index, file, _dotted(key_path), message, hint, exact=key_path))
    return sorted(problems, key=lambda p: (p.line, p.column or 0))


def _blocked(partner: str, problems: list[Problem]) -> bool:
    """A partner with a problem in its block is not worth probing: it cannot be built."""
    prefix = f"partners.{partner}"
    return any(p.location == prefix or p.location.startswith(prefix + ".") for p in problems)


def _dotted(path: KeyPath) -> str:
    return ".".join(str(step) for step in path)


def _at(
    index: KeyIndex,
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


def _inside_string(index: KeyIndex, offset: int, line: int, column: int) -> tuple[int, int]:
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
    """One problem a line: ``FILE:LINE:COLUMN: location: message (hint: ...)``."""
    lines = []
    for problem in problems:
        where = f"{problem.location}: " if problem.location else ""
        hint = f" (hint: {problem.hint})" if problem.hint else ""
        at = f"{problem.line}:{problem.column}" if problem.column else f"{problem.line}"
        lines.append(f"{problem.file}:{at}: {where}{problem.message}{hint}")
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
