"""The small / mid-size SVD kernel (rust/kernels/src/svd_small.rs): own Householder
bidiagonalization and bidiagonal QR, used for ``min(M, N) <= 512`` (values only) or ``<= 96``
(with vectors) when ``max / min <= 11/6``. Every test here uses shapes that reach it.

Checked as test_svd.py checks: reconstruction, orthogonality, the sign convention and the
singular values against NumPy's, by LAPACK-style ratios; plus relative accuracy of the values
where the bidiagonal determines them to high relative accuracy (LAPACK's guarantee for its
bidiagonal solvers), identical bits in every layout and for 1 and 2 threads.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id, randn
from test_svd import RATIO, _f64, _kahan, _with_singular_values, check_svd

#: shapes of the small kernel with vectors (min <= 96, max / min <= 11/6)
VEC_SHAPES = [(1, 1), (2, 2), (3, 2), (2, 3), (5, 3), (3, 5), (16, 16), (32, 32), (33, 20),
              (20, 33), (64, 64), (96, 96), (96, 60), (60, 96), (4, 7, 5), (3, 32, 32)]
#: shapes of the small kernel for the values only (min up to 512)
VAL_SHAPES = [(97, 97), (128, 100), (100, 128), (200, 200), (256, 256), (300, 170)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", VEC_SHAPES, ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_small_svd_random(rng, dtype, shape, full_matrices):
    a = randn(rng, shape, dtype)
    got = checked(fl.svd, a, full_matrices=full_matrices)
    check_svd(a, got, full_matrices=full_matrices)
    s = checked(fl.svdvals, a)
    assert np.array_equal(s, checked(fl.svd, a, compute_uv=False))
    ref = np.linalg.svd(_f64(a), compute_uv=False)
    k = min(shape[-2:])
    tol = RATIO * eps(dtype) * max(shape[-2:]) * np.max(ref, axis=-1, keepdims=True)
    assert np.all(np.abs(_f64(s) - ref) <= tol)
    assert np.all(np.abs(_f64(got.S) - ref) <= tol)
    assert s.shape == got.S.shape == shape[:-2] + (k,)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", VAL_SHAPES, ids=str)
def test_small_svdvals_mid_sizes(rng, dtype, shape):
    a = randn(rng, shape, dtype)
    s = checked(fl.svdvals, a)
    ref = np.linalg.svd(_f64(a), compute_uv=False)
    assert s.dtype == dtype
    assert np.all(np.diff(_f64(s)) <= 0)
    # a random matrix is well conditioned: every value to a relative n eps
    assert np.all(np.abs(_f64(s) - ref) <= RATIO * eps(dtype) * max(shape) * ref)
    # with vectors these sizes go to faer: the same values within the usual bound
    got = fl.svd(a, full_matrices=False)
    check_svd(a, got, full_matrices=False)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(9, 7), (3, 6, 4), (2, 40, 33)], ids=str)
def test_small_layouts_give_identical_results(rng, dtype, shape):
    a = randn(rng, shape, dtype)
    want = fl.svd(a, full_matrices=False)
    want_full = fl.svd(a)
    want_s = fl.svdvals(a)
    for name, view in layouts(a):
        for g, w in zip(checked(fl.svd, view, full_matrices=False), want):
            assert np.array_equal(g, w), name
        for g, w in zip(checked(fl.svd, view), want_full):
            assert np.array_equal(g, w), name
        assert np.array_equal(checked(fl.svdvals, view), want_s), name


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_small_output_layouts_and_batches(rng, dtype):
    """A batch whose matrices are strided views of a bigger array, every matrix checked."""
    big = randn(rng, (6, 70, 50), dtype)
    a = big[::2, 3:67:2, ::-1][:, :, :30]  # (3, 32, 30), negative and step-2 strides
    got = fl.svd(a, full_matrices=True)
    check_svd(a, got, full_matrices=True)
    for i in range(a.shape[0]):
        one = fl.svd(np.ascontiguousarray(a[i]), full_matrices=True)
        for g, w in zip(got, one):
            assert np.array_equal(g[i], w)


@pytest.mark.usefixtures("restore_threads")
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_small_threads_bit_identical(rng, dtype):
    a = randn(rng, (64, 32, 32), dtype)
    b = randn(rng, (8, 200, 200), dtype)
    fl.set_num_threads(1)
    one = fl.svd(a, full_matrices=False), fl.svdvals(a), fl.svdvals(b)
    fl.set_num_threads(2)
    two = fl.svd(a, full_matrices=False), fl.svdvals(a), fl.svdvals(b)
    for x, y in zip(one[0], two[0]):
        assert np.array_equal(x, y)
    assert np.array_equal(one[1], two[1]) and np.array_equal(one[2], two[2])


def _nasty_small(rng, dtype):
    big, tiny = (1e300, 1e-300) if dtype == np.float64 else (1e36, 1e-36)
    e = eps(dtype)
    n = 40
    clustered = np.concatenate([1 + 1e-10 * rng.standard_normal(20), 1e-3 * (1 + 1e-12 * np.arange(20.0))])
    mats = {
        "zero 40x40": np.zeros((n, n)),
        "zero 3x5": np.zeros((3, 5)),
        "identity 64": np.eye(64),
        "rank1 50x40": np.outer(rng.standard_normal(50), rng.standard_normal(40)),
        "rank5 64x64": rng.standard_normal((64, 5)) @ rng.standard_normal((5, 64)),
        "clustered 40": _with_singular_values(rng, 40, 40, np.sort(clustered)[::-1]),
        "repeated 32": _with_singular_values(rng, 32, 32, np.array([2.0] * 16 + [1.0] * 16)),
        "graded 48": _with_singular_values(rng, 48, 48, 10.0 ** -np.linspace(0, 15, 48)),
        "graded rows 40": np.diag(10.0 ** -np.linspace(0, 20, 40)) @ rng.standard_normal((40, 40)),
        "graded cols 40": rng.standard_normal((40, 40)) @ np.diag(10.0 ** -np.linspace(0, 20, 40)),
        "cond 1/eps 60x40": _with_singular_values(rng, 60, 40, np.geomspace(1, e, 40)),
        "kahan 64": _kahan(64),
        "kahan 90": _kahan(90, 0.3),
        "wilkinson-like bidiagonal": np.diag(np.abs(np.arange(-20.0, 21.0))) + np.diag(np.ones(40), 1),
        "near overflow 40x30": big * rng.standard_normal((40, 30)),
        "near underflow 30x40": tiny * rng.standard_normal((30, 40)),
        "mixed scales": np.diag(np.geomspace(big, tiny, 8)) @ rng.standard_normal((8, 8)),
        "largest": float(np.finfo(dtype).max) / 8 * np.sign(rng.standard_normal((6, 6))),
    }
    return {name: m.astype(dtype) for name, m in mats.items()}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_small_nasty_matrices(rng, dtype, full_matrices):
    for name, a in _nasty_small(rng, dtype).items():
        amax = float(np.max(np.abs(_f64(a)))) or 1.0
        a1 = _f64(a) / amax
        got = fl.svd(a, full_matrices=full_matrices)
        s = fl.svdvals(a)
        assert np.all(np.isfinite(got.S)) and np.all(np.isfinite(s)), name
        ref = np.linalg.svd(a1, compute_uv=False)
        try:
            check_svd(a1, fl.SVDResult(got.U, (_f64(got.S) / amax).astype(dtype), got.Vh),
                      full_matrices=full_matrices, ref_s=ref)
            tol = RATIO * eps(dtype) * max(a.shape) * ref[0]
            assert np.all(np.abs(_f64(s) / amax - ref) <= tol)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


def _bidiagonal(d, e):
    return np.diag(d) + np.diag(e, 1)


@pytest.mark.parametrize("n", [8, 40, 96, 300])
def test_small_bidiagonal_relative_accuracy(rng, n):
    """An upper bidiagonal input passes the bidiagonalization unchanged (each reflector is the
    identity), so the values come from the QR iteration alone, which must find even the tiny
    ones of a strongly graded bidiagonal to a relative accuracy of a modest multiple of n eps,
    as LAPACK's dqds does (NumPy's values are the reference)."""
    d = 10.0 ** -np.linspace(0, 30, n) * (1 + rng.random(n))
    e = 10.0 ** -np.linspace(0, 30, n - 1) * rng.random(n - 1)
    b = _bidiagonal(d, e)
    ref = np.linalg.svd(b, compute_uv=False)
    for got in (fl.svdvals(b), fl.svd(b).S if n <= 96 else fl.svdvals(b.T)):
        assert np.allclose(got, ref, rtol=20 * n * eps(np.float64), atol=0)
    # a diagonal matrix: exact
    dg = np.diag(d)
    assert np.array_equal(fl.svdvals(dg), np.sort(d)[::-1])


@pytest.mark.parametrize("shape", [(1, 7), (7, 1), (1, 1), (2, 1), (1, 2)], ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_small_vectors_shapes(rng, shape, dtype):
    a = randn(rng, shape, dtype)
    for full in (True, False):
        check_svd(a, fl.svd(a, full_matrices=full), full_matrices=full)


def test_small_nan_is_an_error_with_batch_index():
    a = np.ones((3, 20, 20))
    a[2, 4, 5] = np.nan
    with pytest.raises(ValueError):
        fl.svd(a)
    with pytest.raises(fl.LinAlgError, match="2"):
        fl.svd(a, check_finite=False)
    with pytest.raises(fl.LinAlgError, match="2"):
        fl.svdvals(a, check_finite=False)
