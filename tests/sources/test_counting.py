"""``sources.counting.count``: every owner of an entity counted where it lives, summed; a failing
owner is a partial answer; counts of people are the observatory's only (issue 9, item 2).

The owners are the demo's: both ERPs seeded into SQLite, Hub3E and AKTO checking the hub's
signed principal, over ``httpx.ASGITransport``. Expectations come from the data they hold.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import acting
from adapters.counting import CountQuery, Period
from adapters.partners_file import parse_partners
from adapters.sql import SqlAdapter
from adapters.types import ListQuery
from demo import akto, hub3e
from demo.cfa_erp import BTP, HOTELLERIE, seed_demo_databases
from demo.data import dataset
from demo.person_seeds import PersonalDataset
from demo.personal import build_personal_dataset, personal_dataset
from demo.record_keys import secret
from identity.assertions import AssertionSigner, write_new_key
from identity.principal import Principal, Role
from sources.cache import HubCache
from sources.counting import (
    COUNT_UNAVAILABLE,
    CountMethod,
    CountRefused,
    CountResult,
    count,
)
from sources.registry import SourceRegistry

PARTNERS_FILE = Path(__file__).resolve().parents[2] / "demo" / "partners.toml"
OWNERS = (BTP, HOTELLERIE, "hub3e", "akto-contrats")
OBSERVATORY = Principal(Role.OBSERVATORY, "", "observatory-analyst-01")


class Owners:
    def __init__(self, registry: SourceRegistry, hub3e_app: Any, signer: AssertionSigner) -> None:
        self.registry = registry
        self.hub3e = hub3e_app
        self.signer = signer


async def owners_of(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blocks: dict[str, Any],
    more_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Owners:
    """The demo's owners of ``blocks``; ``more_transports``: those of other HTTP partners
    among them (the catalogues, for the places of FILL_RATE)."""
    for name, dsn in (await seed_demo_databases(tmp_path / "erp", None)).items():
        monkeypatch.setenv(name, dsn)
    monkeypatch.setenv("HUB_HUB3E_API_KEY", hub3e.API_KEY)
    key = tmp_path / "assertion.pem"
    write_new_key(key)
    signer = AssertionSigner.from_pem_file(key)
    hub3e_app = hub3e.create_app(assertion_jwks=signer.jwks())
    transports = {
        "hub3e": httpx.ASGITransport(app=hub3e_app),
        "akto-contrats": httpx.ASGITransport(app=akto.create_app(assertion_jwks=signer.jwks())),
        **(more_transports or {}),
    }
    partners = parse_partners({"version": 1, "partners": blocks}, str(PARTNERS_FILE))
    registry = SourceRegistry.from_partners(partners, HubCache(), transports)
    return Owners(registry, hub3e_app, signer)


def demo_blocks() -> dict[str, Any]:
    data = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    return {name: data["partners"][name] for name in OWNERS}


@pytest.fixture
async def owners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Owners]:
    found = await owners_of(tmp_path, monkeypatch, demo_blocks())
    yield found
    await found.registry.aclose()


async def test_applications_are_summed_over_their_owners_each_counted_once(
    owners: Owners,
) -> None:
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(
            owners.registry, CountQuery("application", ("training_centre",)), key_secret=secret()
        )
    assert result.errors == ()
    assert result.partners == (BTP, HOTELLERIE, "hub3e")
    assert set(result.methods.values()) == {CountMethod.PUSHED}
    people = personal_dataset()
    placements = list(owners.hub3e.state.people.placements.values())
    hub3e_only = [p for p in placements if p.mirrors is None]
    total = sum(cell.count for cell in result.cells.values())
    assert total == len(people.applications[BTP]) + len(people.applications[HOTELLERIE]) + len(
        hub3e_only
    )
    assert all(cell.key_sum is not None for cell in result.cells.values())
    assert result.computed_at.endswith("Z")


async def test_an_owner_that_shows_the_observatory_no_person_is_named_not_zero(
    owners: Owners,
) -> None:
    """Hub3E holds candidates but declares no statistics of them: its list would answer the
    OBSERVATORY nothing, so it is an error next to the ERPs' counts, not a silent zero."""
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(
            owners.registry, CountQuery("candidate", ("departement",)), key_secret=secret()
        )
    assert result.partners == (BTP, HOTELLERIE)
    assert [(e.partner, e.code) for e in result.errors] == [("hub3e", COUNT_UNAVAILABLE)]
    people = personal_dataset()
    expected = len(people.candidates[BTP]) + len(people.candidates[HOTELLERIE])
    assert sum(cell.count for cell in result.cells.values()) == expected


async def test_a_failing_owner_is_a_partial_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = await owners_of(tmp_path, monkeypatch, demo_blocks())
    try:
        # The hotel school's database is gone: its DSN now names a folder that is not there.
        monkeypatch.setenv(
            "HUB_CFA_HOTELLERIE_DSN", f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'x.db'}"
        )
        source = found.registry.source(HOTELLERIE)
        assert source is not None
        await source.adapter.aclose()  # the next call opens an engine on the new DSN
        with acting.scoped(OBSERVATORY, found.signer):
            result = await count(
                found.registry, CountQuery("application", ("status",)), key_secret=secret()
            )
    finally:
        await found.registry.aclose()
    assert [e.partner for e in result.errors] == [HOTELLERIE]
    assert result.errors[0].code == "SOURCE_UNAVAILABLE"
    assert result.partners == (BTP, "hub3e")
    assert sum(cell.count for cell in result.cells.values()) > 0


async def test_an_owner_without_aggregates_is_counted_in_memory_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same counts when the ERPs declare no aggregates: read page by page and dropped."""
    pushed_owners = await owners_of(tmp_path / "pushed", monkeypatch, demo_blocks())
    blocks = demo_blocks()
    for erp in (BTP, HOTELLERIE):
        for entity in blocks[erp]["entities"].values():
            entity.pop("aggregates", None)
    memory_owners = await owners_of(tmp_path / "memory", monkeypatch, blocks)
    query = CountQuery("follow_up", ("kind", "month", "training_centre"))
    try:
        with acting.scoped(OBSERVATORY, pushed_owners.signer):
            pushed = await count(pushed_owners.registry, query, key_secret=secret())
        with acting.scoped(OBSERVATORY, memory_owners.signer):
            in_memory = await count(memory_owners.registry, query, key_secret=secret())
    finally:
        await pushed_owners.registry.aclose()
        await memory_owners.registry.aclose()
    assert set(pushed.methods.values()) == {CountMethod.PUSHED}
    assert set(in_memory.methods.values()) == {CountMethod.IN_MEMORY}
    assert pushed.cells == in_memory.cells
    assert len(pushed.cells) > 5


@pytest.mark.parametrize(
    "principal",
    [
        None,
        Principal(Role.TRAINING_CENTRE, "0732727T", "centre-user"),
        Principal(Role.ADMIN, "", "admin"),
    ],
    ids=["anonymous", "training-centre", "admin"],
)
async def test_counts_of_people_are_the_observatorys_only(
    owners: Owners, principal: Principal | None
) -> None:
    erps = [s.adapter for s in owners.registry.sources if isinstance(s.adapter, SqlAdapter)]
    assert len(erps) == 2
    with acting.scoped(principal, owners.signer), pytest.raises(CountRefused):
        await count(owners.registry, CountQuery("application", ()), key_secret=secret())
    assert [erp.calls for erp in erps] == [0, 0]  # refused before any partner call


async def test_counts_of_offers_are_anybodys(owners: Owners) -> None:
    """A public entity is counted for anyone: Hub3E's missions, in memory from its list, each
    real offer once (merged like the list path, here with no twin to fold)."""
    with acting.scoped(None, None):
        result = await count(
            owners.registry, CountQuery("offer", ("departement",)), key_secret=secret()
        )
    assert result.methods == {"hub3e": CountMethod.MERGED}
    source = owners.registry.source("hub3e")
    assert source is not None
    missions = await source.adapter.list(ListQuery("offer", {}, 10_000))
    assert sum(cell.count for cell in result.cells.values()) == len(missions.records)


# -- dimensions read from related records (issue 9: the indicator engine's queries) -----------


def related_cells(people: PersonalDataset) -> Counter[tuple[str, str, str]]:
    """Every application the demo's owners count, once, by the candidate's home département
    and the programme's ROME domain and level (a Hub3E placement: its mission's)."""
    cells: Counter[tuple[str, str, str]] = Counter()
    for erp in (BTP, HOTELLERIE):
        for application in people.applications[erp]:
            home = people.person_of(erp, application.candidate_id).commune_insee
            program = application.program
            cells[(home[:2], program.rome_codes[0][:3], str(program.level))] += 1
    files = {file.id: file for file in people.hub3e_candidates}
    for placement in people.hub3e_placements:
        if placement.application is None:  # a mirror is its centre's application
            home = people.persons[files[placement.candidate_id].person_key].commune_insee
            mission = placement.mission
            cells[(home[:2], mission.rome_code[:3], str(mission.level))] += 1
    return cells


def margin(result: CountResult, positions: tuple[int, ...]) -> Counter[tuple[str | None, ...]]:
    found: Counter[tuple[str | None, ...]] = Counter()
    for key, cell in result.cells.items():
        found[tuple(key[i] for i in positions)] += cell.count
    return found


async def test_the_indicator_engines_application_query_is_answered_by_every_owner(
    owners: Owners,
) -> None:
    query = CountQuery(
        "application",
        ("departement", "rome_domain", "level", "month", "status", "training_centre"),
        period=Period(date(2024, 1, 1), date(2027, 1, 1)),
    )
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(owners.registry, query, key_secret=secret())
    assert result.errors == ()
    assert set(result.methods.values()) == {CountMethod.PUSHED}
    assert margin(result, (0, 1, 2)) == related_cells(build_personal_dataset(dataset()))


async def test_a_related_dimension_is_the_failure_of_an_owner_that_cannot_count_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hotel school's ERP declares no aggregates: its list holds no programme's ROME
    domain, so it is COUNT_UNAVAILABLE next to the other owners' cells, not a None column."""
    blocks = demo_blocks()
    del blocks[HOTELLERIE]["entities"]["application"]["aggregates"]
    found = await owners_of(tmp_path, monkeypatch, blocks)
    try:
        with acting.scoped(OBSERVATORY, found.signer):
            result = await count(
                found.registry, CountQuery("application", ("rome_domain",)), key_secret=secret()
            )
            whole = await count(
                found.registry, CountQuery("application", ("status",)), key_secret=secret()
            )
    finally:
        await found.registry.aclose()
    assert [(e.partner, e.code) for e in result.errors] == [(HOTELLERIE, COUNT_UNAVAILABLE)]
    assert "cannot break applications down by rome_domain" in result.errors[0].message
    assert result.partners == (BTP, "hub3e")
    assert None not in {key[0] for key in result.cells}
    people = build_personal_dataset(dataset())
    hotellerie = Counter(
        application.program.rome_codes[0][:3] for application in people.applications[HOTELLERIE]
    )
    expected = Counter(key[1] for key in related_cells(people).elements())
    expected.subtract(hotellerie)
    assert margin(result, (0,)) == {(k,): n for k, n in expected.items() if n}
    # The same owner still counts in memory what its records hold.
    assert whole.errors == () and whole.methods[HOTELLERIE] is CountMethod.IN_MEMORY


async def test_time_to_placement_histogram(owners: Owners) -> None:
    """Days from creation to PLACED, from the ERPs; Hub3E (whose steps stop at HIRED) answers
    an empty count, so the histogram is whole."""
    query = CountQuery("application", ("days_to_placement",), {"status": ("PLACED",)})
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(owners.registry, query, key_secret=secret())
    assert result.errors == ()
    assert result.partners == (BTP, HOTELLERIE, "hub3e")
    people = build_personal_dataset(dataset())
    expected: Counter[tuple[str | None, ...]] = Counter()
    for erp in (BTP, HOTELLERIE):
        for application in people.applications[erp]:
            placed = application.reached("PLACED")
            if application.status == "PLACED" and placed is not None:
                expected[(str((placed.at - application.created_at).days),)] += 1
    assert margin(result, (0,)) == expected and len(expected) > 10


async def test_the_indicator_engines_contract_query(owners: Owners) -> None:
    query = CountQuery("contract", ("departement", "rome_domain", "opco", "month", "status"))
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(owners.registry, query, key_secret=secret())
    assert result.errors == () and result.partners == ("akto-contrats",)
    data, people = dataset(), build_personal_dataset(dataset())
    expected: Counter[tuple[str | None, ...]] = Counter()
    for contract in people.contracts:
        employer = data.employer_by_siret(contract.employer_siret)
        assert employer is not None
        domain = contract.program.rome_codes[0][:3]
        expected[(employer.address.insee_code[:2], domain, contract.opco)] += 1
    assert margin(result, (0, 1, 2)) == expected
