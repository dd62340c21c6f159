"""An async checkout on FastAPI with payrouter underneath.

    POST /payments                  pay an order (card, wallet or bank transfer, in the
                                    customer's order of preference)
    GET  /payments/{order_id}       where a payment stands
    GET  /return?order_id=...       where providers send the customer back after approving:
                                    asks the provider (router.refresh), then shows the status
    POST /payments/{order_id}/refunds   refund all or part of a payment, at the provider that
                                    took it; queued (202) while that provider is down
    POST /webhooks/stripe, /webhooks/adyen   the providers' notifications, verified, applied
                                    once (payrouter.webhooks mounted as an ASGI app)

Every outcome and every payrouter error has its own answer (`examples/checkout_answers.py`):
200 paid or sent to approve, 202 pending, 402 declined, 409 in progress or conflict, 422
invalid input, 502 refused by every provider, 503 with Retry-After: never a bare 500.

Run it next to `payrouter sandbox --port 8700`:

    STRIPE_SECRET_KEY=sk_test_x ADYEN_API_KEY=x PAYPAL_CLIENT_ID=x PAYPAL_CLIENT_SECRET=x \
    MERCHANT_IBAN=DE89370400440532013000 BANK_ACCESS_TOKEN=x \
    STRIPE_WEBHOOK_SECRET=whsec_x ADYEN_HMAC_KEY=00112233445566778899AABBCCDDEEFF \
    uvicorn --factory examples.fastapi_checkout.app:create_app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    FollowUp,
    FollowUpStatus,
    Money,
    PaymentRequest,
    PaymentStatus,
    PayrouterError,
    Router,
    WalletSource,
    webhooks,
)
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.stripe import StripeWebhooks

from ..checkout_answers import Answer, for_error, for_result, payment_view

CONFIG = Path(__file__).with_name("payrouter.yaml")


class Checkout(BaseModel):
    """What the shop's front end posts: the cart's total and how the customer wants to pay."""

    order_id: str = Field(min_length=1, max_length=200)
    amount: str = Field(description="Decimal string in the currency's major unit, e.g. '24.90'.")
    currency: str = Field(min_length=3, max_length=3)
    country: str = Field(min_length=2, max_length=2)
    customer_id: str | None = None
    card_token: str | None = Field(
        default=None, description="One provider's card token, e.g. Stripe's 'pm_...'."
    )
    card_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="The card's token at each provider that stored it, by configured name.",
    )
    wallet: str | None = None
    wallet_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="The wallet's payment token for each provider, by configured name "
        "(Apple Pay / Google Pay); a redirect wallet such as PayPal needs none.",
    )
    iban: str | None = None
    prefer: list[Literal["card", "wallet", "bank_transfer"]] = ["card", "wallet", "bank_transfer"]


class PaymentView(BaseModel):
    """What the front end needs to know, and nothing more (no provider internals)."""

    order_id: str
    status: PaymentStatus
    provider: str | None
    redirect_url: str | None = None
    action: dict[str, object] | None = Field(
        default=None,
        description="What the front end does for requires_action: kind redirect (url) or sdk "
        "(Stripe.js: client_secret; Adyen Drop-in: the action object).",
    )
    decline_reason: str | None = None


class RefundAsk(BaseModel):
    """A refund from the shop's back office: the amount (all that is left if omitted)."""

    amount: str | None = Field(default=None, description="Decimal string, e.g. '5.00'.")
    reason: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(
        default=None,
        max_length=200,
        description="The back office's id for this refund: sending it again refunds once.",
    )


class RefundView(BaseModel):
    refund_id: str
    status: FollowUpStatus
    amount: str | None
    provider: str


def create_app(config: str | Path = CONFIG) -> FastAPI:
    """The checkout app; one router for the app's lifetime (it pools provider connections)."""

    router = Router.from_config(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with router:
            app.state.router = router
            yield

    app = FastAPI(title="payrouter checkout example", lifespan=lifespan)
    # Signing secrets come from the environment, like the API keys; never from the code.
    receiver = webhooks.WebhookReceiver(
        router,
        [
            StripeWebhooks(_secret("STRIPE_WEBHOOK_SECRET", "whsec_...")),
            AdyenWebhooks(_secret("ADYEN_HMAC_KEY", "the webhook's hex HMAC key")),
        ],
    )
    app.mount("/webhooks", webhooks.app(receiver))

    @app.exception_handler(PayrouterError)
    @app.exception_handler(ValueError)  # pydantic's ValidationError too; inputs are redacted
    async def payrouter_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, PayrouterError | ValueError)  # what it is registered for
        return _json(for_error(error))

    @app.post("/payments", response_model=PaymentView)
    async def pay(checkout: Checkout, request: Request) -> JSONResponse:
        router: Router = request.app.state.router
        return _json(for_result(await router.pay(_payment_request(checkout))))

    @app.get("/payments/{order_id}", response_model=PaymentView)
    async def payment(order_id: str, request: Request) -> PaymentView:
        router: Router = request.app.state.router
        result = await router.lookup(order_id)
        if result is None:
            raise HTTPException(404, f"no payment for order {order_id!r}")
        return PaymentView.model_validate(payment_view(result))

    @app.get("/return", response_model=PaymentView)
    async def returned(order_id: Annotated[str, Query()], request: Request) -> JSONResponse:
        router: Router = request.app.state.router
        # What the provider appended to the return URL (Adyen's redirectResult) finishes a
        # 3-D Secure challenge at a provider that cannot be asked otherwise.
        details = {k: v for k, v in request.query_params.items() if k != "order_id"}
        result = await router.refresh(order_id, details=details or None)
        if result is None:
            raise HTTPException(404, f"no payment for order {order_id!r}")
        return _json(for_result(result))

    @app.post("/payments/{order_id}/refunds", response_model=RefundView)
    async def refund(order_id: str, ask: RefundAsk, request: Request) -> RefundView | JSONResponse:
        router: Router = request.app.state.router
        payment = await router.lookup(order_id)
        if payment is None:
            raise HTTPException(404, f"no payment for order {order_id!r}")
        amount = Money.of(ask.amount, payment.amount.currency) if ask.amount else None
        # A broken money rule is a 422 and a provider's refusal a 502 (payrouter_error above).
        done = await router.refund(payment, amount, reason=ask.reason, key=ask.request_id)
        view = _refund_view(done)
        if done.status is FollowUpStatus.QUEUED:  # kept; `payrouter worker` sends it later
            return JSONResponse(view.model_dump(mode="json"), status_code=202)
        return view

    return app


def _json(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def _secret(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"set {name} ({what}) in the environment")
    return value


def _refund_view(refund: FollowUp) -> RefundView:
    return RefundView(
        refund_id=refund.followup_id,
        status=refund.status,
        amount=str(refund.amount.amount) if refund.amount else None,
        provider=refund.provider,
    )


def _payment_request(checkout: Checkout) -> PaymentRequest:
    """The customer's sources in their order of preference, each with its credentials.

    Raises:
        ValueError: a field is invalid (pydantic's ValidationError names it, redacted).
    """
    card = checkout.card_token or checkout.card_tokens
    offered = {
        "card": CardSource(
            token=SecretStr(checkout.card_token) if checkout.card_token else None,
            tokens={name: SecretStr(token) for name, token in checkout.card_tokens.items()},
        )
        if card
        else None,
        "wallet": WalletSource(
            wallet=checkout.wallet,
            accounts={name: SecretStr(token) for name, token in checkout.wallet_tokens.items()},
        )
        if checkout.wallet
        else None,
        "bank_transfer": BankTransferSource(iban=SecretStr(checkout.iban))
        if checkout.iban
        else None,
    }
    sources = [offered[method] for method in checkout.prefer if offered[method] is not None]
    return PaymentRequest(
        order_id=checkout.order_id,
        amount=Money.of(checkout.amount, checkout.currency),
        customer_country=checkout.country,
        customer_id=checkout.customer_id,
        sources=sources,
        return_url=f"{os.environ.get('CHECKOUT_URL', 'http://127.0.0.1:8000')}/return"
        f"?order_id={checkout.order_id}",
    )
