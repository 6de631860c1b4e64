"""Host command kinds come from one table (`wftest.lua.kinds.Kind`): the Lua runtime names them through
the KIND table it gets at sandbox setup, and each kind of process serves every kind its Lua can yield.
The runtime sections of workflows and plain processes share their argument checks: they answer alike."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wftest.app import App, load_app
from wftest.encoding.payloads import payload_to_python
from wftest.lua.kinds import Kind
from wftest.lua.sandbox import LIB, Sandbox, SandboxOptions
from wftest.sim import World, process_driver, processes
from wftest.worker import execution, handlers

_KIND_USE = re.compile(r"\bKIND\.([A-Za-z_]\w*)")
_COMMENT = re.compile(r"--[^\n]*")


def _lua(files: Iterable[str]) -> dict[str, str]:
    """Each file's code without its comments."""
    return {name: _COMMENT.sub("", (LIB / f"{name}.lua").read_text()) for name in files}


def _yielded(sources: dict[str, str]) -> set[str]:
    return {name for text in sources.values() for name in _KIND_USE.findall(text)}


# The prelude yields one command, side_effect, and only in deterministic sandboxes (workflows); a plain
# process gets side-effect values straight from its generator.
WORKFLOW_LUA = _lua([*execution._SECTION_CODE.files.values(), "prelude"])
PROCESS_LUA = _lua(process_driver._SECTION_CODE.files.values())


def test_the_prelude_yields_only_side_effects() -> None:
    assert _yielded(_lua(["prelude"])) == {"side_effect"}


def test_lua_names_every_kind_through_the_table() -> None:
    every = {**WORKFLOW_LUA, **PROCESS_LUA}
    assert _yielded(every) <= set(Kind.__members__), "KIND.<name> that Kind does not define"
    for name, source in every.items():
        for kind in Kind:
            assert f'"{kind.value}"' not in source, f"{name}.lua spells out {kind.value!r}: use KIND.{kind.name}"


def test_the_workflow_execution_serves_exactly_what_its_lua_yields() -> None:
    assert set(handlers._HANDLERS) == {Kind[name] for name in _yielded(WORKFLOW_LUA)}


def test_the_process_host_serves_exactly_what_its_lua_yields() -> None:
    assert set(processes._HANDLERS) == {Kind[name] for name in _yielded(PROCESS_LUA)}


def test_the_sandbox_hands_lua_the_python_table() -> None:
    sb = Sandbox(SandboxOptions())
    assert {bytes(k).decode(): bytes(v).decode() for k, v in sb.api.KIND.items()} == {
        kind.name: kind.value for kind in Kind
    }


_PROBE = """\
local funcs = require("funcs")
local M = {}
local function probe(out)
    local ok, e = pcall(function() local x = funcs.new():with_options(42) end)
    out.executor = tostring(e)
    ok, e = pcall(function() local x = funcs.new():with_context(true) end)
    out.executor_ctx = tostring(e)
    ok, e = pcall(function() local x = process.with_context("x") end)
    out.spawner = tostring(e)
    ok, e = pcall(function() process.send(42, "t") end)
    out.send_dest = tostring(e)
    ok, e = pcall(function() process.send("x", "") end)
    out.send_topic = tostring(e)
    local _, err = process.send("x", "@t")
    out.send_at = tostring(err)
    _, err = process.spawn("app:wf", "")
    out.no_host = tostring(err)
    _, err = process.spawn("nons", "app:worker")
    out.bad_target = tostring(err)
    _, err = process.exec("app:wf", 3)
    out.exec_host = tostring(err)
    return out
end
function M.wf()
    local out = probe({})
    out.to_self = process.send(process.pid(), "t", 1)
    return out
end
function M.proc()
    local out = probe({})
    local ok, e = pcall(function() local x = process.with_options({}):with_options(1) end)
    out.proc_spawner = tostring(e)
    return out
end
return M
"""

# What both kinds of process answer: builder errors at the caller's line, send and start checks.
_SHARED = {
    "bad_target": "target 'nons' has no namespace (expected 'namespace:name')",
    "exec_host": "host must be a non-empty string",
    "executor": "p.lua:4: with_options expects a table",
    "executor_ctx": "p.lua:6: with_context expects a table",
    "no_host": "host must be a non-empty string",
    "send_at": "cannot send to @ topics",
    "send_dest": "p.lua:10: process.send: destination must be a string",
    "send_topic": "p.lua:12: process.send: topic must be a non-empty string",
    "spawner": "p.lua:8: with_context expects a table",
}


def _probe_app(tmp_path: Path) -> App:
    (tmp_path / "_index.yaml").write_text(
        textwrap.dedent(
            """\
            version: "1.0"
            namespace: app
            entries:
              - {name: client, kind: temporal.client, address: "localhost:7233"}
              - {name: worker, kind: temporal.worker, client: client, task_queue: q}
              - name: wf
                kind: workflow.lua
                source: file://p.lua
                method: wf
                modules: [funcs]
                meta: {temporal: {workflow: {worker: worker}}}
              - {name: proc, kind: function.lua, source: file://p.lua, method: proc, modules: [funcs]}
            """
        )
    )
    (tmp_path / "p.lua").write_text(_PROBE)
    return load_app(tmp_path)


def test_workflows_and_processes_check_sends_starts_and_builders_alike(tmp_path: Path) -> None:
    app = _probe_app(tmp_path)
    world = World(app)
    run = world.run_until_closed(world.start("app:wf"))
    assert run.result_payload is not None
    result: Any = payload_to_python(run.result_payload)
    # a workflow's send to its own PID succeeds without a command: no SignalExternal in the history
    assert result == {**_SHARED, "to_self": True}
    assert len(run.history.events) == 5
    world = World(app)
    process = world.run_process("app:proc")
    world.run_until_idle(limit_ns=10**12)
    assert process.status == "finished"
    assert process.result == {**_SHARED, "proc_spawner": "p.lua:31: with_options expects a table"}
