"""The test API behind the `wippy` pytest fixture (usable without pytest too)."""

from wftest.sim.activities import ActivityError, ActivityInfo
from wftest.sim.processes import Mailbox, Message
from wftest.testing.harness import (
    ActivityFailed,
    CallLog,
    HistoryText,
    ProcessFailed,
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
    "ProcessFailed",
    "Rule",
    "Scheduled",
    "UpdateFailed",
    "UpdateRejected",
    "Wippy",
    "WorkflowBlocked",
    "WorkflowFailed",
    "WorkflowHandle",
]
