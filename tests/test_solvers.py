"""inv, solve, det, slogdet against numpy.linalg: backward errors and residuals scaled by n*eps
(and the condition number where the quantity is not backward stable), every layout, batch and
broadcast shapes, empty and 1x1 problems, nasty matrices, errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id, randn

import ferrolinalg as fl

# orders on both sides of the fixed-order kernels' limit (8), the small engine's (40), and faer's
# threads (192)
SIZES = (1, 2, 3, 4, 8, 9, 17, 40, 41, 64, 130)


def well_conditioned(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Random matrices near the identity (cond well below 1/sqrt(eps), det of moderate size)."""
    n = shape[-1]
    return (randn(rng, shape, np.float64) / (2 * np.sqrt(max(n, 1))) + np.eye(n)).astype(dtype)


def norm(x: np.ndarray) -> np.ndarray:
    """Frobenius norms of the matrices in the last two axes, in float64."""
    return np.linalg.norm(np.asarray(x, np.float64), axis=(-2, -1))


def solve_backward_error(a, x, b) -> float:
    """max over the batch of ||A X - B|| / (||A|| ||X|| n eps) (O(1) for a backward-stable solve)."""
    a64, x64, b64 = (np.asarray(v, np.float64) for v in (a, x, b))
    if b64.ndim == 1:
        b64, x64 = b64[:, None], x64[..., None]
    n = a64.shape[-1]
    r = norm(a64 @ x64 - b64)
    scale = norm(a64) * norm(x64) * n * eps(x.dtype)
    return float(np.max(r / np.maximum(scale, np.finfo(np.float64).tiny)))


def inv_residual(a, x) -> float:
    """max over the batch of ||A X - I|| / (n eps cond(A)) (O(1) for inv by LU)."""
    a64, x64 = np.asarray(a, np.float64), np.asarray(x, np.float64)
    n = a64.shape[-1]
    cond = norm(a64) * norm(x64)
    return float(np.max(norm(a64 @ x64 - np.eye(n)) / (n * eps(x.dtype) * cond)))


# --------------------------------------------------------------------------------------------
# accuracy on random matrices


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", SIZES)
def test_inv_and_solve_residuals(rng, dtype, n):
    a = randn(rng, (3, n, n), dtype)
    x = checked(fl.inv, a)
    assert x.dtype == dtype and x.shape == a.shape
    assert inv_residual(a, x) < 10
    b = randn(rng, (3, n, 4), dtype)
    y = checked(fl.solve, a, b)
    assert y.dtype == dtype and y.shape == b.shape
    assert solve_backward_error(a, y, b) < 10
    bv = randn(rng, (n,), dtype)
    yv = fl.solve(a, bv)
    assert yv.shape == (3, n)
    assert solve_backward_error(a, yv, bv) < 10


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", SIZES)
def test_det_and_slogdet_match_numpy(rng, dtype, n):
    a = well_conditioned(rng, (4, n, n), dtype)
    a64 = a.astype(np.float64)
    cond = np.linalg.cond(a64)
    ref = np.linalg.det(a64)
    got = checked(fl.det, a)
    assert got.dtype == dtype and got.shape == (4,)
    tol = 10 * n * eps(dtype) * cond
    assert np.all(np.abs(got - ref) <= tol * np.abs(ref))
    sign, logabs = checked(fl.slogdet, a)
    rs, rl = np.linalg.slogdet(a64)
    assert sign.dtype == dtype and logabs.dtype == dtype
    np.testing.assert_array_equal(sign, rs)
    assert np.all(np.abs(logabs - rl) <= tol + 4 * eps(dtype) * np.abs(rl))


def test_single_matrix_results_are_numpy_scalars(rng):
    a = randn(rng, (5, 5), np.float64)
    d = fl.det(a)
    assert isinstance(d, np.float64)
    res = fl.slogdet(a.astype(np.float32))
    assert isinstance(res, fl.SlogdetResult)
    assert isinstance(res.sign, np.float32) and isinstance(res.logabsdet, np.float32)
    sign, logabs = res
    assert sign == res[0] and logabs == res[1]


def same(got, ref, n, name) -> None:
    """Bit-identical for the small engine (every layout is copied into the same row-major
    scratch); for faer's (n > 40) a C-order matrix is factored as its transpose, which rounds
    differently, so there the results agree to a few ulps."""
    if n <= 40:
        np.testing.assert_array_equal(got, ref, err_msg=name)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("n", (3, 12, 50))
@pytest.mark.parametrize("func", ["inv", "det", "slogdet"])
def test_every_layout_of_a_gives_identical_results(rng, func, n):
    a = well_conditioned(rng, (2, 3, n, n), np.float64)
    fn = getattr(fl, func)
    ref = fn(a)
    for name, view in layouts(a):
        got = checked(fn, view)
        if func == "slogdet":
            np.testing.assert_array_equal(got[0], ref[0], err_msg=name)
            same(got[1], ref[1], n, name)
        else:
            same(got, ref, n, name)


@pytest.mark.parametrize("n", (3, 12, 50))
def test_every_layout_of_a_and_b_in_solve(rng, n):
    a = well_conditioned(rng, (2, n, n), np.float64)
    b = randn(rng, (2, n, 3), np.float64)
    ref = fl.solve(a, b)
    for name_a, va in layouts(a):
        same(checked(fl.solve, va, b), ref, n, name_a)
    for name_b, vb in layouts(b):
        same(checked(fl.solve, a, vb), ref, n, name_b)
    bv = randn(rng, (n,), np.float64)
    refv = fl.solve(a, bv)
    for name_b, vb in layouts(bv):
        same(fl.solve(a, vb), refv, n, name_b)


# --------------------------------------------------------------------------------------------
# shapes: NumPy 2's broadcasting rules, empty and 1x1 problems


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((4, 4), (4,)),
        ((4, 4), (4, 1)),
        ((4, 4), (4, 6)),
        ((3, 4, 4), (4,)),
        ((3, 4, 4), (4, 2)),
        ((3, 4, 4), (3, 4, 2)),
        ((3, 4, 4), (1, 4, 2)),
        ((4, 4), (5, 4, 2)),
        ((2, 1, 4, 4), (3, 4, 1)),
        ((2, 3, 4, 4), (3, 4, 4)),
        ((3, 4, 4), (3, 4, 0)),
        ((0, 4, 4), (4, 2)),
        ((0, 4, 4), (4,)),
        ((2, 0, 0), (0,)),
        ((0, 0), (0, 3)),
        ((1, 1), (1,)),
        ((50, 50), (2, 50, 3)),
        ((20, 20), (20, 40)),
    ],
)
def test_solve_shapes_follow_numpy(rng, a_shape, b_shape):
    a = well_conditioned(rng, a_shape, np.float64) if a_shape[-1] else np.zeros(a_shape)
    b = randn(rng, b_shape, np.float64)
    ref = np.linalg.solve(a, b)
    got = fl.solve(a, b)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 0), (3, 0, 0), (0, 3, 3), (2, 0, 5, 5), (1, 1), (4, 1, 1)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_empty_and_one_by_one(rng, shape, dtype):
    a = (randn(rng, shape, dtype) + 3).astype(dtype)
    for fn, ref_fn in ((fl.inv, np.linalg.inv), (fl.det, np.linalg.det)):
        got, ref = fn(a), ref_fn(a)
        assert np.shape(got) == np.shape(ref) and np.asarray(got).dtype == dtype
        np.testing.assert_allclose(got, ref, rtol=4 * eps(dtype))
    sign, logabs = fl.slogdet(a)
    rs, rl = np.linalg.slogdet(a)
    np.testing.assert_array_equal(sign, rs)
    np.testing.assert_allclose(logabs, rl, rtol=4 * eps(dtype), atol=4 * eps(dtype))


def test_det_of_empty_matrix():
    assert fl.det(np.zeros((0, 0))) == 1.0
    assert tuple(fl.slogdet(np.zeros((0, 0)))) == (1.0, 0.0)
    np.testing.assert_array_equal(fl.det(np.zeros((2, 0, 0))), [1.0, 1.0])


# --------------------------------------------------------------------------------------------
# dtypes


def test_dtypes_and_conversions(rng):
    a32 = well_conditioned(rng, (3, 3), np.float32)
    b64 = randn(rng, (3,), np.float64)
    assert fl.solve(a32, b64).dtype == np.float64
    assert fl.solve(a32, b64.astype(np.float32)).dtype == np.float32
    ai = np.array([[2, 1], [1, 3]])
    np.testing.assert_allclose(fl.inv(ai), np.linalg.inv(ai), rtol=1e-15)
    assert fl.det(ai) == pytest.approx(5.0, rel=1e-15)
    assert fl.solve([[2.0, 0.0], [0.0, 4.0]], [1, 1]).tolist() == [0.5, 0.25]
    assert fl.inv(a32).dtype == np.float32


# --------------------------------------------------------------------------------------------
# nasty matrices


def hilbert(n: int) -> np.ndarray:
    i = np.arange(n)
    return 1.0 / (i[:, None] + i[None, :] + 1)


@pytest.mark.parametrize("n", (4, 8, 12, 40))
def test_hilbert_backward_error(rng, n):
    a = hilbert(n)
    b = randn(rng, (n, 2), np.float64)
    assert solve_backward_error(a, fl.solve(a, b), b) < 10
    ref = np.linalg.det(a)
    cond = np.linalg.cond(a)
    assert abs(fl.det(a) - ref) <= 10 * n * eps(np.float64) * cond * abs(ref)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("n", (4, 8, 12, 45))
def test_hilbert_inverse_residual(dtype, n):
    a = hilbert(n).astype(dtype)
    assert inv_residual(a, fl.inv(a)) < 10


@pytest.mark.parametrize("n", (5, 50))
def test_graded_and_badly_scaled(rng, n):
    scale = np.logspace(-150, 150, n)
    a = randn(rng, (n, n), np.float64) * scale[:, None]
    b = randn(rng, (n,), np.float64) * scale
    x = fl.solve(a, b)
    # row-graded: the backward error of each row relative to its own scale is what LU gives
    r = np.abs(a @ x - b) / (np.abs(a) @ np.abs(x) + np.abs(b))
    assert np.max(r) < 1e3 * n * eps(np.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_determinants_near_overflow_and_underflow(dtype):
    big = np.finfo(dtype).max ** 0.5
    tiny = np.finfo(dtype).tiny ** 0.5
    # every pivot is extreme, the product is 1: no intermediate overflow or underflow
    a = np.diag(np.array([big, big, 1 / big, 1 / big, tiny, 1 / tiny], dtype))
    assert fl.det(a) == pytest.approx(1.0, rel=20 * eps(dtype))
    # the determinant itself overflows or underflows as it should
    assert fl.det(np.diag(np.array([big, big, big], dtype))) == np.inf
    assert fl.det(np.diag(np.array([tiny, tiny, tiny], dtype))) == 0.0
    sign, logabs = fl.slogdet(np.diag(np.array([-big, big, big], dtype)))
    assert sign == -1 and logabs == pytest.approx(3 * np.log(float(big)), rel=4 * eps(dtype))
    np.testing.assert_allclose(fl.inv(a), np.diag(1 / np.diag(a.astype(np.float64))).astype(dtype), rtol=4 * eps(dtype))


def test_scaled_det_beats_exp_of_log():
    a = np.diag([1e200, 1e200, 1e-300])
    assert fl.det(a) == 1e100


# --------------------------------------------------------------------------------------------
# singular matrices, bad input


def test_singular_matrix_raises_with_batch_index():
    a = np.stack([np.eye(3), np.ones((3, 3)), np.zeros((3, 3))])
    with pytest.raises(fl.LinAlgError, match=r"Singular matrix \(batch index 1\)"):
        fl.inv(a)
    with pytest.raises(np.linalg.LinAlgError, match="batch index 1"):
        fl.solve(a, np.ones(3))
    with pytest.raises(fl.LinAlgError, match="^Singular matrix$"):
        fl.inv(np.zeros((2, 2)))
    big = np.ones((50, 50))
    with pytest.raises(fl.LinAlgError, match="Singular matrix"):
        fl.inv(big)
    with pytest.raises(fl.LinAlgError, match="Singular matrix"):
        fl.solve(big, np.ones(50))


def test_singular_determinants_are_zero():
    a = np.stack([np.eye(3), np.ones((3, 3)), np.zeros((3, 3)), [[1.0, 2, 3], [4, 5, 6], [7, 8, 9.0]]])
    d = fl.det(a)
    assert d[0] == 1.0 and d[1] == 0.0 and d[2] == 0.0
    assert abs(d[3]) < 1e-14  # numerically singular, rounding makes the last pivot tiny (not 0)
    sign, logabs = fl.slogdet(a[:3])
    np.testing.assert_array_equal(sign, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(logabs, [0.0, -np.inf, -np.inf])
    for n in (12, 50, 200):
        assert fl.det(np.ones((n, n))) == 0.0
        assert tuple(fl.slogdet(np.zeros((n, n)))) == (0.0, -np.inf)


@pytest.mark.parametrize("func", ["inv", "det", "slogdet"])
@pytest.mark.parametrize("shape, pattern", [((2, 3), r"\(2, 3\)"), ((4, 2, 3), r"\(4, 2, 3\)"), ((3,), r"\(3,\)"), ((), r"\(\)")])
def test_non_square_is_a_value_error(func, shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(fl, func)(np.ones(shape))


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((2, 3), (2,)), ((3, 3), (4,)), ((3, 3), (4, 1)), ((2, 3, 3), (4, 3, 1)), ((3, 3), ())],
)
def test_solve_shape_errors_name_both_shapes(a_shape, b_shape):
    a = np.ones(a_shape)
    with pytest.raises(ValueError) as info:
        fl.solve(a, np.ones(b_shape))
    msg = str(info.value)
    if a_shape[-1] == a_shape[-2]:
        assert f"{a_shape} and {b_shape}" in msg, msg
    else:
        assert str(a_shape) in msg, msg


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("n", (3, 12, 50))
def test_non_finite_input(bad, n):
    a = np.eye(n) * 2
    a[1, 2] = bad
    for fn in (fl.inv, fl.det, fl.slogdet):
        with pytest.raises(ValueError, match="infs or NaNs"):
            fn(a)
        try:  # no ValueError; the values are whatever the arithmetic gives (inf - inf may
            fn(a, check_finite=False)  # even leave an exact zero pivot: then a LinAlgError)
        except fl.LinAlgError:
            pass
    with pytest.raises(ValueError, match="a must not contain"):
        fl.solve(a, np.ones(n))
    b = np.ones(n)
    b[0] = bad
    with pytest.raises(ValueError, match="b must not contain"):
        fl.solve(np.eye(n), b)
    fl.solve(np.eye(n), b, check_finite=False)
    batch = np.stack([np.eye(n), a])
    with pytest.raises(ValueError, match=r"index \[1, 1, 2\]"):
        fl.inv(batch)


@pytest.mark.parametrize("order", ["C", "F"])
def test_non_finite_input_large(order):
    """A single large matrix is copied (and checked) in column blocks on the pool: a bad entry
    in the first and in the last block is found, in either layout."""
    n = 300
    for where in [(1, 2), (n - 1, n - 3), (n - 3, n - 1)]:
        a = np.asarray(np.eye(n) * 2, order=order)
        a[where] = np.nan
        for fn in (fl.inv, fl.det):
            with pytest.raises(ValueError, match="infs or NaNs"):
                fn(a)
        with pytest.raises(ValueError, match="a must not contain"):
            fl.solve(a, np.ones(n))


def test_non_finite_values_propagate_without_check():
    a = np.array([[np.inf, 1.0], [1.0, 1.0]])
    assert not np.isfinite(fl.det(a, check_finite=False))


# --------------------------------------------------------------------------------------------
# threads


@pytest.mark.parametrize("shape", [(300, 8, 8), (50, 20, 20), (6, 50, 50), (250, 250)])
def test_thread_count_does_not_change_results(rng, restore_threads, shape):
    a = well_conditioned(rng, shape, np.float64)
    b = randn(rng, shape[:-1] + (3,), np.float64)
    results = []
    for t in (1, 2):
        fl.set_num_threads(t)
        results.append((fl.inv(a), fl.solve(a, b), fl.det(a), fl.slogdet(a).logabsdet))
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)


def test_large_batch(rng):
    a = well_conditioned(rng, (5000, 8, 8), np.float64)
    b = randn(rng, (5000, 8, 1), np.float64)
    assert inv_residual(a, fl.inv(a)) < 10
    assert solve_backward_error(a, fl.solve(a, b), b) < 10
    np.testing.assert_allclose(fl.det(a), np.linalg.det(a), rtol=1e-12)
