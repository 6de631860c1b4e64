"""Wippy's process scheduler: FIFO coroutines, coroutine.spawn, channels, select."""

from __future__ import annotations

from typing import Any

import pytest

from wftest.lua.process import LuaProcess, StepOutcome
from wftest.lua.sandbox import Sandbox


def start(body: str, *args: Any) -> tuple[Sandbox, LuaProcess]:
    sb = Sandbox()
    proc = LuaProcess(sb)
    proc.start(sb.lua.eval(f"function(hc, ...)\n{body}\nend"), sb.host_command(), *args)
    return sb, proc


def finish(body: str) -> tuple[Any, ...]:
    _, proc = start(body)
    out = proc.step()
    assert out.status == "finished", out
    return out.values


def test_spawned_coroutine_runs_before_the_spawner_continues() -> None:
    """The new coroutine is queued before the spawner is re-queued."""
    assert finish("""
        local log = {}
        coroutine.spawn(function() log[#log + 1] = "child" end)
        log[#log + 1] = "parent"
        return table.concat(log, ",")
    """) == (b"child,parent",)


def test_queue_is_fifo_across_bare_yields() -> None:
    """A bare yield re-queues at the back; each spawn runs the child before the spawner resumes."""
    assert finish("""
        local log = {}
        for i = 1, 3 do
            coroutine.spawn(function()
                log[#log + 1] = "a" .. i
                coroutine.yield()
                log[#log + 1] = "b" .. i
            end)
        end
        local c = channel.new()
        coroutine.spawn(function() c:send(true) end)
        c:receive()
        return table.concat(log, ",")
    """) == (b"a1,b1,a2,b2,a3,b3",)


def test_unbuffered_channel_rendezvous_and_close() -> None:
    assert finish("""
        local ch = channel.new()
        local got = {}
        coroutine.spawn(function()
            for i = 1, 3 do ch:send(i * 10) end
            ch:close()
        end)
        while true do
            local v, ok = ch:receive()
            if not ok then break end
            got[#got + 1] = v
        end
        local v, ok = ch:receive()
        return table.concat(got, ","), v, ok
    """) == (b"10,20,30", None, False)


def test_buffered_channel_does_not_block_until_full() -> None:
    assert finish("""
        local ch = channel.new(2)
        ch:send("a"); ch:send("b")
        local sent3 = false
        coroutine.spawn(function() ch:send("c"); sent3 = true end)
        local before = sent3
        local a = ch:receive()
        coroutine.yield()
        return a, before, sent3, ch:receive(), ch:receive()
    """) == (b"a", False, True, b"b", b"c", True)


def test_send_on_closed_channel_raises() -> None:
    _, proc = start("local ch = channel.new(1) ch:close() ch:send(1)")
    out = proc.step()
    assert out.status == "failed"
    assert out.failure is not None and "send on closed channel" in out.failure.message


def test_select_first_ready_case_in_array_order_wins() -> None:
    assert finish("""
        local a, b = channel.new(1), channel.new(1)
        a:send("from a"); b:send("from b")
        local r = channel.select{b:case_receive(), a:case_receive()}
        return r.channel == b, r.value, r.ok
    """) == (True, b"from b", True)


def test_select_default_and_boolean_form() -> None:
    assert finish("""
        local a = channel.new()
        local r1 = channel.select{a:case_receive(), default = true}
        local r2 = channel.select({a:case_receive()}, true)
        return r1.default, r1.ok, r2.default
    """) == (True, True, True)


def test_select_blocks_then_wakes_on_the_case_that_became_ready() -> None:
    assert finish("""
        local a, b = channel.new(), channel.new()
        coroutine.spawn(function() b:send("late b") end)
        local r = channel.select{a:case_receive(), b:case_receive()}
        local r2 = channel.select{a:case_send("to a"), default = true}
        return r.channel == b, r.value, r2.default
    """) == (True, b"late b", True)


def test_select_send_case_and_closed_receive() -> None:
    assert finish("""
        local out, closed = channel.new(), channel.new()
        closed:close()
        local got
        coroutine.spawn(function() got = out:receive() end)
        local r = channel.select{out:case_send("x")}
        local r2 = channel.select{closed:case_receive()}
        coroutine.yield()
        return r.channel == out, r.ok, got, r2.ok, r2.value
    """) == (True, True, b"x", False, None)


def test_error_in_any_coroutine_fails_the_process() -> None:
    """An uncaught error in any coroutine fails the whole run."""
    _, proc = start("""
        coroutine.spawn(function() error("worker broke") end)
        local c = channel.new()
        c:receive()
    """)
    out = proc.step()
    assert out.status == "failed"
    assert out.failure is not None and "worker broke" in out.failure.message


def test_main_return_kills_other_coroutines_and_drops_their_commands() -> None:
    """When main returns, the others are killed."""
    _, proc = start("""
        coroutine.spawn(function() hc({kind = "never"}) end)
        return "done"
    """)
    out = proc.step()
    assert out == StepOutcome("finished", values=(b"done",))


def test_commands_come_out_in_yield_order_and_replies_resume() -> None:
    _, proc = start("""
        local results = {}
        coroutine.spawn(function() local v = hc({kind = "B"}) results[#results + 1] = v end)
        local v = hc({kind = "A"})
        results[#results + 1] = v
        local c = channel.new()
        coroutine.spawn(function() c:send(true) end)
        c:receive()
        return table.concat(results, ",")
    """)
    out = proc.step()
    assert out.status == "commands"
    assert [c.table.kind for c in out.commands] == [b"B", b"A"]
    b_task, a_task = (c.task for c in out.commands)
    assert proc.reply(a_task, b"ra")
    assert proc.reply(b_task, b"rb")
    assert not proc.reply(b_task, b"again")  # not waiting any more
    assert proc.step().values == (b"ra,rb",)


def test_deadlock_names_where_each_coroutine_waits() -> None:
    """All blocked with no pending operations is a deadlock."""
    _, proc = start("""
        local a, b = channel.new(), channel.new()
        coroutine.spawn(function() b:send(1) end)
        a:receive()
    """)
    out = proc.step()
    assert out.status == "deadlock"
    assert out.report == ("all coroutines blocked with no pending operations "
                          "(main waits on channel receive; coroutine 2 waits on channel send)")


def test_waiting_on_host_fed_channel_is_idle_not_deadlock() -> None:
    sb, proc = start("local ch = ... local v = ch:receive() return v", )
    sb2 = Sandbox()
    proc = LuaProcess(sb2)
    ch = proc.external_channel(1)
    proc.start(sb2.lua.eval("function(ch) local v, ok = ch:receive() return v, ok end"), ch)
    assert proc.step().status == "idle"
    cid = proc.channel_id(ch)
    assert cid is not None
    assert proc.push(cid, b"fired")
    assert proc.step().values == (b"fired", True)


def test_push_to_full_external_channel_is_refused() -> None:
    sb = Sandbox()
    proc = LuaProcess(sb)
    ch = proc.external_channel(1)
    cid = proc.channel_id(ch)
    assert cid is not None
    assert proc.push(cid, 1)
    assert not proc.push(cid, 2)
    proc.close(cid)
    assert not proc.push(cid, 3)


def test_channel_new_rejects_bad_size() -> None:
    _, proc = start("channel.new(-1)")
    out = proc.step()
    assert out.failure is not None and "size must be a non-negative number" in out.failure.message


@pytest.mark.parametrize("body", ["channel.select(5)", "channel.select{5}", "channel.select{}"])
def test_select_argument_errors(body: str) -> None:
    _, proc = start(body)
    assert proc.step().status == "failed"
