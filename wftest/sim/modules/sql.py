"""Wippy's `sql` module on SQLite (Python's sqlite3), for the databases of one world's `Resources`.

Follows runtime/lua/modules/sql (db.go, transaction.go, statement.go, util.go, yields.go) and
service/sql (dispatcher.go, factory.go): `sql.get` gives a DB handle; query rows are tables keyed by
column name; execute gives `last_insert_id` and `rows_affected`; a transaction holds the database's one
connection until commit or rollback; statements can be closed once. The objects live in Lua
(`lib/sql.lua`); this file answers its `py(op, ...)` calls. Calls return at once: no virtual time passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wftest.lua.sandbox import Sandbox, text
from wftest.sim.modules.lua_half import lua_half
from wftest.sim.resources import (
    Database,
    ResourceError,
    Result,
    Statement,
    Transaction,
    dispatch,
)

if TYPE_CHECKING:
    from wftest.sim.resources import Resources

_NOT_ACTIVE = "transaction is not active"


def _lua_value(v: Any) -> Any:
    """A column value for Lua: TEXT back to the exact bytes stored (see `resources._text`)."""
    return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v


def _param(v: Any) -> Any:
    """A bind parameter as Go's SQLite driver would store it (Lua strings are TEXT)."""
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return v  # not UTF-8: stored as a BLOB (Python's sqlite3 cannot bind such TEXT)
    if v is None or isinstance(v, (bool, int, float)):
        return v
    kind, value = text(v[1]), v[2]  # a typed value {type, value} from sql.as
    if kind == "binary":
        return bytes(value)
    if kind == "text":
        return _param(value)
    return value


class _Session:
    """One sandbox's handles onto the world's databases."""

    def __init__(self, sb: Sandbox, resources: Resources) -> None:
        self.sb = sb
        self.resources = resources
        self.handles: dict[int, Any] = {}
        self.next = 0
        # A transaction's owner is this sandbox: once released (its activity attempt is over), the
        # next use of the database rolls the transaction back, as Wippy's cleanup does.
        self.owner_alive: Callable[[], bool] = lambda: not sb.__dict__.get("_released", False)

    def _new(self, obj: Any) -> int:
        self.next += 1
        self.handles[self.next] = obj
        return self.next

    def dispatch(self, op: bytes, *args: Any) -> Any:
        return dispatch(_OPS, self, op, args, "sql")

    @staticmethod
    def _params(p: Any, n: int) -> list[Any]:
        return [_param(p[i]) for i in range(1, int(n) + 1)]

    def _rows(self, result: Result) -> Any:
        return self.sb.table(
            [dict(zip(result.columns, [_lua_value(v) for v in row], strict=True)) for row in result.rows]
        )

    def _exec(self, result: Result) -> Any:
        return self.sb.table({"last_insert_id": result.last_insert_id, "rows_affected": result.rows_affected})

    # -- ops ---------------------------------------------------------------------------------------

    def get(self, entry_id: bytes) -> tuple[Any, ...]:
        db = self.resources.database(text(entry_id))
        return True, self._new(db), db.db_type

    def query(self, h: int, sql: bytes, p: Any, n: int) -> tuple[Any, ...]:
        db: Database = self.handles[h]
        return True, self._rows(db.run("query", text(sql), self._params(p, n)))

    def execute(self, h: int, sql: bytes, p: Any, n: int) -> tuple[Any, ...]:
        db: Database = self.handles[h]
        return True, self._exec(db.run("execute", text(sql), self._params(p, n)))

    def prepare(self, h: int, sql: bytes) -> tuple[Any, ...]:
        db: Database = self.handles[h]
        db.compile("prepare", text(sql))
        return True, self._new(Statement(db, text(sql), None))

    def begin(self, h: int, read_only: bool, where: bytes) -> tuple[Any, ...]:
        db: Database = self.handles[h]
        return True, self._new(db.begin(text(where), self.owner_alive))

    def release(self, h: int) -> tuple[Any, ...]:
        return (True,)

    def stats(self, h: int) -> tuple[Any, ...]:
        db: Database = self.handles[h]
        in_use = 1 if db.holder is not None else 0
        return True, self.sb.table(
            {
                "max_open_connections": 1,
                "open_connections": 1,
                "in_use": in_use,
                "idle": 1 - in_use,
                "wait_count": 0,
                "wait_duration": "0s",
                "max_idle_closed": 0,
                "max_idle_time_closed": 0,
                "max_lifetime_closed": 0,
            }
        )

    def _tx(self, h: int) -> Transaction:
        tx: Transaction = self.handles[h]
        if not tx.active:
            raise ResourceError("Invalid", _NOT_ACTIVE)
        return tx

    def tx_active(self, h: int) -> tuple[Any, ...]:
        self._tx(h)
        return (True, True)

    def tx_query(self, h: int, sql: bytes, p: Any, n: int) -> tuple[Any, ...]:
        tx = self._tx(h)
        return True, self._rows(tx.db.run("query", text(sql), self._params(p, n), via=tx))

    def tx_execute(self, h: int, sql: bytes, p: Any, n: int) -> tuple[Any, ...]:
        tx = self._tx(h)
        return True, self._exec(tx.db.run("execute", text(sql), self._params(p, n), via=tx))

    def tx_prepare(self, h: int, sql: bytes) -> tuple[Any, ...]:
        tx = self._tx(h)
        tx.db.compile("prepare", text(sql), via=tx)
        return True, self._new(Statement(tx.db, text(sql), tx))

    def tx_finish(self, h: int, commit: bool) -> tuple[Any, ...]:
        self._tx(h).finish(bool(commit))
        return (True, True)

    def _stmt(self, h: int) -> Statement:
        stmt: Statement = self.handles[h]
        if stmt.closed:
            raise ResourceError("Invalid", "statement is closed")
        if stmt.tx is not None and not stmt.tx.active:
            raise ResourceError("Invalid", "statement is closed (its transaction has ended)")
        return stmt

    def stmt_sql(self, h: int) -> str:
        stmt: Statement = self.handles[h]
        return stmt.sql

    def stmt_query(self, h: int, p: Any, n: int) -> tuple[Any, ...]:
        stmt = self._stmt(h)
        return True, self._rows(stmt.db.run("query", stmt.sql, self._params(p, n), via=stmt.tx))

    def stmt_execute(self, h: int, p: Any, n: int) -> tuple[Any, ...]:
        stmt = self._stmt(h)
        return True, self._exec(stmt.db.run("execute", stmt.sql, self._params(p, n), via=stmt.tx))

    def stmt_close(self, h: int) -> tuple[Any, ...]:
        stmt: Statement = self.handles[h]
        if stmt.closed:
            raise ResourceError("Invalid", "statement is already closed")
        stmt.closed = True
        return (True, True)


_OPS: dict[bytes, Callable[..., Any]] = {
    name.encode(): getattr(_Session, name)
    for name in (
        "get",
        "query",
        "execute",
        "prepare",
        "begin",
        "release",
        "stats",
        "tx_active",
        "tx_query",
        "tx_execute",
        "tx_prepare",
        "tx_finish",
        "stmt_sql",
        "stmt_query",
        "stmt_execute",
        "stmt_close",
    )
}


def open_sql(sb: Sandbox, resources: Resources) -> Any:
    """The `sql` module of one sandbox, on `resources`' databases."""
    session = _Session(sb, resources)
    return lua_half(sb, "sql.lua", session.dispatch).table
