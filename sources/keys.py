"""Which look-up keys can be checked before a partner sees them, and by which rule.

A key a client sent (``node(id:)``, ``organisation(uai:)``, an ``_entities`` representation) is
checked against the national identifier rules of :mod:`reference.identifiers` (SIRET, SIREN,
UAI): a value that breaks its rule names no record anywhere, so it is answered as missing
without any partner being asked, and a partner can never be made to fail on it. A partner's
own ``id`` is checked too when the partners file says it *is* one of those identifiers (the
entity's ``id`` path is the plain path of its ``uai``, ``siret`` or ``siren`` field, as for the
education authority's register, whose id is the UAI).
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.config import FieldSpec, PartnerBase
from reference import identifiers

KeyRule = Callable[[str], bool]

_RULES: dict[str, Callable[[str], str]] = {
    "siret": identifiers.siret,
    "siren": identifiers.siren,
    "uai": identifiers.uai,
}


def _follows(rule: Callable[[str], str]) -> KeyRule:
    def check(value: str) -> bool:
        try:
            rule(value)
        except ValueError:
            return False
        return True

    return check


_CHECKS = {key: _follows(rule) for key, rule in _RULES.items()}


def _plain_path(mapping: str | FieldSpec | None) -> str | None:
    """The path of a field mapping that reads the partner's value as it is (no value map,
    split, constant or default), else None."""
    if isinstance(mapping, str):
        return mapping
    if mapping is None or mapping.values or mapping.split or mapping.const is not None:
        return None
    return mapping.path if mapping.default is None and not mapping.each else None


def key_rules(config: PartnerBase) -> dict[tuple[str, str], KeyRule]:
    """(entity, key) -> the check its values must pass before this partner is asked."""
    rules: dict[tuple[str, str], KeyRule] = {}
    for entity, mapping in config.entity_mappings().items():
        for key, check in _CHECKS.items():
            rules[(entity, key)] = check
            if _plain_path(mapping.fields.get(key)) == mapping.id:
                rules[(entity, "id")] = check
    return rules
