"""ferrolinalg inside the tools pipelines already use: threadpoolctl, the `info` report."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ferrolinalg as fl

threadpoolctl = pytest.importorskip("threadpoolctl")


def _ours(info: list[dict]) -> list[dict]:
    return [entry for entry in info if entry["user_api"] == "ferrolinalg"]


def test_threadpool_info_lists_ferrolinalg_once_with_its_thread_count():
    with fl.threads(2):
        ours = _ours(threadpoolctl.threadpool_info())
    assert len(ours) == 1, ours
    assert ours[0]["num_threads"] == 2
    assert ours[0]["version"] == fl.__version__
    assert "_core" in ours[0]["filepath"]


def test_threadpool_limits_limits_ferrolinalg_and_restores_it():
    with fl.threads(2):
        with threadpoolctl.threadpool_limits(limits=1):
            assert fl.get_num_threads() == 1
            # the kernels still give right answers at the limited count
            a = np.arange(12.0).reshape(3, 4)
            np.testing.assert_allclose(fl.matmul(a, a.T), a @ a.T)
        assert fl.get_num_threads() == 2
        with threadpoolctl.threadpool_limits(limits=1, user_api="ferrolinalg"):
            assert fl.get_num_threads() == 1
        assert fl.get_num_threads() == 2
        # limiting BLAS alone leaves ferrolinalg alone
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            assert fl.get_num_threads() == 2


def test_threadpool_controller_wraps_ferrolinalg():
    controller = threadpoolctl.ThreadpoolController()
    ours = controller.select(user_api="ferrolinalg")
    assert len(ours.lib_controllers) == 1
    with fl.threads(2), ours.limit(limits=1):
        assert fl.get_num_threads() == 1


def test_build_info_names_crates_features_and_threads():
    info = fl._core._build_info()
    for crate in ("faer", "rayon", "pyo3", "numpy"):
        assert info["crates"][crate].count(".") == 2, info["crates"]
    assert isinstance(info["cpu_features"], list)
    with fl.threads(3):
        assert fl._core._build_info()["num_threads"] == 3


def test_info_command_prints_version_crates_and_threads():
    out = subprocess.run([sys.executable, "-m", "ferrolinalg", "info"], capture_output=True, text=True,
                         check=True, env={"FERROLINALG_NUM_THREADS": "1", "PATH": ""}).stdout
    assert f"ferrolinalg {fl.__version__}" in out
    assert "faer " in out and "rayon " in out
    assert "threads     1 (default 1, FERROLINALG_NUM_THREADS=1" in out, out
