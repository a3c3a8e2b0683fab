"""Programs about views, shared storage and in-place updates (SPEC 3.8), run on PyTorch
once to write ``views.json`` (``make_expected.py``) and on gradcli by
``tests/test_views.py``.  Every view kind gets every in-place op; then chains of views,
views of views, writes through the base, ``detach``/``.data`` aliases, shared version
counters and PyTorch's errors.
"""

X = "x = leaf([[0.5, -1.0, 2.0, 1.5], [3.0, -0.5, 1.0, 0.25], [-2.0, 0.75, 1.25, -1.5]])"
Y = "y = leaf(1.5)"

VIEWS = {
    "select": "v = t[1]",
    "select-2": "v = t[1, 2]",
    "select-neg": "v = t[-1]",
    "slice": "v = t[1:]",
    "slice-step": "v = t[::2]",
    "slice-dim1": "v = t[:, 1:3]",
    "slice-neg": "v = t[:, -3:]",
    "slice-full-in-tuple": "v = t[0:, :]",
    "select-slice": "v = t[1, -3:]",
    "alias": "v = t[:, :]",
    "ellipsis": "v = t[..., 1]",
    "none": "v = t[None]",
    "reshape": "v = t.reshape(4, 3)",
    "view": "v = t.view(12)",
    "view-infer": "v = t.view(2, -1)",
    "flatten": "v = flatten(t)",
    "T": "v = t.T",
    "t": "v = t.t()",
    "transpose": "v = t.transpose(0, 1)",
    "permute": "v = t.permute(1, 0)",
    "unsqueeze": "v = t.unsqueeze(1)",
    "squeeze-dim": "v = t[0:1].squeeze(0)",
    "squeeze-all": "v = t.unsqueeze(0).squeeze()",
    "expand-same": "v = t.expand(3, 4)",
    "expand-new-dim": "v = t[0].expand(1, 4)",
    "diagonal": "v = t.diagonal()",
    "diagonal-offset": "v = t.diagonal(1)",
    "diagonal-neg": "v = t.diagonal(-1)",
    "narrow": "v = t.narrow(1, 1, 2)",
    "narrow-dim0": "v = t.narrow(0, 0, 2)",
    # chains of views
    "T-select": "v = t.T[1]",
    "slice-T-slice": "v = t[1:].T[1:3]",
    "transpose-slice-diagonal": "v = t.transpose(0, 1)[1:, :2].diagonal()",
    "unsqueeze-expand-select": "v = t.unsqueeze(0).expand(1, 3, 4)[0, 1]",
    "reshape-select-slice": "v = t.reshape(2, 6)[1][::2]",
    "view-T-view": "v = t.view(4, 3).T.reshape(3, 4)",
    "narrow-T-squeeze": "v = t.narrow(0, 1, 1).T.squeeze(1)",
    "permute-reshape-alias": "v = t.permute(1, 0).reshape(2, 2, 3)",
}

INPLACE = {
    "mul": "v.mul_(y)",
    "add": "v += y",
    "sub": "v -= y * y",
    "div": "v /= y",
    "imul-tensor": "v *= exp(y)",
    "zero": "v.zero_()",
    "fill": "v.fill_(2.0)",
    "fill-tensor": "v.fill_(y)",
}


def through_views():
    """Every view kind, every in-place op: loss from the base and from the view."""
    cases = {}
    for vname, view in VIEWS.items():
        for iname, op in INPLACE.items():
            cases[f"{vname}/{iname}"] = "\n".join([
                X, Y, "t = x * 2.0", view, op,
                "L = (t * t).sum() + (v * v).sum() * 0.5 + (t.sum() * y)",
                "L.backward()"])
    return cases


CASES = {
    # the examples
    "issue/select-add": "x = leaf([1.0, 2.0])\nt = x * 2\nv = t[0]\nv += 1\n"
                        "L = (t * t).sum()\nL.backward()",
    "issue/detach-add": "x = leaf([1.0, 2.0])\nt = x * 2\nd = t.detach()\nd += 1\n"
                        "L = (t * x).sum()\nL.backward()",
    "issue/detach-shares-version": "x = leaf([1.0, 2.0])\nt = exp(x)\nd = t.detach()\n"
                                   "d += 1\nL = t.sum()\nL.backward()",
    "data/own-version": "x = leaf([1.0, 2.0])\nt = exp(x)\nd = data(t)\nd += 1\n"
                        "L = t.sum()\nL.backward()",
    "data/times-100-lesson": "w = leaf([1.0, 2.0])\nL = (w * w).sum()\nL.backward()\n"
                             "d = data(w)\nd *= 100\nw2 = w * 1.0",
    "data/set": "w = leaf([1.0, 2.0])\nset_data(w, const([5.0, 6.0, 7.0]))\nL = (w * w).sum()\n"
                "L.backward()",
    "detach/of-view-writes-base": "x = leaf([1.0, 2.0, 3.0])\nt = x * x\nd = t[1:].detach()\n"
                                  "d.mul_(10.0)\nL = (t * x).sum()\nL.backward()",
    "detach/saved-then-modified": "x = leaf([1.0, 2.0])\nt = x * 3\nu = t * t\n"
                                  "t.detach().zero_()\nL = u.sum()\nL.backward()",
    "detach_/non-view": "x = leaf([1.0, 2.0])\nt = x * 3\nt.detach_()\nL = (t * x).sum()\n"
                        "L.backward()",
    "detach_/view-error": "x = leaf([1.0, 2.0])\nt = x * 3\nv = t[0]\nv.detach_()",
    # errors
    "error/view-of-leaf": X + "\n" + Y + "\nv = x[0]\nv.mul_(y)",
    "error/view-of-leaf-T": X + "\n" + Y + "\nv = x.T\nv += 1",
    "error/leaf": X + "\nx += 1",
    "error/expand-overlap": X + "\nt = x * 1\nv = t[0:1].expand(3, 4)\nv.add_(1.0)",
    "error/partial-overlap": "x = leaf([1.0, 2.0, 3.0])\nt = x * 1\nt[1:].add_(t[:-1])",
    "error/transpose-overlap": "x = leaf([[1.0, 2.0], [3.0, 4.0]])\nt = x * 1\nt.add_(t.T)",
    "ok/same-overlap": "x = leaf([[1.0, 2.0], [3.0, 4.0]])\nt = x * 1\nt.add_(t)\n"
                       "L = t.sum()\nL.backward()",
    "error/no-grad-view-inplace": X + "\nt = x * 2\nv = in_no_grad(lambda: t[0])\nv.mul_(3.0)",
    "error/no-grad-view-of-leaf": X + "\nv = in_no_grad(lambda: x[0])\nv.mul_(3.0)",
    "error/no-grad-view-base-modified": X + "\nt = x * 2\nv = in_no_grad(lambda: t[0])\n"
                                        "t.mul_(3.0)\nu = v * 2",
    "ok/no-grad-view-requires-grad": X + "\nv = in_no_grad(lambda: x[0])\nu = v * 2\n"
                                     "L = u.sum()\nL.backward()",
    "ok/no-grad-inplace-on-leaf-view": X + "\nin_no_grad(lambda: x[0].mul_(2.0))\n"
                                       "L = (x * x).sum()\nL.backward()",
    "error/saved-base-view-modified": X + "\nt = x * 1\nu = t * t\nv = t[0]\nv.add_(1.0)\n"
                                      "L = u.sum()\nL.backward()",
    "error/saved-view-base-modified": X + "\nt = x * 1\nv = t[0]\nu = v * v\nt.add_(1.0)\n"
                                      "L = u.sum()\nL.backward()",
    "error/saved-output-modified-through-view": X + "\nt = exp(x)\nt[0] += 1\nL = t.sum()\n"
                                                "L.backward()",
    "error/int-inplace-float": "c = const([1, 2], dtype='int64')\nc += 1.5",
    # writes through the base, then the view is used
    "base-then-view/mul": X + "\n" + Y + "\nt = x * 2.0\nv = t[0]\nt.mul_(y)\n"
                          "L = (v * v).sum()\nL.backward()",
    "base-then-view/T": X + "\n" + Y + "\nt = x * 2.0\nv = t.T\nt.add_(y)\n"
                        "L = (v * x.T).sum()\nL.backward()",
    "sibling-views": X + "\n" + Y + "\nt = x * 2.0\na = t[0]\nb = t[:, 1]\na.mul_(y)\n"
                     "L = (b * b).sum() + (a * a).sum()\nL.backward()",
    "view-of-view-then-middle": X + "\n" + Y + "\nt = x * 2.0\na = t[1:]\nb = a[0]\n"
                                "b.mul_(y)\nL = (a * a).sum() + (t * t).sum()\nL.backward()",
    "twice-through-views": X + "\n" + Y + "\nt = x * 2.0\nt[0].mul_(y)\nt[:, 1].add_(y * y)\n"
                           "L = (t * t).sum()\nL.backward()",
    "const-base-requires-grad-value": X + "\n" + Y + "\nc = const([0.0, 0.0, 0.0])\nv = c[1]\n"
                                      "v += y * 3\nw = c[2]\nL = (c * c).sum() + w\n"
                                      "L.backward()",
    "setitem/number": X + "\nt = x * 2.0\nt[0] = 5.0\nL = (t * t).sum()\nL.backward()",
    "setitem/tensor": X + "\n" + Y + "\nt = x * 2.0\nt[1, 2] = y * y\nL = (t * t).sum()\n"
                      "L.backward()",
    "setitem/row": X + "\nw = leaf([1.0, 2.0, 3.0, 4.0])\nt = x * 2.0\nt[2] = w * w\n"
                   "L = (t * t).sum()\nL.backward()",
    "setitem/broadcast": X + "\nw = leaf([1.0, 2.0, 3.0])\nt = x * 2.0\n"
                         "t[:, 1] = w\nL = (t * t).sum()\nL.backward()",
    "retain-grad-base": X + "\n" + Y + "\nt = x * 2.0\nt.retain_grad()\nt[0].mul_(y)\n"
                        "L = (t * t).sum()\nL.backward()",
    "retain-graph-twice": X + "\n" + Y + "\nt = x * 2.0\nt[0].mul_(y)\nL = (t * t).sum()\n"
                          "L.backward(retain_graph=True)\nL.backward()",
    "grad-through-copyslices": X + "\n" + Y + "\nt = x * 2.0\nt[1:].mul_(y)\nL = (t * t).sum()\n"
                               "gx, gy = grad(L, (x, y))",
    "create-graph-through-copyslices": X + "\n" + Y + "\nt = x * 2.0\nt[1:].mul_(y)\n"
                                       "L = (t * t).sum()\n"
                                       "gx, gy = grad(L, (x, y), create_graph=True)\n"
                                       "H = (gx * gx).sum() + gy * gy\nH.backward()",
    "accumulate-grad-in-place": "x = leaf([1.0, 2.0])\n(x * x).sum().backward()\ng = x.grad\n"
                                "(x * 3).sum().backward()\ng2 = x.grad\ng.zero_()",
    "grad-data-zero": "x = leaf([1.0, 2.0])\n(x * x).sum().backward()\n"
                      "data(x.grad).zero_()\n(x * 3).sum().backward()",
}
CASES.update(through_views())
