"""Concurrent use (issue 8): many Python threads calling mixed functions get right answers and no
deadlock; a process forked while another thread is inside a long call works in the child.

CI runs the mixed-call stress for a few seconds; `FERROLINALG_STRESS_SECONDS=60 pytest
tests/test_stress.py` runs it for a minute (the figure reported in docs/reliability.md).
"""

from __future__ import annotations

import os
import threading
import time
import warnings

import numpy as np
import pytest

import ferrolinalg as fl

SECONDS = float(os.environ.get("FERROLINALG_STRESS_SECONDS", "3"))
THREADS = 16


def _workload(seed: int):
    """(name, call, expected) triples; results are deterministic, so expected is compared exactly."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((40, 24, 24))
    spd = a @ np.swapaxes(a, -1, -2) + 24 * np.eye(24)
    big = rng.standard_normal((300, 300)).astype(np.float32)
    x = rng.standard_normal((200, 64))
    calls = [
        ("matmul batch", lambda: fl.matmul(a, a)),
        ("matmul big f32", lambda: fl.matmul(big, big.T)),
        ("inv", lambda: fl.inv(spd)),
        ("solve", lambda: fl.solve(spd, a)),
        ("eigh", lambda: fl.eigh(spd).eigenvectors),
        ("svdvals", lambda: fl.svdvals(a)),
        ("svd", lambda: fl.svd(x, full_matrices=False).Vh),
        ("norm", lambda: fl.vector_norm(big, axis=1)),
        ("matrix_norm 2", lambda: fl.matrix_norm(a, ord=2)),
        ("qr", lambda: fl.qr(x).R),
        ("cholesky", lambda: fl.cholesky(spd)),
    ]
    for name in ("einsum", "linear"):
        if hasattr(fl, name):
            if name == "einsum":
                calls.append(("einsum", lambda: fl.einsum("bij,bjk->bik", a, a)))
            else:
                w = rng.standard_normal((64, 32))
                calls.append(("linear", lambda: fl.linear(x, w, None, "gelu")))
    return [(name, fn, fn()) for name, fn in calls]


def test_mixed_calls_from_16_threads_stay_right():
    work = _workload(0)
    deadline = time.monotonic() + SECONDS
    errors: list[str] = []
    counts = [0] * THREADS

    def run(t: int) -> None:
        order = np.random.default_rng(t).permutation(len(work))
        i = 0
        while time.monotonic() < deadline and not errors:
            name, fn, want = work[order[i % len(work)]]
            try:
                got = fn()
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(f"thread {t} {name}: {exc!r}")
                return
            if not np.array_equal(got, want):
                errors.append(f"thread {t} {name}: result differs from the single-threaded one")
                return
            counts[t] += 1
            i += 1

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=SECONDS + 120)
    assert not any(th.is_alive() for th in threads), "a thread is stuck (deadlock?)"
    assert not errors, errors[:3]
    assert all(c > 0 for c in counts), counts
    print(f"{sum(counts)} calls from {THREADS} threads in {SECONDS:.0f} s")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_while_another_thread_is_inside_a_long_call():
    a = np.random.default_rng(1).standard_normal((1500, 1500))
    started = threading.Event()
    result: list[np.ndarray] = []

    def busy() -> None:
        started.set()
        for _ in range(3):
            result.append(fl.matmul(a, a))

    th = threading.Thread(target=busy)
    th.start()
    started.wait()
    time.sleep(0.05)  # the other thread is now inside the product, the pool's workers busy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # the child: its copy of the pool has no threads; a fresh pool must take over
        code = 1
        try:
            x = np.arange(64.0).reshape(8, 8)
            ok = np.allclose(fl.matmul(x, x), x @ x)
            b = np.random.default_rng(2).standard_normal((300, 300))
            ok &= np.allclose(fl.matmul(b, b), b @ b)  # large enough to use the threads
            ok &= np.allclose(fl.inv(b) @ b, np.eye(300), atol=1e-8)
            code = 0 if ok else 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            pytest.fail("the forked child did not finish within 60 s (deadlock?)")
        time.sleep(0.02)
    th.join()
    assert os.waitstatus_to_exitcode(status) == 0
    assert np.array_equal(result[0], result[-1])
