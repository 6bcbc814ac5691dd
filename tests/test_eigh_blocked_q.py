"""Session 4's change to the mid-order eigensolver (``rust/kernels/src/sytrd.rs``): with
eigenvectors, from ``BLOCKED_Q_MIN_N = 80`` up to 112 (128 until session 8; larger orders now go
through ``stedc.rs``'s divide and conquer, and these sizes test both sides), ``Q`` is formed in blocks of 32 reflectors
through GEMM (``form_q_blocked``: ``dlarft``'s T, then ``W = T V^T C`` and ``C -= V W``).

Sizes on both sides of the threshold, both dtypes, the nasty corpus of ``test_eigh.py`` with its
ratio tests (residual and orthogonality scaled by n eps), Kahan and rank-deficient matrices, and
1 against 2 threads bit for bit (single matrices and a batch against its matrices).
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, param_id
from test_eigh import NASTY, check_decomposition, check_eigenvalues, nasty, sym

SIZES = (79, 80, 81, 96, 113, 127, 128)


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", SIZES)
def test_random(rng, restore_threads, n, dtype, threads):
    fl.set_num_threads(threads)
    a = sym(rng, n, dtype)
    w, v = checked(fl.eigh, a)
    check_decomposition(a, w, v, dtype)
    check_eigenvalues(a, w, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (80, 128))
@pytest.mark.parametrize("kind", NASTY)
def test_nasty(rng, restore_threads, kind, n, dtype):
    a = nasty(kind, n, dtype, rng)
    results = []
    for threads in (1, 2):
        fl.set_num_threads(threads)
        w, v = checked(fl.eigh, a)
        check_decomposition(a, w, v, dtype)
        if kind not in ("huge", "subnormal"):  # NumPy's reference itself over/underflows there
            check_eigenvalues(a, w, dtype)
        results.append((w, v))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def _kahan(n, dtype):
    """Kahan's upper triangular matrix symmetrised: eigenvalues spread over many scales."""
    theta = 1.2
    s, c = np.sin(theta), np.cos(theta)
    k = np.triu(-c * np.ones((n, n)), 1) + np.eye(n)
    k = np.diag(s ** np.arange(n)) @ k
    return ((k + k.T) / 2).astype(dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (80, 100, 128))
def test_kahan_and_rank_deficient(rng, restore_threads, n, dtype):
    x = rng.standard_normal((n, 5))
    for a in (_kahan(n, dtype), (x @ x.T).astype(dtype)):
        out = []
        for threads in (1, 2):
            fl.set_num_threads(threads)
            w, v = checked(fl.eigh, a)
            check_decomposition(a, w, v, dtype)
            check_eigenvalues(a, w, dtype)
            out.append((w, v))
        np.testing.assert_array_equal(out[0][0], out[1][0])
        np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_batch_equals_single_two_threads(rng, restore_threads, dtype):
    """A batch (one matrix per thread) and its matrices one by one (two threads each)."""
    fl.set_num_threads(2)
    a = sym(rng, 100, dtype, (3,))
    w, v = fl.eigh(a)
    for i in range(3):
        w1, v1 = fl.eigh(a[i])
        np.testing.assert_array_equal(w[i], w1)
        np.testing.assert_array_equal(v[i], v1)
