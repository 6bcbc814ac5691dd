"""Benchmark cases of the tensor contractions (issue 5): ``fl.einsum`` against
``numpy.einsum(..., optimize=True)`` (NumPy's own best: its path, with BLAS via ``tensordot``
where a step allows), ``fl.tensordot`` against ``numpy.tensordot``, and a prebuilt
``fl.contract_expression`` against ``numpy.einsum(..., optimize=True)`` on small operands,
where parsing and planning are most of the cost. Where PyTorch is installed, the two largest
einsums also run against ``torch.einsum`` (CPU).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import ferrolinalg as fl

from .cases import Inputs, _normal_sets, case

ISSUE = "5: einsum"

_DT: dict[str, type[np.floating[Any]]] = {"f32": np.float32, "f64": np.float64}


def _einsum_pair(subscripts: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    ours = functools.partial(fl.einsum, subscripts)
    theirs = functools.partial(np.einsum, subscripts, optimize=True)
    return ours, theirs


def _torch_einsum(subscripts: str) -> Callable[..., Any]:
    def run(*ops: np.ndarray) -> Any:
        import torch  # type: ignore[import-not-found]  # optional peer

        return torch.einsum(subscripts, *[torch.from_numpy(o) for o in ops]).numpy()

    return run


def _register(
    name: str,
    subscripts: str,
    shapes: Sequence[tuple[int, ...]],
    dtype: str,
    goal: float,
    operands: Sequence[int] | None = None,
) -> None:
    """A case on random arrays of ``shapes``; ``operands`` (indices into ``shapes``) passes one
    array as several operands, as ``x`` in the quadratic form ``x^T W x``."""
    ours, theirs = _einsum_pair(subscripts)

    def setup() -> list[Inputs]:
        sets = _normal_sets(name, shapes, _DT[dtype])
        return sets if operands is None else [tuple(s[i] for i in operands) for s in sets]

    case(name, group="einsum", peer="numpy", goal=goal, ours=ours, theirs=theirs, issue=ISSUE)(setup)
    case(
        name + " (torch)",
        group="einsum-torch",
        peer="torch",
        goal=goal,
        ours=ours,
        theirs=_torch_einsum(subscripts),
        requires=("torch",),
        issue=ISSUE,
    )(setup)


_register("einsum ijk,kjl->il f64 64x128x256", "ijk,kjl->il", [(64, 128, 256), (256, 128, 64)], "f64", 0.4)
_register("einsum bhqd,bhkd->bhqk f32 8x16x256x64", "bhqd,bhkd->bhqk", [(8, 16, 256, 64)] * 2, "f32", 0.6)
_register(
    "einsum ab,bc,cd,de->ae f64", "ab,bc,cd,de->ae", [(100, 200), (200, 300), (300, 50), (50, 400)], "f64", 0.8
)
# the issue's bilinear form: "512x300 and 300x300", x on both sides (until session 5 the case
# passed an independent third array, a different computation: see the README)
_register("einsum bi,ij,bj->b f64 512x300", "bi,ij,bj->b", [(512, 300), (300, 300)], "f64", 0.6, operands=(0, 1, 0))

_TD_AXES = ([1, 2], [1, 0])


@case(
    "tensordot f64 64x128x256 axes=([1,2],[1,0])",
    group="einsum",
    peer="numpy",
    goal=0.5,
    ours=functools.partial(fl.tensordot, axes=_TD_AXES),
    theirs=functools.partial(np.tensordot, axes=_TD_AXES),
    issue=ISSUE,
)
def _tensordot() -> list[Inputs]:
    return _normal_sets("tensordot f64 64x128x256", [(64, 128, 256), (256, 128, 64)], np.float64)


_SMALL = "ij,jk,kl->il"
_small_expr = fl.contract_expression(_SMALL, (8, 8), (8, 8), (8, 8))


@case(
    "contract_expression ij,jk,kl->il f64 3x 8x8 (cached)",
    group="einsum",
    peer="numpy",
    goal=0.3,
    ours=_small_expr,
    theirs=functools.partial(np.einsum, _SMALL, optimize=True),
    issue=ISSUE,
)
def _small() -> list[Inputs]:
    return _normal_sets("contract_expression 8x8", [(8, 8)] * 3, np.float64)
