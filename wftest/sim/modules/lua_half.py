"""Loading the Lua half of a world-served module with the helpers all of them share (`lib/objects.lua`)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from wftest.lua.sandbox import Sandbox


def lua_half(sb: Sandbox, file: str, dispatch: Callable[..., Any]) -> SimpleNamespace:
    """Run `lib/<file>` in `sb` with its Python side (`dispatch`) and the shared helpers."""
    return sb.library_api(file, sb.host_function(dispatch), sb.library_api("objects.lua").table)
