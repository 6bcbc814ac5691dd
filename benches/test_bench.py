"""pytest-benchmark suite of every registered case: ferrolinalg against its peer.

The cases are those of ``python -m ferrolinalg bench`` (the registry in
``ferrolinalg._bench.cases`` and the modules it lists); pick a group or case with ``-k``, e.g.
``pytest benches/ --benchmark-only -k svd``. Each case gives two benchmarks, ours and the peer's, in one
``benchmark.group`` (the case's name), so pytest-benchmark's table puts them side by side.

The ratio table of the README comes from ``python -m ferrolinalg bench``, which interleaves the two
sides and settles before every block; this suite gives pytest-benchmark's detailed per-function
statistics (min, quartiles, outliers, saved runs to compare against). Run with::

    pytest benches/ --benchmark-only
    pytest benches/ -q --benchmark-disable      # smoke test: each function once, checked
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from ferrolinalg._bench.cases import Case, Inputs, select
from ferrolinalg._bench.harness import check_agreement

CASES = select()


def _params() -> list[Any]:
    """(case, side) pairs, the two sides of a case next to each other (they share cached inputs)."""
    return [
        pytest.param(case, side, id=f"{case.name.replace(' ', '_')}-{side}")
        for case in CASES
        for side in ("ferrolinalg", case.peer)
    ]


@pytest.mark.parametrize(("case", "side"), _params())
def test_case(
    benchmark: Any, case: Case, side: str, case_inputs: Callable[[Case], tuple[list[Inputs], list[Inputs]]]
) -> None:
    ours_in, peer_in = case_inputs(case)
    if side == "ferrolinalg":
        # a fast wrong answer must not show as a win: check against the peer first
        check_agreement(case, ours_in, peer_in)
        fn, inputs = case.ours, ours_in
    else:
        fn, inputs = case.theirs, peer_in

    benchmark.group = case.name
    benchmark.extra_info.update(goal=case.goal, peer=case.peer, input_sets=len(inputs))
    # consecutive calls rotate through the input sets, as in the CLI (no operands left in cache)
    rotation = itertools.cycle(inputs)
    benchmark(lambda: fn(*next(rotation)))
