"""The symmetric eigendecomposition (``numpy.linalg.eigh`` / ``eigvalsh``)."""

from __future__ import annotations

from typing import Any, NamedTuple

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


def eigh(a: Any, /, UPLO: str = "L", *, check_finite: bool = True) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (as columns) of the symmetric matrices in the
    last two axes of ``a``, as ``numpy.linalg.eigh``. Only the triangle ``UPLO`` names ("L":
    lower, "U": upper) is read. Each eigenvector's largest-magnitude component is positive.

    Raises ``ValueError`` for non-square input or a NaN / inf in the read triangle (unless
    ``check_finite=False``) and ``ferrolinalg.LinAlgError`` if the algorithm does not converge.
    """
    w, v = _core._eigh(a, _uplo(UPLO), True, bool(check_finite))
    assert v is not None
    return EighResult(w, v)


def eigvalsh(a: Any, /, UPLO: str = "L", *, check_finite: bool = True) -> NDArray[Any]:
    """Eigenvalues (ascending) of the symmetric matrices in the last two axes of ``a``, as
    ``numpy.linalg.eigvalsh``; only the triangle ``UPLO`` names is read."""
    w, _ = _core._eigh(a, _uplo(UPLO), False, bool(check_finite))
    return w
