"""Lua 5.5 source as tokens (with Wippy's type operators), a cursor over them, and Lua string literals."""

from __future__ import annotations

import re

from wftest.errors import UserError


class DialectError(UserError):
    """Malformed type syntax; the message starts with `chunkname:line:` like Lua's own errors."""

    def __init__(self, chunkname: str, line: int, message: str) -> None:
        super().__init__(f"{chunkname}:{line}: {message}")
        self.chunkname = chunkname
        self.line = line
        self.message = message


TOKEN = re.compile(
    r"""(?:[ \t\n\r\f\v]+|--\[(?P<lc>=*)\[.*?\](?P=lc)\]|--(?!\[=*\[)[^\r\n]*)*
    (?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>\.\.\.?|::|->|[=~<>]=|<<|>>|//|[-+*/%^#&~|<>=(){}\];:,?!@]|\[(?!=*\[)|\.(?![0-9]))
    |(?P<number>0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?
       |(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<string>"(?:[^"\\\r\n]|\\z\s*|\\\r\n|\\\n\r|\\.)*"|'(?:[^'\\\r\n]|\\z\s*|\\\r\n|\\\n\r|\\.)*')
    |(?P<long>\[(?P<ls>=*)\[.*?\](?P=ls)\])
    |(?P<bad>--\[=*\[.*|\[=*\[.*|.))?""",
    re.VERBOSE | re.DOTALL | re.ASCII,
)
NEWLINE = re.compile(r"\r\n|\n\r|\n|\r")
KEYWORDS = frozenset(
    "and break do else elseif end false for function goto if in local nil not or repeat return then true "
    "until while".split()
)
GROUP_KIND: list[str | None] = [None] * (TOKEN.groups + 1)
for _group, _index in TOKEN.groupindex.items():
    GROUP_KIND[_index] = {"lc": None, "ls": None, "long": "string"}.get(_group, _group)


_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "'": 39,
            "\n": 10, "\r": 10}
_ESCAPE = re.compile(
    r"\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]+)\}|([0-9]{1,3})|z\s*|(\r\n|\n\r|.))", re.DOTALL
)
_LONG_OPEN = re.compile(r"\[=*\[(?:\r\n|\n\r|\n|\r)?")


def lua_string_value(literal: str) -> bytes:
    """The bytes a Lua string literal (quoted or long bracket) stands for."""
    if literal[0] == "[":
        opening = _LONG_OPEN.match(literal)
        assert opening is not None
        level = opening.group().count("=")
        return literal[opening.end():len(literal) - level - 2].encode()
    out = bytearray()
    body = literal[1:-1]
    pos = 0
    for m in _ESCAPE.finditer(body):
        out += body[pos:m.start()].encode()
        pos = m.end()
        hexa, code, dec, char = m.groups()
        if hexa is not None:
            out.append(int(hexa, 16))
        elif code is not None:
            out += chr(min(int(code, 16), 0x10FFFF)).encode("utf-8", "surrogatepass")
        elif dec is not None:
            out.append(int(dec) & 0xFF)
        elif char is not None:
            out.append(_ESCAPES.get(char[0] if len(char) == 1 else "\n", ord(char[0])))
    out += body[pos:].encode()
    return bytes(out)


class Cursor:
    """The tokens of one source (kinds `k`, texts `v`, start and end offsets `s`/`e`; five `eof` at the end)
    and the position `i` of a walk over them."""

    def __init__(self, src: str, chunkname: str) -> None:
        self.src = src
        self.chunkname = chunkname
        k: list[str] = []
        v: list[str] = []
        s: list[int] = []
        e: list[int] = []
        keywords = KEYWORDS
        for m in TOKEN.finditer(src):
            group = m.lastindex or 0
            kind = GROUP_KIND[group]
            if kind is None:
                continue
            start, end = m.span(group)
            text = src[start:end]
            if kind == "op" or (kind == "name" and text in keywords):
                kind = text
            k.append(kind)
            v.append(text)
            s.append(start)
            e.append(end)
        n = len(src)
        k += ["eof"] * 5
        v += [""] * 5
        s += [n] * 5
        e += [n] * 5
        self.k, self.v, self.s, self.e = k, v, s, e
        self.i = 0

    def error(self, message: str, at: int | None = None) -> DialectError:
        pos = self.s[self.i if at is None else at]
        return DialectError(self.chunkname, self.line(pos), message)

    def line(self, pos: int) -> int:
        return len(NEWLINE.findall(self.src, 0, pos)) + 1

    def what(self, i: int) -> str:
        return "end of file" if self.k[i] == "eof" else f"'{self.v[i]}'"

    def expect(self, kind: str, context: str) -> None:
        """Consume a token of type grammar, or raise a DialectError."""
        if self.k[self.i] != kind:
            raise self.error(f"expected '{kind}' {context}, got {self.what(self.i)}")
        self.i += 1
