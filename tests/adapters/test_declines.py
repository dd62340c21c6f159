"""Card declines through each adapter's tables: soft or hard, and the network's retry advice."""

from __future__ import annotations

import httpx
import pytest

from payrouter.provider import Advice, DeclineType, FailureKind, Outcome, ProviderReply
from payrouter_adapters._advice import MERCHANT_ADVICE_CODES, VISA_CATEGORIES, strictest
from payrouter_adapters.adyen._codes import REFUSAL_DECLINE_TYPES, REFUSALS
from payrouter_adapters.adyen._replies import payment_reply
from payrouter_adapters.stripe._codes import ADVICE_CODES, DECLINE_CODES, DECLINE_TYPES
from payrouter_adapters.stripe._replies import error_reply, intent_reply


def stripe_decline(**problem: object) -> ProviderReply:
    body = {"error": {"type": "card_error", "code": "card_declined", **problem}}
    return error_reply("stripe", httpx.Response(402, json=body))


def stripe_failed_intent(**problem: object) -> ProviderReply:
    body = {
        "id": "pi_1",
        "status": "requires_payment_method",
        "last_payment_error": {"type": "card_error", "code": "card_declined", **problem},
    }
    return intent_reply("stripe", httpx.Response(200, json=body))


def adyen_refusal(code: str, **additional: str) -> ProviderReply:
    body: dict[str, object] = {
        "resultCode": "Refused",
        "pspReference": "PSP1",
        "refusalReasonCode": code,
    }
    if additional:
        body["additionalData"] = additional
    return payment_reply("adyen", httpx.Response(200, json=body))


@pytest.mark.parametrize(("code", "decline"), sorted(DECLINE_TYPES.items()))
def test_each_stripe_decline_type_row(code: str, decline: DeclineType) -> None:
    """Every Stripe decline-type row makes the decline soft or hard, on a 402 and an intent."""
    assert stripe_decline(decline_code=code).decline is decline
    assert stripe_failed_intent(decline_code=code).decline is decline


def test_stripe_soft_and_hard_follow_the_networks_split() -> None:
    """Do not honour, issuer unavailable and try again later are soft; lost or stolen,
    invalid account or number, fraud and expired are hard."""
    soft = ("do_not_honor", "issuer_not_available", "try_again_later", "generic_decline")
    hard = ("lost_card", "stolen_card", "invalid_account", "incorrect_number", "fraudulent")
    assert all(DECLINE_TYPES[code] is DeclineType.SOFT for code in soft)
    assert all(DECLINE_TYPES[code] is DeclineType.HARD for code in (*hard, "expired_card"))


def test_stripe_decline_type_rows_are_all_declines() -> None:
    """A decline-type row only makes sense for a code that maps to a decline kind."""
    for code in DECLINE_TYPES:
        kind = DECLINE_CODES.get(code, FailureKind.CARD_DECLINED)
        assert kind not in (FailureKind.PROVIDER_DOWN, FailureKind.INVALID_REQUEST), code


def test_stripe_unlisted_decline_code_is_hard() -> None:
    """A decline no row calls soft is hard: a reattempt must be earned by a row."""
    assert stripe_decline(decline_code="call_issuer").decline is DeclineType.HARD


def test_stripe_processing_error_is_no_decline() -> None:
    """A processing error never reached a decision on the card: it fails over as
    provider_down and carries no decline type."""
    reply = stripe_failed_intent(decline_code="processing_error")
    assert reply.failure_kind is FailureKind.PROVIDER_DOWN
    assert reply.decline is None
    assert reply.advice is None


@pytest.mark.parametrize(("code", "advice"), sorted(ADVICE_CODES.items()))
def test_each_stripe_advice_code_row(code: str, advice: Advice) -> None:
    """Stripe's own advice_code is carried, normalized and as given."""
    reply = stripe_decline(decline_code="do_not_honor", advice_code=code)
    assert reply.advice is advice
    assert reply.advice_code == f"advice_code:{code}"


@pytest.mark.parametrize(("code", "advice"), sorted(MERCHANT_ADVICE_CODES.items()))
def test_each_stripe_network_advice_code_row(code: str, advice: Advice) -> None:
    """Stripe's network_advice_code is read through the Mastercard MAC table."""
    reply = stripe_failed_intent(decline_code="do_not_honor", network_advice_code=code)
    assert reply.advice is advice
    assert reply.advice_code == f"network_advice_code:{code}"


def test_stripe_stricter_advice_wins() -> None:
    """Stripe says try later, the network says never: never."""
    reply = stripe_decline(
        decline_code="do_not_honor", advice_code="try_again_later", network_advice_code="03"
    )
    assert reply.advice is Advice.DO_NOT_TRY_AGAIN
    assert reply.advice_code == "advice_code:try_again_later network_advice_code:03"


def test_stripe_unknown_advice_advises_nothing() -> None:
    """An advice value no row knows leaves the decline's type to decide."""
    reply = stripe_decline(decline_code="do_not_honor", network_advice_code="99")
    assert reply.advice is None
    assert reply.advice_code == "network_advice_code:99"


@pytest.mark.parametrize(("code", "decline"), sorted(REFUSAL_DECLINE_TYPES.items()))
def test_each_adyen_refusal_decline_type_row(code: str, decline: DeclineType) -> None:
    """Every Adyen refusal decline-type row makes the refusal soft or hard."""
    reply = adyen_refusal(code)
    assert reply.outcome is Outcome.FAILED
    assert reply.decline is decline


def test_adyen_decline_type_rows_are_all_declines() -> None:
    """Acquirer errors and not-submitted refusals fail over; they are no declines."""
    for code in REFUSAL_DECLINE_TYPES:
        assert REFUSALS[code] not in (FailureKind.PROVIDER_DOWN, FailureKind.INVALID_REQUEST)
    assert adyen_refusal("4").decline is None


def test_adyen_unlisted_refusal_is_hard() -> None:
    """Not enough balance: the same balance is behind every acquirer."""
    assert adyen_refusal("12").decline is DeclineType.HARD


@pytest.mark.parametrize(("mac", "advice"), sorted(MERCHANT_ADVICE_CODES.items()))
def test_each_adyen_merchant_advice_code_row(mac: str, advice: Advice) -> None:
    """additionalData.merchantAdviceCode ("03: Do not try again") is read by its code."""
    reply = adyen_refusal("2", merchantAdviceCode=f"{mac}: as the issuer wrote it")
    assert reply.advice is advice
    assert reply.advice_code == f"merchantAdviceCode:{mac}"


@pytest.mark.parametrize(("raw", "advice"), sorted(VISA_CATEGORIES.items()))
def test_each_visa_category_row_applies_to_visa_cards(raw: str, advice: Advice) -> None:
    """A Visa card's raw response code gives its decline category's advice."""
    reply = adyen_refusal("2", paymentMethod="visa", refusalReasonRaw=f"{raw} : Issuer text")
    assert reply.advice is advice
    assert reply.advice_code == f"visa:{raw}"


def test_visa_categories_do_not_apply_to_other_networks() -> None:
    """Raw response codes mean different things per network: only Visa's are read."""
    reply = adyen_refusal("2", paymentMethod="mc", refusalReasonRaw="14 : Invalid card")
    assert reply.advice is None
    assert reply.advice_code is None


def test_visa_generic_decline_advises_nothing() -> None:
    """Category 4 (05, do not honour) leaves the decline's own type to decide."""
    reply = adyen_refusal("2", paymentMethod="visa", refusalReasonRaw="05 : Do not honor")
    assert reply.advice is None
    assert reply.decline is DeclineType.SOFT


def test_strictest_advice_wins() -> None:
    """Never outweighs data to confirm, which outweighs a wait, which outweighs later."""
    assert strictest(None, None) is None
    assert strictest(Advice.TRY_AGAIN_LATER, None) is Advice.TRY_AGAIN_LATER
    assert strictest(Advice.TRY_AGAIN_LATER, Advice.WAIT_BEFORE_RETRY) is (Advice.WAIT_BEFORE_RETRY)
    assert strictest(Advice.DO_NOT_TRY_AGAIN, Advice.CONFIRM_CARD_DATA) is (Advice.DO_NOT_TRY_AGAIN)


def test_adyen_refusal_given_as_text_only_is_typed_by_its_code() -> None:
    """A reply with `refusalReason` alone ("Issuer Unavailable") is soft like code 9."""
    body = {"resultCode": "Refused", "pspReference": "P", "refusalReason": "Issuer Unavailable"}
    reply = payment_reply("adyen", httpx.Response(200, json=body))
    assert reply.provider_code == "9"
    assert reply.decline is DeclineType.SOFT


@pytest.mark.parametrize(("raw", "advice"), sorted(VISA_CATEGORIES.items()))
def test_each_visa_category_row_applies_to_stripe_visa_cards(raw: str, advice: Advice) -> None:
    """Stripe's network_decline_code on a Visa card gives its decline category's advice."""
    method = {"id": "pm_1", "card": {"brand": "visa"}}
    reply = stripe_decline(
        decline_code="do_not_honor", network_decline_code=raw, payment_method=method
    )
    assert reply.advice is advice
    assert reply.advice_code == f"visa:{raw}"


def test_stripe_network_decline_codes_of_other_brands_advise_nothing() -> None:
    method = {"id": "pm_1", "card": {"brand": "mastercard"}}
    reply = stripe_failed_intent(
        decline_code="do_not_honor", network_decline_code="14", payment_method=method
    )
    assert reply.advice is None
    assert reply.decline is DeclineType.SOFT


def test_a_stripe_payment_method_given_as_an_id_reads_as_no_brand() -> None:
    reply = stripe_decline(
        decline_code="do_not_honor", network_decline_code="14", payment_method="pm_1"
    )
    assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert reply.advice is None
