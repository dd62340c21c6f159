"""The conformance suite: one pytest class every adapter's tests subclass with its description.

Each check drives the adapter over a `ScriptedProvider` and reads the result the way the
router does: an exception from the call becomes the reply the router's transport table gives
it. The checks are the rules the router relies on (docs/design.md, "Attempt outcomes"):
a definite failure only when the provider said so or nothing was sent, UNKNOWN whenever money
may have moved, the router's idempotency key on every money-moving request, no secrets out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, Final

import httpx
import pytest

from ..._adapter import Adapter, CompletesApproval, PaymentHandle, ProviderReply
from ..._paying._attempt import is_conclusive_lookup
from ..._paying._transport import reply_for_exception
from ..._taxonomy import FailureKind, Outcome
from .._scripted import HttpAnswer, ScriptedProvider
from ._case import KIT_KINDS, AdapterCase, Operation, answers

__all__ = ["AdapterConformance"]

NOT_SENT: Final[tuple[type[Exception], ...]] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
"""Transport errors raised before a byte of the request left: nothing can have moved."""
SENT_UNANSWERED: Final[tuple[type[Exception], ...]] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)
"""Transport errors after the request (or part of it) left: the provider may have acted."""
_AFTER_SUBMISSION: Final = "5xx after submission"
_KEY: Final = "conformance-key-0001"

Script = Callable[[ScriptedProvider], None]


class AdapterConformance:
    """Subclass it in a test module as `TestMyAdapter` and set `case`; pytest runs every check.

    ```python
    class TestAcmePayConformance(AdapterConformance):
        case = AdapterCase(build=..., charge=..., succeeded=HttpAnswer(201, {...}), ...)
    ```
    The checks run their own event loops (no pytest-asyncio needed) and never sleep.
    """

    case: ClassVar[AdapterCase]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize the checks by what this adapter's description holds."""
        case = self.case
        if "failure_kind" in metafunc.fixturenames:
            metafunc.parametrize("failure_kind", sorted(case.failures), ids=str)
        if "not_sent" in metafunc.fixturenames:
            metafunc.parametrize("not_sent", NOT_SENT, ids=lambda error: error.__name__)
        if "unanswered" in metafunc.fixturenames:
            metafunc.parametrize("unanswered", SENT_UNANSWERED, ids=lambda error: error.__name__)
        if "operation" in metafunc.fixturenames:
            metafunc.parametrize("operation", case.sending(moving_money=False))
        if "money_moving" in metafunc.fixturenames:
            metafunc.parametrize("money_moving", case.sending(moving_money=True))
        if "in_doubt" in metafunc.fixturenames:
            metafunc.parametrize("in_doubt", [_AFTER_SUBMISSION, *sorted(case.in_doubt)])
        if "follow_up" in metafunc.fixturenames:
            completes = ["complete"] if case.complete is not None else []
            metafunc.parametrize("follow_up", ["capture", "refund", "void", *completes])

    # --- the description itself -------------------------------------------------------------

    def test_it_is_an_adapter_with_a_key_length(self) -> None:
        """The router accepts it (the `Adapter` protocol) and knows its key length limit."""
        adapter = self.case.build(ScriptedProvider())
        asyncio.run(adapter.aclose())
        assert isinstance(adapter, Adapter)
        assert adapter.idempotency_key_max_length >= 1

    def test_completing_approvals_is_described_exactly_when_offered(self) -> None:
        """An adapter that `CompletesApproval` describes `complete`, and only such a one."""
        adapter = self.case.build(ScriptedProvider())
        asyncio.run(adapter.aclose())
        assert isinstance(adapter, CompletesApproval) is (self.case.complete is not None)

    def test_every_failure_kind_is_scripted_or_said_never_to_happen(self) -> None:
        """Every kind of the taxonomy is described: an answer meaning it, or why there is none."""
        scripted, unreported = set(self.case.failures), set(self.case.not_reported)
        assert not scripted & unreported, "a kind is both scripted and said never to happen"
        assert not (scripted | unreported) & KIT_KINDS, "transport kinds come from the suite"
        missing = set(FailureKind) - KIT_KINDS - scripted - unreported
        assert not missing, f"describe {sorted(missing)}: an answer, or why none exists"
        assert all(reason.strip() for reason in self.case.not_reported.values())

    # --- pay ------------------------------------------------------------------------------

    def test_success_is_succeeded_with_the_providers_reference(self) -> None:
        """The success answer reads as SUCCEEDED and names the payment at the provider."""
        reply = self._one("pay", self._queue(self.case.succeeded))
        assert reply.outcome is Outcome.SUCCEEDED, reply
        assert reply.provider_reference

    def test_each_failure_reads_as_its_kind(self, failure_kind: FailureKind) -> None:
        """A definite failure the provider reports is FAILED with the kind it means."""
        reply = self._one("pay", self._queue(self.case.failures[failure_kind]))
        assert (reply.outcome, reply.failure_kind) == (Outcome.FAILED, failure_kind), reply

    def test_in_doubt_answers_are_unknown_never_failed(self, in_doubt: str) -> None:
        """A 5xx after submission (or a key still in use) leaves the money in doubt: UNKNOWN."""
        given = self.case.in_doubt.get(in_doubt, self.case.after_submission_5xx)
        reply = self._one("pay", self._queue(given))
        assert reply.outcome is Outcome.UNKNOWN, reply

    def test_every_challenge_is_requires_action_never_a_failure(self) -> None:
        """A provider asking the customer to act (3-D Secure, approval) holds the payment:
        REQUIRES_ACTION on its payment, so the router never sends it on unauthenticated,
        with an action the checkout can carry out (a redirect, or its client SDK's data)."""
        for name, given in self.case.challenges.items():
            reply = self._one("pay", self._queue(given))
            assert reply.outcome is Outcome.REQUIRES_ACTION, (name, reply)
            assert reply.failure_kind is None, (name, reply)
            assert reply.action is not None, (name, "no action for the checkout", reply)

    def test_a_replayed_key_gets_the_same_payment(self) -> None:
        """Sending a succeeded pay's key again is answered by the provider's replay, not a
        second charge: same outcome, same reference, same key on the wire."""
        provider = ScriptedProvider()
        if self.case.replay is None:
            adapter = self.case.build(provider)
            asyncio.run(adapter.aclose())
            assert adapter.resolution.replay_window_seconds == 0, "no replay is described"
            return
        self._queue(self.case.succeeded)(provider)
        self._queue(self.case.replay)(provider)
        first, again = self._run(provider, [("pay", _KEY), ("pay", _KEY)])
        assert again.outcome is first.outcome is Outcome.SUCCEEDED
        assert again.provider_reference == first.provider_reference
        sent = {self.case.key_sent(request) for request in provider.requests}
        assert None not in sent, "a pay request carried no key"
        assert len(sent) == 1, sent

    def test_the_declared_resolution_matches_the_description(self) -> None:
        """The router resolves unknown outcomes by what `resolution` declares: it may ask only
        an adapter whose lookup is described, and count on a replay only one described."""
        adapter = self.case.build(ScriptedProvider())
        asyncio.run(adapter.aclose())
        declared = adapter.resolution
        can_look = declared.lookup or declared.search_lag_seconds is not None
        assert can_look is (self.case.lookup is not None), declared
        assert (declared.replay_window_seconds > 0) is (self.case.replay is not None), declared

    # --- every call that sends a request --------------------------------------------------

    def test_nothing_sent_is_a_definite_failure(
        self, operation: Operation, not_sent: type[Exception]
    ) -> None:
        """A connection never made moved no money: FAILED network_before_send, so the router
        may fail over at once."""
        reply = self._one(operation, lambda provider: provider.fail(not_sent("refused")))
        assert (reply.outcome, reply.failure_kind) == (
            Outcome.FAILED,
            FailureKind.NETWORK_BEFORE_SEND,
        ), reply

    def test_sent_but_unanswered_is_unknown(
        self, operation: Operation, unanswered: type[Exception]
    ) -> None:
        """A timeout or error after the request left may hide a success: UNKNOWN, never FAILED."""
        reply = self._one(operation, lambda provider: provider.fail(unanswered("lost")))
        assert reply.outcome is Outcome.UNKNOWN, reply

    def test_reset_mid_response_is_unknown(self, operation: Operation) -> None:
        """The success answer's headers arrive and the connection drops mid-body: UNKNOWN."""
        given = self.case.success_answers(operation) or ()
        *before, last = given

        def script(provider: ScriptedProvider) -> None:
            provider.respond(*before)
            provider.cut(last)

        assert self._one(operation, script).outcome is Outcome.UNKNOWN

    def test_5xx_after_submission_is_unknown(self, money_moving: Operation) -> None:
        """Any money-moving call answered by a 5xx may have been carried out: UNKNOWN."""
        reply = self._one(money_moving, self._queue(self.case.after_submission(money_moving)))
        assert reply.outcome is Outcome.UNKNOWN, reply

    def test_the_routers_key_is_sent_whole(self, money_moving: Operation) -> None:
        """Every money-moving request carries the router's key (or a value derived only from
        it): the same key sends the same value, a key differing in its last character at the
        adapter's length limit sends another, so retries are replays and attempts are not."""
        probe = self.case.build(ScriptedProvider())
        asyncio.run(probe.aclose())
        limit = min(probe.idempotency_key_max_length, 255)
        key, other = "k" * limit, "k" * (limit - 1) + "j"
        provider = ScriptedProvider()
        for _ in range(3):
            self._queue(self.case.success_answers(money_moving) or ())(provider)
        calls = [(money_moving, key), (money_moving, key), (money_moving, other)]
        per_call = self._keys_per_call(provider, calls)
        assert per_call[0] == per_call[1] != per_call[2], per_call

    # --- lookup and follow-ups ------------------------------------------------------------

    def test_lookup_finds_a_taken_payment_or_cannot_look(self) -> None:
        """Found: SUCCEEDED with the reference. A provider that cannot look payments up
        answers UNKNOWN without a request (the router then waits for a webhook or an operator)."""
        provider = ScriptedProvider()
        if self.case.lookup is None:
            reply = self._run(provider, [("lookup", _KEY)])[0]
            assert reply.outcome is Outcome.UNKNOWN, reply
            assert provider.requests == []
            return
        self._queue(self.case.lookup.found)(provider)
        reply = self._run(provider, [("lookup", _KEY)])[0]
        assert reply.outcome is Outcome.SUCCEEDED, reply
        assert reply.provider_reference

    def test_lookup_of_a_payment_never_received_is_not_found_or_unknown(self) -> None:
        """A payment the provider never got reads as NOT_FOUND, or UNKNOWN when it cannot say."""
        given = self.case.lookup.missing if self.case.lookup is not None else ()
        reply = self._one("lookup", self._queue(given))
        assert reply.outcome is Outcome.UNKNOWN or (
            reply.outcome is Outcome.FAILED and reply.failure_kind is FailureKind.NOT_FOUND
        ), reply

    def test_a_lookup_the_provider_could_not_answer_concludes_nothing(self) -> None:
        """A 5xx to a lookup says nothing about the payment: the router must not read it as
        a result (no decline, no failure naming the payment), or it would fail over money
        that may have moved."""
        given = self.case.after_submission_5xx if self.case.lookup is not None else ()
        reply = self._one("lookup", self._queue(given))
        assert not is_conclusive_lookup(reply), reply

    def test_follow_up_is_accepted_or_refused_without_a_request(self, follow_up: Operation) -> None:
        """An offered follow-up's acceptance reads as described; one the provider does not
        offer fails INVALID_REQUEST before any request, so it is never retried."""
        described = self.case.follow_up(follow_up)
        provider = ScriptedProvider()
        if described is not None:
            self._queue(described.accepted)(provider)
        reply = self._run(provider, [(follow_up, _KEY)])[0]
        if described is None:
            assert (reply.outcome, reply.failure_kind) == (
                Outcome.FAILED,
                FailureKind.INVALID_REQUEST,
            ), reply
            assert provider.requests == []
        else:
            assert reply.outcome is described.outcome, reply

    # --- secrets --------------------------------------------------------------------------

    def test_no_secret_in_reprs_or_replies(self) -> None:
        """Neither the adapter's repr/str nor any reply it builds shows a described secret."""
        provider = ScriptedProvider()
        answer_sets = [
            self.case.succeeded,
            self.case.after_submission_5xx,
            *self.case.failures.values(),
        ]
        for given in answer_sets:
            self._queue(given)(provider)
        adapter = self.case.build(provider)
        replies = self._run(provider, [("pay", _KEY)] * len(answer_sets))
        texts = [repr(adapter), str(adapter), *(repr(reply) for reply in replies)]
        asyncio.run(adapter.aclose())
        for secret in self.case.secrets:
            assert not [text for text in texts if secret in text], f"{secret[:4]}... shown"

    # --- driving ---------------------------------------------------------------------------

    @staticmethod
    def _queue(given: HttpAnswer | Sequence[HttpAnswer]) -> Script:
        return lambda provider: provider.respond(*answers(given))

    def _one(self, operation: Operation, script: Script) -> ProviderReply:
        provider = ScriptedProvider()
        script(provider)
        reply = self._run(provider, [(operation, _KEY)])[0]
        assert provider.pending == 0, f"{provider.pending} scripted answers were never asked for"
        return reply

    def _keys_per_call(
        self, provider: ScriptedProvider, calls: list[tuple[Operation, str]]
    ) -> list[str]:
        async def drive() -> list[str]:
            adapter = self.case.build(provider)
            sent: list[str] = []
            try:
                for operation, key in calls:
                    start = len(provider.requests)
                    await self._reply(adapter, operation, key)
                    keys = {self.case.key_sent(r) for r in provider.requests[start:]}
                    keys.discard(None)
                    assert len(keys) == 1, f"{operation} sent keys {keys}; expected one"
                    sent.append(str(keys.pop()))
            finally:
                await adapter.aclose()
            return sent

        return asyncio.run(drive())

    def _run(
        self, provider: ScriptedProvider, calls: list[tuple[Operation, str]]
    ) -> list[ProviderReply]:
        async def drive() -> list[ProviderReply]:
            adapter = self.case.build(provider)
            try:
                return [await self._reply(adapter, operation, key) for operation, key in calls]
            finally:
                await adapter.aclose()

        return asyncio.run(drive())

    async def _reply(self, adapter: Adapter, operation: Operation, key: str) -> ProviderReply:
        """The call's reply as the router records it: an exception maps through its table."""
        try:
            return await self._call(adapter, operation, key)
        except AssertionError:
            raise
        except Exception as error:
            return reply_for_exception(error)

    def _call(self, adapter: Adapter, operation: Operation, key: str) -> Awaitable[ProviderReply]:
        case = self.case
        if operation == "pay":
            return adapter.pay(case.charge, idempotency_key=key)
        if operation == "lookup":
            return adapter.lookup(case.lookup.handle if case.lookup else self._bare_handle())
        described = case.follow_up(operation)
        handle = described.handle if described is not None else self._bare_handle()
        if operation == "capture":
            return adapter.capture(handle, handle.amount, idempotency_key=key)
        if operation == "refund":
            return adapter.refund(handle, handle.amount, idempotency_key=key, reason=None)
        if operation == "complete":
            assert isinstance(adapter, CompletesApproval), "complete is described, not offered"
            return adapter.complete(handle, idempotency_key=key)
        return adapter.void(handle, idempotency_key=key)

    def _bare_handle(self) -> PaymentHandle:
        """The charge's payment with a provider reference, for calls with no description."""
        charge = self.case.charge
        return PaymentHandle(
            charge.reference, charge.order_id, charge.method, charge.amount, "conformance-ref"
        )
