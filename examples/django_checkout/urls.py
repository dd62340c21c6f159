"""URLs of the Django checkout example."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("payments", views.pay),
    path("payments/<str:order_id>", views.payment),
    path("payments/<str:order_id>/refunds", views.refund),
    path("webhooks/<str:provider>", views.webhook),
    path("return", views.returned),
]
