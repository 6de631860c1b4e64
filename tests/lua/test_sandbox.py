"""The sandboxed Lua runtime: escapes, budget, memory, pairs determinism, require, shims, errors.

"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from checkout import ROOT

from wftest import load_app
from wftest.lua.sandbox import (
    Command,
    Failed,
    Finished,
    LoadError,
    LuaFailure,
    NoHostError,
    Sandbox,
    SandboxOptions,
    Yielded,
)

GOOD = ROOT / "fixtures" / "sandbox" / "good"
BROKEN = ROOT / "fixtures" / "sandbox" / "broken"


def run(sb: Sandbox, body: str, *args: Any) -> tuple[Any, ...]:
    return sb.call(sb.lua.eval(f"function(...)\n{body}\nend"), *args)


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


@pytest.fixture(scope="module")
def good_app():  # type: ignore[no-untyped-def]
    return load_app(GOOD)


# -- Nothing outside the sandbox is reachable ----------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "io",
        "debug",
        "package",
        "python",
        "load",
        "loadstring",
        "loadfile",
        "dofile",
        "collectgarbage",
        "rawlen",
        "utf8",
        "require",
        "string.dump",
        "os.execute",
        "os.getenv",
        "os.exit",
        "os.remove",
        "os.tmpname",
        "('').dump",
        "getmetatable('').__index.dump",
    ],
)
def test_escape_hatches_are_absent(sb: Sandbox, expr: str) -> None:
    assert run(sb, f"return {expr} == nil") == (True,)


def test_no_python_object_is_reachable_from_globals(sb: Sandbox) -> None:
    # Collect every value reachable from _G (three levels deep) that is neither a table, a function,
    # a string, a number nor a boolean: there must be none (a lupa-wrapped Python object is userdata).
    (found,) = run(
        sb,
        """
        local seen, odd = {}, {}
        local plain = {table = true, ["function"] = true, string = true, number = true, boolean = true}
        local function walk(t, depth)
            if seen[t] or depth > 3 then return end
            seen[t] = true
            for k, v in pairs(t) do
                if not plain[type(v)] then odd[#odd + 1] = v end
                if type(v) == "table" then walk(v, depth + 1) end
            end
        end
        walk(_G, 0)
        return odd
        """,
    )
    assert list(found.values()) == []


def test_bytecode_cannot_be_loaded(sb: Sandbox) -> None:
    # There is no load at all; and string.dump is gone, so no bytecode can even be produced.
    assert run(sb, "return load == nil and string.dump == nil") == (True,)


def test_os_is_wippys_clock_only_module() -> None:
    ns = 1_700_000_000 * 10**9 + 250_000_000
    sb = Sandbox(SandboxOptions(clock_ns=lambda: ns))
    t, clock, platform, date = run(
        sb, "return os.time(), os.clock(), os.platform, os.date('!%Y-%m-%d %H:%M:%S')"
    )
    assert (t, clock, platform, date) == (1_700_000_000, 1_700_000_000.25, b"wippy", b"2023-11-14 22:13:20")
    assert run(sb, "return os.time({year=2024, month=1, day=2, hour=3, min=4, sec=5})") == (1704164645,)
    (tbl,) = run(sb, "local d = os.date('*t') return d.year * 10000 + d.month * 100 + d.day")
    assert tbl == 20231114
    assert run(sb, "return os.difftime(10, 4)") == (6,)


def test_lua51_names_exist(sb: Sandbox) -> None:
    assert run(sb, "return unpack({1, 2, 3})") == (1, 2, 3)
    assert run(
        sb, "return table.getn({1, 2}), table.maxn({[1]=1, [7]=2}), math.pow(2, 10), math.log10(1000)"
    ) == (2, 7, 1024.0, 3.0)


def test_engine_has_integers_goto_bitwise_and_floor_division(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local n = 0
        ::again::
        n = n + 1
        if n < 3 then goto again end
        return math.type(n), 7 // 2, 6 & 3, 1 << 4, math.type(1.0)
    """,
    ) == (b"integer", 3, 2, 16, b"float")


def test_yield_across_pcall(sb: Sandbox) -> None:
    handle = sb.spawn(
        sb.lua.eval(
            "function(hc) local ok, v = pcall(function() return hc({kind='ask'}) end) return ok, v end"
        )
    )
    turn = sb.resume(handle, sb.host_command())
    assert isinstance(turn, Command)
    assert sb.resume(handle, 42) == Finished((True, 42))


def test_math_random_is_seeded() -> None:
    a = run(Sandbox(SandboxOptions(seed=7)), "return math.random(1, 1000000), math.random()")
    b = run(Sandbox(SandboxOptions(seed=7)), "return math.random(1, 1000000), math.random()")
    c = run(Sandbox(SandboxOptions(seed=8)), "return math.random(1, 1000000), math.random()")
    assert a == b
    assert a != c


PAIRS_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from wftest.lua.sandbox import Sandbox
    sb = Sandbox()
    (order,) = sb.call(sb.lua.eval('''function()
        local t = {{}}
        for i = 1, 60 do t["key_" .. i .. "_" .. string.rep("x", i % 7)] = i end
        t[3.5] = "f"; t[true] = "b"; t[100] = "n"
        local out = {{}}
        for k in pairs(t) do out[#out + 1] = tostring(k) end
        return table.concat(out, ",")
    end'''))
    print(order.decode())
""")


def test_pairs_order_is_identical_across_processes() -> None:
    """Pairs order must not depend on the process (Lua 5.5 with a fixed string hash seed)."""
    script = PAIRS_SCRIPT.format(root=str(ROOT))
    outputs = set()
    for seed in ("0", "1", "2", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(out.stdout)
    assert len(outputs) == 1
    assert len(next(iter(outputs)).split(",")) == 63


# -- budget and memory ------------------------------------------------------------------------------


def test_runaway_loop_stops_with_file_and_line(good_app: Any) -> None:
    """The budget counts instructions, not time: a small budget stops the loop after about that many."""
    sb = Sandbox(SandboxOptions(instruction_budget=1_000_000))
    from wftest.lua.compiler import compile_source

    chunk = compile_source(
        "n = 0\nwhile true do\n  n = n + 1\nend\n", "workflows/spin.lua"
    )
    fn, _ = sb.api.load_chunk(chunk.lua.encode(), chunk.chunkname.encode(), None)
    turn = sb.resume(sb.spawn(fn))
    assert isinstance(turn, Failed)
    assert turn.failure.budget
    assert str(turn.failure).startswith("workflows/spin.lua:")
    assert turn.failure.line in (2, 3, 4)
    assert "instruction budget exceeded" in turn.failure.message
    # About 4 instructions per iteration: the loop ran a bounded number of times, near the budget.
    assert 100_000 < sb.lua.globals()[b"n"] < 1_000_000


def test_budget_is_per_turn_and_configurable() -> None:
    sb = Sandbox(SandboxOptions(instruction_budget=1_000_000))
    with pytest.raises(LuaFailure, match="instruction budget"):
        run(sb, "local x = 0 for i = 1, 10000000 do x = x + i end return x")
    assert run(sb, "local x = 0 for i = 1, 1000 do x = x + i end return x") == (500500,)


def test_budget_applies_inside_user_coroutines() -> None:
    sb = Sandbox(SandboxOptions(instruction_budget=1_000_000))
    with pytest.raises(LuaFailure, match="instruction budget"):
        run(sb, "local co = coroutine.wrap(function() while true do end end) co()")


def test_memory_bomb_is_stopped_and_state_stays_usable() -> None:
    sb = Sandbox(SandboxOptions(memory_limit=16 * 1024 * 1024))
    with pytest.raises(LuaFailure) as info:
        run(sb, "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 64) .. i end")
    assert info.value.memory
    assert "memory limit exceeded" in str(info.value)
    assert run(sb, "return 1 + 1") == (2,)


# -- host shims ---------------------------------------------------------------------------------------


def test_command_passes_through_user_coroutines(sb: Sandbox) -> None:
    fn = sb.lua.eval("""function(hc)
        local inner = coroutine.create(function(x)
            local reply = hc({kind = "activity", n = x})
            local again = coroutine.yield(reply * 10)
            return again + 1
        end)
        local ok1, v1 = coroutine.resume(inner, 5)
        local ok2, v2 = coroutine.resume(inner, v1 + 1)
        local w = coroutine.wrap(function() return hc({kind = "timer"}) end)
        return ok1, v1, ok2, v2, w()
    end""")
    handle = sb.spawn(fn)
    first = sb.resume(handle, sb.host_command())
    assert isinstance(first, Command)
    assert (first.table.kind, first.table.n) == (b"activity", 5)
    second = sb.resume(handle, 7)
    assert isinstance(second, Command)
    assert second.table.kind == b"timer"
    assert sb.resume(handle, b"fired") == Finished((True, 70, True, 72, b"fired"))


def test_bare_yield_at_top_is_reported(sb: Sandbox) -> None:
    handle = sb.spawn(sb.lua.eval("function() local v = coroutine.yield(1, 2) return v end"))
    assert sb.resume(handle) == Yielded((1, 2))
    assert sb.resume(handle, 3) == Finished((3,))


def test_command_without_driver_is_a_clear_error(sb: Sandbox) -> None:
    with pytest.raises(NoHostError, match="'time.sleep' needs a workflow or process runtime"):
        sb.call(sb.lua.eval("function(hc) return hc({kind = 'time.sleep'}) end"), sb.host_command())


def test_error_in_coroutine_reaches_host_with_kind_and_line(sb: Sandbox) -> None:
    from wftest.lua.compiler import compile_source

    src = (
        "local function inner()\n"
        "  error(errors.new({message = 'card declined', kind = errors.INVALID, retryable = false}))\n"
        "end\n"
        "return function()\n"
        "  local co = coroutine.wrap(inner)\n"
        "  co()\n"
        "end\n"
    )
    chunk = compile_source(src, "workflows/pay.lua")
    fn, _ = sb.api.load_chunk(chunk.lua.encode(), chunk.chunkname.encode(), None)
    (main,) = sb.call(fn)
    turn = sb.resume(sb.spawn(main))
    assert isinstance(turn, Failed)
    f = turn.failure
    assert (f.message, f.kind, f.retryable, f.file, f.line) == (
        "card declined",
        "Invalid",
        False,
        "workflows/pay.lua",
        2,
    )
    assert str(f) == "workflows/pay.lua:2: card declined"


def test_string_error_in_nested_coroutine_keeps_position(sb: Sandbox) -> None:
    from wftest.lua.compiler import compile_source

    chunk = compile_source(
        "return function()\n  local co = coroutine.create(function()\n    local t = nil\n"
        "    return t.x\n  end)\n  local ok, e = coroutine.resume(co)\n  error(e, 0)\nend\n",
        "w.lua",
    )
    fn, _ = sb.api.load_chunk(chunk.lua.encode(), chunk.chunkname.encode(), None)
    turn = sb.resume(sb.spawn(sb.call(fn)[0]))
    assert isinstance(turn, Failed)
    assert (turn.failure.file, turn.failure.line, turn.failure.kind) == ("w.lua", 4, "Internal")
    assert "attempt to index a nil value" in turn.failure.message


# -- errors --------------------------------------------------------------------------------------


def test_error_kind_constants(sb: Sandbox) -> None:
    names = [
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "INVALID",
        "PERMISSION_DENIED",
        "UNAVAILABLE",
        "INTERNAL",
        "CANCELED",
        "CONFLICT",
        "TIMEOUT",
        "RATE_LIMITED",
        "UNKNOWN",
    ]
    values = run(sb, "return " + ", ".join(f"errors.{n}" for n in names))
    assert values == (
        b"NotFound",
        b"AlreadyExists",
        b"Invalid",
        b"PermissionDenied",
        b"Unavailable",
        b"Internal",
        b"Canceled",
        b"Conflict",
        b"Timeout",
        b"RateLimited",
        b"",
    )


def test_error_methods_and_string_forms(sb: Sandbox) -> None:
    assert run(
        sb,
        """
        local e = errors.new({message = "missing", kind = errors.NOT_FOUND, retryable = false,
                              details = {id = 7}})
        local w = errors.wrap(e, "loading user")
        return e:kind(), e:message(), e:retryable(), e:details().id, tostring(e), "x: " .. e,
               w:kind(), w:retryable(), w:details().id, tostring(w), errors.is(w, "NotFound"),
               errors.is(w, "Invalid"), type(e), errors.new("plain"):kind(), errors.new("plain"):retryable(),
               errors.new("p"):details()
    """,
    ) == (
        b"NotFound",
        b"missing",
        False,
        7,
        b"missing",
        b"x: missing",
        b"NotFound",
        False,
        7,
        b"missing",
        True,
        False,
        b"userdata",
        b"",
        None,
        None,
    )


def test_wrapped_error_exports_full_go_string(sb: Sandbox) -> None:
    (text_,) = run(
        sb,
        "return errors.wrap(errors.wrap('disk full', 'saving'), 'order 7')",
    )
    assert sb.values.to_python(text_) == "order 7: saving: disk full"


def test_errors_new_argument_checks(sb: Sandbox) -> None:
    with pytest.raises(LuaFailure, match="'message' field is required"):
        run(sb, "return errors.new({kind = 'Invalid'})")
    with pytest.raises(LuaFailure, match="expects a message string or a table"):
        run(sb, "return errors.new(5)")
    assert run(sb, "return errors.wrap(nil, 'x')") == (None,)


def test_call_stack_names_creation_site(sb: Sandbox) -> None:
    from wftest.lua.compiler import compile_source

    chunk = compile_source(
        "return function()\n  local e = errors.new('x')\n"
        "  local s = errors.call_stack(e)\n  return s.frames[1].source, s.frames[1].line\nend\n",
        "s.lua",
    )
    fn, _ = sb.api.load_chunk(chunk.lua.encode(), chunk.chunkname.encode(), None)
    assert sb.call(sb.call(fn)[0]) == (b"s.lua", 2)
    assert run(sb, "return errors.call_stack('not an error')") == (None,)


# -- loading entries and require ------------------------------------------------------


def test_load_entry_with_typed_source_library_and_module(good_app: Any) -> None:
    sb = Sandbox()
    main = sb.load_entry(good_app, good_app.get("app:greet"))
    assert sb.call(main, sb.table({"name": "ada", "age": 36})) == (b'HELLO ADA! {"age":36}',)
    with pytest.raises(LuaFailure) as info:
        sb.call(main, sb.table({"age": 3}))
    assert info.value.kind == "Invalid"
    assert info.value.file == "greet.lua" and info.value.line == 7


def test_bare_function_script_and_method(good_app: Any) -> None:
    sb = Sandbox()
    assert sb.call(sb.load_entry(good_app, good_app.get("app:bare")), 2, 3) == (5,)
    assert sb.call(sb.load_entry(good_app, good_app.get("app:pick"))) == (b"second",)


def test_library_modules_are_its_own(good_app: Any) -> None:
    sb = Sandbox()
    sb.load_entry(good_app, good_app.get("app:greet"))
    lib = sb._libraries["app:text_lib"]
    assert sb.call(lib.encoded, b"hi")[0] == b"aGk="


def test_require_of_unlisted_module_is_an_error(good_app: Any) -> None:
    sb = Sandbox()
    req = sb.make_require("app:x", ["json"], {}, None)
    with pytest.raises(LuaFailure, match=r"module 'uuid' not found: app:x lists modules \['json'\]"):
        sb.call(sb.lua.eval("function(require) return require('uuid') end"), req)


def test_import_cycle_is_reported(good_app: Any) -> None:
    sb = Sandbox()
    with pytest.raises(LuaFailure, match="import cycle: app:cycle_a -> app:cycle_b -> app:cycle_a"):
        sb.load_entry(good_app, good_app.get("app:uses_cycle"))


def test_http_client_outside_a_world_says_where_it_runs(good_app: Any) -> None:
    sb = Sandbox()
    with pytest.raises(
        LuaFailure, match="module 'http_client' is not available: it reaches HTTP, which a test world serves"
    ):
        sb.load_entry(good_app, good_app.get("app:fetch"))


def test_disallowed_module_in_workflow_is_a_load_error() -> None:
    app = load_app(BROKEN)
    with pytest.raises(
        LoadError,
        match=r"_index.yaml:26: bad:wants_http: module 'http_client' does not have any"
        r" allowed class",
    ):
        Sandbox().load_entry(app, app.get("bad:wants_http"))
    with pytest.raises(
        LoadError, match=r"bad:db_lib: module 'sql' .*imported by workflow bad:wants_sql_via_lib"
    ):
        Sandbox().load_entry(app, app.get("bad:wants_sql_via_lib"))


def test_runtime_modules_need_a_driver(good_app: Any) -> None:
    sb = Sandbox()
    req = sb.make_require("app:x", ["funcs"], {}, None)
    with pytest.raises(
        LuaFailure, match="module 'funcs' is not available: it belongs to the workflow/process"
    ):
        sb.call(sb.lua.eval("function(require) return require('funcs') end"), req)


def test_providers_supply_context_modules(good_app: Any) -> None:
    sb = Sandbox(SandboxOptions(providers={"funcs": lambda s: s.table({"marker": "provided"})}))
    req = sb.make_require("app:x", ["funcs"], {}, None)
    assert sb.call(sb.lua.eval("function(require) return require('funcs').marker end"), req) == (b"provided",)


def test_print_goes_to_the_log() -> None:
    lines: list[str] = []
    sb = Sandbox(SandboxOptions(log=lines.append))
    run(sb, "print('a', 1, true, nil, errors.new('e'))")
    assert lines == ["a\t1\ttrue\tnil\te"]
    assert sb.logs == lines


def test_type_reports_wippy_objects_as_userdata(sb: Sandbox) -> None:
    assert run(sb, "return type(errors.new('x')), type({}), type(setmetatable({}, {})), type(print)") == (
        b"userdata",
        b"table",
        b"table",
        b"function",
    )


def test_every_prelude_api_function_the_code_calls_is_fetched() -> None:
    """A sandbox fetches only the prelude API functions listed in `_HOST_API`: one the code (or a test)
    calls that is not listed would fail as a missing attribute."""
    from wftest.lua import sandbox

    used: set[str] = set()
    for folder in ("wftest", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            used.update(re.findall(r"\b(?:sb|self|sandbox|self\.sb|self\.sandbox)\.api\.([A-Za-z_]\w*)", path.read_text()))
    assert used, "the search found no use at all"
    assert used - {"KIND"} <= set(sandbox._HOST_API), sorted(used - {"KIND"} - set(sandbox._HOST_API))
