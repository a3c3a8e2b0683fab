"""Reading batch input as a stream of records, in chunks that close early when the
producer is slow (so answers flow while input is still being read).

JSON Lines (blank lines are not records; a record's default id is its line number)
or one JSON array (default id: position, from 1).  Either way the input is cut into
records as bytes first (:mod:`.arrays` finds the elements of an array, in linear
time), then each record is decoded alone by msgspec, so that an array element and a
line holding the same text give the same answer.  A record may be at most
``RECORD_LIMIT`` bytes: past that its bytes are dropped as they arrive and it becomes
that record's error; memory stays bounded whatever the input.
"""

from __future__ import annotations

import json
import os
import re
import select

from ..errors import InputError

READ_SIZE = 1 << 16
RECORD_LIMIT = 64 << 20       # bytes in one record: a line, or an element of an array
_BOM = b"\xef\xbb\xbf"


def too_large(where: str, limit: int) -> str:
    return (f"the record is larger than {limit >> 20} MiB, the limit of one batch record "
            f"({where}); bind large tensors from .npy files with 'gradcli grad --NAME @FILE'")


class Source:
    """Bytes from a file descriptor (or any binary stream), with 'is more waiting?'."""

    def __init__(self, stream):
        try:
            self.fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.stream = stream
        self.ahead = b""                  # read by first_byte(), not yet consumed
        self.eof = False

    def waiting(self) -> bool:
        """True when reading would not block."""
        if self.eof or self.ahead or self.fd is None:
            return True
        try:
            return bool(select.select([self.fd], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def read(self) -> bytes:
        """The next bytes (b"" at the end of input)."""
        if self.ahead:
            data, self.ahead = self.ahead, b""
            return data
        if self.eof:
            return b""
        data = os.read(self.fd, READ_SIZE) if self.fd is not None else \
            self.stream.read(READ_SIZE)
        if not data:
            self.eof = True
        return data

    def first_byte(self, limit: int = RECORD_LIMIT) -> bytes:
        """The first byte that is not blank space (b"" if there is none within
        ``limit`` bytes), read ahead without consuming anything; a UTF-8 byte order
        mark that starts the input is dropped."""
        data = b""
        while len(data) <= limit:
            more = self.read()
            if not more:
                break
            data += more
            if len(data) < 3 and _BOM.startswith(data) and not self.eof:
                continue                          # maybe a byte order mark, cut short
            if data.startswith(_BOM):
                data = data[3:]
            rest = data.lstrip()
            if rest:
                self.ahead = data
                return rest[:1]
        self.ahead = data
        return b""


def read_records(stream, chunk_size: int, limit: int | None = None):
    """Yield lists of (default id, record): a QuickRecord for the common plain record,
    else the decoded JSON value, or an InputError for a record that is not JSON.
    ``limit``: bytes in one record (default RECORD_LIMIT)."""
    limit = RECORD_LIMIT if limit is None else limit
    source = Source(stream)
    decode = _Decoders()
    if source.first_byte() == b"[":
        from .arrays import elements
        items = elements(source, limit, decode)
        decode.columns = False           # an error's "line" is the element's position
    else:
        items = _lines(source, limit)
    batch: list = []
    for item in items:
        if item is None:                     # nothing more is waiting: answer what we have
            if batch:
                yield decode(batch)
                batch = []
            continue
        batch.append(item)
        if len(batch) >= chunk_size:
            yield decode(batch)
            batch = []
    if batch:
        yield decode(batch)


def _lines(source: Source, limit: int):
    """(line number, line bytes or InputError) for every non-blank line, and None each
    time the input pauses (nothing more waiting).  A line over the limit is dropped as
    it arrives and reported once."""
    lineno = 0
    pieces: list = []                  # the unfinished line
    size = 0
    dropping = False                   # the unfinished line is over the limit
    while True:
        data = source.read()
        if not data:
            break
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            lineno += 1
            if dropping:
                dropping = False
            else:
                pieces.append(data[start:end])
                line = b"".join(pieces) if len(pieces) > 1 else pieces[0]
                if size + end - start > limit:
                    yield lineno, InputError(too_large(f"line {lineno}", limit), line=lineno)
                elif line.strip():
                    yield lineno, line
            pieces, size = [], 0
            start = end + 1
        if not dropping and start < len(data):
            pieces.append(data[start:])
            size += len(data) - start
            if size > limit:
                yield lineno + 1, InputError(too_large(f"line {lineno + 1}", limit),
                                             line=lineno + 1)
                pieces, size, dropping = [], 0, True
        if not source.waiting():
            yield None
    if pieces and not dropping:
        line = b"".join(pieces)
        if line.strip():
            yield lineno + 1, line


_STRICT_CONSTANT = re.compile(rb"-?(?:NaN|Infinity)|nan|inf", re.IGNORECASE)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def json_error(exc: Exception, line: int, text: bytes = b"", lead: int = 0,
               column: bool = True) -> InputError:
    """An InputError for a record that is not JSON; ``text`` is the record as read and
    ``lead`` the blank bytes stripped before decoding (msgspec counts bytes from there;
    the column counts characters of the whole line)."""
    col = None
    msg = getattr(exc, "msg", str(exc))
    found = re.search(r"\(byte (\d+)\)", msg)       # msgspec: "... (byte 4)"
    offset = None
    if found:
        offset = lead + int(found.group(1))
        col = len(text[:offset].decode("utf-8", "replace")) + 1
        msg = msg[:found.start()].strip()
    msg = msg.replace("JSON is malformed: ", "")
    if isinstance(exc, UnicodeDecodeError) or "UTF-8" in msg:
        msg = "the input is not UTF-8 text"
        col = None
    elif offset is not None and _STRICT_CONSTANT.match(text, offset):
        word = _STRICT_CONSTANT.match(text, offset).group().decode()
        if offset and text[offset - 1:offset] == b"-" and not word.startswith("-"):
            word = "-" + word
        msg = f"{word} is not strict JSON (write the string \"{_spelled(word)}\")"
    elif "surrogate" in msg or (_SURROGATE_ESCAPE.search(text) and _lone_surrogate(text)):
        msg = "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff escape without its " \
              "pair)"
        col = None
    if col is None and text and "truncated" in msg:       # the record ends too soon
        col = len(text.rstrip().decode("utf-8", "replace")) + 1
    return InputError(f"not valid JSON: {msg}", line=line, column=col if column else None)


def _spelled(word: str) -> str:
    return {"nan": "NaN", "inf": "Infinity", "infinity": "Infinity"}.get(
        word.lower().lstrip("-"), word.lstrip("-")) if not word.startswith("-") else \
        "-" + _spelled(word[1:])


def _lone_surrogate(text: bytes) -> bool:
    """Does the record hold a surrogate code point without its pair?"""
    try:
        value = json.loads(text)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False
    return False


class _Decoders:
    """Records from their bytes: QuickRecords when every one of the chunk is one (the
    common case: msgspec validates each in C, 0.5 us), else one by one: a QuickRecord,
    or any JSON value, or the InputError of one that is not JSON."""

    def __init__(self):
        import msgspec

        from .records import QuickRecord, quick_decoder
        self.quick, self.quick_errors = quick_decoder()
        self.quick_type = QuickRecord
        self.quick_list = msgspec.json.Decoder(list[QuickRecord]).decode
        self.any = msgspec.json.Decoder().decode
        self.errors = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)
        self.all_errors = (*self.quick_errors, *self.errors, RecursionError)
        self.columns = True

    def run(self, text: bytes):
        """The records of a JSON array (bytes), each as :meth:`one` gives it, when the
        whole array decodes; else None."""
        import msgspec
        try:
            return self.quick_list(text)
        except self.quick_errors:
            pass
        except RecursionError:
            return None
        try:
            values = self.any(text)
        except (*self.errors, RecursionError):
            return None
        convert, invalid = msgspec.convert, msgspec.ValidationError
        out = []
        for value in values:
            if type(value) is dict:
                try:
                    value = convert(value, self.quick_type)
                except invalid:
                    pass
            out.append(value)
        return out

    def __call__(self, items: list) -> list:
        """Items of (number, bytes to decode, or a value decoded already, or an
        InputError)."""
        decode = self.quick.decode              # each alone: one value per record
        try:
            return [(n, decode(text)) for n, text in items]
        except (*self.quick_errors, RecursionError, TypeError):
            return [(n, self.one(n, text) if type(text) is bytes else text)
                    for n, text in items]

    def one(self, number: int, text: bytes):
        stripped = text.strip()
        try:
            return self.quick.decode(stripped)
        except self.quick_errors:
            pass
        except RecursionError:
            return InputError("record nested too deeply", line=number)
        try:
            return self.any(stripped)
        except self.errors as exc:
            lead = len(text) - len(text.lstrip())
            return json_error(exc, number, text, lead, self.columns)
        except RecursionError:
            return InputError("record nested too deeply", line=number)
