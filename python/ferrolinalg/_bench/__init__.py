"""The benchmark harness behind ``python -m ferrolinalg bench`` and the suites in ``benches/``.

- :mod:`.cases`: the registry of benchmark cases (what is measured, against which peer, the goal).
- :mod:`.harness`: how a case is measured (interleaved, warmed up, rotated inputs, checked first).
- :mod:`.report`: the plain-text table, the JSON file and the optional PNG chart.

Not public API: the command line is the interface. Only NumPy is needed; the chart needs
matplotlib (``pip install 'ferrolinalg[bench]'``).
"""

from __future__ import annotations

from .cases import Case, all_cases, register, select
from .harness import CaseResult, MismatchError, Settings, machine_info, run_case

__all__ = [
    "Case",
    "CaseResult",
    "MismatchError",
    "Settings",
    "all_cases",
    "machine_info",
    "register",
    "run_case",
    "select",
]
