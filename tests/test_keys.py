"""Provider idempotency keys: one per (order, kind, number), never shared, always short enough."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from payrouter._paying._keys import derive_key

# Every character `PaymentRequest.order_id` allows, with `:` (the key's separator) weighted up.
_ORDER_CHARS = string.ascii_letters + string.digits + "._:/@#+=-"
_order_ids = st.one_of(
    st.text(alphabet=":a1", min_size=1, max_size=12),
    st.text(alphabet=_ORDER_CHARS, min_size=1, max_size=200),
)
# (kind, number) of a follow-up, or (number,) of a payment attempt, or a completion.
_parts = st.one_of(
    st.tuples(st.integers(min_value=1, max_value=99)),
    st.tuples(
        st.sampled_from(["capture", "refund", "void", "cancel_mandate", "a", "1"]),
        st.integers(min_value=1, max_value=99),
    ),
    st.tuples(st.integers(min_value=1, max_value=99), st.just("complete")),
)
_limits = st.sampled_from([64, 108, 255])  # Adyen, PayPal-Request-Id, Stripe


def test_refund_of_an_order_and_an_attempt_of_order_colon_refund_differ() -> None:
    """Refund #1 of `X` and attempt 1 of order `X:refund` are different requests: two keys."""
    refund = derive_key("payrouter", "X", "refund", 1, max_length=255)
    attempt = derive_key("payrouter", "X:refund", 1, max_length=255)
    assert refund != attempt


@given(
    st.lists(st.tuples(_order_ids, _parts), min_size=2, max_size=8, unique=True),
    _limits,
)
@example([("X", ("refund", 1)), ("X:refund", (1,))], 255)
@example([("a" * 60, (1,)), ("a" * 59 + ":", (1,))], 64)
def test_keys_never_collide_for_different_requests(
    requests: list[tuple[str, tuple[str | int, ...]]], max_length: int
) -> None:
    """Different (order, kind, number) never derive the same key, readable or hashed."""
    keys = {
        derive_key("payrouter", order, *parts, max_length=max_length) for order, parts in requests
    }
    assert len(keys) == len(requests)


@given(_order_ids, _parts, _limits)
def test_keys_fit_every_providers_limit_and_are_stable(
    order_id: str, parts: tuple[str | int, ...], max_length: int
) -> None:
    """A key fits the provider's limit and is the same every time it is derived."""
    key = derive_key("payrouter", order_id, *parts, max_length=max_length)
    assert len(key) <= max_length
    assert key == derive_key("payrouter", order_id, *parts, max_length=max_length)


@given(st.lists(st.text(alphabet=":a1", max_size=4), max_size=3))
def test_a_part_holding_the_separator_is_refused_and_any_other_keeps_its_place(
    parts: list[str],
) -> None:
    """A `:` inside a part would make two different part lists read the same."""
    if any(":" in part for part in parts):
        with pytest.raises(ValueError, match="may not contain"):
            derive_key("shop", "order-1", *parts, max_length=255)
    else:
        key = derive_key("shop", "order-1", *parts, max_length=255)
        assert key == "shop:order-1" + "".join(f":{part}" for part in parts)
