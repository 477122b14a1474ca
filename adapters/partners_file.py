"""Loading and validating a partners file (TOML) into typed partner blocks.

Every problem is collected, not just the first, and named by its place in the file
(``partners.<id>.entities.offer.fields.title``) with a hint. Pydantic's own error locations are
cleaned on the way: they name union branches (``str``, ``function-after[...]``, the
discriminator's tag) that a partners file author never wrote, and a table given where either a
string or a table fits fails the string branch too — that noise is dropped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from copy import deepcopy as copy_deep
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from adapters.config import EntityMapping, FieldMappingType, PartnerBase
from adapters.errors import ConfigError
from adapters.mapping_checks import mapping_problems
from adapters.registry import kinds
from adapters.syntax import ENTITIES
from adapters.toml_positions import KeyIndex

SUPPORTED_VERSIONS = {1}

Problem = tuple[str, str, str]  # (dotted location, message, hint)

# Errors of a branch that wants a scalar, reported when a table was given to a union whose
# other branch takes tables: the other branch's errors are the ones that explain the mistake.
_SCALAR_BRANCH_ERRORS = frozenset(
    {
        "string_type",
        "int_type",
        "int_parsing",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
    }
)
_HINTS = {
    "extra_forbidden": "remove it, or check its spelling",
    "missing": "this key is required",
    "union_tag_invalid": "check the `type`/`style` value",
    "literal_error": "check the allowed values",
    "model_type": "write a table: { key = value, ... }",
    "dict_type": "write a table: { key = value, ... }",
    "string_type": "write a quoted string",
}


@dataclass(frozen=True, slots=True)
class PartnersFile:
    partners: dict[str, PartnerBase]
    source: str


def check_partners(data: Mapping[str, Any]) -> tuple[dict[str, PartnerBase], list[Problem]]:
    """Every partner block its kind's model accepts, and every problem found; never raises."""
    problems: list[Problem] = []
    unknown_top = set(data) - {"version", "partners"}
    for key in sorted(unknown_top):
        problems.append((key, "unknown top-level key", "only `version` and `partners` exist"))
    if data.get("version", 1) not in SUPPORTED_VERSIONS:
        problems.append(("version", "unsupported version", "use version = 1"))
    blocks = data.get("partners", {})
    if not isinstance(blocks, Mapping):
        problems.append(("partners", "must be a table of partner blocks", "[partners.<id>]"))
        return {}, problems
    available = kinds()
    partners: dict[str, PartnerBase] = {}
    for partner_id, block in blocks.items():
        base = f"partners.{partner_id}"
        if not isinstance(block, Mapping):
            problems.append((base, "must be a table", f"[{base}]"))
            continue
        kind = block.get("kind")
        if kind is None:
            problems.append((base, "missing `kind`", f"one of: {', '.join(available)}"))
            continue
        if kind not in available:
            problems.append(
                (f"{base}.kind", f"unknown kind {kind!r}", f"one of: {', '.join(available)}")
            )
            continue
        problems.extend(_mapping_problems(base, block))
        model = available[kind].config
        try:
            config = model.model_validate(dict(block))
        except ValidationError as error:
            found = _validation_problems(base, block, error.errors())
            problems.extend(found)
            problems.extend(_hidden_problems(base, model, block, error.errors(), found))
            continue
        partners[partner_id] = config
    return partners, problems


def parse_partners(data: Mapping[str, Any], source: str = "<memory>") -> PartnersFile:
    """Validate a decoded partners document; raises :class:`ConfigError` listing every problem."""
    partners, problems = check_partners(data)
    if problems:
        raise ConfigError(problems)
    return PartnersFile(partners, source)


def _mapping_problems(base: str, block: Mapping[str, Any]) -> list[Problem]:
    """What the models alone cannot see: each entity's mapping against the common syntax.

    Read from the block as written, field by field, so that a mistake elsewhere in the block
    (an unknown key, a bad `auth`) or in another field hides none of these.
    """
    problems: list[Problem] = []
    entities = block.get("entities")
    if not isinstance(entities, Mapping):
        return problems
    for entity, table in entities.items():
        where = f"{base}.entities.{entity}"
        if entity not in ENTITIES:
            problems.append((where, "unknown entity", f"one of: {', '.join(ENTITIES)}"))
            continue
        mapping = _written_mapping(table)
        if mapping is not None:
            problems.extend(
                (f"{where}.{location}", message, hint)
                for location, message, hint in mapping_problems(entity, mapping)
            )
    return problems


def _hidden_problems(
    base: str,
    model: type[PartnerBase],
    block: Mapping[str, Any],
    errors: Sequence[ErrorDetails],
    found: list[Problem],
) -> list[Problem]:
    """Problems an unknown key hid: the block's own checks (look-ups, queries...) run only once
    every key is right, so they are run again on the block without its unknown keys."""
    unknown = [item["loc"] for item in errors if item["type"] == "extra_forbidden"]
    if not unknown or len(unknown) != len(errors):
        return []  # another mistake stops the checks too; it is reported, fix it first
    trimmed = _without(block, unknown)
    try:
        model.model_validate(trimmed)
    except ValidationError as error:
        seen = {where for where, _, _ in found}
        return [p for p in _validation_problems(base, trimmed, error.errors()) if p[0] not in seen]
    return []


def _without(block: Mapping[str, Any], locations: Sequence[tuple[int | str, ...]]) -> Any:
    """A deep copy of ``block`` without the keys at ``locations`` (as Pydantic wrote them)."""
    copy = copy_deep(block)
    for loc in locations:
        node: Any = copy
        for step in loc[:-1]:  # a step that is not a key of the file names a union branch
            in_table = isinstance(node, Mapping) and step in node
            in_array = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
            if in_table or in_array:
                node = node[step]
        if isinstance(node, dict):
            node.pop(loc[-1], None)
    return copy


# mypy reports the union as arg-type from a warm cache and not from a cold one: both pass.
_FIELD: TypeAdapter[FieldMappingType] = TypeAdapter(FieldMappingType)  # type: ignore[arg-type, unused-ignore]


def _written_mapping(table: Any) -> EntityMapping | None:
    """The entity's ``id`` and those of its ``fields`` that are well formed on their own."""
    if not isinstance(table, Mapping):
        return None
    raw_id = table.get("id")
    fields: dict[str, FieldMappingType] = {}
    written = table.get("fields")
    for name, spec in written.items() if isinstance(written, Mapping) else ():
        try:
            fields[str(name)] = _FIELD.validate_python(spec)
        except ValidationError:
            continue  # reported by the block's own validation
    # An `id` that is not a string is reported by the block's validation; its path is not ours.
    return EntityMapping(id=raw_id if isinstance(raw_id, str) else "id", fields=fields)


def _validation_problems(
    base: str, block: Mapping[str, Any], errors: Sequence[ErrorDetails]
) -> list[Problem]:
    merged: dict[str, tuple[list[str], str]] = {}
    for item in errors:
        path, through_union = _clean_location(block, item["loc"], item["type"])
        if (
            through_union
            and item["type"] in _SCALAR_BRANCH_ERRORS
            and isinstance(item.get("input"), Mapping)
        ):
            continue
        ctx = item.get("ctx") or {}
        if item["type"] == "union_tag_invalid" and "discriminator" in ctx:
            path.append(str(ctx["discriminator"]).strip("'\""))
        where = ".".join([base, *(str(p) for p in path)])
        message = item["msg"].removeprefix("Value error, ")
        messages, _ = merged.setdefault(where, ([], _hint(item)))
        if message not in messages:
            messages.append(message)
    return [(where, _either(msgs), hint) for where, (msgs, hint) in merged.items()]


def _either(messages: list[str]) -> str:
    """Two union branches' complaints as one: "Input should be a, or b"."""
    first, *others = messages
    prefix = "Input should be "
    if first.startswith(prefix):
        others = [m.removeprefix(prefix) for m in others]
    return ", or ".join([first, *others])


def _clean_location(
    block: Mapping[str, Any], loc: tuple[int | str, ...], error_type: str
) -> tuple[list[int | str], bool]:
    """Pydantic's location as the keys written in the file, and whether it crossed a union.

    A step that is not in the data is a union branch's name, except the last step of a
    ``missing`` error: the key the author has to add.
    """
    node: Any = block
    path: list[int | str] = []
    through_union = False
    for position, step in enumerate(loc):
        in_table = isinstance(node, Mapping) and step in node
        in_array = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if in_table or in_array:
            node = node[step]
            path.append(step)
        elif position == len(loc) - 1 and error_type == "missing":
            path.append(step)
        else:
            through_union = True
    return path, through_union


def _hint(item: ErrorDetails) -> str:
    ctx = item.get("ctx") or {}
    if "hint" in ctx:
        return str(ctx["hint"])
    if item["type"] == "union_tag_invalid" and "expected_tags" in ctx:
        return f"one of: {ctx['expected_tags']}"
    if item["type"] == "literal_error" and "expected" in ctx:
        return f"one of: {ctx['expected']}"
    if item["type"] == "string_pattern_mismatch" and "pattern" in ctx:
        return f"must match {ctx['pattern']}"
    for bound, words in (
        ("ge", "at least"),
        ("gt", "more than"),
        ("le", "at most"),
        ("lt", "less than"),
    ):
        if bound in ctx:
            return f"{words} {ctx[bound]}"
    return _HINTS.get(item["type"], "")


def load_partners(path: str | Path) -> PartnersFile:
    """The partners file at ``path``; its mappings know the line of each of their keys."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([(str(path), f"not valid TOML: {error}", "")]) from None
    loaded = parse_partners(data, str(path))
    locate_mappings(loaded.partners, KeyIndex(text), str(path))
    return loaded


def locate_mappings(partners: Mapping[str, PartnerBase], index: KeyIndex, file: str) -> None:
    """Tell every entity mapping where its keys are written (``file:line``), for errors."""
    for partner, config in partners.items():
        for entity, mapping in config.entity_mappings().items():
            base = ("partners", partner, "entities", entity)
            lines: dict[tuple[str, ...], str] = {}
            for path, offset in index.keys.items():
                if path[: len(base)] == base and all(isinstance(p, str) for p in path):
                    line, _ = index.position(offset)
                    lines[tuple(str(p) for p in path[len(base) :])] = f"{file}:{line}"
            mapping.locate(lines=lines)
