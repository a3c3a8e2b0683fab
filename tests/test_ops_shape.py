"""The shape ops of SPEC 3.9 beyond what tests/data/ops/shape.json covers: PyTorch's
errors for bad arguments, the double-backward graphs PyTorch records, split's parts as
views, and the language's size limit for repeat/tile.  The expected messages and trees
are PyTorch 2.13's (copied from torch; torch is never imported here)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradcli
import gradcli.autograd as ag
from gradcli.autograd import functional as F
from gradcli.autograd.random import manual_seed
from gradcli.errors import GradcliError

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def idx(values):
    return ag.tensor(np.asarray(values, dtype=np.int64))


ERRORS = [
    (lambda x: x.flip(2), "Dimension out of range (expected to be in range of [-2, 1], "
                          "but got 2)"),
    (lambda x: x.flip(0, 0), "dim 0 appears multiple times in the list of dims"),
    (lambda x: x.roll(1, 2), "Dimension out of range (expected to be in range of [-2, 1], "
                             "but got 2)"),
    (lambda x: x.roll((1, 2), (0,)), "shifts and dimensions must align. shifts: 2, dims:1"),
    (lambda x: x.roll((1, 2)), "shifts and dimensions must align. shifts: 2, dims:0"),
    (lambda x: x.roll([], []), "`shifts` required"),
    (lambda x: x.repeat(2), "Number of dimensions of repeat dims can not be smaller than "
                            "number of dimensions of tensor"),
    (lambda x: x.repeat(-1, 2), "Trying to create tensor with negative dimension -2: [-2, 6]"),
    (lambda x: F.tile(x, (-1,)), "Trying to create tensor with negative dimension -3: [2, -3]"),
    (lambda x: F.gather(x, 1, idx([[0], [3]])),
     "index 3 is out of bounds for dimension 1 with size 3"),
    (lambda x: F.gather(x, 1, idx([[-1]])),
     "index -1 is out of bounds for dimension 1 with size 3"),
    (lambda x: F.gather(x, 1, idx([0])),
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda x: F.gather(x, 1, ag.tensor([[0.5]])), "gather(): Expected dtype int32/int64 for index"),
    (lambda x: F.gather(x, 0, idx([[0, 0, 0, 0]])),
     "Size does not match at dimension 1 expected index [1, 4] to be no larger than self "
     "[2, 3] apart from dimension 0"),
    (lambda x: F.index_select(x, 1, idx([0, 3])),
     "INDICES element is out of DATA bounds, id=3 axis_dim=3"),
    (lambda x: F.index_select(x, 1, idx([[0]])),
     "index_select(): Index is supposed to be a vector"),
    (lambda x: F.index_select(x, 1, ag.tensor([1.5])),
     "index_select(): Expected dtype int32 or int64 for index"),
    (lambda x: F.index_select(ag.tensor(2.0), 0, idx([0, 0])),
     "index_select(): Index to scalar can have only 1 value, got 2 value(s)"),
    (lambda x: F.movedim(x, (0, 1), (1,)),
     "movedim: Invalid source or destination dims: source ([0, 1] dims) should contain the "
     "same number of dims as destination ([1] dims)"),
    (lambda x: F.movedim(x, (0, 0), (1, 0)), "movedim: repeated dim in `source` ([0, 0])"),
    (lambda x: F.movedim(x, (0, 1), (1, 1)), "movedim: repeated dim in `destination` ([1, 1])"),
    (lambda x: x.split(0), "split_size can only be 0 if dimension size is 0, but got "
                           "dimension size of 2"),
    (lambda x: x.split(-1), "split expects split_size be non-negative, but got split_size=-1"),
    (lambda x: x.split([1, 1], 1), "split_with_sizes expects split_sizes to sum exactly to 3 "
                                   "(input tensor's size at dimension 1), but got "
                                   "split_sizes=[1, 1]"),
    (lambda x: x.split([2, -1], 1), "split_with_sizes expects split_sizes have only "
                                    "non-negative entries, but got split_sizes=[2, -1]"),
    (lambda x: x.chunk(0), "chunk expects `chunks` to be greater than 0, got: 0"),
    (lambda x: ag.tensor(2.0).split(1), "split expects at least a 1-dimensional tensor"),
    (lambda x: ag.tensor(2.0).chunk(1), "chunk expects at least a 1-dimensional tensor"),
]


@pytest.mark.parametrize("make, message", ERRORS, ids=[m for _, m in ERRORS])
def test_bad_arguments_are_pytorchs_errors(make, message):
    x = ag.tensor(X, requires_grad=True)
    with pytest.raises(GradcliError, match=re.escape(message)):
        make(x)


def _tree(fn):
    if fn is None:
        return None
    return [fn.name, [_tree(n) for n, _ in fn.next_functions]]


ACC = ["AccumulateGrad", []]
DOUBLE = {
    "flip": (lambda x: x.flip(0), ["FlipBackward0", [ACC]]),
    "roll": (lambda x: x.roll(1, 1), ["RollBackward0", [ACC]]),
    "repeat": (lambda x: x.repeat(2, 1), ["SumBackward1", [["ViewBackward0", [ACC]]]]),
    "repeat_lead": (lambda x: x[0].repeat(2, 2),
                    ["SumBackward1", [["ViewBackward0", [["SumBackward1", [ACC]]]]]]),
    "gather": (lambda x: x.gather(1, idx([[0, 0], [2, 1]])), ["ScatterAddBackward0", [None, ACC]]),
    "index_select": (lambda x: x.index_select(1, idx([2, 0, 2])),
                     ["IndexAddBackward0", [None, ACC]]),
    "movedim": (lambda x: x.movedim(0, 1), ["PermuteBackward0", [ACC]]),
    "split": (lambda x: x.split(2, 1)[1], ["CatBackward0", [None, ACC]]),
    "split_sizes": (lambda x: x.split([1, 2], 1)[0], ["CatBackward0", [ACC, None]]),
    "chunk": (lambda x: x.chunk(3, 1)[1], ["CatBackward0", [None, ACC, None]]),
}


@pytest.mark.parametrize("name", DOUBLE)
def test_double_backward_records_pytorchs_nodes(name):
    make, want = DOUBLE[name]
    x = ag.tensor(X, requires_grad=True)
    y = make(x)
    if name == "repeat_lead":            # PyTorch's tree is for v = x[0] as the leaf
        v = ag.tensor(X[0], requires_grad=True)
        x, y = v, v.repeat(2, 2)
    u = ag.tensor(np.ones(y.shape), requires_grad=True)
    (g,) = ag.grad(y, [x], grad_outputs=u, create_graph=True)
    assert _tree(g.grad_fn) == want
    (gu,) = ag.grad(F.sum(g * g), [u])    # and it differentiates: d|g|^2/du = 2 J J^T u
    np.testing.assert_allclose(F.sum(gu * u).data, 2 * np.sum(g.data ** 2))


def test_repeat_once_passes_the_gradient_through():
    v = ag.tensor(X[0], requires_grad=True)
    u = ag.tensor(np.ones(3), requires_grad=True)
    (g,) = ag.grad(v.repeat(1), [v], grad_outputs=u, create_graph=True)
    assert g.grad_fn is None and np.array_equal(g.data, np.ones(3))   # PyTorch: u itself


def test_split_parts_are_views_of_the_input():
    x = ag.tensor(X.copy())
    first, second = x.split(2, 1)
    assert first.shape == (2, 2) and second.shape == (2, 1)
    x.data[0, 2] = 30.0
    assert second.data[0, 0] == 30.0


def test_movedim_of_a_scalar_is_an_alias():
    s = ag.tensor(2.0, requires_grad=True)
    assert F.movedim(s, 0, 0).grad_fn.name == "AliasBackward0"


def test_dims_by_name_as_pytorch_takes_them():
    x = ag.tensor(X, requires_grad=True)
    assert np.array_equal(x.flip(dims=[0]).data, X[::-1])
    assert np.array_equal(F.flip(x, dims=(0, 1)).data, X[::-1, ::-1])
    assert x.permute(dims=(1, 0)).shape == (3, 2)


@pytest.mark.parametrize("program", ["x.repeat(100000, 100000)", "tile(x, [100000, 100000])"])
def test_repeat_is_held_to_the_size_limit(program):
    with pytest.raises(GradcliError, match="the result would have 10000000000 elements"):
        gradcli.evaluate(program, {"x": np.ones(1)})


def test_a_program_picks_a_part():
    result = gradcli.evaluate("split(x, 2)[-1].sum() + chunk(x, 3)[0].sum()",
                              {"x": np.array([1.0, 2.0, 3.0])}, check=True)
    np.testing.assert_array_equal(result.grads["x"], [1.0, 0.0, 1.0])
    assert result.check["status"] == "passed"


MULTI = ("is a view and {} modified inplace. This view is the output of a function that "
         "returns multiple views. Such functions do not allow the output views to be "
         "modified inplace. You should replace the inplace operation by an out-of-place one.")


@pytest.mark.parametrize("make, head", [
    (lambda y: y.split(2)[1], "Output 1 of Split "),
    (lambda y: y.split([1, 2])[1], "Output 1 of SplitWithSizes "),
    (lambda y: y.chunk(2)[0], "Output 0 of Split "),
    (lambda y: y.split(2)[0][0:1], "Output 0 of Slice "),      # a view of a part
])
def test_a_part_may_not_change_in_place(make, head):
    y = ag.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2
    with pytest.raises(GradcliError, match=re.escape(head + MULTI.format("is being"))):
        make(y).mul_(2)


def test_a_part_whose_base_changed_in_place_cannot_be_used():
    y = ag.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2
    part = y.split(2)[1]
    y.mul_(2)
    message = "Output 1 of Split " + MULTI.format("its base or another view of its base has been")
    with pytest.raises(GradcliError, match=re.escape(message)):
        part.grad_fn


def test_parts_of_a_constant_change_in_place():
    y = ag.tensor([1.0, 1.0, 1.0])
    y.split(2)[1].mul_(2)
    np.testing.assert_array_equal(y.data, [1.0, 1.0, 2.0])


# ---- layers: layer_norm, normalize, dropout ---------------------------------------------

LAYER_ERRORS = [
    (lambda x: F.layer_norm(x, (4,)), "Given normalized_shape=[4], expected input with shape "
                                      "[*, 4], but got input of size[2, 3]"),
    (lambda x: F.layer_norm(x, (1, 2, 3)), "Given normalized_shape=[1, 2, 3], expected input "
                                           "with shape [*, 1, 2, 3], but got input of size[2, 3]"),
    (lambda x: F.layer_norm(x, ()), "Expected normalized_shape to be at least 1-dimensional, "
                                    "i.e., containing at least one element, but got "
                                    "normalized_shape = []"),
    (lambda x: F.layer_norm(x, 3), "layer_norm(): argument 'normalized_shape' (position 2) "
                                   "must be tuple of ints, not int"),
    (lambda x: F.layer_norm(x, (3,), ag.tensor(np.ones(4))),
     "Expected weight to be of same shape as normalized_shape, but got weight of shape [4] "
     "and normalized_shape = [3]"),
    (lambda x: F.layer_norm(x, (3,), None, ag.tensor(np.ones(1))),
     "Expected bias to be of same shape as normalized_shape, but got bias of shape [1] and "
     "normalized_shape = [3]"),
    (lambda x: F.layer_norm(x, (3,), ag.tensor(np.ones(3, dtype=np.float32))),
     "mixed dtype (CPU): all inputs must share same datatype."),
    (lambda x: F.normalize(x, dim=2), "Dimension out of range (expected to be in range of "
                                      "[-2, 1], but got 2)"),
    (lambda x: F.normalize(ag.tensor([1, 2])), "linalg.vector_norm: Expected a floating point "
                                              "or complex tensor as input. Got Long"),
    (lambda x: F.dropout(x, 1.5), "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda x: F.dropout(x, -0.1), "dropout probability has to be between 0 and 1, but got -0.1"),
]


@pytest.mark.parametrize("make, message", LAYER_ERRORS, ids=[m for _, m in LAYER_ERRORS])
def test_bad_layer_arguments_are_pytorchs_errors(make, message):
    test_bad_arguments_are_pytorchs_errors(make, message)


def test_normalize_with_p_inf_is_pytorchs():
    # torch.nn.functional.normalize(x, p=inf) and its gradient for upstream x (PyTorch 2.13)
    x = ag.tensor([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]], requires_grad=True)
    z = F.normalize(x, p=float("inf"))
    np.testing.assert_allclose(z.data, [[0.15, -0.6, 1.0], [1.0, 0.7 / 1.5, -0.4 / 1.5]],
                               rtol=1e-15)
    (g,) = ag.grad(F.sum(z * x.detach()), [x])
    np.testing.assert_allclose(g.data, [[0.15, -0.6, -0.3825],
                                        [-0.28888888888888886, 0.4666666666666667,
                                         -0.26666666666666666]], rtol=1e-12)


@pytest.mark.parametrize("p", [0.25, 0.5, 0.9])
def test_dropout_scales_the_kept_elements_and_its_gradient_is_the_mask(p):
    manual_seed(7)
    x = ag.tensor(np.arange(1.0, 401.0), requires_grad=True)
    y = F.dropout(x, p)
    assert y.grad_fn.name == "MulBackward0"
    assert [n is None for n, _ in y.grad_fn.next_functions] == [False, True]
    mask = y.data / x.data
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / (1 - p), rtol=1e-15)
    assert 0.75 * (1 - p) < kept.mean() < 1.25 * (1 - p)
    (g,) = ag.grad(F.sum(y), [x])
    np.testing.assert_allclose(g.data, mask, rtol=1e-15)
    manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, p).data, y.data)     # the seed repeats it


def test_dropout_that_keeps_nothing_or_everything():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.7, training=False) is x
    y = F.dropout(x, 1.0)
    assert y.grad_fn.name == "MulBackward0" and np.array_equal(y.data, [0.0, 0.0])


def test_dropout_in_a_program_is_checked_for_the_mask_it_drew():
    result = gradcli.evaluate("dropout(x, 0.5).sum()", {"x": np.arange(1.0, 9.0)}, check=True)
    assert set(np.unique(result.grads["x"])) <= {0.0, 2.0}
    assert result.check["status"] == "passed"


def test_layer_norm_and_dropout_modules():
    from gradcli.autograd import nn
    ln = nn.LayerNorm(3, dtype=np.float64)
    assert repr(ln) == "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert [name for name, _ in ln.named_parameters()] == ["weight", "bias"]
    x = ag.tensor(X, requires_grad=True)
    np.testing.assert_allclose(ln(x).data, F.layer_norm(x, (3,)).data, rtol=1e-15)
    assert ln(x).grad_fn.name == "NativeLayerNormBackward0"
    bare = nn.LayerNorm([2, 3], elementwise_affine=False)
    assert repr(bare) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"
    dropout = nn.Dropout(0.25)
    assert repr(dropout) == "Dropout(p=0.25, inplace=False)"
    assert dropout(x).grad_fn.name == "MulBackward0"
    assert dropout.eval()(x) is x
    with pytest.raises(GradcliError, match="dropout probability has to be between 0 and 1, "
                                           "but got 2.0"):
        nn.Dropout(2.0)


# ---- losses: kl_div, cosine_similarity ---------------------------------------------------

LOSS_ERRORS = [
    (lambda x: F.kl_div(x, ag.tensor(np.ones(4)), reduction="sum"),
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda x: F.kl_div(x, x, reduction="bad"), "bad is not a valid value for reduction"),
    (lambda x: F.cosine_similarity(x, ag.tensor(np.ones(4))),
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda x: F.cosine_similarity(x, ag.tensor(np.ones(3)), dim=2),
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda x: F.cosine_similarity(ag.tensor(np.ones(3)), ag.tensor(np.ones(3))),
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
]


@pytest.mark.parametrize("make, message", LOSS_ERRORS, ids=[m for _, m in LOSS_ERRORS])
def test_bad_loss_arguments_are_pytorchs_errors(make, message):
    test_bad_arguments_are_pytorchs_errors(make, message)


def test_kl_div_mean_warns_as_pytorch_and_batchmean_does_not():
    x, t = ag.tensor(X, requires_grad=True), ag.tensor(np.full((2, 3), 0.5))
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both "
                                         "the batch size and the support size."):
        F.kl_div(x, t)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.kl_div(x, t, reduction="batchmean")
    assert out.grad_fn.name == "DivBackward0"


def test_cosine_similarity_of_a_zero_vector():
    # PyTorch 2.13: 0 similarity, the gradient x2/(eps |x2|), and the check skips the kink
    x1 = ag.tensor(np.zeros((1, 2)), requires_grad=True)
    x2 = ag.tensor([[3.0, 4.0]])
    out = F.cosine_similarity(x1, x2)
    (g,) = ag.grad(F.sum(out), [x1])
    np.testing.assert_array_equal(out.data, [0.0])
    np.testing.assert_allclose(g.data, [[0.6e8, 0.8e8]], rtol=1e-12)
    result = gradcli.evaluate("cosine_similarity(a, b).sum()", {"a": np.zeros((1, 2))},
                              const={"b": np.array([[3.0, 4.0]])}, check=True)
    assert result.check["status"] == "skipped"


def test_the_numeric_check_redraws_the_masks_it_checks():
    """Over 256 elements the check re-runs the program for differences: it must draw the
    masks the run drew, or it would fail a right gradient."""
    result = gradcli.evaluate("(dropout(x, 0.5) ** 2).sum() + dropout(x, 0.25).sum()",
                              {"x": np.arange(1.0, 301.0)}, check=True)
    assert result.check["method"] == "numeric"
    assert result.check["status"] == "passed", result.check


def _pytorch_tree(text: str):
    """A tree as PyTorch 2.13 printed it (torch::autograd:: prefixes dropped)."""
    import ast
    return ast.literal_eval(text)


_NORM = "['ExpandBackward0', [['ClampMinBackward0', [['LinalgVectorNormBackward0', [ACC]]]]]]"
_UNIT = f"['DivBackward0', [['DivBackward0', [ACC, {_NORM}]], {_NORM}]]"
_WHERE = f"['WhereBackward0', [['SumBackward1', [['MulBackward0', [['NegBackward0', [ACC]], {_UNIT}]]]], None]]"
COMPOSITE_DOUBLE = {
    "normalize": (lambda x, w: F.normalize(x),
                  f"['AddBackward0', [['DivBackward0', [ACC, {_NORM}]], ['MulBackward0', "
                  f"[{_WHERE}, ['MaskedFillBackward0', [['DivBackward0', [ACC, "
                  f"['LinalgVectorNormBackward0', [ACC]]]]]]]]]]"),
    "normalize-p1": (lambda x, w: F.normalize(x, p=1.0),
                     f"['AddBackward0', [['DivBackward0', [ACC, {_NORM}]], ['MulBackward0', "
                     f"[['SgnBackward0', [ACC]], {_WHERE}]]]]"),
    "kl_div": (lambda x, w: F.kl_div(x, w, reduction="batchmean"),
               "['MulBackward0', [['NegBackward0', [['ExpandBackward0', [['DivBackward0', "
               "[ACC, None]]]]]], ACC]]"),
}


@pytest.mark.parametrize("name", COMPOSITE_DOUBLE)
def test_composites_double_backward_as_pytorch(name):
    make, text = COMPOSITE_DOUBLE[name]
    x = ag.tensor(X, requires_grad=True)
    w = ag.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = make(x, w)
    u = ag.tensor(np.ones(y.shape), requires_grad=True)
    (g,) = ag.grad(y, [x], grad_outputs=u, create_graph=True)
    assert _tree(g.grad_fn) == _pytorch_tree(text.replace("ACC", "['AccumulateGrad', []]"))


def test_layer_norm_of_a_constant_row_without_eps_is_skipped():
    result = gradcli.evaluate("layer_norm(x, [3], eps=0.0).sum()", {"x": np.ones(3)},
                              check=True)
    assert np.all(np.isnan(result.value))          # PyTorch: 0 * inf
    assert result.check["status"] == "skipped"
    assert "variance + eps is not positive" in result.check["reason"]


def test_layer_norm_double_backward_is_pytorchs_node():
    """One NativeLayerNormBackwardBackward0 per gradient, with PyTorch's edges (grad_out,
    input, mean, rstd, weight, bias); its values are PyTorch's second derivatives."""
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.normal(size=(2, 4)), requires_grad=True)
    w = ag.tensor(rng.normal(size=4), requires_grad=True)
    b = ag.tensor(rng.normal(size=4), requires_grad=True)
    u = ag.tensor(rng.normal(size=(2, 4)), requires_grad=True)
    (g,) = ag.grad(F.layer_norm(x, [4]), [x], grad_outputs=u, create_graph=True)
    assert _tree(g.grad_fn) == ["NativeLayerNormBackwardBackward0",
                                [ACC, ACC, None, None, None, None]]
    (g,) = ag.grad(F.layer_norm(x, [4], w, b), [x], grad_outputs=u, create_graph=True)
    assert _tree(g.grad_fn) == ["NativeLayerNormBackwardBackward0",
                                [ACC, ACC, None, None, ACC, ACC]]
    gs = ag.grad(F.sum(F.layer_norm(x, [4], w, b) * u), [x, w, b], create_graph=True)
    vs = [ag.tensor(rng.normal(size=s)) for s in ((2, 4), (4,), (4,))]
    phi = sum(F.sum(gi * v) for gi, v in zip(gs, vs))
    hx, hw, hb, hu = ag.grad(phi, [x, w, b, u], allow_unused=True)
    # PyTorch 2.13, same seed and draws (torch.nn.functional.layer_norm, float64)
    np.testing.assert_allclose(hw.data, [-0.0475061078, 0.0120764385, -0.7167073684,
                                         -1.9944058671], atol=1e-10)
    np.testing.assert_allclose(hx.data, [[0.5605538661, -0.2375671493, -0.2292092977,
                                          -0.0937774192],
                                         [0.0004720362, -1.9857266697, -0.7260075397,
                                          2.7112621732]], atol=1e-10)
    assert hb is None


def test_split_takes_tensor_splits_keyword():
    x = ag.tensor(np.arange(5.0), requires_grad=True)
    assert [p.shape for p in x.split(split_size=2)] == [(2,), (2,), (1,)]
    with pytest.raises(GradcliError, match="missing 1 required positional argument"):
        F.split(x)
