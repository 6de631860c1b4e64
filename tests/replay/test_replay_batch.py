"""`wftest replay APP DIR...` over a corpus: shards, parallel workers, a bad file among good ones,
the grouped summary and JUnit XML."""

from __future__ import annotations

import gzip
import os
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
from checkout import ROOT
from click.testing import CliRunner

from wftest import load_app
from wftest.cli import main
from wftest.replay import batch
from wftest.replay.batch import history_files, parse_shard
from wftest.sim import World

SIM = ROOT / "fixtures" / "sim"
APP = load_app(SIM)


def recorded_json(workflow: str) -> str:
    world = World(APP)
    return world.run_until_closed(world.start(workflow)).history_json()


@pytest.fixture(scope="module")
def hello_json() -> str:
    return recorded_json("app.wf:hello")


def corpus(root: Path, hello: str, count: int) -> list[str]:
    """`count` copies of one history spread over nested directories, some gzipped."""
    paths = []
    for i in range(count):
        folder = root / f"d{i % 3}" / ("deep" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        if i % 5 == 0:
            path = folder / f"h{i}.json.gz"
            path.write_bytes(gzip.compress(hello.encode()))
        else:
            path = folder / f"h{i}.json"
            path.write_text(hello)
        paths.append(str(path))
    (root / "notes.txt").write_text("not a history")
    return paths


def test_history_files_walks_json_and_gzip_in_a_stable_order(tmp_path: Path, hello_json: str) -> None:
    made = corpus(tmp_path, hello_json, 12)
    found = list(history_files([str(tmp_path)]))
    assert sorted(found) == sorted(made)
    assert found == list(history_files([str(tmp_path)]))
    single = made[0]
    assert list(history_files([single])) == [single]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_are_disjoint_and_complete(tmp_path: Path, hello_json: str, count: int) -> None:
    made = corpus(tmp_path, hello_json, 40)
    shards = [set(history_files([str(tmp_path)], (k, count))) for k in range(1, count + 1)]
    assert set().union(*shards) == set(made)
    assert sum(len(s) for s in shards) == len(made)
    if count > 1:
        assert all(shards), "every shard gets some of 40 files"


def test_shards_do_not_depend_on_where_the_corpus_lies(tmp_path: Path, hello_json: str) -> None:
    corpus(tmp_path / "a", hello_json, 20)
    corpus(tmp_path / "b", hello_json, 20)
    a = [os.path.relpath(p, tmp_path / "a") for p in history_files([str(tmp_path / "a")], (2, 3))]
    b = [os.path.relpath(p, tmp_path / "b") for p in history_files([str(tmp_path / "b")], (2, 3))]
    assert a == b


def test_a_file_s_shard_is_the_hash_of_its_path_under_the_root(tmp_path: Path, hello_json: str) -> None:
    """The partition is part of the CLI's contract: a CI matrix may mix wftest versions."""
    made = corpus(tmp_path, hello_json, 20)
    for k in (1, 2, 3):
        expected = [p for p in sorted(made) if zlib.crc32(Path(p).relative_to(tmp_path).as_posix().encode()) % 3 == k - 1]
        assert sorted(history_files([str(tmp_path)], (k, 3))) == expected


def test_cli_shards_add_up(tmp_path: Path, hello_json: str) -> None:
    corpus(tmp_path, hello_json, 25)
    seen: list[str] = []
    for k in (1, 2, 3):
        result = CliRunner().invoke(main, ["replay", str(SIM), str(tmp_path), "--shard", f"{k}/3"])
        assert result.exit_code == 0, result.output
        seen += [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert sorted(seen) == sorted(history_files([str(tmp_path)]))


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError):
        parse_shard(text)
    result = CliRunner().invoke(main, ["replay", str(SIM), str(tmp_path), "--shard", text])
    assert result.exit_code == 2 and "--shard" in result.output


def mutated_app(tmp_path: Path) -> Path:
    """The fixture app with hello.lua sleeping once more: its recorded histories no longer replay."""
    import shutil

    app = tmp_path / "app"
    shutil.copytree(SIM, app)
    lua = app / "workflows" / "hello.lua"
    slept = 'time.sleep("100ms")'
    lua.write_text(lua.read_text().replace(slept, slept + '\n    time.sleep("1s")'))
    return app


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bad_file_is_one_verdict_and_the_batch_completes(
    tmp_path: Path, hello_json: str, jobs: str
) -> None:
    histories = tmp_path / "h"
    corpus(histories, hello_json, 6)
    (histories / "d0" / "broken.json").write_text('{"events": [')
    (histories / "d1" / "empty.json.gz").write_bytes(b"")
    result = CliRunner().invoke(main, ["replay", str(SIM), str(histories), "--jobs", jobs])
    assert result.exit_code == 2
    assert result.stdout.splitlines()[-1] == "6 replayed, 0 nondeterministic, 2 unreadable"
    assert "BAD" in result.stderr and "broken.json: truncated JSON" in result.stderr
    assert "empty.json.gz" in result.stderr


def test_summary_groups_failures_by_workflow_type_and_line(tmp_path: Path, hello_json: str) -> None:
    histories = tmp_path / "h"
    histories.mkdir()
    for i in range(3):
        (histories / f"hello{i}.json").write_text(hello_json)
    (histories / "ordering.json").write_text(recorded_json("app.wf:ordering"))
    result = CliRunner().invoke(main, ["replay", str(mutated_app(tmp_path)), str(histories), "--jobs", "2"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "1 replayed, 3 nondeterministic, 0 unreadable"
    assert lines[-3] == "nondeterministic histories by workflow type and first differing line:"
    count, workflow_type, at, where, *_ = lines[-2].split()
    assert (count, workflow_type, at) == ("3", "app.wf:hello", "at")
    assert where == "workflows/hello.lua:5"


def test_junitxml_has_a_testcase_per_history(tmp_path: Path, hello_json: str) -> None:
    histories = tmp_path / "h"
    histories.mkdir()
    (histories / "hello.json").write_text(hello_json)
    (histories / "ordering.json").write_text(recorded_json("app.wf:ordering"))
    (histories / "broken.json").write_text('{"events": [] } <&>')
    report = tmp_path / "out" / "replay.xml"
    report.parent.mkdir()
    result = CliRunner().invoke(
        main, ["replay", str(mutated_app(tmp_path)), str(histories), "--junitxml", str(report)]
    )
    assert result.exit_code == 2, result.output
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {Path(str(case.get("name"))).name: case for case in suite.iter("testcase")}
    assert set(cases) == {"hello.json", "ordering.json", "broken.json"}
    failure = cases["hello.json"].find("failure")
    assert failure is not None and cases["hello.json"].get("classname") == "app.wf:hello"
    assert "nondeterminism in workflow task" in str(failure.get("message"))
    assert "hello.lua:" in str(failure.text)
    error = cases["broken.json"].find("error")
    assert error is not None and "not valid JSON" in str(error.get("message"))
    assert list(cases["ordering.json"]) == []
    assert not list(report.parent.glob("*.cases"))


def test_a_history_that_kills_its_worker_is_unreadable(
    tmp_path: Path, hello_json: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker process that dies (killed for memory, say) costs the batch one verdict, not the run.
    (Workers are forked, so they see the patched function.)"""
    if batch._CONTEXT.get_start_method() != "fork":
        pytest.skip("needs forked workers")
    real = batch.replay_file

    def dies_on_crash(app, path, **kwargs):  # type: ignore[no-untyped-def]
        if "crash" in path:
            os._exit(3)
        return real(app, path, **kwargs)

    monkeypatch.setattr(batch, "replay_file", dies_on_crash)
    for i in range(10):
        (tmp_path / f"h{i}.json").write_text(hello_json)
    (tmp_path / "h5-crash.json").write_text(hello_json)
    verdicts = list(batch.replay_files(str(SIM), history_files([str(tmp_path)]), jobs=2, chunk=3))
    assert [v.status for v in verdicts].count("ok") == 10
    [dead] = [v for v in verdicts if v.status != "ok"]
    assert (dead.status, Path(dead.path).name) == ("bad", "h5-crash.json")
    assert "the replay process died" in dead.text


pytest_plugins = ["pytester"]


def test_replay_histories_reads_gzip_and_runs_under_xdist(pytester: pytest.Pytester, hello_json: str) -> None:
    """`pytest --replay-histories DIR` uses the same reader (`.json.gz` too) and spreads over `-n`."""
    histories = pytester.mkdir("histories")
    (histories / "hello.json").write_text(hello_json)
    (histories / "nested").mkdir()
    (histories / "nested" / "hello.json.gz").write_bytes(gzip.compress(hello_json.encode()))
    (histories / "broken.json.gz").write_bytes(gzip.compress(b'{"events": ['))
    pytester.makeini(f"[pytest]\nwippy_app = {SIM}\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--replay-histories", "histories", "-n", "2",
        "-v",
    )
    result.assert_outcomes(passed=2, failed=1)
    text = "\n".join(result.outlines)
    assert "histories::nested/hello.json.gz" in text
    assert "broken.json.gz: truncated JSON" in text
