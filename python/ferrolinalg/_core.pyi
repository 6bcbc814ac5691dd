"""Typed stubs of the native module ``ferrolinalg._core`` (checked by ``mypy.stubtest``)."""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

_Float = np.float32 | np.float64

def matmul(x1: ArrayLike, x2: ArrayLike, /, out: NDArray[_Float] | None = None) -> Any:
    """Matrix product with NumPy's ``matmul`` semantics, computed in float32 or float64."""

def _vector_norm(x: ArrayLike, ord: float, axes: list[int]) -> NDArray[_Float]:
    """The ``ord`` vector norm over ``axes`` (sorted, distinct); 0-d for a full reduction."""

def inv(a: ArrayLike, *, check_finite: bool = True) -> NDArray[_Float]:
    """The inverse of each matrix of ``a`` (``(..., n, n)``), as ``numpy.linalg.inv``.

    LU with partial pivoting; a singular matrix (an exact zero pivot) raises
    ``ferrolinalg.LinAlgError`` naming its batch index. ``check_finite=True`` raises
    ``ValueError`` on NaN or infinity.
    """

def solve(a: ArrayLike, b: ArrayLike, *, check_finite: bool = True) -> NDArray[_Float]:
    """The solution ``x`` of ``a @ x = b``, with NumPy 2's rules: ``b`` is one vector when it is
    1-D, else a stack ``(..., n, k)`` whose batch axes broadcast against ``a``'s.

    A singular matrix raises ``ferrolinalg.LinAlgError`` naming its batch index;
    ``check_finite=True`` raises ``ValueError`` on NaN or infinity in ``a`` or ``b``.
    """

def det(a: ArrayLike, *, check_finite: bool = True) -> Any:
    """The determinant of each matrix of ``a``, as ``numpy.linalg.det`` (a NumPy scalar for one
    matrix; 0 for a singular one, 1 for the empty one)."""

def _slogdet(a: ArrayLike, *, check_finite: bool = True) -> tuple[Any, Any]:
    """``(sign, logabsdet)`` of each matrix of ``a``; ``ferrolinalg.slogdet`` wraps it."""
def _eigh(
    a: ArrayLike, uplo: str, compute_v: bool, check_finite: bool
) -> tuple[NDArray[_Float], NDArray[_Float] | None]:
    """Eigenvalues (ascending) and, with ``compute_v``, eigenvectors of the symmetric matrices
    in ``a``, reading only the ``uplo`` ("L" / "U") triangle."""
def _svd(a: ArrayLike, full_matrices: bool, compute_uv: bool, check_finite: bool) -> Any:
    """The SVD of the matrices in the last two axes: ``(U, S, Vh)`` if ``compute_uv``, else ``S``."""

def set_num_threads(n: int) -> None:
    """Sets how many threads ferrolinalg's kernels may use (at least 1)."""

def get_num_threads() -> int:
    """How many threads ferrolinalg's kernels may use."""

def _reset_after_fork() -> None:
    """Starts a new thread pool in the child of a fork."""

def _randomized_svd(
    a: ArrayLike,
    k: int,
    n_oversamples: int,
    n_iter: int | None,
    normalizer: str,
    seed: int,
    check_finite: bool,
) -> tuple[NDArray[_Float], NDArray[_Float], NDArray[_Float]]:
    """The rank-``k`` randomized SVD of a 2-D array: ``(U, S, Vh)``; ``n_iter=None`` is "auto"."""

def _eigsh(a: ArrayLike, k: int, largest: bool, check_finite: bool) -> tuple[NDArray[_Float], NDArray[_Float]]:
    """The ``k`` eigenpairs at one end of a symmetric 2-D array: ``(w ascending, v)``."""

def _pca_fit(
    x: ArrayLike,
    solver: str,
    k: int,
    n_oversamples: int,
    n_iter: int | None,
    normalizer: str,
    seed: int,
) -> tuple[NDArray[_Float], NDArray[_Float], NDArray[_Float], float]:
    """PCA's native fit: ``(mean, S, Vh, total_var)`` ("full": all components, total_var NaN)."""
