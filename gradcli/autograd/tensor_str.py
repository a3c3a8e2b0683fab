"""How PyTorch prints a tensor, byte for byte, for numpy arrays.

``tensor_repr`` gives what ``repr(t)`` prints for a dense CPU tensor ``t`` holding the
same values (PyTorch 2.x ``torch/_tensor_str.py``); ``format_body`` gives just the
bracketed values, for tables.  This module knows numpy arrays only, nothing of
gradcli's ``Tensor``.

The rules, as PyTorch applies them:

* Past ``threshold`` elements the tensor is summarised: along every dimension longer
  than ``2 * edgeitems`` only the first and last ``edgeitems`` entries are shown, with
  ``...`` between.  Everything below (widths, modes) is decided from the shown
  elements only, so a huge array is cut down first and never turned into Python
  objects as a whole.
* Floating tensors: from the shown nonzero finite values, *int mode* when they are all
  whole numbers (printed ``1.``, ``-3.``), *sci mode* when max/min of their magnitudes
  is over 1000, or the max is over 1e8, or the min under 1e-4 (``sci_mode`` in the
  options overrides this).  Every element is right-aligned to the widest of those
  values; nan, inf and zeros do not count towards the width (so ``-0.`` or ``nan`` can
  stick out by a column, as in PyTorch).  Values are formatted from the Python float
  of the element, so float32 ``0.3`` prints ``0.3000``.
* Integer and bool tensors print ``str`` of each element, right-aligned.
* A row wraps after ``(linewidth - indent) // (width + 2)`` elements, continuation
  lines indented under the first element; rows of a matrix are separated by one
  newline, blocks of a 3-d tensor by a blank line, and so on.
* Suffixes ``size=``, ``dtype=``, ``grad_fn=``/``requires_grad=True`` follow the body,
  on a new line when PyTorch's (slightly pessimistic) line-length estimate says they
  would pass ``linewidth``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .summary import EDGE_ITEMS, ArraySummary

__all__ = ["PrintOptions", "tensor_repr", "format_body", "format_elements", "DTYPES"]


@dataclasses.dataclass
class PrintOptions:
    """``torch.set_printoptions`` settings; the defaults are PyTorch's."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_DEFAULT_OPTIONS = PrintOptions()

# PyTorch dtype name -> numpy dtype.  The five gradcli uses, and the other numpy ones
# PyTorch shares (printed by the same rules).
DTYPES: dict[str, np.dtype] = {
    name: np.dtype(name)
    for name in (
        "float32", "float64", "float16",
        "int64", "int32", "int16", "int8", "uint8",
        "bool",
    )
}
# Dtypes whose name is never printed for a non-empty tensor (besides the default).
_ALWAYS_IMPLIED = ("int64", "bool")


def _dtype_name(dtype: str | None, array: np.ndarray) -> str:
    if dtype is None:
        name = array.dtype.name
        if name not in DTYPES:
            raise TypeError(f"cannot print an array of dtype {array.dtype} as a tensor")
        return name
    name = dtype[6:] if dtype.startswith("torch.") else dtype
    if name not in DTYPES:
        raise ValueError(f"unknown tensor dtype {dtype!r}; one of {', '.join(DTYPES)}")
    return name


def _check_options(options: PrintOptions | None) -> PrintOptions:
    if options is None:
        return _DEFAULT_OPTIONS
    for field in ("precision", "edgeitems", "linewidth"):
        value = getattr(options, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"PrintOptions.{field} must be an int >= 0, not {value!r}")
    if options.sci_mode not in (None, True, False):
        raise ValueError("PrintOptions.sci_mode must be None, True or False")
    return options


# -- the element formatter ------------------------------------------------------------


class _Formatter:
    """Width and mode of the elements, decided from the shown elements
    (PyTorch's ``_Formatter``)."""

    def __init__(self, shown: np.ndarray, options: PrintOptions):
        self.precision = options.precision
        self.floating = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if shown.size == 0:
            return
        if not self.floating:
            # str() of an integer is longest at the greatest or the least value.
            if shown.dtype.kind == "b":
                self.width = 5 if not shown.all() else 4
            else:
                self.width = max(1, len(str(int(shown.max()))), len(str(int(shown.min()))))
            return
        values = shown[np.isfinite(shown) & (shown != 0)]
        if values.size == 0:
            return
        self.int_mode = bool(np.all(values == np.ceil(values)))
        magnitude = np.abs(values)
        smallest = float(magnitude.min())
        largest = float(magnitude.max())
        if options.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = options.sci_mode
        # The printed length of a value grows with its magnitude (digits before the
        # point), or in sci mode with the size of its exponent, which is largest at the
        # greatest or the least magnitude; a minus sign adds one.  So the widest value is
        # among the extremes of each sign, and only those need formatting.
        candidates = []
        for group in (values[values > 0], values[values < 0]):
            if group.size:
                candidates += [float(group.min()), float(group.max())]
        precision = self.precision
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in candidates)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in candidates)
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in candidates)
        self.width = max(1, self.width)

    def format(self, value) -> str:
        """One element (a Python float, int or bool), padded to the width."""
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.width}.{self.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{self.precision}f}"
        else:
            text = f"{value}"
        return " " * (self.width - len(text)) + text


# -- the body -------------------------------------------------------------------------


def _shown_part(array, summarize: bool, edgeitems: int):
    """The elements that will be printed, and per dimension whether it is cut; of an
    ArraySummary, the edges it kept."""
    if isinstance(array, ArraySummary):
        if edgeitems != EDGE_ITEMS:
            raise ValueError(f"a summary keeps {EDGE_ITEMS} edge items, not {edgeitems}")
        return array.edges, tuple(n > 2 * edgeitems for n in array.shape)
    if not summarize or array.ndim == 0:
        return array, (False,) * array.ndim
    cut = tuple(n > 2 * edgeitems for n in array.shape)
    if not any(cut):
        return array, cut
    index = [
        np.r_[0:edgeitems, n - edgeitems:n] if is_cut else np.arange(n)
        for n, is_cut in zip(array.shape, cut)
    ]
    return array[np.ix_(*index)], cut


def _body(array: np.ndarray, dtype: np.dtype, indent: int, options: PrintOptions) -> str:
    """PyTorch's ``_tensor_str`` for a non-empty array; ``array`` is cast to ``dtype``
    only after summarising."""
    summarize = array.size > options.threshold
    edgeitems = options.edgeitems
    if summarize and not edgeitems and array.ndim:
        return "[...]"
    shown, cut = _shown_part(array, summarize, edgeitems)
    with np.errstate(over="ignore", invalid="ignore"):  # 1e300 -> float32 is inf, as in torch
        shown = shown.astype(dtype, copy=False)
    formatter = _Formatter(shown, options)
    if shown.ndim == 0:
        return formatter.format(shown.item())
    texts = [formatter.format(value) for value in shown.ravel().tolist()]
    shape = shown.shape
    ndim = shown.ndim

    def row(offset: int, depth: int) -> str:
        row_indent = indent + depth
        items = texts[offset:offset + shape[-1]]
        if cut[-1]:
            items = items[:edgeitems] + [" ..."] + items[edgeitems:]
        per_line = max(1, math.floor((options.linewidth - row_indent) / (formatter.width + 2)))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (row_indent + 1)).join(lines) + "]"

    def block(offset: int, depth: int) -> str:
        # Recursion over the dimensions only: depth < ndim.
        if depth == ndim - 1:
            return row(offset, depth)
        stride = math.prod(shape[depth + 1:])
        parts = [block(offset + i * stride, depth + 1) for i in range(shape[depth])]
        if cut[depth]:
            parts = parts[:edgeitems] + ["..."] + parts[edgeitems:]
        separator = "," + "\n" * (ndim - depth - 1) + " " * (indent + depth + 1)
        return "[" + separator.join(parts) + "]"

    return block(0, 0)


def _add_suffixes(text: str, suffixes: list[str], indent: int, linewidth: int) -> str:
    # PyTorch's estimate of the last line's length counts two columns too many.
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


# -- the API --------------------------------------------------------------------------


def tensor_repr(
    data: np.ndarray,
    *,
    dtype: str | None = None,
    requires_grad: bool = False,
    grad_fn: str | None = None,
    default_dtype: str = "float32",
    options: PrintOptions | None = None,
    prefix: str = "tensor(",
) -> str:
    """Exactly ``repr(torch_tensor)`` for a tensor with these values:
    ``'tensor([1., 2.], requires_grad=True)'``.

    ``dtype`` is the tensor's dtype name ("float32", "float64", "int64", "int32",
    "bool", ...; default: that of ``data``, which is cast to it if they differ, as
    ``torch.tensor(data, dtype=...)`` would).  ``default_dtype`` is
    ``torch.get_default_dtype()``: ``dtype=`` is printed when the dtype differs from it
    (never for int64 or bool, unless the tensor is empty).  ``grad_fn`` is the node's
    name (``"MulBackward0"``); ``requires_grad=True`` shows only when there is none.

    ``prefix`` replaces ``"tensor("``; columns are counted from its last line, so
    ``prefix="Parameter containing:\\ntensor("`` prints an ``nn.Parameter`` (as does
    ``"Parameter containing:\\n" + tensor_repr(...)``).
    """
    opts = _check_options(options)
    array = np.asarray(data)
    name = _dtype_name(dtype, array)
    default = _dtype_name(default_dtype, array)
    if DTYPES[default].kind != "f":
        raise ValueError(f"default_dtype must be a floating dtype, not {default_dtype!r}")
    indent = len(prefix) - (prefix.rfind("\n") + 1)
    suffixes = []
    if array.size == 0:
        # No element to tell the dtype or the shape by: PyTorch prints them.
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if name != default:
            suffixes.append(f"dtype=torch.{name}")
        body = "[]"
    else:
        if not opts.edgeitems:
            suffixes.append(f"size={tuple(array.shape)}")
        if name != default and name not in _ALWAYS_IMPLIED:
            suffixes.append(f"dtype=torch.{name}")
        body = _body(array, DTYPES[name], indent, opts)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent, opts.linewidth)


def format_body(
    data: np.ndarray,
    *,
    options: PrintOptions | None = None,
    indent: int = 0,
    dtype: str | None = None,
) -> str:
    """Just the values part (``'[[1., 2.],\\n [3., 4.]]'``, or ``'2.5000'`` for 0-d)
    of an array or an ArraySummary, laid out as PyTorch lays out the body of
    ``tensor(...)``, with continuation lines indented by ``indent`` (``tensor_repr`` uses ``len("tensor(")``); line wrapping
    counts ``indent`` too.  ``dtype`` as in ``tensor_repr``."""
    opts = _check_options(options)
    array = data if isinstance(data, ArraySummary) else np.asarray(data)
    name = _dtype_name(dtype, array)
    if array.size == 0:
        return "[]"
    return _body(array, DTYPES[name], indent, opts)


def format_elements(data: np.ndarray, *, options: PrintOptions | None = None) -> list[str]:
    """Each element of ``data`` (flattened) as PyTorch prints it inside the tensor's
    body: one width and mode for all (``[' 6.0000', '-0.4161']``), no summarising."""
    opts = _check_options(options)
    array = np.asarray(data)
    formatter = _Formatter(array, opts)
    return [formatter.format(value) for value in array.ravel().tolist()]
