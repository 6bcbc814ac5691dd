"""``ferrolinalg.matmul`` against ``numpy.matmul``: sizes, layouts, broadcasting, dtypes, ``out=``,
non-finite values, and a property test over random shapes and strides.

Error cases are in test_errors.py, thread counts and concurrency in test_threads.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrolinalg as fl
from conftest import (
    DTYPE_PROMOTIONS,
    FLOAT_DTYPES,
    SMALL_SIZES,
    assert_matmul_close,
    assert_only_view_written,
    check_matmul_every_layout,
    checked,
    layouts,
    out_layouts,
    randn,
    strided_view,
)


# --------------------------------------------------------------------------------------------
# sizes and layouts


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m", SMALL_SIZES)
def test_small_sizes(rng, dtype, m):
    """Every combination of m, k, n in {0, 1, 2, 3, 7, 13, 31}: right shape, dtype and values
    (zeros when k = 0, an empty result when m or n is 0)."""
    for k, n in itertools.product(SMALL_SIZES, SMALL_SIZES):
        a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
        assert_matmul_close(checked(fl.matmul, a, b), a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mkn", [(1, 1, 1), (2, 3, 1), (1, 7, 13), (13, 1, 7), (3, 7, 2), (13, 31, 7), (65, 33, 17), (17, 65, 40)])
def test_every_layout_2d(rng, dtype, mkn):
    """A 2-D product gives the right answer for every layout of each operand (C, F, transposed,
    step 2 with NaN in the gaps, negative strides on each axis), including the tiny-matrix path
    and the blocked one."""
    m, k, n = mkn
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    check_matmul_every_layout(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [((2, 3, 4), (2, 4, 5)), ((3, 1, 2, 3), (3, 3, 7)), ((5, 13, 7), (7, 2)), ((4, 0, 3), (4, 3, 2)), ((2, 3, 0), (2, 0, 4))],
    ids=str,
)
def test_every_layout_batched(rng, dtype, shapes):
    """A batched product gives the right answer for every layout of each operand, including
    the matrix-transposed layout inside a C-ordered batch, and zero-size dimensions."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    check_matmul_every_layout(a, b)


LARGE_LAYOUTS = ("C", "F", "step2", "flipall")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "mkn", [(65, 65, 65), (129, 129, 129), (257, 65, 129), (31, 257, 300), (20, 400, 300), (300, 400, 20), (300, 400, 500)], ids=str
)
def test_large_sizes_past_blocking(rng, dtype, mkn):
    """Products past the blocking and threading thresholds, in C, F, strided and reversed layouts
    of each operand (with the library's default thread count)."""
    m, k, n = mkn
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    check_matmul_every_layout(a, b, keep=lambda na, nb: na in LARGE_LAYOUTS and nb in LARGE_LAYOUTS)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [((64, 9, 9), (64, 9, 9)), ((40, 33, 47), (47, 29)), ((3, 130, 70), (3, 70, 90)), ((20000, 2, 3), (3, 2)), ((5, 1, 40, 1), (7, 1, 30))],
    ids=str,
)
def test_large_batches(rng, dtype, shapes):
    """Many small products (the batch-parallel path) and a few large ones, in C and Fortran
    layouts of each operand."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    for va, vb in itertools.product((a, np.asfortranarray(a)), (b, np.asfortranarray(b))):
        assert_matmul_close(checked(fl.matmul, va, vb), a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mn", [(32, 32), (9, 33), (64, 8)], ids=str)
def test_stacks_larger_than_the_caches(rng, dtype, mn):
    """Stacks whose results exceed 16 MiB: C- and Fortran-order results (new or out=), and an
    out= whose matrices start off vector alignment (a view one element into its buffer)."""
    m, n = mn
    itemsize = np.dtype(dtype).itemsize
    batch = (17 << 20) // (m * n * itemsize) + 3
    a, b = randn(rng, (batch, m, 24), dtype), randn(rng, (batch, 24, n), dtype)
    assert_matmul_close(checked(fl.matmul, a, b), a, b)
    f_out = np.zeros((batch, n, m), dtype).transpose(0, 2, 1)
    assert fl.matmul(a, b, out=f_out) is f_out
    assert_matmul_close(f_out, a, b)
    buf = np.zeros(batch * m * n + 1, dtype)
    shifted = buf[1:].reshape(batch, m, n)
    fl.matmul(a, b, out=shifted)
    assert buf[0] == 0
    np.testing.assert_array_equal(shifted, fl.matmul(a, b))
    assert_matmul_close(shifted, a, b)


# --------------------------------------------------------------------------------------------
# NumPy's shape rules: 1-D promotion, broadcasting


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [((7,), (7,)), ((0,), (0,)), ((1,), (1,)), ((13,), (13, 3)), ((3, 13), (13,)), ((5,), (2, 5, 4)),
     ((2, 3, 5), (5,)), ((0,), (0, 4)), ((4, 0), (0,)), ((31,), (31, 0))],
    ids=str,
)
def test_one_d_operands(rng, dtype, shapes):
    """1-D operands are promoted (a row on the left, a column on the right) and the added axis is
    removed; 1-D @ 1-D is a numpy scalar. Every layout of each operand."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    check_matmul_every_layout(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [
        ((7, 1, 3, 4), (5, 4, 2)),
        ((3, 4), (6, 4, 5)),
        ((6, 3, 4), (4, 5)),
        ((1, 3, 4), (6, 4, 5)),
        ((2, 1, 3, 4), (1, 5, 4, 2)),
        ((1, 1, 3, 4), (4, 2)),
        ((0, 3, 4), (4, 5)),
        ((2, 1, 3, 4), (0, 4, 5)),
        ((3, 1, 2), (1, 1, 2, 1)),
    ],
    ids=str,
)
def test_broadcast_batch_dims(rng, dtype, shapes):
    """Batch dimensions broadcast as in NumPy (size-1 and missing leading axes, zero-size
    batches), for every layout of each operand."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    assert fl.matmul(a, b).shape == np.matmul(a, b).shape
    check_matmul_every_layout(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("size", [3, 40])
def test_zero_stride_operands(rng, dtype, size):
    """Operands that are 0-stride broadcast views (repeated rows, repeated columns, a matrix
    repeated over a batch) are read correctly."""
    m, k, n = size, size + 1, size + 2
    row = randn(rng, (1, k), dtype)
    col = randn(rng, (k, 1), dtype)
    mat_a, mat_b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    cases = [
        (np.broadcast_to(row, (m, k)), mat_b),  # rows of a repeat: row stride 0
        (mat_a, np.broadcast_to(col, (k, n))),  # columns of b repeat: column stride 0
        (np.broadcast_to(mat_a, (4, m, k)), randn(rng, (4, k, n), dtype)),  # batch stride 0
        (randn(rng, (3, m, k), dtype), np.broadcast_to(mat_b, (3, k, n))),
        (np.broadcast_to(np.ones((1, 1), dtype), (m, k)), np.broadcast_to(np.full((1, 1), 2, dtype), (k, n))),
    ]
    for a, b in cases:
        assert_matmul_close(checked(fl.matmul, a, b), a, b)
        # and fresh 0-stride views of the same values, against every layout of the other operand
        check_matmul_every_layout(a, b, keep=lambda na, nb: "bcast" in na + nb)


# --------------------------------------------------------------------------------------------
# dtypes and conversions


@pytest.mark.parametrize("da, db, want", DTYPE_PROMOTIONS)
def test_dtype_promotion(rng, da, db, want):
    """float32 stays float32, mixed floats give float64, float16 computes in float32, integers
    and bools convert to float64 (unlike numpy.matmul, which keeps ints): values as NumPy's in
    float64."""
    a = rng.integers(-3, 4, (5, 6)).astype(da) if da != np.bool_ else rng.random((5, 6)) < 0.5
    b = rng.integers(0, 4, (6, 7)).astype(db) if db != np.bool_ else rng.random((6, 7)) < 0.5
    got = checked(fl.matmul, a, b)
    assert got.dtype == want
    assert_matmul_close(got, a, b, dtype=want)
    # small integers: the products and sums are exact in either float dtype
    assert np.array_equal(got, np.matmul(a.astype(np.float64), b.astype(np.float64)))


def test_lists_and_nested_sequences():
    """Python lists are accepted (converted as numpy.asarray does, ints to float64)."""
    got = checked(fl.matmul, [[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert np.array_equal(got, [[19.0, 22.0], [43.0, 50.0]])
    vv = checked(fl.matmul, [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert isinstance(vv, np.float64) and vv == 32.0
    mv = checked(fl.matmul, [[1.5, 2.0]], [2.0, 1.0])
    assert mv.shape == (1,) and mv[0] == 5.0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_byteswapped_and_unaligned_inputs(rng, dtype):
    """Non-native byte order and unaligned arrays (which cannot be borrowed) give the right
    answer in the native dtype."""
    a, b = randn(rng, (9, 11), dtype), randn(rng, (11, 5), dtype)
    swapped = a.astype(a.dtype.newbyteorder())
    assert_matmul_close(checked(fl.matmul, swapped, b), a, b, dtype=dtype)
    buf = np.zeros(b.nbytes + 1, np.uint8)
    unaligned = np.frombuffer(buf.data, dtype=b.dtype, count=b.size, offset=1).reshape(b.shape)
    np.copyto(np.frombuffer(buf.data, dtype=b.dtype, count=b.size, offset=1), b.ravel())
    assert not unaligned.flags.aligned
    assert_matmul_close(checked(fl.matmul, a, unaligned), a, b, dtype=dtype)


def test_float32_is_computed_in_float32(rng):
    """float32 inputs give a float32 result whose error is float32-sized (not a float64
    computation rounded at the end, nor a float16 one): compared with the float64 product it is
    within the float32 bound, and it is not bit-equal to the float64 product rounded."""
    a, b = randn(rng, (64, 200), np.float32), randn(rng, (200, 64), np.float32)
    got = checked(fl.matmul, a, b)
    assert_matmul_close(got, a, b)
    # with a float32 accumulator, some of 4096 sums of 200 terms differ from the rounded
    # float64 product; a hidden float64 computation would match all of them
    rounded = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    assert not np.array_equal(got, rounded)


# --------------------------------------------------------------------------------------------
# out=


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [((3, 4), (4, 5)), ((40, 33), (33, 65)), ((2, 3, 7), (7, 4)), ((6, 5), (5,)), ((5,), (5, 6)), ((3, 4), (2, 4, 5)),
     ((4, 0), (0, 3)), ((130, 70), (70, 90)), ((300, 200), (200, 20))],
    ids=str,
)
def test_out_layouts(rng, dtype, shapes):
    """out= in C, F, transposed, step-2 and negative-step layouts is written in place (exactly
    its elements, all of them: out starts NaN-filled) and returned by identity."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    shape = np.matmul(a, b).shape
    for name, out, buffer in out_layouts(shape, dtype):
        got = checked(fl.matmul, a, b, out=out)
        assert got is out, f"out={name}: the result is not the out array"
        assert_matmul_close(out, a, b)
        assert_only_view_written(out, buffer)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_out_zero_dim_for_vector_vector(rng, dtype):
    """1-D @ 1-D with a 0-d out= writes the inner product into it and returns out (as NumPy)."""
    a, b = randn(rng, (13,), dtype), randn(rng, (13,), dtype)
    out = np.full((), np.nan, dtype)
    got = checked(fl.matmul, a, b, out=out)
    assert got is out
    assert_matmul_close(out[()], a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_out_with_mixed_and_converted_inputs(rng, dtype):
    """out= gets the promoted result dtype: float64 for mixed float32/float64 or int inputs,
    float32 for float16 inputs."""
    a32, b64 = randn(rng, (4, 5), np.float32), randn(rng, (5, 3), np.float64)
    out = np.full((4, 3), np.nan)
    assert checked(fl.matmul, a32, b64, out=out) is out
    assert_matmul_close(out, a32, b64)
    ai = rng.integers(-5, 5, (4, 5))
    out = np.full((4, 5), np.nan)
    view = out[:, :4]
    assert checked(fl.matmul, ai, ai.T, out=view) is view
    assert np.array_equal(out[:, :4], (ai @ ai.T).astype(np.float64)) and np.isnan(out[:, 4]).all()
    a16 = randn(rng, (3, 4), np.float16)
    out32 = np.empty((3, 3), np.float32)
    assert checked(fl.matmul, a16, a16.T, out=out32) is out32
    assert_matmul_close(out32, a16, a16.T, dtype=np.float32)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", [3, 70])
def test_out_overlapping_an_input(rng, dtype, n):
    """out= that is (or overlaps) an input gives the answer as if computed first and copied in,
    like NumPy: out=a, out=b, a @ a with out=a, and out a shifted view of a's memory."""
    a0, b0 = randn(rng, (n, n), dtype), randn(rng, (n, n), dtype)
    for case in ("out=a", "out=b", "a@a out=a", "batched out=a", "shifted"):
        a, b = a0.copy(), b0.copy()
        if case == "out=a":
            got = fl.matmul(a, b, out=a)
            want_of, out = (a0, b0), a
        elif case == "out=b":
            got = fl.matmul(a, b, out=b)
            want_of, out = (a0, b0), b
        elif case == "a@a out=a":
            got = fl.matmul(a, a, out=a)
            want_of, out = (a0, a0), a
        elif case == "batched out=a":
            a3 = np.stack([a0, b0])
            out = a3
            got = fl.matmul(a3, a3.copy()[::-1], out=a3)
            want_of = (np.stack([a0, b0]), np.stack([b0, a0]))
        else:
            buf = np.concatenate([a0, np.zeros((n, 1), dtype)], axis=1)  # (n, n + 1)
            lhs, out = buf[:, :n], buf[:, 1:]
            got = fl.matmul(lhs, b, out=out)
            want_of = (a0, b0)
        assert got is out, case
        assert_matmul_close(out, *want_of, dtype=dtype)


# --------------------------------------------------------------------------------------------
# non-finite values


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mkn", [(3, 4, 5), (70, 80, 90)], ids=str)
def test_nan_and_inf_propagate(rng, dtype, mkn):
    """A NaN in row i of a makes row i of the result NaN; a NaN in column j of b makes column j
    NaN; an inf times positive values gives inf, times 0 gives NaN: the same pattern as NumPy
    (no kernel may skip zeros or assume finite values)."""
    m, k, n = mkn
    a = np.abs(randn(rng, (m, k), dtype)) + 1
    b = np.abs(randn(rng, (k, n), dtype)) + 1
    a[1, k // 2] = np.nan
    b[k // 3, n - 2] = np.nan
    a[m - 1, 0] = np.inf  # row m-1 times positive b: +inf (except column n-2: NaN)
    b[1, 0] = -np.inf  # column 0: -inf, except rows 1 (NaN) and m-1 (inf - inf: NaN)
    a[0, 1] = 0.0  # 0 * -inf: row 0, column 0 NaN
    got = checked(fl.matmul, a, b)
    with np.errstate(invalid="ignore"):
        ref = np.matmul(a, b)
    assert got.dtype == dtype and got.shape == ref.shape
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert np.array_equal(np.isposinf(got), np.isposinf(ref))
    assert np.array_equal(np.isneginf(got), np.isneginf(ref))
    assert np.isnan(got[1]).all() and np.isnan(got[:, n - 2]).all() and np.isnan(got[0, 0])
    finite = np.isfinite(ref)
    assert finite.any()
    np.testing.assert_allclose(got[finite], ref[finite], rtol=8 * np.finfo(dtype).eps * k)


# --------------------------------------------------------------------------------------------
# property test: random batch shapes, sizes, steps and flips


@st.composite
def _operand_spec(draw, batch, core):
    """An operand's shape (a broadcastable suffix of ``batch`` + ``core``), per-axis steps
    (negative = reversed), whether its last two axes are stored transposed, and whether its
    batch axes are expanded with 0-stride broadcasting."""
    drop = draw(st.integers(0, len(batch)))
    own_batch = tuple(1 if draw(st.booleans()) else d for d in batch[drop:])
    shape = own_batch + core
    steps = tuple(draw(st.sampled_from((1, 1, 2, 3, -1, -2))) for _ in shape)
    swap = len(core) == 2 and draw(st.booleans())
    expand = bool(own_batch) and draw(st.integers(0, 3)) == 0
    return shape, steps, swap, batch[drop:] if expand else None


@st.composite
def _matmul_problems(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    m, k, n = (draw(st.integers(0, 40)) for _ in range(3))
    ndim_batch = draw(st.integers(0, 3))
    batch = tuple(draw(st.integers(0, 4) if draw(st.integers(0, 9)) == 0 else st.integers(1, 4)) for _ in range(ndim_batch))
    a_core = (k,) if draw(st.integers(0, 5)) == 0 else (m, k)
    b_core = (k,) if draw(st.integers(0, 5)) == 0 else (k, n)
    a = draw(_operand_spec(batch if len(a_core) == 2 else (), a_core))
    b = draw(_operand_spec(batch if len(b_core) == 2 else (), b_core))
    seed = draw(st.integers(0, 2**32 - 1))
    return dtype, a, b, seed


def _make_operand(rng, dtype, spec):
    shape, steps, swap, expand_to = spec
    values = randn(rng, shape, dtype)
    if swap:
        sw = steps[:-2] + (steps[-1], steps[-2])
        view = np.swapaxes(strided_view(np.swapaxes(values, -1, -2), sw), -1, -2)
    else:
        view = strided_view(values, steps)
    if expand_to is not None:
        values = np.broadcast_to(values, expand_to + shape[len(expand_to):])
        view = np.broadcast_to(view, values.shape)
    assert np.array_equal(view, values)
    return values, view


@settings(max_examples=300, deadline=None, database=None)
@given(_matmul_problems(), st.data())
def test_property_random_shapes_and_strides(problem, data):
    """For random batch shapes with broadcasting (size-1, missing and 0-stride batch axes),
    m, n, k in 0..40, 1-D operands, random per-axis steps, flips and transposed storage, and
    an out= (sometimes) with random steps and flips: the result matches NumPy's, out is
    returned and written exactly, and no input is written."""
    dtype, a_spec, b_spec, seed = problem
    rng = np.random.default_rng(seed)
    a, va = _make_operand(rng, dtype, a_spec)
    b, vb = _make_operand(rng, dtype, b_spec)
    if not data.draw(st.booleans(), label="use out="):
        assert_matmul_close(checked(fl.matmul, va, vb), a, b)
        return
    shape = np.matmul(a, b).shape
    steps = tuple(data.draw(st.sampled_from((1, 2, -1, -2)), label=f"out step {i}") for i in range(len(shape)))
    out = strided_view(np.full(shape, np.nan, dtype), steps) if shape else np.full((), np.nan, dtype)
    buffer = out.base if out.base is not None else out
    while isinstance(buffer.base, np.ndarray):
        buffer = buffer.base
    assert checked(fl.matmul, va, vb, out=out) is out
    assert_matmul_close(out if shape else out[()], a, b)
    assert_only_view_written(out, buffer)
