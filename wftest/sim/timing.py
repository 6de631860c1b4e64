"""The simulated server's timing model, in one place.

A real Temporal server with an always-ready, idle worker records this:

- **Start.** WorkflowExecutionStarted, WorkflowTaskScheduled and WorkflowTaskStarted at the start
  instant. A workflow task takes no virtual time: WorkflowTaskCompleted and the events of its commands
  are appended at the instant the task started, in command order.
- **Activities.** An attempt starts the instant it is scheduled (or its retry backoff ends) and takes
  the duration its mock declares (Lua activities take none). Temporal writes ActivityTaskStarted only
  when the activity closes, so Started and Completed/Failed/TimedOut are appended together at the
  close instant; Started carries the start time, the final attempt number and the last failure.
  Retried attempts leave no events. Timeouts (start-to-close per attempt, schedule-to-close overall)
  fire on the virtual clock.
- **Timers.** TimerStarted with the task; TimerFired at start + duration.
- **Ties.** Everything due at one virtual instant is applied in the order it was scheduled (FIFO by
  creation), and only then is a workflow task dispatched for each workflow that has new events, so
  events of the same instant land in one workflow task. `dispatch_delay_ns` (0 by default) is the
  knob a seeded exploration turns: the time between a workflow's new event and its task starting.
- **Time skipping.** When nothing is due now, the clock jumps to the next due thing.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from wftest.lua.sandbox import DEFAULT_START_NS as DEFAULT_START_NS  # noqa: F401  (2026-01-01, stable histories)

LATEST_START_NS = 7_258_118_400 * 1_000_000_000  # 2200-01-01T00:00:00Z


def parse_start_time(text: str, *, naive_is_utc: bool = False) -> int:
    """An ISO 8601 / RFC 3339 time as Unix nanoseconds of the virtual clock; ValueError saying what is
    wrong. Without a zone offset the time is UTC when `naive_is_utc`, else an error."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {text!r}") from None
    if moment.tzinfo is None:
        if not naive_is_utc:
            raise ValueError("the time needs a zone offset (e.g. Z)")
        moment = moment.replace(tzinfo=timezone.utc)
    start_ns = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
    if not 0 <= start_ns < LATEST_START_NS:
        raise ValueError(
            f"{text!r} is out of range: the virtual clock runs from 1970-01-01T00:00:00Z to "
            "2200-01-01T00:00:00Z (nanoseconds since 1970 must fit in 64 bits, with room to run)"
        )
    return start_ns
DEFAULT_WORKFLOW_TASK_TIMEOUT_NS = 10 * 1_000_000_000


@dataclass(order=True)
class _Item:
    due_ns: int
    seq: int
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Agenda:
    """Things due at virtual instants, popped in (time, creation order)."""

    def __init__(self) -> None:
        self._heap: list[_Item] = []
        self._seq = 0

    def at(self, due_ns: int, action: Callable[[], None]) -> _Item:
        self._seq += 1
        item = _Item(due_ns, self._seq, action)
        heapq.heappush(self._heap, item)
        return item

    def next_due(self) -> int | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due_ns if self._heap else None

    def pop_due(self, now_ns: int) -> _Item | None:
        due = self.next_due()
        if due is None or due > now_ns:
            return None
        return heapq.heappop(self._heap)

    def __len__(self) -> int:
        return sum(1 for i in self._heap if not i.cancelled)
