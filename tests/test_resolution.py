"""Every unknown outcome resolves: the ladder (lookup, replay, search, webhook) against a
scripted Stripe whose answers get lost, whose intents fail without moving money, and whose
search lags."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import FailureKind, Outcome
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
    settings = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
    async with Router([adapter], ledger="sqlite://", hooks=(), settings=settings) as router:
        yield router


def request(order_id: str = "order-1") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
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
