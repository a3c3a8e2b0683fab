"""The elements of one JSON array, found in a byte stream in linear time, each on its own.

Each element is cut out and decoded alone (as a line of JSON Lines is), so it costs
only its own length, however long the array.  A record (an object) is first tried
whole: up to the first '}' that balances the '{' before it, decoded by msgspec; a JSON
object is self-delimiting, so if that decodes, it is the element.  Any other element
is walked token by token, jumping between brackets, quotes, commas and colons, with a
stack of the brackets it has open.  The walk is resumable, so an element that arrives
in pieces is scanned once, not once per piece.

A malformed element is that record's error and the walk finds where it ends as a
person would: a closing bracket that does not match closes the brackets left open
inside it, one that matches nothing is dropped; an object that sees a bracket where
a key should be was never closed, so the element ends before that key's comma; a
string ends at the end of its line; nesting past ``MAX_DEPTH`` is counted, not kept;
an element past the size limit is dropped as it arrives.  The elements after it are
found as if it were not there.
"""

from __future__ import annotations

import re

from ..errors import InputError
from .reader import too_large

MAX_DEPTH = 512
COMPACT = 1 << 20                  # drop consumed bytes once this many have piled up

_BLANK = re.compile(rb"[ \t\r\n]*")
_IN_OBJECT = re.compile(rb'["{}\[\],:]')
_IN_ARRAY = re.compile(rb'["{}\[\]:]')
_BRACKETS = re.compile(rb"[\[ \t\r\n]*")
_RESUME = re.compile(rb"[,{]")
_AT_TOP = re.compile(rb'[,\]"\[{}]')
_STRING = re.compile(rb'[^"\\\n]*(?:\\.[^"\\\n]*)*')
_OPEN = {ord("{"): ord("}"), ord("["): ord("]")}
_CLOSE = {ord("}"): ord("{"), ord("]"): ord("[")}
QUOTE, COMMA, COLON, LBRACE = ord('"'), ord(","), ord(":"), ord("{")


class _Walk:
    """The token-by-token walk of one element (resumable across reads)."""

    __slots__ = ("stack", "keys", "commas", "deep", "in_string", "opened", "bad",
                 "line_break")

    def __init__(self, bad=None):
        self.stack: list = []       # open brackets, up to MAX_DEPTH
        self.keys: list = []        # per level: an object expecting a key next
        self.commas: list = []      # per level: where its last comma is
        self.deep: list = []        # open past MAX_DEPTH: [bracket, how many] runs
        self.in_string = False
        self.opened = False         # the element is (or holds) a bracketed value
        self.bad = bad              # why it is malformed (known so far), or None
        self.line_break = False     # it ended at a line break inside a string

    def flaw(self, reason: str) -> None:
        if self.bad is None:
            self.bad = reason

    def top(self):
        return self.deep[-1][0] if self.deep else self.stack[-1] if self.stack else None

    def walk(self, buf, i: int, eof: bool) -> tuple:
        """Advance from ``i``: (True, end) when the element ends at ``end``
        (exclusive), (False, where to go on) when it needs more input."""
        n = len(buf)
        while True:
            if self.in_string:
                j = _STRING.match(buf, i).end()
                if j >= n or (buf[j] == 0x5C and j + 1 >= n):      # more to come
                    if eof:
                        self.flaw("a string is not closed")
                        return True, n
                    return False, j
                self.in_string = False
                if buf[j] != QUOTE:
                    # a raw line break (valid JSON has none in a string): the element
                    # was cut off here, and the next line starts afresh
                    self.flaw("a string is not closed before the end of its line")
                    self.line_break = True
                    return True, j
                i = j + 1
                continue
            top = self.top()
            if top is None:
                if self.opened:
                    return True, i
                found = _AT_TOP.search(buf, i)
            else:
                found = (_IN_OBJECT if top == LBRACE else _IN_ARRAY).search(buf, i)
            if found is None:
                if eof:
                    if top is not None:
                        self.flaw(f"'{chr(top)}' is not closed")
                    return True, n
                return False, n
            j = found.start()
            c = buf[j]
            i = j + 1
            if c == QUOTE:
                if top == LBRACE and not self.deep:
                    self.keys[-1] = False
                self.in_string = True
            elif top is None and c in (COMMA, 0x5D):           # , or ] after a scalar
                return True, j
            elif c in _OPEN:
                end = self.open(c)
                if end is not None:
                    return True, end
            elif c in _CLOSE:
                if self.close(c) and self.top() is None:
                    return True, i
            elif c == COMMA:                           # inside an object
                if not self.deep:
                    self.keys[-1] = True
                    self.commas[-1] = j
            elif top != LBRACE:                        # a colon in "[1, 2, "k": ...":
                self.flaw("'[' is not closed")         # that '[' was never closed
                self.drop()
                i = j

    def open(self, c: int):
        """A bracket opens; returns where the element ends instead, when the bracket
        stands where a key should (the record's object was never closed)."""
        self.opened = True
        if self.deep or len(self.stack) >= MAX_DEPTH:
            if self.deep and self.deep[-1][0] == c:
                self.deep[-1][1] += 1
            else:
                self.deep.append([c, 1])
            return None
        if self.stack and self.stack[-1] == LBRACE and self.keys[-1]:
            if len(self.stack) == 1 and self.commas[-1] is not None:
                self.flaw("'{' is not closed")
                return self.commas[-1]
            self.flaw(f"'{chr(c)}' where a key should be")
        self.stack.append(c)
        self.keys.append(c == LBRACE)
        self.commas.append(None)
        return None

    def close(self, c: int) -> bool:
        """A bracket closes what it matches, and what is open inside that; False when
        it matches nothing open (then it is dropped)."""
        want = _CLOSE[c]
        if want not in self.stack and all(run[0] != want for run in self.deep):
            self.flaw(f"a stray '{chr(c)}'")
            return False
        while self.top() != want:
            self.flaw(f"'{chr(self.top())}' is not closed")
            self.drop(everything=True)
        self.drop()
        if not self.deep and self.stack and self.stack[-1] == LBRACE:
            self.keys[-1] = False
        return True

    def drop(self, everything: bool = False) -> None:
        """Close the innermost bracket (with ``everything``, its whole run of the same
        bracket past MAX_DEPTH)."""
        if self.deep:
            if everything or self.deep[-1][1] == 1:
                self.deep.pop()
            else:
                self.deep[-1][1] -= 1
            return
        self.stack.pop()
        self.keys.pop()
        self.commas.pop()


class _Reader:
    """The state of reading one array: the unconsumed bytes and where we are."""

    def __init__(self, source, limit: int, decoders):
        self.source = source
        self.limit = limit
        self.decoders = decoders
        self.buf = bytearray()
        self.pos = 0
        self.eof = False
        self.index = 0               # elements found so far (positions count from 1)
        self.one_by_one = -1         # up to here, elements are decoded one at a time
        self.line_break = False      # the last element ended at a broken string's line

    def fill(self):
        """Read more (yielding None first when the producer is pausing, so that what
        has been found is answered before this read blocks)."""
        if not self.source.waiting():
            yield None
        data = self.source.read()
        if not data:
            self.eof = True
            return
        self.buf += data

    def compact(self) -> None:
        """Drop the bytes before pos once enough have piled up (amortised linear)."""
        if self.pos > COMPACT and self.pos * 2 > len(self.buf):
            del self.buf[:self.pos]
            self.one_by_one -= self.pos
            self.pos = 0

    def run(self):
        """The records from pos up to the last complete '}' in the buffer decoded in one
        call, when that run is a sequence of well-formed objects (the common case:
        then an element costs what a line of JSON Lines costs); None otherwise."""
        buf, pos = self.buf, self.pos
        end = buf.rfind(b"}", pos)
        for _ in range(4):                 # the last '}' before a ',' or a ']'
            if end <= pos:
                return None
            after = _BLANK.match(buf, end + 1).end()
            if after < len(buf) and buf[after] in (COMMA, 0x5D):
                break
            end = buf.rfind(b"}", pos, end)
        else:
            return None
        if end + 1 - pos > self.limit:
            return None
        values = self.decoders.run(b"[" + bytes(buf[pos:end + 1]) + b"]")
        if values is None:
            self.one_by_one = end + 1        # not well-formed: element by element
            return None
        self.pos = end + 1
        first = self.index + 1
        self.index += len(values)
        return list(zip(range(first, self.index + 1), values))

    def whole(self, start: int) -> tuple:
        """(decoded value, end) of the object at ``start`` when the bytes up to the
        first '}' that balances the '{' before it decode; (None, None) otherwise."""
        buf, depth, i = self.buf, 0, start
        while True:
            end = buf.find(b"}", i)
            if end < 0 or end - start >= self.limit:
                return None, None
            depth += buf.count(b"{", i, end) - 1
            i = end + 1
            if depth <= 0:
                break
        text = bytes(buf[start:i])
        decoders = self.decoders
        for decode in (decoders.quick.decode, decoders.any):
            try:
                return decode(text), i
            except decoders.all_errors:
                continue
        return None, None

    def blank(self) -> int:
        """The position of the next byte that is not blank (len(buf) if none yet)."""
        self.pos = _BLANK.match(self.buf, self.pos).end()
        return self.pos

    def problem(self, message: str):
        self.index += 1
        return self.index, InputError(message, line=self.index)

    def element(self, walk: _Walk | None = None):
        """Find the element at pos: yields None while waiting, then (index, decoded
        value, or bytes to decode, or InputError)."""
        start = self.pos
        if walk is None:
            if self.buf[start] == LBRACE:
                value, end = self.whole(start)
                if end is not None:
                    self.pos = end
                    self.index += 1
                    yield self.index, value
                    return
            walk = _Walk()
        i, dropped = start, False
        while True:
            done, i = walk.walk(self.buf, i, self.eof)
            if done:
                break
            if i - start > self.limit:           # too large: keep walking, drop bytes
                dropped = True
                del self.buf[:i]
                start = self.pos = i = 0
            yield from self.fill()
        self.pos = i
        self.index += 1
        self.line_break = walk.line_break
        if dropped or i - start > self.limit:
            yield self.index, InputError(too_large(f"element {self.index}", self.limit),
                                         line=self.index)
        elif walk.bad is not None:
            yield self.index, InputError(f"not valid JSON: {walk.bad}", line=self.index)
        else:
            yield self.index, bytes(self.buf[start:i])


def elements(source, limit: int, decoders):
    """(position, element: decoded, or bytes to decode, or InputError) for each element
    of the array the input holds, and None each time the input pauses."""
    reader = _Reader(source, limit, decoders)
    while not reader.buf and not reader.eof:
        yield from reader.fill()
    start = reader.buf.index(b"[")
    reader.pos = start + 1
    state = "value"                          # value | after | junk | end
    closed = False                           # a ']' was seen (later taken as stray)
    while True:
        reader.compact()
        j = reader.blank()
        if j >= len(reader.buf):
            if reader.eof:
                if state not in ("end", "junk") and not closed:
                    yield reader.problem("the JSON array is not closed with ']'")
                return
            yield from reader.fill()
            continue
        c = reader.buf[j]
        if state == "value":
            if c == 0x5D:                                              # ]
                reader.pos += 1
                if reader.index:                                       # "[..., ]"
                    yield reader.problem("not valid JSON: a ',' with no record after it")
                state = "end"
                continue
            if c == 0x5B:                          # [: a record is an object, so
                k = _BRACKETS.match(reader.buf, j).end()     # '['s before one are stray
                if k >= len(reader.buf) and not reader.eof:
                    yield from reader.fill()
                    continue
                if k < len(reader.buf) and reader.buf[k] == LBRACE:
                    reader.pos = k
                    yield reader.problem("not valid JSON: a stray '[' before a record")
                    reader.one_by_one = -1
                    continue
            if c == LBRACE and reader.pos >= reader.one_by_one:
                found = reader.run()
                if found:
                    yield from found
                    state = "after"
                    continue
            reader.line_break = False
            yield from reader.element()
            # after a string broken by a line's end, the next line starts a new record
            state = "value" if reader.line_break else "after"
        elif state == "after":
            if c == COMMA:
                reader.pos += 1
                state = "value"
            elif c == 0x5D:
                reader.pos += 1
                state = "end"
            elif c == LBRACE:                      # a missing comma: that record is lost
                reader.line_break = False
                yield from reader.element(_Walk("expected ',' or ']' between records, "
                                                "found '{'"))
                if reader.line_break:
                    state = "value"
            else:                       # stray bytes: skipped, up to a ',' or a '{'
                yield reader.problem("not valid JSON: expected ',' or ']' between "
                                     f"records, found {chr(c)!r}")
                state = "junk"
        elif state == "junk":
            found = _RESUME.search(reader.buf, j)
            if found is None:
                reader.pos = len(reader.buf)
            else:
                reader.pos = found.start()
                state = "after" if reader.buf[reader.pos] == COMMA else "value"
        else:           # more after the closing ']': read on as if that ']' were stray
            yield reader.problem("not valid JSON: unexpected data after the closing ']' "
                                 "of the array (give one JSON array, or JSON Lines); the "
                                 "records after it are read as if it were not there")
            closed = True
            if c == COMMA:
                reader.pos += 1
            state = "value" if c in (COMMA, LBRACE) else "junk"
