"""Django settings for the checkout example: the least Django needs, plus payrouter's config.

Run it from the repository root next to `payrouter sandbox --port 8700`, with the secrets
payrouter.yaml names (`python -m django`, unlike `django-admin`, puts the current folder on
the import path, so `examples` is found):
    DJANGO_SETTINGS_MODULE=examples.django_checkout.settings python -m django runserver
"""

from __future__ import annotations

import os
from pathlib import Path

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "examples.django_checkout.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, object] = {}  # payments live in payrouter's ledger, not Django's ORM
USE_TZ = True

PAYROUTER_CONFIG = Path(
    os.environ.get("PAYROUTER_CONFIG", Path(__file__).with_name("payrouter.yaml"))
)
