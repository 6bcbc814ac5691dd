"""The small-product kernel (rust/kernels/src/small_gemm.rs: AVX-512, every dimension up to 64)
against ``numpy.matmul``: every size class around its vector widths and blocks, both dtypes, every
layout of the operands and of ``out=``, batches, NaN and inf, 1 vs 2 threads bit-identical, and the
path without the kernel (faer's GEMM, forced by ``FERROLINALG_NO_AVX512``, which also sends the
packed kernel to its AVX2 tiles) in a child process.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import (
    FLOAT_DTYPES,
    assert_matmul_close,
    assert_only_view_written,
    check_matmul_every_layout,
    checked,
    layouts,
    out_layouts,
    randn,
)

#: Edges of the kernel: vector widths 8 (f64) and 16 (f32), row blocks of up to 4 vectors,
#: column tiles of 4 and 8, and its size limit 64 (65 goes to faer).
EDGES = (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65)

#: A subset for the (more numerous) layout combinations.
LAYOUT_SIZES = ((1, 9, 7), (7, 3, 64), (9, 17, 5), (17, 33, 16), (33, 8, 31), (63, 64, 65), (64, 64, 64), (40, 1, 9))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m", EDGES)
def test_every_edge_size(rng, dtype, m):
    """m x k @ k x n for every m, k, n in EDGES (C-order): NumPy's values within eps * k."""
    for k, n in itertools.product(EDGES, EDGES):
        a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
        assert_matmul_close(fl.matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mkn", LAYOUT_SIZES)
def test_every_operand_layout(rng, dtype, mkn):
    """C, F, transposed, step-2, negative-step and flipped views of each operand (every pair),
    inputs unchanged."""
    m, k, n = mkn
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    check_matmul_every_layout(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mkn", LAYOUT_SIZES)
def test_every_out_layout(rng, dtype, mkn):
    """out= in C, F, transposed, step-2 and negative-step layouts, with C and F operands: exactly
    out's elements written, the result returned."""
    m, k, n = mkn
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    for (name, out, buffer), (na, va), (nb, vb) in itertools.product(
        list(out_layouts((m, n), dtype)), [("C", a), ("F", np.asfortranarray(a))], [("C", b), ("F", np.asfortranarray(b))]
    ):
        out[...] = np.nan
        buffer[...] = np.nan
        got = checked(fl.matmul, va, vb, out=out)
        assert got is out, f"out {name}: the result must be out itself"
        try:
            assert_matmul_close(got, a, b)
            assert_only_view_written(out, buffer)
        except AssertionError as e:
            raise AssertionError(f"out {name} a:{na} b:{nb}: {e}") from None


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mkn", [(4, 4, 4), (8, 8, 8), (9, 5, 17), (32, 32, 32), (33, 31, 64), (64, 64, 64)])
def test_batched_and_broadcast(rng, dtype, mkn, restore_threads):
    """Stacks (every layout of the stack) and a broadcast operand; 1 and 2 threads give the same
    bits."""
    m, k, n = mkn
    a, b = randn(rng, (37, m, k), dtype), randn(rng, (37, k, n), dtype)
    b1 = randn(rng, (k, n), dtype)
    for (na, va), (nb, vb) in [(x, y) for x, y in zip(layouts(a, broadcast=False), layouts(b, broadcast=False))]:
        results = []
        for threads in (1, 2):
            fl.set_num_threads(threads)
            results.append(checked(fl.matmul, va, vb))
        try:
            assert_matmul_close(results[0], a, b)
        except AssertionError as e:
            raise AssertionError(f"a:{na} b:{nb}: {e}") from None
        assert np.array_equal(results[0], results[1]), f"a:{na} b:{nb}: 1 and 2 threads differ"
    assert_matmul_close(fl.matmul(a, b1), a, b1)
    a1 = randn(rng, (m, k), dtype)
    assert_matmul_close(fl.matmul(a1, b), a1, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_vector_operands(rng, dtype):
    """1-D operands (vector @ matrix, matrix @ vector) of every edge length."""
    for m, k in itertools.product(EDGES, EDGES):
        a, v = randn(rng, (m, k), dtype), randn(rng, (k,), dtype)
        assert_matmul_close(fl.matmul(a, v), a, v)
        w = randn(rng, (m,), dtype)
        assert_matmul_close(fl.matmul(w, a), w, a)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_threads_give_the_same_bits(rng, dtype, restore_threads):
    """Single products around the size where a product is first split across threads (f64
    64 x 64 @ 64 x 128 is split into two 64-column halves, each small enough for the kernel), and
    every edge square: 1 and 2 threads agree to the bit."""
    shapes = [(64, 64, 128), (128, 64, 64), (64, 64, 64), (64, 48, 130), (100, 64, 100)]
    shapes += [(s, s, s) for s in EDGES]
    for m, k, n in shapes:
        a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
        got = []
        for threads in (1, 2):
            fl.set_num_threads(threads)
            got.append(fl.matmul(a, b))
        assert_matmul_close(got[0], a, b)
        assert np.array_equal(got[0], got[1]), f"{m}x{k}x{n}: 1 and 2 threads differ"


def _nonfinite_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IEEE arithmetic of the sum of products, entry by entry in float64 (slow, exact about NaN
    and inf: inf * 0 is NaN, inf + -inf is NaN)."""
    m, k = a.shape
    n = b.shape[1]
    out = np.empty((m, n))
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(m):
            for j in range(n):
                terms = a[i].astype(np.float64) * b[:, j].astype(np.float64)
                out[i, j] = terms.sum()
    return out


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mkn", [(5, 3, 4), (17, 9, 33), (64, 64, 64), (33, 64, 7)])
def test_nan_and_inf_as_numpy(rng, dtype, mkn):
    """NaN and inf in A and B (also inf against zeros, inf against -inf): NaN exactly where
    NumPy has NaN, the same infinities, the finite entries close."""
    m, k, n = mkn
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    a[0, 0] = np.inf  # row 0: inf * b[0, j]
    b[0, 1] = 0.0  # ... which is inf * 0 = NaN in column 1
    if m > 2:
        a[2, k - 1] = np.nan
    if m > 3 and k > 1:
        a[3, 0] = np.inf
        a[3, 1] = -np.inf  # inf - inf where b[0, j] and b[1, j] have the same sign
    if n > 2:
        b[k // 2, n - 1] = -np.inf
    want = _nonfinite_reference(a, b)
    for (na, va), (nb, vb) in [(("C", a), ("C", b)), (("F", np.asfortranarray(a)), ("F", np.asfortranarray(b)))]:
        got = fl.matmul(va, vb)
        with np.errstate(invalid="ignore"):
            ref = np.matmul(va, vb)
        assert np.array_equal(np.isnan(got), np.isnan(ref)), f"{na}{nb}: NaN positions differ from NumPy's"
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{na}{nb}: NaN positions differ from IEEE"
        inf = np.isinf(want)
        assert np.array_equal(got[inf], want[inf].astype(dtype)), f"{na}{nb}: infinities differ"
        fin = np.isfinite(want)
        tol = 8 * np.finfo(dtype).eps * k * (np.abs(np.where(np.isfinite(a), a, 0)).astype(np.float64) @ np.abs(np.where(np.isfinite(b), b, 0)).astype(np.float64))
        assert np.all(np.abs(got[fin] - want[fin]) <= tol[fin] + np.finfo(dtype).tiny)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_einsum_and_accumulated_products(rng, dtype):
    """Contractions that sum several small products into one result (the kernel's accumulating
    form) and plain small contractions."""
    x = randn(rng, (6, 17, 9), dtype)
    y = randn(rng, (6, 9, 33), dtype)
    got = fl.einsum("bij,bjk->ik", x, y)
    want = np.einsum("bij,bjk->ik", x.astype(np.float64), y.astype(np.float64))
    bound = np.einsum("bij,bjk->ik", np.abs(x).astype(np.float64), np.abs(y).astype(np.float64))
    assert got.dtype == dtype
    assert np.all(np.abs(got - want) <= 8 * np.finfo(dtype).eps * 54 * bound)
    z = randn(rng, (40, 3, 50), dtype)
    w = randn(rng, (50, 3, 20), dtype)
    got = fl.einsum("iaj,jak->ik", z, w)
    want = np.einsum("iaj,jak->ik", z.astype(np.float64), w.astype(np.float64))
    bound = np.einsum("iaj,jak->ik", np.abs(z).astype(np.float64), np.abs(w).astype(np.float64))
    assert np.all(np.abs(got - want) <= 8 * np.finfo(dtype).eps * 150 * bound)


_CHILD = """
import itertools, numpy as np, ferrolinalg as fl
rng = np.random.default_rng(5)
for dt in (np.float32, np.float64):
    for m, k, n in itertools.product((1, 7, 9, 17, 33, 64), (1, 8, 31, 64), (2, 16, 63)):
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        for va, vb in ((a, b), (np.asfortranarray(a), b[::-1][::-1]), (a[::-1], b.T.copy().T)):
            got = fl.matmul(va, vb)
            ref = va.astype(np.float64) @ vb.astype(np.float64)
            tol = 4 * np.finfo(dt).eps * k * (np.abs(va).astype(np.float64) @ np.abs(vb).astype(np.float64))
            assert got.dtype == dt and np.all(np.abs(got - ref) <= tol), (dt, m, k, n)
    s = rng.standard_normal((100, 32, 32)).astype(dt)
    with fl.threads(1):
        one = fl.matmul(s, s)
    with fl.threads(2):
        two = fl.matmul(s, s)
    assert np.array_equal(one, two)
    # the packed kernel's sizes (rust/kernels/src/packed_gemm.rs): AVX2 tiles when disabled
    for m, k, n in ((130, 70, 50), (520, 300, 530)):
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        for va, vb in ((a, b), (np.asfortranarray(a), np.asfortranarray(b)), (a.T.copy().T, b[::-1][::-1])):
            got = fl.matmul(va, vb)
            ref = va.astype(np.float64) @ vb.astype(np.float64)
            tol = 4 * np.finfo(dt).eps * k * (np.abs(va).astype(np.float64) @ np.abs(vb).astype(np.float64))
            assert got.dtype == dt and np.all(np.abs(got - ref) <= tol), (dt, m, k, n)
print("ok")
"""


@pytest.mark.parametrize("disable", ["1", "0"])
def test_path_without_avx512(disable):
    """FERROLINALG_NO_AVX512=1 takes the products the kernel would take to faer's GEMM, and the
    packed kernel's to its AVX2 tiles (the paths of CPUs without AVX-512): right values in every
    size class; "0" leaves the AVX-512 kernels on."""
    env = dict(os.environ, FERROLINALG_NO_AVX512=disable)
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
