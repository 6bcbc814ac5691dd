"""``ferrolinalg.matrix_norm`` with the orders that need the singular values: 2 (largest), -2
(smallest) and "nuc" (their sum), against ``numpy.linalg.matrix_norm``."""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, param_id, randn

SVD_ORDS = (2, -2, "nuc")


def _close(got, want, dtype, scale, size):
    assert np.all(np.abs(np.asarray(got, np.float64) - want) <= 30 * eps(dtype) * size * scale)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("ord", SVD_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (7, 3), (3, 7), (2, 5, 6), (2, 3, 4, 4)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norm_svd(rng, dtype, ord, shape, keepdims):
    x = randn(rng, shape, dtype)
    got = checked(fl.matrix_norm, x, ord=ord, keepdims=keepdims)
    want = np.linalg.matrix_norm(x.astype(np.float64), ord=ord, keepdims=keepdims)
    assert np.shape(got) == want.shape and got.dtype == dtype
    if len(shape) == 2 and not keepdims:
        assert isinstance(got, np.generic)  # a NumPy scalar, as NumPy returns
    scale = np.max(np.linalg.matrix_norm(x.astype(np.float64), ord="nuc"))
    _close(got, want, dtype, scale, max(shape[-2:]))


@pytest.mark.parametrize("ord", SVD_ORDS, ids=str)
def test_matrix_norm_svd_layouts(rng, ord):
    x = randn(rng, (3, 5, 4), np.float64)
    want = np.linalg.matrix_norm(x, ord=ord)
    for name, view in layouts(x):
        _close(checked(fl.matrix_norm, view, ord=ord), want, np.float64, np.max(want), 5)


@pytest.mark.parametrize("ord", SVD_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (0, 0), (2, 0, 3), (0, 3, 4)], ids=str)
def test_matrix_norm_svd_empty(ord, shape):
    """0 where NumPy gives 0 (the largest or the sum of no singular values), ValueError where it
    takes the smallest of none."""
    x = np.ones(shape)
    try:
        want = np.linalg.matrix_norm(x, ord=ord)
    except ValueError:
        with pytest.raises(ValueError):
            fl.matrix_norm(x, ord=ord)
        return
    got = fl.matrix_norm(x, ord=ord)
    assert np.shape(got) == np.shape(want) and np.array_equal(got, want)


@pytest.mark.parametrize("ord", SVD_ORDS, ids=str)
def test_matrix_norm_svd_non_finite_stays_in_its_matrix(rng, ord):
    """A NaN makes its matrix's norm NaN, an infinity makes the 2-norm and nuclear norm inf (and
    the smallest singular value undefined); the other matrices are unaffected (NumPy raises)."""
    x = randn(rng, (4, 4, 5), np.float64)
    x[1, 2, 3] = np.nan
    x[2, 0, 0] = np.inf
    got = checked(fl.matrix_norm, x, ord=ord)
    assert np.isnan(got[1])
    assert np.isnan(got[2]) if ord == -2 else got[2] == np.inf
    want = np.linalg.matrix_norm(x[[0, 3]], ord=ord)
    _close(got[[0, 3]], want, np.float64, np.max(want), 5)


@pytest.mark.parametrize("ord", SVD_ORDS, ids=str)
@pytest.mark.parametrize("x", [np.arange(12).reshape(3, 4), [[1, 2], [3, 4]]], ids=["int", "list"])
def test_matrix_norm_svd_converted(ord, x):
    got = checked(fl.matrix_norm, x, ord=ord)
    want = np.linalg.matrix_norm(np.asarray(x, np.float64), ord=ord)
    assert got.dtype == np.float64
    _close(got, want, np.float64, 30, 4)


def test_matrix_norm_svd_near_overflow(rng):
    """The singular values are computed from a scaled copy, so huge entries do not overflow."""
    x = 1e300 * rng.standard_normal((5, 4))
    want = 1e300 * np.linalg.matrix_norm(x / 1e300, ord=2)
    assert np.isclose(fl.matrix_norm(x, ord=2), want, rtol=1e-12)
    x32 = (1e36 * rng.standard_normal((5, 4))).astype(np.float32)
    want32 = 1e36 * np.linalg.matrix_norm(x32.astype(np.float64) / 1e36, ord=2)
    assert np.isclose(fl.matrix_norm(x32, ord=2), want32, rtol=1e-5)
