"""Benchmark cases of the singular value decomposition (issue 3): ``ferrolinalg.svd`` (thin,
``full_matrices=False``) and ``ferrolinalg.svdvals`` against ``numpy.linalg``.

NumPy's singular vectors carry LAPACK's signs and ours DESIGN.md's convention, so the agreement
check compares the singular values and the reconstruction ``U diag(S) Vh`` (both sides must give
back the input), not the factors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ferrolinalg as fl

from .cases import Inputs, case, rng_for, rotation_count

__all__: list[str] = []


def _svd_thin_ours(a: np.ndarray) -> Any:
    return fl.svd(a, full_matrices=False)


def _svd_thin_numpy(a: np.ndarray) -> Any:
    return np.linalg.svd(a, full_matrices=False)


def _values_and_reconstruction(result: Any) -> np.ndarray:
    """The singular values, then ``U diag(S) Vh``, flattened into one array."""
    u, s, vh = result
    return np.concatenate([s.ravel(), ((u * s[..., None, :]) @ vh).ravel()])


def _normal(name: str, shape: tuple[int, ...]) -> list[Inputs]:
    per_set = int(np.prod(shape)) * 8
    return [(rng_for(name, i).standard_normal(shape),) for i in range(rotation_count(per_set))]


def _register(shape: tuple[int, ...], goal: float, group: str = "svd") -> None:
    label = "x".join(map(str, shape))
    svd_name, vals_name = f"svd f64 {label}", f"svdvals f64 {label}"
    if len(shape) == 3:
        svd_name, vals_name = f"svd f64 batch {label}", f"svdvals f64 batch {label}"

    @case(svd_name, group=group, peer="numpy", goal=goal, ours=_svd_thin_ours, theirs=_svd_thin_numpy,
          compare=_values_and_reconstruction, issue="3")
    def _svd_setup() -> list[Inputs]:
        return _normal(svd_name, shape)

    @case(vals_name, group=group, peer="numpy", goal=goal, ours=fl.svdvals, theirs=np.linalg.svdvals, issue="3")
    def _vals_setup() -> list[Inputs]:
        return _normal(vals_name, shape)


# goals from issue 3's table (ferrolinalg / numpy.linalg, lower is better)
for _shape, _goal in (
    ((64, 64), 0.9),
    ((256, 256), 0.8),
    ((1024, 1024), 0.7),
    ((10000, 256), 0.5),
    ((256, 10000), 0.5),
    ((1000, 32, 32), 0.5),
):
    _register(_shape, _goal)
