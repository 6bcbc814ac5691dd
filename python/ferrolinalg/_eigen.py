"""The symmetric eigendecomposition (``numpy.linalg.eigh`` / ``eigvalsh``)."""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from numpy.typing import NDArray

from . import _core


class EighResult(NamedTuple):
    """``eigh``'s result, as ``numpy.linalg.eigh`` returns it."""

    eigenvalues: NDArray[Any]
    eigenvectors: NDArray[Any]


def _uplo(UPLO: Any) -> str:
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', not {UPLO!r}")
    return UPLO.upper()


def _subset(a: Any, subset_by_index: Any) -> tuple[Any, int, int]:
    """The array and the checked inclusive index range ``(lo, hi)`` of ``subset_by_index``."""
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"eigh: the last two dimensions of a must be square, got shape {arr.shape}")
    n = arr.shape[-1]
    try:
        lo, hi = (operator.index(i) for i in subset_by_index)
    except (TypeError, ValueError):
        raise ValueError(f"subset_by_index must be a pair of ints (lo, hi), not {subset_by_index!r}") from None
    if not 0 <= lo <= hi < n:
        raise ValueError(f"subset_by_index=({lo}, {hi}) must satisfy 0 <= lo <= hi <= N - 1 = {n - 1}")
    return arr, lo, hi


def _eigh_subset(a: Any, uplo: str, subset_by_index: Any, check_finite: bool) -> tuple[Any, Any]:
    """Eigenpairs ``lo..hi`` (inclusive, ascending) as ``scipy.linalg.eigh(subset_by_index=)``:
    a range at one end of the spectrum of one matrix goes to ``eigsh`` (no full decomposition),
    anything else to the full ``eigh``, sliced."""
    arr, lo, hi = _subset(a, subset_by_index)
    n = arr.shape[-1]
    if arr.ndim == 2 and (lo == 0 or hi == n - 1) and (lo, hi) != (0, n - 1):
        sym = arr if uplo == "L" else arr.T
        # the iterative path reads the whole matrix: give it the symmetric one the triangle means
        sym = np.tril(sym) + np.tril(sym, -1).T
        if lo == 0:
            return _core._eigsh(sym, hi + 1, False, check_finite)
        return _core._eigsh(sym, n - lo, True, check_finite)
    w, v = _core._eigh(arr, uplo, True, check_finite)
    assert v is not None
    return w[..., lo : hi + 1], v[..., :, lo : hi + 1]


def eigh(
    a: Any, /, UPLO: str = "L", *, check_finite: bool = True, subset_by_index: tuple[int, int] | None = None
) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (as columns) of the symmetric matrices in the
    last two axes of ``a``, as ``numpy.linalg.eigh``. Only the triangle ``UPLO`` names ("L":
    lower, "U": upper) is read. Each eigenvector's largest-magnitude component is positive.

    ``subset_by_index=(lo, hi)`` (as ``scipy.linalg.eigh``) returns only the eigenpairs ``lo`` to
    ``hi`` inclusive (0-based, ascending order); a range at either end of the spectrum of a 2-D
    ``a`` is computed by ``eigsh`` without a full decomposition.

    Raises ``ValueError`` for non-square input or a NaN / inf in the read triangle (unless
    ``check_finite=False``) and ``ferrolinalg.LinAlgError`` if the algorithm does not converge.
    """
    if subset_by_index is not None:
        w, v = _eigh_subset(a, _uplo(UPLO), subset_by_index, bool(check_finite))
        return EighResult(w, v)
    w, v = _core._eigh(a, _uplo(UPLO), True, bool(check_finite))
    assert v is not None
    return EighResult(w, v)


def eigvalsh(
    a: Any, /, UPLO: str = "L", *, check_finite: bool = True, subset_by_index: tuple[int, int] | None = None
) -> NDArray[Any]:
    """Eigenvalues (ascending) of the symmetric matrices in the last two axes of ``a``, as
    ``numpy.linalg.eigvalsh``; only the triangle ``UPLO`` names is read. ``subset_by_index``
    as for :func:`eigh`."""
    if subset_by_index is not None:
        w, _ = _eigh_subset(a, _uplo(UPLO), subset_by_index, bool(check_finite))
        return w  # type: ignore[no-any-return]
    w, _ = _core._eigh(a, _uplo(UPLO), False, bool(check_finite))
    return w
