"""Reading a .npy file's header with a strict parser of its own.

numpy's reader hands the header -- text from the user's file -- to ``ast.literal_eval``;
gradcli never gives user text to Python's parser.  The header of every array gradcli
can use is a dict of three entries (NEP 1's format), parsed here by regular
expressions: ``descr`` a plain dtype string, ``fortran_order`` True or False, ``shape`` a
tuple of integers.  Anything else (structured dtypes, Python objects) is refused.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple, Optional

MAGIC = b"\x93NUMPY"
MAX_HEADER = 10_000              # numpy's own default limit on a header's length
_VALUE = r"'[^'\\]*'|True|False|\([0-9,\s]*\)"
_ENTRY = re.compile(rf"\s*'(descr|fortran_order|shape)'\s*:\s*({_VALUE})\s*(?:,|\Z)")
_DESCR = re.compile(r"'([<>|=]?[a-zA-Z]\d*)'\Z")
_SHAPE = re.compile(r"\(\s*(?:\d+\s*,\s*)*(?:\d+\s*)?\)\Z")


class NpyError(ValueError):
    """The file is not a .npy file gradcli reads (the message says why)."""


class Header(NamedTuple):
    descr: str                   # a plain dtype string: '<f8', '|b1', ...
    fortran_order: bool
    shape: tuple
    offset: int                  # where the data starts

    @property
    def count(self) -> int:
        """The number of elements the shape says."""
        count = 1
        for n in self.shape:
            count *= n
        return count

    def dtype(self):
        """The numpy dtype of ``descr``; never one that holds Python objects."""
        import numpy as np
        try:
            dtype = np.dtype(self.descr)
        except TypeError:
            raise NpyError(f"descr '{self.descr}' is not a dtype") from None
        if dtype.hasobject:
            raise NpyError("it holds Python objects (pickles are never loaded: "
                           "allow_pickle=False)")
        return dtype


def header_end(data: bytes) -> Optional[int]:
    """Where the header starting ``data`` ends (None: ``data`` is too short to say)."""
    if len(data) < 8:
        return None
    if data[:6] != MAGIC:
        raise NpyError("not a .npy file (no \\x93NUMPY at its start)")
    major = data[6]
    if major not in (1, 2, 3):
        raise NpyError(f"unknown .npy format version {major}.{data[7]}")
    size_bytes = 2 if major == 1 else 4
    if len(data) < 8 + size_bytes:
        return None
    length = struct.unpack("<H" if major == 1 else "<I", data[8:8 + size_bytes])[0]
    if length > MAX_HEADER:
        raise NpyError(f"a header of {length} bytes (the limit is {MAX_HEADER})")
    return 8 + size_bytes + length


def parse_header(data: bytes) -> Optional[Header]:
    """The header at the start of ``data``; None if ``data`` ends before it does."""
    end = header_end(data)
    if end is None or len(data) < end:
        return None
    start = 10 if data[6] == 1 else 12
    try:
        text = data[start:end].decode("utf-8" if data[6] == 3 else "latin-1")
    except UnicodeDecodeError:
        raise NpyError("the header is not text") from None
    return Header(*_entries(text.rstrip()), offset=end)


def _entries(text: str) -> tuple:
    if not (text.startswith("{") and text.endswith("}")):
        raise NpyError("the header is not a dict")
    inner, found, at = text[1:-1], {}, 0
    while inner[at:].strip():
        entry = _ENTRY.match(inner, at)
        if entry is None or entry.group(1) in found:
            raise NpyError("the header is not the dict of descr, fortran_order and shape "
                           "that numpy writes")
        found[entry.group(1)] = entry.group(2)
        at = entry.end()
    missing = {"descr", "fortran_order", "shape"} - set(found)
    if missing:
        raise NpyError(f"the header has no {', '.join(sorted(missing))}")
    descr = _DESCR.match(found["descr"])
    if descr is None:
        raise NpyError(f"descr {found['descr'][:40]} is not a plain dtype")
    if found["fortran_order"] not in ("True", "False"):
        raise NpyError("fortran_order is neither True nor False")
    if not _SHAPE.match(found["shape"]):
        raise NpyError(f"shape {found['shape'][:40]} is not a tuple of integers")
    shape = tuple(int(n) for n in found["shape"].strip("()").split(",") if n.strip())
    return descr.group(1), found["fortran_order"] == "True", shape


def read_array(fh):
    """The array in the open binary file ``fh`` (a .npy file from its start); raises
    NpyError for anything but a plain array whose data is all there."""
    import numpy as np
    data = fh.read(8)
    header_end(data)                          # (the magic and the version, checked)
    data += fh.read(2 if data[6:7] == b"\x01" else 4)
    end = header_end(data)
    header = None if end is None else parse_header(data + fh.read(end - len(data)))
    if header is None:
        raise NpyError("the file ends inside its header")
    dtype, count = header.dtype(), header.count
    here = fh.tell()
    available = fh.seek(0, 2) - here
    fh.seek(here)
    if count * dtype.itemsize > available:
        raise NpyError(f"its header says {count} elements of {dtype}, more than the "
                       f"{available} bytes after it hold")
    array = np.empty(count, dtype)
    target, done = array.view(np.uint8), 0
    while done < target.size:
        got = fh.readinto(target[done:])
        if not got:
            raise NpyError("the file ends before its data does")
        done += got
    if header.fortran_order:
        return array.reshape(header.shape[::-1]).T
    return array.reshape(header.shape)
