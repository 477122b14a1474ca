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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from adapters.config import EntityMapping, FieldSpec, PartnerBase
from adapters.errors import ConfigError
from adapters.mapping import unknown_fields, unknown_values
from adapters.registry import kinds
from adapters.syntax import ENTITIES

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
        try:
            config = available[kind].config.model_validate(dict(block))
        except ValidationError as error:
            problems.extend(_validation_problems(base, block, error.errors()))
            continue
        problems.extend(_mapping_problems(base, config))
        partners[partner_id] = config
    return partners, problems


def parse_partners(data: Mapping[str, Any], source: str = "<memory>") -> PartnersFile:
    """Validate a decoded partners document; raises :class:`ConfigError` listing every problem."""
    partners, problems = check_partners(data)
    if problems:
        raise ConfigError(problems)
    return PartnersFile(partners, source)


def _mapping_problems(base: str, config: PartnerBase) -> list[Problem]:
    """What the models alone cannot see: the mapping's targets against the common syntax."""
    problems: list[Problem] = []
    for entity, mapping in config.entity_mappings().items():
        where = f"{base}.entities.{entity}"
        if entity not in ENTITIES:
            problems.append((where, "unknown entity", f"one of: {', '.join(ENTITIES)}"))
            continue
        for name in unknown_fields(entity, mapping):
            problems.append(
                (
                    f"{where}.fields.{_field_location(mapping, name)}",
                    "not a field of the common syntax",
                    "see the field catalogue in adapters/syntax.py (`config-schema` lists them)",
                )
            )
        for name, value in unknown_values(entity, mapping):
            allowed = ENTITIES[entity][name].choices or ()
            problems.append(
                (
                    f"{where}.fields.{_value_location(mapping, name, value)}",
                    f"{value!r} is not an allowed value of {name}",
                    f"one of: {', '.join(sorted(allowed))}",
                )
            )
    return problems


def _split_nested(mapping: EntityMapping, name: str) -> tuple[str, FieldSpec | str, list[str]]:
    """``occupations.romeCode`` -> (``occupations``, its spec, [``romeCode``]).

    Field names may hold dots themselves (``location.city``), so the longest mapped prefix wins.
    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in mapping.fields:
            return head, mapping.fields[head], parts[cut:]
    return name, name, []


def _field_location(mapping: EntityMapping, name: str) -> str:
    head, _, rest = _split_nested(mapping, name)
    return ".".join([head, *(f"each.{sub}" for sub in rest)]) if rest else head


def _value_location(mapping: EntityMapping, name: str, value: str) -> str:
    """Where a value-map entry whose target is ``value`` sits: ``status.values.OUVERTE``."""
    head, spec, rest = _split_nested(mapping, name)
    location = [head]
    for sub in rest:
        if not isinstance(spec, FieldSpec) or not spec.each or sub not in spec.each:
            break
        spec = spec.each[sub]
        location += ["each", sub]
    if isinstance(spec, FieldSpec) and spec.values:
        keys = [k for k, v in spec.values.items() if str(v) == value]
        if keys:
            location += ["values", keys[0]]
    return ".".join(location)


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
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([(str(path), f"not valid TOML: {error}", "")]) from None
    return parse_partners(data, str(path))
