"""A waiting attempt's action as the ledger keeps it: its client secret sealed, never in clear.

Stripe's PaymentIntent client secret "should not be stored, logged, or exposed to anyone other
than the customer", yet a `requires_action` payment must answer lookups and a second pay with
its action. So the action is kept as JSON whose `client_secret` is sealed like a kept request
(`_sealing`: AES-GCM under the ledger's keys, bound to the order id, the attempt number and
`ACTION_PURPOSE`), and opened only when the row becomes a result. The keys follow the kept
requests' rule: configured `ledger_keys`, else the 0600 key file beside a SQLite file, else a
key that dies with an in-memory ledger; a server ledger without keys is refused at open when a
replaying provider is configured (Stripe is one), and should any other provider hand a client
secret there, it is not kept at all (with a warning): an action without it, never one in clear.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Final

from pydantic import SecretStr

from .._actions import NextAction
from ._sealing import ACTION_PURPOSE, RequestSeal, sealed_by

__all__ = ["SecretOpener", "kept_action", "stored_action"]

_LOG: Final = logging.getLogger("payrouter")

SecretOpener = Callable[[str, str, int], str | None]
"""Opens a sealed client secret of (order id, attempt number), or None when it does not open."""


def stored_action(seal: RequestSeal, action: NextAction, order_id: str, number: int) -> str:
    """The action's JSON with its client secret sealed for that attempt (the ledger's keys or
    key file already looked up); without a key, the secret is left out, never kept in clear."""
    text = action.stored()
    if action.client_secret is None:
        return text
    data = json.loads(text)
    if seal.keys is None:
        _LOG.warning(
            "no ledger key to seal the client secret of attempt %d of order %r: its action is "
            "kept without it (configure ledger_keys)",
            number,
            order_id,
        )
        data["client_secret"] = None
    else:
        secret = action.client_secret.get_secret_value()
        data["client_secret"] = seal.keys.seal(secret, order_id, number, ACTION_PURPOSE)
    return json.dumps(data, separators=(",", ":"))


def kept_action(text: str, order_id: str, number: int, opener: SecretOpener | None) -> NextAction:
    """An action as `stored_action` kept it, its client secret opened by `opener` (None: a
    reader that needs no secret, the books: a sealed one is left out). A secret kept in clear,
    before sealing, reads as it is."""
    action = NextAction.from_stored(text)
    if action.client_secret is None:
        return action
    sealed = action.client_secret.get_secret_value()
    if sealed_by(sealed) is None:
        return action
    plain = None if opener is None else opener(sealed, order_id, number)
    return action.model_copy(update={"client_secret": None if plain is None else SecretStr(plain)})
