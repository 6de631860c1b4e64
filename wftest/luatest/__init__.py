"""Wippy's Lua tests (`meta.type: test`) and the built-in `wippy.test:test` module, in simulated worlds."""

from wftest.luatest.module import CaseResult, CaseStatus
from wftest.luatest.runner import (
    DEFAULT_LIMIT_NS,
    FailureReason,
    LuaTestError,
    LuaTestOutcome,
    LuaTestSpec,
    ReplayFailure,
    collect_lua_tests,
    run_lua_test,
)

__all__ = [
    "DEFAULT_LIMIT_NS",
    "CaseResult",
    "CaseStatus",
    "FailureReason",
    "LuaTestError",
    "LuaTestOutcome",
    "LuaTestSpec",
    "ReplayFailure",
    "collect_lua_tests",
    "run_lua_test",
]
