"""Wippy error objects (Lua) as the ErrorInfo chains the failure converter writes."""

from __future__ import annotations

from typing import Any

from wftest.history.failures import ErrorInfo
from wftest.lua.sandbox import Sandbox, text


def error_info(sb: Sandbox, err: Any) -> ErrorInfo:
    """The chain of a Lua error object, outermost first; the outermost kind defaults to Internal."""
    chain = sb.api.error_chain(err)
    info: ErrorInfo | None = None
    for i in range(len(chain), 0, -1):
        link = chain[i]
        details = sb.values.to_python(link.details) if link.details is not None else None
        kind = text(link.kind) if link.kind is not None else ""
        info = ErrorInfo(
            (kind or "Internal") if i == 1 else kind,
            text(link.msg),
            link.retry,
            details if isinstance(details, dict) and details else None,
            None,
            info,
        )
    if info is None:
        return ErrorInfo("Internal", text(sb.api.error_string(err)), False)
    return info
