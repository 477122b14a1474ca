"""Which fields a client asked for, so the registry asks only the partners that provide them.

A page of offers asking for ``employer { name siret }`` is answered from the offers themselves;
asking for ``employer { naf { code } }`` costs one batched directory look-up; only asking for
``employer { opco }`` brings in the OPCO's export. Fragments are followed.
"""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def _names(selections: Iterable[Selection]) -> set[str]:
    out: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            out.add(selection.name)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            out |= _names(selection.selections)
    return out


def _children(selections: Iterable[Selection], name: str) -> list[Selection]:
    out: list[Selection] = []
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            out.extend(selection.selections)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            out.extend(_children(selection.selections, name))
    return out


def requested(info: Info, *path: str) -> frozenset[str]:
    """Field names selected under the current field, down ``path`` (e.g. "edges", "node")."""
    selections: list[Selection] = []
    for field in info.selected_fields:
        selections.extend(field.selections)
    for name in path:
        selections = _children(selections, name)
    return frozenset(_names(selections) - {"__typename"})


_DERIVED_FROM: dict[str, dict[str, frozenset[str]]] = {
    "offer": {"occupations": frozenset({"occupations", "romeCodes"})},
    "organisation": {"siren": frozenset({"siren", "siret"})},
    # The personal half: what a resolved field reads off the record it hangs from.
    "candidate": {
        "applications": frozenset({"trainingCentre"}),
        "followUps": frozenset({"trainingCentre"}),
        "contracts": frozenset({"ine"}),  # contracts name their apprentice by INE
    },
}
_NOT_RECORD_FIELDS = frozenset({"id", "provenance", "__typename"})


def record_fields(entity: str, selected: frozenset[str]) -> frozenset[str]:
    """The record fields that the GraphQL fields ``selected`` read (``occupations`` falls
    back on ``romeCodes``): what a partner's records need mapped for this selection."""
    derived = _DERIVED_FROM.get(entity, {})
    out: set[str] = set()
    for name in selected - _NOT_RECORD_FIELDS:
        out |= derived.get(name, frozenset({name}))
    return frozenset(out)
