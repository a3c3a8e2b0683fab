"""Ops of torch.nn's layers and of PyTorch's composite functions.

``addmm`` is what ``linear`` records for 2-D input with a bias (AddmmBackward0);
``nn_unsafe_view`` closes a matmul of 3-D input (UnsafeViewBackward0).  The scalar ops
are C++'s ``tensor * number`` overloads, which PyTorch records under their own names
inside composite functions (cross_entropy with label smoothing records MulBackward1,
AddBackward1 and DivBackward1, where Python's ``t * 0.9`` records MulBackward0);
``nn_masked_fill`` is the MaskedFillBackward0 of cross_entropy's ignore_index.  The
``nn_`` prefix keeps these internal helpers apart from general ops of the same grad_fn
the engine may add (SPEC 3.9's masked_fill): merge them then.
"""

from __future__ import annotations

import numpy as np

from .core import STRUCTURAL, exact, prose, register


def sum_to_size(F, g, shape: tuple):
    """PyTorch's sum_to: sum the broadcast dimensions keeping them, then view to
    ``shape`` if leading ones were added (SumBackward1, ViewBackward0 under create_graph)."""
    gshape = F.value(g).shape
    if gshape == tuple(shape):
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and gshape[lead + i] != 1)
    if dims:
        g = F.sum_dim(g, dim=dims, keepdim=True)
    return F.reshape(g, shape=tuple(shape)) if lead else g


register("addmm", "AddmmBackward0", lambda bias, mat1, mat2: np.dot(mat1, mat2) + bias,
         (lambda F, g, bias, m1, m2, out: sum_to_size(F, g, bias.shape),
          lambda F, g, bias, m1, m2, out: F.mm(g, F.t(m2)),
          lambda F, g, bias, m1, m2, out: F.mm(F.t(m1), g)),
         params="input, mat1, mat2", group="linear algebra",
         function="nn_functional:addmm", sympy=STRUCTURAL,
         derivative=(prose("1 (summed over rows)"), "g @ M2.T", "M1.T @ g"))
register("nn_unsafe_view", "UnsafeViewBackward0", lambda x, shape: np.reshape(x, shape),
         (lambda F, g, x, out, shape: F.reshape(g, shape=x.shape),), internal=True,
         shown_as="reshape", sympy=STRUCTURAL, syntax="matmul(x, w) with 3-D x")

# ---- tensor (op) number, as C++ records it ---------------------------------------------

register("nn_mul_scalar", "MulBackward1", lambda x, other: x * other,
         (lambda F, g, x, out, other: F.nn_mul_scalar(g, other=other),), internal=True,
         elementwise=True, shown_as="mul",
         sympy=lambda sp, x, other: x * exact(sp, other), syntax="t * NUMBER (in C++)")
register("nn_div_scalar", "DivBackward1", lambda x, other: x / other,
         (lambda F, g, x, out, other: F.nn_div_scalar(g, other=other),), internal=True,
         elementwise=True, shown_as="div",
         sympy=lambda sp, x, other: x / exact(sp, other), syntax="t / NUMBER (in C++)")
register("nn_add_scalar", "AddBackward1", lambda x, other: x + other,
         (lambda F, g, x, out, other: g,), internal=True, elementwise=True, shown_as="add",
         sympy=lambda sp, x, other: x + exact(sp, other), syntax="t + NUMBER (in C++)")
register("nn_masked_fill", "MaskedFillBackward0",
         lambda x, mask, value: np.where(mask, np.asarray(value, x.dtype), x),
         (lambda F, g, x, out, mask, value: F.nn_masked_fill(g, mask=mask, value=0.0),),
         internal=True, shown_as="masked_fill",
         sympy=lambda sp, x, mask, value: np.where(mask, exact(sp, value),
                                                   np.asarray(x, dtype=object)),
         syntax="masked_fill(x, mask, value)")


# ---- composites of torch.nn.functional: what they record is what their functions call ----

LEGACY = "size_average: any = None, reduce: any = None, " \
         "reduction: str{none|mean|sum|elementwise_mean} = 'mean'"

register("linear", function="nn_functional:linear", params="input, weight, bias: tensor? = None",
         group="layers", api="F",
         records=("AddmmBackward0", "MmBackward0", "ViewBackward0", "UnsafeViewBackward0",
                  "SqueezeBackward4", "TBackward0", "AddBackward0", "MvBackward0"),
         derivative=(prose("g @ weight for input"), prose("g.T @ input for weight"),
                     prose("g summed over the batch for bias")), grows="matmul")
register("l1_loss", function="nn_losses:l1_loss",
         params=f"input, target, {LEGACY}, weight: tensor? = None", group="losses", api="F",
         records=("MeanBackward0", "SumBackward0", "AbsBackward0", "SubBackward0"),
         derivative=("sign(input - target)/N", "-sign(input - target)/N"), grows="broadcast")
register("cross_entropy", function="nn_classification:cross_entropy",
         params="input, target: any, weight: const? = None, size_average: any = None, "
                "ignore_index: int = -100, reduce: any = None, "
                "reduction: str{none|mean|sum|elementwise_mean} = 'mean', "
                "label_smoothing: number = 0.0", group="losses", api="F",
         records=("NllLossBackward0", "LogSoftmaxBackward0", "DivBackward1", "NegBackward0",
                  "SumBackward1", "MulBackward1", "AddBackward1", "MeanBackward0"),
         derivative=(prose("softmax(input) - the target distribution, /N for a mean"),))
