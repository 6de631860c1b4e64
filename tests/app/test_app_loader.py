"""The app loader: registry files → immutable entries; every problem reported at file:line."""

from __future__ import annotations

import ast
import dataclasses
import pickle
import shutil
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from wftest.app import (
    ActivityMeta,
    App,
    AppError,
    AppLoadError,
    ClientEntry,
    Entry,
    LuaEntry,
    TestMeta,
    UnknownEntryError,
    WorkerEntry,
    WorkflowMeta,
    load_app,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "loader"
GOOD = FIXTURES / "good"


@pytest.fixture(scope="module")
def app() -> App:
    return load_app(GOOD)


def lua(app: App, entry_id: str) -> LuaEntry:
    entry = app.get(entry_id)
    assert isinstance(entry, LuaEntry)
    return entry


def load_errors(path: Path) -> list[str]:
    with pytest.raises(AppLoadError) as caught:
        load_app(path)
    return [str(error) for error in caught.value.errors]


def write_app(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def assign(target: Any, key: str, value: object) -> None:
    target[key] = value


def snapshot(app: App) -> list[tuple[Any, ...]]:
    """Everything observable about the loaded entries, for comparing two loads."""
    return [
        (e.id, e.kind, e.file, e.line, repr(e.config), repr(e.meta), e.workflow, e.activity, e.test)
        for e in app.entries.values()
    ]


# --------------------------------------------------------------------------- registry walk


GOOD_IDS = [
    "app.activities:charge_payment",
    "app.activities:format_receipt",
    "app.activities:refund",
    "app.activities:ship_order",
    "app.lib:assert",
    "app.lib:helpers",
    "app.notify:send_email",
    "app.tests:greeting",
    "app.tests:order_create",
    "app.tests:order_total",
    "app.workflows:bare",
    "app.workflows:greeting",
    "app.workflows:order_workflow",
    "app.workflows:util",
    "app:hello",
    "app:processes",
    "app:temporal_client",
    "app:worker",
]


def test_every_namespaced_file_is_read_and_ids_are_namespace_colon_name(app: App) -> None:
    """Entry id = namespace:name; entries come back in sorted id order."""
    assert list(app.entries) == GOOD_IDS
    assert app.root == GOOD
    order = app.get("app.workflows:order_workflow")
    assert (order.namespace, order.name, order.kind) == ("app.workflows", "order_workflow", "workflow.lua")
    assert (order.file, order.line) == ("workflows/_index.yaml", 14)


def test_files_without_namespace_and_hidden_directories_are_skipped(app: App) -> None:
    """config/settings.yaml has no namespace; .hidden/ would redefine app:worker if it were read."""
    files = {entry.file for entry in app.entries.values()}
    assert files == {
        "_index.yaml",
        "activities/_index.yaml",
        "activities/refund.yaml",
        "lib/_index.yaml",
        "notify/_index.json",
        "tests/_index.yaml",
        "workflows/_index.yaml",
    }
    assert app.get("app:worker").file == "_index.yaml"


def test_loading_is_deterministic_whatever_the_directory_listing_order(app: App, tmp_path: Path) -> None:
    """Files are read in sorted path order, so a copy made in reverse order loads identically."""
    sources = sorted((p for p in GOOD.rglob("*") if p.is_file()), reverse=True)
    for source in sources:
        target = tmp_path / source.relative_to(GOOD)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    assert snapshot(load_app(tmp_path)) == snapshot(app)
    assert snapshot(load_app(GOOD)) == snapshot(app)


def test_duplicate_reports_are_ordered_by_sorted_path(tmp_path: Path) -> None:
    """The first definition is the one in the first file in sorted path order, not listing order."""
    entry = "namespace: app\nentries:\n  - name: dup\n    kind: process.host\n"
    write_app(tmp_path, {"z/_index.yaml": entry, "a/b/_index.yaml": entry, "a/_index.yaml": entry})
    assert load_errors(tmp_path) == [
        "a/b/_index.yaml:3: entry 'app:dup' is defined twice: first at a/_index.yaml:3",
        "z/_index.yaml:3: entry 'app:dup' is defined twice: first at a/_index.yaml:3",
    ]


def test_only_yaml_yml_and_json_files_are_registry_files(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "a.yml": "namespace: app\nname: from_yml\nkind: process.host\n",
            "b.YAML": "namespace: app\nname: from_upper\nkind: process.host\n",
            "c.txt": "namespace: app\nname: from_txt\nkind: process.host\n",
            ".d.yaml": "namespace: app\nname: from_hidden\nkind: process.host\n",
        },
    )
    assert list(load_app(tmp_path).entries) == ["app:from_yml"]


def test_config_is_every_field_but_name_kind_and_meta(app: App) -> None:
    worker = app.get("app:worker")
    assert list(worker.config) == ["client", "task_queue", "worker_options", "lifecycle"]
    assert worker.config["lifecycle"]["depends_on"] == ("app:temporal_client",)
    host = app.get("app:processes")
    assert type(host) is Entry
    assert host.kind == "process.host"
    assert host.config["host"]["workers"] == 4
    assert host.workflow is None and host.activity is None and host.test is None


def test_single_entry_file(app: App) -> None:
    """A file with top-level name/kind is one entry; version and namespace are not config."""
    refund = lua(app, "app.activities:refund")
    assert (refund.file, refund.line) == ("activities/refund.yaml", 1)
    assert list(refund.config) == ["source", "method"]
    assert refund.method == "refund"
    assert refund.activity == ActivityMeta(worker="app:worker", local=False)


def test_json_registry_files_keep_json_values_and_lines(app: App) -> None:
    email = lua(app, "app.notify:send_email")
    assert (email.file, email.line) == ("notify/_index.json", 5)
    assert email.meta["priority"] == 100.0 and isinstance(email.meta["priority"], float)
    assert email.modules == ("json",)
    assert email.activity == ActivityMeta(worker="app:worker")


# --------------------------------------------------------------------------- meta


def test_file_level_meta_merges_deeply_and_entry_keys_win(app: App) -> None:
    order = app.get("app.workflows:order_workflow")
    assert order.meta["team"] == "orders"
    assert dict(order.meta["labels"]) == {"tier": "gold", "region": "us"}
    greeting = app.get("app.workflows:greeting")
    assert dict(greeting.meta["labels"]) == {"tier": "gold", "region": "eu"}
    assert dict(greeting.meta["temporal"]["workflow"]) == {"worker": "app:worker", "name": "Greeting"}


def test_workflow_meta(app: App) -> None:
    """The custom name changes only the Temporal type name."""
    assert app.get("app.workflows:greeting").workflow == WorkflowMeta(
        worker="app:worker", name="Greeting", type_name="Greeting"
    )
    assert app.get("app.workflows:bare").workflow == WorkflowMeta(
        worker="app:worker", name=None, type_name="app.workflows:bare"
    )


def test_references_without_namespace_take_the_entry_namespace(app: App) -> None:
    """`worker: worker` in namespace app is app:worker; the same rule for client and imports."""
    hello = app.get("app:hello")
    assert hello.meta["temporal"]["workflow"]["worker"] == "worker"
    assert hello.workflow is not None and hello.workflow.worker == "app:worker"
    worker = app.get("app:worker")
    assert isinstance(worker, WorkerEntry) and worker.client == "app:temporal_client"
    assert lua(app, "app.workflows:order_workflow").imports["util"] == "app.workflows:util"


def test_activity_meta_and_default_call_options(app: App) -> None:
    """Activity worker/local; meta.options are the default funcs.call options."""
    assert [e.id for e in app.activities()] == [
        "app.activities:charge_payment",
        "app.activities:refund",
        "app.activities:ship_order",
        "app.notify:send_email",
    ]
    charge = app.get("app.activities:charge_payment")
    assert charge.activity == ActivityMeta(worker="app:worker", local=False)
    assert charge.call_options["start_to_close_timeout"] == "30s"
    assert charge.call_options["retry_policy"]["maximum_attempts"] == 3
    assert app.get("app.activities:ship_order").activity == ActivityMeta(worker="app:worker", local=True)
    receipt = app.get("app.activities:format_receipt")
    assert receipt.activity is None and dict(receipt.call_options) == {}


def test_tests_sorted_by_suite_then_order_then_id(app: App) -> None:
    """meta.type test with suite/name/description/order; file-level meta gives the defaults."""
    assert [e.id for e in app.tests()] == [
        "app.tests:greeting",
        "app.tests:order_create",
        "app.tests:order_total",
    ]
    assert app.get("app.tests:order_total").test == TestMeta(
        suite="orders",
        name="Order total is rounded",
        description="The workflow rounds the order total",
        order=2,
    )
    assert app.get("app.tests:greeting").test == TestMeta(suite="greeting")


def test_tests_without_order_sort_as_order_zero(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "_index.yaml": """\
                namespace: app
                meta: {type: test}
                entries:
                  - {name: b_late, kind: function.lua, source: "return true", meta: {order: 1.5}}
                  - {name: c_plain, kind: function.lua, source: "return true"}
                  - {name: a_early, kind: function.lua, source: "return true", meta: {order: -1}}
                  - {name: z_none, kind: function.lua, source: "return true", meta: {type: other}}
                """
        },
    )
    assert [e.id for e in load_app(tmp_path).tests()] == ["app:a_early", "app:c_plain", "app:b_late"]


# --------------------------------------------------------------------------- Lua entries


def test_lua_entry_fields_and_method_default(app: App) -> None:
    order = lua(app, "app.workflows:order_workflow")
    assert order.source_path == "workflows/order_workflow.lua"
    assert order.source_text == (GOOD / "workflows" / "order_workflow.lua").read_text()
    assert order.method == "main"
    assert order.modules == ("funcs", "time", "workflow")
    assert dict(order.imports) == {"helpers": "app.lib:helpers", "util": "app.workflows:util"}


def test_file_triple_slash_source_is_relative_to_the_app_root(app: App) -> None:
    greeting = lua(app, "app.workflows:greeting")
    assert greeting.source_path == "workflows/greeting.lua"
    assert greeting.method == "run"


def test_inline_source_is_kept_as_lua_text(app: App) -> None:
    hello = lua(app, "app:hello")
    assert hello.source_path is None
    assert hello.source_text.startswith('local function main(who)\n    return "hello "')


def test_bare_function_script_is_accepted(app: App) -> None:
    """A script may return a bare function; nothing to check at load time."""
    bare = lua(app, "app.workflows:bare")
    assert bare.method == "main"
    assert bare.source_text.startswith("return function(input)")


def test_libraries_have_no_default_method(app: App) -> None:
    assert lua(app, "app.lib:assert").method is None
    assert lua(app, "app.workflows:util").method == "exported"


def test_framework_imports_are_kept_without_checking(app: App) -> None:
    """wippy.test:test comes from the wippy/test module, not from the app."""
    assert dict(lua(app, "app.tests:greeting").imports) == {"test": "wippy.test:test"}


def test_source_byte_order_mark_is_dropped_and_line_endings_kept(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        {
            "_index.yaml": "namespace: app\nname: f\nkind: function.lua\nsource: file://f.lua\n",
            "f.lua": b"\xef\xbb\xbfreturn 1\r\n",
        },
    )
    assert lua(load_app(tmp_path), "app:f").source_text == "return 1\r\n"


# --------------------------------------------------------------------------- temporal kinds


def test_workers_and_clients(app: App) -> None:
    (worker,) = app.workers()
    assert (worker.id, worker.client, worker.task_queue) == ("app:worker", "app:temporal_client", "orders")
    assert dict(worker.worker_options) == {"max_concurrent_activity_execution_size": 100}
    (client,) = app.clients()
    assert isinstance(client, ClientEntry)
    assert (client.address, client.temporal_namespace, client.tq_prefix) == ("localhost:7233", "default", "")


@pytest.mark.parametrize(
    ("fields", "namespace", "prefix"),
    [
        ("", "default", ""),
        ("namespace:, tq_prefix:", "default", ""),
        ("namespace: prod, tq_prefix: ''", "prod", ""),
        ("tq_prefix: eu-", "default", "eu-"),
    ],
)
def test_client_defaults(tmp_path: Path, fields: str, namespace: str, prefix: str) -> None:
    """Temporal namespace defaults to "default" and tq_prefix to ""; empty values mean the default."""
    entry = f"{{name: c, kind: temporal.client, address: 'h:1', {fields}}}"
    write_app(tmp_path, {"_index.yaml": f"namespace: app\nentries:\n  - {entry}\n"})
    client = load_app(tmp_path).get("app:c")
    assert isinstance(client, ClientEntry)
    assert (client.address, client.temporal_namespace, client.tq_prefix) == ("h:1", namespace, prefix)


def test_empty_method_means_main(tmp_path: Path) -> None:
    write_app(tmp_path, {"_index.yaml": "namespace: app\nname: f\nkind: function.lua\nsource: x\nmethod:\n"})
    assert lua(load_app(tmp_path), "app:f").method == "main"


def test_kind_views(app: App) -> None:
    assert [e.id for e in app.workflows()] == [
        "app.workflows:bare",
        "app.workflows:greeting",
        "app.workflows:order_workflow",
        "app:hello",
    ]
    assert [e.id for e in app.libraries()] == ["app.lib:assert", "app.lib:helpers", "app.workflows:util"]
    assert [e.id for e in app.functions()] == [
        "app.activities:charge_payment",
        "app.activities:format_receipt",
        "app.activities:refund",
        "app.notify:send_email",
        "app.tests:greeting",
        "app.tests:order_create",
        "app.tests:order_total",
    ]
    assert [e.id for e in app.by_kind("process.lua")] == ["app.activities:ship_order"]
    assert app.by_kind("http.endpoint") == ()


def test_get_unknown_entry_suggests_close_ids(app: App) -> None:
    with pytest.raises(UnknownEntryError) as caught:
        app.get("app.workflows:order_workflw")
    assert str(caught.value) == (
        "unknown entry 'app.workflows:order_workflw'; did you mean 'app.workflows:order_workflow', "
        "'app.workflows:bare', 'app.workflows:util'?"
    )
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, AppError)
    assert caught.value.entry_id == "app.workflows:order_workflw"
    with pytest.raises(KeyError, match=r"^unknown entry 'zzz'$"):
        app.get("zzz")


# --------------------------------------------------------------------------- immutability and threads


def test_app_and_entries_cannot_be_changed(app: App) -> None:
    order = lua(app, "app.workflows:order_workflow")
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        app.root = Path("/")  # type: ignore[misc]
    mutations: list[Callable[[], object]] = [
        lambda: assign(app.entries, "app:new", order),
        lambda: assign(order.config, "source", "x"),
        lambda: assign(order.meta["labels"], "region", "x"),
        lambda: assign(order.meta["temporal"]["workflow"], "worker", "x"),
        lambda: assign(order.imports, "x", "y"),
        lambda: order.config["modules"].append("os"),
        lambda: app.get("app:worker").config["lifecycle"]["depends_on"].append("x"),
    ]
    for mutate in mutations:
        with pytest.raises((TypeError, AttributeError)):
            mutate()
    assert order.modules == ("funcs", "time", "workflow")


def test_app_built_by_hand_is_frozen_and_sorted() -> None:
    entries = {
        i: Entry(id=i, namespace="app", name=i[4:], kind="process.host", file="_index.yaml", line=1)
        for i in ("app:b", "app:a")
    }
    app = App(root="/srv/app", entries=entries)  # type: ignore[arg-type]
    entries.clear()
    assert list(app.entries) == ["app:a", "app:b"]
    assert app.root == Path("/srv/app")


def test_one_app_read_from_many_threads(app: App) -> None:
    def read(_: int) -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        for _ in range(20):
            seen.extend((e.id, e.source_text, e.imports["helpers"]) for e in app.workflows() if e.imports)
            seen.extend((e.id, e.test) for e in app.tests())
            seen.append((app.get("app:worker").config["task_queue"],))
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read, range(16)))
    assert all(result == results[0] for result in results)
    assert len(results[0]) == 20 * 5


def test_app_package_does_not_import_lua_execution() -> None:
    """The registry only reads files (architecture: `wftest/app/` must not import lupa)."""
    for path in sorted((Path(__file__).resolve().parents[2] / "wftest" / "app").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "lupa" or name.startswith("wftest.lua") for name in names), (
                path
            )


# --------------------------------------------------------------------------- errors: fixture apps


def test_malformed_yaml_is_reported_at_the_parser_line() -> None:
    errors = load_errors(FIXTURES / "malformed_yaml")
    assert errors == ["_index.yaml:8: invalid YAML: expected <block end>, but found '<block mapping start>'"]


def test_source_escaping_the_app_root_is_rejected() -> None:
    """`..` escaping the root is rejected, both relative and root-relative; staying inside is fine."""
    assert load_errors(FIXTURES / "escaping_source") == [
        "workflows/_index.yaml:7: entry 'app.workflows:sneaky': source 'file://../../outside.lua' points "
        "outside the app root",
        "workflows/_index.yaml:11: entry 'app.workflows:rooted': source 'file:///../outside.lua' points "
        "outside the app root",
    ]


def test_unknown_or_non_lua_import_is_rejected() -> None:
    """An import may name any Lua entry (the function entry `charge` is fine), nothing else."""
    assert load_errors(FIXTURES / "unknown_import") == [
        "_index.yaml:21: entry 'app:order_workflow': import 'helpers' names 'app.lib:helpers', which is not "
        "an entry of this app (did you mean 'app:helpers'?)",
        "_index.yaml:24: entry 'app:order_workflow': import 'db' names 'app:db', which is a "
        "db.sql.sqlite entry, not a function.lua or library.lua or process.lua or workflow.lua",
    ]


def test_duplicate_entry_ids_name_both_places() -> None:
    assert load_errors(FIXTURES / "duplicate_id") == [
        "orders/_index.yaml:5: entry 'app:worker' is defined twice: first at billing/_index.yaml:5",
        "orders/_index.yaml:13: entry 'app:audit' is defined twice: first at orders/_index.yaml:10",
    ]


def test_missing_source_file_is_rejected() -> None:
    assert load_errors(FIXTURES / "missing_source") == [
        "_index.yaml:7: entry 'app:charge': source file 'charge.lua' not found (from 'file://charge.lua')",
        "_index.yaml:11: entry 'app:ship': source file 'sub' not found (from 'file://sub')",
    ]


def test_every_bad_field_of_an_app_is_reported_at_once() -> None:
    with pytest.raises(AppLoadError) as caught:
        load_app(FIXTURES / "bad_fields")
    expected = [
        "_index.yaml:5: entries[1] has no 'name'",
        "_index.yaml:8: entry 'app:kindless' has no 'kind'",
        "_index.yaml:11: entry 'app:client': address is required",
        "_index.yaml:15: entry 'app:worker': task_queue is required",
        "_index.yaml:17: entry 'app:worker': client names 'app:temporal_client', which is not an entry of "
        "this app (did you mean 'app:client'?)",
        "_index.yaml:22: entry 'app:order_workflow': method must be a non-empty string, got 5",
        "_index.yaml:23: entry 'app:order_workflow': modules must be a list of module names, got 'json'",
        "_index.yaml:24: entry 'app:order_workflow': imports must be a mapping of alias to entry id, "
        "got ['helpers']",
        "_index.yaml:28: entry 'app:order_workflow': meta.temporal.workflow.worker is required",
        "_index.yaml:37: entry 'app:lost_workflow': meta.temporal.workflow.worker names 'app:wrker', which "
        "is not an entry of this app (did you mean 'app:worker'?)",
        "_index.yaml:42: entry 'app:charge': modules must be a list of module names, got ['json', 7]",
        "_index.yaml:46: entry 'app:charge': meta.temporal.activity.worker names 'app:client', which is a "
        "temporal.client entry, not a temporal.worker",
        "_index.yaml:47: entry 'app:charge': meta.temporal.activity.local must be a boolean, got 'yes'",
        "_index.yaml:48: entry 'app:charge': meta.options must be a mapping, got a list",
        "_index.yaml:55: entry 'app:flaky_test': meta.order must be a number, got 'first'",
        "more.yaml:3: meta must be a mapping, got a list",
        "more.yaml:4: entries[2] must be a mapping, got str",
        "worse.yaml:1: namespace must be a non-empty string without ':', got 'app:bad'",
    ]
    assert [str(error) for error in caught.value.errors] == expected
    assert str(caught.value) == "\n".join(expected)
    first, kindless, client = caught.value.errors[:3]
    assert (first.file, first.line, first.entry_id, first.message) == (
        "_index.yaml",
        5,
        None,
        "entries[1] has no 'name'",
    )
    assert kindless.entry_id == "app:kindless"
    assert (client.file, client.line, client.entry_id) == ("_index.yaml", 11, "app:client")


# --------------------------------------------------------------------------- errors: small cases


def test_missing_directory_or_a_file_is_an_app_error(tmp_path: Path) -> None:
    with pytest.raises(AppError) as caught:
        load_app(tmp_path / "nope")
    assert str(caught.value) == f"{tmp_path / 'nope'}: app directory does not exist"
    (tmp_path / "f.yaml").write_text("namespace: app\n")
    with pytest.raises(AppError, match=r"f\.yaml: app directory is not a directory$"):
        load_app(tmp_path / "f.yaml")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"_index.yaml": "namespace: app\nentries:\n  - name: a\n    kind: process.host\n    name: b\n"},
            "_index.yaml:5: invalid YAML: duplicate key 'name' (first at line 3)",
            id="duplicate-yaml-key",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nnote: bell \x07 here\n"},
            "_index.yaml:2: invalid YAML: special characters are not allowed (character U+0007)",
            id="yaml-control-character",
        ),
        pytest.param(
            {"_index.yaml": b"namespace: app\nnote: caf\xe9\n"},
            "_index.yaml:2: file is not UTF-8 text",
            id="registry-not-utf8",
        ),
        pytest.param(
            {"_index.json": '{\n  "namespace": "app",\n  "entries": [\n    {"name": "a",}\n  ]\n}\n'},
            "_index.json:4: invalid JSON: Expecting property name enclosed in double quotes",
            id="invalid-json",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nentries: {a: 1}\n"},
            "_index.yaml:2: entries must be a list, got a mapping",
            id="entries-not-a-list",
        ),
        pytest.param(
            {"_index.yaml": "namespace: ''\nname: a\nkind: x\n"},
            "_index.yaml:1: namespace must be a non-empty string without ':', got ''",
            id="empty-namespace",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: 'a:b'\nkind: x\n"},
            "_index.yaml:1: the entry: name must be a non-empty string without ':', got 'a:b'",
            id="name-with-colon",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: [x]\n"},
            "_index.yaml:1: entry 'app:a': kind must be a non-empty string, got ['x']",
            id="kind-not-a-string",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: process.host\nmeta: 3\n"},
            "_index.yaml:4: entry 'app:a': meta must be a mapping, got int",
            id="entry-meta-not-a-mapping",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: function.lua\nsource: ''\n"},
            "_index.yaml:4: entry 'app:a': source must be a non-empty string, got ''",
            id="empty-source",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: library.lua\n"},
            "_index.yaml:1: entry 'app:a': source is required",
            id="missing-source",
        ),
        pytest.param(
            {
                "_index.yaml": "namespace: app\nname: a\nkind: function.lua\nsource: file://a.lua\n",
                "a.lua": b"\xff",
            },
            "_index.yaml:4: entry 'app:a': source file 'a.lua' is not UTF-8 text",
            id="source-not-utf8",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: workflow.lua\nsource: x\nmeta: {temporal: on}\n"},
            "_index.yaml:5: entry 'app:a': meta.temporal must be a mapping, got bool",
            id="meta-temporal-not-a-mapping",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: function.lua\nimports:\n  ? [1]\n  : b\n"},
            "_index.yaml:5: invalid YAML: found unhashable key",
            id="unhashable-key",
        ),
        pytest.param(
            {"_index.yaml": "namespace: app\nname: a\nkind: function.lua\nsource: x\nimports:\n  1: app:b\n"},
            "_index.yaml:6: entry 'app:a': import alias must be a non-empty string, got 1",
            id="import-alias-not-a-string",
        ),
        pytest.param(
            {
                "_index.yaml": """\
                    namespace: app
                    entries:
                      - {name: c, kind: temporal.client, address: "h:1"}
                      - name: w
                        kind: temporal.worker
                        client: c
                        task_queue:
                    """
            },
            "_index.yaml:7: entry 'app:w': task_queue must be a non-empty string, got None",
            id="empty-task-queue",
        ),
    ],
)
def test_bad_input_is_reported_at_its_line(
    tmp_path: Path, files: dict[str, str | bytes], expected: str
) -> None:
    assert load_errors(write_app(tmp_path, files)) == [expected]


def test_json_whose_structure_pyyaml_cannot_follow_still_loads_at_line_1(tmp_path: Path) -> None:
    long_key = "k" * 1100
    write_app(tmp_path, {"x.json": f'{{"namespace": "app", "name": "a", "kind": "x", "{long_key}": 1}}'})
    entry = load_app(tmp_path).get("app:a")
    assert entry.line == 1 and entry.config[long_key] == 1


def test_yaml_values_stay_json_shaped(tmp_path: Path) -> None:
    """Dates stay text, sets freeze, merge keys work with the mapping's own keys winning."""
    write_app(
        tmp_path,
        {
            "_index.yaml": """\
                namespace: app
                defaults: &defaults {retries: 3, queue: base}
                entries:
                  - name: a
                    kind: process.host
                    started: 2024-05-01
                    tags: !!set {x, y}
                    settings:
                      <<: *defaults
                      queue: fast
                """
        },
    )
    entry = load_app(tmp_path).get("app:a")
    assert entry.config["started"] == "2024-05-01"
    assert entry.config["tags"] == frozenset({"x", "y"})
    assert dict(entry.config["settings"]) == {"retries": 3, "queue": "fast"}


def test_empty_registry_files_are_fine(tmp_path: Path) -> None:
    write_app(
        tmp_path, {"a.yaml": "namespace: app\nentries:\n", "b.yaml": "namespace: app.b\n", "c.yaml": ""}
    )
    assert dict(load_app(tmp_path).entries) == {}


def test_errors_survive_pickling() -> None:
    error = AppError("boom", file="a.yaml", line=3, entry_id="app:a")
    clone = pickle.loads(pickle.dumps(error))
    assert (str(clone), clone.entry_id) == ("a.yaml:3: boom", "app:a")
    unknown = pickle.loads(pickle.dumps(UnknownEntryError("unknown entry 'x'", entry_id="x")))
    assert isinstance(unknown, KeyError) and str(unknown) == "unknown entry 'x'"
    batch = pickle.loads(pickle.dumps(AppLoadError([error, AppError("no line", file="b.yaml")])))
    assert str(batch) == "a.yaml:3: boom\nb.yaml: no line"


def test_a_registry_file_that_cannot_be_read_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")  # a dangling link: reading fails
    (tmp_path / "_index.yaml").write_text("namespace: app\nname: f\nkind: library.lua\nsource: return {}\n")
    assert load_errors(tmp_path) == ["gone.yaml: cannot read the file: No such file or directory"]
