"""One sandboxed Lua environment per execution, and the host <-> Lua protocol every later layer speaks.

A Sandbox gets Wippy's globals (see `lib/prelude.lua`) in a Lua 5.5 state of its own, or fresh ones in
a pooled state that hosted other sandboxes before (`wftest.lua.state`); it resolves `require` against
an entry's `modules:` and `imports:`, and drives coroutines one turn at a time. Blocking calls are Lua
shims that yield a command table to whoever drives the coroutine; Python never yields Lua.
"""

from __future__ import annotations

import calendar
import importlib
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from wftest.app import App, Entry, LuaEntry
from wftest.errors import UserError
from wftest.lua import coverage, engine, kinds
from wftest.lua.compiler import Chunk, CompileError, bytecode, chunk_bytecode, compile_entry
from wftest.lua.dialect import TYPES_RUNTIME, pattern_matches
from wftest.lua.host_functions import RAISE, Callback, Grace, HostSide, LuaRaise, released
from wftest.lua.modules import (
    GLOBAL_MODULES,
    WORKFLOW_CLASSES,
    ModuleUnavailable,
    lookup,
    module_problems,
)
from wftest.lua.state import LuaState
from wftest.lua.watchdog import WATCHDOG

LIB = Path(__file__).with_name("lib")
_HOOK_EVERY = 10_000  # instructions per budget tick; must match HOOK_EVERY in prelude.lua
DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024
DEFAULT_INSTRUCTION_BUDGET = 200_000_000
DEFAULT_START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z
# The fields of the prelude's API (`lib/prelude.lua`) the host calls, as `Sandbox.api.<name>`; the
# rest is for the Lua halves (and `KIND`, which the host made itself). A new host use of a field adds its
# name here.
_HOST_API = tuple(
    """host_command side_effect wrap_host new_error error_string error_chain is_error spawn trace_returns
    coverage_lines hook_mask last_return resume_turn kill collect load_chunk load_compiled pick_method
    make_require lazy_global gc_observable""".split()
)
_HOST_API_KEYS = tuple([name.encode() for name in _HOST_API])
# Framework libraries wftest provides (opener paths), served to `imports:` naming them when the app
# does not define them itself.
BUILT_IN_IMPORTS = {"wippy.test:test": "wftest.luatest.module:open_test_module"}


class LoadError(UserError):
    """An entry cannot be loaded: a disallowed or unknown module, a bad import, a failing script."""


class NoHostError(UserError):
    """Lua issued a command but nothing is driving it that could serve the command."""


@dataclass
class LuaFailure(UserError):
    """A Lua error that escaped a coroutine, with where it was raised."""

    message: str
    kind: str = "Internal"
    file: str | None = None
    line: int | None = None
    retryable: bool | None = False
    traceback: str = ""
    budget: bool = False
    memory: bool = False
    error: Any = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        if self.file and self.line and not self.message.startswith(f"{self.file}:"):
            return f"{self.file}:{self.line}: {self.message}"
        return self.message


@dataclass(frozen=True)
class Command:
    """A shim asked the host for something; `table` is the Lua command table."""

    table: Any


@dataclass(frozen=True)
class Yielded:
    """A bare `coroutine.yield` at the top of a process coroutine."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class Finished:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Failed:
    failure: LuaFailure


Turn = Command | Yielded | Finished | Failed


def text(value: Any) -> str:
    """A Lua string (bytes) as Python text, keeping invalid UTF-8 visible."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@lru_cache(maxsize=64)
def _library_bytecode(name: str | Path) -> bytes:
    """Bytecode of a bundled Lua half: a file of `lib/` by name, or any file by path (the Lua halves of
    modules served by the packages above this one). Cached: loaded for every execution."""
    if isinstance(name, Path):
        path = name
    else:
        path = TYPES_RUNTIME if name == TYPES_RUNTIME.name else LIB / name
    return bytecode(path.read_bytes(), "=" + path.name)


def _types_bytecode() -> bytes:
    return _library_bytecode(TYPES_RUNTIME.name)


def _extras_bytecode() -> bytes:
    return _library_bytecode("prelude_extras.lua")


@lru_cache(maxsize=256)
def _first_draw(seed: int) -> int:
    """What a sandbox's generator (seeded with `seed`) draws first: the seed of Lua's `math.random`."""
    return random.Random(seed).getrandbits(53)


@lru_cache(maxsize=64)
def _field_keys(names: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple([name.encode() for name in names])


def _state_constants(state: LuaState) -> Any:
    """The prelude's host fields that are the same for every sandbox of a Lua state, made once per state
    (a Lua table that is its own __index, the metatable of each sandbox's host table): Lua gets the same
    objects each time instead of new ones. None of them holds anything of a sandbox."""
    constants = state.shared.get("prelude")
    if constants is None:
        constants = state.shared["prelude"] = state.lua.table_from({
            b"RAISE": RAISE,
            b"memory_grace": Grace(state),
            b"types_code": Callback(_types_bytecode, state),
            b"regex_find": Callback(pattern_matches, state),
            b"extras_code": Callback(_extras_bytecode, state),
            b"KIND": state.lua.table_from({kind.name.encode(): kind.value.encode() for kind in kinds.Kind}),
            b"state": state.for_prelude,
        })
        constants[b"__index"] = constants
    return constants


@dataclass
class SandboxOptions:
    """What the driver decides for one execution."""

    clock_ns: Callable[[], int] = lambda: DEFAULT_START_NS
    context: Mapping[str, Any] = field(default_factory=dict)
    deterministic: bool = False
    seed: int = 0
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    instruction_budget: int = DEFAULT_INSTRUCTION_BUDGET
    log: Callable[[str], None] | None = None
    # Context-dependent modules (funcs, workflow, process, ...) supplied by the runtime driving the code.
    providers: Mapping[str, Callable[[Sandbox], Any]] = field(default_factory=dict)


class Sandbox:
    """Wippy's environment in a Lua state. Not thread-safe; one per execution.

    With no `state` it gets a Lua state of its own (a non-deterministic one, never replayed, works in
    that state's own globals; see `wftest.lua.state`). Given a `LuaState` (from a `StatePool`), it runs
    in fresh globals there; `release()` then hands the state back for the next sandbox."""

    def __init__(self, options: SandboxOptions | None = None, *, state: LuaState | None = None) -> None:
        self.options = options or SandboxOptions()
        if state is not None and state.memory_limit != self.options.memory_limit:
            raise ValueError(
                f"the Lua state has memory limit {state.memory_limit}, the sandbox wants "
                f"{self.options.memory_limit}"
            )
        if state is None:
            state = LuaState(self.options.memory_limit, own_globals=not self.options.deterministic)
        self.state = state
        self.lua = self.state.lua
        self.values = self.state.values
        self._callbacks: list[Callback] = []
        self._rng: random.Random | None = None
        self.logs: list[str] = []
        self.entry_id: str | None = None  # the entry loaded last (for the watchdog's report)
        self.last_line: str | None = None  # the last Lua position the host heard of
        self.env = self.state.new_env()
        constants = _state_constants(self.state)
        host = self.lua.table_from(
            {
                b"constants": constants,
                b"budget_hooks": max(1, self.options.instruction_budget // _HOOK_EVERY),
                b"call": self.callback(self._call_host),
                b"call_side": self.host_side(self._call_host),
                b"random_seed": _first_draw(self.options.seed),
                b"deterministic": self.options.deterministic,
                b"coverage": coverage.ACTIVE is not None,
            }
        )
        # The prelude's private API, and the part of it the host calls (fetched once: lupa can misread a
        # Lua table field that is fetched from inside a Python callback running in a coroutine, so
        # nothing is looked up there later).
        self._api_table = self._run_file("prelude.lua", host)
        fetched = self.state.pick(self._api_table, _HOST_API_KEYS)
        self.api = SimpleNamespace(KIND=constants[b"KIND"], **dict(zip(_HOST_API, fetched, strict=True)))
        # Line coverage (--lua-cov): which chunk is which file, and the lines this sandbox's hooks saw.
        self._coverage = coverage.ACTIVE.track(self.api.coverage_lines) if coverage.ACTIVE else None
        self._modules: dict[str, Any] = {}
        self._libraries: dict[str, Any] = {}
        self._loading: list[str] = []
        self.unavailable: list[str] = []  # modules this code asked for that wftest cannot offer here

    @property
    def rng(self) -> random.Random:
        """The sandbox's seeded generator, made on first use (seeding one is a fair part of a sandbox's
        setup, and most never draw from it); its first draw went to Lua's `math.randomseed`."""
        rng = self.__dict__.get("_rng")
        if rng is None:
            rng = self._rng = random.Random(self.options.seed)
            rng.getrandbits(53)
        return rng

    # -- building blocks for modules -------------------------------------------------------------

    def _run_file(self, name: str | Path, *args: Any) -> Any:
        chunk = "=" + (name.name if isinstance(name, Path) else name)
        return self.state.run(_library_bytecode(name), chunk, self.env, *args)

    def run_library(self, name: str | Path, *args: Any) -> Any:
        """Run a bundled Lua file (a module's Lua half: a file of `lib/` by name, another by path) and
        return what it returns."""
        return self._run_file(name, *args)

    def library_api(
        self, name: str | Path, *args: Any, fields: tuple[str, ...] | None = None
    ) -> SimpleNamespace:
        """Run a bundled Lua file (given the prelude's API and `args`) that returns a table; its
        fields (all, or those named in `fields`) fetched once, plus the table itself as `.table`."""
        table = self._run_file(name, self._api_table, *args)
        if fields is None:
            return SimpleNamespace(table=table, **self.state.fields(table))
        values = self.state.pick(table, _field_keys(fields))
        return SimpleNamespace(table=table, **dict(zip(fields, values, strict=True)))

    def callback(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` as Lua should hold it: cut loose when the sandbox is released."""
        holder = Callback(fn, self.state)
        self._callbacks.append(holder)
        return holder

    def host_side(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """The Python half of a host function (see `host_function`), cut loose on release."""
        holder = HostSide(fn, self.state)
        self._callbacks.append(holder)
        return holder

    def host_function(self, fn: Callable[..., Any]) -> Any:
        """Wrap a Python callable for Lua: `LuaRaise` becomes a Lua error at the caller; str → bytes."""
        return self.api.wrap_host(self.host_side(fn))

    # -- giving the Lua state back -----------------------------------------------------------------

    def release(self) -> bool:
        """End this sandbox: cut its host functions loose and drop every Lua value it holds, so the
        state's garbage collector frees what it made. True when the state may host another sandbox
        (see `wftest.lua.state`); the sandbox itself cannot be used any more."""
        reusable = self.state.reusable and not self.state.tainted and not self.api.gc_observable()
        if self._coverage is not None:
            self._coverage.flush()
        for holder in self._callbacks:
            holder.fn = released
        state = self.state
        vars(self).clear()
        self._released = True
        if reusable:
            state.busy = False
        return reusable

    def __getattr__(self, name: str) -> Any:
        if self.__dict__.get("_released"):
            raise AttributeError(f"'{name}': this sandbox was released and cannot be used any more")
        raise AttributeError(f"'Sandbox' object has no attribute '{name}'")

    def table(self, value: Any) -> Any:
        """A Python value as a Lua value (dicts and lists become tables)."""
        return self.values.to_lua(value)

    def error(
        self, kind: str, message: str, retryable: bool | None = None, details: Mapping[str, Any] | None = None
    ) -> Any:
        """A Wippy error object."""
        return self.api.new_error(
            kind.encode(), message.encode(), retryable, None if details is None else self.table(dict(details))
        )

    def host_command(self) -> Any:
        """The Lua function shims call to hand a command table to the driver."""
        return self.api.host_command

    # -- module resolution -----------------------------------------------------------------------

    def make_require(
        self,
        owner: str,
        modules: Iterable[str],
        imports: Mapping[str, Callable[[], tuple[Any, ...]]],
        allowed: frozenset[str] | None,
    ) -> Any:
        """The `require` an entry sees: its own modules and import aliases, nothing else.

        An import resolves to ("library", chunk, id) the first time (Lua runs the chunk) and to
        ("value", module) once cached."""
        modules = tuple(modules)
        imports = dict(imports)

        def resolve(name: Any) -> tuple[Any, ...]:
            key = text(name)
            if key in imports:
                return imports[key]()
            if key in modules and key not in GLOBAL_MODULES:
                return b"value", self.open_module(key, owner, allowed)
            known = sorted([*modules, *imports])
            return b"global", (
                f"module '{key}' not found: {owner} lists modules {known or '[]'}"
                " (add it to the entry's modules: or imports:)"
            ).encode()

        return self.api.make_require(self.host_side(resolve))

    def _library_loaded(self, target: Any, ok: bool, module: Any) -> None:
        key = text(target)
        self._loading.remove(key)
        if ok:
            self._libraries[key] = module

    def open_module(self, name: str, owner: str, allowed: frozenset[str] | None) -> Any:
        if name in self._modules:
            return self._modules[name]
        spec = lookup(name)
        provider = self.options.providers.get(name)
        if spec is None and provider is None:
            raise LuaRaise(f"unknown module '{name}' (required by {owner})")
        if spec is not None and allowed is not None and spec.wippy_class not in allowed:
            raise LuaRaise(f"module '{name}' does not have any allowed class (required by {owner})")
        try:
            module = provider(self) if provider is not None else spec.open(self)  # type: ignore[union-attr]
        except ModuleUnavailable as exc:
            self.unavailable.append(name)
            raise LuaRaise(str(exc)) from None
        self._modules[name] = module
        return module

    # -- loading entries -------------------------------------------------------------------------

    def load_entry(self, app: App, entry: Entry) -> Any:
        """Compile and run an entry's script; return its method (the function to call)."""
        if not isinstance(entry, LuaEntry):
            raise LoadError(f"{entry.file}:{entry.line}: {entry.id} is a {entry.kind} entry, not a Lua entry")
        allowed = WORKFLOW_CLASSES if entry.kind.startswith("workflow.") else None
        self.entry_id = entry.id
        check_modules(app, entry)
        chunk = compile_entry(entry)
        script = self.call(self._load_chunk(app, entry, chunk, allowed))
        try:  # a user __index on the returned table runs here (under the budget)
            main, err = self.api.pick_method(script[0] if script else None, (entry.method or "main").encode())
        except engine.LuaError as exc:
            raise LoadError(f"{chunk.chunkname}: {entry.id}: {self.lua_failure(exc)}") from None
        if main is None:
            raise LoadError(f"{chunk.chunkname}: {entry.id}: {text(err)}")
        return main

    def _load_chunk(self, app: App, entry: LuaEntry, chunk: Chunk, allowed: frozenset[str] | None) -> Any:
        imports = {
            alias: self._import_loader(app, entry, target, allowed) for alias, target in entry.imports.items()
        }
        require = self.make_require(entry.id, entry.modules, imports, allowed)
        if self._coverage is not None and entry.source_path:
            self._coverage.source(chunk.chunkname, app.root)
        try:
            return self.state.call_with_chunk(
                self.api.load_compiled, chunk_bytecode(chunk), "@" + chunk.chunkname, require
            )
        except engine.LuaError as exc:
            raise CompileError(str(exc)) from None

    def _import_loader(
        self, app: App, owner: LuaEntry, target: str, allowed: frozenset[str] | None
    ) -> Callable[[], tuple[Any, ...]]:
        def load() -> tuple[Any, ...]:
            if target in self._libraries:
                return b"value", self._libraries[target]
            if target in self._loading:
                raise LuaRaise(f"import cycle: {' -> '.join([*self._loading, target])}")
            library = app.entries.get(target)
            if library is None and target in BUILT_IN_IMPORTS:
                module_name, _, opener = BUILT_IN_IMPORTS[target].partition(":")
                self._libraries[target] = getattr(importlib.import_module(module_name), opener)(self)
                return b"value", self._libraries[target]
            if not isinstance(library, LuaEntry):
                what = "not an entry of this app" if library is None else f"a {library.kind} entry"
                raise LuaRaise(f"import '{target}' of {owner.id} is {what}, not a Lua library")
            fn = self._load_chunk(app, library, compile_entry(library), allowed)
            self._loading.append(target)
            return b"library", fn, target.encode()

        return load

    # -- driving coroutines ----------------------------------------------------------------------

    def spawn(self, fn: Any) -> int:
        """A new Lua coroutine (with the instruction budget installed) that will run `fn`; its handle."""
        return int(self.api.spawn(fn))

    def kill(self, thread: int) -> None:
        """Drop a coroutine that will never be resumed again."""
        self.api.kill(thread)

    def resume(self, thread: int, *args: Any) -> Turn:
        """Run coroutine `thread` until it issues a command, yields, returns or fails."""
        try:
            with WATCHDOG.watch(self.describe_turn):
                result = self.api.resume_turn(thread, *args)
        except engine.LuaError as exc:
            self.api.kill(thread)
            return Failed(self.lua_failure(exc))
        status = result[0]
        if self.state.exhausted and status != b"error":
            self.api.kill(thread)
            return Failed(self.lua_failure(None))
        if status == b"command":
            return Command(result[1])
        if status == b"done":
            return Finished(tuple(result[2 : 2 + result[1]]))
        if status == b"yield":
            return Yielded(tuple(result[2 : 2 + result[1]]))
        return Failed(self._failure(result[1]))

    def describe_turn(self) -> str:
        """What runs, for the watchdog (called from its thread)."""
        entry = self.__dict__.get("entry_id") or "Lua code"
        line = self.__dict__.get("last_line")
        return f"{entry} (last Lua line known: {line or 'none'})"

    def _note_line(self, file: Any, line: Any) -> None:
        self.last_line = f"{text(file)}:{line}"

    def lua_failure(self, exc: BaseException | None) -> LuaFailure:
        """What to report when wftest's own Lua driving code failed (`exc`, raised by lupa) or a host
        function found the state out of memory (`exc` None): the user's code ran out of memory or
        budget where Lua could not catch it. The state is never reused."""
        self.state.tainted = True
        if exc is None or isinstance(exc, engine.LuaMemoryError) or self.state.exhausted:
            self.state.exhausted = False
            self.api.collect()
            return LuaFailure(self._memory_message(), memory=True)
        message = text(exc.args[0]) if exc.args else str(exc)
        budget = "instruction budget exceeded" in message
        file, line = _position(message)
        return LuaFailure(message, file=file, line=line, budget=budget, error=exc)

    def describe_failure(self, f: Any) -> LuaFailure:
        """A failure table from the prelude (or a bare message/kind table) as a LuaFailure."""
        return self._failure(f)

    def _failure(self, f: Any) -> LuaFailure:
        message = text(f.message)
        memory = message.endswith("not enough memory") or self.state.exhausted
        if memory:
            self.state.exhausted = False
            self.api.collect()
            message = self._memory_message()
        if memory or f.budget:
            self.state.tainted = True
        return LuaFailure(
            message=message,
            kind=text(f.kind) if f.kind is not None else "Internal",
            file=text(f.file) if f.file is not None else None,
            line=int(f.line) if f.line is not None else None,
            retryable=f.retryable,
            traceback=text(f.traceback) if f.traceback is not None else "",
            budget=bool(f.budget),
            memory=memory,
            error=f.error,
        )

    def _memory_message(self) -> str:
        return f"memory limit exceeded: the Lua state used all of its {self.options.memory_limit} bytes"

    def call(self, fn: Any, *args: Any) -> tuple[Any, ...]:
        """Run `fn` to completion with no driver: any command is an error. Raises LuaFailure."""
        turn = self.resume(self.spawn(fn), *args)
        if isinstance(turn, Failed):
            raise turn.failure
        if isinstance(turn, Command):
            kind = text(turn.table.kind) if turn.table.kind is not None else "?"
            raise NoHostError(f"'{kind}' needs a workflow or process runtime to serve it")
        if isinstance(turn, Yielded):
            raise NoHostError("coroutine.yield outside any coroutine")
        return turn.values

    # -- host services ---------------------------------------------------------------------------

    def _call_host(self, name: bytes, *args: Any) -> Any:
        """The prelude's host functions, by name (see `call` in `lib/prelude.lua`)."""
        return _HOST_CALLS[name](self, *args)

    def _open_payload(self) -> Any:
        return self.open_module("payload", "payload", None)

    def _clock_ns(self) -> int:
        return self.options.clock_ns()

    def _print(self, *args: Any) -> None:
        line = "\t".join(
            text(a) if isinstance(a, bytes) else text(self.lua.eval("tostring")(a)) for a in args
        )
        self.logs.append(line)
        if self.options.log is not None:
            self.options.log(line)

    def _produce(self, name: Any, *args: Any) -> Any:
        from wftest.lua.modules.effects import produce

        return produce(text(name), self.rng, args)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.options.clock_ns() // 10**9, tz=timezone.utc)

    def _os_time(self, t: Any) -> int:
        fields = {k: t[k.encode()] for k in ("year", "month", "day", "hour", "min", "sec")}
        if fields["year"] is None or fields["month"] is None or fields["day"] is None:
            raise LuaRaise("field 'day' missing in date table")
        return calendar.timegm(
            (
                fields["year"],
                fields["month"],
                fields["day"],
                12 if fields["hour"] is None else fields["hour"],
                fields["min"] or 0,
                fields["sec"] or 0,
                0,
                0,
                0,
            )
        )

    def _os_date(self, fmt: Any = None, when: Any = None) -> Any:
        pattern = text(fmt) if fmt is not None else "%c"
        moment = self._now() if when is None else datetime.fromtimestamp(int(when), tz=timezone.utc)
        if pattern.startswith("!"):
            pattern = pattern[1:]
        if pattern.startswith("*t"):
            return self.table(
                {
                    "year": moment.year,
                    "month": moment.month,
                    "day": moment.day,
                    "hour": moment.hour,
                    "min": moment.minute,
                    "sec": moment.second,
                    "wday": moment.isoweekday() % 7 + 1,
                    "yday": moment.timetuple().tm_yday,
                    "isdst": False,
                }
            )
        return moment.strftime(pattern)


_HOST_CALLS: dict[bytes, Callable[..., Any]] = {
    b"now_ns": Sandbox._clock_ns,
    b"os_time": Sandbox._os_time,
    b"os_date": Sandbox._os_date,
    b"print": Sandbox._print,
    b"produce": Sandbox._produce,
    b"note_line": Sandbox._note_line,
    b"open_payload": Sandbox._open_payload,
    b"library_loaded": Sandbox._library_loaded,
}


def _position(message: str) -> tuple[str | None, int | None]:
    """The `file.lua:LINE` a Lua error message starts with, if any."""
    head, _, rest = message.partition(": ")
    file, colon, line = head.rpartition(":")
    if colon and file.endswith(".lua") and line.isdigit() and rest:
        return file, int(line)
    return None, None


def check_modules(app: App, entry: LuaEntry) -> None:
    """Load-time module check: unknown modules, and for workflows every module (also of
    imported libraries) must be of class deterministic or workflow."""
    problems = _module_problems_text(app, entry)
    if problems:
        raise LoadError(problems)


@lru_cache(maxsize=1024)
def _module_problems_text(app: App, entry: LuaEntry) -> str:
    """Cached per app and entry (both immutable, compared by identity): every execution loads one."""
    return "\n".join(module_problems(app, entry, entry.kind.startswith("workflow.")))
