"""Wippy's `yaml` module (runtime/lua/modules/yaml/module.go) on PyYAML, laid out as Go's yaml.v3 lays it
out: keys in its natural order, 4-space indent (2 with options), sequences indented under their key."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any

import yaml

from wftest.encoding.jsontext import MAX_DEPTH, EncodeError, bytes_to_text
from wftest.lua.modules.base import INTERNAL, INVALID, fail, go_value, lua_type, module
from wftest.yamlcheck import YamlLimitError, check_yaml

if TYPE_CHECKING:
    from wftest.lua.sandbox import Sandbox


class _YamlDumper(yaml.SafeDumper):
    """SafeDumper that indents a sequence under its mapping key, as yaml.v3 does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_YamlDumper.add_representer(str, lambda dumper, value: _yaml_str(dumper, value))


def _natural_before(a: str, b: str) -> int:
    """yaml.v3's key order: letters after other characters, digit runs compared as numbers."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            continue
        if x.isalpha() and y.isalpha():
            return -1 if x < y else 1
        if x.isalpha() or y.isalpha():
            return 1 if x.isalpha() else -1
        if x.isdigit() or y.isdigit():
            leading = (x == "0" or y == "0") and any(c != "0" for c in _digits_before(a, i))
            xa, xn = _digit_run(a, i, leading)
            yb, yn = _digit_run(b, i, leading)
            if xn != yn:
                return -1 if xn < yn else 1
            if xa != yb:
                return -1 if xa < yb else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def _digits_before(s: str, i: int) -> str:
    j = i
    while j > 0 and s[j - 1].isdigit():
        j -= 1
    return s[j:i]


def _digit_run(s: str, i: int, leading: bool) -> tuple[int, int]:
    """Where the digit run at `i` ends and its value (1 first when a non-zero digit precedes it)."""
    n = 1 if leading else 0
    j = i
    while j < len(s) and s[j].isdigit():
        n = n * 10 + int(s[j])
        j += 1
    return j, n


def _yaml_ordered(v: Any, field_order: list[str], sort_unordered: bool) -> Any:
    """Mappings in yaml.v3's key order; with options, `field_order` keys first, the rest sorted when
    `sort_unordered` (plain string order) or left in yaml.v3's order."""
    if isinstance(v, list):
        return [_yaml_ordered(x, field_order, sort_unordered) for x in v]
    if not isinstance(v, dict):
        return v
    keys = sorted(v, key=cmp_to_key(_natural_before))
    rank = {name: i for i, name in enumerate(field_order)}
    listed = sorted((k for k in keys if k in rank), key=rank.__getitem__)
    rest = [k for k in keys if k not in rank]
    if sort_unordered:
        rest.sort()
    return {k: _yaml_ordered(v[k], field_order, sort_unordered) for k in [*listed, *rest]}


_BOOL, _INT, _FLOAT, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "timestamp"))


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader reading plain scalars as yaml.v3 does into Go's `any`: only true/false are booleans,
    timestamps stay the strings they are written as, and there are no base-60 numbers."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in found if tag not in (_BOOL, _INT, _FLOAT, _TIMESTAMP)]
    for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_YamlLoader.add_implicit_resolver(
    _INT,
    re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|0|[1-9][0-9_]*)$"),
    list("-+0123456789"),
)
_YamlLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _yaml_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings as literal blocks, as yaml.v3 writes them."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def open_yaml(sb: Sandbox) -> Any:
    """yaml.encode(table, options)/decode(text) with Wippy's error kinds and wording."""

    def options_of(opts: Any) -> tuple[list[str], bool, bool]:
        if lua_type(opts) != "table":
            return [], False, False
        unordered = opts[b"sort_unordered"]
        order = opts[b"field_order"]
        names: list[str] = []
        if lua_type(order) == "table":
            names = [
                bytes_to_text(x) for x in (order[i] for i in range(1, len(order) + 1)) if isinstance(x, bytes)
            ]
        sort_unordered = unordered is True
        return names, sort_unordered, bool(names) or sort_unordered

    def encode(value: Any = None, opts: Any = None) -> tuple[Any, Any]:
        if lua_type(value) != "table":
            return fail(sb, INVALID, "table expected")
        field_order, sort_unordered, styled = options_of(opts)
        try:
            plain = _yaml_ready(go_value(value))
        except EncodeError as exc:
            return fail(sb, INTERNAL, f"encode failed: {exc}")
        text = yaml.dump(
            _yaml_ordered(plain, field_order, sort_unordered),
            Dumper=_YamlDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            indent=2 if styled else 4,
            width=1 << 30,
        )
        return text.removesuffix("...\n"), None

    def decode(text: Any = None) -> tuple[Any, Any]:
        if not isinstance(text, bytes):
            return fail(sb, INVALID, "string expected")
        if not text:
            return fail(sb, INVALID, "input cannot be empty")
        spare = sb.state.spare_memory()
        try:
            check_yaml(text, max_depth=MAX_DEPTH, max_size=_YAML_MAX if spare is None else spare)
            return sb.values.to_lua(from_yaml(yaml.load(text, Loader=_YamlLoader))), None
        except YamlLimitError as exc:
            return fail(sb, INTERNAL, f"decode failed: {exc}")
        except yaml.YAMLError as exc:
            return fail(sb, INTERNAL, f"decode failed: {exc}")
        except (EncodeError, RecursionError) as exc:
            return fail(sb, INTERNAL, f"convert to Lua failed: the document has no Lua form: {exc}")

    return module(sb, {"encode": encode, "decode": decode})


_YAML_MAX = 1 << 30  # expanded size limit for yaml.decode in a state without a memory limit


def _yaml_ready(v: Any) -> Any:
    """Integral floats as integers (as Go writes a float64 like 2.0), containers recursively."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_yaml_ready(x) for x in v]
    if isinstance(v, dict):
        return {k: _yaml_ready(x) for k, x in v.items()}
    return v


def from_yaml(v: Any, text_keys: bool = False) -> Any:
    """YAML-only scalars made Lua-friendly: timestamps become ISO-8601 strings; containers recursively.
    With `text_keys` every mapping key becomes a string too (as the payload transcoder has them)."""
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, list):
        return [from_yaml(x, text_keys) for x in v]
    if isinstance(v, dict):
        return {(str(k) if text_keys else k): from_yaml(x, text_keys) for k, x in v.items()}
    return v
