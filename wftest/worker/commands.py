"""The command model both sides speak: what one workflow task asked the server to do.

The worker produces these; the simulator turns them into history events and the replayer matches
them against recorded events. Every command carries `seq`, the event id its first event will have
(Go SDK numbering: activity and timer ids are derived from it), and `where`, the Lua `file:LINE`
that issued it, for reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

DEFAULT_START_TO_CLOSE_NS = 10 * 60 * 1_000_000_000


@dataclass(frozen=True)
class RetryPolicy:
    initial_interval_ns: int = 0
    backoff_coefficient: float = 0.0
    maximum_interval_ns: int = 0
    maximum_attempts: int = 0
    non_retryable_error_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivityOptions:
    task_queue: str
    schedule_to_close_ns: int = 0
    schedule_to_start_ns: int = 0
    start_to_close_ns: int = DEFAULT_START_TO_CLOSE_NS
    heartbeat_ns: int = 0
    retry_policy: RetryPolicy | None = None
    wait_for_cancellation: bool = False
    disable_eager_execution: bool = False
    summary: str = ""


@dataclass(frozen=True)
class Command:
    seq: int
    where: str

    @property
    def name(self) -> str:
        """The Temporal command type, e.g. `ScheduleActivityTask`."""
        return type(self).__name__

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class ScheduleActivityTask(Command):
    activity_id: str
    activity_type: str
    input: tuple[Payload, ...]
    options: ActivityOptions
    header: Mapping[str, Payload] = field(default_factory=dict)

    def describe(self) -> str:
        return f"ScheduleActivityTask(id={self.activity_id}, type={self.activity_type})"


@dataclass(frozen=True)
class RequestCancelActivityTask(Command):
    scheduled_event_id: int

    def describe(self) -> str:
        return f"RequestCancelActivityTask(scheduled={self.scheduled_event_id})"


@dataclass(frozen=True)
class StartTimer(Command):
    timer_id: str
    duration_ns: int

    def describe(self) -> str:
        return f"StartTimer(id={self.timer_id}, {self.duration_ns / 1e9:g}s)"


@dataclass(frozen=True)
class RecordMarker(Command):
    """A SideEffect or Version marker; `details` are the marker's payloads by key."""

    marker_name: str
    details: Mapping[str, Payload]
    summary: str = ""

    def describe(self) -> str:
        return f"RecordMarker({self.marker_name})"


@dataclass(frozen=True)
class UpsertWorkflowSearchAttributes(Command):
    attributes: Mapping[str, Payload]


@dataclass(frozen=True)
class ModifyWorkflowProperties(Command):
    memo: Mapping[str, Payload]


@dataclass(frozen=True)
class ExternalWorkflowCommand(Command):
    """A command aimed at another workflow; `control` is the initiated event id, which the answer
    (signaled, cancel requested, or failed) names."""

    namespace: str
    workflow_id: str

    @property
    def control(self) -> str:
        return str(self.seq)


@dataclass(frozen=True)
class SignalExternalWorkflowExecution(ExternalWorkflowCommand):
    """`process.send` to another workflow."""

    signal_name: str
    input: tuple[Payload, ...]
    header: Mapping[str, Payload] = field(default_factory=dict)

    def describe(self) -> str:
        return f"SignalExternalWorkflowExecution({self.workflow_id}, {self.signal_name})"


@dataclass(frozen=True)
class StartChildWorkflowExecution(Command):
    """A child workflow; the workflow id defaults to `<parent run id>_<seq>`."""

    namespace: str
    workflow_id: str
    workflow_type: str
    task_queue: str
    input: tuple[Payload, ...]
    header: Mapping[str, Payload] = field(default_factory=dict)
    parent_close_policy: str = (
        ""  # "" (server default: terminate) | "terminate" | "abandon" | "request_cancel"
    )
    execution_timeout_ns: int = 0
    run_timeout_ns: int = 0
    task_timeout_ns: int = 0

    def describe(self) -> str:
        return f"StartChildWorkflowExecution({self.workflow_type}, id={self.workflow_id})"


@dataclass(frozen=True)
class RequestCancelExternalWorkflowExecution(ExternalWorkflowCommand):
    """`process.cancel`/`process.terminate` from a workflow."""

    def describe(self) -> str:
        return f"RequestCancelExternalWorkflowExecution({self.workflow_id})"


@dataclass(frozen=True)
class ContinueAsNewWorkflowExecution(Command):
    """`process.upgrade(...)`: the run ends and a new one starts with these inputs."""

    workflow_type: str
    task_queue: str
    input: tuple[Payload, ...]
    header: Mapping[str, Payload] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateResponse(Command):
    """Wippy's answer to an update: `ack` accepts, `nak` rejects (no event), then `ok` or
    `error` completes it."""

    update_id: str
    outcome: str  # "accept" | "reject" | "complete"
    result: Payload | None = None
    failure: Failure | None = None
    reason: str = ""

    def describe(self) -> str:
        return f"UpdateResponse({self.update_id}, {self.outcome})"


@dataclass(frozen=True)
class CompleteWorkflowExecution(Command):
    result: Payload | None


@dataclass(frozen=True)
class FailWorkflowExecution(Command):
    failure: Failure


#: Every command a workflow task can produce: a closed union, so a `match` over it can be checked whole.
AnyCommand = (
    ScheduleActivityTask
    | RequestCancelActivityTask
    | StartTimer
    | RecordMarker
    | UpsertWorkflowSearchAttributes
    | ModifyWorkflowProperties
    | SignalExternalWorkflowExecution
    | StartChildWorkflowExecution
    | RequestCancelExternalWorkflowExecution
    | ContinueAsNewWorkflowExecution
    | UpdateResponse
    | CompleteWorkflowExecution
    | FailWorkflowExecution
)
