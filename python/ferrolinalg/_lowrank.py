"""Randomized and truncated solvers: ``randomized_svd``, ``eigsh``, ``low_rank``."""

from __future__ import annotations

import secrets
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._eigen import EighResult
from ._svd import SVDResult, svd

__all__ = ["LowRankResult", "eigsh", "low_rank", "randomized_svd"]

_NORMALIZERS = ("auto", "QR", "LU", "none")


def _seed_from(seed: Any) -> int:
    """A 64-bit seed for the native generator: an int as given (mod 2**64), a fresh random one
    for None, or one drawn from a NumPy ``Generator`` / ``RandomState`` (scikit-learn's
    ``random_state`` forms)."""
    if seed is None:
        return secrets.randbits(64)
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError("seed must be None, an int, or a numpy random generator")
    if isinstance(seed, Integral):
        return int(seed) % 2**64
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(0, 2**31 - 1)) * 2**31 + int(seed.randint(0, 2**31 - 1))
    raise TypeError(f"seed must be None, an int, or a numpy random generator, not {type(seed).__name__}")


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, Integral):
        raise TypeError(f"{name} must be an int, not {type(k).__name__}")
    if k <= 0:
        raise ValueError(f"{name}={k} must be a positive integer")
    return int(k)


def _n_iter(n_iter: Any) -> int | None:
    if isinstance(n_iter, str):
        if n_iter != "auto":
            raise ValueError(f"n_iter must be 'auto' or a non-negative int, not {n_iter!r}")
        return None
    if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, Integral) or n_iter < 0:
        raise ValueError(f"n_iter must be 'auto' or a non-negative int, not {n_iter!r}")
    return int(n_iter)


def randomized_svd(
    a: Any,
    k: int,
    n_oversamples: int = 10,
    n_iter: int | str = "auto",
    power_iteration_normalizer: str = "auto",
    seed: Any = None,
    *,
    check_finite: bool = True,
) -> SVDResult:
    """The rank-``k`` randomized SVD of the 2-D array ``a`` (Halko, Martinsson and Tropp), the
    algorithm of scikit-learn's ``randomized_svd`` with the same parameters: ``k +
    n_oversamples`` random directions, ``n_iter`` power iterations ("auto": 7 if ``k < 0.1
    min(M, N)``, else 4), normalised between products by ``power_iteration_normalizer``
    ("auto": "none" for ``n_iter <= 2``, else "LU"; or "QR", "LU", "none"); a wide matrix is
    processed transposed.

    Returns ``SVDResult(U, S, Vh)`` with shapes ``(M, k)``, ``(k,)``, ``(k, N)`` in ``a``'s
    dtype (float32 stays float32). Signs follow ferrolinalg's convention (the largest-magnitude
    entry of each row of ``Vh`` is positive). The random test matrix comes from ferrolinalg's own
    counter-based generator, so an int ``seed`` gives the same result for any thread count (but
    not scikit-learn's random draws: results agree with scikit-learn's to the accuracy of the
    method, not bit for bit). ``seed=None`` draws a fresh seed.

    Raises ``ValueError`` if ``k`` is not in ``[1, min(M, N)]``, or for NaN / inf in ``a``
    (unless ``check_finite=False``).
    """
    k = _check_k(k)
    if isinstance(n_oversamples, (bool, np.bool_)) or not isinstance(n_oversamples, Integral) or n_oversamples < 0:
        raise ValueError(f"n_oversamples must be a non-negative int, not {n_oversamples!r}")
    if power_iteration_normalizer not in _NORMALIZERS:
        raise ValueError(
            f"power_iteration_normalizer must be one of {_NORMALIZERS}, not {power_iteration_normalizer!r}"
        )
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"randomized_svd needs a 2-D array (M, N), got shape {arr.shape}")
    u, s, vh = _core._randomized_svd(
        arr, k, int(n_oversamples), _n_iter(n_iter), power_iteration_normalizer, _seed_from(seed), bool(check_finite)
    )
    return SVDResult(u, s, vh)


def eigsh(a: Any, k: int, which: str = "LA", *, check_finite: bool = True) -> EighResult:
    """The ``k`` largest (``which="LA"``) or smallest (``"SA"``) eigenvalues of the symmetric 2-D
    array ``a`` and their eigenvectors, without a full decomposition (thick-restarted block
    Krylov / Davidson iteration converged to ``||A v - w v|| <= n eps ||A||``, the level of a
    full decomposition; small matrices and large ``k`` use the full ``eigh``).

    Returns ``EighResult(eigenvalues, eigenvectors)``: eigenvalues ascending (as ``eigh``),
    eigenvectors as the columns of an ``(N, k)`` array, each with its largest-magnitude component
    positive. The matrix must be symmetric (the iterative path reads all of it).
    """
    k = _check_k(k)
    if which not in ("LA", "SA"):
        raise ValueError(f"which must be 'LA' or 'SA', not {which!r}")
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"eigsh needs a square 2-D array (N, N), got shape {arr.shape}")
    w, v = _core._eigsh(arr, k, which == "LA", bool(check_finite))
    return EighResult(w, v)


class LowRankResult(NamedTuple):
    """``low_rank``'s factors: ``left @ right`` is the best rank-k approximation of ``a``.

    ``left = U[:, :k] * sqrt(S[:k])`` and ``right = sqrt(S[:k])[:, None] * Vh[:k]``: the
    singular values are split evenly between the two factors, so both have the same scale
    (what a weight matrix ``W (M, N)`` replaced by two layers ``x @ left @ right`` wants for
    storage in low precision and for fine-tuning). ``S`` holds the k singular values, so
    ``U = left / sqrt(S)`` and ``Vh = right / sqrt(S)[:, None]`` are recoverable.
    """

    left: NDArray[Any]
    right: NDArray[Any]
    S: NDArray[Any]


def low_rank(
    a: Any, k: int, method: str = "auto", *, seed: Any = None, n_iter: int | str = "auto", check_finite: bool = True
) -> LowRankResult:
    """The best rank-``k`` approximation of the matrices in the last two axes of ``a``, as
    factors ``LowRankResult(left, right, S)`` with ``left @ right`` the approximation
    (``left``: ``(..., M, k)``, ``right``: ``(..., k, N)``; see :class:`LowRankResult`).

    ``method="exact"``: from the full SVD (the optimum, Eckart-Young), any batch shape.
    ``"randomized"``: from ``randomized_svd(a, k, n_iter=n_iter, seed=seed)`` (2-D only; far
    cheaper for ``k << min(M, N)``, accurate when the spectrum decays). ``"auto"``:
    "randomized" for a 2-D ``a`` with ``min(M, N) > 500`` and ``k <= min(M, N) / 10``, else
    "exact".
    """
    k = _check_k(k)
    if method not in ("auto", "exact", "randomized"):
        raise ValueError(f"method must be 'auto', 'exact' or 'randomized', not {method!r}")
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    if arr.ndim < 2:
        raise ValueError(f"low_rank needs an array of at least two dimensions (..., M, N), got shape {arr.shape}")
    kmax = min(arr.shape[-2:])
    if k > kmax:
        raise ValueError(f"k={k} must be at most min(M, N)={kmax} for shape {arr.shape}")
    if method == "auto":
        method = "randomized" if arr.ndim == 2 and kmax > 500 and k * 10 <= kmax else "exact"
    if method == "randomized":
        u, s, vh = randomized_svd(arr, k, n_iter=n_iter, seed=seed, check_finite=check_finite)
    else:
        u, s, vh = svd(arr, full_matrices=False, check_finite=check_finite)
        u, s, vh = u[..., :k], s[..., :k], vh[..., :k, :]
    root = np.sqrt(s)
    return LowRankResult(u * root[..., None, :], root[..., :, None] * vh, np.ascontiguousarray(s))
