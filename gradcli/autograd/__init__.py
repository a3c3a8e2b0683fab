"""gradcli's autograd engine: tensors, the op table and reverse-mode backward.

Knows nothing of program text; ``gradcli.lang`` builds graphs through this API.
"""

from . import functional
from .dtypes import default_dtype, get_default_dtype, set_default_dtype
from .engine import backward, grad
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import REGISTRY, Op
from .tensor import Tensor, tensor

__all__ = ["Tensor", "tensor", "backward", "grad", "no_grad", "enable_grad",
           "is_grad_enabled", "set_grad_enabled", "functional", "REGISTRY", "Op",
           "get_default_dtype", "set_default_dtype", "default_dtype"]
