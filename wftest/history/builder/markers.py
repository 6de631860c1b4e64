"""Events that record what the workflow keeps for itself: markers (side effects, versions), search
attributes and memo.

Each function is a `HistoryBuilder` method (the class body installs it) and returns the new event id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from temporalio.api.common.v1 import Memo, Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    MarkerRecordedEventAttributes,
    UpsertWorkflowSearchAttributesEventAttributes,
    WorkflowPropertiesModifiedEventAttributes,
)
from temporalio.api.sdk.v1 import UserMetadata

from wftest.history.builder import fields
from wftest.history.builder.log import EventLog


def marker_recorded(
    self: EventLog,
    time_ns: int,
    *,
    marker_name: str,
    details: Mapping[str, Sequence[Payload]],
    workflow_task_completed_event_id: int,
    failure: Failure | None = None,
    summary: Payload | None = None,
) -> int:
    """`summary` goes to the event's user metadata, where the SideEffect marker keeps
    `"workflow.sideEffect"` / `"process.send"`."""
    attributes = MarkerRecordedEventAttributes(
        marker_name=marker_name,
        details={name: Payloads(payloads=values) for name, values in details.items()},
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        failure=failure,
    )
    metadata = None if summary is None else UserMetadata(summary=summary)
    return self._add(time_ns, attributes, user_metadata=metadata)


def upsert_workflow_search_attributes(
    self: EventLog,
    time_ns: int,
    *,
    search_attributes: Mapping[str, Payload],
    workflow_task_completed_event_id: int,
) -> int:
    attributes = UpsertWorkflowSearchAttributesEventAttributes(
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        search_attributes=fields.search_attributes(search_attributes),
    )
    return self._add(time_ns, attributes)


def workflow_properties_modified(
    self: EventLog,
    time_ns: int,
    *,
    upserted_memo: Mapping[str, Payload],
    workflow_task_completed_event_id: int,
) -> int:
    attributes = WorkflowPropertiesModifiedEventAttributes(
        workflow_task_completed_event_id=workflow_task_completed_event_id,
        upserted_memo=Memo(fields=upserted_memo),
    )
    return self._add(time_ns, attributes)
