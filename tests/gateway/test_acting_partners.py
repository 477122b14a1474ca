"""Personal partner calls carry the signed principal the request acts for (adapters.acting).

Against the real demo partners that check it, Hub3E (candidate files, placements) and AKTO's
contracts API (block ``akto-contrats``), both started with the hub's JWKS and each behind a
recorder of what it was sent. Lists go through the source registry, as resolvers call it,
inside ``acting.scoped``: each role of COMMON-SYNTAX "Who may see what" gets its own rows from
the owner itself; no principal, no request; a refused assertion is the hub's problem, never
evidence against the partner.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import strawberry
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.types import Info

from adapters import acting
from adapters.types import Record
from demo import akto, hub3e
from demo import people as fixtures
from demo.identity_provider import DemoIdentityProvider
from demo.personal import personal_dataset
from demo.personas import personas
from gateway.graphql_view import HubGraphQL
from gateway.settings import Settings
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from sources import budget
from sources.registry import SourceRegistry
from tests.gateway.hubkit import Hub, start_hub
from tests.gateway.logkit import json_lines, json_logging

HEADER = "x-hub-principal"
PERSONAL_PATHS = ("/api/v2/candidats", "/api/v2/placements", "/api/v1/contrats")

CENTRE = Principal(Role.TRAINING_CENTRE, fixtures.BTP_UAI, "staff-btp-1")
CENTRE_BY_SIRET = Principal(Role.TRAINING_CENTRE, fixtures.BTP_SIRET, "staff-btp-2")
OTHER_CENTRE = Principal(Role.TRAINING_CENTRE, fixtures.HOTELLERIE_UAI, "staff-hotel-1")
EMPLOYER = Principal(Role.EMPLOYER, fixtures.WALKTHROUGH_EMPLOYER_SIRET, "rh-1")
OPCO = Principal(Role.OPCO, fixtures.OPCO_CODE, "akto-agent-1")
CANDIDATE = Principal(Role.CANDIDATE, fixtures.BTP_UAI, str(fixtures.WALKTHROUGH_CANDIDATE_ID))


@dataclass
class Recorder:
    """An ASGI wrapper keeping what the partner was sent: method, path, headers."""

    app: ASGIApp
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    @property
    def state(self) -> Any:  # Hub.calls reads the partner app's counters
        return self.app.state  # type: ignore[attr-defined]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.seen.append((scope["method"], scope["path"], headers))
        await self.app(scope, receive, send)

    def personal(self) -> list[tuple[str, str, dict[str, str]]]:
        return [s for s in self.seen if s[1].startswith(PERSONAL_PATHS)]


class StaleSigner(AssertionSigner):
    """The hub's own key, signing assertions that expired an hour ago (a clock far off)."""

    def sign(
        self,
        principal: Principal,
        partner: str,
        now: float | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        return super().sign(principal, partner, now=time.time() - 3600, extra=extra)


@dataclass
class Partners:
    hub: Hub
    signer: AssertionSigner
    hub3e: Recorder
    akto: Recorder
    key_file: Path

    @property
    def registry(self) -> SourceRegistry:
        registry: SourceRegistry = self.hub.app.state.registry
        return registry


@pytest.fixture
async def partners(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Partners]:
    key_file = tmp_path / "assertion.pem"
    write_new_key(key_file)
    signer = AssertionSigner.from_pem_file(key_file)
    jwks = signer.jwks()
    recorders = {
        "hub3e": Recorder(hub3e.create_app(assertion_jwks=jwks)),
        "akto-contrats": Recorder(akto.create_app(assertion_jwks=jwks)),
    }
    settings = Settings(
        development=True,
        assertion_key_file=key_file,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
    )
    hub = await start_hub(
        monkeypatch, ("hub3e", "akto-contrats"), settings=settings, apps=recorders
    )
    # The gateway loaded the key once, at start-up: the signer partner calls are signed with.
    assert hub.app.state.identity.assertions.kid == signer.kid
    try:
        yield Partners(hub, hub.app.state.identity.assertions, *recorders.values(), key_file)
    finally:
        await hub.aclose()


@contextlib.contextmanager
def request_of(principal: Principal | None, signer: AssertionSigner | None) -> Iterator[None]:
    """What the gateway opens around one request: its partner-call budget and its principal."""
    with budget.scoped(budget.RequestCalls()), acting.scoped(principal, signer):
        yield


async def every(
    registry: SourceRegistry, entity: str, partner: str, filters: Mapping[str, Any] | None = None
) -> tuple[list[Record], list[str]]:
    """Every record of ``entity`` at ``partner`` (page after page), and the failure codes."""
    records: list[Record] = []
    codes: list[str] = []
    after = None
    for _ in range(50):
        page = await registry.list_page(entity, dict(filters or {}), 50, after, [partner])
        records.extend(record for _, record in page.items)
        codes.extend(failure.code for failure in page.failures)
        if not page.has_next or page.failures:
            break
        after = page.items[-1][0]
    return records, codes


async def listed(
    partners: Partners,
    principal: Principal | None,
    entity: str,
    partner: str,
    signer: AssertionSigner | None = None,
    **vouched: str,
) -> tuple[list[Record], list[str]]:
    with request_of(principal, signer or partners.signer):
        if not vouched:
            return await every(partners.registry, entity, partner)
        with acting.vouched(**vouched):
            return await every(partners.registry, entity, partner)


def _claims(partners: Partners, token: str, audience: str) -> dict[str, Any]:
    """What the partner checks: ES256, the hub's published key, its own name as audience."""
    keys = jwt.PyJWKSet.from_dict(partners.signer.jwks())
    key = next(k for k in keys.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    return jwt.decode(
        token, key, algorithms=["ES256"], audience=audience, issuer="alternance-hub", leeway=5
    )


WALKTHROUGH_INE = personal_dataset().person_of(fixtures.WALKTHROUGH_ERP, 1).ine or ""


# -- each role, its own rows -------------------------------------------------------------------


async def test_a_training_centre_sees_its_centres_rows_only(partners: Partners) -> None:
    people = personal_dataset()
    contracts, codes = await listed(partners, CENTRE, "contract", "akto-contrats")
    assert codes == []
    expected = [c for c in people.contracts if c.program.responsible.uai == fixtures.BTP_UAI]
    assert expected and len(contracts) == len(expected)
    assert {r.fields["trainingCentre"]["uai"] for r in contracts} == {fixtures.BTP_UAI}
    files, codes = await listed(partners, CENTRE, "candidate", "hub3e")
    assert codes == [] and files
    assert len(files) == sum(1 for f in people.hub3e_candidates if f.centre_uai == fixtures.BTP_UAI)
    assert {r.fields["trainingCentre"]["uai"] for r in files} == {fixtures.BTP_UAI}
    placements, codes = await listed(partners, CENTRE, "application", "hub3e")
    assert codes == [] and placements
    assert {r.fields["trainingCentre"]["siret"] for r in placements} == {fixtures.BTP_SIRET}
    # The same centre known by its SIRET: the same rows (the owner matches either).
    by_siret, _ = await listed(partners, CENTRE_BY_SIRET, "contract", "akto-contrats")
    assert {r.owner.partner_id for r in by_siret} == {r.owner.partner_id for r in contracts}
    # The other centre: none of these.
    other, codes = await listed(partners, OTHER_CENTRE, "contract", "akto-contrats")
    assert codes == [] and other
    assert not {r.owner.partner_id for r in other} & {r.owner.partner_id for r in contracts}
    other_files, _ = await listed(partners, OTHER_CENTRE, "candidate", "hub3e")
    assert fixtures.WALKTHROUGH_HUB3E_ID not in {r.owner.partner_id for r in other_files}


async def test_an_employer_sees_its_own_and_no_birth_date(partners: Partners) -> None:
    siret = fixtures.WALKTHROUGH_EMPLOYER_SIRET
    contracts, codes = await listed(partners, EMPLOYER, "contract", "akto-contrats")
    assert codes == [] and contracts
    assert {r.fields["employer"]["siret"] for r in contracts} == {siret}
    assert len(contracts) == sum(
        1 for c in personal_dataset().contracts if c.employer_siret == siret
    )
    placements, codes = await listed(partners, EMPLOYER, "application", "hub3e")
    assert codes == [] and placements
    assert {r.fields["employer"]["siret"] for r in placements} == {siret}
    files, codes = await listed(partners, EMPLOYER, "candidate", "hub3e")
    assert codes == [] and files
    assert all(r.fields.get("birthDate") is None for r in files)
    centre_files, _ = await listed(partners, CENTRE, "candidate", "hub3e")
    assert all(r.fields.get("birthDate") for r in centre_files)  # the centre sees it


async def test_an_opco_sees_the_contracts_it_funds(partners: Partners) -> None:
    contracts, codes = await listed(partners, OPCO, "contract", "akto-contrats")
    assert codes == [] and contracts
    assert {r.fields["funding"]["opco"] for r in contracts} == {"AKTO"}
    funded = sum(1 for c in personal_dataset().contracts if c.opco == "AKTO")
    assert len(contracts) == funded < len(personal_dataset().contracts)
    files, codes = await listed(partners, OPCO, "candidate", "hub3e")
    assert codes == [] and files == []  # an OPCO sees no candidate file


async def test_a_candidate_sees_only_its_own_once_the_hub_vouches_for_its_ine(
    partners: Partners,
) -> None:
    assert WALKTHROUGH_INE
    unvouched, codes = await listed(partners, CANDIDATE, "contract", "akto-contrats")
    assert codes == [] and unvouched == []  # AKTO knows apprentices by INE only
    contracts, codes = await listed(
        partners, CANDIDATE, "contract", "akto-contrats", ine=WALKTHROUGH_INE
    )
    assert codes == []
    assert [r.owner.partner_id for r in contracts] == [fixtures.WALKTHROUGH_DECA_NUMBER]
    assert contracts[0].fields["apprentice"]["ine"] == WALKTHROUGH_INE
    files, _ = await listed(partners, CANDIDATE, "candidate", "hub3e", ine=WALKTHROUGH_INE)
    assert [r.owner.partner_id for r in files] == [fixtures.WALKTHROUGH_HUB3E_ID]
    # The INE travelled in the signed assertion only: in no URL the partners saw.
    assert all(WALKTHROUGH_INE not in path for _, path, _ in partners.akto.seen)
    vouched = [h[HEADER] for _, _, h in partners.akto.personal()][-1]
    claims = _claims(partners, vouched, "akto-contrats")
    assert claims["ine"] == WALKTHROUGH_INE and claims["role"] == "CANDIDATE"
    assert claims["sub"] == CANDIDATE.subject and claims["org"] == fixtures.BTP_UAI


async def test_observatory_and_admin_see_no_person(partners: Partners) -> None:
    for principal in (Principal(Role.OBSERVATORY, "", "obs-1"), Principal(Role.ADMIN, "", "a")):
        contracts, codes = await listed(partners, principal, "contract", "akto-contrats")
        files, more = await listed(partners, principal, "candidate", "hub3e")
        assert (contracts, files, codes, more) == ([], [], [], [])


# -- what the calls carry ------------------------------------------------------------------------


async def test_each_personal_request_carries_a_fresh_assertion_for_its_partner(
    partners: Partners,
) -> None:
    await listed(partners, CENTRE, "contract", "akto-contrats")
    await listed(partners, CENTRE, "application", "hub3e")
    for recorder, audience in ((partners.akto, "akto-contrats"), (partners.hub3e, "hub3e")):
        sent = recorder.personal()
        assert sent
        tokens = [headers[HEADER] for _, _, headers in sent]
        for token in tokens:
            claims = _claims(partners, token, audience)
            assert (claims["role"], claims["org"], claims["sub"]) == (
                "TRAINING_CENTRE",
                fixtures.BTP_UAI,
                CENTRE.subject,
            )
            assert claims["exp"] - claims["iat"] == 60
    with request_of(CENTRE, partners.signer):  # a public call on behalf of someone: no header
        page = await partners.registry.list_page("offer", {}, 5, None, ["hub3e"])
    assert page.items and not page.failures
    offers = [s for s in partners.hub3e.seen if s[1].startswith("/api/v2/missions")]
    assert offers and all(HEADER not in headers for _, _, headers in offers)


async def test_without_a_principal_no_request_leaves(partners: Partners) -> None:
    for entity, partner, recorder in (
        ("contract", "akto-contrats", partners.akto),
        ("candidate", "hub3e", partners.hub3e),
        ("application", "hub3e", partners.hub3e),
    ):
        before = len(recorder.seen)
        records, codes = await listed(partners, None, entity, partner)
        assert (records, codes) == ([], ["PRINCIPAL_REQUIRED"])
        with request_of(None, None):
            found, failures = await partners.registry.lookup(entity, "id", ["X-1"], [partner])
        assert found == {} and [f.code for f in failures] == ["PRINCIPAL_REQUIRED"]
        assert len(recorder.seen) == before  # the partner received nothing
        source = partners.registry.source(partner)
        assert source is not None and source.health.calls == 0  # not even counted as a call
    with pytest.raises(LookupError), acting.vouched(ine=WALKTHROUGH_INE):
        pass  # nobody to vouch for
    with request_of(CANDIDATE, partners.signer):
        with pytest.raises(ValueError):  # what the credential says is never replaced
            acting.vouched(sub="someone-else").__enter__()
        assert acting.current() is not None and not acting.current().claims  # type: ignore[union-attr]


async def test_a_refused_assertion_is_the_hubs_problem_not_the_partners(
    partners: Partners,
) -> None:
    forged_key = partners.key_file.with_name("forged.pem")
    write_new_key(forged_key)
    forged = AssertionSigner.from_pem_file(forged_key)  # a key the partner does not know
    stale = StaleSigner.from_pem_file(partners.key_file)  # the right key, expired
    source = partners.registry.source("akto-contrats")
    assert source is not None
    threshold = source.config.breaker.failure_threshold
    for signer in (forged, stale):
        for _ in range(threshold + 2):
            records, codes = await listed(partners, OPCO, "contract", "akto-contrats", signer)
            assert (records, codes) == ([], ["PRINCIPAL_REFUSED"])
    assert source.breaker.state == "closed"  # never evidence against the partner
    refused = partners.akto.personal()
    assert len(refused) == 2 * (threshold + 2)  # sent once each: a refused assertion is not retried
    records, codes = await listed(partners, OPCO, "contract", "akto-contrats")
    assert codes == [] and records  # the hub's own assertion still goes through


# -- personal answers are never shared across requests ----------------------------------------


async def test_two_requests_with_other_principals_never_share_a_partner_answer(
    partners: Partners,
) -> None:
    async def one(principal: Principal) -> set[str]:
        with request_of(principal, partners.signer):
            page = await partners.registry.list_page("contract", {}, 20, None, ["akto-contrats"])
        assert not page.failures
        return {r.fields["trainingCentre"]["uai"] for _, r in page.items}

    before = len(partners.akto.personal())
    # At the very same moment (coalescing would join them), then one after the other (a cache
    # would serve the second).
    concurrent = await asyncio.gather(one(CENTRE), one(OTHER_CENTRE))
    assert concurrent == [{fixtures.BTP_UAI}, {fixtures.HOTELLERIE_UAI}]
    assert await one(OTHER_CENTRE) == {fixtures.HOTELLERIE_UAI}
    assert await one(CENTRE) == {fixtures.BTP_UAI}
    assert len(partners.akto.personal()) - before == 4  # each request asked the owner itself
    with request_of(CENTRE, partners.signer):  # look-ups too, both concurrently and in turn
        mine, _ = await partners.registry.lookup(
            "contract", "id", [fixtures.WALKTHROUGH_DECA_NUMBER], ["akto-contrats"]
        )
    assert list(mine) == [fixtures.WALKTHROUGH_DECA_NUMBER]

    async def look(principal: Principal) -> list[str]:
        with request_of(principal, partners.signer):
            found, _ = await partners.registry.lookup(
                "contract", "id", [fixtures.WALKTHROUGH_DECA_NUMBER], ["akto-contrats"]
            )
        return list(found)

    assert await asyncio.gather(look(OTHER_CENTRE), look(CENTRE)) == [
        [],
        [fixtures.WALKTHROUGH_DECA_NUMBER],
    ]


async def test_within_one_request_other_vouched_claims_get_their_own_answer(
    partners: Partners,
) -> None:
    with request_of(CANDIDATE, partners.signer):
        first = await partners.registry.list_page("contract", {}, 20, None, ["akto-contrats"])
        with acting.vouched(ine=WALKTHROUGH_INE):
            second = await partners.registry.list_page("contract", {}, 20, None, ["akto-contrats"])
        again = await partners.registry.list_page("contract", {}, 20, None, ["akto-contrats"])
    assert first.items == [] and again.items == []
    assert [r.owner.partner_id for _, r in second.items] == [fixtures.WALKTHROUGH_DECA_NUMBER]


# -- logs ---------------------------------------------------------------------------------------


async def test_the_canary_of_personal_partner_data_reaches_no_log_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    canary = "Zqxcanaryvbnm"
    monkeypatch.setenv("HUB_DEMO_CANARY", canary)
    key_file = tmp_path / "assertion.pem"
    write_new_key(key_file)
    signer = AssertionSigner.from_pem_file(key_file)
    recorders = {
        "hub3e": Recorder(hub3e.create_app(assertion_jwks=signer.jwks())),
        "akto-contrats": Recorder(akto.create_app(assertion_jwks=signer.jwks())),
    }
    settings = Settings(
        development=True,
        assertion_key_file=key_file,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
    )
    with json_logging("DEBUG"):
        hub = await start_hub(
            monkeypatch, ("hub3e", "akto-contrats"), settings=settings, apps=recorders
        )
        try:
            partners = Partners(
                hub, hub.app.state.identity.assertions, *recorders.values(), key_file
            )
            seen: list[str] = []
            for principal in (CENTRE, OTHER_CENTRE, EMPLOYER, OPCO):
                for entity, partner in (
                    ("contract", "akto-contrats"),
                    ("candidate", "hub3e"),
                    ("application", "hub3e"),
                ):
                    records, _ = await listed(partners, principal, entity, partner)
                    seen.extend(str(r.to_json()) for r in records)
            forged = AssertionSigner.from_pem_file(_other_key(tmp_path))
            await listed(partners, OPCO, "contract", "akto-contrats", forged)  # a refusal too
            await listed(partners, None, "candidate", "hub3e")  # and a call never made
        finally:
            await hub.aclose()
    assert any(canary in text for text in seen)  # the canary went through the hub
    tokens = [h[HEADER] for r in recorders.values() for _, _, h in r.personal()]
    assert tokens
    captured = capfd.readouterr()
    lines = json_lines(captured.err) + json_lines(captured.out)
    assert any(line["msg"] == "partner refused the signed principal" for line in lines)
    for line in lines:
        text = str(line)
        assert canary not in text and canary.lower() not in text.lower()
        assert not any(token in text for token in tokens)  # nor the assertion itself


def _other_key(folder: Path) -> Path:
    path = folder / "other.pem"
    write_new_key(path)
    return path


# -- the gateway opens the scope per request ------------------------------------------------------


@strawberry.type
class ContractsQuery:
    """A resolver as the personal ones will be: it asks the registry, nothing else."""

    @strawberry.field
    async def contracts(self, info: Info[Any, None]) -> list[str]:
        registry: SourceRegistry = info.context.registry
        page = await registry.list_page("contract", {}, 100, None, ["akto-contrats"])
        codes = [failure.code for failure in page.failures]
        return codes or sorted({r.fields["trainingCentre"]["uai"] for _, r in page.items})


async def test_the_gateway_acts_for_each_requests_own_credential(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through the HTTP edge: a resolver listing contracts gets, for each bearer token, the
    rows of its principal (signed with the key the gateway loaded at start-up), and for an
    anonymous request no partner call at all."""
    provider = DemoIdentityProvider(tmp_path)
    settings = Settings(development=True, **provider.settings())
    jwks = AssertionSigner.from_pem_file(provider.assertion_key_file).jwks()
    recorder = Recorder(akto.create_app(assertion_jwks=jwks))
    hub = await start_hub(
        monkeypatch, ("akto-contrats",), settings, apps={"akto-contrats": recorder}
    )

    view = HubGraphQL(
        hub.app.state.registry,
        settings,
        schema=strawberry.Schema(query=ContractsQuery),
        identity=hub.app.state.identity,
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=view), base_url="http://hub")
    tokens = {p.name: provider.mint(p) for p in personas()}

    async def ask(token: str | None) -> list[str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await client.post("/", json={"query": "{ contracts }"}, headers=headers)
        assert answer.status_code == 200, answer.text
        contracts: list[str] = answer.json()["data"]["contracts"]
        return contracts

    try:
        centre, other = await asyncio.gather(
            ask(tokens["TRAINING_CENTRE"]), ask(tokens["TRAINING_CENTRE_OTHER"])
        )
        assert (centre, other) == ([fixtures.BTP_UAI], [fixtures.HOTELLERIE_UAI])
        before = len(recorder.seen)
        assert await ask(None) == ["PRINCIPAL_REQUIRED"]
        assert len(recorder.seen) == before
        assert acting.current() is None  # the scope closed with its request
    finally:
        await client.aclose()
        await hub.aclose()
