"""Activity and child-workflow mocks for tests: what each call returns, per argument pattern and per
attempt, how long it takes in virtual time, and what was called.

A mock holds rules. `when(...)` rules are tried in the order they were written; the first whose
arguments match serves the call, else the fallback rule (the one built without `when`). Each rule is a
sequence of steps, one per call it serves; the last step repeats. Every attempt is a call, so
`.fails(...).then_returns(...)` is a retry that succeeds.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Concatenate, ParamSpec

import freezegun

from wftest.errors import UserError
from wftest.sim.activities import ActivityError, ActivityInfo, Mock, Outcome, ServedCall
from wftest.testing.durations import Duration, to_ns
from wftest.testing.render import compact

P = ParamSpec("P")


class MockMismatchError(AssertionError, UserError):
    """A mocked activity was called with arguments none of its rules accept."""


# Packages whose modules never hold a test's own clock reads: freezegun need not patch them, which
# makes freezing several times cheaper (and their own clock reads stay real).
NOT_USER_CODE = (
    "temporalio", "google", "grpc", "lupa", "_pytest", "pluggy", "syrupy", "hypothesis", "rich", "click",
    "yaml", "pygments", "cryptography", "xdist", "execnet", "pytest_asyncio", "dateutil", "nexusrpc",
)  # fmt: skip


@contextmanager
def frozen_at(now_ns: int) -> Iterator[None]:
    """While user code of a mock or timeline callback runs, Python's clocks read the virtual time."""
    moment = datetime.fromtimestamp(now_ns / 1e9, tz=timezone.utc)
    with freezegun.freeze_time(moment, tick=False, ignore=list(NOT_USER_CODE)):
        yield


@dataclass
class _Step:
    value: Any = None
    error: ActivityError | None = None
    fn: Callable[..., Any] | None = None
    duration_ns: int = 0


@dataclass(frozen=True)
class Call:
    """One call a mock served: the arguments and what the attempt knew (attempt, now, context)."""

    args: tuple[Any, ...]
    info: ActivityInfo


def _then(setter: Callable[Concatenate[Rule, P], Rule]) -> Callable[Concatenate[Rule, P], Rule]:
    """`then_<setter>`: the rule's next call after the steps so far, built as `setter` builds a step."""

    @functools.wraps(setter)
    def then(rule: Rule, /, *args: P.args, **kwargs: P.kwargs) -> Rule:
        earlier = rule.steps
        setter(rule, *args, **kwargs)
        rule.steps = earlier + rule.steps
        return rule

    then.__name__ = then.__qualname__ = f"then_{setter.__name__}"
    then.__doc__ = f"The next call after the steps so far is served as `{setter.__name__}` says."
    return then


def _on_fallback(
    setter: Callable[Concatenate[Rule, P], Rule],
) -> Callable[Concatenate[ActivityMock, P], Rule]:
    """The mock's own `returns`, `fails`, ...: the same on its fallback rule (calls no `when` matches)."""

    @functools.wraps(setter)
    def on_fallback(mock: ActivityMock, /, *args: P.args, **kwargs: P.kwargs) -> Rule:
        return setter(mock.fallback, *args, **kwargs)

    return on_fallback


@dataclass(repr=False)
class Rule:
    """The steps that serve the calls one argument pattern matches (or every call, for the fallback)."""

    mock: ActivityMock
    matcher: tuple[Any, ...] | Callable[..., bool] | None
    steps: list[_Step] = field(default_factory=list)
    served: int = 0

    # -- what the calls get ------------------------------------------------------------------------

    def returns(self, value: Any) -> Rule:
        """Every call returns `value` (replaces the steps given so far)."""
        return self._only(_Step(value=value))

    def fails(
        self,
        kind: str = "Internal",
        message: str = "mock failure",
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> Rule:
        """Every call fails with a Wippy error (replaces the steps given so far)."""
        error = ActivityError(message, kind=kind, retryable=retryable, details=details)
        return self._only(_Step(error=error))

    def raises(self, exc: BaseException) -> Rule:
        """Every call raises `exc`: an ActivityError keeps its kind, anything else is `Internal`."""
        return self._only(_Step(error=_as_activity_error(exc)))

    def calls(self, fn: Callable[..., Any]) -> Rule:
        """Every call runs `fn(*args)` (with `info=` too if `fn` takes it) at the virtual time."""
        return self._only(_Step(fn=fn))

    def _only(self, step: _Step) -> Rule:
        self.steps = [step]
        return self

    then_returns = _then(returns)
    then_fails = _then(fails)
    then_raises = _then(raises)
    then_calls = _then(calls)

    def takes_between(self, shortest: Duration, longest: Duration) -> Rule:
        """The range of durations an exploration may give each call of this activity."""
        self.mock.takes_between(shortest, longest)
        return self

    def runs_lua(self) -> ActivityMock:
        """The activity's own Lua serves every call instead (see `ActivityMock.runs_lua`)."""
        return self.mock.runs_lua()

    def __repr__(self) -> str:
        return f"<rule {self.describe()} of mock {self.mock.name!r}: {len(self.steps)} step(s)>"

    def after(self, duration: Duration) -> Rule:
        """The step just given takes `duration` of virtual time (from attempt start to its result)."""
        if not self.steps:
            raise ValueError("after(...) needs a step before it, e.g. .returns(value).after('30s')")
        self.steps[-1].duration_ns = to_ns(duration, what="after")
        return self

    # -- serving -----------------------------------------------------------------------------------

    def matches(self, args: Sequence[Any]) -> bool:
        if self.matcher is None:
            return True
        if callable(self.matcher):
            try:
                return bool(self.matcher(*args))
            except TypeError:
                return False
        return tuple(args) == self.matcher

    def next_step(self) -> _Step:
        if not self.steps:
            raise MockMismatchError(
                f"mock {self.mock.name!r}: a rule has no behaviour; give it .returns(...), .fails(...) "
                "or .calls(...)"
            )
        step = self.steps[min(self.served, len(self.steps) - 1)]
        self.served += 1
        return step

    def describe(self) -> str:
        if self.matcher is None:
            return "fallback"
        if callable(self.matcher):
            return f"when({getattr(self.matcher, '__name__', 'predicate')})"
        return "when(" + ", ".join(compact(a) for a in self.matcher) + ")"


class ActivityMock:
    """All rules and calls of one mocked activity (or child workflow) type.

    It is a spy too: given the world's log of served calls (`served`), `calls_made` holds every call of
    the activity, also those its own Lua served. A mock with no rules, or told `runs_lua()`, only
    watches: the activity's Lua function entry serves the calls."""

    def __init__(
        self, name: str, clock: Callable[[], int], served: Callable[[], Sequence[ServedCall]] | None = None
    ) -> None:
        self.name = name
        self._clock = clock
        self._served = served
        self._rules: list[Rule] = []
        self._fallback: Rule | None = None
        self._lua = False
        self._own_calls: list[Call] = []
        self.served_as: Mock | None = None  # the world's record of this mock (it reads the bounds there)

    def __repr__(self) -> str:
        rules = [r.describe() for r in self._rules] + (["fallback"] if self._fallback else [])
        how = "runs its Lua" if self.defers_to_lua() else f"rules: {', '.join(rules)}"
        return f"<mock {self.name!r}: {how}; {self.call_count} call(s)>"

    @property
    def calls_made(self) -> list[Call]:
        """Every call of the activity so far, in order (one per attempt)."""
        if self._served is None:
            return list(self._own_calls)
        return [Call(c.args, c.info) for c in self._served() if c.activity_type == self.name]

    def runs_lua(self) -> ActivityMock:
        """The activity's own Lua serves every call (whatever rules were given); the mock records them."""
        self._lua = True
        return self

    def defers_to_lua(self) -> bool:
        return self._lua or (not self._rules and self._fallback is None)

    # -- building ----------------------------------------------------------------------------------

    def when(self, *expected: Any) -> Rule:
        """A rule for calls whose arguments equal `expected`, or, given one callable, for calls the
        predicate accepts (it receives the call's arguments)."""
        matcher: tuple[Any, ...] | Callable[..., bool]
        matcher = expected[0] if len(expected) == 1 and callable(expected[0]) else tuple(expected)
        rule = Rule(self, matcher)
        self._rules.append(rule)
        return rule

    @property
    def fallback(self) -> Rule:
        if self._fallback is None:
            self._fallback = Rule(self, None)
        return self._fallback

    returns = _on_fallback(Rule.returns)
    fails = _on_fallback(Rule.fails)
    raises = _on_fallback(Rule.raises)
    calls = _on_fallback(Rule.calls)

    def takes_between(self, shortest: Duration, longest: Duration) -> ActivityMock:
        """The range of durations an exploration may give each call (fixed-timing runs ignore it)."""
        low, high = to_ns(shortest, what="shortest"), to_ns(longest, what="longest")
        if not 0 <= low <= high:
            raise ValueError(f"takes_between({shortest!r}, {longest!r}): need 0 <= shortest <= longest")
        if self.served_as is None:
            raise ValueError(f"{self.name!r}: only activity mocks have explorable durations")
        self.served_as.duration_bounds_ns = (low, high)
        return self

    # -- serving (called by the world) -------------------------------------------------------------

    def serve(self, args: Sequence[Any], info: ActivityInfo) -> Outcome:
        if self._served is None:
            self._own_calls.append(Call(tuple(args), info))
        rule = next((r for r in self._rules if r.matches(args)), self._fallback)
        if rule is None:
            rules = ", ".join(r.describe() for r in self._rules) or "none"
            raise MockMismatchError(
                f"mock {self.name!r} has no rule for the call ({', '.join(compact(a) for a in args)}) "
                f"from workflow {info.workflow_id}, attempt {info.attempt}; rules: {rules}. Add a "
                f"fallback: wippy.mock({self.name!r}).returns(...)"
            )
        step = rule.next_step()
        if step.fn is None:
            return Outcome(value=step.value, error=step.error, duration_ns=step.duration_ns)
        try:
            with frozen_at(info.now_ns):
                value = _call_user(step.fn, args, info)
        except ActivityError as exc:
            return Outcome(error=exc, duration_ns=step.duration_ns)
        except Exception as exc:  # a mock's own bug is the attempt's Internal failure, as a Go panic is
            return Outcome(error=_as_activity_error(exc), duration_ns=step.duration_ns)
        return Outcome(value=value, duration_ns=step.duration_ns)

    # -- assertions --------------------------------------------------------------------------------

    @property
    def call_count(self) -> int:
        return len(self.calls_made)

    def assert_called_once_with(self, *args: Any) -> None:
        if len(self.calls_made) != 1 or self.calls_made[0].args != args:
            raise AssertionError(
                f"expected {self.name!r} to be called once with ({', '.join(compact(a) for a in args)}); "
                f"{self._calls_text()}"
            )

    def assert_called_with(self, *args: Any) -> None:
        """The last call had these arguments."""
        if not self.calls_made or self.calls_made[-1].args != args:
            raise AssertionError(
                f"expected the last call of {self.name!r} to have ({', '.join(compact(a) for a in args)}); "
                f"{self._calls_text()}"
            )

    def assert_not_called(self) -> None:
        if self.calls_made:
            raise AssertionError(f"expected {self.name!r} not to be called; {self._calls_text()}")

    def _calls_text(self) -> str:
        if not self.calls_made:
            return "it was not called"
        lines = [
            f"  attempt {c.info.attempt} from {c.info.workflow_id}: ({', '.join(compact(a) for a in c.args)})"
            for c in self.calls_made
        ]
        return f"it was called {len(self.calls_made)} time(s):\n" + "\n".join(lines)


def _call_user(fn: Callable[..., Any], args: Sequence[Any], info: ActivityInfo) -> Any:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(*args)
    takes_info = "info" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    return fn(*args, info=info) if takes_info else fn(*args)


def _as_activity_error(exc: BaseException) -> ActivityError:
    if isinstance(exc, ActivityError):
        return exc
    return ActivityError(f"{type(exc).__name__}: {exc}", kind="Internal")
