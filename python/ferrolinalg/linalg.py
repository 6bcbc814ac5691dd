"""The Array API standard's ``linalg`` extension, as ``ferrolinalg.linalg``.

Code written against ``xp.linalg`` (the 2023.12 standard: positional-only array arguments,
keyword-only options, named-tuple results with the standard's field names) can take this module
as its ``linalg`` namespace for NumPy arrays::

    import ferrolinalg.linalg as la
    w, v = la.eigh(x)              # EighResult(eigenvalues, eigenvectors)
    u, s, vh = la.svd(x, full_matrices=False)

Every function of the extension is here. Those marked *native* run on ferrolinalg's kernels
(batched, multi-threaded, any layout); the others are thin views or light operations taken from
NumPy, which does them without a decomposition or a matrix product worth speeding up:

=====================  =========  ==============================================================
function               source     notes
=====================  =========  ==============================================================
``cholesky``           native     only the named triangle is read
``cross``              NumPy
``det``                native
``diagonal``           NumPy      a view
``eigh``               native     ascending eigenvalues; eigenvectors with DESIGN.md's sign rule
``eigvalsh``           native
``inv``                native
``matmul``             native
``matrix_norm``        native
``matrix_power``       native     repeated squaring with ``matmul``; ``inv`` first for ``n < 0``
``matrix_rank``        native
``matrix_transpose``   NumPy      a view
``outer``              NumPy
``pinv``               native
``qr``                 native     unique factors: ``diag(R) >= 0``
``slogdet``            native
``solve``              native
``svd``                native
``svdvals``            native
``tensordot``          native
``trace``              NumPy
``vecdot``             native
``vector_norm``        native
=====================  =========  ==============================================================

Complex dtypes are not supported by the native functions (they raise ``TypeError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _eigen, _einsum, _factor, _norms, _products, _solvers, _svd
from ._core import det as _det
from ._core import inv as _inv
from ._core import matmul as _matmul
from ._core import solve as _solve
from ._convert import as_float_array
from ._eigen import EighResult
from ._factor import QRResult
from ._solvers import SlogdetResult
from ._svd import SVDResult

__all__ = [
    "EighResult",
    "QRResult",
    "SlogdetResult",
    "SVDResult",
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensordot",
    "trace",
    "vecdot",
    "vector_norm",
]


def cholesky(x: Any, /, *, upper: bool = False) -> Any:
    """The Cholesky factor of each symmetric positive-definite matrix (lower, or upper)."""
    return _factor.cholesky(x, upper=upper)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """The cross product of 3-element vectors along ``axis``."""
    return np.linalg.cross(x1, x2, axis=axis)


def det(x: Any, /) -> Any:
    """The determinant of each matrix in the last two axes."""
    return _det(x)


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """The ``offset`` diagonal of each matrix in the last two axes (a view)."""
    return np.linalg.diagonal(x, offset=offset)


def eigh(x: Any, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of each symmetric matrix (lower triangle read)."""
    return _eigen.eigh(x)


def eigvalsh(x: Any, /) -> Any:
    """Eigenvalues (ascending) of each symmetric matrix (lower triangle read)."""
    return _eigen.eigvalsh(x)


def inv(x: Any, /) -> Any:
    """The inverse of each square matrix in the last two axes."""
    return _inv(x)


def matmul(x1: Any, x2: Any, /) -> Any:
    """The matrix product with NumPy's ``matmul`` semantics."""
    return _matmul(x1, x2)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: float | str | None = "fro") -> Any:
    """Matrix norm of each matrix in the last two axes ('fro', 'nuc', 1, -1, 2, -2, inf, -inf)."""
    return _norms.matrix_norm(x, keepdims=keepdims, ord="fro" if ord is None else ord)


def matrix_power(x: Any, n: int, /) -> Any:
    """``x`` multiplied by itself ``n`` times (the identity for 0, powers of the inverse below)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power's exponent must be an integer, not {type(n).__name__}")
    a = as_float_array(x, "x")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"matrix_power needs square matrices in the last two axes, got shape {a.shape}")
    if n == 0:
        return np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
    base = _inv(a) if n < 0 else a
    n = abs(int(n))
    result = None
    # binary powering: log2(n) squarings and one product per set bit
    while True:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if not n:
            break
        base = _matmul(base, base)
    return result.copy() if result is a else result


def matrix_rank(x: Any, /, *, rtol: Any = None) -> Any:
    """The number of singular values above ``rtol * largest`` (NumPy's default ``rtol``)."""
    return _svd.matrix_rank(x, rtol=rtol)


def matrix_transpose(x: Any, /) -> Any:
    """Each matrix in the last two axes transposed (a view)."""
    return np.linalg.matrix_transpose(x)


def outer(x1: Any, x2: Any, /) -> Any:
    """The outer product of two vectors."""
    return np.linalg.outer(x1, x2)


def pinv(x: Any, /, *, rtol: Any = None) -> Any:
    """The Moore-Penrose pseudo-inverse of each matrix, singular values below ``rtol`` cut."""
    return _svd.pinv(x, rtol=rtol)


def qr(x: Any, /, *, mode: str = "reduced") -> QRResult:
    """The QR factorization of each matrix (``mode`` 'reduced' or 'complete'), ``diag(R) >= 0``."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr's mode must be 'reduced' or 'complete', not {mode!r}")
    result: QRResult = _factor.qr(x, mode=mode)
    return result


def slogdet(x: Any, /) -> SlogdetResult:
    """Sign and natural log of the absolute determinant of each matrix."""
    return _solvers.slogdet(x)


def solve(x1: Any, x2: Any, /) -> Any:
    """The solution of ``x1 @ out = x2`` (NumPy's broadcasting rules for ``x2``)."""
    return _solve(x1, x2)


def svd(x: Any, /, *, full_matrices: bool = True) -> SVDResult:
    """``U, S, Vh`` with ``S`` descending, with DESIGN.md's sign convention."""
    result: SVDResult = _svd.svd(x, full_matrices=full_matrices)
    return result


def svdvals(x: Any, /) -> Any:
    """The singular values of each matrix, descending."""
    return _svd.svdvals(x)


def tensordot(x1: Any, x2: Any, /, *, axes: int | tuple[Sequence[int], Sequence[int]] = 2) -> Any:
    """The contraction of ``x1``'s last (or listed) axes with ``x2``'s first (or listed) axes."""
    return _einsum.tensordot(x1, x2, axes=axes)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """The sum of the ``offset`` diagonal of each matrix in the last two axes."""
    return np.linalg.trace(x, offset=offset, dtype=dtype)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """The dot product of vectors along ``axis`` (broadcast over the rest)."""
    return _products.vecdot(x1, x2, axis=axis)


def vector_norm(x: Any, /, *, axis: int | tuple[int, ...] | None = None, keepdims: bool = False,
                ord: float = 2) -> Any:
    """The vector norm over ``axis`` (all axes when None)."""
    return _norms.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
