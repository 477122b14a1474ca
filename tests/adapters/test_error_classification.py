"""Which partner answers are the partner's failures, and which refuse the question.

A 4xx about what was asked (400, 409, 410, 413, 414, 422) is ``SourceRejected``: the client's
problem, ``partner_fault`` false, so no breaker counts it. 5xx, refused credentials, a moved
endpoint or a method the partner does not take stay the partner's (or its configuration's).
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.errors import SourceBadResponse, SourceError, SourceRejected, SourceUnavailable
from adapters.types import ListQuery
from tests.adapters.conftest import ConnectRest
from tests.adapters.rest_partners import OFFERS, ids, offer_entity, rest_config


def partner(list_status: int) -> Starlette:
    """Lists answer ``list_status``; a look-up refuses ids starting with ``bad`` with 400."""

    async def search(request: Request) -> Response:
        return JSONResponse({"message": "refusé"}, status_code=list_status)

    async def one(request: Request) -> Response:
        value = request.path_params["value"]
        if value.startswith("bad"):
            return JSONResponse({"message": f"identifiant invalide : {value}"}, status_code=400)
        found = [o for o in OFFERS if o["id"] == value]
        return JSONResponse(found[0]) if found else Response(status_code=404)

    return Starlette(
        routes=[
            Route("/offres", search, methods=["GET"]),
            Route("/offres/{value}", one, methods=["GET"]),
        ]
    )


ENTITY = offer_entity(list={"path": "/offres"}, lookups={"id": {"path": "/offres/{value}"}})


@pytest.mark.parametrize(
    ("status", "kind", "partner_fault"),
    [
        (400, SourceRejected, False),
        (409, SourceRejected, False),
        (414, SourceRejected, False),
        (422, SourceRejected, False),
        (404, SourceBadResponse, True),  # the endpoint moved
        (405, SourceBadResponse, True),  # the configuration and the partner disagree
        (401, SourceUnavailable, True),
        (500, SourceUnavailable, True),
        (503, SourceUnavailable, True),
    ],
)
async def test_statuses_are_classified(
    connect_rest: ConnectRest, status: int, kind: type[SourceError], partner_fault: bool
) -> None:
    config = rest_config({"offer": ENTITY}, retry={"enabled": False})
    adapter = connect_rest(partner(status), config)
    with pytest.raises(SourceError) as raised:
        await adapter.list(ListQuery("offer", {}, 10))
    assert type(raised.value) is kind
    assert raised.value.partner_fault is partner_fault
    assert "refusé" not in str(raised.value)  # the partner's body never reaches a message


async def test_a_refused_key_is_missing_and_the_others_are_found(connect_rest: ConnectRest) -> None:
    adapter = connect_rest(partner(200), rest_config({"offer": ENTITY}))
    found = await adapter.lookup("offer", "id", ["bad-1", "OF003", "bad-2", "OF404", "OF007"])
    assert sorted(found) == ["OF003", "OF007"]
    assert ids(found["OF003"]) == ["OF003"]
