"""HTTP inside one world: which requests go to a route fake and which to the app's own `http.service`,
and the way through that service's routers, middleware and endpoints.

`http_client` calls (from activities, processes, handlers) and the test client (`wippy.http`) both come
here. A URL on the app's own service address (`addr: ":8085"` → `http://localhost:8085/...`, also
127.0.0.1) goes through the service's routers and endpoints to the endpoint's Lua function, which
`http_handlers.py` runs as a plain process of the world, so a handler that spawns a workflow starts it in
the test's world. Any other URL must match a route fake of the test (`http_fakes.py`); an unrouted call
is an error naming the URL, and no call ever reaches the network.

Follows service/http (router.go: patterns as Go's ServeMux reads them, an automatic OPTIONS route per
path; factory.go: what a handler's outcome becomes) and service/http/middleware/cors/cors.go.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from wftest.app import App
from wftest.sim.http_fakes import HttpRoutes
from wftest.sim.http_messages import Exchange, HttpError, HttpRequest, HttpResponse

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", ""})
SERVICE = "http.service"
ROUTER = "http.router"
ENDPOINT = "http.endpoint"
IMPLEMENTED_MIDDLEWARE = ("cors",)


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
class Route:
    """An endpoint of a service under its router's prefix (or the automatic OPTIONS route of a path)."""

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
    routes: list[Route]


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
            Route(
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
            service.routes.append(Route(_Pattern.parse("OPTIONS", full), router, "", "", service.entry_id))
    return list(services.values())


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

    def grant() -> None:  # what an allowed preflight and an allowed request both carry
        if credentials == "true":
            h.set("Access-Control-Allow-Credentials", "true")
        if private:
            h.set("Access-Control-Allow-Private-Network", "true")
    if request.method == "OPTIONS" and request.headers.first("Access-Control-Request-Method"):
        if not origin or (check and not allowed(origin)):
            return False
        h.set("Access-Control-Allow-Origin", origin)
        h.set("Access-Control-Allow-Methods", methods)
        if allow_headers:
            h.set("Access-Control-Allow-Headers", allow_headers)
        if max_age:
            h.set("Access-Control-Max-Age", max_age)
        grant()
        h.set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        exchange.write_header(204)
        return True
    if origin and (not check or allowed(origin)):
        h.set("Access-Control-Allow-Origin", origin)
        if expose:
            h.set("Access-Control-Expose-Headers", expose)
        grant()
        h.set("Vary", "Origin")
    return False


# ---------------------------------------------------------------------------------------------------


class WorldHttp(ABC):
    """HTTP as one world sees it: its app's services and the test's route fakes. Where an endpoint's
    handler runs is the subclass's part (`wftest.sim.http_handlers`)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.routes = HttpRoutes()
        self.services = _build_services(app)
        self.exchanges: dict[int, Exchange] = {}  # by id() of the handler's sandbox
        self.failures: list[str] = []  # handler failures, for the test's report

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
            exchange = Exchange(request, {})
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
        exchange = Exchange(request, params)
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

    @abstractmethod
    def _run_handler(self, route: Route, exchange: Exchange, nested: bool) -> HttpResponse:
        """Run the endpoint's Lua function for `exchange` until it answers; the response it wrote."""

    def _failed(self, exchange: Exchange, route: Route, message: str) -> HttpResponse:
        self.failures.append(f"{route.endpoint_id}: {message}")
        if not exchange.handled:
            exchange.error(message)
        return exchange.response(failure=message)
