"""Wippy's `ctx` module: the context values as they arrive in Wippy from the wippy-context header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wftest.lua.modules.base import INVALID, NOT_FOUND, check_string, fail, module

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


class _Dropped:
    __slots__ = ()


_DROPPED = _Dropped()


def context_value(v: Any) -> Any:
    """A context value as Wippy sees it after its JSON header round trip: every number is a
    float64, only strings, numbers, booleans, maps and lists survive (others are dropped)."""
    if isinstance(v, (bool, str, float)):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, Mapping):
        return {str(k): c for k, x in v.items() if (c := context_value(x)) is not _DROPPED}
    if isinstance(v, (list, tuple)):
        return [c for x in v if (c := context_value(x)) is not _DROPPED]
    return _DROPPED


def open_ctx(sb: Sandbox) -> Any:
    """ctx.get/ctx.all over `sb.options.context`, read at each call."""

    def values() -> dict[str, Any]:
        return context_value(sb.options.context)  # type: ignore[no-any-return]

    def get(key: Any = None) -> tuple[Any, Any]:
        name = check_string(key, 1, "get").decode("utf-8", "replace")
        if not name:
            return fail(sb, INVALID, "ctx.get: key must not be empty")
        found = values()
        if name not in found:
            return fail(sb, NOT_FOUND, f"ctx.get: context key '{name}' not found")
        return sb.table(found[name]), None

    def all_values() -> tuple[Any, Any]:
        return sb.table(values()), None

    return module(sb, {"get": get, "all": all_values})
