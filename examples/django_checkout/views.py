"""Django views for a checkout, on payrouter's blocking facade (`SyncRouter`).

    POST /payments               pay an order: JSON {order_id, amount, currency, country,
                                 customer_id?, card_token | card_tokens, wallet,
                                 wallet_tokens?, iban, prefer}
    GET  /payments/<order_id>    where a payment stands
    GET  /return?order_id=...    where providers send the customer back: asks the provider
    POST /payments/<order_id>/refunds   refund: JSON {amount?, reason?, request_id?}; 202
                                 while the provider is down (`payrouter worker` sends it)
    POST /webhooks/<provider>    Stripe's and Adyen's notifications, verified, applied once

One `SyncRouter` per process, built on first use: it owns the provider connection pools and a
private event loop thread, so views stay plain synchronous functions. Every outcome and every
payrouter error has its own answer (`examples/checkout_answers.py`), never a bare 500.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    FollowUpStatus,
    Money,
    PaymentRequest,
    PayrouterError,
    SyncRouter,
    WalletSource,
    webhooks,
)
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.stripe import StripeWebhooks

from ..checkout_answers import Answer, for_error, for_result, payment_view

_router: SyncRouter | None = None
_receiver: webhooks.WebhookReceiver | None = None
_router_lock = threading.Lock()


def router() -> SyncRouter:
    """The process's router, built from `settings.PAYROUTER_CONFIG` on first use."""
    global _router  # one router per process, like a database connection pool
    with _router_lock:
        if _router is None:
            _router = SyncRouter.from_config(settings.PAYROUTER_CONFIG)
        return _router


def receiver() -> webhooks.WebhookReceiver:
    """The process's webhook receiver, on the same router; secrets from the environment."""
    global _receiver
    payments = router()
    with _router_lock:
        if _receiver is None:
            _receiver = webhooks.WebhookReceiver(
                payments,
                [
                    StripeWebhooks(os.environ["STRIPE_WEBHOOK_SECRET"]),
                    AdyenWebhooks(os.environ["ADYEN_HMAC_KEY"]),
                ],
            )
        return _receiver


def close_router() -> None:
    """Close the process's router (tests, and a clean shutdown)."""
    global _router, _receiver
    with _router_lock:
        if _router is not None:
            _router.close()
            _router = None
            _receiver = None


def answering_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn every payrouter error and invalid input into its answer (never a bare 500)."""

    @functools.wraps(view)
    def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (PayrouterError, ValueError) as error:  # pydantic's errors redact the input
            return _json(for_error(error))

    return answered


@csrf_exempt  # a JSON API called by the shop's own front end; add your CSRF policy here
@require_POST
@answering_errors
def pay(request: HttpRequest) -> HttpResponse:
    body: dict[str, Any] = json.loads(request.body)
    return _json(for_result(router().pay(_payment_request(body, request))))


@require_GET
@answering_errors
def payment(request: HttpRequest, order_id: str) -> HttpResponse:
    result = router().lookup(order_id)
    if result is None:
        return JsonResponse({"detail": f"no payment for order {order_id!r}"}, status=404)
    return JsonResponse(payment_view(result))


@require_GET
@answering_errors
def returned(request: HttpRequest) -> HttpResponse:
    # What the provider appended to the return URL (Adyen's redirectResult) finishes a 3-D
    # Secure challenge at a provider that cannot be asked otherwise.
    details = {k: v for k, v in request.GET.items() if k != "order_id"}
    result = router().refresh(request.GET.get("order_id", ""), details=details or None)
    if result is None:
        return JsonResponse({"detail": "no payment for this order"}, status=404)
    return _json(for_result(result))


@csrf_exempt  # the shop's back office calls it; put it behind your staff authentication
@require_POST
@answering_errors
def refund(request: HttpRequest, order_id: str) -> HttpResponse:
    payments = router()
    payment = payments.lookup(order_id)
    if payment is None:
        return JsonResponse({"detail": f"no payment for order {order_id!r}"}, status=404)
    body: dict[str, Any] = json.loads(request.body or b"{}")
    asked = body.get("amount")
    amount = Money.of(str(asked), payment.amount.currency) if asked else None
    # A broken money rule is a 422 and a provider's refusal a 502 (answering_errors).
    done = payments.refund(payment, amount, reason=body.get("reason"), key=body.get("request_id"))
    view = {
        "refund_id": done.followup_id,
        "status": done.status.value,
        "amount": str(done.amount.amount) if done.amount else None,
        "provider": done.provider,
    }
    return JsonResponse(view, status=202 if done.status is FollowUpStatus.QUEUED else 200)


@csrf_exempt  # providers cannot send a CSRF token: the signature is the proof instead
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    from payrouter.webhooks.django import handle

    response: HttpResponse = handle(request, receiver(), provider)
    return response


def _json(answer: Answer) -> JsonResponse:
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _payment_request(body: dict[str, Any], request: HttpRequest) -> PaymentRequest:
    """The customer's sources in their order of preference, each with its credentials.

    Raises:
        ValueError: a field is missing or invalid (pydantic's errors name it, redacted).
    """
    for name in ("order_id", "amount", "currency", "country"):
        if name not in body:
            raise ValueError(f"{name}: field required")
    card_tokens: dict[str, str] = body.get("card_tokens") or {}
    wallet_tokens: dict[str, str] = body.get("wallet_tokens") or {}
    offered = {
        "card": CardSource(
            token=SecretStr(body["card_token"]) if body.get("card_token") else None,
            tokens={name: SecretStr(token) for name, token in card_tokens.items()},
        )
        if body.get("card_token") or card_tokens
        else None,
        "wallet": WalletSource(
            wallet=body["wallet"],
            accounts={name: SecretStr(token) for name, token in wallet_tokens.items()},
        )
        if body.get("wallet")
        else None,
        "bank_transfer": BankTransferSource(iban=SecretStr(body["iban"]))
        if body.get("iban")
        else None,
    }
    prefer = body.get("prefer", ["card", "wallet", "bank_transfer"])
    return PaymentRequest(
        order_id=body["order_id"],
        amount=Money.of(str(body["amount"]), body["currency"]),
        customer_country=body["country"],
        customer_id=body.get("customer_id"),
        sources=[offered[method] for method in prefer if offered.get(method) is not None],
        return_url=request.build_absolute_uri(f"/return?order_id={body['order_id']}"),
    )
