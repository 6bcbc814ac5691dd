"""The small/mid-order symmetric eigensolver (``rust/kernels/src/sytrd.rs``: column-major
``dsytd2`` tridiagonalisation, explicit Q and QL for eigenvectors, ``dsterf`` for eigenvalues
only), used by ``eigh`` for 4 < n <= 112 (128 until session 8) and by ``eigvalsh`` for 4 < n <= 96; beyond 96 the
tridiagonalisation runs in panels (``sytrd_blocked.rs``, tested further in
``test_eigh_blocked.py``). The random-matrix tests here run at sizes on both sides of every
crossover (and of the 4-column blocking of the inner loops) for both paths, with the ratio tests
of ``test_eigh.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id
from test_eigh import NASTY, check_decomposition, check_eigenvalues, nasty, sym

#: orders through the unblocked path (vectors to 112, values to 96), the blocked one (values from
#: 97, the tridiagonalisation with vectors from 96; several panels, the two-piece split of the
#: matrix-vector products from 192 trailing rows) and the divide and conquer (vectors from 113)
VEC_SIZES = (5, 6, 7, 9, 16, 31, 32, 33, 48, 64, 95, 96, 97, 100, 112, 113, 127, 128, 129, 200, 300, 513)
VAL_SIZES = (5, 9, 32, 33, 96, 97, 100, 128, 129, 200, 256, 257, 300, 513)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", VEC_SIZES)
def test_random_vectors(rng, n, dtype):
    a = sym(rng, n, dtype)
    w, v = checked(fl.eigh, a)
    check_decomposition(a, w, v, dtype)
    check_eigenvalues(a, w, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", VAL_SIZES)
def test_random_values(rng, n, dtype):
    a = sym(rng, n, dtype)
    w = checked(fl.eigvalsh, a)
    assert w.dtype == dtype and w.shape == (n,)
    assert np.all(np.diff(w.astype(np.float64)) >= 0)
    check_eigenvalues(a, w, dtype)
    # the same eigenvalues as the vectors path (another tridiagonal solver) to rounding
    wv, _ = fl.eigh(a)
    check_eigenvalues(a, wv, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (12, 32, 128))
@pytest.mark.parametrize("kind", NASTY)
def test_nasty(rng, kind, n, dtype):
    a = nasty(kind, n, dtype, rng)
    assert np.all(np.isfinite(a))
    w, v = checked(fl.eigh, a)
    check_decomposition(a, w, v, dtype)
    wv = fl.eigvalsh(a)
    assert np.all(np.isfinite(wv))
    if kind not in ("huge", "subnormal"):  # NumPy's reference itself over/underflows there
        check_eigenvalues(a, w, dtype)
        check_eigenvalues(a, wv, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("kind", ("graded", "clustered", "wilkinson", "rank1", "overflow", "underflow", "zero"))
def test_nasty_values_200(rng, kind, dtype):
    a = nasty(kind, 200, dtype, rng)
    check_eigenvalues(a, fl.eigvalsh(a), dtype)


def test_repeated_eigenvalues(rng):
    """Blocks of exactly repeated eigenvalues (the tridiagonal splits): vectors orthonormal."""
    for n in (24, 96):
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        d = np.repeat([-2.0, 0.0, 1.0, 3.0], n // 4)
        a = (q * d) @ q.T
        a = (a + a.T) / 2
        w, v = fl.eigh(a)
        check_decomposition(a, w, v, np.float64)
        np.testing.assert_allclose(w, np.sort(d), atol=30 * n * eps(np.float64) * 3)
        np.testing.assert_allclose(fl.eigvalsh(a), np.sort(d), atol=30 * n * eps(np.float64) * 3)


def test_tridiagonal_and_diagonal_input(rng):
    """Already tridiagonal (the reflectors are trivial: tau = 0) and diagonal matrices."""
    for n in (10, 64):
        t = np.diag(rng.standard_normal(n)) + np.diag(rng.standard_normal(n - 1), 1)
        t = t + np.triu(t, 1).T
        w, v = fl.eigh(t)
        check_decomposition(t, w, v, np.float64)
        check_eigenvalues(t, w, np.float64)
        dg = np.diag(rng.standard_normal(n))
        w, v = fl.eigh(dg)
        check_decomposition(dg, w, v, np.float64)
        np.testing.assert_array_equal(w, np.sort(np.diag(dg)))
        np.testing.assert_array_equal(fl.eigvalsh(dg), np.sort(np.diag(dg)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (32, 128))
def test_layouts(rng, n, dtype):
    a = sym(rng, n, dtype, (2,))
    w_ref, v_ref = fl.eigh(np.ascontiguousarray(a))
    wv_ref = fl.eigvalsh(np.ascontiguousarray(a))
    for name, view in layouts(a):
        w, v = checked(fl.eigh, view)
        np.testing.assert_array_equal(w, w_ref, err_msg=name)
        np.testing.assert_array_equal(v, v_ref, err_msg=name)
        np.testing.assert_array_equal(checked(fl.eigvalsh, view), wv_ref, err_msg=name)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(3, 5, 32, 32), (3, 128, 128), (2, 200, 200)])
def test_batched_equals_single(rng, shape, dtype):
    a = sym(rng, shape[-1], dtype, shape[:-2])
    w, v = fl.eigh(a)
    wv = fl.eigvalsh(a)
    for idx in np.ndindex(*shape[:-2]):
        w1, v1 = fl.eigh(a[idx])
        np.testing.assert_array_equal(w[idx], w1)
        np.testing.assert_array_equal(v[idx], v1)
        np.testing.assert_array_equal(wv[idx], fl.eigvalsh(a[idx]))
    check_decomposition(a[(0,) * (len(shape) - 2)], w[(0,) * (len(shape) - 2)], v[(0,) * (len(shape) - 2)], dtype)


@pytest.mark.parametrize("n", (32, 128, 200))
@pytest.mark.parametrize("uplo", ("L", "U"))
def test_uplo_reads_one_triangle(rng, n, uplo):
    a = sym(rng, n, np.float64)
    garbage = a.copy()
    other = np.triu_indices(n, 1) if uplo == "L" else np.tril_indices(n, -1)
    garbage[other] = 1e30
    w, v = fl.eigh(garbage, UPLO=uplo)
    wv = fl.eigvalsh(garbage, UPLO=uplo)
    w_ref = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(w, w_ref, atol=30 * n * eps(np.float64) * np.abs(w_ref).max())
    np.testing.assert_allclose(wv, w_ref, atol=30 * n * eps(np.float64) * np.abs(w_ref).max())
    check_decomposition(a, w, v, np.float64)


@pytest.mark.parametrize("shape", [(40, 32, 32), (5, 128, 128), (4, 200, 200), (7, 64, 64)])
def test_threads_bit_identical(rng, restore_threads, shape):
    a = sym(rng, shape[-1], np.float64, shape[:-2])
    fl.set_num_threads(1)
    w1, v1 = fl.eigh(a)
    wv1 = fl.eigvalsh(a)
    fl.set_num_threads(2)
    w2, v2 = fl.eigh(a)
    wv2 = fl.eigvalsh(a)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(wv1, wv2)


@pytest.mark.parametrize("fn", (fl.eigh, fl.eigvalsh))
@pytest.mark.parametrize("n", (64, 128, 200))
def test_non_finite(fn, n):
    a = np.eye(n)
    a[n - 1, 2] = np.nan
    with pytest.raises(ValueError, match="batch index 1"):
        fn(np.stack([np.eye(n), a]))
    w = fn(a, check_finite=False)
    w = w[0] if isinstance(w, tuple) else w
    assert np.all(np.isnan(w))


@pytest.mark.parametrize("n", [64, 128])
def test_strongly_graded_float32(n):
    """One entry of 1e30 among O(1) ones in float32 (made the QL iteration stall at small n)."""
    a = np.random.default_rng(n).standard_normal((n, n)).astype(np.float32)
    a[n - 1, 0] = 1e30
    w, v = fl.eigh(a)
    s = (np.tril(a) + np.tril(a, -1).T).astype(np.float64)
    assert np.max(np.abs(s @ v - v * w)) <= 30 * n * np.finfo(np.float32).eps * 1e30
    np.testing.assert_allclose(w[[0, -1]], [-1e30, 1e30], rtol=1e-5)
    np.testing.assert_allclose(fl.eigvalsh(a)[[0, -1]], [-1e30, 1e30], rtol=1e-5)


@pytest.mark.parametrize("n", [32, 100, 200])
def test_subnormal_off_diagonals_next_to_zero_diagonals(n):
    """(eigh at n = 200 goes to faer, which does not converge on this matrix (LinAlgError, as
    before this kernel): only eigvalsh is checked there.)"""
    s = np.full((n, n), 5e-324)
    s[1, n - 2] = s[n - 2, 1] = -10.625
    s[n - 2, n - 2] = -8.625
    s[n - 2, n - 1] = s[n - 1, n - 2] = -11.25
    if n <= 128:
        w, v = fl.eigh(s)
        assert np.all(np.isfinite(w))
        assert np.max(np.abs(s @ v - v * w)) <= 30 * n * np.finfo(np.float64).eps * 20
        np.testing.assert_allclose(w, np.linalg.eigvalsh(s), atol=1e-13)
    np.testing.assert_allclose(fl.eigvalsh(s), np.linalg.eigvalsh(s), atol=1e-13)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("scale", (1e-300, 1e-160, 1e160, 1e300))
def test_extreme_scales_values(rng, scale, dtype):
    """Entries far outside the safe range: eigh rescales by a power of two before the kernel."""
    if dtype == np.float32:
        scale = {1e-300: 1e-37, 1e-160: 1e-20, 1e160: 1e20, 1e300: 1e37}[scale]
    a64 = sym(rng, 40, np.float64)
    a = (a64 * scale).astype(dtype)
    w, v = fl.eigh(a)
    check_decomposition(a, w, v, dtype)
    ref = np.linalg.eigvalsh(a.astype(np.float64) / scale) * scale
    tol = 30 * 40 * eps(dtype) * np.abs(ref).max()
    np.testing.assert_allclose(w, ref, rtol=0, atol=tol)
    np.testing.assert_allclose(fl.eigvalsh(a), ref, rtol=0, atol=tol)
