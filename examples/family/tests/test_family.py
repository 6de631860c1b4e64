"""Parent and child workflows: children started with process.spawn report with EXIT events, a
synchronous child (workflow.exec) returns its error like an activity does."""

from datetime import timedelta

import pytest
from syrupy.assertion import SnapshotAssertion

from wftest.testing import Wippy, WorkflowFailed

pytestmark = pytest.mark.wippy_app("..")

BATCH = {
    "id": "b-1",
    "orders": [
        {"id": "o-1", "address": "1 Main St"},
        {"id": "o-2", "address": "2 Side St"},
        {"id": "o-3", "address": "3 High St"},
    ],
}


def mock_carrier(wippy: Wippy) -> None:
    wippy.mock("app:print_label").calls(lambda order: {"id": "lbl-" + order["id"]})
    wippy.mock("app:hand_over").calls(lambda label: {"tracking": "TRK-" + label}).after("5m")
    wippy.mock("app:submit_manifest").returns({"id": "man-1"})


async def test_every_parcel_ships_in_its_own_child_workflow(
    wippy: Wippy, snapshot: SnapshotAssertion
) -> None:
    mock_carrier(wippy)
    handle = await wippy.start("app:ship_batch", BATCH, id="batch-1")

    result = await handle.result()

    assert result == {
        "manifest": "man-1",
        "shipped": [
            {"order": "o-1", "tracking": "TRK-lbl-o-1"},
            {"order": "o-2", "tracking": "TRK-lbl-o-2"},
            {"order": "o-3", "tracking": "TRK-lbl-o-3"},
        ],
        "failed": [],
    }
    assert handle.elapsed == timedelta(minutes=5)  # the children ran side by side
    assert [wippy.get(f"parcel-o-{n}").status for n in (1, 2, 3)] == ["completed"] * 3
    assert handle.history == snapshot  # the parent's view: children started, completed, then the manifest


async def test_a_failing_child_reports_its_error_in_the_exit_event(wippy: Wippy) -> None:
    mock_carrier(wippy)
    label = wippy.mock("app:print_label")
    label.when(lambda order: order["id"] == "o-2").fails("NotFound", "no such street", retryable=False)

    result = await wippy.execute("app:ship_batch", BATCH)

    assert result["failed"] == [{"order": "o-2", "kind": "NotFound", "message": "no such street"}]
    assert [s["order"] for s in result["shipped"]] == ["o-1", "o-3"]
    with pytest.raises(WorkflowFailed, match="no such street"):
        await wippy.get("parcel-o-2").result()
    wippy.mock("app:submit_manifest").assert_called_once_with({"batch": "b-1", "parcels": result["shipped"]})


async def test_a_terminated_child_exits_with_an_error(wippy: Wippy) -> None:
    mock_carrier(wippy)
    handle = await wippy.start("app:ship_batch", BATCH)
    wippy.at("2m").terminate("parcel-o-3", "parcel lost")

    result = await handle.result()

    assert result["failed"] == [{"order": "o-3", "kind": "Canceled", "message": "workflow terminated"}]
    assert wippy.get("parcel-o-3").status == "terminated"


async def test_the_synchronous_childs_error_fails_the_parent(wippy: Wippy) -> None:
    mock_carrier(wippy)
    wippy.mock("app:submit_manifest").fails("PermissionDenied", "carrier account locked", retryable=False)

    with pytest.raises(WorkflowFailed) as failed:
        await wippy.execute("app:ship_batch", BATCH)

    # The error travels from the activity, through the child, to the parent, which returns it.
    assert (failed.value.kind, failed.value.message) == ("PermissionDenied", "carrier account locked")
    assert failed.value.details["_wrapper"] == "child_workflow"
    assert failed.value.details["_workflow_type"] == "app:close_manifest"


async def test_the_parent_alone_with_mocked_children(wippy: Wippy) -> None:
    # No child Lua runs: each child closes at once with what its mock gives.
    parcel = wippy.mock_workflow("app:ship_parcel")
    parcel.when(lambda order: order["id"] == "o-2").fails("Unavailable", "depot closed").after("10m")
    parcel.calls(lambda order: {"order": order["id"], "tracking": "T-" + order["id"]}).after("3m")
    wippy.mock_workflow("app:close_manifest").returns({"id": "man-9"})

    result = await wippy.execute("app:ship_batch", BATCH)

    assert result == {
        "manifest": "man-9",
        "shipped": [{"order": "o-1", "tracking": "T-o-1"}, {"order": "o-3", "tracking": "T-o-3"}],
        "failed": [{"order": "o-2", "kind": "Unavailable", "message": "depot closed"}],
    }
    assert wippy.elapsed == timedelta(minutes=10)  # the parent waited for the slowest child
    assert [call.args[0]["id"] for call in parcel.calls_made] == ["o-1", "o-2", "o-3"]
    assert wippy.calls == ""  # no activity ran: the children were mocks
