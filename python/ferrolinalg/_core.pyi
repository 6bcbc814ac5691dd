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

def _svd(a: ArrayLike, full_matrices: bool, compute_uv: bool, check_finite: bool) -> Any:
    """The SVD of the matrices in the last two axes: ``(U, S, Vh)`` if ``compute_uv``, else ``S``."""

def set_num_threads(n: int) -> None:
    """Sets how many threads ferrolinalg's kernels may use (at least 1)."""

def get_num_threads() -> int:
    """How many threads ferrolinalg's kernels may use."""

def _reset_after_fork() -> None:
    """Starts a new thread pool in the child of a fork."""
