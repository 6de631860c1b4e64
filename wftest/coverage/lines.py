"""Which lines of a Lua source can run: read from the compiled chunk, not guessed from the text.

The source is compiled (through `wftest.lua.compiler`, so typed Lua is erased first, lines in place)
and its `string.dump` image is walked: every function prototype, nested ones included, carries the line
of each of its instructions, which is what Lua's line hook reports. So a blank line, a comment or a line
holding only `end` is never counted as missed. Two adjustments match what a line hook can ever see: a
vararg function's first instruction (argument set-up) fires no line event, and the `return` Lua adds at
the end of every function is left out where its line holds nothing else (after an explicit `return` it
never runs, and the `end` of such a function would show as missed).
"""

from __future__ import annotations

import struct
from collections import Counter
from functools import lru_cache
from pathlib import Path

from wftest.lua.compiler import CompileError, bytecode, compile_source

_SIGNATURE = b"\x1bLua\x55\x00"  # signature, version 5.5, official format
_ABSLINEINFO = -0x80  # a line delta that says "the line is in the absolute line table"
_VARARG = 1 | 2  # prototype flags of a vararg function (hidden varargs, vararg table)
_FLOAT, _INT, _SHORT_STR, _LONG_STR = 0x13, 0x03, 0x04, 0x14  # constant tags with a payload
_NO_PAYLOAD = (0x00, 0x01, 0x11)  # nil, false, true


class BytecodeFormatError(Exception):
    """The Lua build's bytecode is not laid out as this reader expects."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BytecodeFormatError(f"bytecode ends early (at byte {self.pos}, wants {n})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def varint(self) -> int:
        value = 0
        while True:
            b = self.byte()
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                return value

    def align(self, size: int) -> None:
        self.take((-self.pos) % size)

    def skip_string(self) -> None:
        size = self.varint()
        if size == 0:
            self.varint()  # the index of a string dumped before (0: no string)
        else:
            self.take(size)  # the text and its terminating zero


class _Tally:
    """Instructions per line over all prototypes, and how many of them are a function's final return."""

    def __init__(self) -> None:
        self.instructions: Counter[int] = Counter()
        self.final_returns: Counter[int] = Counter()


def _read_function(r: _Reader, tally: _Tally) -> None:
    linedefined = r.varint()
    r.varint()  # lastlinedefined
    r.byte()  # numparams
    flag = r.byte()
    r.byte()  # maxstacksize
    ncode = r.varint()
    r.align(4)
    r.take(4 * ncode)
    for _ in range(r.varint()):  # constants
        tag = r.byte()
        if tag == _FLOAT:
            r.take(8)
        elif tag == _INT:
            r.varint()
        elif tag in (_SHORT_STR, _LONG_STR):
            r.skip_string()
        elif tag not in _NO_PAYLOAD:
            raise BytecodeFormatError(f"unknown constant tag {tag:#x} at byte {r.pos - 1}")
    r.take(3 * r.varint())  # upvalue descriptions
    for _ in range(r.varint()):  # nested prototypes
        _read_function(r, tally)
    r.skip_string()  # source name
    nlines = r.varint()
    deltas = struct.unpack(f"{nlines}b", r.take(nlines))
    nabs = r.varint()
    absolute: dict[int, int] = {}
    if nabs:
        r.align(4)
        pairs = struct.unpack(f"<{2 * nabs}i", r.take(8 * nabs))
        absolute = dict(zip(pairs[0::2], pairs[1::2], strict=True))
    for _ in range(r.varint()):  # local variable names and ranges
        r.skip_string()
        r.varint()
        r.varint()
    for _ in range(r.varint()):  # upvalue names
        r.skip_string()
    if nlines == 0:
        return  # stripped: no lines to report
    if nlines != ncode:
        raise BytecodeFormatError(f"{nlines} line entries for {ncode} instructions")
    line = linedefined
    for pc, delta in enumerate(deltas):
        line = absolute[pc] if delta == _ABSLINEINFO else line + delta
        if pc == 0 and flag & _VARARG:
            continue  # the vararg set-up fires no line event
        tally.instructions[line] += 1
        if pc == ncode - 1:
            tally.final_returns[line] += 1


def executable_lines(code: bytes) -> frozenset[int]:
    """The lines a line hook can report for a chunk, from its `string.dump` image (not stripped)."""
    r = _Reader(code)
    if r.take(len(_SIGNATURE)) != _SIGNATURE:
        raise BytecodeFormatError("not Lua 5.5 bytecode")
    r.take(6)  # conversion check bytes
    for _ in range(4):  # sizes and check values of int, Instruction, lua_Integer, lua_Number
        r.take(r.byte())
    r.byte()  # the main function's upvalue count
    tally = _Tally()
    _read_function(r, tally)
    if r.pos != len(code):
        raise BytecodeFormatError(f"{len(code) - r.pos} bytes left after the main function")
    return frozenset(
        line for line, n in tally.instructions.items() if line > 0 and n > tally.final_returns[line]
    )


@lru_cache(maxsize=1024)
def _source_lines(text: str, chunkname: str) -> frozenset[int]:
    chunk = compile_source(text, chunkname)
    return executable_lines(bytecode(chunk.lua.encode(), "@" + chunkname))


def source_lines(path: Path | str, chunkname: str | None = None) -> frozenset[int]:
    """Executable lines of a Lua source file (typed Lua included). A file that does not compile has
    none (its error shows where the tests load it)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        return _source_lines(text, chunkname or Path(path).name)
    except CompileError:
        return frozenset()
