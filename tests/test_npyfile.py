""".npy files are read by gradcli's own strict header parser: every plain array numpy
writes loads exactly as numpy.load loads it, Python's parser never sees the header, and
a header that is anything else is a clear error, never a crash or an allocation the
file does not back."""

from __future__ import annotations

import ast
import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcli.cli.npyfile import MAX_HEADER, NpyError, read_array

DTYPES = ["<f8", ">f8", "<f4", ">f4", "<f2", "|b1", "|i1", "<i2", ">i4", "<i8", "|u1",
          "<u2", ">u4", "<u8", "<c16", "<U3", "|S2"]


def _npy(array, version=None) -> io.BytesIO:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version, allow_pickle=False)
    out.seek(0)
    return out


def _raw(header: str, data: bytes = b"", version: int = 1) -> io.BytesIO:
    text = header.encode("latin-1")
    size = struct.pack("<H" if version == 1 else "<I", len(text))
    return io.BytesIO(b"\x93NUMPY" + bytes([version, 0]) + size + text + data)


@settings(max_examples=150, deadline=None)
@given(dtype=st.sampled_from(DTYPES),
       shape=st.lists(st.integers(0, 5), max_size=4).map(tuple),
       fortran=st.booleans(), version=st.sampled_from([None, (1, 0), (2, 0), (3, 0)]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_every_plain_array_loads_as_numpy_loads_it(dtype, shape, fortran, version, seed):
    rng = np.random.default_rng(seed)
    array = (rng.standard_normal(shape) * 100).astype(np.dtype(dtype))
    if fortran:
        array = np.asfortranarray(array)
    expected = np.load(_npy(array, version), allow_pickle=False)

    def never(*args, **kwargs):
        raise AssertionError("the header reached Python's parser")

    written = _npy(array, version)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ast, "literal_eval", never)
        got = read_array(written)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("header, data, message", [
    ("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"x" * 8, "Python objects"),
    ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", b"", "not the dict"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", b"", "not the dict"),
    ("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", b"",
     "not the dict"),
    ("{'descr': '<f8', 'fortran_order': False}", b"", "has no shape"),
    ("{'descr': '<f8', 'fortran_order': 'True', 'shape': (1,)}", b"", "neither True"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': ((1, 2),)}", b"", "not the dict"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (1 2,)}", b"", "not a tuple"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (,)}", b"", "not a tuple"),
    ("{'descr': __import__('os'), 'fortran_order': False, 'shape': ()}", b"", "not the dict"),
    ("{'descr': 'x9', 'fortran_order': False, 'shape': ()}", b"", "not a dtype"),
    ("['descr', '<f8']", b"", "not a dict"),
    # a shape the file does not hold: refused before anything is allocated
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }", b"\0" * 16,
     "more than the 16 bytes"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", b"\0" * 16,
     "more than the 16 bytes"),
])
def test_any_other_header_is_refused_with_the_reason(header, data, message):
    with pytest.raises(NpyError, match=message):
        read_array(_raw(header, data))


@pytest.mark.parametrize("content, message", [
    (b"", "ends inside its header"),
    (b"\x93NUMPY\x01", "ends inside its header"),
    (b"\x93NUMPY\x01\x00\x50\x00{'descr'", "ends inside its header"),
    (b"PK\x03\x04 a zip file", "not a .npy file"),
    (b"\x93NUMPY\x04\x00\x10\x00" + b" " * 16, "version 4.0"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<I", MAX_HEADER + 1), "the limit is"),
])
def test_a_file_that_is_not_a_whole_npy_file_is_refused(content, message):
    with pytest.raises(NpyError, match=message):
        read_array(io.BytesIO(content))


def test_a_file_cut_short_inside_its_data_is_refused():
    whole = _npy(np.arange(10.0)).getvalue()
    with pytest.raises(NpyError, match="more than the"):
        read_array(io.BytesIO(whole[:-8]))


def test_the_loaded_array_is_writeable_and_owns_its_memory():
    array = read_array(_npy(np.arange(6.0).reshape(2, 3)))
    assert array.flags.writeable and array.flags.c_contiguous
    array[0, 0] = 7.0                       # (the CLI hands it to the engine uncopied)
