"""Every unknown outcome resolves: the ladder (lookup, replay, search, webhook) against a
scripted Stripe whose answers get lost, whose intents fail without moving money, and whose
search lags."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    CardSource,
    FollowUpStatus,
    Money,
    OutboxSettings,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import FailureKind, Outcome
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.stripe import StripeAdapter

Handler = Callable[[httpx.Request], httpx.Response]


class ScriptedStripe:
    """Answers each (method, path) with its scripted handler; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handlers: dict[tuple[str, str], list[Handler]] = {}

    def on(self, method: str, path: str, *handlers: Handler) -> None:
        self.handlers.setdefault((method, path), []).extend(handlers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.handlers[(request.method, request.url.path)]
        handler = queue.pop(0) if len(queue) > 1 else queue[0]
        return handler(request)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]


def answer(body: object, status: int = 200) -> Handler:
    return lambda _request: httpx.Response(status, content=json.dumps(body).encode())


def lost(_request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("the answer never came back")


def intent(status: str, **fields: object) -> dict[str, object]:
    return {"id": "pi_1", "object": "payment_intent", "status": status, **fields}


PROCESSING_ERROR = intent(
    "requires_payment_method",
    last_payment_error={"type": "card_error", "code": "processing_error", "message": "Try again."},
)


def found(*intents: dict[str, object]) -> Handler:
    return answer({"object": "search_result", "data": list(intents), "has_more": False})


@pytest.fixture
def stripe() -> ScriptedStripe:
    return ScriptedStripe()


@pytest.fixture
async def payments(stripe: ScriptedStripe) -> AsyncIterator[Router]:
    adapter = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        transport=httpx.MockTransport(stripe),
    )
    settings = RouterSettings(
        lookup_tries=1, lookup_wait_seconds=0, outbox=OutboxSettings(initial_backoff_seconds=0)
    )
    async with Router([adapter], ledger="sqlite://", hooks=(), settings=settings) as router:
        yield router


def request(order_id: str = "order-1", *, capture: bool = True) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        capture=capture,
        amount=Money.of("10.00", "EUR"),
        sources=[
            CardSource(
                tokens={"stripe": SecretStr("pm_card_visa"), "adyen": SecretStr("stored_card_1")}
            )
        ],
        customer_country="DE",
        customer_id="shopper-7",
    )


async def test_a_lost_answer_for_an_intent_that_failed_without_charging_frees_the_order(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """requires_payment_method after a processing_error, found by lookup: failed, payable again."""
    stripe.on("POST", "/v1/payment_intents", lost, answer(intent("succeeded", id="pi_2")))
    stripe.on("GET", "/v1/payment_intents/search", found(PROCESSING_ERROR))
    with pytest.raises(AllProvidersUnavailableError):
        await payments.pay(request())
    first = await payments.lookup("order-1")
    assert first is not None
    assert first.status is PaymentStatus.FAILED
    (attempt,) = first.attempts
    assert (attempt.outcome, attempt.failure_kind) == (Outcome.FAILED, FailureKind.PROVIDER_DOWN)
    assert attempt.provider_reference == "pi_1"
    again = await payments.pay(request())
    assert again.status is PaymentStatus.SUCCEEDED
    assert again.provider_reference == "pi_2"


async def test_reconcile_settles_an_intent_that_failed_without_charging(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """A pending payment whose intent ended requires_payment_method is failed by reconcile."""
    stripe.on("POST", "/v1/payment_intents", lost)
    stripe.on(
        "GET",
        "/v1/payment_intents/search",
        answer({"error": {"type": "api_error"}}, status=500),
        found(PROCESSING_ERROR),
    )
    first = await payments.pay(request())
    assert first.status is PaymentStatus.PENDING
    report = await payments.reconcile()
    settled = await payments.lookup("order-1")
    assert settled is not None
    assert settled.status is PaymentStatus.FAILED
    assert report.still_open == ()


def stripe_router(stripe: ScriptedStripe, ledger: str, **settings: Any) -> Router:
    adapter = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        transport=httpx.MockTransport(stripe),
    )
    tuned = RouterSettings(lookup_tries=1, lookup_wait_seconds=0, **settings)
    return Router([adapter], ledger=ledger, hooks=(), settings=tuned)


def age_attempts(database: Path, seconds: float) -> None:
    """Move every attempt's start back in time, as if it had been made `seconds` ago."""
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("UPDATE payrouter_attempts SET started_at = started_at - ?", (seconds,))


async def test_a_lagging_search_never_fails_a_payment_before_stripes_lag_bound(
    stripe: ScriptedStripe, tmp_path: Path
) -> None:
    """Ten minutes on, search still misses and replay is off: pending, with the lag's end."""
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", lost)
    stripe.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(stripe, f"sqlite:///{database}", replay_max_age_seconds=0) as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
        age_attempts(database, 600)
        report = await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.PENDING
    (still,) = report.open
    assert still.order_id == "order-1"
    assert "search may lag until" in still.next_step
    assert not still.overdue
    assert len(stripe.sent("POST", "/v1/payment_intents")) == 1


async def test_search_miss_past_stripes_lag_bound_concludes_absence(
    stripe: ScriptedStripe, tmp_path: Path
) -> None:
    """Past the replay cap and then Stripe's declared hour of search lag (a replay sent at
    the cap may have charged, and the search may show it only an hour later), a miss fails
    it."""
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", lost)
    stripe.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(stripe, f"sqlite:///{database}") as router:
        await router.pay(request())
        age_attempts(database, 3600 + 3600 + 100)
        report = await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.FAILED
    assert report.open == ()


async def test_replay_settles_a_lost_answer_the_search_cannot_see_yet(
    stripe: ScriptedStripe, tmp_path: Path
) -> None:
    """Search lags; the same request under the same key returns the original intent."""
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", lost, lost, answer(intent("succeeded")))
    stripe.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(stripe, f"sqlite:///{database}") as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
        age_attempts(database, 600)
        await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    assert result.provider_reference == "pi_1"
    original, in_pay, replay = stripe.sent("POST", "/v1/payment_intents")
    assert replay.headers["Idempotency-Key"] == original.headers["Idempotency-Key"]
    assert replay.content == original.content == in_pay.content


async def test_an_overdue_open_payment_is_flagged(stripe: ScriptedStripe, tmp_path: Path) -> None:
    """Known intent id, Stripe unreachable past its bound: open, overdue, reason and step."""
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", answer(intent("processing")))
    stripe.on("GET", "/v1/payment_intents/pi_1", answer({"error": {}}, status=500))
    async with stripe_router(stripe, f"sqlite:///{database}") as router:
        await router.pay(request())
        with closing(sqlite3.connect(database)) as conn, conn:
            conn.execute("UPDATE payrouter_attempts SET outcome = 'unknown'")
        age_attempts(database, 4000)
        report = await router.reconcile()
    (still,) = report.overdue
    assert "pi_1" in still.reason
    assert still.next_step == "reconcile again"


SAVED_500 = answer({"error": {"type": "api_error", "message": "An unknown error occurred"}}, 500)


async def test_a_replay_answered_with_stripes_saved_500_waits_for_search(
    stripe: ScriptedStripe, tmp_path: Path
) -> None:
    """Stripe repeats the 500 it saved under the key: the replay settles nothing, the reason
    says so, and a hit of search, once it shows the intent, settles the payment."""
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", SAVED_500)
    stripe.on("GET", "/v1/payment_intents/search", found(), found(), found(intent("succeeded")))
    async with stripe_router(stripe, f"sqlite:///{database}") as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
        age_attempts(database, 600)
        waiting = await router.reconcile()
        settled = await router.reconcile()
        result = await router.lookup("order-1")
    (still,) = waiting.open
    assert still.reason.startswith("the replay repeats the 500 stripe saved for the request")
    assert "stripe search may lag until" in still.next_step
    assert settled.open == ()
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    assert result.provider_reference == "pi_1"


async def test_a_saved_500_is_overdue_past_stripes_search_lag_not_its_key_window(
    stripe: ScriptedStripe, tmp_path: Path
) -> None:
    """Replay cannot settle a saved 500, so the bound is search's hour, not the 24-hour key
    window: open past it, with search unreadable, is overdue (an operator should look)."""
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", SAVED_500)
    stripe.on("GET", "/v1/payment_intents/search", SAVED_500)
    ledger = f"sqlite:///{database}"
    async with stripe_router(stripe, ledger, replay_max_age_seconds=86400) as router:
        await router.pay(request())
        age_attempts(database, 4000)
        report = await router.reconcile()
        result = await router.lookup("order-1")
    (still,) = report.overdue
    assert "repeats the 500" in still.reason
    assert result is not None
    assert result.status is PaymentStatus.PENDING


ADYEN_OPTIONS: dict[str, object] = {
    "base_url": "https://checkout-test.adyen.com/v72",
    "api_key": "adyen-key",
    "merchant_account": "Shop",
    "return_url": "https://shop.example/back",
}


def adyen_router(peer: ScriptedStripe, ledger: str = "sqlite://") -> Router:
    adapter = AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options=ADYEN_OPTIONS,
        transport=httpx.MockTransport(peer),
    )
    settings = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
    return Router([adapter], ledger=ledger, hooks=(), settings=settings)


AUTHORISED = {"pspReference": "PSP0001", "resultCode": "Authorised"}


async def test_adyen_lost_answer_is_settled_by_replay_during_pay() -> None:
    """Adyen cannot be asked; the same request under the same key answers Authorised."""
    adyen = ScriptedStripe()
    adyen.on("POST", "/v72/payments", lost, answer(AUTHORISED))
    async with adyen_router(adyen) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.SUCCEEDED
    assert result.provider_reference == "PSP0001"
    first, replay = adyen.sent("POST", "/v72/payments")
    assert replay.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    assert replay.content == first.content


async def test_adyen_unknown_left_by_pay_is_settled_by_reconciles_replay() -> None:
    """Answers lost twice during pay: pending; reconcile's replay settles it, no webhook."""
    adyen = ScriptedStripe()
    adyen.on("POST", "/v72/payments", lost, lost, answer(AUTHORISED))
    async with adyen_router(adyen) as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
        report = await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.SUCCEEDED
    assert report.open == ()
    assert len({r.headers["Idempotency-Key"] for r in adyen.sent("POST", "/v72/payments")}) == 1


ALREADY_REFUNDED = {
    "error": {
        "type": "invalid_request_error",
        "code": "charge_already_refunded",
        "message": "Charge ch_1 has already been refunded.",
    }
}


async def test_a_resent_refund_answered_already_refunded_matching_the_ledger_succeeds(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """The first refund's answer was lost; Stripe answers the resend 'already refunded' for
    the whole amount, which is this refund: succeeded, never refused."""
    stripe.on("POST", "/v1/payment_intents", answer(intent("succeeded", amount=1000)))
    stripe.on("POST", "/v1/refunds", lost, answer(ALREADY_REFUNDED, status=400))
    paid = await payments.pay(request())
    first = await payments.refund(paid)
    assert first.status is FollowUpStatus.QUEUED
    (resent,) = await payments.process_outbox()
    assert resent.status is FollowUpStatus.SUCCEEDED
    assert resent.provider_code == "charge_already_refunded"


async def test_already_refunded_that_the_ledger_cannot_explain_stays_refused(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """A partial refund answered 'already refunded' (fully): not this refund's doing."""
    stripe.on("POST", "/v1/payment_intents", answer(intent("succeeded", amount=1000)))
    stripe.on("POST", "/v1/refunds", lost, answer(ALREADY_REFUNDED, status=400))
    paid = await payments.pay(request())
    await payments.refund(paid, Money.of("4.00", "EUR"))
    (resent,) = await payments.process_outbox()
    assert resent.status is FollowUpStatus.REFUSED


def unexpected_state(action: str, status: str, **fields: object) -> Handler:
    """Stripe's 400 to a capture or cancel its intent's state forbids, the intent embedded."""
    problem = {
        "type": "invalid_request_error",
        "code": "payment_intent_unexpected_state",
        "message": f"This PaymentIntent could not be {action} because it has a status of {status}.",
        "payment_intent": intent(status, **fields),
    }
    return answer({"error": problem}, status=400)


AUTHORIZED = answer(intent("requires_capture", amount=1000, amount_received=0, currency="eur"))
CAPTURE = "/v1/payment_intents/pi_1/capture"
CANCEL = "/v1/payment_intents/pi_1/cancel"


async def test_a_resent_capture_refused_for_an_intent_already_succeeded_succeeds(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """The capture's answer was lost, which keeps its key; sent again once Stripe's 24-hour
    key window is over, Stripe answers `unexpected_state` with the intent `succeeded` for
    the amount asked: this capture took the money, so it succeeded, never refused."""
    captured = unexpected_state(
        "captured", "succeeded", amount=1000, amount_received=1000, currency="eur"
    )
    stripe.on("POST", "/v1/payment_intents", AUTHORIZED)
    stripe.on("POST", CAPTURE, lost, captured)
    paid = await payments.pay(request(capture=False))
    first = await payments.capture(paid)
    assert first.status is FollowUpStatus.QUEUED
    (resent,) = await payments.process_outbox()
    assert resent.status is FollowUpStatus.SUCCEEDED
    assert resent.provider_code == "payment_intent_unexpected_state:succeeded"
    original, again = stripe.sent("POST", CAPTURE)
    assert again.headers["Idempotency-Key"] == original.headers["Idempotency-Key"]


async def test_an_already_succeeded_capture_of_another_amount_is_not_this_capture(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """The intent says 6.00 was captured, the capture asked 10.00: money moved, not what was
    asked, so it awaits a person (`amount_mismatch`), as a capture answered so would."""
    captured = unexpected_state(
        "captured", "succeeded", amount=1000, amount_received=600, currency="eur"
    )
    stripe.on("POST", "/v1/payment_intents", AUTHORIZED)
    stripe.on("POST", CAPTURE, lost, captured)
    await payments.capture(await payments.pay(request(capture=False)))
    (resent,) = await payments.process_outbox()
    assert resent.status is FollowUpStatus.PENDING
    assert resent.provider_code == "amount_mismatch"


async def test_a_capture_refused_for_a_canceled_intent_stays_refused(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """The same refusal with the intent `canceled`: nothing was captured, so it is refused."""
    stripe.on("POST", "/v1/payment_intents", AUTHORIZED)
    stripe.on(
        "POST",
        CAPTURE,
        lost,
        unexpected_state("captured", "canceled", amount=1000, amount_received=0, currency="eur"),
    )
    await payments.capture(await payments.pay(request(capture=False)))
    (resent,) = await payments.process_outbox()
    assert resent.status is FollowUpStatus.REFUSED
    assert resent.provider_code == "payment_intent_unexpected_state:canceled"


async def test_a_resent_void_refused_for_an_intent_already_canceled_succeeds(
    stripe: ScriptedStripe, payments: Router
) -> None:
    """The void's answer was lost; past the key window Stripe refuses the resend for an
    intent already `canceled`, and nothing was captured: the void was done."""
    stripe.on("POST", "/v1/payment_intents", AUTHORIZED)
    stripe.on(
        "POST",
        CANCEL,
        lost,
        unexpected_state("canceled", "canceled", amount_received=0, currency="eur"),
    )
    first = await payments.void(await payments.pay(request(capture=False)))
    assert first.status is FollowUpStatus.QUEUED
    (resent,) = await payments.process_outbox()
    assert resent.status is FollowUpStatus.SUCCEEDED
    assert resent.provider_code == "payment_intent_unexpected_state:canceled"


KEY_REUSED = {
    "error": {
        "type": "idempotency_error",
        "message": "Keys for idempotent requests can only be used with the same parameters "
        "they were first used with. Try using a key other than 'k' if you meant to execute a "
        "different request.",
    }
}


async def test_a_key_reused_with_other_parameters_is_unknown_and_never_failed_over(
    stripe: ScriptedStripe,
) -> None:
    """Stripe already holds a request under this attempt's key, which may have charged: the
    payment stays pending for the ladder, and the next provider is never called."""
    adyen = ScriptedStripe()
    adyen.on("POST", "/v72/payments", answer(AUTHORISED))
    stripe.on("POST", "/v1/payment_intents", answer(KEY_REUSED, status=400))
    stripe.on("GET", "/v1/payment_intents/search", found())
    options = {"base_url": "https://api.stripe.test", "api_key": "sk_test_x"}
    both = [
        StripeAdapter.from_options(
            name="stripe", capabilities=None, options=options, transport=httpx.MockTransport(stripe)
        ),
        AdyenAdapter.from_options(
            name="adyen",
            capabilities=None,
            options=ADYEN_OPTIONS,
            transport=httpx.MockTransport(adyen),
        ),
    ]
    settings = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
    async with Router(both, ledger="sqlite://", hooks=(), settings=settings) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.PENDING
    (attempt,) = result.attempts
    assert attempt.outcome is Outcome.UNKNOWN
    assert adyen.requests == []
