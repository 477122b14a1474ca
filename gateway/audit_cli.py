"""``alternance-hub audit purge`` and ``alternance-hub audit export``.

They work on the audit trail's database (``HUB_AUDIT_DATABASE_URL``, by default the gateway
database), migrated first. Neither hashes anything, so neither needs ``HUB_AUDIT_KEY``: a purge
job need not hold the secret.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from gateway.settings import Settings
from store.audit import AuditLog, AuditUnavailable, InvalidAuditEvent, audit_key_bytes
from store.database import create_engine
from store.migrate import upgrade

__all__ = ["export", "parse_instant", "purge"]

T = TypeVar("T")


def _fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or instant; without a zone it is UTC."""
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _run(settings: Settings, work: Callable[[AuditLog], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(*settings.audit_database)
        try:
            await upgrade(engine)
            # Purge and export read no hash: without the key configured, any key will do.
            key = (
                audit_key_bytes(settings.audit_key.get_secret_value())
                if settings.audit_key is not None
                else secrets.token_bytes(32)
            )
            return await work(AuditLog(engine, key))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def purge(settings: Settings, older_than_days: int | None) -> int:
    days = settings.audit_retention_days if older_than_days is None else older_than_days
    if days < 1:
        return _fail("audit purge: --older-than-days takes 1 or more", 2)
    try:
        removed = _run(settings, lambda audit: audit.purge(days))
    except (SQLAlchemyError, OSError, AuditUnavailable) as error:
        return _fail(f"audit purge: the audit store cannot be used: {type(error).__name__}")
    print(f"{removed} audit events older than {days} days removed")
    return 0


def export(settings: Settings, since: str | None, until: str | None, output: Path | None) -> int:
    try:
        start = parse_instant(since) if since else None
        end = parse_instant(until) if until else None
    except ValueError:
        return _fail("audit export: --since and --until take ISO 8601 dates or instants", 2)

    async def write(audit: AuditLog, stream: TextIO) -> int:
        return await audit.export_jsonl(stream, start, end)

    try:
        if output is None:
            count = _run(settings, lambda audit: write(audit, sys.stdout))
        else:
            with output.open("w", encoding="utf-8") as stream:
                count = _run(settings, lambda audit: write(audit, stream))
    except (SQLAlchemyError, OSError, AuditUnavailable) as error:
        return _fail(f"audit export: the audit store cannot be used: {type(error).__name__}")
    except InvalidAuditEvent as error:
        return _fail(f"audit export: {error}", 2)
    print(f"{count} audit events exported", file=sys.stderr)
    return 0
