"""The timeline of a run: the text listing (the history snapshot format), the HTML page and
`wftest timeline`. Histories come from simulated runs of `fixtures/sim` and from the history builder for
events the simulator never writes."""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from checkout import MINUTE, ROOT, SECOND
from click.testing import CliRunner
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import (
    EventType,
    RetryState,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
    TimeoutType,
    WorkflowTaskFailedCause,
)
from temporalio.api.history.v1 import History, HistoryEvent

from wftest.app import App, load_app
from wftest.cli import main
from wftest.encoding.jsontext import GO_NIL
from wftest.encoding.payloads import python_to_payload
from wftest.history import ErrorInfo, ExecutionRef, HistoryBuilder, timeout_failure, wippy_failure
from wftest.history.jsonio import history_from_json, history_to_json
from wftest.sim import ActivityError, WorkflowRun, World
from wftest.timeline import TimelineError, build_timeline, format_offset, render_text
from wftest.timeline.html import crowded, render_html
from wftest.timeline.model import INSTANT_KINDS
from wftest.timeline.text import clip
from wftest.timeline.values import payload_text, payloads_text

T0 = 1_767_225_600 * SECOND
RUN_ID = "2a7c3f51-0d4e-4b9a-9f0e-5c1d2b3a4e6f"
OTHER_RUN = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"


@pytest.fixture(scope="module")
def app() -> App:
    return load_app(ROOT / "fixtures" / "sim")


def run(
    app: App, workflow: str, *args: Any, setup: Callable[[World], None] | None = None, seed: int = 0
) -> WorkflowRun:
    world = World(app, seed=seed)
    if setup is not None:
        setup(world)
    return world.run_until_closed(world.start(workflow, *args))


def saga_mocks(world: World) -> None:
    """The saga of fixtures/sim with shipping failing after 5 minutes: two compensations run."""
    world.mock("app.act:reserve", {"id": "r-1"})
    world.mock("app.act:charge", {"id": "p-1"}, duration_ns=2 * SECOND)
    world.mock(
        "app.act:ship",
        error=ActivityError("no truck", kind="Unavailable", retryable=False),
        duration_ns=5 * MINUTE,
    )
    world.mock("app.act:refund", True)
    world.mock("app.act:release", True)


def saga(app: App, seed: int = 0) -> WorkflowRun:
    return run(app, "app.wf:saga", {"id": "o-1", "items": ["a"], "total": 50}, setup=saga_mocks, seed=seed)


SAGA_TEXT = """\
+0s         workflow       started     app.wf:saga input={"id":"o-1","items":["a"],"total":50}
+0s         workflow       task        #1
+0s         activity 5     scheduled   app.act:reserve input=["a"]
+0s         activity 5     completed   app.act:reserve attempt=1 result={"id":"r-1"}
+0s         workflow       task        #2
+0s         activity 11    scheduled   app.act:charge input=50
+2s         activity 11    completed   app.act:charge attempt=1 result={"id":"p-1"}
+2s         workflow       task        #3
+2s         timer 17       started     1h0m0s
+1h00m02s   timer 17       fired
+1h00m02s   workflow       task        #4
+1h00m02s   activity 22    scheduled   app.act:ship input="o-1"
+1h05m02s   activity 22    failed      app.act:ship attempt=1 error=Unavailable("no truck") \
retry_state=NonRetryableFailure
+1h05m02s   workflow       task        #5
+1h05m02s   activity 28    scheduled   app.act:refund input="p-1"
+1h05m02s   activity 28    completed   app.act:refund attempt=1 result=true
+1h05m02s   workflow       task        #6
+1h05m02s   activity 34    scheduled   app.act:release input="r-1"
+1h05m02s   activity 34    completed   app.act:release attempt=1 result=true
+1h05m02s   workflow       task        #7
+1h05m02s   workflow       completed   result={"status":"failed","step":"ship"}
"""


# -- text ------------------------------------------------------------------------------------------------


def test_saga_text(app: App) -> None:
    """One line per event group, the compensations in the order they ran."""
    assert render_text(saga(app).history) == SAGA_TEXT


def test_same_run_twice_gives_the_same_text(app: App) -> None:
    first, second = saga(app), saga(app)
    assert render_text(first.history) == render_text(second.history)
    assert render_text(first.history) == render_text(first.history)


def test_run_ids_do_not_change_the_text(app: App) -> None:
    """The default child workflow id is `<parent run id>_<event id>`; the run id itself is a token."""
    one = run(app, "app.wf:version_then_child", seed=1)
    two = run(app, "app.wf:version_then_child", seed=2)
    assert one.run_id != two.run_id
    text = render_text(one.history)
    assert text == render_text(two.history)
    assert one.run_id not in text
    assert '+0s         child <run>_7  initiated   app.wf:child input={"value":3}\n' in text


def test_no_wall_clock_identity_or_request_ids(app: App) -> None:
    r = saga(app)
    text = render_text(r.history)
    for absent in (
        "2026-",
        "wftest@simulator",
        "00000000-0000-0000-0000-",
        r.run_id,
        "temporal-go",
        "test-queue",
    ):
        assert absent not in text


def test_the_text_is_the_same_in_another_process_and_after_json(app: App, tmp_path: Path) -> None:
    """The snapshot must not depend on hash seeds or on whether the history went through proto3 JSON."""
    history = saga(app).history
    path = tmp_path / "saga.json"
    path.write_text(history_to_json(history))
    assert render_text(history_from_json(path.read_text())) == render_text(history)
    script = (
        "import sys; from wftest.history.jsonio import history_from_json; "
        "from wftest.timeline import render_text; "
        "sys.stdout.write(render_text(history_from_json(open(sys.argv[1]).read())))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout == SAGA_TEXT


def test_retries_show_the_last_attempt_and_the_previous_failure(app: App) -> None:
    """Only the last attempt is in the history; its start names the attempt and the last failure."""
    text = render_text(run(app, "app.wf:retry", 3).history)
    assert (
        "+3s         activity 5     failed      app.act:flaky attempt=3 "
        'last_failure=Unavailable("service down") error=Unavailable("service down") '
        "retry_state=MaximumAttemptsReached\n"
    ) in text


@pytest.mark.parametrize(
    ("workflow", "args", "setup", "lines"),
    [
        pytest.param(
            "app.wf:ordering",
            (),
            None,
            [
                '+0s         side effect    recorded    id=1 value="d4713d60-c8a7-4639-ab11-67b367a9c378"',
                "+0s         activity 6     scheduled   app.act:echo "
                'input={"id":"d4713d60-c8a7-4639-ab11-67b367a9c378","name":"A"}',
            ],
            id="side effect",
        ),
        pytest.param(
            "app.wf:version_then_child",
            (),
            None,
            [
                '+0s         version        recorded    change_id="c" version=3',
                '+0s         workflow       attributes  TemporalChangeVersion=["c-3"]',
                "+0s         child <run>_7  started     app.wf:child",
                '+0s         child <run>_7  completed   app.wf:child result={"doubled":6,"echo":3}',
            ],
            id="version and child",
        ),
        pytest.param(
            "app.wf:parent_exec",
            (),
            None,
            ['+0s         child <run>_14 failed      app.wf:child error=NotFound("no such order")'],
            id="child failure",
        ),
        pytest.param(
            "app.wf:probe_cancel",
            ("1500ms", "20s"),
            lambda w: w.mock("app.act:slow", "late", duration_ns=10 * SECOND),
            [
                "+1.5s       activity 5     cancel      app.act:slow",
                '+10s        activity 5     completed   app.act:slow attempt=1 result="late"',
                "+21.5s      timer 12       fired",
            ],
            id="activity cancel",
        ),
        pytest.param(
            "app.wf:looper",
            ({"batch": 1, "total": 2},),
            None,
            ['+1m00s      workflow       continued   app.wf:looper input={"batch":1,"n":1,"total":2}'],
            id="continue-as-new",
        ),
    ],
)
def test_event_groups_of_simulated_runs(
    app: App, workflow: str, args: tuple[Any, ...], setup: Callable[[World], None] | None, lines: list[str]
) -> None:
    text = render_text(run(app, workflow, *args, setup=setup).history)
    for line in lines:
        assert line + "\n" in text


def test_signals_updates_and_cancel_requests(app: App) -> None:
    """A signal with its sender, updates (rejected ones leave no events), a cancel request."""
    world = World(app)
    handle = world.start("app.wf:approval", {"doc": 1})
    world.signal_at(handle, 30 * MINUTE, "approve", {"by": "ann"}, sender="{app:client@app:worker|boss}")
    text = render_text(world.run_until_closed(handle).history)
    assert (
        '+30m00s     signal approve received    input={"by":"ann"} from={app:client@app:worker|boss}\n'
        in text
    )

    world = World(app)
    handle = world.start("app.wf:updatable", 1)
    world.update(handle, "add", 5)
    world.update(handle, "add", -1)
    world.update(handle, "boom")
    world.signal(handle, "close")
    text = render_text(world.run_until_closed(handle).history)
    assert "+0s         update add     accepted    id=update-2 input=5\n" in text
    assert '+0s         update add     completed   id=update-2 result={"total":6}\n' in text
    assert '+0s         update boom    completed   id=update-4 error=Internal("cannot boom")\n' in text
    assert "+0s         signal close   received\n" in text
    assert "update-3" not in text

    world = World(app)
    handle = world.start("app.wf:cancellable")
    world.advance(MINUTE)
    world.request_cancel(handle, "user asked")
    text = render_text(world.run_until_closed(handle).history)
    assert '+1m00s      workflow       cancel      cause="user asked"\n' in text


def jp(value: object) -> Payload:
    return python_to_payload(value)


def task(b: HistoryBuilder, t: int, attempt: int = 1) -> int:
    scheduled = b.workflow_task_scheduled(t, task_queue="q", attempt=attempt)
    started = b.workflow_task_started(t, scheduled_event_id=scheduled)
    return b.workflow_task_completed(t, scheduled_event_id=scheduled, started_event_id=started)


def everything(run_id: str = RUN_ID) -> History:
    """A history with every kind of event group, including those the simulator never writes, ending with
    an activity and a workflow task still open and the run terminated two days in."""
    b = HistoryBuilder()
    b.workflow_execution_started(
        T0,
        workflow_type="app.wf:all",
        task_queue="q",
        run_id=run_id,
        input=[jp({"x": 1})],
        attempt=2,
        workflow_run_timeout_ns=60 * MINUTE,
    )
    done = task(b, T0)
    act = b.activity_task_scheduled(
        T0,
        activity_type="app.act:slow",
        task_queue="q",
        workflow_task_completed_event_id=done,
        input=[jp(1), jp("a")],
    )
    timer = b.timer_started(T0, start_to_fire_ns=30 * SECOND, workflow_task_completed_event_id=done)
    b.marker_recorded(
        T0,
        marker_name="Custom",
        details={"b": [jp(2)], "a": [jp("x")]},
        workflow_task_completed_event_id=done,
    )
    b.marker_recorded(
        T0,
        marker_name="SideEffect",
        details={"side-effect-id": [jp(1)], "data": [jp(b"\x01\xff")]},
        workflow_task_completed_event_id=done,
        summary=jp("workflow.sideEffect"),
    )
    b.marker_recorded(
        T0,
        marker_name="SideEffect",
        details={"side-effect-id": [jp(2)], "data": [jp(True)]},
        workflow_task_completed_event_id=done,
        summary=jp("process.send"),
    )
    signal = b.signal_external_workflow_execution_initiated(
        T0,
        target=ExecutionRef("", "other"),
        signal_name="ping",
        workflow_task_completed_event_id=done,
        input=[jp({"n": 1})],
    )
    cancel = b.request_cancel_external_workflow_execution_initiated(
        T0, target=ExecutionRef("", "gone"), workflow_task_completed_event_id=done
    )
    child = b.start_child_workflow_execution_initiated(
        T0, namespace="", workflow_type="app.wf:child", task_queue="q", workflow_task_completed_event_id=done
    )
    t1 = T0 + 10 * SECOND
    b.signal_external_workflow_execution_failed(
        t1,
        target=ExecutionRef("", "other"),
        initiated_event_id=signal,
        workflow_task_completed_event_id=done,
        cause=SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
    )
    b.external_workflow_execution_cancel_requested(
        t1, target=ExecutionRef("", "gone"), initiated_event_id=cancel
    )
    b.start_child_workflow_execution_failed(
        t1,
        namespace="",
        workflow_id=f"{run_id}_{child}",
        workflow_type="app.wf:child",
        initiated_event_id=child,
        workflow_task_completed_event_id=done,
        cause=StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
    )
    b.timer_canceled(t1, timer_id=str(timer), started_event_id=timer, workflow_task_completed_event_id=done)
    started = b.activity_task_started(
        T0 + 2 * SECOND,
        scheduled_event_id=act,
        attempt=2,
        last_failure=wippy_failure(ErrorInfo("Unavailable", "busy", True)),
    )
    b.activity_task_timed_out(
        t1,
        scheduled_event_id=act,
        started_event_id=started,
        failure=timeout_failure(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE),
        retry_state=RetryState.RETRY_STATE_TIMEOUT,
    )
    scheduled = b.workflow_task_scheduled(t1, task_queue="q")
    started = b.workflow_task_started(t1, scheduled_event_id=scheduled)
    b.workflow_task_failed(
        t1,
        scheduled_event_id=scheduled,
        started_event_id=started,
        cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
        failure=wippy_failure(ErrorInfo("Internal", "history mismatch", False)),
    )
    scheduled = b.workflow_task_scheduled(t1, task_queue="q", attempt=2)
    started = b.workflow_task_started(t1, scheduled_event_id=scheduled)
    b.workflow_task_timed_out(t1 + 10 * SECOND, scheduled_event_id=scheduled, started_event_id=started)
    t2 = T0 + 90 * SECOND
    sender = {"temporal.signal.from": "{app:client@app:worker|" + run_id + "_9}"}
    b.workflow_execution_signaled(
        t2, signal_name="go@desk", input=[jp(GO_NIL), jp(None)], header={"wippy-context": jp(sender)}
    )
    b.workflow_execution_cancel_requested(
        t2,
        cause="stop",
        external_initiated_event_id=3,
        external_execution=ExecutionRef("", "boss", OTHER_RUN),
    )
    done = task(b, t2)
    accepted = b.workflow_execution_update_accepted(
        t2, update_id="u-1", name="add", args=[jp(5)], sequencing_event_id=done
    )
    b.workflow_execution_update_completed(t2, update_id="u-1", accepted_event_id=accepted)
    b.upsert_workflow_search_attributes(
        t2, search_attributes={"Tag": jp("b"), "Count": jp(3)}, workflow_task_completed_event_id=done
    )
    b.workflow_properties_modified(
        t2, upserted_memo={"note": jp("x" * 100)}, workflow_task_completed_event_id=done
    )
    b.activity_task_scheduled(
        t2,
        activity_type="app.act:never",
        task_queue="q",
        activity_id="custom",
        workflow_task_completed_event_id=done,
    )
    scheduled = b.workflow_task_scheduled(t2 + 60 * MINUTE, task_queue="q")
    b.workflow_task_started(t2 + 60 * MINUTE, scheduled_event_id=scheduled)
    b.workflow_execution_terminated(T0 + 2 * 86_400 * SECOND + 2_500_000_000, reason="by test")
    return b.build()


EVERYTHING_TEXT = """\
+0s         workflow       started     app.wf:all input={"x":1} attempt=2 timeout=1h0m0s
+0s         workflow       task        #1
+0s         activity 5     scheduled   app.act:slow input=(1, "a")
+0s         timer 6        started     30s
+0s         marker Custom  recorded    a="x" b=2
+0s         side effect    recorded    id=1 value=bytes:01ff
+0s         local send     recorded    id=2
+0s         send other     signal      ping input={"n":1}
+0s         cancel gone    requested
+0s         child <run>_12 initiated   app.wf:child
+10s        send other     failed      ping cause=ExternalWorkflowExecutionNotFound
+10s        cancel gone    delivered
+10s        child <run>_12 not started app.wf:child cause=WorkflowAlreadyExists
+10s        timer 6        canceled
+10s        activity 5     timed out   app.act:slow attempt=2 started=+2s last_failure=Unavailable("busy") \
error=Timeout("activity StartToClose timeout") retry_state=Timeout
+10s        workflow       task        #2 failed cause=NonDeterministicError \
error=Internal("history mismatch")
+10s        workflow       task        #3 attempt=2 timed out timeout=StartToClose
+1m30s      signal go@desk received    input=(nil, null) from={app:client@app:worker|<run>_9}
+1m30s      workflow       cancel      cause="stop" by=boss
+1m30s      workflow       task        #4
+1m30s      update add     accepted    id=u-1 input=5
+1m30s      update add     completed   id=u-1 result=nil
+1m30s      workflow       attributes  Count=3 Tag="b"
+1m30s      workflow       memo        note="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...[+22 chars]
+1m30s      activity custom scheduled   app.act:never
+1h01m30s   workflow       task        #5 open
+2d00h00m02.5s workflow       terminated  reason="by test"
"""


def test_every_kind_of_event_group() -> None:
    """Failed/timed-out tasks, timeouts, cancels, failed sends and starts, markers, updates, open items."""
    assert render_text(everything()) == EVERYTHING_TEXT
    assert render_text(everything(OTHER_RUN)) == EVERYTHING_TEXT


def test_events_wippy_never_writes_still_get_a_line() -> None:
    b = HistoryBuilder()
    b.workflow_execution_started(T0, workflow_type="app.wf:x", task_queue="q", run_id=RUN_ID)
    history = b.build()
    extra = HistoryEvent(
        event_id=2, event_type=EventType.Value("EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED")
    )
    extra.event_time.FromNanoseconds(T0 + SECOND)
    extra.workflow_execution_options_updated_event_attributes.SetInParent()
    history.events.append(extra)
    assert (
        render_text(history).splitlines()[-1]
        == "+1s         workflow       workflow execution options updated"
    )


def test_other_closes() -> None:
    b = HistoryBuilder()
    b.workflow_execution_started(T0, workflow_type="app.wf:x", task_queue="q", run_id=RUN_ID)
    b.workflow_execution_timed_out(T0 + MINUTE, retry_state=RetryState.RETRY_STATE_TIMEOUT)
    assert (
        render_text(b.build()).splitlines()[-1]
        == "+1m00s      workflow       timed out   retry_state=Timeout"
    )
    assert build_timeline(b.build()).status == "timed_out"
    b = HistoryBuilder()
    b.workflow_execution_started(T0, workflow_type="app.wf:x", task_queue="q", run_id=RUN_ID)
    done = task(b, T0)
    b.workflow_execution_canceled(T0, workflow_task_completed_event_id=done, details=[jp("bye")])
    assert render_text(b.build()).splitlines()[-1] == '+0s         workflow       canceled    details="bye"'


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "+0s"),
        (250_000_000, "+0.25s"),
        (1, "+0.000000001s"),
        (59 * SECOND, "+59s"),
        (5 * MINUTE + 3 * SECOND, "+5m03s"),
        (60 * MINUTE, "+1h00m00s"),
        (61 * MINUTE + 500_000_000, "+1h01m00.5s"),
        (25 * 60 * MINUTE, "+1d01h00m00s"),
        (-2 * SECOND, "-2s"),
    ],
)
def test_offsets(ns: int, text: str) -> None:
    assert format_offset(ns) == text


def test_payload_forms() -> None:
    """Json/plain as canonical compact JSON, binary/null as nil, binary/plain as hex."""
    assert payload_text(jp({"b": [1, 2.5], "a": "<x>"})) == '{"a":"\\u003cx\\u003e","b":[1,2.5]}'
    assert payload_text(jp(GO_NIL)) == "nil"
    assert payload_text(jp(None)) == "null"
    assert payload_text(jp(b"\x00\x10")) == "bytes:0010"
    assert payloads_text([jp(1), jp("a")]) == '(1, "a")'
    assert payload_text(Payload(metadata={"encoding": b"binary/protobuf"}, data=b"abc")) == (
        "<unreadable binary/protobuf payload, 3 bytes>"
    )
    assert payload_text(Payload(metadata={"encoding": b"json/plain"}, data=b"{")) == (
        "<unreadable json/plain payload, 1 bytes>"
    )


def test_long_values_are_clipped_with_a_stable_marker() -> None:
    assert clip("x" * 80) == "x" * 80
    assert clip("x" * 85) == "x" * 80 + "...[+5 chars]"


def test_the_model_of_a_saga(app: App) -> None:
    """Lanes in order of appearance; activity items know their attempt, start, end and status."""
    timeline = build_timeline(saga(app).history)
    assert [lane.label for lane in timeline.lanes] == [
        "workflow",
        "activity 5",
        "activity 11",
        "timer 17",
        "activity 22",
        "activity 28",
        "activity 34",
    ]
    ship = timeline.lanes[4].items[0]
    assert (ship.kind, ship.label, ship.status, ship.attempt) == ("activity", "app.act:ship", "failed", 1)
    assert (ship.start_ns, ship.started_ns, ship.end_ns) == (3602 * SECOND, 3602 * SECOND, 3902 * SECOND)
    assert ("error", 'Unavailable("no truck")') in ship.fields
    assert ("start_to_close", "10m0s") in ship.fields
    assert (timeline.status, timeline.end_ns, timeline.event_count) == ("ok", 3902 * SECOND, 40)
    tasks = [item for item in timeline.lanes[0].items if item.kind == "task"]
    assert [item.event_ids for item in tasks[:2]] == [(2, 3, 4), (8, 9, 10)]


def broken(change: Callable[[HistoryBuilder], object]) -> History:
    b = HistoryBuilder()
    b.workflow_execution_started(T0, workflow_type="app.wf:x", task_queue="q", run_id=RUN_ID)
    done = task(b, T0)
    b.timer_started(T0, start_to_fire_ns=SECOND, workflow_task_completed_event_id=done)
    change(b)
    return b.build()


def test_contradictions_name_the_event() -> None:
    wrong_kind = broken(lambda b: b.activity_task_completed(T0, scheduled_event_id=5, started_event_id=5))
    with pytest.raises(
        TimelineError,
        match="^event 6: ActivityTaskCompleted refers to event 5, which is not an open activity$",
    ):
        build_timeline(wrong_kind)
    twice = broken(lambda b: b.timer_fired(T0, timer_id="5", started_event_id=5))
    twice.events.append(HistoryEvent())
    twice.events[-1].CopyFrom(twice.events[-2])
    twice.events[-1].event_id = 7
    with pytest.raises(
        TimelineError, match="^event 7: TimerFired refers to event 5, which is not an open timer$"
    ):
        build_timeline(twice)
    headless = History(events=list(broken(lambda b: None).events)[1:])
    with pytest.raises(
        TimelineError, match="starts with WorkflowExecutionStarted, not WorkflowTaskScheduled"
    ):
        build_timeline(headless)
    with pytest.raises(TimelineError, match="no events"):
        build_timeline(History())


# -- HTML ------------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag with its classes and attributes, and the text of each <title>."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, set[str], dict[str, str | None]]] = []
        self.titles: list[str] = []
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, set((values.get("class") or "").split()), values))
        self._in_title = tag == "title"
        if self._in_title:
            self.titles.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles[-1] += data

    def count(self, tag: str, *classes: str) -> int:
        return sum(1 for name, have, _ in self.tags if name == tag and set(classes) <= have)


def test_html_structure(app: App) -> None:
    """Two charts (time and event order), a lane per model lane, a bar per activity attempt, failure
    marks, hover titles with the details, and the listing as a table."""
    history = saga(app).history
    page_text = render_html(history, title="saga <run>")
    page = Page(page_text)
    timeline = build_timeline(history)
    assert page.count("svg") == 2
    assert page.count("g", "lane") == 2 * len(timeline.lanes)
    assert page.count("rect", "bar", "kind-activity") == 2 * 5
    assert page.count("rect", "bar", "kind-timer") == 2
    assert page.count("rect", "bar", "kind-task") == 2 * 7
    assert page.count("path", "mark", "status-failed") == 2
    assert page.count("rect", "bar", "kind-activity", "status-failed") == 2
    ship = next(t for t in page.titles if t.startswith("activity 22: app.act:ship"))
    assert ship.splitlines() == [
        "activity 22: app.act:ship",
        "+1h00m02s → +1h05m02s",
        "took 5m0s",
        "status: failed",
        "name: app.act:ship",
        'input: "o-1"',
        "start_to_close: 10m0s",
        "attempt: 1",
        'error: Unavailable("no truck")',
        "retry_state: NonRetryableFailure",
        "events: 22, 23, 24",
    ]
    assert "saga &lt;run&gt;" in page_text
    assert page.count("tr") == 1 + len(timeline.entries)
    assert page.count("tr", "status-failed") == 1
    checked = [values["id"] for tag, _, values in page.tags if tag == "input" and "checked" in values]
    assert checked == ["scale-order"]  # the instant mocks take would squeeze their bars into slivers


def test_html_opens_on_virtual_time_when_spans_have_room(app: App) -> None:
    timeline = build_timeline(saga(app).history)
    assert crowded(timeline)
    wide = dataclasses.replace(timeline, lanes=tuple(
        dataclasses.replace(lane, items=tuple(
            dataclasses.replace(item, end_ns=max(item.end_ns, item.start_ns + 10**12))
            if item.end_ns is not None and item.kind not in INSTANT_KINDS else item
            for item in lane.items))
        for lane in timeline.lanes))
    assert not crowded(wide)


def test_html_summary_states_the_workflows_own_result(app: App) -> None:
    page = render_html(run(app, "app.wf:ordering").history, title="t")
    summary = page.split('<div class="summary">', 1)[1].split("</div>", 1)[0]
    assert '<b class="status-ok">completed</b> <code>[&quot;A&quot;,&quot;B&quot;,true]</code>' in summary


def test_html_retries_and_open_items() -> None:
    """The stretch before the last attempt is hatched and labelled; items still open are marked."""
    page = Page(render_html(everything(), title="all"))
    assert page.count("rect", "bar", "retrying") == 1
    assert any("attempts 1-1 and their backoff" in t for t in page.titles)
    assert page.count("rect", "bar", "kind-activity", "status-open") == 2
    assert page.count("rect", "bar", "kind-task", "status-open") == 2
    assert page.count("path", "mark", "status-timed_out") == 2 * 2
    assert page.count("circle", "tick", "kind-signal") == 2
    assert page.count("polygon", "tick", "kind-marker") == 2 * 3


def test_html_is_self_contained_deterministic_and_escaped(app: App) -> None:
    b = HistoryBuilder()
    b.workflow_execution_started(
        T0,
        workflow_type="app.wf:x",
        task_queue="q",
        run_id=RUN_ID,
        input=[jp("</title><script>alert(1)</script>https://evil.example")],
    )
    page = render_html(b.build(), title="<em>x</em>")
    assert "<script" not in page and "<em>" not in page and "&lt;em&gt;x&lt;/em&gt;" in page
    assert "https://evil" in page  # the payload shows, as text
    for history in (saga(app).history, everything()):
        page = render_html(history, title="t")
        assert "http://" not in page and "https://" not in page
        assert "<script" not in page and "<link" not in page and " src=" not in page
        assert page.count("url(") == page.count("url(#")
        assert page == render_html(history, title="t")
    assert render_html(saga(app, seed=1).history, title="t") == render_html(
        saga(app, seed=2).history, title="t"
    )


def test_html_defaults_to_event_order_when_no_time_passes(app: App) -> None:
    page = Page(render_html(run(app, "app.wf:ordering").history, title="t"))
    checked = [values["id"] for tag, _, values in page.tags if tag == "input" and "checked" in values]
    assert checked == ["scale-order"]


BROWSERS = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome", "headless_shell")


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, bytes per pixel and the unfiltered RGB(A) rows of an 8-bit truecolour PNG (what Chromium
    writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    size = 4 if colour == 6 else 3
    raw, stride, rows, previous = zlib.decompress(chunks), width * size, [], bytearray(width * size)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, size, rows


def test_screenshot_in_a_headless_browser(app: App, tmp_path: Path) -> None:
    """The page really draws: the failed shipping attempt's red bar and the timer's bar are on screen."""
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        pytest.skip("no headless Chromium on PATH (" + ", ".join(BROWSERS) + ")")
    page, shot = tmp_path / "saga.html", tmp_path / "saga.png"
    page.write_text(render_html(saga(app).history, title="saga"), encoding="utf-8")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1800,600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    width, size, rows = png_pixels(shot.read_bytes())
    colours: dict[bytes, int] = {}
    rightmost_bar = 0
    for row in rows:
        for x in range(0, width * size, size):
            pixel = row[x : x + 3]
            colours[pixel] = colours.get(pixel, 0) + 1
            if pixel in (bytes((0x4A, 0x7F, 0xD4)), bytes((0xD6, 0x45, 0x45))):
                rightmost_bar = max(rightmost_bar, x // size)
    assert colours.get(bytes((0xD6, 0x45, 0x45)), 0) > 200  # the failed ship bar
    assert colours.get(bytes((0x9A, 0x9A, 0xA6)), 0) > 300  # the one-hour timer bar
    assert rightmost_bar > 0.85 * width  # the drawing uses the window's width
    assert len(colours) > 20


# -- the command -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saga_file(app: App, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("histories") / "saga.json"
    path.write_text(saga(app).history_json())
    return path


def test_cli_prints_the_timeline(saga_file: Path) -> None:
    result = CliRunner().invoke(main, ["timeline", str(saga_file)])
    assert result.exit_code == 0, result.output
    assert result.stdout == SAGA_TEXT
    coloured = CliRunner().invoke(main, ["timeline", str(saga_file), "--color"])
    assert coloured.exit_code == 0
    failed_line = next(line for line in coloured.stdout.splitlines() if "failed" in line)
    assert failed_line.startswith("\x1b[1;31m+1h05m02s")
    assert "\x1b[" not in CliRunner().invoke(main, ["timeline", str(saga_file), "--no-color"]).stdout


def test_cli_writes_html(saga_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "saga.html"
    result = CliRunner().invoke(main, ["timeline", str(saga_file), "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == render_html(
        history_from_json(saga_file.read_text()), title="saga.json"
    )


def test_cli_bad_input_exits_2_naming_the_file_and_event(saga_file: Path, tmp_path: Path) -> None:
    """As `wftest replay`: unreadable histories are usage errors (exit 2) with the file and event id."""
    not_json = tmp_path / "broken.json"
    not_json.write_text('{"events": [')
    result = CliRunner().invoke(main, ["timeline", str(not_json)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {not_json}: truncated JSON: the text ends inside a value (line 1 column 13)\n"
    )

    unknown = tmp_path / "unknown.json"
    unknown.write_text(saga_file.read_text().replace("EVENT_TYPE_TIMER_FIRED", "EVENT_TYPE_TIMER_EXPLODED"))
    result = CliRunner().invoke(main, ["timeline", str(unknown)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {unknown}: event 18: unknown EventType value 'EVENT_TYPE_TIMER_EXPLODED'\n"
    )

    contradiction = tmp_path / "contradiction.json"
    contradiction.write_text(
        history_to_json(
            broken(lambda b: b.activity_task_completed(T0, scheduled_event_id=5, started_event_id=5))
        )
    )
    result = CliRunner().invoke(main, ["timeline", str(contradiction)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {contradiction}: event 6: ActivityTaskCompleted refers to event 5, "
        "which is not an open activity\n"
    )

    missing = CliRunner().invoke(main, ["timeline", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "nope.json' does not exist" in missing.stderr


def test_other_run_ids_become_stable_tokens() -> None:
    """A child's run id (here in its result) and the next run's id (continue-as-new) are tokens too."""
    b = HistoryBuilder()
    b.workflow_execution_started(T0, workflow_type="app.wf:x", task_queue="q", run_id=RUN_ID)
    done = task(b, T0)
    initiated = b.start_child_workflow_execution_initiated(
        T0, namespace="", workflow_type="app.wf:child", task_queue="q", workflow_task_completed_event_id=done
    )
    child = ExecutionRef("", f"{RUN_ID}_{initiated}", OTHER_RUN)
    started = b.child_workflow_execution_started(
        T0, child=child, workflow_type="app.wf:child", initiated_event_id=initiated
    )
    b.child_workflow_execution_completed(
        T0,
        child=child,
        workflow_type="app.wf:child",
        initiated_event_id=initiated,
        started_event_id=started,
        result=[jp({"run": OTHER_RUN})],
    )
    done = task(b, T0)
    b.workflow_execution_continued_as_new(
        T0,
        new_execution_run_id="9e9e9e9e-0000-4000-8000-000000000001",
        workflow_type="app.wf:x",
        task_queue="q",
        workflow_task_completed_event_id=done,
        input=[jp("9e9e9e9e-0000-4000-8000-000000000001")],
    )
    lines = render_text(b.build()).splitlines()
    assert lines[-3] == '+0s         child <run>_5  completed   app.wf:child result={"run":"<run-2>"}'
    assert lines[-1] == '+0s         workflow       continued   app.wf:x input="<next-run>"'


def test_an_attempt_still_running_when_the_history_ends() -> None:
    """A history exported while an activity runs has its ActivityTaskStarted without a close."""
    b = HistoryBuilder()
    b.workflow_execution_started(T0, workflow_type="app.wf:x", task_queue="q", run_id=RUN_ID)
    done = task(b, T0)
    scheduled = b.activity_task_scheduled(
        T0, activity_type="app.act:x", task_queue="q", workflow_task_completed_event_id=done
    )
    b.activity_task_started(
        T0 + 5 * SECOND,
        scheduled_event_id=scheduled,
        attempt=2,
        last_failure=wippy_failure(ErrorInfo("Internal", "oops", True)),
    )
    timeline = build_timeline(b.build())
    assert render_text(b.build()).splitlines()[-1] == (
        '+5s         activity 5     started     app.act:x attempt=2 last_failure=Internal("oops")'
    )
    item = timeline.lanes[1].items[0]
    assert (item.status, item.started_ns, item.end_ns, item.attempt) == ("open", 5 * SECOND, None, 2)
    assert ("started", "+5s") in item.fields
