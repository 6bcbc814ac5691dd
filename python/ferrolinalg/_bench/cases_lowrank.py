"""Benchmark cases of the randomized and truncated solvers and PCA (issue 4): against
scikit-learn's ``randomized_svd`` and ``PCA`` (same parameters) and against the full
``numpy.linalg.eigh`` for ``eigsh``.

The randomized results depend on the random draw (ours and scikit-learn's differ), so the
agreement check compares singular values / explained variances with a loose tolerance (1e-2);
``eigsh`` is compared with the top eigenvalues of the full decomposition at the usual one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ferrolinalg as fl

from .cases import Inputs, case, rng_for

ISSUE = "4: low-rank"


def _noisy_low_rank(name: str, m: int, n: int, rank: int, sets: int = 2) -> list[Inputs]:
    out = []
    for i in range(sets):
        rng = rng_for(name, i)
        a = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n)) + 0.1 * rng.standard_normal((m, n))
        out.append((a,))
    return out


def _pca_data(name: str, m: int, n: int, sets: int = 2) -> list[Inputs]:
    """Correlated features with a decaying spectrum (scales 10 down to 0.1) and offsets."""
    out = []
    for i in range(sets):
        rng = rng_for(name, i)
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        x = (rng.standard_normal((m, n)) * np.geomspace(10, 0.1, n)) @ q.T + np.linspace(-2, 2, n)
        out.append((x,))
    return out


def _rsvd_ours(a: np.ndarray) -> Any:
    return fl.randomized_svd(a, 20, seed=0)


def _rsvd_sklearn(a: np.ndarray) -> Any:
    from sklearn.utils.extmath import randomized_svd  # type: ignore[import-untyped]

    return randomized_svd(a, 20, random_state=0)


def _singular_values(result: Any) -> np.ndarray:
    return np.asarray(result[1])


@case(
    "randomized_svd f64 4000x2000 rank-80 k=20", group="lowrank", peer="sklearn", goal=0.5,
    ours=_rsvd_ours, theirs=_rsvd_sklearn, compare=_singular_values, rtol=1e-2,
    requires=("sklearn",), issue=ISSUE,
)
def _rsvd_setup() -> list[Inputs]:
    return _noisy_low_rank("randomized_svd f64 4000x2000 rank-80 k=20", 4000, 2000, 80)


def _eigsh_ours(a: np.ndarray) -> Any:
    return fl.eigsh(a, 10, "LA")


def _top10(result: Any) -> np.ndarray:
    return np.asarray(result[0])[-10:]


@case(
    "eigsh f64 2000x2000 top-10", group="lowrank", peer="numpy eigh", goal=0.2,
    ours=_eigsh_ours, theirs=np.linalg.eigh, compare=_top10, issue=ISSUE,
)
def _eigsh_setup() -> list[Inputs]:
    sets = []
    for i in range(2):
        x = rng_for("eigsh f64 2000x2000 top-10", i).standard_normal((2000, 2000))
        sets.append(((x + x.T) / 2,))
    return sets


def _pca(solver: str, library: str) -> Any:
    def fit(x: np.ndarray) -> Any:
        if library == "ours":
            return fl.PCA(32, svd_solver=solver, random_state=0).fit(x)
        from sklearn.decomposition import PCA  # type: ignore[import-untyped]

        return PCA(32, svd_solver=solver, random_state=0).fit(x)

    fit.__name__ = f"pca_{solver}_{library}"
    return fit


def _explained_variance(model: Any) -> np.ndarray:
    return np.asarray(model.explained_variance_)


for _solver, _rtol in (("full", None), ("randomized", 1e-2)):
    _name = f"PCA(32, {_solver}).fit f64 20000x256"

    def _setup(name: str = _name) -> list[Inputs]:
        return _pca_data(name, 20000, 256)

    case(
        _name, group="lowrank", peer="sklearn", goal=0.5, ours=_pca(_solver, "ours"), theirs=_pca(_solver, "sklearn"),
        compare=_explained_variance, rtol=_rtol, requires=("sklearn",), issue=ISSUE,
    )(_setup)
