"""Host command kinds come from one table (`wftest.lua.kinds.Kind`): the Lua runtime names them through
the KIND table it gets at sandbox setup, and each kind of process serves every kind its Lua can yield."""

from __future__ import annotations

import re
from collections.abc import Iterable

from wftest.lua.kinds import Kind
from wftest.lua.sandbox import LIB, Sandbox, SandboxOptions
from wftest.sim import processes
from wftest.worker import execution

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
PROCESS_LUA = _lua(processes._SECTION_CODE.files.values())


def test_the_prelude_yields_only_side_effects() -> None:
    assert _yielded(_lua(["prelude"])) == {"side_effect"}


def test_lua_names_every_kind_through_the_table() -> None:
    every = {**WORKFLOW_LUA, **PROCESS_LUA}
    assert _yielded(every) <= set(Kind.__members__), "KIND.<name> that Kind does not define"
    for name, source in every.items():
        for kind in Kind:
            assert f'"{kind.value}"' not in source, f"{name}.lua spells out {kind.value!r}: use KIND.{kind.name}"


def test_the_workflow_execution_serves_exactly_what_its_lua_yields() -> None:
    assert set(execution._HANDLERS) == {Kind[name] for name in _yielded(WORKFLOW_LUA)}


def test_the_process_host_serves_exactly_what_its_lua_yields() -> None:
    assert set(processes._HANDLERS) == {Kind[name] for name in _yielded(PROCESS_LUA)}


def test_the_sandbox_hands_lua_the_python_table() -> None:
    sb = Sandbox(SandboxOptions())
    assert {bytes(k).decode(): bytes(v).decode() for k, v in sb.api.KIND.items()} == {
        kind.name: kind.value for kind in Kind
    }
