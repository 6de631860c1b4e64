"""The timeline of a run: a history as lanes over virtual time, as text (the snapshot format) or HTML."""

from wftest.timeline.builder import build_timeline
from wftest.timeline.html import render_html
from wftest.timeline.model import Entry, Item, Lane, Timeline, TimelineError
from wftest.timeline.text import format_offset, render_text

__all__ = [
    "Entry",
    "Item",
    "Lane",
    "Timeline",
    "TimelineError",
    "build_timeline",
    "format_offset",
    "render_html",
    "render_text",
]
