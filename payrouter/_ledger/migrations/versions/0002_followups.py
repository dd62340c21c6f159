"""Follow-ups: the durable outbox of captures, refunds, voids and mandate cancellations, and
whether a payment was authorized only.

Revision ID: 0002_followups
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_followups"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payrouter_payments") as batch:
        batch.add_column(
            sa.Column("authorize_only", sa.Boolean, nullable=False, server_default="0")
        )
    op.create_table(
        "payrouter_followups",
        sa.Column("followup_id", sa.String(500), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("order_id", sa.String(200), sa.ForeignKey("payrouter_payments.order_id")),
        sa.Column("mandate_id", sa.String(255)),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("reason", sa.String(100)),
        sa.Column("merchant_key", sa.String(200)),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failure_kind", sa.String(40)),
        sa.Column("provider_code", sa.String(100)),
        sa.Column("provider_reference", sa.String(255)),
        sa.Column("message", sa.String(500)),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("next_try_at", sa.Double),
        sa.Column("owner", sa.String(100)),
        sa.Column("lease_until", sa.Double),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("finished_at", sa.Double),
        sa.UniqueConstraint("provider", "idempotency_key", name="uq_payrouter_followup_key"),
        sa.UniqueConstraint("order_id", "merchant_key", name="uq_payrouter_followup_merchant_key"),
    )
    op.create_index("ix_payrouter_followups_due", "payrouter_followups", ["status", "next_try_at"])
    op.create_index("ix_payrouter_followups_order", "payrouter_followups", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_payrouter_followups_order", table_name="payrouter_followups")
    op.drop_index("ix_payrouter_followups_due", table_name="payrouter_followups")
    op.drop_table("payrouter_followups")
    with op.batch_alter_table("payrouter_payments") as batch:
        batch.drop_column("authorize_only")
