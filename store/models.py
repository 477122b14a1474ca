"""The gateway database's tables, in their own metadata (never the demo partners').

The tables are created by migrations (:mod:`store.migrations`); these models are how the code
reads and writes them, and what ``alembic revision --autogenerate`` compares a new migration to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = ["ApiClient", "StoreModel"]


class StoreModel(SQLModel, registry=registry()):
    """Base of the gateway database's tables."""


class ApiClient(StoreModel, table=True):
    """One API client: who it acts as, and the keyed hash of its key (never the key)."""

    __tablename__ = "api_clients"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    role: str = Field(max_length=32)
    organisation: str = Field(default="", max_length=32)
    subject: str = Field(default="", max_length=200)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(
        default=None,
        sa_type=DateTime(timezone=True),
    )
    key_id: str = Field(max_length=32, unique=True)
    key_hash: str = Field(max_length=64)  # HMAC-SHA-256 of the key's secret, hex
