"""What the Wippy module implementations share: Lua-style argument checks, the `value, err` convention,
module tables, and the Go view of a Lua value."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wftest.encoding.jsontext import EncodeError, bytes_to_text
from wftest.lua import engine
from wftest.lua.host_functions import LuaRaise

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox

INVALID = "Invalid"
INTERNAL = "Internal"
NOT_FOUND = "NotFound"

def lua_type(v: Any) -> str:
    """The Lua type name of a value as a host function receives it."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return str(engine.lua_type(v) or "userdata")


def bad_argument(n: int, fname: str, expected: str, got: Any) -> LuaRaise:
    """The error Lua's own argument checks raise, so messages read like any builtin's."""
    return LuaRaise(f"bad argument #{n} to '{fname}' ({expected} expected, got {lua_type(got)})")


def check_string(v: Any, n: int, fname: str) -> bytes:
    """A required string argument; anything else raises like Lua's `luaL_checkstring` would."""
    if not isinstance(v, bytes):
        raise bad_argument(n, fname, "string", v)
    return v


def optional_string(v: Any, n: int, fname: str) -> bytes | None:
    """An optional string argument: nil gives None, another non-string raises."""
    return None if v is None else check_string(v, n, fname)


def check_integer(v: Any, n: int, fname: str) -> int:
    """A required integer argument (an integral float is accepted, as Lua does)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise bad_argument(n, fname, "number", v)
    if isinstance(v, float):
        if not v.is_integer():
            raise LuaRaise(f"bad argument #{n} to '{fname}' (number has no integer representation)")
        return int(v)
    return v


def check_table(v: Any, n: int, fname: str) -> Any:
    """A required table argument (Wippy objects are tables here too)."""
    if lua_type(v) != "table":
        raise bad_argument(n, fname, "table", v)
    return v


def fail(sb: Sandbox, kind: str, message: str) -> tuple[None, Any]:
    """`nil, err` with a Wippy error of this kind."""
    return None, sb.error(kind, message, retryable=False)


def lua_arguments(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` called the way Lua calls functions: extra arguments are ignored (e.g. the `nil` error that
    follows a value in `json.encode(json.decode(s))`)."""
    code = fn.__code__
    if code.co_flags & inspect.CO_VARARGS:
        return fn
    n = code.co_argcount

    def call(*args: Any) -> Any:
        return fn(*args[:n])

    return call


def module(sb: Sandbox, functions: Mapping[str, Any]) -> Any:
    """A Lua module table from Python callables (wrapped as host functions) and ready Lua values."""
    return sb.lua.table_from(
        {
            name.encode(): f if engine.lua_type(f) is not None else sb.host_function(lua_arguments(f))
            for name, f in functions.items()
        }
    )


_GO_DEPTH = 200


def go_value(v: Any, depth: int = 0) -> Any:
    """A Lua value as Wippy's value.ToGoAny makes it (yaml.encode, jwt payloads): a table with an array
    part is a list of its items 1..#t (other keys dropped), any other table (the empty one too) a map
    with its keys as strings; integers stay integers, floats floats."""
    if isinstance(v, bytes):
        return bytes_to_text(v)
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if lua_type(v) != "table":
        raise EncodeError(f"cannot encode a {lua_type(v)}")
    if depth >= _GO_DEPTH:
        raise EncodeError(f"tables nested deeper than {_GO_DEPTH} levels (a cycle?)")
    n = len(v)
    if n:
        return [go_value(v[i], depth + 1) for i in range(1, n + 1)]
    return {_go_key(k): go_value(x, depth + 1) for k, x in v.items()}


def _go_key(k: Any) -> str:
    if isinstance(k, bytes):
        return bytes_to_text(k)
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, float):
        return format(k, ".14g")
    if isinstance(k, int):
        return str(k)
    raise EncodeError(f"cannot encode a {lua_type(k)} key")
