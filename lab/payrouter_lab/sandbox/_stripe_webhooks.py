"""Stripe's webhook endpoints and event deliveries, as the stand-in sends them.

An endpoint is registered through the API Stripe documents: `POST /v1/webhook_endpoints`
with `url` and `enabled_events[]` (both required), answered with the endpoint and its
signing `secret` (`whsec_...`, shown only at creation). Each event an endpoint enabled (or
`*`) is POSTed to its URL as Stripe's Event JSON, after the outcome it reports, signed with
`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload" under the secret>`,
signed afresh on every try. A delivery that gets no 2xx (or no answer) is tried again with
exponential backoff, as Stripe retries for up to three days; here for the sandbox's life,
at most `MAX_TRIES` times, until a reset forgets the endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, urlsplit

import httpx

from ._exchange import Call, Reply, json_reply
from ._stripe_wire import error, new_id, public

__all__ = ["Delivery", "WebhookEndpoints", "stripe_signature"]

MAX_TRIES: Final = 12
FIRST_WAIT_SECONDS: Final = 0.2
MAX_WAIT_SECONDS: Final = 5.0
API_VERSION: Final = "2023-08-16"


def stripe_signature(secret: str, payload: bytes, timestamp: int) -> str:
    """`Stripe-Signature` for `payload` signed at `timestamp` under an endpoint's secret."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(slots=True)
class Delivery:
    """One event sent to one endpoint: each try's HTTP status (None: no answer)."""

    event_id: str
    type: str
    endpoint_id: str
    statuses: list[int | None] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return bool(self.statuses) and (self.statuses[-1] or 0) // 100 == 2


class WebhookEndpoints:
    """The account's webhook endpoints and the deliveries made to them."""

    def __init__(self) -> None:
        self._endpoints: dict[str, dict[str, object]] = {}
        self._secrets: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.deliveries: list[Delivery] = []

    def clear(self) -> None:
        """Forget every endpoint and stop the deliveries still being tried."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._endpoints.clear()
        self._secrets.clear()
        self.deliveries.clear()

    def create(self, call: Call) -> Reply:
        """`POST /v1/webhook_endpoints`: the endpoint with its signing secret."""
        pairs = parse_qsl(call.body.decode(), keep_blank_values=True)
        url = next((v for k, v in pairs if k == "url"), "")
        enabled = [v for k, v in pairs if k.startswith("enabled_events[")]
        for param, given in (("url", url), ("enabled_events", enabled)):
            if not given:
                return error(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {param}.",
                    code="parameter_missing",
                    param=param,
                )
        if urlsplit(url).scheme not in ("http", "https"):
            return error(
                400, "invalid_request_error", "Invalid URL: " + url, code="url_invalid", param="url"
            )
        endpoint_id, secret = new_id("we"), f"whsec_{secrets.token_hex(16)}"
        endpoint: dict[str, object] = {
            "id": endpoint_id,
            "object": "webhook_endpoint",
            "api_version": None,
            "application": None,
            "created": int(time.time()),
            "description": None,
            "enabled_events": enabled,
            "livemode": False,
            "metadata": {},
            "status": "enabled",
            "url": url,
        }
        self._endpoints[endpoint_id] = endpoint
        self._secrets[endpoint_id] = secret
        return json_reply(200, {**endpoint, "secret": secret})

    def emit(self, kind: str, obj: Mapping[str, object]) -> None:
        """Send the event `kind` about `obj` (as the API shows it) to every endpoint that
        enabled it; the deliveries run on their own, after the request that caused it."""
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": public(dict(obj))},
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        payload = json.dumps(event, separators=(",", ":")).encode()
        for endpoint_id, endpoint in self._endpoints.items():
            enabled = endpoint["enabled_events"]
            assert isinstance(enabled, list)
            if kind not in enabled and "*" not in enabled:
                continue
            delivery = Delivery(str(event["id"]), kind, endpoint_id)
            self.deliveries.append(delivery)
            task = asyncio.get_running_loop().create_task(
                self._deliver(str(endpoint["url"]), self._secrets[endpoint_id], payload, delivery)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, secret: str, payload: bytes, delivery: Delivery) -> None:
        """POST until a 2xx, backing off between tries, as Stripe retries a failed delivery."""
        wait = FIRST_WAIT_SECONDS
        async with httpx.AsyncClient(timeout=10.0) as client:
            for _ in range(MAX_TRIES):
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": stripe_signature(secret, payload, int(time.time())),
                }
                status: int | None = None
                with contextlib.suppress(httpx.HTTPError):
                    status = (await client.post(url, content=payload, headers=headers)).status_code
                delivery.statuses.append(status)
                if delivery.delivered:
                    return
                await asyncio.sleep(wait)
                wait = min(MAX_WAIT_SECONDS, wait * 2)
