"""A feed snapshot's sorted index: the order of its pages and where a position resumes."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.feed import SortedIndex
from adapters.types import Provenance, Record, SortOrder

TITLES: dict[str, Any] = {"F3": "Maçon", "F1": None, "F4": "Charpentier", "F2": "Maçon", "F5": None}


def records(titles: dict[str, Any]) -> list[Record]:
    return [
        Record("training_program", {"id": i, "title": t}, [Provenance("feed", i, "now")])
        for i, t in titles.items()
    ]


def test_empty_values_come_last_in_either_direction_and_ties_go_by_id() -> None:
    ascending = SortedIndex.build(records(TITLES), SortOrder("title"))
    descending = SortedIndex.build(records(TITLES), SortOrder("title", descending=True))
    natural = SortedIndex.build(records(TITLES), None)

    assert ascending.ids == ("F4", "F2", "F3", "F1", "F5")
    assert descending.ids == ("F2", "F3", "F4", "F1", "F5")
    assert natural.ids == ("F1", "F2", "F3", "F4", "F5")


def test_a_position_resumes_after_its_keyset_even_where_its_record_is_gone() -> None:
    index = SortedIndex.build(records(TITLES), SortOrder("title", descending=True))

    assert index.first_after("feed", index.position(1)) == 2
    # F2 removed from a later snapshot: resume where ("Maçon", "F2") would fall
    later = SortedIndex.build(records({k: v for k, v in TITLES.items() if k != "F2"}), None)
    assert later.first_after("feed", ["F2"]) == 1  # natural order: after F1, at F3
    assert index.first_after("feed", ["Maçon", "F25"]) == 1  # between F2 and F3
    assert index.first_after("feed", [None, "F1"]) == 4  # among the empty values
    assert index.first_after("feed", ["Zingueur", "F0"]) == 0  # before every value
    assert index.first_after("feed", [None, "F9"]) == 5  # past everything


@pytest.mark.parametrize("position", [["F1"], "F1", [3, "F1"], ["Maçon", 3], {"v": 1}])
def test_a_position_of_another_shape_or_type_is_refused(position: Any) -> None:
    index = SortedIndex.build(records(TITLES), SortOrder("title"))
    with pytest.raises(ValueError, match="not a position"):
        index.first_after("feed", position)
