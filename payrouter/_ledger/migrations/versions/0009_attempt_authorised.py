"""Attempt authorised amounts: what the issuer authorised when it authorised less than asked.

A pay answer, a replay or a lookup may report a partial authorisation; the attempt keeps the
authorised part, so a capture is never sized from anything else.

Revision ID: 0009_attempt_authorised
Revises: 0008_card_reattempts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_attempt_authorised"
down_revision = "0008_card_reattempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.add_column(sa.Column("authorised_minor", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.drop_column("authorised_minor")
