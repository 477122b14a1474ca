"""Counts pushed down to the demo's two ERPs (one GROUP BY) equal the same counts made in
memory from their lists, over SQLite and PostgreSQL (issue 9, items 2 and 8).

Expectations come from whatever the ERPs hold: the in-memory count reads the records through
the entity's mapping, the pushed-down one through the ``aggregates`` block; they must agree
cell by cell, record keys included (the ERPs store the keys the hub would compute).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column, event, table
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.counting import DIMENSIONS, CountQuery, CountRow, Period, count_in_memory
from adapters.sql import SqlAdapter
from adapters.types import ListQuery
from demo.cfa_erp import BTP, HOTELLERIE
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
    """The dimensions the ERP counts itself: its declared ones and its constant centre."""
    aggregates = adapter.sql.entities[entity].aggregates
    assert aggregates is not None
    return [*aggregates.dimensions, "training_centre"]


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


_SEEN: dict[int, dict[str, list[CountRow]]] = {}


async def seen_by(adapter: SqlAdapter) -> dict[str, list[CountRow]]:
    """Every entity's finest in-memory count, once per adapter: where filters draw from."""
    if id(adapter) not in _SEEN:
        _SEEN[id(adapter)] = {
            entity: await in_memory(adapter, CountQuery(entity, tuple(declared(adapter, entity))))
            for entity in COUNTED
        }
    return _SEEN[id(adapter)]


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
