"""The gateway's mutations with an owner of kind ``graphql`` (tests/adapters/graphql_owner.py):
nothing in the gateway knows the kind. A submit and a transition land at the owner through its
own mutations; an owner that commits and then stalls answers OUTCOME_UNKNOWN, and a retry with
the same idempotency key returns what was created, learnt by the client reference, without a
second mutation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.partners_file import parse_partners
from demo.identity_provider import DemoIdentityProvider
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.ids import global_id
from store.migrate import upgrade_url
from tests.adapters.graphql_owner import GraphqlOwner, partners_data
from tests.gateway.hubkit import Hub
from tests.gateway.personalkit import ask

SUBMIT = """mutation Submit($input: ApplicationInput!, $key: String!) {
  submitApplication(input: $input, idempotencyKey: $key) { id status candidate { id } } }"""
TRANSITION = """mutation Move($id: ID!, $to: ApplicationStatus!, $key: String!) {
  transitionApplication(id: $id, to: $to, idempotencyKey: $key) { id status } }"""
INPUT = {
    "candidateId": global_id("candidate", "cfa-gql", "D-1"),
    "trainingProgramId": global_id("training_program", "cfa-gql", "FORM-0003"),
    "channel": "portail",
}


@pytest.fixture
def provider(tmp_path: Path) -> DemoIdentityProvider:
    return DemoIdentityProvider(tmp_path / "idp")


@pytest.fixture
def owner() -> GraphqlOwner:
    return GraphqlOwner()


@pytest.fixture
def deadline_s() -> float | None:
    return None  # the block's own


@pytest.fixture
async def hub(
    provider: DemoIdentityProvider, owner: GraphqlOwner, deadline_s: float | None
) -> AsyncIterator[Hub]:
    settings = provider.settings()
    await asyncio.to_thread(upgrade_url, settings["database_url"])
    partners = parse_partners(partners_data(deadline_s))
    transports = {"cfa-gql": httpx.ASGITransport(app=owner.app())}
    app = create_app(Settings(development=True, **settings), partners, transports)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test", timeout=30
    )
    started = Hub(app, {}, {}, client)
    yield started
    await started.aclose()


async def test_a_submit_and_a_transition_land_at_a_graphql_owner(
    hub: Hub, provider: DemoIdentityProvider, owner: GraphqlOwner
) -> None:
    created = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=INPUT, key="k-gql-1")

    assert "errors" not in created, created
    application = created["data"]["submitApplication"]
    assert application["id"] == global_id("application", "cfa-gql", "CAND-0001")
    assert application["status"] == "SUBMITTED"
    assert application["candidate"]["id"] == INPUT["candidateId"]
    assert owner.applications["CAND-0001"].etat.value == "DEPOSEE"
    assert all(seen.principal for seen in owner.mutations)  # the signed principal went along

    moved = await ask(
        hub,
        provider,
        "TRAINING_CENTRE",
        TRANSITION,
        id=application["id"],
        to="UNDER_REVIEW",
        key="k-gql-2",
    )

    assert "errors" not in moved, moved
    assert moved["data"]["transitionApplication"]["status"] == "UNDER_REVIEW"
    assert owner.applications["CAND-0001"].etat.value == "EN_ETUDE"
    assert len(owner.mutations) == 2


@pytest.mark.parametrize("deadline_s", [1.0])  # the owner stalls: the write must give up
async def test_an_unknown_outcome_is_reconciled_by_a_retry_with_the_same_key(
    hub: Hub, provider: DemoIdentityProvider, owner: GraphqlOwner
) -> None:
    owner.stall_after_commit_s = 60

    first = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=INPUT, key="k-gql-3")

    assert first["errors"][0]["extensions"]["code"] == "OUTCOME_UNKNOWN", first
    assert list(owner.applications) == ["CAND-0001"]  # it had committed

    again = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=INPUT, key="k-gql-3")

    assert "errors" not in again, again
    assert again["data"]["submitApplication"]["id"] == global_id(
        "application", "cfa-gql", "CAND-0001"
    )
    assert len(owner.mutations) == 1  # learnt by its reference, never sent again
    assert list(owner.applications) == ["CAND-0001"]


async def test_an_input_the_owner_refuses_is_bad_user_input_and_applies_nothing(
    hub: Hub, provider: DemoIdentityProvider, owner: GraphqlOwner
) -> None:
    unknown = {**INPUT, "trainingProgramId": global_id("training_program", "cfa-gql", "FORM-9")}

    answer = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=unknown, key="k-gql-4")

    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", answer
    assert "refused" in answer["errors"][0]["message"]
    assert len(owner.mutations) == 1  # the owner's own refusal, not the hub's
    assert owner.applications == {}
