"""Audit events: one per read or write of personal data, with pseudonymised references only.

Revision ID: 0002_audit_events
Revises: 0001_api_clients
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_audit_events"
down_revision: str | None = "0001_api_clients"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(32), nullable=False),
        sa.Column("subject_ref", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    # Pages run newest first by (at, id); purges and exports by `at`.
    op.create_index("ix_audit_events_at_id", "audit_events", ["at", "id"])
    op.create_table(
        "audit_event_records",
        sa.Column("event_id", sa.String(40), sa.ForeignKey("audit_events.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("record_ref", sa.String(32), nullable=False),
    )
    # "Who read this record" (the candidate's right of access) looks events up by reference.
    op.create_index("ix_audit_event_records_record_ref", "audit_event_records", ["record_ref"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_records_record_ref", "audit_event_records")
    op.drop_table("audit_event_records")
    op.drop_index("ix_audit_events_at_id", "audit_events")
    op.drop_table("audit_events")
