"""Runs the four stand-ins and the admin API on 127.0.0.1, in-process or from the CLI.

Every listener binds 127.0.0.1 only and answers only requests whose Host header is 127.0.0.1 or
localhost (any other is a 400), since the stand-ins and the admin API take no credentials.
Each provider gets its own listener, so a `down` fault can close exactly that port and a
client gets a real refused connection (`httpx.ConnectError`), while the admin API on its own
port stays reachable to end the outage. With `port=N` the admin API listens on N and the
providers on N+1..N+4 (stripe, adyen, paypal, berlingroup); `port=0` picks free ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._adyen import AdyenStandin
from ._berlingroup import BerlinGroupStandin
from ._credentials import CredentialRequest
from ._exchange import AbortLogFilter, Standin
from ._faults import FaultKind, FaultSpec
from ._paypal import PayPalStandin
from ._stripe import StripeStandin

__all__ = ["PROVIDERS", "Sandbox", "run_sandbox", "serve"]

PROVIDERS: Final = ("stripe", "adyen", "paypal", "berlingroup")
"""Provider names, in port order after the admin port."""
_BASE_PATHS: Final = MappingProxyType({"adyen": "/v72"})
_LOOPBACK: Final = "127.0.0.1"
_LOOPBACK_NAMES: Final = (_LOOPBACK, "localhost")
"""The only Host headers answered: a page that points its own name at 127.0.0.1 (DNS
rebinding) gets a 400, so a browser cannot drive the unauthenticated admin API."""
_WATCH_SECONDS: Final = 0.05


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A running sandbox: the base URL each adapter takes, the admin URL, the stand-ins."""

    urls: Mapping[str, str]
    """Provider name → the adapter's `base_url` (Adyen's ends in `/v72`)."""
    admin_url: str
    standins: Mapping[str, Standin]


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: the sandbox runs inside someone else's program."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Listener:
    """One uvicorn server on one 127.0.0.1 port that can be closed and reopened on that port."""

    def __init__(self, app: Starlette, port: int) -> None:
        self._app = app
        self.port = port
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        """Whether the port accepts connections."""
        return self._server is not None

    async def open(self) -> None:
        """Bind and serve; returns once the port accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it a response written as headers then
        # body waits for the client's delayed ACK, 44 ms per call here instead of ~1 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((_LOOPBACK, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            TrustedHostMiddleware(self._app, allowed_hosts=list(_LOOPBACK_NAMES)),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = _QuietServer(config)
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                await self._task  # raises the startup failure
            await asyncio.sleep(0.005)
        self._server = server

    async def close(self) -> None:
        """Stop accepting (new connections are refused) and drop idle connections."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None


class _Runtime:
    """Stand-ins, their listeners, and the watcher that opens and closes them for `down`."""

    def __init__(self, seed: int, port: int) -> None:
        kinds: tuple[type[Standin], ...] = (
            StripeStandin,
            AdyenStandin,
            PayPalStandin,
            BerlinGroupStandin,
        )
        self.standins = {kind.name: kind(seed + index) for index, kind in enumerate(kinds)}
        first = port + 1 if port else 0
        self.listeners = {
            name: _Listener(standin.app(), first + index if port else 0)
            for index, (name, standin) in enumerate(self.standins.items())
        }
        self.admin = _Listener(self._admin_app(), port)
        self._locks = {name: asyncio.Lock() for name in self.standins}

    async def sync(self, name: str) -> None:
        """Close or reopen one provider's listener to match its `down` faults.

        The watcher and the admin API both call this; the lock keeps them from binding the
        same port twice while an open or close is under way.
        """
        async with self._locks[name]:
            listener = self.listeners[name]
            down = self.standins[name].faults.is_down()
            if down and listener.is_open:
                await listener.close()
            elif not down and not listener.is_open:
                await listener.open()

    async def watch(self) -> None:
        """Follow `down` windows as they start and end."""
        while True:
            for name in self.standins:
                await self.sync(name)
            await asyncio.sleep(_WATCH_SECONDS)

    def _admin_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/_admin", self._index, methods=["GET"]),
                Route("/_admin/reset", self._reset, methods=["POST"]),
                Route("/_admin/{provider}/books", self._books, methods=["GET"]),
                Route("/_admin/{provider}/fees", self._fees, methods=["POST"]),
                Route("/_admin/{provider}/faults", self._faults, methods=["GET", "POST"]),
                Route("/_admin/{provider}/faults", self._clear, methods=["DELETE"]),
                Route("/_admin/{provider}/maintenance", self._maintenance, methods=["GET"]),
                Route("/_admin/{provider}/credentials", self._credentials, methods=["POST"]),
                Route("/_admin/{provider}/account", self._account, methods=["POST"]),
            ]
        )

    def urls(self) -> dict[str, str]:
        """Provider name → base URL for its adapter."""
        return {
            name: f"http://{_LOOPBACK}:{listener.port}{_BASE_PATHS.get(name, '')}"
            for name, listener in self.listeners.items()
        }

    def _standin(self, request: Request) -> Standin | None:
        return self.standins.get(request.path_params["provider"])

    async def _index(self, request: Request) -> Response:
        return JSONResponse({"providers": self.urls()})

    async def _reset(self, request: Request) -> Response:
        for name, standin in self.standins.items():
            standin.reset()
            await self.sync(name)
        return Response(status_code=204)

    async def _books(self, request: Request) -> Response:
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        return JSONResponse(standin.books.as_json())

    async def _fees(self, request: Request) -> Response:
        """Make the provider's records bill one payment a fee other than its list price."""
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        try:
            body = await request.json()
            reference, fee = body["provider_reference"], body["fee_minor"]
        except (ValueError, KeyError, TypeError):
            body = None
        if body is None or not isinstance(reference, str) or not isinstance(fee, int) or fee < 0:
            problem = "expected {provider_reference: str, fee_minor: int >= 0}"
            return JSONResponse({"errors": [problem]}, status_code=422)
        standin.books.fee_overrides[reference] = fee
        return JSONResponse({"provider_reference": reference, "fee_minor": fee}, 201)

    async def _faults(self, request: Request) -> Response:
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        if request.method == "GET":
            return JSONResponse(standin.faults.as_json())
        try:
            spec = FaultSpec.model_validate_json(await request.body())
        except ValidationError as error:
            problems = error.errors(include_url=False, include_context=False)
            return JSONResponse({"errors": problems}, status_code=422)
        fault = standin.faults.add(spec)
        if spec.kind is FaultKind.DOWN:
            await self.sync(standin.name)  # the outage has begun when the POST answers
        return JSONResponse(fault.as_json(), status_code=201)

    async def _clear(self, request: Request) -> Response:
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        standin.faults.clear()
        await self.sync(standin.name)
        return Response(status_code=204)

    async def _credentials(self, request: Request) -> Response:
        """Issue credentials at a provider, as a checkout's tokenization would: one request
        object or a list of them; 201 with what was issued, or 422 naming each problem."""
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        if standin.vault is None:
            problem = f"{standin.name} issues no stored credentials (its payers are IBANs)"
            return JSONResponse({"errors": [problem]}, status_code=422)
        try:
            body = await request.json()
        except ValueError:
            body = None
        many = isinstance(body, list)
        parsed = [CredentialRequest.parse(item) for item in (body if many else [body])]
        problems = [item for item in parsed if isinstance(item, str)]
        if problems:
            return JSONResponse({"errors": problems}, status_code=422)
        issued: list[dict[str, str | None]] = []
        for item in parsed:
            assert not isinstance(item, str)
            answer = standin.vault.issue(item)
            if isinstance(answer, str):
                return JSONResponse({"errors": [answer]}, status_code=422)
            issued.append({"id": answer[0], "customer": answer[1]})
        return JSONResponse(issued if many else issued[0], status_code=201)

    async def _account(self, request: Request) -> Response:
        """Change the provider account's settings (Stripe: raw card data access); they last
        until the next reset. 200 with the settings, or 422 naming the problem."""
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        answer = standin.configure_account(body)
        if isinstance(answer, str):
            return JSONResponse({"errors": [answer]}, status_code=422)
        return JSONResponse(answer)

    async def _maintenance(self, request: Request) -> Response:
        standin = self._standin(request)
        if standin is None:
            return _no_provider(request)
        return JSONResponse({"windows": standin.faults.maintenance_windows()})


def _no_provider(request: Request) -> Response:
    provider = request.path_params["provider"]
    return JSONResponse({"error": f"no provider {provider!r}; one of {PROVIDERS}"}, 404)


@contextlib.asynccontextmanager
async def serve(host: str = _LOOPBACK, port: int = 0, *, seed: int = 0) -> AsyncIterator[Sandbox]:
    """Run the sandbox in the current event loop for the `async with` block.

    Args:
        host: must be 127.0.0.1: the stand-ins accept any credentials and must never be
            reachable from another machine.
        port: the admin port; providers take the next four. 0 picks free ports.
        seed: seeds the fault dice, so a drill replays the same faults.

    Raises:
        ValueError: `host` is not 127.0.0.1.
        OSError: a port is taken.
    """
    if host != _LOOPBACK:
        raise ValueError(f"the sandbox binds to {_LOOPBACK} only, not {host!r}")
    runtime = _Runtime(seed, port)
    abort_filter = AbortLogFilter()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addFilter(abort_filter)
    watcher: asyncio.Task[None] | None = None
    try:
        await runtime.admin.open()
        for listener in runtime.listeners.values():
            await listener.open()
        watcher = asyncio.create_task(runtime.watch())
        yield Sandbox(
            urls=MappingProxyType(runtime.urls()),
            admin_url=f"http://{_LOOPBACK}:{runtime.admin.port}",
            standins=MappingProxyType(runtime.standins),
        )
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await asyncio.gather(
            runtime.admin.close(), *(listener.close() for listener in runtime.listeners.values())
        )
        uvicorn_log.removeFilter(abort_filter)


def run_sandbox(host: str, port: int) -> None:
    """Serve the sandbox until Ctrl+C: what `payrouter sandbox` runs.

    Prints the admin URL and each adapter's base URL, one per line, once listening.
    """

    async def main() -> None:
        async with serve(host, port) as sandbox:
            print(f"admin        {sandbox.admin_url}/_admin")
            for name, url in sandbox.urls.items():
                print(f"{name:<12} {url}")
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
