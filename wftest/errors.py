"""The root of wftest's exceptions, so callers (and the pytest plugin) tell them apart by class.

- `UserError`: caused by what the user gave wftest (an app, Lua code, a history, an argument, a test that
  asks for something impossible); its message is written for that user and names the file:line, event id
  or argument at fault.
- `RunOutcome`: what the code under test did (a workflow failed, an update was rejected); a test expects it
  or fails on it.
- `InternalError`: wftest broke a rule of its own; the traceback matters, not only the message.
Signals that never leave a module (a Lua error on its way to Lua, a parser's early exit) stay private.
"""

from __future__ import annotations


class WftestError(Exception):
    """Every exception wftest raises to its caller."""


class UserError(WftestError):
    """The user's input is wrong or cannot be served; the message says where and why."""


class RunOutcome(WftestError):
    """The code under test ended in a way the test may expect (raised by the test API)."""


class InternalError(WftestError):
    """A bug in wftest: a rule of its own was broken."""
