"""Hostile input: a bad workflow, app, history or argument becomes a failed run or a clear message with
`file:line` (or an event id), never a hang, a Python traceback, an INTERNALERROR or a silent success.

Everything here is bounded: in process by a small memory limit or instruction budget, and in a
subprocess with a timeout where a regression could hang or end the process (the watchdog, a FIFO, the
memory hang inside lupa)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from checkout import ROOT
from click.testing import CliRunner

from wftest.app import load_app
from wftest.app.errors import AppLoadError
from wftest.cli import main
from wftest.sim import World

pytest_plugins = ["pytester"]

VERSIONING = ROOT / "examples" / "versioning"

ROOT_INDEX = """\
version: "1.0"
namespace: app
entries:
  - name: client
    kind: temporal.client
    address: "localhost:7233"
  - name: worker
    kind: temporal.worker
    client: client
    task_queue: q
"""

# name -> (source, modules)
WORKFLOWS: dict[str, tuple[str, list[str]]] = {
    "membomb": (
        "local function main()\n  local t = {}\n  local s = string.rep('x', 1024)\n"
        "  while true do t[#t + 1] = s .. #t end\nend\nreturn {main = main}\n",
        [],
    ),
    "gcloop": (
        "local function main()\n"
        "  for i = 1, 100 do setmetatable({}, {__gc = function() while true do end end}) end\n"
        "  local junk = {}\n  for i = 1, 200000 do junk[i] = {i} end\n  return 'ok'\nend\n"
        "return {main = main}\n",
        [],
    ),
    "tostrloop": (
        "local function main()\n"
        "  error(setmetatable({}, {__tostring = function() while true do end end}))\nend\n"
        "return {main = main}\n",
        [],
    ),
    "tostrraise": (
        "local function main()\n  error(setmetatable({}, {__tostring = function() error('nope') end}))\nend\n"
        "return {main = main}\n",
        [],
    ),
    "backtrack": (
        "local function main()\n  local s = string.rep('a', 40)\n"
        "  local found = string.find(s, string.rep('a*', 30) .. 'b')\n  return found\nend\n"
        "return {main = main}\n",
        [],
    ),
    "yamlbomb": (
        "local yaml = require('yaml')\nlocal function main()\n"
        '  local doc = \'a: &a ["x","x","x","x","x","x","x","x","x"]\\n\'\n'
        "  local prev = 'a'\n  for i = 1, 9 do\n    local name = 'l' .. i\n"
        "    doc = doc .. name .. ': &' .. name .. ' [' .. string.rep('*' .. prev, 9, ',') .. ']\\n'\n"
        "    prev = name\n  end\n  local value, err = yaml.decode(doc)\n  return tostring(err)\nend\n"
        "return {main = main}\n",
        ["yaml"],
    ),
    "syntax": ("local function main()\n  return 1 +\nend\nreturn {main = main}\n", []),
    "badmodule": ("return {main = function() return 1 end}\n", ["http_client"]),
    "cobomb": (
        "local function main()\n  local t = {}\n"
        "  while true do t[#t + 1] = coroutine.create(function() end) end\nend\nreturn {main = main}\n",
        [],
    ),
    "spawnbomb": (
        "local function main()\n"
        "  while true do coroutine.spawn(function() coroutine.yield() end) end\nend\n"
        "return {main = main}\n",
        [],
    ),
    "retfn": ("local function main()\n  return function() end\nend\nreturn {main = main}\n", []),
    "retco": (
        "local function main()\n  local co = coroutine.create(function() end)\n  return co\nend\n"
        "return {main = main}\n",
        [],
    ),
    "retch": ("local function main()\n  return channel.new(1)\nend\nreturn {main = main}\n", []),
    "hello": ("return {main = function() return 'hi' end}\n", []),
}


def write_app(root: Path, workflows: dict[str, tuple[str, list[str]]] = WORKFLOWS) -> Path:
    (root / "wf").mkdir(parents=True, exist_ok=True)
    (root / "_index.yaml").write_text(ROOT_INDEX)
    lines = [
        'version: "1.0"',
        "namespace: app.wf",
        "meta:",
        "  temporal:",
        "    workflow:",
        "      worker: app:worker",
        "entries:",
    ]
    for name, (source, modules) in workflows.items():
        (root / "wf" / f"{name}.lua").write_text(source)
        lines.append(
            f"  - {{name: {name}, kind: workflow.lua, source: file://{name}.lua, modules: {modules}}}"
        )
    (root / "wf" / "_index.yaml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_app(tmp_path_factory.mktemp("hostile") / "app")


@pytest.fixture(scope="module")
def app(app_dir: Path) -> Any:
    return load_app(app_dir)


def run(app: Any, workflow: str, **options: Any) -> Any:
    world = World(app, **options)
    return world.run_until_closed(world.start(workflow))


def wftest(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in its own process, bounded by `timeout`."""
    return subprocess.run(
        [sys.executable, "-c", "from wftest.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


# -- hangs ---------------------------------------------------------------------------------------------


def test_memory_bomb_of_strings_fails_the_run(app_dir: Path) -> None:
    """Used to hang at 0% CPU: lupa kept the GIL when a host function's result met a full Lua state."""
    result = wftest("run", str(app_dir), "app.wf:membomb")
    assert result.returncode == 1, result.stderr
    assert "error: Internal: wf/membomb.lua:4: memory limit exceeded" in result.stderr


def test_a_looping_finalizer_never_runs(app: Any) -> None:
    """Lua runs `__gc` with hooks off; Wippy's VM has no finalizers, so none run here either."""
    r = run(app, "app.wf:gcloop", instruction_budget=5_000_000)
    assert (r.status, r.result) == ("completed", "ok")


def test_error_whose_tostring_loops_is_reported_within_the_budget(app: Any) -> None:
    r = run(app, "app.wf:tostrloop", instruction_budget=2_000_000)
    assert r.status == "failed"
    assert "wf/tostrloop.lua:2: error object's __tostring failed" in r.failure.message
    assert "instruction budget exceeded" in r.failure.message


def test_error_whose_tostring_raises_is_reported(app: Any) -> None:
    r = run(app, "app.wf:tostrraise")
    assert r.status == "failed"
    assert "error object's __tostring failed: wf/tostrraise.lua:2: nope" in r.failure.message


def test_backtracking_pattern_ends_at_the_watchdog_with_entry_and_line(app_dir: Path) -> None:
    result = wftest("run", str(app_dir), "app.wf:backtrack", env={"WFTEST_TASK_TIMEOUT": "1"})
    assert result.returncode == 1
    assert "watchdog: app.wf:backtrack (last Lua line known: wf/backtrack.lua:3)" in result.stderr
    assert "more than 1 s" in result.stderr


def test_yaml_alias_bomb_in_a_workflow_is_refused(app: Any) -> None:
    r = run(app, "app.wf:yamlbomb")
    assert r.status == "completed"
    assert r.result.startswith("decode failed: line 7: the document expands to more than")


def test_spawn_bomb_runs_out_of_budget(app: Any) -> None:
    """Each resume costs budget: thousands of short coroutines cannot keep one task going forever."""
    r = run(app, "app.wf:spawnbomb", instruction_budget=2_000_000)
    assert r.status == "failed"
    assert r.failure.message.startswith("wf/spawnbomb.lua:2: instruction budget exceeded")


def test_coroutine_bomb_hits_the_memory_limit(app: Any) -> None:
    r = run(app, "app.wf:cobomb", memory_limit=8 * 1024 * 1024)
    assert r.status == "failed"
    assert "wf/cobomb.lua:3: memory limit exceeded" in r.failure.message


def test_a_pcall_cannot_swallow_the_budget(app: Any) -> None:
    source = (
        "local function main()\n  while true do pcall(function() while true do end end) end\nend\n"
        "return {main = main}\n"
    )
    app_ = load_app(write_app(Path(app.root).parent / "pcall", {"w": (source, [])}))
    r = run(app_, "app.wf:w", instruction_budget=1_000_000)
    assert r.status == "failed" and "instruction budget exceeded" in r.failure.message


def test_decoders_refuse_results_past_the_memory_left() -> None:
    """json.decode and base64.decode check the decoded size against the Lua memory left (a result that
    did not fit would fail inside lupa's conversion, where a memory error cannot be handled)."""
    from wftest.lua.sandbox import Sandbox, SandboxOptions

    sb = Sandbox(SandboxOptions(memory_limit=24 * 1024 * 1024))
    fn = sb.lua.eval(
        "function(json, base64)\n"
        "  local _, json_err = json.decode('[' .. string.rep('0,', 2000000) .. '0]')\n"
        "  local text = string.rep('QUFB', 4 * 1024 * 1024)\n"
        "  local _, b64_err = base64.decode(text)\n"
        "  return tostring(json_err), tostring(b64_err)\n"
        "end"
    )
    json_err, b64_err = sb.call(fn, sb.open_module("json", "t", None), sb.open_module("base64", "t", None))
    assert b"the decoded value would take more than" in json_err
    assert b"decode failed: the result (12582912 bytes) would exceed the Lua memory limit" == b64_err


# -- clean messages instead of tracebacks ---------------------------------------------------------------


def test_run_reports_a_syntax_error_like_check(app_dir: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(app_dir), "app.wf:syntax"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {app_dir}/wf/syntax.lua:3: unexpected symbol near 'end'"


def test_run_reports_a_module_a_workflow_may_not_use(app_dir: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(app_dir), "app.wf:badmodule"])
    assert result.exit_code == 1
    assert "wf/_index.yaml:" in result.stderr and "module 'http_client' does not have any allowed class" in (
        result.stderr
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize("depth", [200, 100_000])
def test_run_refuses_input_nested_too_deeply(app_dir: Path, depth: int) -> None:
    result = CliRunner().invoke(
        main, ["run", str(app_dir), "app.wf:hello", "--input", "[" * depth + "]" * depth]
    )
    assert result.exit_code == 2
    assert "Invalid value for --input: cannot be a payload" in result.stderr


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"])
def test_run_refuses_a_start_time_out_of_range(app_dir: Path, moment: str) -> None:
    result = CliRunner().invoke(main, ["run", str(app_dir), "app.wf:hello", "--start-time", moment])
    assert result.exit_code == 2
    assert "is out of range: the virtual clock runs from 1970-01-01T00:00:00Z" in result.stderr


@pytest.mark.parametrize(
    ("workflow", "what", "line"),
    [("retfn", "a function", 2), ("retco", "a coroutine", 4), ("retch", "a channel", 3)],
)
def test_returning_what_cannot_be_a_payload_fails_at_its_line(
    app: Any, workflow: str, what: str, line: int
) -> None:
    r = run(app, f"app.wf:{workflow}")
    assert r.status == "failed"
    assert r.failure.message.startswith(
        f"wf/{workflow}.lua:{line}: returned {what}, which cannot be a result"
    )


# -- the app loader ---------------------------------------------------------------------------------------


def loader_errors(root: Path) -> list[str]:
    with pytest.raises(AppLoadError) as info:
        load_app(root)
    return [str(e) for e in info.value.errors]


def registry(namespace: str, body: str) -> str:
    return f'version: "1.0"\nnamespace: {namespace}\n{body}entries: []\n'


def test_loader_refuses_yaml_bombs_recursive_aliases_and_deep_nesting(tmp_path: Path) -> None:
    root = write_app(tmp_path / "app", {"hello": WORKFLOWS["hello"]})
    bomb = 'x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"x{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
    )
    (root / "bomb.yaml").write_text(registry("bomb", bomb))
    (root / "rec.yaml").write_text(registry("rec", "meta: &m {self: *m}\n"))
    (root / "deep.yaml").write_text(registry("deep", "meta: " + "[" * 100_000 + "]" * 100_000 + "\n"))
    (root / "deep.json").write_text('{"namespace": "j", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert loader_errors(root) == [
        "bomb.yaml:9: invalid YAML: the document expands to more than 67108864 bytes "
        "(aliases repeat what they name)",
        "deep.json:1: invalid JSON: nesting deeper than 100 levels",
        "deep.yaml:3: invalid YAML: nesting deeper than 100 levels",
        "rec.yaml:3: invalid YAML: alias *m refers to a node that contains it",
    ]


def test_loader_refuses_a_fifo_named_yaml(tmp_path: Path) -> None:
    root = write_app(tmp_path / "app", {"hello": WORKFLOWS["hello"]})
    os.mkfifo(root / "wf" / "pipe.yaml")
    result = wftest("check", str(root), timeout=60)  # a blocking read would hang: bounded
    assert result.returncode == 1
    assert "wf/pipe.yaml: not a regular file" in result.stderr


def test_sources_and_registries_must_stay_inside_the_app(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.lua").write_text("return {main = function() return 'escaped' end}\n")
    (outside / "evil.yaml").write_text(registry("evil", ""))
    root = write_app(tmp_path / "app", {"hello": WORKFLOWS["hello"]})
    (root / "wf" / "link.lua").symlink_to(outside / "evil.lua")
    (root / "linked.yaml").symlink_to(outside / "evil.yaml")
    index = root / "wf" / "_index.yaml"
    index.write_text(index.read_text() + "  - {name: escape, kind: workflow.lua, source: file://link.lua}\n")
    errors = loader_errors(root)
    assert errors == [
        f"linked.yaml: is a link to {outside / 'evil.yaml'}, outside the app root",
        f"wf/_index.yaml:9: entry 'app.wf:escape': source file 'wf/link.lua' is a link to "
        f"{outside / 'evil.lua'}, outside the app root",
    ]


# -- histories --------------------------------------------------------------------------------------------


def bad_histories(folder: Path) -> tuple[Path, Path]:
    """A history whose first payload is valid base64 but not JSON, and one nested 100k deep."""
    source = json.loads((VERSIONING / "histories" / "v1-completed.json").read_text())
    payload = source["events"][0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    payload["data"] = base64.b64encode(b"{not json").decode()
    not_json = folder / "not-json.json"
    not_json.write_text(json.dumps(source))
    deep = folder / "deep.json"
    deep.write_text('{"events": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return not_json, deep


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_replay_batch_gives_each_bad_history_one_verdict(tmp_path: Path, jobs: str) -> None:
    not_json, deep = bad_histories(tmp_path)
    result = CliRunner().invoke(
        main,
        ["replay", str(VERSIONING / "app"), str(tmp_path), str(VERSIONING / "histories"), "--jobs", jobs],
    )
    assert result.exit_code == 2, result.output
    bad = [line for line in result.stderr.splitlines() if line.startswith("BAD  ")]
    assert len(bad) == 2  # one verdict per bad file; the good ones still replay
    assert any(line.startswith(f"BAD  {not_json}: ") and "invalid JSON" in line for line in bad)
    assert any(line.startswith(f"BAD  {deep}: ") and ("nested" in line or "Recursion" in line)
               for line in bad)
    assert "3 replayed" in result.stdout and "2 unreadable" in result.stdout


def test_timeline_reports_unreadable_histories(tmp_path: Path) -> None:
    not_json, deep = bad_histories(tmp_path)
    for path, message in [
        (not_json, "event 1: a json/plain payload is not JSON"),
        (deep, "nested too deeply"),
    ]:
        result = CliRunner().invoke(main, ["timeline", str(path)])
        assert result.exit_code == 2
        assert message in result.stderr


# -- the pytest plugin -------------------------------------------------------------------------------


def test_lua_workflows_with_a_missing_or_broken_app_is_a_collection_error(pytester: pytest.Pytester) -> None:
    broken = pytester.mkdir("broken")
    (broken / "_index.yaml").write_text(
        'version: "1.0"\nnamespace: app\nentries:\n  - name: x\n    kind: [\n'
    )
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    for app_path, problem in [
        ("missing", "app directory does not exist"),
        ("broken", "_index.yaml:6: invalid YAML"),
    ]:
        result = pytester.runpytest(
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:randomly",
            "--lua-workflows",
            "--wippy-app",
            str(pytester.path / app_path),
            "-o",
            "asyncio_default_fixture_loop_scope=function",
        )
        shown = "\n".join(result.outlines + result.errlines)
        assert result.ret != 0
        assert "INTERNALERROR" not in shown
        assert "does not load" in shown and problem in shown


def test_fixture_with_a_missing_app_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it=textwrap.dedent(
            """
            async def test_it(wippy):
                pass
            """
        )
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        "-p",
        "no:randomly",
        "--wippy-app",
        str(pytester.path / "missing"),
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the Wippy app at*missing does not load*app directory does not exist*"])


def test_a_looping_index_on_the_script_table_stops_at_the_budget(tmp_path: Path) -> None:
    """Looking up `main` in the table a script returns runs its `__index` under the budget too."""
    from wftest.lua.sandbox import LoadError, Sandbox, SandboxOptions

    source = "return setmetatable({}, {__index = function() while true do end end})\n"
    app_ = load_app(write_app(tmp_path / "app", {"w": (source, [])}))
    sb = Sandbox(SandboxOptions(instruction_budget=1_000_000))
    with pytest.raises(LoadError, match=r"wf/w.lua: app.wf:w: wf/w.lua:1: instruction budget exceeded"):
        sb.load_entry(app_, app_.entries["app.wf:w"])
