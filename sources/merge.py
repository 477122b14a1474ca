"""De-duplication and merging of the same real-world record published by several partners.

Two offers are the same offer when they share the employer (its SIRET, or its normalised name
when a publisher omits the SIRET), the first ROME code, the commune and the normalised title.
Two training programmes are the same when they share a catalogue key, or else the RNCP code,
the responsible centre's UAI and the commune. Organisations are the same when they share a
SIRET or a UAI.

The merged record keeps the fields of the first source in partner order and fills what it
lacks from the others; list fields are united; sessions are merged by start date so that a
CFA's own capacity and enrolment complete the catalogue's session. Every source stays in the
provenance, in partner order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from adapters.types import Fields, Record, field_at

_SPACES = re.compile(r"[^a-z0-9]+")


def normalise_title(title: str | None) -> str:
    if not title:
        return ""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _SPACES.sub(" ", ascii_text.lower()).strip()


def offer_keys(fields: Fields) -> list[tuple[Any, ...]]:
    """By employer SIRET, or by employer name where a publisher omits the SIRET."""
    romes = fields.get("romeCodes") or []
    insee = field_at(fields, "location.inseeCode")
    title = normalise_title(fields.get("title"))
    if not (romes and insee and title):
        return []
    keys: list[tuple[Any, ...]] = []
    siret = field_at(fields, "employer.siret")
    if siret:
        keys.append(("offer-siret", siret, romes[0], insee, title))
    name = normalise_title(field_at(fields, "employer.name"))
    if name:
        keys.append(("offer-name", name, romes[0], insee, title))
    return keys


def program_keys(fields: Fields) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    if fields.get("catalogueKey"):
        keys.append(("catalogue", fields["catalogueKey"]))
    rncp = field_at(fields, "certification.rncp")
    uai = field_at(fields, "responsible.uai")
    insee = field_at(fields, "location.inseeCode")
    if rncp and uai and insee:
        keys.append(("rncp-uai-commune", rncp, uai, insee))
    return keys


def organisation_keys(fields: Fields) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    if fields.get("siret"):
        keys.append(("siret", fields["siret"]))
    if fields.get("uai"):
        keys.append(("uai", fields["uai"]))
    return keys


IDENTITY: dict[str, Callable[[Fields], list[tuple[Any, ...]]]] = {
    "offer": offer_keys,
    "training_program": program_keys,
    "organisation": organisation_keys,
}
"""The default rules of each entity, for partners whose block declares no ``identity``."""

IDENTITY_FIELDS: dict[str, frozenset[str]] = {
    "offer": frozenset({"employer", "romeCodes", "location", "title"}),
    "training_program": frozenset({"catalogueKey", "certification", "responsible", "location"}),
    "organisation": frozenset({"siret", "uai"}),
}
"""The top-level fields the default rules read (mapped for every record, to find twins)."""


def identity_fields(entity: str, rules: list[list[str]] | None) -> frozenset[str]:
    if rules is None:
        return IDENTITY_FIELDS.get(entity, frozenset())
    return frozenset(path.split(".")[0] for rule in rules for path in rule)


Identity = Callable[[Fields], list[tuple[Any, ...]]]


def _rule_value(fields: Fields, path: str) -> Any:
    value = field_at(fields, path)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return normalise_title(value)
    return value


def declared_identity(rules: list[list[str]]) -> Identity:
    """The keys of a record under the rules a partner declares (``identity = [[...], ...]``).

    A key is tagged with its rule, so it can only meet the key of a partner that declares the
    same rule; a rule with an empty value gives no key (nothing to compare).
    """
    frozen = [tuple(rule) for rule in rules]

    def keys(fields: Fields) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for rule in frozen:
            values = tuple(_rule_value(fields, path) for path in rule)
            if all(v not in (None, "") for v in values):
                out.append(("declared", rule, *values))
        return out

    return keys


def identity_of(entity: str, rules: list[list[str]] | None) -> Identity | None:
    """A partner's identity rules for ``entity``: its declared ones, else the default."""
    if rules is not None:
        return declared_identity(rules)
    return IDENTITY.get(entity)


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _merge_objects_by(key: str, mine: list[Any], theirs: list[Any]) -> list[Any]:
    merged = [dict(item) if isinstance(item, dict) else item for item in mine]
    index = {item.get(key): item for item in merged if isinstance(item, dict)}
    for item in theirs:
        if not isinstance(item, dict):
            continue
        match = index.get(item.get(key))
        if match is None:
            merged.append(dict(item))
            index[item.get(key)] = merged[-1]
        else:
            fill_missing(match, item)
    return merged


def fill_missing(target: Fields, other: Fields) -> None:
    """Complete ``target`` with what ``other`` has and ``target`` lacks (in place)."""
    for name, value in other.items():
        if name == "id" or _is_empty(value):
            continue
        mine = target.get(name)
        if _is_empty(mine):
            target[name] = value
        elif isinstance(mine, dict) and isinstance(value, dict):
            fill_missing(mine, value)
        elif isinstance(mine, list) and isinstance(value, list):
            if value and isinstance(value[0], dict):
                if "start" in value[0]:
                    target[name] = _merge_objects_by("start", mine, value)
            else:
                target[name] = mine + [v for v in value if v not in mine]


def absorb(record: Record, other: Record) -> None:
    """Complete ``record`` with ``other`` (in place): its missing values, its provenance."""
    fill_missing(record.fields, other.fields)
    record.provenance.extend(p for p in other.provenance if p not in record.provenance)


def merge_group(records: list[Record]) -> Record:
    if len(records) == 1:
        return records[0]
    first = records[0]
    merged = Record(first.entity, _deep_copy(first.fields), list(first.provenance))
    for other in records[1:]:
        absorb(merged, other)
    return merged


def _deep_copy(fields: Fields) -> Fields:
    out: Fields = {}
    for name, value in fields.items():
        if isinstance(value, dict):
            out[name] = _deep_copy(value)
        elif isinstance(value, list):
            out[name] = [_deep_copy(v) if isinstance(v, dict) else v for v in value]
        else:
            out[name] = value
    return out


def deduplicate(entity: str, streams: Iterable[list[Record]]) -> list[Record]:
    """Merge records of several partners (given in partner order) into one list.

    A record joins the first group that shares any identity key with it and holds no record of
    its own partner: within one partner, records are told apart by the partner's own ids, so
    two distinct offers of one publisher are never folded. Records without an identity key
    stay alone. Order: first appearance, in partner order.
    """
    identity = IDENTITY.get(entity)
    groups: list[list[Record]] = []
    by_key: dict[tuple[Any, ...], int] = {}
    for records in streams:
        for record in records:
            keys = identity(record.fields) if identity else []
            partner = record.owner.partner
            group = next(
                (
                    by_key[k]
                    for k in keys
                    if k in by_key and all(r.owner.partner != partner for r in groups[by_key[k]])
                ),
                None,
            )
            if group is None:
                group = len(groups)
                groups.append([record])
            else:
                groups[group].append(record)
            for key in keys:
                by_key.setdefault(key, group)
    return [merge_group(group) for group in groups]
