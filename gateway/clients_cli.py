"""``alternance-hub db upgrade`` and ``alternance-hub clients add|list|revoke``.

They work on the database of ``HUB_DATABASE_URL`` (``HUB_DATABASE_SCHEMA``), migrated first, so
they can run before the gateway ever started. ``clients add`` prints the new key once: only its
keyed hash is stored (``HUB_API_KEY_PEPPER`` must be the value the gateway runs with).
``clients list`` never shows a key nor a hash.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from gateway.settings import Settings
from identity.api_keys import hash_secret, issue_key, pepper_bytes
from identity.principal import InvalidPrincipal, new_principal
from store.clients import insert_client, list_clients, revoke_client
from store.database import create_engine
from store.migrate import upgrade, upgrade_url
from store.models import ApiClient

__all__ = ["add_client", "db_upgrade", "print_clients", "revoke"]


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def db_upgrade(settings: Settings) -> int:
    """Migrate the gateway database, and the audit database when it is another one (the same
    migrations: its clients and idempotency tables stay empty)."""
    databases = [("gateway database", settings.database_url, settings.database_schema)]
    if settings.audit_database_url is not None:
        databases.append(("audit database", *settings.audit_database))
    for what, url, schema in databases:
        try:
            revision = upgrade_url(url, schema)
        except (SQLAlchemyError, OSError) as error:
            return _fail(f"db upgrade: the {what} did not migrate: {type(error).__name__}")
        print(f"{what} at revision {revision}")
    return 0


def add_client(
    settings: Settings, name: str, role: str, organisation: str | None, subject: str | None
) -> int:
    if settings.api_key_pepper is None:
        return _fail(
            "clients add: HUB_API_KEY_PEPPER is not set (the value the gateway runs with: "
            "the key's hash needs it)"
        )
    try:
        pepper = pepper_bytes(settings.api_key_pepper.get_secret_value())
        principal = new_principal(role, organisation, subject)
    except (ValueError, InvalidPrincipal) as error:
        return _fail(f"clients add: {error}")
    if not name.strip() or len(name) > 200:
        return _fail("clients add: --name takes 1 to 200 characters")
    issued = issue_key()
    client = ApiClient(
        id="cli_" + secrets.token_hex(6),
        name=name.strip(),
        role=str(principal.role),
        organisation=principal.organisation,
        subject=principal.subject,
        created_at=datetime.now(UTC),
        key_id=issued.key_id,
        key_hash=hash_secret(issued.secret, pepper),
    )

    async def run() -> None:
        engine = create_engine(settings.database_url, settings.database_schema)
        try:
            await upgrade(engine)
            await insert_client(engine, client)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"client {client.id} ({client.role}) added. Its API key, shown this once:")
    print(issued.key)
    return 0


def print_clients(settings: Settings) -> int:
    async def run() -> list[ApiClient]:
        engine = create_engine(settings.database_url, settings.database_schema)
        try:
            await upgrade(engine)
            return list(await list_clients(engine))
        finally:
            await engine.dispose()

    clients = asyncio.run(run())
    columns = ("id", "name", "role", "organisation", "subject", "created", "revoked")
    rows = [
        (
            c.id,
            c.name,
            c.role,
            c.organisation or "-",
            c.subject or "-",
            f"{c.created_at:%Y-%m-%d %H:%M}",
            f"{c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at is not None else "-",
        )
        for c in clients
    ]
    widths = [max(len(str(r[i])) for r in (columns, *rows)) for i in range(len(columns))]
    for row in (columns, *rows):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return 0


def revoke(settings: Settings, client_id: str) -> int:
    async def run() -> bool:
        engine = create_engine(settings.database_url, settings.database_schema)
        try:
            await upgrade(engine)
            return await revoke_client(engine, client_id, datetime.now(UTC))
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        return _fail(f"clients revoke: no active client {client_id}")
    print(
        f"client {client_id} revoked: every replica refuses its key within "
        f"{settings.api_key_cache_ttl_s:g} s"
    )
    return 0
