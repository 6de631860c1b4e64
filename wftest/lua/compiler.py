"""From an entry's typed Lua source to plain Lua that loads, with errors as `file.lua:LINE: message`.

Erasing is pure and cached per process (keyed by chunk name and text), so a reused App compiles each
source once however many executions load it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from wftest.app import LuaEntry
from wftest.errors import UserError
from wftest.lua import engine
from wftest.lua.dialect import DialectError, erase


class CompileError(UserError):
    """A syntax error in a Lua source (typed or plain); the message starts with `file.lua:LINE:`."""


@dataclass(frozen=True)
class Chunk:
    chunkname: str  # shown in every Lua error: the source path relative to the app root
    lua: str  # plain Lua, line N == line N of the source


def chunkname_of(entry: LuaEntry) -> str:
    if entry.source_path:
        return entry.source_path
    return f"{entry.file}#{entry.name}.lua"


def compile_entry(entry: LuaEntry) -> Chunk:
    return compile_source(entry.source_text, chunkname_of(entry))


@lru_cache(maxsize=4096)
def compile_source(source: str, chunkname: str) -> Chunk:
    try:
        erased = erase(source, chunkname)
    except DialectError as exc:
        raise CompileError(str(exc)) from None
    return Chunk(chunkname, erased.lua)


_scratch = threading.local()


def _scratch_state() -> threading.local:
    if getattr(_scratch, "lua", None) is None:
        lua = engine.new_runtime(None)
        _scratch.lua = lua
        _scratch.load = lua.eval("function(s, n) local f, e = load(s, n, 't', {}) return f ~= nil, e end")
        _scratch.dump = lua.eval(
            "function(s, n) local f, e = load(s, n, 't') if not f then return nil, e end "
            "return string.dump(f, n:sub(1, 1) == '='), nil end"
        )
    return _scratch


@lru_cache(maxsize=4096)
def bytecode(source: bytes, source_name: str) -> bytes:
    """Precompiled Lua 5.5 bytecode (with line info) of trusted or already-checked source.

    Loading bytecode is several times faster than parsing, and a sandbox is made for every execution.
    Sources named "=name" (wftest's own Lua halves) are stripped of debug info to keep each state small;
    user chunks ("@path") keep it, so errors name their lines.
    User code never gets to load bytecode itself (`load` is not in the sandbox).
    """
    code, err = _scratch_state().dump(source, source_name.encode())
    if code is None:
        raise CompileError(err.decode("utf-8", "replace"))
    return bytes(code)


@lru_cache(maxsize=4096)
def chunk_bytecode(chunk: Chunk) -> bytes:
    """The bytecode of a compiled entry chunk (named "@path", so errors name its lines)."""
    return bytecode(chunk.lua.encode(), "@" + chunk.chunkname)


def syntax_check(chunk: Chunk) -> None:
    """Parse (without running) the chunk in a scratch Lua state; raise CompileError with file:line."""
    ok, err = _scratch_state().load(chunk.lua.encode(), b"@" + chunk.chunkname.encode())
    if not ok:
        raise CompileError(err.decode("utf-8", "replace"))
