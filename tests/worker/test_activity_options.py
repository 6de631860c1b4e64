"""Merging activity option layers: merged once per distinct set of plain values, and never confused by
values that compare equal across types (1 and True)."""

from __future__ import annotations

import pytest

from wftest.worker.options import OptionError, activity_options


def test_the_same_layers_give_the_same_options_again() -> None:
    first = activity_options("q", {"activity.start_to_close_timeout": "5s"}, None)
    again = activity_options("q", {"activity.start_to_close_timeout": "5s"}, None)
    assert first == again and first[0].start_to_close_ns == 5 * 10**9
    assert activity_options("other", {"activity.start_to_close_timeout": "5s"}, None)[0].task_queue == "other"


def test_equal_values_of_other_types_are_checked_on_their_own() -> None:
    ok, _ = activity_options("q", None, {"activity.wait_for_cancellation": True})
    assert ok.wait_for_cancellation is True
    with pytest.raises(OptionError, match="wait_for_cancellation: expected a boolean"):
        activity_options("q", None, {"activity.wait_for_cancellation": 1})
    with pytest.raises(OptionError, match="wait_for_cancellation: expected a boolean"):
        activity_options("q", None, {"activity.wait_for_cancellation": 1})


def test_table_values_are_merged_every_time() -> None:
    policy = {"activity.retry_policy": {"maximum_attempts": 3}}
    assert activity_options("q", None, policy)[0].retry_policy is not None
    policy["activity.retry_policy"]["maximum_attempts"] = 5
    options = activity_options("q", None, policy)[0]
    assert options.retry_policy is not None and options.retry_policy.maximum_attempts == 5


def test_empty_layers_of_any_kind_add_nothing() -> None:
    """An empty Lua options table arrives as an empty list."""
    plain = activity_options("q", None, None)
    assert activity_options("q", None, []) == activity_options("q", {}, None) == plain
