"""Wippy's `hash` module (runtime/lua/modules/hash/module.go): digests, FNV-1 sums and HMACs.

Digests are lowercase hex, or the raw bytes when the flag is truthy; FNV-1 (not 1a, as Go's fnv.New32/New64)
comes as a Lua float; HMACs take (data, secret). A non-string argument is `nil, err(Invalid)`, not a raised
error.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wftest.lua.modules.base import INVALID, fail, module

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


def _fnv1(data: bytes, basis: int, prime: int, bits: int) -> int:
    mask = (1 << bits) - 1
    h = basis
    for byte in data:
        h = ((h * prime) & mask) ^ byte
    return h


_DIGESTS: dict[str, Callable[[], Any]] = {
    "md5": lambda: hashlib.md5(usedforsecurity=False),
    "sha1": lambda: hashlib.sha1(usedforsecurity=False),
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
_FNV: dict[str, tuple[int, int, int]] = {
    "fnv32": (0x811C9DC5, 0x01000193, 32),
    "fnv64": (0xCBF29CE484222325, 0x100000001B3, 64),
}


def _truthy(v: Any) -> bool:
    return v is not None and v is not False


def open_hash(sb: Sandbox) -> Any:
    """md5/sha1/sha256/sha512(data, raw), fnv32/fnv64(data), hmac_<digest>(data, secret, raw)."""

    def digest(name: str) -> Callable[..., tuple[Any, Any]]:
        def run(data: Any = None, raw: Any = None) -> tuple[Any, Any]:
            if not isinstance(data, bytes):
                return fail(sb, INVALID, "data must be a string")
            h = _DIGESTS[name]()
            h.update(data)
            return (h.digest() if _truthy(raw) else h.hexdigest()), None

        return run

    def fnv(name: str) -> Callable[..., tuple[Any, Any]]:
        basis, prime, bits = _FNV[name]

        def run(data: Any = None) -> tuple[Any, Any]:
            if not isinstance(data, bytes):
                return fail(sb, INVALID, "data must be a string")
            # Wippy hands the unsigned sum to Lua as a float64 (fnv64 rounds, as Go's conversion does).
            return float(_fnv1(data, basis, prime, bits)), None

        return run

    def mac(name: str) -> Callable[..., tuple[Any, Any]]:
        def run(data: Any = None, secret: Any = None, raw: Any = None) -> tuple[Any, Any]:
            if not isinstance(data, bytes):
                return fail(sb, INVALID, "data must be a string")
            if not isinstance(secret, bytes):
                return fail(sb, INVALID, "secret must be a string")
            h = hmac.new(secret, data, name)
            return (h.digest() if _truthy(raw) else h.hexdigest()), None

        return run

    functions: dict[str, Any] = {name: digest(name) for name in _DIGESTS}
    functions.update({name: fnv(name) for name in _FNV})
    functions.update({f"hmac_{name}": mac(name) for name in ("sha256", "sha512", "sha1", "md5")})
    return module(sb, functions)
