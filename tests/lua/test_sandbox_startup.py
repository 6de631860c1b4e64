"""What a sandbox sets up at once and what it loads on first use,
the sandbox's own `setmetatable`, and the lifetime of coroutines that call the host."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from checkout import ROOT

from wftest.lua.process import LuaProcess
from wftest.lua.sandbox import LuaFailure, Sandbox, SandboxOptions


def run(sb: Sandbox, body: str, *args: Any) -> tuple[Any, ...]:
    return sb.call(sb.lua.eval(f"function(...)\n{body}\nend"), *args)


def chunk(sb: Sandbox, source: str) -> tuple[Any, ...]:
    fn, err = sb.api.load_chunk(source.encode(), b"flow.lua", None)
    assert fn is not None, err
    return sb.call(fn)


@pytest.fixture(params=[False, True], ids=["own-globals", "fresh-globals"])
def sb(request: pytest.FixtureRequest) -> Sandbox:
    """Both ways a sandbox gets its globals: a never-replayed one in its state's own, a workflow's fresh."""
    return Sandbox(SandboxOptions(deterministic=request.param))


# -- errors, os and coroutine load on first use --------------------------------------------------


def test_errors_os_and_coroutine_appear_when_first_used(sb: Sandbox) -> None:
    before = run(sb, 'return rawget(_G, "errors"), rawget(_G, "os"), rawget(_G, "coroutine")')
    assert before == (None, None, None)
    used = run(sb, "return errors.new('boom'):message(), os.platform, type(coroutine.wrap)")
    assert used == (b"boom", b"wippy", b"function")
    after = run(sb, 'return rawget(_G, "errors") == errors, rawget(_G, "os") == os')
    assert after == (True, True)


def test_errors_new_still_names_the_callers_line(sb: Sandbox) -> None:
    (e,) = chunk(sb, "local x = 1\nlocal e = errors.new('at line two')\nreturn e")
    assert run(sb, "local e = ... return errors.call_stack(e).frames[1].line", e) == (2,)


def test_coroutine_spawn_is_there_whenever_coroutine_is_first_used() -> None:
    early = Sandbox()
    assert run(early, "return coroutine.running ~= nil") == (True,)
    LuaProcess(early)  # the process runtime adds spawn after `coroutine` was made
    late = Sandbox()
    LuaProcess(late)  # ... or before
    for box in (early, late):
        assert run(box, "return type(coroutine.spawn)") == (b"function",)


def test_a_failure_is_described_without_the_extras_loaded_before(sb: Sandbox) -> None:
    with pytest.raises(LuaFailure) as failure:
        chunk(sb, "local t = nil\nreturn t.field")
    assert failure.value.file == "flow.lua" and failure.value.line == 2


# -- declared types load types.lua only when used ------------------------------------------------


def test_declaring_a_type_does_not_load_the_type_runtime(sb: Sandbox) -> None:
    chunk(sb, "Point = __wftype('Point', function(t) return t.record({{'x', t.p('number')}}) end)")
    assert run(sb, 'return rawget(_G, "integer")') == (None,)
    assert run(sb, "return Point:is({x = 1}) ~= nil, Point:name()") == (True, b"Point")
    assert run(sb, 'return rawget(_G, "integer") ~= nil') == (True,)


def test_the_first_call_of_a_declared_type_fails_at_the_callers_line(sb: Sandbox) -> None:
    source = textwrap.dedent("""\
        local N = __wftype('N', function(t) return t.p('number') end)
        local ok = 1
        local v = N('not a number')
        return v
    """)
    with pytest.raises(LuaFailure) as failure:
        chunk(sb, source)
    assert failure.value.file == "flow.lua" and failure.value.line == 3
    assert "expected number" in failure.value.message


# -- setmetatable -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("setmetatable(1, {})", "bad argument #1 to 'setmetatable' (table expected, got number)"),
        ("setmetatable({}, 1)", "bad argument #2 to 'setmetatable' (nil or table expected, got number)"),
        ("setmetatable({})", "bad argument #2 to 'setmetatable' (nil or table expected, got no value)"),
        ("setmetatable(setmetatable({}, {__metatable = 1}), {})", "cannot change a protected metatable"),
        ("local s = setmetatable\ns(1)", "bad argument #1 to 's' (table expected, got number)"),
    ],
)
def test_setmetatable_errors_read_as_the_c_functions_at_the_callers_line(
    sb: Sandbox, source: str, message: str
) -> None:
    line = source.count("\n") + 1
    with pytest.raises(LuaFailure, match=rf"^flow\.lua:{line}: " + re.escape(message) + "$"):
        chunk(sb, source)


def test_setmetatable_works_as_usual(sb: Sandbox) -> None:
    source = "local t = setmetatable({}, {__index = {a = 1}}) return t.a, getmetatable(t) ~= nil"
    assert chunk(sb, source) == (1, True)
    assert chunk(sb, "local t = setmetatable({}, {}) return getmetatable(setmetatable(t, nil))") == (None,)


# -- coroutines that call the host ---------------------------------------------------------------

CRASHER = """
import sys
from pathlib import Path
from wftest import load_app
from wftest.lua.sandbox import Sandbox

app = load_app(Path(sys.argv[1]))
entry = app.get("app.flows:flow")
for _ in range(30):
    sb = Sandbox()
    sb.load_entry(app, entry)  # `require` runs in a coroutine; the module table's handle outlives it
    sb.api.collect()  # a full collection frees whatever the sandbox no longer holds
print("ok")
"""


def test_handles_made_while_a_coroutine_calls_the_host_stay_valid(tmp_path: Path) -> None:
    """lupa ties a handle made during a host call to the calling coroutine; the sandbox keeps such
    coroutines alive, else a full collection followed by dropping the handle crashes the process."""
    (tmp_path / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n'
        "  - name: client\n    kind: temporal.client\n    address: localhost:7233\n"
        "  - name: worker\n    kind: temporal.worker\n    client: client\n    task_queue: q\n"
    )
    (tmp_path / "flow.lua").write_text("local json = require('json')\nreturn function() return 1 end\n")
    (tmp_path / "flows.yaml").write_text(
        'version: "1.0"\nnamespace: app.flows\nentries:\n'
        "  - name: flow\n    kind: workflow.lua\n    source: file://flow.lua\n    modules: [json]\n"
        "    meta: {temporal: {workflow: {worker: app:worker}}}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", CRASHER, str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
