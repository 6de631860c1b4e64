"""`wftest check`: every problem as file:LINE: message, exit codes 0/1/2, no tracebacks."""

from __future__ import annotations

from pathlib import Path

from checkout import FIXTURES, ROOT
from click.testing import CliRunner

from wftest.cli import main


def check(path: Path | str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_good_app_prints_a_summary() -> None:
    code, out, err = check(ROOT / "examples" / "orders")
    assert code == 0, err
    assert "7 entries" in out and "all Lua sources compile" in out


def test_every_problem_is_reported_with_file_and_line() -> None:
    app = FIXTURES / "sandbox" / "broken"
    code, out, err = check(app)
    assert code == 1
    lines = err.strip().splitlines()
    assert f"{app}/plain_syntax.lua:5: unexpected symbol near 'end'" in lines
    assert f"{app}/typed_syntax.lua:5: expected a type after ':', got '='" in lines
    assert any(line.startswith(f"{app}/_index.yaml:50: bad:unknown_module: unknown module 'teleport'")
               for line in lines)
    assert any(line.startswith(f"{app}/_index.yaml:26: bad:wants_http: module 'http_client' does not have any "
                               "allowed class") for line in lines)
    assert any("bad:db_lib: module 'sql'" in line and "imported by workflow bad:wants_sql_via_lib" in line
               for line in lines)
    assert lines[-1].endswith("5 problem(s)")
    assert "Traceback" not in err


def test_malformed_yaml_names_file_and_line() -> None:
    code, _, err = check(FIXTURES / "loader" / "malformed_yaml")
    assert code == 1
    assert "_index.yaml:" in err and "Traceback" not in err


def test_usage_errors_exit_2() -> None:
    assert check(ROOT / "no-such-dir")[0] == 2
    assert check(ROOT / "README.md")[0] == 2
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2


def test_a_directory_without_registry_files_is_not_an_app(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = check(tmp_path)
    assert code == 2
    assert "no registry files (_index.yaml) in this directory: it is not a Wippy app" in err
