"""Attempt declines: soft or hard, and the card network's retry advice with its raw code.

A soft-declined card may be reattempted at another acquirer, never against the network's
advice; the attempt keeps both so a reattempt (or its absence) can be explained later.

Revision ID: 0007_attempt_declines
Revises: 0006_attempt_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_attempt_declines"
down_revision = "0006_attempt_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.add_column(sa.Column("decline", sa.String(10)))
        batch.add_column(sa.Column("advice", sa.String(30)))
        batch.add_column(sa.Column("advice_code", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.drop_column("advice_code")
        batch.drop_column("advice")
        batch.drop_column("decline")
