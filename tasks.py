#!/usr/bin/env python3
"""ferrolinalg's task runner: the one place the README's commands and CI go through.

    python3 tasks.py bench [ARGS...]   set up, build in release mode, run `python -m ferrolinalg bench ARGS`
    python3 tasks.py test              set up, build, run the whole test suite (cargo test + pytest + stubtest)
    python3 tasks.py build             set up and build only

Set-up makes a virtual environment in .venv with the running Python, installs into it what
pyproject.toml lists (maturin, the runtime dependencies and the extras the task needs), and
builds the extension into it with `maturin develop --release`. Nothing is installed outside .venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, env=env)


def requirements(extras: list[str]) -> list[str]:
    """maturin, the runtime dependencies and the given extras, as pyproject.toml pins them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(project["build-system"]["requires"]) + list(project["project"]["dependencies"])
    for extra in extras:
        reqs += project["project"]["optional-dependencies"][extra]
    return reqs


def setup(extras: list[str]) -> None:
    if not PYTHON.exists():
        print(f"+ creating {VENV.name} with {sys.executable}", flush=True)
        venv.create(VENV, with_pip=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements(extras))
    env = dict(os.environ, VIRTUAL_ENV=str(VENV), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    run(BIN / "maturin", "develop", "--release", "--quiet", env=env)


def bench(args: list[str]) -> None:
    setup(["bench"])
    run(PYTHON, "-m", "ferrolinalg", "bench", *args)


def test(args: list[str]) -> None:
    setup(["test"])
    run("cargo", "test", "--locked", "-p", "ferrolinalg-kernels")
    run(PYTHON, "-m", "pytest", *args)
    # the typed stubs must match the native module
    run(PYTHON, "-m", "mypy.stubtest", "ferrolinalg._core", "--allowlist", ROOT / "python" / "stubtest-allowlist.txt")


def main() -> None:
    tasks = {"bench": bench, "test": test, "build": lambda args: setup([])}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        sys.exit(__doc__)
    try:
        tasks[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as err:
        sys.exit(err.returncode)


if __name__ == "__main__":
    main()
