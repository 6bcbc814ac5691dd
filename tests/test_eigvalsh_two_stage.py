"""eigvalsh of large orders through the two-stage tridiagonalisation (rust/kernels/src/sy2sb.rs:
dense -> band of half-bandwidth 16 in GEMM; sb2st.rs: band -> tridiagonal by bulge chasing; then
dsterf), used from sytrd_blocked.rs's TWO_STAGE_MIN_N on (below it the one-stage blocked path of
test_eigh_blocked.py). Keep TWO_STAGE_MIN_N here equal to the kernel's.

Eigenvalues against NumPy with the ratio tests of test_eigh.py, on both sides of the crossover, in
every layout, on the nasty corpus, with UPLO, and bit-identical for one and two threads and
between a single matrix (its GEMMs split over the threads) and the same matrix in a stack.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id
from test_eigh import NASTY, check_eigenvalues, nasty, sym

TWO_STAGE_MIN_N = 352


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (TWO_STAGE_MIN_N - 1, TWO_STAGE_MIN_N, TWO_STAGE_MIN_N + 37))
def test_random_values(rng, n, dtype):
    a = sym(rng, n, dtype)
    w = checked(fl.eigvalsh, a)
    assert w.dtype == dtype and w.shape == (n,)
    assert np.all(np.diff(w.astype(np.float64)) >= 0)
    check_eigenvalues(a, w, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("kind", NASTY)
def test_nasty(rng, kind, dtype):
    a = nasty(kind, TWO_STAGE_MIN_N + 5, dtype, rng)
    w = fl.eigvalsh(a)
    assert np.all(np.isfinite(w)), kind
    if kind not in ("huge", "subnormal"):  # NumPy's reference itself over/underflows there
        check_eigenvalues(a, w, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_layouts_give_identical_values(rng, dtype):
    a = sym(rng, TWO_STAGE_MIN_N + 3, dtype)
    want = fl.eigvalsh(np.ascontiguousarray(a))
    check_eigenvalues(a, want, dtype)
    for name, view in layouts(a, broadcast=False):
        np.testing.assert_array_equal(checked(fl.eigvalsh, view), want, err_msg=name)


@pytest.mark.parametrize("uplo", ("L", "U"))
def test_uplo_reads_one_triangle(rng, uplo):
    n = TWO_STAGE_MIN_N + 1
    a = sym(rng, n, np.float64)
    garbage = a.copy()
    other = np.triu_indices(n, 1) if uplo == "L" else np.tril_indices(n, -1)
    garbage[other] = np.nan
    w = fl.eigvalsh(garbage, UPLO=uplo, check_finite=False)
    check_eigenvalues(a, w, np.float64)


def test_repeated_and_extreme_scales(rng):
    n = TWO_STAGE_MIN_N + 2
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    d = np.repeat([-2.0, 0.0, 1.0, 3.0], [n // 4, n // 4, n // 4, n - 3 * (n // 4)])
    a = (q * d) @ q.T
    a = (a + a.T) / 2
    np.testing.assert_allclose(fl.eigvalsh(a), np.sort(d), atol=30 * n * eps(np.float64) * 3)
    for scale in (2.0**-1000, 2.0**1000):
        np.testing.assert_allclose(fl.eigvalsh(a * scale) / scale, np.sort(d), atol=30 * n * eps(np.float64) * 3)


def test_threads_bit_identical(rng, restore_threads):
    a = sym(rng, TWO_STAGE_MIN_N + 11, np.float64)
    results = []
    for t in (1, 2, 1, 2):
        fl.set_num_threads(t)
        results.append(fl.eigvalsh(a))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    fl.set_num_threads(2)
    stack = fl.eigvalsh(np.stack([a, 2 * a]))
    np.testing.assert_array_equal(stack[0], results[0])
