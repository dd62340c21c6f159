"""The deployment guide, run: gunicorn with 4 uvicorn workers over PostgreSQL and Redis takes
real payments through the sandbox, each exactly once, and the systemd units verify.

`examples/deploy/` holds what docs/deployment.md shows: the gunicorn config, the router config
(ledger and state from the environment) and the two systemd units.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from payrouter_lab.testing import SANDBOX_SECRETS, SandboxControl

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "examples" / "deploy"
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.slow, pytest.mark.peer("postgres"), pytest.mark.peer("redis")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def _gunicorn(config: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """The guide's gunicorn command on a free port; yields the app's URL."""
    port = _free_port()
    app = f"examples.fastapi_checkout.app:create_app({str(config)!r})"
    command = [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn_conf.py"), app]
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env | {"BIND": f"127.0.0.1:{port}"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            booted = len(re.findall(r"Booting worker with pid", log.read_text()))
            with contextlib.suppress(httpx.HTTPError):
                # Answering, and all four workers booted, before anything is measured.
                if httpx.get(f"{_url(port)}/payments/none", timeout=2).status_code and booted >= 4:
                    break
            time.sleep(0.3)
        yield _url(port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _pay(url: str, order_id: str) -> dict[str, object]:
    body = {
        "order_id": order_id,
        "amount": "24.90",
        "currency": "EUR",
        "country": "DE",
        "card_token": "pm_card_visa",
        "customer_id": "shopper-1",
    }
    answer: dict[str, object] = httpx.post(f"{url}/payments", json=body, timeout=30).json()
    return answer


def test_four_gunicorn_workers_over_postgres_and_redis_charge_each_order_once(
    payrouter_sandbox: SandboxControl,
    postgres_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    """40 orders sent twice each, 8 at a time, to 4 workers: 40 charges, all succeeded."""
    config = payrouter_sandbox.config_for(DEPLOY / "payrouter.yaml", tmp_path, fresh_ledger=False)
    env = dict(os.environ) | dict(SANDBOX_SECRETS)
    env |= {"LEDGER_URL": postgres_url, "REDIS_URL": f"{redis_url}?prefix={redis_prefix}"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "gunicorn.log"
    orders = [f"G-{n}" for n in range(40)] * 2
    with _gunicorn(config, env, log) as url, concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda order: _pay(url, order), orders))
    pids = set(re.findall(r"Booting worker with pid: (\d+)", log.read_text()))
    assert len(pids) == 4, log.read_text()[-3000:]
    assert {(a["status"], a["provider"]) for a in answers} == {("succeeded", "stripe")}, answers
    books = payrouter_sandbox.books("stripe")
    assert sorted(books["orders"]) == sorted(set(orders))
    assert books["double_charged"] == []
    worker = subprocess.run(
        [str(BIN / "payrouter"), "worker", "--config", str(config), "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts both units once their paths exist; it refuses a typo."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("peer systemd-analyze: absent (apt-get install systemd)")
    srv = tmp_path / "srv" / "shop" / ".venv" / "bin"
    srv.mkdir(parents=True)
    for name in ("gunicorn", "payrouter"):
        (srv / name).write_text("#!/bin/sh\n")
        (srv / name).chmod(0o755)
    units = []
    for name in ("payrouter-web.service", "payrouter-worker.service"):
        text = (DEPLOY / name).read_text().replace("/srv/shop", str(tmp_path / "srv" / "shop"))
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    done = subprocess.run([analyze, "verify", *units], capture_output=True, text=True)
    assert (done.returncode, done.stderr.strip()) == (0, ""), done.stderr
    broken = tmp_path / "broken.service"
    broken.write_text((tmp_path / "payrouter-worker.service").read_text().replace(
        f"ExecStart={tmp_path}", "ExecStart=relative/"))  # fmt: skip
    assert subprocess.run([analyze, "verify", str(broken)], capture_output=True).returncode != 0
