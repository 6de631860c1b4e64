"""The linter behind `wftest check`: mistakes a run would find one at a time, found at once with file:line."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from wftest.check import check_app
from wftest.cli import main
from wftest.lint import returned_keys, tokens

INDEX = """\
version: "1.0"
namespace: shop

entries:
  - name: client
    kind: temporal.client
    address: localhost:7233
  - name: worker
    kind: temporal.worker
    client: shop:client
    task_queue: shop
  - name: order
    kind: workflow.lua
    source: file://order.lua
    modules: [funcs, time]
    meta:
      temporal:
        workflow:
          worker: shop:worker
  - name: ship_order
    kind: function.lua
    source: file://ship.lua
    method: ship
  - name: lib
    kind: library.lua
    source: file://lib.lua
  - name: audit
    kind: workflow_lua
    source: file://ship.lua
"""

ORDER = """\
local funcs = require("funcs")
local time = require("time")
local json = require("json")

local function main(order)
    funcs.call("shop:ship_ordr", order)
    funcs.call("shop:lib", order)
    time.sleep("1h")
    return json.encode(order)
end

return {main = main}
"""

SHIP = """\
local M = {}
function M.send(order) return order end
return M
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    (tmp_path / "_index.yaml").write_text(INDEX)
    (tmp_path / "order.lua").write_text(ORDER)
    (tmp_path / "ship.lua").write_text(SHIP)
    (tmp_path / "lib.lua").write_text("return {}\n")
    return tmp_path


def messages(app: Path) -> list[str]:
    return [str(p) for p in check_app(app).problems]


def test_a_misspelled_activity_is_named_with_a_suggestion(shop: Path) -> None:
    assert "order.lua:6: funcs.call('shop:ship_ordr'): no entry 'shop:ship_ordr' in this app; " \
        "did you mean 'shop:ship_order'?" in messages(shop)


def test_a_call_to_an_entry_of_the_wrong_kind(shop: Path) -> None:
    assert "order.lua:7: funcs.call('shop:lib'): 'shop:lib' is a library.lua entry, not a function or " \
        "process.lua or process.wasm entry" in messages(shop)


def test_an_unknown_kind_gets_a_suggestion(shop: Path) -> None:
    assert "_index.yaml:27: shop:audit: unknown entry kind 'workflow_lua'; did you mean 'workflow.lua'?" \
        in messages(shop)


def test_a_method_the_script_does_not_return(shop: Path) -> None:
    expected = "shop:ship_order: method 'ship' (from _index.yaml:20) is not in the table the script " \
        "returns (it has: send)"
    assert f"ship.lua:3: {expected}" in messages(shop)


def test_a_module_required_but_not_listed(shop: Path) -> None:
    assert "order.lua:3: workflows may not use 'json'" not in " ".join(messages(shop))
    assert "order.lua:3: require('json'): module 'json' is not listed in shop:order's modules: " \
        "(add it to the entry at _index.yaml:12)" in messages(shop)


def test_globals_are_requireable_without_listing_them(shop: Path) -> None:
    # Wippy's require looks names up in the globals (engine/loadlib/loadlib.go).
    (shop / "order.lua").write_text(
        'local e, p, o = require("errors"), require("payload"), require("os")\n'
        'local s = require("string")\nreturn {main = function() end}\n'
    )
    assert not [m for m in messages(shop) if m.startswith("order.lua")]


def test_a_workflow_requiring_an_outside_module(shop: Path) -> None:
    (shop / "order.lua").write_text('local http = require("http_client")\nreturn {main = function() end}\n')
    expected = "require('http_client'): workflows may not use 'http_client' (nondeterministic module)"
    assert f"order.lua:1: {expected}" in messages(shop)


def test_cli_prints_one_line_per_problem_and_exits_1(shop: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(shop)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"{shop}: 5 problem(s)"
    assert all(line.startswith(str(shop)) for line in lines[:-1])


def test_cli_json_format_for_editors(shop: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", str(shop)])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    typo = next(r for r in rows if r["code"] == "unknown-target" and "ship_ordr" in r["message"])
    assert typo == {"file": str(shop / "order.lua"), "line": 6, "severity": "error", "code": "unknown-target",
                    "message": typo["message"]}


def test_a_workflow_without_worker_is_a_warning_only(shop: Path) -> None:
    meta = "    meta:\n      temporal:\n        workflow:\n          worker: shop:worker\n"
    index = INDEX.replace(meta, "")
    (shop / "_index.yaml").write_text(index.split("  - name: ship_order")[0])
    (shop / "order.lua").write_text("return {main = function() return 1 end}\n")
    report = check_app(shop)
    assert report.ok
    assert [p.severity for p in report.problems] == ["warning"]
    assert "shop:order: workflow has no meta.temporal.workflow.worker" in str(report.problems[0])


def test_a_clean_app_has_no_problems(shop: Path) -> None:
    index = INDEX.split("  - name: lib")[0]
    (shop / "_index.yaml").write_text(index.replace("modules: [funcs, time]", "modules: [funcs, time, json]"))
    (shop / "order.lua").write_text(ORDER.replace("ship_ordr", "ship_order").replace(
        '    funcs.call("shop:lib", order)\n', ""))
    (shop / "ship.lua").write_text(SHIP.replace("M.send", "M.ship"))
    assert messages(shop) == []


@pytest.mark.parametrize(
    ("source", "keys"),
    [
        ("return {main = main, ['other'] = f}", {"main", "other"}),
        ("local M = {a = 1}\nfunction M.b() end\nM.c = 2\nfunction M:d() end\nreturn M", set("abcd")),
        ("return function() end", None),  # a bare function: the method is the function itself
        ("local M = require('x')\nreturn M", None),  # built elsewhere: unknown
        ("local M = setmetatable({}, mt)\nreturn M", None),
        ("return {main = main, ...}", None),
        ("local t = {x = {y = 1}}\nreturn {t = t, f = function() return {z = 1} end}", {"t", "f"}),
    ],
)
def test_returned_keys(source: str, keys: set[str] | None) -> None:
    found = returned_keys(tokens(source))
    assert (None if found is None else set(found)) == keys


def test_tokens_skip_comments_and_read_strings() -> None:
    source = dedent("""\
        -- funcs.call("a:b")
        --[[ funcs.call("c:d")
        ]] local s = [==[x]]y]==] .. 'q\\'s'
        funcs.call("e:f")
    """)
    toks = tokens(source)
    assert [t.text for t in toks if t.kind == "string"] == ["x]]y", "q's", "e:f"]
    assert next(t.line for t in toks if t.text == "e:f") == 4
