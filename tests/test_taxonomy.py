"""The failure taxonomy: one policy row per kind, replies in three outcomes, one exception table."""

from __future__ import annotations

import httpx
import pytest

from payrouter._paying._transport import reply_for_exception
from payrouter.provider import POLICY, FailureKind, Outcome, ProviderReply, policy_for

_HARD_DECLINES = (
    FailureKind.INSUFFICIENT_FUNDS,
    FailureKind.ACCOUNT_LOCKED,
    FailureKind.ACCOUNT_FROZEN,
    FailureKind.ACCOUNT_CLOSED,
    FailureKind.REGION_RESTRICTED,
    FailureKind.AUTHENTICATION_FAILED,
    FailureKind.AUTHENTICATION_REQUIRED,
    FailureKind.SUSPECTED_FRAUD,
    FailureKind.CARD_DECLINED,
)

# kind: (retry_same, fail_over, counts_against_breaker, is_decline, alert), as in DESIGN.md.
_DESIGN_TABLE: dict[FailureKind, tuple[bool, bool, bool, bool, bool]] = {
    FailureKind.BUSY: (True, True, True, False, False),
    FailureKind.RATE_LIMITED: (True, True, True, False, False),
    FailureKind.PROVIDER_DOWN: (False, True, True, False, False),
    FailureKind.MAINTENANCE: (False, True, False, False, False),
    FailureKind.NETWORK_BEFORE_SEND: (True, True, True, False, False),
    FailureKind.UNKNOWN_OUTCOME: (False, False, True, False, False),
    FailureKind.CREDENTIALS_REJECTED: (False, True, False, False, True),
    **dict.fromkeys(_HARD_DECLINES, (False, False, False, True, False)),
    FailureKind.INVALID_REQUEST: (False, True, False, False, True),
    FailureKind.NOT_FOUND: (False, True, False, False, False),
}


def test_policy_has_exactly_one_row_per_failure_kind() -> None:
    """Every FailureKind has a policy row, and there are no rows for anything else."""
    assert set(POLICY) == set(FailureKind)
    assert set(_DESIGN_TABLE) == set(FailureKind)


def test_policy_table_is_read_only() -> None:
    """Nobody can change the policy at run time."""
    with pytest.raises(TypeError):
        POLICY[FailureKind.BUSY] = POLICY[FailureKind.MAINTENANCE]  # type: ignore[index]


@pytest.mark.parametrize("kind", list(FailureKind), ids=str)
def test_policy_row_matches_the_design_table(kind: FailureKind) -> None:
    """retry_same, fail_over, counts_against_breaker, is_decline and alert are pinned per kind."""
    row = policy_for(kind)
    assert row is POLICY[kind]
    actual = (
        row.retry_same,
        row.fail_over,
        row.counts_against_breaker,
        row.is_decline,
        row.alert,
    )
    assert actual == _DESIGN_TABLE[kind]


def test_unknown_outcome_is_never_failed_over() -> None:
    """Money may have moved on an unknown outcome: moving on could charge twice."""
    assert policy_for(FailureKind.UNKNOWN_OUTCOME).fail_over is False


@pytest.mark.parametrize("kind", _HARD_DECLINES, ids=str)
def test_every_decline_has_a_customer_safe_message(kind: FailureKind) -> None:
    """Declines carry text a checkout may show: short, no codes, no provider internals."""
    message = policy_for(kind).customer_message
    assert message.endswith(".")
    assert kind.value not in message
    assert "_" not in message


# -- ProviderReply normalizations ----------------------------------------------------------


def test_failed_reply_needs_a_failure_kind() -> None:
    """A FAILED reply without a kind cannot be routed, so it cannot be built."""
    with pytest.raises(ValueError, match="needs a failure_kind"):
        ProviderReply(Outcome.FAILED)


def test_unknown_outcome_kind_becomes_an_unknown_outcome() -> None:
    """failed(UNKNOWN_OUTCOME) is an unknown outcome, so the router looks it up."""
    reply = ProviderReply.failed(FailureKind.UNKNOWN_OUTCOME, provider_code="500")
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is FailureKind.UNKNOWN_OUTCOME


def test_unknown_reply_carries_the_unknown_outcome_kind() -> None:
    """An unknown reply always has a kind, so policies apply to it like any other."""
    reply = ProviderReply.unknown(provider_code="read_timeout")
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is FailureKind.UNKNOWN_OUTCOME


@pytest.mark.parametrize(
    "outcome", [Outcome.SUCCEEDED, Outcome.PENDING, Outcome.REQUIRES_ACTION], ids=str
)
def test_settled_reply_cannot_carry_a_failure_kind(outcome: Outcome) -> None:
    """A success with a failure kind is contradictory and refused."""
    with pytest.raises(ValueError, match="cannot carry a failure_kind"):
        ProviderReply(outcome, failure_kind=FailureKind.BUSY, provider_reference="ref")


def test_reply_builders_set_their_outcomes() -> None:
    """The class methods build the outcome their name says."""
    assert ProviderReply.succeeded("r").outcome is Outcome.SUCCEEDED
    assert ProviderReply.pending("r").outcome is Outcome.PENDING
    action = ProviderReply.requires_action("r", "https://3ds.example/r")
    assert (action.outcome, action.action_url) == (Outcome.REQUIRES_ACTION, "https://3ds.example/r")
    busy = ProviderReply.failed(FailureKind.RATE_LIMITED, retry_after=2.0)
    assert (busy.outcome, busy.failure_kind, busy.retry_after) == (
        Outcome.FAILED,
        FailureKind.RATE_LIMITED,
        2.0,
    )


# -- transport exceptions ------------------------------------------------------------------

_REQUEST = httpx.Request("POST", "https://provider.example/payments")


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused", request=_REQUEST),
        httpx.ConnectTimeout("connect timeout", request=_REQUEST),
        httpx.PoolTimeout("pool timeout", request=_REQUEST),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_before_sending_are_definite_failures_that_may_fail_over(
    error: Exception,
) -> None:
    """Nothing left the machine: failed, NETWORK_BEFORE_SEND, safe to retry or fail over."""
    reply = reply_for_exception(error)
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.NETWORK_BEFORE_SEND


class _UnplaceableError(Exception):
    pass


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("read timeout", request=_REQUEST),
        httpx.WriteTimeout("write timeout", request=_REQUEST),
        httpx.ReadError("read error", request=_REQUEST),
        httpx.WriteError("write error", request=_REQUEST),
        httpx.RemoteProtocolError("reset", request=_REQUEST),
        TimeoutError(),
        httpx.HTTPError("generic"),
        httpx.TransportError("generic transport"),
        httpx.TimeoutException("generic timeout", request=_REQUEST),
        _UnplaceableError("no idea"),
        RuntimeError("bug in an adapter"),
        KeyError("status"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_after_sending_or_unplaceable_are_unknown(error: Exception) -> None:
    """A timeout, reset or any exception we cannot place may have moved money: unknown."""
    reply = reply_for_exception(error)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is FailureKind.UNKNOWN_OUTCOME


def test_unplaceable_exception_names_its_type_in_the_provider_code() -> None:
    """An operator can tell which exception produced an unknown outcome."""
    assert reply_for_exception(_UnplaceableError()).provider_code == "exception:_UnplaceableError"
