"""Benchmark cases of issue 3's LU-based solvers: ``inv``, ``solve`` and ``det`` against
``numpy.linalg`` (OpenBLAS's LAPACK, one call per matrix of a stack)."""

from __future__ import annotations

import numpy as np

import ferrolinalg as fl

from .cases import Inputs, case, rng_for, rotation_count

_ISSUE = "3"


def _well_conditioned(name: str, shape: tuple[int, ...], with_rhs: tuple[int, ...] | None = None) -> list[Inputs]:
    """Independent input sets of random matrices shifted towards the identity (so every one is
    comfortably non-singular), with right-hand sides of shape ``with_rhs`` if given."""
    n = shape[-1]
    per_set = int(np.prod(shape)) * 8 + (int(np.prod(with_rhs)) * 8 if with_rhs else 0)
    sets: list[Inputs] = []
    for i in range(rotation_count(per_set)):
        rng = rng_for(name, i)
        a = rng.standard_normal(shape) + 2 * np.sqrt(n) * np.eye(n)
        sets.append((a, rng.standard_normal(with_rhs)) if with_rhs else (a,))
    return sets


@case("inv f64 batch 10000x8x8", group="solvers", peer="numpy", goal=0.5, ours=fl.inv, theirs=np.linalg.inv, issue=_ISSUE)
def _inv_batched() -> list[Inputs]:
    return _well_conditioned("inv f64 batch 10000x8x8", (10_000, 8, 8))


@case("inv f64 1000x1000", group="solvers", peer="numpy", goal=1.0, ours=fl.inv, theirs=np.linalg.inv, issue=_ISSUE)
def _inv_1000() -> list[Inputs]:
    return _well_conditioned("inv f64 1000x1000", (1000, 1000))


@case(
    "solve f64 batch 10000x8x8 (b 10000x8x1)", group="solvers", peer="numpy", goal=0.5, ours=fl.solve,
    theirs=np.linalg.solve, issue=_ISSUE,
)
def _solve_batched() -> list[Inputs]:
    return _well_conditioned("solve f64 batch 10000x8x8", (10_000, 8, 8), (10_000, 8, 1))


@case(
    "solve f64 1000x1000 (b 1000,)", group="solvers", peer="numpy", goal=1.0, ours=fl.solve,
    theirs=np.linalg.solve, issue=_ISSUE,
)
def _solve_1000() -> list[Inputs]:
    return _well_conditioned("solve f64 1000x1000", (1000, 1000), (1000,))


@case("det f64 batch 10000x8x8", group="solvers", peer="numpy", goal=0.5, ours=fl.det, theirs=np.linalg.det, issue=_ISSUE)
def _det_batched() -> list[Inputs]:
    return _well_conditioned("det f64 batch 10000x8x8", (10_000, 8, 8))
