"""Temporal histories in the Go SDK shape: building them, Wippy's failure encoding, proto3 JSON in and out."""

from wftest.history.builder import ExecutionRef, HistoryBuilder
from wftest.history.builder.fields import DEFAULT_WORKFLOW_TASK_TIMEOUT_NS
from wftest.history.builder.log import DEFAULT_IDENTITY
from wftest.history.builder.tasks import FIRST_TASK_SDK_FLAGS, SDK_NAME, SDK_VERSION
from wftest.history.failures import (
    ErrorInfo,
    activity_failure,
    canceled_failure,
    chain_json,
    child_failure,
    error_from_failure,
    retry_state_string,
    terminated_failure,
    timeout_failure,
    wippy_failure,
)
from wftest.history.jsonio import HistoryFormatError, history_from_json, history_to_json

__all__ = [
    "DEFAULT_IDENTITY",
    "DEFAULT_WORKFLOW_TASK_TIMEOUT_NS",
    "FIRST_TASK_SDK_FLAGS",
    "SDK_NAME",
    "SDK_VERSION",
    "ErrorInfo",
    "ExecutionRef",
    "HistoryBuilder",
    "HistoryFormatError",
    "activity_failure",
    "canceled_failure",
    "chain_json",
    "child_failure",
    "error_from_failure",
    "history_from_json",
    "history_to_json",
    "retry_state_string",
    "terminated_failure",
    "timeout_failure",
    "wippy_failure",
]
