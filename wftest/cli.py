"""The `wftest` command. Exit codes: 0 ok, 1 problems found in the user's app or run, 2 usage errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from wftest.app import App, AppError, AppLoadError, load_app
from wftest.check import check_app


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wftest")
def main() -> None:
    """Deterministic testing and simulation for Wippy Lua workflows."""


def _load_app(app: str) -> App:
    """The app, or its load errors (`file:line: message`) on stderr and exit status 2."""
    try:
        return load_app(app)
    except AppLoadError as exc:
        for error in exc.errors:
            click.echo(os.path.join(app, str(error)), err=True)
        raise SystemExit(2) from None


@main.command()
@click.argument("app", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object per problem (file, line, severity, code, message), for editors and CI.")
def check(app: str, fmt: str) -> None:
    """Load APP, compile and lint every Lua source; print each problem as file:LINE: message."""
    try:
        report = check_app(app)
    except AppError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "json":
        rows = [{**p.as_dict(), "file": os.path.join(app, p.file)} for p in report.problems]
        click.echo(json.dumps(rows, indent=2))
    else:
        for problem in report.problems:
            click.echo(os.path.join(app, str(problem)) if problem.file else str(problem), err=True)
        if report.ok:
            click.echo(f"{app}: {report.summary()}")
        else:
            click.echo(f"{app}: {len(report.errors)} problem(s)", err=True)
    if not report.ok:
        raise SystemExit(1)


def _parse_start_time(value: str | None) -> int:
    from wftest.sim.timing import DEFAULT_START_NS, parse_start_time

    if value is None:
        return DEFAULT_START_NS
    try:
        return parse_start_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--start-time") from None


def _signal_option(spec: str) -> tuple[int, str, object]:
    from wftest.lua.gotime import GoTimeError, parse_duration

    after, colon, rest = spec.partition(":")
    topic, equals, value = rest.partition("=")
    if not colon or not topic:
        raise click.BadParameter(f"expected AFTER:TOPIC=JSON, got {spec!r}", param_hint="--signal")
    try:
        offset = parse_duration(after)
    except GoTimeError as exc:
        raise click.BadParameter(
            f"expected AFTER:TOPIC=JSON (e.g. 30m:approve='{{\"by\": \"ann\"}}'), got {spec!r}: {exc}",
            param_hint="--signal",
        ) from None
    return offset, topic, _json_option(value, "--signal") if equals else None


def _json_option(text_value: str, hint: str) -> object:
    import json

    from wftest.encoding.jsontext import EncodeError, encode_json_python

    try:
        value = json.loads(text_value)
        encode_json_python(value)  # what a payload can carry (nesting depth, numbers)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=hint) from None
    except (RecursionError, EncodeError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise click.BadParameter(f"cannot be a payload: {reason}", param_hint=hint) from None
    return value


@main.command()
@click.argument("app", type=click.Path(exists=True, file_okay=False))
@click.argument("workflow")
@click.option("--input", "inputs", multiple=True, metavar="JSON", help="One workflow argument (repeatable).")
@click.option(
    "--mock", "mocks", multiple=True, metavar="ACTIVITY_ID=JSON", help="Serve an activity with a value."
)
@click.option(
    "--mock-error",
    "mock_errors",
    multiple=True,
    metavar="ACTIVITY_ID=KIND:MESSAGE",
    help="Fail an activity (non-retryable) with a Wippy error.",
)
@click.option(
    "--signal",
    "signals",
    multiple=True,
    metavar="AFTER:TOPIC=JSON",
    help="Signal the workflow AFTER (a Go duration, e.g. 1m) its start; repeatable.",
)
@click.option("--start-time", metavar="RFC3339", help="Virtual start time (default 2026-01-01T00:00:00Z).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for everything random.")
@click.option(
    "--history-out", type=click.Path(dir_okay=False, writable=True), help="Write the history JSON here."
)
def run(
    app: str,
    workflow: str,
    inputs: tuple[str, ...],
    mocks: tuple[str, ...],
    mock_errors: tuple[str, ...],
    signals: tuple[str, ...],
    start_time: str | None,
    seed: int,
    history_out: str | None,
) -> None:
    """Run WORKFLOW of APP in a simulated world; print its result as JSON."""
    from wftest.encoding.jsontext import encode_json_python
    from wftest.lua.compiler import CompileError
    from wftest.lua.sandbox import LoadError
    from wftest.sim import SimulationError, UnknownWorkflowError, World
    from wftest.sim.activities import ActivityError
    from wftest.sim.state import unheard_report

    args = [_json_option(v, "--input") for v in inputs]
    timeline = [_signal_option(spec) for spec in signals]
    start_ns = _parse_start_time(start_time)
    loaded = _load_app(app)
    world = World(loaded, start_ns=start_ns, seed=seed)
    for spec in mocks:
        activity, sep, value = spec.partition("=")
        if not sep or not activity:
            raise click.BadParameter(f"expected ACTIVITY_ID=JSON, got {spec!r}", param_hint="--mock")
        world.mock(activity, _json_option(value, "--mock"))
    for spec in mock_errors:
        activity, sep, rest = spec.partition("=")
        kind, colon, message = rest.partition(":")
        if not sep or not colon or not activity or not kind:
            raise click.BadParameter(
                f"expected ACTIVITY_ID=KIND:MESSAGE, got {spec!r}", param_hint="--mock-error"
            )
        world.mock(activity, error=ActivityError(message, kind=kind, retryable=False))
    try:
        handle = world.start(workflow, *args)
        for offset, topic, payload in timeline:
            world.signal_at(handle, offset, topic, payload)
        world.run_until_closed(handle)
    except UnknownWorkflowError as exc:
        raise click.UsageError(str(exc)) from None
    except SimulationError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except (CompileError, LoadError) as exc:
        # The entry's source or modules (as `wftest check` reports them), paths relative to the app.
        for line in str(exc).splitlines():
            click.echo(f"error: {line if os.path.isabs(line) else os.path.join(app, line)}", err=True)
        raise SystemExit(1) from None
    if history_out:
        with open(history_out, "w", encoding="utf-8") as out:
            out.write(handle.history_json())
    unheard = world.unheard(handle.workflow_id) if handle.status == "running" else handle.unheard
    for line in unheard_report(*unheard):
        click.echo(f"warning: {line}", err=True)
    if handle.status == "completed":
        click.echo(encode_json_python(handle.result) if handle.result_payload is not None else "null")
        return
    if handle.status == "running":
        click.echo(
            "error: the workflow is still running: it waits for something that never comes (a signal?)",
            err=True,
        )
        raise SystemExit(1)
    failure = handle.failure
    kind = failure.application_failure_info.type if failure is not None else "Unknown"
    message = failure.message if failure is not None else ""
    click.echo(f"error: {kind}: {message}", err=True)
    raise SystemExit(1)


def _pull_histories(address: str, namespace: str, query: str) -> list[str]:
    """Fetch the histories a cluster lists for `query` (temporalio's client) into a temporary directory."""
    import asyncio
    import tempfile

    from temporalio.client import Client

    folder = Path(tempfile.mkdtemp(prefix="wftest-histories-"))

    async def pull() -> list[str]:
        try:
            client = await Client.connect(address, namespace=namespace)
        except Exception as exc:  # connection failures come in many types from the client
            raise click.ClickException(f"cannot reach Temporal at {address}: {exc}") from None
        paths = []
        async for history in client.list_workflows(query or None).map_histories():
            path = folder / f"{history.workflow_id}.json"
            path.write_text(history.to_json())
            paths.append(str(path))
        return paths

    return asyncio.run(pull())


@main.command(name="replay")
@click.argument("app", type=click.Path(exists=True, file_okay=False))
@click.argument("histories", nargs=-1, type=click.Path(exists=True))
@click.option("--strict", is_flag=True, help="Also compare inputs, durations, options, ids and results.")
@click.option(
    "--workflow", metavar="ENTRY_ID", help="The workflow entry (default: the history's workflow type)."
)
@click.option(
    "--workflow-id",
    metavar="ID",
    help="The workflow id, for histories that do not record it (default: the file name without .json).",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Replay in this many processes."
)
@click.option(
    "--shard",
    metavar="K/N",
    help="Replay only shard K of N: a stable split by file path, so a CI matrix shares out a corpus.",
)
@click.option(
    "--junitxml",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write a JUnit XML report: one test case per history.",
)
@click.option(
    "--temporal", "address", metavar="ADDRESS", help="Also pull histories from this Temporal frontend."
)
@click.option("--namespace", default="default", show_default=True, help="Namespace for --temporal.")
@click.option(
    "--query", default="", help="Visibility query for --temporal, e.g. 'WorkflowType=\"app:order\"'."
)
def replay_command(
    app: str,
    histories: tuple[str, ...],
    strict: bool,
    workflow: str | None,
    workflow_id: str | None,
    jobs: int,
    shard: str | None,
    junitxml: str | None,
    address: str | None,
    namespace: str,
    query: str,
) -> None:
    """Replay each HISTORY (a .json or .json.gz file, or a directory of them), and with --temporal the
    histories a cluster lists for --query, against APP's current code. Prints a verdict per history and
    a summary that groups nondeterministic ones by workflow type and first differing Lua line."""
    from rich.progress import Progress

    from wftest.replay.batch import BAD, JUnitWriter, Summary, history_files, parse_shard, replay_files

    try:
        part = parse_shard(shard) if shard else (1, 1)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    loaded = _load_app(app)
    if not histories and not address:
        raise click.UsageError("give history files or directories, or --temporal ADDRESS")
    roots = list(histories)
    if address:
        roots += _pull_histories(address, namespace, query)
    total = sum(1 for _ in history_files(roots, part))  # a quick first walk, for the progress bar
    summary = Summary()
    junit = JUnitWriter(junitxml) if junitxml else None
    verdicts = replay_files(
        app,
        history_files(roots, part),
        strict=strict,
        workflow=workflow,
        workflow_id=workflow_id,
        jobs=jobs,
        chunk=max(1, min(64, total // (max(jobs, 1) * 8))),  # big chunks, yet every worker busy to the end
        app=loaded,
    )
    with Progress(transient=True, disable=total < 20) as progress:
        task = progress.add_task("replaying", total=total)
        for verdict in verdicts:
            click.echo(verdict.text, err=verdict.status == BAD, color=False)  # plain text: no terminal check
            summary.add(verdict)
            if junit is not None:
                junit.add(verdict)
            progress.advance(task)
    if junit is not None:
        junit.close()
    for line in summary.lines():
        click.echo(line)
    if summary.bad:
        raise SystemExit(2)
    if summary.failed:
        raise SystemExit(1)


_STATUS_STYLES = {"failed": "bold red", "timed_out": "yellow", "canceled": "dim", "terminated": "dim"}


@main.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--html",
    "html_out",
    metavar="OUT",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the timeline as one self-contained HTML page to OUT instead of printing it.",
)
@click.option(
    "--color/--no-color", default=None, help="Colour failures in the listing (default: when on a terminal)."
)
def timeline(history: str, html_out: str | None, color: bool | None) -> None:
    """Show the run recorded in HISTORY (a history JSON file) over virtual time: one line per event group
    with its offset from the start, lane, event and key attributes."""
    import sys

    from wftest.history.jsonio import HistoryFormatError, history_from_json
    from wftest.timeline import TimelineError, build_timeline
    from wftest.timeline.html import render_html
    from wftest.timeline.text import entry_line

    try:
        parsed = history_from_json(Path(history).read_bytes(), source=history)
        shown = render_html(parsed, title=Path(history).name) if html_out else build_timeline(parsed)
    except RecursionError:
        click.echo(f"error: {history}: nested too deeply to read", err=True)
        raise SystemExit(2) from None
    except HistoryFormatError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except TimelineError as exc:
        click.echo(f"error: {history}: {exc}", err=True)
        raise SystemExit(2) from None
    if isinstance(shown, str):
        Path(str(html_out)).write_text(shown, encoding="utf-8")
        click.echo(f"wrote {html_out}")
        return
    entries = shown.entries
    if not (sys.stdout.isatty() if color is None else color):
        for entry in entries:
            click.echo(entry_line(entry))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=sys.stdout, force_terminal=True, highlight=False, soft_wrap=True)
    for entry in entries:
        console.print(Text(entry_line(entry), style=_STATUS_STYLES.get(entry.status, "")))
