"""Look-ups: batched where the partner can, one call per value otherwise, values escaped."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.errors import SourceBadResponse
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import (
    OFFERS,
    company_entity,
    directory_app,
    echo_app,
    offer_entity,
    range_app,
    range_entity,
    recorded,
    rest_config,
    siret,
)

POST_BATCH = {
    "path": "/etablissements/search",
    "param": "q",
    "batch": {"path": "/etablissements/batch", "body_field": "sirets", "items": "etablissements"},
}
GET_BATCH = {
    "path": "/etablissements/search",
    "param": "q",
    "batch": {"path": "/etablissements/lot", "method": "GET", "param": "sirets", "max_size": 50},
}


async def test_post_batch_sends_one_call_per_hundred_values(connect_rest: ConnectRest) -> None:
    app, batch_sizes = directory_app()
    config = rest_config({"organisation": company_entity(lookups={"siret": POST_BATCH})})
    adapter = connect_rest(app, config)
    wanted = [siret(n) for n in range(1, 251)] + ["99999999999999"]

    found = await adapter.lookup("organisation", "siret", wanted)

    assert sorted(batch_sizes) == [51, 100, 100]
    assert adapter.http.calls == 3
    assert set(found) == {siret(n) for n in range(1, 251)}  # the unknown one is absent
    record = found[siret(42)][0]
    assert record.fields["name"] == "Entreprise 42"
    assert record.fields["active"] is True
    assert record.owner.partner == "partner"
    assert record.owner.partner_id == siret(42)


async def test_get_batch_joins_the_values(connect_rest: ConnectRest) -> None:
    app, batch_sizes = directory_app()
    config = rest_config({"organisation": company_entity(lookups={"siret": GET_BATCH})})
    adapter = connect_rest(app, config)

    found = await adapter.lookup("organisation", "siret", [siret(n) for n in range(1, 61)])

    assert sorted(batch_sizes) == [10, 50]
    assert len(found) == 60
    assert all(s.param("sirets") for s in app.seen)


async def test_duplicate_values_are_asked_once(connect_rest: ConnectRest) -> None:
    app, batch_sizes = directory_app()
    config = rest_config({"organisation": company_entity(lookups={"siret": POST_BATCH})})
    adapter = connect_rest(app, config)

    found = await adapter.lookup("organisation", "siret", [siret(7), siret(7), siret(8)])

    assert batch_sizes == [2]
    assert len(found[siret(7)]) == 1


async def test_no_values_no_call(connect_rest: ConnectRest) -> None:
    app, _ = directory_app()
    config = rest_config({"organisation": company_entity(lookups={"siret": POST_BATCH})})
    adapter = connect_rest(app, config)

    assert await adapter.lookup("organisation", "siret", []) == {}
    assert app.seen == []


async def test_one_call_per_value_and_404_is_not_found(connect_rest: ConnectRest) -> None:
    app, _ = directory_app()
    lookup = {"path": "/etablissements/{value}", "items": "etablissement"}
    config = rest_config({"organisation": company_entity(lookups={"siret": lookup})})
    adapter = connect_rest(app, config)

    found = await adapter.lookup("organisation", "siret", [siret(1), siret(2), siret(999)])

    assert set(found) == {siret(1), siret(2)}
    assert sorted(s.path for s in app.seen) == [
        f"/etablissements/{siret(1)}",
        f"/etablissements/{siret(2)}",
        f"/etablissements/{siret(999)}",
    ]


async def test_lookup_by_query_parameter(connect_rest: ConnectRest) -> None:
    app, _ = directory_app()
    lookup = {"path": "/etablissements/search", "param": "q", "items": "etablissements"}
    config = rest_config({"organisation": company_entity(lookups={"siret": lookup})})
    adapter = connect_rest(app, config)

    found = await adapter.lookup("organisation", "siret", [siret(3)])

    assert list(found) == [siret(3)]
    assert app.seen[0].param("q") == siret(3)


async def test_lookup_by_id_keys_on_the_partner_id(connect_rest: ConnectRest) -> None:
    by_id = {o["id"]: o for o in OFFERS}

    async def one(request: Request) -> Response:
        found = by_id.get(request.path_params["id"])
        return JSONResponse(found) if found else Response(status_code=404)

    app = recorded([Route("/offres/{id}", one)])
    config = rest_config({"offer": offer_entity(lookups={"id": {"path": "/offres/{value}"}})})
    adapter = connect_rest(app, config)

    found = await adapter.lookup("offer", "id", ["OF003", "OF404"])

    assert list(found) == ["OF003"]
    assert found["OF003"][0].fields["title"] == "Offre 3"


async def test_lookup_by_id_without_an_id_endpoint_walks_the_list(
    connect_rest: ConnectRest,
) -> None:
    app, _ = range_app()
    config = rest_config({"offer": range_entity(page_size=5)}, max_concurrency=2)
    adapter = connect_rest(app, config)  # one page at a time after the first

    found = await adapter.lookup("offer", "id", ["OF001", "OF007", "OF999"])

    assert set(found) == {"OF001", "OF007"}
    assert adapter.http.calls == 5  # OF999 is nowhere: every page was read, no more

    app.seen.clear()
    found = await adapter.lookup("offer", "id", ["OF001", "OF007"])

    assert set(found) == {"OF001", "OF007"}
    assert [s.param("range") for s in app.seen] == ["0-4", "5-9"]  # stopped once both found


HOSTILE = [
    "../admin",
    "..%2F..%2Fadmin",
    "a%2Fb",
    "x?admin=1",
    "x#fragment",
    "x\r\nX-Injected: yes",
    "x\x00y",
    "sp ace/é",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_a_value_reaches_the_partner_as_one_escaped_segment(
    connect_rest: ConnectRest, value: str
) -> None:
    app = echo_app(answer={"id": "unused", "intitule": "x"})
    entity = offer_entity(lookups={"id": {"path": "/offres/{value}/detail"}})
    config = rest_config({"offer": entity})
    adapter = connect_rest(app, config)

    await adapter.lookup("offer", "id", [value])

    assert len(app.seen) == 1
    seen = app.seen[0]
    assert seen.raw_path == f"/offres/{quote(value, safe='')}/detail".encode()
    assert seen.raw_path.count(b"/") == 3  # offres, the value, detail: one segment each
    assert seen.path == f"/offres/{value}/detail"  # decoded, the partner gets the value intact
    assert seen.query == []
    assert "x-injected" not in seen.headers


@pytest.mark.parametrize("value", [".", ".."])
async def test_a_dot_segment_is_refused_before_any_call(
    connect_rest: ConnectRest, value: str
) -> None:
    app = echo_app(answer={"id": "unused"})
    config = rest_config({"offer": offer_entity(lookups={"id": {"path": "/offres/{value}"}})})
    adapter = connect_rest(app, config)

    assert await adapter.lookup("offer", "id", [value]) == {}
    assert app.seen == []


async def test_a_value_holding_the_join_separator_is_not_sent_in_a_get_batch(
    connect_rest: ConnectRest,
) -> None:
    app, batch_sizes = directory_app()
    config = rest_config({"organisation": company_entity(lookups={"siret": GET_BATCH})})
    adapter = connect_rest(app, config)

    found = await adapter.lookup("organisation", "siret", [siret(1), f"{siret(2)},{siret(3)}"])

    assert list(found) == [siret(1)]
    assert batch_sizes == [1]


async def test_a_batch_answer_of_the_wrong_shape_is_a_bad_response(
    connect_rest: ConnectRest,
) -> None:
    async def batch(request: Request) -> Response:
        return JSONResponse({"etablissements": {"not": "a list"}})

    app = recorded([Route("/etablissements/batch", batch, methods=["POST"])])
    config = rest_config({"organisation": company_entity(lookups={"siret": POST_BATCH})})
    adapter = connect_rest(app, config)

    with pytest.raises(SourceBadResponse):
        await adapter.lookup("organisation", "siret", [siret(1)])


async def test_an_unsupported_key_is_a_programming_error(connect_rest: ConnectRest) -> None:
    config = rest_config({"organisation": company_entity(lookups={"siret": POST_BATCH})})
    adapter = connect_rest(echo_app(), config)

    with pytest.raises(ValueError, match="uai"):
        await adapter.lookup("organisation", "uai", ["0731549M"])


@pytest.mark.parametrize(
    ("lookups", "message"),
    [
        ({"uai": {"path": "/x/{value}"}}, "does not read uai"),
        ({"siret": {"path": "/x"}}, "needs {value}"),
        ({"siret": {"path": "/x", "batch": {"path": "/b", "method": "GET"}}}, "needs `param`"),
        ({"nafCode": {"path": "/x/{value}"}}, "not a field"),
    ],
)
def test_lookup_blocks_the_adapter_cannot_use_are_refused(
    lookups: dict[str, Any], message: str
) -> None:
    """Refused by the partner block's own validation: check-config and serve share it."""
    with pytest.raises(ValidationError, match=message) as caught:
        rest_config({"organisation": company_entity(lookups=lookups)})

    [error] = caught.value.errors()
    assert error["loc"][:4] == ("entities", "organisation", "lookups", next(iter(lookups)))


async def test_a_programme_is_looked_up_by_its_rncp(connect_rest: ConnectRest) -> None:
    """The `rncp` key reads `certification.rncp`: not a field of its own name."""
    programmes = [
        {"ref": "F1", "libelle": "CAP Cuisine", "fiche": "RNCP37859"},
        {"ref": "F2", "libelle": "BTS SIO", "fiche": "RNCP35340"},
    ]

    async def search(request: Request) -> Response:
        wanted = request.query_params.get("rncp")
        return JSONResponse({"items": [p for p in programmes if p["fiche"] == wanted]})

    app = recorded([Route("/formations", search)])
    entity = {
        "id": "ref",
        "fields": {"title": "libelle", "certification.rncp": "fiche"},
        "lookups": {"rncp": {"path": "/formations", "param": "rncp", "items": "items"}},
    }
    adapter = connect_rest(app, rest_config({"training_program": entity}))

    found = await adapter.lookup("training_program", "rncp", ["RNCP35340", "RNCP00000"])

    assert list(found) == ["RNCP35340"]
    assert found["RNCP35340"][0].fields["title"] == "BTS SIO"
