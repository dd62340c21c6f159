"""3-D Secure 2 at the Adyen stand-in, through the real adapter and the Router: a stored card
that needs authentication is challenged by redirect when the shopper is there, refused with
"Authentication required" when not, and never sent to another provider either way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.provider import FailureKind, Outcome
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import adyen_adapter, books, charge, stripe_adapter
from tests.webhooks.kit import adyen_body, receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHALLENGED = "3ds2_visa"


async def visit(url: str, *, passed: bool = True) -> None:
    """The shopper on the issuer's challenge page."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url, params=None if passed else {"outcome": "fail"})
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("passed", "outcome", "kind"),
    [(True, Outcome.SUCCEEDED, None), (False, Outcome.FAILED, FailureKind.AUTHENTICATION_FAILED)],
)
async def test_a_challenge_then_details_authorises_or_refuses(
    sandbox: Sandbox,
    admin: httpx.AsyncClient,
    passed: bool,
    outcome: Outcome,
    kind: FailureKind | None,
) -> None:
    """RedirectShopper with the challenge's URL; after it, /payments/details authorises, or
    refuses "3D Not Authenticated" (11) when the shopper failed it; only then is money booked."""
    client = adyen_adapter(sandbox)
    reply = await client.pay(charge("adyen", token=CHALLENGED), idempotency_key="k1")
    assert (reply.outcome, reply.provider_code) == (Outcome.REQUIRES_ACTION, "RedirectShopper")
    assert reply.action_url is not None
    assert (await books(admin, "adyen"))["entries"] == []
    await visit(reply.action_url, passed=passed)
    done = await client.submit_details(
        {"redirectResult": str(reply.provider_reference)}, idempotency_key="k2"
    )
    await client.aclose()
    assert (done.outcome, done.failure_kind) == (outcome, kind)
    assert len((await books(admin, "adyen"))["entries"]) == (1 if passed else 0)  # type: ignore[arg-type]


async def test_without_the_shopper_authentication_required_is_refused(sandbox: Sandbox) -> None:
    """Merchant-initiated (ContAuth): no challenge is possible; refusal 38."""
    client = adyen_adapter(sandbox)
    reply = await client.pay(
        charge("adyen", token=CHALLENGED, off_session=True), idempotency_key="k1"
    )
    await client.aclose()
    assert reply.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert reply.provider_code == "38"


def merchant_initiated_adyen(sandbox: Sandbox) -> AdyenAdapter:
    """Adyen charging every stored card as merchant-initiated (`UnscheduledCardOnFile`)."""
    return adyen_adapter(sandbox, recurring_processing_model="UnscheduledCardOnFile")


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    """Adyen first, Stripe second, and the merchant falls back on declines: Stripe's stand-in
    would charge any card id it is sent, so a card sent there would be taken."""
    adapters = [merchant_initiated_adyen(sandbox), stripe_adapter(sandbox)]
    settings = RouterSettings(fallback_on_decline=True)
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=settings) as built:
        yield built


async def test_authentication_required_is_declined_and_never_sent_elsewhere(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Adyen refuses for authentication: the payment is declined saying so, with the text the
    customer can act on, and the card is not sent to Stripe unauthenticated."""
    result = await router.pay(
        PaymentRequest(
            order_id="o-38",
            amount=Money.of("10.50", "EUR"),
            # Tokenized at both: only the rule, not a missing credential, keeps Stripe out.
            sources=[
                CardSource(
                    tokens={"adyen": SecretStr(CHALLENGED), "stripe": SecretStr("pm_card_visa")}
                )
            ],
            customer_country="DE",
            customer_id="shopper-1",
        )
    )
    assert result.status is PaymentStatus.DECLINED
    assert result.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert result.decline_reason is not None
    assert "confirm" in result.decline_reason
    assert [a.provider for a in result.attempts] == ["adyen"]
    assert (await books(admin, "stripe"))["entries"] == []


@pytest.mark.parametrize(
    ("passed", "status"), [(True, PaymentStatus.SUCCEEDED), (False, PaymentStatus.DECLINED)]
)
async def test_adyen_challenge_completes_by_its_authorisation_webhook(
    sandbox: Sandbox, admin: httpx.AsyncClient, passed: bool, status: PaymentStatus
) -> None:
    """Adyen's Checkout API cannot be asked afterwards: the payment waits at Adyen until the
    AUTHORISATION notification of its pspReference settles it, either way; Stripe, next in
    line for cards, is never called."""
    adyen = adyen_adapter(sandbox)
    async with Router([adyen, stripe_adapter(sandbox)], ledger="sqlite://", hooks=()) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="o-adyen-3ds",
                amount=Money.of("10.50", "EUR"),
                sources=[
                    CardSource(
                        tokens={"adyen": SecretStr(CHALLENGED), "stripe": SecretStr("pm_card_visa")}
                    )
                ],
                customer_country="DE",
                customer_id="shopper-1",
            )
        )
        assert (result.status, result.provider) == (PaymentStatus.REQUIRES_ACTION, "adyen")
        assert result.action_url is not None
        assert result.provider_reference is not None
        await visit(result.action_url, passed=passed)
        # The return page sends Adyen the redirectResult; the notification follows.
        await adyen.submit_details(
            {"redirectResult": result.provider_reference}, idempotency_key="details-1"
        )
        reason = None if passed else "3D Not Authenticated"
        body = adyen_body(
            "AUTHORISATION", result.provider_reference, success=passed, value=1050, reason=reason
        )
        answer = await receiver(router).receive("adyen", body, {})
        settled = await router.lookup("o-adyen-3ds")
    assert answer.status == 200
    assert settled is not None
    assert settled.status is status
    assert settled.failure_kind is (None if passed else FailureKind.AUTHENTICATION_FAILED)
    assert (await books(admin, "stripe"))["entries"] == []


@pytest.mark.parametrize(
    ("passed", "status", "kind"),
    [
        (True, PaymentStatus.SUCCEEDED, None),
        (False, PaymentStatus.DECLINED, FailureKind.AUTHENTICATION_FAILED),
    ],
)
async def test_the_return_page_completes_an_adyen_challenge_with_its_details(
    sandbox: Sandbox,
    admin: httpx.AsyncClient,
    passed: bool,
    status: PaymentStatus,
    kind: FailureKind | None,
) -> None:
    """Adyen finishes a redirect challenge with what it appended to the return URL: the
    return page hands it to `refresh(order_id, details=...)`, which sends it to Adyen under
    the attempt's own key and records the answer; without it, refresh cannot ask Adyen."""
    card = CardSource(tokens={"adyen": SecretStr(CHALLENGED), "stripe": SecretStr("pm_card_visa")})
    async with Router(
        [adyen_adapter(sandbox), stripe_adapter(sandbox)], ledger="sqlite://", hooks=()
    ) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="o-details",
                amount=Money.of("10.50", "EUR"),
                sources=[card],
                customer_country="DE",
                customer_id="shopper-1",
            )
        )
        assert result.action_url is not None
        assert result.provider_reference is not None
        await visit(result.action_url, passed=passed)
        unasked = await router.refresh("o-details")
        returned = {"redirectResult": result.provider_reference}
        done = await router.refresh("o-details", details=returned)
        again = await router.refresh("o-details", details=returned)  # the page reloaded
    assert unasked is not None
    assert unasked.status is PaymentStatus.REQUIRES_ACTION
    assert done is not None
    assert (done.status, done.failure_kind, done.provider) == (status, kind, "adyen")
    assert again == done
    assert len((await books(admin, "adyen"))["entries"]) == (1 if passed else 0)  # type: ignore[arg-type]
    assert (await books(admin, "stripe"))["entries"] == []


async def test_the_return_page_completes_an_adyen_redirect_wallet_too(sandbox: Sandbox) -> None:
    """The same return-page details finish a redirect wallet Adyen's shopper approved."""
    async with Router([adyen_adapter(sandbox)], ledger="sqlite://", hooks=()) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="o-wallet",
                amount=Money.of("10.50", "EUR"),
                sources=[WalletSource(wallet="alipay")],
                customer_country="DE",
            )
        )
        assert result.action_url is not None
        assert result.provider_reference is not None
        await visit(result.action_url)
        done = await router.refresh(
            "o-wallet", details={"redirectResult": result.provider_reference}
        )
    assert done is not None
    assert done.status is PaymentStatus.SUCCEEDED
