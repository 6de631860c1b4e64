"""Read a Wippy app directory into an immutable ``App``.

Every registry file is read in sorted path order; all problems are collected and raised together as
one ``AppLoadError`` so a user sees the whole list at once. Reference rules (documented choices):

- An entry id without a namespace (``worker``, ``client``, an import target) is taken from the
  namespace of the entry that names it, as Wippy does for ``meta.temporal.workflow.worker``.
- Import targets in the ``wippy`` namespace family (e.g. ``wippy.test:test``) come from Wippy
  framework modules, not from the app, so they are kept without being checked.
- ``source: file://rel`` is relative to the registry file's directory, ``file:///p`` to the app root;
  any other string is inline Lua source (Wippy interpolates ``file://`` values and keeps the rest).
- Hidden files and directories (name starting with ``.``) are not read.
"""

from __future__ import annotations

import difflib
import json
import os
import posixpath
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml

from wftest.yamlcheck import YamlLimitError, check_yaml

from .errors import AppError, AppLoadError
from .model import (
    LIBRARY_LUA,
    LUA_KINDS,
    TEMPORAL_CLIENT,
    TEMPORAL_WORKER,
    ActivityMeta,
    App,
    ClientEntry,
    Entry,
    LuaEntry,
    TestMeta,
    WorkerEntry,
    WorkflowMeta,
    is_activity_kind,
    is_workflow_kind,
)

REGISTRY_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
FRAMEWORK_NAMESPACE = "wippy"
_ENTRY_KEYS = frozenset({"name", "kind", "meta"})
_FILE_PREFIX = "file://"


def load_app(path: str | os.PathLike[str]) -> App:
    """Load the app rooted at ``path``; raises ``AppError`` for a bad path, ``AppLoadError`` for bad files."""
    root = Path(path)
    if not root.is_dir():
        problem = "is not a directory" if root.exists() else "does not exist"
        raise AppError(f"app directory {problem}", file=os.fspath(path))
    loader = _AppLoader(root.resolve())
    files = _registry_files(loader.root)
    if not files:
        raise AppError("no registry files (_index.yaml) in this directory: it is not a Wippy app",
                       file=os.fspath(path))
    for file in files:
        loader.read_file(file)
    return loader.finish()


def _registry_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        found.extend(
            Path(directory, f)
            for f in files
            if not f.startswith(".") and os.path.splitext(f)[1] in REGISTRY_SUFFIXES
        )
    return sorted(found, key=lambda p: p.relative_to(root).parts)


# --------------------------------------------------------------------------- reading files with lines


class _Node(dict[Any, Any]):
    """A mapping from a registry file that remembers its own line and the line of each of its keys."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class _ParseError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that records lines, rejects duplicate keys as Go's yaml.v3 does, and keeps dates as text.

    The pure-Python loader is used on purpose: its error messages do not depend on libyaml being present.
    """


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[_Node]:
    result = _Node(node.start_mark.line + 1)
    yield result
    first_seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in first_seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {first_seen[key]})",
                    key_node.start_mark,
                )
            first_seen[key] = key_node.start_mark.line + 1
    result.update(loader.construct_mapping(node))
    # construct_mapping put merged (<<) pairs first, so the mapping's own keys get the last word.
    for key_node, _ in node.value:
        result.key_lines[loader.construct_object(key_node)] = key_node.start_mark.line + 1


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # Dates stay text, as in JSON: config and meta hold only JSON-shaped data for the Lua side.
    return str(loader.construct_scalar(node))


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# A registry file deeper than this, or expanding (aliases repeated) past this size, is refused.
MAX_REGISTRY_DEPTH = 100
MAX_REGISTRY_SIZE = 64 * 1024 * 1024


def _parse_yaml(text: str) -> Any:
    try:
        check_yaml(text, max_depth=MAX_REGISTRY_DEPTH, max_size=MAX_REGISTRY_SIZE)
    except YamlLimitError as err:
        raise _ParseError(f"invalid YAML: {err.message}", err.line) from None
    try:
        return yaml.load(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        reason = err.problem or err.context
        raise _ParseError(f"invalid YAML: {reason}", mark.line + 1 if mark else None) from None
    except RecursionError:
        raise _ParseError(f"invalid YAML: nesting deeper than {MAX_REGISTRY_DEPTH} levels", None) from None
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        raise _ParseError(f"invalid YAML: {err.reason} (character U+{err.character:04X})", line) from None


def _parse_json(text: str) -> Any:
    """Values come from ``json`` (exact); lines from PyYAML's composer, which reads JSON's structure."""
    try:
        data = json.loads(text, object_pairs_hook=tuple)
    except json.JSONDecodeError as err:
        raise _ParseError(f"invalid JSON: {err.msg}", err.lineno) from None
    except RecursionError:
        raise _ParseError(f"invalid JSON: nesting deeper than {MAX_REGISTRY_DEPTH} levels", 1) from None
    try:
        check_yaml(text.replace("\t", " "), max_depth=MAX_REGISTRY_DEPTH, max_size=MAX_REGISTRY_SIZE)
    except YamlLimitError as err:
        raise _ParseError(f"invalid JSON: {err.message}", err.line) from None
    try:
        # Strict JSON has no raw tabs inside strings, and PyYAML rejects tabs as indentation.
        node: yaml.Node | None = yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        node = None  # valid JSON PyYAML cannot read (keys over 1024 characters): every line is 1
    return _with_lines(data, node, 1)


def _node_line(node: yaml.Node | None, fallback: int) -> int:
    return node.start_mark.line + 1 if node is not None else fallback


def _with_lines(value: Any, node: yaml.Node | None, line: int) -> Any:
    if isinstance(value, tuple):  # a JSON object, as its key/value pairs
        result = _Node(_node_line(node, line))
        pairs = node.value if isinstance(node, yaml.MappingNode) and len(node.value) == len(value) else None
        for index, (key, item) in enumerate(value):
            key_node, item_node = pairs[index] if pairs else (None, None)
            result.key_lines[key] = _node_line(key_node, result.line)
            result[key] = _with_lines(item, item_node, result.key_lines[key])
        return result
    if isinstance(value, list):
        nodes = node.value if isinstance(node, yaml.SequenceNode) and len(node.value) == len(value) else None
        return [
            _with_lines(item, nodes[i] if nodes else None, _node_line(nodes[i] if nodes else None, line))
            for i, item in enumerate(value)
        ]
    return value


# --------------------------------------------------------------------------- data helpers


def _freeze(value: Any) -> Any:
    """Read-only copy: mappings become ``MappingProxyType``, lists tuples, sets frozensets."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    return value


def _merge(base: _Node, over: _Node) -> _Node:
    """Deep merge of file-level meta (``base``) under an entry's meta: entry keys win, dicts merge."""
    result = _Node(over.line)
    for source in (base, over):
        for key, value in source.items():
            current = result.get(key)
            if source is over and isinstance(current, _Node) and isinstance(value, _Node):
                value = _merge(current, value)
            result[key] = value
            result.key_lines[key] = source.line_of(key)
    return result


def _without(node: _Node, keys: frozenset[str]) -> _Node:
    result = _Node(node.line)
    for key, value in node.items():
        if key not in keys:
            result[key] = value
            result.key_lines[key] = node.line_of(key)
    return result


def _type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _qualify(ref: str, namespace: str) -> str:
    return ref if ":" in ref else f"{namespace}:{ref}"


def _is_framework(entry_id: str) -> bool:
    namespace = entry_id.partition(":")[0]
    return namespace == FRAMEWORK_NAMESPACE or namespace.startswith(FRAMEWORK_NAMESPACE + ".")


def _error_sort_key(error: AppError) -> tuple[tuple[str, ...], int, str]:
    return (PurePosixPath(error.file or "").parts, error.line or 0, error.message)


@dataclass(frozen=True)
class _Ref:
    """A reference from one entry to another, checked once every file has been read."""

    entry_id: str
    file: str
    line: int
    label: str
    target: str
    kinds: frozenset[str]

    def wanted(self) -> str:
        return " or ".join(sorted(self.kinds)) if len(self.kinds) > 1 else next(iter(self.kinds))


# --------------------------------------------------------------------------- the app


class _AppLoader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[AppError] = []
        self.entries: dict[str, Entry] = {}
        self.kinds: dict[str, str] = {}
        self.places: dict[str, tuple[str, int]] = {}
        self.refs: list[_Ref] = []

    def error(self, message: str, file: str, line: int | None, entry_id: str | None = None) -> None:
        self.errors.append(AppError(message, file=file, line=line, entry_id=entry_id))

    def read_bytes(self, path: Path) -> bytes:
        """Every file the loader reads (registry files and Lua sources) comes through here, so checks on
        what may be read belong in one place."""
        return path.read_bytes()

    def read_file(self, path: Path) -> None:
        rel = path.relative_to(self.root).as_posix()
        problem = self.unsafe_path(path)
        if problem:
            self.error(problem, rel, None)
            return
        try:
            data = self.read_bytes(path)
        except OSError as err:
            self.error(f"cannot read the file: {err.strerror or err}", rel, None)
            return
        try:
            text = data.decode("utf-8-sig")
            document = _parse_json(text) if path.suffix == ".json" else _parse_yaml(text)
        except UnicodeDecodeError as err:
            self.error("file is not UTF-8 text", rel, data.count(b"\n", 0, err.start) + 1)
            return
        except _ParseError as err:
            self.error(err.message, rel, err.line)
            return
        if isinstance(document, _Node) and "namespace" in document:
            self._read_document(document, rel)

    def unsafe_path(self, path: Path) -> str:
        """Why the app may not read `path`: it is not a regular file (a FIFO would block the read
        forever), or, symlinks followed, it lies outside the app root. Empty when it may."""
        if path.exists() and not path.is_file():
            return "not a regular file"
        if not path.resolve().is_relative_to(self.root):
            return f"is a link to {path.resolve()}, outside the app root"
        return ""

    def _read_document(self, document: _Node, rel: str) -> None:
        namespace = document["namespace"]
        if not isinstance(namespace, str) or not namespace or ":" in namespace:
            self.error(
                f"namespace must be a non-empty string without ':', got {namespace!r}",
                rel,
                document.line_of("namespace"),
            )
            return
        if "entries" not in document:
            if "name" in document or "kind" in document:
                single = _without(document, frozenset({"version", "namespace"}))
                self._add_entry(single, None, namespace, rel, "the entry")
            return
        file_meta = document.get("meta")
        if file_meta is not None and not isinstance(file_meta, _Node):
            self.error(f"meta must be a mapping, got {_type_name(file_meta)}", rel, document.line_of("meta"))
            file_meta = None
        entries = document["entries"]
        if entries is None:
            return
        if not isinstance(entries, list):
            self.error(f"entries must be a list, got {_type_name(entries)}", rel, document.line_of("entries"))
            return
        for index, raw in enumerate(entries, 1):
            if isinstance(raw, _Node):
                self._add_entry(raw, file_meta, namespace, rel, f"entries[{index}]")
            else:
                self.error(
                    f"entries[{index}] must be a mapping, got {_type_name(raw)}",
                    rel,
                    document.line_of("entries"),
                )

    def _add_entry(self, raw: _Node, file_meta: _Node | None, namespace: str, rel: str, label: str) -> None:
        name, kind = raw.get("name"), raw.get("kind")
        problems = []
        known_id = None
        if name is None:
            problems.append(f"{label} has no 'name'")
        elif not isinstance(name, str) or not name or ":" in name:
            problems.append(f"{label}: name must be a non-empty string without ':', got {name!r}")
        else:
            known_id = f"{namespace}:{name}"
            label = f"entry {known_id!r}"
        if kind is None:
            problems.append(f"{label} has no 'kind'")
        elif not isinstance(kind, str) or not kind:
            problems.append(f"{label}: kind must be a non-empty string, got {kind!r}")
        if problems or not isinstance(name, str) or not isinstance(kind, str):
            for problem in problems:
                self.error(problem, rel, raw.line, known_id)
            return
        entry_id = f"{namespace}:{name}"
        if entry_id in self.places:
            first_file, first_line = self.places[entry_id]
            self.error(
                f"entry {entry_id!r} is defined twice: first at {first_file}:{first_line}",
                rel,
                raw.line,
                entry_id,
            )
            return
        self.places[entry_id] = (rel, raw.line)
        self.kinds[entry_id] = kind
        entry = _EntryBuilder(self, raw, file_meta, namespace, name, kind, rel).build()
        if entry is not None:
            self.entries[entry_id] = entry

    def finish(self) -> App:
        for ref in self.refs:
            self._check_ref(ref)
        if self.errors:
            raise AppLoadError(sorted(self.errors, key=_error_sort_key))
        return App(root=self.root, entries=self.entries)

    def _check_ref(self, ref: _Ref) -> None:
        found = self.kinds.get(ref.target)
        if found in ref.kinds:
            return
        if found is None:
            candidates = sorted(entry_id for entry_id, kind in self.kinds.items() if kind in ref.kinds)
            close = difflib.get_close_matches(ref.target, candidates, n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            problem = f"which is not an entry of this app{hint}"
        else:
            problem = f"which is a {found} entry, not a {ref.wanted()}"
        self.error(
            f"entry {ref.entry_id!r}: {ref.label} names {ref.target!r}, {problem}",
            ref.file,
            ref.line,
            ref.entry_id,
        )


# --------------------------------------------------------------------------- one entry


class _EntryBuilder:
    """Validates one entry's fields, reporting each problem at the line of the offending key."""

    def __init__(
        self,
        loader: _AppLoader,
        raw: _Node,
        file_meta: _Node | None,
        namespace: str,
        name: str,
        kind: str,
        rel: str,
    ) -> None:
        self.loader = loader
        self.raw = raw
        self.namespace = namespace
        self.name = name
        self.kind = kind
        self.rel = rel
        self.id = f"{namespace}:{name}"
        self.failed = False
        own_meta = raw.get("meta")
        if own_meta is not None and not isinstance(own_meta, _Node):
            self.fail(raw.line_of("meta"), f"meta must be a mapping, got {_type_name(own_meta)}")
            own_meta = None
        empty = _Node(raw.line)
        self.meta = _merge(file_meta or empty, own_meta or empty)

    def fail(self, line: int, message: str) -> None:
        self.failed = True
        self.loader.error(f"entry {self.id!r}: {message}", self.rel, line, self.id)

    def build(self) -> Entry | None:
        config = {key: value for key, value in self.raw.items() if key not in _ENTRY_KEYS}
        common: dict[str, Any] = {
            "id": self.id,
            "namespace": self.namespace,
            "name": self.name,
            "kind": self.kind,
            "meta": _freeze(self.meta),
            "config": _freeze(config),
            "file": self.rel,
            "line": self.raw.line,
            "workflow": self._workflow_meta(),
            "activity": self._activity_meta(),
            "test": self._test_meta(),
            "call_options": self._mapping(self.meta, "options", "meta.options"),
        }
        entry: Entry
        if self.kind in LUA_KINDS:
            entry = self._lua_entry(common)
        elif self.kind == TEMPORAL_WORKER:
            entry = WorkerEntry(
                **common,
                client=self._ref(self.raw, "client", "client", TEMPORAL_CLIENT) or "",
                task_queue=self._string(self.raw, "task_queue", "task_queue", required=True) or "",
                worker_options=self._mapping(self.raw, "worker_options", "worker_options"),
            )
        elif self.kind == TEMPORAL_CLIENT:
            entry = ClientEntry(
                **common,
                address=self._string(self.raw, "address", "address", required=True) or "",
                temporal_namespace=self._string(self.raw, "namespace", "namespace") or "default",
                tq_prefix=self._string(self.raw, "tq_prefix", "tq_prefix", allow_empty=True) or "",
            )
        else:
            entry = Entry(**common)
        return None if self.failed else entry

    # ---- typed field readers: report and return a neutral value on a bad field

    def _string(
        self,
        node: _Node,
        key: str,
        label: str,
        *,
        required: bool = False,
        allow_empty: bool = False,
        missing_line: int | None = None,
    ) -> str | None:
        if key not in node:
            if required:
                self.fail(missing_line or node.line, f"{label} is required")
            return None
        value = node[key]
        if value is None and not required:
            return None
        if not isinstance(value, str) or (not value and not allow_empty):
            self.fail(node.line_of(key), f"{label} must be a non-empty string, got {value!r}")
            return None
        return value

    def _mapping(self, node: _Node, key: str, label: str) -> Mapping[str, Any]:
        value = node.get(key)
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, _Node):
            self.fail(node.line_of(key), f"{label} must be a mapping, got {_type_name(value)}")
            return MappingProxyType({})
        frozen: Mapping[str, Any] = _freeze(value)
        return frozen

    def _ref(
        self, node: _Node, key: str, label: str, kind: str | frozenset[str], missing_line: int | None = None
    ) -> str | None:
        value = self._string(node, key, label, required=True, missing_line=missing_line)
        if value is None:
            return None
        target = _qualify(value, self.namespace)
        kinds = frozenset({kind}) if isinstance(kind, str) else kind
        self.loader.refs.append(_Ref(self.id, self.rel, node.line_of(key), label, target, kinds))
        return target

    def _meta_section(self, *path: str) -> tuple[_Node, int] | None:
        """The mapping at ``meta.<path>`` and the line of its key, or ``None`` when absent or malformed."""
        node, line = self.meta, self.raw.line
        for depth, key in enumerate(path):
            value = node.get(key)
            if value is None:
                return None
            if not isinstance(value, _Node):
                dotted = ".".join(path[: depth + 1])
                self.fail(node.line_of(key), f"meta.{dotted} must be a mapping, got {_type_name(value)}")
                return None
            node, line = value, node.line_of(key)
        return node, line

    # ---- meta

    def _temporal_section(self, role: str) -> tuple[_Node, str] | None:
        """``meta.temporal.<role>`` and the worker it names (empty when missing), or ``None`` when absent."""
        found = self._meta_section("temporal", role)
        if found is None:
            return None
        section, line = found
        worker = self._ref(section, "worker", f"meta.temporal.{role}.worker", TEMPORAL_WORKER, line)
        return section, worker or ""

    def _workflow_meta(self) -> WorkflowMeta | None:
        found = self._temporal_section("workflow") if is_workflow_kind(self.kind) else None
        if found is None:
            return None
        section, worker = found
        name = self._string(section, "name", "meta.temporal.workflow.name")
        return WorkflowMeta(worker=worker, name=name, type_name=name or self.id)

    def _activity_meta(self) -> ActivityMeta | None:
        found = self._temporal_section("activity") if is_activity_kind(self.kind) else None
        if found is None:
            return None
        section, worker = found
        local = section.get("local", False)
        if not isinstance(local, bool):
            self.fail(
                section.line_of("local"), f"meta.temporal.activity.local must be a boolean, got {local!r}"
            )
        return ActivityMeta(worker=worker, local=local is True)

    def _test_meta(self) -> TestMeta | None:
        if self.meta.get("type") != "test":
            return None
        order = self.meta.get("order")
        if order is not None and (isinstance(order, bool) or not isinstance(order, (int, float))):
            self.fail(self.meta.line_of("order"), f"meta.order must be a number, got {order!r}")
            order = None
        return TestMeta(
            suite=self._string(self.meta, "suite", "meta.suite"),
            name=self._string(self.meta, "name", "meta.name"),
            description=self._string(self.meta, "description", "meta.description"),
            order=order,
        )

    # ---- Lua entries

    def _lua_entry(self, common: dict[str, Any]) -> LuaEntry:
        source = self._string(self.raw, "source", "source", required=True)
        source_path, source_text = self._source(source) if source is not None else (None, "")
        default_method = None if self.kind == LIBRARY_LUA else "main"
        return LuaEntry(
            **common,
            source_path=source_path,
            source_text=source_text,
            method=self._string(self.raw, "method", "method") or default_method,
            modules=self._modules(),
            imports=self._imports(),
        )

    def _source(self, source: str) -> tuple[str | None, str]:
        line = self.raw.line_of("source")
        if not source.startswith(_FILE_PREFIX):
            return None, source
        target = source[len(_FILE_PREFIX) :]
        if target.startswith("/"):
            joined = target.lstrip("/")
        else:
            joined = posixpath.join(posixpath.dirname(self.rel), target)
        rel = posixpath.normpath(joined)
        if rel == ".." or rel.startswith("../"):
            self.fail(line, f"source {source!r} points outside the app root")
            return None, ""
        path = self.loader.root / rel
        if rel == "." or not path.exists() or path.is_dir():
            self.fail(line, f"source file {rel!r} not found (from {source!r})")
            return None, ""
        problem = self.loader.unsafe_path(path)
        if problem:
            self.fail(line, f"source file {rel!r} {problem}")
            return None, ""
        try:
            data = self.loader.read_bytes(path)
        except OSError as err:
            self.fail(line, f"source file {rel!r} cannot be read: {err.strerror or err}")
            return None, ""
        try:
            return rel, data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.fail(line, f"source file {rel!r} is not UTF-8 text")
            return None, ""

    def _modules(self) -> tuple[str, ...]:
        value = self.raw.get("modules")
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(m, str) and m for m in value):
            self.fail(self.raw.line_of("modules"), f"modules must be a list of module names, got {value!r}")
            return ()
        return tuple(value)

    def _imports(self) -> Mapping[str, str]:
        value = self.raw.get("imports")
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, _Node):
            self.fail(
                self.raw.line_of("imports"), f"imports must be a mapping of alias to entry id, got {value!r}"
            )
            return MappingProxyType({})
        imports: dict[str, str] = {}
        for alias in value:
            if not isinstance(alias, str) or not alias:
                self.fail(value.line_of(alias), f"import alias must be a non-empty string, got {alias!r}")
                continue
            label = f"import {alias!r}"
            target = value[alias]
            if isinstance(target, str) and _is_framework(target):
                imports[alias] = target
                continue
            # Any Lua entry can be imported: its script runs as a module and `require` gets what it
            # returns (Wippy's code manager treats function, process and workflow scripts as libraries).
            resolved = self._ref(value, alias, label, LUA_KINDS)
            if resolved is not None:
                imports[alias] = resolved
        return MappingProxyType(imports)
