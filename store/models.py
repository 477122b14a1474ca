"""The gateway database's tables, in their own metadata (never the demo partners').

The tables are created by migrations (:mod:`store.migrations`); these models are how the code
reads and writes them, and what ``alembic revision --autogenerate`` compares a new migration to.
None of them holds a name, an e-mail, a birth date or any other value a partner owns: the audit
trail and the idempotency records keep keyed hashes and references only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Index, TypeDecorator
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "ApiClient",
    "AuditEventRecordRow",
    "AuditEventRow",
    "IdempotencyRecordRow",
    "StoreModel",
    "UtcDateTime",
]


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: written in UTC, read back with its zone on every backend.

    SQLite has no zone-aware column: an aware datetime is stored as its naive UTC spelling, so
    comparisons and ordering stay right, and the zone is put back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("an instant of the gateway database needs a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


class AuditEventRow(StoreModel, table=True):
    """One read or write of personal data: who, when, which operation; no value, no name."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at_id", "at", "id"),)

    id: str = Field(primary_key=True, max_length=40)
    at: datetime = Field(sa_type=UtcDateTime)
    client_id: str = Field(max_length=64)  # the API client id or the JWT's jti
    role: str = Field(max_length=32)
    organisation: str = Field(max_length=32)  # a UAI, SIRET or OPCO code: an organisation's
    subject_ref: str = Field(max_length=32)  # keyed hash of the principal's subject
    operation: str = Field(max_length=100)
    action: str = Field(max_length=8)
    entity: str = Field(max_length=64)
    outcome: str = Field(max_length=32)
    # What an aggregate read (COUNT) asked: indicator, grid, period. Codes only, no value.
    detail: str | None = Field(default=None, max_length=200)


class AuditEventRecordRow(StoreModel, table=True):
    """One pseudonymised record reference of an event, indexed for "who read this record"."""

    __tablename__ = "audit_event_records"

    event_id: str = Field(primary_key=True, foreign_key="audit_events.id", max_length=40)
    position: int = Field(primary_key=True)
    record_ref: str = Field(max_length=32, index=True)


class IdempotencyRecordRow(StoreModel, table=True):
    """One idempotency key of one client: the state of its mutation and the result's reference.

    The key itself and the mutation's arguments are never stored: a keyed hash of the key, the
    SHA-256 of the canonical arguments.
    """

    __tablename__ = "idempotency_records"

    client_id: str = Field(primary_key=True, max_length=64)
    key_hash: str = Field(primary_key=True, max_length=64)
    operation: str = Field(max_length=100)
    payload_hash: str = Field(max_length=64)
    state: str = Field(max_length=16)
    result_ref: str | None = Field(default=None, max_length=200)
    client_reference: str = Field(max_length=64)
    attempt: str = Field(max_length=32)  # which claim holds it now: a stale holder cannot write
    claimed_until: datetime = Field(sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)
