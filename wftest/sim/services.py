"""What the world's own parts (links between workflows, the HTTP handler runner) ask of the world: the
protocols `World` satisfies, so those parts never import the world module."""

from __future__ import annotations

from typing import Any, Protocol

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from wftest.app import App
from wftest.sim.state import Parent, StartOptions, WorkflowState
from wftest.sim.timing import Agenda


class Executions(Protocol):
    """The workflow executions of a world, as one workflow's commands reach another."""

    @property
    def now_ns(self) -> int: ...

    def workflow_state(self, workflow_id: str) -> WorkflowState | None:
        """The execution with this id (its latest run), if there is one."""
        ...

    def launch(
        self,
        workflow_type: str,
        wid: str,
        payloads: list[Payload],
        context: dict[str, Any],
        parent: Parent | None,
        options: StartOptions | None = None,
        run_id: str | None = None,
    ) -> WorkflowState:
        """A new execution, its WorkflowExecutionStarted recorded."""
        ...

    def serve_without_code(self, wf: WorkflowState) -> None:
        """Close a run that has no Lua behind it (a Python workflow mock, or an unknown type)."""
        ...

    def close(
        self, wf: WorkflowState, status: str, *, result: Payload | None = None, failure: Failure | None = None
    ) -> None:
        """The run is over; what its close sets off (parent report, watchers, cron) follows."""
        ...


class Clock(Protocol):
    """A world's virtual clock, as code that must wait for the world to move drives it."""

    @property
    def app(self) -> App: ...

    @property
    def now_ns(self) -> int: ...

    @property
    def agenda(self) -> Agenda: ...

    def advance(self, duration_ns: int) -> None:
        """Let `duration_ns` of virtual time pass, doing everything due in it."""
        ...
