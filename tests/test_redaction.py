"""Card numbers, IBANs, tokens, secrets and personal data never reach an operator's screen.

The last tests feed real-looking secrets through every event type and every log path
(stdlib logging, structlog, JSON lines, hook failures with tracebacks, span attributes,
metric labels, a real payment through the router) and scan everything captured for them.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import json
import logging
import string
import typing

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import SecretStr

from payrouter import BankTransferSource, Money, PaymentRequest, Router
from payrouter.instrumentation import (
    Event,
    LoggingHook,
    OpenTelemetryHook,
    PrometheusHook,
    StructlogHook,
    json_logger,
    redact,
    redact_processor,
    redact_text,
)
from payrouter.instrumentation._events import emit
from payrouter.instrumentation._redact import luhn_valid
from payrouter.testing import SimulatedAdapter, SimulatedProvider

PAN = "4111111111111111"
PAN_SPACED = "5500 0000 0000 0004"
PAN_DASHED = "3782-822463-10005"
IBAN = "DE89370400440532013000"
IBAN_SPACED = "GB82 WEST 1234 5698 7654 32"
STRIPE_KEY = "sk_live_51HqLyjWDarjtT1zdp7dcXw"
BEARER = "A21AAFEpH4PsADK7qSS7pSRsgzfENtu"
ADYEN_KEY = "AQEyhmfxLI3MaBFLw0m"
PASSWORD = "hunter2-Correct-Horse"
EMAIL = "jane.doe@example.com"
HOLDER = "Jane Q Doe"

SECRETS = (
    PAN,
    PAN_SPACED,
    PAN_DASHED,
    IBAN,
    IBAN_SPACED,
    STRIPE_KEY,
    BEARER,
    ADYEN_KEY,
    PASSWORD,
    EMAIL,
    HOLDER,
)
LEAKY_TEXT = (
    f"card {PAN} / {PAN_SPACED} / {PAN_DASHED}, iban {IBAN} and {IBAN_SPACED}, "
    f"key {STRIPE_KEY}, Authorization: Bearer {BEARER}, X-API-Key: {ADYEN_KEY}, "
    f"password={PASSWORD}, mail {EMAIL}"
)


def assert_no_secret(captured: str) -> None:
    """Each secret, and each card number's or IBAN's digits without separators, is absent."""
    for secret in SECRETS:
        assert secret not in captured, f"{secret!r} leaked into: {captured[:300]}"
    for secret in (PAN_SPACED, PAN_DASHED, IBAN_SPACED):
        compact = secret.replace(" ", "").replace("-", "")
        assert compact not in captured.replace(" ", "").replace("-", ""), compact


# -- the redaction pass ------------------------------------------------------------------


def _with_luhn_digit(body: str) -> str:
    for check in string.digits:
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


pans = (
    st.integers(min_value=12, max_value=18)
    .flatmap(lambda length: st.text(string.digits, min_size=length, max_size=length))
    .map(_with_luhn_digit)
)


def _with_iban_check(country: str, bban: str) -> str:
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


ibans = st.builds(
    _with_iban_check,
    st.sampled_from(["DE", "FR", "GB", "NL", "ES", "IT"]),
    st.text(string.digits + string.ascii_uppercase, min_size=12, max_size=28),
)


@given(pan=pans, separator=st.sampled_from(["", " ", "-"]), prefix=st.sampled_from(["", "pan ="]))
def test_any_luhn_valid_card_number_is_masked_with_or_without_separators(
    pan: str, separator: str, prefix: str
) -> None:
    """Typed in groups of four or as one run, in a sentence or alone: the number is gone."""
    grouped = separator.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    masked = redact_text(f"{prefix} {grouped} declined")
    assert pan not in masked.replace(" ", "").replace("-", "")
    assert masked.endswith(" declined")


@given(iban=ibans, grouped=st.booleans())
def test_any_mod97_valid_iban_is_masked(iban: str, grouped: bool) -> None:
    """A valid IBAN disappears, whether written compact or in groups of four. (A following
    word may be masked with it when the longer run happens to pass mod-97 too: redaction
    errs towards masking.)"""
    text = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if grouped else iban
    masked = redact_text(f"debit {text} now")
    assert iban not in masked.replace(" ", "")
    assert masked.startswith("debit [IBAN]")


def test_operational_numbers_and_ids_are_kept() -> None:
    """Amounts, attempts, order ids, provider codes and dates stay readable."""
    text = "order-12345 attempt 2 amount 1250 EUR code card_declined on 2026-11-23 ref ch_3Mx9"
    assert redact_text(text) == text
    assert redact_text(f"debit {IBAN_SPACED} EUR 12.50") == "debit [IBAN] EUR 12.50"


def test_tokens_and_keyed_secrets_are_masked_but_their_names_kept() -> None:
    """An operator still sees that an Authorization header was there, not what it said."""
    masked = redact_text(LEAKY_TEXT)
    assert_no_secret(masked)
    assert "Authorization: [REDACTED]" in masked
    assert "X-API-Key: [REDACTED]" in masked
    assert "password=[REDACTED]" in masked


def test_mappings_mask_values_under_secret_and_personal_keys_at_any_depth() -> None:
    """Keys say what is secret: api keys, tokens, holder names, e-mails; numbers too."""
    data = {
        "provider": "adyen",
        "headers": {"X-API-Key": "short", "Authorization": "Basic abc"},
        "source": {"holder_name": HOLDER, "iban": SecretStr(IBAN), "cvc": 123},
        "metadata": [{"note": LEAKY_TEXT}, PAN],
        "rate_limit_tokens": 7.5,
        "attempts": 2,
    }
    safe = redact(data)
    assert_no_secret(json.dumps(safe))
    assert isinstance(safe, dict)
    assert safe["provider"] == "adyen"
    assert safe["headers"] == {"X-API-Key": "[REDACTED]", "Authorization": "[REDACTED]"}
    assert (safe["rate_limit_tokens"], safe["attempts"]) == (7.5, 2)


# -- every event type through every log path --------------------------------------------


def leaky_events() -> list[Event]:
    """One instance of every event type, each text field full of secrets."""
    events: list[Event] = []
    for event_type in typing.get_args(Event):
        values: dict[str, object] = {}
        hints = typing.get_type_hints(event_type)
        for field in dataclasses.fields(event_type):
            hint = hints[field.name]
            options = [arg for arg in typing.get_args(hint) if arg is not type(None)] or [hint]
            kind = options[0]
            if isinstance(kind, type) and issubclass(kind, enum.Enum):
                values[field.name] = next(iter(kind))
            elif kind is bool:
                values[field.name] = True
            elif kind in (int, float):
                values[field.name] = kind(2)
            else:
                values[field.name] = f"{field.name}: {LEAKY_TEXT}"
        events.append(event_type(**values))
    return events


class FailingHook:
    """A merchant's hook whose exception message quotes a provider reply full of secrets."""

    def __call__(self, event: Event) -> None:
        raise RuntimeError(f"provider said: {LEAKY_TEXT}")


@pytest.fixture
def stdlib_output() -> typing.Iterator[io.StringIO]:
    """Everything the `payrouter` logger emits, formatted with its extra event fields."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(event)s"))
    handler.addFilter(lambda record: setattr(record, "event", getattr(record, "event", "")) or 1)
    logger = logging.getLogger("payrouter")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_every_event_through_every_log_path_leaks_nothing(
    stdlib_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdlib, structlog JSON, structlog via the merchant's config, spans, metric labels,
    and a hook failure's traceback: none of them carries a secret."""
    json_lines = io.StringIO()
    merchant_lines = io.StringIO()
    merchant_logger = structlog.wrap_logger(
        structlog.PrintLogger(merchant_lines),
        processors=[redact_processor, structlog.processors.JSONRenderer()],
    )
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    registry = CollectorRegistry()
    hooks = [
        LoggingHook(),
        StructlogHook(json_logger(json_lines)),
        StructlogHook(merchant_logger),
        StructlogHook(json_logger()),  # stdout
        OpenTelemetryHook(provider),
        PrometheusHook(registry),
        FailingHook(),
    ]
    events = leaky_events()
    assert len(events) == len(typing.get_args(Event))
    for event in events:
        emit(hooks, event)
    logging.getLogger("payrouter").error("while paying: %s", LEAKY_TEXT, exc_info=ValueError(PAN))
    provider.force_flush()

    outputs = {
        "stdlib": stdlib_output.getvalue(),
        "json": json_lines.getvalue(),
        "merchant structlog": merchant_lines.getvalue(),
        "stdout": capsys.readouterr().out,
        "spans": "\n".join(
            json.dumps(dict(span.attributes or {}))
            + json.dumps([dict(e.attributes or {}) for e in span.events])
            for span in spans.get_finished_spans()
        ),
        "metrics": generate_latest(registry).decode(),
    }
    assert "RuntimeError" in outputs["stdlib"]  # the hook failure was logged, traceback too
    assert len(outputs["json"].splitlines()) == len(events)
    assert spans.get_finished_spans(), "the PaymentFinished event ends a span"
    for name, captured in outputs.items():
        assert captured, f"{name} captured nothing, so the scan would prove nothing"
        assert_no_secret(captured)


async def test_a_real_payment_with_secrets_in_the_request_leaks_nothing(
    stdlib_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    """An IBAN, a holder's name and secrets in metadata and description go through the
    router with every hook on; only redacted data comes out. (A card number in metadata never
    gets this far: the request refuses it, see test_card_data_guard.)"""
    registry = CollectorRegistry()
    json_lines = io.StringIO()
    hooks = [LoggingHook(), StructlogHook(json_logger(json_lines)), PrometheusHook(registry)]
    adapter = SimulatedAdapter(SimulatedProvider("bank_a"))
    async with Router([adapter], ledger="sqlite://", hooks=hooks) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="order-secret-1",
                amount=Money.of("10.00", "EUR"),
                sources=(BankTransferSource(iban=SecretStr(IBAN), holder_name=HOLDER),),
                customer_country="DE",
                description=f"for {EMAIL}",
                metadata={"note": f"key {STRIPE_KEY}", "password": PASSWORD},
            )
        )
    assert result.status.value == "succeeded"
    captured = stdlib_output.getvalue() + json_lines.getvalue() + capsys.readouterr().out
    assert "order-secret-1" in json_lines.getvalue()
    assert_no_secret(captured + generate_latest(registry).decode())


def test_the_adapters_logger_is_masked_too() -> None:
    """Adapters log unmapped provider codes with the provider's words in `extra`."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("payrouter.adapters")
    handler = Keep()
    logger.addHandler(handler)
    try:
        logger.warning(
            "unmapped provider code %s", PAN, extra={"provider": "adyen", "provider_code": IBAN}
        )
    finally:
        logger.removeHandler(handler)
    (record,) = seen
    assert record.getMessage() == "unmapped provider code [PAN]"
    assert (record.provider, record.provider_code) == ("adyen", "[IBAN]")  # type: ignore[attr-defined]
