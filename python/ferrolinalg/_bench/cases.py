"""The registry of benchmark cases, and the default ("Foundation") matrix-product cases.

A case says what is measured (``setup`` makes the inputs, ``ours`` and ``theirs`` are the two
functions), against whom (``peer``) and what counts as good enough (``goal``: the largest
acceptable time ratio ours / peer). How it is measured is the harness's business, not the case's,
so every case is measured the same way.

Later work adds cases from its own module with one call each, e.g. in ``_bench/cases_eigh.py``::

    from .cases import case

    @case("eigh f64 512x512", group="eigh", peer="scipy", goal=1.0,
          ours=fl.eigh, theirs=scipy.linalg.eigh, requires=("scipy",))
    def _eigh_512() -> list[tuple[np.ndarray, ...]]:
        return [(spd_matrix(512, seed),) for seed in range(3)]

and lists that module in :data:`CASE_MODULES`.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import ferrolinalg as fl

__all__ = [
    "CASE_MODULES",
    "Case",
    "Inputs",
    "all_cases",
    "case",
    "c_order_copies",
    "register",
    "rotation_count",
    "rng_for",
    "select",
]

#: One call's positional arguments.
Inputs = tuple[Any, ...]

#: Modules whose import registers cases; later issues append theirs.
CASE_MODULES: list[str] = [
    "ferrolinalg._bench.cases",
    "ferrolinalg._bench.cases_solvers",
    "ferrolinalg._bench.cases_eigh",
    "ferrolinalg._bench.cases_svd",
    "ferrolinalg._bench.cases_einsum",
    "ferrolinalg._bench.cases_dense",
    "ferrolinalg._bench.cases_lowrank",
]

#: Inputs of one case are kept within this many bytes (all rotated sets together, one side).
#: 48 MiB keeps the largest default case (three sets of two 2048x2048 float64 matrices would be
#: 192 MiB, so it gets two) and the whole run far under 1 GiB, while small problems get 16 sets.
SET_BUDGET_BYTES = 48 * 2**20


@dataclass(frozen=True)
class Case:
    """One benchmark: ``ours(*args)`` against ``theirs(*peer_args(args))`` on the same values.

    ``setup`` returns several independent input sets; the harness cycles through them so that no
    side is flattered by finding the previous call's operands in cache. ``peer_args`` (optional)
    maps one of our input sets to the peer's, e.g. C-order copies when we are handed Fortran-order
    or transposed views: the peer is then measured on the layout it is fastest on. It is applied
    once, before timing. ``goal`` is met when median(ours) / median(theirs) <= goal.
    """

    name: str
    group: str
    peer: str
    goal: float
    setup: Callable[[], Sequence[Inputs]]
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    peer_args: Callable[[Inputs], Inputs] | None = None
    #: Relative tolerance of the agreement check; None: by dtype (1e-3 float32, 1e-8 float64).
    rtol: float | None = None
    #: Maps a result (of either side) to the array the agreement check compares, for results
    #: that are not one array or are defined only up to sign (``eigh``'s tuple; the singular
    #: values and the reconstruction ``U diag(S) Vh`` of an SVD); None: the result as is.
    compare: Callable[[Any], Any] | None = None
    #: Modules the case needs (e.g. an optional peer such as "torch"); skipped if one is missing.
    requires: tuple[str, ...] = ()
    #: Which piece of work introduced the case (for the README and the JSON file).
    issue: str = "Foundation"

    def make_inputs(self) -> tuple[list[Inputs], list[Inputs]]:
        """Our input sets and the peer's (the same objects unless ``peer_args`` is given)."""
        ours = [tuple(args) for args in self.setup()]
        if not ours:
            raise ValueError(f"case {self.name!r}: setup returned no input sets")
        theirs = [self.peer_args(args) for args in ours] if self.peer_args else ours
        return ours, theirs

    def missing_requirements(self) -> list[str]:
        """The modules in ``requires`` that cannot be imported here."""
        missing = []
        for module in self.requires:
            try:
                importlib.import_module(module)
            except ImportError:
                missing.append(module)
        return missing


_REGISTRY: dict[str, Case] = {}


def register(new: Case) -> Case:
    """Add a case to the registry. Names are unique: they key the JSON file and the filters."""
    if new.name in _REGISTRY:
        raise ValueError(f"a benchmark case named {new.name!r} is already registered")
    if not new.goal > 0:
        raise ValueError(f"case {new.name!r}: goal must be a positive ratio, not {new.goal!r}")
    _REGISTRY[new.name] = new
    return new


def case(
    name: str, *, group: str, peer: str, goal: float, ours: Callable[..., Any], theirs: Callable[..., Any], **extra: Any
) -> Callable[[Callable[[], Sequence[Inputs]]], Callable[[], Sequence[Inputs]]]:
    """Decorator form of :func:`register`: the decorated function is the case's ``setup``."""

    def decorate(setup: Callable[[], Sequence[Inputs]]) -> Callable[[], Sequence[Inputs]]:
        register(Case(name=name, group=group, peer=peer, goal=goal, setup=setup, ours=ours, theirs=theirs, **extra))
        return setup

    return decorate


def all_cases() -> list[Case]:
    """Every registered case, in registration order (the order of the table)."""
    for module in CASE_MODULES:
        importlib.import_module(module)
    return list(_REGISTRY.values())


def select(filters: Iterable[str] | None = None, groups: Iterable[str] | None = None) -> list[Case]:
    """Cases whose name contains any of ``filters`` (case-insensitive) and, if given, in ``groups``."""
    wanted = [f.lower() for f in filters or ()]
    group_set = set(groups) if groups is not None else None
    return [
        c
        for c in all_cases()
        if (not wanted or any(w in c.name.lower() for w in wanted))
        and (group_set is None or c.group in group_set)
    ]


# ---------------------------------------------------------------------------------------------
# helpers for writing cases


def rng_for(name: str, index: int = 0) -> np.random.Generator:
    """A generator seeded from the case name: the same data on every run, different per case."""
    return np.random.default_rng([zlib.crc32(name.encode()), index])


def rotation_count(bytes_per_set: int, budget: int = SET_BUDGET_BYTES, lo: int = 2, hi: int = 16) -> int:
    """How many input sets to rotate through: as many as fit the budget, between ``lo`` and ``hi``.

    At least two, so that consecutive calls never reuse the operands the previous call just
    pulled into cache (a real program rarely multiplies the same matrices twice in a row).
    """
    return max(lo, min(hi, budget // max(1, bytes_per_set)))


def c_order_copies(args: Inputs) -> Inputs:
    """The peer's inputs for a layout case: C-contiguous copies holding the same values."""
    return tuple(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a for a in args)


def _normal_sets(name: str, shapes: Sequence[tuple[int, ...]], dtype: type[np.floating]) -> list[Inputs]:
    """Independent standard-normal input sets of the given shapes, as many as the budget allows."""
    itemsize = np.dtype(dtype).itemsize
    per_set = sum(int(np.prod(s)) for s in shapes) * itemsize
    sets = []
    for i in range(rotation_count(per_set)):
        rng = rng_for(name, i)
        sets.append(tuple(rng.standard_normal(s, dtype=dtype) for s in shapes))
    return sets


# ---------------------------------------------------------------------------------------------
# the default cases (issue "Foundation"): ferrolinalg.matmul against numpy.matmul

_DTYPES: dict[str, type[np.floating]] = {"f32": np.float32, "f64": np.float64}


def _matmul_case(
    name: str,
    shapes: Sequence[tuple[int, ...]],
    dtype: str,
    goal: float,
    group: str = "matmul",
    layout: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Case:
    """Register ``fl.matmul`` vs ``np.matmul`` on normal data; ``layout`` re-lays our operands."""

    def setup() -> list[Inputs]:
        sets = _normal_sets(name, shapes, _DTYPES[dtype])
        return [tuple(layout(a) for a in s) for s in sets] if layout else sets

    return register(
        Case(
            name=name,
            group=group,
            peer="numpy",
            goal=goal,
            setup=setup,
            ours=fl.matmul,
            theirs=np.matmul,
            peer_args=c_order_copies if layout else None,
        )
    )


def _register_foundation() -> None:
    # large square products: the BLAS's home ground, parity (within noise) is the goal
    for n in (256, 1024, 2048):
        for dt in ("f32", "f64"):
            _matmul_case(f"matmul {dt} {n}x{n}", [(n, n), (n, n)], dt, goal=1.05)
    # small square products: call overhead dominates, we must not be slower
    for n in (8, 64):
        for dt in ("f64", "f32"):
            _matmul_case(f"matmul {dt} {n}x{n}", [(n, n), (n, n)], dt, goal=1.0)
    # strided inputs: no hidden copies, so as fast as NumPy on C-order copies of the same values
    _matmul_case(
        "matmul f64 1024x1024 F-order", [(1024, 1024)] * 2, "f64", goal=1.05, group="matmul-layout",
        layout=np.asfortranarray,
    )
    _matmul_case(
        "matmul f64 1024x1024 transposed", [(1024, 1024)] * 2, "f64", goal=1.05, group="matmul-layout",
        layout=np.transpose,  # a.T of a C-order array: a view, no copy
    )
    # stacks of small matrices: parallel across the stack where NumPy loops over BLAS calls
    for batch, n, goal in ((100_000, 4, 0.5), (10_000, 32, 0.5), (1_000, 128, 0.6)):
        _matmul_case(
            f"matmul f64 batch {batch}x{n}x{n}", [(batch, n, n)] * 2, "f64", goal=goal, group="matmul-batched"
        )
    # matrix-vector product
    _matmul_case("matvec f32 4096x1024", [(4096, 1024), (1024,)], "f32", goal=1.0, group="matvec")


_register_foundation()
