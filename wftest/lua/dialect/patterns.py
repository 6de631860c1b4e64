"""Regular expressions of `@pattern` validators in Go's syntax (RE2): checked when a source is erased,
matched at run time for `lib/types.lua`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=1024)
def _regex(pattern: bytes) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def pattern_error(pattern: bytes) -> str | None:
    """Why `pattern` is not a valid regular expression (RE2 syntax, as Go's regexp reads), or None."""
    try:
        _regex(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return None


def pattern_matches(pattern: bytes | str, value: bytes | str) -> bool:
    """`@pattern`: does the regular expression match anywhere in `value` (Go's `regexp.MatchString`)?

    Called from `lib/types.lua`; the pattern was checked when the source was erased."""
    if isinstance(pattern, str):
        pattern = pattern.encode()
    if isinstance(value, str):
        value = value.encode()
    return _regex(pattern).search(value) is not None
