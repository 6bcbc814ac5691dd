"""Benchmark cases of issue 6's dense layers: ``fl.linear`` and ``fl.MLP`` against NumPy written
the usual way (``np.maximum(x @ w + b, 0)``; SciPy's ``erf`` for gelu), and against PyTorch's
``torch.nn.functional`` where torch is installed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import ferrolinalg as fl

from .cases import Inputs, case, rng_for, rotation_count

_ISSUE = "6"
_SQRT1_2 = np.float32(1 / math.sqrt(2))


def _layer_sets(name: str, batch: int, n_in: int, n_out: int) -> list[Inputs]:
    """Input sets ``(x, w, b)`` (float32): fresh x per set, the layer's weights scaled as a
    trained layer's (so activations stay in a sensible range)."""
    per_set = (batch * n_in + n_in * n_out + n_out) * 4
    sets: list[Inputs] = []
    for i in range(rotation_count(per_set)):
        rng = rng_for(name, i)
        x = rng.standard_normal((batch, n_in), dtype=np.float32)
        w = rng.standard_normal((n_in, n_out), dtype=np.float32) / np.float32(math.sqrt(n_in))
        b = rng.standard_normal(n_out, dtype=np.float32) * np.float32(0.1)
        sets.append((x, w, b))
    return sets


def _ours_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return fl.linear(x, w, b, "relu")


def _numpy_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(x @ w + b, 0)


def _ours_gelu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return fl.linear(x, w, b, "gelu")


def _numpy_gelu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    import scipy.special  # type: ignore[import-untyped]

    y = x @ w + b
    return 0.5 * y * (1 + scipy.special.erf(y * _SQRT1_2))


def _torch_linear(act: str) -> Any:
    def run(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        import torch  # type: ignore[import-not-found]
        import torch.nn.functional as F  # type: ignore[import-not-found]

        y = F.linear(torch.from_numpy(x), torch.from_numpy(w).T, torch.from_numpy(b))
        return (F.relu(y) if act == "relu" else F.gelu(y)).numpy()

    return run


for _batch, _n_in, _n_out, _goal in ((4096, 1024, 1024, 0.95), (32, 512, 512, 0.6), (1, 784, 512, 0.8)):
    _name = f"linear+relu f32 {_batch}x{_n_in}->{_n_out}"

    def _setup(name: str = _name, shape: tuple[int, int, int] = (_batch, _n_in, _n_out)) -> list[Inputs]:
        return _layer_sets(name, *shape)

    case(_name, group="dense", peer="numpy", goal=_goal, ours=_ours_relu, theirs=_numpy_relu, issue=_ISSUE)(_setup)
    case(
        _name + " (torch)", group="dense", peer="torch", goal=_goal, ours=_ours_relu, theirs=_torch_linear("relu"),
        requires=("torch",), issue=_ISSUE,
    )(_setup)


@case(
    "linear+gelu f32 256x1024->4096", group="dense", peer="numpy+scipy", goal=0.7, ours=_ours_gelu,
    theirs=_numpy_gelu, requires=("scipy",), issue=_ISSUE,
)
def _gelu_setup() -> list[Inputs]:
    return _layer_sets("linear+gelu f32 256x1024->4096", 256, 1024, 4096)


@case(
    "linear+gelu f32 256x1024->4096 (torch)", group="dense", peer="torch", goal=0.7, ours=_ours_gelu,
    theirs=_torch_linear("gelu"), requires=("torch",), issue=_ISSUE,
)
def _gelu_setup_torch() -> list[Inputs]:
    return _layer_sets("linear+gelu f32 256x1024->4096", 256, 1024, 4096)


# ---- a whole MLP: 784-512-512-10 with relu, the model built once, x rotated ----------------

_SIZES = (784, 512, 512, 10)


def _mlp_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = rng_for("mlp 784-512-512-10 weights")
    return [
        (
            rng.standard_normal((a, b), dtype=np.float32) / np.float32(math.sqrt(a)),
            rng.standard_normal(b, dtype=np.float32) * np.float32(0.1),
        )
        for a, b in zip(_SIZES[:-1], _SIZES[1:])
    ]


_MODEL: dict[str, Any] = {}


def _model() -> fl.MLP:
    if "mlp" not in _MODEL:
        ws = _mlp_weights()
        _MODEL["weights"] = ws
        _MODEL["mlp"] = fl.MLP([(w, b, "relu" if i < len(ws) - 1 else None) for i, (w, b) in enumerate(ws)])
    return _MODEL["mlp"]


def _mlp_ours(x: np.ndarray) -> np.ndarray:
    return _model()(x)


def _mlp_numpy(x: np.ndarray) -> np.ndarray:
    _model()
    (w1, b1), (w2, b2), (w3, b3) = _MODEL["weights"]
    h = np.maximum(x @ w1 + b1, 0)
    h = np.maximum(h @ w2 + b2, 0)
    return h @ w3 + b3


for _batch in (1, 256):
    _name = f"MLP 784-512-512-10 relu f32 batch {_batch}"

    @case(_name, group="dense", peer="numpy", goal=0.5, ours=_mlp_ours, theirs=_mlp_numpy, issue=_ISSUE)
    def _mlp_setup(name: str = _name, batch: int = _batch) -> list[Inputs]:
        n = rotation_count(batch * _SIZES[0] * 4)
        return [(rng_for(name, i).standard_normal((batch, _SIZES[0]), dtype=np.float32),) for i in range(n)]
