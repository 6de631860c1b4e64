"""Lua line coverage (`--lua-cov`): executable lines from the compiled chunk, the line hooks in the
sandbox (present only when coverage is on), and the Lua files in coverage.py's data and reports, with
and without pytest-cov, under pytest-xdist, for typed Lua, and under exploration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# Imported once here: pytester drops the modules its inner runs import (see tests/integration/test_plugin.py).
import wftest.coverage_plugin  # noqa: F401
import wftest.testing  # noqa: F401
from wftest.coverage import PLUGIN_MODULE
from wftest.coverage.lines import BytecodeFormatError, executable_lines, source_lines
from wftest.coverage.pytest_hooks import line_ranges
from wftest.lua import coverage as collector
from wftest.lua import engine
from wftest.lua.compiler import bytecode
from wftest.lua.sandbox import Sandbox

pytest_plugins = ["pytester"]

INDEX = """\
version: "1.0"
namespace: app
entries:
  - name: client
    kind: temporal.client
    address: localhost:7233
  - name: worker
    kind: temporal.worker
    client: client
    task_queue: shop
  - name: order
    kind: workflow.lua
    source: file://order.lua
    modules: [funcs]
    imports: {fees: app:fees}
    meta: {temporal: {workflow: {worker: app:worker}}}
  - name: fees
    kind: library.lua
    source: file://fees.lua
  - name: charge
    kind: function.lua
    source: file://charge.lua
    method: charge
    meta: {temporal: {activity: {worker: app:worker}}}
"""

ORDER = """\
local funcs = require("funcs")
local fees = require("fees")

-- a comment, then a blank line

local charge = funcs.new():with_options({["activity.retry_policy"] = {maximum_attempts = 1}})

local function main(order)
    local amount = fees.total(order.amount)
    local result, err = charge:call("app:charge", amount)
    if err then
        return {status = "failed", reason = tostring(err)}
    end
    return {status = "ok", id = result.id}
end

return main
"""
ORDER_MISSED = [12]  # the error branch: no test fails the charge

# Typed Lua: erased before it runs, with every line kept where it was.
FEES = """\
type Amount = number

local M = {}

function M.total(amount: Amount): number
    if amount > 100 then
        return amount * 0.9
    end
    return amount + 1
end

return M
"""
FEES_MISSED = [7]  # no test orders more than 100

CHARGE = """\
local function charge(amount)
    return {id = "c-" .. amount}
end

return {charge = charge}
"""

SOURCES = {"_index.yaml": INDEX, "order.lua": ORDER, "fees.lua": FEES, "charge.lua": CHARGE}

TESTS = """\
async def test_a_small_order(wippy):
    result = await wippy.execute("app:order", {"amount": 10})
    assert result == {"status": "ok", "id": "c-11"}


async def test_another_small_order(wippy):
    result = await wippy.execute("app:order", {"amount": 20})
    assert result["status"] == "ok"
"""


def write_app(pytester: pytest.Pytester, tests: str = TESTS) -> Path:
    app = pytester.path / "app"
    app.mkdir()
    for name, text in SOURCES.items():
        (app / name).write_text(text)
    pytester.makeini("[pytest]\nwippy_app = app\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_shop=tests)
    return app


def json_report(data_file: Path, out: Path) -> dict[str, Any]:
    """`coverage json` of a data file, with the plugin named as a user's .coveragerc would."""
    import coverage

    cov = coverage.Coverage(data_file=str(data_file), config_file=False)
    cov.set_option("run:plugins", [PLUGIN_MODULE])
    cov.load()
    cov.json_report(outfile=str(out))
    return dict(json.loads(out.read_text())["files"])


def lua_files(files: dict[str, Any]) -> dict[str, tuple[list[int], list[int]]]:
    return {
        Path(name).name: (f["executed_lines"], f["missing_lines"])
        for name, f in files.items()
        if name.endswith(".lua")
    }


# -- executable lines --------------------------------------------------------------------------------


NESTED = """\
-- every kind of line
local M = {}

local function helper(x)
    if x then
        return 1
    end
    return 2
end

function M.run(...)
    local items = {...}
    for i = 1, #items do
        items[i] = helper(items[i])
    end
    local label = "n=" .. #items .. 1.5
    return function(y)
        return y + helper(nil)
    end
end

return M
"""


def test_executable_lines_come_from_every_function_of_the_compiled_chunk() -> None:
    lines = executable_lines(bytecode(NESTED.encode(), "@nested.lua"))
    # Not: comments, blank lines, `end` of an `if` or `for`, nor a function header (Lua 5.5 puts a
    # closure's creation, and a `return function ... end`, on its `end` line).
    assert sorted(lines) == [2, 5, 6, 8, 9, 11, 12, 13, 14, 16, 18, 19, 20, 22]


def test_executable_lines_agree_with_lua_s_own_active_lines() -> None:
    """Lua's debug.getinfo(f, "L") of the main chunk and of every function it makes (reached by running
    this side-effect-free chunk) gives the same lines, but for the final return of a function that
    ends in an explicit return (its `end` line here has the closure too)."""
    lua = engine.new_runtime(None)
    collect = lua.eval(
        """function(code)
        local seen, lines = {}, {}
        local function walk(f)
            if type(f) ~= "function" or seen[f] then return end
            seen[f] = true
            for line in pairs(debug.getinfo(f, "L").activelines or {}) do lines[#lines + 1] = line end
        end
        local main = load(code, "@nested.lua", "t")
        walk(main)
        local M = main()
        walk(M.run)
        walk(M.run(1, 2))
        for i = 1, 20 do
            local name, value = debug.getupvalue(M.run, i)
            if name == nil then break end
            walk(value)
        end
        table.sort(lines)
        return table.concat(lines, ",")
    end"""
    )
    from_lua = {int(n) for n in collect(NESTED.encode()).decode().split(",")}
    assert from_lua == set(executable_lines(bytecode(NESTED.encode(), "@nested.lua")))


def test_a_final_return_after_an_explicit_one_is_not_a_line_to_cover(tmp_path: Path) -> None:
    source = tmp_path / "ends.lua"
    source.write_text("local x = 1\nreturn x\n\n-- trailing comment\n")
    assert sorted(source_lines(source)) == [1, 2]


def test_typed_lua_lines_are_the_original_file_s() -> None:
    # line 1 (the type declaration) makes a type value; 5 stores the function with a typed signature
    assert sorted(source_lines_of(FEES)) == [1, 3, 5, 6, 7, 9, 10, 12]


def source_lines_of(text: str) -> frozenset[int]:
    from wftest.coverage.lines import _source_lines

    return _source_lines(text, "fees.lua")


def test_bytecode_the_reader_does_not_know_is_a_clear_error() -> None:
    with pytest.raises(BytecodeFormatError, match="not Lua 5.5 bytecode"):
        executable_lines(b"\x1bLua\x54\x00rest")
    code = bytecode(b"return 1", "@x.lua")
    with pytest.raises(BytecodeFormatError, match="ends early"):
        executable_lines(code[:-3])


def test_line_ranges() -> None:
    assert line_ranges({3, 1, 2, 7, 9, 10}) == "1-3, 7, 9-10"


# -- the hook ----------------------------------------------------------------------------------------


def test_coverage_off_installs_no_line_hook() -> None:
    assert collector.ACTIVE is None
    sb = Sandbox()
    thread = sb.spawn(sb.lua.eval("function() end"))
    assert sb.api.hook_mask(thread) == b""  # the instruction budget's count hook only
    assert sb.api.coverage_lines() is None


def test_coverage_on_adds_the_line_event_to_the_budget_hook() -> None:
    collector.start()
    try:
        sb = Sandbox()
        thread = sb.spawn(sb.lua.eval("function() end"))
        assert sb.api.hook_mask(thread) == b"l"
        sb.release()
    finally:
        collector.stop()
    assert collector.ACTIVE is None


def test_a_sandbox_s_lines_reach_the_recorder(tmp_path: Path) -> None:
    from wftest import load_app
    from wftest.sim import World

    app = tmp_path / "app"
    app.mkdir()
    for name, text in SOURCES.items():
        (app / name).write_text(text)
    recorder = collector.start()
    try:
        world = World(load_app(app))
        run = world.run_until_closed(world.start("app:order", {"amount": 10}))
        assert run.result == {"status": "ok", "id": "c-11"}
    finally:
        lines = collector.stop()
    assert recorder.pending == set()
    order = str((app / "order.lua").resolve())
    assert lines[order] == set(source_lines(app / "order.lua")) - set(ORDER_MISSED)
    assert set(lines) == {order, str((app / "fees.lua").resolve()), str((app / "charge.lua").resolve())}


# -- pytest ------------------------------------------------------------------------------------------


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


def test_lua_cov_alone_writes_coverage_data_with_exactly_the_missed_lines(pytester: pytest.Pytester) -> None:
    write_app(pytester)
    result = run(pytester, "--lua-cov")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*wftest Lua coverage*", "app/fees.lua * 7", "app/order.lua * 12"])
    files = lua_files(json_report(pytester.path / ".coverage", pytester.path / "coverage.json"))
    assert files["order.lua"][1] == ORDER_MISSED
    assert files["fees.lua"][1] == FEES_MISSED  # typed Lua: the line of the original file
    assert files["charge.lua"][1] == []
    assert files["fees.lua"][0] == [1, 3, 5, 6, 9, 10, 12]


def test_the_ini_option_turns_it_on_and_off_leaves_no_data(pytester: pytest.Pytester) -> None:
    write_app(pytester)
    run(pytester).assert_outcomes(passed=2)
    assert not (pytester.path / ".coverage").exists()
    pytester.makeini("[pytest]\nwippy_app = app\nwippy_lua_cov = true\n")
    run(pytester).assert_outcomes(passed=2)
    assert (pytester.path / ".coverage").exists()


def test_with_pytest_cov_serial_and_xdist_report_the_same_lua_lines(pytester: pytest.Pytester) -> None:
    """One report with Python's (pytest-cov's JSON), and the same numbers under `-n 2` as serially."""
    write_app(pytester)
    reports = {}
    for label, extra in (("serial", ()), ("xdist", ("-n", "2"))):
        out = pytester.path / f"{label}.json"
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--lua-cov", "--cov=.", f"--cov-report=json:{out}", *extra
        )
        result.assert_outcomes(passed=2)
        files = json.loads(out.read_text())["files"]
        assert "test_shop.py" in files  # Python next to Lua
        reports[label] = {name: f["summary"] for name, f in files.items() if name.endswith(".lua")}
        assert files["app/order.lua"]["missing_lines"] == ORDER_MISSED
    assert reports["serial"] == reports["xdist"]
    assert set(reports["serial"]) == {"app/order.lua", "app/fees.lua", "app/charge.lua"}


EXPLORED_TESTS = """\
import pytest


@pytest.mark.wippy_explore(faults=["app:charge"])
async def test_an_order(wippy):
    result = await wippy.execute("app:order", {"amount": 10})
    assert result["status"] in ("ok", "failed")
"""


def test_exploration_lists_the_lines_only_explored_seeds_reached(pytester: pytest.Pytester) -> None:
    write_app(pytester, EXPLORED_TESTS)
    result = run(pytester, "--lua-cov", "--lua-explore", "12")
    result.assert_outcomes(passed=12)
    # injected charge failures take the error branch, which the fixed timings never do
    result.stdout.fnmatch_lines(["*Lua lines reached only under explored seeds:", "  app/order.lua: 12"])
    files = lua_files(json_report(pytester.path / ".coverage", pytester.path / "coverage.json"))
    assert files["order.lua"][1] == []  # the union over seeds


def test_paused_coverage_leaves_new_sandboxes_unhooked() -> None:
    """The replay check runs while coverage is paused: its sandboxes cost no line hooks."""
    collector.start()
    try:
        collector.pause()
        quiet = Sandbox()
        assert quiet.api.hook_mask(quiet.spawn(quiet.lua.eval("function() end"))) == b""
        collector.resume()
        hooked = Sandbox()
        assert hooked.api.hook_mask(hooked.spawn(hooked.lua.eval("function() end"))) == b"l"
    finally:
        collector.stop()
    assert collector.ACTIVE is None


def test_a_runaway_loop_under_coverage_still_stops_at_its_file_and_line() -> None:
    """The budget hook runs as a tail call of the line hook, so its error keeps the user's line."""
    from wftest.lua.compiler import compile_source
    from wftest.lua.sandbox import Failed, SandboxOptions

    collector.start()
    try:
        sb = Sandbox(SandboxOptions(instruction_budget=1_000_000))
        chunk = compile_source("local n = 0\nwhile true do\n  n = n + 1\nend\n", "workflows/spin.lua")
        fn, _ = sb.api.load_chunk(chunk.lua.encode(), chunk.chunkname.encode(), None)
        turn = sb.resume(sb.spawn(fn))
    finally:
        collector.stop()
    assert isinstance(turn, Failed)
    assert turn.failure.budget
    assert str(turn.failure).startswith("workflows/spin.lua:")
    assert turn.failure.line in (2, 3)
