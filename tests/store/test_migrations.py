"""The gateway database is made by its migrations, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from store.clients import client_by_key_id, insert_client, list_clients, revoke_client
from store.database import async_url, create_engine
from store.migrate import current_revision, downgrade, head_revision, upgrade, upgrade_url
from store.models import ApiClient
from tests.services import postgres_url
from tests.store.conftest import STORE_TABLES

COLUMNS = {
    "id",
    "name",
    "role",
    "organisation",
    "subject",
    "created_at",
    "revoked_at",
    "key_id",
    "key_hash",
}


async def _tables(engine: AsyncEngine) -> dict[str, set[str]]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: {
                table: {c["name"] for c in inspect(sync).get_columns(table)}
                for table in inspect(sync).get_table_names()
            }
        )


def _client(key_id: str = "0123456789abcdef") -> ApiClient:
    return ApiClient(
        id="cli_1",
        name="front-end",
        role="ADMIN",
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
        key_id=key_id,
        key_hash="ab" * 32,
    )


async def test_sqlite_is_migrated_to_the_head_and_again_without_change(
    sqlite_engine: AsyncEngine,
) -> None:
    await upgrade(sqlite_engine)
    assert await current_revision(sqlite_engine) == head_revision() == "0004_audit_detail"
    tables = await _tables(sqlite_engine)
    assert tables["api_clients"] == COLUMNS
    assert set(tables) == {"alembic_version", *STORE_TABLES}
    await upgrade(sqlite_engine)  # idempotent: every start runs it
    assert await current_revision(sqlite_engine) == head_revision()


async def test_clients_are_written_read_and_revoked(sqlite_engine: AsyncEngine) -> None:
    await upgrade(sqlite_engine)
    await insert_client(sqlite_engine, _client())
    found = await client_by_key_id(sqlite_engine, "0123456789abcdef")
    assert found is not None and found.name == "front-end" and found.revoked_at is None
    assert await client_by_key_id(sqlite_engine, "fedcba9876543210") is None
    assert await revoke_client(sqlite_engine, "cli_1", datetime(2026, 1, 6, tzinfo=UTC))
    assert not await revoke_client(sqlite_engine, "cli_1", datetime(2026, 1, 7, tzinfo=UTC))
    assert not await revoke_client(sqlite_engine, "cli_unknown", datetime(2026, 1, 7, tzinfo=UTC))
    (listed,) = await list_clients(sqlite_engine)
    assert listed.revoked_at is not None and listed.revoked_at.date().isoformat() == "2026-01-06"


@pytest.mark.postgres
async def test_postgresql_is_migrated_inside_its_own_schema(
    postgres_engine: tuple[AsyncEngine, str],
) -> None:
    engine, schema = postgres_engine
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    assert (await _tables(engine))["api_clients"] == COLUMNS
    await insert_client(engine, _client())
    found = await client_by_key_id(engine, "0123456789abcdef")
    assert found is not None and found.created_at == datetime(2026, 1, 5, tzinfo=UTC)
    connection = await asyncpg.connect(postgres_url())
    try:
        where = await connection.fetch(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = $1",
            "api_clients",
        )
    finally:
        await connection.close()
    assert [row["table_schema"] for row in where].count(schema) == 1


def test_the_commands_migrate_from_synchronous_code(tmp_path: Path) -> None:
    assert upgrade_url(f"sqlite:///{tmp_path}/hub.sqlite3") == head_revision()
    assert (tmp_path / "hub.sqlite3").is_file()


def test_synchronous_urls_get_their_async_driver() -> None:
    assert async_url("sqlite:///x.sqlite3").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgresql+asyncpg://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_engine("sqlite:///x.sqlite3", schema="hub")


AUDIT_COLUMNS = {
    "id",
    "at",
    "client_id",
    "role",
    "organisation",
    "subject_ref",
    "operation",
    "action",
    "entity",
    "outcome",
}
IDEMPOTENCY_COLUMNS = {
    "client_id",
    "key_hash",
    "operation",
    "payload_hash",
    "state",
    "result_ref",
    "client_reference",
    "attempt",
    "claimed_until",
    "created_at",
    "expires_at",
}


async def _walk_up_and_down(engine: AsyncEngine) -> None:
    await upgrade(engine, "0001_api_clients")
    await insert_client(engine, _client())
    assert set(await _tables(engine)) == {"alembic_version", "api_clients"}
    await upgrade(engine, "0002_audit_events")
    tables = await _tables(engine)
    assert tables["audit_events"] == AUDIT_COLUMNS
    assert tables["audit_event_records"] == {"event_id", "position", "record_ref"}
    assert "idempotency_records" not in tables
    await upgrade(engine)
    assert (await _tables(engine))["idempotency_records"] == IDEMPOTENCY_COLUMNS
    # Down one step at a time: each downgrade removes its own tables and nothing else.
    await downgrade(engine, "0002_audit_events")
    assert "idempotency_records" not in await _tables(engine)
    await downgrade(engine, "0001_api_clients")
    assert set(await _tables(engine)) == {"alembic_version", "api_clients"}
    assert await client_by_key_id(engine, "0123456789abcdef") is not None  # kept throughout
    await downgrade(engine, "base")
    assert "api_clients" not in await _tables(engine)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


async def test_sqlite_migrates_up_from_0001_and_down_again(sqlite_engine: AsyncEngine) -> None:
    await _walk_up_and_down(sqlite_engine)


@pytest.mark.postgres
async def test_postgresql_migrates_up_from_0001_and_down_again(
    postgres_engine: tuple[AsyncEngine, str],
) -> None:
    await _walk_up_and_down(postgres_engine[0])


def test_the_stores_public_api_does_not_change_by_accident() -> None:
    import store.audit
    import store.idempotency

    assert set(store.audit.__all__) == {
        "MAX_PAGE_SIZE",
        "MIN_AUDIT_KEY_LENGTH",
        "UNNAMED_OPERATION",
        "Action",
        "Actor",
        "AuditEntry",
        "AuditEvent",
        "AuditFilter",
        "AuditLog",
        "AuditPage",
        "AuditUnavailable",
        "InvalidAuditEvent",
        "InvalidCursor",
        "Outcome",
        "RecordRef",
        "audit_key_bytes",
    }
    assert set(store.idempotency.__all__) == {
        "DEFAULT_LEASE_S",
        "DEFAULT_TTL_S",
        "Claim",
        "ClaimLost",
        "Conflict",
        "Fresh",
        "IdempotencyStore",
        "IdempotencyUnavailable",
        "InProgress",
        "InvalidIdempotencyKey",
        "Replay",
        "State",
        "Unknown",
        "idempotency_subkey",
    }
    for module in (store.audit, store.idempotency):
        for name in module.__all__:
            assert hasattr(module, name), name
