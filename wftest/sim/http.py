"""HTTP inside one world: the app's own `http.service` served without a socket, and per-test route fakes
for every other address.

`http_client` calls (from activities, processes, handlers) and the test client (`wippy.http`) both come
here. A URL on the app's own service address (`addr: ":8085"` → `http://localhost:8085/...`, also
127.0.0.1) goes through the service's routers and endpoints to the endpoint's Lua function, run as a
plain process of the world, so a handler that spawns a workflow starts it in the test's world. Any other
URL must match a route fake of the test (`HttpRoutes`); an unrouted call is an error naming the URL, and
no call ever reaches the network.

Follows service/http (router.go: patterns as Go's ServeMux reads them, an automatic OPTIONS route per
path; factory.go: what a handler's outcome becomes) and service/http/middleware/cors/cors.go.
"""

from __future__ import annotations

import fnmatch
import json as jsonlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from wftest.app import App, LuaEntry
from wftest.errors import UserError
from wftest.history.failures import ErrorInfo

if TYPE_CHECKING:
    from wftest.sim.world import World

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})
SERVICE = "http.service"
ROUTER = "http.router"
ENDPOINT = "http.endpoint"
REMOTE_ADDR = "127.0.0.1:49152"
IMPLEMENTED_MIDDLEWARE = ("cors",)


class HttpError(UserError):
    """A mistake to stop at: an unrouted call, a router wftest cannot serve, a handler that never
    answers. Raised to the test (or as a Lua error at the calling line)."""


def canonical(name: str) -> str:
    """A header name as Go writes it (textproto.CanonicalMIMEHeaderKey): each dash-separated word
    capitalised."""
    if not name or any(c in name for c in " \t\r\n:"):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


class Headers(dict[str, list[str]]):
    """Header values by canonical name, as Go's http.Header holds them."""

    def set(self, name: str, value: str) -> None:
        self[canonical(name)] = [value]

    def add(self, name: str, value: str) -> None:
        self.setdefault(canonical(name), []).append(value)

    def first(self, name: str) -> str | None:
        values = self.get(canonical(name))
        return values[0] if values else None

    def copy(self) -> Headers:
        return Headers({k: list(v) for k, v in self.items()})


@dataclass
class HttpRequest:
    """A request as a handler or a route fake sees it."""

    method: str
    url: str
    headers: Headers
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k, v in parse_qsl(urlsplit(self.url).query, keep_blank_values=True):
            out.setdefault(k, []).append(v)
        return out

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)


@dataclass
class HttpResponse:
    """What a call got back: status, headers (values by canonical name; `header(name)` gives the first
    value of any spelling), body."""

    status: int
    headers: Headers
    body: bytes
    url: str = ""
    method: str = ""
    failure: str | None = None  # the handler's error (with its Lua file:line) when it failed

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.first(name)

    def __repr__(self) -> str:
        where = f" {self.method} {self.url}" if self.method else ""
        tail = f": handler failed: {self.failure}" if self.failure else f": {self.body[:120]!r}"
        return f"<HttpResponse {self.status}{where}{tail}>"


# ---------------------------------------------------------------------------------------------------
# Route fakes


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


class NetworkError(Exception):
    """A fake's `error=`: the call fails as a network error would (http_client returns nil, err)."""


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


def sniff(body: bytes) -> str:
    """The Content-Type Go's server picks for a body nobody typed (a short form of DetectContentType)."""
    head = body[:512].lstrip(b"\t\n\x0c\r ").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<p", b"<div")):
        return "text/html; charset=utf-8"
    if head.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    if head.startswith(b"%pdf-"):
        return "application/pdf"
    if head.startswith(b"\x89png"):
        return "image/png"
    if any(b < 0x20 and b not in b"\t\n\x0c\r\x1b" for b in body[:512]):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


# ---------------------------------------------------------------------------------------------------
# The app's service


@dataclass(frozen=True)
class _Pattern:
    method: str
    segments: tuple[str, ...]
    subtree: bool  # ends in "/" (or "{x...}"): matches everything below

    @classmethod
    def parse(cls, method: str, path: str) -> _Pattern:
        subtree = path.endswith("/")
        parts = [p for p in path.strip("/").split("/") if p != ""] if path != "/" else []
        if parts and parts[-1].startswith("{") and parts[-1].endswith("...}"):
            subtree = True
        return cls(method, tuple(parts), subtree or path == "/")

    def match(self, path: str) -> dict[str, str] | None:
        parts = [p for p in path.split("/")[1:]]
        if parts and parts[-1] == "" and not self.subtree:
            return None
        parts = [p for p in parts if p != ""] if self.subtree else parts
        params: dict[str, str] = {}
        for i, seg in enumerate(self.segments):
            if seg.startswith("{") and seg.endswith("...}"):
                params[seg[1:-4]] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                if parts[i] == "":
                    return None
                params[seg[1:-1]] = parts[i]
            elif seg != parts[i]:
                return None
        if len(parts) > len(self.segments) and not self.subtree:
            return None
        return params

    def specificity(self) -> tuple[int, int, int]:
        literals = sum(1 for s in self.segments if not s.startswith("{"))
        return (0 if self.subtree else 1, len(self.segments), literals)

    def allows(self, method: str) -> bool:
        return self.method == method or (self.method == "GET" and method == "HEAD")


@dataclass
class _Router:
    entry_id: str
    prefix: str
    middleware: tuple[str, ...]
    options: dict[str, str]


@dataclass
class _Route:
    pattern: _Pattern
    router: _Router
    endpoint_id: str  # "" for the automatic OPTIONS route
    func_id: str
    service_id: str


@dataclass
class _Service:
    entry_id: str
    host: str
    port: int
    routes: list[_Route]


def _ref(namespace: str, name: str) -> str:
    return name if ":" in name else f"{namespace}:{name}"


def _parse_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return host, 80


def _build_services(app: App) -> list[_Service]:
    services: dict[str, _Service] = {}
    for e in app.entries.values():
        if e.kind == SERVICE:
            host, port = _parse_addr(str(e.config.get("addr", ":80")))
            services[e.id] = _Service(e.id, host, port, [])
    routers: dict[str, tuple[_Router, _Service | None]] = {}
    for e in app.entries.values():
        if e.kind == ROUTER:
            server = str(e.meta.get("server", ""))
            service = services.get(_ref(e.namespace, server)) if server else None
            if service is None and not server and len(services) == 1:
                service = next(iter(services.values()))
            options = {str(k): str(v) for k, v in dict(e.config.get("options") or {}).items()}
            middleware = tuple(str(m) for m in e.config.get("middleware") or ())
            routers[e.id] = (_Router(e.id, str(e.config.get("prefix", "/")), middleware, options), service)
    for e in sorted(app.entries.values(), key=lambda x: x.id):
        if e.kind != ENDPOINT:
            continue
        router_ref = str(e.meta.get("router", ""))
        found = routers.get(_ref(e.namespace, router_ref)) if router_ref else None
        if found is None and not router_ref and len(routers) == 1:
            found = next(iter(routers.values()))
        if found is None or found[1] is None:
            continue
        router, service = found
        if service is None:
            continue
        path = str(e.config.get("path", ""))
        path = "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in path.split("/"))
        full = router.prefix.rstrip("/") + path
        method = str(e.config.get("method", "GET")).upper()
        service.routes.append(
            _Route(
                _Pattern.parse(method, full),
                router,
                e.id,
                _ref(e.namespace, str(e.config.get("func", ""))),
                service.entry_id,
            )
        )
        if method != "OPTIONS" and not any(
            r.endpoint_id == "" and r.pattern == _Pattern.parse("OPTIONS", full) for r in service.routes
        ):
            service.routes.append(_Route(_Pattern.parse("OPTIONS", full), router, "", "", service.entry_id))
    return list(services.values())


# ---------------------------------------------------------------------------------------------------
# One request in flight


class Exchange:
    """A request being handled and the response being written (Go's Request + ResponseWriter)."""

    def __init__(self, request: HttpRequest, params: Mapping[str, str], route: _Route | None) -> None:
        self.request = request
        self.params = dict(params)
        self.route = route
        self.header = Headers()  # what the handler sets (Go's w.Header())
        self.sent: Headers | None = None  # the header snapshot once written
        self.status = 200
        self.chunks: list[bytes] = []
        self.handled = False
        self.body_read = False

    def write_header(self, code: int) -> None:
        if self.sent is None:
            self.status = code
            self.sent = self.header.copy()

    def write(self, data: bytes) -> None:
        if self.sent is None:
            self.write_header(200)
        sent = self.sent
        if (
            not self.chunks
            and data
            and sent is not None
            and not ({"Content-Type", "Transfer-Encoding"} & set(sent))
        ):
            sent.set("Content-Type", sniff(data))  # Go sniffs the first write of an untyped body
        self.chunks.append(data)

    def read_body(self) -> bytes:
        """The body, once (a second read gets nothing, as reading a consumed Go body does)."""
        if self.body_read:
            return b""
        self.body_read = True
        return self.request.body

    def error(self, message: str, status: int = 500) -> None:
        """Go's http.Error: plain text, no sniffing, the message and a newline."""
        self.header.pop("Content-Length", None)
        self.header.set("Content-Type", "text/plain; charset=utf-8")
        self.header.set("X-Content-Type-Options", "nosniff")
        self.write_header(status)
        self.chunks.append(message.encode() + b"\n")

    def response(self, failure: str | None = None) -> HttpResponse:
        if self.sent is None:
            self.write_header(self.status)
        headers = (self.sent or Headers()).copy()
        body = b"".join(self.chunks)
        chunked = "chunked" in headers.pop("Transfer-Encoding", [])
        if not chunked and self.request.method != "HEAD":
            headers.setdefault("Content-Length", [str(len(body))])
        return HttpResponse(
            self.status,
            headers,
            b"" if self.request.method == "HEAD" else body,
            self.request.url,
            self.request.method,
            failure,
        )


def _cors(exchange: Exchange, options: Mapping[str, str]) -> bool:
    """The cors middleware (service/http/middleware/cors/cors.go); True when it answered (preflight)."""

    def option(new: str, legacy: str, default: str) -> str:
        value = options.get(new, options.get(legacy, ""))
        return value or default

    allow_origins = option("cors.allow.origins", "allow_origins", "*")
    methods = option("cors.allow.methods", "allow_methods", "GET,POST,PUT,DELETE,OPTIONS,PATCH")
    allow_headers = option(
        "cors.allow.headers", "allow_headers", "Origin,Content-Type,Accept,Authorization,X-Requested-With"
    )
    expose = option("cors.expose.headers", "expose_headers", "")
    credentials = option("cors.allow.credentials", "allow_credentials", "false")
    max_age = option("cors.max.age", "max_age", "86400")
    private = options.get("cors.allow.private.network", options.get("allow_private_network", "")) == "true"
    origins = [p.strip() for p in allow_origins.split(",") if p.strip()]
    check = allow_origins != "*"

    def allowed(origin: str) -> bool:
        for a in origins:
            if a == "*" or a == origin:
                return True
            if a.startswith("*.") and origin.endswith(a[1:]) and len(origin) > len(a) - 1:
                return True
            if a == "localhost" and (
                origin.startswith(("http://localhost:", "https://localhost:"))
                or origin in ("http://localhost", "https://localhost")
            ):
                return True
        return False

    request = exchange.request
    origin = request.headers.first("Origin") or ""
    h = exchange.header
    if request.method == "OPTIONS" and request.headers.first("Access-Control-Request-Method"):
        if not origin or (check and not allowed(origin)):
            return False
        h.set("Access-Control-Allow-Origin", origin)
        h.set("Access-Control-Allow-Methods", methods)
        if allow_headers:
            h.set("Access-Control-Allow-Headers", allow_headers)
        if max_age:
            h.set("Access-Control-Max-Age", max_age)
        if credentials == "true":
            h.set("Access-Control-Allow-Credentials", "true")
        if private:
            h.set("Access-Control-Allow-Private-Network", "true")
        h.set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        exchange.write_header(204)
        return True
    if origin and (not check or allowed(origin)):
        h.set("Access-Control-Allow-Origin", origin)
        if expose:
            h.set("Access-Control-Expose-Headers", expose)
        if credentials == "true":
            h.set("Access-Control-Allow-Credentials", "true")
        if private:
            h.set("Access-Control-Allow-Private-Network", "true")
        h.set("Vary", "Origin")
    return False


# ---------------------------------------------------------------------------------------------------


class WorldHttp:
    """HTTP as one world sees it: its app's services and the test's route fakes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.app = world.app
        self.routes = HttpRoutes()
        self.services = _build_services(world.app)
        self.exchanges: dict[int, Exchange] = {}  # by id() of the handler's sandbox
        self.failures: list[str] = []  # handler failures, for the test's report
        self._handlers = 0

    # -- addresses ---------------------------------------------------------------------------------

    def base_url(self) -> str:
        """The URL of the app's (first) service, for the test client."""
        if not self.services:
            raise HttpError("the app has no http.service entry: nothing to call in-process")
        s = self.services[0]
        return f"http://localhost:{s.port}"

    def _service_for(self, url: str) -> _Service | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return None
        host = (parts.hostname or "").lower()
        for s in self.services:
            if s.port == port and (host in LOCAL_HOSTS or host == s.host.lower()):
                return s
        return None

    # -- the one entry point -----------------------------------------------------------------------

    def fetch(self, request: HttpRequest, *, nested: bool) -> HttpResponse:
        """Answer `request`: a route fake, else the app's own service; else an HttpError naming it.
        `nested`: called from inside running Lua (the handler must then finish without waiting)."""
        fake = self.routes.find(request.method, request.url)
        if fake is not None:
            return self.routes.serve(fake, request)
        service = self._service_for(request.url)
        if service is None:
            self.routes.unrouted.append(f"{request.method} {request.url}")
            own = ", ".join(f"http://localhost:{s.port}" for s in self.services) or "none"
            raise HttpError(
                f"no route for {request.method} {request.url}: it is not the app's own service ({own}) "
                "and the test has no route fake for it (wippy.http_routes.add(method, url, ...)); "
                "wftest never calls the network"
            )
        return self._serve(service, request, nested)

    def _serve(self, service: _Service, request: HttpRequest, nested: bool) -> HttpResponse:
        path = request.path
        matched = [(r, p) for r in service.routes if (p := r.pattern.match(path)) is not None]
        fitting = [(r, p) for r, p in matched if r.pattern.allows(request.method)]
        if not fitting:
            exchange = Exchange(request, {}, None)
            if matched:
                allow = sorted(
                    {r.pattern.method for r, _ in matched}
                    | ({"HEAD"} if any(r.pattern.method == "GET" for r, _ in matched) else set())
                )
                exchange.header.set("Allow", ", ".join(allow))
                exchange.error("Method Not Allowed", 405)
            else:
                exchange.error("404 page not found", 404)
            return exchange.response()
        route, params = max(fitting, key=lambda rp: rp[0].pattern.specificity())
        exchange = Exchange(request, params, route)
        for name in route.router.middleware:
            if name not in IMPLEMENTED_MIDDLEWARE:
                raise HttpError(
                    f"router {route.router.entry_id} uses middleware '{name}', which wftest does not "
                    f"implement (it serves: {', '.join(IMPLEMENTED_MIDDLEWARE)})"
                )
        if "cors" in route.router.middleware and _cors(exchange, route.router.options):
            return exchange.response()
        if not route.endpoint_id:  # the automatic OPTIONS route
            exchange.write_header(204)
            return exchange.response()
        return self._run_handler(route, exchange, nested)

    def _run_handler(self, route: _Route, exchange: Exchange, nested: bool) -> HttpResponse:
        from wftest.lua.compiler import CompileError
        from wftest.lua.sandbox import LoadError, LuaFailure, NoHostError

        entry = self.app.entries.get(route.func_id)
        if not isinstance(entry, LuaEntry) or not entry.kind.startswith("function."):
            what = "not an entry of the app" if entry is None else f"a {entry.kind} entry"
            raise HttpError(
                f"endpoint {route.endpoint_id} calls '{route.func_id}', which is {what}, not a function entry"
            )
        try:
            # a plain process of the world, so what it spawns runs there and can message it
            process = self.world.processes.start(entry, (), host=route.service_id)
        except (LuaFailure, LoadError, NoHostError, CompileError) as exc:
            return self._failed(exchange, route, str(exc))
        key = id(process.sb)
        self.exchanges[key] = exchange
        try:
            process.step()
            if not process.run.closed and not nested:
                world = self.world
                while not process.run.closed and (due := world.agenda.next_due()) is not None:
                    world.advance(due - world.now_ns)
            run = process.run
            if not run.closed:
                waiting = process.proc.waiting() or "something that never comes"
                process.kill(ErrorInfo("Canceled", "the HTTP handler never answered", False))
                how = (
                    "a handler called from Lua must answer without waiting"
                    if nested
                    else "nothing left in the test's world can wake it"
                )
                raise HttpError(
                    f"endpoint {route.endpoint_id} ({entry.id}) never answered: it waits on {waiting}; {how}"
                )
        finally:
            self.exchanges.pop(key, None)
        if run.status == "failed":
            return self._failed(exchange, route, str(run.failure))
        if exchange.handled:
            return exchange.response()
        if run.error is not None:
            return self._failed(exchange, route, str(run.error))
        if run.result is not None:
            exchange.header.set("Content-Type", "application/json")
            exchange.write(jsonlib.dumps(run.result, separators=(",", ":")).encode())
            return exchange.response()
        exchange.error("no response sent")
        return exchange.response()

    def _failed(self, exchange: Exchange, route: _Route, message: str) -> HttpResponse:
        self.failures.append(f"{route.endpoint_id}: {message}")
        if not exchange.handled:
            exchange.error(message)
        return exchange.response(failure=message)


def new_request(
    method: str, url: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> HttpRequest:
    """A request as Go's client puts it on the wire: canonical header names, Host, User-Agent,
    Content-Length when there is a body."""
    h = Headers()
    for k, v in headers:
        h.add(k, v)
    h.setdefault("User-Agent", ["Go-http-client/1.1"])
    h.setdefault("Accept-Encoding", ["gzip"])
    if body:
        h.set("Content-Length", str(len(body)))
    return HttpRequest(method.upper(), url, h, body)
