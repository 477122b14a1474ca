"""Training capacity for the observatory: places counted per session, each real programme once
(issue 9, TRAINING_CAPACITY and the denominator of FILL_RATE).

The owners are every demo partner of ``training_program``: API Apprentissage and the Carif-Oref
over ``httpx.ASGITransport``, both ERPs seeded into SQLite, AKTO's look-up-only funding levels.
The expected places are computed here from the demo's seeds (``demo.data``): one seed is one
real programme, whichever partners publish it.
"""

from __future__ import annotations

import re
import sqlite3
import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import acting
from adapters.config_check import check_file, format_problems
from adapters.counting import (
    COUNTED_ONCE,
    CountQuery,
    Period,
    count_in_memory,
)
from adapters.partners_file import parse_partners
from adapters.syntax import DATA_CLASSES
from adapters.types import DataClass
from demo.cfa_erp import BTP, HOTELLERIE, seed_demo_databases
from demo.data import ProgramSeed, SessionSeed, dataset
from demo.partner_servers import PARTNER_APPS
from demo.record_keys import secret
from demo.secrets import DEMO_SECRETS
from sources.cache import HubCache
from sources.counting import CountMethod, count
from sources.counting_once import slim
from sources.registry import SourceRegistry
from tests.gateway.hubkit import TEST_PARTNER_DEADLINE_S

PARTNERS_FILE = Path(__file__).resolve().parents[2] / "demo" / "partners.toml"
CATALOGUES = ("apprentissage", BTP, HOTELLERIE, "carif", "akto")
HTTP_CATALOGUES = ("apprentissage", "carif", "akto")
EVERY_DIMENSION = ("departement", "commune", "rome_domain", "level", "training_centre", "month")
CAPACITY = "sessions.capacity"


def demo_blocks(names: Iterable[str] = CATALOGUES) -> dict[str, Any]:
    """The demo's blocks of ``names``, each partner given the test gateways' deadline: these
    tests are about what is counted, and a whole catalogue read on a loaded CI machine can take
    longer than a partner's production deadline (CI saw the ERP time out, counted without it)."""
    data = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    blocks = {name: dict(data["partners"][name]) for name in names}
    for block in blocks.values():
        block["deadline_s"] = max(block.get("deadline_s", 0.0), TEST_PARTNER_DEADLINE_S)
    return blocks


async def catalogue_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blocks: dict[str, Any]
) -> SourceRegistry:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    for name, dsn in (await seed_demo_databases(tmp_path / "erp", None)).items():
        monkeypatch.setenv(name, dsn)
    transports = {
        name: httpx.ASGITransport(app=PARTNER_APPS[name]())
        for name in HTTP_CATALOGUES
        if name in blocks
    }
    partners = parse_partners({"version": 1, "partners": blocks}, str(PARTNERS_FILE))
    return SourceRegistry.from_partners(partners, HubCache(), transports)


@pytest.fixture
async def registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SourceRegistry]:
    found = await catalogue_registry(tmp_path, monkeypatch, demo_blocks())
    yield found
    await found.aclose()


def expected_cells(
    programs: Iterable[ProgramSeed], period: Period | None = None
) -> dict[tuple[str | None, ...], tuple[int, int]]:
    """(sessions, places) per cell of EVERY_DIMENSION, from the seeds: each programme once."""
    sessions: Counter[tuple[str | None, ...]] = Counter()
    places: Counter[tuple[str | None, ...]] = Counter()
    for program in programs:
        for session in program.sessions:
            if period is not None and not period.start <= session.start < period.end:
                continue
            key = cell_of(program, session)
            sessions[key] += 1
            places[key] += session.capacity
    return {key: (sessions[key], places[key]) for key in sessions}


def cell_of(program: ProgramSeed, session: SessionSeed) -> tuple[str | None, ...]:
    insee = program.address.insee_code
    return (
        insee[:2],
        insee,
        program.rome_codes[0][:3] if program.rome_codes else None,
        str(program.level),
        program.responsible.uai,
        session.start.isoformat()[:7],
    )


def counted(result_cells: Any) -> dict[tuple[str | None, ...], tuple[int, int]]:
    return {key: (cell.count, int(cell.total)) for key, cell in result_cells.items()}


async def test_places_by_every_dimension_are_the_seeds_places_each_programme_once(
    registry: SourceRegistry,
) -> None:
    data = dataset()
    publishers = Counter(p for program in data.programs for p in program.publishers)
    # The demo does publish twins: the measure below would double count without the merge.
    assert publishers[BTP] and publishers[HOTELLERIE] and publishers["carif"]
    with acting.scoped(None, None):  # public data: anybody's counts
        result = await count(
            registry,
            CountQuery("training_program", EVERY_DIMENSION, sum_field=CAPACITY),
            key_secret=secret(),
        )
    assert result.errors == ()
    # AKTO only completes programmes by look-up: it has none to count.
    assert result.partners == ("apprentissage", BTP, HOTELLERIE, "carif")
    assert set(result.methods.values()) == {CountMethod.MERGED}
    assert counted(result.cells) == expected_cells(data.programs)
    # Every record beyond the first of its programme was folded into it, none left alone.
    assert (
        result.twins
        == sum(len(p.publishers) for p in data.programs) - len(data.programs) - (publishers["akto"])
    )


async def test_a_session_outside_the_period_is_not_counted(registry: SourceRegistry) -> None:
    data = dataset()
    starts = sorted({s.start for p in data.programs for s in p.sessions})
    assert len(starts) > 1  # the period below leaves sessions out
    period = Period(starts[0], date(starts[0].year, starts[0].month, 28))
    query = CountQuery("training_program", EVERY_DIMENSION, period=period, sum_field=CAPACITY)
    with acting.scoped(None, None):
        result = await count(registry, query, key_secret=secret())
    expected = expected_cells(data.programs, period)
    assert counted(result.cells) == expected
    everything = expected_cells(data.programs)
    assert sum(places for _, places in expected.values()) < sum(
        places for _, places in everything.values()
    )
    assert {key[-1] for key in result.cells} == {starts[0].isoformat()[:7]}


async def test_filters_keep_the_sessions_of_their_values(registry: SourceRegistry) -> None:
    """A filter on the session's month and one on the programme's département, as FILL_RATE's
    cells by centre ask: the sessions of those values only."""
    data = dataset()
    month = min(s.start for p in data.programs for s in p.sessions).isoformat()[:7]
    query = CountQuery(
        "training_program",
        ("training_centre",),
        {"month": (month,), "departement": ("74",)},
        sum_field=CAPACITY,
    )
    with acting.scoped(None, None):
        result = await count(registry, query, key_secret=secret())
    expected: Counter[tuple[str | None, ...]] = Counter()
    for key, (_, places) in expected_cells(data.programs).items():
        if key[0] == "74" and key[-1] == month:
            expected[(key[4],)] += places
    assert {key: int(cell.total or 0) for key, cell in result.cells.items()} == dict(expected)
    assert len(expected) > 1


async def test_summing_each_owner_alone_would_count_twins_again(
    registry: SourceRegistry,
) -> None:
    """The measure behind the merge: each owner counted on its own (the other entities' way)
    adds up more sessions and places than there are, by the programmes the ERPs and the
    Carif-Oref republish."""
    data = dataset()
    query = CountQuery("training_program", ("departement",), sum_field=CAPACITY)
    sessions = places = 0
    with acting.scoped(None, None):
        for source in registry.listing_providers("training_program"):
            rows = await count_in_memory(source.partner, query, source.adapter.list, secret())
            sessions += sum(row.count for row in rows)
            places += int(sum(row.total or 0 for row in rows))
        merged = await count(registry, query, key_secret=secret())
    real_sessions = sum(len(p.sessions) for p in data.programs)
    real_places = sum(s.capacity for p in data.programs for s in p.sessions)
    republished = [p for p in data.programs if BTP in p.publishers or HOTELLERIE in p.publishers]
    assert places == real_places + sum(s.capacity for p in republished for s in p.sessions)
    assert sessions > real_sessions
    assert sum(cell.count for cell in merged.cells.values()) == real_sessions
    assert sum(cell.total or 0 for cell in merged.cells.values()) == real_places


async def test_an_erp_that_fails_still_has_its_programmes_counted_from_the_catalogues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = await catalogue_registry(tmp_path, monkeypatch, demo_blocks())
    try:
        monkeypatch.setenv(
            "HUB_CFA_HOTELLERIE_DSN", f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'x.db'}"
        )
        source = registry.source(HOTELLERIE)
        assert source is not None
        await source.adapter.aclose()  # the next call opens an engine on the missing file
        with acting.scoped(None, None):
            result = await count(
                registry,
                CountQuery("training_program", EVERY_DIMENSION, sum_field=CAPACITY),
                key_secret=secret(),
            )
    finally:
        await registry.aclose()
    assert [(e.partner, e.code) for e in result.errors] == [(HOTELLERIE, "SOURCE_UNAVAILABLE")]
    assert HOTELLERIE not in result.partners
    assert counted(result.cells) == expected_cells(dataset().programs)


@pytest.mark.parametrize("erp_first", [False, True], ids=["catalogue-first", "erp-first"])
async def test_a_twins_places_are_the_first_owners_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, erp_first: bool
) -> None:
    """BTP CFA's ERP says 5 more places per session than API Apprentissage and holds a session
    the catalogue does not: the places counted are those of the owner listed first (as
    ``trainingPrograms`` shows them), and the extra session is counted once, with its places."""
    order = (BTP, *(n for n in CATALOGUES if n != BTP)) if erp_first else CATALOGUES
    registry = await catalogue_registry(tmp_path, monkeypatch, demo_blocks(order))
    extra = date(2028, 1, 10)
    with sqlite3.connect(tmp_path / "erp" / "cfa-btp.sqlite3") as db:
        db.execute("UPDATE sessions_formation SET places_ouvertes = places_ouvertes + 5")
        db.execute(
            "INSERT INTO sessions_formation (id_session, id_formation, date_debut, date_fin, "
            "places_ouvertes, inscrits, recrutement_ouvert) "
            "SELECT 9999, id_formation, ?, ?, 7, 0, 'O' FROM formations LIMIT 1",
            (extra.isoformat(), date(2029, 6, 30).isoformat()),
        )
    try:
        with acting.scoped(None, None):
            result = await count(
                registry,
                CountQuery("training_program", ("training_centre", "month"), sum_field=CAPACITY),
                key_secret=secret(),
            )
    finally:
        await registry.aclose()
    programs = dataset().programs
    btp_uai = dataset().centre_with_erp(BTP).uai
    sessions: Counter[tuple[str | None, ...]] = Counter()
    places: Counter[tuple[str | None, ...]] = Counter()
    for program in programs:
        for session in program.sessions:
            key = (program.responsible.uai, session.start.isoformat()[:7])
            sessions[key] += 1
            on_erp = BTP in program.publishers
            places[key] += session.capacity + (5 if on_erp and erp_first else 0)
    sessions[(btp_uai, extra.isoformat()[:7])] += 1
    places[(btp_uai, extra.isoformat()[:7])] += 7  # only the ERP has it: its places
    assert result.errors == ()  # every owner counted, the ERP included
    assert counted(result.cells) == {key: (sessions[key], places[key]) for key in sessions}


async def test_the_catalogue_alone_counts_sessions_without_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Carif-Oref's LHEO sessions carry no capacity: counted, adding no place."""
    registry = await catalogue_registry(tmp_path, monkeypatch, demo_blocks(["carif"]))
    try:
        with acting.scoped(None, None):
            result = await count(
                registry,
                CountQuery("training_program", ("month",), sum_field=CAPACITY),
                key_secret=secret(),
            )
    finally:
        await registry.aclose()
    on_carif = dataset().programs_published_on("carif")
    months = Counter(s.start.isoformat()[:7] for p in on_carif for s in p.sessions)
    assert {key[0]: cell.count for key, cell in result.cells.items()} == dict(months)
    assert all(cell.total == 0 for cell in result.cells.values())
    assert result.twins == 0


def test_an_owner_cannot_count_programmes_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its GROUP BY could not tell its twins at other owners: ``check-config`` refuses an
    ``aggregates`` block of training_program, at its line."""
    demo = PARTNERS_FILE.read_text(encoding="utf-8")
    for name in sorted(set(re.findall(r'env = "([A-Z0-9_]+)"', demo))):
        monkeypatch.setenv(name, "test-value")
    anchor = "[partners.cfa-btp.entities.training_program.fields]\n"
    block = "[partners.cfa-btp.entities.training_program.aggregates]\n"
    block += 'dimensions = { departement = "f.code_insee_lieu" }\n\n'
    path = tmp_path / "partners.toml"
    path.write_text(demo.replace(anchor, block + anchor, 1), encoding="utf-8")
    problems = check_file(path)
    where = "partners.cfa-btp.entities.training_program.aggregates.dimensions.departement"
    assert [p.location for p in problems] == [where], format_problems(problems)
    assert "counted once" in problems[0].message


def test_only_public_entities_are_matched_across_owners() -> None:
    assert all(DATA_CLASSES[entity] is not DataClass.PERSONAL for entity in COUNTED_ONCE)


def test_a_slim_copy_keeps_the_counted_paths_only() -> None:
    fields = {
        "title": "CAP Cuisine",
        "location": {"inseeCode": "73065", "city": "Chambéry"},
        "certification": {"romeCodes": ["G1602"], "title": "CAP", "level": 3},
        "sessions": [{"start": "2026-09-07", "capacity": 12, "enrolled": 3}, {"start": "x"}],
    }
    kept = frozenset(
        {"location.inseeCode", "certification.romeCodes", "sessions.start", "sessions.capacity"}
    )
    assert slim(fields, kept) == {
        "location": {"inseeCode": "73065"},
        "certification": {"romeCodes": ["G1602"]},
        "sessions": [{"start": "2026-09-07", "capacity": 12}, {"start": "x"}],
    }
