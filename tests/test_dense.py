"""Dense layers (issue 6): ``fl.linear`` and ``fl.MLP`` against float64 NumPy/SciPy references."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.special as sp
from conftest import checked, eps

import ferrolinalg as fl

ACTIVATIONS = (None, "relu", "leaky_relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "softmax")


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) without SciPy's early flush to zero for z < -709."""
    e = np.exp(-np.abs(z))
    return np.where(z < 0, e / (1 + e), 1 / (1 + e))


def ref_act(y: np.ndarray, act: str | None, slope: float = 0.01) -> np.ndarray:
    """The activation in float64 (y is float64), from NumPy/SciPy."""
    with np.errstate(over="ignore", invalid="ignore"):
        if act is None:
            return y
        if act == "relu":
            return np.where(y < 0, 0.0, y)
        if act == "leaky_relu":
            return np.where(y < 0, slope * y, y)
        if act == "gelu":
            phi = np.exp(sp.log_ndtr(y))  # accurate far into the lower tail
            return np.where(phi == 0, 0.0, y * phi)
        if act == "gelu_tanh":
            s = stable_sigmoid(2 * np.sqrt(2 / np.pi) * (y + 0.044715 * y**3))
            return np.where(s == 0, 0.0, y * s)
        if act == "silu":
            s = stable_sigmoid(y)
            return np.where(s == 0, 0.0, y * s)
        if act == "sigmoid":
            return stable_sigmoid(y)
        if act == "tanh":
            return np.tanh(y)
        if act == "softmax":
            return sp.softmax(y, axis=-1)
    raise AssertionError(act)


def deriv_scale(y: np.ndarray, act: str | None) -> np.ndarray:
    """|y f'(y)| + |f(y)|: how much a relative rounding of y (or of f) moves f(y)."""
    h = np.maximum(np.abs(y) * 1e-6, 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        d = (ref_act(y + h, act) - ref_act(y - h, act)) / (2 * h)
        s = np.abs(y * d) + np.abs(ref_act(y, act))
    return np.nan_to_num(s, nan=0.0, posinf=0.0)


def check_values(got: np.ndarray, want: np.ndarray, scale: np.ndarray, dtype: type, k: int) -> None:
    assert got.dtype == dtype
    assert got.shape == want.shape
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), "NaN pattern differs"
    tol = (4 * k + 16) * eps(dtype) * scale + np.finfo(dtype).tiny * 16
    err = np.abs(got.astype(np.float64) - want)
    err[nan] = 0
    bad = ~(err <= tol)
    assert not bad.any(), f"max err {err[bad].max()} at {np.argwhere(bad)[:3].tolist()}"


def reference(x, w, b, act, slope=0.01, layout="in_out"):
    w64 = np.asarray(w, np.float64)
    if layout == "out_in":
        w64 = w64.T
    x64 = np.asarray(x, np.float64)
    y = x64 @ w64 + (0 if b is None else np.asarray(b, np.float64))
    # a bound on y's own rounding error: |x| @ |w| + |b|
    ymag = np.abs(x64) @ np.abs(w64) + (0 if b is None else np.abs(np.asarray(b, np.float64)))
    return y, ymag


def assert_linear(got, x, w, b, act, dtype, slope=0.01, layout="in_out"):
    y, ymag = reference(x, w, b, act, slope, layout)
    want = ref_act(y, act, slope)
    # rounding of y (bounded by ymag) moves f by |f'| * err(y); f itself rounds relative to |f|
    h = np.maximum(np.abs(y) * 1e-6, 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.abs(ref_act(y + h, act, slope) - ref_act(y - h, act, slope)) / (2 * h)
    if act == "softmax":
        d = np.max(np.abs(want), axis=-1, keepdims=True) * 2  # coupled through the row's sum
    scale = np.nan_to_num(d * ymag + np.abs(want), nan=0.0)
    k = np.shape(w)[0 if layout == "in_out" else 1]
    check_values(got, want, scale, dtype, k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("m,k,n", [(0, 5, 3), (1, 1, 1), (1, 784, 65), (7, 13, 9), (33, 70, 130), (300, 64, 257)])
def test_linear_every_activation_and_shape(rng, dtype, act, m, k, n):
    x = rng.standard_normal((m, k)).astype(dtype)
    w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    got = checked(fl.linear, x, w, b, act)
    assert_linear(got, x, w, b, act, dtype)
    got = fl.linear(x, w, None, act)
    assert_linear(got, x, w, None, act, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS[1:])
def test_activation_accuracy_over_the_whole_range(dtype, act):
    # y = x exactly: w = [[1]], no bias; every value its own row (softmax over rows of one)
    vals = np.concatenate(
        [
            [0.0, -0.0, 1e-30, -1e-30, 1e-45, 88.0, -88.0, 89.0, -89.0, 1e4, -1e4, 1e30, -1e30],
            [np.inf, -np.inf, np.nan, 700.0, -700.0, 720.0, -750.0],
            np.linspace(-40, 40, 4001),
            np.geomspace(1e-8, 1e3, 500),
            -np.geomspace(1e-8, 1e3, 500),
        ]
    ).astype(dtype)
    x = vals[:, None]
    got = fl.linear(x, np.ones((1, 1), dtype), None, act)[:, 0]
    y = vals.astype(np.float64)
    want = ref_act(y[:, None], act)[:, 0]
    finite = np.isfinite(want)
    assert np.array_equal(np.isnan(got), np.isnan(want)), act
    assert np.array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    # the function evaluated at the exact input: a few ulps of the result, plus what the
    # conditioning |y f'(y)| multiplies the representation of constants such as 1/sqrt(2) by
    scale = np.abs(want) + deriv_scale(y, act) * (1 if act in ("gelu", "gelu_tanh", "tanh") else 0)
    # below the smallest normal number results carry an absolute error (SciPy's erfc and expit
    # even flush to zero there, a few hundred subnormal ulps early)
    tol = 8 * eps(dtype) * scale + np.finfo(dtype).tiny
    with np.errstate(invalid="ignore"):
        err = np.abs(got.astype(np.float64) - want)
    bad = finite & ~(err <= tol)
    assert not bad.any(), f"{act}: {list(zip(vals[bad][:5], got[bad][:5], want[bad][:5]))}"


def test_softmax_rows_stable_for_huge_values():
    x = np.array([[1e4, 0, -1e4], [-1e30, -1e30, -1e30], [88, 89, 90], [np.nan, 0, 1]], np.float32)
    got = fl.linear(x, np.eye(3, dtype=np.float32), None, "softmax")
    want = sp.softmax(x.astype(np.float64), axis=-1)
    np.testing.assert_allclose(got[:3], want[:3], rtol=1e-6, atol=1e-30)
    assert np.isnan(got[3]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_axes_strided_transposed_and_negative_strides(rng, dtype):
    k, n = 24, 40
    base = rng.standard_normal((3, 10, 2 * k)).astype(dtype)
    xs = {
        "3d": base[..., :k],
        "every-other": base[:, :, ::2],
        "negative": base[::-1, ::-2, ::-2],
        "transposed": np.ascontiguousarray(base[..., :k].transpose(2, 1, 0)).transpose(2, 1, 0),
        "fortran": np.asfortranarray(base[0, :, :k]),
        "1d": base[0, 0, :k],
        "uncollapsible": base[:, :4, :k],  # batch axes that do not merge into one stride
    }
    wbase = rng.standard_normal((2 * k, 2 * n)).astype(dtype)
    ws = {"C": np.ascontiguousarray(wbase[:k, :n]), "F": np.asfortranarray(wbase[:k, :n]), "neg": wbase[k - 1 :: -1, ::-2][:, :n]}
    b = rng.standard_normal(2 * n).astype(dtype)[::2]  # strided bias
    for xn, x in xs.items():
        for wn, w in ws.items():
            for act in ("relu", "softmax", "gelu"):
                got = fl.linear(x, w, b, act)
                assert got.shape == x.shape[:-1] + (n,), (xn, wn)
                assert_linear(got, x, w, b, act, dtype)
    # PyTorch's (out, in) layout: the transposed view, no copy
    wt = np.ascontiguousarray(ws["C"].T)
    assert_linear(fl.linear(xs["3d"], wt, b, "silu", weight_layout="out_in"), xs["3d"], wt, b, "silu", dtype, layout="out_in")


def test_leaky_relu_slope_and_out(rng):
    x = rng.standard_normal((9, 5)).astype(np.float32)
    w = rng.standard_normal((5, 6)).astype(np.float32)
    got = fl.linear(x, w, None, "leaky_relu", slope=0.2)
    assert_linear(got, x, w, None, "leaky_relu", np.float32, slope=0.2)
    for out in (np.empty((9, 6), np.float32), np.empty((6, 9), np.float32).T, np.empty((9, 12), np.float32)[:, ::2]):
        r = fl.linear(x, w, None, "leaky_relu", slope=0.2, out=out)
        assert r is out
        np.testing.assert_array_equal(out, got)
    with pytest.raises(TypeError, match="dtype"):
        fl.linear(x, w, out=np.empty((9, 6)))
    with pytest.raises(ValueError, match=r"out has shape \(6, 9\)"):
        fl.linear(x, w, out=np.empty((6, 9), np.float32))
    # out sharing memory with x: as if computed first
    xs = np.zeros((4, 4), np.float32)
    xs[:] = rng.standard_normal((4, 4))
    want = fl.linear(xs, np.eye(4, dtype=np.float32), None, "relu")
    fl.linear(xs, np.eye(4, dtype=np.float32), None, "relu", out=xs)
    np.testing.assert_array_equal(xs, want)


def test_mixed_dtypes_promote(rng):
    x32 = rng.standard_normal((3, 4)).astype(np.float32)
    w64 = rng.standard_normal((4, 2))
    assert fl.linear(x32, w64).dtype == np.float64
    assert fl.linear(x32, w64.astype(np.float32), np.zeros(2)).dtype == np.float64
    assert fl.linear(x32.astype(int), w64.astype(np.float32)).dtype == np.float64
    assert fl.linear(x32, w64.astype(np.float32)).dtype == np.float32


def test_linear_errors():
    x = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'.*'relu'.*'softmax'"):
        fl.linear(x, np.ones((4, 2), np.float32), None, "rleu")
    with pytest.raises(ValueError, match=r"input width 5.*\(3, 4\) and \(5, 2\)"):
        fl.linear(x, np.ones((5, 2), np.float32))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\).*2 outputs"):
        fl.linear(x, np.ones((4, 2), np.float32), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="weight_layout"):
        fl.linear(x, np.ones((4, 2), np.float32), weight_layout="oi")
    with pytest.raises(ValueError, match="2-D"):
        fl.linear(x, np.ones(4, np.float32))


@pytest.mark.parametrize("m", [1, 33, 700])
def test_one_and_two_threads_bit_identical(rng, restore_threads, m):
    x = rng.standard_normal((m, 300)).astype(np.float32)
    w = rng.standard_normal((300, 500)).astype(np.float32)
    b = rng.standard_normal(500).astype(np.float32)
    mlp = fl.MLP([(w, b, "gelu"), (w.T[:, :300], None, "softmax")])
    results = []
    for t in (1, 2):
        fl.set_num_threads(t)
        results.append((fl.linear(x, w, b, "gelu"), fl.linear(x, w, b, "softmax"), mlp(x)))
    for a, c in zip(*results):
        np.testing.assert_array_equal(a, c)


# ---- MLP --------------------------------------------------------------------------------------


def make_layers(rng, sizes, dtype, acts):
    return [
        ((rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype), rng.standard_normal(b).astype(dtype), act)
        for a, b, act in zip(sizes[:-1], sizes[1:], acts)
    ]


def mlp_reference(x, layers):
    h = np.asarray(x, np.float64)
    for w, b, act in layers:
        h = ref_act(h @ w.astype(np.float64) + (0 if b is None else b.astype(np.float64)), act)
    return h


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [(0,), (1,), (7,), (300,), (2, 3, 5), ()])
def test_mlp_matches_layer_by_layer(rng, dtype, batch):
    layers = make_layers(rng, (20, 64, 33, 5), dtype, ("relu", "gelu", "softmax"))
    mlp = fl.MLP(layers)
    x = rng.standard_normal(batch + (20,)).astype(dtype)
    got = checked(mlp, x)
    assert got.shape == batch + (5,) and got.dtype == dtype
    want = mlp_reference(x, layers)
    np.testing.assert_allclose(got, want, rtol=200 * eps(dtype), atol=200 * eps(dtype))
    np.testing.assert_array_equal(mlp.forward(x), got)
    # batch axes that do not merge into one stride, in x and in out=
    if len(batch) == 3:
        xu = rng.standard_normal((2, 5, 5, 20)).astype(dtype)[:, :3]
        ou = np.empty((2, 4, 5, 5), dtype)[:, 1:]
        assert mlp(xu, out=ou) is ou
        np.testing.assert_allclose(ou, mlp_reference(xu, layers), rtol=200 * eps(dtype), atol=200 * eps(dtype))
    # strided and negative-stride input, out=
    xb = rng.standard_normal(batch + (40,)).astype(dtype)[..., ::-2]
    out = np.empty(batch + (5,), dtype)
    assert mlp(xb, out=out) is out
    np.testing.assert_allclose(out, mlp_reference(xb, layers), rtol=200 * eps(dtype), atol=200 * eps(dtype))


def test_mlp_description_and_promotion(rng):
    layers = make_layers(rng, (6, 4, 3), np.float32, ("leaky_relu", None))
    mlp = fl.MLP([layers[0] + (0.3,), layers[1]])
    assert mlp.in_features == 6 and mlp.out_features == 3 and mlp.dtype == np.float32
    assert mlp.layers == [fl.LayerInfo(6, 4, "leaky_relu", 0.3, True), fl.LayerInfo(4, 3, None, 0.01, True)]
    assert "6->4 leaky_relu" in repr(mlp)
    x = rng.standard_normal((5, 6))
    got = mlp(x)  # float64 input to a float32 model: float64
    assert got.dtype == np.float64
    w0, b0, _ = layers[0]
    h = x @ w0.astype(np.float64) + b0
    h = np.where(h < 0, 0.3 * h, h)
    np.testing.assert_allclose(got, h @ layers[1][0].astype(np.float64) + layers[1][1], rtol=1e-12)
    assert fl.MLP([(np.ones((2, 2), np.float32), np.zeros(2), None)]).dtype == np.float64


def test_mlp_weights_are_copied(rng):
    layers = make_layers(rng, (4, 3), np.float32, ("relu",))
    mlp = fl.MLP(layers)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    before = mlp(x)
    layers[0][0][:] = 0
    np.testing.assert_array_equal(mlp(x), before)


def test_state_dict_and_npz_round_trip(rng, tmp_path):
    sizes = (10, 8, 6, 3)
    sd = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        sd[f"{2 * i}.weight"] = rng.standard_normal((b, a)).astype(np.float32)  # (out, in)
        sd[f"{2 * i}.bias"] = rng.standard_normal(b).astype(np.float32)
    mlp = fl.MLP.from_state_dict(sd, activations="relu")
    assert [li.activation for li in mlp.layers] == ["relu", "relu", None]
    x = rng.standard_normal((4, 10)).astype(np.float32)
    layers = [(sd[f"{2 * i}.weight"].T, sd[f"{2 * i}.bias"], a) for i, a in enumerate(["relu", "relu", None])]
    np.testing.assert_allclose(mlp(x), mlp_reference(x, layers), rtol=1e-5, atol=1e-5)
    mlp2 = fl.MLP.from_state_dict(sd, activations=["tanh", "silu", "softmax"])
    assert [li.activation for li in mlp2.layers] == ["tanh", "silu", "softmax"]
    # state_dict() gives PyTorch's layout back
    back = mlp.state_dict()
    assert list(back) == ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    np.testing.assert_array_equal(back["1.weight"], sd["2.weight"])
    path = tmp_path / "model.npz"
    mlp2.save(path)
    loaded = fl.MLP.load(path)
    assert loaded.layers == mlp2.layers
    np.testing.assert_array_equal(loaded(x), mlp2(x))
    with pytest.raises(ValueError, match="activations has 2 entries but the state dict has 3 layers"):
        fl.MLP.from_state_dict(sd, activations=["relu", "relu"])


def test_mlp_errors_name_the_layer(rng):
    ok = make_layers(rng, (5, 4, 3), np.float32, ("relu", None))
    with pytest.raises(ValueError, match="layer 1 has 5 inputs but layer 0 has 4 outputs"):
        fl.MLP([ok[0], (np.ones((5, 3), np.float32), None, None)])
    with pytest.raises(ValueError, match=r"layer 1: unknown activation 'rel'.*valid ones are None, 'relu'"):
        fl.MLP([ok[0], (ok[1][0], ok[1][1], "rel")])
    with pytest.raises(ValueError, match=r"layer 0: the bias has shape \(3,\) but the layer has 4 outputs"):
        fl.MLP([(ok[0][0], np.ones(3, np.float32), "relu"), ok[1]])
    mlp = fl.MLP(ok)
    with pytest.raises(ValueError, match=r"input width 5.*\(2, 6\)"):
        mlp(np.ones((2, 6), np.float32))
    bad = [ok[0], (ok[1][0].copy(), ok[1][1], None)]
    bad[1][0][2, 1] = np.nan
    fl.MLP(bad)  # unchecked by default
    with pytest.raises(ValueError, match=r"layer 1: the weight holds NaN at \(in 2, out 1\)"):
        fl.MLP(bad, check_finite=True)
    with pytest.raises(ValueError, match="at least one layer"):
        fl.MLP([])


def test_concurrent_calls_from_eight_threads(rng, restore_threads):
    fl.set_num_threads(2)
    layers = make_layers(rng, (64, 128, 128, 10), np.float32, ("relu", "gelu", None))
    mlp = fl.MLP(layers)
    xs = [rng.standard_normal((b, 64)).astype(np.float32) for b in (1, 5, 300, 64, 1, 2, 700, 3)]
    want = [mlp(x) for x in xs]
    want_lin = [fl.linear(x, layers[0][0], layers[0][1], "gelu") for x in xs]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(30):
                np.testing.assert_array_equal(mlp(xs[i]), want[i])
                np.testing.assert_array_equal(fl.linear(xs[i], layers[0][0], layers[0][1], "gelu"), want_lin[i])
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_against_torch_if_installed(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((17, 30)).astype(np.float32)
    w = rng.standard_normal((20, 30)).astype(np.float32)  # (out, in)
    b = rng.standard_normal(20).astype(np.float32)
    y = F.linear(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b))
    refs = {
        "relu": F.relu(y), "gelu": F.gelu(y), "gelu_tanh": F.gelu(y, approximate="tanh"), "silu": F.silu(y),
        "sigmoid": torch.sigmoid(y), "tanh": torch.tanh(y), "softmax": F.softmax(y, dim=-1),
    }
    for act, want in refs.items():
        got = fl.linear(x, w, b, act, weight_layout="out_in")
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5, err_msg=act)
