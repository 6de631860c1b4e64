"""Wippy's `http` (the handler's Request and Response) and `http_client` modules on one world's HTTP
(`wftest.sim.http`): no socket, no network.

Follows runtime/lua/modules/http (request.go, response.go: a Response refuses status, headers, content
type and transfer mode once its headers are sent; write_json types the body as JSON; write_event
switches to SSE) and runtime/lua/modules/httpclient (module.go, yields.go: the response is a table with
`status_code`, `url`, `body` when there is one, `body_size`, `headers` by first value, `cookies`, and a
`stream` with `stream = true`). The objects live in Lua (`lib/http.lua`); this file answers its
`py(op, ...)` calls.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote_plus, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

from wftest.encoding.jsontext import DecodeError, EncodeError
from wftest.lua.sandbox import Sandbox, text
from wftest.sim.http_messages import (
    REMOTE_ADDR,
    Exchange,
    HttpError,
    HttpResponse,
    NetworkError,
    new_request,
)
from wftest.sim.modules.lua_half import lua_half

if TYPE_CHECKING:
    from wftest.sim.http import WorldHttp

DEFAULT_MAX_BODY = 120 * 1024 * 1024
DEFAULT_READ = 4096
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass
class _Req:
    ex: Exchange
    max_body: int


@dataclass
class _Res:
    ex: Exchange
    headers_sent: bool = False
    transfer: str = ""


@dataclass
class _Stream:
    data: bytes
    pos: int = 0
    closed: bool = False


def _invalid(message: str) -> tuple[Any, ...]:
    return False, "Invalid", message, False


class _Session:
    """One sandbox's http objects: requests, responses and streams by handle."""

    def __init__(self, sb: Sandbox, web: WorldHttp) -> None:
        self.sb = sb
        self.web = web
        self.handles: dict[int, Any] = {}
        self.next = 0

    def dispatch(self, op: bytes, *args: Any) -> Any:
        try:
            return _OPS[op](self, *args)
        except HttpError as exc:
            return None, str(exc)
        except (LookupError, TypeError, AttributeError):  # a table forged to look like one of our objects
            return None, "invalid http object: it was not made by the http module"

    def _new(self, obj: Any) -> int:
        self.next += 1
        self.handles[self.next] = obj
        return self.next

    def _exchange(self) -> Exchange | None:
        return self.web.exchanges.get(id(self.sb))

    # -- http.request / http.response --------------------------------------------------------------

    def request(self, max_body: int) -> tuple[Any, ...]:
        ex = self._exchange()
        if ex is None:
            return False, "Internal", "no HTTP request context found", False
        return True, self._new(_Req(ex, int(max_body) if max_body and max_body > 0 else DEFAULT_MAX_BODY))

    def response(self) -> tuple[Any, ...]:
        ex = self._exchange()
        if ex is None:
            return False, "Internal", "no HTTP request context found", False
        return True, self._new(_Res(ex))

    def _req(self, h: int) -> _Req:
        req = self.handles[h]
        if not isinstance(req, _Req):
            raise TypeError
        return req

    def _res(self, h: int) -> _Res:
        res = self.handles[h]
        if not isinstance(res, _Res):
            raise TypeError
        return res

    # -- Request -----------------------------------------------------------------------------------

    def req_method(self, h: int) -> tuple[Any, ...]:
        return True, self._req(h).ex.request.method

    def req_path(self, h: int) -> tuple[Any, ...]:
        return True, self._req(h).ex.request.path

    def req_query(self, h: int, key: bytes) -> tuple[Any, ...]:
        values = self._req(h).ex.request.query.get(text(key))
        return True, values[0] if values else None

    def req_query_params(self, h: int) -> tuple[Any, ...]:
        query = self._req(h).ex.request.query
        return True, self.sb.table({k: ",".join(v) for k, v in query.items() if v})

    def req_header(self, h: int, name: bytes) -> tuple[Any, ...]:
        values = self._req(h).ex.request.headers.get(text(name))  # exact name, as Go's Header[key]
        return True, ", ".join(values) if values else None

    def req_content_type(self, h: int) -> tuple[Any, ...]:
        return True, self._req(h).ex.request.headers.first("Content-Type") or None

    def req_content_length(self, h: int) -> tuple[Any, ...]:
        return True, len(self._req(h).ex.request.body)

    def req_host(self, h: int) -> tuple[Any, ...]:
        return True, self._req(h).ex.request.host

    def req_remote_addr(self, h: int) -> tuple[Any, ...]:
        self._req(h)
        return True, REMOTE_ADDR

    def _body(self, req: _Req) -> bytes | None:
        if len(req.ex.request.body) > req.max_body:
            return None
        return req.ex.read_body()

    def req_body(self, h: int) -> tuple[Any, ...]:
        body = self._body(self._req(h))
        if body is None:
            return _invalid("request body too large")
        return True, body

    def req_body_json(self, h: int) -> tuple[Any, ...]:
        body = self._body(self._req(h))
        if body is None:
            return _invalid("request body too large")
        if not body.strip():
            return _invalid("invalid JSON: unexpected end of JSON input")
        try:
            return True, self.sb.values.decode_json(body)
        except (DecodeError, ValueError) as exc:
            return _invalid(f"invalid JSON: {exc}")

    def req_has_body(self, h: int) -> tuple[Any, ...]:
        return True, len(self._req(h).ex.request.body) > 0

    def req_accepts(self, h: int, content_type: bytes) -> tuple[Any, ...]:
        accept = self._req(h).ex.request.headers.first("Accept") or ""
        wanted = text(content_type)
        return True, any(a.strip() in (wanted, "*/*") for a in accept.split(",")) if accept else False

    def req_is_content_type(self, h: int, expected: bytes) -> tuple[Any, ...]:
        actual = self._req(h).ex.request.headers.first("Content-Type") or ""
        return True, actual.startswith(text(expected))

    def req_param(self, h: int, name: bytes) -> tuple[Any, ...]:
        return True, self._req(h).ex.params.get(text(name))

    def req_params(self, h: int) -> tuple[Any, ...]:
        return True, self.sb.table(dict(self._req(h).ex.params))

    def req_stream(self, h: int) -> tuple[Any, ...]:
        return True, self._new(_Stream(self._req(h).ex.read_body()))

    def req_tostring(self, h: int) -> tuple[Any, ...]:
        request = self._req(h).ex.request
        return True, f"http.Request{{method={request.method}, path={request.path}}}"

    # -- Response ----------------------------------------------------------------------------------

    def _unsent(self, res: _Res, what: str) -> tuple[Any, ...] | None:
        if res.headers_sent:
            return _invalid(f"cannot set {what}")
        return None

    def _mark(self, res: _Res) -> tuple[Any, ...]:
        res.headers_sent = True
        res.ex.handled = True
        return (True,)

    def res_set_status(self, h: int, code: int) -> tuple[Any, ...]:
        res = self._res(h)
        refused = self._unsent(res, "status after headers are sent")
        if refused:
            return refused
        res.ex.write_header(int(code))
        return self._mark(res)

    def res_set_header(self, h: int, name: bytes, value: bytes) -> tuple[Any, ...]:
        res = self._res(h)
        refused = self._unsent(res, "headers after they are sent")
        if refused:
            return refused
        res.ex.header.set(text(name), text(value))
        res.ex.handled = True
        return (True,)

    def res_set_content_type(self, h: int, content_type: bytes) -> tuple[Any, ...]:
        res = self._res(h)
        refused = self._unsent(res, "content type after headers are sent")
        if refused:
            return refused
        res.ex.header.set("Content-Type", text(content_type))
        return (True,)

    def res_set_transfer(self, h: int, mode: bytes) -> tuple[Any, ...]:
        res = self._res(h)
        refused = self._unsent(res, "transfer mode after headers are sent")
        if refused:
            return refused
        header = res.ex.header
        if mode == b"chunked":
            header.set("Transfer-Encoding", "chunked")
            header.set("Cache-Control", "no-cache")
        elif mode == b"sse":
            self._sse(header)
        else:
            return None, "bad argument #2 to 'set_transfer' (invalid transfer type)"
        res.transfer = text(mode)
        return (True,)

    @staticmethod
    def _sse(header: Any) -> None:
        header.set("Content-Type", "text/event-stream")
        header.set("Cache-Control", "no-cache")
        header.set("Connection", "keep-alive")

    def res_write(self, h: int, data: bytes) -> tuple[Any, ...]:
        res = self._res(h)
        res.ex.write(bytes(data))
        return self._mark(res)

    def res_flush(self, h: int) -> tuple[Any, ...]:
        res = self._res(h)
        res.ex.write_header(res.ex.status)
        return self._mark(res)

    def _json(self, value: Any) -> bytes | None:
        try:
            return self.sb.values.encode_json(value).encode()
        except (EncodeError, ValueError, TypeError):
            return None

    def res_write_json(self, h: int, value: Any) -> tuple[Any, ...]:
        res = self._res(h)
        data = self._json(value)
        if data is None:
            return _invalid("failed to encode JSON: the value cannot be encoded as JSON")
        if not res.headers_sent:
            res.ex.header.set("Content-Type", "application/json")
        res.ex.write(data)
        return self._mark(res)

    def res_write_event(self, h: int, name: bytes, data: Any) -> tuple[Any, ...]:
        res = self._res(h)
        if res.transfer != "sse":
            if res.headers_sent:
                return _invalid("cannot switch to SSE mode after headers are sent")
            self._sse(res.ex.header)
            res.transfer = "sse"
        encoded = self._json(data)
        if encoded is None:
            return _invalid("failed to marshal event data: the value cannot be encoded as JSON")
        res.ex.write(b"event: " + bytes(name) + b"\ndata: " + encoded + b"\n\n")
        return self._mark(res)

    # -- streams -----------------------------------------------------------------------------------

    def stream_read(self, h: int, size: Any) -> tuple[Any, ...]:
        stream = self.handles[h]
        if not isinstance(stream, _Stream):
            raise TypeError
        if stream.closed:
            return _invalid("stream is closed")
        n = int(size) if size is not None and size > 0 else DEFAULT_READ
        if stream.pos >= len(stream.data):
            return True, None
        chunk = stream.data[stream.pos : stream.pos + n]
        stream.pos += len(chunk)
        return True, chunk

    def stream_close(self, h: int) -> tuple[Any, ...]:
        stream = self.handles[h]
        if not isinstance(stream, _Stream):
            raise TypeError
        stream.closed = True
        return True, True

    # -- http_client -------------------------------------------------------------------------------

    def client(
        self,
        method: bytes,
        url: bytes,
        headers: Any,
        nh: int,
        body: bytes | None,
        query: Any,
        nq: int,
        form: Any,
        nf: int,
        cookies: Any,
        nc: int,
        user: Any,
        password: Any,
        stream: bool,
        files: bool,
        unix_socket: Any,
    ) -> tuple[Any, ...]:
        if files:
            raise HttpError("http_client: file uploads (files = ...) are not implemented by wftest")
        if unix_socket is not None:
            raise HttpError("http_client: unix_socket requests are not implemented by wftest")
        pairs = _pairs(headers, nh)
        target = text(url)
        verb = text(method).upper()
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return (
                False,
                "Internal",
                f'{verb.title()} "{target}": unsupported protocol scheme "{parts.scheme}"',
                True,
            )
        extra_query = _pairs(query, nq)
        if extra_query:
            merged = dict(parse_qsl(parts.query, keep_blank_values=True))
            merged.update(extra_query)
            target = urlunsplit(parts._replace(query=urlencode(sorted(merged.items()))))
        payload = bytes(body) if body is not None else b""
        form_pairs = _pairs(form, nf)
        if form_pairs:
            payload = urlencode(sorted(form_pairs)).encode()
            if not any(k.lower() == "content-type" for k, _ in pairs):
                pairs.append(("Content-Type", "application/x-www-form-urlencoded"))
        cookie_pairs = _pairs(cookies, nc)
        if cookie_pairs:
            pairs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookie_pairs)))
        if user is not None:
            token = base64.b64encode(f"{text(user)}:{text(password or b'')}".encode()).decode()
            pairs.append(("Authorization", f"Basic {token}"))
        request = new_request(verb, target, pairs, payload)
        try:
            response = self._follow(request)
        except NetworkError as exc:
            return False, "Internal", f'{verb.title()} "{target}": {exc}', True
        return True, self._client_response(response, bool(stream))

    def _follow(self, request: Any) -> HttpResponse:
        """Send, following redirects as Go's client does (at most 10)."""
        for _ in range(10):
            response = self.web.fetch(request, nested=True)
            location = response.headers.first("Location")
            if response.status not in REDIRECTS or not location:
                return response
            method, body = request.method, request.body
            if response.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, body = "GET", b""
            kept = [(k, v) for k, vs in request.headers.items() for v in vs if k not in ("Content-Length",)]
            request = new_request(method, urljoin(request.url, location), kept, body)
        raise NetworkError("stopped after 10 redirects")

    def _client_response(self, response: HttpResponse, stream: bool) -> Any:
        out: dict[str, Any] = {"status_code": response.status, "url": response.url}
        if stream:
            out["_stream"] = self._new(_Stream(response.body))
            out["body_size"] = -1
        else:
            if response.body:
                out["body"] = response.body
            out["body_size"] = len(response.body)
        if response.headers:
            out["headers"] = {k: v[0] for k, v in response.headers.items() if v}
        cookies = {}
        for line in response.headers.get("Set-Cookie", []):
            name, _, rest = line.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0].strip()
        if cookies:
            out["cookies"] = cookies
        return self.sb.table(out)

    def encode_uri(self, s: bytes) -> tuple[Any, ...]:
        return True, quote_plus(bytes(s), safe="")

    def decode_uri(self, s: bytes) -> tuple[Any, ...]:
        raw = text(s)
        bad = re.search(r"%(?![0-9A-Fa-f]{2})", raw)
        if bad is not None:
            return False, f'invalid URL escape "{raw[bad.start() : bad.start() + 3]}"'
        return True, unquote_plus(raw).encode("utf-8", "surrogateescape")


def _pairs(flat: Any, n: int) -> list[tuple[str, str]]:
    return [(text(flat[i]), text(flat[i + 1])) for i in range(1, int(n) + 1, 2)]


_OPS: dict[bytes, Callable[..., Any]] = {
    name.encode(): getattr(_Session, name)
    for name in dir(_Session)
    if name.startswith(("req_", "res_", "stream_"))
    or name in ("request", "response", "client", "encode_uri", "decode_uri")
}


def _open(sb: Sandbox, web: WorldHttp) -> Any:
    session = _Session(sb, web)
    return lua_half(sb, "http.lua", session.dispatch)


def open_http(sb: Sandbox, web: WorldHttp) -> Any:
    """The `http` module of one sandbox: the request its handler serves, if it serves one."""
    return _open(sb, web).http


def open_http_client(sb: Sandbox, web: WorldHttp) -> Any:
    """The `http_client` module of one sandbox, on `web`'s services and route fakes."""
    return _open(sb, web).client
