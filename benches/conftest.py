"""pytest configuration of the pytest-benchmark suites in benches/.

The suites take their cases from the same registry as ``python -m ferrolinalg bench``
(:mod:`ferrolinalg._bench.cases`), so a case is defined once. What this file adds:

- ``case_inputs``: a case's input sets, made once and shared by the ferrolinalg and peer tests
  of that case (which run next to each other), and only one case's at a time, since the large
  cases hold a few hundred MB.
- a pause before every benchmark, for the reason given in :mod:`ferrolinalg._bench.harness`:
  NumPy's OpenBLAS threads busy-spin for ~0.1 s after its last call and would steal the cores from
  whichever benchmark runs next.
- ferrolinalg's thread count, the CPU model and NumPy's BLAS in pytest-benchmark's machine info,
  so that saved runs (``--benchmark-autosave``) record what their numbers depend on.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ferrolinalg._bench.cases import Case, Inputs, all_cases
from ferrolinalg._bench import harness

InputSets = tuple[list[Inputs], list[Inputs]]


@functools.lru_cache(maxsize=1)
def _inputs_of(name: str) -> InputSets:
    """Our and the peer's input sets of the named case; only the latest case's stay in memory."""
    by_name = {c.name: c for c in all_cases()}
    return by_name[name].make_inputs()


@pytest.fixture
def case_inputs() -> Callable[[Case], InputSets]:
    """``case_inputs(case)`` -> (our input sets, the peer's input sets), cached across the two sides."""
    return lambda case: _inputs_of(case.name)


@pytest.fixture(autouse=True)
def _settle(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let the previous benchmark's worker threads go idle first (not needed when only smoke-testing)."""
    if not request.config.getoption("benchmark_disable", default=False):
        time.sleep(harness.Settings().warmup_s)
    yield


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """Record ferrolinalg's view of the machine next to pytest-benchmark's."""
    machine_info["ferrolinalg"] = harness.machine_info()
