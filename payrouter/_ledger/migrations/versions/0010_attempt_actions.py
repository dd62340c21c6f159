"""Attempt actions: what the customer must do for an attempt that requires action.

A URL is not always enough: Stripe.js needs the PaymentIntent's client secret, Adyen's
Drop-in the raw `action` object. The attempt keeps its action (JSON), so reading the payment
back (`get`, `refresh`, a second `pay` of the order) answers with it again.

Revision ID: 0010_attempt_actions
Revises: 0009_attempt_authorised
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_attempt_actions"
down_revision = "0009_attempt_authorised"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.add_column(sa.Column("next_action", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("payrouter_attempts") as batch:
        batch.drop_column("next_action")
