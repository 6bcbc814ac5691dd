"""``ferrolinalg.dot`` against ``numpy.dot`` and ``ferrolinalg.vecdot`` against ``numpy.vecdot``:
every combination of operand dimensions, sizes, layouts, dtypes and (for dot) ``out=``.

Shape errors are in test_errors.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import (
    DTYPE_PROMOTIONS,
    FLOAT_DTYPES,
    SMALL_SIZES,
    assert_product_close,
    checked,
    layouts,
    randn,
)


def _dot_k(a_shape, b_shape):
    """How many terms numpy.dot sums per element."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        return 1
    return a_shape[-1]


def _check_dot_all_layouts(a, b):
    for (na, va), (nb, vb) in itertools.product(list(layouts(a)), list(layouts(b))):
        try:
            assert_product_close(checked(fl.dot, va, vb), np.dot, a, b, k=_dot_k(a.shape, b.shape))
        except AssertionError as e:
            raise AssertionError(f"a:{na} b:{nb}: {e}") from None


# --------------------------------------------------------------------------------------------
# dot


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dot_scalars(rng, dtype):
    """0-d operands multiply: scalar * scalar is a numpy scalar, scalar * array scales it (in
    the operands' dtype)."""
    s, t = dtype(2.5), dtype(-3.0)
    got = checked(fl.dot, s, t)
    assert isinstance(got, np.generic) and got.dtype == dtype and got == dtype(-7.5)
    x = randn(rng, (3, 4), dtype)
    for a, b in ((s, x), (x, s), (np.asarray(s), x), (x, np.asarray(s)), (s, x[:, 0])):
        got = checked(fl.dot, a, b)
        want = np.dot(a, b)
        assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == want.shape
        assert np.array_equal(got, want)  # one rounded product per element


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", SMALL_SIZES + (65, 1000))
def test_dot_vector_vector(rng, dtype, n):
    """1-D . 1-D is the inner product, a numpy scalar (0 for empty vectors), for every layout of
    each operand."""
    a, b = randn(rng, (n,), dtype), randn(rng, (n,), dtype)
    _check_dot_all_layouts(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),  # matrix product
        ((13, 31), (31, 7)),
        ((1, 1), (1, 1)),
        ((4, 0), (0, 3)),
        ((0, 5), (5, 2)),
        ((3, 7), (7,)),  # matrix . vector
        ((7,), (7, 3)),  # vector . matrix
        ((2, 3, 4), (4,)),  # N-D . 1-D: sum over the last axis
        ((2, 1, 3, 5), (5,)),
        ((4,), (2, 4, 3)),  # 1-D . N-D: sum over b's second-to-last axis
        ((2, 3, 4), (5, 4, 6)),  # N-D . M-D: a's last axis with b's second-to-last
        ((3, 4), (2, 4, 5)),
        ((2, 3, 4), (4, 5)),
        ((2, 2, 3), (3, 1, 3, 2)),
        ((2, 0, 3), (4, 3, 2)),
    ],
    ids=str,
)
def test_dot_dimension_combinations(rng, dtype, shapes):
    """numpy.dot's rules for each combination of operand dimensions (the result shape is
    a.shape[:-1] + b.shape[:-2] + b.shape[-1:]), for every layout of each operand."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    _check_dot_all_layouts(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dot_large(rng, dtype):
    """Products past the blocking threshold, including a transposed operand."""
    a, b = randn(rng, (129, 257), dtype), randn(rng, (257, 65), dtype)
    for va, vb in ((a, b), (np.asfortranarray(a), b), (a, np.asfortranarray(b)), (a[::-1], b[:, ::-1])):
        assert_product_close(checked(fl.dot, va, vb), np.dot, va, vb, k=257)
    c = randn(rng, (4, 65, 129), dtype)
    assert_product_close(checked(fl.dot, c, a), np.dot, c, a, k=129)


@pytest.mark.parametrize("da, db, want", DTYPE_PROMOTIONS)
@pytest.mark.parametrize("shapes", [((5,), (5,)), ((4, 5), (5, 3)), ((2, 4, 5), (5,))], ids=str)
def test_dot_dtypes(rng, da, db, want, shapes):
    """float32 stays float32, mixed floats give float64, integers and bools convert to float64
    (as ferrolinalg converts everywhere); small integer values give exact results."""
    a = rng.integers(-3, 4, shapes[0]).astype(da)
    b = rng.integers(-3, 4, shapes[1]).astype(db)
    got = checked(fl.dot, a, b)
    assert np.asarray(got).dtype == want
    assert_product_close(got, np.dot, a, b, k=_dot_k(a.shape, b.shape), dtype=want)
    assert np.array_equal(got, np.dot(a.astype(np.float64), b.astype(np.float64)))


def test_dot_lists():
    """Python lists are accepted (ints converted to float64)."""
    got = checked(fl.dot, [[1, 2], [3, 4]], [5, 6])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and np.array_equal(got, [17.0, 39.0])
    got = checked(fl.dot, [1.0, 2.0], [3.0, 4.0])
    assert isinstance(got, np.float64) and got == 11.0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((6, 7), (7,)), ((2, 3, 4), (5, 4, 6)), ((40, 33), (33, 65))], ids=str)
def test_dot_out(rng, dtype, shapes):
    """out= (C-contiguous, the result's dtype and shape, as numpy.dot requires) is written in
    full and returned by identity."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    out = np.full(np.dot(a, b).shape, np.nan, dtype)
    got = checked(fl.dot, a, b, out=out)
    assert got is out
    assert_product_close(out, np.dot, a, b, k=a.shape[-1])


# --------------------------------------------------------------------------------------------
# vecdot


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", SMALL_SIZES + (257,))
def test_vecdot_vectors(rng, dtype, n):
    """1-D . 1-D is a numpy scalar sum(x1 * x2) (0 when empty), for every layout of each
    operand."""
    a, b = randn(rng, (n,), dtype), randn(rng, (n,), dtype)
    for (na, va), (nb, vb) in itertools.product(list(layouts(a)), list(layouts(b))):
        try:
            assert_product_close(checked(fl.vecdot, va, vb), np.vecdot, a, b, k=n)
        except AssertionError as e:
            raise AssertionError(f"a:{na} b:{nb}: {e}") from None


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 5, 7), (3, 5, 7)),
        ((4, 1, 7), (3, 7)),  # batch axes broadcast
        ((7,), (2, 3, 7)),
        ((2, 1, 13), (1, 5, 13)),
        ((6, 31), (6, 31)),
        ((3, 0), (3, 0)),  # empty sums: zeros
        ((0, 4), (1, 4)),
    ],
    ids=str,
)
def test_vecdot_broadcasting(rng, dtype, shapes):
    """Over the last axis, after broadcasting the others; every layout of each operand."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    for (na, va), (nb, vb) in itertools.product(list(layouts(a)), list(layouts(b))):
        try:
            assert_product_close(checked(fl.vecdot, va, vb), np.vecdot, a, b, k=a.shape[-1])
        except AssertionError as e:
            raise AssertionError(f"a:{na} b:{nb}: {e}") from None


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes, axis",
    [
        (((5, 3, 4), (5, 3, 4)), 0),
        (((5, 3, 4), (5, 3, 4)), 1),
        (((5, 3, 4), (5, 3, 4)), -2),
        (((5, 3, 4), (5, 3, 4)), -3),
        (((5, 3, 4), (5, 1, 4)), 0),  # broadcast along a non-summed axis
        (((5, 1, 4), (5, 3, 1)), -3),
        (((6, 31), (6, 31)), 0),
    ],
    ids=str,
)
def test_vecdot_axis(rng, dtype, shapes, axis):
    """axis= picks the summed axis (positive or negative); the other axes broadcast."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    ref = np.vecdot(a, b, axis=axis)
    for (na, va), (nb, vb) in itertools.product(list(layouts(a)), list(layouts(b))):
        try:
            got = checked(fl.vecdot, va, vb, axis=axis)
            assert got.shape == ref.shape
            assert_product_close(got, lambda x, y: np.vecdot(x, y, axis=axis), a, b, k=a.shape[axis])
        except AssertionError as e:
            raise AssertionError(f"a:{na} b:{nb}: {e}") from None


@pytest.mark.parametrize("da, db, want", DTYPE_PROMOTIONS)
def test_vecdot_dtypes(rng, da, db, want):
    """float32 stays float32, mixed floats give float64, integers and bools convert to float64;
    small integer values give exact results."""
    a = rng.integers(-3, 4, (4, 9)).astype(da)
    b = rng.integers(-3, 4, (4, 9)).astype(db)
    got = checked(fl.vecdot, a, b)
    assert got.dtype == want and got.shape == (4,)
    assert np.array_equal(got, np.vecdot(a.astype(np.float64), b.astype(np.float64)))


def test_vecdot_lists():
    """Python lists are accepted."""
    got = checked(fl.vecdot, [[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and np.array_equal(got, [17.0, 39.0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_vecdot_large_batch(rng, dtype):
    """A large batch of long vectors (where an implementation would use threads)."""
    a, b = randn(rng, (300, 1000), dtype), randn(rng, (1, 1000), dtype)
    assert_product_close(checked(fl.vecdot, a, b), np.vecdot, a, b, k=1000)
    assert_product_close(checked(fl.vecdot, a.T, b.T, axis=0), lambda x, y: np.vecdot(x, y, axis=0), a.T, b.T, k=1000)
