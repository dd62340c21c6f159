"""The webhook endpoint as an ASGI app: mount it in FastAPI or Starlette.

app.mount("/webhooks", payrouter.webhooks.app(receiver))   # POST /webhooks/stripe, /adyen

The body is read chunk by chunk and reading stops at the receiver's `max_body_bytes`: an
oversized delivery is answered 413 without being held in memory, whatever Content-Length
claims (a client may send none, or lie).
"""

from __future__ import annotations

from typing import Any

from ._errors import NotificationTooLargeError
from ._receiver import WebhookReceiver, refusal

__all__ = ["app"]


def app(receiver: WebhookReceiver) -> Any:
    """A Starlette app with one `POST /<provider>` route per configured source."""
    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route
    except ImportError as error:
        raise ImportError(
            "the webhook app needs Starlette: pip install 'payrouter[webhooks]'"
        ) from error

    limit = receiver.max_body_bytes

    async def bounded_body(request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise NotificationTooLargeError(f"body over {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise NotificationTooLargeError(f"body over {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def endpoint(provider: str) -> Any:
        async def receive(request: Request) -> PlainTextResponse:
            try:
                body = await bounded_body(request)
            except NotificationTooLargeError as error:
                answer = refusal(error)
            else:
                answer = await receiver.receive(provider, body, request.headers)
            return PlainTextResponse(answer.body, status_code=answer.status)

        return receive

    routes = [Route(f"/{name}", endpoint(name), methods=["POST"]) for name in receiver.providers]
    return Starlette(routes=routes)
