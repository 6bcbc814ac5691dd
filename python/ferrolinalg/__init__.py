"""ferrolinalg: fast linear algebra for deep learning and ML pipelines.

Rust kernels (faer's dense kernels, our own batching and threading) used on NumPy arrays without
copies. The names and signatures follow NumPy and the Array API standard, so
``import ferrolinalg as fl`` can stand in for ``numpy.linalg`` in most code.
"""

from __future__ import annotations

import os as _os

from . import _core, linalg
from ._core import det, get_num_threads, inv, matmul, set_num_threads, solve
from ._dense import MLP, LayerInfo, linear
from ._eigen import EighResult, eigh, eigvalsh
from ._einsum import ContractExpression, contract_expression, einsum, einsum_path, tensordot
from ._errors import LinAlgError
from ._factor import QRResult, cholesky, qr
from ._products import dot, vecdot
from ._norms import matrix_norm, vector_norm
from ._solvers import SlogdetResult, slogdet
from ._svd import SVDResult, lstsq, matrix_rank, pinv, svd, svdvals
from ._threads import threads
from ._lowrank import LowRankResult, eigsh, low_rank, randomized_svd
from ._pca import PCA, NotFittedError

__version__: str = _core.__version__

__all__ = [
    "__version__",
    "ContractExpression",
    "EighResult",
    "LayerInfo",
    "LinAlgError",
    "LowRankResult",
    "MLP",
    "NotFittedError",
    "PCA",
    "QRResult",
    "SlogdetResult",
    "SVDResult",
    "cholesky",
    "contract_expression",
    "det",
    "dot",
    "eigh",
    "eigsh",
    "eigvalsh",
    "einsum",
    "einsum_path",
    "get_num_threads",
    "inv",
    "linear",
    "low_rank",
    "lstsq",
    "matmul",
    "matrix_norm",
    "matrix_rank",
    "pinv",
    "qr",
    "randomized_svd",
    "set_num_threads",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "threads",
    "vecdot",
    "vector_norm",
]

# threadpoolctl (optional) learns of our pool, so `threadpool_limits` reaches it as it reaches BLAS.
try:
    import threadpoolctl as _threadpoolctl
except ImportError:  # pragma: no cover - threadpoolctl is not a dependency
    pass
else:
    if hasattr(_threadpoolctl, "register") and hasattr(_threadpoolctl, "LibController"):
        from ._threadpoolctl import register as _register_threadpoolctl

        _register_threadpoolctl()

# A forked child inherits the pool's memory but not its threads: start a fresh pool there.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_core._reset_after_fork)
