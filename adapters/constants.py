"""Filters decided by a partner's mapping alone, before asking it anything.

A field a partner's mapping holds constant (``"trainingCentre.uai" = { const = "0742182V" }``:
every record of a centre's own ERP is that centre's) has the same value in every record the
partner could return. A filter reading only such fields is therefore true of all of them or of
none: :func:`rules_out` tests it once on the constants, and a partner it rules out is not
called at all — one centre's request for its applications does not read the other centre's
ERP to find nothing there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.config import EntityMapping, FieldSpec
from adapters.paging import active_filters
from adapters.predicates import FILTER_FIELDS, FILTER_PREDICATES

__all__ = ["constant_fields", "rules_out"]


def constant_fields(mapping: EntityMapping) -> tuple[dict[str, Any], frozenset[str]]:
    """The record every mapped record agrees with (constants, nested by their dotted names),
    and the top-level fields that hold anything but constants."""
    constants: dict[str, Any] = {}
    varying: set[str] = set()
    for name, spec in mapping.fields.items():
        top = name.split(".")[0]
        if isinstance(spec, FieldSpec) and spec.const is not None and not spec.each:
            target = constants
            *parents, leaf = name.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = spec.const
        else:
            varying.add(top)
    return constants, frozenset(varying)


_KNOWN: dict[int, tuple[EntityMapping, dict[str, Any], frozenset[str]]] = {}
"""id(mapping) -> its constants: mappings live as long as the partners file, and every list
call asks (kept with the mapping, so an id is never reused while it is here)."""


def _constants_of(mapping: EntityMapping) -> tuple[dict[str, Any], frozenset[str]]:
    known = _KNOWN.get(id(mapping))
    if known is None or known[0] is not mapping:
        known = (mapping, *constant_fields(mapping))
        _KNOWN[id(mapping)] = known
    return known[1], known[2]


def rules_out(entity: str, mapping: EntityMapping, filters: Mapping[str, Any]) -> bool:
    """Whether no record this mapping can produce matches ``filters`` (decided on constants)."""
    constants, varying = _constants_of(mapping)
    if not constants:
        return False
    reads = FILTER_FIELDS.get(entity, {})
    predicates = FILTER_PREDICATES.get(entity, {})
    for name in active_filters(filters):
        top = reads.get(name)
        if top is None or top in varying or top not in constants or name not in predicates:
            continue
        if not predicates[name](filters[name])(constants):
            return True
    return False
