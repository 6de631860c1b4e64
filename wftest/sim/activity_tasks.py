"""Activity tasks on the simulated server: attempts, retries with backoff, timeouts and cancellation.
See `timing.py` for when their events are appended."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import RetryPolicy as RetryPolicyProto
from temporalio.api.enums.v1 import RetryState, TimeoutType

from wftest.history.builder import HistoryBuilder
from wftest.history.failures import ErrorInfo, timeout_failure, wippy_failure
from wftest.sim.activities import (
    ActivityInfo,
    ActivityRunner,
    Attempt,
    effective_policy,
    retry_interval,
    should_retry,
)
from wftest.sim.state import IDENTITY, ActivityState, SimulationError, WorkflowState
from wftest.sim.timing import Agenda
from wftest.worker import commands as cmd

if TYPE_CHECKING:
    from wftest.sim.perturbation import Perturber


class ActivityTasks:
    """Runs the activities every workflow of a world schedules, on the world's agenda."""

    def __init__(
        self,
        agenda: Agenda,
        runner: ActivityRunner,
        attempt_cap: int,
        clock: Callable[[], int],
        perturbation: Perturber | None = None,
    ) -> None:
        self.agenda = agenda
        self.runner = runner
        self.attempt_cap = attempt_cap
        self.clock = clock
        self.perturbation = perturbation

    def schedule(self, wf: WorkflowState, command: cmd.ScheduleActivityTask, scheduled_event_id: int) -> None:
        """The ActivityTaskScheduled event is written: the first attempt starts now."""
        state = ActivityState(command, scheduled_event_id, self.clock())
        wf.activities[scheduled_event_id] = state
        self.start_attempt(wf, state)

    def drop(self, wf: WorkflowState) -> None:
        """The workflow closed: nothing of its activities happens any more."""
        for state in wf.activities.values():
            if state.pending is not None:
                state.pending.cancelled = True
        wf.activities.clear()

    def start_attempt(self, wf: WorkflowState, state: ActivityState) -> None:
        c = state.command
        o = c.options
        state.started_ns = self.clock()
        info = ActivityInfo(
            c.activity_id,
            c.activity_type,
            state.attempt,
            self.clock(),
            wf.context,
            wf.info.workflow_id,
        )
        if self.perturbation is None:
            outcome = self.runner.attempt(c.activity_type, c.input, info)
        else:  # an exploration seed picks the duration, or fails the attempt without running it
            outcome = self.perturbation.attempt(
                wf.info.workflow_id,
                wf.info.run_id,
                c,
                state.attempt,
                self.runner.mocks.get(c.activity_type),
                lambda: self.runner.attempt(c.activity_type, c.input, info),
            )
        close_at = self.clock() + outcome.duration_ns
        timeout: TimeoutType.ValueType | None = None
        if o.start_to_close_ns and outcome.duration_ns > o.start_to_close_ns:
            close_at, timeout = self.clock() + o.start_to_close_ns, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
        if o.schedule_to_close_ns and close_at > state.scheduled_ns + o.schedule_to_close_ns:
            close_at, timeout = (
                state.scheduled_ns + o.schedule_to_close_ns,
                TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
            )
        state.running = True
        state.pending = self.agenda.at(close_at, lambda: self._attempt_closed(wf, state, outcome, timeout))

    def _attempt_closed(
        self, wf: WorkflowState, state: ActivityState, outcome: Attempt, timeout: TimeoutType.ValueType | None
    ) -> None:
        state.pending = None
        state.running = False
        if wf.run.closed:
            return
        b = wf.run.builder
        c = state.command
        if timeout is None and outcome.error is None:
            started = _record_started(b, state)
            b.activity_task_completed(
                self.clock(),
                scheduled_event_id=state.scheduled_event_id,
                started_event_id=started,
                identity=IDENTITY,
                result=[outcome.result] if outcome.result is not None else [],
            )
            self._activity_closed(wf, state)
            return
        policy = effective_policy(c.options.retry_policy)
        if timeout is not None:
            failure = timeout_failure(timeout)
            error = ErrorInfo("Timeout", "activity timeout", True, None, None, None)
        else:
            assert outcome.error is not None
            error = outcome.error
            failure = wippy_failure(error)
        overall = c.options.schedule_to_close_ns
        retry = (
            not state.cancel_requested
            and timeout != TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
            and should_retry(policy, state.attempt, error)
        )
        next_start = self.clock() + retry_interval(policy, state.attempt)
        if retry and overall and next_start >= state.scheduled_ns + overall:
            retry = False
        if retry:
            if state.attempt >= self.attempt_cap:
                raise SimulationError(
                    f"activity {c.activity_type} (id {c.activity_id}) of workflow {wf.info.workflow_id} "
                    f"failed {state.attempt} times and its retry policy allows more; the world stops at "
                    f"{self.attempt_cap} attempts. Last error: {error.kind}: {error.message}. "
                    + self.runner.advice(c.activity_type)
                )
            state.attempt += 1
            state.last_failure = failure
            state.pending = self.agenda.at(next_start, lambda: self.start_attempt(wf, state))
            return
        retry_state = (
            RetryState.RETRY_STATE_CANCEL_REQUESTED
            if state.cancel_requested
            else _retry_state(policy, state.attempt, error, timeout)
        )
        started = _record_started(b, state)
        if timeout is not None:
            b.activity_task_timed_out(
                self.clock(),
                scheduled_event_id=state.scheduled_event_id,
                started_event_id=started,
                failure=failure,
                retry_state=retry_state,
            )
        else:
            b.activity_task_failed(
                self.clock(),
                scheduled_event_id=state.scheduled_event_id,
                started_event_id=started,
                failure=failure,
                retry_state=retry_state,
                identity=IDENTITY,
            )
        self._activity_closed(wf, state)

    def _activity_closed(self, wf: WorkflowState, state: ActivityState) -> None:
        wf.activities.pop(state.scheduled_event_id, None)
        wf.new_events = True

    def cancel(self, wf: WorkflowState, scheduled_event_id: int, requested_event_id: int) -> None:
        state = wf.activities.get(scheduled_event_id)
        if state is None or wf.run.closed:
            return
        if state.running and state.started_ns < self.clock():
            # A running attempt learns of a cancel only by heartbeating, which mocks and Lua activities do
            # not: it closes as it would have, and Temporal does not retry it.
            state.cancel_requested = True
            return
        if state.pending is not None:
            state.pending.cancelled = True  # not started yet, or waiting for its next attempt
        wf.run.builder.activity_task_canceled(
            self.clock(),
            scheduled_event_id=scheduled_event_id,
            started_event_id=0,
            latest_cancel_requested_event_id=requested_event_id,
            identity=IDENTITY,
        )
        self._activity_closed(wf, state)


def _record_started(b: HistoryBuilder, state: ActivityState) -> int:
    """ActivityTaskStarted, written only as the activity closes (its start time, last attempt, last
    failure): the id its close event names."""
    return b.activity_task_started(
        state.started_ns,
        scheduled_event_id=state.scheduled_event_id,
        attempt=state.attempt,
        identity=IDENTITY,
        last_failure=state.last_failure,
    )


def retry_policy_proto(policy: cmd.RetryPolicy | None) -> RetryPolicyProto | None:
    if policy is None:
        return None
    return RetryPolicyProto(
        initial_interval=_duration(policy.initial_interval_ns) if policy.initial_interval_ns else None,
        backoff_coefficient=policy.backoff_coefficient,
        maximum_interval=_duration(policy.maximum_interval_ns) if policy.maximum_interval_ns else None,
        maximum_attempts=policy.maximum_attempts,
        non_retryable_error_types=list(policy.non_retryable_error_types),
    )


def _duration(ns: int) -> Duration:
    d = Duration()
    d.FromNanoseconds(ns)
    return d


def _retry_state(
    policy: Any, attempt: int, error: ErrorInfo, timeout: TimeoutType.ValueType | None
) -> RetryState.ValueType:
    if timeout == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
        return RetryState.RETRY_STATE_TIMEOUT
    if error.retryable is False or error.kind in policy.non_retryable_error_types:
        return RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE
    if policy.maximum_attempts and attempt >= policy.maximum_attempts:
        return RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
    return RetryState.RETRY_STATE_TIMEOUT
