"""Counts pushed down to the demo's two ERPs (one GROUP BY) equal the same counts made in
memory from their lists, over SQLite and PostgreSQL (issue 9, items 2 and 8).

Expectations come from whatever the ERPs hold: the in-memory count reads the records through
the entity's mapping, the pushed-down one through the ``aggregates`` block; they must agree
cell by cell, record keys included (the ERPs store the keys the hub would compute).
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column, event, table
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.counting import (
    DIMENSIONS,
    CountQuery,
    CountRow,
    CountUnavailable,
    Period,
    count_in_memory,
)
from adapters.sql import SqlAdapter
from adapters.types import ListQuery
from demo.cfa_erp import BTP, HOTELLERIE
from demo.data import dataset
from demo.person_seeds import ApplicationSeed, PersonalDataset
from demo.personal import build_personal_dataset
from demo.record_keys import secret
from tests.adapters.demo_erps import seeded_erps

COUNTED = ("candidate", "application", "follow_up")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def erps(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, SqlAdapter]]:
    async with seeded_erps(request.param, tmp_path, monkeypatch, "hub_count") as adapters:
        yield adapters


async def in_memory(adapter: SqlAdapter, query: CountQuery) -> list[CountRow]:
    return await count_in_memory(adapter.partner, query, adapter.list, secret())


def declared(adapter: SqlAdapter, entity: str) -> list[str]:
    """The dimensions the ERP counts itself that its list can be counted by too: its declared
    ones and its constant centre, less those read from a related record (pushed down only,
    checked against the data below)."""
    aggregates = adapter.sql.entities[entity].aggregates
    assert aggregates is not None
    names = [*aggregates.dimensions, "training_centre"]
    return [name for name in names if not DIMENSIONS[entity][name].pushed_only]


@st.composite
def queries(draw: st.DrawFn, adapter: SqlAdapter, seen: dict[str, list[CountRow]]) -> CountQuery:
    """A count of one entity: some of its dimensions, filters on values the ERP holds (or
    not), and for dated entities a period."""
    entity = draw(st.sampled_from(COUNTED))
    names = declared(adapter, entity)
    dimensions = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
    filtered = draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
    everything = seen[entity]
    filters: dict[str, tuple[str, ...]] = {}
    for name in filtered:
        held = sorted({row.key[names.index(name)] or "" for row in everything} - {""})
        values = draw(st.lists(st.sampled_from([*held, "zz-absent"]), min_size=1, max_size=3))
        filters[name] = tuple(values)
    period = None
    if entity != "candidate" and draw(st.booleans()):
        start = date(2024, 6, 1) + timedelta(days=draw(st.integers(0, 600)))
        period = Period(start, start + timedelta(days=draw(st.integers(1, 400))))
    return CountQuery(entity, tuple(dimensions), filters, period)


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_every_record_is_counted_once(erps: dict[str, SqlAdapter], erp: str) -> None:
    adapter = erps[erp]
    for entity in COUNTED:
        rows, resume = 0, None
        while True:  # the whole list, page by page: one call reads at most max_items
            page = await adapter.list(
                ListQuery(entity, {}, 1000, resume=resume, fields=frozenset())
            )
            rows += len(page.records)
            if page.exhausted:
                break
            resume = page.end
        pushed = await adapter.count(CountQuery(entity, ()))
        assert [row.count for row in pushed] == [rows]
        assert rows > 10, "a count over a handful of rows proves little"


_SEEN: weakref.WeakKeyDictionary[SqlAdapter, dict[str, list[CountRow]]] = (
    weakref.WeakKeyDictionary()
)
"""Keyed by the adapter itself, held weakly: an id would be reused by a later adapter (another
ERP's) once the first is collected, and its filters drawn from the wrong data."""


async def seen_by(adapter: SqlAdapter) -> dict[str, list[CountRow]]:
    """Every entity's finest in-memory count, once per adapter: where filters draw from."""
    if adapter not in _SEEN:
        _SEEN[adapter] = {
            entity: await in_memory(adapter, CountQuery(entity, tuple(declared(adapter, entity))))
            for entity in COUNTED
        }
    return _SEEN[adapter]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(data=st.data())
@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_pushed_down_counts_equal_in_memory_counts(
    erps: dict[str, SqlAdapter], erp: str, data: st.DataObject
) -> None:
    adapter = erps[erp]
    query = data.draw(queries(adapter, await seen_by(adapter)))
    assert adapter.counts(query)
    pushed = await adapter.count(query)
    assert pushed == await in_memory(adapter, query)
    assert all(row.key_sum is not None for row in pushed)


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_a_whole_grid_agrees(erps: dict[str, SqlAdapter], erp: str) -> None:
    """Every declared dimension at once, with a period: the finest table of each entity."""
    adapter = erps[erp]
    for entity in COUNTED:
        period = None if entity == "candidate" else Period(date(2024, 1, 1), date(2027, 1, 1))
        query = CountQuery(entity, tuple(declared(adapter, entity)), period=period)
        pushed = await adapter.count(query)
        assert pushed == await in_memory(adapter, query)
        assert len(pushed) > 3


async def test_a_filter_value_with_sql_metacharacters_is_a_bound_value(
    erps: dict[str, SqlAdapter],
) -> None:
    adapter = erps[BTP]
    tricky = "web' OR '1'='1; -- %_\\"
    engine = create_async_engine(adapter.sql.dsn.resolve())
    schema = adapter.sql.db_schema
    try:
        async with engine.begin() as connection:
            in_schema = schema if engine.dialect.name == "postgresql" else None
            applications = table("candidatures", column("id"), column("canal"), schema=in_schema)
            await connection.execute(
                applications.update().where(applications.c.id == 1).values(canal=tricky)
            )
    finally:
        await engine.dispose()
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(adapter.engine().sync_engine, "before_cursor_execute", seen)
    query = CountQuery("application", ("channel",), {"channel": (tricky, "%")})
    pushed = await adapter.count(query)
    assert pushed == [CountRow((tricky,), 1, None, pushed[0].key_sum)]
    assert pushed == await in_memory(adapter, query)
    everything = await adapter.count(CountQuery("application", ()))
    assert everything[0].count > 1  # the value did not turn into "every row"
    (statement, parameters), *_ = statements
    assert tricky not in statement and "%" not in statement.replace("%s", "").replace("%(", "")
    assert tricky in str(parameters)


async def test_a_count_is_one_statement_reading_no_personal_column(
    erps: dict[str, SqlAdapter],
) -> None:
    adapter = erps[HOTELLERIE]
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(adapter.engine().sync_engine, "before_cursor_execute", seen)
    query = CountQuery("candidate", ("departement", "training_centre"))
    rows = await adapter.count(query)
    assert len(statements) == 1
    assert "GROUP BY" in statements[0]
    for personal in ("nom", "prenom", "courriel", "date_naissance", "ine"):
        assert f".{personal}" not in statements[0] and f'"{personal}"' not in statements[0]
    assert {row.key[1] for row in rows} == {"0742182V"}  # the mapping's constant centre
    assert all(row.key[0] is None or len(row.key[0]) == 2 for row in rows)
    assert "departement" in DIMENSIONS["candidate"]


# -- dimensions read from related records: pushed down only, checked against the demo data ----


@pytest.fixture(scope="module")
def people() -> PersonalDataset:
    return build_personal_dataset(dataset())  # what the ERPs are seeded with


def related_cell(people: PersonalDataset, application: ApplicationSeed) -> tuple[str, ...]:
    """An application's home département, programme's ROME domain and level, from the data."""
    home = people.person_of(application.erp, application.candidate_id).commune_insee
    program = application.program
    return (home[:2], program.rome_codes[0][:3], str(program.level))


def days_to_placement(application: ApplicationSeed) -> str:
    placed = application.reached("PLACED")
    assert placed is not None
    return str((placed.at - application.created_at).days)


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_related_dimensions_equal_the_demo_data(
    erps: dict[str, SqlAdapter], erp: str, people: PersonalDataset
) -> None:
    """The candidate's département and the programme's ROME domain and level, read through
    the declared joins (and cfa-hotellerie's own "Niveau 3" map), equal the data's."""
    adapter = erps[erp]
    applications = people.applications[erp]
    query = CountQuery("application", ("departement", "rome_domain", "level"))
    assert adapter.counts(query)
    pushed = {row.key: row.count for row in await adapter.count(query)}
    expected = Counter(related_cell(people, a) for a in applications)
    assert pushed == expected
    assert len({key[1] for key in expected}) > 1 and len({key[2] for key in expected}) > 1
    assert sum(pushed.values()) == len(applications)  # the joins added no row


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_related_dimensions_filter_as_the_data_says(
    erps: dict[str, SqlAdapter], erp: str, people: PersonalDataset
) -> None:
    adapter = erps[erp]
    applications = people.applications[erp]
    cells = Counter(related_cell(people, a) for a in applications)
    # The most frequent level and a département: a filter that keeps part of the data.
    level = Counter(key[2] for key in cells.elements()).most_common(1)[0][0]
    kept = {"departement": ("74", "01"), "level": (level, "8")}
    query = CountQuery("application", ("rome_domain", "status"), kept)
    pushed = {row.key: row.count for row in await adapter.count(query)}
    expected = Counter(
        (related_cell(people, a)[1], a.status)
        for a in applications
        if related_cell(people, a)[0] in kept["departement"]
        and related_cell(people, a)[2] in kept["level"]
    )
    assert pushed == expected
    assert 0 < sum(expected.values()) < len(applications)


@pytest.mark.parametrize("erp", [BTP, HOTELLERIE])
async def test_days_to_placement_equal_the_demo_data(
    erps: dict[str, SqlAdapter], erp: str, people: PersonalDataset
) -> None:
    """The histogram of days from creation to the PLACED step (a correlated subquery on the
    steps), as the data has it, and as the in-memory path reads it from the history."""
    adapter = erps[erp]
    query = CountQuery("application", ("days_to_placement",), {"status": ("PLACED",)})
    pushed = await adapter.count(query)
    placed = [a for a in people.applications[erp] if a.status == "PLACED"]
    assert {row.key[0]: row.count for row in pushed} == Counter(map(days_to_placement, placed))
    assert len(pushed) > 5
    assert pushed == await in_memory(adapter, query)
    # Never placed: None, at the owner as in memory.
    unplaced = CountQuery("application", ("days_to_placement",), {"status": ("WITHDRAWN",)})
    assert [row.key for row in await adapter.count(unplaced)] == [(None,)]
    some_days = tuple(sorted({row.key[0] or "" for row in pushed})[:3])
    filtered = CountQuery("application", ("status",), {"days_to_placement": (*some_days, "x")})
    assert await adapter.count(filtered) == await in_memory(adapter, filtered)


async def test_in_memory_refuses_a_related_dimension_before_any_call(
    erps: dict[str, SqlAdapter],
) -> None:
    adapter = erps[BTP]
    calls = adapter.calls
    query = CountQuery("application", ("status",), {"rome_domain": ("F16",)})
    with pytest.raises(CountUnavailable) as refused:
        await in_memory(adapter, query)
    assert refused.value.code == "COUNT_UNAVAILABLE"
    assert "cannot break applications down by rome_domain" in str(refused.value)
    assert adapter.calls == calls
