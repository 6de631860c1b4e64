"""The timeline as plain text, one line per event group:

    +2s         activity 11    completed   app.act:charge attempt=1 result={"id":"p-1"}

columns: virtual offset from the start, lane, event, key attributes. This text is what history snapshots
store, so it holds only what the same code and inputs reproduce (see `model`), values longer than
VALUE_LIMIT characters end in a `...[+N chars]` marker, and the format changes only on purpose.
"""

from __future__ import annotations

from temporalio.api.history.v1 import History

from wftest.timeline.builder import build_timeline
from wftest.timeline.model import Entry, Field
from wftest.timeline.values import format_offset

__all__ = ["clip", "entry_line", "fields_text", "format_offset", "render_text"]

OFFSET_WIDTH = 11
LANE_WIDTH = 14
EVENT_WIDTH = 11
VALUE_LIMIT = 80


def render_text(history: History) -> str:
    """The whole timeline of `history`, each line ending in a newline."""
    return "".join(entry_line(entry) + "\n" for entry in build_timeline(history).entries)


def entry_line(entry: Entry) -> str:
    """One listing line, without its newline; columns are padded to fixed widths so that a change to one
    line never realigns the others."""
    columns = (
        f"{format_offset(entry.offset_ns):<{OFFSET_WIDTH}} {entry.lane:<{LANE_WIDTH}} "
        f"{entry.event:<{EVENT_WIDTH}} {fields_text(entry.fields)}"
    )
    return columns.rstrip()


def fields_text(fields: tuple[Field, ...], limit: int = VALUE_LIMIT) -> str:
    """`bare name=value ...`, each value clipped to `limit` characters."""
    return " ".join(
        clip(value, limit) if not name else f"{name}={clip(value, limit)}" for name, value in fields
    )


def clip(value: str, limit: int = VALUE_LIMIT) -> str:
    """`value`, or its first `limit` characters and a marker saying how many were left out."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}...[+{len(value) - limit} chars]"
