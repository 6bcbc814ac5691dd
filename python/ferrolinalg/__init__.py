"""ferrolinalg: fast linear algebra for deep learning and ML pipelines.

Rust kernels (rayon threads, faer's dense kernels) used on NumPy arrays without copies.
The names follow NumPy and the Array API standard, so ``import ferrolinalg as fl`` can stand in
for ``numpy.linalg``.
"""

from __future__ import annotations

import os as _os

from . import _core
from ._errors import LinAlgError
from ._core import matmul, get_num_threads, set_num_threads

__version__: str = _core.__version__

__all__ = [
    "LinAlgError",
    "__version__",
    "get_num_threads",
    "matmul",
    "set_num_threads",
]

# A forked child inherits the pool's memory but not its threads: start a fresh pool there.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_core._reset_after_fork)
