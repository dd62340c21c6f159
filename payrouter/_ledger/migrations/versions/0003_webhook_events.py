"""Webhook events: every notification's id, remembered so a replay changes nothing.

Revision ID: 0003_webhook_events
Revises: 0002_followups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_webhook_events"
down_revision = "0002_followups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payrouter_webhook_events",
        sa.Column("provider", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("provider_reference", sa.String(255)),
        sa.Column("order_id", sa.String(200)),
        sa.Column("followup_id", sa.String(500)),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("result", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.Double, nullable=False),
        sa.Column("received_at", sa.Double, nullable=False),
    )
    op.create_index("ix_payrouter_webhook_events_order", "payrouter_webhook_events", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_payrouter_webhook_events_order", table_name="payrouter_webhook_events")
    op.drop_table("payrouter_webhook_events")
