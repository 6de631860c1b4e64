"""An app that does not load is a pytest collection error naming file:line, never an INTERNALERROR."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

BROKEN = """\
version: "1.0"
namespace: app
entries:
  - name: t
    kind: function.lua
    meta: {type: test}
    source: file://missing.lua
    method: main
  - name: u
    kind: function.lua
    meta: {type: test}
    source: "return {main = function() return true end}"
    imports:
      lib: app:nowhere
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


def test_a_broken_app_is_a_collection_error_at_each_file_line(pytester: pytest.Pytester) -> None:
    (pytester.path / "app").mkdir()
    (pytester.path / "app" / "_index.yaml").write_text(BROKEN)
    result = run(pytester, "--lua-workflows", "--wippy-app", "app")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    text = result.stdout.str()
    assert "INTERNALERROR" not in text + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting app*",
            "Wippy app 'app' does not load:",
            "app/_index.yaml:7: entry 'app:t': source file 'missing.lua' not found (from 'file://missing.lua')",
            "app/_index.yaml:14: entry 'app:u': import 'lib' names 'app:nowhere', which is not an entry *",
            "*1 error*",
        ]
    )
    assert "Traceback" not in text


def test_a_missing_app_directory_is_a_collection_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--lua-workflows", "--wippy-app", "nowhere")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting nowhere*",
            "Wippy app 'nowhere' does not load: *nowhere: app directory does not exist",
        ]
    )


def test_python_tests_of_a_missing_app_fail_cleanly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it=textwrap.dedent(
            """
            def test_uses_app(wippy_app):
                pass
            """
        )
    )
    result = run(pytester, "--wippy-app", "nowhere")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the Wippy app at *nowhere does not load*app directory does not exist*"])
    assert "Traceback" not in result.stdout.str()
