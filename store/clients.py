"""Reading and writing API clients (:class:`store.models.ApiClient`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import ApiClient

__all__ = ["client_by_key_id", "insert_client", "list_clients", "revoke_client"]


async def insert_client(engine: AsyncEngine, client: ApiClient) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add(client)
        await session.commit()


async def client_by_key_id(engine: AsyncEngine, key_id: str) -> ApiClient | None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        found = await session.exec(select(ApiClient).where(ApiClient.key_id == key_id))
        return found.first()


async def list_clients(engine: AsyncEngine) -> Sequence[ApiClient]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        found = await session.exec(select(ApiClient).order_by(col(ApiClient.created_at)))
        return found.all()


async def revoke_client(engine: AsyncEngine, client_id: str, at: datetime) -> bool:
    """Mark the client revoked at ``at``; False when no such client (or already revoked)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        client = await session.get(ApiClient, client_id)
        if client is None or client.revoked_at is not None:
            return False
        client.revoked_at = at
        session.add(client)
        await session.commit()
        return True
