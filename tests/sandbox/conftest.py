"""One sandbox (all four stand-ins and the admin API) for the whole run, reset before each test.

Starting and stopping five uvicorn listeners costs about 0.3 s; sharing them keeps the sandbox
suite well under its 40-second budget, and `POST /_admin/reset` gives every test a fresh
provider state, books and faults (and reopens any listener a `down` fault closed). Test
modules here run on the session loop (`pytestmark`), where the shared sandbox lives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from payrouter_lab.sandbox import Sandbox, serve
from tests.sandbox.kit import issue_paypal_vault_ids, issue_stored_cards


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def running_sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=7) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def admin(running_sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{running_sandbox.admin_url}/_admin") as client:
        assert (await client.post("/reset")).status_code == 204
        await issue_stored_cards(client)
        await issue_paypal_vault_ids(client)
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def sandbox(running_sandbox: Sandbox, admin: httpx.AsyncClient) -> Sandbox:
    """The shared sandbox, already reset for this test."""
    return running_sandbox
