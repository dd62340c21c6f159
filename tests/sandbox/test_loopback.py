"""The sandbox is unauthenticated, so it stays on loopback and answers loopback names only.

A web page the developer visits could otherwise point its own hostname at 127.0.0.1 (DNS
rebinding) and drive the admin API from the browser: inject faults, wipe books.
"""

from __future__ import annotations

import httpx
import pytest

from payrouter_lab.sandbox import Sandbox, serve

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8700", "127.0.0.1.nip.io", ""])
async def test_the_admin_api_refuses_other_host_headers(sandbox: Sandbox, host: str) -> None:
    """A request whose Host is not a loopback name is refused before any admin action."""
    async with httpx.AsyncClient() as client:
        refused = await client.post(f"{sandbox.admin_url}/_admin/reset", headers={"Host": host})
        faults = await client.post(
            f"{sandbox.admin_url}/_admin/stripe/faults",
            json={"kind": "down"},
            headers={"Host": host},
        )
        listed = await client.get(f"{sandbox.admin_url}/_admin/stripe/faults")
    assert refused.status_code == 400
    assert faults.status_code == 400
    assert listed.json() == []  # nothing was injected


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
async def test_the_admin_api_answers_loopback_names(sandbox: Sandbox, name: str) -> None:
    """127.0.0.1 and localhost, with or without the port, are the sandbox's own names."""
    port = sandbox.admin_url.rsplit(":", 1)[1]
    async with httpx.AsyncClient() as client:
        for host in (name, f"{name}:{port}"):
            answer = await client.get(f"{sandbox.admin_url}/_admin", headers={"Host": host})
            assert answer.status_code == 200, host


async def test_the_stand_ins_refuse_other_host_headers(sandbox: Sandbox) -> None:
    """The provider stand-ins take any credentials, so they check the Host too."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{sandbox.urls['stripe']}/v1/payment_intents/pi_x", headers={"Host": "evil.example"}
        )
    assert answer.status_code == 400


async def test_the_sandbox_binds_loopback_only() -> None:
    """Any other address is refused before a port is opened."""
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        async with serve("0.0.0.0"):
            pass
