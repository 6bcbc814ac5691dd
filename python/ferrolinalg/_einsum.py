"""``einsum``, ``einsum_path``, ``tensordot`` and ``contract_expression``.

Thin wrappers: the native module parses, plans (greedy or optimal order of pairwise
contractions, within an optional memory limit) and runs each pairwise step as one batched
matrix product. Python only handles NumPy's interleaved argument form, builds the subscripts of
``tensordot`` and turns the native "this is a view" answer into a view of the input.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _core
from ._core import ContractExpression

__all__ = ["ContractExpression", "contract_expression", "einsum", "einsum_path", "tensordot"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_as_strided = np.lib.stride_tricks.as_strided
_native_einsum = _core._einsum


def _sublist_term(sublist: Any) -> str:
    """A term of NumPy's interleaved form (``[0, 1, Ellipsis]``) as subscript letters."""
    parts = []
    for s in sublist:
        if s is Ellipsis:
            parts.append("...")
        else:
            try:
                k = operator.index(s)
            except TypeError:
                raise TypeError(f"einsum: subscripts in a sublist must be integers or Ellipsis, not {s!r}") from None
            if not 0 <= k < 52:
                raise ValueError(f"einsum: subscript {k} in a sublist is out of range (0 <= subscript < 52)")
            parts.append(_LETTERS[k])
    return "".join(parts)


def _interleaved(args: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """``(op0, sublist0, op1, sublist1, ..., [sublist_out])`` as (subscripts, operands)."""
    operands = tuple(args[0::2][: len(args) // 2])
    terms = [_sublist_term(s) for s in args[1::2]]
    subscripts = ",".join(terms)
    if len(args) % 2 == 1:
        subscripts += "->" + _sublist_term(args[-1])
    return subscripts, operands


def _finish(result: Any) -> Any:
    """A native result, or the view the native module described."""
    if type(result) is tuple:
        if len(result) == 2:
            return result[0].transpose(result[1])
        return _as_strided(result[0], result[1], result[2])
    return result


def einsum(
    *operands: Any,
    out: np.ndarray | None = None,
    optimize: Any = "greedy",
    memory_limit: int | None = None,
    **kwargs: Any,
) -> Any:
    """``numpy.einsum``: the Einstein summation over ``operands`` described by ``subscripts``.

    ``einsum(subscripts, *operands, out=None, optimize="greedy", memory_limit=None)`` with NumPy's
    whole grammar (``->`` or implicit output, ``...``, repeated labels for diagonals and traces,
    any number of operands), or NumPy's interleaved form ``einsum(op0, [0, 1], op1, [1, 2])``.
    ``optimize`` is ``"greedy"`` / ``True``, ``"optimal"``, ``False`` (left to right) or a path
    from :func:`einsum_path`; ``memory_limit`` bounds the elements of every intermediate (and of
    any scratch copy). Each pairwise step is one batched matrix product. A result that is a
    permutation or diagonal of the single operand is a view of it, as in NumPy.
    """
    if kwargs:
        raise TypeError(f"einsum() got unexpected keyword arguments {sorted(kwargs)}")
    if not operands:
        raise ValueError("einsum: no subscripts given")
    if isinstance(operands[0], str):
        subscripts, ops = operands[0], operands[1:]
    else:
        subscripts, ops = _interleaved(operands)
    return _finish(_native_einsum(subscripts, ops, optimize, out, memory_limit))


def einsum_path(
    *operands: Any, optimize: Any = "greedy", memory_limit: int | None = None, **kwargs: Any
) -> tuple[list[Any], str]:
    """``numpy.einsum_path``: ``(path, report)``, the path as ``["einsum_path", (i, j), ...]``
    (usable as ``einsum(..., optimize=path)``) and a report of its costs like NumPy's."""
    if kwargs:
        raise TypeError(f"einsum_path() got unexpected keyword arguments {sorted(kwargs)}")
    if operands and not isinstance(operands[0], str):
        subscripts, ops = _interleaved(operands)
    else:
        subscripts, ops = operands[0], operands[1:]
    shapes = [np.shape(x) for x in ops]
    path, report, _ = _core._einsum_path(subscripts, shapes, optimize, memory_limit)
    return path, report


def contract_expression(
    subscripts: str, *shapes: Sequence[int], optimize: Any = "greedy", memory_limit: int | None = None
) -> ContractExpression:
    """A contraction planned once for operands of ``shapes``: ``expr(*operands, out=None)``
    runs it with no parsing or planning cost (opt_einsum's ``contract_expression``)."""
    return ContractExpression(subscripts, [tuple(operator.index(d) for d in s) for s in shapes], optimize, memory_limit)


def _axes_list(axes: Any, ndim: int, name: str) -> list[int]:
    try:
        seq = [operator.index(x) for x in axes]
    except TypeError:
        seq = [operator.index(axes)]
    result = []
    for x in seq:
        if not -ndim <= x < ndim:
            raise ValueError(f"tensordot: axis {x} is out of bounds for {name} of dimension {ndim}")
        result.append(x % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"tensordot: repeated axis in {name}'s axes {seq}")
    return result


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """``numpy.tensordot``: the sum of products over ``axes`` (an int ``N``: the last ``N`` axes
    of ``a`` with the first ``N`` of ``b``; or a pair of axis sequences). The result's axes are
    ``a``'s remaining axes followed by ``b``'s. Runs as one batched matrix product."""
    a = a if type(a) is np.ndarray else np.asarray(a)
    b = b if type(b) is np.ndarray else np.asarray(b)
    try:
        axes_a, axes_b = axes
    except TypeError:
        n = operator.index(axes)
        if n < 0:
            raise ValueError(f"tensordot: axes must be non-negative, not {n}") from None
        if n > a.ndim or n > b.ndim:
            raise ValueError(f"shape-mismatch for sum: axes={n} but the operands have shapes {a.shape} and {b.shape}")
        axes_a, axes_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    axes_a = _axes_list(axes_a, a.ndim, "a")
    axes_b = _axes_list(axes_b, b.ndim, "b")
    if len(axes_a) != len(axes_b):
        raise ValueError(f"shape-mismatch for sum: {len(axes_a)} axes of a against {len(axes_b)} axes of b")
    for x, y in zip(axes_a, axes_b):
        if a.shape[x] != b.shape[y]:
            raise ValueError(
                f"shape-mismatch for sum: axis {x} of a has size {a.shape[x]} but axis {y} of b has size {b.shape[y]}"
            )
    nfree = a.ndim + b.ndim - 2 * len(axes_a)
    if a.ndim + b.ndim - len(axes_a) > 52:
        raise ValueError(f"tensordot: {nfree} result axes are more than einsum's 52 labels")
    la = list(_LETTERS[: a.ndim])
    lb = [""] * b.ndim
    for x, y in zip(axes_a, axes_b):
        lb[y] = la[x]
    fresh = iter(_LETTERS[a.ndim :])
    lb = [c or next(fresh) for c in lb]
    contracted = set(axes_a)
    out = [c for i, c in enumerate(la) if i not in contracted] + [c for i, c in enumerate(lb) if i not in set(axes_b)]
    subscripts = "".join(la) + "," + "".join(lb) + "->" + "".join(out)
    result = _finish(_native_einsum(subscripts, (a, b), True, None, None))
    # numpy.tensordot always returns an array (a 0-d one for a full contraction)
    return np.asarray(result) if not isinstance(result, np.ndarray) else result
