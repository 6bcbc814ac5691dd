"""``ferrolinalg.eigh`` and ``ferrolinalg.eigvalsh`` against ``numpy.linalg``: LAPACK-style ratio
tests (backward error ``||A V - V diag(w)|| / (||A|| n eps)`` and orthogonality
``||V^T V - I|| / (n eps)``, both O(1)) on random and nasty symmetric matrices, eigenvalues against
NumPy's, every layout, batches, UPLO semantics, the sign convention, reproducibility across thread
counts, and the error cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id

SIZES = (1, 2, 3, 4, 8, 17, 64, 130)
#: bound on the ratio tests (LAPACK's test drivers use 30 as well)
RATIO = 30.0


def sym(rng, n, dtype, batch=()):
    x = rng.standard_normal(batch + (n, n))
    return ((x + np.swapaxes(x, -1, -2)) / 2).astype(dtype)


def ratios(a, w, v):
    """(backward error, orthogonality) ratios of one decomposition, computed in float64 on the
    symmetrised input (the lower triangle mirrored). Norms are scaled by max|A| so that inputs
    near overflow or underflow can be measured too."""
    a = np.asarray(a, dtype=np.float64)
    a = np.tril(a) + np.tril(a, -1).T
    n = a.shape[-1]
    e = eps(w.dtype)
    scale = np.max(np.abs(a)) or 1.0
    a_s, w_s = a / scale, np.asarray(w, np.float64) / scale
    v = np.asarray(v, dtype=np.float64)
    anorm = np.linalg.norm(a_s, 1) or 1.0
    resid = np.linalg.norm(a_s @ v - v * w_s, 1) / (anorm * n * e)
    orth = np.linalg.norm(v.T @ v - np.eye(n), 1) / (n * e)
    return resid, orth


def check_decomposition(a, w, v, dtype, *, uplo="L"):
    """Ratios O(1), ascending eigenvalues, dtype and shape, sign convention; ``a`` 2-D."""
    a = np.asarray(a, dtype=np.float64)
    if uplo == "U":
        a = a.T
    n = a.shape[-1]
    assert w.dtype == dtype and v.dtype == dtype
    assert w.shape == (n,) and v.shape == (n, n)
    assert np.all(np.diff(w.astype(np.float64)) >= 0), "eigenvalues not ascending"
    resid, orth = ratios(a, w, v)
    assert resid <= RATIO, f"backward error ratio {resid:.3g}"
    assert orth <= RATIO, f"orthogonality ratio {orth:.3g}"
    # the sign convention: the largest-magnitude component of each eigenvector is positive
    if n:
        idx = np.argmax(np.abs(v), axis=0)
        assert np.all(v[idx, np.arange(n)] > 0)


def check_eigenvalues(a, w, dtype, c=4.0):
    """``|w - w_np| <= c n eps ||A||`` against NumPy's eigenvalues of ``a`` in float64."""
    a64 = np.asarray(a, dtype=np.float64)
    scale = np.max(np.abs(a64)) if a64.size else 1.0
    scale = scale or 1.0
    w_np = np.linalg.eigvalsh(a64 / scale) * scale
    n = a64.shape[-1]
    anorm = np.linalg.norm(a64 / scale, 2, axis=(-2, -1))[..., None] * scale if n else 0.0
    err = np.abs(np.asarray(w, np.float64) - w_np)
    assert np.all(err <= c * max(n, 1) * eps(dtype) * anorm + np.finfo(dtype).tiny), np.max(err)


# --------------------------------------------------------------------------------------------
# random matrices, sizes, dtypes


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", SIZES)
def test_random(rng, n, dtype):
    a = sym(rng, n, dtype)
    w, v = checked(fl.eigh, a)
    check_decomposition(a, w, v, dtype)
    check_eigenvalues(a, w, dtype)
    wv = checked(fl.eigvalsh, a)
    assert wv.dtype == dtype and wv.shape == (n,)
    check_eigenvalues(a, wv, dtype)


def test_500_once(rng):
    a = sym(rng, 500, np.float64)
    w, v = fl.eigh(a)
    check_decomposition(a, w, v, np.float64)
    check_eigenvalues(a, w, np.float64)


def test_named_tuple_and_zero_size(rng):
    res = fl.eigh(sym(rng, 3, np.float64))
    assert isinstance(res, fl.EighResult)
    assert res.eigenvalues is res[0] and res.eigenvectors is res[1]
    w, v = fl.eigh(np.zeros((0, 0)))
    assert w.shape == (0,) and v.shape == (0, 0)
    w, v = fl.eigh(np.zeros((0, 4, 4), np.float32))
    assert w.shape == (0, 4) and v.shape == (0, 4, 4) and w.dtype == np.float32
    assert fl.eigvalsh(np.zeros((2, 0, 0))).shape == (2, 0)


def test_integer_and_list_input():
    a = [[2, 1], [1, 2]]
    w, v = fl.eigh(a)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, [1.0, 3.0])


# --------------------------------------------------------------------------------------------
# nasty matrices


def nasty(kind, n, dtype, rng):
    if kind == "graded":
        d = np.logspace(0, -12 if dtype == np.float64 else -5, n)
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        a = (q * d) @ q.T
        g = np.logspace(0, -6 if dtype == np.float64 else -3, n)
        return (g[:, None] * sym(rng, n, np.float64) * g[None, :]).astype(dtype) if n % 2 else a.astype(dtype)
    if kind == "clustered":
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        d = 1.0 + eps(dtype) * np.arange(n)
        d[-1] = 2.0
        return ((q * d) @ q.T).astype(dtype)
    if kind == "identity_rank1":
        x = rng.standard_normal(n)
        return (np.eye(n) + np.outer(x, x)).astype(dtype)
    if kind == "identity":
        return np.eye(n, dtype=dtype)
    if kind == "zero":
        return np.zeros((n, n), dtype)
    if kind == "wilkinson":
        m = (n - 1) / 2
        return (np.diag(np.abs(np.arange(n) - m)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)).astype(dtype)
    if kind == "hilbert":
        i = np.arange(n)
        return (1.0 / (i[:, None] + i[None, :] + 1)).astype(dtype)
    if kind == "ill_conditioned":
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        d = np.logspace(0, np.log10(eps(dtype)), n) * rng.choice([-1, 1], n)
        return ((q * d) @ q.T).astype(dtype)
    if kind == "rank1":
        x = rng.standard_normal(n)
        return np.outer(x, x).astype(dtype)
    if kind == "overflow":
        return (sym(rng, n, np.float64) * (1e150 if dtype == np.float64 else 1e18)).astype(dtype)
    if kind == "huge":
        return (sym(rng, n, np.float64) * (float(np.finfo(dtype).max) / (4 * n))).astype(dtype)
    if kind == "underflow":
        return (sym(rng, n, np.float64) * (1e-150 if dtype == np.float64 else 1e-18)).astype(dtype)
    if kind == "subnormal":
        return (sym(rng, n, np.float64) * np.finfo(dtype).tiny * 16).astype(dtype)
    raise AssertionError(kind)


NASTY = (
    "graded", "clustered", "identity_rank1", "identity", "zero", "wilkinson", "hilbert",
    "ill_conditioned", "rank1", "overflow", "huge", "underflow", "subnormal",
)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (2, 3, 5, 8, 21, 70))
@pytest.mark.parametrize("kind", NASTY)
def test_nasty(rng, kind, n, dtype):
    a = nasty(kind, n, dtype, rng)
    assert np.all(np.isfinite(a))
    w, v = checked(fl.eigh, a)
    check_decomposition(a, w, v, dtype)
    if kind not in ("huge", "subnormal"):  # NumPy's reference itself over/underflows there
        check_eigenvalues(a, w, dtype)
        check_eigenvalues(a, fl.eigvalsh(a), dtype)


# --------------------------------------------------------------------------------------------
# layouts and batches


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (3, 40))
def test_layouts(rng, n, dtype):
    a = sym(rng, n, dtype, (2, 3))
    w_ref, v_ref = fl.eigh(np.ascontiguousarray(a))
    for name, view in layouts(a):
        w, v = checked(fl.eigh, view)
        np.testing.assert_array_equal(w, w_ref, err_msg=name)
        # the layout may change the rounding of the copy only by nothing: same values in, same out
        np.testing.assert_array_equal(v, v_ref, err_msg=name)
        np.testing.assert_array_equal(checked(fl.eigvalsh, view), fl.eigvalsh(a), err_msg=name)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (1, 4, 8, 33))
def test_batched(rng, n, dtype):
    a = sym(rng, n, dtype, (3, 5))
    w, v = fl.eigh(a)
    assert w.shape == (3, 5, n) and v.shape == (3, 5, n, n)
    for i in range(3):
        for j in range(5):
            w1, v1 = fl.eigh(a[i, j])
            np.testing.assert_array_equal(w[i, j], w1)
            np.testing.assert_array_equal(v[i, j], v1)
            check_decomposition(a[i, j], w[i, j], v[i, j], dtype)
    check_eigenvalues(a, w, dtype)
    np.testing.assert_array_equal(fl.eigvalsh(a).shape, (3, 5, n))


# --------------------------------------------------------------------------------------------
# UPLO


@pytest.mark.parametrize("n", (1, 4, 8, 40))
@pytest.mark.parametrize("uplo", ("L", "U"))
def test_uplo_reads_one_triangle(rng, n, uplo):
    a = sym(rng, n, np.float64)
    garbage = a.copy()
    other = np.triu_indices(n, 1) if uplo == "L" else np.tril_indices(n, -1)
    garbage[other] = np.nan
    w, v = checked(fl.eigh, garbage, UPLO=uplo)
    w_ref, v_ref = fl.eigh(a, UPLO=uplo)
    np.testing.assert_array_equal(w, w_ref)
    np.testing.assert_array_equal(v, v_ref)
    np.testing.assert_array_equal(fl.eigvalsh(garbage, UPLO=uplo), fl.eigvalsh(a, UPLO=uplo))
    # a non-symmetric input: only the named triangle counts, as in NumPy
    b = rng.standard_normal((n, n))
    np.testing.assert_allclose(fl.eigvalsh(b, uplo), np.linalg.eigvalsh(b, uplo), rtol=0, atol=1e-12 * n)
    wb, vb = fl.eigh(b, uplo)
    check_decomposition(b, wb, vb, np.float64, uplo=uplo)


def test_uplo_lowercase_and_bad():
    a = np.eye(2)
    np.testing.assert_array_equal(fl.eigvalsh(a, "u"), [1.0, 1.0])
    with pytest.raises(ValueError, match="UPLO"):
        fl.eigh(a, UPLO="X")


# --------------------------------------------------------------------------------------------
# reproducibility


@pytest.mark.parametrize("shape", [(300, 6, 6), (50, 30, 30), (260, 260), (4, 200, 200), (600, 600), (2, 600, 600)])
def test_threads_bit_identical(rng, restore_threads, shape):
    # (a single 600x600 matrix runs faer's parallel algorithm, which rounded differently on one
    # thread and two until its degree was fixed: Par::install_fixed)
    a = sym(rng, shape[-1], np.float64, shape[:-2])
    results = []
    for t in (1, 2, 1, 2):
        fl.set_num_threads(t)
        results.append((fl.eigh(a), fl.eigvalsh(a)))
    for (w, v), e in results[1:]:
        np.testing.assert_array_equal(w, results[0][0][0])
        np.testing.assert_array_equal(v, results[0][0][1])
        np.testing.assert_array_equal(e, results[0][1])


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("fn", (fl.eigh, fl.eigvalsh))
def test_non_square(fn):
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        fn(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\(2, 5, 4\)"):
        fn(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        fn(np.zeros(3))


@pytest.mark.parametrize("fn", (fl.eigh, fl.eigvalsh))
@pytest.mark.parametrize("bad", (np.nan, np.inf, -np.inf))
@pytest.mark.parametrize("n", (3, 40))
def test_non_finite(fn, bad, n):
    a = np.eye(n)[None].repeat(4, 0)
    a[2, n - 1, 0] = bad
    with pytest.raises(ValueError, match="batch index 2"):
        fn(a)
    with pytest.raises(ValueError, match="infs or NaNs"):
        fn(a, UPLO="L")
    # the upper triangle does not hold it: not read
    fn(a, UPLO="U")
    # check_finite=False: no check, and the matrix holding it gives NaN (never a silent number)
    out = fn(a, check_finite=False)
    w = out[0] if isinstance(out, tuple) else out
    assert np.all(np.isnan(w[2]))
    np.testing.assert_array_equal(w[[0, 1, 3]], 1.0)


@pytest.mark.parametrize("order", ("C", "F"))
def test_non_finite_named_in_column_order(order):
    """Of two non-finite entries the error names the first in column order, whatever order the
    matrix is read in (a row-major one is read in bands of rows: (20, 10) comes first there)."""
    a = np.asarray(np.eye(200), order=order)
    a[150, 3] = np.nan
    a[20, 10] = np.inf
    for fn in (fl.eigh, fl.eigvalsh):
        with pytest.raises(ValueError, match=r"\[150, 3\]"):
            fn(a)


def test_linalg_error_is_numpy_subclass():
    assert issubclass(fl.LinAlgError, np.linalg.LinAlgError)


@pytest.mark.parametrize("n", [5, 6, 12, 40])
def test_strongly_graded_float32_converges(n):
    """Found by tests/test_fuzz.py: one entry of 1e30 among O(1) ones made the small-order QL
    iteration stall in float32; such a matrix now goes to the blocked algorithm."""
    a = np.random.default_rng(n).standard_normal((n, n)).astype(np.float32)
    a[n - 1, 0] = 1e30
    w, v = fl.eigh(a)
    s = (np.tril(a) + np.tril(a, -1).T).astype(np.float64)
    assert np.max(np.abs(s @ v - v * w)) <= 30 * n * np.finfo(np.float32).eps * 1e30
    np.testing.assert_allclose(w[[0, -1]], [-1e30, 1e30], rtol=1e-5)


@pytest.mark.parametrize("n", [3, 5, 8, 20])
def test_subnormal_off_diagonals_next_to_zero_diagonals(n):
    """Found by the cargo-fuzz target small_decompositions: subnormal entries around O(10) ones
    with zeros on the diagonal made the QL shift overflow and eigh returned +-inf."""
    s = np.full((n, n), 5e-324)
    s[1, n - 2] = s[n - 2, 1] = -10.625
    s[n - 2, n - 2] = -8.625
    s[n - 2, n - 1] = s[n - 1, n - 2] = -11.25
    w, v = fl.eigh(s)
    assert np.all(np.isfinite(w))
    assert np.max(np.abs(s @ v - v * w)) <= 30 * n * np.finfo(np.float64).eps * 20
    np.testing.assert_allclose(w, np.linalg.eigvalsh(s), atol=1e-13)
    np.testing.assert_allclose(fl.eigvalsh(s), w, atol=1e-13)
