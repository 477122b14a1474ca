"""Applications counted by the session they are for, over every owner, and FILL_RATE through
the indicator engine (issue 9: placed applications dated by creation over the places of the
sessions starting in the period gave 322 %).

The owners are the demo's (``tests/sources/test_counting.py``): both ERPs in SQLite, which
declare the ``session`` column, and Hub3E, whose statistics select by creation only and whose
list shows the observatory no person; for FILL_RATE's places also the catalogues (API
Apprentissage, the Carif-Oref) over ``httpx.ASGITransport``. Expectations are computed from
the demo's data (``demo.personal.build_personal_dataset(demo.data.dataset())``).
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters import acting
from adapters.counting import CountQuery
from demo.cfa_erp import BTP, HOTELLERIE
from demo.data import dataset
from demo.partner_servers import PARTNER_APPS
from demo.person_seeds import PersonalDataset
from demo.personal import build_personal_dataset
from demo.record_keys import secret
from demo.secrets import DEMO_SECRETS
from observatory import TOTAL, DisclosureRules, PTable
from observatory.indicators import INDICATORS, Dimension, IndicatorCode
from sources.cache import HubCache
from sources.counting import COUNT_UNAVAILABLE, CountMethod, count
from sources.indicators import IndicatorCell, IndicatorRequest, Indicators, MonthRange
from tests.sources.test_counting import (
    OBSERVATORY,
    OWNERS,
    PARTNERS_FILE,
    Owners,
    demo_blocks,
    owners_of,
)

MONTHS = MonthRange.parse("2025-12..2026-11")
WINDOW = MONTHS.period
CATALOGUES = ("apprentissage", "carif")
RULES = DisclosureRules()


def blocks(names: tuple[str, ...]) -> dict[str, object]:
    data = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    return {name: data["partners"][name] for name in names}


@pytest.fixture
async def owners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Owners]:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    catalogues = {name: httpx.ASGITransport(app=PARTNER_APPS[name]()) for name in CATALOGUES}
    found = await owners_of(tmp_path, monkeypatch, blocks((*OWNERS, *CATALOGUES)), catalogues)
    yield found
    await found.registry.aclose()


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())


def in_window(people: PersonalDataset, erp: str, status: str | None = None) -> int:
    """The ERP's applications whose session starts in the window (of ``status``, if given)."""
    return sum(
        1
        for a in people.applications[erp]
        if WINDOW.start <= a.session < WINDOW.end and (status is None or a.status == status)
    )


def centre(erp: str) -> str:
    return dataset().centre_with_erp(erp).uai


async def test_by_session_hub3e_is_named_and_the_erps_counts_are_the_datas(
    owners: Owners, people: PersonalDataset
) -> None:
    """Hub3E cannot select its placements by session (its statistics take creation dates,
    its list shows the observatory no person): a partial answer naming it, the ERPs' cells
    whole; dated by creation, the same count has no failure."""
    query = CountQuery("application", ("training_centre",), period=WINDOW, period_field="session")
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(owners.registry, query, key_secret=secret())
        created = await count(
            owners.registry,
            CountQuery("application", ("training_centre",), period=WINDOW),
            key_secret=secret(),
        )
    assert [(e.partner, e.code) for e in result.errors] == [("hub3e", COUNT_UNAVAILABLE)]
    assert "declares no statistics for this count" in result.errors[0].message
    assert result.partners == (BTP, HOTELLERIE)
    assert result.methods == {BTP: CountMethod.PUSHED, HOTELLERIE: CountMethod.PUSHED}
    assert {key: cell.count for key, cell in result.cells.items()} == {
        (centre(erp),): in_window(people, erp) for erp in (BTP, HOTELLERIE)
    }
    assert created.errors == () and "hub3e" in created.partners


async def test_placed_by_session_is_whole_hub3e_holding_no_placed(
    owners: Owners, people: PersonalDataset
) -> None:
    """FILL_RATE's numerator: Hub3E's steps stop at HIRED, so it answers an empty count
    without a call, by session as by creation: no failure, the ERPs' placed apprentices."""
    query = CountQuery(
        "application",
        ("training_centre",),
        {"status": ("PLACED",)},
        WINDOW,
        period_field="session",
    )
    with acting.scoped(OBSERVATORY, owners.signer):
        result = await count(owners.registry, query, key_secret=secret())
    assert result.errors == ()
    assert result.partners == (BTP, HOTELLERIE, "hub3e")
    expected = {(centre(erp),): in_window(people, erp, "PLACED") for erp in (BTP, HOTELLERIE)}
    assert {key: cell.count for key, cell in result.cells.items()} == expected
    assert all(n > 0 for n in expected.values())


async def test_an_owner_counted_in_memory_without_the_date_is_named_not_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, people: PersonalDataset
) -> None:
    """The hotel school's ERP without aggregates nor a mapped ``session``: its records hold
    no session, so counting them in memory would select none; it is COUNT_UNAVAILABLE, the
    other ERP's cells whole, and the same owner still counts by creation in memory."""
    erps = demo_blocks()
    hotellerie = erps[HOTELLERIE]["entities"]["application"]
    del hotellerie["aggregates"], hotellerie["fields"]["session"]
    found = await owners_of(tmp_path, monkeypatch, erps)
    query = CountQuery("application", ("training_centre",), period=WINDOW, period_field="session")
    try:
        with acting.scoped(OBSERVATORY, found.signer):
            result = await count(
                found.registry, query, key_secret=secret(), partners=(BTP, HOTELLERIE)
            )
            created = await count(
                found.registry,
                CountQuery("application", ("training_centre",), period=WINDOW),
                key_secret=secret(),
                partners=(BTP, HOTELLERIE),
            )
    finally:
        await found.registry.aclose()
    assert [(e.partner, e.code) for e in result.errors] == [(HOTELLERIE, COUNT_UNAVAILABLE)]
    assert "cannot select applications by their session" in result.errors[0].message
    assert {key: cell.count for key, cell in result.cells.items()} == {
        (centre(BTP),): in_window(people, BTP)
    }
    assert created.errors == () and created.methods[HOTELLERIE] is CountMethod.IN_MEMORY


def places(erp: str) -> int:
    """The places of the centre's sessions starting in the window, from the seeds."""
    return sum(
        session.capacity
        for program in dataset().programs
        if program.responsible.uai == centre(erp)
        for session in program.sessions
        if WINDOW.start <= session.start < WINDOW.end
    )


def placed_created_in_window(people: PersonalDataset, erp: str) -> int:
    """The ERP's placed applications created in the window (the former numerator)."""
    return sum(
        1
        for a in people.applications[erp]
        if a.status == "PLACED" and WINDOW.start <= a.created_at.date() < WINDOW.end
    )


async def fill_rate(owners: Owners) -> dict[str, IndicatorCell]:
    """FILL_RATE by TRAINING_CENTRE over the window, through the engine, by centre."""
    indicators = Indicators(owners.registry, HubCache(), key_secret=secret(), rules=RULES)
    request = IndicatorRequest(IndicatorCode.FILL_RATE, (Dimension.TRAINING_CENTRE,), MONTHS)
    with acting.scoped(OBSERVATORY, owners.signer):
        table = await indicators.table(request)
    assert table.failures == ()
    return {cell.at(Dimension.TRAINING_CENTRE): cell for cell in table.cells}


async def test_fill_rate_by_centre_is_the_placed_of_the_windows_sessions_over_their_places(
    owners: Owners, people: PersonalDataset
) -> None:
    """At both ERP centres: the numerator is the published count of the apprentices placed on
    the sessions starting in the window (a p-table value of the data's, not of those created
    in the window), the denominator those sessions' places, the value their ratio."""
    assert INDICATORS[IndicatorCode.FILL_RATE].numerator.dated_by == "session"
    cells = await fill_rate(owners)
    ptable = PTable(RULES.threshold)
    for erp in (BTP, HOTELLERIE):
        cell = cells[centre(erp)]
        assert cell.suppressed is None and cell.numerator is not None, cell
        assert cell.denominator == places(erp) > 0
        possible = ptable.preimage(round(cell.numerator))
        assert in_window(people, erp, "PLACED") in possible
        assert placed_created_in_window(people, erp) not in possible
        assert cell.value == pytest.approx(cell.numerator / cell.denominator)
    assert TOTAL in cells


async def test_fill_rate_at_the_erp_centres_is_at_most_one(owners: Owners) -> None:
    """Every application is for a session of its programme and a session holds no more
    contracts than its places (demo.places): at both centres the rate is in (0, 1]."""
    cells = await fill_rate(owners)
    for erp in (BTP, HOTELLERIE):
        value = cells[centre(erp)].value
        assert value is not None and 0 < value <= 1, (erp, cells[centre(erp)])
