"""Test an integration against the provider stand-ins: a pytest fixture, fault control, books.

Installing `payrouter-lab` registers this module as a pytest plugin (entry point `pytest11`),
so a merchant's suite gets the `payrouter_sandbox` fixture without importing anything:

    def test_card_fails_over_when_stripe_is_down(payrouter_sandbox):
        payrouter_sandbox.fault("stripe", "down")
        config = payrouter_sandbox.config_for("payrouter.yaml", tmp_path)
        ...

`SandboxControl` is also usable without pytest (`with running_sandbox() as sandbox:`). The
stand-ins run on a thread of the test process, on free ports of 127.0.0.1, so tests whose
client is synchronous (Django's, FastAPI's TestClient) can call them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import httpx
import pytest

from .sandbox import Sandbox, serve

__all__ = [
    "SANDBOX_PORTS",
    "SANDBOX_SECRETS",
    "TEST_CREDENTIALS",
    "SandboxControl",
    "payrouter_sandbox",
    "payrouter_sandbox_env",
    "prism_mock",
    "running_sandbox",
]

SANDBOX_SECRETS: Final = MappingProxyType(
    {
        "STRIPE_SECRET_KEY": "sk_test_example",
        "ADYEN_API_KEY": "example",
        "PAYPAL_CLIENT_ID": "example",
        "PAYPAL_CLIENT_SECRET": "example-secret",
        "MERCHANT_IBAN": "DE89370400440532013000",
        "BANK_ACCESS_TOKEN": "example",
        "STRIPE_WEBHOOK_SECRET": "whsec_example",
        "ADYEN_HMAC_KEY": "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
        "PAYROUTER_LEDGER_KEY": "odONRhvtAdPEnlkNCPy3TyM5groVBsP5rCgrDN9HruI=",
    }
)
"""Values for the secrets a config names: the stand-ins accept any API key, these webhook
secrets are the ones a test signs its notifications with, and the ledger key seals the
requests a server ledger keeps for replays."""

SANDBOX_PORTS: Final = MappingProxyType(
    {"stripe": 8701, "adyen": 8702, "paypal": 8703, "berlingroup": 8704}
)
"""The ports of `payrouter sandbox --port 8700`, which a config written for it names."""

TEST_CREDENTIALS: Final = MappingProxyType(
    {
        "card approved": (
            "pm_card_visa (Stripe's other test ids: pm_card_mastercard, tok_visa, ...), or a "
            "PaymentMethod issued with credential('stripe'); any other id is refused, "
            "resource_missing"
        ),
        "card declined": (
            "pm_card_visa_chargeDeclined (Stripe decline_code generic_decline); "
            "pm_card_chargeDeclinedLostCard, ...StolenCard, ...Fraudulent, ...ExpiredCard, "
            "...IncorrectCvc, ...ProcessingError as at Stripe"
        ),
        "card insufficient funds": "pm_card_visa_chargeDeclinedInsufficientFunds",
        "card at Adyen": (
            "a stored card of the shopper, issued with credential('adyen', customer=...) and "
            "sent with that customer_id; another shopper's or an unknown id is refused, "
            "errorCode 800"
        ),
        "card failover (tokenized at both)": (
            "CardSource(tokens={'stripe': 'pm_card_visa', 'adyen': <the shopper's stored "
            "card>}): Stripe down, Adyen charges it once"
        ),
        "card 3-D Secure": (
            "pm_card_authenticationRequired or pm_card_threeDSecure2Required: requires_action; "
            "a GET of the action URL authenticates (with ?outcome=fail it fails), then "
            "router.refresh finds it succeeded (or declined, authentication_failed)"
        ),
        "card 3-D Secure off session": (
            "the same cards as a mandate: requires_action without action_url "
            "(authentication_required); POST /v1/payment_intents/{id}/confirm with "
            "payment_method and return_url brings the challenge back"
        ),
        "card 3-D Secure (Adyen)": (
            "a stored card id starting 3ds2_ (issued with credential_id='3ds2_...'): "
            "RedirectShopper; a GET of action.url passes "
            "(?outcome=fail fails), then router.refresh(order_id, details={'redirectResult': "
            "<pspReference>}) authorises it; off session, or sent with "
            "attemptAuthentication never, refused 38 (authentication_required), which "
            "three_d_secure: true steps up on session (resent with always: the challenge)"
        ),
        "wallet approval (PayPal)": (
            "any payer: requires_action with a payer-action link; a GET of it approves, "
            "router.refresh completes the order; a vaulted wallet completes at once when its "
            "vault id was issued through POST /_admin/paypal/credentials; any other vault id is "
            "refused 422 TOKEN_ID_NOT_FOUND"
        ),
        "wallet approval (Adyen)": (
            "a redirect wallet (paypal, alipay, ...): RedirectShopper; a GET of action.url "
            "approves, router.refresh(order_id, details={'redirectResult': <pspReference>}) "
            "authorises it"
        ),
        "wallet token (Apple Pay, Google Pay)": (
            "a token per provider in WalletSource.accounts: at Stripe a PaymentMethod such as "
            "pm_card_visa; at Adyen the base64 of Apple Pay's paymentData JSON (version, "
            "data, signature, header), anything else refused 5_002 Invalid Apple Pay token; "
            "Google Pay's token JSON (protocolVersion ECv1 or ECv2, signature, signedMessage), "
            "anything else refused 174 Unable to decrypt data"
        ),
        "bank transfer with SCA": (
            "any valid IBAN, e.g. DE89370400440532013000: requires_action with scaRedirect; "
            "a GET of it is the customer's SCA, after which the transfer executes"
        ),
        "any other decline": (
            "a fault of kind insufficient_funds, account_locked, account_frozen, "
            "account_closed, region_restricted or declined, optionally only for payers whose "
            "id starts with payer_prefix (the provider answers with its own code for it)"
        ),
    }
)
"""How to reach every path of a checkout against the stand-ins, by what the test sends."""


class SandboxControl:
    """A running sandbox and its admin API: base URLs, faults, reset and books."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.urls: Mapping[str, str] = sandbox.urls
        """Provider name → the adapter's `base_url` (Adyen's ends in `/v72`)."""
        self.admin_url = sandbox.admin_url
        self._admin = httpx.Client(base_url=sandbox.admin_url, timeout=30)

    def fault(self, provider: str, kind: str, **options: Any) -> dict[str, Any]:
        """Program a fault (`POST /_admin/{provider}/faults`); options as in `FaultSpec`.

        Raises:
            ValueError: the sandbox refused the fault; the message lists its reasons.
        """
        reply = self._admin.post(f"/_admin/{provider}/faults", json={"kind": kind, **options})
        if reply.status_code in (404, 422):
            raise ValueError(f"the sandbox refused the fault: {reply.text}")
        reply.raise_for_status()
        answer: dict[str, Any] = reply.json()
        return answer

    def faults(self, provider: str) -> list[dict[str, Any]]:
        """The provider's programmed faults with their hit counts."""
        answer: list[dict[str, Any]] = self._get(f"/_admin/{provider}/faults")
        return answer

    def credential(
        self, provider: str, *, customer: str | None = None, credential_id: str | None = None
    ) -> str:
        """Issue a card or wallet credential at a provider, as a checkout's tokenization
        would (`POST /_admin/{provider}/credentials`), and return its id: a Stripe
        PaymentMethod (`pm_...`), an Adyen stored payment method of `customer` (its
        shopperReference, required), a PayPal vault payment token. No stand-in charges
        another provider's credential.

        Raises:
            ValueError: the sandbox refused the request; the message says why.
        """
        body = {"customer": customer, "id": credential_id}
        reply = self._admin.post(
            f"/_admin/{provider}/credentials", json={k: v for k, v in body.items() if v}
        )
        if reply.status_code in (404, 422):
            raise ValueError(f"the sandbox refused the credential: {reply.text}")
        reply.raise_for_status()
        issued: str = reply.json()["id"]
        return issued

    def clear_faults(self, provider: str) -> None:
        """End every fault of the provider (a `down` provider listens again)."""
        self._admin.delete(f"/_admin/{provider}/faults").raise_for_status()

    def reset(self) -> None:
        """Empty every stand-in's books, payments and faults."""
        self._admin.post("/_admin/reset").raise_for_status()

    def books(self, provider: str) -> dict[str, Any]:
        """The money the provider actually moved (`GET /_admin/{provider}/books`)."""
        answer: dict[str, Any] = self._get(f"/_admin/{provider}/books")
        return answer

    def config_for(self, template: str | Path, folder: Path, *, fresh_ledger: bool = True) -> Path:
        """A copy of a config written for `payrouter sandbox --port 8700`, aimed at these
        stand-ins, with a fresh ledger file in `folder` (so tests never share payments);
        `fresh_ledger=False` keeps the template's `ledger` (e.g. `${LEDGER_URL}`)."""
        text = Path(template).read_text()
        for provider, port in SANDBOX_PORTS.items():
            root = self.urls[provider].removesuffix("/v72")
            text = text.replace(f"http://127.0.0.1:{port}", root)
        config = folder / "payrouter.yaml"
        config.write_text(_fresh_ledger(text, folder) if fresh_ledger else text)
        return config

    def close(self) -> None:
        self._admin.close()

    def _get(self, path: str) -> Any:
        reply = self._admin.get(path)
        reply.raise_for_status()
        return reply.json()


def _fresh_ledger(text: str, folder: Path) -> str:
    """The config with its `ledger:` line pointing at `folder/ledger.db`."""
    lines = [
        f"ledger: sqlite:///{folder / 'ledger.db'}" if line.startswith("ledger:") else line
        for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running_sandbox(port: int = 0, *, seed: int = 0) -> Iterator[SandboxControl]:
    """Serve the stand-ins on a daemon thread (admin on `port`, 0 = free ports) until the
    block ends; their own event loop keeps them answering while the test blocks. `seed`
    seeds the fault dice, so a run replays the same faults for the same requests."""
    ready = threading.Event()
    started: list[Sandbox] = []
    failure: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with serve(port=port, seed=seed) as sandbox:
            started.append(sandbox)
            ready.set()
            await stop.wait()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as error:  # surfaced to the caller below
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=run, name="payrouter-sandbox", daemon=True)
    thread.start()
    if not ready.wait(60) or failure:
        # Stop and close the loop here: left to the garbage collector, its sockets would be
        # reported as unclosed in whichever test runs next.
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        raise RuntimeError("the sandbox did not start") from (failure[0] if failure else None)
    control = SandboxControl(started[0])
    try:
        yield control
    finally:
        control.close()
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


@pytest.fixture
def payrouter_sandbox() -> Iterator[SandboxControl]:
    """Fresh stand-ins of Stripe, Adyen, PayPal and a Berlin Group bank on free ports."""
    with running_sandbox() as control:
        yield control


@pytest.fixture
def payrouter_sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Mapping[str, str]:
    """`SANDBOX_SECRETS` set in the environment for the test; returns them."""
    for name, value in SANDBOX_SECRETS.items():
        monkeypatch.setenv(name, value)
    return SANDBOX_SECRETS


def _prism() -> str | None:
    """Prism's command: `PAYROUTER_PRISM`, else `prism` on PATH, else `.peers/` here."""
    local = Path(".peers/node_modules/.bin/prism")
    found = os.environ.get("PAYROUTER_PRISM") or shutil.which("prism")
    return found or (str(local.resolve()) if local.is_file() else None)


@contextlib.contextmanager
def prism_mock(spec: Path, workdir: Path) -> Iterator[str]:
    """Run Stoplight Prism's validating mock of an OpenAPI document on a free port of
    127.0.0.1; yields its root URL. A request the spec forbids is answered 422 (the violation
    in the `sl-violations` header), so an adapter's wrong field fails a test, not a payment.

    Skips the test, saying why, when Prism is not installed
    (`npm install --prefix .peers @stoplight/prism-cli@5.14.2`, or set `PAYROUTER_PRISM`).
    """
    command = _prism()
    if command is None:
        pytest.skip("peer prism: not found (npm install --prefix .peers @stoplight/prism-cli)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = workdir / f"prism-{port}.log"
    with log.open("wb") as sink:
        argv = [command, "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
        # The tester's own Prism (PAYROUTER_PRISM, PATH or .peers); every argument is ours.
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prism did not start: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
