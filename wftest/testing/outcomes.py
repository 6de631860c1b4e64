"""How a run from a test ends badly: the exceptions the test API raises for it."""

from __future__ import annotations

from typing import Any

from wftest.errors import RunOutcome
from wftest.sim.state import SimulationError


class WorkflowFailed(RunOutcome):
    """`result()` of a run that did not complete: failed, timed out, canceled or terminated."""

    def __init__(self, workflow_id: str, status: str, kind: str, message: str, details: Any) -> None:
        text = f"workflow {workflow_id} {status.replace('_', ' ')}"
        super().__init__(f"{text}: {kind}: {message}" if message else text)
        self.workflow_id = workflow_id
        self.status = status
        self.kind = kind
        self.message = message
        self.details = details


class WorkflowBlocked(SimulationError):
    """`result()` of a run that can never close: nothing is left to happen in the world."""


class ProcessFailed(RunOutcome):
    """A plain Lua process run from a test raised, returned `nil, err`, or can never finish."""


class ActivityFailed(RunOutcome):
    """`run_activity` of an attempt that failed: the Wippy error Temporal would record for it."""

    def __init__(self, entry: str, kind: str, message: str, retryable: bool | None, details: Any) -> None:
        super().__init__(f"activity {entry} failed: {kind + ': ' if kind else ''}{message}")
        self.entry = entry
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.details = details


class ProcessBlocked(ProcessFailed):
    """`result()` of a process that can never finish: nothing is left to happen in the world. The
    message says where every live process waits."""


class UpdateRejected(RunOutcome):
    """The workflow answered an update with `nak`."""


class UpdateFailed(RunOutcome):
    """The workflow accepted an update, then answered it with an error."""

    def __init__(self, name: str, workflow_id: str, kind: str, message: str) -> None:
        super().__init__(f"update {name!r} to {workflow_id} failed: {kind}: {message}")
        self.kind = kind
        self.message = message
