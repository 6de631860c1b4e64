"""The test API behind the `wippy` pytest fixture (usable without pytest too)."""

from wftest.sim.activities import ActivityError, ActivityInfo
from wftest.sim.processes import Mailbox, Message
from wftest.testing.harness import (
    ActivityFailed,
    CallLog,
    HistoryText,
    ProcessBlocked,
    ProcessFailed,
    ProcessHandle,
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
    "ActivityFailed",
    "ActivityError",
    "ActivityInfo",
    "ActivityMock",
    "Call",
    "CallLog",
    "HistoryText",
    "Mailbox",
    "Message",
    "MockMismatchError",
    "ProcessBlocked",
    "ProcessFailed",
    "ProcessHandle",
    "Rule",
    "Scheduled",
    "UpdateFailed",
    "UpdateRejected",
    "Wippy",
    "WorkflowBlocked",
    "WorkflowFailed",
    "WorkflowHandle",
]
