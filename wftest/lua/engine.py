"""The one place that picks the Lua engine.

Lua 5.5 through lupa: integers, `goto`, bitwise operators, `//`, yields across `pcall`, and a fixed
`string_hash_seed`, which makes `pairs` order identical in every process (Lua 5.4 seeds it randomly).
Strings cross as `bytes` (`encoding=None`) because Lua strings are byte strings.
"""

from __future__ import annotations

from typing import Any

from lupa import lua55

LuaError = lua55.LuaError
LuaMemoryError = lua55.LuaMemoryError
LuaSyntaxError = lua55.LuaSyntaxError
lua_type = lua55.lua_type

STRING_HASH_SEED = 0


def new_runtime(max_memory: int | None) -> Any:
    """A fresh Lua state with nothing of Python's reachable from Lua."""
    return lua55.LuaRuntime(
        encoding=None,
        unpack_returned_tuples=True,
        register_eval=False,
        register_builtins=False,
        max_memory=max_memory,
        string_hash_seed=STRING_HASH_SEED,
    )
