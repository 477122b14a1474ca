"""``sources.counting.count`` with an owner of kind ``graphql`` that declares its aggregate query
(issue 9, item 2): it counts itself (``PUSHED``), its cells are those of the applications it
holds; an owner refusing the principal is a partial answer, never an exception.

The owner is the test GraphQL owner (tests/adapters/graphql_owner.py) over
``httpx.ASGITransport``, checking the hub's signed principal.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import httpx

from adapters import acting
from adapters.counting import CountQuery
from adapters.partners_file import parse_partners
from demo.record_keys import secret
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from sources.cache import HubCache
from sources.counting import CountMethod, CountResult, count
from sources.registry import SourceRegistry
from tests.adapters.graphql_owner import GraphqlOwner, partners_data

OBSERVATORY = Principal(Role.OBSERVATORY, "", "observatory-analyst-01")
STATUSES = {"DEPOSEE": "SUBMITTED", "EN_ETUDE": "UNDER_REVIEW", "ENTRETIEN": "INTERVIEW"}
STATUSES["RETIREE"] = "WITHDRAWN"


def _signer() -> AssertionSigner:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "key.pem"
        write_new_key(path)
        return AssertionSigner.from_pem_file(path)


def registry_of(owner: GraphqlOwner) -> SourceRegistry:
    partners = parse_partners(partners_data())
    transports = {"cfa-gql": httpx.ASGITransport(app=owner.app())}
    return SourceRegistry.from_partners(partners, HubCache(), transports)


async def count_with(registry: SourceRegistry, signer: AssertionSigner) -> CountResult:
    with acting.scoped(OBSERVATORY, signer):
        return await count(
            registry, CountQuery("application", ("status", "month")), key_secret=secret()
        )


async def counted(owner: GraphqlOwner, signer: AssertionSigner) -> CountResult:
    registry = registry_of(owner)
    try:
        return await count_with(registry, signer)
    finally:
        await registry.aclose()


async def test_a_graphql_owner_with_aggregates_counts_itself() -> None:
    signer = _signer()
    owner = GraphqlOwner(assertion_jwks=signer.jwks())
    owner.seed(50)
    result = await counted(owner, signer)
    assert result.errors == ()
    assert result.methods == {"cfa-gql": CountMethod.PUSHED}
    expected = Counter(
        (STATUSES[held.etat.value], held.creee_le[:7]) for held in owner.applications.values()
    )
    assert {key: cell.count for key, cell in result.cells.items()} == expected
    (asked,) = owner.requests  # one aggregate query, no list
    assert "statistiquesCandidatures" in asked.query


async def test_an_owner_refusing_the_principal_is_a_partial_answer() -> None:
    """The owner trusts another key than the hub's: it refuses the statistics with a GraphQL
    ``FORBIDDEN`` error, which means what HTTP 403 to a signed principal does."""
    owner = GraphqlOwner(assertion_jwks=_signer().jwks())
    owner.seed(10)
    result = await counted(owner, _signer())
    assert result.cells == {}
    assert [(e.partner, e.code) for e in result.errors] == [("cfa-gql", "PRINCIPAL_REFUSED")]
    assert len(owner.requests) == 1  # not retried: the same assertion is refused the same way


async def test_refusals_of_the_principal_in_band_never_open_the_owners_breaker() -> None:
    """A principal an owner does not serve is the hub's credential problem, not the owner's
    health: refused again and again, the breaker stays closed and the owner is still asked
    (an open breaker would refuse everyone else too)."""
    owner = GraphqlOwner(assertion_jwks=_signer().jwks())
    owner.seed(10)
    registry, refused = registry_of(owner), _signer()
    try:
        for asked in range(1, 9):
            result = await count_with(registry, refused)
            assert [e.code for e in result.errors] == ["PRINCIPAL_REFUSED"]
            assert len(owner.requests) == asked
        assert registry.source("cfa-gql").breaker.state == "closed"
    finally:
        await registry.aclose()
