"""Wippy's `base64` module: the standard alphabet, padded; like Go's decoder, CR and LF are skipped."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from wftest.lua.modules.base import INTERNAL, INVALID, fail, module

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


def open_base64(sb: Sandbox) -> Any:
    """base64.encode/decode as runtime/lua/modules/base64/module.go: one value on success, `nil, err`
    (Invalid) for a non-string or bad data."""

    def encode(data: Any = None) -> Any:
        if not isinstance(data, bytes):
            return fail(sb, INVALID, "string expected")
        return base64.b64encode(data)

    def decode(data: Any = None) -> Any:
        if not isinstance(data, bytes):
            return fail(sb, INVALID, "string expected")
        too_big = _too_big(sb, len(data) // 4 * 3, "decode failed")
        if too_big:
            return fail(sb, INTERNAL, too_big)
        try:
            return base64.b64decode(data.replace(b"\r", b"").replace(b"\n", b""), validate=True)
        except binascii.Error as exc:
            return fail(sb, INVALID, f"decode failed: illegal base64 data: {exc}")

    return module(sb, {"encode": encode, "decode": decode})


def _too_big(sb: Sandbox, size: int, fname: str) -> str | None:
    """The refusal of a result of `size` bytes that would not fit in the sandbox's memory limit."""
    spare = sb.state.spare_memory()
    if spare is None or size <= spare:
        return None
    return f"{fname}: the result ({size} bytes) would exceed the Lua memory limit"
