"""HTTP messages as Go's net/http shapes them: canonical headers, requests, responses, the response a
handler writes (`Exchange`), and the content type Go sniffs for an untyped body."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from wftest.errors import UserError

REMOTE_ADDR = "127.0.0.1:49152"


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


class NetworkError(Exception):
    """A fake's `error=`: the call fails as a network error would (http_client returns nil, err)."""


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


class Exchange:
    """A request being handled and the response being written (Go's Request + ResponseWriter)."""

    def __init__(self, request: HttpRequest, params: Mapping[str, str]) -> None:
        self.request = request
        self.params = dict(params)  # the route's path parameters
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
