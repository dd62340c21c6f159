"""Admission sheds: each process's count of payments refused at admission, for status.

Revision ID: 0004_admission_sheds
Revises: 0003_webhook_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_admission_sheds"
down_revision = "0003_webhook_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payrouter_admission_sheds",
        sa.Column("flushed_at", sa.Double, primary_key=True),
        sa.Column("owner", sa.String(100), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payrouter_admission_sheds")
