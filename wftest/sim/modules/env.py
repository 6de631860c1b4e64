"""Wippy's `env` module over one world's env storages and declared `env.variable` entries.

Follows runtime/lua/modules/env/module.go and service/env (memory, os, composite): `get`/`set` name a
declared variable and reach its storage (a router reads from the first storage that has the name and
writes to the first one); `get_all` gives every declared variable that has a value; an empty name is
an Invalid error. The OS storage reads the world's copy of the environment and cannot be written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wftest.lua.host_functions import LuaRaise
from wftest.lua.modules.base import check_string
from wftest.lua.sandbox import Sandbox, text
from wftest.sim.resources import EnvError, ResourceMisuse

if TYPE_CHECKING:
    from wftest.sim.resources import Resources


def open_env(sb: Sandbox, resources: Resources) -> Any:
    """The `env` module of one sandbox, on `resources`' env storages."""

    def fail(kind: str, message: str) -> tuple[None, Any]:
        return None, sb.error(kind, message, retryable=False)

    def name_of(v: Any, fname: str) -> str:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
        return text(check_string(v, 1, fname))

    def get(key: Any = None, *_: Any) -> tuple[Any, Any]:
        name = name_of(key, "get")
        if not name:
            return fail("Invalid", "empty key")
        try:
            return resources.env_get(name), None
        except EnvError as exc:
            return fail(exc.kind, f"get environment variable failed: {exc.message}: {name}")
        except ResourceMisuse as exc:
            raise LuaRaise(str(exc)) from None

    def set_(key: Any = None, value: Any = None, *_: Any) -> tuple[Any, Any]:
        name = name_of(key, "set")
        if not name:
            return fail("Invalid", "empty key")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value).encode()
        new = text(check_string(value, 2, "set"))
        try:
            resources.env_set(name, new)
        except EnvError as exc:
            return fail(exc.kind, f"set environment variable failed: {exc.message}: {name}")
        except ResourceMisuse as exc:
            raise LuaRaise(str(exc)) from None
        return True, None

    def get_all(*_: Any) -> tuple[Any, Any]:
        try:
            return sb.table(resources.env_all()), None
        except ResourceMisuse as exc:
            raise LuaRaise(str(exc)) from None

    return sb.table(
        {
            "get": sb.host_function(get),
            "set": sb.host_function(set_),
            "get_all": sb.host_function(get_all),
        }
    )
