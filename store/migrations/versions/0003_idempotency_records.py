"""Idempotency records: per client and keyed hash of the key, the mutation's state and result.

Revision ID: 0003_idempotency_records
Revises: 0002_audit_events
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_idempotency_records"
down_revision: str | None = "0002_audit_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        # The primary key is the unique constraint that lets exactly one concurrent call in.
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result_ref", sa.String(200), nullable=True),
        sa.Column("client_reference", sa.String(64), nullable=False),
        sa.Column("attempt", sa.String(32), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_records_expires_at", "idempotency_records", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_records_expires_at", "idempotency_records")
    op.drop_table("idempotency_records")
