"""The watchdog's bookkeeping (its firing is tested end to end in tests/integration/test_hostile_input.py)."""

from __future__ import annotations

import gc
import weakref

from wftest.lua.watchdog import _Watchdog


class Turn:
    """Stands in for a sandbox: what a watched turn's description keeps alive."""

    def describe(self) -> str:
        return "a turn"


def test_a_finished_turn_is_forgotten_and_nothing_keeps_what_it_described() -> None:
    watchdog = _Watchdog()
    turn = Turn()
    alive = weakref.ref(turn)
    collecting = gc.isenabled()
    gc.disable()  # only plain references count, as in a replay (which pauses the cycle collector)
    try:
        with watchdog.watch(turn.describe, seconds=3600):
            assert watchdog._expired(float("inf")) == [(3600, turn.describe)]
        assert watchdog._expired(float("inf")) == []
        del turn
        assert alive() is None
    finally:
        if collecting:
            gc.enable()


def test_only_turns_past_their_deadline_expire() -> None:
    watchdog = _Watchdog()
    with watchdog.watch(Turn().describe, seconds=3600), watchdog.watch(Turn().describe, seconds=1):
        expired = watchdog._expired(watchdog._turns[1][0])
    assert [limit for limit, _ in expired] == [1]
    assert not watchdog._turns
