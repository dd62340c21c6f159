"""Stripe's client secret is kept with the attempt's action only sealed, never in clear.

Stripe: the client secret "should not be stored, logged, or exposed to anyone other than the
customer". The ledger keeps a waiting payment's action so lookups and a second pay answer with
it; its client secret is sealed like a kept request (AES-GCM under `ledger_keys`, bound to the
attempt), opened when the row becomes a result, and covered by `reseal`. One that no longer
opens (its key retired) comes back without it, with a warning that names no secret.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from payrouter import PaymentStatus, Router
from payrouter._ledger import SqlLedger
from payrouter._ledger._sealed_actions import stored_action
from payrouter._ledger._sealing import RequestSeal, new_key, sealed_by
from payrouter.provider import NextAction
from payrouter_adapters.stripe import StripeAdapter
from tests.test_next_action import SECRET, challenged_at_stripe, challenged_card

OLD_KEY, NEW_KEY = new_key(), new_key()


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


def _kept_action(url: str, order_id: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    text("SELECT next_action FROM payrouter_attempts WHERE order_id = :o"),
                    {"o": order_id},
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def _pay(url: str, keys: list[str] | None, order_id: str) -> None:
    stripe = challenged_at_stripe(StripeAdapter)
    async with Router([stripe], ledger=url, hooks=(), ledger_keys=keys) as router:
        result = await router.pay(challenged_card(order_id))
    assert result.action is not None
    assert result.action.client_secret is not None
    assert result.action.client_secret.get_secret_value() == SECRET


async def _looked_up(url: str, keys: list[str] | None, order_id: str) -> str | None:
    """The client secret `Router.lookup` answers with, as the checkout would read it."""
    stripe = challenged_at_stripe(StripeAdapter)
    async with Router([stripe], ledger=url, hooks=(), ledger_keys=keys) as router:
        found = await router.lookup(order_id)
    assert found is not None
    assert found.status is PaymentStatus.REQUIRES_ACTION
    assert found.action is not None
    assert found.action.provider_type == "use_stripe_sdk"
    secret = found.action.client_secret
    return None if secret is None else secret.get_secret_value()


async def test_the_kept_action_holds_no_client_secret_in_clear(ledger_url: str) -> None:
    order_id = f"o-sealed-{ledger_url[:6]}"
    await _pay(ledger_url, [NEW_KEY], order_id)
    kept = _kept_action(ledger_url, order_id)
    assert SECRET not in kept
    assert sealed_by(json.loads(kept)["client_secret"]) is not None
    assert await _looked_up(ledger_url, [NEW_KEY], order_id) == SECRET


async def test_without_configured_keys_a_sqlite_file_seals_with_its_key_file(
    tmp_path: Path,
) -> None:
    """The rule kept requests follow: a 0600 key file beside the SQLite file."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    await _pay(url, None, "o-file")
    assert SECRET not in _kept_action(url, "o-file")
    assert (tmp_path / "ledger.db.key").stat().st_mode & 0o077 == 0
    assert await _looked_up(url, None, "o-file") == SECRET


async def test_a_secret_sealed_under_a_retired_key_is_left_out_with_a_warning(
    ledger_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    order_id = f"o-retired-{ledger_url[:6]}"
    await _pay(ledger_url, [OLD_KEY], order_id)
    caplog.set_level(logging.WARNING, logger="payrouter")
    assert await _looked_up(ledger_url, [NEW_KEY], order_id) is None
    assert "client secret" in caplog.text
    assert order_id in caplog.text
    assert SECRET not in caplog.text


async def test_a_secret_copied_onto_another_attempt_does_not_open(tmp_path: Path) -> None:
    """Bound to its attempt: the sealed value moved to another order stays shut."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    await _pay(url, [NEW_KEY], "o-one")
    await _pay(url, [NEW_KEY], "o-two")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE payrouter_attempts SET next_action = :kept WHERE order_id = 'o-two'"),
            {"kept": _kept_action(url, "o-one")},
        )
    engine.dispose()
    assert await _looked_up(url, [NEW_KEY], "o-two") is None


async def test_reseal_moves_the_client_secret_under_the_first_key(ledger_url: str) -> None:
    order_id = f"o-reseal-{ledger_url[:6]}"
    await _pay(ledger_url, [OLD_KEY], order_id)
    ledger = SqlLedger(ledger_url, keys=[NEW_KEY, OLD_KEY])
    await ledger.open()
    try:
        report = await ledger.reseal_requests()
    finally:
        await ledger.close()
    assert report.done
    kept = _kept_action(ledger_url, order_id)
    assert SECRET not in kept
    assert await _looked_up(ledger_url, [NEW_KEY], order_id) == SECRET


async def test_a_client_secret_kept_in_clear_before_sealing_still_reads_and_reseals(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    await _pay(url, [NEW_KEY], "o-old")
    clear = json.loads(_kept_action(url, "o-old")) | {"client_secret": SECRET}
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE payrouter_attempts SET next_action = :kept"),
            {"kept": json.dumps(clear, separators=(",", ":"))},
        )
    engine.dispose()
    assert await _looked_up(url, [NEW_KEY], "o-old") == SECRET
    ledger = SqlLedger(url, keys=[NEW_KEY])
    await ledger.open()
    try:
        await ledger.reseal_requests()
    finally:
        await ledger.close()
    assert SECRET not in _kept_action(url, "o-old")
    assert await _looked_up(url, [NEW_KEY], "o-old") == SECRET


async def test_a_second_pay_of_the_order_answers_with_the_opened_secret(ledger_url: str) -> None:
    """The claim that finds the order waiting builds its answer from the row: opened too."""
    order_id = f"o-again-{ledger_url[:6]}"
    stripe = challenged_at_stripe(StripeAdapter)
    async with Router([stripe], ledger=ledger_url, hooks=(), ledger_keys=[NEW_KEY]) as router:
        await router.pay(challenged_card(order_id))
        again = await router.pay(challenged_card(order_id))
    assert again.status is PaymentStatus.REQUIRES_ACTION
    assert again.action is not None
    assert again.action.client_secret is not None
    assert again.action.client_secret.get_secret_value() == SECRET


def test_a_server_ledger_without_keys_keeps_the_action_without_its_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only reachable with a provider that does not replay (Stripe does, and is refused at
    open without keys): the secret is left out, never kept in clear."""
    action = NextAction(kind="sdk", provider_type="use_stripe_sdk", client_secret=SecretStr(SECRET))
    caplog.set_level(logging.WARNING, logger="payrouter")
    kept = stored_action(RequestSeal(None, None, in_memory=False), action, "o-server", 1)
    assert SECRET not in kept
    assert json.loads(kept)["client_secret"] is None
    assert "o-server" in caplog.text
    assert SECRET not in caplog.text
