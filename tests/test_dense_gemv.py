"""Batch-1 dense layers (issue 6, rust/kernels/src/gemv.rs): one row times the weights, streamed
in memory order, large weights cut into two fixed slabs read by two threads.

Every layout of x and w reaches one of three paths (rows of w contiguous: partial rows;
columns contiguous: dot products; neither: the general product), each with and without the
two-slab split (weights of at least 256 KiB), with every activation, bias or none, NaN and inf,
and one thread against two."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import checked, eps
from test_dense import ACTIVATIONS, assert_linear, mlp_reference, ref_act

import ferrolinalg as fl

#: (k, n): small (one slab) and large enough to be split (>= 256 KiB of float32 / float64),
#: with k and n not multiples of the kernels' groups (8 rows, 4 columns, 16 lanes).
SHAPES = [(1, 1), (7, 5), (37, 131), (300, 257), (513, 130)]


def big(k: int, n: int, dtype: type) -> bool:
    return k * n * np.dtype(dtype).itemsize >= 1 << 18


def x_layouts(rng: np.random.Generator, k: int, dtype: type) -> dict[str, np.ndarray]:
    base = rng.standard_normal((3, 2 * k)).astype(dtype)
    return {
        "1d": np.ascontiguousarray(base[0, :k]),
        "row": base[:1, :k],
        "strided": base[1, ::2],
        "negative": base[2, ::-2],
        "fortran": np.asfortranarray(base[:1, :k]),
        "batch axes": base[None, :1, :k],
    }


def w_layouts(rng: np.random.Generator, k: int, n: int, dtype: type) -> dict[str, tuple[np.ndarray, str]]:
    """The same kind of weights in every layout: (array, weight_layout)."""
    base = (rng.standard_normal((2 * k, 2 * n)) / np.sqrt(k)).astype(dtype)
    w = np.ascontiguousarray(base[:k, :n])
    return {
        "C": (w, "in_out"),  # rows contiguous
        "F": (np.asfortranarray(w), "in_out"),  # columns contiguous
        "out_in C": (np.ascontiguousarray(w.T), "out_in"),  # columns contiguous
        "out_in F": (np.asfortranarray(w.T), "out_in"),  # rows contiguous
        "rows reversed": (base[k - 1 :: -1, :n], "in_out"),  # rows contiguous, negative row stride
        "cols reversed": (base[:k, n - 1 :: -1], "in_out"),  # neither: the general product
        "strided": (base[::2, ::2][:k, :n], "in_out"),  # neither
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k,n", SHAPES)
def test_every_layout_of_x_and_w(rng, restore_threads, dtype, k, n):
    b = rng.standard_normal(2 * n).astype(dtype)[::2]  # a strided bias
    for wn, (w, layout) in w_layouts(rng, k, n, dtype).items():
        for xn, x in x_layouts(rng, k, dtype).items():
            results = []
            for threads in (1, 2):
                fl.set_num_threads(threads)
                got = checked(fl.linear, x, w, b, "relu", weight_layout=layout)
                assert got.shape == x.shape[:-1] + (n,), (wn, xn)
                assert_linear(got, x, w, b, "relu", dtype, layout=layout)
                results.append(got)
            np.testing.assert_array_equal(results[0], results[1], err_msg=f"{wn}, {xn}: 1 vs 2 threads")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("layout", ["in_out", "out_in"])
@pytest.mark.parametrize("k,n", [(37, 131), (513, 130)])
def test_every_activation_with_and_without_bias(rng, dtype, act, layout, k, n):
    x = rng.standard_normal(k).astype(dtype) * 2
    w = (rng.standard_normal((k, n) if layout == "in_out" else (n, k)) / np.sqrt(k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    for bias in (b, None):
        got = fl.linear(x, w, bias, act, weight_layout=layout)
        assert_linear(got, x, w, bias, act, dtype, layout=layout)


def elementwise_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, act: str | None) -> np.ndarray:
    """x @ w + b in float64 without BLAS (which may skip zeros of x and so drop 0 * inf = NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        y = (x.astype(np.float64)[:, None] * w.astype(np.float64)).sum(axis=0)
        if b is not None:
            y = y + b
        return ref_act(y, act)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k,n", [(37, 131), (513, 130)])
def test_nan_and_inf_propagate(rng, dtype, k, n):
    w0 = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(dtype)
    x0 = rng.standard_normal(k).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    cases = []
    x = x0.copy()
    x[k // 2] = np.nan  # every output NaN
    cases.append((x, w0))
    x = x0.copy()
    x[-1] = np.inf  # +-inf by the sign of w's last row
    cases.append((x, w0))
    x = x0.copy()
    x[3 % k] = 0.0
    w = w0.copy()
    w[3 % k, 5 % n] = np.inf  # 0 * inf: NaN in one column
    w[k - 1, n - 1] = np.nan
    w[0, 0] = -np.inf
    cases.append((x, w))
    for x, w in cases:
        for act in ACTIVATIONS:
            want = elementwise_reference(x, w, b, act)
            for wl, layout in ((w, "in_out"), (np.ascontiguousarray(w.T), "out_in"), (w[::-1][::-1], "in_out")):
                got = fl.linear(x, wl, b, act, weight_layout=layout)
                assert np.array_equal(np.isnan(got), np.isnan(want)), (act, layout)
                inf = np.isinf(want)
                assert np.array_equal(got[inf], want[inf]), (act, layout)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_input_width_and_out(rng, dtype):
    b = rng.standard_normal(6).astype(dtype)
    got = fl.linear(np.ones((1, 0), dtype), np.ones((0, 6), dtype), b, "relu")
    np.testing.assert_array_equal(got, np.maximum(b, 0)[None])
    assert fl.linear(np.ones((1, 4), dtype), np.ones((4, 0), dtype)).shape == (1, 0)
    # out= with a column stride, and out= overlapping x
    k, n = 300, 257
    x = rng.standard_normal(k).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    want = fl.linear(x, w, b[:1].repeat(n), "gelu")
    out = np.empty((n, 3), dtype)[:, 1]
    assert fl.linear(x, w, b[:1].repeat(n), "gelu", out=out) is out
    np.testing.assert_array_equal(out, want)
    sq = rng.standard_normal((k, k)).astype(dtype)
    xs = np.zeros(2 * k, dtype)
    xs[:k] = x
    fl.linear(xs[:k], sq, None, "relu", out=xs[:k])
    np.testing.assert_array_equal(xs[:k], fl.linear(x, sq, None, "relu"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("acts", [("relu", "relu", None), ("gelu", "softmax", "tanh")])
def test_mlp_batch_one_through_split_layers(rng, restore_threads, dtype, acts):
    sizes = (300, 257, 513, 10)  # two layers large enough to be split, one not
    layers = [
        ((rng.standard_normal((a, c)) / np.sqrt(a)).astype(dtype), rng.standard_normal(c).astype(dtype) if i != 1 else None, act)
        for i, (a, c, act) in enumerate(zip(sizes[:-1], sizes[1:], acts))
    ]
    for name, mlp in (("in_out", fl.MLP(layers)), ("out_in", fl.MLP([(np.ascontiguousarray(w.T), b, a) for w, b, a in layers], weight_layout="out_in"))):
        for x in (rng.standard_normal(300).astype(dtype), rng.standard_normal((1, 600)).astype(dtype)[:, ::-2]):
            results = []
            for threads in (1, 2):
                fl.set_num_threads(threads)
                got = checked(mlp, x)
                np.testing.assert_allclose(got, mlp_reference(x, layers), rtol=300 * eps(dtype), atol=300 * eps(dtype), err_msg=name)
                out = np.empty((12, 2), dtype)[1:11, 0].reshape(x.shape[:-1] + (10,))
                assert mlp(x, out=out) is out
                np.testing.assert_array_equal(out, got)
                results.append(got)
            np.testing.assert_array_equal(results[0], results[1])
            # batch 1 gives the same bits as calling the layers one by one
            h = x
            for w, b, act in layers:
                h = fl.linear(h, w, b, act)
            np.testing.assert_array_equal(h, results[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [5, 33, 256, 511])
def test_mlp_small_batches_share_each_layer(rng, restore_threads, dtype, m):
    """Batches under 512 rows with large layers run layer by layer, each layer's columns (or rows,
    for narrow or softmax layers) split between the threads: the same values as the reference,
    one thread and two bit-identical."""
    sizes = (300, 257, 513, 100, 10)
    acts = ("relu", "softmax", "gelu", None)
    layers = [
        ((rng.standard_normal((a, c)) / np.sqrt(a)).astype(dtype), rng.standard_normal(c).astype(dtype), act)
        for a, c, act in zip(sizes[:-1], sizes[1:], acts)
    ]
    mlp = fl.MLP(layers)
    x = rng.standard_normal((m, 600)).astype(dtype)[:, ::2]
    want = mlp_reference(x, layers)
    results = []
    for threads in (1, 2):
        fl.set_num_threads(threads)
        got = checked(mlp, x)
        np.testing.assert_allclose(got, want, rtol=300 * eps(dtype), atol=300 * eps(dtype))
        out = np.empty((10, m), dtype).T
        assert mlp(x, out=out) is out
        np.testing.assert_array_equal(out, got)
        results.append(got)
    np.testing.assert_array_equal(results[0], results[1])
