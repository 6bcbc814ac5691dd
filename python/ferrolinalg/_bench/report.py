"""Presenting benchmark results: the aligned text table, the JSON file, the PNG chart.

Only presentation lives here; every number comes from :mod:`.harness`. The table is printed one
row at a time as cases finish (a full run takes minutes), so its column widths are fixed up front
from the selected cases. matplotlib is imported only when a chart is asked for: it is the optional
dependency ``ferrolinalg[bench]``, not a requirement of the library.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from .cases import Case
from .harness import CaseResult, Settings, SideResult

__all__ = [
    "MissingDependencyError",
    "Table",
    "blas_text",
    "format_ratio",
    "format_time",
    "list_cases",
    "machine_line",
    "require_matplotlib",
    "results_to_json",
    "summary_line",
    "write_json",
    "write_png",
]

_UNITS = (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9))


def format_time(seconds: float) -> str:
    """``20.1 ms``, ``812 ns``, ``1.23 s``: three significant digits in the largest fitting unit."""
    if not math.isfinite(seconds) or seconds <= 0:
        return "-"
    unit, scale = next(((u, s) for u, s in _UNITS if seconds >= s), _UNITS[-1])
    value = seconds / scale
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def format_ratio(ratio: float | None) -> str:
    """Two decimals, three below 0.1 (so a big win does not print as 0.03 vs 0.04)."""
    if ratio is None:
        return "-"
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.3f}"


def _status(result: CaseResult) -> str:
    if result.skipped:
        return f"skip ({result.skipped})"
    if result.error:
        return "FAIL"
    status = "ok" if result.met else "MISS"
    if result.disturbed:
        status += f"  (busy machine: others used {result.other_load:.1f} CPU)"
    return status


class Table:
    """The aligned plain-text table of ``bench``, printable row by row."""

    def __init__(self, cases: Sequence[Case]) -> None:
        self.name_width = max([len("case"), *(len(c.name) for c in cases)])
        peers = sorted({c.peer for c in cases})
        #: One peer: its name heads the peer's time column. Several: that column is "peer" and a
        #: "vs" column after the case name says whose time it is.
        self.vs_width = max(len(p) for p in peers) if len(peers) > 1 else 0
        self.peer_header = "peer" if self.vs_width or not peers else peers[0]
        self.time_width = max(11, len(self.peer_header))

    def _start(self, name: str, vs: str) -> str:
        return f"{name:<{self.name_width}}  " + (f"{vs:<{self.vs_width}}  " if self.vs_width else "")

    def header(self) -> str:
        return (
            self._start("case", "vs")
            + f"{'ferrolinalg':>{self.time_width}}  {self.peer_header:>{self.time_width}}  {'ratio':>6}  {'goal':>6}"
        )

    def row(self, result: CaseResult) -> str:
        """One case's line; a failed case gets a second line saying why."""
        ours = format_time(result.ours.median) if result.ours and result.ok else "-"
        peer = format_time(result.peer.median) if result.peer and result.ok else "-"
        line = (
            self._start(result.case.name, result.case.peer)
            + f"{ours:>{self.time_width}}  {peer:>{self.time_width}}  "
            f"{format_ratio(result.ratio):>6}  {'<=' + f'{result.case.goal:.2f}':>6}  {_status(result)}"
        )
        if result.error:
            line += f"\n    ! {result.error}"
        return line


def blas_text(blas: dict[str, Any] | None) -> str:
    """`` (scipy-openblas 0.3.31, 2 threads)``: NumPy's BLAS as far as it is known, or nothing."""
    if not blas or not blas.get("name"):
        return ""
    text = f" ({blas['name']} {blas.get('version') or ''}".rstrip()
    if blas.get("threads") is not None:
        text += f", {blas['threads']} threads"
    return text + ")"


def machine_line(machine: dict[str, Any]) -> str:
    """One line naming the machine and the versions: ratios mean little without it."""
    return (
        f"machine: {machine['cpu_model']}, {machine['cpus']} CPUs; ferrolinalg {machine['ferrolinalg_version']} "
        f"({machine['ferrolinalg_threads']} threads); numpy {machine['numpy_version']}"
        f"{blas_text(machine.get('numpy_blas'))}"
    )


def summary_line(results: Sequence[CaseResult], settings: Settings) -> str:
    """How the numbers were obtained and how many goals were met."""
    measured = [r for r in results if r.ok]
    met = sum(r.met for r in measured)
    failed = sum(r.error is not None for r in results)
    skipped = sum(r.skipped is not None for r in results)
    text = (
        f"median of {settings.repeats} interleaved repeats per side, blocks of ~{settings.target_block_s * 1e3:.0f} ms "
        f"after a {settings.warmup_s:g} s warm-up; ratio = ours/peer, lower is better; "
        f"{met}/{len(measured)} goals met"
    )
    if failed:
        text += f"; {failed} FAILED"
    if skipped:
        text += f"; {skipped} skipped"
    disturbed = sum(r.disturbed for r in measured)
    if disturbed:
        text += (
            f"\nWARNING: other processes competed for the CPUs during {disturbed} case(s) (marked 'busy'): "
            "those ratios are unreliable; rerun on an idle machine"
        )
    return text


def list_cases(cases: Sequence[Case]) -> str:
    """The ``--list`` output: name, group, peer and goal of each case."""
    w = max([len("case"), *(len(c.name) for c in cases)])
    g = max([len("group"), *(len(c.group) for c in cases)])
    lines = [f"{'case':<{w}}  {'group':<{g}}  {'peer':<8}  goal"]
    lines += [f"{c.name:<{w}}  {c.group:<{g}}  {c.peer:<8}  <={c.goal:.2f}" for c in cases]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# JSON


def _side_json(side: SideResult | None) -> dict[str, Any] | None:
    if side is None or not side.samples:
        return None
    return {
        "name": side.name,
        "median_s": side.median,
        "min_s": min(side.samples),
        "inner": side.inner,
        "samples_s": side.samples,
    }


def results_to_json(results: Sequence[CaseResult], machine: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Everything needed to redo the table or the chart later: samples, not just medians."""
    cases: dict[str, Any] = {}
    for r in results:
        paired = r.paired_ratios
        cases[r.case.name] = {
            "name": r.case.name,
            "group": r.case.group,
            "issue": r.case.issue,
            "peer": r.case.peer,
            "goal": r.case.goal,
            "ratio": r.ratio,
            "met": r.met,
            "ours": _side_json(r.ours),
            "theirs": _side_json(r.peer),
            # other estimators of the same ratio, to judge its noise (the table uses "ratio"):
            # per-repeat ratios of the interleaved pairs, and the ratio of the fastest blocks
            "paired_ratio_median": statistics.median(paired) if paired else None,
            "paired_ratio_min": min(paired) if paired else None,
            "paired_ratio_max": max(paired) if paired else None,
            "ratio_of_min": min(r.ours.samples) / min(r.peer.samples) if r.ok and r.ours and r.peer else None,
            "input_sets": r.n_inputs,
            "error": r.error,
            "skipped": r.skipped,
            "elapsed_s": r.elapsed_s,
            "other_cpu_load": r.other_load,
        }
    return {"machine": machine, "settings": asdict(settings), "cases": cases}


def write_json(
    path: str | os.PathLike[str], results: Sequence[CaseResult], machine: dict[str, Any], settings: Settings
) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results_to_json(results, machine, settings), f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# PNG


class MissingDependencyError(RuntimeError):
    """An optional dependency of the benchmark tooling is not installed."""


def require_matplotlib() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or a clear error saying what to install.

    Called before the measurements start, so a missing matplotlib does not waste a long run.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingDependencyError(
            "--png needs matplotlib, an optional dependency: pip install 'ferrolinalg[bench]'"
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_png(
    path: str | os.PathLike[str], results: Sequence[CaseResult], machine: dict[str, Any], settings: Settings
) -> None:
    """Horizontal bars of ratio per case on a log axis, drawn from parity (1.0) so that bars to
    the left are wins; a black tick marks each case's goal; green met, red missed."""
    plt = require_matplotlib()
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    shown = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    rows = shown + failed
    if not rows:
        raise ValueError("no results to chart")
    height = 1.6 + 0.36 * len(rows)
    fig, ax = plt.subplots(figsize=(9.0, height))
    ys = range(len(rows))
    for y, r in zip(ys, rows):
        goal = r.case.goal
        ax.plot([goal, goal], [y - 0.42, y + 0.42], color="black", linewidth=2, zorder=3)
        if r.ratio is None:
            ax.text(1.0, y, "  failed" if r.error else "  skipped", va="center", fontsize=8, color="firebrick")
            continue
        color = "#2e8b57" if r.met else "#c0392b"
        ax.barh(y, r.ratio - 1.0, left=1.0, height=0.6, color=color, zorder=2)
        # the label where neither the bar nor the goal tick hides it: beyond both, or, for a bar
        # left of 1 with the goal further left, inside the bar at its end
        label = f" {format_ratio(r.ratio)} "
        if r.ratio >= 1.0:
            ax.text(max(r.ratio, goal), y, label, va="center", ha="left", fontsize=8)
        elif goal < r.ratio:
            ax.text(r.ratio, y, label, va="center", ha="left", fontsize=8, color="white")
        else:
            ax.text(r.ratio, y, label, va="center", ha="right", fontsize=8)

    ax.set_xscale("log")
    values = [r.ratio for r in shown if r.ratio] + [r.case.goal for r in rows] + [1.0]
    lo, hi = min(values) / 1.6, max(values) * 1.6
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="dimgray", linewidth=1, zorder=1)
    mixed = len({r.case.peer for r in rows}) > 1
    labels = [f"{r.case.name} (vs {r.case.peer})" if mixed else r.case.name for r in rows]
    ax.set_yticks(list(ys), labels, fontsize=8)
    ax.invert_yaxis()  # registry order from the top, as in the table
    ax.grid(axis="x", color="0.9", zorder=0)
    ax.set_xlabel("time ratio ferrolinalg / peer  (log scale; < 1: ferrolinalg faster; black tick: goal)")
    peers = ", ".join(sorted({r.case.peer for r in rows}))
    ax.set_title(f"ferrolinalg vs {peers}", fontsize=11)
    fig.text(0.01, 0.005, machine_line(machine) + f"; {machine['date']}\n" + summary_line(results, settings),
             fontsize=6.5, color="0.35", va="bottom")
    fig.tight_layout(rect=(0, 0.32 / height, 1, 1))  # leave ~0.3 inch for the two footer lines
    fig.savefig(path, dpi=130)
    plt.close(fig)
