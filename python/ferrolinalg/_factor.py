"""QR and Cholesky factorizations, with NumPy's signatures."""

from __future__ import annotations

from typing import Any, NamedTuple

from . import _core
from ._convert import as_float_array


class QRResult(NamedTuple):
    """``qr``'s result: ``Q`` with orthonormal columns and upper-triangular ``R``."""

    Q: Any
    R: Any


def qr(a: Any, mode: str = "reduced", *, check_finite: bool = True) -> Any:
    """The QR factorization of each matrix in the last two axes, as ``numpy.linalg.qr``.

    ``mode`` is "reduced" (``Q`` is ``(..., M, K)``, ``R`` ``(..., K, N)``, ``K = min(M, N)``),
    "complete" (``Q`` square) or "r" (``R`` only). Unlike LAPACK's, the factors are unique:
    the diagonal of ``R`` is non-negative (rows of ``R`` and columns of ``Q`` are negated in
    pairs where needed), the same for any thread count.
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr's mode must be 'reduced', 'complete' or 'r', not {mode!r}")
    result = _core._qr(as_float_array(a, "a"), mode, check_finite)
    return result if mode == "r" else QRResult(*result)


def cholesky(a: Any, /, *, upper: bool = False, check_finite: bool = True) -> Any:
    """The Cholesky factor of each symmetric positive-definite matrix, as ``numpy.linalg.cholesky``.

    Lower (``A = L L^T``) or, with ``upper``, upper (``A = U^T U``); only that triangle of ``a`` is
    read. A matrix that is not positive definite raises ``LinAlgError`` naming its batch index.
    """
    return _core._cholesky(as_float_array(a, "a"), bool(upper), check_finite)
