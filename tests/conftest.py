"""Shared helpers of the ferrolinalg test suite.

- ``layouts(arr)``: the same logical values in every memory layout a caller can hand over.
- ``out_layouts(shape, dtype)``: writeable ``out=`` arrays in C, Fortran and strided layouts.
- ``checked(fn, *args, **kwargs)``: calls ``fn`` and asserts it did not write to any input.
- ``assert_matmul_close(got, a, b)``: result type, dtype, shape and values of a matmul against a
  float64 reference, with an error bound scaled by the dtype's eps and the inner size;
  ``assert_product_close`` is the same for dot and vecdot.
- ``assert_norm_close(got, ref, dtype, nterms)``: the same for a norm (a sum of ``nterms`` terms).

Helpers are plain functions (imported with ``from conftest import ...``). Fixtures: ``rng`` gives
each test its own reproducible random generator, ``restore_threads`` puts the thread count back.
"""

from __future__ import annotations

import copy
import itertools
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

FLOAT_DTYPES = (np.float32, np.float64)

#: Sizes that exercise the edges: empty, single, odd, prime.
SMALL_SIZES = (0, 1, 2, 3, 7, 13, 31)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A random generator seeded from the test's id: reproducible, and different per test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def restore_threads() -> Iterator[None]:
    """Restores ferrolinalg's thread count after a test that changes it."""
    import ferrolinalg as fl

    before = fl.get_num_threads()
    try:
        yield
    finally:
        fl.set_num_threads(before)


def param_id(value: Any) -> str:
    """A readable test id: dtype names as "float32", everything else as str() shows it."""
    if isinstance(value, type) and issubclass(value, np.generic) or isinstance(value, np.dtype):
        return np.dtype(value).name if np.dtype(value).isnative else np.dtype(value).str
    return str(value)


def eps(dtype: Any) -> float:
    return float(np.finfo(dtype).eps)


def randn(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Standard normal values of ``dtype`` (C-contiguous)."""
    return rng.standard_normal(shape).astype(dtype)


def result_dtype(*operands: Any) -> np.dtype:
    """The dtype ferrolinalg computes in: float32 if every operand is float16/float32, else
    float64 (integers and bools convert to float64)."""
    kinds = []
    for x in operands:
        dt = np.asarray(x).dtype
        kinds.append(np.dtype(np.float32) if dt in (np.float16, np.float32) else np.dtype(np.float64))
    return np.dtype(np.float64) if np.dtype(np.float64) in kinds else np.dtype(np.float32)


# --------------------------------------------------------------------------------------------
# layouts


def _gap_fill(dtype: np.dtype) -> Any:
    """What fills the memory around a strided view: NaN for floats, so that a kernel reading
    outside the view poisons its result."""
    return np.nan if dtype.kind == "f" else 0


def strided_view(arr: np.ndarray, steps: tuple[int, ...], fill: Any = None) -> np.ndarray:
    """A view with the values of ``arr`` taken from a bigger array with the given per-axis steps
    (negative steps read that axis backwards); the memory in between holds ``fill``."""
    arr = np.asarray(arr)
    assert len(steps) == arr.ndim and all(s != 0 for s in steps)
    fill = _gap_fill(arr.dtype) if fill is None else fill
    big = np.full(tuple(abs(s) * n + 1 for s, n in zip(steps, arr.shape)), fill, dtype=arr.dtype)
    index = tuple(
        slice(1, None, s) if s > 0 else slice(None, None, s) for s in steps
    )  # start 1 in: the view does not begin at the start of its buffer
    view = big[index][tuple(slice(0, n) for n in arr.shape)]
    view[...] = arr
    assert view.shape == arr.shape
    return view


def layouts(arr: Any, *, broadcast: bool = True) -> Iterator[tuple[str, np.ndarray]]:
    """Yields ``(name, view)`` pairs holding the same logical values as ``arr`` in every layout:

    - ``C``: C-contiguous; ``F``: Fortran-contiguous (for 2-D, the transpose of a C array);
    - ``T``: (3-D and up) a C array of the matrices transposed, viewed transposed back
      (batch axes in C order, each matrix column-major);
    - ``TT``: ``arr.T.T`` of a C copy (a view, the base is another array);
    - ``step2``: a view with step 2 on every axis, taken from a bigger NaN-filled array;
    - ``negstep2``: the same with step -2 on every axis;
    - ``flip{i}``: a view with a negative stride on axis ``i``; ``flipall``: on every axis;
    - ``bcast{i}``: a 0-stride ``np.broadcast_to`` view along axis ``i``, for every axis along
      which ``arr`` is constant (only where such a view can hold the same values).
    """
    arr = np.asarray(arr)
    yield "C", np.ascontiguousarray(arr)
    if arr.ndim >= 2:
        yield "F", np.asfortranarray(arr)
    if arr.ndim >= 3:
        yield "T", np.ascontiguousarray(np.swapaxes(arr, -1, -2)).swapaxes(-1, -2)
    yield "TT", np.ascontiguousarray(arr).T.T
    if arr.ndim >= 1:
        yield "step2", strided_view(arr, (2,) * arr.ndim)
        yield "negstep2", strided_view(arr, (-2,) * arr.ndim)
    for ax in range(arr.ndim):
        yield f"flip{ax}", np.flip(np.flip(arr, ax).copy(), ax)
    if arr.ndim >= 2:
        yield "flipall", np.flip(np.flip(arr).copy())
    if broadcast:
        for ax in range(arr.ndim):
            if arr.shape[ax] > 1:
                first = np.take(arr, [0], axis=ax)
                if np.array_equal(arr, np.broadcast_to(first, arr.shape)):
                    yield f"bcast{ax}", np.broadcast_to(first, arr.shape)


def out_layouts(shape: tuple[int, ...], dtype: Any) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Yields ``(name, out, buffer)``: writeable ``out=`` arrays of ``shape`` in C, Fortran,
    matrix-transposed, step-2 and negative-step layouts, and the whole buffer each lives in.
    Everything is NaN-filled, so a test can check that exactly the view's elements got written."""
    dtype = np.dtype(dtype)
    c = np.full(shape, np.nan, dtype)
    yield "C", c, c
    f = np.full(shape, np.nan, dtype, order="F")
    yield "F", f, f
    if len(shape) >= 2:
        t = np.full(shape[:-2] + (shape[-1], shape[-2]), np.nan, dtype)
        yield "T", t.swapaxes(-1, -2), t
    for name, step in (("step2", 2), ("negstep2", -2)):
        view = strided_view(np.full(shape, np.nan, dtype), (step,) * len(shape))
        buffer = view.base
        while isinstance(buffer.base, np.ndarray):
            buffer = buffer.base
        yield name, view, buffer


def assert_only_view_written(out: np.ndarray, buffer: np.ndarray) -> None:
    """``buffer`` was NaN-filled; after a call that wrote finite values into ``out`` (a view of
    ``buffer``), exactly ``out.size`` elements of ``buffer`` may have changed."""
    assert np.all(np.isfinite(out)), "out has unwritten (NaN) elements"
    written = int(np.count_nonzero(~np.isnan(buffer)))
    assert written == out.size, f"{written} elements of out's buffer written, expected {out.size}"


# --------------------------------------------------------------------------------------------
# inputs unchanged


def _root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _snapshot(x: Any) -> list[tuple[Any, Any]]:
    """(object, copy) pairs to compare after a call: an array and the whole buffer it views."""
    if isinstance(x, np.ndarray):
        pairs = [(x, x.copy())]
        root = _root(x)
        if root is not x:
            pairs.append((root, root.copy()))
        return pairs
    if isinstance(x, (list, tuple)):
        return [(x, copy.deepcopy(x))]
    return []


def _same(now: Any, before: Any) -> bool:
    if isinstance(now, np.ndarray):
        return now.dtype == before.dtype and now.shape == before.shape and now.tobytes() == before.tobytes()
    return bool(now == before)


def checked(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, asserting afterwards that no input (nor any memory an input view
    lives in) was written. ``out=`` is the one argument allowed to change (it must not be an
    input too: use a plain call for the overlap tests)."""
    watched = [pair for x in args for pair in _snapshot(x)]
    watched += [pair for key, x in kwargs.items() if key != "out" for pair in _snapshot(x)]
    result = fn(*args, **kwargs)
    for now, before in watched:
        assert _same(now, before), f"{getattr(fn, '__name__', fn)} modified an input"
    return result


# --------------------------------------------------------------------------------------------
# comparisons


def assert_product_close(
    got: Any, op: Callable[..., Any], a: Any, b: Any, *, k: int, dtype: Any = None, c: float = 4.0
) -> None:
    """``got`` is NumPy's ``op(a, b)`` for a product ``op`` (matmul, dot, vecdot) summing ``k``
    terms per element: a numpy scalar when NumPy gives a 0-d result, else an ndarray of NumPy's
    shape; of ``dtype`` (default: ``result_dtype(a, b)``); and within
    ``c * eps(dtype) * k * op(|a|, |b|)`` of ``op`` on the float64 operands, elementwise (exact
    for k = 0). The operands must be finite."""
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    assert np.all(np.isfinite(a64)) and np.all(np.isfinite(b64)), "use finite operands here"
    ref = np.asarray(op(a64, b64))
    bound = np.asarray(op(np.abs(a64), np.abs(b64)))
    want = np.dtype(dtype) if dtype is not None else result_dtype(a, b)
    if ref.ndim == 0:
        assert isinstance(got, np.generic), f"a 0-d result must be a numpy scalar, got {type(got)}"
    else:
        assert isinstance(got, np.ndarray), f"expected an ndarray, got {type(got)}"
    assert got.dtype == want, f"dtype {got.dtype}, expected {want}"
    assert got.shape == ref.shape, f"shape {got.shape}, expected {ref.shape}"
    tol = c * eps(want) * k * bound
    err = np.abs(np.asarray(got, dtype=np.float64) - ref)
    bad = ~(err <= tol)  # also catches NaN
    if np.any(bad):
        idx = tuple(np.argwhere(bad)[0]) if ref.ndim else ()
        raise AssertionError(
            f"{int(np.count_nonzero(bad))} of {ref.size} elements off; first at {idx}: "
            f"got {np.asarray(got)[idx]!r}, expected {ref[idx]!r} (tolerance {tol[idx]!r})"
        )


def assert_matmul_close(got: Any, a: Any, b: Any, *, dtype: Any = None, c: float = 4.0) -> None:
    """``got`` is ``numpy.matmul(a, b)``: a numpy scalar for 1-D @ 1-D, else an ndarray of
    NumPy's result shape; of ``dtype`` (default: ``result_dtype(a, b)``); and within
    ``c * eps(dtype) * k * (|a| @ |b|)`` of a float64 reference, elementwise (exact for k = 0)."""
    k = np.shape(a)[-1]
    assert_product_close(got, np.matmul, a, b, k=k, dtype=dtype, c=c)


def check_matmul_every_layout(a: Any, b: Any, keep: Callable[[str, str], bool] = lambda name_a, name_b: True) -> None:
    """``assert_matmul_close`` on ``fl.matmul`` of every (layout of a) x (layout of b) that
    ``keep`` accepts, checking that no input is written; a failure names the layouts."""
    import ferrolinalg as fl

    for (na, va), (nb, vb) in itertools.product(list(layouts(a)), list(layouts(b))):
        if not keep(na, nb):
            continue
        try:
            assert_matmul_close(checked(fl.matmul, va, vb), a, b)
        except AssertionError as e:
            raise AssertionError(f"a:{na} b:{nb}: {e}") from None


def assert_norm_close(
    got: Any,
    ref: Any,
    dtype: Any,
    nterms: int,
    *,
    p: float = 2.0,
    exact: bool = False,
    c: float = 4.0,
    rtol_extra: float = 0.0,
) -> None:
    """``got`` is a norm with ``ref``'s value (a float64 reference): a numpy scalar exactly when
    the result is 0-d (as NumPy returns), of ``ref``'s shape and of ``dtype``; NaN and inf where
    ``ref`` has them; and, if ``exact``, equal to ``ref`` rounded to ``dtype`` (max, min and
    counts are exact), else within a relative ``c * eps(dtype) * (nterms + 2) * max(1, 1/|p|)``
    (a bound for any summation order of ``nterms`` non-negative terms, and for the ``1/p``-th
    power, which multiplies the sum's relative error by ``1/|p|``), plus ``rtol_extra``."""
    dtype = np.dtype(dtype)
    ref = np.asarray(ref, dtype=np.float64)
    if ref.ndim == 0:
        assert isinstance(got, np.generic), f"a 0-d result must be a numpy scalar, got {type(got).__name__}"
    else:
        assert isinstance(got, np.ndarray), f"expected an ndarray, got {type(got).__name__}"
    got_arr = np.asarray(got)
    assert got_arr.dtype == dtype, f"dtype {got_arr.dtype}, expected {dtype}"
    assert got_arr.shape == ref.shape, f"shape {got_arr.shape}, expected {ref.shape}"
    g = got_arr.astype(np.float64)
    if exact:
        ok = (g == ref.astype(dtype).astype(np.float64)) | (np.isnan(g) & np.isnan(ref))
        rtol = 0.0
    else:
        rtol = c * eps(dtype) * (nterms + 2) * max(1.0, 1.0 / abs(p) if p else 1.0) + rtol_extra
        with np.errstate(invalid="ignore"):  # inf - inf
            close = np.abs(g - ref) <= rtol * np.abs(ref)
        ok = close | (np.isinf(ref) & (g == ref)) | (np.isnan(g) & np.isnan(ref))
    if not np.all(ok):
        idx = tuple(np.argwhere(~ok)[0]) if ref.ndim else ()
        raise AssertionError(
            f"{int(np.count_nonzero(~ok))} of {ref.size} values off; first at {idx}: "
            f"got {g[idx]!r}, expected {ref[idx]!r} (rtol {rtol:.3g})"
        )


#: (dtype of a, dtype of b, dtype ferrolinalg computes and returns in): float32 stays float32,
#: mixed floats give float64, float16 computes in float32, integers and bools in float64.
DTYPE_PROMOTIONS = [
    (np.float32, np.float32, np.float32),
    (np.float64, np.float64, np.float64),
    (np.float32, np.float64, np.float64),
    (np.float64, np.float32, np.float64),
    (np.float16, np.float16, np.float32),
    (np.float16, np.float32, np.float32),
    (np.float16, np.float64, np.float64),
    (np.int64, np.int64, np.float64),
    (np.int32, np.float32, np.float64),
    (np.int8, np.uint16, np.float64),
    (np.bool_, np.bool_, np.float64),
    (np.bool_, np.float32, np.float64),
]
