"""Route fakes: a test's answers for every HTTP address other than the app's own service."""

from __future__ import annotations

import fnmatch
import json as jsonlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wftest.sim.http_messages import Headers, HttpError, HttpRequest, HttpResponse, NetworkError, sniff


@dataclass
class HttpReply:
    """A route fake's answer (a callable may return one, a dict for JSON, or str/bytes for a body)."""

    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class HttpRoute:
    """One fake: method + URL pattern → a reply (or a callable making one, or a network error)."""

    method: str
    pattern: str | re.Pattern[str]
    reply: HttpReply | Callable[[HttpRequest], Any] | None
    error: str | None = None
    calls: list[HttpRequest] = field(default_factory=list)

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def describe(self) -> str:
        pattern = self.pattern.pattern if isinstance(self.pattern, re.Pattern) else self.pattern
        return f"{self.method} {pattern}"

    def assert_called(self, times: int | None = None) -> None:
        if times is None and not self.calls:
            raise AssertionError(f"route fake {self.describe()} was never called")
        if times is not None and len(self.calls) != times:
            raise AssertionError(
                f"route fake {self.describe()} was called {len(self.calls)} time(s), expected {times}"
            )

    def assert_called_once(self) -> None:
        self.assert_called(1)

    def assert_not_called(self) -> None:
        if self.calls:
            urls = ", ".join(f"{c.method} {c.url}" for c in self.calls)
            raise AssertionError(f"route fake {self.describe()} was called: {urls}")

    def matches(self, method: str, url: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        if isinstance(self.pattern, re.Pattern):
            return self.pattern.fullmatch(url) is not None
        target = url if "?" in self.pattern else url.split("?", 1)[0]
        if "*" in self.pattern:
            return fnmatch.fnmatchcase(target, self.pattern)
        return target == self.pattern

    def __repr__(self) -> str:
        return f"<route fake {self.describe()}: {len(self.calls)} call(s)>"


class HttpRoutes:
    """The test's fakes for addresses other than the app's own service: `routes.get(url, json=...)`,
    `routes.post(re.compile(...), fn)`. URL patterns are exact URLs (query ignored unless the pattern
    has one), globs with `*`, or compiled regular expressions; the first fake added wins."""

    def __init__(self) -> None:
        self.routes: list[HttpRoute] = []
        self.unrouted: list[str] = []

    def add(
        self,
        method: str,
        url: str | re.Pattern[str],
        fn: Callable[[HttpRequest], Any] | None = None,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        error: str | None = None,
    ) -> HttpRoute:
        if fn is not None and (json is not None or body is not None):
            raise ValueError("a route fake takes a callable or a json/body reply, not both")
        reply: HttpReply | Callable[[HttpRequest], Any] = (
            fn if fn is not None else HttpReply(status, json, body, dict(headers or {}))
        )
        route = HttpRoute(method.upper(), url, reply, error)
        self.routes.append(route)
        return route

    def get(
        self, url: str | re.Pattern[str], fn: Callable[[HttpRequest], Any] | None = None, **kw: Any
    ) -> HttpRoute:
        return self.add("GET", url, fn, **kw)

    def post(
        self, url: str | re.Pattern[str], fn: Callable[[HttpRequest], Any] | None = None, **kw: Any
    ) -> HttpRoute:
        return self.add("POST", url, fn, **kw)

    def put(
        self, url: str | re.Pattern[str], fn: Callable[[HttpRequest], Any] | None = None, **kw: Any
    ) -> HttpRoute:
        return self.add("PUT", url, fn, **kw)

    def patch(
        self, url: str | re.Pattern[str], fn: Callable[[HttpRequest], Any] | None = None, **kw: Any
    ) -> HttpRoute:
        return self.add("PATCH", url, fn, **kw)

    def delete(
        self, url: str | re.Pattern[str], fn: Callable[[HttpRequest], Any] | None = None, **kw: Any
    ) -> HttpRoute:
        return self.add("DELETE", url, fn, **kw)

    def any(
        self, url: str | re.Pattern[str], fn: Callable[[HttpRequest], Any] | None = None, **kw: Any
    ) -> HttpRoute:
        return self.add("*", url, fn, **kw)

    def find(self, method: str, url: str) -> HttpRoute | None:
        for route in self.routes:
            if route.matches(method, url):
                return route
        return None

    def assert_all_called(self) -> None:
        never = [r.describe() for r in self.routes if not r.calls]
        if never:
            raise AssertionError(f"route fake(s) never called: {', '.join(never)}")

    def serve(self, route: HttpRoute, request: HttpRequest) -> HttpResponse:
        route.calls.append(request)
        if route.error is not None:
            raise NetworkError(route.error)
        reply: Any = route.reply
        if callable(reply):
            try:
                reply = reply(request)
            except AssertionError:
                raise
            except Exception as exc:
                raise HttpError(f"route fake {route.describe()} raised {type(exc).__name__}: {exc}") from exc
        return _reply_response(reply, request)

    def __repr__(self) -> str:
        return f"<HttpRoutes: {len(self.routes)} fake(s)>"


def _reply_response(reply: Any, request: HttpRequest) -> HttpResponse:
    headers = Headers()
    if isinstance(reply, HttpResponse):
        return reply
    if isinstance(reply, tuple) and len(reply) == 2:
        reply = HttpReply(
            int(reply[0]), *((reply[1], None) if not isinstance(reply[1], (str, bytes)) else (None, reply[1]))
        )
    if isinstance(reply, (dict, list)):
        reply = HttpReply(json=reply)
    elif isinstance(reply, (str, bytes)):
        reply = HttpReply(body=reply)
    elif reply is None:
        reply = HttpReply(status=204)
    if not isinstance(reply, HttpReply):
        raise HttpError(
            f"a route fake returned {type(reply).__name__}; return an HttpReply, a dict, str or bytes"
        )
    for k, v in reply.headers.items():
        headers.set(k, str(v))
    if reply.json is not None:
        body = jsonlib.dumps(reply.json, separators=(",", ":")).encode()
        headers.setdefault("Content-Type", ["application/json"])
    elif reply.body is not None:
        body = reply.body.encode() if isinstance(reply.body, str) else bytes(reply.body)
        headers.setdefault("Content-Type", [sniff(body)])
    else:
        body = b""
    headers.set("Content-Length", str(len(body)))
    return HttpResponse(reply.status, headers, body, request.url, request.method)
