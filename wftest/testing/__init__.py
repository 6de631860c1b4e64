"""The test API behind the `wippy` pytest fixture (usable without pytest too)."""

from wftest.errors import RunOutcome, UserError, WftestError
from wftest.lua.compiler import CompileError
from wftest.lua.sandbox import LuaFailure
from wftest.replay import NondeterminismError
from wftest.sim.activities import (
    ActivityDoesNotLoad,
    ActivityError,
    ActivityInfo,
    ActivityNeedsMock,
    UnmockedActivityError,
)
from wftest.sim.http_fakes import HttpReply, HttpRoute, HttpRoutes
from wftest.sim.http_messages import HttpError, HttpRequest, HttpResponse
from wftest.sim.processes import Mailbox, Message
from wftest.testing.harness import (
    CallLog,
    HistoryText,
    ProcessHandle,
    Scheduled,
    Wippy,
    WorkflowHandle,
)
from wftest.testing.http import HttpClient
from wftest.testing.mocks import ActivityMock, Call, MockMismatchError, Rule
from wftest.testing.outcomes import (
    ActivityFailed,
    ProcessBlocked,
    ProcessFailed,
    UpdateFailed,
    UpdateRejected,
    WorkflowBlocked,
    WorkflowFailed,
)

__all__ = [
    "ActivityDoesNotLoad",
    "ActivityNeedsMock",
    "CompileError",
    "LuaFailure",
    "NondeterminismError",
    "RunOutcome",
    "UnmockedActivityError",
    "UserError",
    "WftestError",
    "ActivityFailed",
    "ActivityError",
    "ActivityInfo",
    "ActivityMock",
    "Call",
    "CallLog",
    "HistoryText",
    "HttpClient",
    "HttpError",
    "HttpReply",
    "HttpRequest",
    "HttpResponse",
    "HttpRoute",
    "HttpRoutes",
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
