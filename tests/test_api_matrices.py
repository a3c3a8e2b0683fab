"""gradcli.jacobian and gradcli.hessian (SPEC 6): numpy arrays with labels, values
derived by hand, and the check on request."""

from __future__ import annotations

import math

import numpy as np

import gradcli


def test_hessian_by_hand():
    # f = x**2*y + sin(x*y): f_xx = 2y - y^2 sin(xy), f_xy = 2x + cos(xy) - xy sin(xy),
    # f_yy = -x^2 sin(xy)
    x, y = 1.0, 2.0
    H = gradcli.hessian("x**2*y + sin(x*y)", {"x": x, "y": y}, check=True)
    fxy = 2 * x + math.cos(x * y) - x * y * math.sin(x * y)
    expected = [[2 * y - y * y * math.sin(x * y), fxy], [fxy, -x * x * math.sin(x * y)]]
    np.testing.assert_allclose(H, expected, rtol=1e-14)
    assert H.variables == ["x", "y"]
    assert H.check["status"] == "passed"
    assert isinstance(H, np.ndarray) and H.shape == (2, 2)


def test_jacobian_of_a_matrix_vector_product():
    J = gradcli.jacobian("w @ v", {"w": [[1, 2], [3, 4]], "v": [5, 6]}, check=True)
    # d(w@v)_i/dw[i,j] = v_j, d(w@v)_i/dv_j = w[i,j]
    np.testing.assert_array_equal(J, [[5, 6, 0, 0, 1, 2], [0, 0, 5, 6, 3, 4]])
    assert J.outputs == ["out[0]", "out[1]"]
    assert J.variables == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]", "v[0]", "v[1]"]
    assert J.check["status"] == "passed"


def test_wrt_and_const_choose_the_columns():
    J = gradcli.jacobian("x * c + y", {"x": [1.0, 2.0], "y": 3.0}, const={"c": 4.0},
                         wrt=["x"])
    np.testing.assert_array_equal(J, [[4, 0], [0, 4]])
    assert J.variables == ["x[0]", "x[1]"] and J.check is None
