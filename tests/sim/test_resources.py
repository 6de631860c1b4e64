"""The app's resources under test: `sql` on SQLite, `store` and `env` in memory, per world, and
`wippy.run_activity`. Fidelity cases follow runtime/lua/modules/{sql,store,env} and service/{sql,
store/memory,env} of Wippy's Go source (the file each case follows is named in its docstring)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wftest import load_app
from wftest.lua.sandbox import LoadError
from wftest.sim import World
from wftest.sim.modules import providers
from wftest.testing import ActivityFailed, Wippy

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "resources"
APP = load_app(FIXTURE)
with_app = pytest.mark.wippy_app("../../fixtures/resources")


def run(name: str, world: World | None = None) -> Any:
    world = world or World(APP)
    process = world.run_process(f"app:{name}")
    world.run_until_idle(limit_ns=10**12)
    assert process.status == "finished", process.failure or process.error
    return process.result


def failure(name: str, world: World | None = None) -> str:
    world = world or World(APP)
    process = world.run_process(f"app:{name}")
    world.run_until_idle(limit_ns=10**12)
    assert process.failure is not None, process.result
    return str(process.failure)


# -- sql ---------------------------------------------------------------------------------------------


def test_sql_values_rows_and_results() -> None:
    """yields.go (anyToLua, queryResultToLua, executeResultToLua), util.go (checkParams), as.go: rows are
    tables keyed by column; integers stay integers; NULL is absent; sql.as.* store the type they name."""
    r = run("sql_roundtrip")
    assert r["ids"] == [1, 2] and r["affected"] == 2 and r["count"] == 2
    assert r["first"] == {
        "id": 1, "name": "apple", "price": 1.5, "qty": 3, "data": "\x00\x01", "pt": "real", "qt": "integer",
    }
    assert r["note_is_nil"] is True
    assert r["second"]["price"] == 2.0 and r["second"]["pt"] == "real"  # as.int(2.9) -> 2, REAL column
    assert r["second"]["qty"] == 7 and r["second"]["qt"] == "integer"  # as.float(7) into INTEGER affinity
    assert r["math_types"] == ["integer", "float", "integer"]
    assert r["db_type"] == "sqlite"


def test_sql_errors_name_the_statement_and_the_lua_line() -> None:
    """db.go (sqlGet: empty id Invalid, not a database Invalid), util.go (parameters must be a table);
    statement errors come back as values with the statement and where it ran."""
    r = run("sql_errors")
    assert r["syntax"]["kind"] == "Invalid" and r["syntax"]["retryable"] is False
    assert r["syntax"]["message"] == (
        'query: near "SELEC": syntax error (statement: SELEC nothing; at sql_cases.lua:34)'
    )
    assert r["missing"].startswith("query: no such table: missing_table (statement: SELECT * FROM")
    assert r["missing"].endswith("at sql_cases.lua:35)")
    assert r["params"]["kind"] == "Invalid"
    assert r["params"]["message"] == "check params: parameters must be a table, got number"
    assert r["empty"] == {"kind": "Invalid", "message": "resource id is required"}
    assert r["unknown"]["kind"] == "NotFound" and "app:nope" in r["unknown"]["message"]
    assert r["not_db"]["kind"] == "Invalid" and "store.memory" in r["not_db"]["message"]


def test_sql_transactions_and_savepoints() -> None:
    """transaction.go: commit/rollback end the transaction (later calls: Invalid 'transaction is not
    active'); savepoints roll back part of it; names are letters, digits and underscores."""
    r = run("sql_transactions")
    assert r["inside"] == 1 and r["outside"] == "kept"
    assert r["after_commit"]["kind"] == "Invalid"
    assert r["after_commit"]["message"].startswith("transaction is not active")
    assert r["again"] == "transaction is not active"
    assert r["bad_name"] == "savepoint name can only contain alphanumeric characters and underscores"


def test_using_the_database_while_a_transaction_holds_it_is_an_error_at_the_line() -> None:
    """factory.go gives SQLite one connection: Wippy would wait forever; wftest stops at the line."""
    message = failure("sql_held")
    assert message.startswith("sql_cases.lua:78: database app:db has one connection")
    assert "begun at sql_cases.lua:77" in message


def test_sql_builder() -> None:
    """builder_*.go over squirrel: conditions, AND/OR grouping, NULL, placeholders, executors."""
    r = run("sql_builder")
    assert r["sql"] == (
        "SELECT name, score FROM users WHERE (active = ? AND score >= ?) ORDER BY score DESC LIMIT 5"
    )
    assert r["args"] == [1, 80] and r["names"] == ["ann", "cid"]
    assert r["updated"] == 1 and r["bob"] == 75
    assert r["delete"] == "DELETE FROM users WHERE score < $1"
    assert r["or"] == "(a IS NULL OR name LIKE ?)" and r["or_args"] == ["a%"]
    assert r["not_eq"] == "x <> ? AND y IS NOT NULL"
    assert r["insert_map"] == "INSERT INTO users (name,score) VALUES (?,?)"
    assert r["no_cols"] == "select statements must have at least one result column"


def test_sql_prepared_statements() -> None:
    """statement.go: statements run many times, close once ('statement is already closed'), and
    preparing checks the SQL."""
    r = run("sql_statements")
    assert r["total"] == 5
    assert r["closed"].startswith("statement is closed")
    assert r["twice"] == "statement is already closed"
    assert r["bad"] == "Invalid"


def test_scripts_and_extra_arguments_as_gos_sqlite_driver_runs_them() -> None:
    """service/sql/factory.go opens SQLite with Go's sqlite3 driver: one Exec runs a script of several
    statements; arguments beyond those the statement uses are ignored, missing ones are an error."""
    r = run("sql_quirks")
    assert r["extra"] == 7
    assert r["missing"].startswith("query: not enough args to execute query: want 2 got 1")
    assert r["expr"] == "SQL: v > ? AND w = ? [Args: [1 x]]"
    assert r["select"] == "SelectBuilder: SELECT v FROM b WHERE v = ? [7]"


def test_each_world_has_its_own_fresh_database() -> None:
    """An entry's file (./data/app.db) is never opened: every world starts with an empty database."""
    first = World(APP)
    run("sql_transactions", first)
    run("sql_transactions", World(APP))  # CREATE TABLE t would fail if the table were still there
    assert not (FIXTURE / "data").exists()


def test_other_drivers_fail_at_first_use_naming_the_entry() -> None:
    message = failure("sql_pg")
    assert "SQL entry app:pg (_index.yaml:" in message and "db.sql.postgres" in message
    assert "wippy.sql_backend('app:pg', ':memory:')" in message


def test_other_drivers_run_on_sqlite_when_pointed_there(tmp_path: Path) -> None:
    world = World(APP)
    world.resources.sql_backend("app:pg", f"sqlite:///{tmp_path / 'pg.db'}")
    assert run("sql_pg", world) == 1
    again = World(APP)
    again.resources.sql_backend("app:pg", tmp_path / "pg.db")  # a file the test owns keeps its data
    assert run("sql_pg", again) == 2


def test_sql_backend_refuses_what_it_cannot_serve() -> None:
    world = World(APP)
    with pytest.raises(ValueError, match="not a SQL database entry of the app"):
        world.resources.sql_backend("app:cache", ":memory:")
    with pytest.raises(ValueError, match="runs SQL on SQLite only"):
        world.resources.sql_backend("app:pg", "postgres://localhost/shop")


def test_workflows_may_not_load_sql() -> None:
    """sql, store and env are nondeterministic: a workflow that lists one does not load."""
    world = World(APP)
    with pytest.raises(LoadError, match="module 'sql' does not have any allowed class"):
        world.start("app:sneaky_workflow")


# -- store -------------------------------------------------------------------------------------------


def test_store_memory() -> None:
    """store.go, yields.go and service/store/memory/memstore.go: values are copies, max_size makes the
    store full (Unavailable, retryable), versions count every write, conditional puts check them."""
    r = run("store_cases")
    assert r["fresh"] == 1  # changing what get returned does not change the store
    assert r["full"] == {"kind": "Unavailable", "message": "store set: store is full", "retryable": True}
    assert r["version"] == "1" and r["conflict"] == "Conflict" and r["put"] == "3"
    assert r["a"] == "v2" and r["keys"] == ["a", "short"] and r["backend"] == "memory"
    assert r["has_short"] is True and r["tostring"] == "store.Store{}"


def test_store_ttl_runs_on_the_virtual_clock() -> None:
    world = World(APP)
    run("store_cases", world)
    assert run("store_read", world) == {"value": "x", "a": "v2"}  # same world: same store, 60 s not over
    world.advance(61 * 10**9)
    later = run("store_read", world)
    assert later == {"err": "NotFound", "a": "v2"}
    assert run("store_read", World(APP)) == {"err": "NotFound"}  # another world: another store


# -- env ---------------------------------------------------------------------------------------------


def test_env_storages_and_variables() -> None:
    """env/module.go and service/env (memory, os, composite): a router reads the first storage that
    has the name and writes to the first; the OS storage is read-only; declared defaults apply."""
    world = World(APP)
    world.resources.environ["HOME_DIR"] = "/home/ada"
    r = run("env_cases", world)
    assert r.get("before") is None and r["missing"] == "NotFound"
    assert r["ok"] is True and r["greeting"] == "hi"
    assert r["home"] == "/home/ada" and r["region"] == "eu-west" and r["timeout"] == "30s"
    assert r["read_only"] == "set environment variable failed: storage is read-only: HOME_DIR"
    assert r["undeclared"] == "NotFound"
    assert r["all"] == {"GREETING": "hi", "HOME_DIR": "/home/ada", "REGION": "eu-west", "TIMEOUT": "30s"}


def test_env_os_is_a_copy_per_world() -> None:
    world = World(APP)
    world.resources.environ.pop("HOME_DIR", None)
    assert run("env_cases", world).get("home") is None
    assert run("env_cases", World(APP))["greeting"] == "hi"  # the memory storage starts empty again


# -- activities in isolation ------------------------------------------------------------------------


@with_app
async def test_run_activity_writes_with_sql(wippy: Wippy) -> None:
    assert await wippy.run_activity("app:save_note", "hello", context={"user": "ada"}) == 1
    assert await wippy.run_activity("app:save_note", "again", attempt=3) == 2
    assert await wippy.run_process("app:sql_count") == 2
    calls = wippy.calls.splitlines()
    assert len(calls) == 2 and "app:save_note" in calls[0]


@with_app
async def test_run_activity_maps_errors_as_temporal_records_them(wippy: Wippy) -> None:
    with pytest.raises(ActivityFailed) as caught:
        await wippy.run_activity("app:save_note", "")
    assert caught.value.kind == "Invalid" and caught.value.message == "empty note"
    assert caught.value.retryable is False
    with pytest.raises(ValueError, match="not a function entry"):
        await wippy.run_activity("app:note_workflow", "x")


@with_app
async def test_an_abandoned_transaction_is_rolled_back_after_the_attempt(wippy: Wippy) -> None:
    """transaction.go: a transaction still open when its owner ends is rolled back (cleanup)."""
    assert await wippy.run_activity("app:open_tx") is True
    assert await wippy.run_activity("app:save_note", "kept") == 1  # 'lost' was rolled back
    assert await wippy.run_process("app:sql_count") == 1


@with_app
async def test_workflow_activity_writes_to_the_tests_database(wippy: Wippy) -> None:
    assert await wippy.execute("app:note_workflow", "from a workflow") == {"id": 1}
    assert await wippy.run_process("app:sql_count") == 1


@with_app
async def test_fixture_points_drivers_and_environment(wippy: Wippy) -> None:
    wippy.sql_backend("app:pg")
    assert await wippy.run_process("app:sql_pg") == 1
    wippy.environ["HOME_DIR"] = "/srv"
    assert (await wippy.run_process("app:env_cases"))["home"] == "/srv"


@with_app
async def test_sql_connection_seeds_and_reads_the_tests_database(wippy: Wippy) -> None:
    db = wippy.sql_connection("app:db")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, author TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('seeded')")
    assert await wippy.run_process("app:sql_count") == 1
    await wippy.run_activity("app:save_note", "né", context={"user": "ada"})
    assert db.execute("SELECT body, author FROM notes WHERE id = 2").fetchone() == ("né", "ada")
    with pytest.raises(ValueError, match="sql_connection: .*db.sql.postgres"):
        wippy.sql_connection("app:pg")


def test_without_a_world_the_modules_say_where_they_come_from() -> None:
    from wftest.lua.host_functions import LuaRaise
    from wftest.lua.sandbox import Sandbox

    with pytest.raises(LuaRaise, match="module 'store' is not available: .*a test world provides"):
        Sandbox().open_module("store", "app:x", None)


def test_a_forged_object_is_a_lua_error_not_a_traceback() -> None:
    from wftest.lua.sandbox import Sandbox, SandboxOptions

    world = World(APP)
    sb = Sandbox(SandboxOptions(providers=providers(world.resources)))
    sql = sb.open_module("sql", "app:x", None)
    forge = sb.lua.eval(
        "function(sql) local db = sql.get('app:db'); "
        "return pcall(function() return setmetatable({_h = 99}, getmetatable(db)):query('SELECT 1') end) end"
    )
    ok, message = forge(sql)
    assert ok is False and b"invalid sql object: it was not made by the sql module" in message
