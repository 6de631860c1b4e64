"""Serving activity attempts: Python mocks first, then the app's Lua function entries, else Wippy's
missing-activity failure. Also the retry arithmetic of Temporal's server."""

from __future__ import annotations

import difflib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import Payload

from wftest.app import App, LuaEntry
from wftest.encoding.jsontext import GO_NIL, EncodeError
from wftest.encoding.payloads import payload_to_python, python_to_payload
from wftest.errors import RunOutcome, UserError
from wftest.history.failures import ErrorInfo
from wftest.lua.sandbox import LoadError, LuaFailure, NoHostError, Sandbox, SandboxOptions, text
from wftest.lua.state import STATES
from wftest.sim.modules import providers
from wftest.worker.commands import RetryPolicy
from wftest.worker.errors import error_info

if TYPE_CHECKING:
    from wftest.sim.resources import Resources

SECOND = 1_000_000_000
DEFAULT_RETRY = RetryPolicy(
    initial_interval_ns=SECOND, backoff_coefficient=2.0, maximum_interval_ns=100 * SECOND, maximum_attempts=0
)


@dataclass(frozen=True)
class ActivityInfo:
    """What a mock callable learns about the attempt it serves."""

    activity_id: str
    activity_type: str
    attempt: int
    now_ns: int
    context: Mapping[str, Any]
    workflow_id: str


class ActivityError(RunOutcome):
    """Raise from a mock to fail the attempt with a Wippy error (kind, retryable, details)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "Internal",
        retryable: bool | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.info = ErrorInfo(kind, message, retryable, dict(details) if details else None, None, None)


MockFn = Callable[[Sequence[Any], ActivityInfo], Any]


@dataclass(frozen=True)
class Outcome:
    """What a mock callable may return to pick its own duration: a value, or an ActivityError."""

    value: Any = None
    error: ActivityError | None = None
    duration_ns: int | None = None


@dataclass
class Mock:
    """A Python stand-in for an activity: a callable of (args, info), how long it takes, and the range
    of durations an exploration may choose from instead (None: the duration is fixed)."""

    fn: MockFn
    duration_ns: int = 0
    duration_bounds_ns: tuple[int, int] | None = None
    #: Whether the activity's own Lua serves the calls instead (a mock that only watches).
    defers: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class Attempt:
    """How one attempt ended: a result payload, or a failure, after `duration_ns` of virtual time."""

    result: Payload | None = None
    error: ErrorInfo | None = None
    duration_ns: int = 0
    logs: tuple[str, ...] = field(default=())


def retry_interval(policy: RetryPolicy, attempt: int) -> int:
    """Backoff before attempt `attempt + 1` (Temporal: initial × coefficient^(attempt-1), capped)."""
    initial = policy.initial_interval_ns or DEFAULT_RETRY.initial_interval_ns
    coefficient = policy.backoff_coefficient or DEFAULT_RETRY.backoff_coefficient
    maximum = policy.maximum_interval_ns or 100 * initial
    return int(min(initial * coefficient ** (attempt - 1), maximum))


def effective_policy(policy: RetryPolicy | None) -> RetryPolicy:
    return policy if policy is not None else DEFAULT_RETRY


def should_retry(policy: RetryPolicy, attempt: int, error: ErrorInfo) -> bool:
    if error.retryable is False:
        return False
    if error.kind in policy.non_retryable_error_types:
        return False
    return not (policy.maximum_attempts > 0 and attempt >= policy.maximum_attempts)


class UnmockedActivityError(UserError):
    """A strict world met an activity call that no mock and no Lua function entry serves."""


class ActivityDoesNotLoad(UserError):
    """A strict world called an activity whose Lua entry does not load (no such method, a bad import):
    a mistake in the app, which fails the test rather than reading as the activity's own failure."""


class ActivityNeedsMock(UserError):
    """A strict world ran an activity's Lua, and it needed a module wftest does not provide: a limit of
    the test environment, not a failure of the app, so it fails the test rather than the activity."""


@dataclass(frozen=True)
class ServedCall:
    """One activity attempt the world served, in the order served: what was asked and how it ended."""

    activity_type: str
    args: tuple[Any, ...]
    info: ActivityInfo
    result: Any = None
    error: ErrorInfo | None = None


class ActivityRunner:
    """Runs attempts against mocks or the app's Lua functions, on the world's virtual clock. With
    `strict`, a call nothing serves raises UnmockedActivityError instead of Wippy's NotFound failure."""

    def __init__(
        self,
        app: App,
        mocks: Mapping[str, Mock],
        rng: random.Random,
        *,
        strict: bool = False,
        resources: Resources | None = None,
    ) -> None:
        self.app = app
        self.resources = resources  # what Lua activities reach through sql, store and env
        self.mocks = mocks
        self.rng = rng
        self.strict = strict
        self.calls: list[ServedCall] = []

    def advice(self, activity_type: str) -> str:
        """What to do about an activity that keeps failing: a did-you-mean when nothing serves it."""
        served = activity_type in self.mocks or isinstance(self.app.entries.get(activity_type), LuaEntry)
        if not served:
            close = difflib.get_close_matches(activity_type, self.known_activity_ids(), n=1, cutoff=0.85)
            if close:
                return f"No entry or mock is called '{activity_type}': did you mean '{close[0]}'?"
        return "Set activity.retry_policy.maximum_attempts, or mock the activity."

    def known_activity_ids(self) -> list[str]:
        ids = {e.id for e in self.app.activities()} | set(self.mocks)
        return sorted(ids)

    def attempt(self, activity_type: str, payloads: Sequence[Payload], info: ActivityInfo) -> Attempt:
        outcome = self._serve(activity_type, payloads, info)
        result = _decode(outcome.result) if outcome.result is not None else None
        self.calls.append(
            ServedCall(activity_type, tuple(_decode(p) for p in payloads), info, result, outcome.error)
        )
        return outcome

    def run_entry(self, entry: LuaEntry, payloads: Sequence[Payload], info: ActivityInfo) -> Attempt:
        """One attempt of a Lua function entry itself (mocks aside), recorded like any served call."""
        outcome = self._lua_attempt(entry, payloads, info)
        result = _decode(outcome.result) if outcome.result is not None else None
        self.calls.append(
            ServedCall(entry.id, tuple(_decode(p) for p in payloads), info, result, outcome.error)
        )
        return outcome

    def _serve(self, activity_type: str, payloads: Sequence[Payload], info: ActivityInfo) -> Attempt:
        mock = self.mocks.get(activity_type)
        if mock is not None and not mock.defers():
            return self._mock_attempt(mock, payloads, info)
        entry = self.app.entries.get(activity_type)
        if isinstance(entry, LuaEntry) and (
            entry.kind.startswith("function.") or entry.kind.startswith("process.")
        ):
            return self._lua_attempt(entry, payloads, info)
        known = ", ".join(self.known_activity_ids()) or "none"
        message = (
            f"activity '{activity_type}' is not registered (no mock, no function entry; "
            f"known activities: {known})"
        )
        if self.strict:
            close = difflib.get_close_matches(activity_type, self.known_activity_ids(), n=1, cutoff=0.85)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"if it lives outside this app, mock it (wippy.mock({activity_type!r}).returns(...))."
            )
            raise UnmockedActivityError(
                f"workflow {info.workflow_id} called activity '{activity_type}', which has no mock and no "
                f"function entry in the app; {hint} Activities the app has: {known}"
            )
        return Attempt(error=ErrorInfo("NotFound", message, True, None, None, None))

    def _mock_attempt(self, mock: Mock, payloads: Sequence[Payload], info: ActivityInfo) -> Attempt:
        return self.call_mock(mock, [_decode(p) for p in payloads], info)

    def call_mock(self, mock: Mock, args: Sequence[Any], info: ActivityInfo) -> Attempt:
        """Run a Python mock: its value becomes the result payload, an exception the failure (an
        AssertionError is the test's own verdict and goes through)."""
        duration = mock.duration_ns
        try:
            value = mock.fn(args, info)
        except ActivityError as exc:
            return Attempt(error=exc.info, duration_ns=duration)
        except AssertionError:
            raise
        except Exception as exc:  # a bug in a mock is an Internal activity failure, as Wippy reports panics
            return Attempt(
                error=ErrorInfo("Internal", f"{type(exc).__name__}: {exc}", None, None, None, None),
                duration_ns=duration,
            )
        if isinstance(value, Outcome):
            duration = duration if value.duration_ns is None else value.duration_ns
            if value.error is not None:
                return Attempt(error=value.error.info, duration_ns=duration)
            value = value.value
        try:
            return Attempt(result=python_to_payload(value), duration_ns=duration)
        except (EncodeError, TypeError, ValueError) as exc:
            return Attempt(
                error=ErrorInfo("Internal", f"mock result cannot be encoded: {exc}", False, None, None, None),
                duration_ns=duration,
            )

    def _lua_attempt(self, entry: LuaEntry, payloads: Sequence[Payload], info: ActivityInfo) -> Attempt:
        options = SandboxOptions(
            clock_ns=lambda: info.now_ns,
            context=dict(info.context),
            deterministic=False,
            seed=self.rng.getrandbits(63),
            providers=providers(self.resources) if self.resources is not None else {},
        )
        state = STATES.acquire(options.memory_limit)
        sb = Sandbox(options, state=state)
        web = self.resources.http if self.resources is not None else None
        unrouted = len(web.routes.unrouted) if web is not None else 0
        try:
            attempt = self._run_lua(sb, entry, payloads)
            if self.strict and web is not None and len(web.routes.unrouted) > unrouted:
                raise ActivityNeedsMock(
                    f"activity '{entry.id}' (workflow {info.workflow_id}) called {web.routes.unrouted[-1]}, "
                    "which nothing in the test serves: add a route fake (wippy.http_routes.add(...)) or "
                    f"mock the activity (wippy.mock({entry.id!r}).returns(...))"
                )
            if self.strict and sb.unavailable and attempt.error is not None:
                missing = ", ".join(f"'{m}'" for m in dict.fromkeys(sb.unavailable))
                raise ActivityNeedsMock(
                    f"activity '{entry.id}' (workflow {info.workflow_id}) ran its own Lua, which needs "
                    f"module {missing}; wftest does not provide it, so mock the activity: "
                    f"wippy.mock({entry.id!r}).returns(...)"
                )
            return attempt
        finally:
            if sb.release():
                STATES.give_back(state)

    def _run_lua(self, sb: Sandbox, entry: LuaEntry, payloads: Sequence[Payload]) -> Attempt:
        """One attempt of a Lua function entry: its result, or its error (a raised one or `nil, err`)."""
        try:
            main = sb.load_entry(self.app, entry)
            args = [sb.values.from_payload(p) for p in payloads]
            values = sb.call(main, *args)
        except LuaFailure as failure:
            if failure.error is not None:
                return Attempt(error=error_info(sb, failure.error), logs=tuple(sb.logs))
            return Attempt(
                error=ErrorInfo(
                    failure.kind or "Internal", str(failure), failure.retryable, None, None, None
                ),
                logs=tuple(sb.logs),
            )
        except (LoadError, NoHostError) as exc:
            if self.strict and isinstance(exc, LoadError):
                raise ActivityDoesNotLoad(f"activity '{entry.id}' cannot run: {exc}") from None
            return Attempt(
                error=ErrorInfo("Internal", str(exc), False, None, None, None), logs=tuple(sb.logs)
            )
        if len(values) >= 2 and values[1] is not None:
            second = values[1]
            if bool(sb.api.is_error(second)):
                return Attempt(error=error_info(sb, second), logs=tuple(sb.logs))
            return Attempt(
                error=ErrorInfo(
                    "Internal", text(second) if isinstance(second, bytes) else "error", None, None, None, None
                ),
                logs=tuple(sb.logs),
            )
        if not values:
            return Attempt(result=python_to_payload(GO_NIL), logs=tuple(sb.logs))
        try:
            return Attempt(result=sb.values.to_payload(values[0]), logs=tuple(sb.logs))
        except EncodeError as exc:
            return Attempt(
                error=ErrorInfo("Internal", f"failed to encode result: {exc}", False, None, None, None),
                logs=tuple(sb.logs),
            )


def _decode(p: Payload) -> Any:
    value = payload_to_python(p)
    return None if value is GO_NIL else value
