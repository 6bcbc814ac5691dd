"""The singular value decomposition and what is built on it: ``svd``, ``svdvals``, ``pinv``,
``lstsq``, ``matrix_rank`` (``numpy.linalg``'s semantics, NumPy 2's defaults)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._core import matmul

__all__ = ["SVDResult", "lstsq", "matrix_rank", "pinv", "svd", "svdvals"]


class SVDResult(NamedTuple):
    """``svd``'s result, as ``numpy.linalg.svd`` returns it: ``A = U @ (S[..., None] * Vh)``."""

    U: NDArray[Any]
    S: NDArray[Any]
    Vh: NDArray[Any]


# NumPy's default for pinv's rtol when rcond is not given either (a sentinel: None means
# "max(M, N) * eps" there).
_NoValue: Any = object()


def _lower_symmetric(a: NDArray[Any]) -> NDArray[Any]:
    """The symmetric matrices whose lower triangles are those of ``a``: what NumPy's
    ``hermitian=True`` paths read (they call ``eigh``, which reads the lower triangle only)."""
    lower = np.tril(a)
    return lower + np.swapaxes(np.tril(a, -1), -1, -2)


def svd(
    a: Any,
    full_matrices: bool = True,
    compute_uv: bool = True,
    hermitian: bool = False,
    *,
    check_finite: bool = True,
) -> Any:
    """Singular value decomposition of the matrices in the last two axes of ``a``, as
    ``numpy.linalg.svd``: ``SVDResult(U, S, Vh)`` with ``a == U @ (S[..., None] * Vh)``, or
    just ``S`` if ``compute_uv`` is false. ``S`` is descending; ``U`` is ``(..., M, M)`` and
    ``Vh`` ``(..., N, N)`` if ``full_matrices``, else ``(..., M, K)`` and ``(..., K, N)`` with
    ``K = min(M, N)``.

    Signs follow ferrolinalg's convention (not LAPACK's): the largest-magnitude entry of each row
    of ``Vh`` is positive, the matching column of ``U`` flipped alongside, so results do not
    depend on the thread count or the run.

    ``hermitian=True`` reads only the lower triangle (as NumPy's, which calls ``eigh``);
    the decomposition is then that of the symmetric matrix it describes. NaN or inf in ``a``
    raises ``ValueError`` unless ``check_finite=False`` (a non-finite matrix then raises
    ``LinAlgError``, as NumPy does); a matrix that does not converge raises ``LinAlgError``
    naming its batch index.
    """
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    if hermitian:
        arr = _lower_symmetric(_as_float(arr))
    result = _core._svd(arr, full_matrices, compute_uv, check_finite)
    if compute_uv:
        return SVDResult(*result)
    return result


def svdvals(x: Any, /, *, check_finite: bool = True) -> NDArray[Any]:
    """The singular values of the matrices in the last two axes of ``x``, descending (as
    ``numpy.linalg.svdvals``)."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    result: NDArray[Any] = _core._svd(arr, False, False, check_finite)
    return result


def _as_float(a: NDArray[Any]) -> NDArray[Any]:
    """float32 stays float32, float16 becomes float32, anything else float64 (the dtype rule of
    the whole package)."""
    if a.dtype in (np.float32, np.float64):
        return a
    if a.dtype.kind in "cO":
        raise TypeError(f"ferrolinalg computes in float32 or float64; got an array of dtype {a.dtype}")
    return a.astype(np.float32 if a.dtype == np.float16 else np.float64)


def _svd_f64(a: NDArray[Any], hermitian: bool, compute_uv: bool) -> Any:
    """The SVD computed in float64 whatever ``a``'s dtype, as NumPy computes pinv, lstsq and
    matrix_rank (its LAPACK calls are all double precision): a float32 matrix that is singular
    in exact arithmetic then gets the same tiny singular values, and the same cut-offs, as with
    NumPy, instead of float32 rounding noise 1e9 times larger."""
    a64 = a.astype(np.float64, copy=False)
    if hermitian:
        a64 = _lower_symmetric(a64)
    return _core._svd(a64, False, compute_uv, True)


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NoValue) -> NDArray[Any]:
    """The Moore-Penrose pseudo-inverse of the matrices in the last two axes of ``a``, as
    ``numpy.linalg.pinv`` (NumPy 2): singular values at most ``rcond * max(S)`` count as zero.
    ``rcond`` defaults to ``1e-15``; ``rtol=None`` means ``max(M, N) * eps``; ``rcond`` and
    ``rtol`` cannot both be given. ``hermitian=True`` reads only the lower triangle.
    NaN or inf raise ``ValueError``."""
    arr = _as_float(np.asarray(a))
    if arr.ndim < 2:
        raise ValueError(f"pinv needs an array of at least two dimensions (..., M, N), got shape {arr.shape}")
    if rcond is None:
        if rtol is _NoValue:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(arr.shape[-2:]) * np.finfo(arr.dtype).eps
        else:
            rcond = rtol
    elif rtol is not _NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    m, n = arr.shape[-2:]
    if m == 0 or n == 0:
        return np.zeros(arr.shape[:-2] + (n, m), dtype=arr.dtype)
    u, s, vh = _svd_f64(arr, hermitian, True)
    dtype = arr.dtype
    u, s, vh = u.astype(dtype, copy=False), s.astype(dtype, copy=False), vh.astype(dtype, copy=False)
    cutoff = np.asarray(rcond)[..., np.newaxis] * np.max(s, axis=-1, keepdims=True)
    large = s > cutoff
    inv_s = np.divide(1, s, where=large, out=np.zeros_like(s))
    # pinv = V diag(1/s) U^T
    result: NDArray[Any] = matmul(np.swapaxes(vh, -1, -2), inv_s[..., :, np.newaxis] * np.swapaxes(u, -1, -2))
    return result


def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[NDArray[Any], NDArray[Any], int, NDArray[Any]]:
    """The least-squares solution of ``a @ x = b``, as ``numpy.linalg.lstsq``: ``(x, residuals,
    rank, s)``. ``a`` is ``(M, N)``, ``b`` is ``(M,)`` or ``(M, K)``. Singular values at most
    ``rcond * S[0]`` count as zero (``rcond=None``: ``max(M, N)`` times float64's eps, as NumPy;
    negative: float64's eps). ``residuals`` holds the squared 2-norms of the columns of
    ``b - a @ x`` (shape ``(K,)``, or ``(1,)`` for a 1-D ``b``) when ``rank == N < M``, else is
    empty. NaN or inf raise ``ValueError``."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    is_1d = b_arr.ndim == 1
    if a_arr.ndim != 2 or b_arr.ndim not in (1, 2):
        raise ValueError(
            f"lstsq needs a 2-D a and a 1-D or 2-D b: shapes {a_arr.shape} and {b_arr.shape}"
        )
    a_f, b_f = _as_float(a_arr), _as_float(b_arr)
    result_t = np.result_type(a_f.dtype, b_f.dtype)
    b2 = b_f[:, np.newaxis] if is_1d else b_f
    m, n = a_f.shape
    if b2.shape[0] != m:
        raise ValueError(f"lstsq: a and b must have the same number of rows: shapes {a_arr.shape} and {b_arr.shape}")
    eps64 = float(np.finfo(np.float64).eps)
    if rcond is None:
        rcond = eps64 * max(m, n)
    elif rcond < 0:
        rcond = eps64
    b64 = b2.astype(np.float64, copy=False)
    if not np.all(np.isfinite(b64)):
        raise ValueError("b must not contain infs or NaNs")
    u, s, vh = _svd_f64(a_f, False, True)
    k = min(m, n)
    cutoff = rcond * s[0] if k else 0.0
    large = s > cutoff
    rank = int(np.count_nonzero(large))
    inv_s = np.divide(1.0, s, where=large, out=np.zeros_like(s))
    # x = V diag(1/s) U^T b over the kept singular values
    x = matmul(vh.T, inv_s[:, np.newaxis] * matmul(u.T, b64))
    if rank == n and m > n:
        r = b64 - matmul(a_f.astype(np.float64, copy=False), x)
        resids = np.einsum("ij,ij->j", r, r)
    else:
        resids = np.empty((0,), np.float64)
    if is_1d:
        x = x[:, 0]
    return x.astype(result_t), resids.astype(result_t), rank, s.astype(result_t)


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """The rank of the matrices in the last two axes of ``A``, as ``numpy.linalg.matrix_rank``
    (NumPy 2): the number of singular values above ``tol``, by default ``rtol * max(S)`` with
    ``rtol`` defaulting to ``max(M, N) * eps`` of ``A``'s dtype. ``tol`` and ``rtol`` cannot both
    be given. An array of fewer than two dimensions has rank 1 unless it is all zeros.
    NaN or inf raise ``ValueError``."""
    if rtol is not None and tol is not None:
        raise ValueError("`tol` and `rtol` can't be both set.")
    arr = np.asarray(A)
    if arr.ndim < 2:
        return int(not np.all(arr == 0))
    arr = _as_float(arr)
    S = _svd_f64(arr, hermitian, False).astype(arr.dtype, copy=False)
    if tol is None:
        if rtol is None:
            rtol = max(arr.shape[-2:]) * np.finfo(S.dtype).eps
        else:
            rtol = np.asarray(rtol)[..., np.newaxis]
        tol = S.max(axis=-1, keepdims=True, initial=0) * rtol
    else:
        tol = np.asarray(tol)[..., np.newaxis]
    return np.count_nonzero(S > tol, axis=-1)
