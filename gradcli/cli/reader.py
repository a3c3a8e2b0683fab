"""Reading batch input as a stream of records, in chunks that close early when the
producer is slow (so answers flow while input is still being written).

JSON Lines (blank lines are not records; a record's default id is its line number)
or one JSON array (default id: position, from 1), read incrementally either way.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import select

from ..errors import InputError

READ_SIZE = 1 << 16
_BOM = b"\xef\xbb\xbf"


class _Source:
    """Bytes from a file descriptor (or any binary stream), with 'is more waiting?'."""

    def __init__(self, stream):
        try:
            self.fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.partial: list = []          # the unfinished line, in pieces

    def waiting(self) -> bool:
        """True when reading would not block (an unfinished line in the buffer does not
        count: more of it may be a while coming)."""
        if self.eof or self.fd is None:
            return True
        try:
            return bool(select.select([self.fd], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def _read(self) -> bytes:
        data = os.read(self.fd, READ_SIZE) if self.fd is not None else \
            self.stream.read(READ_SIZE)
        if not data:
            self.eof = True
        return data

    def fill(self) -> bool:
        data = self._read()
        if not data:
            return False
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def lines(self):
        """The lines one read completes, without their newlines ([] when it ends inside
        a line: the caller may answer what it has before reading on), and at the end
        of input the unfinished last line; None when nothing is left.  A long line is
        gathered in pieces (linear time, whatever its length)."""
        if self.pos < len(self.buf):             # what first_byte read ahead
            data = self.buf[self.pos:]
            self.buf, self.pos = b"", 0
        else:
            data = self._read()
        if not data:
            tail = b"".join(self.partial)
            self.partial = []
            return [tail] if tail else None
        end = data.rfind(b"\n")
        if end < 0:
            self.partial.append(data)
            return []
        self.partial.append(data[:end])
        block = b"".join(self.partial)
        self.partial = [data[end + 1:]]
        return block.split(b"\n")

    def first_byte(self) -> bytes:
        """The first byte that is not blank space (b"" if there is none), read ahead
        without consuming anything."""
        if not self.buf and self.fill() and self.buf.startswith(_BOM):
            self.pos = len(_BOM)          # a UTF-8 byte order mark starts the input: skip it
        while True:
            rest = self.buf[self.pos:].lstrip()
            if rest:
                return rest[:1]
            if not self.fill():
                return b""

    def rest_text(self, decoder) -> str:
        text = decoder.decode(self.buf[self.pos:])
        self.pos = len(self.buf)
        return text


def _json_error(exc: Exception, line: int, text: bytes = b"", lead: int = 0) -> InputError:
    """An InputError for a record that is not JSON; ``text`` is the line as read and
    ``lead`` the blank bytes stripped before decoding (msgspec counts bytes from there;
    the column counts characters of the whole line)."""
    col = getattr(exc, "colno", None)
    msg = getattr(exc, "msg", str(exc))
    found = re.search(r"\(byte (\d+)\)", msg)       # msgspec: "... (byte 4)"
    if found:
        offset = lead + int(found.group(1))
        col = len(text[:offset].decode("utf-8", "replace")) + 1 if text else offset + 1
        msg = msg[:found.start()].strip()
    if isinstance(exc, UnicodeDecodeError):
        col = len(text[:lead + exc.start].decode("utf-8", "replace")) + 1 if text else None
        msg = "the input is not UTF-8 text"
    msg = msg.replace("JSON is malformed: ", "")
    if col is None and text and "truncated" in msg:       # the line ends too soon
        col = len(text.rstrip().decode("utf-8", "replace")) + 1
    return InputError(f"not valid JSON: {msg}", line=line, column=col)


def _decoder():
    """msgspec's JSON decoder: 0.7 us a record against stdlib json's 4.4 us (measured,
    30 000 records); both reject what is not strict JSON."""
    import msgspec
    decode = msgspec.json.Decoder().decode
    errors = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)
    return decode, errors


def read_records(stream, chunk_size: int):
    """Yield lists of (default id, record): a QuickRecord for the common plain record,
    else the decoded JSON value, or an InputError for a line that is not JSON."""
    source = _Source(stream)
    if source.first_byte() == b"[":        # one JSON array (never a line at a time: it
        yield from _read_array(source, chunk_size)      # may be the whole input)
        return
    decode = _Decoders()
    lineno = 0
    numbers: list = []                     # line numbers of the waiting lines
    waiting: list = []                     # lines read, not yet answered
    while True:
        block = source.lines()
        if block is None:
            break
        for line in block:
            lineno += 1
            if line.strip():
                numbers.append(lineno)
                waiting.append(line)
        while len(waiting) >= chunk_size or (waiting and not source.waiting()):
            yield decode(numbers[:chunk_size], waiting[:chunk_size])
            del numbers[:chunk_size], waiting[:chunk_size]
    if waiting:
        for start in range(0, len(waiting), chunk_size):
            yield decode(numbers[start:start + chunk_size], waiting[start:start + chunk_size])


class _Decoders:
    """Records from lines: QuickRecords when every line of the chunk is one (the common
    case: msgspec validates each in C, 0.5 us), else line by line, a QuickRecord, or
    any JSON value, or the InputError of a line that is not JSON."""

    def __init__(self):
        from .records import quick_decoder
        self.quick, self.quick_errors = quick_decoder()
        self.any, self.errors = _decoder()

    def __call__(self, numbers: list, lines: list) -> list:
        decode = self.quick.decode              # each line alone: one value per line
        try:
            return list(zip(numbers, [decode(line) for line in lines]))
        except (*self.quick_errors, RecursionError):
            return [(n, self.one(n, line)) for n, line in zip(numbers, lines)]

    def one(self, lineno: int, line: bytes):
        stripped = line.strip()
        try:
            return self.quick.decode(stripped)
        except self.quick_errors:
            pass
        except RecursionError:
            return InputError("record nested too deeply", line=lineno)
        try:
            return self.any(stripped)
        except self.errors as exc:
            lead = len(line) - len(line.lstrip())
            return _json_error(exc, lineno, line, lead)
        except RecursionError:
            return InputError("record nested too deeply", line=lineno)


def _quick_converter():
    """A decoded object as a QuickRecord when it is one (as JSON Lines are decoded),
    else as it is (msgspec validates in 0.4 us)."""
    import msgspec

    from .records import QuickRecord
    convert, invalid = msgspec.convert, msgspec.ValidationError

    def quick(value):
        if type(value) is dict:
            try:
                return convert(value, QuickRecord)
            except invalid:
                pass
        return value
    return quick


class _NotStrict(ValueError):
    """Valid to Python's json, not to strict JSON (and no more input can mend it)."""


def _bare_constant(name: str):
    raise _NotStrict(f"{name} is not strict JSON (write the string \"{name}\")")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):      # 1e400: as msgspec says for JSON Lines
        raise _NotStrict("Number out of range")
    return value


def _truncated(exc: ValueError, text: str) -> bool:
    """Could this decoding error be a value cut off by the end of what was read so far
    (rather than a malformed one, which more input cannot mend)?"""
    if isinstance(exc, _NotStrict):
        return False
    pos = getattr(exc, "pos", None)
    msg = getattr(exc, "msg", "")
    return pos is None or msg.startswith("Unterminated string") or len(text) - pos <= 8


_NOT_UTF8 = re.compile("[\udc80-\udcff]")     # what surrogateescape makes of a bad byte
_SEPARATOR = re.compile(r"[ \t\r\n]*,[ \t\r\n]*")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{},]')


def _element_end(text: str, pos: int):
    """Where the array element starting at ``pos`` ends: the index of the ',' or ']'
    after it at its own nesting level (strings skipped whole), or None if the text
    ends first.  For stepping over a malformed element; brackets need not match."""
    depth = 0
    for match in _TOKENS.finditer(text, pos):
        token = match.group()
        if token[0] == '"':
            if len(token) < 2 or token[-1] != '"':
                return None                          # a string the text cuts off
        elif token in "[{":
            depth += 1
        elif token in "]}":
            if depth == 0:
                return match.start()
            depth -= 1
        elif depth == 0:                             # a ',' between elements
            return match.start()
    return None


def _lone_surrogate(value) -> bool:
    """Does a decoded value hold a surrogate code point (JSON Lines' decoder refuses
    them, and no output could encode them)?"""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_array(source: _Source, chunk_size: int):
    """Records of one JSON array, decoded element by element as input arrives."""
    decoder = json.JSONDecoder(parse_constant=_bare_constant,      # strict: no bare NaN
                               parse_float=_finite_float)          # nor 1e400
    scan = decoder.scan_once
    separator = _SEPARATOR.match
    quick = _quick_converter()
    utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")   # bad bytes: see below
    index, chunk = 0, []
    expect_value = True                 # after '[' or ',': a value (or ']' if empty)

    def problem(message: str) -> None:
        chunk.append((index + 1, InputError(message, line=index + 1)))

    text = source.rest_text(utf8)
    pos = text.index("[") + 1
    not_utf8 = _NOT_UTF8.search(text) is not None    # then look for it in each record

    def more() -> bool:
        nonlocal text, pos, not_utf8
        if source.eof or not source.fill():
            return False
        text = text[pos:] + source.rest_text(utf8)
        pos = 0
        not_utf8 = _NOT_UTF8.search(text) is not None
        return True

    def skip_element() -> bool:
        """Step over a malformed record to the ',' or ']' that ends it (False if the
        input ends first)."""
        nonlocal pos, expect_value
        while True:
            stop = _element_end(text, pos)
            if stop is not None:
                pos, expect_value = stop, False
                return True
            if not more():
                return False

    def skip_blank() -> None:
        nonlocal pos
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos < len(text) or not more():
                return

    while True:
        if pos >= len(text) or text[pos] in " \t\r\n":
            skip_blank()
            if pos >= len(text):
                problem("the JSON array is not closed with ']'")
                break
        c = text[pos]
        if c == "]" and (index == 0 or not expect_value):
            pos += 1
            skip_blank()
            if pos < len(text):         # JSON Lines after an array, a second array...
                problem("not valid JSON: unexpected data after the closing ']' of the "
                        "array (give one JSON array, or JSON Lines)")
            break
        if not expect_value:
            if c != ",":
                problem(f"not valid JSON: expected ',' or ']' between records, "
                        f"found {c!r}")
                index += 1
                if not skip_element():           # that record is lost, not the rest
                    break
                continue
            pos += 1
            expect_value = True
            continue
        try:
            try:
                value, end = scan(text, pos)          # what decoder.raw_decode does
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
        except RecursionError:
            problem("record nested too deeply")
            break
        except ValueError as exc:
            if _truncated(exc, text):
                if chunk and not source.waiting():     # answer these before waiting
                    yield chunk
                    chunk = []
                if more():
                    continue
            chunk.append((index + 1, _json_error(exc, index + 1)))
            index += 1
            if not skip_element():               # that record is lost, not the rest
                break
            continue
        if end == len(text) and text[end - 1] in "0123456789":
            if chunk and not source.waiting():
                yield chunk
                chunk = []
            if more():
                continue                         # a number may go on in the next read
        index += 1
        if not_utf8 and _NOT_UTF8.search(text, pos, end):   # bytes that are not UTF-8
            value = InputError("not valid JSON: the input is not UTF-8 text", line=index)
        elif _SURROGATE_ESCAPE.search(text, pos, end) and _lone_surrogate(value):
            value = InputError("not valid JSON: a string holds a lone UTF-16 surrogate "
                               "(\\ud800-\\udfff escape without its pair)", line=index)
        chunk.append((index, quick(value)))
        pos = end
        expect_value = False
        comma = separator(text, pos)
        if comma is not None and comma.end() < len(text):    # the next record is here
            pos = comma.end()
            expect_value = True
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
            continue
        if len(chunk) >= chunk_size or not source.waiting():
            yield chunk
            chunk = []
    if chunk:
        yield chunk
