"""The webhook endpoint for Django: a plain function to call from your view.

receiver = WebhookReceiver(sync_router, stripe=StripeVerifier(secret))

@csrf_exempt
@require_POST
def stripe_webhook(request):
    return handle(request, receiver, "stripe")
"""

from __future__ import annotations

from typing import Any

from ._receiver import WebhookReceiver

__all__ = ["handle"]


def handle(request: Any, receiver: WebhookReceiver, provider: str) -> Any:
    """Verify and apply the notification in `request`; the `HttpResponse` to return.

    The receiver must be built with the `SyncRouter` your views use.
    """
    from django.http import HttpResponse  # type: ignore[import-untyped]

    answer = receiver.receive_sync(provider, request.body, dict(request.headers))
    return HttpResponse(answer.body, status=answer.status, content_type="text/plain")
