"""A simulated payment provider behind an httpx transport, with books of money actually taken.

It speaks a small JSON API over `httpx` (no sockets), so the adapter in front of it is real
HTTP code and the router sees real httpx exceptions: a refused connection, a read timeout
after the money was taken, a 500 after processing. The books are a SQLite file when given a
path, so they outlive a worker process killed in the middle of a payment.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path

import httpx

from ._behavior import Behavior, _Action
from ._books import BookEntry, Books, FollowUpEntry

__all__ = ["Behavior", "BookEntry", "FollowUpEntry", "SimulatedProvider"]


class SimulatedProvider(httpx.AsyncBaseTransport):
    """A scripted payment provider; give it to `SimulatedAdapter` (or an `httpx.AsyncClient`).

    Behaviour comes from a queue (`script`), then from `behave` (a function of the call), then
    `default`. Idempotency keys replay the stored reply; a key reused with another body is
    refused with 422, as real providers do.

    Args:
        name: used in provider references, e.g. "sim_card_a".
        books_path: a SQLite file for the books, so they outlive this process.
    """

    def __init__(self, name: str, *, books_path: str | Path | None = None) -> None:
        self.name = name
        self.default = Behavior.succeed()
        self.behave: Callable[[dict[str, object]], Behavior | None] | None = None
        self._queue: deque[Behavior] = deque()
        self._followup_queue: deque[Behavior] = deque()
        self.followup_default = Behavior.succeed()
        """What follow-ups get when none is scripted (e.g. `Behavior.unavailable()`)."""
        self.followup_calls = 0
        """Follow-up calls received (captures, refunds, voids, cancellations), replays included."""
        self._books = Books(Path(books_path) if books_path else None)
        self.calls = 0
        """Payment calls received, replays included; lookups and follow-ups not counted."""

    def script(self, *behaviors: Behavior) -> None:
        """Queue behaviours for the next payment calls, in order; then `default` applies."""
        self._queue.extend(behaviors)

    def script_followups(self, *behaviors: Behavior) -> None:
        """Queue behaviours for the next follow-up calls; then `followup_default` applies."""
        self._followup_queue.extend(behaviors)

    def followups(self, subject: str | None = None) -> list[FollowUpEntry]:
        """Follow-ups carried out, optionally for one payment (provider reference) or mandate."""
        sql = "SELECT * FROM followups"
        rows = (
            self._books.query(sql + " WHERE subject = ?", subject)
            if subject
            else (self._books.query(sql))
        )
        return [FollowUpEntry(*row) for row in rows]  # type: ignore[arg-type]

    def charges(self, order_id: str | None = None) -> list[BookEntry]:
        """Money taken (succeeded or settling), optionally for one order only."""
        sql = "SELECT * FROM charges WHERE status IN ('succeeded', 'pending', 'authorized')"
        rows = (
            self._books.query(sql + " AND order_id = ?", order_id)
            if order_id
            else self._books.query(sql)
        )
        return [BookEntry(*row) for row in rows]  # type: ignore[arg-type]

    def settle(
        self, provider_reference: str, *, succeeded: bool = True, captured: bool = True
    ) -> None:
        """Finish a pending payment, as a bank eventually does; `captured=False` leaves it
        authorised only (a payment made with `capture=False`), to capture or void later."""
        status = ("succeeded" if captured else "authorized") if succeeded else "declined"
        self._books.query(
            "UPDATE charges SET status = ? WHERE provider_reference = ?", status, provider_reference
        )

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the books (a file-backed book stays on disk for the next process)."""
        self._books.close()

    # -- the wire ------------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "POST" and path == "/payments":
            return await self._pay(request)
        if method == "GET" and path == "/payments":
            return self._lookup(request.url.params.get("reference", ""))
        if method == "POST" and path.startswith(("/payments/", "/mandates/")):
            parts = path.split("/")
            return self._follow_up(request, parts[1], parts[2], parts[3] if len(parts) > 3 else "")
        return _json(404, {"error": "no_route"})

    def _next_behavior(self, call: dict[str, object]) -> Behavior:
        if self._queue:
            return self._queue.popleft()
        if self.behave is not None:
            chosen = self.behave(call)
            if chosen is not None:
                return chosen
        return self.default

    async def _pay(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        key = request.headers.get("Idempotency-Key", "")
        body = request.content.decode()
        call: dict[str, object] = json.loads(body)
        replayed = self._replay(key, body)
        if replayed is not None:
            return replayed
        behavior = self._next_behavior(call)
        if behavior.delay and behavior.action is not _Action.HANG_AFTER_CHARGING:
            await asyncio.sleep(behavior.delay)
        return self._act(request, behavior, call, key, body)

    def _replay(self, key: str, body: str) -> httpx.Response | None:
        """The stored reply to an idempotency key, or a 422 when it comes with another body."""
        stored = self._books.query(
            "SELECT fingerprint, status, body FROM replies WHERE idempotency_key = ?", key
        )
        if not stored:
            return None
        fingerprint, status, reply_body = stored[0]
        if fingerprint != body:
            return _json(422, {"error": "idempotency_key_reused"})
        return httpx.Response(int(status), content=str(reply_body).encode())  # type: ignore[call-overload]

    def _act(
        self,
        request: httpx.Request,
        behavior: Behavior,
        call: dict[str, object],
        key: str,
        body: str,
    ) -> httpx.Response:
        action = behavior.action
        refused = _refusal(request, behavior)
        if refused is not None:
            return refused
        status_text = _STATUS_BY_ACTION.get(action, "succeeded")
        if action is _Action.SUCCEED and not call.get("capture", True):
            status_text = "authorized"
        reference = f"{self.name}_{uuid.uuid4().hex[:16]}"
        reply = {"id": reference, "status": status_text, "reference": call["reference"]}
        if action is _Action.REQUIRES_ACTION:
            reply["action_url"] = f"https://{self.name}.example/authenticate/{reference}"
        self._books.write(
            (
                "INSERT INTO charges VALUES (?, ?, ?, ?, ?, ?)",
                (
                    reference,
                    call["reference"],
                    call["order_id"],
                    call["amount"],
                    call["currency"],
                    status_text,
                ),
            ),
            ("INSERT INTO replies VALUES (?, ?, ?, ?)", (key, body, 200, json.dumps(reply))),
        )
        if action is _Action.TIMEOUT_AFTER_CHARGING:
            raise httpx.ReadTimeout("timed out after the charge", request=request)
        if action is _Action.ERROR_AFTER_CHARGING:
            return _json(500, {"error": "internal_error"})
        if action is _Action.HANG_AFTER_CHARGING:
            time.sleep(behavior.delay)  # blocks the worker on purpose: it is about to be killed
        return _json(200, reply)

    def _lookup(self, reference: str) -> httpx.Response:
        rows = self._books.query(
            "SELECT provider_reference, status FROM charges WHERE reference = ?", reference
        )
        if not rows:
            return _json(404, {"error": "not_found"})
        provider_reference, status = rows[0]
        return _json(200, {"id": provider_reference, "status": status, "reference": reference})

    def _follow_up(
        self, request: httpx.Request, collection: str, subject: str, operation: str
    ) -> httpx.Response:
        """A follow-up with the same idempotency rules, faults and books as a payment.

        The books refuse what a real provider refuses: capturing or voiding anything but an
        authorization, capturing more than it, refunding more than was captured.
        """
        self.followup_calls += 1
        key = request.headers.get("Idempotency-Key", "")
        body = request.content.decode()
        replayed = self._replay(key, body)
        if replayed is not None:
            return replayed
        behavior = self._followup_queue.popleft() if self._followup_queue else self.followup_default
        refused = _refusal(request, behavior)
        if refused is not None:
            return refused
        amount = json.loads(body or "{}").get("amount") if collection == "payments" else None
        problem = self._check_follow_up(collection, subject, operation, amount)
        if problem is not None:
            return problem
        status_text = "pending" if behavior.action is _Action.PENDING else "succeeded"
        writes: list[tuple[str, tuple[object, ...]]] = [
            (
                "INSERT INTO followups VALUES (?, ?, ?, ?, ?)",
                (key, subject, operation, amount, status_text),
            )
        ]
        if operation == "capture":
            writes.append(
                (
                    "UPDATE charges SET status = 'succeeded', amount_minor = ? "
                    "WHERE provider_reference = ?",
                    (amount, subject),
                )
            )
        elif operation == "void":
            writes.append(
                ("UPDATE charges SET status = 'voided' WHERE provider_reference = ?", (subject,))
            )
        reply_id = (
            subject
            if operation in ("capture", "void", "cancel")
            else (f"{operation}_{uuid.uuid4().hex[:12]}")
        )
        reply: dict[str, object] = {"id": reply_id, "status": status_text}
        writes.append(
            ("INSERT INTO replies VALUES (?, ?, ?, ?)", (key, body, 200, json.dumps(reply)))
        )
        self._books.write(*writes)
        if behavior.action is _Action.TIMEOUT_AFTER_CHARGING:
            raise httpx.ReadTimeout("timed out after the follow-up", request=request)
        if behavior.action is _Action.HANG_AFTER_CHARGING:
            time.sleep(behavior.delay)  # blocks the worker on purpose: it is about to be killed
        if behavior.action is _Action.ERROR_AFTER_CHARGING:
            return _json(500, {"error": "internal_error"})
        return _json(200, reply)

    def _check_follow_up(
        self, collection: str, subject: str, operation: str, amount: object
    ) -> httpx.Response | None:
        if collection == "mandates":
            return None if operation == "cancel" else _json(400, {"error": "invalid_request"})
        rows = self._books.query(
            "SELECT status, amount_minor FROM charges WHERE provider_reference = ?", subject
        )
        if not rows:
            return _json(404, {"error": "not_found"})
        status, taken = rows[0]
        assert isinstance(taken, int)
        if operation in ("capture", "void"):
            if status != "authorized":
                return _json(400, {"error": "invalid_request"})
            if operation == "capture" and not (isinstance(amount, int) and 0 < amount <= taken):
                return _json(400, {"error": "invalid_request"})
            return None
        if operation != "refund" or status != "succeeded" or not isinstance(amount, int):
            return _json(400, {"error": "invalid_request"})
        refunded = self._books.query(
            "SELECT coalesce(sum(amount_minor), 0) FROM followups "
            "WHERE subject = ? AND operation = 'refund'",
            subject,
        )[0][0]
        assert isinstance(refunded, int)
        if refunded + amount > taken:
            return _json(400, {"error": "invalid_request"})
        return None


def _refusal(request: httpx.Request, behavior: Behavior) -> httpx.Response | None:
    """What a provider does before processing anything (never stored: nothing happened)."""
    action = behavior.action
    if action is _Action.REFUSE_CONNECTION:
        raise httpx.ConnectError("connection refused", request=request)
    if action is _Action.TIMEOUT_BEFORE_CHARGING:
        raise httpx.ReadTimeout("timed out", request=request)
    refusal = _REFUSALS.get(action)
    if refusal is None:
        return None
    status, code = refusal
    body: dict[str, object] = {"error": code}
    if action is _Action.DECLINE:
        body = {"error": str(behavior.decline), "decline": behavior.decline_type}
        body["advice"] = behavior.advice
    headers = {"Retry-After": str(behavior.retry_after)} if behavior.retry_after else {}
    return _json(status, body, headers)


_REFUSALS: dict[_Action, tuple[int, str]] = {
    _Action.DECLINE: (402, ""),
    _Action.RATE_LIMITED: (429, "rate_limited"),
    _Action.OVERLOADED: (503, "overloaded"),
    _Action.UNAVAILABLE: (503, "unavailable"),
    _Action.MAINTENANCE: (503, "maintenance"),
    _Action.CREDENTIALS_REJECTED: (401, "invalid_api_key"),
    _Action.INVALID: (400, "invalid_request"),
}
_STATUS_BY_ACTION: dict[_Action, str] = {
    _Action.REQUIRES_ACTION: "requires_action",
    _Action.PENDING: "pending",
}


def _json(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
