"""``ferrolinalg.vector_norm`` and ``ferrolinalg.matrix_norm`` against ``numpy.linalg``: every
``ord``, axis choice and ``keepdims``, layouts, dtypes, non-finite values, and values whose
squares (or p-th powers) overflow or underflow although the norm itself is representable.

Argument errors are in test_errors.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, assert_norm_close, checked, eps, layouts, param_id, randn

INF = np.inf
VECTOR_ORDS = (2, 1, INF, -INF, 0, 3, 0.5, 1.5, -1, -2.5)
EXACT_VECTOR_ORDS = (INF, -INF, 0)  # max |x|, min |x| and a count: no rounding at all
MATRIX_ORDS = ("fro", 1, -1, INF, -INF)
SVD_ORDS = (2, -2, "nuc")


def _nterms(shape, axis):
    """How many elements each norm reduces."""
    if axis is None:
        return math.prod(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return math.prod(shape[a] for a in axes)


def ref_vector_norm(x, *, axis=None, keepdims=False, ord=2):
    """numpy.linalg.vector_norm in float64, computed on x scaled by its largest magnitude (per
    reduced group), so that it neither overflows nor underflows; NaN and inf as NumPy gives."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        plain = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
        if ord in EXACT_VECTOR_ORDS or x.size == 0:
            return plain
        m = np.max(np.abs(x), axis=axis, keepdims=True)
        m = np.where((m > 0) & np.isfinite(m), m, 1.0)
        scaled = np.linalg.vector_norm(x / m, axis=axis, keepdims=True, ord=ord) * m
    # (a NaN or inf maximum was replaced by 1 above, so those groups get NumPy's own NaN / inf)
    return scaled if keepdims else scaled.reshape(np.shape(plain))


def pow_rtol(x, dtype, ord) -> float:
    """The extra relative error of ``s ** (1/p)`` computed as NumPy does, on the unscaled sum
    ``s`` of ``|x| ** p``: ``1/p`` is rounded, and ``s ** (1/p + d) = s ** (1/p) * exp(d ln s)``,
    which matters when the values are huge or tiny (``|ln s|`` in the hundreds). Zero for the
    ords that need no power (1, 2, and the exact ones) and for exactly representable ``1/p``."""
    if ord in (1, 2) + EXACT_VECTOR_ORDS or math.frexp(abs(ord))[0] == 0.5:  # p a power of two
        return 0.0
    mags = np.abs(np.asarray(x, dtype=np.float64))
    mags = mags[np.isfinite(mags) & (mags > 0)]
    if mags.size == 0:
        return 0.0
    return eps(dtype) * (float(np.max(np.abs(np.log(mags)))) + math.log(mags.size + 1))


def _check_vector_norm(x, dtype, *, axis=None, keepdims=False, ord=2, ref_input=None):
    kwargs = {"ord": ord, "keepdims": keepdims}
    if axis is not None:
        kwargs["axis"] = axis
    got = checked(fl.vector_norm, x, **kwargs)
    ref = ref_vector_norm(x if ref_input is None else ref_input, axis=axis, keepdims=keepdims, ord=ord)
    p = ord if ord not in EXACT_VECTOR_ORDS else 1.0
    assert_norm_close(
        got, ref, dtype, _nterms(np.shape(x), axis), p=p, exact=ord in EXACT_VECTOR_ORDS,
        rtol_extra=pow_rtol(x, dtype, ord),
    )


# --------------------------------------------------------------------------------------------
# vector_norm


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 13, 31, 257, 1000])
def test_vector_norm_1d(rng, dtype, ord, n):
    """Each ord on vectors of many lengths: value (exact for inf, -inf, 0), dtype, and a numpy
    scalar as the result."""
    x = randn(rng, (n,), dtype)
    x[n // 2] = 0.0  # a zero: counted out by ord=0, makes -inf give 0 and negative p give 0
    with np.errstate(divide="ignore"):  # NumPy warns on 0 ** negative; an implementation may too
        _check_vector_norm(x, dtype, ord=ord)


AXIS_CASES = [
    ((3, 5), None),
    ((3, 5), 0),
    ((3, 5), 1),
    ((3, 5), -1),
    ((3, 5), (0, 1)),
    ((2, 3, 4), None),
    ((2, 3, 4), 0),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (2, 0)),
    ((2, 3, 4), (-1, -2)),
    ((2, 3, 4), (0, 1, 2)),
    ((4, 1, 31), (0, 1)),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("shape, axis", AXIS_CASES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norm_axes(rng, dtype, ord, shape, axis, keepdims):
    """axis None (all axes), an int (positive or negative) or a tuple (in any order), with and
    without keepdims: NumPy's result shape and values."""
    x = randn(rng, shape, dtype) + 0.5  # no zeros: negative p stays informative
    _check_vector_norm(x, dtype, axis=axis, keepdims=keepdims, ord=ord)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", (2, 1, INF, 0, 3, -1))
@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2)], ids=str)
def test_vector_norm_layouts(rng, dtype, ord, axis):
    """Every layout of the input (C, F, transposed, strided with NaN in the gaps, reversed axes)
    gives the same norms."""
    x = randn(rng, (3, 5, 4), dtype) + 0.25
    for name, view in layouts(x):
        try:
            _check_vector_norm(view, dtype, axis=axis, ord=ord, ref_input=x)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm_zero_dim_and_empty_axis_tuple(ord):
    """A 0-d input is a vector of one element; axis=() reduces nothing (|x| elementwise for
    every ord but 0, where it is x != 0), as in NumPy."""
    x = np.array([[2.0, -1.0, 0.5], [-3.0, 4.0, 1.0]])
    _check_vector_norm(np.float64(-3.0), np.float64, ord=ord)
    _check_vector_norm(x, np.float64, axis=(), ord=ord)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shape, axis",
    [((700, 400), None), ((700, 400), 0), ((700, 400), 1), ((70, 60, 70), (0, 2)), ((70, 60, 70), 1), ((60, 5000), 0)],
    ids=str,
)
def test_vector_norm_large(rng, dtype, shape, axis):
    """Inputs large enough to be reduced in chunks (and on several threads): C, Fortran and
    reversed layouts, reducing the outermost axis, an inner one, or all, for several ords."""
    x = randn(rng, shape, dtype)
    views = {"C": x, "F": np.asfortranarray(x), "flipall": np.flip(np.flip(x).copy())}
    for ord in (2, 1, INF, 0, 3):
        for name, view in views.items():
            try:
                _check_vector_norm(view, dtype, axis=axis, ord=ord, ref_input=x)
            except AssertionError as e:
                raise AssertionError(f"ord={ord} {name}: {e}") from None


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_vector_norm_broadcast_view(rng, dtype):
    """A 0-stride input (np.broadcast_to) counts each repeated element."""
    row = randn(rng, (1, 6), dtype)
    x = np.broadcast_to(row, (5, 6))
    for ord in (2, 1, INF, 0, 3):
        for axis in (None, 0, 1):
            _check_vector_norm(x, dtype, axis=axis, ord=ord)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_vector_norm_known_values(dtype):
    """Norms with known answers: 3-4-5, 5-12-13, ones (sqrt(n), n, n ** (1/p)), a basis vector;
    max, min and counts exactly, the others within a few ulps."""
    cases = [
        (np.array([3.0, -4.0]), 2, 5.0),
        (np.array([[5.0], [12.0]]), 2, 13.0),
        (np.array([3.0, -4.0]), 1, 7.0),
        (np.array([3.0, -4.0]), INF, 4.0),
        (np.array([3.0, -4.0]), -INF, 3.0),
        (np.array([3.0, 0.0, -4.0]), 0, 2.0),
        (np.array([3.0, 0.0, -4.0]), -INF, 0.0),
        (np.ones(100), 2, 10.0),
        (np.ones(4096), 2, 64.0),
        (np.ones(64), 1, 64.0),
        (np.ones(16), 0.5, 256.0),
        (np.ones(8), -1, 0.125),
        (np.ones(27), 3, 3.0),
        (np.eye(5)[2], 3, 1.0),
    ]
    for x, ord, want in cases:
        got = checked(fl.vector_norm, x.astype(dtype), ord=ord)
        assert isinstance(got, np.generic) and got.dtype == dtype, (ord, got)
        if ord in EXACT_VECTOR_ORDS:
            assert got == want, f"ord={ord}: {got!r} != {want}"
        else:
            assert abs(float(got) - want) <= 4 * np.finfo(dtype).eps * want, f"ord={ord}: {got!r} != {want}"


def _numpy_or_error(fn, x, **kwargs):
    """NumPy's result in float64, or the ValueError NumPy raises."""
    with np.errstate(all="ignore"):  # 0 ** negative p
        try:
            return fn(np.asarray(x, dtype=np.float64), **kwargs)
        except ValueError as e:
            return e


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("shape, axis", [((0,), None), ((3, 0), None), ((3, 0), 1), ((0, 4), 0), ((0, 4), 1), ((2, 0, 3), (0, 1))], ids=str)
def test_vector_norm_empty(dtype, ord, shape, axis):
    """Empty vectors as NumPy has them: 0 for ord 2, 1, 0, inf and p > 0, inf for p < 0, and a
    ValueError for -inf (the minimum of nothing); an empty batch gives an empty result."""
    x = np.ones(shape, dtype)
    want = _numpy_or_error(np.linalg.vector_norm, x, axis=axis, ord=ord)
    if isinstance(want, ValueError):
        with pytest.raises(ValueError):
            checked(fl.vector_norm, x, axis=axis, ord=ord)
        return
    with np.errstate(divide="ignore"):  # 0 ** negative p, as NumPy warns
        got = checked(fl.vector_norm, x, axis=axis, ord=ord)
    assert_norm_close(got, want, dtype, 0, exact=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", (2, 1, INF, 3, 0.5))
def test_vector_norm_zeros(dtype, ord):
    """An all-zero vector has norm exactly 0, without NaN (no 0/0 in a scaling step) and
    without a warning; only the zero group is 0 when others are not."""
    got = checked(fl.vector_norm, np.zeros(7, dtype), ord=ord)
    assert got == 0 and got.dtype == dtype
    x = np.zeros((3, 4), dtype)
    x[1] = [1.0, 2.0, 2.0, 0.0]
    got = checked(fl.vector_norm, x, axis=1, ord=ord)
    assert got.dtype == dtype and got[0] == 0 and got[2] == 0 and got[1] > 0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", (2, 1, INF, -INF, 0, 3, -1))
def test_vector_norm_inf_and_nan(dtype, ord):
    """inf and NaN give what NumPy gives (a norm with an inf is inf, with a NaN is NaN, for
    positive ords; ord=0 counts them as nonzero): a scaling step must not turn inf into NaN."""
    x = np.array(
        [[1.0, -INF, 2.0], [1.0, np.nan, 2.0], [INF, np.nan, 1.0], [3.0, 4.0, 0.5], [-INF, INF, 1.0]],
        dtype=dtype,
    )
    with np.errstate(all="ignore"):
        got = checked(fl.vector_norm, x, axis=1, ord=ord)
        ref = np.linalg.vector_norm(x.astype(np.float64), axis=1, ord=ord)
    assert_norm_close(got, ref, dtype, 3, p=ord if ord not in EXACT_VECTOR_ORDS else 1.0, exact=ord in EXACT_VECTOR_ORDS)


# --- overflow and underflow: the acceptance examples, then general p and axis-wise scaling


def test_vector_norm_no_overflow_float64_example():
    """fl.vector_norm([1e200, 1e200]) is sqrt(2) * 1e200 (NumPy itself overflows to inf)."""
    got = checked(fl.vector_norm, np.array([1e200, 1e200]))
    assert isinstance(got, np.float64)
    assert np.isfinite(got)
    assert abs(got - math.sqrt(2) * 1e200) <= 4 * np.finfo(np.float64).eps * math.sqrt(2) * 1e200


@pytest.mark.parametrize(
    "dtype, value",
    [(np.float64, 1e200), (np.float64, 1e-200), (np.float64, 1e300), (np.float64, 1e-300), (np.float64, 5e-320),
     (np.float32, 1e30), (np.float32, 1e-30), (np.float32, 1e36), (np.float32, 1e-38)],
    ids=param_id,
)
@pytest.mark.parametrize("n", [2, 1000])
def test_vector_norm_no_overflow_or_underflow(rng, dtype, value, n):
    """The 2-norm of values whose squares overflow or underflow (even subnormal values) is
    still accurate: compared with m * ||x / m|| in float64."""
    x = (value * rng.uniform(0.5, 1.0, n)).astype(dtype)
    assert np.all(np.isfinite(x)) and np.all(x > 0)
    got = checked(fl.vector_norm, x)
    ref = ref_vector_norm(x)
    assert np.isfinite(ref) and ref > 0
    if x.min() < np.finfo(dtype).tiny:  # subnormal inputs carry fewer digits of their own
        np.testing.assert_allclose(float(got), ref, rtol=1e-3)
    else:
        assert_norm_close(got, ref, dtype, n)


@pytest.mark.parametrize(
    "dtype, value", [(np.float64, 1e200), (np.float64, 1e-200), (np.float32, 1e30), (np.float32, 1e-30)], ids=param_id
)
@pytest.mark.parametrize("ord", (2, 3, 1.5, -2))
def test_vector_norm_no_overflow_general_p(dtype, value, ord):
    """For p-norms too, a representable result must not overflow or underflow on the way:
    ||(v, v, v, v)||_p = 4 ** (1/p) * v."""
    x = np.full(4, value, dtype)
    got = checked(fl.vector_norm, x, ord=ord)
    want = 4.0 ** (1.0 / ord) * float(x[0])
    assert_norm_close(got, want, dtype, 4, p=ord, rtol_extra=pow_rtol(x, dtype, ord))


@pytest.mark.parametrize("dtype, big, tiny", [(np.float64, 1e200, 1e-200), (np.float32, 1e30, 1e-30)], ids=param_id)
@pytest.mark.parametrize("ord", (2, 3))
def test_vector_norm_scaled_per_group(rng, dtype, big, tiny, ord):
    """With axis=, each group is scaled on its own: rows of very different magnitudes (huge,
    tiny, ordinary) each get an accurate norm, with and without keepdims."""
    x = rng.uniform(0.5, 1.0, (4, 9))
    x[0] *= big
    x[1] *= tiny
    x[3, :4] *= big  # a row mixing huge and ordinary values
    x = x.astype(dtype)
    for keepdims in (False, True):
        _check_vector_norm(x, dtype, axis=1, keepdims=keepdims, ord=ord)
        _check_vector_norm(x.T, dtype, axis=0, keepdims=keepdims, ord=ord)


@pytest.mark.parametrize(
    "x, want_dtype",
    [
        (np.arange(-3, 4), np.float64),
        (np.arange(6, dtype=np.int32).reshape(2, 3), np.float64),
        (np.array([True, False, True]), np.float64),
        ([3.0, 4.0], np.float64),
        ([[1, 2], [3, 4]], np.float64),
    ],
    ids=["int64", "int32", "bool", "list", "int-list"],
)
@pytest.mark.parametrize("ord", (2, 1, INF, 0))
def test_vector_norm_converted_inputs(x, want_dtype, ord):
    """Integer, bool and list inputs are converted to float64 (as NumPy does)."""
    got = checked(fl.vector_norm, x, ord=ord)
    assert_norm_close(got, ref_vector_norm(x, ord=ord), want_dtype, np.size(x), exact=ord in EXACT_VECTOR_ORDS)


# --------------------------------------------------------------------------------------------
# matrix_norm


def _matrix_nterms(shape, ord):
    m, n = shape[-2:]
    return {"fro": m * n, 1: m, -1: m, INF: n, -INF: n}[ord]


def _check_matrix_norm(x, dtype, *, ord, keepdims=False, ref_input=None):
    got = checked(fl.matrix_norm, x, ord=ord, keepdims=keepdims)
    src = np.asarray(x if ref_input is None else ref_input, dtype=np.float64)
    ref = np.linalg.matrix_norm(src, ord=ord, keepdims=keepdims)
    assert_norm_close(got, ref, dtype, _matrix_nterms(np.shape(x), ord))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (3, 5), (13, 31), (31, 2), (65, 129), (2, 3, 4), (2, 1, 7, 3), (0, 3, 3)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norm(rng, dtype, ord, shape, keepdims):
    """Each ord on single and batched matrices, with and without keepdims: NumPy's values,
    shape, dtype, and a numpy scalar for a single matrix without keepdims."""
    x = randn(rng, shape, dtype)
    _check_matrix_norm(x, dtype, ord=ord, keepdims=keepdims)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_layouts(rng, dtype, ord):
    """Every layout of a batch of matrices (C, F, matrix-transposed, strided, reversed axes)
    gives the same norms; also a 0-stride batch."""
    x = randn(rng, (3, 4, 5), dtype)
    for name, view in layouts(x):
        try:
            _check_matrix_norm(view, dtype, ord=ord, ref_input=x)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None
    bcast = np.broadcast_to(x[:1], (6, 4, 5))
    _check_matrix_norm(bcast, dtype, ord=ord)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", (1, -1, INF, -INF), ids=str)
def test_matrix_norm_integer_values_exact(rng, dtype, ord):
    """With small integer entries, the column / row sums are exact, so the norms are exactly
    NumPy's (this tells a column sum from a row sum, and max from min)."""
    x = rng.integers(-9, 10, (4, 6, 5)).astype(dtype)
    got = checked(fl.matrix_norm, x, ord=ord)
    want = np.linalg.matrix_norm(x.astype(np.float64), ord=ord)
    assert got.dtype == dtype and got.shape == (4,)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_empty_and_zero(ord):
    """An all-zero matrix has norm 0; an empty batch gives an empty result; the Frobenius norm of
    an empty matrix is 0."""
    got = checked(fl.matrix_norm, np.zeros((2, 3, 4)), ord=ord)
    assert got.shape == (2,) and np.array_equal(got, [0.0, 0.0])
    got = checked(fl.matrix_norm, np.zeros((0, 3, 4), np.float32), ord=ord)
    assert got.shape == (0,) and got.dtype == np.float32
    if ord == "fro":
        for shape in ((0, 0), (3, 0), (0, 5)):
            got = checked(fl.matrix_norm, np.zeros(shape))
            assert got == 0.0 and got.dtype == np.float64


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (0, 0), (2, 0, 3), (2, 3, 0)], ids=str)
def test_matrix_norm_empty_matrices(ord, shape):
    """Empty matrices as NumPy has them: 0 where NumPy gives 0 (Frobenius; the row sums of a
    matrix with no columns), ValueError where NumPy takes the max or min of nothing."""
    x = np.ones(shape)
    want = _numpy_or_error(np.linalg.matrix_norm, x, ord=ord)
    if isinstance(want, ValueError):
        with pytest.raises(ValueError):
            checked(fl.matrix_norm, x, ord=ord)
        return
    assert_norm_close(checked(fl.matrix_norm, x, ord=ord), want, np.float64, 0, exact=True)


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_nan_stays_in_its_matrix(rng, ord):
    """A NaN in one matrix of a batch makes that matrix's norm NaN, and no other."""
    x = randn(rng, (3, 4, 5), np.float64)
    x[1, 2, 3] = np.nan
    got = checked(fl.matrix_norm, x, ord=ord)
    assert np.isnan(got[1])
    assert_norm_close(got[[0, 2]], np.linalg.matrix_norm(x[[0, 2]], ord=ord), np.float64, 20)


@pytest.mark.parametrize("x", [np.arange(12).reshape(3, 4), np.array([[True, False], [True, True]]), [[1, 2], [3, 4]]], ids=["int", "bool", "list"])
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_converted_inputs(x, ord):
    """Integer, bool and list inputs are converted to float64 (as NumPy does)."""
    got = checked(fl.matrix_norm, x, ord=ord)
    ref = np.linalg.matrix_norm(np.asarray(x, dtype=np.float64), ord=ord)
    assert_norm_close(got, ref, np.float64, np.size(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("ord", SVD_ORDS, ids=str)
def test_matrix_norm_svd_ords(rng, dtype, ord):
    """ord 2, -2 and "nuc" need the SVD: until it lands they may raise NotImplementedError;
    otherwise they must match NumPy (within eps * size * the largest singular value)."""
    x = randn(rng, (3, 6, 4), dtype)
    try:
        got = checked(fl.matrix_norm, x, ord=ord)
    except NotImplementedError:
        return
    ref = np.linalg.matrix_norm(x.astype(np.float64), ord=ord)
    scale = np.linalg.matrix_norm(x.astype(np.float64), ord=2) * (4 if ord == "nuc" else 1)
    assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == (3,)
    assert np.all(np.abs(got - ref) <= 8 * np.finfo(dtype).eps * 6 * scale)
