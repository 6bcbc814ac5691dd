"""Ctrl-C during a long native call raises KeyboardInterrupt within a second, and the library
stays usable afterwards (issue 8). Each case runs in a child process that sends itself SIGINT."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to itself")

CHILD = textwrap.dedent(
    """
    import os, signal, threading, time
    import numpy as np
    import ferrolinalg as fl

    a = np.random.default_rng(0).standard_normal(({n}, {n}))
    b = a + a.T
    call = {call}
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        call()
    except KeyboardInterrupt:
        latency = time.perf_counter() - start - 0.3
        # the library is usable at once: small calls answer while the abandoned work finishes
        t0 = time.perf_counter()
        assert np.allclose(fl.matmul(np.eye(3), np.arange(3.0)), np.arange(3.0))
        assert np.allclose(fl.inv(np.diag([2.0, 4.0])), np.diag([0.5, 0.25]))
        small = time.perf_counter() - t0
        print(f"interrupted latency={{latency:.3f}} small={{small:.3f}}")
    else:
        print(f"finished in {{time.perf_counter() - start:.3f}} s without an interrupt")
    """
)

CASES = {
    "svd 4096": (4096, "lambda: fl.svd(a)"),
    "eigh 3000": (3000, "lambda: fl.eigh(b)"),
    "matmul 6000": (6000, "lambda: fl.matmul(a, a)"),
    "batched inv": (64, "lambda: fl.inv(np.broadcast_to(a + 64 * np.eye(64), (200000, 64, 64)))"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ctrl_c_interrupts_a_long_call_within_a_second(name):
    n, call = CASES[name]
    proc = subprocess.run([sys.executable, "-c", CHILD.format(n=n, call=call)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    if out.startswith("finished"):
        pytest.skip(f"{name} finished before the interrupt on this machine: {out}")
    fields = dict(item.split("=") for item in out.split()[1:])
    assert float(fields["latency"]) < 1.0, out
    assert float(fields["small"]) < 1.0, out
