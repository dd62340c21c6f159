"""One request through a stand-in: auth, faults, idempotency replay, handler, late faults.

Every provider stand-in subclasses `Standin` and lists its `Operation`s; this module runs the
same pipeline for all of them, so a fault or a replay behaves alike at every provider and only
the wire format (error bodies, status codes) differs:

    auth -> latency -> before-faults -> idempotency -> outcome fault + handler -> store -> after

Replays return the stored status, headers and body byte for byte. A request refused before
processing (busy, maintenance, 401, `saves`: Stripe's failed validation) is not stored. What
a key keeps after a fault that struck once the request was processed follows the provider
(`keeps_server_errors`): Stripe keeps its own 500, the others the real outcome; a load
balancer's 502/504 page and a lost answer are never the provider's, so the real outcome is
what every provider keeps.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from payrouter import currency_exponent

from ._books import Books
from ._credentials import Vault
from ._faults import Fault, FaultBoard, FaultKind, Phase

__all__ = [
    "AbortLogFilter",
    "Call",
    "Operation",
    "Reply",
    "Standin",
    "decimal_to_minor",
    "gateway_reply",
    "json_reply",
    "minor_to_decimal",
]

_ABORT_LOG = "ASGI callable returned without completing response."


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer, storable for idempotent replay."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


def json_reply(status: int, data: object, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON answer; bodies are serialized once so a replay is byte-identical."""
    return Reply(status, json.dumps(data, separators=(",", ":")).encode(), headers or {})


def decimal_to_minor(value: str, currency: str) -> int:
    """A decimal amount string ("10.50") in integer minor units (1050); never a float."""
    return int(Decimal(value).scaleb(currency_exponent(currency.upper())))


def minor_to_decimal(minor_units: int, currency: str) -> str:
    """Integer minor units as the decimal string PayPal and Berlin Group put on the wire."""
    exponent = currency_exponent(currency.upper())
    return f"{Decimal(minor_units).scaleb(-exponent):.{exponent}f}"


@dataclass(slots=True)
class Call:
    """One request as a handler sees it; `fault` is the outcome fault drawn for it, if any."""

    operation: str
    method: str
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Headers
    body: bytes
    base_url: str
    fault: Fault | None = None

    def json(self) -> dict[str, object]:
        """The JSON body, or an empty dict when there is none or it is not an object."""
        try:
            data: object = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def form(self) -> dict[str, str]:
        """The form-encoded body (Stripe)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def faulted(self, *kinds: FaultKind) -> FaultKind | None:
        """The outcome fault's kind when it is one of `kinds`."""
        if self.fault is not None and self.fault.spec.kind in kinds:
            return self.fault.spec.kind
        return None


Handler = Callable[[Call], Awaitable[Reply]]
PayerOf = Callable[[Call], str | None]


@dataclass(frozen=True, slots=True)
class Operation:
    """A route of a stand-in: its name (what faults filter on) and how to find the payer."""

    name: str
    method: str
    path: str
    handler: Handler
    payer: PayerOf | None = None
    public: bool = False
    """The customer's page (3-D Secure, approval, bank SCA): no API credentials needed."""


class Standin(abc.ABC):
    """State and wire format of one provider; subclasses add their resources and routes."""

    name: str
    idempotency_header: str | None = None
    idempotency_window_seconds: float | None = None
    """How long the provider keeps a key's reply (None: for ever); past it the same key is a
    new request, as at the provider, so a late replay may be processed again."""
    keeps_server_errors: bool = False
    """The provider saves its own 500 under the key and replays it (Stripe: "Retries with the
    same key return the saved response, including 500 errors"), so a 500 played after
    processing is what the key keeps; False: the key keeps the real outcome (Adyen returns
    the first attempt's response, PayPal the latest status of the original request)."""

    replayed_header: str | None = None
    """The header a replay carries, "true", where the provider marks its replays (Stripe's
    `Idempotent-Replayed`): how a client knows an answer is one the key keeps."""

    def __init__(self, seed: int, clock: Callable[[], float] = time.time) -> None:
        self.faults = FaultBoard(seed)
        self.books = Books()
        self.clock = clock
        self._replies: dict[str, tuple[str, Reply, float]] = {}
        self._running: set[str] = set()
        self.vault: Vault | None = None
        """The credentials this provider issued; None: it issues none (a bank's IBANs)."""

    def reset(self) -> None:
        """Forget payments, books, faults and idempotency keys."""
        self.faults.clear()
        self.books.clear()
        self._replies.clear()
        self._running.clear()
        if self.vault is not None:
            self.vault.clear()

    def configure_account(self, settings: object) -> dict[str, object] | str:
        """Apply account settings from the admin API: the settings now, or a message."""
        return f"{self.name} has no account settings"

    @abc.abstractmethod
    def operations(self) -> Sequence[Operation]:
        """The provider's routes."""

    @abc.abstractmethod
    def authenticated(self, headers: Headers) -> bool:
        """Whether the provider's auth header is present (any value is accepted)."""

    @abc.abstractmethod
    def unauthorized(self) -> Reply:
        """401 in the provider's error format."""

    @abc.abstractmethod
    def busy(self, status: int, retry_after: int) -> Reply:
        """429 (rate limited) or 503 (overloaded) in the provider's format."""

    @abc.abstractmethod
    def maintenance(self, retry_after: int) -> Reply:
        """503 as the provider answers during a maintenance window."""

    @abc.abstractmethod
    def server_error(self) -> Reply:
        """500 in the provider's format."""

    @abc.abstractmethod
    def idempotency_conflict(self) -> Reply:
        """Same idempotency key, different request."""

    @abc.abstractmethod
    def in_progress(self) -> Reply:
        """Same idempotency key while the first request still runs."""

    def app(self) -> Starlette:
        """The provider's ASGI app."""
        routes = [
            Route(op.path, _Endpoint(self, op), methods=[op.method]) for op in self.operations()
        ]
        return Starlette(routes=routes)

    def fingerprint(self, method: str, path: str, body: bytes) -> str:
        """What must match for a replay: method, path and the body, parsed and sorted."""
        try:
            parsed: object = json.loads(body) if body else None
            canonical = json.dumps(parsed, sort_keys=True)
        except ValueError:
            canonical = json.dumps(sorted(parse_qsl(body.decode(errors="replace"))))
        return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()

    async def run(self, op: Operation, call: Call, path: str, send: Send) -> None:
        """The pipeline of the module docstring for one request."""
        if not op.public and not self.authenticated(call.headers):
            await _send(send, self.unauthorized())
            return
        payer = op.payer(call) if op.payer is not None else None
        slow = self.faults.draw(Phase.LATENCY, op.name, payer)
        if slow is not None:
            await asyncio.sleep(self.faults.latency(slow.spec))
        early = self.faults.draw(Phase.BEFORE, op.name, payer)
        key = call.headers.get(self.idempotency_header) if self.idempotency_header else None
        if key is not None and call.method == "POST":
            stored = self._kept_reply(key)
            if early is None and stored is not None:
                same = stored[0] == self.fingerprint(call.method, path, call.body)
                await _send(
                    send, self._replayed(stored[1]) if same else self.idempotency_conflict()
                )
                return
        if early is not None:
            self._keep_saved_error(early, key, call, path)
            await self._play_early(early, send)
            return
        if key is not None and call.method == "POST":
            if key in self._running:
                await _send(send, self.in_progress())
                return
            self._running.add(key)
        try:
            call.fault = self.faults.draw(Phase.OUTCOME, op.name, payer)
            reply = await op.handler(call)
            late = self.faults.draw(Phase.AFTER, op.name, payer)
            kept = self._kept(reply, late)
            if key is not None and call.method == "POST" and self.saves(kept):
                fingerprint = self.fingerprint(call.method, path, call.body)
                self._replies[key] = (fingerprint, kept, self.clock())
        finally:
            if key is not None:
                self._running.discard(key)
        await self._play_late(late, reply, send)

    def saves(self, reply: Reply) -> bool:
        """Whether the key keeps `reply` (Stripe: not a request that failed validation)."""
        return True

    def _replayed(self, reply: Reply) -> Reply:
        flag = self.replayed_header
        return reply if flag is None else replace(reply, headers={**reply.headers, flag: "true"})

    def _keep_saved_error(self, early: Fault, key: str | None, call: Call, path: str) -> None:
        """A `saved` error: the endpoint began and failed, and a provider that saves its own
        500s keeps it under the key, so every replay within the window repeats it."""
        if not (early.spec.saved and self.keeps_server_errors and key and call.method == "POST"):
            return
        if key in self._running or self._kept_reply(key) is not None:
            return
        fingerprint = self.fingerprint(call.method, path, call.body)
        self._replies[key] = (fingerprint, self.server_error(), self.clock())

    def _kept(self, reply: Reply, late: Fault | None) -> Reply:
        """What the key keeps: the provider's own 500 played after processing, where the
        provider saves its 500s (Stripe); else the real reply (an edge's 502/504 page or a lost
        answer is not the provider's: its API finished and saved the result)."""
        if self.keeps_server_errors and late is not None and late.spec.kind is FaultKind.ERROR:
            return self.server_error()
        return reply

    def _kept_reply(self, key: str) -> tuple[str, Reply, float] | None:
        """The stored reply to `key`, unless the provider's key window has passed."""
        stored = self._replies.get(key)
        window = self.idempotency_window_seconds
        if stored is not None and window is not None and self.clock() - stored[2] > window:
            del self._replies[key]
            return None
        return stored

    async def _play_early(self, fault: Fault, send: Send) -> None:
        spec = fault.spec
        match spec.kind:
            case FaultKind.BUSY:
                await _send(send, self.busy(spec.status or 429, spec.retry_after_seconds))
            case FaultKind.MAINTENANCE:
                await _send(send, self.maintenance(spec.retry_after_seconds))
            case FaultKind.CREDENTIALS:
                await _send(send, self.unauthorized())
            case FaultKind.TIMEOUT:
                await asyncio.sleep(self.faults.latency(spec))
                await _abort(send)
            case FaultKind.RESET:
                await _abort(send)
            case FaultKind.GATEWAY:
                await _send(send, gateway_reply(spec.status or 502))
            case _:
                await _send(send, self.server_error())

    async def _play_late(self, fault: Fault | None, reply: Reply, send: Send) -> None:
        if fault is None:
            await _send(send, reply)
            return
        spec = fault.spec
        match spec.kind:
            case FaultKind.SUCCESS_AFTER_TIMEOUT:
                await asyncio.sleep(self.faults.latency(spec))
                if spec.abort:
                    await _abort(send, reply)
                else:
                    await _send(send, reply)
            case FaultKind.GATEWAY:
                await _send(send, gateway_reply(spec.status or 502))
            case _:
                await _send(send, self.server_error())


def gateway_reply(status: int) -> Reply:
    """What a load balancer in front of any provider says: an HTML page, no API body."""
    title = "502 Bad Gateway" if status == 502 else "504 Gateway Time-out"
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return Reply(status, body.encode(), media_type="text/html")


class _Endpoint:
    """A raw ASGI endpoint, so a fault can cut the connection in the middle of a response."""

    def __init__(self, standin: Standin, op: Operation) -> None:
        self._standin = standin
        self._op = op

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while (message := await receive())["type"] != "http.disconnect":
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        else:
            return  # the client left before its body arrived: no server processes that
        host, port = scope["server"]
        call = Call(
            operation=self._op.name,
            method=scope["method"],
            path_params={k: str(v) for k, v in scope.get("path_params", {}).items()},
            query=dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True)),
            headers=Headers(scope=scope),
            body=body,
            base_url=f"http://{host}:{port}",
        )
        await self._standin.run(self._op, call, scope["path"], send)


async def _send(send: Send, reply: Reply) -> None:
    headers = [(b"content-type", reply.media_type.encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
    headers.append((b"content-length", str(len(reply.body)).encode()))
    with contextlib.suppress(OSError):  # the client may have given up already
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})


async def _abort(send: Send, reply: Reply | None = None) -> None:
    """Start the response, send half of the body and stop: the server drops the connection.

    ASGI has no "reset" message; an app that returns before completing a started response
    makes uvicorn close the connection, and the client reads a truncated body (an httpx
    `RemoteProtocolError`). `AbortLogFilter` keeps uvicorn from logging that as a bug.
    """
    reply = reply or json_reply(200, {"sandbox": "connection aborted mid-response"})
    headers = [
        (b"content-type", reply.media_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
    ]
    with contextlib.suppress(OSError):
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        half = reply.body[: len(reply.body) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})


class AbortLogFilter(logging.Filter):
    """Drops uvicorn's error line for responses the sandbox cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the deliberate-abort message, True for everything else."""
        return record.getMessage() != _ABORT_LOG
