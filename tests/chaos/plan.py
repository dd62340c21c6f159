"""What the chaos suite runs: the orders, who pays which, the fault cycle, the router config.

Everything derives from one seed, so a run can be replayed: the same orders (cards at Stripe
and Adyen, vaulted PayPal wallets, SEPA transfers at a Berlin Group bank), the same overlap
between workers, the same fault cycle. Only the interleaving of the processes differs from
run to run, and the invariants hold for every interleaving.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from payrouter import (
    BankTransferSource,
    CardSource,
    Money,
    PaymentRequest,
    PaymentSource,
    WalletSource,
)

SEED: Final = 20261206
WORKERS: Final = 4
ORDERS: Final = 96
"""Distinct order ids; every one is given to two or three workers (overlapping ids)."""
CONCURRENCY: Final = 6
"""Payments each worker has in flight at once."""
DEADLINE_SECONDS: Final = 5.0
LEASE_SECONDS: Final = 6.0
"""A killed worker's orders may be taken over this long after its last lease (it must
exceed the deadline, so nothing takes over a payment that is still running)."""
READ_TIMEOUT_SECONDS: Final = 1.0
"""The checkouts' read timeout: short, so the stand-ins' late answers are lost answers."""
RECONCILE_READ_TIMEOUT_SECONDS: Final = 30.0
"""Reconcile's, once the incident is over: a loaded machine answering slowly must not leave a
payment open that one more answer would settle (the run's verdict must not hang on timing)."""
LATE_SECONDS: Final = 1.5
"""How late a `timeout` or late answer comes: past the adapters' read timeout."""
PROVIDERS: Final = ("stripe", "adyen", "paypal", "berlingroup")
FAULTED_OPERATIONS: Final = ("pay", "lookup", "capture", "refund", "void", "details")
"""A fault hits these; the customer's SCA page and the records listing stay up."""

FAULT_PROBABILITY: Final = 0.3
FAULT_HITS: Final = 2
"""Each mode plays on this many requests of a provider, then gives way to the next."""
FAULT_CYCLE: Final[tuple[dict[str, Any], ...]] = (
    {"kind": "busy", "status": 429, "retry_after_seconds": 0},
    {"kind": "busy", "status": 503, "retry_after_seconds": 0},
    {"kind": "maintenance", "retry_after_seconds": 0},
    {"kind": "error"},
    {"kind": "error", "processed": True},
    {"kind": "gateway", "status": 502},
    {"kind": "gateway", "status": 504, "processed": True},
    {"kind": "timeout", "delay_seconds": LATE_SECONDS},
    {"kind": "reset"},
    {"kind": "success_after_timeout", "abort": True},
    {"kind": "success_after_timeout", "delay_seconds": LATE_SECONDS},
    {"kind": "slow", "delay_seconds": 0.2},
    {"kind": "credentials"},
    {"kind": "declined"},
    {"kind": "insufficient_funds"},
)
"""Every fault mode of the stand-ins that a payment can meet, besides `down`. Each provider
arms all of them at once, each for `FAULT_HITS` requests, in an order rotated per provider,
so traffic itself walks every provider through every mode (several at a time, a different
one at each provider). `down` closes one provider's port at a time, in turn, for a stretch of
answers (see `tests/chaos/run.py`). `pending` (transfers settling later) and Stripe's
`search_lag` are armed for the whole run."""
STANDING_FAULTS: Final[Mapping[str, tuple[dict[str, Any], ...]]] = {
    "stripe": ({"kind": "search_lag", "delay_seconds": 600},),
    "berlingroup": ({"kind": "pending", "probability": 0.3, "settle_after_seconds": 0},),
}
"""Faults that last the whole run: Stripe's search lags far past any payment's deadline (so
during the run only a replay settles a lost answer, and Stripe's replay of its own saved 500
settles nothing), and a third of the transfers are accepted but settle later."""
AFTER_INCIDENT_FAULTS: Final[Mapping[str, tuple[dict[str, Any], ...]]] = {
    "berlingroup": STANDING_FAULTS["berlingroup"],
}
"""What still holds when reconcile runs after the incident: transfers still settle later,
and Stripe's search has caught up (Stripe: usually under a minute, up to an hour during
incidents), which is how a merchant learns of an intent answered by Stripe's own 500."""


@dataclass(frozen=True, slots=True)
class Order:
    """One order as every worker given it sends it (same id, same request)."""

    order_id: str
    kind: str
    """card, wallet or bank."""
    minor_units: int
    refund: bool
    """Whether a worker that sees it paid asks for a full refund (merchant key per order)."""

    def request(self) -> PaymentRequest:
        """The payment request; identical in every worker, as a customer's retries are."""
        source: PaymentSource
        number = self.order_id.rsplit("-", 1)[-1]
        if self.kind == "card":
            # Tokenized at both card providers, so either can take it and faults fail over.
            tokens = {"stripe": f"pm_chaos_{number}", "adyen": f"stored_chaos_{number}"}
            source = CardSource(tokens=tokens)  # type: ignore[arg-type]
        elif self.kind == "wallet":
            source = WalletSource(wallet="paypal", account=f"vault{number}")  # type: ignore[arg-type]
        else:
            iban = "DE89370400440532013000"
            source = BankTransferSource(iban=iban, holder_name="Chaos Customer")  # type: ignore[arg-type]
        return PaymentRequest(
            order_id=self.order_id,
            amount=Money(minor_units=self.minor_units, currency="EUR"),
            sources=(source,),
            customer_country="DE",
            customer_id=f"cus_chaos_{number}",
            return_url="https://shop.example/return",
        )


def orders(seed: int = SEED) -> list[Order]:
    """The run's distinct orders: half cards, a quarter wallets, a quarter transfers."""
    rng = random.Random(seed)
    found = []
    for index in range(ORDERS):
        kind = ("card", "card", "wallet", "bank")[index % 4]
        refund = kind != "bank" and rng.random() < 0.3
        found.append(Order(f"chaos-{seed}-{index}", kind, rng.randrange(100, 20_000), refund))
    return found


def assignments(all_orders: Sequence[Order], seed: int = SEED) -> list[list[Order]]:
    """Which orders each worker pays, in its own order: every order goes to two or three
    workers, so the same id is paid concurrently from different processes."""
    rng = random.Random(seed + 1)
    given: list[list[Order]] = [[] for _ in range(WORKERS)]
    for order in all_orders:
        for worker in rng.sample(range(WORKERS), rng.choice((2, 3))):
            given[worker].append(order)
    for mine in given:
        rng.shuffle(mine)
    return given


def write_plan(path: Path, mine: Sequence[Order]) -> None:
    """A worker's orders as JSON, for `tests/chaos/worker.py`."""
    path.write_text(json.dumps([asdict(order) for order in mine]))


def read_plan(path: Path) -> list[Order]:
    return [Order(**fields) for fields in json.loads(path.read_text())]


def provider_faults(index: int) -> list[dict[str, Any]]:
    """The faults provider number `index` plays, in the order it meets them."""
    shift = index * len(FAULT_CYCLE) // len(PROVIDERS)
    cycle = FAULT_CYCLE[shift:] + FAULT_CYCLE[:shift]
    return [
        {
            "probability": FAULT_PROBABILITY,
            "operations": FAULTED_OPERATIONS,
            "count": FAULT_HITS,
            **spec,
        }
        for spec in cycle
    ] + list(STANDING_FAULTS.get(PROVIDERS[index], ()))


def write_config(
    folder: Path,
    ledger: str,
    urls: Mapping[str, str],
    *,
    name: str = "payrouter.yaml",
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> Path:
    """The merchant's config: the real adapters pointed at the stand-ins, one shared ledger.

    Secrets are `${NAME}` references to `payrouter_lab.testing.SANDBOX_SECRETS`, which the
    test sets in the environment its workers inherit."""
    secrets: dict[str, dict[str, object]] = {
        "stripe": {"api_key": "${STRIPE_SECRET_KEY}"},
        "adyen": {
            "api_key": "${ADYEN_API_KEY}",
            "merchant_account": "ChaosShop",
            "return_url": "https://shop.example/return",
        },
        "paypal": {
            "client_id": "${PAYPAL_CLIENT_ID}",
            "client_secret": "${PAYPAL_CLIENT_SECRET}",
        },
        "berlingroup": {
            "creditor_iban": "DE02100100109307118603",
            "creditor_name": "Chaos Shop GmbH",
            "access_token": "${BANK_ACCESS_TOKEN}",
            "account_id": "chaos-account",
            "consent_id": "chaos-consent",
        },
    }
    methods = {"stripe": ["card"], "adyen": ["card"], "paypal": ["wallet"]}
    providers = [
        {
            "name": name,
            "type": name,
            "methods": methods.get(name, ["bank_transfer"]),
            "options": {
                "base_url": urls[name],
                "read_timeout_seconds": read_timeout,
                **secrets[name],
            },
        }
        for name in PROVIDERS
    ]
    config = {
        "ledger": ledger,
        "ledger_keys": ["${PAYROUTER_LEDGER_KEY}"],
        "router": {
            "deadline_seconds": DEADLINE_SECONDS,
            "lease_seconds": LEASE_SECONDS,
            "in_progress_wait_seconds": DEADLINE_SECONDS,
            "lookup_tries": 2,
            "lookup_wait_seconds": 0.1,
            "retry": {"max_tries": 2, "initial_wait_seconds": 0.05, "max_wait_seconds": 0.2},
            "breaker": {"fail_max": 5, "reset_timeout_seconds": 0.5},
            "outbox": {
                "initial_backoff_seconds": 0,
                "max_backoff_seconds": 0,
                "lease_seconds": LEASE_SECONDS,
            },
        },
        "routing": {"card": {"strategy": "weighted", "weights": {"stripe": 1, "adyen": 1}}},
        "providers": providers,
    }
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
