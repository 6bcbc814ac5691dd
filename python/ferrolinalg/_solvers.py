"""The LU-based solvers' Python side: ``slogdet``'s named tuple (``inv``, ``solve`` and ``det``
are native functions of ``_core``)."""

from __future__ import annotations

from typing import Any, NamedTuple

from . import _core

__all__ = ["SlogdetResult", "slogdet"]


class SlogdetResult(NamedTuple):
    """The result of :func:`slogdet`, as ``numpy.linalg.slogdet`` returns it."""

    sign: Any
    logabsdet: Any


def slogdet(a: Any, *, check_finite: bool = True) -> SlogdetResult:
    """Sign and natural logarithm of the absolute value of the determinant of each matrix of
    ``a`` (``(..., n, n)``), as ``numpy.linalg.slogdet``: ``det = sign * exp(logabsdet)``.

    A singular matrix (an exact zero pivot in its LU factorization) gives ``(0, -inf)``, the
    empty matrix ``(1, 0)``. The logarithm is taken of a product kept in mantissa and exponent,
    so it is accurate also where the determinant itself would overflow or underflow.
    ``check_finite=True`` raises ``ValueError`` on NaN or infinity in ``a``.
    """
    sign, logabsdet = _core._slogdet(a, check_finite=check_finite)
    return SlogdetResult(sign, logabsdet)
