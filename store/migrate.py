"""Apply the gateway database's migrations: at ``serve`` and ``demo`` start, and by
``alternance-hub db upgrade``.

Migrations run on a connection of the engine the gateway uses, inside one transaction (both
SQLite and PostgreSQL have transactional DDL), so a failed migration leaves the schema as it was.
"""

from __future__ import annotations

import asyncio
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import create_engine, make_sqlite_folder

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade", "upgrade_url"]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("store") / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database of ``engine`` to ``revision`` (the newest by default)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    make_sqlite_folder(engine.url)
    async with engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database of ``engine`` back to ``revision`` (``base``: nothing left)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def upgrade_url(url: str, schema: str | None = None) -> str | None:
    """Migrate the database at ``url`` from synchronous code (the commands); its revision."""

    async def run() -> str | None:
        engine = create_engine(url, schema)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())
