"""gunicorn for the FastAPI checkout: 4 uvicorn worker processes over PostgreSQL and Redis.

    gunicorn -c examples/deploy/gunicorn_conf.py \
        'examples.fastapi_checkout.app:create_app("examples/deploy/payrouter.yaml")'

Fork safety: each worker builds its own router after the fork (the app factory runs in the
worker, and the router opens its ledger pool, HTTP clients and Redis sync in the app's
lifespan), so nothing with a socket or a thread crosses a fork. Never set `preload_app`: a
router made in the master would hand every worker the same connections.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))  # about one per core: docs/deployment.md
worker_class = "uvicorn_worker.UvicornWorker"
preload_app = False
timeout = 30  # longer than the router's deadline_seconds, so a payment is never cut off
graceful_timeout = 30  # a stopping worker finishes its payments first
