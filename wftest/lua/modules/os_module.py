"""`os` listed under an entry's `modules:`: the same clock-only `os` every Lua entry has as a global."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


def open_os(sb: Sandbox) -> Any:
    return sb.env.os
