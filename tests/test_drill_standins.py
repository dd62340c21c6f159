"""The drill's stand-ins are served from a process of their own, as real providers are: the
drill reaches them only over HTTP, and the process is gone when the drill's block ends."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from payrouter_lab.drill._standin_process import standins_in_a_process


async def test_the_stand_ins_answer_over_http_and_their_process_stops_with_the_block(
    tmp_path: Path,
) -> None:
    log = tmp_path / "standins.log"
    async with standins_in_a_process([7, 8], log) as addresses:
        assert len(addresses) == 2
        assert addresses[0].admin_url != addresses[1].admin_url
        assert set(addresses[0].urls) == {"stripe", "adyen", "paypal", "berlingroup"}
        async with httpx.AsyncClient() as client:
            for address in addresses:
                books = await client.get(f"{address.admin_url}/_admin/adyen/books")
                assert books.status_code == 200
                assert books.json()["entries"] == []
        admin = addresses[0].admin_url
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{admin}/_admin/adyen/books")
