"""The test API behind the `wippy` pytest fixture (usable without pytest too)."""

from wftest.sim.activities import ActivityError, ActivityInfo
from wftest.testing.harness import (
    CallLog,
    HistoryText,
    Scheduled,
    UpdateFailed,
    UpdateRejected,
    Wippy,
    WorkflowBlocked,
    WorkflowFailed,
    WorkflowHandle,
)
from wftest.testing.mocks import ActivityMock, Call, MockMismatchError, Rule

__all__ = [
    "ActivityError",
    "ActivityInfo",
    "ActivityMock",
    "Call",
    "CallLog",
    "HistoryText",
    "MockMismatchError",
    "Rule",
    "Scheduled",
    "UpdateFailed",
    "UpdateRejected",
    "Wippy",
    "WorkflowBlocked",
    "WorkflowFailed",
    "WorkflowHandle",
]
