"""What one exploration seed changes in a simulated world, and nothing else: each activity attempt's
duration (within the bounds its mock declares), injected activity failures and start-to-close timeouts
(only for the activity types a test allows), and worker crashes after workflow tasks.

Every decision is a pure function of the seed and the identity of what it decides about (workflow id,
run id, activity id, attempt, workflow task number), not of the order decisions are asked for, so a seed
gives the same choices in any process and a change elsewhere in a run does not reshuffle them.

Rules a user should know:

- **Durations.** A mock with `duration_bounds_ns=(low, high)` takes, per attempt, `low` (1 in 5), `high`
  (1 in 5) or a uniform value in between: the extremes are where orderings flip. A mock without bounds,
  and a Lua activity, keep the duration they declare: exploration never makes a test's own timing false,
  so declare bounds where the real duration is open.
- **Faults.** A faulted activity call fails its first `n` attempts, each with a retryable `Unavailable`
  error or, when the call has a start-to-close timeout, a start-to-close timeout; the retry policy then
  acts as Temporal's would. With `maximum_attempts = M` the call exhausts its attempts half of the time
  (`n = M`, the workflow sees the error) and otherwise recovers (`n < M`); with unlimited attempts it
  recovers after 1 to 3 failures. A faulted attempt never reaches the mock (the worker failed before
  running it), so mocks see only attempts that return.
- **Crashes.** After a workflow task, the worker may crash: the execution is dropped and a fresh one (a
  fresh Lua runtime, with a different `math.random` seed, as in production) replays the history so far,
  then carries on (accepted updates are redelivered from their events, as Temporal does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Literal

from wftest.history.failures import ErrorInfo
from wftest.sim.activities import Attempt, Mock, effective_policy
from wftest.sim.perturbation import CrashRecord, FaultRecord
from wftest.worker import commands as cmd

DEFAULT_FAULT_RATE = 0.25  # share of allowed activity calls that get faults
DEFAULT_CRASH_RATE = 0.2  # share of workflow tasks after which the worker crashes (crashes=True)
UNLIMITED_RETRY_FAULTS = 3  # most failed attempts given to a call whose policy retries forever

CrashMode = Literal[False, True, "every"]


class Perturbation:
    """The seeded choices a World consults (`World(app, perturbation=...)`); it also records what it did,
    so each world gets its own."""

    def __init__(
        self,
        seed: int,
        *,
        faults: bool | Collection[str] = False,
        crashes: CrashMode = False,
        fault_rate: float = DEFAULT_FAULT_RATE,
        crash_rate: float = DEFAULT_CRASH_RATE,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
        if isinstance(faults, str) or not isinstance(faults, (bool, Collection)):
            raise ValueError(
                f"faults must be True, False or a collection of activity ids, not {faults!r} "
                "(for one activity write faults={'app:charge'})"
            )
        if not isinstance(faults, bool) and not all(isinstance(f, str) for f in faults):
            raise ValueError(f"faults must hold activity ids (strings), got {sorted(map(repr, faults))}")
        if not (isinstance(crashes, bool) or crashes == "every"):
            raise ValueError(f"crashes must be True, False or 'every', not {crashes!r}")
        for name, rate in (("fault_rate", fault_rate), ("crash_rate", crash_rate)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"{name} must be a number from 0 to 1, not {rate!r}")
        self.seed = seed
        self.faults: bool | frozenset[str] = faults if isinstance(faults, bool) else frozenset(faults)
        self.crashes: CrashMode = crashes
        self.fault_rate = float(fault_rate)
        self.crash_rate = float(crash_rate)
        self.faulted: list[FaultRecord] = []
        self.crashed: list[CrashRecord] = []
        self._tasks: dict[tuple[str, str], int] = {}

    # -- activity attempts -------------------------------------------------------------------------

    def attempt(
        self,
        workflow_id: str,
        run_id: str,
        command: cmd.ScheduleActivityTask,
        attempt: int,
        mock: Mock | None,
        serve: Callable[[], Attempt],
    ) -> Attempt:
        """The outcome of one attempt: `serve()` with an explored duration, or an injected fault."""
        key = (workflow_id, run_id, command.activity_id, attempt)
        failing = self._failing_attempts(workflow_id, run_id, command)
        if attempt <= failing:
            base = mock.duration_ns if mock is not None else 0
            duration = self._duration(mock, base, key)
            stc = command.options.start_to_close_ns
            timeout = stc > 0 and self._unit("fault-kind", *key) < 0.5
            kind = "timeout" if timeout else "failure"
            self.faulted.append(
                FaultRecord(workflow_id, command.activity_id, command.activity_type, attempt, kind)
            )
            if timeout:
                return Attempt(duration_ns=stc + 1)
            message = f"fault injected by exploration seed {self.seed} (attempt {attempt})"
            return Attempt(
                error=ErrorInfo("Unavailable", message, True, None, None, None), duration_ns=duration
            )
        outcome = serve()
        if mock is None or mock.duration_bounds_ns is None:
            return outcome
        return replace(outcome, duration_ns=self._duration(mock, outcome.duration_ns, key))

    def _duration(self, mock: Mock | None, declared: int, key: tuple[str, str, str, int]) -> int:
        if mock is None or mock.duration_bounds_ns is None:
            return declared
        low, high = mock.duration_bounds_ns
        if not 0 <= low <= high:
            raise ValueError(
                f"mock duration_bounds_ns {mock.duration_bounds_ns!r} of activity call {key[2]} in workflow "
                f"{key[0]}: need 0 <= low <= high"
            )
        u = self._unit("duration", *key)
        if u < 0.2:
            return low
        if u < 0.4:
            return high
        return low + min(int((u - 0.4) / 0.6 * (high - low + 1)), high - low)

    def _failing_attempts(self, workflow_id: str, run_id: str, command: cmd.ScheduleActivityTask) -> int:
        """How many first attempts of this call fail (0: none)."""
        if not self._allows(command.activity_type):
            return 0
        key = (workflow_id, run_id, command.activity_id)
        if self._unit("fault", *key) >= self.fault_rate:
            return 0
        maximum = effective_policy(command.options.retry_policy).maximum_attempts
        u = self._unit("fault-count", *key)
        if maximum <= 0:
            return 1 + min(int(u * UNLIMITED_RETRY_FAULTS), UNLIMITED_RETRY_FAULTS - 1)
        if maximum == 1 or u < 0.5:
            return maximum
        return 1 + min(int((u - 0.5) * 2 * (maximum - 1)), maximum - 2)

    def _allows(self, activity_type: str) -> bool:
        return self.faults if isinstance(self.faults, bool) else activity_type in self.faults

    # -- worker crashes ----------------------------------------------------------------------------

    def after_workflow_task(self, workflow_id: str, run_id: str, *, can_crash: bool) -> int | None:
        """Count a finished workflow task of this run; its number when the worker crashes after it."""
        run = (workflow_id, run_id)
        task = self._tasks.get(run, 0) + 1
        self._tasks[run] = task
        if not can_crash or self.crashes is False:
            return None
        if self.crashes is True and self._unit("crash", workflow_id, run_id, task) >= self.crash_rate:
            return None
        self.crashed.append(CrashRecord(workflow_id, run_id, task))
        return task

    def recovery_seed(self, workflow_id: str, run_id: str, task: int) -> int:
        """The `math.random` seed of the fresh runtime after a crash (unrelated to the one before it)."""
        return int(self._unit("recover", workflow_id, run_id, task) * (1 << 62)) + 1

    # -- the seeded hash ---------------------------------------------------------------------------

    def _unit(self, *parts: object) -> float:
        """A number in [0, 1) determined by the seed and `parts` alone."""
        text = "\x1f".join([str(self.seed), *map(str, parts)])
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / (1 << 64)
