"""`payrouter sandbox` on a thread of the test process, for tests whose client is synchronous.

FastAPI's and Django's test clients block, so the stand-ins cannot share their event loop;
they get their own loop on a daemon thread, started and stopped with the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from payrouter_lab.sandbox import Sandbox, serve


@contextmanager
def sandbox_in_thread(port: int = 0) -> Iterator[Sandbox]:
    """Serve the stand-ins (admin on `port`, 0 = free ports) until the block ends."""
    ready = threading.Event()
    started: list[Sandbox] = []
    failure: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with serve(port=port) as sandbox:
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
    if not ready.wait(30) or failure:
        # Close the loop now: left to the garbage collector, its sockets would be reported
        # as unclosed in whichever test runs next.
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        if failure:
            raise failure[0]
        raise RuntimeError("the sandbox did not start within 30 s")
    try:
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


# What the example checkouts' configs ask the environment for; the stand-ins accept anything.
SANDBOX_SECRETS = {
    "STRIPE_SECRET_KEY": "sk_test_example",
    "ADYEN_API_KEY": "example",
    "PAYPAL_CLIENT_ID": "example",
    "PAYPAL_CLIENT_SECRET": "example-secret",
    "MERCHANT_IBAN": "DE89370400440532013000",
    "BANK_ACCESS_TOKEN": "example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "ADYEN_HMAC_KEY": "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
}
_DEFAULT_PORTS = {"8701": "stripe", "8702": "adyen", "8703": "paypal", "8704": "berlingroup"}


def point_config_at(sandbox: Sandbox, template: Path, folder: Path, ledger_file: str) -> Path:
    """A copy of a config written for `payrouter sandbox --port 8700`, aimed at `sandbox`.

    The copy's ledger is a fresh file in `folder`, so tests never share payments.
    """
    text = template.read_text().replace(ledger_file, str(folder / "ledger.db"))
    for port, provider in _DEFAULT_PORTS.items():
        text = text.replace(f"http://127.0.0.1:{port}", sandbox.urls[provider].removesuffix("/v72"))
    config = folder / "payrouter.yaml"
    config.write_text(text)
    return config
