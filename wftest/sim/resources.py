"""The app's resources as one world sees them: SQL databases, key-value stores and environment storages.

Wippy's `sql`, `store` and `env` modules reach resource entries of the app (`db.sql.*`, `store.memory`,
`env.storage.*`, `env.variable`). Each world gets its own: every SQLite database starts empty in memory
(whatever file the entry names), every memory store and memory env storage starts empty, and the OS
environment is a copy the test may change. So tests stay independent and never touch real files.
Entries of other SQL drivers run on SQLite once a test points them there (`sql_backend`); until then
their first use is an error naming the entry.

This module holds the Python side only; `wftest.lua.modules.{sql,store,env}` give Lua its objects.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wftest.app import App
from wftest.errors import UserError

if TYPE_CHECKING:
    from wftest.sim.http import WorldHttp

SQL_PREFIX = "db.sql."
SQLITE_KIND = "db.sql.sqlite"
STORE_MEMORY = "store.memory"
ENV_VARIABLE = "env.variable"
ENV_MEMORY = "env.storage.memory"
ENV_OS = "env.storage.os"
ENV_STATIC = "env.storage.static"
ENV_ROUTER = "env.storage.router"
ENV_FILE = "env.storage.file"
# `sql.type` names by driver (the part of the kind after `db.sql.`).
SQL_TYPES = {"sqlite": "sqlite", "postgres": "postgres", "mysql": "mysql"}


class ResourceError(Exception):
    """A Wippy error a resource operation returns: kind, message, retryable."""

    def __init__(self, kind: str, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable


class ResourceMisuse(UserError):
    """Not a Wippy error value but a mistake to stop at: an entry wftest cannot serve as configured, or
    an operation Wippy would wait on forever. Raised as a Lua error at the caller's line."""


def dispatch(ops: Mapping[bytes, Callable[..., Any]], session: Any, op: bytes, args: tuple[Any, ...],
             module: str) -> Any:
    """Run one operation a module's Lua half asked for, in the shape that half reads: the result, or
    `false, kind, message, retryable` for a Wippy error, or `nil, message` for a Lua error to raise."""
    try:
        return ops[op](session, *args)
    except ResourceError as exc:
        return False, exc.kind, exc.message, exc.retryable
    except ResourceMisuse as exc:
        return None, str(exc)
    except (LookupError, TypeError, ValueError):  # a table forged to look like one of our objects
        return None, f"invalid {module} object: it was not made by the {module} module"


# ---------------------------------------------------------------------------------------------------
# SQL on SQLite


def _sqlite_error(context: str, exc: sqlite3.Error) -> ResourceError:
    """A driver error as Wippy returns it, `context: driver message`. Statements that cannot compile
    (syntax, unknown table or column) and constraint violations are Invalid; a busy database is
    Unavailable (retryable); anything else Internal."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in lowered or "busy" in lowered):
        return ResourceError("Unavailable", f"{context}: {text}", True)
    if isinstance(exc, (sqlite3.OperationalError, sqlite3.ProgrammingError, sqlite3.IntegrityError)):
        return ResourceError("Invalid", f"{context}: {text}")
    return ResourceError("Internal", f"{context}: {text}")


def _split_statements(sql: str) -> list[str]:
    """A script of several statements, one by one (as Go's SQLite driver runs them in one Exec)."""
    parts: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        for piece in re.split(r"(?<=;)", line):
            current += piece
            if current.strip() and sqlite3.complete_statement(current):
                parts.append(current.strip())
                current = ""
    if current.strip():
        parts.append(current.strip())
    return parts


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@dataclass
class Result:
    """What a query gave: column names and rows, or, for a statement, the insert id and change count."""

    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    last_insert_id: int = 0
    rows_affected: int = 0


class Database:
    """One SQL entry's database in this world: one SQLite connection, as Wippy gives SQLite one
    connection (a transaction holds it until it ends)."""

    def __init__(self, entry_id: str, kind: str, target: str) -> None:
        self.entry_id = entry_id
        self.kind = kind
        self.target = target
        self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        # TEXT as str for Python callers; bytes that are not UTF-8 survive (Lua gets them back as they were).
        self.conn.text_factory = _text
        self.holder: Transaction | None = None

    @property
    def db_type(self) -> str:
        return "sqlite"

    def close(self) -> None:
        self.conn.close()

    def check_free(self, via: Transaction | None) -> None:
        holder = self.holder
        if holder is not None and holder is not via:
            if not holder.owner_alive():
                holder.abandon()
                return
            raise ResourceMisuse(
                f"database {self.entry_id} has one connection and the transaction begun at {holder.where} "
                "holds it; Wippy would wait here forever: commit or roll back that transaction first"
            )

    def run(self, context: str, sql: str, params: Sequence[Any], *, via: Transaction | None = None) -> Result:
        """Run one statement (a script of several when it has no parameters)."""
        self.check_free(via)
        try:
            cursor = self.conn.execute(sql, tuple(params))
        except sqlite3.ProgrammingError as exc:
            counts = re.search(r"uses (\d+), and there are (\d+) supplied", str(exc))
            if counts is not None:  # Go's SQLite driver ignores extra arguments, refuses missing ones
                wanted, given = int(counts.group(1)), int(counts.group(2))
                if given < wanted:
                    raise ResourceError(
                        "Invalid", f"{context}: not enough args to execute query: want {wanted} got {given}"
                    ) from None
                return self.run(context, sql, params[:wanted], via=via)
            if "one statement at a time" not in str(exc) or params:
                raise _sqlite_error(context, exc) from None
            return self._script(context, sql)
        except sqlite3.Error as exc:
            raise _sqlite_error(context, exc) from None
        return self._result(context, cursor)

    def _script(self, context: str, sql: str) -> Result:
        result = Result()
        for statement in _split_statements(sql):
            try:
                result = self._result(context, self.conn.execute(statement))
            except sqlite3.Error as exc:
                raise _sqlite_error(context, exc) from None
        return result

    def _result(self, context: str, cursor: sqlite3.Cursor) -> Result:
        try:
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall() if columns else []
        except sqlite3.Error as exc:
            raise _sqlite_error(context, exc) from None
        last = self.conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        return Result(
            columns=[c.decode() if isinstance(c, bytes) else str(c) for c in columns],
            rows=rows,
            last_insert_id=int(last),
            rows_affected=max(cursor.rowcount, 0),
        )

    def compile(self, context: str, sql: str, *, via: Transaction | None = None) -> None:
        """Check that `sql` compiles (what preparing a statement does), without running it."""
        self.check_free(via)
        try:
            self.conn.execute("EXPLAIN " + sql)
        except sqlite3.ProgrammingError as exc:
            found = re.search(r"uses (\d+)", str(exc))
            if found is None:
                raise _sqlite_error(context, exc) from None
            try:
                self.conn.execute("EXPLAIN " + sql, (None,) * int(found.group(1)))
            except sqlite3.Error as again:
                raise _sqlite_error(context, again) from None
        except sqlite3.Error as exc:
            raise _sqlite_error(context, exc) from None

    def begin(self, where: str, owner_alive: Callable[[], bool]) -> Transaction:
        self.check_free(None)
        try:
            self.conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise _sqlite_error("begin", exc) from None
        tx = Transaction(self, where, owner_alive)
        self.holder = tx
        return tx


class Transaction:
    """An open transaction; it holds its database's connection until commit or rollback."""

    def __init__(self, db: Database, where: str, owner_alive: Callable[[], bool]) -> None:
        self.db = db
        self.where = where
        self.owner_alive = owner_alive
        self.active = True

    def finish(self, commit: bool) -> None:
        """Commit or roll back; the transaction is over either way (as in Go's database/sql)."""
        self.active = False
        if self.db.holder is self:
            self.db.holder = None
        try:
            self.db.conn.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error as exc:
            raise _sqlite_error("tx commit" if commit else "tx rollback", exc) from None

    def abandon(self) -> None:
        """Its owner ended without commit or rollback: roll back, as Wippy does on cleanup."""
        if self.active:
            self.finish(False)


class Statement:
    """A prepared statement: its SQL, checked to compile, run on its database or transaction."""

    def __init__(self, db: Database, sql: str, tx: Transaction | None) -> None:
        self.db = db
        self.sql = sql
        self.tx = tx
        self.closed = False


# ---------------------------------------------------------------------------------------------------
# Key-value stores


@dataclass
class StoreItem:
    value: Any
    version: int
    expires_ns: int | None


class MemoryStore:
    """A `store.memory` entry: values with versions and optional expiry on the world's clock."""

    def __init__(self, entry_id: str, max_size: int, clock_ns: Callable[[], int]) -> None:
        self.entry_id = entry_id
        self.max_size = max_size
        self.clock_ns = clock_ns
        self.items: dict[str, StoreItem] = {}
        self.version = 0

    def _live(self, key: str) -> StoreItem | None:
        item = self.items.get(key)
        if item is not None and item.expires_ns is not None and self.clock_ns() > item.expires_ns:
            del self.items[key]
            return None
        return item

    def _purge(self) -> None:
        for key in list(self.items):
            self._live(key)

    def get(self, key: str) -> StoreItem | None:
        return self._live(key)

    def put(
        self,
        key: str,
        value: Any,
        ttl_ns: int,
        *,
        only_if_absent: bool = False,
        if_version: int | None = None,
    ) -> StoreItem:
        self._purge()
        existing = self.items.get(key)
        if only_if_absent and existing is not None:
            raise ResourceError("AlreadyExists", "key already exists")
        if if_version is not None:
            if existing is None:
                raise ResourceError("NotFound", "key not found")
            if existing.version != if_version:
                raise ResourceError("Conflict", "version mismatch")
        if self.max_size > 0 and len(self.items) >= self.max_size and existing is None:
            raise ResourceError("Unavailable", "store is full", True)
        self.version += 1
        item = StoreItem(value, self.version, self.clock_ns() + ttl_ns if ttl_ns > 0 else None)
        self.items[key] = item
        return item

    def delete(self, key: str) -> bool:
        if self._live(key) is None:
            return False
        del self.items[key]
        return True

    def keys(self) -> list[str]:
        self._purge()
        return sorted(self.items)


# ---------------------------------------------------------------------------------------------------
# Environment


class EnvError(ResourceError):
    pass


_NOT_FOUND = "variable not found"


class _EnvStorage:
    def get(self, name: str) -> str:
        raise EnvError("NotFound", _NOT_FOUND)

    def set(self, name: str, value: str) -> None:
        raise EnvError("Invalid", "storage is read-only")

    def all(self) -> dict[str, str]:
        return {}


class _MemoryEnv(_EnvStorage):
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def get(self, name: str) -> str:
        if name not in self.values:
            raise EnvError("NotFound", _NOT_FOUND)
        return self.values[name]

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def all(self) -> dict[str, str]:
        return dict(self.values)


class _ReadOnlyEnv(_MemoryEnv):
    def set(self, name: str, value: str) -> None:
        raise EnvError("Invalid", "storage is read-only")


class _OsEnv(_EnvStorage):
    """The world's copy of the OS environment; read-only, as Wippy's OS storage is."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def get(self, name: str) -> str:
        if name not in self.environ:
            raise EnvError("NotFound", _NOT_FOUND)
        return self.environ[name]

    def all(self) -> dict[str, str]:
        return dict(self.environ)


class _RouterEnv(_EnvStorage):
    """Reads from the first storage that has the name; writes to the first storage."""

    def __init__(self, storages: list[_EnvStorage]) -> None:
        self.storages = storages

    def get(self, name: str) -> str:
        for storage in self.storages:
            try:
                return storage.get(name)
            except EnvError as exc:
                if exc.message != _NOT_FOUND:
                    raise
        raise EnvError("NotFound", _NOT_FOUND)

    def set(self, name: str, value: str) -> None:
        self.storages[0].set(name, value)

    def all(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for storage in reversed(self.storages):
            merged.update(storage.all())
        return merged


# ---------------------------------------------------------------------------------------------------


class Resources:
    """Everything of the app's resource entries that one world has opened, created on first use.

    `environ` is the OS environment `env.storage.os` entries read (a copy of the real one unless given);
    `sql_backends` maps SQL entry ids to the SQLite database they run on (see `sql_backend`)."""

    def __init__(
        self, app: App, clock_ns: Callable[[], int], *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.app = app
        self.clock_ns = clock_ns
        self.environ: dict[str, str] = dict(os.environ if environ is None else environ)
        self.sql_backends: dict[str, str] = {}
        self._databases: dict[str, Database] = {}
        self._stores: dict[str, MemoryStore] = {}
        self._env: dict[str, _EnvStorage] = {}
        self.http: WorldHttp | None = None  # the world's HTTP (wftest.sim.http), set by the world

    # -- SQL ---------------------------------------------------------------------------------------

    def sql_backend(self, entry_id: str, target: str | os.PathLike[str]) -> None:
        """Run SQL entry `entry_id` on SQLite: ":memory:" (a fresh database), "sqlite:///path" or a path
        to a database file (kept between tests: the test owns it)."""
        entry = self.app.entries.get(entry_id)
        if entry is None or not entry.kind.startswith(SQL_PREFIX):
            known = ", ".join(e.id for e in self.app.entries.values() if e.kind.startswith(SQL_PREFIX))
            raise ValueError(
                f"'{entry_id}' is not a SQL database entry of the app (they are: {known or 'none'})"
            )
        if entry_id in self._databases:
            raise ValueError(
                f"SQL entry {entry_id} is already open in this test; point it elsewhere before use"
            )
        text = os.fspath(target)
        if text.startswith("sqlite://"):
            text = text[len("sqlite://") :]  # sqlite:///abs/path -> /abs/path
        elif "://" in text:
            raise ValueError(
                "wftest runs SQL on SQLite only: give ':memory:', 'sqlite:///path' or a file path, "
                f"not {text!r}"
            )
        self.sql_backends[entry_id] = text

    def database(self, entry_id: str) -> Database:
        found = self._databases.get(entry_id)
        if found is not None:
            return found
        entry = self.app.entries.get(entry_id)
        if entry is None:
            raise ResourceError("NotFound", f"resource not found: {entry_id}")
        if not entry.kind.startswith(SQL_PREFIX):
            raise ResourceError("Invalid", f"resource is not a database: {entry_id} is a {entry.kind} entry")
        target = self.sql_backends.get(entry_id)
        if target is None:
            if entry.kind != SQLITE_KIND:
                raise ResourceMisuse(
                    f"SQL entry {entry_id} ({entry.file}:{entry.line}) is a {entry.kind} database and wftest "
                    f"runs SQL on SQLite: point it at one in the test, e.g. "
                    f"wippy.sql_backend({entry_id!r}, ':memory:')"
                )
            target = ":memory:"
        db = Database(entry_id, entry.kind, target)
        self._databases[entry_id] = db
        return db

    # -- stores ------------------------------------------------------------------------------------

    def store(self, entry_id: str) -> MemoryStore:
        found = self._stores.get(entry_id)
        if found is not None:
            return found
        entry = self.app.entries.get(entry_id)
        if entry is None:
            raise ResourceError("Internal", f"failed to acquire resource: resource not found: {entry_id}")
        if entry.kind != STORE_MEMORY:
            if entry.kind.startswith("store."):
                raise ResourceMisuse(
                    f"store entry {entry_id} ({entry.file}:{entry.line}) is a {entry.kind} store; wftest "
                    "serves store.memory entries only"
                )
            raise ResourceError("Invalid", f"resource is not a store: {entry_id} is a {entry.kind} entry")
        size = entry.config.get("max_size", 0)
        store = MemoryStore(entry_id, size if isinstance(size, int) else 0, self.clock_ns)
        self._stores[entry_id] = store
        return store

    # -- env ---------------------------------------------------------------------------------------

    def _variables(self) -> dict[str, Any]:
        """Declared variables by name (`variable:`, else the entry's name)."""
        out: dict[str, Any] = {}
        for entry in self.app.entries.values():
            if entry.kind == ENV_VARIABLE:
                name = entry.config.get("variable") or entry.name
                out.setdefault(str(name), entry)
        return out

    def _env_storage(self, entry_id: str, chain: tuple[str, ...] = ()) -> _EnvStorage:
        found = self._env.get(entry_id)
        if found is not None:
            return found
        entry = self.app.entries.get(entry_id)
        if entry is None:
            raise EnvError("NotFound", f"env storage not found: {entry_id}")
        if entry_id in chain:
            raise EnvError("Invalid", f"env storage {entry_id} routes to itself")
        storage: _EnvStorage
        if entry.kind == ENV_MEMORY:
            storage = _MemoryEnv({str(k): str(v) for k, v in dict(entry.config.get("values") or {}).items()})
        elif entry.kind == ENV_OS:
            storage = _OsEnv(self.environ)
        elif entry.kind == ENV_STATIC:
            storage = _ReadOnlyEnv(
                {str(k): str(v) for k, v in dict(entry.config.get("values") or {}).items()}
            )
        elif entry.kind == ENV_ROUTER:
            names = entry.config.get("storages") or ()
            storage = _RouterEnv([self._env_storage(str(n), (*chain, entry_id)) for n in names])
        else:
            raise ResourceMisuse(
                f"env storage {entry_id} ({entry.file}:{entry.line}) is a {entry.kind} entry; wftest serves "
                f"{ENV_MEMORY}, {ENV_OS}, {ENV_STATIC} and {ENV_ROUTER}"
            )
        self._env[entry_id] = storage
        return storage

    def _variable_storage(self, name: str) -> tuple[Any, _EnvStorage]:
        entry = self._variables().get(name)
        if entry is None:
            raise EnvError("NotFound", _NOT_FOUND)
        return entry, self._env_storage(str(entry.config.get("storage", "")))

    def env_get(self, name: str) -> str:
        entry, storage = self._variable_storage(name)
        try:
            return storage.get(name)
        except EnvError as exc:
            default = entry.config.get("default")
            if exc.message == _NOT_FOUND and default is not None:
                return str(default)
            raise

    def env_set(self, name: str, value: str) -> None:
        _, storage = self._variable_storage(name)
        storage.set(name, value)

    def env_all(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in self._variables():
            try:
                out[name] = self.env_get(name)
            except EnvError:
                continue
        return out

    def close(self) -> None:
        for db in self._databases.values():
            db.close()
        self._databases.clear()
