"""The replay hot path's history reader (`wftest.history.fastread`) against the protobuf reader
(`history_from_json`): the same events for every fixture history in every export shape, the same
errors for every bad document."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from checkout import ROOT
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from test_history_builder import full_history
from test_history_formats import to_legacy, to_shorthand

from wftest import load_app
from wftest.history.fastread import (
    checks,
    event_time_ns,
    events_from_json,
    payloads,
    read_history,
    read_history_file,
    scalars,
    view_to_proto,
    views,
)
from wftest.history.fastread import events as event_checks
from wftest.history.jsonio import HistoryFormatError, history_from_json, history_to_json
from wftest.replay import replay, replay_history
from wftest.sim import World

SIM = ROOT / "fixtures" / "sim"
APP = load_app(SIM)


def _sim_histories() -> dict[str, str]:
    """Every run (children included) of the fixture app's workflows, started plainly with echoing
    activity mocks: completed, failed and blocked runs alike."""
    out: dict[str, str] = {}
    for entry in APP.workflows():
        world = World(APP)
        for activity in ("app.act:echo", "app.act:reserve", "app.act:charge", "app.act:ship"):
            world.mock(activity, lambda args, info: args[0] if args else None)
        try:
            run = world.start(entry.id, {"id": "o", "items": [], "total": 1, "a": 1})
            world.run_until_closed(run, limit_ns=10 * 3600 * 10**9)
        except Exception:  # noqa: S112 - a workflow that needs other input still leaves a history
            pass
        for each in world.all_runs():
            out[f"{entry.id}#{each.workflow_id}"] = each.history_json()
    return out


FIXTURES: dict[str, str] = {
    **_sim_histories(),
    **{f"examples/{p.name}": p.read_text() for p in (ROOT / "examples").rglob("histories/*.json")},
    "builder: every event type": history_to_json(full_history()),
}

FORMATS = {
    "proto3": lambda text: text,
    "temporalio to_json": lambda text: WorkflowHistory("wf", history_from_json(text).events).to_json(),
    "legacy": lambda text: json.dumps(to_legacy(json.loads(text))),
    "shorthand": lambda text: json.dumps(to_shorthand(json.loads(text))),
    "legacy+shorthand": lambda text: json.dumps(to_legacy(to_shorthand(json.loads(text)))),
    "compact bytes": lambda text: json.dumps(json.loads(text), separators=(",", ":")).encode(),
}


def assert_same_reads(view: Any, proto: Message, path: str = "event", depth: int = 0) -> None:
    """Every field read gives the same value on the view as on the protobuf message, set or not."""
    if isinstance(view, Message):
        assert view == proto, path
        return
    descriptor: Descriptor = proto.DESCRIPTOR
    for oneof in descriptor.oneofs:
        assert view.WhichOneof(oneof.name) == proto.WhichOneof(oneof.name), path
    for field in descriptor.fields:
        mine, theirs = getattr(view, field.name), getattr(proto, field.name)
        where = f"{path}.{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            assert dict(mine).keys() == dict(theirs).keys(), where
            for key in theirs:
                _same_value(mine[key], theirs[key], f"{where}[{key!r}]", depth)
        elif field.is_repeated:
            assert len(mine) == len(theirs), where
            for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
                _same_value(a, b, f"{where}[{i}]", depth)
        else:
            if field.type == FieldDescriptor.TYPE_MESSAGE and field.containing_oneof is None:
                assert view.HasField(field.name) == proto.HasField(field.name), where
            _same_value(mine, theirs, where, depth)


def _same_value(mine: Any, theirs: Any, where: str, depth: int) -> None:
    if isinstance(theirs, Message):
        if depth < 6:  # unset messages nest forever; six levels cover every set field of a history
            assert_same_reads(mine, theirs, where, depth + 1)
    else:
        assert (type(mine), mine) == (type(theirs), theirs), where


@pytest.mark.parametrize("shape", list(FORMATS))
@pytest.mark.parametrize("name", list(FIXTURES))
def test_both_readers_give_the_same_events(name: str, shape: str) -> None:
    text = FORMATS[shape](FIXTURES[name])
    expected = list(history_from_json(text).events)
    fast = events_from_json(text)
    assert not isinstance(fast[0], HistoryEvent), "the fast path declined a well-formed history"
    assert [view_to_proto(event) for event in fast] == expected
    for view, proto in zip(fast, expected, strict=True):
        assert_same_reads(view, proto, f"event {proto.event_id}")


@pytest.mark.parametrize("shape", ["proto3", "legacy"])
def test_event_times_in_nanoseconds_read_alike(shape: str) -> None:
    """Replay reads each task's start time straight from the JSON; it is the protobuf reader's time."""
    document = json.loads(FORMATS[shape](history_to_json(full_history())))
    document["events"][1]["eventTime"] = "2026-01-01T01:00:00.123456789Z"
    document["events"][2]["eventTime"] = "2026-01-01T01:00:00.5+01:00"
    del document["events"][3]["eventTime"]
    text = json.dumps(document)
    fast, expected = events_from_json(text), list(history_from_json(text).events)
    assert not isinstance(fast[0], HistoryEvent)
    assert [event_time_ns(e) for e in fast] == [e.event_time.ToNanoseconds() for e in expected]
    assert [event_time_ns(e) for e in expected] == [e.event_time.ToNanoseconds() for e in expected]
    assert event_time_ns(fast[1]) % 10**9 == 123456789


def test_objects_of_many_shapes_are_checked_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the checkers generated per shape, objects are checked key by key: same events, same errors."""
    monkeypatch.setattr(checks, "_MAX_SHAPES", 0)
    monkeypatch.setattr(event_checks, "_MAX_SHAPES", 0)
    for spec in views._SPECS.values():
        monkeypatch.setattr(spec, "shapes", {})
    document = json.loads(history_to_json(full_history()))
    text = json.dumps(document)
    assert [view_to_proto(e) for e in events_from_json(text)] == list(history_from_json(text).events)
    document["events"][0]["workflowExecutionStartedEventAttributes"]["attempt"] = "x"
    bad = json.dumps(document)
    with pytest.raises(HistoryFormatError) as fast_error:
        events_from_json(bad)
    with pytest.raises(HistoryFormatError) as proto_error:
        history_from_json(bad)
    assert str(fast_error.value) == str(proto_error.value)


def test_fixture_histories_cover_the_event_types_replay_reads() -> None:
    seen = {event.event_type for text in FIXTURES.values() for event in history_from_json(text).events}
    names = {EventType.Name(kind) for kind in seen}
    for kind in ("ACTIVITY_TASK_FAILED", "TIMER_FIRED", "MARKER_RECORDED", "WORKFLOW_EXECUTION_SIGNALED",
                 "CHILD_WORKFLOW_EXECUTION_COMPLETED", "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"):
        assert f"EVENT_TYPE_{kind}" in names
    assert len(FIXTURES) >= 30


def test_unusual_but_valid_spellings_read_the_same() -> None:
    """Proto field names, numeric enums, offsets in timestamps, float ids: the fast reader either reads
    them itself or hands them to the protobuf reader; the events are the same."""
    document = json.loads(history_to_json(full_history()))
    first = document["events"][0]
    first["event_id"] = int(first.pop("eventId"))
    first["eventType"] = EventType.Value(first["eventType"])
    document["events"][1]["eventTime"] = "2026-01-01T01:00:00.5+01:00"
    document["events"][2]["eventId"] = 3.0
    document["events"][2]["taskId"] = None
    document["events"][3]["someFutureField"] = {"x": [1, 2]}
    document["events"][4]["event_id"] = "5"  # the same field under both names
    text = json.dumps(document)
    expected = list(history_from_json(text).events)
    assert [view_to_proto(event) for event in events_from_json(text)] == expected


BAD_DOCUMENTS = [
    "events: []",
    '{"events": [',
    "",
    "[]",
    '{"events": []}',
    '{"events": [1]}',
    b'{"events": ["\xff"]}',
]


def _mutations() -> list[tuple[str, Any]]:
    """Single faults in an otherwise good history (the protobuf reader's error tests, and more)."""

    def event(i: int, key: str, value: Any) -> Any:
        def apply(events: list[dict[str, Any]]) -> None:
            if value is _DELETE:
                del events[i][key]
            else:
                events[i][key] = value

        return apply

    def attribute(kind: str, key: str, value: Any) -> Any:
        def apply(events: list[dict[str, Any]]) -> None:
            target = next(e for e in events if e["eventType"] == kind)
            attributes = next(v for k, v in target.items() if k.endswith("Attributes"))
            attributes[key] = value

        return apply

    return [
        ("unknown short enum", event(2, "eventType", "WorkflowTaskBegun")),
        ("unspecified", event(2, "eventType", "EVENT_TYPE_UNSPECIFIED")),
        ("unknown number", event(2, "eventType", 999)),
        ("no type", event(2, "eventType", _DELETE)),
        ("other attributes", event(2, "eventType", "EVENT_TYPE_TIMER_FIRED")),
        ("bad time", event(1, "eventTime", "yesterday")),
        ("bad month", event(1, "eventTime", "2026-13-01T00:00:00Z")),
        ("bad id", event(1, "eventId", "two")),
        ("gap", event(2, "eventId", "4")),
        ("no id", event(0, "eventId", _DELETE)),
        ("bool id", event(1, "eventId", True)),
        ("dangling reference", attribute("EVENT_TYPE_ACTIVITY_TASK_COMPLETED", "scheduledEventId", "99")),
        ("forward reference", attribute("EVENT_TYPE_ACTIVITY_TASK_STARTED", "scheduledEventId", "-1")),
        ("string for a message", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "activityType", "x")),
        ("int for a string", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "activityId", 5)),
        ("bad duration", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "startToCloseTimeout", "10m")),
        ("bad enum", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "taskQueue", {"kind": "Sticky2"})),
        ("list for a message", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "input", [])),
        ("bad payloads", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "input", {"payloads": {}})),
        ("int32 overflow", attribute("EVENT_TYPE_ACTIVITY_TASK_STARTED", "attempt", 2**31)),
        (
            "protobuf payload",
            attribute(
                "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
                "input",
                {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/protobuf").decode()}}]},
            ),
        ),
        ("json payload not JSON", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "input", _json_input(b"{"))),
        ("json payload empty", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "input", _json_input(b""))),
        ("json payload no data", attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "input", _json_input(None))),
        ("json payload NaN", attribute("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "input", _json_input(b"NaN"))),
        ("json result not JSON", attribute("EVENT_TYPE_ACTIVITY_TASK_COMPLETED", "result", _json_input(b"1 2"))),
        (
            "bad base64 type",
            attribute("EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "input", {"payloads": [{"data": 5}]}),
        ),
        (
            "two failure infos",
            attribute(
                "EVENT_TYPE_ACTIVITY_TASK_FAILED",
                "failure",
                {"message": "x", "applicationFailureInfo": {}, "timeoutFailureInfo": {}},
            ),
        ),
    ]


_DELETE = object()
_JSON_PLAIN_B64 = base64.b64encode(b"json/plain").decode()


def _json_input(data: bytes | None) -> dict[str, Any]:
    """Payloads holding one json/plain payload of `data` (`None`: no data at all)."""
    payload: dict[str, Any] = {"metadata": {"encoding": _JSON_PLAIN_B64}}
    if data is not None:
        payload["data"] = base64.b64encode(data).decode()
    return {"payloads": [payload]}


@pytest.mark.parametrize("text", BAD_DOCUMENTS)
def test_bad_documents_raise_the_same_errors(text: str | bytes) -> None:
    assert_same_error(text)


@pytest.mark.parametrize(("name", "mutate"), _mutations(), ids=[name for name, _ in _mutations()])
def test_faulty_events_read_alike(name: str, mutate: Any) -> None:
    """Both readers reject a fault with the same error naming the event, or (where the protobuf reader
    tolerates it, e.g. a string where a message belongs) both give the same events."""
    document = json.loads(history_to_json(full_history()))
    mutate(document["events"])
    text = json.dumps(document)
    try:
        expected = list(history_from_json(text, source="h.json").events)
    except HistoryFormatError:
        error = assert_same_error(text)
        assert error.event_id is not None, str(error)
        return
    assert name in TOLERATED
    assert [view_to_proto(event) for event in events_from_json(text)] == expected


TOLERATED = {"string for a message", "list for a message"}  # protobuf reads them as empty messages


def assert_same_error(text: str | bytes) -> HistoryFormatError:
    with pytest.raises(HistoryFormatError) as slow:
        history_from_json(text, source="h.json")
    with pytest.raises(HistoryFormatError) as fast:
        events_from_json(text, source="h.json")
    assert (str(fast.value), fast.value.event_id) == (str(slow.value), slow.value.event_id)
    assert str(fast.value).startswith("h.json: ")
    return fast.value


def test_gzip_files_and_their_errors(tmp_path: Path) -> None:
    text = FIXTURES["examples/v1-completed.json"]
    (tmp_path / "h.json.gz").write_bytes(gzip.compress(text.encode()))
    history = read_history_file(tmp_path / "h.json.gz")
    assert history.source == str(tmp_path / "h.json.gz")
    assert [view_to_proto(e) for e in history.events] == list(history_from_json(text).events)
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(HistoryFormatError, match=r"bad.json.gz: not a readable gzip file"):
        read_history_file(tmp_path / "bad.json.gz")
    (tmp_path / "cut.json.gz").write_bytes(gzip.compress(b'{"events": [')[:-4])
    with pytest.raises(HistoryFormatError, match=r"cut.json.gz: not a readable gzip file"):
        read_history_file(tmp_path / "cut.json.gz")
    with pytest.raises(HistoryFormatError, match=r"missing.json: cannot read the file"):
        read_history_file(tmp_path / "missing.json")


def test_replay_reads_json_text_and_gzip_through_the_fast_reader(tmp_path: Path) -> None:
    world = World(APP)
    run = world.run_until_closed(world.start("app.wf:ordering"))
    text = run.history_json()
    (tmp_path / "h.json.gz").write_bytes(gzip.compress(text.encode()))
    by_proto = replay_history(APP, run.history, strict=True)
    assert replay(APP, text, strict=True) == by_proto
    assert replay(APP, tmp_path / "h.json.gz", strict=True) == by_proto
    assert replay_history(APP, read_history(text), strict=True) == by_proto


def test_json_payloads_built_from_their_wire_form_are_the_usual_messages() -> None:
    from temporalio.api.common.v1 import Payload

    from wftest.encoding.payloads import json_payload

    for size in (0, 1, 127, 128, 16383, 16384, 70000):
        data = b"7" * size
        built, usual = json_payload(data), Payload(metadata={"encoding": b"json/plain"}, data=data)
        assert built == usual and built.SerializeToString() == usual.SerializeToString()


def test_long_payloads_read_alike() -> None:
    """Payload data past one byte of length prefix (128 bytes and more) reads the same."""
    document = json.loads(history_to_json(full_history()))
    attributes = document["events"][0]["workflowExecutionStartedEventAttributes"]
    for size in (127, 128, 300, 20000):
        data = base64.b64encode(b'"' + b"x" * size + b'"').decode()
        attributes["input"] = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": data}]}
        text = json.dumps(document)
        fast = events_from_json(text)
        assert not isinstance(fast[0], HistoryEvent)
        assert [view_to_proto(e) for e in fast] == list(history_from_json(text).events)
        assert len(fast[0].workflow_execution_started_event_attributes.input.payloads[0].data) == size + 2


# -- the generated event checkers and the known-good values: every quick path against the slow one ----

_PAYLOAD_B64 = {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IndoeSI="}


def _variants() -> list[tuple[str, int, tuple[str, ...], Any]]:
    """(name, event index, path to the value, the value): good and bad spellings of the values the
    generated checkers test inline."""
    started = ("workflowTaskStartedEventAttributes",)
    activity = ("activityTaskScheduledEventAttributes",)
    payload = ("activityTaskCanceledEventAttributes", "details", "payloads", "0")
    return [
        ("reference as number", 2, (*started, "scheduledEventId"), 2),
        ("reference as float", 2, (*started, "scheduledEventId"), 2.0),
        ("reference null", 2, (*started, "scheduledEventId"), None),
        ("reference zero", 2, (*started, "scheduledEventId"), "0"),
        ("reference to itself", 2, (*started, "scheduledEventId"), 3),
        ("reference out of int64", 2, (*started, "scheduledEventId"), 2**63),
        ("reference with a sign", 2, (*started, "scheduledEventId"), "+2"),
        ("reference of unicode digits", 2, (*started, "scheduledEventId"), "\u0662"),
        ("negative int32", 1, ("workflowTaskScheduledEventAttributes", "attempt"), -1),
        ("largest int32", 1, ("workflowTaskScheduledEventAttributes", "attempt"), 2**31 - 1),
        ("bool for an int", 1, ("workflowTaskScheduledEventAttributes", "attempt"), True),
        ("large int64 number", 1, ("taskId",), 2**40),
        ("id as number", 1, ("eventId",), 2),
        ("id null", 1, ("eventId",), None),
        ("attributes null", 2, started, None),
        ("attributes empty", 2, started, {}),
        ("attributes a list", 2, started, []),
        ("empty message", 6, (*activity, "taskQueue"), {}),
        ("null message", 6, (*activity, "taskQueue"), None),
        ("number for a message", 6, (*activity, "taskQueue"), 5),
        ("enum as number", 6, (*activity, "taskQueue", "kind"), 1),
        ("enum null", 6, (*activity, "taskQueue", "kind"), None),
        ("enum short name", 6, (*activity, "taskQueue", "kind"), "Normal"),
        ("time null", 1, ("eventTime",), None),
        ("time as number", 1, ("eventTime",), 5),
        ("time with an offset", 1, ("eventTime",), "2023-11-14T23:13:20+01:00"),
        ("time of a bad day", 1, ("eventTime",), "2023-02-29T00:00:00Z"),
        ("duration with a fraction", 6, (*activity, "startToCloseTimeout"), "1.5s"),
        ("duration as number", 6, (*activity, "startToCloseTimeout"), 10),
        ("duration null", 6, (*activity, "startToCloseTimeout"), None),
        ("payload data bad base64", 11, payload, {**_PAYLOAD_B64, "data": "a"}),
        ("payload data a number", 11, payload, {**_PAYLOAD_B64, "data": 5}),
        ("payload data a list", 11, payload, {**_PAYLOAD_B64, "data": [1]}),
        ("payload extra key", 11, payload, {**_PAYLOAD_B64, "x": 1}),
        ("payload two metadata keys", 11, payload,
         {**_PAYLOAD_B64, "metadata": {"encoding": "anNvbi9wbGFpbg==", "x": "eA=="}}),
        ("payload encoding a list", 11, payload,
         {**_PAYLOAD_B64, "metadata": {"encoding": ["x"]}}),
        ("type of other attributes", 2, ("eventType",), "EVENT_TYPE_ACTIVITY_TASK_STARTED"),
        ("type short name", 2, ("eventType",), "WorkflowTaskStarted"),
        ("type as number", 2, ("eventType",), EventType.Value("EVENT_TYPE_WORKFLOW_TASK_STARTED")),
        ("type null", 2, ("eventType",), None),
    ]


def _reads_alike(text: str) -> None:
    try:
        expected = list(history_from_json(text, source="h.json").events)
    except HistoryFormatError:
        assert_same_error(text)
        return
    assert [view_to_proto(event) for event in events_from_json(text)] == expected


def _with(document: dict[str, Any], index: int, path: tuple[str, ...], value: Any) -> str:
    changed = json.loads(json.dumps(document))
    target: Any = changed["events"][index]
    for step in path[:-1]:
        target = target[int(step) if isinstance(target, list) else step]
    target[int(path[-1]) if isinstance(target, list) else path[-1]] = value
    return json.dumps(changed)


@pytest.mark.parametrize(("name", "index", "path", "value"), _variants(), ids=[v[0] for v in _variants()])
def test_values_checked_inline_read_alike(name: str, index: int, path: tuple[str, ...], value: Any) -> None:
    """Each value the generated checkers test inline, spelt the usual and the unusual ways, both when
    its event's shape is new and once its checker exists: same events, or the same error."""
    document = json.loads(history_to_json(full_history()))
    text = _with(document, index, path, value)
    _reads_alike(text)
    _reads_alike(text)


def test_events_past_the_generated_checkers_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no generated checkers at all, events are checked the general way: same events, same errors."""
    monkeypatch.setattr(checks, "_MAX_SHAPES", 0)
    monkeypatch.setattr(event_checks, "_MAX_SHAPES", 0)
    monkeypatch.setattr(event_checks, "_EVENT_CHECKS", {})
    for spec in views._SPECS.values():
        monkeypatch.setattr(spec, "shapes", {})
        monkeypatch.setattr(spec, "event_shapes", {})
    text = history_to_json(full_history())
    fast = events_from_json(text)
    assert not isinstance(fast[0], HistoryEvent)
    assert [view_to_proto(event) for event in fast] == list(history_from_json(text).events)
    document = json.loads(text)
    for _, index, path, value in _variants():
        _reads_alike(_with(document, index, path, value))
    for _, mutate in _mutations():
        faulty = json.loads(text)
        mutate(faulty["events"])
        _reads_alike(json.dumps(faulty))
    assert not event_checks._EVENT_CHECKS


def test_an_unspecified_event_type_is_rejected_whatever_keys_it_has() -> None:
    """A blank key must not pass for the attributes of an unspecified event type."""
    document = json.loads(history_to_json(full_history()))
    document["events"][2]["eventType"] = "EVENT_TYPE_UNSPECIFIED"
    document["events"][2][""] = {"x": 1}
    assert_same_error(json.dumps(document))
    del document["events"][2]["workflowTaskStartedEventAttributes"]
    assert_same_error(json.dumps(document))


def test_known_good_values_start_afresh_when_full() -> None:
    good = {str(n) for n in range(4096)}
    scalars._known(good, "10s")
    assert good == {"10s"}


# -- json/plain data: both readers reject data that is not JSON, wherever the payload is ------------


def _started_input(document: dict[str, Any], *datas: bytes | None) -> str:
    """`document` with its first event's input holding json/plain payloads of `datas`."""
    payloads = [p for data in datas for p in _json_input(data)["payloads"]]
    document["events"][0]["workflowExecutionStartedEventAttributes"]["input"] = {"payloads": payloads}
    return json.dumps(document)


@pytest.mark.parametrize("fresh", [True, False], ids=["first sight", "known encoding"])
@pytest.mark.parametrize("data", [b"", b"{", b"[1,", b"NaN", b"Infinity", b'"a" "b"', b"1e400", None])
def test_json_payloads_that_are_not_json_raise_the_same_error(
    monkeypatch: pytest.MonkeyPatch, fresh: bool, data: bytes | None
) -> None:
    """Before its first payload (the slow check) and after a good one of the same encoding (the quick
    check), data that is not JSON is rejected by both readers with the protobuf reader's message."""
    if fresh:
        monkeypatch.setattr(payloads, "_GOOD_ENCODINGS", {})
        monkeypatch.setattr(payloads, "_GOOD_JSON", set())
    document = json.loads(history_to_json(full_history()))
    datas = [data] if fresh else [b'{"a": 1}', data]
    error = assert_same_error(_started_input(document, *datas))
    assert error.event_id == 1 and "a json/plain payload is not JSON" in str(error)


def test_a_bad_json_payload_replay_never_decodes_is_rejected_alike() -> None:
    """An activity's input: replay hands it on undecoded, yet both readers reject the history."""
    document = json.loads(history_to_json(full_history()))
    scheduled = next(e for e in document["events"] if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
    scheduled["activityTaskScheduledEventAttributes"]["input"] = _json_input(b"not json")
    error = assert_same_error(json.dumps(document))
    assert error.event_id == int(scheduled["eventId"]) and "a json/plain payload is not JSON" in str(error)


def test_json_data_found_good_is_remembered_and_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payloads, "_GOOD_JSON", set())
    document = json.loads(history_to_json(full_history()))
    text = _started_input(document, b'{"a": [1, 2.5, "x", null, true]}', b"null", b" 7 ")
    fast = events_from_json(text)
    assert not isinstance(fast[0], HistoryEvent)  # read by the fast path
    assert [view_to_proto(e) for e in fast] == list(history_from_json(text).events)
    assert _json_input(b"null")["payloads"][0]["data"] in payloads._GOOD_JSON


def test_json_data_the_fast_path_cannot_vouch_for_reads_alike() -> None:
    """Data that is not UTF-8, or nested deeper than wftest nests JSON, goes to the protobuf reader,
    which decides; data nested within the limit stays on the fast path."""
    document = json.loads(history_to_json(full_history()))
    for data in (b'"\xff"', b"[" * 200 + b"]" * 200, b'"\\ud800"'):
        text = _started_input(document, data)
        assert [view_to_proto(e) for e in events_from_json(text)] == list(history_from_json(text).events)
    shallow = b"[" + b"{}," * 40 + b"[" * 100 + b"1" + b"]" * 101  # many brackets, not deep
    text = _started_input(document, shallow)
    fast = events_from_json(text)
    assert not isinstance(fast[0], HistoryEvent)
    assert [view_to_proto(e) for e in fast] == list(history_from_json(text).events)
    assert payloads._depth([[{"a": [1]}], 2, {}]) == 4
