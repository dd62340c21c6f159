"""The webhook endpoint for Django: a plain function to call from your view.

receiver = WebhookReceiver(sync_router, [StripeWebhooks(secret)])

@csrf_exempt
@require_POST
def stripe_webhook(request):
    return handle(request, receiver, "stripe")
"""

from __future__ import annotations

from typing import Any

from ._errors import NotificationTooLargeError
from ._receiver import WebhookReceiver, refusal

__all__ = ["handle"]


def handle(request: Any, receiver: WebhookReceiver, provider: str) -> Any:
    """Verify and apply the notification in `request`; the `HttpResponse` to return.

    The receiver must be built with the `SyncRouter` your views use. The body is read from
    the request's stream up to the receiver's `max_body_bytes` (one byte more tells it is
    over), so an oversized body is answered 413 without being read whole.
    """
    from django.http import HttpResponse  # type: ignore[import-untyped]

    limit = receiver.max_body_bytes
    declared = str(request.META.get("CONTENT_LENGTH") or "")
    if declared.isdigit() and int(declared) > limit:
        answer = refusal(NotificationTooLargeError(f"body over {limit} bytes"))
    else:
        body = request.read(limit + 1)
        answer = receiver.receive_sync(provider, body, dict(request.headers))
    return HttpResponse(answer.body, status=answer.status, content_type="text/plain")
