"""Audit events say what an aggregate read asked: the indicator, its grid and its period.

Revision ID: 0004_audit_detail
Revises: 0003_idempotency_records
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit_detail"
down_revision: str | None = "0003_idempotency_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:  # SQLite alters by copying the table
        batch.add_column(sa.Column("detail", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("detail")
