"""Card reattempts: each soft-declined card reattempted at another acquirer, by card hash.

The card networks limit reattempts per card over a rolling window (Visa: 15 in 30 days);
every process counts them here before reattempting.

Revision ID: 0008_card_reattempts
Revises: 0007_attempt_declines
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_card_reattempts"
down_revision = "0007_attempt_declines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payrouter_card_reattempts",
        sa.Column("card", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(200), primary_key=True),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("from_provider", sa.String(100), nullable=False),
        sa.Column("to_provider", sa.String(100), nullable=False),
    )
    op.create_index(
        "ix_payrouter_card_reattempts_card_at", "payrouter_card_reattempts", ["card", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_payrouter_card_reattempts_card_at", "payrouter_card_reattempts")
    op.drop_table("payrouter_card_reattempts")
