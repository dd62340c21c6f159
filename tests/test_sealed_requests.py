"""The requests kept for idempotent replays (card tokens, IBANs) are sealed at rest.

AES-256-GCM bound to the attempt (order id and number), under keys from the config: the first
seals, all open. One that does not open skips only its replay rung; rows written in clear before
sealing still replay.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from payrouter import ConfigurationError, PaymentStatus, Router, RouterSettings
from payrouter._cli._app import app
from payrouter._config import load_config
from payrouter._ledger._sealing import LedgerKeys, SealedRequestError, new_key
from payrouter_adapters.stripe import StripeAdapter

from .test_resolution import ScriptedStripe, age_attempts, answer, found, intent, lost, request

CARD_TOKEN = "pm_card_visa"
OLD_KEY, NEW_KEY = new_key(), new_key()


def test_a_sealed_request_opens_only_for_its_own_attempt() -> None:
    """The order id and attempt number are associated data: a copied value does not open."""
    keys = LedgerKeys([NEW_KEY])
    sealed = keys.seal('{"token": "pm_card_visa"}', "order-1", 1)
    assert CARD_TOKEN not in sealed
    assert keys.open(sealed, "order-1", 1) == '{"token": "pm_card_visa"}'
    for order_id, number in (("order-1", 2), ("order-2", 1), ("order-", 11)):
        with pytest.raises(SealedRequestError, match="from another attempt"):
            keys.open(sealed, order_id, number)


def test_an_altered_value_does_not_open() -> None:
    keys = LedgerKeys([NEW_KEY])
    sealed = keys.seal("request", "order-1", 1)
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SealedRequestError, match="altered"):
        keys.open(flipped, "order-1", 1)


def test_rotation_the_first_key_seals_every_key_opens() -> None:
    """Each value names its key id; a value whose key is gone says which key it needs."""
    old, rotated = LedgerKeys([OLD_KEY]), LedgerKeys([NEW_KEY, OLD_KEY])
    before = old.seal("request", "order-1", 1)
    after = rotated.seal("request", "order-1", 2)
    assert old.sealing_id in before
    assert rotated.sealing_id in after
    assert rotated.sealing_id != old.sealing_id
    assert rotated.open(before, "order-1", 1) == "request"
    with pytest.raises(SealedRequestError, match=old.sealing_id):
        LedgerKeys([NEW_KEY]).open(before, "order-1", 1)


def test_a_value_in_clear_from_before_sealing_reads_as_it_is() -> None:
    assert LedgerKeys([NEW_KEY]).open('{"source": {}}', "order-1", 1) == '{"source": {}}'


@pytest.mark.parametrize("key", ["", "short", "A" * 44 + "=="])
def test_a_key_that_is_not_32_bytes_is_refused_without_showing_it(key: str) -> None:
    with pytest.raises(ConfigurationError, match=r"ledger_keys\[1\]: a ledger key is") as caught:
        LedgerKeys([NEW_KEY, key])
    assert key not in str(caught.value) or not key


def stripe_router(peer: ScriptedStripe, ledger: str, **kwargs: Any) -> Router:
    adapter = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        transport=httpx.MockTransport(peer),
    )
    settings = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
    return Router([adapter], ledger=ledger, hooks=(), settings=settings, **kwargs)


def kept(database: Path) -> str:
    with closing(sqlite3.connect(database)) as conn:
        (value,) = conn.execute("SELECT request FROM payrouter_attempts").fetchone()
    assert isinstance(value, str)
    return value


def keep(database: Path, value: str) -> None:
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("UPDATE payrouter_attempts SET request = ?", (value,))


async def test_the_kept_request_is_sealed_under_a_key_file_made_on_first_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No key configured, SQLite file: a 0600 key file beside it (with a logged warning), the
    token never in the ledger, and a fresh process replays with it."""
    database = tmp_path / "ledger.db"
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost, lost, answer(intent("succeeded")))
    peer.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(peer, f"sqlite:///{database}") as router:
        with caplog.at_level(logging.WARNING, logger="payrouter"):
            assert (await router.pay(request())).status is PaymentStatus.PENDING
    key_file = tmp_path / "ledger.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"created ledger key file {key_file}" in caplog.text
    stored = kept(database)
    assert stored.startswith("payrouter-sealed:1:")
    assert CARD_TOKEN not in stored
    assert "shopper-7" not in stored
    age_attempts(database, 600)
    async with stripe_router(peer, f"sqlite:///{database}") as router:
        await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    original, _, replay = peer.sent("POST", "/v1/payment_intents")
    assert replay.content == original.content
    assert replay.headers["Idempotency-Key"] == original.headers["Idempotency-Key"]


async def test_a_request_kept_in_clear_before_sealing_still_replays(tmp_path: Path) -> None:
    """A row written by an earlier version (JSON in clear) is resent as it was."""
    database = tmp_path / "ledger.db"
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost, lost, answer(intent("succeeded")))
    peer.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=[NEW_KEY]) as router:
        await router.pay(request())
    keep(database, LedgerKeys([NEW_KEY]).open(kept(database), "order-1", 1))
    assert kept(database).startswith("{")
    age_attempts(database, 600)
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=[NEW_KEY]) as router:
        await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    original, _, replay = peer.sent("POST", "/v1/payment_intents")
    assert replay.content == original.content


async def test_rotated_keys_still_replay_what_the_old_key_sealed(tmp_path: Path) -> None:
    database = tmp_path / "ledger.db"
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost, lost, answer(intent("succeeded")))
    peer.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=[OLD_KEY]) as router:
        await router.pay(request())
    age_attempts(database, 600)
    rotated = [NEW_KEY, OLD_KEY]
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=rotated) as router:
        await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    assert not (tmp_path / "ledger.db.key").exists()


@pytest.mark.parametrize("damage", ["key rotated out", "altered"])
async def test_a_request_that_does_not_open_skips_only_the_replay(
    tmp_path: Path, damage: str
) -> None:
    """Reconcile says why, sends no replay, and still asks the other rungs (search)."""
    database = tmp_path / "ledger.db"
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost)
    peer.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=[OLD_KEY]) as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
    keys = [NEW_KEY]
    if damage == "altered":
        keys = [OLD_KEY]
        keep(database, LedgerKeys([OLD_KEY]).seal("{}", "order-2", 1))  # another attempt's
    age_attempts(database, 600)
    searches = len(peer.sent("GET", "/v1/payment_intents/search"))
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=keys) as router:
        report = await router.reconcile()
    (still,) = report.open
    assert "the replay was skipped" in still.reason
    why = "not among the configured keys" if damage == "key rotated out" else "altered"
    assert why in still.reason
    assert LedgerKeys([OLD_KEY]).sealing_id in still.reason
    assert "ledger_keys" in still.next_step
    assert len(peer.sent("POST", "/v1/payment_intents")) == 2  # pay's two, no replay
    assert len(peer.sent("GET", "/v1/payment_intents/search")) == searches + 1
    peer.on("GET", "/v1/payment_intents/search", found(intent("succeeded")))
    peer.handlers[("GET", "/v1/payment_intents/search")].pop(0)
    async with stripe_router(peer, f"sqlite:///{database}", ledger_keys=keys) as router:
        report = await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    assert report.open == ()


async def test_a_server_ledger_without_keys_is_refused_before_it_opens() -> None:
    """PostgreSQL with a replaying provider and no key: refused, naming the fix."""
    router = stripe_router(ScriptedStripe(), "postgresql+psycopg://payrouter@127.0.0.1:9/none")
    with pytest.raises(ConfigurationError, match=r"ledger_keys.*PAYROUTER_LEDGER_KEY"):
        await router.open()


def _config(folder: Path, keys: list[str]) -> Path:
    path = folder / "payrouter.yaml"
    config = {"ledger": "sqlite:///ledger.db", "ledger_keys": keys}
    config["providers"] = [{"name": "sim", "type": "simulated"}]  # type: ignore[assignment]
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_ledger_key_written_in_the_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_config(_config(tmp_path, ["${PAYROUTER_LEDGER_KEY}", NEW_KEY]))
    assert "ledger_keys.1: a ledger key is written in the config file" in str(caught.value)
    assert NEW_KEY not in str(caught.value)


def test_ledger_keys_are_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYROUTER_LEDGER_KEY", NEW_KEY)
    monkeypatch.setenv("PAYROUTER_OLD_LEDGER_KEY", OLD_KEY)
    keys = ["${PAYROUTER_LEDGER_KEY}", "${PAYROUTER_OLD_LEDGER_KEY}"]
    assert load_config(_config(tmp_path, keys)).ledger_keys == [NEW_KEY, OLD_KEY]


async def test_a_postgresql_ledger_keeps_the_request_sealed_and_replays_it(
    postgres_url: str,
) -> None:
    """With its keys, a server ledger stores the request sealed and reconcile replays it."""
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost, lost, answer(intent("succeeded")))
    peer.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(peer, postgres_url, ledger_keys=[NEW_KEY]) as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            stored = conn.execute(text("SELECT request FROM payrouter_attempts")).scalar_one()
            conn.execute(text("UPDATE payrouter_attempts SET started_at = started_at - 600"))
    finally:
        engine.dispose()
    assert stored.startswith("payrouter-sealed:1:")
    assert CARD_TOKEN not in stored
    async with stripe_router(peer, postgres_url, ledger_keys=[OLD_KEY, NEW_KEY]) as router:
        await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    original, _, replay = peer.sent("POST", "/v1/payment_intents")
    assert replay.content == original.content


async def test_a_process_opened_before_the_key_file_existed_opens_what_another_sealed(
    tmp_path: Path,
) -> None:
    """Two workers on one fresh SQLite file: the one that did not make the key file reads it."""
    database = tmp_path / "ledger.db"
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost, lost, answer(intent("succeeded")))
    peer.on("GET", "/v1/payment_intents/search", found())
    async with (
        stripe_router(peer, f"sqlite:///{database}") as early,
        stripe_router(peer, f"sqlite:///{database}") as payer,
    ):
        assert (await payer.pay(request())).status is PaymentStatus.PENDING
        assert (tmp_path / "ledger.db.key").exists()
        age_attempts(database, 600)
        report = await early.reconcile()
        result = await early.lookup("order-1")
    assert report.open == ()
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED


async def test_a_key_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator's key file (several keys, the first sealing) left 0644: used, and said."""
    key_file = tmp_path / "ledger.db.key"
    key_file.write_text(f"{NEW_KEY}\n{OLD_KEY}\n")
    key_file.chmod(0o644)
    database = tmp_path / "ledger.db"
    peer = ScriptedStripe()
    peer.on("POST", "/v1/payment_intents", lost)
    peer.on("GET", "/v1/payment_intents/search", found())
    with caplog.at_level(logging.WARNING, logger="payrouter"):
        async with stripe_router(peer, f"sqlite:///{database}") as router:
            await router.pay(request())
    assert f"ledger key file {key_file} can be read by others (mode 644)" in caplog.text
    assert LedgerKeys([NEW_KEY]).open(kept(database), "order-1", 1).startswith("{")


def test_the_ledger_key_command_prints_a_new_key_the_ledger_accepts() -> None:
    first = CliRunner().invoke(app, ["ledger-key"])
    second = CliRunner().invoke(app, ["ledger-key"])
    assert first.exit_code == 0
    key = first.output.strip()
    assert len(key) == 44
    assert key != second.output.strip()
    LedgerKeys([key])
