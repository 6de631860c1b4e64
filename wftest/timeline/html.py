"""The timeline as one self-contained HTML page: lanes of bars and ticks drawn in inline SVG over virtual
time, or over event order (many events of a simulated run share one instant), with the details of each
item in its hover title, and the listing of `text` below as a table. No script and no network assets;
equal histories give byte-identical pages."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Literal

from temporalio.api.history.v1 import History

from wftest.lua.gotime import format_duration
from wftest.timeline.builder import build_timeline
from wftest.timeline.model import INSTANT_KINDS, Item, Lane, Timeline
from wftest.timeline.text import clip, fields_text
from wftest.timeline.values import format_offset

ScaleKind = Literal["time", "order"]
"""A chart's x axis: virtual time, or event ids (one unit per event)."""

LABEL_WIDTH = 230
PLOT_WIDTH = 900
RIGHT_MARGIN = 48
ROW_HEIGHT = 26
AXIS_HEIGHT = 30
BAR_HEIGHT = 14
MIN_BAR = 3.0
DETAIL_LIMIT = 300
"""Characters of a value shown in hover details and in the table."""
MAX_TICKS = 8
CHAR_WIDTH = 6.5
"""Approximate width of a character of 11px text, to decide whether a label fits in its bar."""

_SECOND = 1_000_000_000
_TIME_STEPS = [
    unit * n
    for unit, ns in (
        (1_000, (1, 2, 5, 10, 20, 50, 100, 200, 500)),
        (1_000_000, (1, 2, 5, 10, 20, 50, 100, 200, 500)),
        (_SECOND, (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)),
        (86_400 * _SECOND, (1, 2, 7, 14, 30, 90, 180, 365)),
    )
    for n in ns
]
_ORDER_STEPS = [unit * n for unit in (1, 10, 100, 1000, 10_000) for n in (1, 2, 5)]

_CSS = """
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
.summary { color: #555; margin-bottom: 10px; }
.summary b { color: #222; }
input[name="scale"] { margin: 6px 4px 10px 0; }
label { margin-right: 14px; }
.chart { overflow-x: auto; border: 1px solid #ddd; background: #fff; }
svg.timeline { width: 100%; min-width: 720px; height: auto; display: block; }
.chart.order { display: none; }
#scale-order:checked ~ .chart.order { display: block; }
#scale-order:checked ~ .chart.time { display: none; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .lane-label { font-weight: 600; }
svg .row-even { fill: #f7f7f9; }
svg .row-odd { fill: #fff; }
svg .grid { stroke: #e3e3e8; }
svg .axis-label { fill: #666; }
svg .item:hover > .bar, svg .item:hover > .tick { stroke: #000; stroke-width: 1.5; }
.bar.kind-task { fill: #7d9c48; }
.bar.kind-activity { fill: #4a7fd4; }
.bar.kind-timer { fill: #9a9aa6; }
.bar.kind-child { fill: #7a5cc4; }
.bar.kind-update { fill: #2a9d8f; }
.bar.kind-external { fill: #c98a1b; }
.bar.waiting { fill: #b9cdef; }
.bar.retrying { fill: url(#retry-hatch); }
.bar.status-failed { fill: #d64545; }
.bar.status-timed_out { fill: #e07b00; }
.bar.status-canceled, .bar.status-terminated { fill: #a0a0a0; }
.bar.status-open { fill-opacity: 0.45; stroke: #555; stroke-dasharray: 3 2; }
.tick { fill: #555; }
.tick.kind-signal { fill: #1f9bd1; }
.tick.kind-marker { fill: #b8860b; }
.tick.kind-close.status-ok { fill: #2e8b57; }
.tick.status-failed, .tick.status-timed_out { fill: #d64545; }
.tick.status-canceled, .tick.status-terminated { fill: #888; }
.mark { stroke: #8b0000; stroke-width: 2; }
.mark.status-canceled, .mark.status-terminated { stroke: #555; }
.attempt { font-size: 10px; fill: #333; }
svg .bar-label { fill: #fff; pointer-events: none; }
table { border-collapse: collapse; margin-top: 14px; font: 12px ui-monospace, Menlo, Consolas, monospace; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
td { white-space: nowrap; }
td.details { white-space: normal; word-break: break-all; }
th { background: #f2f2f5; }
tr.status-failed td, tr.status-timed_out td { color: #b00000; }
tr.status-canceled td, tr.status-terminated td { color: #777; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; }
"""

_LEGEND = (
    ("#7d9c48", "workflow task"),
    ("#4a7fd4", "activity attempt"),
    ("#b9cdef", "waiting to start"),
    ("#9a9aa6", "timer"),
    ("#7a5cc4", "child workflow"),
    ("#2a9d8f", "update"),
    ("#c98a1b", "signal/cancel sent"),
    ("#1f9bd1", "signal received"),
    ("#b8860b", "marker"),
    ("#d64545", "failed"),
    ("#e07b00", "timed out"),
)


def render_html(history: History, *, title: str) -> str:
    """The page for `history`, titled `title`."""
    timeline = build_timeline(history)
    default_order = crowded(timeline)
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        f"<h1>{escape(title)}</h1>\n",
        _summary(timeline),
        _radio("time", "virtual time", not default_order),
        _radio("order", "event order", default_order),
        _legend(),
        _chart(timeline, "time"),
        _chart(timeline, "order"),
        _table(timeline),
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def crowded(timeline: Timeline) -> bool:
    """Whether the time view would squeeze spans into slivers: no time passes at all, or two spans (an
    activity and its compensation, say) sit in one instant. Then the page opens on event order."""
    if timeline.end_ns == 0:
        return True
    sliver = timeline.end_ns * MIN_BAR / PLOT_WIDTH
    spans = [
        item
        for lane in timeline.lanes
        for item in lane.items
        if item.kind not in INSTANT_KINDS and item.end_ns is not None and item.end_ns - item.start_ns < sliver
    ]
    return len(spans) >= 2


def _summary(timeline: Timeline) -> str:
    own = timeline.lanes[0].items if timeline.lanes else ()
    close = next((item for item in own if item.kind == "close"), None)
    outcome = close.label if close is not None else timeline.status.replace("_", " ")
    detail = next((value for name, value in close.fields if name in ("result", "error")), "") if close else ""
    shown = f" <code>{escape(clip(detail, 160))}</code>" if detail else ""
    return (
        f'<div class="summary">workflow <b>{escape(timeline.workflow_type)}</b> · '
        f'<b class="status-{timeline.status}">{escape(outcome)}</b>{shown} · '
        f"virtual duration <b>{format_duration(timeline.end_ns)}</b> · "
        f"{timeline.event_count} events · {len(timeline.lanes)} lanes</div>\n"
    )


def _radio(scale: ScaleKind, text: str, checked: bool) -> str:
    flag = " checked" if checked else ""
    return (
        f'<input type="radio" name="scale" id="scale-{scale}"{flag}>'
        f'<label for="scale-{scale}">{text}</label>\n'
    )


def _legend() -> str:
    spans = "".join(f'<span><i style="background:{color}"></i>{text}</span>' for color, text in _LEGEND)
    return f'<div class="legend">{spans}</div>\n'


# -- the chart -----------------------------------------------------------------------------------------------


class _Scale:
    """Maps an item to x positions: by virtual offset, or by event id (one unit per event)."""

    def __init__(self, timeline: Timeline, kind: ScaleKind) -> None:
        self.kind = kind
        self.domain = float(timeline.end_ns if kind == "time" else timeline.event_count) or 1.0

    def x(self, value: float) -> float:
        return LABEL_WIDTH + PLOT_WIDTH * value / self.domain

    def span(self, item: Item) -> tuple[float, float]:
        """Left and right edge of an item's bar; an open item runs to the end of the plot."""
        if self.kind == "order":
            left = float(min(item.event_ids) - 1)
            right = float(max(item.event_ids)) if item.end_ns is not None else self.domain
        else:
            left = float(item.start_ns)
            right = float(item.end_ns) if item.end_ns is not None else self.domain
        return self.x(left), self.x(right)

    def point(self, item: Item) -> float:
        if self.kind == "order":
            return self.x(item.event_ids[0] - 0.5)
        return self.x(item.start_ns)

    def started(self, item: Item) -> float | None:
        """Where an activity's last attempt starts, in the time scale only (event order has no gap)."""
        if self.kind != "time" or item.kind != "activity" or item.started_ns is None:
            return None
        return self.x(item.started_ns)

    def ticks(self) -> list[tuple[float, str]]:
        """Axis marks: round offsets, or every few event ids (centred on their event)."""
        if self.kind == "order":
            step = next((s for s in _ORDER_STEPS if self.domain / s <= MAX_TICKS), _ORDER_STEPS[-1])
            ids = (
                [1, *range(step, int(self.domain) + 1, step)] if step > 1 else range(1, int(self.domain) + 1)
            )
            return [(self.x(n - 0.5), f"#{n}") for n in dict.fromkeys(ids)]
        step = next((s for s in _TIME_STEPS if self.domain / s <= MAX_TICKS), int(self.domain))
        return [(self.x(n), format_offset(n)) for n in range(0, int(self.domain) + 1, step)]


def _chart(timeline: Timeline, kind: ScaleKind) -> str:
    scale = _Scale(timeline, kind)
    width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN
    height = AXIS_HEIGHT + ROW_HEIGHT * len(timeline.lanes) + 8
    out = [
        f'<div class="chart {kind}">\n<svg class="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="timeline by {kind}">\n',
        '<defs><pattern id="retry-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4c7c7"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#d64545" stroke-width="3"/></pattern></defs>\n',
    ]
    for index, lane in enumerate(timeline.lanes):
        out.append(_lane(lane, index, scale))
    for x, label in scale.ticks():
        out.append(
            f'<line class="grid" x1="{x:.1f}" y1="{AXIS_HEIGHT - 6}" x2="{x:.1f}" y2="{height - 8}"/>'
            f'<text class="axis-label" x="{x:.1f}" y="{AXIS_HEIGHT - 10}" text-anchor="middle">'
            f"{escape(label)}</text>\n"
        )
    out.append("</svg>\n</div>\n")
    return "".join(out)


def _lane(lane: Lane, index: int, scale: _Scale) -> str:
    top = AXIS_HEIGHT + index * ROW_HEIGHT
    row = "row-even" if index % 2 == 0 else "row-odd"
    name = lane.label
    if lane.kind in ("activity", "child") and lane.items:
        name = f"{lane.label} {lane.items[0].label}"
    label = escape(clip(name, 32))
    out = [
        f'<g class="lane lane-{lane.kind}" data-lane="{escape(lane.label)}">'
        f'<rect class="{row}" x="0" y="{top}" width="{LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN}" '
        f'height="{ROW_HEIGHT}"/>'
        f'<text class="lane-label" x="8" y="{top + ROW_HEIGHT / 2 + 4:.1f}">'
        f"<title>{escape(name)}</title>{label}</text>\n"
    ]
    for item in lane.items:
        out.append(_item(item, lane, top, scale))
    out.append("</g>\n")
    return "".join(out)


def _item(item: Item, lane: Lane, top: int, scale: _Scale) -> str:
    classes = f"kind-{item.kind} status-{item.status}"
    middle = top + ROW_HEIGHT / 2
    title = f"<title>{escape(_details(item, lane))}</title>"
    if item.kind in INSTANT_KINDS:
        return f'<g class="item {classes}">{title}{_tick(item, scale.point(item), middle, classes)}</g>\n'
    left, right = scale.span(item)
    y = middle - BAR_HEIGHT / 2
    shapes = []
    started = scale.started(item)
    if started is not None and left < started:
        stretch = "retrying" if item.attempt > 1 else "waiting"
        shapes.append(_rect(f"bar {stretch} kind-{item.kind}", left, started, y))
        left = started
    right = max(right, left + MIN_BAR)
    shapes.append(_rect(f"bar {classes}", left, right, y))
    if len(item.label) * CHAR_WIDTH + 8 < right - left:
        shapes.append(
            f'<text class="bar-label" x="{left + 4:.1f}" y="{middle + 4:.1f}">{escape(item.label)}</text>'
        )
    after = right + 3
    if item.status in ("failed", "timed_out", "canceled", "terminated"):
        shapes.append(_cross(f"mark status-{item.status}", right + 6, middle))
        after += 12
    if item.attempt > 1:
        shapes.append(f'<text class="attempt" x="{after:.1f}" y="{middle + 4:.1f}">×{item.attempt}</text>')
    return f'<g class="item {classes}">{title}{"".join(shapes)}</g>\n'


def _rect(classes: str, left: float, right: float, y: float) -> str:
    return (
        f'<rect class="{classes}" x="{left:.1f}" y="{y:.1f}" width="{max(right - left, MIN_BAR):.1f}" '
        f'height="{BAR_HEIGHT}" rx="2"/>'
    )


def _cross(classes: str, x: float, y: float) -> str:
    d = 4.0
    return (
        f'<path class="{classes}" d="M{x - d:.1f} {y - d:.1f}L{x + d:.1f} {y + d:.1f}'
        f'M{x - d:.1f} {y + d:.1f}L{x + d:.1f} {y - d:.1f}"/>'
    )


_SHAPES: dict[str, Callable[[float, float], str]] = {
    "signal": lambda x, y: f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5"',
    "marker": lambda x, y: (
        f'<polygon points="{x:.1f},{y - 6:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 5:.1f},{y:.1f}"'
    ),
}


def _tick(item: Item, x: float, y: float, classes: str) -> str:
    shape = _SHAPES.get(item.kind)
    if shape is not None:
        return f'{shape(x, y)} class="tick {classes}"/>'
    return f'<rect class="tick {classes}" x="{x - 1.5:.1f}" y="{y - 8:.1f}" width="3" height="16"/>'


def _details(item: Item, lane: Lane) -> str:
    """The hover text of an item: what, where, when, how it ended, its attributes."""
    lines = [f"{lane.label}: {item.label}"]
    if item.kind in INSTANT_KINDS:
        lines.append(f"at {format_offset(item.start_ns)}")
    else:
        end = "still open" if item.end_ns is None else format_offset(item.end_ns)
        lines.append(f"{format_offset(item.start_ns)} → {end}")
        if item.end_ns is not None:
            lines.append(f"took {format_duration(item.end_ns - item.start_ns)}")
    if item.attempt > 1 and item.kind == "activity":
        lines.append(f"attempts 1-{item.attempt - 1} and their backoff: before the last start (not recorded)")
    lines.append(f"status: {item.status.replace('_', ' ')}")
    lines.extend(f"{name or 'name'}: {clip(value, DETAIL_LIMIT)}" for name, value in item.fields)
    lines.append("events: " + ", ".join(str(i) for i in item.event_ids))
    return "\n".join(lines)


# -- the listing ---------------------------------------------------------------------------------------------


def _table(timeline: Timeline) -> str:
    rows = [
        '<table class="entries">\n<thead><tr><th>offset</th><th>lane</th><th>event</th><th>details</th>'
        "<th>events</th></tr></thead>\n<tbody>\n"
    ]
    for entry in timeline.entries:
        rows.append(
            f'<tr class="status-{entry.status}"><td>{format_offset(entry.offset_ns)}</td>'
            f"<td>{escape(entry.lane)}</td><td>{escape(entry.event)}</td>"
            f'<td class="details">{escape(fields_text(entry.fields, DETAIL_LIMIT))}</td>'
            f"<td>{','.join(str(i) for i in entry.event_ids)}</td></tr>\n"
        )
    rows.append("</tbody>\n</table>\n")
    return "".join(rows)
