"""The core ledger: payments (one row per order id) and their attempts.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payrouter_payments",
        sa.Column("order_id", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("provider", sa.String(100)),
        sa.Column("method", sa.String(20)),
        sa.Column("provider_reference", sa.String(255)),
        sa.Column("action_url", sa.String(2000)),
        sa.Column("failure_kind", sa.String(40)),
        sa.Column("decline_reason", sa.String(300)),
        sa.Column("owner", sa.String(100)),
        sa.Column("lease_until", sa.Double),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
    )
    op.create_index("ix_payrouter_payments_status", "payrouter_payments", ["status"])
    op.create_table(
        "payrouter_attempts",
        sa.Column(
            "order_id",
            sa.String(200),
            sa.ForeignKey("payrouter_payments.order_id"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("failure_kind", sa.String(40)),
        sa.Column("provider_code", sa.String(100)),
        sa.Column("provider_reference", sa.String(255)),
        sa.Column("action_url", sa.String(2000)),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Double),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("finished_at", sa.Double),
        sa.UniqueConstraint("provider", "idempotency_key", name="uq_payrouter_attempt_key"),
    )


def downgrade() -> None:
    op.drop_table("payrouter_attempts")
    op.drop_index("ix_payrouter_payments_status", table_name="payrouter_payments")
    op.drop_table("payrouter_payments")
