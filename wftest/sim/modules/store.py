"""Wippy's `store` module over one world's `store.memory` entries.

Follows runtime/lua/modules/store (store.go, yields.go) and service/store/memory (memstore.go): values
are copied in and out (as Wippy transcodes them), `get` of a missing key is a NotFound error, `delete`
of one returns false, `release` is idempotent and later calls fail with Invalid, TTLs (seconds) run on
the world's virtual clock. The Store object lives in Lua (`lib/store.lua`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wftest.encoding.jsontext import EncodeError
from wftest.lua.sandbox import Sandbox, text
from wftest.sim.modules.lua_half import lua_half
from wftest.sim.resources import MemoryStore, ResourceError, StoreItem, dispatch

if TYPE_CHECKING:
    from wftest.sim.resources import Resources

SECOND = 1_000_000_000


class _Session:
    def __init__(self, sb: Sandbox, resources: Resources) -> None:
        self.sb = sb
        self.resources = resources
        self.stores: dict[int, MemoryStore] = {}

    def dispatch(self, op: bytes, *args: Any) -> Any:
        return dispatch(_OPS, self, op, args, "store")

    def _entry(self, key: str, item: StoreItem) -> Any:
        return self.sb.table({"key": key, "value": item.value, "version": str(item.version)})

    def get(self, entry_id: bytes) -> tuple[Any, ...]:
        store = self.resources.store(text(entry_id))
        handle = len(self.stores) + 1
        self.stores[handle] = store
        return True, handle

    def get_key(self, h: int, key: bytes) -> tuple[Any, ...]:
        item = self.stores[h].get(text(key))
        if item is None:
            raise ResourceError("NotFound", "store get: key not found")
        return True, self.sb.table(item.value)

    def entry(self, h: int, key: bytes) -> tuple[Any, ...]:
        item = self.stores[h].get(text(key))
        if item is None:
            raise ResourceError("NotFound", "store entry: key not found")
        return True, self._entry(text(key), item)

    def put(
        self, h: int, key: bytes, value: Any, ttl: float, absent: bool, version: int | None, versioned: bool
    ) -> tuple[Any, ...]:
        try:
            copied = self.sb.values.to_python(value)
        except EncodeError as exc:
            raise ResourceError("Internal", f"failed to transcode: {exc}") from None
        context = "store put" if versioned else "store set"
        try:
            item = self.stores[h].put(
                text(key), copied, int(ttl * SECOND), only_if_absent=bool(absent), if_version=version
            )
        except ResourceError as exc:
            raise ResourceError(exc.kind, f"{context}: {exc.message}", exc.retryable) from None
        return (True, self._entry(text(key), item)) if versioned else (True, True)

    def has(self, h: int, key: bytes) -> tuple[Any, ...]:
        return True, self.stores[h].get(text(key)) is not None

    def delete(self, h: int, key: bytes) -> tuple[Any, ...]:
        return True, self.stores[h].delete(text(key))

    def list(self, h: int, prefix: bytes, after: bytes, limit: int) -> tuple[Any, ...]:
        store = self.stores[h]
        keys = [k for k in store.keys() if k.startswith(text(prefix)) and k > text(after)]
        more = bool(limit) and len(keys) > limit
        page = keys[:limit] if limit else keys
        items = []
        for k in page:
            item = store.get(k)
            if item is not None:
                items.append({"key": k, "value": item.value, "version": str(item.version)})
        cursor = page[-1] if more and page else ""
        return True, self.sb.table({"items": items, "cursor": cursor, "has_more": more})

    def info(self, h: int) -> tuple[Any, ...]:
        store = self.stores[h]
        return True, self.sb.table(
            {
                "id": store.entry_id,
                "backend": "memory",
                "consistency": "local",
                "durable": False,
                "list": True,
                "versioned": True,
                "conditional_put": True,
                "ttl": True,
            }
        )


_OPS: dict[bytes, Callable[..., Any]] = {
    name.encode(): getattr(_Session, name)
    for name in ("get", "get_key", "entry", "put", "has", "delete", "list", "info")
}


def open_store(sb: Sandbox, resources: Resources) -> Any:
    """The `store` module of one sandbox, on `resources`' stores."""
    session = _Session(sb, resources)
    return lua_half(sb, "store.lua", session.dispatch).table
