"""Loading and validating a partners file (TOML) into typed partner blocks."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from adapters.config import PartnerBase
from adapters.errors import ConfigError
from adapters.mapping import unknown_fields, unknown_values
from adapters.registry import kinds

SUPPORTED_VERSIONS = {1}


@dataclass(frozen=True, slots=True)
class PartnersFile:
    partners: dict[str, PartnerBase]
    source: str


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def parse_partners(data: Mapping[str, Any], source: str = "<memory>") -> PartnersFile:
    """Validate a decoded partners document; every problem is collected, not just the first."""
    problems: list[tuple[str, str, str]] = []
    unknown_top = set(data) - {"version", "partners"}
    for key in sorted(unknown_top):
        problems.append((key, "unknown top-level key", "only `version` and `partners` exist"))
    if data.get("version", 1) not in SUPPORTED_VERSIONS:
        problems.append(("version", "unsupported version", "use version = 1"))
    blocks = data.get("partners", {})
    if not isinstance(blocks, Mapping):
        raise ConfigError([("partners", "must be a table of partner blocks", "[partners.<id>]")])
    available = kinds()
    partners: dict[str, PartnerBase] = {}
    for partner_id, block in blocks.items():
        base = f"partners.{partner_id}"
        if not isinstance(block, Mapping):
            problems.append((base, "must be a table", f"[{base}]"))
            continue
        kind = block.get("kind")
        if kind not in available:
            problems.append(
                (f"{base}.kind", f"unknown kind {kind!r}", f"one of: {', '.join(available)}")
            )
            continue
        try:
            config = available[kind].config.model_validate(dict(block))
        except ValidationError as error:
            for item in error.errors():
                problems.append(
                    (f"{base}.{_where(item['loc'])}", item["msg"], _hint(item["type"]))
                )
            continue
        for entity, mapping in config.entity_mappings().items():
            where = f"{base}.entities.{entity}"
            try:
                bad_fields = unknown_fields(entity, mapping)
            except KeyError:
                problems.append((where, "unknown entity", "offer, training_program, organisation"))
                continue
            for name in bad_fields:
                problems.append(
                    (f"{where}.fields.{name}", "not a field of the common syntax", "see schema")
                )
            for name, value in unknown_values(entity, mapping):
                problems.append(
                    (f"{where}.fields.{name}", f"{value!r} is not an allowed value", "see enums")
                )
        partners[partner_id] = config
    if problems:
        raise ConfigError(problems)
    return PartnersFile(partners, source)


def _hint(error_type: str) -> str:
    return {
        "extra_forbidden": "remove it, or check its spelling",
        "missing": "this key is required",
        "union_tag_invalid": "check the `type`/`style` value",
        "literal_error": "check the allowed values",
    }.get(error_type, "")


def load_partners(path: str | Path) -> PartnersFile:
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([(str(path), f"not valid TOML: {error}", "")]) from None
    return parse_partners(data, str(path))
