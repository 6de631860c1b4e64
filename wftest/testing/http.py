"""The test client on the `wippy` fixture: `await wippy.http.post("/orders", json=...)` calls the app's
endpoints in-process, the way `http_client` calls from Lua reach them (wftest.sim.http)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from wftest.sim.http import WorldHttp
from wftest.sim.http_messages import HttpResponse, new_request


class HttpClient:
    """Requests to the app's own HTTP service. A path ("/orders") goes to the app's service; a full URL
    goes wherever `http_client` would send it (the app's service or a route fake). Each call runs the
    endpoint's handler, and whatever it starts, on the test's virtual clock until the handler answers."""

    def __init__(self, web: WorldHttp) -> None:
        self._web = web

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: bytes | str | Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; its response (status, headers, body, json(); `failure` when the handler
        raised). JSON bodies get `Content-Type: application/json`, dict `data` is sent as a form."""
        if json is not None and data is not None:
            raise ValueError("give json= or data=, not both")
        target = url if "://" in url else self._web.base_url() + ("" if url.startswith("/") else "/") + url
        if params:
            parts = urlsplit(target)
            query = "&".join(q for q in (parts.query, urlencode({k: str(v) for k, v in params.items()})) if q)
            target = urlunsplit(parts._replace(query=query))
        pairs = [(k, str(v)) for k, v in (headers or {}).items()]
        named = {k.lower() for k, _ in pairs}
        body = b""
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            if "content-type" not in named:
                pairs.append(("Content-Type", "application/json"))
        elif isinstance(data, Mapping):
            body = urlencode({k: str(v) for k, v in data.items()}).encode()
            if "content-type" not in named:
                pairs.append(("Content-Type", "application/x-www-form-urlencoded"))
        elif data is not None:
            body = data.encode() if isinstance(data, str) else bytes(data)
        return self._web.fetch(new_request(method, target, pairs, body), nested=False)

    async def get(self, url: str, **kw: Any) -> HttpResponse:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> HttpResponse:
        return await self.request("POST", url, **kw)

    async def put(self, url: str, **kw: Any) -> HttpResponse:
        return await self.request("PUT", url, **kw)

    async def patch(self, url: str, **kw: Any) -> HttpResponse:
        return await self.request("PATCH", url, **kw)

    async def delete(self, url: str, **kw: Any) -> HttpResponse:
        return await self.request("DELETE", url, **kw)

    async def options(self, url: str, **kw: Any) -> HttpResponse:
        return await self.request("OPTIONS", url, **kw)

    def __repr__(self) -> str:
        return f"<HttpClient {self._web.base_url() if self._web.services else '(no http.service)'}>"
