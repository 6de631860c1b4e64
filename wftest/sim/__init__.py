"""The simulated Temporal server: a virtual world to run Wippy workflows in."""

from wftest.sim.activities import ActivityError, ActivityInfo
from wftest.sim.state import QueryError, SimulationError, UnknownWorkflowError, WorkflowRun
from wftest.sim.world import World

__all__ = [
    "ActivityError",
    "ActivityInfo",
    "QueryError",
    "SimulationError",
    "UnknownWorkflowError",
    "World",
    "WorkflowRun",
]
