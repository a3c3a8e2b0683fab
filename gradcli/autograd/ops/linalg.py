"""Products of vectors and matrices: dot, mv, mm (``@`` dispatches between them)."""

from __future__ import annotations

import numpy as np

from .core import STRUCTURAL, register

register(name="dot", grad_fn="DotBackward0", forward=np.dot, saves="ab", needs=("b", "a"),
         vjps=(lambda F, g, a, b, out: g * b, lambda F, g, a, b, out: g * a),
         sympy=STRUCTURAL, derivative=("b", "a"), syntax="a @ b (1-D @ 1-D), dot(a, b)")
register(name="mv", grad_fn="MvBackward0", forward=np.dot, saves="ab", needs=("b", "a"),
         vjps=(lambda F, g, m, v, out: F.mm(F.unsqueeze(g, 1), F.unsqueeze(v, 0)),
               lambda F, g, m, v, out: F.mv(F.t(m), g)),
         sympy=STRUCTURAL, derivative=("outer(g, v)", "M.T @ g"), syntax="M @ v (2-D @ 1-D)")
register(name="mm", grad_fn="MmBackward0", forward=np.dot, saves="ab", needs=("b", "a"),
         vjps=(lambda F, g, a, b, out: F.mm(g, F.t(b)), lambda F, g, a, b, out: F.mm(F.t(a), g)),
         sympy=STRUCTURAL, derivative=("g @ B.T", "A.T @ g"),
         syntax="A @ B (2-D @ 2-D; 1-D @ 2-D adds Unsqueeze/SqueezeBackward4)")
