"""Property-based fuzzing of the public functions (issue 8) with hypothesis.

Random shapes (zero-size included), dtypes (the ones we reject too), layouts (Fortran, transposed,
stepped, negative strides, zero-stride broadcast views, unaligned buffers at odd byte offsets) and
values (NaN, inf, subnormals, +-0, huge and tiny). Each call either returns what NumPy returns,
within a tolerance that scales with the dtype and the size, or raises the documented exception
(`ValueError`, `TypeError`, `numpy.linalg.LinAlgError`). Anything else (another exception, a
crash, a hang, a wrong answer) fails.

CI runs a short round (`FERROLINALG_FUZZ_EXAMPLES`, default 40 per property); a long run is

    FERROLINALG_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py -p no:cacheprovider

(about an hour on the project's 2-core machine; the figures are in docs/reliability.md).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import ferrolinalg as fl

EXAMPLES = int(os.environ.get("FERROLINALG_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: The exceptions a call may raise on bad input; anything else is a finding.
DOCUMENTED = (ValueError, TypeError, np.linalg.LinAlgError)

FLOAT_DTYPES = [np.float32, np.float64]
OTHER_DTYPES = [np.float16, np.int32, np.int64, np.bool_, np.complex128, np.uint8]

SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1e-310, 1e-300, 1e300, 1e-40, 1e30, 3.0e38, 1.0, -1.0]


@st.composite
def values(draw, shape, dtype, special=True):
    """Standard normal values, sometimes scaled huge or tiny, sometimes with special values."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape)
    scale = draw(st.sampled_from([1.0, 1.0, 1.0, 1e-20, 1e15, 1e-200, 1e150]))
    x = x * scale
    if special and x.size and draw(st.booleans()):
        flat = x.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from(SPECIAL))
    with np.errstate(all="ignore"):
        return x.astype(dtype) if np.dtype(dtype).kind != "b" else x > 0


@st.composite
def layout(draw, arr):
    """The same values in one of many memory layouts."""
    kind = draw(st.sampled_from(["C", "F", "T", "step", "neg", "bcast", "unaligned", "list"]))
    if kind == "F" and arr.ndim >= 2:  # (asfortranarray makes a 0-d array 1-d)
        return np.asfortranarray(arr)
    if kind == "T" and arr.ndim >= 2:
        return np.ascontiguousarray(np.swapaxes(arr, -1, -2)).swapaxes(-1, -2)
    if kind == "step" and arr.ndim >= 1:
        big = np.zeros(tuple(2 * d for d in arr.shape), arr.dtype)
        view = big[tuple(slice(None, None, 2) for _ in arr.shape)]
        view[...] = arr
        return view
    if kind == "neg" and arr.ndim >= 1:
        return np.flip(np.flip(arr).copy())
    if kind == "bcast" and arr.ndim >= 1 and arr.shape[0] > 1:
        return np.broadcast_to(arr[:1], arr.shape)  # other values, the same shape: a new case
    if kind == "unaligned" and arr.dtype.itemsize > 1:
        buf = np.zeros(arr.nbytes + 1, np.uint8)
        view = np.frombuffer(buf.data, dtype=arr.dtype, count=arr.size, offset=1).reshape(arr.shape)
        view = np.array(view, copy=False)
        np.copyto(view, arr) if view.flags.writeable else None
        return view if view.flags.writeable else arr
    if kind == "list" and 0 < arr.size <= 16 and arr.ndim >= 1:
        return arr.tolist()
    return arr


@st.composite
def arrays(draw, min_dims=1, max_dims=4, max_side=7, square=False, floats_only=False):
    dtype = draw(st.sampled_from(FLOAT_DTYPES * 4 + ([] if floats_only else OTHER_DTYPES)))
    ndim = draw(st.integers(min_dims, max_dims))
    shape = [draw(st.integers(0, max_side)) for _ in range(ndim)]
    if square and ndim >= 2:
        shape[-1] = shape[-2]
    arr = np.asarray(draw(values(tuple(shape), dtype)))
    return draw(layout(arr))


def _f64(x):
    return np.asarray(x).astype(np.float64) if np.asarray(x).dtype.kind != "c" else np.asarray(x)


def _eps(*xs) -> float:
    kinds = [np.asarray(x).dtype for x in xs]
    return float(np.finfo(np.float32).eps) if all(k == np.float32 or k.itemsize <= 2 and k.kind == "f" for k in kinds) else float(np.finfo(np.float64).eps)


def _call(fn, *args, **kwargs):
    """fn's result, or None if it raised a documented exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs)
    except DOCUMENTED:
        return None


def _assert_close_where_defined(got, want, bound, eps, factor=64):
    """``got`` within ``factor * eps * bound`` of ``want`` wherever the bound is finite and the
    exact value is within the result dtype's range (past it, overflow to inf is the answer)."""
    got, want, bound = np.asarray(got, np.float64), np.asarray(want, np.float64), np.asarray(bound, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    with np.errstate(all="ignore"):
        top = float(np.finfo(np.float32 if eps > 1e-10 else np.float64).max)
        ok = np.isfinite(bound) & np.isfinite(want) & (bound < top / 2)
        err = np.abs(got - want)
        # plus the spacing of subnormals: below the normal range precision is absolute
        tiny = float(np.finfo(np.float32 if eps > 1e-10 else np.float64).smallest_subnormal)
        tol = factor * eps * bound + factor * tiny
        bad = ok & ~(err <= tol)
    assert not bad.any(), f"max error {err[bad].max()} over tolerance {tol[bad].min()}"


# ----------------------------------------------------------------------------------------------


@FUZZ
@given(st.data())
def test_matmul(data):
    a = data.draw(arrays(max_dims=3), "a")
    if data.draw(st.booleans()):
        shape_b = list(np.shape(a)[-1:]) + [data.draw(st.integers(0, 6))]
        if data.draw(st.booleans()):
            shape_b = shape_b[:1]
        b = data.draw(layout(data.draw(values(tuple(shape_b), data.draw(st.sampled_from(FLOAT_DTYPES))))))
    else:
        b = data.draw(arrays(max_dims=3), "b")
    got = _call(fl.matmul, a, b)
    try:
        with np.errstate(all="ignore"):
            want = np.matmul(_f64(a), _f64(b))
            bound = np.matmul(np.abs(_f64(a)), np.abs(_f64(b)))
    except (ValueError, TypeError):
        assert got is None, "ferrolinalg accepted operands NumPy rejects"
        return
    if np.asarray(a).dtype.kind == "c" or np.asarray(b).dtype.kind == "c":
        assert got is None
        return
    assert got is not None, "ferrolinalg rejected operands NumPy accepts"
    k = np.shape(a)[-1] if np.ndim(a) else 1
    _assert_close_where_defined(got, want, bound * max(k, 1), _eps(a, b))


@FUZZ
@given(arrays(max_dims=3), st.sampled_from([2, 1, np.inf, -np.inf, 0, 3, 0.5, -1]), st.data())
def test_vector_norm(x, ord, data):
    nd = np.ndim(x)
    axis = data.draw(st.sampled_from([None] + list(range(-nd, nd)) + ([(0, -1)] if nd >= 2 else [])))
    got = _call(fl.vector_norm, x, ord=ord, axis=axis)
    if np.asarray(x).dtype.kind == "c":
        assert got is None
        return
    try:
        with np.errstate(all="ignore"):
            # the reference scaled by the largest magnitude (so it neither overflows nor
            # underflows where the norm is representable, which is what ours promises)
            x64 = _f64(x)
            big = np.max(np.abs(x64), axis=axis, keepdims=True, initial=0.0)
            big = np.where(np.isfinite(big) & (big > 0) & (ord not in (0, np.inf, -np.inf)), big, 1.0)
            want = np.linalg.vector_norm(x64 / big, ord=ord, axis=axis, keepdims=True) * big
            want = want.reshape(np.shape(np.linalg.vector_norm(x64, ord=ord, axis=axis)))
            # a norm past the result dtype's range is inf there
            dt = np.asarray(x).dtype
            top = float(np.finfo(dt if dt.kind == "f" and dt.itemsize >= 4 else np.float64).max)
            want = np.where(np.abs(want) > top, np.inf, want)
    except ValueError:
        assert got is None
        return
    assert got is not None
    got = np.asarray(got, np.float64)
    assert got.shape == np.shape(want)
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=64 * _eps(x) * max(np.size(x), 1) ** 0.5 + 1e-12, atol=0)
    assert np.array_equal(np.isnan(got), np.isnan(want)), "NaN pattern differs"


@FUZZ
@given(arrays(min_dims=2, max_dims=3, square=True))
def test_inv_solve_det(a):
    if np.asarray(a).dtype.kind == "c":
        assert _call(fl.inv, a) is None
        return
    a64 = _f64(a)
    finite = np.all(np.isfinite(a64))
    inv = _call(fl.inv, a)
    det = _call(fl.det, a)
    if not finite:
        assert inv is None and det is None, "NaN/inf input was not rejected"
        return
    assert det is not None
    n = a64.shape[-1]
    with np.errstate(all="ignore"):
        want_det = np.linalg.det(a64)
        # LU with partial pivoting is normwise backward stable, so det's relative error is
        # bounded by n eps cond(A) (graded matrices may reach it: a multiplier can underflow);
        # singular or hopelessly ill-conditioned matrices are left out of the comparison
        cond = np.linalg.cond(a64) if n else np.ones(a64.shape[:-2])
        # (+ |log|det||: NumPy's det is exp(log|det|), whose relative error is |log|det|| eps)
        logabs = np.abs(np.log(np.abs(want_det)))
        scale = np.where(np.isfinite(cond) & (cond * _eps(a) < 1e-3), np.abs(want_det) * (cond + logabs), np.inf)
    # NumPy's det is exp(log|det|) (error ~ eps * |log det| relative), ours the pivots' product
    _assert_close_where_defined(det, want_det, scale, _eps(a), factor=64 * max(n, 1))
    if inv is not None:
        with np.errstate(all="ignore"):
            resid = np.abs(np.matmul(a64, np.asarray(inv, np.float64)) - np.eye(n))
            cond = np.linalg.norm(a64, axis=(-2, -1)) * np.linalg.norm(np.asarray(inv, np.float64), axis=(-2, -1)) if n else 0
        bound = np.broadcast_to(np.asarray(cond)[..., None, None], resid.shape)
        ok = np.isfinite(bound) & (bound < 1 / _eps(a))
        assert np.all(resid[ok] <= 64 * n * _eps(a) * bound[ok] + 1e-300)


@FUZZ
@given(arrays(min_dims=2, max_dims=3, square=True, floats_only=True))
def test_eigh(a):
    a64 = _f64(a)
    got = _call(fl.eigh, a)
    if not np.all(np.isfinite(np.tril(a64))):
        assert got is None, "NaN/inf in the read triangle was not rejected"
        return
    assert got is not None
    w, v = (np.asarray(x, np.float64) for x in got)
    sym = np.tril(a64) + np.swapaxes(np.tril(a64, -1), -1, -2)
    n = a64.shape[-1]
    if n == 0:
        return
    with np.errstate(all="ignore"):
        anorm = np.max(np.abs(sym), axis=(-2, -1), keepdims=True)
        resid = np.abs(sym @ v - v * w[..., None, :])
    # eigenvalues reach n * max|a|: past the dtype's range they overflow, rightly
    ok = np.isfinite(anorm) & (anorm * n < float(np.finfo(np.asarray(a).dtype).max) / 4)
    assert np.all((resid <= 64 * n * _eps(a) * anorm * n + 1e-300) | ~ok)
    assert np.all(np.diff(w, axis=-1) >= 0)


@FUZZ
@given(arrays(min_dims=2, max_dims=3, floats_only=True))
def test_svd_qr(a):
    a64 = _f64(a)
    svd = _call(fl.svd, a, full_matrices=False)
    qr = _call(fl.qr, a)
    if not np.all(np.isfinite(a64)):
        assert svd is None and qr is None, "NaN/inf input was not rejected"
        return
    assert svd is not None and qr is not None
    u, s, vh = (np.asarray(x, np.float64) for x in svd)
    m, n = a64.shape[-2:]
    if min(m, n) == 0:
        return
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(a64), axis=(-2, -1), keepdims=True)
        recon = np.abs((u * s[..., None, :]) @ vh - a64)
        qr_recon = np.abs(np.asarray(qr.Q, np.float64) @ np.asarray(qr.R, np.float64) - a64)
    # singular values and R's entries reach sqrt(m n) max|a|: past the range they overflow, rightly
    top = float(np.finfo(np.asarray(a).dtype).max)
    ok = np.isfinite(scale) & (scale * max(m, n) < top / 4) & (scale > 1e-300)
    tol = 64 * max(m, n) ** 2 * _eps(a) * scale
    assert np.all((recon <= tol) | ~ok)
    assert np.all((qr_recon <= tol) | ~ok)
    assert np.all(np.diff(s, axis=-1) <= 0)


@FUZZ
@given(st.data())
def test_einsum_and_tensordot(data):
    if not hasattr(fl, "einsum"):
        pytest.skip("needs ferrolinalg.einsum")
    sizes = {c: data.draw(st.integers(0, 4)) for c in "ijkl"}
    terms = [data.draw(st.text("ijkl", min_size=0, max_size=3)) for _ in range(data.draw(st.integers(1, 3)))]
    out = "".join(sorted(set("".join(terms)), key="ijkl".index))
    out = "".join(c for c in out if data.draw(st.booleans()))
    ops = [data.draw(layout(np.asarray(data.draw(values(tuple(sizes[c] for c in t), data.draw(st.sampled_from(FLOAT_DTYPES)), special=False))))) for t in terms]
    expr = ",".join(terms) + "->" + out
    got = _call(fl.einsum, expr, *ops)
    with np.errstate(all="ignore"):
        want = np.einsum(expr, *[_f64(o) for o in ops])
        bound = np.einsum(expr, *[np.abs(_f64(o)) for o in ops])
    assert got is not None, expr
    _assert_close_where_defined(got, want, bound, _eps(*ops), factor=64 * 64)


@FUZZ
@given(st.text(alphabet="ijk,->. AZ.1", max_size=12), st.integers(1, 3))
def test_einsum_parser_never_crashes(expr, nops):
    if not hasattr(fl, "einsum"):
        pytest.skip("needs ferrolinalg.einsum")
    ops = [np.ones((2,) * d) for d in range(nops)]
    np_ok = True
    try:
        want = np.einsum(expr, *ops)
    except Exception:  # noqa: BLE001 - NumPy's own rejection of the expression
        np_ok = False
    got = _call(fl.einsum, expr, *ops)
    if np_ok:
        assert got is not None, f"{expr!r} rejected but NumPy accepts it"
        np.testing.assert_allclose(got, want)
    else:
        assume(True)


# ----------------------------------------------------------------------------------------------
# every other public function: a result NumPy / SciPy agree with, or a documented exception


def _rel_close(got, want, tol):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(float(np.max(np.abs(want), initial=0.0)), 1.0)
    assert np.all(np.abs(got - want) <= tol * scale), float(np.max(np.abs(got - want), initial=0.0))


def _square_pair(data, special):
    n = data.draw(st.integers(0, 6), "n")
    batch = tuple(data.draw(st.lists(st.integers(0, 3), max_size=1), "batch"))
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), "dtype")
    a = np.asarray(data.draw(values(batch + (n, n), dtype, special=special)))
    # well conditioned when finite: a dominant diagonal
    with np.errstate(all="ignore"):
        a = a + (4 * n + 4) * np.eye(n, dtype=dtype) * (np.max(np.abs(a), initial=1.0) if np.all(np.isfinite(a)) else 1.0)
    b = np.asarray(data.draw(values(batch + (n, 2), dtype, special=special)))
    return data.draw(layout(a)), data.draw(layout(b)), dtype


@FUZZ
@given(st.data(), st.booleans())
def test_solvers_and_factorizations(data, special):
    a, b, dtype = _square_pair(data, special)
    a64, b64 = _f64(a), _f64(b)
    finite = bool(np.all(np.isfinite(a64)) and np.all(np.isfinite(b64)))
    tol = 1e4 * float(np.finfo(dtype).eps)
    calls = {
        "solve": (lambda: fl.solve(a, b), lambda: np.linalg.solve(a64, b64)),
        "slogdet": (lambda: fl.slogdet(a).sign, lambda: np.linalg.slogdet(a64).sign),
        "pinv": (lambda: fl.pinv(a), lambda: np.linalg.pinv(a64)),
        "matrix_rank": (lambda: fl.matrix_rank(a), lambda: np.linalg.matrix_rank(a64)),
        "cholesky": (lambda: fl.cholesky(a64 @ np.swapaxes(a64, -1, -2)), None),
        "lstsq": (lambda: fl.lstsq(a, np.asarray(b)[..., :, 0])[0] if a64.ndim == 2 else None, None),
        "matrix_norm 1": (lambda: fl.matrix_norm(a, ord=1), lambda: np.linalg.matrix_norm(a64, ord=1)),
        "matrix_norm nuc": (lambda: fl.matrix_norm(a, ord="nuc"), lambda: np.linalg.matrix_norm(a64, ord="nuc")),
        "vecdot": (lambda: fl.vecdot(b, b), lambda: np.linalg.vecdot(b64, b64)),
        "dot": (lambda: fl.dot(a, b), lambda: np.dot(a64, b64)),
    }
    for name, (ours, theirs) in calls.items():
        with np.errstate(all="ignore"):
            got = _call(ours)
        note(f"{name}: {got!r}")
        if got is None or theirs is None or not finite:
            continue
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = theirs()
        except (ValueError, np.linalg.LinAlgError):
            continue
        top = float(np.finfo(dtype).max) / 4  # past it, float32 results overflow, rightly
        want64 = np.asarray(want, np.float64)
        if np.all(np.isfinite(want64)) and np.max(np.abs(want64), initial=0) < top and np.max(np.abs(a64), initial=0) < 1e100:
            _rel_close(got, want, tol)


@FUZZ
@given(st.data())
def test_layers_lowrank_and_pca(data):
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES), "dtype")
    m, k, n = data.draw(st.integers(0, 9)), data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    special = data.draw(st.booleans(), "special")
    x = data.draw(layout(np.asarray(data.draw(values((m, k), dtype, special=special)))))
    w = np.asarray(data.draw(values((k, n), dtype, special=False)))
    act = data.draw(st.sampled_from([None, "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "softmax", "leaky_relu"]))
    got = _call(fl.linear, x, w, None, act)
    if got is not None:
        assert got.shape == (m, n) and got.dtype == np.result_type(np.asarray(x).dtype, w.dtype)
        mlp = fl.MLP([(w, None, act)])
        np.testing.assert_array_equal(mlp(np.ascontiguousarray(x)), fl.linear(np.ascontiguousarray(x), w, None, act))
    # tensordot against NumPy
    t = _call(fl.tensordot, x, w, axes=1)
    with np.errstate(all="ignore"):
        want_t = np.tensordot(_f64(x), _f64(w), axes=1)
    top = float(np.finfo(dtype).max) / 4
    if t is not None and np.all(np.isfinite(want_t)) and np.max(np.abs(want_t), initial=0) < top:
        _rel_close(t, want_t, 1e3 * float(np.finfo(dtype).eps))
    # the randomized and truncated solvers: a result with the requested sizes, or an error
    r = data.draw(st.integers(-1, 4), "k")
    for fn in (lambda: fl.randomized_svd(x, r, seed=0), lambda: fl.low_rank(x, r),
               lambda: fl.eigsh(_f64(x)[:k, :k] + _f64(x)[:k, :k].T if m >= k else np.eye(3), r)):
        res = _call(fn)
        if res is not None:
            assert r >= 1
    pca = _call(lambda: fl.PCA(n_components=min(r, m, k) if r > 0 else None).fit(x))
    if pca is not None:
        z = pca.transform(x)
        assert z.shape == (m, pca.n_components_)
