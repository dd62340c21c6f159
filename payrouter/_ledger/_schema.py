"""The ledger's tables. Times are UTC epoch seconds (floats), portable across databases."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
    # Authorized only (`PaymentRequest.capture=False`): a capture or a void must follow.
    Column("authorize_only", Boolean, nullable=False, server_default="0"),
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
    # What the attempt sent (JSON), kept only for providers that replay by key: a replay
    # must carry the same body. It holds the payment source's token or IBAN, so it is
    # sealed (`_sealing`: AES-GCM under ledger_keys); rows from before sealing are in clear.
    Column("request", Text),
    # A decline's type (soft/hard) and the network's retry advice, normalized and as given.
    Column("decline", String(10)),
    Column("advice", String(30)),
    Column("advice_code", String(100)),
    # What the issuer authorised of a `partially_authorised` attempt (the payment's currency).
    Column("authorised_minor", BigInteger),
    # What the customer must do for a requires_action attempt (`NextAction` as JSON): a
    # redirect URL, or what the provider's client SDK takes. It may hold Stripe's client
    # secret, which completes that one payment from the customer's browser and nothing else.
    Column("next_action", Text),
    UniqueConstraint("provider", "idempotency_key", name="uq_payrouter_attempt_key"),
)

followups = Table(
    "payrouter_followups",
    metadata,
    # "<order id>/<kind>/<n>" or "<provider>/<mandate id>/cancel_mandate/<n>": readable in logs.
    Column("followup_id", String(500), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("order_id", String(200), ForeignKey(payments.c.order_id)),
    Column("mandate_id", String(255)),
    Column("method", String(20), nullable=False),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("reason", String(100)),
    # The merchant's own key for this follow-up: the same key returns the same follow-up.
    Column("merchant_key", String(200)),
    Column("idempotency_key", String(255), nullable=False),
    # queued -> sending -> succeeded | pending (accepted, confirmed later) | refused
    Column("status", String(20), nullable=False),
    Column("failure_kind", String(40)),
    Column("provider_code", String(100)),
    Column("provider_reference", String(255)),
    Column("message", String(500)),
    Column("tries", Integer, nullable=False),
    Column("next_try_at", Double),
    Column("owner", String(100)),
    Column("lease_until", Double),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("finished_at", Double),
    UniqueConstraint("provider", "idempotency_key", name="uq_payrouter_followup_key"),
    UniqueConstraint("order_id", "merchant_key", name="uq_payrouter_followup_merchant_key"),
    Index("ix_payrouter_followups_due", "status", "next_try_at"),
    Index("ix_payrouter_followups_order", "order_id"),
)

webhook_events = Table(
    "payrouter_webhook_events",
    metadata,
    # The provider's event id (Adyen has none: event code, pspReference and success).
    Column("provider", String(100), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("provider_reference", String(255)),
    Column("order_id", String(200)),
    Column("followup_id", String(500)),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    # applied, replayed, out_of_order, unknown_type, no_match, dispute
    Column("result", String(40), nullable=False),
    Column("occurred_at", Double, nullable=False),
    Column("received_at", Double, nullable=False),
    Index("ix_payrouter_webhook_events_order", "order_id"),
)

discrepancies = Table(
    "payrouter_discrepancies",
    metadata,
    # kind:provider:provider reference or attempt reference, so a rerun finds the same row.
    Column("discrepancy_id", String(600), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("provider_reference", String(255)),
    Column("order_id", String(200)),
    Column("reference", String(255)),
    Column("ledger_side", String(300)),
    Column("provider_side", String(300)),
    Column("action", String(500), nullable=False),
    # open, resolved (a later comparison no longer finds it), acknowledged (by a person)
    Column("state", String(20), nullable=False),
    Column("occurred_at", Double, nullable=False),
    Column("first_seen", Double, nullable=False),
    Column("last_seen", Double, nullable=False),
    Column("closed_at", Double),
    Column("note", String(500)),
    Index("ix_payrouter_discrepancies_state", "state", "provider"),
)

admission_sheds = Table(
    "payrouter_admission_sheds",
    metadata,
    # Payments a process refused at admission since its previous row: no payment row exists
    # for them (nothing was written or sent), so this count is how every process's sheds
    # reach `payrouter status`.
    Column("flushed_at", Double, primary_key=True),
    Column("owner", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
)

card_reattempts = Table(
    "payrouter_card_reattempts",
    metadata,
    # One row per soft-declined card reattempted at another acquirer. `card` is a SHA-256 of
    # the card's credentials, never a token: it only needs to tell one card from another,
    # so the networks' limit per card over a rolling window can be counted by every process.
    Column("card", String(64), primary_key=True),
    Column("order_id", String(200), primary_key=True),
    Column("at", Double, nullable=False),
    Column("from_provider", String(100), nullable=False),
    Column("to_provider", String(100), nullable=False),
    Index("ix_payrouter_card_reattempts_card_at", "card", "at"),
)
