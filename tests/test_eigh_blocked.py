"""The blocked symmetric tridiagonalisation (``rust/kernels/src/sytrd_blocked.rs``: LAPACK's
``dsytrd`` with panels of 16 columns, the last <= 48 by ``dsytd2``; ``dsterf`` for eigenvalues
only), used by ``eigvalsh`` for n > 96, for the tridiagonalisation alone by ``eigh``'s
small-order path for 96 <= n <= 112, and by ``eigh`` from n = 113 (our tridiagonal divide and
conquer, ``stedc.rs``, on its tridiagonal, then our blocked back-transformation; faer's
``self_adjoint_evd``, with its input scaled to max |a| ~ 1, is the fallback). Sizes straddle those crossovers, the panel width and
the two-piece split of the matrix-vector products (from 192 trailing rows), with the ratio tests
of ``test_eigh.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id
from test_eigh import check_decomposition, check_eigenvalues, nasty, sym

# the random-matrix tests at the blocked sizes are in test_eigh_sytrd.py, beside the unblocked ones


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize(
    "kind",
    ("graded", "clustered", "identity_rank1", "identity", "zero", "wilkinson", "hilbert",
     "ill_conditioned", "rank1", "overflow", "huge", "underflow", "subnormal"),
)
def test_nasty(rng, kind, dtype):
    n = 300
    a = nasty(kind, n, dtype, rng)
    assert np.all(np.isfinite(a))
    w, v = checked(fl.eigh, a)
    check_decomposition(a, w, v, dtype)
    wv = fl.eigvalsh(a)
    assert np.all(np.isfinite(wv))
    assert np.all(np.diff(wv.astype(np.float64)) >= 0)
    if kind not in ("huge", "subnormal"):  # NumPy's reference itself over/underflows there
        check_eigenvalues(a, w, dtype)
        check_eigenvalues(a, wv, dtype)


def test_repeated_eigenvalues(rng):
    """Blocks of exactly repeated eigenvalues (deflation in divide and conquer, splits in
    dsterf): vectors orthonormal, values exact to rounding."""
    n = 320
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    d = np.repeat([-2.0, 0.0, 1.0, 3.0], n // 4)
    a = (q * d) @ q.T
    a = (a + a.T) / 2
    w, v = fl.eigh(a)
    check_decomposition(a, w, v, np.float64)
    np.testing.assert_allclose(w, np.sort(d), atol=30 * n * eps(np.float64) * 3)
    np.testing.assert_allclose(fl.eigvalsh(a), np.sort(d), atol=30 * n * eps(np.float64) * 3)


def test_tridiagonal_and_diagonal_input(rng):
    """Already tridiagonal (every reflector trivial, tau = 0) and diagonal matrices."""
    n = 300
    t = np.diag(rng.standard_normal(n)) + np.diag(rng.standard_normal(n - 1), 1)
    t = t + np.triu(t, 1).T
    w, v = fl.eigh(t)
    check_decomposition(t, w, v, np.float64)
    check_eigenvalues(t, w, np.float64)
    check_eigenvalues(t, fl.eigvalsh(t), np.float64)
    dg = np.diag(rng.standard_normal(n))
    w, v = fl.eigh(dg)
    check_decomposition(dg, w, v, np.float64)
    # divide and conquer forms each eigenvalue as a pole plus a shift: exact to an ulp or two;
    # dsterf returns a diagonal's entries as they are
    np.testing.assert_allclose(w, np.sort(np.diag(dg)), rtol=0, atol=4 * eps(np.float64) * np.max(np.abs(dg)))
    np.testing.assert_array_equal(fl.eigvalsh(dg), np.sort(np.diag(dg)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_layouts(rng, dtype):
    n = 260
    a = sym(rng, n, dtype)
    w_ref, v_ref = fl.eigh(np.ascontiguousarray(a))
    wv_ref = fl.eigvalsh(np.ascontiguousarray(a))
    for name, view in layouts(a):
        w, v = checked(fl.eigh, view)
        np.testing.assert_array_equal(w, w_ref, err_msg=name)
        np.testing.assert_array_equal(v, v_ref, err_msg=name)
        np.testing.assert_array_equal(checked(fl.eigvalsh, view), wv_ref, err_msg=name)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_batched(rng, dtype):
    """A stack runs one matrix per thread (sequential blocked code): each matrix a valid
    decomposition, eigenvalues as the single-matrix call's to rounding."""
    a = sym(rng, 300, dtype, (3,))
    w, v = fl.eigh(a)
    wv = fl.eigvalsh(a)
    for i in range(3):
        check_decomposition(a[i], w[i], v[i], dtype)
        check_eigenvalues(a[i], wv[i], dtype)
        # values only: the same code on one thread or in a batch, so the same bits
        np.testing.assert_array_equal(wv[i], fl.eigvalsh(a[i]))


@pytest.mark.parametrize("n", (200, 300))
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


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(300, 300), (513, 513), (2, 260, 260)])
def test_threads_bit_identical(rng, restore_threads, shape, dtype):
    a = sym(rng, shape[-1], dtype, shape[:-2])
    fl.set_num_threads(1)
    w1, v1 = fl.eigh(a)
    wv1 = fl.eigvalsh(a)
    fl.set_num_threads(2)
    w2, v2 = fl.eigh(a)
    wv2 = fl.eigvalsh(a)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(wv1, wv2)
    # and run to run
    w3, v3 = fl.eigh(a)
    np.testing.assert_array_equal(v2, v3)


@pytest.mark.parametrize("fn", (fl.eigh, fl.eigvalsh))
@pytest.mark.parametrize("bad", (np.nan, np.inf))
def test_non_finite(fn, bad):
    n = 300
    a = np.eye(n)
    a[200, 150] = bad
    with pytest.raises(ValueError, match="infs or NaNs"):
        fn(a)
    out = fn(a, check_finite=False)
    w = out[0] if isinstance(out, tuple) else out
    assert np.all(np.isnan(w))
