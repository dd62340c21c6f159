"""The webhook endpoint as an ASGI app: mount it in FastAPI or Starlette.

app.mount("/webhooks", payrouter.webhooks.app(receiver))   # POST /webhooks/stripe, /adyen
"""

from __future__ import annotations

from typing import Any

from ._receiver import WebhookReceiver

__all__ = ["app"]


def app(receiver: WebhookReceiver) -> Any:
    """A Starlette app with one `POST /<provider>` route per configured verifier."""
    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route
    except ImportError as error:
        raise ImportError(
            "the webhook app needs Starlette: pip install 'payrouter[webhooks]'"
        ) from error

    def endpoint(provider: str) -> Any:
        async def receive(request: Request) -> PlainTextResponse:
            answer = await receiver.receive(provider, await request.body(), request.headers)
            return PlainTextResponse(answer.body, status_code=answer.status)

        return receive

    routes = [Route(f"/{name}", endpoint(name), methods=["POST"]) for name in receiver.providers]
    return Starlette(routes=routes)
