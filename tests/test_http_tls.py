"""Every adapter's client verifies providers' certificates with the settings httpx gives by
default, built once per process: building them parses the whole CA bundle (about 35 ms of CPU
each), which a router with four providers paid four times at start-up."""

from __future__ import annotations

import ssl

from payrouter._http_adapter import HttpOptions, build_client


def _tls(options: HttpOptions) -> ssl.SSLContext:
    client = build_client(options, {})
    context = client._transport._pool._ssl_context  # type: ignore[attr-defined]  # httpcore's
    assert isinstance(context, ssl.SSLContext)
    return context


def test_every_adapters_client_shares_one_set_of_tls_settings() -> None:
    wallet = _tls(HttpOptions(base_url="https://api.wallet.example"))
    card = _tls(HttpOptions(base_url="https://api.card.example", max_idle_connections=2))

    assert wallet is card


def test_the_shared_settings_still_verify_the_provider() -> None:
    context = _tls(HttpOptions(base_url="https://api.card.example"))

    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
