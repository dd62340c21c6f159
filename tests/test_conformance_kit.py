"""The adapter conformance kit passes a correct adapter and catches each kind of wrong one.

A small adapter over HttpAdapter passes the whole suite; variants with one flaw each (a 5xx
read as failed, a swallowed timeout, keys of their own, a secret in the repr, an absent
payment read as a decline) fail the check that names that rule.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import ClassVar

import httpx
import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod
from payrouter.provider import (
    Capabilities,
    Charge,
    FailureKind,
    HttpAdapter,
    HttpOptions,
    PaymentHandle,
    ProviderReply,
    Resolution,
)
from payrouter.testing import HttpAnswer, ScriptedProvider, UnscriptedRequestError
from payrouter.testing.conformance import (
    AdapterCase,
    AdapterConformance,
    FollowUpCase,
    LookupCase,
)

SECRET = "sk_toy-secret-do-not-print"
EUR = Money(minor_units=700, currency="EUR")
HANDLE = PaymentHandle("toy:order-1:1", "order-1", PaymentMethod.CARD, EUR, "ch_1")
CHARGED = HttpAnswer(201, {"id": "ch_1"})


class ToyOptions(HttpOptions):
    api_key: SecretStr
    shown_key: str = SECRET
    base_url: str = "https://toy.test"


class ToyAdapter(HttpAdapter[ToyOptions]):
    """A provider answering 2xx with the charge, 402 declined, 404 absent, 503 busy."""

    options_model = ToyOptions
    default_capabilities = Capabilities(methods=frozenset({PaymentMethod.CARD}))
    idempotency_key_max_length = 32
    resolution = Resolution(lookup=True, replay_window_seconds=24 * 3600)
    flaws: ClassVar[frozenset[str]] = frozenset()

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        return await self._post("/charges", idempotency_key)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        response = await self._client.get(f"/charges/{handle.provider_reference}")
        if response.status_code == 404 and "absent_is_declined" in self.flaws:
            return ProviderReply.failed(FailureKind.CARD_DECLINED)
        if response.status_code >= 500 and "lookup_5xx_is_declined" in self.flaws:
            return ProviderReply.failed(FailureKind.CARD_DECLINED)
        return self._read(response)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        return await self._post(f"/charges/{handle.provider_reference}/capture", idempotency_key)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        return await self._post(f"/charges/{handle.provider_reference}/refund", idempotency_key)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return await self._post(f"/charges/{handle.provider_reference}/void", idempotency_key)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        return await self._post(f"/mandates/{mandate_id}/cancel", idempotency_key)

    async def _post(self, path: str, key: str) -> ProviderReply:
        if "keys_of_its_own" in self.flaws:
            key = uuid.uuid4().hex
        try:
            response = await self._client.post(path, headers={"Idempotency-Key": key})
        except httpx.ReadTimeout:
            if "swallows_timeouts" in self.flaws:
                return ProviderReply.failed(FailureKind.PROVIDER_DOWN)
            raise
        return self._read(response)

    def _read(self, response: httpx.Response) -> ProviderReply:
        status = response.status_code
        if status == 202:  # the issuer's challenge, at the page the body names
            url = None if "challenge_without_action" in self.flaws else response.json()["url"]
            return ProviderReply.requires_action(response.json()["id"], url, http_status=status)
        if response.is_success:
            return ProviderReply.succeeded(response.json()["id"], http_status=status)
        kinds = {402: FailureKind.CARD_DECLINED, 404: FailureKind.NOT_FOUND, 503: FailureKind.BUSY}
        if status in kinds:
            return ProviderReply.failed(kinds[status], http_status=status)
        if "5xx_is_failed" in self.flaws:
            return ProviderReply.failed(FailureKind.PROVIDER_DOWN, http_status=status)
        return ProviderReply.unknown(http_status=status)


def case_for(adapter: type[ToyAdapter]) -> AdapterCase:
    def build(transport: httpx.AsyncBaseTransport) -> ToyAdapter:
        return adapter.from_options(
            name="toy", capabilities=None, options={"api_key": SECRET}, transport=transport
        )

    return AdapterCase(
        build=build,
        charge=Charge(HANDLE.reference, "order-1", EUR, CardSource(token="tok_toy"), "DE"),
        succeeded=CHARGED,
        failures={
            FailureKind.BUSY: HttpAnswer(503),
            FailureKind.CARD_DECLINED: HttpAnswer(402),
            FailureKind.NOT_FOUND: HttpAnswer(404),
        },
        not_reported={
            kind: "the toy provider has no answer for it"
            for kind in FailureKind
            if kind
            not in {
                FailureKind.BUSY,
                FailureKind.CARD_DECLINED,
                FailureKind.NOT_FOUND,
                FailureKind.NETWORK_BEFORE_SEND,
                FailureKind.UNKNOWN_OUTCOME,
            }
        },
        after_submission_5xx=HttpAnswer(500),
        replay=CHARGED,
        lookup=LookupCase(HANDLE, found=HttpAnswer(200, {"id": "ch_1"}), missing=HttpAnswer(404)),
        capture=FollowUpCase(HANDLE, CHARGED),
        refund=FollowUpCase(HANDLE, CHARGED),
        void=FollowUpCase(HANDLE, CHARGED),
        challenges={"3-D Secure": HttpAnswer(202, {"id": "ch_1", "url": "https://toy.test/3ds"})},
        secrets=(SECRET,),
    )


class TestToyAdapter(AdapterConformance):
    """The correct toy adapter passes every check."""

    case = case_for(ToyAdapter)


def flawed(*flaws: str, shown: tuple[str, ...] = ("base_url",)) -> AdapterConformance:
    adapter = type("Flawed", (ToyAdapter,), {"flaws": frozenset(flaws), "shown_options": shown})
    suite = type("FlawedConformance", (AdapterConformance,), {"case": case_for(adapter)})
    conformance: AdapterConformance = suite()
    return conformance


def test_a_5xx_read_as_failed_is_caught() -> None:
    """Reading a 5xx after submission as a definite failure breaks the three-outcome rule."""
    suite = flawed("5xx_is_failed")
    with pytest.raises(AssertionError, match="PROVIDER_DOWN"):
        suite.test_in_doubt_answers_are_unknown_never_failed("5xx after submission")
    with pytest.raises(AssertionError):
        suite.test_5xx_after_submission_is_unknown("refund")


def test_a_timeout_after_send_turned_into_a_failure_is_caught() -> None:
    """An adapter may not decide that a request lost after sending moved no money."""
    with pytest.raises(AssertionError, match="FAILED"):
        flawed("swallows_timeouts").test_sent_but_unanswered_is_unknown("pay", httpx.ReadTimeout)


def test_keys_not_derived_from_the_routers_are_caught() -> None:
    """A key of the adapter's own makes retries new payments: both key checks fail."""
    suite = flawed("keys_of_its_own")
    with pytest.raises(AssertionError):
        suite.test_the_routers_key_is_sent_whole("capture")
    with pytest.raises(AssertionError):
        suite.test_a_replayed_key_gets_the_same_payment()


def test_a_challenge_the_checkout_cannot_act_on_is_caught() -> None:
    """requires_action with neither a URL nor an action leaves the customer nowhere to go."""
    with pytest.raises(AssertionError, match="no action for the checkout"):
        flawed("challenge_without_action").test_every_challenge_is_requires_action_never_a_failure()


def test_a_secret_in_the_repr_is_caught() -> None:
    """An option shown in the repr that holds a secret as plain text fails the secrets check."""
    suite = flawed(shown=("base_url", "shown_key"))
    with pytest.raises(AssertionError, match="sk_t"):
        suite.test_no_secret_in_reprs_or_replies()


def test_an_absent_payment_read_as_a_decline_is_caught() -> None:
    """Lookup may say not found or unknown for a payment never received, nothing else."""
    with pytest.raises(AssertionError, match="card_declined"):
        flawed(
            "absent_is_declined"
        ).test_lookup_of_a_payment_never_received_is_not_found_or_unknown()


def test_a_lookup_5xx_read_as_a_decline_is_caught() -> None:
    """A lookup that could not be answered must not look like the payment's result."""
    suite = flawed("lookup_5xx_is_declined")
    with pytest.raises(AssertionError, match="card_declined"):
        suite.test_a_lookup_the_provider_could_not_answer_concludes_nothing()


def test_a_resolution_the_description_contradicts_is_caught() -> None:
    """Declaring a replay window the description has no replay for (or no lookup while one is
    described) would have the router count on a rung that is not there."""
    suite = flawed()
    suite.case = dataclasses.replace(suite.case, replay=None)
    with pytest.raises(AssertionError, match="replay_window_seconds=86400"):
        suite.test_the_declared_resolution_matches_the_description()
    suite.case = dataclasses.replace(suite.case, replay=CHARGED, lookup=None)
    with pytest.raises(AssertionError, match="lookup=True"):
        suite.test_the_declared_resolution_matches_the_description()


def test_a_description_missing_a_failure_kind_is_caught() -> None:
    """Every kind must be scripted or said never to happen, so none is forgotten."""
    suite = flawed()
    not_reported = dict(suite.case.not_reported)
    del not_reported[FailureKind.MAINTENANCE]
    suite.case = dataclasses.replace(suite.case, not_reported=not_reported)
    with pytest.raises(AssertionError, match="maintenance"):
        suite.test_every_failure_kind_is_scripted_or_said_never_to_happen()


def test_an_answer_the_adapter_never_asked_for_is_caught() -> None:
    """A description whose answers do not match the adapter's requests fails loudly."""
    suite = flawed()
    suite.case = dataclasses.replace(suite.case, succeeded=(CHARGED, CHARGED))
    with pytest.raises(AssertionError, match="never asked for"):
        suite.test_success_is_succeeded_with_the_providers_reference()


async def test_a_request_without_an_answer_is_an_assertion_not_an_outcome() -> None:
    """The scripted provider raises UnscriptedRequestError, which no table reads as unknown."""
    async with httpx.AsyncClient(transport=ScriptedProvider()) as client:
        with pytest.raises(UnscriptedRequestError, match=r"POST https://toy\.test/charges"):
            await client.post("https://toy.test/charges")


async def test_a_cut_answer_delivers_headers_then_resets() -> None:
    """`cut` sends the status and headers, then drops the connection mid-body."""
    provider = ScriptedProvider()
    provider.cut(HttpAnswer(201, {"id": "ch_1", "status": "succeeded"}, {"X-Request-Id": "r1"}))
    async with (
        httpx.AsyncClient(transport=provider) as client,
        client.stream("POST", "https://toy.test/charges") as response,
    ):
        assert (response.status_code, response.headers["X-Request-Id"]) == (201, "r1")
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()
