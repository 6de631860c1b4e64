"""Loading the Lua half of a world-served module with the helpers all of them share (`lib/objects.lua`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from wftest.lua.sandbox import Sandbox

LIB = Path(__file__).with_name("lib")  # the Lua halves of the modules the world serves


def lua_half(sb: Sandbox, file: str, dispatch: Callable[..., Any]) -> SimpleNamespace:
    """Run `lib/<file>` in `sb` with its Python side (`dispatch`) and the shared helpers."""
    return sb.library_api(LIB / file, sb.host_function(dispatch), sb.library_api(LIB / "objects.lua").table)
