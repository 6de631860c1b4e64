"""The `wftest` command. Exit codes: 0 ok, 1 problems found in the user's app or run, 2 usage errors."""

from __future__ import annotations

import os

import click

from wftest.app import AppError
from wftest.check import check_app


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wftest")
def main() -> None:
    """Deterministic testing and simulation for Wippy Lua workflows."""


@main.command()
@click.argument("app", type=click.Path(exists=True, file_okay=False))
def check(app: str) -> None:
    """Load APP and compile every Lua source; print each problem as file:LINE: message."""
    try:
        report = check_app(app)
    except AppError as exc:
        raise click.UsageError(str(exc)) from None
    if report.ok:
        click.echo(f"{app}: {report.summary()}")
        return
    for problem in report.problems:
        click.echo(problem if os.path.isabs(problem) else os.path.join(app, problem), err=True)
    click.echo(f"{app}: {len(report.problems)} problem(s)", err=True)
    raise SystemExit(1)
