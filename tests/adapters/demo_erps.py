"""The demo's two training-centre ERPs, seeded for a test and read by the real SQL adapter:
SQLite files, or schemas of their own in the real PostgreSQL (dropped afterwards)."""

from __future__ import annotations

import contextlib
import tomllib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import DropSchema

from adapters.partners_file import parse_partners
from adapters.sql import SqlAdapter
from adapters.sql_config import SqlPartner
from demo.cfa_erp import BTP, DSN_ENV, HOTELLERIE, seed_cfa_btp, seed_cfa_hotellerie
from tests.services import postgres_url

PARTNERS_FILE = Path(__file__).resolve().parents[2] / "demo" / "partners.toml"


def demo_blocks() -> dict[str, SqlPartner]:
    """The two ERP blocks of the demo partners file, validated as the gateway validates them."""
    data = tomllib.loads(PARTNERS_FILE.read_text(encoding="utf-8"))
    mine = {name: data["partners"][name] for name in (BTP, HOTELLERIE)}
    parsed = parse_partners({"version": 1, "partners": mine}, str(PARTNERS_FILE))
    blocks = {}
    for name, block in parsed.partners.items():
        assert isinstance(block, SqlPartner)
        blocks[name] = block
    return blocks


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _drop(dsn: str, schema: str) -> None:
    engine = create_async_engine(dsn)
    try:
        async with engine.begin() as connection:
            await connection.execute(DropSchema(schema, cascade=True, if_exists=True))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def seeded_erps(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema_prefix: str
) -> AsyncIterator[dict[str, SqlAdapter]]:
    """Both ERPs seeded on ``backend`` (``sqlite`` or ``postgres``), one adapter each."""
    blocks = demo_blocks()
    schemas: dict[str, str | None] = {BTP: None, HOTELLERIE: None}
    if backend == "sqlite":
        dsns = {name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}" for name in blocks}
    else:
        url = asyncpg_url(postgres_url())
        dsns = {name: url for name in blocks}
        run = uuid.uuid4().hex[:8]
        schemas = {BTP: f"{schema_prefix}_btp_{run}", HOTELLERIE: f"{schema_prefix}_hot_{run}"}
    adapters: dict[str, SqlAdapter] = {}
    try:
        await seed_cfa_btp(dsns[BTP], schemas[BTP])
        await seed_cfa_hotellerie(dsns[HOTELLERIE], schemas[HOTELLERIE])
        for name, block in blocks.items():
            monkeypatch.setenv(DSN_ENV[name], dsns[name])
            if schemas[name] is not None:
                block = block.model_copy(update={"db_schema": schemas[name]})
            adapters[name] = SqlAdapter(name, block)
        yield adapters
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        for name, schema in schemas.items():
            if schema is not None:
                await _drop(dsns[name], schema)
