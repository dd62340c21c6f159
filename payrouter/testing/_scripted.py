"""A provider scripted answer by answer, as an httpx transport under an adapter's client.

An adapter test says what the provider answers next (a status and body, a transport error,
or an answer whose connection drops mid-body) and reads back what the adapter sent. It is a
transport, not a patch: `HttpAdapter.from_options(..., transport=ScriptedProvider())`.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx

__all__ = ["HttpAnswer", "ScriptedProvider", "UnscriptedRequestError"]


class UnscriptedRequestError(AssertionError):
    """The adapter sent a request the script has no answer for: the test or the adapter is
    wrong, and no outcome may be read into it (an AssertionError, never a transport error)."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """One answer of the provider: a status, a JSON body (or raw `content`), headers.

    A value, so one description serves many tests; `response()` builds a fresh
    `httpx.Response` each time.
    """

    status: int = 200
    json: object = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None

    def body(self) -> bytes:
        """The bytes on the wire: `content` as given, else the JSON body, else nothing."""
        if self.content is not None:
            return self.content
        return b"" if self.json is None else json.dumps(self.json).encode()

    def response(self) -> httpx.Response:
        """A fresh `httpx.Response` carrying this answer."""
        headers = dict(self.headers)
        if self.json is not None and self.content is None:
            headers.setdefault("Content-Type", "application/json")
        return httpx.Response(self.status, content=self.body(), headers=headers)


class _CutBody(httpx.AsyncByteStream):
    """Half of the body, then the connection drops: what a reset mid-response looks like."""

    def __init__(self, body: bytes) -> None:
        self._head = body[: len(body) // 2]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )


@dataclass(frozen=True, slots=True)
class _Cut:
    answer: HttpAnswer

    def response(self) -> httpx.Response:
        body = self.answer.body()
        headers = {**self.answer.headers, "Content-Length": str(max(len(body), 2))}
        return httpx.Response(self.answer.status, headers=headers, stream=_CutBody(body))


_Step = httpx.Response | HttpAnswer | _Cut | Exception


class ScriptedProvider(httpx.AsyncBaseTransport):
    """An httpx transport answering from a queue and recording every request it gets.

    Queue answers with `answer`, `respond`, `fail` (a transport error raised instead of an
    answer) and `cut` (the answer's headers, then a reset mid-body). A request with nothing
    queued raises `UnscriptedRequestError`, unless `otherwise` answers it. `route(path)`
    gives a path (an OAuth token endpoint, say) a script of its own, kept apart from
    `requests`. Every request yields to the event loop once, as a real one would.
    """

    def __init__(self, *, otherwise: Callable[[int], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._steps: deque[_Step] = deque()
        self._otherwise = otherwise
        self._routes: dict[str, ScriptedProvider] = {}

    @classmethod
    def always(cls, answer: httpx.Response | Exception) -> Self:
        """A provider giving the same answer (or raising the same error) to every request."""

        def same(_: int) -> httpx.Response:
            if isinstance(answer, Exception):
                raise answer
            return answer

        return cls(otherwise=same)

    def answer(self, status: int = 200, body: object = None, **headers: str) -> None:
        """Queue an answer with a JSON `body` (none when `body` is None)."""
        self._steps.append(HttpAnswer(status, body, headers))

    def respond(self, *answers: httpx.Response | HttpAnswer) -> None:
        """Queue answers as given (non-JSON bodies, prepared `httpx.Response`s)."""
        self._steps.extend(answers)

    def fail(self, error: Exception) -> None:
        """Queue a transport error (`httpx.ConnectTimeout`, `httpx.ReadTimeout`, ...)."""
        self._steps.append(error)

    def cut(self, answer: HttpAnswer) -> None:
        """Queue `answer`'s status and headers, then a connection reset halfway through its body."""
        self._steps.append(_Cut(answer))

    def route(
        self, path: str, *, otherwise: Callable[[int], httpx.Response] | None = None
    ) -> ScriptedProvider:
        """The script answering requests to `path` (created on first use, then the same one)."""
        if path not in self._routes:
            self._routes[path] = ScriptedProvider(otherwise=otherwise)
        return self._routes[path]

    @property
    def pending(self) -> int:
        """Answers queued and not yet asked for."""
        return len(self._steps)

    @property
    def last(self) -> httpx.Request:
        """The latest request."""
        return self.requests[-1]

    @property
    def last_json(self) -> dict[str, Any]:
        """The latest request's JSON body."""
        body: dict[str, Any] = json.loads(self.last.content)
        return body

    @property
    def last_form(self) -> dict[str, str]:
        """The latest request's form-encoded body."""
        return dict(parse_qsl(self.last.content.decode(), keep_blank_values=True))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request and answer with the next step of the script."""
        await request.aread()
        await asyncio.sleep(0)
        routed = self._routes.get(request.url.path)
        if routed is not None:
            return await routed.handle_async_request(request)
        self.requests.append(request)
        if not self._steps:
            if self._otherwise is not None:
                return self._otherwise(len(self.requests))
            raise UnscriptedRequestError(f"no answer scripted for {request.method} {request.url}")
        step = self._steps.popleft()
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step.response()
