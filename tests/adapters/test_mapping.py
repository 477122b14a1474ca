"""The declarative mapping: paths, coercion by common-syntax type, value maps, lists.

Every test that maps runs twice: with the compiled reader (the hot path) and with the
reference field readers, which must give the same records and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.config import EntityMapping
from adapters.mapping import Mapper, MappingError, compile_path, read_path
from adapters.types import Record

FETCHED = "2026-11-28T10:00:00Z"
MapOne = Callable[[Mapper, Any], Record]


def offer_mapper(**fields: Any) -> Mapper:
    return Mapper("partner", "offer", EntityMapping(id="id", fields=fields))


@pytest.fixture(params=["compiled", "interpreted"])
def map_one(request: pytest.FixtureRequest) -> MapOne:
    if request.param == "compiled":
        return lambda mapper, raw: mapper.map(raw, FETCHED)
    return lambda mapper, raw: mapper.map_interpreted(raw, FETCHED)


def test_paths_follow_keys_indexes_and_lists() -> None:
    raw = {"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}]}, "geo": [6.1, 45.5]}
    assert read_path(raw, compile_path("a.b[1].c")) == 2
    assert read_path(raw, compile_path("a.b[*].c")) == [1, 2]
    assert read_path(raw, compile_path("geo[1]")) == 45.5
    missing = read_path(raw, compile_path("nope"))
    assert missing is not None  # absent is a marker of its own, distinct from a null value
    assert read_path(raw, compile_path("a.x.y")) is missing
    assert read_path(raw, compile_path("geo[5]")) is missing


def test_values_are_coerced_to_the_common_syntax_types(map_one: MapOne) -> None:
    mapper = offer_mapper(
        positions="n",
        targetLevel="lvl",
        accessibleToDisabledWorkers="th",
        publishedAt="created",
        startDate={"path": "debut", "format": "%d/%m/%Y"},
        **{"location.latitude": "lat"},
    )
    record = map_one(
        mapper,
        {
            "id": 7,
            "n": "3",
            "lvl": 5.0,
            "th": "oui",
            "created": "2026-01-05T10:00:00+01:00",
            "debut": "01/09/2026",
            "lat": "45,57".replace(",", "."),
        },
    )
    assert record.fields == {
        "id": "7",
        "positions": 3,
        "targetLevel": 5,
        "accessibleToDisabledWorkers": True,
        "publishedAt": "2026-01-05T09:00:00Z",
        "startDate": "2026-09-01",
        "location": {"latitude": 45.57},
    }
    assert record.provenance[0].partner == "partner" and record.provenance[0].partner_id == "7"


@pytest.mark.parametrize(
    ("fields", "raw"),
    [
        ({"positions": "n"}, {"n": "many"}),
        ({"positions": "n"}, {"n": True}),
        ({"publishedAt": "d"}, {"d": "yesterday"}),
        ({"title": "t"}, {"t": {"nested": "object"}}),
        ({"accessibleToDisabledWorkers": "b"}, {"b": "perhaps"}),
        ({"status": "s"}, {"s": "UNKNOWN_STATUS"}),
    ],
)
def test_a_value_that_does_not_fit_is_a_mapping_error(
    fields: dict[str, str], raw: dict[str, Any], map_one: MapOne
) -> None:
    with pytest.raises(MappingError) as caught:
        map_one(offer_mapper(**fields), {"id": "1", **raw})
    for value in raw.values():
        assert str(value) not in str(caught.value)  # partner values never reach messages
    [(name, path)] = fields.items()
    assert (caught.value.field, caught.value.path) == (name, path)


def test_value_maps_lists_defaults_and_constants(map_one: MapOne) -> None:
    mapper = offer_mapper(
        contractKinds={"path": "nature", "values": {"Contrat apprentissage": "APPRENTICESHIP"}},
        romeCodes={"path": "romes", "split": ","},
        remote={"path": "tt", "default": "ONSITE"},
        status={"const": "ACTIVE"},
        occupations={"path": "metiers", "each": {"romeCode": "code", "label": "libelle"}},
    )
    record = map_one(
        mapper,
        {
            "id": "1",
            "nature": "Contrat apprentissage",
            "romes": "G1602, G1603",
            "metiers": [{"code": "G1602", "libelle": "Cuisine", "extra": 1}],
        },
    )
    assert record.fields["contractKinds"] == ["APPRENTICESHIP"]
    assert record.fields["romeCodes"] == ["G1602", "G1603"]
    assert record.fields["remote"] == "ONSITE"
    assert record.fields["status"] == "ACTIVE"
    assert record.fields["occupations"] == [{"romeCode": "G1602", "label": "Cuisine"}]


def test_strict_value_maps_refuse_unknown_values(map_one: MapOne) -> None:
    mapper = offer_mapper(
        contractKinds={"path": "n", "values": {"E2": "APPRENTICESHIP"}, "strict_values": True}
    )
    with pytest.raises(MappingError, match="contractKinds"):
        map_one(mapper, {"id": "1", "n": "CDI"})


def test_map_many_drops_bad_records_and_counts_them() -> None:
    records, rejected = offer_mapper(positions="n").map_many(
        [{"id": "1", "n": 1}, {"id": "2", "n": "x"}, {"n": 3}, "not an object"], FETCHED
    )
    assert [r.fields["id"] for r in records] == ["1"]
    assert rejected == 3


def test_unknown_target_fields_are_refused_when_compiling() -> None:
    with pytest.raises(ValueError, match=r"fields\.salary: not a field of the common syntax"):
        offer_mapper(salary="salaire")
