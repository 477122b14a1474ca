"""Applications counted by the session they are for (``CountQuery.period_field="session"``),
at the demo's two ERPs, over SQLite and PostgreSQL (issue 9, FILL_RATE).

The expected cells come from the data the ERPs are seeded with
(``demo.personal.build_personal_dataset(demo.data.dataset())``): the pushed-down count (the
``aggregates.periods`` column) and the in-memory one (the mapped ``session`` field) must both
equal it, and differ from the same count dated by creation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from adapters.counting import DATED_BY, PERIOD_FIELDS, CountQuery, Period, count_in_memory
from adapters.sql import SqlAdapter
from demo.cfa_erp import BTP, HOTELLERIE
from demo.data import dataset
from demo.person_seeds import ApplicationSeed, PersonalDataset
from demo.personal import build_personal_dataset
from demo.record_keys import secret
from tests.adapters.demo_erps import seeded_erps

WINDOW = Period(date(2025, 12, 1), date(2026, 12, 1))
"""The months of the issue's FILL_RATE (2025-12..2026-11)."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def erps(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, SqlAdapter]]:
    async with seeded_erps(request.param, tmp_path, monkeypatch, "hub_session") as adapters:
        yield adapters


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())  # what the ERPs are seeded with


def by_session(applications: list[ApplicationSeed]) -> Counter[tuple[str | None, ...]]:
    """(status, channel) of the applications whose session starts in WINDOW."""
    return Counter(
        (a.status, a.channel) for a in applications if WINDOW.start <= a.session < WINDOW.end
    )


def test_a_query_names_its_period_field_or_takes_the_default() -> None:
    default = CountQuery("application", ("status",), period=WINDOW)
    assert default.period_field == PERIOD_FIELDS["application"] == "createdAt"
    assert default == CountQuery(
        "application", ("status",), period=WINDOW, period_field="createdAt"
    )
    by_session = CountQuery("application", ("status",), period=WINDOW, period_field="session")
    assert by_session != default and by_session.read_fields == {"status", "session"}
    assert DATED_BY["contract"] == ("startDate",)
    with pytest.raises(ValueError, match="contract is not dated by session"):
        CountQuery("contract", (), period=WINDOW, period_field="session")
    with pytest.raises(ValueError, match="candidate is not dated by createdAt"):
        CountQuery("candidate", (), period_field="createdAt")
    assert CountQuery("candidate", ()).period_field is None


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_applications_by_session_equal_the_data_pushed_down_and_in_memory(
    erps: dict[str, SqlAdapter], erp: str, people: PersonalDataset
) -> None:
    adapter = erps[erp]
    applications = people.applications[erp]
    query = CountQuery("application", ("status", "channel"), period=WINDOW, period_field="session")
    assert adapter.counts(query)
    pushed = await adapter.count(query)
    assert {row.key: row.count for row in pushed} == by_session(applications)
    assert pushed == await count_in_memory(adapter.partner, query, adapter.list, secret())
    assert all(row.key_sum is not None for row in pushed)
    # Dated by creation, the same window holds other applications: the field matters.
    created = [a for a in applications if WINDOW.start <= a.created_at.date() < WINDOW.end]
    in_session = [a for a in applications if WINDOW.start <= a.session < WINDOW.end]
    assert {a.id for a in created} != {a.id for a in in_session}
    assert sum(row.count for row in pushed) == len(in_session) > 20


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_placed_applications_by_session_filter_and_group_as_the_data_says(
    erps: dict[str, SqlAdapter], erp: str, people: PersonalDataset
) -> None:
    """FILL_RATE's numerator at one owner: PLACED, by centre, sessions of the window."""
    adapter = erps[erp]
    query = CountQuery(
        "application",
        ("training_centre",),
        {"status": ("PLACED",)},
        WINDOW,
        period_field="session",
    )
    pushed = await adapter.count(query)
    placed = [
        a
        for a in people.applications[erp]
        if a.status == "PLACED" and WINDOW.start <= a.session < WINDOW.end
    ]
    centre = dataset().centre_with_erp(erp).uai
    assert [(row.key, row.count) for row in pushed] == [((centre,), len(placed))]
    assert len(placed) > 0
    assert pushed == await count_in_memory(adapter.partner, query, adapter.list, secret())


async def test_an_erp_that_declares_no_session_column_does_not_answer(
    erps: dict[str, SqlAdapter],
) -> None:
    """Without ``periods.session`` the database is not asked (the source layer then counts
    the ERP in memory); a count dated by creation is answered as before."""
    adapter = erps[BTP]
    aggregates = adapter.sql.entities["application"].aggregates
    assert aggregates is not None and aggregates.periods == {"session": "a.session"}
    bare = aggregates.model_copy(update={"periods": {}})
    assert bare.period_column("application", "session") is None
    assert bare.period_column("application", "createdAt") == "a.cree_le"
    entity = adapter.sql.entities["application"].model_copy(update={"aggregates": bare})
    config = adapter.sql.model_copy(
        update={"entities": {**adapter.sql.entities, "application": entity}}
    )
    undeclared = SqlAdapter(adapter.partner, config)
    try:
        session = CountQuery("application", (), period=WINDOW, period_field="session")
        assert not undeclared.counts(session)
        assert undeclared.counts(CountQuery("application", (), period=WINDOW))
        assert undeclared.counts(CountQuery("application", ()))  # no period: no date needed
    finally:
        await undeclared.aclose()
