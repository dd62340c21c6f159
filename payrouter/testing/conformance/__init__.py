"""The adapter conformance kit: one pytest suite an adapter's tests run with a description.

Describe how the provider answers (success, each failure kind, a 5xx after submission, a
replayed key, lookup, capture/refund/void) in an `AdapterCase` made of `HttpAnswer` values,
subclass `AdapterConformance` with it, and pytest checks the rules the router relies on:
three outcomes (a timeout after send, a reset mid-response or a 5xx after submission is
UNKNOWN, never FAILED), the router's idempotency key on every money-moving request, lookups
that never claim "not found" they cannot prove, and no secrets in reprs or replies.

    from payrouter.testing import HttpAnswer
    from payrouter.testing.conformance import AdapterCase, AdapterConformance

    class TestAcmePayConformance(AdapterConformance):
        case = AdapterCase(build=..., charge=..., succeeded=HttpAnswer(201, {...}), ...)

Needs pytest (it is a pytest suite); nothing else in payrouter does.
"""

from ._case import AdapterCase, FollowUpCase, LookupCase, idempotency_key_header
from ._suite import AdapterConformance

__all__ = [
    "AdapterCase",
    "AdapterConformance",
    "FollowUpCase",
    "LookupCase",
    "idempotency_key_header",
]
