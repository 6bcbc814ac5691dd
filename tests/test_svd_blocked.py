"""The SVD of mid-size and large matrices: the values through the two-stage reduction
(rust/kernels/src/ge2gb.rs to an upper band, gbbrd.rs's bulge chasing to the bidiagonal) and
dqds, for every matrix whose smaller side is at least svd.rs's TWO_STAGE_MIN_N (72) and whose
sides are within 11/6 of each other, and the R of a tall matrix's TSQR; the vectors of the same
shapes through faer's SVD.

Checked against NumPy (values to s_max * n * eps, reconstruction and orthogonality in n * eps
units for the vectors of the same shapes), in every layout, on nasty spectra, and for
bit-identical results with one and two threads and between a single matrix (whose matrix-vector
products and trailing updates are split over the threads) and the same matrix in a stack (one
thread per matrix)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id, randn
from test_svd import RATIO, _f64, _kahan, _with_singular_values, check_svd

# around the crossover (72) and the band's changes (8 below 256, 16 to 1535, then 24), square,
# tall and wide, several panels and a last partial one
SHAPES = [(71, 71), (72, 72), (80, 73), (130, 130), (255, 255), (256, 256), (257, 200), (200, 257), (300, 300),
          (520, 513), (700, 400), (161, 290), (1536, 1536)]


def _check_values(a, s, dtype):
    m, n = a.shape[-2:]
    ref = np.linalg.svd(_f64(a), compute_uv=False)
    assert s.dtype == dtype and s.shape == ref.shape
    assert np.all(np.diff(_f64(s), axis=-1) <= 0) and np.all(s >= 0)
    tol = RATIO * eps(dtype) * max(m, n) * np.max(ref, axis=-1, keepdims=True)
    err = np.max(np.abs(_f64(s) - ref) / np.maximum(tol, np.finfo(np.float64).tiny))
    assert err <= 1.0, f"{a.shape}: value error {err:.2f} of the bound"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_values_against_numpy(rng, dtype, shape):
    a = randn(rng, shape, dtype)
    _check_values(a, checked(fl.svdvals, a), dtype)
    s = fl.svd(a, compute_uv=False)
    _check_values(a, s, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(130, 130), (257, 200), (200, 257)], ids=str)
def test_vectors_against_numpy(rng, dtype, shape):
    a = randn(rng, shape, dtype)
    for full in (False, True):
        check_svd(a, checked(fl.svd, a, full_matrices=full), full_matrices=full)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_layouts_give_identical_values(rng, dtype):
    a = randn(rng, (261, 230), dtype)
    want = fl.svdvals(a)
    _check_values(a, want, dtype)
    for name, view in layouts(a, broadcast=False):
        assert np.array_equal(fl.svdvals(view), want), name
    assert np.array_equal(fl.svdvals(np.ascontiguousarray(a.T)), want)


def _nasty(rng, dtype, m, n):
    e = eps(dtype)
    k = min(m, n)
    big, tiny = (1e300, 1e-300) if dtype == np.float64 else (1e36, 1e-36)
    g = rng.standard_normal((m, n))
    clustered = np.concatenate([1.0 + 1e-10 * rng.standard_normal(k // 2), 1e-3 * (1.0 + 1e-12 * rng.standard_normal(k - k // 2))])
    mats = {
        "graded values": _with_singular_values(rng, m, n, 10.0 ** -np.linspace(0, 12, k)),
        "graded rows": np.diag(10.0 ** -np.linspace(0, 15, m)) @ g,
        "graded columns": g @ np.diag(10.0 ** np.linspace(0, -15, n)),
        "clustered": _with_singular_values(rng, m, n, np.sort(clustered)[::-1]),
        "repeated": _with_singular_values(rng, m, n, np.repeat([3.0, 1.0, 0.5], [k // 3, k // 3, k - 2 * (k // 3)])),
        "rank 7": rng.standard_normal((m, 7)) @ rng.standard_normal((7, n)),
        "rank 1": np.outer(rng.standard_normal(m), rng.standard_normal(n)),
        "zero": np.zeros((m, n)),
        "identity-like": np.eye(m, n),
        "cond 1/eps": _with_singular_values(rng, m, n, np.geomspace(1, e, k)),
        "kahan": _kahan(k)[:, :],
        "near overflow": big * g,
        "near underflow": tiny * g,
        "zero columns": g * (np.arange(n) % 3 != 0),
    }
    return {name: x.astype(dtype) for name, x in mats.items()}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(200, 170), (170, 200)], ids=str)
def test_nasty_values(rng, dtype, shape):
    for name, a in _nasty(rng, dtype, *shape).items():
        s = fl.svdvals(a)
        assert np.all(np.isfinite(s)), name
        amax = float(np.max(np.abs(_f64(a)))) or 1.0
        # compared on a / max|a| (scale-invariant; NumPy's own float64 products would overflow)
        try:
            _check_values(_f64(a) / amax, (_f64(s) / amax).astype(dtype), dtype)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def test_graded_diagonal_keeps_relative_accuracy():
    """dqds on a bidiagonal the reduction leaves exactly diagonal: relative accuracy of every
    value, the tiny ones included."""
    s = 10.0 ** -np.linspace(0, 200, 150)
    got = fl.svdvals(np.diag(s))
    assert np.allclose(got, s, rtol=1e-12, atol=0)


def test_non_finite_and_big_values():
    a = np.ones((140, 140))
    a[70, 3] = np.nan
    with pytest.raises(ValueError):
        fl.svdvals(a)
    with pytest.raises(fl.LinAlgError):
        fl.svdvals(a, check_finite=False)
    # the largest finite values: the singular values are past float64's range, inf as NumPy gives
    b = np.full((150, 150), np.finfo(np.float64).max / 2)
    assert np.isinf(fl.svdvals(b)[0])


@pytest.mark.parametrize("shape", [(300, 300), (520, 513), (513, 520), (3000, 256)], ids=str)
def test_threads_bit_identical(rng, restore_threads, shape):
    a = rng.standard_normal(shape)
    results = []
    for n in (1, 2, 1, 2):
        fl.set_num_threads(n)
        results.append(fl.svdvals(a))
    for r in results[1:]:
        assert np.array_equal(r, results[0])
    # the same matrix inside a stack (one thread per matrix) gives the same bits
    fl.set_num_threads(2)
    stack = np.stack([a, 2 * a])
    got = fl.svdvals(stack)
    if shape[0] <= 2 * shape[1]:
        assert np.array_equal(got[0], results[0])
    _check_values(a, results[0], np.float64)


def test_tall_vectors_threads_bit_identical(rng, restore_threads):
    """A tall matrix's R (256 x 256) decomposed with vectors on faer's fixed-degree parallel path."""
    a = rng.standard_normal((3000, 256))
    results = []
    for n in (1, 2, 1):
        fl.set_num_threads(n)
        results.append(fl.svd(a, full_matrices=False))
    for r in results[1:]:
        assert all(np.array_equal(g, w) for g, w in zip(r, results[0]))
    check_svd(a, results[0], full_matrices=False)
