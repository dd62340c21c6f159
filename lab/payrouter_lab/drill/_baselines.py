"""The two habits payrouter replaces, paying a drill's traffic with the same adapters.

- single provider + tenacity: one provider per method, retries on any error with a new key
  each time (hand-rolled code rarely carries idempotency keys), no failover, no lookup.
- try/except chain: every provider of every offered method in turn, moving on after any
  exception or refusal, new key each time.

Each sends a provider only the credential that provider holds for the card, as a merchant's
own code would have to.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from payrouter import (
    CardSource,
    PaymentRequest,
    PaymentSource,
    PaymentStatus,
)
from payrouter.provider import Adapter, Charge, Outcome, ProviderReply, policy_for

from ._figures import PaymentRecord
from ._scenario import DrillProvider
from ._strategies import Progress, open_loop
from ._traffic import Arrival

__all__ = ["serve_with_chain", "serve_with_single"]


def _classify(reply: ProviderReply) -> PaymentStatus | None:
    """What a naive integration concludes from one reply; None means "try again/next"."""
    if reply.outcome is Outcome.SUCCEEDED:
        return PaymentStatus.SUCCEEDED
    if reply.outcome is Outcome.REQUIRES_ACTION:
        return PaymentStatus.REQUIRES_ACTION
    if reply.outcome is Outcome.PENDING:
        return PaymentStatus.PENDING
    if reply.failure_kind is not None and policy_for(reply.failure_kind).is_decline:
        return PaymentStatus.DECLINED
    return None  # busy, down, unknown...: a naive integration calls it a failure


def _credential_at(source: PaymentSource, adapter: Adapter) -> PaymentSource | None:
    """What a hand-rolled integration sends `adapter` for `source`: the card token it holds
    for that provider, else a network token where the provider takes them; None when it
    holds nothing that provider can charge, so it does not call it."""
    if not isinstance(source, CardSource):
        return source
    rules = adapter.capabilities.credentials
    token = source.token_for(adapter.name, recognizes=rules.recognizes)
    if token is not None:
        return CardSource(token=token)
    if source.network_token is not None and rules.network_tokens:
        return CardSource(network_token=source.network_token)
    return None


def _charge(request: PaymentRequest, source: PaymentSource) -> Charge:
    key = uuid.uuid4().hex
    return Charge(
        reference=key,
        order_id=request.order_id,
        amount=request.amount,
        source=source,
        customer_country=request.customer_country,
        customer_id=request.customer_id,
        return_url=request.return_url,
    )


class _TryAgain(Exception):  # noqa: N818 - tenacity's signal, not an error
    pass


async def serve_with_single(
    providers: Sequence[DrillProvider],
    adapters: dict[str, Adapter],
    arrivals: Sequence[Arrival],
    progress: Progress,
) -> list[PaymentRecord]:
    """One provider per method (the first configured), tenacity retries, no failover."""

    async def pay(arrival: Arrival) -> PaymentRecord:
        request, sent = arrival.request, time.perf_counter()
        first = request.sources[0]
        method = first.method
        provider = next(
            (
                p.name
                for p in providers
                if method in p.methods and _credential_at(first, adapters[p.name]) is not None
            ),
            None,
        )
        record = PaymentRecord(
            request.order_id,
            arrival.at,
            0.0,
            PaymentStatus.FAILED,
            method=method.value,
            amount_minor=request.amount.minor_units,
        )
        if provider is not None:
            adapter = adapters[provider]
            retrying = AsyncRetrying(
                stop=stop_after_attempt(3),
                wait=wait_exponential(multiplier=0.05, max=0.4),
                retry=retry_if_exception_type((httpx.HTTPError, _TryAgain)),
                reraise=True,
            )
            try:
                async for loop_try in retrying:
                    with loop_try:
                        source = _credential_at(first, adapter)
                        assert source is not None
                        reply = await _call(adapter, request, source, record)
                        verdict = _classify(reply)
                        if verdict is None:
                            raise _TryAgain
                        record.status = verdict
            except (httpx.HTTPError, _TryAgain):
                record.status = PaymentStatus.FAILED
        record.latency_ms = (time.perf_counter() - sent) * 1000
        return record

    return await open_loop(arrivals, pay, progress)


async def _call(
    adapter: Adapter, request: PaymentRequest, source: PaymentSource, record: PaymentRecord
) -> ProviderReply:
    try:
        reply = await adapter.pay(_charge(request, source), idempotency_key=uuid.uuid4().hex)
    except httpx.HTTPError:
        record.attempts.append((adapter.name, "unknown"))
        raise
    record.attempts.append((adapter.name, reply.outcome.value))
    return reply


async def serve_with_chain(
    providers: Sequence[DrillProvider],
    adapters: dict[str, Adapter],
    arrivals: Sequence[Arrival],
    progress: Progress,
) -> list[PaymentRecord]:
    """Every provider of every offered method in turn; any exception means "next"."""

    async def pay(arrival: Arrival) -> PaymentRecord:
        request, sent = arrival.request, time.perf_counter()
        record = PaymentRecord(
            request.order_id,
            arrival.at,
            0.0,
            PaymentStatus.FAILED,
            method=request.sources[0].method.value,
            amount_minor=request.amount.minor_units,
        )
        done = False
        for source in request.sources:
            for provider in providers:
                if done or source.method not in provider.methods:
                    continue
                held = _credential_at(source, adapters[provider.name])
                if held is None:
                    continue
                try:
                    reply = await _call(adapters[provider.name], request, held, record)
                except httpx.HTTPError:
                    continue
                verdict = _classify(reply)
                if verdict is not None and verdict is not PaymentStatus.DECLINED:
                    record.status, record.method, done = verdict, source.method.value, True
                elif verdict is PaymentStatus.DECLINED:
                    record.status = verdict
        record.latency_ms = (time.perf_counter() - sent) * 1000
        return record

    return await open_loop(arrivals, pay, progress)
