"""The in-memory count holds one page at a time, never the whole list (issue 9, item 2: "counted
in memory from a streamed read that is discarded as it is counted").

An owner of 20,000 applications, each with a long free-text column, is counted in memory by
pages of 200; the peak of traced allocations during the count is compared with the peak of
reading the same list whole, in the same process: holding every record cannot pass.
"""

from __future__ import annotations

import sqlite3
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import acting
from adapters.counting import CountQuery, count_in_memory
from adapters.partners_file import parse_partners
from adapters.sql import SqlAdapter
from adapters.sql_config import SqlPartner
from adapters.types import ListQuery
from identity.principal import Principal, Role

RECORDS = 20_000
PAGE = 200
STATUSES = ("SUBMITTED", "ADMITTED", "PLACED", "WITHDRAWN")


@pytest.fixture
async def owner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqlAdapter]:
    path = tmp_path / "many.db"
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE dossiers (id INTEGER PRIMARY KEY, statut TEXT, cree_le TEXT, note TEXT)"
        )
        db.executemany(
            "INSERT INTO dossiers VALUES (?, ?, ?, ?)",
            (
                (
                    i,
                    STATUSES[i % len(STATUSES)],
                    (start + timedelta(hours=7 * i)).strftime("%Y-%m-%d %H:%M:%S"),
                    f"note {i} " + "x" * 400,
                )
                for i in range(1, RECORDS + 1)
            ),
        )
    monkeypatch.setenv("HUB_MANY_DSN", f"sqlite+aiosqlite:///{path}")
    block = {
        "kind": "sql",
        "dsn": {"env": "HUB_MANY_DSN"},
        "max_items": 100_000,
        "entities": {
            "application": {
                "table": "dossiers",
                "alias": "d",
                "id": "d.id",
                "columns": {"d.id": "int"},
                "page_size": 10_000,
                "fields": {"status": "d.statut", "createdAt": "d.cree_le", "reason": "d.note"},
            }
        },
    }
    config = parse_partners({"version": 1, "partners": {"many": block}}).partners["many"]
    assert isinstance(config, SqlPartner)
    adapter = SqlAdapter("many", config)
    yield adapter
    await adapter.aclose()


async def test_counting_in_memory_holds_one_page_not_the_list(owner: SqlAdapter) -> None:
    query = CountQuery("application", ("status", "month"))
    with acting.scoped(Principal(Role.OBSERVATORY, "", "analyst"), None):
        await owner.list(ListQuery("application", {}, 5))  # engine, mapper compiled: not measured

        tracemalloc.start()
        try:
            whole = await owner.list(
                ListQuery("application", {}, RECORDS, fields=query.read_fields)
            )
            assert len(whole.records) == RECORDS
            _, holding_everything = tracemalloc.get_traced_memory()
            del whole
            tracemalloc.reset_peak()
            calls = owner.calls
            rows = await count_in_memory("many", query, owner.list, b"secret", page_size=PAGE)
            _, counting = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert sum(row.count for row in rows) == RECORDS
    assert owner.calls - calls >= RECORDS // PAGE  # read page by page
    # Each page is dropped before the next: the peak is a page's worth, not 100 of them.
    assert counting < holding_everything / 10, (counting, holding_everything)
