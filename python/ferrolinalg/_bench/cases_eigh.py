"""Benchmark cases of the symmetric eigendecomposition (issue 3): ``fl.eigh`` / ``fl.eigvalsh``
against ``numpy.linalg.eigh`` / ``eigvalsh`` on random symmetric matrices, single and batched.

Eigenvectors are defined only up to sign, so ``eigh``'s agreement check compares the eigenvalues
and the absolute values of the eigenvectors (the random spectra here have no repeated
eigenvalues, so each eigenvector is unique up to sign).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ferrolinalg as fl

from .cases import Inputs, case, rng_for, rotation_count

ISSUE = "3: eigh"


def _sym_sets(name: str, shape: tuple[int, ...], dtype: type[np.floating]) -> list[Inputs]:
    """Independent random symmetric input sets of ``shape`` (..., n, n)."""
    per_set = int(np.prod(shape)) * np.dtype(dtype).itemsize
    sets = []
    for i in range(rotation_count(per_set, hi=4)):
        x = rng_for(name, i).standard_normal(shape)
        sets.append((((x + np.swapaxes(x, -1, -2)) / 2).astype(dtype),))
    return sets


def _eigh_compared(result: Any) -> np.ndarray:
    """Eigenvalues and |eigenvectors|, flattened: invariant to the sign of each eigenvector."""
    w, v = result
    return np.concatenate([np.ravel(w), np.abs(np.ravel(v))])


def _register(name: str, shape: tuple[int, ...], dtype: type[np.floating], goal: float, vectors: bool) -> None:
    @case(
        name,
        group="eigh",
        peer="numpy",
        goal=goal,
        ours=fl.eigh if vectors else fl.eigvalsh,
        theirs=np.linalg.eigh if vectors else np.linalg.eigvalsh,
        compare=_eigh_compared if vectors else None,
        issue=ISSUE,
    )
    def _setup() -> list[Inputs]:
        return _sym_sets(name, shape, dtype)


for _n in (32, 128, 512, 1024):
    _register(f"eigh f64 {_n}x{_n}", (_n, _n), np.float64, 0.9, True)
    _register(f"eigvalsh f64 {_n}x{_n}", (_n, _n), np.float64, 0.9, False)
_register("eigh f32 512x512", (512, 512), np.float32, 0.9, True)
_register("eigh f64 batch 10000x8x8", (10000, 8, 8), np.float64, 0.3, True)
_register("eigh f64 batch 1000x32x32", (1000, 32, 32), np.float64, 0.5, True)
_register("eigh f64 batch 100x128x128", (100, 128, 128), np.float64, 0.6, True)
