"""Discrepancies: each difference records reconciliation found, kept until resolved or
acknowledged.

Revision ID: 0005_discrepancies
Revises: 0004_admission_sheds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_discrepancies"
down_revision = "0004_admission_sheds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payrouter_discrepancies",
        sa.Column("discrepancy_id", sa.String(600), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("provider_reference", sa.String(255)),
        sa.Column("order_id", sa.String(200)),
        sa.Column("reference", sa.String(255)),
        sa.Column("ledger_side", sa.String(300)),
        sa.Column("provider_side", sa.String(300)),
        sa.Column("action", sa.String(500), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("occurred_at", sa.Double, nullable=False),
        sa.Column("first_seen", sa.Double, nullable=False),
        sa.Column("last_seen", sa.Double, nullable=False),
        sa.Column("closed_at", sa.Double),
        sa.Column("note", sa.String(500)),
    )
    op.create_index(
        "ix_payrouter_discrepancies_state", "payrouter_discrepancies", ["state", "provider"]
    )


def downgrade() -> None:
    op.drop_index("ix_payrouter_discrepancies_state", table_name="payrouter_discrepancies")
    op.drop_table("payrouter_discrepancies")
