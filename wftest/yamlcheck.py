"""Limits on a YAML document, checked on the parser's event stream before anything is built from it.

PyYAML builds aliases as shared objects, so a small document can stand for an enormous tree (the
"billion laughs": each level repeats the previous one nine times), and anything that walks the result
(building Lua tables, converting to JSON, the app loader's own passes) expands it. A recursive alias
makes a cycle that recursive walks never leave, and very deep nesting overflows PyYAML's recursive
composer. Counting on the event stream (an iterative state machine) catches all three in one pass,
with the line of the event where a limit is crossed, and costs no more than parsing.
"""

from __future__ import annotations

from typing import Final

import yaml

try:  # libyaml's parser when present: the check then costs a fraction of the load itself
    _PARSER: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _PARSER = yaml.SafeLoader

NODE_BYTES: Final = 64  # rough size of one node once built (a Lua table slot, a Python object)


class YamlLimitError(Exception):
    """A document crosses a limit; `line` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


def check_yaml(text: str | bytes, *, max_depth: int, max_size: int) -> None:
    """Raise YamlLimitError if the document nests deeper than `max_depth`, has an alias to a node that
    contains it, or, with every alias expanded, would take more than `max_size` bytes (NODE_BYTES per
    node plus the length of each scalar). Syntax errors are left to the real parser (nothing raised)."""
    try:
        _check(text, max_depth, max_size, _PARSER)
    except yaml.YAMLError:
        # libyaml stops at its own nesting limit with a syntax error: the pure-Python parser (slower,
        # but with no limit of its own) tells that apart from a real syntax error.
        if _PARSER is not yaml.SafeLoader:
            try:
                _check(text, max_depth, max_size, yaml.SafeLoader)
            except yaml.YAMLError:
                return


def _check(text: str | bytes, max_depth: int, max_size: int, parser: type) -> None:
    sizes: dict[str, int] = {}  # anchor -> expanded size of the node it names
    open_anchors: set[str] = set()  # anchors of collections still being read
    anchors: list[str | None] = []  # per open collection: its anchor
    frames: list[int] = []  # per open collection: its expanded size so far
    total = 0  # expanded size of the document so far
    for event in yaml.parse(text, Loader=parser):
        if isinstance(event, yaml.DocumentStartEvent):
            total = 0
            continue
        if isinstance(event, yaml.CollectionStartEvent):
            if len(frames) >= max_depth:
                raise YamlLimitError(f"nesting deeper than {max_depth} levels", _line(event))
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            anchors.append(event.anchor)
            frames.append(NODE_BYTES)
            add = NODE_BYTES
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = anchors.pop(), frames.pop()
            if anchor is not None:
                sizes[anchor] = size
                open_anchors.discard(anchor)
            if frames:
                frames[-1] += size
            continue  # its contents are in `total` already
        elif isinstance(event, yaml.ScalarEvent):
            add = NODE_BYTES + len(event.value)
            if event.anchor is not None:
                sizes[event.anchor] = add
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise YamlLimitError(
                    f"alias *{event.anchor} refers to a node that contains it", _line(event)
                )
            if event.anchor not in sizes:
                return  # an undefined alias: the loader reports it
            add = sizes[event.anchor]
        else:
            continue
        if frames and not isinstance(event, yaml.CollectionStartEvent):
            frames[-1] += add
        total += add
        if total > max_size:
            raise YamlLimitError(
                f"the document expands to more than {max_size} bytes (aliases repeat what they name)",
                _line(event),
            )


def _line(event: yaml.Event) -> int:
    return 0 if event.start_mark is None else int(event.start_mark.line) + 1
