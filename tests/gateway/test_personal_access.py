"""The personal half through the policy (issue 8, "Identity and access" / "Personal data"),
against the demo's two centre ERPs (SQLite, and PostgreSQL when it answers) and the demo's own
identity provider: each role sees its own records and nothing else, a forbidden record answers
exactly like a missing one, anonymous requests and roles without personal rows call no partner
holding personal data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo import people
from demo.identity_provider import DemoIdentityProvider
from resolvers.ids import decode_global_id, global_id
from tests.gateway.hubkit import Hub
from tests.gateway.metrics_text import samples
from tests.gateway.personalkit import ask, personal_hub

ERPS = ("cfa-btp", "cfa-hotellerie")

APPLICATIONS = """query($first: Int) { applications(first: $first) {
  totalCount edges { node { id status history { status at } employer { siret }
    candidate { id lastName birthDate } provenance { partner } } } } }"""
CANDIDATE = """query($id: ID!) { candidate(id: $id) { id lastName birthDate
  applications { edges { node { status } } } followUps { edges { node { kind visibility } } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Candidate { lastName } } }"""


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


def walkthrough_candidate() -> str:
    return global_id("candidate", people.WALKTHROUGH_ERP, str(people.WALKTHROUGH_CANDIDATE_ID))


def other_centre_candidate() -> str:
    return global_id("candidate", people.OTHER_CENTRE_ERP, str(people.OTHER_CENTRE_CANDIDATE_ID))


async def test_a_centre_lists_its_own_applications_only(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(hub, provider, "TRAINING_CENTRE", APPLICATIONS, first=50)

    assert "errors" not in answer, answer.get("errors")
    edges = answer["data"]["applications"]["edges"]
    assert len(edges) == 50
    # Its own ERP's, and Hub3E's placements of its candidates; never the other centre's ERP.
    assert {p["partner"] for e in edges for p in e["node"]["provenance"]} <= {"cfa-btp", "hub3e"}
    for edge in edges:
        history = [step["at"] for step in edge["node"]["history"]]
        assert history == sorted(history)  # oldest first, whatever order the ERP gave
        assert edge["node"]["candidate"]["birthDate"] is not None  # the centre holds the file


async def test_a_centre_s_list_never_asks_the_other_centre_s_erp(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    """Every record of an ERP is its centre's (a constant of its mapping): the row rule rules
    the other ERP out before any call."""
    before = await _erp_calls(hub, ("cfa-hotellerie",))
    answer = await ask(hub, provider, "TRAINING_CENTRE", APPLICATIONS, first=20)

    assert answer["data"]["applications"]["edges"]
    assert await _erp_calls(hub, ("cfa-hotellerie",)) == before


async def test_the_other_centre_cannot_tell_whether_a_candidate_exists(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    """Centre B asking for centre A's candidate by id, by node, nested and aliased gets what
    it gets for an id that does not exist."""
    foreign, unknown = walkthrough_candidate(), global_id("candidate", "cfa-btp", "999999")
    for query in (CANDIDATE, NODE):
        seen = await ask(hub, provider, "TRAINING_CENTRE_OTHER", query, id=foreign)
        missing = await ask(hub, provider, "TRAINING_CENTRE_OTHER", query, id=unknown)
        assert seen == missing
        assert next(iter(seen["data"].values())) is None
    aliased = f"""{{ a: candidate(id: "{foreign}") {{ id }} b: node(id: "{foreign}") {{ id }}
      c: applications(first: 100) {{ edges {{ node {{ candidate {{ id }} }} }} }} }}"""
    answer = await ask(hub, provider, "TRAINING_CENTRE_OTHER", aliased)
    assert answer["data"]["a"] is None and answer["data"]["b"] is None
    reached = {e["node"]["candidate"]["id"] for e in answer["data"]["c"]["edges"]}
    assert foreign not in reached


async def test_the_owner_centre_sees_the_candidate_and_their_follow_up(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(hub, provider, "TRAINING_CENTRE", CANDIDATE, id=walkthrough_candidate())

    candidate = answer["data"]["candidate"]
    assert candidate["id"] == walkthrough_candidate() and candidate["lastName"]
    statuses = {e["node"]["status"] for e in candidate["applications"]["edges"]}
    assert {"PLACED", "WITHDRAWN"} <= statuses
    visibilities = {e["node"]["visibility"] for e in candidate["followUps"]["edges"]}
    assert visibilities == {"TRAINING_CENTRE_ONLY", "CONTRACT_PARTIES"}


async def test_a_candidate_sees_their_own_file_and_only_shared_follow_up(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    own = await ask(hub, provider, "CANDIDATE", CANDIDATE, id=walkthrough_candidate())
    other = await ask(hub, provider, "CANDIDATE", CANDIDATE, id=other_centre_candidate())
    listed = await ask(hub, provider, "CANDIDATE", APPLICATIONS, first=100)

    assert own["data"]["candidate"]["id"] == walkthrough_candidate()
    follow_ups = own["data"]["candidate"]["followUps"]["edges"]
    assert follow_ups and {e["node"]["visibility"] for e in follow_ups} == {"CONTRACT_PARTIES"}
    assert other["data"]["candidate"] is None
    candidates = {e["node"]["candidate"]["id"] for e in listed["data"]["applications"]["edges"]}
    assert candidates == {walkthrough_candidate()}


async def test_an_employer_sees_the_applications_addressed_to_it_without_birth_dates(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(hub, provider, "EMPLOYER", APPLICATIONS, first=100)
    direct = await ask(hub, provider, "EMPLOYER", CANDIDATE, id=walkthrough_candidate())

    edges = answer["data"]["applications"]["edges"]
    assert edges, "the walkthrough employer has applications at both centres"
    assert {e["node"]["employer"]["siret"] for e in edges} == {people.WALKTHROUGH_EMPLOYER_SIRET}
    assert {p["partner"] for e in edges for p in e["node"]["provenance"]} >= set(ERPS)
    assert all(e["node"]["candidate"]["lastName"] for e in edges)
    assert all(e["node"]["candidate"]["birthDate"] is None for e in edges)
    assert direct["data"]["candidate"] is None  # a candidate only through an application


@pytest.mark.parametrize("role", [None, "OBSERVATORY", "ADMIN", "OPCO"])
async def test_roles_without_personal_rows_call_no_partner_holding_them(
    hub: Hub, provider: DemoIdentityProvider, role: str | None
) -> None:
    calls_before = await _erp_calls(hub)
    applications = await ask(hub, provider, role, APPLICATIONS, first=20)
    candidate = await ask(hub, provider, role, CANDIDATE, id=walkthrough_candidate())

    assert applications["data"]["applications"] == {"totalCount": 0, "edges": []}
    assert candidate["data"]["candidate"] is None
    assert await _erp_calls(hub) == calls_before


async def test_users_with_different_rights_asking_the_same_query_at_once_see_their_own(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    roles = ["TRAINING_CENTRE", "TRAINING_CENTRE_OTHER", "EMPLOYER", "CANDIDATE", None] * 2
    answers = await asyncio.gather(
        *(ask(hub, provider, role, APPLICATIONS, first=30) for role in roles)
    )
    seen: dict[str | None, set[str]] = {}
    for role, answer in zip(roles, answers, strict=True):
        ids = {e["node"]["id"] for e in answer["data"]["applications"]["edges"]}
        assert seen.setdefault(role, ids) == ids  # the same role, the same answer
    assert seen[None] == set()
    assert seen["TRAINING_CENTRE"].isdisjoint(seen["TRAINING_CENTRE_OTHER"])
    owners = {decode_global_id(i).partner for i in seen["CANDIDATE"]}
    assert seen["CANDIDATE"] and owners == {people.WALKTHROUGH_ERP}


async def _erp_calls(hub: Hub, erps: tuple[str, ...] = ERPS) -> float:
    """Calls made to the ERPs so far, whatever their outcome (the gateway's metrics)."""
    scrape = samples((await hub.client.get("/metrics")).text)
    return sum(
        count
        for (name, labels), count in scrape.items()
        if name == "hub_partner_calls_total" and dict(labels).get("partner") in erps
    )


DOSSIER = """query($id: ID!) { dossier(candidate: $id) {
  candidate { id lastName provenance { partner } }
  applications { id status } contracts { decaNumber } followUps { kind visibility }
  timeline { at event ref } } }"""


async def test_the_holder_centre_opens_the_dossier_others_get_null(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(hub, provider, "TRAINING_CENTRE", DOSSIER, id=walkthrough_candidate())
    dossier = answer["data"]["dossier"]

    assert dossier["candidate"]["id"] == walkthrough_candidate()
    assert {a["status"] for a in dossier["applications"]} >= {"PLACED", "WITHDRAWN"}
    assert {f["visibility"] for f in dossier["followUps"]} == {
        "TRAINING_CENTRE_ONLY",
        "CONTRACT_PARTIES",
    }
    moments = [entry["at"] for entry in dossier["timeline"]]
    assert moments == sorted(moments) and len(moments) >= len(dossier["followUps"])
    assert {"APPLICATION_PLACED", "FOLLOW_UP_COMPANY_VISIT"} <= {
        entry["event"] for entry in dossier["timeline"]
    }
    for role in ("TRAINING_CENTRE_OTHER", "EMPLOYER", "OPCO", None):
        other = await ask(hub, provider, role, DOSSIER, id=walkthrough_candidate())
        assert other["data"]["dossier"] is None, role


AUDIT = """query($first: Int) { auditEvents(first: $first) { events {
  at role organisation operation action entity recordRefs outcome } } }"""


async def test_every_personal_read_leaves_one_audit_event_without_values(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    before = await ask(hub, provider, "ADMIN", AUDIT, first=100)
    assert "errors" not in before, before
    seen_before = len(before["data"]["auditEvents"]["events"])
    read = await ask(
        hub,
        provider,
        "TRAINING_CENTRE",
        "query ReadOne($id: ID!) { candidate(id: $id) { lastName email } }",
        id=walkthrough_candidate(),
    )
    denied = await ask(
        hub,
        provider,
        "TRAINING_CENTRE_OTHER",
        "query Peek($id: ID!) { candidate(id: $id) { lastName } }",
        id=walkthrough_candidate(),
    )
    after = await ask(hub, provider, "ADMIN", AUDIT, first=100)

    events = after["data"]["auditEvents"]["events"][: -seen_before or None]
    assert [(e["operation"], e["outcome"]) for e in events] == [
        ("Peek", "DENIED_AS_MISSING"),
        ("ReadOne", "OK"),
    ]
    assert events[1]["organisation"] == people.BTP_UAI and events[1]["entity"] == "candidate"
    assert events[0]["recordRefs"] == events[1]["recordRefs"]  # the same record, pseudonymised
    text = str(events)
    name = read["data"]["candidate"]["lastName"]
    assert name not in text and read["data"]["candidate"]["email"] not in text
    assert denied["data"]["candidate"] is None
    assert str(people.WALKTHROUGH_CANDIDATE_ID) not in events[1]["recordRefs"]


async def test_the_audit_trail_is_for_admin_and_a_candidate_sees_who_read_their_file(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    for role in ("TRAINING_CENTRE", "CANDIDATE", None):
        refused = await ask(hub, provider, role, AUDIT, first=5)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await ask(
        hub,
        provider,
        "TRAINING_CENTRE",
        "query CentreReads($id: ID!) { candidate(id: $id) { lastName } }",
        id=walkthrough_candidate(),
    )
    log = await ask(
        hub,
        provider,
        "CANDIDATE",
        "{ myAccessLog(first: 20) { entries { role organisation operation action } } }",
    )
    entries = log["data"]["myAccessLog"]["entries"]
    assert {
        "role": "TRAINING_CENTRE",
        "organisation": people.BTP_UAI,
        "operation": "CentreReads",
        "action": "READ",
    } in entries


async def test_without_its_audit_trail_no_personal_answer_leaves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: DemoIdentityProvider
) -> None:
    """The audit trail kept in a database that cannot be written (its folder does not
    exist): a personal read fails closed, a public one goes on."""
    unwritable = f"sqlite+aiosqlite:///{tmp_path}/missing/audit.sqlite3"
    broken = await personal_hub(monkeypatch, tmp_path, provider, audit_database_url=unwritable)
    token = provider.credentials()["TRAINING_CENTRE"]["token"]
    try:
        withheld = await broken.client.post(
            "/graphql",
            json={"query": APPLICATIONS, "variables": {"first": 5}},
            headers={"Authorization": f"Bearer {token}"},
        )
        personal = withheld.json()
        public = await ask(
            broken, provider, "TRAINING_CENTRE", '{ departement(code: "73") { name } }'
        )
    finally:
        await broken.aclose()

    assert withheld.status_code == 503
    assert "data" not in personal or personal["data"] is None
    assert personal["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert public["data"]["departement"]["name"] == "Savoie"


CONTRACTS = """{ contracts(first: 100) { edges { node { decaNumber status
  funding { opco decision } employer { siret } apprentice { lastName birthDate email } } } } }"""
CONTRACT_NUMBERS = """query($after: String) { contracts(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { decaNumber } } } }"""


async def every_deca_number(hub: Hub, provider: DemoIdentityProvider, role: str) -> set[str]:
    """Every contract the role sees, page after page (a centre has hundreds)."""
    numbers: set[str] = set()
    after: str | None = None
    while True:
        page = (await ask(hub, provider, role, CONTRACT_NUMBERS, after=after))["data"]["contracts"]
        numbers |= {e["node"]["decaNumber"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return numbers
        after = page["pageInfo"]["endCursor"]


async def test_each_role_sees_its_own_contracts(hub: Hub, provider: DemoIdentityProvider) -> None:
    by_role = {
        role: (await ask(hub, provider, role, CONTRACTS))["data"]["contracts"]["edges"]
        for role in ("OPCO", "EMPLOYER", "CANDIDATE", "TRAINING_CENTRE", "OBSERVATORY")
    }

    assert by_role["OPCO"] and {e["node"]["funding"]["opco"] for e in by_role["OPCO"]} == {"AKTO"}
    assert all(e["node"]["apprentice"]["email"] is None for e in by_role["OPCO"])
    assert {e["node"]["employer"]["siret"] for e in by_role["EMPLOYER"]} == {
        people.WALKTHROUGH_EMPLOYER_SIRET
    }
    assert all(e["node"]["apprentice"]["birthDate"] is None for e in by_role["EMPLOYER"])
    assert [e["node"]["decaNumber"] for e in by_role["CANDIDATE"]] == [
        people.WALKTHROUGH_DECA_NUMBER
    ]
    assert people.WALKTHROUGH_DECA_NUMBER in await every_deca_number(
        hub, provider, "TRAINING_CENTRE"
    )
    assert by_role["OBSERVATORY"] == []


async def test_the_dossier_joins_every_owner_of_the_person(
    hub: Hub, provider: DemoIdentityProvider
) -> None:
    answer = await ask(hub, provider, "TRAINING_CENTRE", DOSSIER, id=walkthrough_candidate())
    dossier = answer["data"]["dossier"]

    owners = [p["partner"] for p in dossier["candidate"]["provenance"]]
    assert owners == ["cfa-btp", "hub3e"]  # the file's holder first, the same person once more
    assert [c["decaNumber"] for c in dossier["contracts"]] == [people.WALKTHROUGH_DECA_NUMBER]
    events = {entry["event"] for entry in dossier["timeline"]}
    assert {"CONTRACT_SIGNED", "CONTRACT_STARTED", "APPLICATION_PLACED"} <= events
    mine = await ask(hub, provider, "CANDIDATE", DOSSIER, id=walkthrough_candidate())
    assert [c["decaNumber"] for c in mine["data"]["dossier"]["contracts"]] == [
        people.WALKTHROUGH_DECA_NUMBER
    ]
    assert {f["visibility"] for f in mine["data"]["dossier"]["followUps"]} == {"CONTRACT_PARTIES"}
