"""The async engine of the gateway's database, from ``HUB_DATABASE_URL``.

A SQLite file by default (``./var/hub.sqlite3``); PostgreSQL with
``postgresql+asyncpg://user@host/db``. The synchronous spellings (``sqlite:///``,
``postgresql://``) are accepted and given their async driver. ``schema`` (PostgreSQL only) puts
every table, Alembic's own included, in that schema: one database can hold several hubs, and
the tests use a schema of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["DEFAULT_DATABASE_URL", "async_url", "create_engine", "make_sqlite_folder"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/hub.sqlite3"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str | URL) -> URL:
    """``url`` with its async driver (``sqlite`` -> ``sqlite+aiosqlite``)."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver is not None else parsed


def create_engine(url: str | URL, schema: str | None = None) -> AsyncEngine:
    """The engine of the gateway database at ``url``; it connects at its first use."""
    parsed = async_url(url)
    connect_args: dict[str, Any] = {}
    backend = parsed.get_backend_name()
    if schema is not None:
        if backend != "postgresql":
            raise ValueError("a database schema is a PostgreSQL setting")
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Write-ahead logging: a commit is one append and one fsync of the log instead of the
    rollback journal's several (every personal read commits its audit event before the answer
    leaves), readers do not block the writer, and several workers share the file, waiting up
    to 5 s for each other's commits instead of failing at once. Durability is unchanged
    (``synchronous`` stays FULL)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_sqlite_folder(url: str | URL) -> None:
    """Create the folder of a SQLite file (the migrations do, before they create the file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
