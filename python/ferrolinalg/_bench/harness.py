"""How a benchmark case is measured: the method every ratio in the README rests on.

A ratio ours / peer is only worth printing if both sides were measured under the same conditions,
in the same run, on the same inputs, and gave the same answer. So, per case:

1. **Check first.** Both sides run once on every input set and must agree (shape, dtype, values
   within a dtype-appropriate tolerance). A case that disagrees fails loudly and gets no ratio: a
   fast wrong answer must never show up as a win.
2. **Calibrate** once per side how many calls (``inner``) make a timed block of ~30 ms: long enough
   that ``perf_counter``'s resolution and the loop's own overhead vanish, short enough that many
   blocks fit in a run.
3. **Interleave.** For each repeat, time a block of our calls and a block of the peer's calls,
   alternating which goes first. Slow drifts of the machine (frequency scaling, a noisy neighbour
   on a shared host, page-cache state) then hit both sides alike instead of whichever ran last.
   The reported time of a side is the median over repeats of its per-call time (block time /
   ``inner``): the median ignores the odd block hit by an interruption. ratio = median(ours) /
   median(peer).
4. **Warm up every block** with back-to-back calls of the side about to be timed, for at least
   ``warmup_s`` = 0.15 s, then time the block straight after. Two effects, both measured on the
   2-core development VM, make this necessary. NumPy's OpenBLAS worker threads keep busy-spinning
   for ~0.1 s after each call, so whatever runs next shares the cores with them (that made our
   1024x1024 product look 2x slower than it is); after 0.15 s of the other side's calls they are
   asleep. And after any pause the machine runs slow for the first ~50-100 ms of work (a 14.6 ms
   product took 20 ms for its first few calls after a sleep, whichever library had run before),
   so a block timed right after an idle settle measured that ramp, not the steady state a
   program calling in a loop sees. Our own pool's threads linger ~1 ms, far less.
5. **Each side warms up on its own calls**, so the first timed call finds its own worker threads
   awake, as it would in a loop of calls.
6. **Rotate inputs.** A case's setup makes several independent input sets (many for small
   problems, two or three for large ones, bounded in memory); consecutive calls in a block cycle
   through them, so no call finds its operands in cache because the previous call just used the
   very same arrays. Both sides get the same values.
7. **No garbage collection during a block** (``gc.disable``): a collection triggered by the
   allocations of one side must not be charged to it at random.

The per-call time includes the Python call (and the freeing of the result), as a user pays it;
the loop around the calls costs a few tens of nanoseconds per call, on both sides alike.

None of this helps when other processes compete for the cores (a build or a test run next to the
benchmark doubled single ratios on the development machine). So each case also records how many
CPUs *other* processes kept busy meanwhile (``/proc/stat`` minus our own CPU time), and the
report flags cases and runs measured on a busy machine instead of printing them as if clean.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

import ferrolinalg as fl

from .cases import Case, Inputs

__all__ = [
    "CaseResult",
    "MismatchError",
    "Settings",
    "SideResult",
    "CpuSnapshot",
    "calibrate",
    "check_agreement",
    "cpu_model",
    "cpu_snapshot",
    "other_load",
    "machine_info",
    "measure_interleaved",
    "run_case",
]

#: Tolerance of the agreement check by result dtype, relative to the largest |peer| entry.
#: Random normal data is well conditioned; these are far above rounding, far below a real bug.
DEFAULT_RTOL: dict[str, float] = {"float32": 1e-3, "float64": 1e-8}

#: Average CPUs used by other processes above which a measurement is flagged as disturbed.
BUSY_THRESHOLD = 0.15


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure. The defaults give stable ratios in a few minutes."""

    #: Timed blocks per side; the reported time is their median. 15, not fewer: on the shared
    #: 2-core development VM, episodes of host contention slow a block by up to 2x for a second
    #: or so at a time, and a median of 7 still moved the ratios by +-15% from run to run.
    repeats: int = 15
    #: Calibrated duration of a timed block, in seconds.
    target_block_s: float = 0.03
    #: Back-to-back calls before every block, in seconds (see the module docstring, point 4).
    warmup_s: float = 0.15
    #: Upper bound on calls per block (very fast calls would otherwise make huge argument lists).
    max_inner: int = 20_000

    @classmethod
    def quick(cls, repeats: int | None = None) -> Settings:
        """Fewer, shorter blocks: a smoke test, ratios indicative only. The warm-up stays as is:
        it is what keeps the ratios honest, not a luxury."""
        return cls(repeats=repeats or 3, target_block_s=0.008)


class MismatchError(AssertionError):
    """Ours and the peer disagree: the case is broken, not fast."""


@dataclass
class SideResult:
    """The measurements of one side of a case."""

    name: str
    inner: int
    #: Seconds per call, one value per repeat, in the order measured.
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class CaseResult:
    """The outcome of one case: both sides' samples, or why there are none."""

    case: Case
    ours: SideResult | None = None
    peer: SideResult | None = None
    n_inputs: int = 0
    #: Set when the case failed (disagreement or an exception): no ratio then.
    error: str | None = None
    #: Set when the case was not run (a required module is missing).
    skipped: str | None = None
    #: Wall time of the whole case (setup, check, calibration, measurement), in seconds.
    elapsed_s: float = 0.0
    #: CPUs other processes kept busy on average while the case ran (None: unknown, not Linux).
    other_load: float | None = None

    @property
    def disturbed(self) -> bool:
        """Other processes competed for the CPUs while this case was measured."""
        return self.other_load is not None and self.other_load > BUSY_THRESHOLD

    @property
    def ok(self) -> bool:
        """Measured (neither failed nor skipped)."""
        return self.error is None and self.skipped is None and self.ours is not None and self.peer is not None

    @property
    def ratio(self) -> float | None:
        """median(ours) / median(peer); lower is better; None if not measured."""
        if not self.ok:
            return None
        assert self.ours is not None and self.peer is not None
        return self.ours.median / self.peer.median

    @property
    def paired_ratios(self) -> list[float]:
        """Per-repeat ratios (ours_r / peer_r): their spread shows how noisy the ratio is."""
        if not self.ok:
            return []
        assert self.ours is not None and self.peer is not None
        return [o / p for o, p in zip(self.ours.samples, self.peer.samples)]

    @property
    def met(self) -> bool:
        """The goal is met (a failed or skipped case never meets it)."""
        r = self.ratio
        return r is not None and r <= self.case.goal


# ---------------------------------------------------------------------------------------------
# running a case


def run_case(case: Case, settings: Settings) -> CaseResult:
    """Check, calibrate and measure one case. Never raises for a broken case: the result says so."""
    start, load_before = time.perf_counter(), cpu_snapshot()
    result = CaseResult(case)
    missing = case.missing_requirements()
    if missing:
        result.skipped = "needs " + ", ".join(missing)
        return result
    try:
        ours_in, peer_in = case.make_inputs()
        result.n_inputs = len(ours_in)
        check_agreement(case, ours_in, peer_in)
        ours = SideResult("ferrolinalg", calibrate(case.ours, ours_in, settings))
        peer = SideResult(case.peer, calibrate(case.theirs, peer_in, settings))
        measure_interleaved(case.ours, ours_in, ours, case.theirs, peer_in, peer, settings)
        result.ours, result.peer = ours, peer
    except MismatchError as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken case must not stop the others
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        result.elapsed_s = time.perf_counter() - start
        result.other_load = other_load(load_before, cpu_snapshot())
    return result


def check_agreement(case: Case, ours_in: Sequence[Inputs], peer_in: Sequence[Inputs]) -> None:
    """Raise :class:`MismatchError` unless ours and the peer agree on every input set.

    Values are compared with ``np.allclose`` against a tolerance scaled by the largest entry of
    the peer's result (a norm-wise check): entries that happen to be near zero are sums of large
    terms that cancelled, and their relative error says nothing about correctness.
    """
    for i, (o_args, p_args) in enumerate(zip(ours_in, peer_in)):
        got, want = case.ours(*o_args), case.theirs(*p_args)
        if case.compare is not None:
            got, want = case.compare(got), case.compare(want)
        got, want = np.asarray(got), np.asarray(want)
        where = f"case {case.name!r}, input set {i}: ferrolinalg and {case.peer}"
        if got.shape != want.shape:
            raise MismatchError(f"{where} give shapes {got.shape} and {want.shape}")
        if got.dtype != want.dtype:
            raise MismatchError(f"{where} give dtypes {got.dtype} and {want.dtype}")
        rtol = case.rtol if case.rtol is not None else DEFAULT_RTOL.get(want.dtype.name, 1e-8)
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        if not np.allclose(got, want, rtol=rtol, atol=rtol * scale):
            diff = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
            raise MismatchError(
                f"{where} disagree: max |difference| = {diff:.3g} exceeds the tolerance "
                f"{rtol:g} x max |{case.peer}| = {rtol * scale:.3g}"
            )


def calibrate(fn: Callable[..., Any], inputs: Sequence[Inputs], settings: Settings) -> int:
    """Calls per timed block so that a block lasts about ``settings.target_block_s``.

    Grows a trial block until it lasts a quarter of the target (long enough to time reliably),
    times that block twice more and scales from the fastest of the three. The minimum, because
    a stall only ever adds time: on the shared development VM a single 0.2 ms call once took
    16 ms, which calibrated a whole case to one-call blocks. A call slower than the target gets
    blocks of one call.
    """
    _warm_up(fn, inputs, 0, settings.warmup_s)
    n = 1
    while True:
        elapsed = _timed_calls(fn, _arg_sequence(inputs, n, 0))
        if elapsed >= settings.target_block_s / 4 or n >= settings.max_inner:
            break
        grow = settings.target_block_s / 2 / elapsed if elapsed > 0 else 100.0
        n = min(settings.max_inner, max(2 * n, math.ceil(n * grow)))
    seq = _arg_sequence(inputs, n, 0)
    elapsed = min(elapsed, *(_timed_calls(fn, seq) for _ in range(2)))
    per_call = elapsed / n
    return max(1, min(settings.max_inner, round(settings.target_block_s / per_call) if per_call > 0 else 1))


def measure_interleaved(
    ours_fn: Callable[..., Any],
    ours_in: Sequence[Inputs],
    ours: SideResult,
    peer_fn: Callable[..., Any],
    peer_in: Sequence[Inputs],
    peer: SideResult,
    settings: Settings,
) -> None:
    """Append ``settings.repeats`` per-call times to each side, alternating which goes first."""
    sides = [(ours_fn, ours_in, ours), (peer_fn, peer_in, peer)]
    for r in range(settings.repeats):
        for fn, inputs, side in sides if r % 2 == 0 else reversed(sides):
            # start each repeat at a different input set, so that blocks of fewer calls than
            # there are sets still use them all over the run
            elapsed = _block(fn, inputs, side.inner, r * side.inner, settings.warmup_s)
            side.samples.append(elapsed / side.inner)


def _block(fn: Callable[..., Any], inputs: Sequence[Inputs], inner: int, start: int, warmup_s: float) -> float:
    """One timed block: untimed warm-up calls for ``warmup_s``, then ``inner`` timed calls."""
    seq = _arg_sequence(inputs, inner, start)  # built before timing: not charged to the calls
    _warm_up(fn, inputs, start, warmup_s)
    return _timed_calls(fn, seq)


def _timed_calls(fn: Callable[..., Any], seq: Sequence[Inputs]) -> float:
    """Seconds taken by ``fn(*args)`` for each ``args`` in ``seq``, back to back, without gc."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for args in seq:
            fn(*args)
        t1 = time.perf_counter()
    finally:
        if gc_was_enabled:
            gc.enable()
    return t1 - t0


def _arg_sequence(inputs: Sequence[Inputs], n: int, start: int) -> list[Inputs]:
    """``n`` argument tuples cycling through the input sets from ``start``."""
    k = len(inputs)
    return [inputs[(start + i) % k] for i in range(n)]


def _warm_up(fn: Callable[..., Any], inputs: Sequence[Inputs], start: int, seconds: float) -> None:
    """Calls ``fn`` back to back for at least ``seconds`` (and at least once), on the input sets
    before ``start``, so the timed block that follows starts in the steady state (module
    docstring, point 4)."""
    k = len(inputs)
    deadline = time.perf_counter() + seconds
    i = 1
    while True:
        fn(*inputs[(start - i) % k])
        i += 1
        if time.perf_counter() >= deadline:
            break


# ---------------------------------------------------------------------------------------------
# the machine


@dataclass(frozen=True)
class CpuSnapshot:
    """Busy time of all CPUs and of this process at one moment, to tell our load from others'."""

    wall_s: float
    all_busy_s: float
    self_busy_s: float


def cpu_snapshot() -> CpuSnapshot | None:
    """The machine's non-idle CPU time (``/proc/stat``) and ours (all our threads), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
        if fields[0] != "cpu":
            return None
        # user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait
        ticks = [int(x) for x in fields[1:9]]
        busy = sum(ticks) - ticks[3] - ticks[4]
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    t = os.times()
    return CpuSnapshot(time.perf_counter(), busy / hz, t.user + t.system)


def other_load(before: CpuSnapshot | None, after: CpuSnapshot | None) -> float | None:
    """How many CPUs other processes kept busy on average between two snapshots."""
    if before is None or after is None or after.wall_s <= before.wall_s:
        return None
    others = (after.all_busy_s - before.all_busy_s) - (after.self_busy_s - before.self_busy_s)
    return max(0.0, others / (after.wall_s - before.wall_s))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask in a container, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def numpy_blas() -> dict[str, Any]:
    """NumPy's BLAS: name, version and, if threadpoolctl is installed, its thread count."""
    info: dict[str, Any] = {"name": None, "version": None, "threads": None, "architecture": None}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["name"], info["version"] = blas.get("name"), blas.get("version")
    except Exception:  # noqa: BLE001 - older NumPy or a different layout: leave unknown
        pass
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return info
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in str(pool.get("filepath", "")):
            info["threads"] = pool.get("num_threads")
            info["version"] = info["version"] or pool.get("version")
            info["architecture"] = pool.get("architecture")  # the kernel set OpenBLAS picked
            break
    return info


def machine_info() -> dict[str, Any]:
    """What the ratios depend on, recorded with them: versions, threads, CPU, date."""
    return {
        "ferrolinalg_version": fl.__version__,
        "ferrolinalg_threads": fl.get_num_threads(),
        "numpy_version": np.__version__,
        "numpy_blas": numpy_blas(),
        "cpu_model": cpu_model(),
        "cpus": usable_cpus(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
