"""``svd``, ``svdvals``, ``pinv``, ``lstsq`` and ``matrix_rank`` against ``numpy.linalg``.

Decompositions are checked by what defines them, scaled by the dtype's eps and the size (LAPACK's
ratio tests): the reconstruction ``||A - U diag(S) Vh|| / (||A|| max(M, N) eps)``, the
orthogonality ``||U^T U - I|| / (max(M, N) eps)`` and ``||Vh Vh^T - I||``, and the singular values
against NumPy's within ``c max(M, N) eps S[0]``; never the vectors entry by entry (NumPy's signs
are LAPACK's, ours follow DESIGN.md's convention, which is checked on its own).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id, randn

#: Bound on the LAPACK-style ratios: O(1) in theory, a few units to a few tens in practice.
RATIO = 30.0

SHAPES = [
    (1, 1), (1, 9), (9, 1), (2, 2), (3, 3), (4, 4), (8, 8), (17, 17), (64, 64), (130, 130),
    (17, 5), (5, 17), (500, 20), (20, 500), (2, 3, 7, 4), (3, 4, 6), (6, 2, 2),
]


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def check_svd(a, got, *, full_matrices=True, ref_s=None, ratio=RATIO):
    """Checks ``got = (U, S, Vh)`` as an SVD of ``a`` (any batch shape)."""
    a = np.asarray(a)
    dtype = got.S.dtype
    U, S, Vh = got
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    assert U.shape == batch + ((m, m) if full_matrices else (m, k))
    assert Vh.shape == batch + ((n, n) if full_matrices else (k, n))
    assert S.shape == batch + (k,)
    assert U.dtype == dtype and Vh.dtype == dtype
    e = eps(dtype) * max(m, n, 1)
    A, U, S, Vh = _f64(a), _f64(U), _f64(S), _f64(Vh)
    assert np.all(np.diff(S, axis=-1) <= 0), "singular values must descend"
    assert np.all(S >= 0)
    if a.size == 0:
        return
    rec = (U[..., :, :k] * S[..., None, :]) @ Vh[..., :k, :]
    norm_a = np.linalg.norm(A, axis=(-2, -1))
    err = np.linalg.norm(A - rec, axis=(-2, -1))
    assert np.all(err <= ratio * e * np.maximum(norm_a, np.finfo(np.float64).tiny)), np.max(err / (e * norm_a))
    ku, kv = U.shape[-1], Vh.shape[-2]
    assert np.max(np.abs(np.swapaxes(U, -1, -2) @ U - np.eye(ku))) <= ratio * e
    assert np.max(np.abs(Vh @ np.swapaxes(Vh, -1, -2) - np.eye(kv))) <= ratio * e
    # the sign convention: the largest-magnitude entry of each row of Vh is positive
    rows = Vh[..., :k, :]
    idx = np.argmax(np.abs(rows), axis=-1)
    assert np.all(np.take_along_axis(rows, idx[..., None], axis=-1) >= 0)
    if ref_s is None:
        ref_s = np.linalg.svd(A, compute_uv=False)
    tol = ratio * e * np.max(ref_s, axis=-1, keepdims=True, initial=0)
    assert np.all(np.abs(S - ref_s) <= tol)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_random(rng, dtype, shape, full_matrices):
    a = randn(rng, shape, dtype)
    got = checked(fl.svd, a, full_matrices=full_matrices)
    assert isinstance(got, fl.SVDResult)
    check_svd(a, got, full_matrices=full_matrices)
    ref = np.linalg.svd(a, full_matrices=full_matrices)
    assert [x.shape for x in got] == [x.shape for x in ref]
    s = checked(fl.svd, a, full_matrices=full_matrices, compute_uv=False)
    assert s.dtype == dtype and s.shape == ref.S.shape
    assert np.array_equal(s, checked(fl.svdvals, a))
    assert np.allclose(s, got.S, rtol=0, atol=RATIO * eps(dtype) * max(shape[-2:]) * float(np.max(got.S)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
# (1500, 48) and (48, 1500) take the tall/wide TSQR path (tsqr.rs)
@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (3, 6, 4), (2, 40, 9), (1500, 48), (48, 1500)], ids=str)
def test_svd_layouts_give_identical_results(rng, dtype, shape):
    """Every layout (F-order, transposed, strided, negative strides, broadcast) gives the very
    same bits as a C-order copy: the matrix is copied into faer's workspace before any work."""
    a = randn(rng, shape, dtype)
    want = fl.svd(a, full_matrices=False)
    want_s = fl.svdvals(a)
    for name, view in layouts(a):
        got = checked(fl.svd, view, full_matrices=False)
        for g, w in zip(got, want):
            assert np.array_equal(g, w), name
        assert np.array_equal(checked(fl.svdvals, view), want_s), name


def _kahan(n, theta=1.2):
    s, c = np.sin(theta), np.cos(theta)
    k = np.triu(-c * np.ones((n, n)), 1) + np.eye(n)
    return np.diag(s ** np.arange(n)) @ k


def _with_singular_values(rng, m, n, s):
    q1, _ = np.linalg.qr(rng.standard_normal((m, m)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    k = min(m, n)
    return (q1[:, :k] * s) @ q2[:k, :]


def _nasty(rng, dtype):
    e = eps(dtype)
    big, tiny = (1e300, 1e-300) if dtype == np.float64 else (1e36, 1e-36)
    mats = {
        "zero": np.zeros((6, 4)),
        "identity": np.eye(7),
        "rank1": np.outer(rng.standard_normal(9), rng.standard_normal(6)),
        "rank3 of 20x15": rng.standard_normal((20, 3)) @ rng.standard_normal((3, 15)),
        "repeated": _with_singular_values(rng, 10, 8, np.array([3.0] * 4 + [1.0] * 4)),
        "graded": _with_singular_values(rng, 12, 12, 10.0 ** -np.arange(12.0)),
        "graded rows": np.diag(10.0 ** -np.arange(10.0)) @ rng.standard_normal((10, 10)),
        "cond 1/eps": _with_singular_values(rng, 15, 10, np.geomspace(1, e, 10)),
        "kahan": _kahan(20),
        "hilbert": 1.0 / (np.arange(10)[:, None] + np.arange(10)[None, :] + 1),
        "near overflow": big * rng.standard_normal((8, 5)),
        "near underflow": tiny * rng.standard_normal((5, 8)),
        "tall near overflow": big * rng.standard_normal((40, 3)),
        "mixed scales": np.diag([big, 1.0, tiny]) @ rng.standard_normal((3, 3)),
        "largest": float(np.finfo(dtype).max) / 4 * np.sign(rng.standard_normal((3, 3))) * np.eye(3),
    }
    return {name: m.astype(dtype) for name, m in mats.items()}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_nasty_matrices(rng, dtype, full_matrices):
    for name, a in _nasty(rng, dtype).items():
        # checked on a / max|a| (the ratios are scale-invariant; the check's own products would
        # overflow or underflow otherwise); the reference in float64 on the same values
        amax = float(np.max(np.abs(_f64(a)))) or 1.0
        a1 = _f64(a) / amax
        got = fl.svd(a, full_matrices=full_matrices)
        assert np.all(np.isfinite(got.S)), name
        try:
            check_svd(a1, fl.SVDResult(got.U, (_f64(got.S) / amax).astype(dtype), got.Vh), full_matrices=full_matrices,
                      ref_s=np.linalg.svd(a1, compute_uv=False))
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_svd_subnormal(rng, dtype):
    """Subnormal entries: the singular values are right to within a few units of the smallest
    subnormal (all the precision a subnormal result has), the vectors are orthogonal."""
    tiny = float(np.finfo(dtype).smallest_subnormal)
    a = (tiny * rng.integers(-40, 41, (6, 4))).astype(dtype)
    got = fl.svd(a)
    ref = np.linalg.svd(_f64(a) / tiny, compute_uv=False) * tiny
    assert np.all(np.abs(_f64(got.S) - ref) <= 8 * tiny + 30 * eps(dtype) * 6 * ref[0])
    assert np.max(np.abs(_f64(got.U).T @ _f64(got.U) - np.eye(6))) <= RATIO * 6 * eps(dtype)
    assert np.max(np.abs(_f64(got.Vh) @ _f64(got.Vh).T - np.eye(4))) <= RATIO * 6 * eps(dtype)


def test_svd_graded_small_singular_values_relative(rng):
    """A diagonal-dominant graded matrix keeps small singular values to high relative accuracy
    where the whole algorithm is backward stable column-wise; at least the 2-norm-relative bound
    must hold, and the extreme values must be right."""
    s = 10.0 ** -np.arange(0, 16, 3.0)
    a = np.diag(s)
    got = fl.svdvals(a)
    assert np.allclose(got, s, rtol=1e-10, atol=0)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 4), (2, 4, 0), (0, 3, 3)], ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_empty(shape, full_matrices):
    a = np.zeros(shape)
    got = fl.svd(a, full_matrices=full_matrices)
    ref = np.linalg.svd(a, full_matrices=full_matrices)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype
        assert np.array_equal(g, r)  # identity U / Vh for a full decomposition of nothing
    assert fl.svdvals(a).shape == np.linalg.svdvals(a).shape


@pytest.mark.parametrize(
    "x", [np.arange(12).reshape(3, 4), [[1, 2], [3, 4]], np.array([[True, False], [True, True]]),
          np.ones((3, 2), np.float16)], ids=["int", "list", "bool", "float16"]
)
def test_svd_converted_inputs(x):
    want_dtype = np.float32 if np.asarray(x).dtype == np.float16 else np.float64
    got = checked(fl.svd, x)
    assert got.S.dtype == want_dtype
    check_svd(np.asarray(x, dtype=want_dtype), got)


def test_svd_hermitian_reads_lower_triangle(rng):
    a = rng.standard_normal((5, 5))
    sym = np.tril(a) + np.tril(a, -1).T
    got = fl.svd(a, hermitian=True)
    check_svd(sym, got)
    assert np.allclose(got.S, np.linalg.svd(a, hermitian=True).S, rtol=1e-12, atol=0)
    assert np.allclose(fl.svd(a, hermitian=True, compute_uv=False), got.S, rtol=1e-12)


@pytest.mark.parametrize("fn", [fl.svd, fl.svdvals], ids=["svd", "svdvals"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_svd_non_finite(fn, bad):
    a = np.ones((3, 4, 4))
    a[1, 2, 3] = bad
    with pytest.raises(ValueError, match="infs or NaNs"):
        fn(a)
    with pytest.raises(fl.LinAlgError, match="batch index 1"):
        fn(a, check_finite=False)
    with pytest.raises(fl.LinAlgError) as info:
        fn(a[1], check_finite=False)
    assert isinstance(info.value, np.linalg.LinAlgError)


@pytest.mark.parametrize("fn", [partial(fl.svd, full_matrices=False), fl.svdvals], ids=["svd", "svdvals"])
@pytest.mark.parametrize("shape", [(3000, 40), (40, 3000)], ids=["tall", "wide"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_svd_non_finite_on_the_tsqr_path(fn, shape, order):
    """Tall and wide single matrices (here 4 row blocks) go through TSQR when the vectors are
    thin, and its block copies do the finiteness check: a NaN or inf in any block (the last rows or columns here) is still reported, and
    with check_finite=False is a LinAlgError, never values."""
    for bad in (np.nan, np.inf):
        a = np.asarray(np.random.default_rng(1).standard_normal(shape), order=order)
        a[-1, -1] = bad
        with pytest.raises(ValueError, match="infs or NaNs"):
            fn(a)
        with pytest.raises(fl.LinAlgError):
            fn(a, check_finite=False)
        assert np.isnan(a[-1, -1]) == np.isnan(bad)  # the input is untouched


def test_svd_bad_input():
    with pytest.raises(ValueError, match=r"\(5,\)"):
        fl.svd(np.ones(5))
    with pytest.raises(ValueError):
        fl.svdvals(np.float64(3.0))
    with pytest.raises(TypeError):
        fl.svd(np.ones((2, 2), complex))


@pytest.mark.parametrize(
    "shape",
    # single matrices from 24 to 96 run their QR iteration and their vectors on two threads
    [(40, 16, 16), (6, 30, 12), (33, 33), (64, 64), (96, 80), (50, 90), (200, 150), (150, 200), (400, 50), (300, 300), (250, 600)],
    ids=str,
)
def test_svd_threads_bit_identical(rng, restore_threads, shape):
    a = rng.standard_normal(shape)
    results = []
    for n in (1, 2, 1, 2):
        fl.set_num_threads(n)
        results.append((fl.svd(a), fl.svd(a, full_matrices=False), fl.svdvals(a)))
    for r in results[1:]:
        for got, want in zip(r, results[0]):
            if isinstance(got, tuple):
                assert all(np.array_equal(g, w) for g, w in zip(got, want))
            else:
                assert np.array_equal(got, want)


# --------------------------------------------------------------------------------------------
# pinv


def _rank_deficient(rng, shape, rank, dtype):
    m, n = shape[-2:]
    return (rng.standard_normal(shape[:-2] + (m, rank)) @ rng.standard_normal(shape[:-2] + (rank, n))).astype(dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (3, 5), (6, 6), (2, 7, 4), (30, 20)], ids=str)
def test_pinv_random(rng, dtype, shape):
    a = randn(rng, shape, dtype)
    got = checked(fl.pinv, a)
    want = np.linalg.pinv(a)
    assert got.dtype == want.dtype and got.shape == want.shape
    scale = np.max(np.abs(want))
    cond = np.linalg.cond(_f64(a))
    assert np.max(np.abs(_f64(got) - want)) <= RATIO * eps(dtype) * max(shape[-2:]) * np.max(cond) * scale


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("kwargs", [{}, {"rtol": None}, {"rtol": 1e-3}, {"rcond": 1e-8}, {"rcond": 0.3}], ids=str)
def test_pinv_rank_deficient(rng, dtype, kwargs):
    a = _rank_deficient(rng, (3, 8, 6), 3, np.float64).astype(dtype)
    got = fl.pinv(a, **kwargs)
    want = np.linalg.pinv(a, **kwargs)
    assert got.dtype == want.dtype
    assert np.allclose(got, want, rtol=0, atol=1e3 * eps(dtype) * np.max(np.abs(want)))


def test_pinv_hermitian_and_errors(rng):
    a = rng.standard_normal((2, 5, 5))
    assert np.allclose(fl.pinv(a, hermitian=True), np.linalg.pinv(a, hermitian=True), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="can't be both set"):
        fl.pinv(a, rcond=1e-3, rtol=1e-3)
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        fl.pinv(bad)
    for shape in [(0, 3), (3, 0), (2, 0, 0)]:
        assert fl.pinv(np.zeros(shape)).shape == np.linalg.pinv(np.zeros(shape)).shape
    assert fl.pinv(np.arange(6).reshape(2, 3)).dtype == np.float64
    # a per-matrix rcond broadcasts over the batch, as in NumPy
    rc = np.array([1e-15, 0.5])
    assert np.allclose(fl.pinv(a, rcond=rc), np.linalg.pinv(a, rcond=rc), atol=1e-10)


# --------------------------------------------------------------------------------------------
# lstsq


def _check_lstsq(a, b, **kwargs):
    got = checked(fl.lstsq, a, b, **kwargs)
    want = np.linalg.lstsq(a, b, **kwargs)
    x, res, rank, s = got
    assert rank == want[2]
    for g, w, what in zip((x, res, s), (want[0], want[1], want[3]), ("x", "residuals", "s")):
        assert g.shape == w.shape, what
        assert g.dtype == w.dtype, what
    tol_dtype = x.dtype
    scale = max(np.max(np.abs(want[0]), initial=0), 1.0)
    assert np.allclose(x, want[0], rtol=0, atol=1e4 * eps(tol_dtype) * scale)
    assert np.allclose(s, want[3], rtol=0, atol=100 * eps(tol_dtype) * max(np.max(want[3], initial=0), 1))
    bscale = float(np.sum(np.asarray(b, dtype=np.float64) ** 2)) + 1
    assert np.allclose(res, want[1], rtol=0, atol=1e3 * eps(tol_dtype) * bscale)
    return got


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("m, n", [(10, 4), (4, 10), (6, 6), (1, 1), (5, 1), (1, 5)])
@pytest.mark.parametrize("bshape", ["1d", "2d", "0cols"])
def test_lstsq_random(rng, dtype, m, n, bshape):
    a = randn(rng, (m, n), dtype)
    b = randn(rng, {"1d": (m,), "2d": (m, 3), "0cols": (m, 0)}[bshape], dtype)
    _check_lstsq(a, b)


@pytest.mark.parametrize("rcond", [None, -1, 1e-10, 0.5])
def test_lstsq_rank_deficient(rng, rcond):
    a = _rank_deficient(rng, (12, 6), 3, np.float64)
    b = rng.standard_normal((12, 2))
    x, res, rank, s = _check_lstsq(a, b, rcond=rcond)
    assert res.shape == (0,)  # rank < N: no residuals, as NumPy


def test_lstsq_mixed_and_errors(rng):
    a = randn(rng, (8, 3), np.float32)
    b = np.arange(8)  # int b: float64 result
    _check_lstsq(a, b)
    _check_lstsq(np.arange(12).reshape(6, 2) + np.eye(6, 2), rng.standard_normal(6))
    with pytest.raises(ValueError, match=r"\(8, 3\) and \(7,\)"):
        fl.lstsq(a, np.ones(7))
    with pytest.raises(ValueError):
        fl.lstsq(np.ones((2, 3, 3)), np.ones(3))
    bad = np.ones(8)
    bad[2] = np.inf
    with pytest.raises(ValueError):
        fl.lstsq(a, bad)
    x, res, rank, s = fl.lstsq(np.zeros((0, 3)), np.zeros(0))
    assert x.shape == (3,) and np.all(x == 0) and rank == 0 and s.shape == (0,)


# --------------------------------------------------------------------------------------------
# matrix_rank


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_matrix_rank(rng, dtype):
    cases = [
        randn(rng, (6, 4), dtype),
        _rank_deficient(rng, (9, 7), 3, dtype),
        _rank_deficient(rng, (4, 5, 8), 2, dtype),
        np.zeros((3, 3), dtype),
        np.eye(5, dtype=dtype),
        np.zeros((0, 4), dtype),
    ]
    for a in cases:
        got = checked(fl.matrix_rank, a)
        want = np.linalg.matrix_rank(a)
        assert np.array_equal(got, want) and np.shape(got) == np.shape(want)
        for kwargs in ({"tol": 0.5}, {"rtol": 1e-2}, {"hermitian": True}):
            sq = a[..., : min(a.shape[-2:]), : min(a.shape[-2:])] if "hermitian" in kwargs else a
            assert np.array_equal(fl.matrix_rank(sq, **kwargs), np.linalg.matrix_rank(sq, **kwargs)), kwargs


def test_matrix_rank_small_and_errors():
    assert fl.matrix_rank(np.ones(4)) == np.linalg.matrix_rank(np.ones(4)) == 1
    assert fl.matrix_rank(np.zeros(4)) == 0
    assert fl.matrix_rank(np.float64(2.0)) == 1
    with pytest.raises(ValueError, match="can't be both set"):
        fl.matrix_rank(np.eye(3), tol=1.0, rtol=1.0)
    a = np.eye(3)
    a[1, 1] = np.nan
    with pytest.raises(ValueError):
        fl.matrix_rank(a)
