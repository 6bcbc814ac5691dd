"""Axis arguments, normalised as NumPy normalises them."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np

AxisError = np.exceptions.AxisError


def normalize_axes(axis: int | Sequence[int] | None, ndim: int) -> list[int]:
    """``axis`` (None for all, an int or a sequence of ints) as sorted non-negative axes.

    Raises ``numpy.exceptions.AxisError`` (a ValueError) for an axis out of range and
    ``ValueError`` for a repeated one, as NumPy's reductions do.
    """
    if axis is None:
        return list(range(ndim))
    axes = [axis] if not isinstance(axis, (tuple, list)) else list(axis)
    normalized = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise AxisError(a, ndim)
        normalized.append(a % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"repeated axis in {axis!r}")
    return sorted(normalized)
