"""HttpAdapter: the options, client and repr every HTTP adapter shares, written once."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest
from pydantic import SecretStr

from payrouter import ConfigurationError, PaymentMethod
from payrouter.provider import (
    Capabilities,
    FailureKind,
    HttpAdapter,
    HttpOptions,
    Outcome,
    UnsendableError,
)

SECRET = "sk_base-secret-do-not-print"


class TokenOptions(HttpOptions):
    token: SecretStr
    region: str = "eu"


class TokenAdapter(HttpAdapter[TokenOptions]):
    options_model = TokenOptions
    default_capabilities = Capabilities(methods=frozenset({PaymentMethod.CARD}))
    shown_options = ("base_url", "region", "token")
    idempotency_key_max_length = 64

    @classmethod
    def client_headers(cls, options: TokenOptions) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {options.token.get_secret_value()}"}


def build(transport: httpx.AsyncBaseTransport | None = None) -> TokenAdapter:
    options = {"base_url": "https://psp.test", "token": SECRET}
    return TokenAdapter.from_options(
        name="psp", capabilities=None, options=options, transport=transport
    )


async def test_the_client_carries_base_url_and_credentials() -> None:
    """from_options builds one client with the options' base URL and the subclass's headers."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    adapter = build(httpx.MockTransport(answer))
    await adapter._client.get("/v1/ping")
    await adapter.aclose()
    assert str(seen[0].url) == "https://psp.test/v1/ping"
    assert seen[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert adapter._client.is_closed


async def test_repr_shows_the_chosen_options_and_masks_a_secret_among_them() -> None:
    """Even a secret listed in shown_options prints as SecretStr's mask, never its value."""
    adapter = build()
    text = repr(adapter) + str(adapter)
    await adapter.aclose()
    assert "TokenAdapter(name='psp', base_url='https://psp.test', region='eu'" in text
    assert SECRET not in text


def test_default_capabilities_apply_unless_configured() -> None:
    """Configured capabilities win over the subclass's defaults."""
    narrow = Capabilities(methods=frozenset({PaymentMethod.CARD}), currencies=frozenset({"EUR"}))
    options = {"base_url": "https://psp.test", "token": SECRET}
    configured = TokenAdapter.from_options(name="psp", capabilities=narrow, options=options)
    assert configured.capabilities is narrow
    assert build().capabilities is TokenAdapter.default_capabilities


@pytest.mark.parametrize(
    "options", [{"base_url": "https://psp.test"}, {"token": SECRET, "base_url": 7}]
)
def test_bad_options_name_the_field_and_never_the_secret(options: dict[str, object]) -> None:
    """A missing or mistyped option is a ConfigurationError naming providers[psp].options.X."""
    with pytest.raises(ConfigurationError, match=r"providers\[psp\]\.options\.") as raised:
        TokenAdapter.from_options(name="psp", capabilities=None, options=options)
    assert SECRET not in str(raised.value) + repr(raised.value)


def test_an_unsendable_request_is_a_definite_invalid_request() -> None:
    """UnsendableError.reply() is failed INVALID_REQUEST with its code: nothing was sent."""
    reply = UnsendableError("amount_not_representable", "1.50 MGA has no Stripe unit").reply()
    assert (reply.outcome, reply.failure_kind, reply.provider_code) == (
        Outcome.FAILED,
        FailureKind.INVALID_REQUEST,
        "amount_not_representable",
    )
    assert reply.message == "1.50 MGA has no Stripe unit"
