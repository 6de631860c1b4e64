"""The Lua side every Wippy process needs from the Python that drives it, shared by workflow executions
(`wftest.worker.execution`) and plain processes (`wftest.sim.processes`): the sandbox on a leased Lua
state, the scheduler, the runtime sections (funcs, timers, process, messaging, ...), Go durations and the
`time` module. The two kinds differ only in how they serve the commands their coroutines yield: a
workflow turns them into Temporal commands, a plain process has them served on the spot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wftest.lua.compiler import bytecode
from wftest.lua.modules.time import duration_ns
from wftest.lua.process import LuaProcess
from wftest.lua.sandbox import LIB, Sandbox, SandboxOptions
from wftest.lua.state import LuaState

_COMPILED: dict[str, bytes] = {}
# The fields of the runtime's API (`lib/workflow_runtime.lua`) the host calls.
_RUNTIME_FIELDS = ("lazy_time", "section", "resolve_future", "deliver", "deliver_event", "unheard")


class Sections:
    """The runtime sections of one flavour of process: `files` maps a section to its file under lib/.
    Each is compiled once per Python process, on first use; a Lua state caches it by file name."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = dict(files)

    def __call__(self, name: bytes) -> bytes:
        file = self.files[name.decode()]
        compiled = _COMPILED.get(file)
        if compiled is None:
            compiled = _COMPILED[file] = bytecode((LIB / f"{file}.lua").read_bytes(), f"={file}.lua")
        return compiled


def sections(files: Mapping[str, str]) -> Sections:
    return Sections(files)


class LuaHost:
    """A sandbox with Wippy's process runtime in it. Subclasses call `_start_host` and say who the
    process is (`_info`: a Lua table with at least `pid` and `entry_id`)."""

    sb: Sandbox
    proc: LuaProcess
    rt: Any

    def _start_host(self, options: SandboxOptions, state: LuaState | None, code: Sections) -> None:
        self.sb = Sandbox(options, state=state)
        self.proc = LuaProcess(self.sb)
        files = self.sb.state.shared.get(code)
        if files is None:  # the same for every sandbox of the state (only the runtime reads it)
            files = self.sb.state.shared[code] = self.sb.lua.table_from(
                {k.encode(): v.encode() for k, v in code.files.items()}
            )
        # the Python half of the runtime's host functions, by name (see `_host_call`)
        call = self.sb.host_side(self._host_call)
        self.rt = self.sb.library_api(
            "workflow_runtime.lua", self.proc.table, call, code, files, fields=_RUNTIME_FIELDS
        )

    def _open_time(self, sb: Sandbox) -> Any:
        """The `time` module: the yielding functions of the timers section at once, the rest (Time and
        Duration values, parsing, formatting) on first use."""
        return self.rt.lazy_time()

    def _host_call(self, name: bytes, *args: Any) -> Any:
        """The runtime's host functions (`lib/workflow_runtime.lua`), by name."""
        if name == b"duration_ns":
            return self._duration(*args)
        if name == b"info":
            return self._info(*args)
        if name == b"open_time":
            from wftest.lua.modules.time import open_time

            return open_time(self.sb)
        raise ValueError(f"no host function {name!r}")

    def _duration(self, value: Any) -> tuple[Any, ...]:
        try:
            return (duration_ns(self.sb, value),)
        except ValueError as exc:
            return None, str(exc)

    def _info(self) -> Any:
        raise NotImplementedError
