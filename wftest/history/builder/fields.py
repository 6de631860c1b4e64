"""Proto field values the event families share: durations, payload lists, headers, task queues, and how
events name another workflow execution."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import (
    Header,
    Memo,
    Payload,
    Payloads,
    SearchAttributes,
    WorkflowExecution,
    WorkflowType,
)
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.taskqueue.v1 import TaskQueue

SECOND_NS = 1_000_000_000
DEFAULT_WORKFLOW_TASK_TIMEOUT_NS = 10 * SECOND_NS
"""Server default for workflow task timeouts (start event, WFT scheduled, children, continue-as-new)."""

NO_HEADER: Mapping[str, Payload] = MappingProxyType({})
"""An empty header that is still recorded (Go sends one even without fields)."""


@dataclass(frozen=True)
class ExecutionRef:
    """Another workflow execution as events name it: the parent, a child, or a signal/cancel target."""

    namespace: str
    workflow_id: str
    run_id: str = ""

    def execution(self) -> WorkflowExecution:
        return WorkflowExecution(workflow_id=self.workflow_id, run_id=self.run_id)


def timestamp(ns: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(ns)
    return stamp


def duration(ns: int) -> Duration:
    value = Duration()
    value.FromNanoseconds(ns)
    return value


def payloads(values: Sequence[Payload]) -> Payloads | None:
    """Go leaves `input`/`result` unset when there are no payloads, so an empty list means "absent"."""
    return Payloads(payloads=values) if values else None


def header(fields: Mapping[str, Payload] | None) -> Header | None:
    return None if fields is None else Header(fields=fields)


def memo(fields: Mapping[str, Payload] | None) -> Memo | None:
    return None if fields is None else Memo(fields=fields)


def search_attributes(fields: Mapping[str, Payload] | None) -> SearchAttributes | None:
    return None if fields is None else SearchAttributes(indexed_fields=fields)


def task_queue(name: str) -> TaskQueue:
    return TaskQueue(name=name, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL)


def request_id(event_id: int) -> str:
    """A server-style request id that depends only on the event id."""
    return str(uuid.UUID(int=event_id))


def child_fields(child: ExecutionRef, workflow_type: str, initiated_event_id: int) -> dict[str, Any]:
    """How a child run is named, in the child events and in the Go SDK's child workflow error."""
    return {
        "namespace": child.namespace,
        "workflow_execution": child.execution(),
        "workflow_type": WorkflowType(name=workflow_type),
        "initiated_event_id": initiated_event_id,
    }
