"""Mutations of the personal half (TEST-PLAN "Mutations"), against the demo ERPs and the
demo's credentials: routed to the owner, applied once per idempotency key, the lifecycle
enforced, another client's key its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from demo import people
from demo.identity_provider import DemoIdentityProvider
from resolvers.ids import global_id
from store.migrate import upgrade_url
from tests.gateway.hubkit import Hub
from tests.gateway.personalkit import ask, personal_hub

SUBMIT = """mutation Submit($input: ApplicationInput!, $key: String!) {
  submitApplication(input: $input, idempotencyKey: $key) { id status candidate { id } } }"""
TRANSITION = """mutation Move($id: ID!, $to: ApplicationStatus!, $key: String!) {
  transitionApplication(id: $id, to: $to, idempotencyKey: $key) {
    id status history { status } } }"""
FOLLOW_UP = """mutation Note($input: FollowUpInput!, $key: String!) {
  recordFollowUp(input: $input, idempotencyKey: $key) { id kind visibility summary } }"""


@pytest.fixture
def provider(tmp_path: Path) -> DemoIdentityProvider:
    return DemoIdentityProvider(tmp_path / "idp")


@pytest.fixture
async def hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: DemoIdentityProvider
) -> AsyncIterator[Hub]:
    started = await personal_hub(
        monkeypatch, tmp_path, provider, max_in_flight=64, admission_queue=64
    )
    yield started
    await started.aclose()


def candidate() -> str:
    return global_id("candidate", people.WALKTHROUGH_ERP, str(people.WALKTHROUGH_CANDIDATE_ID))


def submission() -> dict[str, Any]:
    return {
        "candidateId": candidate(),
        "trainingProgramId": global_id(
            "training_program", "cfa-btp", people.WALKTHROUGH_PROGRAM_ID
        ),
        "session": "2027-09-06",
        "channel": "portail",
    }


async def test_the_same_submission_twice_is_applied_once(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    first = await ask(hub, provider, "CANDIDATE", SUBMIT, input=submission(), key="k-twice")
    second = await ask(hub, provider, "CANDIDATE", SUBMIT, input=submission(), key="k-twice")

    assert "errors" not in first, first
    assert first["data"] == second["data"]
    assert first["data"]["submitApplication"]["status"] == "SUBMITTED"
    assert first["data"]["submitApplication"]["candidate"]["id"] == candidate()
    mine = await ask(
        hub, provider, "CANDIDATE", "{ applications(first: 100) { edges { node { id } } } }"
    )
    ids = [e["node"]["id"] for e in mine["data"]["applications"]["edges"]]
    assert ids.count(first["data"]["submitApplication"]["id"]) == 1


async def test_50_concurrent_calls_with_one_key_make_one_write(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answers = await asyncio.gather(
        *(
            ask(hub, provider, "CANDIDATE", SUBMIT, input=submission(), key="k-50")
            for _ in range(50)
        )
    )
    ids = {a["data"]["submitApplication"]["id"] for a in answers if a.get("data")}

    assert len(ids) == 1, [a.get("errors") for a in answers if a.get("errors")][:3]
    mine = await ask(
        hub, provider, "CANDIDATE", "{ applications(first: 100) { edges { node { id } } } }"
    )
    assert [e["node"]["id"] for e in mine["data"]["applications"]["edges"]].count(ids.pop()) == 1


async def test_the_same_key_with_another_payload_is_an_error_and_applies_nothing(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    await ask(hub, provider, "CANDIDATE", SUBMIT, input=submission(), key="k-other")
    other = {**submission(), "channel": "salon"}
    answer = await ask(hub, provider, "CANDIDATE", SUBMIT, input=other, key="k-other")

    assert answer["data"] is None or answer["data"]["submitApplication"] is None
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_another_client_s_same_key_is_its_own(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    mine = await ask(hub, provider, "CANDIDATE", SUBMIT, input=submission(), key="k-shared")
    theirs = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=submission(), key="k-shared")

    assert "errors" not in theirs, theirs
    assert theirs["data"]["submitApplication"]["id"] != mine["data"]["submitApplication"]["id"]


async def test_a_transition_outside_the_lifecycle_is_refused_and_changes_nothing(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    created = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=submission(), key="k-life")
    app_id = created["data"]["submitApplication"]["id"]
    refused = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=app_id, to="PLACED", key="t1"
    )
    moved = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=app_id, to="UNDER_REVIEW", key="t2"
    )
    after = await ask(
        hub,
        provider,
        "TRAINING_CENTRE",
        "query($id: ID!) { node(id: $id) { ... on Application { status } } }",
        id=app_id,
    )

    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert moved["data"]["transitionApplication"]["status"] == "UNDER_REVIEW"
    assert [h["status"] for h in moved["data"]["transitionApplication"]["history"]][-2:] == [
        "SUBMITTED",
        "UNDER_REVIEW",
    ]
    assert after["data"]["node"]["status"] == "UNDER_REVIEW"


async def test_a_transition_retried_with_its_key_gives_the_first_result(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    """The retry finds the application already moved: it must get the first answer, not
    "cannot move to where it is", and no second history row."""
    created = await ask(hub, provider, "TRAINING_CENTRE", SUBMIT, input=submission(), key="k-re")
    app_id = created["data"]["submitApplication"]["id"]
    first = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=app_id, to="UNDER_REVIEW", key="t-re"
    )
    again = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=app_id, to="UNDER_REVIEW", key="t-re"
    )

    assert "errors" not in again, again["errors"]
    assert again["data"] == first["data"]
    history = [h["status"] for h in again["data"]["transitionApplication"]["history"]]
    assert history.count("UNDER_REVIEW") == 1


async def test_other_roles_and_other_centres_cannot_write(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    for role in ("OPCO", "OBSERVATORY", "TRAINING_CENTRE_OTHER"):
        answer = await ask(hub, provider, role, SUBMIT, input=submission(), key=f"k-{role}")
        assert answer.get("data") is None or answer["data"]["submitApplication"] is None
        assert answer["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "BAD_USER_INPUT"), role


async def test_a_centre_records_a_follow_up_its_candidate_sees_if_shared(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    note = {
        "candidateId": candidate(),
        "kind": "COMPANY_VISIT",
        "date": "2026-12-01",
        "summary": "Visite en entreprise : bonne intégration.",
        "visibility": "CONTRACT_PARTIES",
    }
    recorded = await ask(hub, provider, "TRAINING_CENTRE", FOLLOW_UP, input=note, key="f1")
    again = await ask(hub, provider, "TRAINING_CENTRE", FOLLOW_UP, input=note, key="f1")

    assert "errors" not in recorded, recorded
    assert recorded["data"] == again["data"]
    assert recorded["data"]["recordFollowUp"]["kind"] == "COMPANY_VISIT"


async def test_without_the_idempotency_store_mutations_fail_closed_and_reads_go_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: DemoIdentityProvider
) -> None:
    """The gateway database (idempotency records) does not answer (a port nobody listens on);
    the audit trail has a database of its own that works: a mutation is refused before any
    write, a read answers."""
    audit_db = f"sqlite+aiosqlite:///{tmp_path}/audit.sqlite3"
    await asyncio.to_thread(upgrade_url, audit_db)
    broken = await personal_hub(
        monkeypatch,
        tmp_path,
        provider,
        migrate=False,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nothing",  # nobody listens
        audit_database_url=audit_db,
    )
    try:
        refused = await ask(broken, provider, "CANDIDATE", SUBMIT, input=submission(), key="k")
        read = await ask(
            broken, provider, "CANDIDATE", "{ applications(first: 5) { edges { node { id } } } }"
        )
    finally:
        await broken.aclose()

    assert refused["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_UNAVAILABLE"
    assert read["data"]["applications"]["edges"], read
