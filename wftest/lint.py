"""Static checks of an app's Lua against its registry: mistakes a run would only find one at a time.

The checks read tokens, not a syntax tree: they look at string-literal targets of calls that name
entries (`funcs.call("ns:name")`, `workflow.exec`, `process.spawn*`), at `require("name")`, and at the
table a script returns. Where a target is computed at run time they say nothing, so every problem they
report is certain.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from wftest.app import App, LuaEntry
from wftest.app.model import LIBRARY_LUA, WORKFLOW_LUA
from wftest.lua.compiler import chunkname_of
from wftest.lua.modules import CATALOGUE, REQUIRABLE_GLOBALS, WORKFLOW_CLASSES

Severity = Literal["error", "warning"]

#: Entry kinds Wippy knows; anything else is most likely a typo of one of them.
KNOWN_KINDS = frozenset(
    """
    config.aws contract.binding contract.definition db.cdc.postgres db.sql.mysql db.sql.postgres
    db.sql.sqlite env.storage.file env.storage.memory env.storage.os env.storage.router
    env.storage.static env.variable exec.docker exec.native fs.directory fs.embed function.lua
    function.lua.bc function.wasm function.wat http.endpoint http.router http.service http.static
    library.lua library.lua.bc module.lua network.tailscale ns.definition ns.dependency ns.requirement
    pg.scope process.host process.lua process.lua.bc process.service process.wasm queue.consumer
    queue.driver.amqp queue.driver.memory queue.driver.sqs queue.queue registry.entry
    security.policy security.policy.expr security.token_store store.kv.crdt store.kv.raft store.memory
    store.sql template.jet template.set temporal.client temporal.worker terminal.host
    workflow.lua workflow.lua.bc
    """.split()
)

_FUNCTION_KINDS = ("function.", "process.lua", "process.wasm")  # funcs may call process-backed functions
_SPAWNABLE_KINDS = ("function.", "process.lua", "process.wasm", "workflow.")
_HOST_KINDS = ("process.host", "temporal.worker", "terminal.host")
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class Problem:
    """One finding: where (`file`, 1-based `line`, relative to the app root), how bad, and what."""

    file: str
    line: int
    message: str
    severity: Severity = "error"
    code: str = "app"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}: {tag}{self.message}" if self.file else f"{tag}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# -- tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: Literal["name", "string", "op", "number"]
    text: str
    line: int


_LONG_OPEN = re.compile(r"\[(=*)\[")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F_.pP+-]+|[0-9][0-9_.]*(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def tokens(source: str) -> list[Token]:
    """Lua tokens with their lines; comments dropped, string literals decoded for simple escapes."""
    out: list[Token] = []
    i, line, n = 0, 1, len(source)
    while i < n:
        c = source[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif source.startswith("--", i):
            long = _LONG_OPEN.match(source, i + 2)
            if long:
                close = source.find(f"]{long.group(1)}]", long.end())
                end = n if close < 0 else close + len(long.group(1)) + 2
            else:
                nl = source.find("\n", i)
                end = n if nl < 0 else nl
            line += source.count("\n", i, end)
            i = end
        elif c in "\"'":
            j, chars = i + 1, []
            while j < n and source[j] != c and source[j] != "\n":
                if source[j] == "\\" and j + 1 < n:
                    chars.append(_ESCAPES.get(source[j + 1], source[j + 1]))
                    j += 2
                else:
                    chars.append(source[j])
                    j += 1
            out.append(Token("string", "".join(chars), line))
            i = j + 1
        elif c == "[" and (long := _LONG_OPEN.match(source, i)):
            close = source.find(f"]{long.group(1)}]", long.end())
            end = n if close < 0 else close
            out.append(Token("string", source[long.end() : end], line))
            stop = n if close < 0 else close + len(long.group(1)) + 2
            line += source.count("\n", i, stop)
            i = stop
        elif m := _NAME.match(source, i):
            out.append(Token("name", m.group(), line))
            i = m.end()
        elif c.isdigit() and (m := _NUMBER.match(source, i)):
            out.append(Token("number", m.group(), line))
            i = m.end()
        else:
            two = source[i : i + 2]
            op = two if two in ("==", "~=", "<=", ">=", "..", "::", "//", "->") else c
            out.append(Token("op", op, line))
            i += len(op)
    return out


def _is(tok: Token | None, kind: str, text: str | None = None) -> bool:
    return tok is not None and tok.kind == kind and (text is None or tok.text == text)


def _at(toks: Sequence[Token], i: int) -> Token | None:
    return toks[i] if 0 <= i < len(toks) else None


def _op(toks: Sequence[Token], i: int, *ops: str) -> bool:
    """Whether the token at ``i`` is one of these operators."""
    tok = _at(toks, i)
    return tok is not None and tok.kind == "op" and tok.text in ops


# -- the checks -----------------------------------------------------------------------------------


def lint_app(app: App) -> list[Problem]:
    """Every problem the registry and the Lua sources show together, in file and line order."""
    problems = [*_kind_problems(app), *_worker_problems(app)]
    for entry in app.entries.values():
        if isinstance(entry, LuaEntry):
            problems.extend(lint_entry(app, entry))
    return sorted(problems, key=lambda p: (p.file, p.line, p.message))


def lint_entry(app: App, entry: LuaEntry) -> Iterator[Problem]:
    toks = tokens(entry.source_text)
    where = chunkname_of(entry)
    yield from _target_problems(app, entry, toks, where)
    yield from _require_problems(entry, toks, where)
    yield from _method_problems(entry, toks, where)


def _kind_problems(app: App) -> Iterator[Problem]:
    for entry in app.entries.values():
        if entry.kind in KNOWN_KINDS:
            continue
        close = difflib.get_close_matches(entry.kind, KNOWN_KINDS, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        yield Problem(entry.file, entry.line, f"{entry.id}: unknown entry kind '{entry.kind}'{hint}",
                      "warning" if not close else "error", "unknown-kind")


def _worker_problems(app: App) -> Iterator[Problem]:
    for entry in app.workflows():
        if entry.workflow is None:
            yield Problem(entry.file, entry.line,
                          f"{entry.id}: workflow has no meta.temporal.workflow.worker, so no worker runs it",
                          "warning", "no-worker")


def _target_problems(app: App, entry: LuaEntry, toks: Sequence[Token], where: str) -> Iterator[Problem]:
    for i, tok in enumerate(toks):
        if tok.kind != "name" or not _is(_at(toks, i + 1), "op", "(") or not _is(_at(toks, i - 1), "op"):
            continue
        owner, sep = _at(toks, i - 2), toks[i - 1].text
        if sep not in (".", ":"):
            continue
        first, second = _at(toks, i + 2), _at(toks, i + 4) if _is(_at(toks, i + 3), "op", ",") else None
        if not _is(first, "string"):
            continue
        assert first is not None
        name = tok.text
        if name in ("call", "async") and (sep == ":" or _is(owner, "name", "funcs")):
            yield from _check_target(app, first, where, "funcs." + name, _FUNCTION_KINDS)
        elif name == "exec" and _is(owner, "name", "workflow"):
            yield from _check_target(app, first, where, "workflow.exec", ("workflow.",))
        elif name in ("spawn", "spawn_monitored", "spawn_linked", "spawn_linked_monitored", "exec") and (
            sep == ":" or _is(owner, "name", "process")
        ):
            yield from _check_target(app, first, where, f"process.{name}", _SPAWNABLE_KINDS)
            if second is not None and second.kind == "string":
                yield from _check_target(app, second, where, f"process.{name} host", _HOST_KINDS)


def _check_target(
    app: App, tok: Token, where: str, call: str, kinds: tuple[str, ...]
) -> Iterator[Problem]:
    target = tok.text
    if not _ENTRY_ID.match(target):
        return
    namespace = target.partition(":")[0]
    found = app.entries.get(target)
    if found is None:
        if not any(e.namespace == namespace for e in app.entries.values()):
            return  # a namespace this app does not define: it may come from a dependency
        fitting = [e.id for e in app.entries.values() if e.kind.startswith(kinds)]
        close = difflib.get_close_matches(target, fitting, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        yield Problem(where, tok.line, f"{call}('{target}'): no entry '{target}' in this app{hint}",
                      "error", "unknown-target")
    elif not found.kind.startswith(kinds):
        want = " or ".join(k.rstrip(".") for k in kinds)
        yield Problem(where, tok.line,
                      f"{call}('{target}'): '{target}' is a {found.kind} entry, not a {want} entry",
                      "error", "wrong-target-kind")


def _require_problems(entry: LuaEntry, toks: Sequence[Token], where: str) -> Iterator[Problem]:
    workflow = entry.kind == WORKFLOW_LUA
    for i, tok in enumerate(toks):
        if not _is(tok, "name", "require") or _is(_at(toks, i - 1), "op", "."):
            continue
        arg = _at(toks, i + 2) if _is(_at(toks, i + 1), "op", "(") else _at(toks, i + 1)
        if not _is(arg, "string"):
            continue
        assert arg is not None
        name = arg.text
        if name in entry.imports or name in entry.modules or name in REQUIRABLE_GLOBALS:
            continue
        spec = CATALOGUE.get(name)
        if spec is None:
            yield Problem(where, arg.line,
                          f"require('{name}'): '{name}' is neither a module of {entry.id} nor an import alias"
                          " (list it under modules: or imports:)", "error", "unlisted-require")
        elif workflow and spec.wippy_class not in WORKFLOW_CLASSES:
            yield Problem(where, arg.line,
                          f"require('{name}'): workflows may not use '{name}' ({spec.wippy_class} module)",
                          "error", "module-class")
        else:
            yield Problem(where, arg.line,
                          f"require('{name}'): module '{name}' is not listed in {entry.id}'s modules: "
                          f"(add it to the entry at {entry.file}:{entry.line})",
                          "error", "unlisted-require")


def _method_problems(entry: LuaEntry, toks: Sequence[Token], where: str) -> Iterator[Problem]:
    if entry.method is None or entry.kind == LIBRARY_LUA:
        return
    keys = returned_keys(toks)
    if keys is None or entry.method in keys:
        return
    listed = ", ".join(sorted(keys)) or "nothing"
    line = next((t.line for t in reversed(toks) if _is(t, "name", "return")), entry.line)
    message = (
        f"{entry.id}: method '{entry.method}' (from {entry.file}:{entry.line}) is not in the table the "
        f"script returns (it has: {listed})"
    )
    yield Problem(where, line, message, "error", "missing-method")


def returned_keys(toks: Sequence[Token]) -> frozenset[str] | None:
    """The keys of the table a chunk returns at its end, or None where that cannot be known for sure."""
    for ret in reversed([i for i, t in enumerate(toks) if _is(t, "name", "return")]):
        rest = toks[ret + 1 :]  # the chunk's own return is the one whose expression reaches the end
        if rest and _is(rest[0], "op", "{"):
            keys = _constructor_keys(rest, 0)
            if keys is not None and keys[1] == len(rest):
                return keys[0]
        elif len(rest) == 1 and rest[0].kind == "name":
            return _keys_of_local(toks[:ret], rest[0].text)
    return None


def _constructor_keys(toks: Sequence[Token], start: int) -> tuple[frozenset[str], int] | None:
    """Keys of the table constructor opening at ``start`` and the index after its `}`; None if opaque."""
    keys: set[str] = set()
    depth, i = 0, start
    while i < len(toks):
        t = toks[i]
        if t.kind == "op" and t.text in "{([":
            if depth == 1 and t.text == "[" and _is(_at(toks, i + 1), "string") and _op(toks, i + 2, "]"):
                keys.add(toks[i + 1].text)
            depth += 1
        elif t.kind == "op" and t.text in "})]":
            depth -= 1
            if depth == 0:
                return frozenset(keys), i + 1
        elif depth == 1 and t.kind == "name" and _is(_at(toks, i + 1), "op", "="):
            if _op(toks, i - 1, "{", ",", ";"):
                keys.add(t.text)
        elif depth == 1 and _is(t, "op", "..") and _is(_at(toks, i + 1), "op", "."):
            return None  # `...` spreads unknown keys
        i += 1
    return None


def _keys_of_local(toks: Sequence[Token], name: str) -> frozenset[str] | None:
    keys: set[str] = set()
    built = False
    for i, t in enumerate(toks):
        if not _is(t, "name", name):
            continue
        after, before = _at(toks, i + 1), _at(toks, i - 1)
        if _is(after, "op", "=") and not _is(before, "op", "."):
            value = _at(toks, i + 2)
            if not _is(value, "op", "{"):
                return None  # built some other way (a require, a call, setmetatable)
            found = _constructor_keys(toks, i + 2)
            if found is None:
                return None
            keys |= found[0]
            built = True
        elif (_is(after, "op", ".") or _is(after, "op", ":")) and _is(_at(toks, i + 2), "name"):
            if _is(before, "name", "function") or _is(_at(toks, i + 3), "op", "="):
                keys.add(toks[i + 2].text)
        elif _is(after, "op", "[") and _is(_at(toks, i + 2), "string") and _is(_at(toks, i + 4), "op", "="):
            keys.add(toks[i + 2].text)
        elif _is(before, "name", "setmetatable") or _is(after, "op", "["):
            return None
    return frozenset(keys) if built else None


def worst(problems: Iterable[Problem]) -> Severity | None:
    found = {p.severity for p in problems}
    return "error" if "error" in found else ("warning" if found else None)


