"""The ledger's tables. Times are UTC epoch seconds (floats), portable across databases."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

payments = Table(
    "payrouter_payments",
    metadata,
    # The merchant's order id: the primary key is the one-order-one-charge guarantee.
    Column("order_id", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("provider", String(100)),
    Column("method", String(20)),
    Column("provider_reference", String(255)),
    Column("action_url", String(2000)),
    Column("failure_kind", String(40)),
    Column("decline_reason", String(300)),
    # Who is working on it, and until when; NULL once the payment is no longer processing.
    Column("owner", String(100)),
    Column("lease_until", Double),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Index("ix_payrouter_payments_status", "status"),
)

attempts = Table(
    "payrouter_attempts",
    metadata,
    Column("order_id", String(200), ForeignKey(payments.c.order_id), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("provider", String(100), nullable=False),
    Column("method", String(20), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    # NULL while the call is in flight (written before the call): reconcile looks these up.
    Column("outcome", String(20)),
    Column("failure_kind", String(40)),
    Column("provider_code", String(100)),
    Column("provider_reference", String(255)),
    Column("action_url", String(2000)),
    Column("tries", Integer, nullable=False),
    Column("latency_ms", Double),
    Column("started_at", Double, nullable=False),
    Column("finished_at", Double),
    UniqueConstraint("provider", "idempotency_key", name="uq_payrouter_attempt_key"),
)
