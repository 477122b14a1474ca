"""Gateway databases for the store's tests: a temporary SQLite file, and a real PostgreSQL in a
schema of its own (dropped afterwards), both migrated to the head."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import create_engine
from store.migrate import upgrade
from tests.services import postgres_url

STORE_TABLES = (
    "api_clients",
    "audit_events",
    "audit_event_records",
    "idempotency_records",
)


@dataclass
class Clock:
    """A clock the test moves: leases, TTLs and retention without waiting."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path}/nested/hub.sqlite3")
    yield engine
    await engine.dispose()


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[tuple[AsyncEngine, str]]:
    """An engine on a new PostgreSQL schema, dropped with everything in it afterwards."""
    url = postgres_url()
    schema = f"hub_test_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        engine = create_engine(url, schema)
        try:
            yield engine, schema
        finally:
            await engine.dispose()
    finally:
        await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await connection.close()


@pytest.fixture
async def postgres_engine() -> AsyncIterator[tuple[AsyncEngine, str]]:
    async with postgres_schema() as made:
        yield made


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The gateway database at its head revision, on each backend."""
    if request.param == "sqlite":
        migrated = create_engine(f"sqlite:///{tmp_path}/hub.sqlite3")
        try:
            await upgrade(migrated)
            yield migrated
        finally:
            await migrated.dispose()
        return
    async with postgres_schema() as (pg_engine, _):
        await upgrade(pg_engine)
        yield pg_engine


def down_engine(tmp_path: Path) -> AsyncEngine:
    """A database that cannot be opened: its folder does not exist."""
    return create_engine(f"sqlite:///{tmp_path}/no/such/folder/hub.sqlite3")


async def raw_rows(engine: AsyncEngine) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every store table, as the database holds it."""
    rows: list[tuple[str, tuple[object, ...]]] = []
    async with engine.connect() as connection:
        for table in STORE_TABLES:
            result = await connection.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
            rows.extend((table, tuple(row)) for row in result.all())
    return rows
