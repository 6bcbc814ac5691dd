"""``python -m ferrolinalg``: the benchmark against the peers, and a short description of the setup.

    python -m ferrolinalg bench [--filter SUBSTR]... [--repeats N] [--quick]
                                [--json PATH] [--png PATH] [--list] [--check]
    python -m ferrolinalg info

``bench`` is the project's main job: it prints, per case, ferrolinalg's median time, the peer's,
their ratio and whether the goal is met. Exit status: 0; 1 if a case failed (ours and the peer
disagree, or a call raised) or, with ``--check``, if a goal was missed; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _bench(args: argparse.Namespace) -> int:
    """Run the selected cases, print the table, write the files asked for."""
    from ._bench import report
    from ._bench.cases import select
    from ._bench.harness import Settings, machine_info, run_case

    cases = select(args.filter)
    if not cases:
        print(f"no benchmark case matches {args.filter!r}; see --list", file=sys.stderr)
        return 2
    if args.list:
        print(report.list_cases(cases))
        return 0
    if args.png:
        try:
            report.require_matplotlib()  # fail now, not after minutes of measuring
        except report.MissingDependencyError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.repeats is not None and args.repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2
    if args.quick:
        settings = Settings.quick(args.repeats)
    else:
        settings = Settings(repeats=args.repeats) if args.repeats else Settings()

    machine = machine_info()
    table = report.Table(cases)
    print(table.header(), flush=True)
    results = []
    for case in cases:
        result = run_case(case, settings)
        results.append(result)
        print(table.row(result), flush=True)
    print(report.machine_line(machine))
    print(report.summary_line(results, settings))

    if args.json:
        report.write_json(args.json, results, machine, settings)
        print(f"wrote {args.json}")
    if args.png:
        report.write_png(args.png, results, machine, settings)
        print(f"wrote {args.png}")

    failed = [r for r in results if r.error]
    for r in failed:
        print(f"FAILED {r.case.name}: {r.error}", file=sys.stderr)
    if failed:
        return 1
    if args.check and any(r.ok and not r.met for r in results):
        missed = ", ".join(r.case.name for r in results if r.ok and not r.met)
        print(f"goal missed: {missed}", file=sys.stderr)
        return 1
    return 0


def _info(_args: argparse.Namespace) -> int:
    """Version, crates, CPU features, threads, NumPy: what a bug report or a benchmark needs."""
    from . import _core
    from ._bench.harness import machine_info
    from ._bench.report import blas_text

    m = machine_info()
    build = _core._build_info()
    crates = ", ".join(f"{name} {version}" for name, version in sorted(build["crates"].items()))
    env = build["env_num_threads"]
    print(f"ferrolinalg {m['ferrolinalg_version']} ({build['target']}"
          f"{', debug build' if build['debug_build'] else ''})")
    print(f"crates      {crates}")
    print(f"cpu         {m['cpu_model']}")
    print(f"simd        {' '.join(build['cpu_features']) or 'baseline only'} (faer dispatches at run time)")
    print(f"threads     {build['num_threads']} (default {build['default_num_threads']}, "
          f"FERROLINALG_NUM_THREADS={env if env is not None else 'unset'}, {m['cpus']} CPUs usable)")
    print(f"numpy       {m['numpy_version']}{blas_text(m['numpy_blas'])}")
    print(f"python      {m['python']} on {m['platform']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ferrolinalg",
        description="ferrolinalg: benchmarks against NumPy (and later SciPy, scikit-learn, PyTorch), setup info.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{bench,info}")

    bench = sub.add_parser(
        "bench",
        help="time ferrolinalg against its peers and compare with the goals",
        description="Time ferrolinalg against its peer on each case (interleaved, median of repeats) "
        "and print the ratio ours/peer (lower is better) next to the case's goal.",
    )
    bench.add_argument("--filter", action="append", metavar="SUBSTR",
                       help="run only cases whose name contains SUBSTR (case-insensitive; repeatable: any matches)")
    bench.add_argument("--repeats", type=int, metavar="N",
                       help="timed blocks per side; the median is reported (default 15, 3 with --quick)")
    bench.add_argument("--quick", action="store_true",
                       help="fewer repeats and shorter blocks: a smoke test, ratios indicative only")
    bench.add_argument("--json", metavar="PATH", help="write all samples, medians, ratios and machine info to PATH")
    bench.add_argument("--png", metavar="PATH",
                       help="draw a bar chart of the ratios to PATH (needs matplotlib: ferrolinalg[bench])")
    bench.add_argument("--list", action="store_true", help="list the cases and their goals, run nothing")
    bench.add_argument("--check", action="store_true", help="exit with status 1 if any goal is missed")
    bench.set_defaults(func=_bench)

    info = sub.add_parser("info", help="print the version, crates, CPU features, thread settings and NumPy's BLAS")
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
