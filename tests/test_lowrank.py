"""randomized_svd, eigsh, eigh(subset_by_index=), low_rank against scikit-learn and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse.linalg
from conftest import checked, eps, layouts, param_id
from sklearn.utils.extmath import randomized_svd as sk_randomized_svd

import ferrolinalg as fl

DTYPES = (np.float32, np.float64)


def spectrum_matrix(kind: str, m: int, n: int, seed: int, dtype: type) -> np.ndarray:
    """U diag(s) V^T with a named spectrum: "fast" (geometric decay), "slow" (1/sqrt(i)),
    "noisy" (rank 20 of size ~10 plus Gaussian noise)."""
    rng = np.random.default_rng(seed)
    r = min(m, n)
    if kind == "noisy":
        a = rng.standard_normal((m, 20)) @ rng.standard_normal((20, n)) + 0.5 * rng.standard_normal((m, n))
        return a.astype(dtype)
    u, _ = np.linalg.qr(rng.standard_normal((m, r)))
    v, _ = np.linalg.qr(rng.standard_normal((n, r)))
    i = np.arange(r)
    s = 0.8**i if kind == "fast" else 1.0 / np.sqrt(1.0 + i)
    return ((u * s) @ v.T).astype(dtype)


def _errors(a: np.ndarray, u: np.ndarray, s: np.ndarray, vh: np.ndarray, s_true: np.ndarray) -> tuple[float, float]:
    """Spectral-norm error of the reconstruction and max relative error of the values."""
    a64 = a.astype(np.float64)
    rec = (u.astype(np.float64) * s.astype(np.float64)) @ vh.astype(np.float64)
    err = fl.svdvals(a64 - rec)[0]
    k = s.shape[0]
    return float(err), float(np.max(np.abs(s.astype(np.float64) - s_true[:k]) / s_true[:k]))


def _geomean(x: list[tuple[float, float]], axis: int = 0) -> np.ndarray:
    return np.exp(np.mean(np.log(np.maximum(np.asarray(x), 1e-300)), axis=axis))


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
@pytest.mark.parametrize("kind", ["fast", "slow", "noisy"])
@pytest.mark.parametrize(
    "shape,n_iter,normalizer",
    [((160, 70), "auto", "auto"), ((70, 160), "auto", "auto"), ((160, 70), 1, "none"), ((160, 70), 3, "QR"),
     ((70, 160), 2, "LU")],
)
def test_accuracy_at_least_sklearns(dtype: type, kind: str, shape: tuple[int, int], n_iter: object, normalizer: str) -> None:
    m, n = shape
    a = spectrum_matrix(kind, m, n, 5, dtype)
    s_true = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    k = 10
    u, s, vh = checked(fl.randomized_svd, a, k, n_iter=n_iter, power_iteration_normalizer=normalizer, seed=1)
    assert u.dtype == s.dtype == vh.dtype == dtype
    assert u.shape == (m, k) and s.shape == (k,) and vh.shape == (k, n)
    # Both errors vary with the random draw: the spectral-norm error hardly (it is compared with
    # 2% slack), the relative error of S a lot (heavy-tailed: over 200 draws on the noisy
    # spectrum with n_iter=1, 10th / 50th / 90th percentiles 1.1e-6 / 5.0e-6 / 9.5e-5 for ours,
    # 1.0e-6 / 5.7e-6 / 1.3e-4 for scikit-learn's). So the medians over the same number of draws
    # are compared, S's with a factor 3 that covers the spread of the geometric mean of 40 draws.
    draws = 40
    ours = _geomean(
        [_errors(a, *fl.randomized_svd(a, k, n_iter=n_iter, power_iteration_normalizer=normalizer, seed=s), s_true)
         for s in range(draws)], axis=0)
    theirs = _geomean(
        [_errors(a, *sk_randomized_svd(a, k, n_iter=n_iter, power_iteration_normalizer=normalizer, random_state=s), s_true)
         for s in range(draws)], axis=0)
    floor = 50 * eps(dtype) * s_true[0]
    assert ours[0] <= theirs[0] * 1.02 + floor, (ours, theirs)
    # below ~eps * cond(S[:k]) the relative error of S is rounding, not the method
    assert ours[1] <= theirs[1] * 3 + 100 * eps(dtype) * s_true[0] / s_true[k - 1], (ours, theirs)
    # orthonormal factors, descending values, the sign convention
    tol = 100 * max(m, n) * eps(dtype)
    assert np.abs(u.T @ u - np.eye(k)).max() < tol
    assert np.abs(vh @ vh.T - np.eye(k)).max() < tol
    assert np.all(np.diff(s) <= 0)
    rows = np.arange(k)
    assert np.all(vh[rows, np.argmax(np.abs(vh), axis=1)] > 0)


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
def test_exact_on_low_rank_and_layouts(dtype: type) -> None:
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((80, 6)) @ rng.standard_normal((6, 50))).astype(dtype)
    ref = fl.randomized_svd(a, 6, seed=3)
    rec = (ref.U * ref.S) @ ref.Vh
    assert np.abs(rec - a).max() < 1e3 * eps(dtype) * np.abs(a).max()
    for _, view in layouts(a):
        got = fl.randomized_svd(view, 6, seed=3)
        np.testing.assert_allclose(got.S, ref.S, rtol=1e3 * eps(dtype))
        np.testing.assert_allclose((got.U * got.S) @ got.Vh, rec, atol=1e3 * eps(dtype) * np.abs(a).max())


def test_seeded_reproducible_for_any_thread_count(restore_threads: None) -> None:
    a = spectrum_matrix("noisy", 700, 400, 2, np.float64)
    fl.set_num_threads(1)
    one = fl.randomized_svd(a, 15, seed=11)
    fl.set_num_threads(2)
    two = fl.randomized_svd(a, 15, seed=11)
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)
    other = fl.randomized_svd(a, 15, seed=12)
    assert not np.array_equal(other.U, one.U)
    # seed=None: a fresh draw each call, still a valid result
    assert fl.randomized_svd(a, 3).S.shape == (3,)


def test_randomized_svd_bad_input() -> None:
    a = np.ones((5, 4))
    with pytest.raises(ValueError, match="k=0"):
        fl.randomized_svd(a, 0)
    with pytest.raises(ValueError, match="min"):
        fl.randomized_svd(a, 5)
    with pytest.raises(ValueError):
        fl.randomized_svd(np.ones(5), 1)
    with pytest.raises(ValueError):
        fl.randomized_svd(a, 2, power_iteration_normalizer="SVD")
    with pytest.raises(ValueError):
        fl.randomized_svd(a, 2, n_iter=-1)
    bad = a.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fl.randomized_svd(bad, 2)
    with pytest.raises(TypeError):
        fl.randomized_svd(a, 2.5)  # type: ignore[arg-type]


def test_int_input_is_float64() -> None:
    a = np.arange(40).reshape(8, 5) % 7
    got = fl.randomized_svd(a, 2, seed=0)
    assert got.S.dtype == np.float64


# --------------------------------------------------------------------------------------------
# eigsh


def sym_matrix(kind: str, n: int, seed: int, dtype: type) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "goe":
        g = rng.standard_normal((n, n))
        return ((g + g.T) / 2).astype(dtype)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    if kind == "decaying":
        w = 1.0 / (1.0 + np.arange(n)) * np.where(np.arange(n) % 2, -1, 1)
    else:  # clustered: repeated extreme eigenvalues
        w = np.linspace(-1, 1, n)
        w[:3] = -2.0
        w[-3:] = 2.0
    a = (q * w) @ q.T
    return ((a + a.T) / 2).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
@pytest.mark.parametrize("kind", ["goe", "decaying", "clustered"])
@pytest.mark.parametrize("which", ["LA", "SA"])
@pytest.mark.parametrize("n,k", [(60, 4), (500, 6)])
def test_eigsh_against_scipy(dtype: type, kind: str, which: str, n: int, k: int) -> None:
    a = sym_matrix(kind, n, 1, dtype)
    w, v = checked(fl.eigsh, a, k, which)
    assert w.dtype == v.dtype == dtype and w.shape == (k,) and v.shape == (n, k)
    a64 = a.astype(np.float64)
    wall = np.linalg.eigvalsh(a64)
    ref = wall[-k:] if which == "LA" else wall[:k]
    anorm = np.abs(wall).max()
    tol = n * eps(dtype) * anorm
    np.testing.assert_allclose(w, ref, atol=2 * tol, rtol=0)
    ws, _ = scipy.sparse.linalg.eigsh(a64, k, which=which)
    np.testing.assert_allclose(np.sort(ws), ref, atol=1e-8 * anorm)
    # residuals at the full-decomposition level, orthonormal vectors, signs
    v64 = v.astype(np.float64)
    res = np.linalg.norm(a64 @ v64 - v64 * w.astype(np.float64), axis=0)
    assert res.max() <= 2 * tol, res.max() / (eps(dtype) * anorm)
    assert np.abs(v64.T @ v64 - np.eye(k)).max() < 10 * tol / anorm
    assert np.all(np.diff(w) >= 0)
    assert np.all(v[np.argmax(np.abs(v), axis=0), np.arange(k)] > 0)


def test_eigsh_thread_count_and_layouts(restore_threads: None) -> None:
    a = sym_matrix("goe", 400, 3, np.float64)
    fl.set_num_threads(1)
    one = fl.eigsh(a, 5)
    fl.set_num_threads(2)
    two = fl.eigsh(a, 5)
    np.testing.assert_array_equal(one.eigenvalues, two.eigenvalues)
    np.testing.assert_array_equal(one.eigenvectors, two.eigenvectors)
    for _, view in layouts(a):
        got = fl.eigsh(view, 5)
        np.testing.assert_allclose(got.eigenvalues, one.eigenvalues, atol=1e-12 * 30)


def test_eigsh_bad_input() -> None:
    a = np.eye(4)
    with pytest.raises(ValueError):
        fl.eigsh(a, 0)
    with pytest.raises(ValueError):
        fl.eigsh(a, 5)
    with pytest.raises(ValueError):
        fl.eigsh(a, 2, which="LM")
    with pytest.raises(ValueError):
        fl.eigsh(np.ones((3, 4)), 1)
    bad = np.eye(300)
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fl.eigsh(bad, 2)


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("lo,hi", [(0, 4), (495, 499), (100, 110), (0, 499)])
def test_eigh_subset_by_index(uplo: str, lo: int, hi: int) -> None:
    a = sym_matrix("goe", 500, 4, np.float64)
    # only the named triangle is read: spoil the other one
    spoiled = np.triu(a) + np.tril(np.full_like(a, 7.0), -1) if uplo == "U" else np.tril(a) + np.triu(np.full_like(a, 7.0), 1)
    w, v = fl.eigh(spoiled, UPLO=uplo, subset_by_index=(lo, hi))
    ws, vs = scipy.linalg.eigh(a, subset_by_index=(lo, hi))
    np.testing.assert_allclose(w, ws, atol=1e-11 * np.abs(ws).max())
    assert v.shape == (500, hi - lo + 1)
    assert np.linalg.norm(a @ v - v * w, axis=0).max() < 500 * eps(np.float64) * 40
    np.testing.assert_allclose(fl.eigvalsh(spoiled, UPLO=uplo, subset_by_index=(lo, hi)), w, atol=1e-11 * 40)
    with pytest.raises(ValueError):
        fl.eigh(a, subset_by_index=(3, 2))
    with pytest.raises(ValueError):
        fl.eigh(a, subset_by_index=(0, 500))


def test_eigh_subset_batched() -> None:
    a = np.stack([sym_matrix("goe", 30, s, np.float64) for s in range(3)])
    w, v = fl.eigh(a, subset_by_index=(2, 5))
    wr = np.linalg.eigvalsh(a)[:, 2:6]
    np.testing.assert_allclose(w, wr, atol=1e-12 * 10)
    assert v.shape == (3, 30, 4)


# --------------------------------------------------------------------------------------------
# low_rank


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
def test_low_rank_exact_is_optimal(dtype: type) -> None:
    a = spectrum_matrix("slow", 90, 60, 3, dtype)
    left, right, s = fl.low_rank(a, 7, method="exact")
    assert left.shape == (90, 7) and right.shape == (7, 60) and left.dtype == dtype
    sv = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    err = np.linalg.norm(a.astype(np.float64) - left.astype(np.float64) @ right, 2)
    assert abs(err - sv[7]) <= 100 * eps(dtype) * sv[0]
    np.testing.assert_allclose(s, sv[:7], rtol=100 * eps(dtype))
    # balanced factors: both carry sqrt(S)
    np.testing.assert_allclose(np.linalg.norm(left, axis=0), np.sqrt(s), rtol=100 * eps(dtype))
    np.testing.assert_allclose(np.linalg.norm(right, axis=1), np.sqrt(s), rtol=100 * eps(dtype))


def test_low_rank_randomized_auto_and_batch() -> None:
    a = spectrum_matrix("fast", 600, 550, 4, np.float64)
    sv = np.linalg.svd(a, compute_uv=False)
    for method in ("randomized", "auto"):
        left, right, _ = fl.low_rank(a, 20, method=method, seed=0)
        err = np.linalg.norm(a - left @ right, 2)
        assert err <= sv[20] * (1 + 1e-6)
    batch = np.stack([spectrum_matrix("slow", 20, 10, s, np.float64) for s in range(4)])
    left, right, s = fl.low_rank(batch, 3)
    assert left.shape == (4, 20, 3) and right.shape == (4, 3, 10) and s.shape == (4, 3)
    with pytest.raises(ValueError):
        fl.low_rank(a, 0)
    with pytest.raises(ValueError):
        fl.low_rank(a, 551)
    with pytest.raises(ValueError):
        fl.low_rank(a, 2, method="qr")
