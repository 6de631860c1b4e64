"""The last resort against a workflow task that never returns.

The instruction budget stops Lua code, but not work inside one C function: a pattern with catastrophic
backtracking keeps `string.find` busy for years without running a single Lua instruction. Nothing can
interrupt that from Python, so, the way pytest-timeout's thread method ends a hung test, a watchdog
thread ends the process when one host turn (a workflow task, a Lua call) runs longer than its limit:
it writes which test, which entry and the last Lua line it knows of to stderr, and exits with status 1.
A CI job then fails with a message instead of hanging until the job's own timeout.

`WFTEST_TASK_TIMEOUT` (seconds, `0` turns it off) sets the limit; the default is far above what the
instruction budget allows a turn on a slow machine, so only work the budget cannot see reaches it.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable

DEFAULT_TASK_TIMEOUT = 60.0
EXIT_STATUS = 1


def task_timeout() -> float:
    """Seconds one host turn may take (0: no watchdog), from WFTEST_TASK_TIMEOUT."""
    raw = os.environ.get("WFTEST_TASK_TIMEOUT", "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_TASK_TIMEOUT
    except ValueError:
        return DEFAULT_TASK_TIMEOUT


class _Watchdog:
    """One daemon thread for the process; it sleeps until something is watched."""

    def __init__(self) -> None:
        self._turns: dict[int, tuple[float, float, Callable[[], str]]] = {}  # token -> deadline, limit, what
        self._lock = threading.Lock()
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None
        self._next = itertools.count()

    def watch(self, describe: Callable[[], str], seconds: float | None = None) -> _Turn:
        """Run the body (`with WATCHDOG.watch(...):`) under the watchdog; `describe()` names what runs
        (called only when it fires). The turn may be entered again once it is left (never nested);
        without `seconds`, each entry reads WFTEST_TASK_TIMEOUT."""
        return _Turn(self, describe, seconds)

    def _enter(self, describe: Callable[[], str], limit: float) -> int:
        # No lock on this path (every Lua step takes it): taking a number from the counter and setting
        # or popping one dict item are each atomic under the GIL; the thread copies the dict in one go.
        token = next(self._next)
        self._turns[token] = (time.monotonic() + limit, limit, describe)
        if not self._busy.is_set():
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="wftest-watchdog", daemon=True)
                    self._thread.start()
                self._busy.set()
        return token

    def _leave(self, token: int) -> None:
        self._turns.pop(token, None)

    def _run(self) -> None:
        while True:
            self._busy.wait()
            time.sleep(0.25)
            expired = self._expired(time.monotonic())
            if expired:
                _end_process(*expired[0])

    def _expired(self, now: float) -> list[tuple[float, Callable[[], str]]]:
        """The turns past their deadline (limit, what runs); stops the thread's watch when none is left.
        It copies the turns in one go (they come and go meanwhile) and keeps nothing after it returns:
        a copy held over the thread's next sleep would keep the sandboxes of finished turns alive."""
        expired = [(limit, what) for deadline, limit, what in list(self._turns.values()) if deadline <= now]
        if not self._turns:
            with self._lock:
                self._busy.clear()
                if self._turns:  # a turn began meanwhile: keep watching
                    self._busy.set()
        return expired


class _Turn:
    """One watched turn: a plain context manager (every Lua step takes one, so it stays cheap)."""

    __slots__ = ("describe", "seconds", "token", "watchdog")

    def __init__(self, watchdog: _Watchdog, describe: Callable[[], str], seconds: float | None) -> None:
        self.watchdog = watchdog
        self.describe = describe
        self.seconds = seconds
        self.token: int | None = None

    def __enter__(self) -> None:
        limit = task_timeout() if self.seconds is None else self.seconds
        if limit > 0:
            self.token = self.watchdog._enter(self.describe, limit)

    def __exit__(self, *exc_info: object) -> None:
        if self.token is not None:
            self.watchdog._leave(self.token)
            self.token = None


def _end_process(limit: float, describe: Callable[[], str]) -> None:
    try:
        what = describe()
    except Exception as exc:  # the description must never keep the process alive
        what = f"(could not describe the task: {exc!r})"
    test = os.environ.get("PYTEST_CURRENT_TEST")
    lines = [
        "",
        f"wftest: watchdog: {what}: one workflow task ran for more than {limit:g} s without returning,",
        "  in work the instruction budget cannot interrupt (such as a string pattern that backtracks",
        "  without end).",
    ]
    if test:
        lines.append(f"  test: {test}")
    lines.append("  The process ends here. WFTEST_TASK_TIMEOUT=SECONDS changes the limit (0 turns it off).")
    os.write(2, ("\n".join(lines) + "\n").encode("utf-8", "replace"))
    os._exit(EXIT_STATUS)


WATCHDOG = _Watchdog()
