"""Dense layers: ``linear`` (fused ``activation(x @ w + b)``) and ``MLP``, a stack of them run
in one native call. Validation happens in Rust; this module only shapes the arguments."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._core import _Mlp
from ._core import linear as linear

__all__ = ["MLP", "LayerInfo", "linear"]


class LayerInfo(NamedTuple):
    """One layer of an :class:`MLP`."""

    in_features: int
    out_features: int
    activation: str | None
    slope: float
    has_bias: bool


def _layer_spec(i: int, layer: Sequence[Any]) -> tuple[Any, Any, str | None, float]:
    if not isinstance(layer, (tuple, list)) or not 1 <= len(layer) <= 4:
        raise TypeError(f"layer {i}: expected a tuple (w, b, activation[, slope]), got {type(layer).__name__}")
    w = layer[0]
    b = layer[1] if len(layer) > 1 else None
    act = layer[2] if len(layer) > 2 else None
    slope = float(layer[3]) if len(layer) > 3 else 0.01
    if act is not None and not isinstance(act, str):
        raise TypeError(f"layer {i}: the activation must be a name or None, not {type(act).__name__}")
    return w, b, act, slope


class MLP:
    """A multilayer perceptron: ``MLP([(w1, b1, "relu"), (w2, b2, None)])``.

    Each layer computes ``activation(x @ w + b)``; ``w`` is ``(in, out)``, or ``(out, in)`` with
    ``weight_layout="out_in"`` (PyTorch's ``nn.Linear``). The weights are copied once, into the
    layout the matrix product is fastest with, so later changes to the arrays do not affect the
    model. A layer may be ``(w, b, activation, slope)`` for ``"leaky_relu"``'s slope.

    ``mlp(x)`` / ``mlp.forward(x, out=None)`` run every layer in one native call (GIL released,
    scratch memory reused across calls, safe from several threads at once). The model is float32
    if every array is float32, else float64; a float64 input to a float32 model gives float64.
    ``check_finite=True`` raises ``ValueError`` naming the first layer holding NaN or inf.
    """

    __slots__ = ("_native", "forward")

    def __init__(
        self,
        layers: Iterable[Sequence[Any]],
        *,
        weight_layout: str = "in_out",
        check_finite: bool = False,
    ) -> None:
        specs = [_layer_spec(i, layer) for i, layer in enumerate(layers)]
        self._native = _Mlp(specs, weight_layout)
        if check_finite:
            self._native.check_finite()
        #: ``forward(x, out=None)``: the native method itself (no Python frame per call).
        self.forward = self._native.forward

    def __call__(self, x: Any, out: np.ndarray | None = None) -> np.ndarray:
        return self._native.forward(x, out)

    # -- construction from saved weights ---------------------------------------------------

    @classmethod
    def from_state_dict(
        cls,
        state_dict: Mapping[str, Any],
        activations: str | Sequence[str | None] | None = "relu",
        *,
        weight_layout: str = "out_in",
        check_finite: bool = False,
    ) -> MLP:
        """A model from a PyTorch-style state dict of NumPy arrays (``{"0.weight": w0,
        "0.bias": b0, "2.weight": ...}``, as ``{k: v.numpy() for k, v in
        model.state_dict().items()}`` gives for an ``nn.Sequential`` of ``nn.Linear`` layers).

        Layers are the keys ending in ``.weight``, in the dict's order; each takes the
        ``.bias`` of the same prefix if there is one. ``activations`` is one name per layer, or a
        single name for every layer but the last (which then has none), or None. The weights
        are ``(out, in)`` unless ``weight_layout="in_out"``.
        """
        weights = [k for k in state_dict if k.endswith(".weight")]
        if not weights:
            raise ValueError("the state dict has no '<name>.weight' entries")
        n = len(weights)
        if activations is None or isinstance(activations, str):
            acts: list[str | None] = [activations] * (n - 1) + [None]
        else:
            acts = list(activations)
            if len(acts) != n:
                raise ValueError(f"activations has {len(acts)} entries but the state dict has {n} layers")
        layers = []
        for key, act in zip(weights, acts):
            prefix = key[: -len(".weight")]
            layers.append((state_dict[key], state_dict.get(prefix + ".bias"), act))
        return cls(layers, weight_layout=weight_layout, check_finite=check_finite)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights as a PyTorch-style state dict (``"i.weight"`` is ``(out, in)``)."""
        d: dict[str, np.ndarray] = {}
        for i in range(len(self.layers)):
            w, b = self._native.layer_arrays(i)
            d[f"{i}.weight"] = np.ascontiguousarray(w.T)
            if b is not None:
                d[f"{i}.bias"] = b
        return d

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the weights and activations to an ``.npz`` file (no pickles)."""
        info = self.layers
        arrays: dict[str, Any] = dict(self.state_dict())
        arrays["__activations__"] = np.array([layer.activation or "" for layer in info])
        arrays["__slopes__"] = np.array([layer.slope for layer in info])
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, check_finite: bool = False) -> MLP:
        """A model saved by :meth:`save` (or any ``.npz`` of a PyTorch-style state dict, with
        ``__activations__`` naming each layer's activation, "" for none)."""
        with np.load(path, allow_pickle=False) as f:
            d = {k: f[k] for k in f.files}
        acts = [str(a) or None for a in d.pop("__activations__", [])]
        slopes = [float(s) for s in d.pop("__slopes__", [])]
        keys = sorted((k for k in d if k.endswith(".weight")), key=_layer_order)
        if acts and len(acts) != len(keys):
            raise ValueError(f"{path}: {len(acts)} activations for {len(keys)} layers")
        layers = []
        for i, key in enumerate(keys):
            prefix = key[: -len(".weight")]
            act = acts[i] if acts else None
            slope = slopes[i] if i < len(slopes) else 0.01
            layers.append((d[key], d.get(prefix + ".bias"), act, slope))
        return cls(layers, weight_layout="out_in", check_finite=check_finite)

    # -- description -----------------------------------------------------------------------

    @property
    def layers(self) -> list[LayerInfo]:
        """``LayerInfo(in_features, out_features, activation, slope, has_bias)`` per layer."""
        return [LayerInfo(*t) for t in self._native.layer_info()]

    @property
    def in_features(self) -> int:
        return int(self._native.layer_info()[0][0])

    @property
    def out_features(self) -> int:
        return int(self._native.layer_info()[-1][1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._native.dtype)

    def __repr__(self) -> str:
        parts = [f"{li.in_features}->{li.out_features}" + (f" {li.activation}" if li.activation else "") for li in self.layers]
        return f"MLP({', '.join(parts)}; {self._native.dtype})"


def _layer_order(key: str) -> tuple[int, str]:
    """Sort key of a state-dict entry: its first number (the layer index), then the name."""
    m = re.search(r"\d+", key)
    return (int(m.group()) if m else -1, key)
