"""``dot`` and ``vecdot``, expressed through ``matmul`` (whose batching they reuse)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._axes import AxisError
from ._convert import as_float_array
from ._core import matmul


def _as_float(x: Any, name: str) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64):
        return x
    return as_float_array(x, name)


def dot(a: Any, b: Any, out: np.ndarray | None = None) -> Any:
    """``numpy.dot``: products of scalars, inner products of vectors, matrix products, and for
    N-D operands the sum over the last axis of ``a`` and the second-to-last of ``b``."""
    a, b = _as_float(a, "a"), _as_float(b, "b")
    if a.ndim == 0 or b.ndim == 0:
        result = np.multiply(a, b)
    elif b.ndim <= 2 and a.ndim <= 2 or b.ndim == 1:
        # matmul's semantics coincide with dot's here (N-D @ 1-D sums over the last axis)
        return matmul(a, b, out=out) if out is not None else matmul(a, b)
    else:
        # a (..., k) with b (..., k, n): every vector of a against every matrix of b
        k = a.shape[-1]
        if b.shape[-2] != k:
            raise ValueError(f"dot: shapes {a.shape} and {b.shape} not aligned: {k} (dim {a.ndim - 1}) != {b.shape[-2]} (dim {b.ndim - 2})")
        b2 = np.moveaxis(b, -2, 0).reshape(k, -1)
        result = matmul(a.reshape(-1, k), b2).reshape(a.shape[:-1] + b.shape[:-2] + b.shape[-1:])
    if out is None:
        return result
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.dtype != result.dtype:
        raise TypeError(f"out has dtype {out.dtype} but the result has dtype {result.dtype}")
    if out.shape != np.shape(result):
        raise ValueError(f"out has shape {out.shape} but the result has shape {np.shape(result)}")
    out[...] = result
    return out


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """``numpy.vecdot``: the dot product of vectors along ``axis``, after broadcasting."""
    x1, x2 = _as_float(x1, "x1"), _as_float(x2, "x2")
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError("vecdot needs arrays of at least one dimension")
    axis = operator.index(axis)
    for x in (x1, x2):
        if not -x.ndim <= axis < x.ndim:
            raise AxisError(axis, x.ndim)
    # the summed axis of each operand moved last; its sizes must agree (no broadcasting there),
    # the other axes broadcast through matmul's batch axes: (..., 1, n) @ (..., n, 1)
    v1, v2 = np.moveaxis(x1, axis, -1), np.moveaxis(x2, axis, -1)
    if v1.shape[-1] != v2.shape[-1]:
        raise ValueError(
            f"vecdot: shapes {x1.shape} and {x2.shape} differ along axis {axis} "
            f"({v1.shape[-1]} != {v2.shape[-1]})"
        )
    try:
        result = matmul(v1[..., None, :], v2[..., :, None])[..., 0, 0]
    except ValueError:
        raise ValueError(f"vecdot: shapes {x1.shape} and {x2.shape} do not broadcast") from None
    return result[()] if result.ndim == 0 else result
