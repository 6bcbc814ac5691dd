"""Rewrites the benchmark rows of README.md from a `python -m ferrolinalg bench --json` file.

    .venv/bin/python scripts/readme_table.py benches/results/sessionN.json

A row is `| case | ours | peer's time | peer | ratio | <= goal | ok/miss |`; rows whose case is
in the JSON get that run's numbers, every other line is left as it is. Prints what it changed.
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from ferrolinalg._bench.report import format_ratio, format_time  # noqa: E402


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())["cases"]
    readme = Path(__file__).resolve().parents[1] / "README.md"
    lines = readme.read_text().splitlines(keepends=True)
    row = re.compile(r"^\| (?P<case>[^|]+?) \| [^|]+ \| [^|]+ \| (?P<peer>[^|]+?) \| [^|]+ \| <= (?P<goal>[^|]+?) \| (ok|miss) \|$")
    changed = 0
    for i, line in enumerate(lines):
        m = row.match(line.rstrip("\n"))
        if not m or m["case"] not in cases:
            continue
        c = cases[m["case"]]
        if c.get("ratio") is None:
            continue
        new = (
            f"| {m['case']} | {format_time(c['ours']['median_s'])} | {format_time(c['theirs']['median_s'])} | "
            f"{m['peer']} | {format_ratio(c['ratio'])} | <= {c['goal']:g} | {'ok' if c['met'] else 'miss'} |\n"
        )
        if new != line:
            lines[i] = new
            changed += 1
    readme.write_text("".join(lines))
    print(f"{changed} rows updated")


if __name__ == "__main__":
    main()
