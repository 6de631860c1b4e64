"""The protocol through which something outside the simulator (an exploration seed) changes a world's
activity attempts and crashes its worker; the world asks, it never decides itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wftest.sim.activities import Attempt, Mock
from wftest.worker import commands as cmd


@dataclass(frozen=True)
class FaultRecord:
    """An activity attempt that exploration failed (kind "failure") or timed out (kind "timeout")."""

    workflow_id: str
    activity_id: str
    activity_type: str
    attempt: int
    kind: str


@dataclass(frozen=True)
class CrashRecord:
    """A worker crash after workflow task `task` (1-based, per run) of a workflow run."""

    workflow_id: str
    run_id: str
    task: int


class Perturber(Protocol):
    """What a world consults when it is given one, and the record of what it changed."""

    faulted: list[FaultRecord]
    crashed: list[CrashRecord]

    def attempt(
        self,
        workflow_id: str,
        run_id: str,
        command: cmd.ScheduleActivityTask,
        attempt: int,
        mock: Mock | None,
        serve: Callable[[], Attempt],
    ) -> Attempt:
        """The outcome of one activity attempt: `serve()`, perhaps with another duration, or a fault."""
        ...

    def after_workflow_task(self, workflow_id: str, run_id: str, *, can_crash: bool) -> int | None:
        """Count a finished workflow task; its number when the worker crashes after it."""
        ...

    def recovery_seed(self, workflow_id: str, run_id: str, task: int) -> int:
        """The `math.random` seed of the fresh runtime after a crash."""
        ...
