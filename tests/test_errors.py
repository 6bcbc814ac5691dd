"""Error cases: ValueError for shapes (naming both shapes) and bad arguments, TypeError for
dtypes, the checks on ``out=``, and ``LinAlgError``'s place in NumPy's hierarchy. Every failing
call must also leave its inputs alone."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import checked, param_id


def _compact(msg: str) -> str:
    """A message with whitespace removed, so "(2, 3)" and "(2,3)" both read "(2,3)"."""
    return re.sub(r"\s+", "", msg)


def _assert_names_shapes(excinfo, *shapes):
    msg = _compact(str(excinfo.value))
    for shape in shapes:
        assert _compact(str(tuple(shape))) in msg, f"{shape} not named in: {excinfo.value}"


def test_linalgerror_is_numpys():
    """fl.LinAlgError subclasses numpy.linalg.LinAlgError, so NumPy-style handlers catch it."""
    assert issubclass(fl.LinAlgError, np.linalg.LinAlgError)
    assert fl.LinAlgError is not np.linalg.LinAlgError
    with pytest.raises(np.linalg.LinAlgError):
        raise fl.LinAlgError("singular matrix (batch index 3)")


# --------------------------------------------------------------------------------------------
# matmul shapes


@pytest.mark.parametrize(
    "sa, sb",
    [
        ((2, 3), (4, 5)),  # inner sizes differ
        ((3,), (4,)),
        ((2, 3), (4,)),
        ((5,), (4, 5)),
        ((2, 0), (1, 3)),
        ((2, 2, 3), (3, 3, 4)),  # batch sizes 2 and 3 do not broadcast
        ((4, 1, 2, 3), (5, 3, 3, 2)),
        ((6, 2, 3), (7, 3, 4)),
    ],
    ids=str,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_shape_mismatch_names_both_shapes(sa, sb, dtype):
    """A shape mismatch (core or batch) raises ValueError whose message contains both shapes as
    NumPy prints them, e.g. "(2, 3)" and "(4, 5)"."""
    a, b = np.ones(sa, dtype), np.ones(sb, dtype)
    with pytest.raises(ValueError) as excinfo:
        checked(fl.matmul, a, b)
    assert str(sa) in str(excinfo.value) and str(sb) in str(excinfo.value), str(excinfo.value)


@pytest.mark.parametrize("a, b", [(np.float64(2.0), np.ones(3)), (np.ones((2, 2)), np.array(3.0)), (np.array(1.0), np.array(2.0)), (2.0, [1.0])])
def test_matmul_zero_dim_operand(a, b):
    """0-d operands are rejected with ValueError (as numpy.matmul does)."""
    with pytest.raises(ValueError):
        checked(fl.matmul, a, b)


# --------------------------------------------------------------------------------------------
# dtypes


BAD_DTYPE_INPUTS = [
    pytest.param(lambda: np.ones((2, 2), np.complex128), id="complex128"),
    pytest.param(lambda: np.ones((2, 2), np.complex64), id="complex64"),
    pytest.param(lambda: np.ones((2, 2), dtype=object), id="object"),
    pytest.param(lambda: np.full((2, 2), "a"), id="str"),
    pytest.param(lambda: [[1j, 2], [3, 4]], id="complex-list"),
]


@pytest.mark.parametrize("make_bad", BAD_DTYPE_INPUTS)
@pytest.mark.parametrize("position", [0, 1])
def test_matmul_rejects_non_real_dtypes(make_bad, position):
    """complex, object and string operands raise TypeError, in either position."""
    args = [np.ones((2, 2)), np.ones((2, 2))]
    args[position] = make_bad()
    with pytest.raises(TypeError):
        checked(fl.matmul, *args)


@pytest.mark.parametrize("make_bad", BAD_DTYPE_INPUTS)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda x: fl.dot(x, np.ones((2, 2))), id="dot"),
        pytest.param(lambda x: fl.dot(np.ones(2), x), id="dot-right"),
        pytest.param(lambda x: fl.vecdot(x, np.ones((2, 2))), id="vecdot"),
        pytest.param(lambda x: fl.vecdot(np.ones(2), x), id="vecdot-right"),
        pytest.param(lambda x: fl.vector_norm(x), id="vector_norm"),
        pytest.param(lambda x: fl.matrix_norm(x), id="matrix_norm"),
    ],
)
def test_other_functions_reject_non_real_dtypes(make_bad, call):
    """dot, vecdot, vector_norm and matrix_norm raise TypeError for complex, object and string
    inputs too."""
    bad = make_bad()
    before = np.array(bad, copy=True)
    with pytest.raises(TypeError):
        call(bad)
    assert np.array_equal(np.asarray(bad), before)


# --------------------------------------------------------------------------------------------
# out=


@pytest.mark.parametrize(
    "a_dtype, b_dtype, out_dtype",
    [
        (np.float64, np.float64, np.float32),
        (np.float32, np.float32, np.float64),
        (np.float32, np.float64, np.float32),  # the result is float64
        (np.int64, np.int64, np.int64),  # the result is float64, not int
        (np.float16, np.float16, np.float16),  # the result is float32
        (np.float64, np.float64, np.complex128),
        (np.float64, np.float64, np.dtype(">f8")),  # not exactly the result dtype
    ],
    ids=param_id,
)
def test_matmul_out_wrong_dtype(a_dtype, b_dtype, out_dtype):
    """out= of any dtype but exactly the result's raises TypeError and is not written."""
    a, b = np.ones((3, 4), a_dtype), np.ones((4, 5), b_dtype)
    out = np.full((3, 5), 7, out_dtype)
    with pytest.raises(TypeError):
        checked(fl.matmul, a, b, out=out)
    assert np.all(out == 7)


def test_matmul_out_not_an_array():
    """out= must be an ndarray: a list raises TypeError."""
    with pytest.raises(TypeError):
        checked(fl.matmul, np.ones((2, 2)), np.ones((2, 2)), out=[[0.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("out_shape", [(3, 4), (5, 3), (3, 5, 1), (1, 3, 5), (15,), ()], ids=str)
def test_matmul_out_wrong_shape(out_shape):
    """out= of a shape other than the result's (3, 5) raises ValueError (no broadcasting into
    out) and is not written."""
    out = np.full(out_shape, 7.0)
    with pytest.raises(ValueError) as excinfo:
        checked(fl.matmul, np.ones((3, 4)), np.ones((4, 5)), out=out)
    _assert_names_shapes(excinfo, (3, 5))
    assert np.all(out == 7.0)


def test_matmul_out_read_only():
    """A read-only out= raises ValueError and is not written."""
    out = np.full((3, 5), 7.0)
    out.flags.writeable = False
    with pytest.raises(ValueError):
        checked(fl.matmul, np.ones((3, 4)), np.ones((4, 5)), out=out)
    assert np.all(out == 7.0)


def test_matmul_out_broadcast_view():
    """A 0-stride broadcast view as out= (read-only, and its elements alias) raises ValueError."""
    base = np.full((1, 5), 7.0)
    out = np.broadcast_to(base, (3, 5))
    with pytest.raises(ValueError):
        checked(fl.matmul, np.ones((3, 4)), np.ones((4, 5)), out=out)
    assert np.all(base == 7.0)


def test_failed_calls_leave_inputs_alone():
    """A call that fails on out= has not touched the operands."""
    a, b = np.arange(12.0).reshape(3, 4), np.arange(20.0).reshape(4, 5)
    for out in (np.empty((3, 5), np.float32), np.empty((5, 3))):
        with pytest.raises((TypeError, ValueError)):
            checked(fl.matmul, a, b, out=out)


# --------------------------------------------------------------------------------------------
# dot and vecdot shapes


@pytest.mark.parametrize(
    "sa, sb",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((5,), (4, 5)), ((2, 3, 4), (5, 3, 6)), ((2, 3, 4), (3,))],
    ids=str,
)
def test_dot_shape_mismatch(sa, sb):
    """dot with mismatched summed axes raises ValueError naming both shapes."""
    with pytest.raises(ValueError) as excinfo:
        checked(fl.dot, np.ones(sa), np.ones(sb))
    _assert_names_shapes(excinfo, sa, sb)


@pytest.mark.parametrize(
    "sa, sb",
    [((3, 4), (4, 5)), ((6, 4), (4,)), ((2, 3, 4), (5, 4, 6)), ((4,), (2, 4, 3)), ((), (3,))],
    ids=["2d", "matrix-vector", "nd-md", "vector-nd", "scalar"],
)
def test_dot_out_wrong(sa, sb):
    """For every kind of dot product, out= must have the result's shape (else ValueError) and
    exactly its dtype (else an error, never a silent cast: NumPy raises ValueError, ferrolinalg's
    convention is TypeError; either is accepted here). A rejected out is not written."""
    a, b = np.ones(sa), np.ones(sb)
    shape = np.dot(a, b).shape
    wrong_shape = np.full(shape + (2,), 7.0)
    with pytest.raises(ValueError):
        checked(fl.dot, a, b, out=wrong_shape)
    assert np.all(wrong_shape == 7.0)
    wrong_dtype = np.full(shape, 7.0, np.float32)
    with pytest.raises((TypeError, ValueError)):
        checked(fl.dot, a, b, out=wrong_dtype)
    assert np.all(wrong_dtype == 7.0)


@pytest.mark.parametrize(
    "sa, sb, axis",
    [((3, 4), (3, 5), -1), ((4,), (5,), -1), ((3, 4), (2, 4), 0), ((2, 3, 4), (3, 3, 4), -1), ((3, 4), (3, 1), -1)],
    ids=str,
)
def test_vecdot_shape_mismatch(sa, sb, axis):
    """vecdot with different sizes along the summed axis (size 1 does not broadcast there, as in
    NumPy) or non-broadcasting other axes raises ValueError."""
    with pytest.raises(ValueError):
        checked(fl.vecdot, np.ones(sa), np.ones(sb), axis=axis)


def test_vecdot_zero_dim():
    """vecdot of 0-d operands raises ValueError (there is no axis to sum over)."""
    with pytest.raises(ValueError):
        checked(fl.vecdot, np.float64(2.0), np.float64(3.0))


@pytest.mark.parametrize("axis", [2, -3])
def test_vecdot_axis_out_of_range(axis):
    """An axis outside the operands' dimensions raises ValueError (NumPy's AxisError is one)."""
    with pytest.raises(ValueError):
        checked(fl.vecdot, np.ones((3, 4)), np.ones((3, 4)), axis=axis)


# --------------------------------------------------------------------------------------------
# norms


@pytest.mark.parametrize("axis", [2, -3, (0, 2), (0, 0), (1, -1)], ids=str)
def test_vector_norm_bad_axis(axis):
    """An axis out of range or repeated raises ValueError (NumPy's AxisError is one)."""
    with pytest.raises(ValueError):
        checked(fl.vector_norm, np.ones((3, 4)), axis=axis)


@pytest.mark.parametrize("ord", ["fro", "nuc", "2"], ids=str)
def test_vector_norm_bad_ord(ord):
    """A string ord is not a vector norm: ValueError (as NumPy), or TypeError."""
    with pytest.raises((ValueError, TypeError)):
        checked(fl.vector_norm, np.ones(3), ord=ord)


@pytest.mark.parametrize("ord", [3, 0, 1.5, -3, "spectral"], ids=str)
def test_matrix_norm_bad_ord(ord):
    """An ord that is not a matrix norm raises ValueError (NumPy: "Invalid norm order for
    matrices")."""
    with pytest.raises(ValueError):
        checked(fl.matrix_norm, np.ones((3, 3)), ord=ord)


@pytest.mark.parametrize("shape", [(), (3,)], ids=str)
@pytest.mark.parametrize("ord", ["fro", 1, np.inf], ids=str)
def test_matrix_norm_needs_two_dimensions(shape, ord):
    """matrix_norm of a 0-d or 1-D array raises ValueError (NumPy raises its LinAlgError for 1-D;
    either is accepted)."""
    with pytest.raises((ValueError, np.linalg.LinAlgError)):
        checked(fl.matrix_norm, np.ones(shape), ord=ord)


def test_result_too_large_to_allocate_raises_memory_error():
    """A result no machine can hold (8 TB here, from cheap broadcast views) raises MemoryError
    from NumPy's allocator, never a panic or an abort; the library stays usable."""
    a = np.broadcast_to(np.ones((1, 1, 1)), (2**20, 2**20, 1))
    b = np.ones((1, 1))
    with pytest.raises(MemoryError):
        fl.matmul(a, b)
    assert fl.matmul(np.eye(3), np.eye(3))[1, 1] == 1.0
