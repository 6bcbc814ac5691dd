"""qr and cholesky against NumPy: reconstruction, orthogonality, uniqueness, layouts, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, randn

SHAPES = [(1, 1), (2, 3), (3, 2), (5, 5), (17, 4), (4, 17), (64, 64), (130, 20), (3, 4, 6), (2, 3, 7, 5), (0, 3), (3, 0), (0, 4, 4)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_reconstructs_and_is_orthonormal(rng, dtype, shape, mode):
    a = randn(rng, shape, dtype)
    m, n = shape[-2:]
    k = min(m, n)
    tol = 30 * max(m, n, 1) * eps(dtype)
    result = checked(fl.qr, a, mode=mode)
    r = result if mode == "r" else result.R
    kr = m if mode == "complete" else k
    assert r.shape == shape[:-2] + (kr, n) and r.dtype == dtype
    assert np.all(np.tril(r, -1) == 0)
    diag = np.diagonal(r, axis1=-2, axis2=-1)
    assert np.all(diag >= 0)
    # R is unique up to row signs: compare with NumPy's after fixing its signs the same way
    want = np.linalg.qr(a.astype(np.float64), mode="r" if mode == "r" else mode)
    want_r = want if mode == "r" else want.R
    signs = np.where(np.diagonal(want_r, axis1=-2, axis2=-1)[..., :k] < 0, -1.0, 1.0)
    fixed = want_r.copy()
    fixed[..., :k, :] *= signs[..., :, None]
    scale = np.max(np.abs(a), initial=1.0)
    np.testing.assert_allclose(r, fixed, atol=tol * scale * 10, rtol=0)
    if mode != "r":
        q = result.Q
        assert q.shape == shape[:-2] + (m, kr) and q.dtype == dtype
        np.testing.assert_allclose(q @ r, a, atol=tol * scale, rtol=0)
        qtq = np.swapaxes(q, -1, -2) @ q
        np.testing.assert_allclose(qtq, np.broadcast_to(np.eye(kr), qtq.shape), atol=tol, rtol=0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_qr_every_layout_gives_the_same_bits(rng, dtype):
    a = randn(rng, (3, 9, 6), dtype)
    want = fl.qr(a)
    for name, view in layouts(a):
        got = fl.qr(view)
        assert np.array_equal(got.Q, want.Q) and np.array_equal(got.R, want.R), name


def test_qr_rank_deficient_and_threads_reproducible(rng):
    a = randn(rng, (40, 6, 4), np.float64)
    a[..., 3] = a[..., 0] + a[..., 1]  # rank 3
    with fl.threads(1):
        one = fl.qr(a)
    with fl.threads(2):
        two = fl.qr(a)
    assert np.array_equal(one.Q, two.Q) and np.array_equal(one.R, two.R)
    np.testing.assert_allclose(one.Q @ one.R, a, atol=1e-13)
    assert np.all(np.abs(one.R[..., 3, 3]) < 1e-13)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (5, 5), (33, 33), (100, 100), (4, 3, 3), (2, 3, 8, 8), (0, 0), (0, 3, 3)], ids=str)
def test_cholesky_matches_numpy(rng, dtype, shape):
    x = randn(rng, shape, np.float64)
    n = shape[-1]
    spd = x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    a = spd.astype(dtype)
    tol = 50 * max(n, 1) * eps(dtype)
    lower = checked(fl.cholesky, a)
    assert lower.dtype == dtype and lower.shape == shape
    assert np.all(np.triu(lower, 1) == 0)
    want = np.linalg.cholesky(spd)
    np.testing.assert_allclose(lower, want, atol=tol * np.sqrt(np.max(np.abs(spd), initial=1.0)), rtol=0)
    upper = fl.cholesky(a, upper=True)
    np.testing.assert_array_equal(upper, np.swapaxes(lower, -1, -2))


def test_cholesky_reads_only_the_named_triangle(rng):
    x = randn(rng, (6, 6), np.float64)
    spd = x @ x.T + 6 * np.eye(6)
    junk_upper = np.tril(spd) + np.triu(np.full((6, 6), np.nan), 1)
    junk_lower = np.triu(spd) + np.tril(np.full((6, 6), 1e300), -1)
    np.testing.assert_array_equal(fl.cholesky(junk_upper, check_finite=False), fl.cholesky(spd))
    np.testing.assert_array_equal(fl.cholesky(junk_lower, upper=True), fl.cholesky(spd, upper=True))
    for name, view in layouts(spd):
        np.testing.assert_array_equal(fl.cholesky(view), fl.cholesky(spd), err_msg=name)


def test_cholesky_not_positive_definite_names_batch_index():
    a = np.stack([np.eye(3)] * 5)
    a[3, 1, 1] = -1.0
    with pytest.raises(fl.LinAlgError, match=r"not positive definite.*3|3.*not positive definite"):
        fl.cholesky(a)
    with pytest.raises(np.linalg.LinAlgError):
        fl.cholesky(-np.eye(2))


def test_factor_bad_input():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        fl.cholesky(np.ones((2, 3)))
    with pytest.raises(ValueError, match="mode"):
        fl.qr(np.eye(2), mode="raw")
    with pytest.raises(ValueError):
        fl.qr(np.ones(3))
    with pytest.raises(ValueError, match="NaN|nan|finite"):
        fl.qr(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="complex"):
        fl.cholesky(np.eye(2, dtype=complex))


@pytest.mark.parametrize("dtype,tiny,huge", [(np.float32, 1e-40, 1e37), (np.float64, 1e-310, 1e306)])
def test_qr_near_underflow_and_overflow(rng, dtype, tiny, huge):
    """Found by tests/test_fuzz.py: R came back zero for a matrix of subnormal (or merely
    small) entries, whose Householder norms underflowed; the factorization now scales."""
    for scale in (tiny, huge):
        a = (randn(rng, (5, 3), np.float64) * scale).astype(dtype)
        q, r = fl.qr(a)
        assert np.all(np.isfinite(r)) and np.all(np.diag(r) > 0)
        np.testing.assert_allclose(q @ r.astype(np.float64), a, rtol=0, atol=50 * eps(dtype) * np.abs(a).max() + 1e-300 * 0 + float(np.finfo(dtype).smallest_subnormal) * 64)
    one = np.array([[tiny]], dtype=dtype)
    assert fl.qr(one).R[0, 0] == one[0, 0]
