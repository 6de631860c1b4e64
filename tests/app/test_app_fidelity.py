"""Apps load as Wippy loads them: imports of any Lua entry, globals found by `require`, modules Wippy
has that wftest does not run, and entry kinds wftest does not run kept with their fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from wftest.app import App, load_app
from wftest.lua.sandbox import LoadError, LuaFailure, Sandbox, check_modules

REGISTRY = """\
version: "1.0"
namespace: app
entries:
  - name: helper_fn
    kind: function.lua
    source: file://helper_fn.lua
    method: main
  - name: user
    kind: function.lua
    source: file://user.lua
    method: main
    modules: [os, channel, payload, templates, stream]
    imports:
      h: helper_fn
  - name: wf
    kind: workflow.lua
    source: file://user.lua
    method: main
    modules: [channel]
  - name: db
    kind: db.sql.sqlite
    meta: {comment: test database}
    file: ":memory:"
    pool: {max_open: 1}
  - name: gateway
    kind: http.service
    addr: ":8085"
  - name: files
    kind: env.storage.memory
  - name: cache
    kind: store.memory
  - name: host
    kind: process.host
    host: {workers: 2}
"""

HELPER = """\
local function double(x) return x * 2 end
local function main() return "main" end
return {main = main, double = double}
"""

USER = """\
local function main()
    local h = require("h")
    local errors_ok = require("errors") == errors
    local os_ok = require("os") == os and require("string") == string
    local ok, err = pcall(require, "json")
    return h.double(21), errors_ok, os_ok, ok, tostring(err)
end
return {main = main}
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    root: Path = tmp_path_factory.mktemp("fidelity")
    (root / "_index.yaml").write_text(REGISTRY)
    (root / "helper_fn.lua").write_text(HELPER)
    (root / "user.lua").write_text(USER)
    return load_app(root)


def test_an_imported_function_entry_runs_as_a_module(app: App) -> None:
    # Wippy's component managers hand imports to the code manager whatever their Lua kind
    # (runtime/lua/component/handler.go BuildImports); the script's return value is the module.
    sb = Sandbox()
    main = sb.load_entry(app, app.get("app:user"))
    double, errors_ok, os_ok, ok, err = sb.call(main)
    assert (double, errors_ok, os_ok, ok) == (42, True, True, False)
    assert "module 'json' not found: app:user lists modules" in err.decode()


def test_require_falls_back_to_globals_like_wippy(app: App) -> None:
    # engine/loadlib/loadlib.go: require(name) is a lookup in the globals; engine/core_modules.go and
    # cached_libs.go put errors, os, payload, channel, string, table, math, coroutine there.
    sb = Sandbox()
    fn, err = sb.api.load_chunk(
        b'return require("table") == table, require("math") == math, require("coroutine") ~= nil',
        b"t.lua",
        sb.make_require("test", (), {}, None),
        None,
    )
    assert fn is not None, err
    assert sb.call(fn) == (True, True, True)
    fn, err = sb.api.load_chunk(b'return require("nope")', b"t.lua", sb.make_require("t", (), {}, None), None)
    with pytest.raises(LuaFailure, match="module 'nope' not found"):
        sb.call(fn)


def test_wippy_modules_wftest_does_not_run_are_accepted_in_modules(app: App) -> None:
    check_modules(app, app.get("app:user"))  # type: ignore[arg-type]


def test_channel_is_a_process_class_module_refused_in_workflows(app: App) -> None:
    # component/workflow/manager.go allows only deterministic and workflow classes; channel is "process".
    with pytest.raises(LoadError, match="module 'channel' does not have any allowed class"):
        check_modules(app, app.get("app:wf"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry_id", "kind", "field", "value"),
    [
        ("app:db", "db.sql.sqlite", "file", ":memory:"),
        ("app:gateway", "http.service", "addr", ":8085"),
        ("app:host", "process.host", "host", {"workers": 2}),
    ],
)
def test_entry_kinds_wftest_does_not_run_are_kept_with_their_fields(
    app: App, entry_id: str, kind: str, field: str, value: object
) -> None:
    entry = app.get(entry_id)
    assert entry.kind == kind
    assert entry.config[field] == value
    assert "name" not in entry.config and "kind" not in entry.config


def test_kept_entries_are_listed_by_kind(app: App) -> None:
    assert [e.id for e in app.by_kind("store.memory")] == ["app:cache"]
    assert [e.id for e in app.by_kind("env.storage.memory")] == ["app:files"]
    assert app.get("app:db").meta["comment"] == "test database"


def test_unknown_kind_fields_are_read_only(app: App) -> None:
    pool = app.get("app:db").config["pool"]
    with pytest.raises(TypeError):
        pool["max_open"] = 2  # type: ignore[index]
