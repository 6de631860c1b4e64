"""HTTP in-process: the app's endpoints served without a socket, to `http_client` and to the test client
`wippy.http`; route fakes for every other address; the seed page's HTTP-handler example end to end.

Fidelity follows runtime/lua/modules/http (request.go, response.go), runtime/lua/modules/httpclient
(yields.go: the response table), service/http (router.go: ServeMux patterns and the automatic OPTIONS
route; factory.go: what a handler's error or return value becomes) and middleware/cors/cors.go.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from wftest import load_app
from wftest.sim.http_fakes import HttpReply
from wftest.sim.http_messages import HttpError, HttpRequest, canonical, sniff
from wftest.testing import Wippy

pytest_plugins = ["pytester"]

APP = pytest.mark.wippy_app("../../fixtures/http")


def test_canonical_header_names_follow_go() -> None:
    # net/textproto CanonicalMIMEHeaderKey
    assert canonical("x-request-id") == "X-Request-Id"
    assert canonical("CONTENT-TYPE") == "Content-Type"
    assert canonical("bad name") == "bad name"


def test_untyped_bodies_are_sniffed_like_go() -> None:
    assert sniff(b"some data") == "text/plain; charset=utf-8"
    assert sniff(b"<html><body>") == "text/html; charset=utf-8"
    assert sniff(b"\x00\x01") == "application/octet-stream"


@APP
async def test_the_seed_page_handler_starts_the_workflow_then_refuses_the_duplicate(wippy: Wippy) -> None:
    first = await wippy.http.post("/api/orders", json={"id": "42"}, headers={"X-Request-Id": "req-1"})
    assert first.status == 202, first
    # set_status sends the headers, so write_json no longer types the body: Go sniffs it as text
    assert first.headers["Content-Type"] == ["text/plain; charset=utf-8"]
    body = first.json()
    assert body["status"] == "started" and body["workflow_id"] == wippy.get("order-42").pid
    again = await wippy.http.post("/api/orders", json={"id": "42"})
    assert again.status == 409
    assert "order-42" in again.json()["error"]
    # the workflow runs in the test's world, with the handler's context
    assert await wippy.get("order-42").result() == {"status": "shipped", "id": "42", "request_id": "req-1"}


@APP
async def test_the_example_as_printed_fails_with_500_and_its_lua_line(wippy: Wippy) -> None:
    # http.Response has set_status/write_json, not status/json: the call errors, Wippy answers 500
    response = await wippy.http.post("/api/orders-as-printed", json={"id": "9"})
    assert response.status == 500
    assert response.failure is not None and "as_printed.lua:17:" in response.failure
    assert "as_printed.lua:17:" in response.text and "as_printed.lua:17:" in repr(response)
    assert response.headers["Content-Type"] == ["text/plain; charset=utf-8"]


@APP
async def test_a_raising_handler_is_a_500_naming_file_and_line(wippy: Wippy) -> None:
    response = await wippy.http.get("/api/boom")
    assert response.status == 500 and "handlers.lua:56:" in (response.failure or "")


@APP
async def test_route_params_query_and_a_returned_value_as_json(wippy: Wippy) -> None:
    response = await wippy.http.get("/api/orders/abc", params={"verbose": "yes"})
    assert response.status == 200
    assert response.json() == {"id": "abc", "verbose": "yes"}
    assert response.header("content-type") == "application/json"


@APP
async def test_unknown_paths_and_methods_answer_as_go_servemux(wippy: Wippy) -> None:
    missing = await wippy.http.get("/api/nope")
    assert (missing.status, missing.text) == (404, "404 page not found\n")
    wrong = await wippy.http.delete("/api/orders")
    assert wrong.status == 405 and wrong.header("Allow") == "OPTIONS, POST"
    preflight = await wippy.http.options("/api/orders")
    assert preflight.status == 204  # the router's automatic OPTIONS route


@APP
async def test_http_client_from_a_process_reaches_the_endpoints(wippy: Wippy) -> None:
    result = await wippy.run_process("app:caller")
    assert result["created"] == 202 and result["again"] == 409
    assert (result["missing"], result["wrong"], result["allow"]) == (404, 405, "OPTIONS, POST")
    assert result["workflow_id"] == wippy.get("order-7").pid


@APP
async def test_a_handler_may_wait_on_the_virtual_clock_for_the_test_client(wippy: Wippy) -> None:
    response = await wippy.http.get("/api/slow")
    assert (response.status, response.text) == (200, "done")
    assert wippy.elapsed.total_seconds() == 2


@APP
async def test_a_handler_called_from_lua_must_answer_without_waiting(wippy: Wippy) -> None:
    with pytest.raises(Exception, match=r"endpoint app:slow.endpoint .* never answered: it waits on"):
        await wippy.run_process("app:caller", "slow")


@APP
async def test_route_fakes_answer_other_addresses_and_count_calls(wippy: Wippy) -> None:
    seen: list[HttpRequest] = []

    def rate(request: HttpRequest) -> Any:
        seen.append(request)
        return {"rate": 0.9}

    route = wippy.http_routes.get("https://rates.example.com/usd", rate)
    unused = wippy.http_routes.post(re.compile(r"https://hooks\.example\.com/.*"), status=204)
    response = await wippy.http.get("/api/quote")
    assert response.json() == {"rate": 0.9, "own": "7"}
    route.assert_called_once()
    assert seen[0].query == {"to": ["eur"]} and seen[0].headers["User-Agent"] == ["Go-http-client/1.1"]
    unused.assert_not_called()
    with pytest.raises(AssertionError, match="never called: POST https://hooks"):
        wippy.http_routes.assert_all_called()
    with pytest.raises(AssertionError, match="was never called"):
        unused.assert_called()


@APP
async def test_a_fake_network_error_reaches_lua_as_an_error(wippy: Wippy) -> None:
    wippy.http_routes.get("https://rates.example.com/*", error="connection refused")
    response = await wippy.http.get("/api/quote")
    assert response.status == 502
    assert response.json()["error"] == 'Get "https://rates.example.com/usd?to=eur": connection refused'


@APP
async def test_an_unrouted_call_names_the_url(wippy: Wippy) -> None:
    response = await wippy.http.get("/api/quote")
    assert response.status == 500
    assert "no route for GET https://rates.example.com/usd?to=eur" in (response.failure or "")
    assert "handlers.lua:38:" in (response.failure or "")
    assert wippy.http_routes.unrouted == ["GET https://rates.example.com/usd?to=eur"]
    with pytest.raises(HttpError, match="no route for GET http://elsewhere.test/x"):
        await wippy.http.get("http://elsewhere.test/x")


@APP
async def test_fake_replies_take_several_shapes(wippy: Wippy) -> None:
    wippy.http_routes.get("https://a.test/text", body="hi", headers={"x-one": "1"})
    wippy.http_routes.get("https://a.test/reply", lambda r: HttpReply(201, json=[1]))
    wippy.http_routes.get("https://a.test/tuple", lambda r: (418, "teapot"))
    text = await wippy.http.get("https://a.test/text")
    assert (text.status, text.text, text.header("X-One")) == (200, "hi", "1")
    assert (await wippy.http.get("https://a.test/reply")).json() == [1]
    assert (await wippy.http.get("https://a.test/tuple")).status == 418


@pytest.mark.wippy_app("../../fixtures/needs_http")
async def test_the_test_client_needs_a_service(wippy: Wippy) -> None:
    with pytest.raises(HttpError, match="no http.service entry"):
        await wippy.http.get("/x")


@APP
async def test_the_request_as_a_handler_reads_it(wippy: Wippy) -> None:
    # request.go: header() looks the exact (canonical) name up; the body reads once; params of {rest...}
    response = await wippy.http.post(
        "/api/inspect/a/b?x=1&x=2&y=",
        data='{"k":1}',
        headers={
            "x-trace": "t1",
            "Content-Type": "application/json",
            "Accept": "text/html, application/json",
        },
    )
    seen = response.json()
    assert seen["method"] == "POST" and seen["path"] == "/api/inspect/a/b"
    assert (seen["host"], seen["remote"]) == ("localhost:8080", "127.0.0.1:49152")
    assert seen["query"] == {"x": "1,2", "y": ""}
    assert seen["exact_header"] == "t1" and "lower_header" not in seen
    assert (seen["content_type"], seen["length"], seen["has_body"]) == ("application/json", 7, True)
    assert seen["accepts_json"] is True and seen["is_json"] is True
    assert seen["params"] == {"rest": "a/b"} and seen["rest"] == "a/b"
    assert seen["text"] == "http.Request{method=POST, path=/api/inspect/a/b}"
    assert (seen["body"], seen["second_read"], seen["json_err"]) == ('{"k":1}', "", "Invalid")
    assert response.header("X-One") == "1" and response.header("Content-Type") == "application/json"


@APP
async def test_a_response_refuses_headers_once_written(wippy: Wippy) -> None:
    # response.go: status, headers, content type and a switch to SSE are refused after the first write
    response = await wippy.http.get("/api/late")
    assert response.status == 200 and response.header("X-Late") is None
    assert response.text == (
        "a|Invalid:cannot set status after headers are sent|cannot set headers after they are sent"
        "|cannot set content type after headers are sent|cannot switch to SSE mode after headers are sent"
    )


@APP
async def test_the_modules_outside_a_handler(wippy: Wippy) -> None:
    result = await wippy.run_process("app:outside")
    assert result["req"] is True
    assert (result["err"], result["message"]) == ("Internal", "no HTTP request context found")
    # httpclient/module.go: encode_uri is Go's url.QueryEscape, decode_uri its inverse
    assert (result["encoded"], result["decoded"]) == ("a+b%26c%2Fd", "a b&c")
    assert result["bad"] == 'invalid URL escape "%zz"'
    assert result["batch"] == [200, '{"id":"2","verbose":"1"}'] and "batch_err" not in result


def _app(tmp_path: Path, extra: str) -> Any:
    (tmp_path / "_index.yaml").write_text(
        textwrap.dedent(
            """\
            version: "1.0"
            namespace: app
            entries:
              - {name: client, kind: temporal.client, address: "localhost:7233"}
              - {name: worker, kind: temporal.worker, client: client, task_queue: q}
              - {name: gateway, kind: http.service, addr: ":9000"}
              - name: api
                kind: http.router
                meta: {server: gateway}
                middleware: [%s]
              - {name: start, kind: function.lua, source: file://h.lua, method: start, modules: [http]}
              - {name: start.endpoint, kind: http.endpoint, meta: {router: api}, method: POST, path: /start,
                 func: start}
              - name: poke
                kind: function.lua
                source: file://h.lua
                method: poke
                modules: [http_client]
                meta: {temporal: {activity: {worker: worker}}}
              - name: outer
                kind: workflow.lua
                source: file://h.lua
                method: outer
                modules: [funcs]
                meta: {temporal: {workflow: {worker: worker}}}
              - name: inner
                kind: workflow.lua
                source: file://h.lua
                method: inner
                meta: {temporal: {workflow: {worker: worker}}}
            """
        )
        % extra
    )
    (tmp_path / "h.lua").write_text(
        textwrap.dedent(
            """\
            local M = {}
            function M.start()
                local http = require("http")
                local pid = process.with_options({["temporal.workflow.id"] = "inner-1"})
                    :spawn("app:inner", "app:worker", "from http")
                http.response():write(tostring(pid))
            end
            function M.poke()
                local resp = require("http_client").post("http://127.0.0.1:9000/start")
                return resp.body
            end
            function M.outer()
                return require("funcs").call("app:poke")
            end
            function M.inner(x) return x end
            return M
            """
        )
    )
    return load_app(tmp_path)


def test_an_activity_calls_the_api_whose_handler_starts_a_workflow(tmp_path: Path) -> None:
    wippy = Wippy(_app(tmp_path, ""))
    assert asyncio.run(wippy.execute("app:outer")) == wippy.get("inner-1").pid
    assert asyncio.run(wippy.get("inner-1").result()) == "from http"


def test_a_router_middleware_wftest_lacks_is_named(tmp_path: Path) -> None:
    wippy = Wippy(_app(tmp_path, "ratelimit"))
    with pytest.raises(HttpError, match="router app:api uses middleware 'ratelimit', which wftest does not"):
        asyncio.run(wippy.http.post("/start"))


def test_a_failing_test_reports_handler_failures_and_unrouted_calls(pytester: pytest.Pytester) -> None:
    app = Path(__file__).resolve().parents[2] / "fixtures" / "http"
    pytester.makeini(f"[pytest]\nwippy_app = {app}\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_it="""
async def test_fails(wippy):
    await wippy.http.get("/api/boom")
    await wippy.http.get("/api/quote")
    assert False, "look at the report"
"""
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--wippy-timeline", "off"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*wftest http*",
            "handler failed: app:boom.endpoint: handlers.lua:56: attempt to index a nil value*",
            "handler failed: app:quote.endpoint: handlers.lua:38: no route for GET https://rates.example.com/*",
            "unrouted: GET https://rates.example.com/usd?to=eur",
        ]
    )
