#!/usr/bin/env python3
"""ferrolinalg's task runner: the one place the README's commands and CI go through.

    python3 tasks.py bench [ARGS...]   set up, build in release mode, run `python -m ferrolinalg bench ARGS`
    python3 tasks.py test              set up, build, run the whole test suite (cargo test + pytest + stubtest)
    python3 tasks.py build             set up and build only
    python3 tasks.py package           build the abi3 wheel and the sdist into dist/, install the
                                       wheel into a fresh virtual environment whose PATH has no
                                       Rust toolchain, and run the test suite against it

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


def package(args: list[str]) -> None:
    import shutil
    import tempfile

    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    setup([])
    run(BIN / "maturin", "build", "--release", "--out", dist)
    run(BIN / "maturin", "sdist", "--out", dist)
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and "abi3" in wheels[0].name, wheels
    assert len(sdists) == 1, sdists
    with tempfile.TemporaryDirectory(prefix="ferrolinalg-wheel-") as tmp:
        env_dir = Path(tmp) / "venv"
        venv.create(env_dir, with_pip=True)
        bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
        py = bin_dir / ("python.exe" if os.name == "nt" else "python")
        test_reqs = [r for r in requirements(["test"]) if not r.startswith("maturin")]
        run(py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheels[0], *test_reqs)
        # no cargo, no rustc: only the new environment and the system's basic tools
        bare_path = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
        env = {"PATH": bare_path, "HOME": tmp, "VIRTUAL_ENV": str(env_dir)}
        assert shutil.which("cargo", path=bare_path) is None, "cargo is on the bare PATH"
        # the tests run from a copy, so `python/` of the source tree cannot be imported instead
        shutil.copytree(ROOT / "tests", Path(tmp) / "tests")
        shutil.copytree(ROOT / "docs", Path(tmp) / "docs")
        shutil.copy(ROOT / "pyproject.toml", Path(tmp) / "pyproject.toml")  # pytest's settings
        shutil.copy(ROOT / "README.md", Path(tmp) / "README.md")  # its tour is a doc test
        subprocess.run([str(py), "-c", "import ferrolinalg, sys; print(ferrolinalg.__file__); "
                        "sys.exit('imported from the source tree') if 'site-packages' not in ferrolinalg.__file__ else None"],
                       cwd=tmp, env=env, check=True)
        subprocess.run([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", *args], cwd=tmp, env=env, check=True)
    print(f"ok: {wheels[0].name} and {sdists[0].name} in dist/; the wheel passes the test suite without Rust")


def main() -> None:
    tasks = {"bench": bench, "test": test, "build": lambda args: setup([]), "package": package}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        sys.exit(__doc__)
    try:
        tasks[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as err:
        sys.exit(err.returncode)


if __name__ == "__main__":
    main()
