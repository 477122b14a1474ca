"""Writes to Hub3E, the REST owner of placements, through the gateway's mutations: a move of a
placement in Hub3E's own codes, a status Hub3E has no code for refused before anything is sent,
and a move Hub3E commits and then answers too late (OUTCOME_UNKNOWN), settled on the retry by
the placement's state at Hub3E, never by sending the write again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from demo.identity_provider import DemoIdentityProvider
from resolvers.ids import decode_global_id
from tests.gateway.hubkit import Hub
from tests.gateway.personalkit import ask, personal_hub

TRANSITION = """mutation Move($id: ID!, $to: ApplicationStatus!, $key: String!) {
  transitionApplication(id: $id, to: $to, idempotencyKey: $key) {
    id status history { status } } }"""
MINE = """query($statuses: [ApplicationStatus!]) {
  applications(filter: {statuses: $statuses}, first: 100) { edges { node { id status } } } }"""


@pytest.fixture
def provider(tmp_path: Path) -> DemoIdentityProvider:
    return DemoIdentityProvider(tmp_path / "idp")


@pytest.fixture
async def hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: DemoIdentityProvider
) -> AsyncIterator[Hub]:
    started = await personal_hub(monkeypatch, tmp_path, provider)
    yield started
    await started.aclose()


async def hub3e_placement(hub: Hub, provider: DemoIdentityProvider, status: str) -> str:
    """The hub id of one of the centre's Hub3E placements at ``status``."""
    answer = await ask(hub, provider, "TRAINING_CENTRE", MINE, statuses=[status])
    assert "errors" not in answer, answer["errors"]
    ids = [
        e["node"]["id"]
        for e in answer["data"]["applications"]["edges"]
        if decode_global_id(e["node"]["id"]).partner == "hub3e"
    ]
    assert ids, f"the demo's centre has a Hub3E placement at {status}"
    return ids[0]


def placement(hub: Hub, hub_id: str) -> Any:
    return hub.partner_apps["hub3e"].state.people.placements[decode_global_id(hub_id).partner_id]


def calls(hub: Hub, route: str) -> int:
    return int(hub.partner_apps["hub3e"].state.calls[route])


async def test_a_centre_moves_a_hub3e_placement_in_hub3e_s_codes(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    target = await hub3e_placement(hub, provider, "PROPOSED_TO_EMPLOYER")

    moved = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=target, to="INTERVIEW", key="m1"
    )

    assert "errors" not in moved, moved["errors"]
    assert moved["data"]["transitionApplication"]["status"] == "INTERVIEW"
    assert [s["status"] for s in moved["data"]["transitionApplication"]["history"]][-2:] == [
        "PROPOSED_TO_EMPLOYER",
        "INTERVIEW",
    ]
    assert placement(hub, target).history[-1].status == "MEETING"  # Hub3E's own code


async def test_a_status_hub3e_has_no_code_for_is_refused_and_nothing_is_sent(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    target = await hub3e_placement(hub, provider, "PROPOSED_TO_EMPLOYER")
    before, steps = calls(hub, "etape_placement"), len(placement(hub, target).history)

    # An edge of the lifecycle, but Hub3E's LOST would read back as REJECTED_BY_EMPLOYER.
    refused = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=target, to="WITHDRAWN", key="m2"
    )

    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert calls(hub, "etape_placement") == before
    assert len(placement(hub, target).history) == steps


async def test_a_write_committed_then_answered_too_late_is_reconciled_not_sent_again(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    target = await hub3e_placement(hub, provider, "PROPOSED_TO_EMPLOYER")
    before = calls(hub, "etape_placement")
    # Hub3E applies the move, then answers after the hub has given up on it (4.5 s in tests).
    hub.faults["hub3e"].set("slow_answer", delay_s=30, only_methods=("PATCH",))

    first = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=target, to="INTERVIEW", key="late"
    )

    assert first["errors"][0]["extensions"]["code"] == "OUTCOME_UNKNOWN"
    assert placement(hub, target).history[-1].status == "MEETING"  # it did commit
    hub.faults["hub3e"].set("ok")

    retried = await ask(
        hub, provider, "TRAINING_CENTRE", TRANSITION, id=target, to="INTERVIEW", key="late"
    )

    assert "errors" not in retried, retried["errors"]
    assert retried["data"]["transitionApplication"]["status"] == "INTERVIEW"
    assert calls(hub, "etape_placement") == before + 1  # sent once: the retry saw it landed
    assert [s.status for s in placement(hub, target).history].count("MEETING") == 1
