"""Vector and matrix norms (``numpy.linalg.vector_norm`` / ``matrix_norm``)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._axes import normalize_axes


def _vector_ord(ord: Any) -> float:
    if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, numbers.Real):
        raise ValueError(f"invalid norm order {ord!r} for vectors: use a number, inf or -inf")
    value = float(ord)
    if math.isnan(value):
        raise ValueError("invalid norm order nan for vectors")
    return value


def vector_norm(
    x: Any,
    /,
    *,
    axis: int | Sequence[int] | None = None,
    keepdims: bool = False,
    ord: float = 2,
) -> Any:
    """The ``ord`` norm of ``x`` over ``axis`` (all axes by default), as
    ``numpy.linalg.vector_norm``: ``ord`` is 2, 1, inf, -inf, 0 (the count of non-zeros) or any
    other ``p`` for ``sum(|x|**p)**(1/p)``.

    Unlike NumPy's, the 2-norm neither overflows nor underflows where the norm itself is
    representable (float64 results are rescaled as LAPACK's ``nrm2`` does; float32 sums are
    accumulated in float64).
    """
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    axes = normalize_axes(axis, arr.ndim)
    result = _core._vector_norm(arr, _vector_ord(ord), axes)
    if keepdims:
        return result.reshape([1 if d in axes else n for d, n in enumerate(arr.shape)])
    return result[()] if result.ndim == 0 else result


_SVD_ORDS = (2, -2, "nuc")


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: float | str = "fro") -> Any:
    """The ``ord`` norm of the matrices in the last two axes of ``x``, as
    ``numpy.linalg.matrix_norm``: ``"fro"``, 1 / -1 (largest / smallest column sum of absolute
    values), inf / -inf (largest / smallest row sum), 2 / -2 (largest / smallest singular value),
    ``"nuc"`` (sum of the singular values)."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.ndim < 2:
        raise ValueError(f"matrix_norm needs at least two dimensions, got shape {arr.shape}")
    if isinstance(ord, str):
        if ord == "fro":
            return vector_norm(arr, axis=(-2, -1), keepdims=keepdims)
        if ord == "nuc":
            return _svd_norm(arr, ord, keepdims)
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    if ord in (1, -1, math.inf, -math.inf):
        # 1: sums down the columns (axis -2), then over the columns; inf: sums along the rows
        sum_axis, pick_axis = (-2, -1) if abs(ord) == 1 else (-1, -2)
        sums = vector_norm(arr, axis=sum_axis, ord=1, keepdims=True)
        # the largest of no sums is 0 (as NumPy gives); the smallest of none is undefined (raises)
        picked = (
            sums.max(axis=pick_axis, keepdims=True, initial=0)
            if ord > 0
            else sums.min(axis=pick_axis, keepdims=True)
        )
        return picked if keepdims else picked[..., 0, 0][()]
    if ord in _SVD_ORDS:
        return _svd_norm(arr, ord, keepdims)
    raise ValueError(f"invalid norm order {ord!r} for matrices")


def _svd_norm(arr: np.ndarray, ord: Any, keepdims: bool) -> Any:
    """ord 2 / -2 / "nuc" from the singular values. As with the other ords (and unlike NumPy,
    which raises), a matrix holding a NaN has norm NaN and one holding an infinity has 2-norm and
    nuclear norm inf (its smallest singular value is undefined: NaN); the other matrices of the
    batch are unaffected."""
    from ._svd import svdvals  # the SVD module imports _core too; import lazily to keep this light

    finite = np.isfinite(arr).all(axis=(-2, -1))
    all_finite = bool(np.all(finite))
    s = svdvals(arr if all_finite else np.where(finite[..., None, None], arr, 0))
    if ord == 2:
        result = s.max(axis=-1, initial=0)
    elif ord == -2:
        result = s.min(axis=-1)  # of no singular values: ValueError, as NumPy
    else:
        result = s.sum(axis=-1)
    if not all_finite:
        result = np.asarray(result).copy()
        has_nan = np.isnan(arr).any(axis=(-2, -1))
        result[~finite] = np.inf if ord != -2 else np.nan
        result[has_nan] = np.nan
    if keepdims:
        return np.asarray(result).reshape(arr.shape[:-2] + (1, 1))
    return result[()] if np.ndim(result) == 0 else result
