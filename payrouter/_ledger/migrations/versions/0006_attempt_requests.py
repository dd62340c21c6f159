"""Attempt requests: what each attempt sent, so an unknown outcome can be replayed exactly.

An idempotent replay must carry the same body as the original under the same key; the
provider refuses (Stripe) or mis-answers a changed one. NULL for providers without replay.

Revision ID: 0006_attempt_requests
Revises: 0005_discrepancies
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_attempt_requests"
down_revision = "0005_discrepancies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.add_column(sa.Column("request", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.drop_column("request")
