"""A Lua state that hosts sandboxes one after another, and a pool of them for replays.

Creating a Lua state and loading wftest's Lua halves into it is most of what a short replay costs. A
reusable `LuaState` keeps the compiled halves (and user chunks) and gives every sandbox brand-new
globals (`lib/state.lua`), so a sandbox never sees what an earlier one did. A workflow sandbox with a
state of its own builds its globals the same way, so a simulated run and its replay in a reused state
behave alike (down to the order `pairs` visits the global and library tables). Other sandboxes on a
state of their own (activities, processes: never replayed) work in the state's own globals, which
costs nothing to set up.

A state goes back to a `StatePool` only when nothing of its last sandbox can act later: the sandbox
was released (its host functions cut loose, its Python side dropped), no Lua finalizer or weak table
was ever set up in it (their timing depends on the garbage other sandboxes left), and it holds little
memory.
"""

from __future__ import annotations

import itertools
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from wftest.errors import InternalError
from wftest.lua import engine
from wftest.lua.compiler import bytecode
from wftest.lua.values import Values, helpers_chunk

_BOOT = Path(__file__).with_name("lib") / "state.lua"
_MAX_CHUNKS = 512  # compiled chunks a reusable state keeps; it starts over past this
_CHUNK_IDS: dict[tuple[str, bytes], int] = {}  # (chunk name, bytecode) -> the number states know it by
_NEXT_ID = itertools.count()
_FIELD_NAMES: dict[tuple[bytes, ...], tuple[str, ...]] = {}  # raw field names -> decoded
_PRISTINE_SIZES: list[tuple[int, ...]] = []  # field counts of a fresh state's tables (same in every state)
# A state holding more than this after its sandbox is released is dropped instead of reused.
REUSE_MEMORY_LIMIT = 8 * 1024 * 1024
_LUPA_HANDLES = b"LUPA_PYTHON_REFERENCES_TABLE"  # lupa's registry table of Python object handles
POOL_SIZE = 4
# A state given back collects what its sandboxes left only now and then: after this many sandboxes, or
# once that garbage passes GARBAGE_ALLOWANCE (a full collection costs as much as a tenth of a replay).
COLLECT_EVERY = 32
GARBAGE_ALLOWANCE = 1024 * 1024
# Lua memory a host function needs free before it runs: lupa turns what it returns into Lua values while
# it holds the GIL, and a Lua memory error there would never give the GIL back (the process hangs).
HOST_HEADROOM = 1024 * 1024


@lru_cache(maxsize=1)
def _boot_bytecode() -> bytes:
    return bytecode(_BOOT.read_bytes(), "=state.lua")


def _hold_python_handles(lua: Any) -> Any:
    """Keep the state's Lua handles on Python objects alive; a function that frees the dead ones.

    lupa finds the handle of a Python object it hands to Lua again through a weak table filled by
    `luaL_ref`. A collection cycle clears a dead handle's entry there before it runs the handle's
    finalizer, which only then forgets the handle (by the object's address) and frees the slot. In
    between, `luaL_ref` can give the cleared slot to another object's handle: handing the first object
    to Lua again then yields the other one, and the late finalizer frees a slot that is in use. A state
    that hosts sandbox after sandbox drops and hands out the same objects (the bundled code fetchers, the
    workflow section loader) again and again, so it met this: a section loader came back as a host
    function. So the table is strong, and weak only during a full collection (which clears entries and
    runs every finalizer before any Python object can be handed to Lua again)."""
    pristine = lua.globals()
    handles = pristine[b"debug"][b"getregistry"]()[_LUPA_HANDLES]
    weak = pristine[b"getmetatable"](handles)
    if pristine[b"type"](handles) != b"table" or weak is None:
        raise InternalError("wftest: this lupa build keeps no weak table of Python object handles")
    set_metatable = pristine[b"setmetatable"]
    set_metatable(handles, None)

    def collect() -> None:
        set_metatable(handles, weak)
        try:
            lua.gccollect()
        finally:
            set_metatable(handles, None)

    return collect


class StateBusy(InternalError):
    """A state already hosts a live sandbox."""


class LuaState:
    """One Lua runtime (with its memory limit). Hosts one sandbox at a time; a `reusable` state hosts
    more after `Sandbox.release()` and keeps the chunks compiled in it. With `own_globals` its one
    sandbox works in the state's own global table instead of fresh copies."""

    def __init__(
        self, memory_limit: int | None, *, reusable: bool = False, own_globals: bool = False
    ) -> None:
        if reusable and own_globals:
            raise ValueError("a reusable state gives every sandbox fresh globals (own_globals=False)")
        self.memory_limit = memory_limit
        self.reusable = reusable
        self.own_globals = own_globals
        self.lua = engine.new_runtime(memory_limit)
        self.collect = _hold_python_handles(self.lua)
        self._loaded: set[int] = set()  # ids of the chunks a reusable state has kept
        self.busy = False
        # Set when a host function found the state out of memory, or user code hit a limit: such a state
        # finishes its turn as a failure and never hosts another sandbox.
        self.exhausted = False
        self.tainted = False
        self.sandboxes = 0  # how many sandboxes it has hosted
        self.uncollected = 0  # sandboxes released since the last full collection
        self.clean_size = 0  # memory in use after that collection
        # What the host makes once per state and hands to each of its sandboxes (see `wftest.lua.sandbox`):
        # nothing in it belongs to one sandbox, and user code never reaches it.
        self.shared: dict[Any, Any] = {}
        if own_globals:
            # Before anything replaces globals: the value helpers keep the original type, next, rawget...
            self.values = Values(self.lua)
            self._load = self.lua.globals()[b"load"]
            self.for_prelude: Any = None
            return
        boot = self.lua.globals()[b"load"](_boot_bytecode(), b"=state.lua", b"b")
        code, args = helpers_chunk()
        known = self.lua.table_from(_PRISTINE_SIZES[0]) if _PRISTINE_SIZES else None
        (
            self.for_prelude,
            self._new_env,
            self._run,
            self._forget_chunks,
            self._fields,
            self._pick,
            export,
            slice_tokens,
            sizes,
        ) = boot(reusable, lambda: code if self.room_for(len(code)) else None, known, *args)
        if not _PRISTINE_SIZES:
            _PRISTINE_SIZES.append(tuple(sizes.values()))
        # The value helpers load (against the pristine globals) when a table is first exported.
        self.values = Values(self.lua, helpers=(export, slice_tokens))

    def new_env(self) -> Any:
        """Fresh globals for the next sandbox (made the state's global table); the state is then busy."""
        if self.busy:
            raise StateBusy("this Lua state already hosts a sandbox; release it first")
        if self.sandboxes and not self.reusable:
            raise StateBusy("this Lua state hosted a sandbox already and is not reusable")
        self.busy = True
        self.sandboxes += 1
        if self.own_globals:
            return self.lua.globals()
        return self._new_env()

    def run(self, code: bytes, name: str, env: Any, *args: Any) -> Any:
        """Run a compiled chunk in `env` as if freshly loaded; what it returns."""
        if self.own_globals:
            return self._load(code, name.encode(), b"b")(*args)
        return self.call_with_chunk(self._run, code, name, env, *args)

    def call_with_chunk(self, fn: Any, code: bytes, name: str, *args: Any) -> Any:
        """Call the Lua function `fn(id, code, name, *args)`, where `id` names the compiled chunk in this
        state, and `code` and `name` are nil when the state has kept it (see `chunk` in `state.lua`)."""
        if self.own_globals:
            return fn(None, code, name.encode(), *args)
        chunk_id = _CHUNK_IDS.get((name, code))
        if chunk_id is None:
            chunk_id = _CHUNK_IDS.setdefault((name, code), next(_NEXT_ID))
        if chunk_id in self._loaded:
            return fn(chunk_id, None, None, *args)
        result = fn(chunk_id, code, name.encode(), *args)
        if self.reusable:
            if len(self._loaded) >= _MAX_CHUNKS:
                self._forget_chunks()
                self._loaded.clear()
            else:
                self._loaded.add(chunk_id)
        return result

    def fields(self, table: Any) -> dict[str, Any]:
        """A Lua table's string-keyed fields (fetched in one call where the state can)."""
        if self.own_globals:
            return {name.decode(): value for name, value in table.items()}
        flat = self._fields(table)
        if not isinstance(flat, tuple):
            return {}
        raw = flat[0::2]
        names = _FIELD_NAMES.get(raw)
        if names is None:  # the same tables (the prelude API, the runtime) come back sandbox after sandbox
            names = tuple([name.decode() for name in raw])
            if len(_FIELD_NAMES) < 256:
                _FIELD_NAMES[raw] = names
        return dict(zip(names, flat[1::2], strict=True))

    def pick(self, table: Any, names: tuple[bytes, ...]) -> tuple[Any, ...]:
        """`table[name]` for each of `names` (fetched in one call where the state can; the state keeps
        a Lua list of each tuple of names it was asked for)."""
        if self.own_globals or not names:
            return tuple([table[name] for name in names])
        listed = self.shared.get(names)
        if listed is None:
            listed = self.shared[names] = self.lua.table_from(list(names))
        if len(names) == 1:
            return (self._pick(table, listed),)
        return self._pick(table, listed)  # type: ignore[no-any-return]

    def settle(self) -> None:
        """After a sandbox is released: a full collection when enough garbage has piled up. Until then
        the garbage stays bounded (and Lua itself collects before it reports a memory error)."""
        self.uncollected += 1
        used = self.memory_used()
        if (
            self.uncollected >= COLLECT_EVERY
            or used > self.clean_size + GARBAGE_ALLOWANCE
            or used > REUSE_MEMORY_LIMIT
        ):
            self.collect()  # frees what earlier sandboxes left, Python object handles included
            self.uncollected = 0
            self.clean_size = self.memory_used()

    def memory_used(self) -> int:
        return int(self.lua.get_memory_used())

    def spare_memory(self) -> int | None:
        """Bytes a host function may still add to the state (None: no limit)."""
        if self.memory_limit is None:
            return None
        return max(0, int(self.lua.get_max_memory()) - int(self.lua.get_memory_used()) - HOST_HEADROOM)

    def memory_grace(self) -> None:
        """User code ran out of memory and died: give the host's Lua some room to describe the failure
        (Lua calls this with nothing to convert either way). The state is never reused."""
        self.tainted = True
        if self.memory_limit is not None:
            self.lua.set_max_memory(int(self.lua.get_max_memory()) + HOST_HEADROOM)

    def room_for(self, size: int = 0) -> bool:
        """Whether `size` more bytes (plus the headroom every host function keeps) fit under the memory
        limit. When they do not, the state is marked exhausted: its current turn ends as a memory
        failure and it is never reused."""
        if self.memory_limit is None:
            return True
        if self.lua.get_max_memory() - self.lua.get_memory_used() >= size + HOST_HEADROOM:
            return True
        self.exhausted = self.tainted = True
        return False


class StatePool:
    """Idle reusable states by memory limit, for callers that run many short executions."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self._idle: list[LuaState] = []
        self._lock = threading.Lock()

    def acquire(self, memory_limit: int | None) -> LuaState:
        """An idle state with this memory limit, or a new reusable one."""
        with self._lock:
            for i in range(len(self._idle) - 1, -1, -1):
                if self._idle[i].memory_limit == memory_limit:
                    return self._idle.pop(i)
        return LuaState(memory_limit, reusable=True)

    def give_back(self, state: LuaState) -> None:
        """Keep a released state for a later acquire; states that are busy, not reusable or holding much
        memory are dropped."""
        if state.busy or not state.reusable or state.tainted or len(self._idle) >= self.size:
            return
        state.settle()
        if state.memory_used() > REUSE_MEMORY_LIMIT:
            return
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(state)

    def idle(self) -> int:
        return len(self._idle)


# The one pool that replays, simulated workflow runs and Lua activity attempts all draw from.
STATES = StatePool()
