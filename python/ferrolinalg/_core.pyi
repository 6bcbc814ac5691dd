"""Typed stubs of the native module ``ferrolinalg._core`` (checked by ``mypy.stubtest``)."""

from collections.abc import Sequence
from typing import Any
from typing import final

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

def _build_info() -> dict[str, Any]:
    """Versions of the crates inside, the CPU features in use and the thread settings."""

def _qr(a: ArrayLike, mode: str, check_finite: bool) -> Any:
    """The QR factorization of the matrices in the last two axes: ``(Q, R)``, or ``R`` for mode "r"."""

def _cholesky(a: ArrayLike, upper: bool, check_finite: bool) -> Any:
    """The Cholesky factor of the symmetric positive-definite matrices in the last two axes."""

def _einsum(
    subscripts: str,
    operands: tuple[ArrayLike, ...],
    optimize: Any = None,
    out: NDArray[_Float] | None = None,
    memory_limit: float | None = None,
) -> Any:
    """einsum on a tuple of operands; ``ferrolinalg.einsum`` wraps it. A result that is a view of
    the single operand comes back as ``(array, axes)`` or ``(array, shape, byte_strides)``."""

def _einsum_path(
    subscripts: str, shapes: Sequence[Sequence[int]], optimize: Any = None, memory_limit: float | None = None
) -> tuple[list[Any], str, int]:
    """``(path, report, largest_intermediate)`` for operands of ``shapes``."""

@final
class ContractExpression:
    """A contraction parsed, planned and shape-checked once; calling it runs the plan."""

    def __new__(
        cls,
        subscripts: str,
        shapes: Sequence[Sequence[int]],
        optimize: Any = None,
        memory_limit: float | None = None,
    ) -> ContractExpression: ...
    def __call__(self, *operands: ArrayLike, out: NDArray[_Float] | None = None) -> Any:
        """Runs the contraction (operands of the planned shapes)."""
    @property
    def path(self) -> list[Any]:
        """The contraction path, as ``["einsum_path", (i, j), ...]``."""
    @property
    def largest_intermediate(self) -> int:
        """Elements of the largest intermediate."""
    @property
    def flops(self) -> float:
        """The path's flop count (NumPy's count)."""
    @property
    def subscripts(self) -> str: ...
    @property
    def shapes(self) -> list[list[int]]: ...
    def report(self) -> str:
        """NumPy's ``einsum_path`` report for this plan."""
def linear(
    x: ArrayLike,
    w: ArrayLike,
    b: ArrayLike | None = None,
    activation: str | None = None,
    *,
    weight_layout: str = "in_out",
    slope: float = 0.01,
    out: NDArray[_Float] | None = None,
) -> NDArray[_Float]:
    """``activation(x @ w + b)``, fused: the bias and activation are applied to each output tile
    as the matrix product produces it. ``x`` is ``(..., in)``; ``w`` is ``(in, out)``, or
    ``(out, in)`` with ``weight_layout="out_in"``; ``b`` is ``(out,)`` or None. Activations:
    None, "relu", "leaky_relu" (with ``slope``), "gelu", "gelu_tanh", "silu", "sigmoid", "tanh",
    "softmax" (over the last axis)."""

@final
class _Mlp:
    """A stack of dense layers run in one native call; ``ferrolinalg.MLP`` wraps it."""

    def __new__(
        cls, layers: list[tuple[ArrayLike, ArrayLike | None, str | None, float]], weight_layout: str = "in_out"
    ) -> _Mlp: ...
    def forward(self, x: ArrayLike, out: NDArray[_Float] | None = None) -> NDArray[_Float]:
        """Runs every layer on ``x`` (shape ``(..., in_features)``)."""
    def check_finite(self) -> None:
        """Raises ValueError naming the first layer holding NaN or inf."""
    @property
    def dtype(self) -> str:
        """"float32" or "float64"."""
    def layer_info(self) -> list[tuple[int, int, str | None, float, bool]]:
        """``(in_features, out_features, activation, slope, has_bias)`` per layer."""
    def layer_arrays(self, i: int) -> tuple[NDArray[_Float], NDArray[_Float] | None]:
        """Layer ``i``'s weight (a copy, ``(in, out)``) and bias (or None)."""
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
