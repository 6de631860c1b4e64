"""Python callables as Lua holds them: cut loose when their sandbox is released, run only with Lua
memory to spare, and the way a host function raises a Lua error at its caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wftest.lua.state import LuaState

RAISE = b"\x00wftest-raise\x00"  # a host function's first result that means: raise the second at the caller


class LuaRaise(Exception):
    """Raised by a host function to raise a Lua error (with position) at the Lua caller."""


def _to_lua_scalar(value: Any) -> Any:
    return value.encode("utf-8") if isinstance(value, str) else value


def released(*args: Any) -> Any:
    raise RuntimeError("this sandbox was released; its host functions do nothing any more")


class Callback:
    """A Python callable as Lua holds it. Lua keeps this object (it may outlive the sandbox in a pooled
    state), and releasing the sandbox cuts `fn` loose, so nothing in Lua reaches the sandbox's Python side.

    It runs only with memory to spare (`LuaState.room_for`), and gives Lua nil instead of a result that
    would not fit: lupa converts results and exceptions while it holds the GIL, and a Lua memory error
    then would hang the process. The turn then ends as a memory failure."""

    __slots__ = ("fn", "state")

    def __init__(self, fn: Callable[..., Any], state: LuaState) -> None:
        self.fn = fn
        self.state = state

    def __call__(self, *args: Any) -> Any:
        if not self.state.room_for():
            return None
        try:
            result = self.fn(*args)
        except BaseException:
            if not self.state.room_for():
                return None
            raise
        return result if self.state.room_for(_size(result)) else None


class Grace:
    """`LuaState.memory_grace` for Lua: no memory check (it is called when there is none), no result."""

    __slots__ = ("state",)

    def __init__(self, state: LuaState) -> None:
        self.state = state

    def __call__(self) -> None:
        self.state.memory_grace()


def _size(value: Any) -> int:
    """Roughly the Lua memory a host function's result takes (strings dominate)."""
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, tuple):
        return sum([_size(v) for v in value])
    return 0


class HostSide(Callback):
    """The Python half of a host function: `LuaRaise` → (RAISE, message); str results → bytes."""

    __slots__ = ()

    def __call__(self, *args: Any) -> Any:
        if not self.state.room_for():
            return None
        try:
            result = self.fn(*args)
        except LuaRaise as exc:
            return RAISE, str(exc).encode()
        except BaseException:
            if not self.state.room_for():
                return None
            raise
        if not self.state.room_for(_size(result)):
            return None
        if isinstance(result, tuple):
            return tuple([_to_lua_scalar(v) for v in result])
        return _to_lua_scalar(result)
