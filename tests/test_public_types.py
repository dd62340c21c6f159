"""The typed public API, pinned: `make lint` runs `mypy --strict` on this file, checking every
`assert_type` below, so a signature change in a public name fails CI even when no behaviour
test notices. pytest runs the same code, so each line is also known to execute. (A file, not a
`tests/typing/` package: scripts run from `tests/` would import that package as `typing`.)
"""

from __future__ import annotations

from typing import assert_type

from payrouter import (
    AllProvidersUnavailableError,
    AttemptSummary,
    CapacityExhaustedError,
    CardSource,
    Money,
    PaymentError,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    PayrouterError,
    Router,
    SyncRouter,
)
from payrouter.instrumentation import Event, FailedOver, Hook, listen, redact
from payrouter.provider import (
    Adapter,
    Capabilities,
    Charge,
    HttpAdapter,
    HttpOptions,
    PaymentHandle,
    ProviderReply,
    Resolution,
    UnsendableError,
)
from payrouter.testing import (
    Behavior,
    HttpAnswer,
    ScriptedProvider,
    SimulatedAdapter,
    SimulatedProvider,
)


def _request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("24.90", "EUR"),
        customer_country="DE",
        sources=(CardSource(token="pm_card_visa"),),
    )


def test_money_is_integer_minor_units_with_a_currency() -> None:
    price = Money.of("24.90", "EUR")
    assert_type(price, Money)
    assert_type(price.minor_units, int)
    assert price.minor_units == 2490


async def test_the_async_router_answers_typed_results() -> None:
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with Router([adapter], ledger="sqlite://", hooks=()) as router:
        assert_type(router, Router)
        result = await router.pay(_request("typed-1"))
        assert_type(result, PaymentResult)
        assert_type(result.status, PaymentStatus)
        assert_type(result.provider, str | None)
        assert_type(result.attempts, tuple[AttemptSummary, ...])
        assert_type(await router.lookup("typed-1"), PaymentResult | None)
    assert result.status is PaymentStatus.SUCCEEDED


def test_the_sync_router_answers_the_same_types() -> None:
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    with SyncRouter(Router([adapter], ledger="sqlite://", hooks=())) as router:
        assert_type(router.pay(_request("typed-2")), PaymentResult)
        assert_type(router.lookup("typed-2"), PaymentResult | None)


def test_every_error_a_checkout_catches_is_a_payrouter_error() -> None:
    assert issubclass(CapacityExhaustedError, AllProvidersUnavailableError)
    assert issubclass(AllProvidersUnavailableError, PaymentError)
    assert issubclass(PaymentError, PayrouterError)


def test_a_hook_is_any_callable_taking_an_event() -> None:
    seen: list[Event] = []
    hook: Hook = seen.append
    failovers = listen(FailedOver, lambda event: assert_type(event, FailedOver))
    assert_type(failovers, Hook)
    assert callable(hook)
    assert_type(redact({"api_key": "sk_test_x"}), object)


class _ThirdPartyAdapter:
    """A third party's adapter satisfies the protocol structurally: mypy checks the assignment."""

    name = "acme"
    capabilities = Capabilities(methods=frozenset({PaymentMethod.CARD}))
    idempotency_key_max_length = 64
    resolution = Resolution(lookup=True)

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        return ProviderReply.succeeded(provider_reference=f"acme_{idempotency_key}")

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        return ProviderReply.succeeded(provider_reference=handle.order_id)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        return ProviderReply.succeeded(provider_reference=handle.order_id)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        return ProviderReply.succeeded(provider_reference=handle.order_id)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return ProviderReply.succeeded(provider_reference=handle.order_id)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        return ProviderReply.succeeded(provider_reference=mandate_id)

    async def aclose(self) -> None:
        return None


def test_a_third_party_adapter_satisfies_the_protocol() -> None:
    adapter: Adapter = _ThirdPartyAdapter()
    assert adapter.name == "acme"
    assert isinstance(Behavior.succeed(), Behavior)


class _AcmeOptions(HttpOptions):
    region: str = "eu"


class _HttpThirdPartyAdapter(HttpAdapter[_AcmeOptions], _ThirdPartyAdapter):
    """The same adapter over the HttpAdapter base: options, client, repr and aclose from it."""

    options_model = _AcmeOptions
    default_capabilities = Capabilities(methods=frozenset({PaymentMethod.CARD}))


async def test_an_http_adapter_subclass_is_built_typed_and_is_an_adapter() -> None:
    built = _HttpThirdPartyAdapter.from_options(
        name="acme",
        capabilities=None,
        options={"base_url": "https://acme.test"},
        transport=ScriptedProvider(),
    )
    assert_type(built, _HttpThirdPartyAdapter)
    adapter: Adapter = built
    assert_type(UnsendableError("code", "why").reply(), ProviderReply)
    assert_type(HttpAnswer(201, {"id": "ch_1"}).response().status_code, int)
    await adapter.aclose()
    assert repr(built) == "_HttpThirdPartyAdapter(name='acme', base_url='https://acme.test')"
