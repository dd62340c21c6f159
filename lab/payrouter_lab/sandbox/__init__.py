"""Stateful local stand-ins of Stripe, Adyen, PayPal and Berlin Group, for outage drills.

The real adapters run against them unchanged: same paths, ids, statuses and error bodies as
the providers (closely enough for the adapters' parsers and code tables), idempotent replay,
captures and refunds that never exceed what was taken, and books of the money that actually
moved. Faults are programmed over an admin API. Everything listens on 127.0.0.1 only.

    async with payrouter_lab.sandbox.serve() as sandbox:
        sandbox.urls["adyen"]        # http://127.0.0.1:PORT/v72, the adapter's base_url
        sandbox.admin_url            # GET /_admin/{provider}/books, POST .../faults, ...

`VaultProxy` stands in for a forwarding vault's proxy in front of them (card aliases swapped
for card data on the way to a stand-in).

Needs the `drill` extra (starlette, uvicorn).
"""

from ._books import BookEntry, Books, EntryKind, EntryStatus
from ._faults import FaultKind, FaultSpec
from ._server import PROVIDERS, Sandbox, run_sandbox, serve
from ._vault import StoredCard, VaultProxy

__all__ = [
    "PROVIDERS",
    "BookEntry",
    "Books",
    "EntryKind",
    "EntryStatus",
    "FaultKind",
    "FaultSpec",
    "Sandbox",
    "StoredCard",
    "VaultProxy",
    "run_sandbox",
    "serve",
]
