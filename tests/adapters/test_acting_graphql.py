"""A GraphQL partner that declares `principal` gets the signed assertion on its personal calls
(and only those), and answers refused for lack of a principal never leave the hub."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters import acting
from adapters.errors import PrincipalRefused, PrincipalRequired, SourceUnavailable
from adapters.graphql import GraphqlAdapter, GraphqlPartner
from adapters.partners_file import parse_partners
from adapters.types import ListQuery
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role

BLOCK = """
version = 1
[partners.opco-gql]
kind = "graphql"
base_url = "http://opco.test"
retry = { enabled = false }
PRINCIPAL

[partners.opco-gql.entities.contract]
id = "numero"
fields.decaNumber = "numero"
fields."trainingCentre.uai" = "uai"

[partners.opco-gql.entities.contract.list]
items = "contrats"
query = "query Contrats { contrats { numero uai } }"

[partners.opco-gql.entities.organisation]
id = "siret"
fields.siret = "siret"

[partners.opco-gql.entities.organisation.list]
items = "entreprises"
query = "query Entreprises { entreprises { siret } }"
"""
CENTRE = Principal(Role.TRAINING_CENTRE, "0732727T", "staff-1")


def partner_app(signer: AssertionSigner) -> tuple[Starlette, list[dict[str, Any] | None]]:
    """Answers contracts to a valid assertion only (401 otherwise); companies to anyone."""
    seen: list[dict[str, Any] | None] = []
    keys = jwt.PyJWKSet.from_dict(signer.jwks())

    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        token = request.headers.get("x-hub-principal")
        claims = None
        if token is not None:
            try:
                claims = jwt.decode(
                    token, keys.keys[0], algorithms=["ES256"], audience="opco-gql", leeway=5
                )
            except jwt.PyJWTError:
                claims = {"refused": True}
        seen.append(claims)
        if "entreprises" in body["query"]:
            return JSONResponse({"data": {"entreprises": [{"siret": "46235976100717"}]}})
        if claims is None or "refused" in claims:
            return JSONResponse({"errors": [{"message": "unauthorised"}]}, status_code=401)
        return JSONResponse({"data": {"contrats": [{"numero": "C-1", "uai": claims["org"]}]}})

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])]), seen


def adapter_for(app: Starlette, principal_line: str) -> GraphqlAdapter:
    text = BLOCK.replace("PRINCIPAL", principal_line)
    config = parse_partners(tomllib.loads(text)).partners["opco-gql"]
    assert isinstance(config, GraphqlPartner)
    return GraphqlAdapter("opco-gql", config, httpx.ASGITransport(app=app))


@pytest.fixture
def signer(tmp_path: Path) -> AssertionSigner:
    write_new_key(tmp_path / "key.pem")
    return AssertionSigner.from_pem_file(tmp_path / "key.pem")


async def test_personal_calls_carry_the_assertion_and_public_ones_do_not(
    signer: AssertionSigner,
) -> None:
    app, seen = partner_app(signer)
    adapter = adapter_for(app, 'principal = { header = "X-Hub-Principal" }')
    try:
        with acting.scoped(CENTRE, signer):
            page = await adapter.list(ListQuery("contract", {}, 10))
            companies = await adapter.list(ListQuery("organisation", {}, 10))
    finally:
        await adapter.aclose()
    assert [r.fields["trainingCentre"]["uai"] for r in page.records] == ["0732727T"]
    assert len(companies.records) == 1
    assert seen[0] is not None and (seen[0]["role"], seen[0]["sub"]) == (
        "TRAINING_CENTRE",
        "staff-1",
    )
    assert seen[1] is None  # public data: no assertion sent


async def test_no_principal_no_request_and_a_refused_one_is_the_hubs_problem(
    signer: AssertionSigner, tmp_path: Path
) -> None:
    app, seen = partner_app(signer)
    adapter = adapter_for(app, 'principal = { header = "X-Hub-Principal" }')
    write_new_key(tmp_path / "forged.pem")
    forged = AssertionSigner.from_pem_file(tmp_path / "forged.pem")
    try:
        with pytest.raises(PrincipalRequired) as refused:
            await adapter.list(ListQuery("contract", {}, 10))
        assert refused.value.code == "PRINCIPAL_REQUIRED" and not refused.value.partner_fault
        with acting.scoped(CENTRE, None), pytest.raises(PrincipalRequired):
            await adapter.list(ListQuery("contract", {}, 10))  # no key to vouch with
        assert seen == []
        with acting.scoped(CENTRE, forged), pytest.raises(PrincipalRefused) as bad:
            await adapter.list(ListQuery("contract", {}, 10))
        assert not bad.value.partner_fault and "eyJ" not in str(bad.value)
    finally:
        await adapter.aclose()
    assert seen == [{"refused": True}]


async def test_without_the_setting_no_assertion_goes_out(signer: AssertionSigner) -> None:
    app, seen = partner_app(signer)
    adapter = adapter_for(app, "")
    try:
        with acting.scoped(CENTRE, signer), pytest.raises(SourceUnavailable) as refused:
            await adapter.list(ListQuery("contract", {}, 10))
    finally:
        await adapter.aclose()
    assert seen == [None]  # the partner got no assertion: it refused, as an ordinary 401
    assert refused.value.partner_fault
