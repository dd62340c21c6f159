"""The simulated provider's books are written the way a real provider's are: an operation and
its idempotent reply together, so a replay under the same key can never find one without the
other (a refund carried out but unanswerable, refused on the resend)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod
from payrouter.provider import Charge, Outcome, PaymentHandle
from payrouter.testing import SimulatedAdapter, SimulatedProvider


def die_before_storing_replies(books: Path) -> None:
    """Make the books' next stored reply fail, as a process killed at that instant would."""
    with closing(sqlite3.connect(books)) as conn, conn:
        conn.execute(
            "CREATE TRIGGER die BEFORE INSERT ON replies BEGIN SELECT RAISE(ABORT, 'killed'); END"
        )


def revive(books: Path) -> None:
    with closing(sqlite3.connect(books)) as conn, conn:
        conn.execute("DROP TRIGGER die")


async def test_a_refund_is_never_in_the_books_without_its_stored_reply(tmp_path: Path) -> None:
    """Killed between carrying a refund out and storing its reply: neither is kept, so the
    resend under the same key refunds once and is answered, never refused."""
    books = tmp_path / "books.db"
    adapter = SimulatedAdapter(SimulatedProvider("card_a", books_path=books))
    money = Money.of("10.00", "EUR")
    charge = Charge(
        reference="k-1",
        order_id="order-1",
        amount=money,
        source=CardSource(token=SecretStr("pm_card_visa")),
        customer_country="DE",
    )
    paid = await adapter.pay(charge, idempotency_key="k-1")
    assert paid.outcome is Outcome.SUCCEEDED
    assert paid.provider_reference is not None
    handle = PaymentHandle("k-1", "order-1", PaymentMethod.CARD, money, paid.provider_reference)
    die_before_storing_replies(books)
    with pytest.raises((sqlite3.DatabaseError, httpx.HTTPError)):
        await adapter.refund(handle, money, idempotency_key="r-1", reason=None)
    revive(books)
    assert adapter.provider.followups() == []
    resent = await adapter.refund(handle, money, idempotency_key="r-1", reason=None)
    assert resent.outcome is Outcome.SUCCEEDED
    (refund,) = adapter.provider.followups()
    assert refund.idempotency_key == "r-1"
    await adapter.aclose()
