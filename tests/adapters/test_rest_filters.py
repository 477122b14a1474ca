"""Filter push-down: what the partner is sent for each declared filter, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.types import GeoFilter, ListQuery
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import (
    OFFERS,
    echo_app,
    ids,
    offer_entity,
    range_app,
    range_entity,
    rest_config,
)

FILTERS: dict[str, Any] = {
    "romeCodes": {"param": "codeROME", "join": ","},
    "departements": {"param": "departement", "join": None},
    "contractKinds": {
        "param": "natureContrat",
        "values": {"APPRENTICESHIP": "E2", "PROFESSIONALISATION": "FS"},
    },
    "communes": {"param": "commune", "single": True},
    "publishedSince": {"param": "minCreationDate", "format": "%Y-%m-%dT%H:%M:%SZ"},
    "levels": {},  # no `param`: sent under the filter's own name
    "near": {"latitude_param": "lat", "longitude_param": "lon", "radius_param": "distance"},
}


async def sent_for(connect_rest: ConnectRest, filters: dict[str, Any]) -> list[tuple[str, str]]:
    app = echo_app()
    entity = offer_entity(list={"path": "/offres", "params": {"sort": "1"}}, filters=FILTERS)
    adapter = connect_rest(app, rest_config({"offer": entity}))
    await adapter.list(ListQuery("offer", filters, 10))
    assert len(app.seen) == 1
    return app.seen[0].query


async def test_joined_and_repeated_lists(connect_rest: ConnectRest) -> None:
    query = await sent_for(
        connect_rest, {"romeCodes": ["M1805", "F1201"], "departements": ["73", "74"]}
    )

    assert ("codeROME", "M1805,F1201") in query
    assert [v for k, v in query if k == "departement"] == ["73", "74"]
    assert ("sort", "1") in query  # the endpoint's static parameters stay


async def test_values_are_translated_to_the_partners_codes(connect_rest: ConnectRest) -> None:
    query = await sent_for(connect_rest, {"contractKinds": ["APPRENTICESHIP"]})

    assert ("natureContrat", "E2") in query


async def test_single_value_filters_are_pushed_only_for_one_value(
    connect_rest: ConnectRest,
) -> None:
    one = await sent_for(connect_rest, {"communes": ["73065"]})
    several = await sent_for(connect_rest, {"communes": ["73065", "74010"]})

    assert ("commune", "73065") in one
    assert all(k != "commune" for k, _ in several)  # the gateway filters those itself


async def test_instants_are_formatted_for_the_partner(connect_rest: ConnectRest) -> None:
    as_text = await sent_for(connect_rest, {"publishedSince": "2024-05-01T08:00:00Z"})
    as_datetime = await sent_for(
        connect_rest, {"publishedSince": datetime(2024, 5, 1, 10, 0, tzinfo=UTC)}
    )

    assert ("minCreationDate", "2024-05-01T08:00:00Z") in as_text
    assert ("minCreationDate", "2024-05-01T10:00:00Z") in as_datetime


async def test_near_becomes_a_point_and_a_radius(connect_rest: ConnectRest) -> None:
    query = await sent_for(connect_rest, {"near": GeoFilter(45.5646, 5.9178, 30.0)})

    assert ("lat", "45.5646") in query
    assert ("lon", "5.9178") in query
    assert ("distance", "30") in query


async def test_a_filter_without_param_uses_its_own_name(connect_rest: ConnectRest) -> None:
    query = await sent_for(connect_rest, {"levels": [4, 5]})

    assert ("levels", "4,5") in query


async def test_undeclared_filters_are_not_sent(connect_rest: ConnectRest) -> None:
    query = await sent_for(connect_rest, {"opco": "AKTO", "romeCodes": []})

    assert query == [("sort", "1")]


async def test_the_partner_applies_a_pushed_filter(connect_rest: ConnectRest) -> None:
    app, _ = range_app()
    entity = range_entity(filters={"romeCodes": {"param": "codeROME"}})
    adapter = connect_rest(app, rest_config({"offer": entity}))

    page = await adapter.list(ListQuery("offer", {"romeCodes": ["M1805"]}, 100))

    assert ids(page.records) == [o["id"] for o in OFFERS if o["romeCode"] == "M1805"]
    assert page.total == 8


async def test_pushed_filters_and_lookup_keys_are_declared(connect_rest: ConnectRest) -> None:
    config = rest_config(
        {
            "offer": offer_entity(list={"path": "/offres"}, filters=FILTERS),
            "organisation": {
                "id": "siret",
                "fields": {"siret": "siret"},
                "lookups": {"siret": {"path": "/etablissements/{value}"}},
            },
        }
    )
    adapter = connect_rest(echo_app(), config)

    assert adapter.entities() == {"offer", "organisation"}
    assert adapter.pushed_filters("offer") == set(FILTERS)
    assert adapter.pushed_filters("organisation") == frozenset()
    assert adapter.lookup_keys("offer") == {"id"}  # by walking the list
    assert adapter.lookup_keys("organisation") == {"siret"}  # no list, no id look-up
    assert adapter.lookup_keys("training_program") == frozenset()
