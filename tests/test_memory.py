"""Memory (issue 8): resident memory stays flat over 100000 calls of each function, and a request
too large to allocate raises MemoryError instead of aborting the process."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

import ferrolinalg as fl

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")

CALLS = int(os.environ.get("FERROLINALG_LEAK_CALLS", "100000"))
#: growth allowed over the measured calls: allocator noise, not a leak (a leak of even 16 bytes
#: per call would be 1.6 MB over 100000 calls)
BOUND = 1 << 20


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _calls():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    v = rng.standard_normal(16)
    calls = {
        "matmul": lambda: fl.matmul(a, a),
        "matmul out": lambda out=np.empty((4, 4)): fl.matmul(a, a, out=out),
        "dot": lambda: fl.dot(a, a),
        "vecdot": lambda: fl.vecdot(v, v),
        "vector_norm": lambda: fl.vector_norm(v),
        "matrix_norm": lambda: fl.matrix_norm(a, ord="nuc"),
        "inv": lambda: fl.inv(spd),
        "solve": lambda: fl.solve(spd, a),
        "det": lambda: fl.det(a),
        "slogdet": lambda: fl.slogdet(a),
        "eigh": lambda: fl.eigh(spd),
        "svd": lambda: fl.svd(a),
        "pinv": lambda: fl.pinv(a),
        "qr": lambda: fl.qr(a),
        "cholesky": lambda: fl.cholesky(spd),
        "singular error": lambda: _raises(fl.inv, np.zeros((3, 3))),
        "shape error": lambda: _raises(fl.matmul, a, v[:3]),
    }
    if hasattr(fl, "einsum"):
        calls["einsum"] = lambda: fl.einsum("ij,jk->ik", a, a)
    if hasattr(fl, "linear"):
        calls["linear"] = lambda: fl.linear(a, a, v[:4], "relu")
    return calls


def _raises(fn, *args):
    try:
        fn(*args)
    except (ValueError, np.linalg.LinAlgError):
        return
    raise AssertionError("expected an error")


@pytest.mark.parametrize("name", sorted(_calls()))
def test_resident_memory_stays_flat(name):
    call = _calls()[name]
    for _ in range(CALLS // 10):  # warm-up: caches, pools, first-touch
        call()
    gc.collect()
    before = _rss()
    for _ in range(CALLS):
        call()
    gc.collect()
    grown = _rss() - before
    assert grown < BOUND, f"{name}: resident memory grew by {grown} bytes over {CALLS} calls"


@pytest.mark.parametrize(
    "call",
    [
        lambda: fl.matmul(np.broadcast_to(np.ones(1), (2**20, 1)), np.broadcast_to(np.ones(1), (1, 2**30))),
        lambda: fl.inv(np.broadcast_to(np.eye(2), (2**40, 2, 2))),
        lambda: fl.svd(np.broadcast_to(np.ones(1), (2**21, 2**21))),
        # results that fit, scratch that does not: refused inside the kernels, not aborted
        lambda: fl.svdvals(np.broadcast_to(np.ones(1), (2**21, 2**21)), check_finite=False),
        lambda: fl.eigvalsh(np.broadcast_to(np.ones(1), (2**22, 2**22)), check_finite=False),
        lambda: fl.det(np.broadcast_to(np.ones(1), (2**22, 2**22)), check_finite=False),
    ],
    ids=["matmul 2^50 result", "inv 2^42 result", "svd 2^42 U", "svdvals scratch", "eigvalsh scratch", "det scratch"],
)
def test_an_impossible_allocation_raises_memory_error(call):
    with pytest.raises(MemoryError):
        call()


# ----------------------------------------------------------------------------------------------
# peak memory against the documented workspace (docs/reliability.md)

#: Scratch memory each call needs besides its inputs and results, in elements of one n x n
#: matrix of the input's dtype: the design, as docs/reliability.md documents it.
WORKSPACE = {
    # a copy of A, the eigenvectors before ordering, faer's tridiagonalization + divide and conquer
    "eigh": ("fl.eigh(a)", 4.0),
    "eigvalsh": ("fl.eigvalsh(a)", 2.0),  # a copy of A, faer's workspace
    # a copy of A (its reflectors), the bidiagonal's U and V before the back-transformation,
    # the divide and conquer's merge (bdsdc.rs)
    "svd": ("tuple(fl.svd(a))", 6.0),
    "svdvals": ("fl.svdvals(a)", 2.0),
    "pinv": ("fl.pinv(a)", 6.0),  # the SVD's, and the scaled product
    "inv": ("fl.inv(a)", 2.0),  # the LU factors, faer's inverse workspace
    "solve": ("fl.solve(a, b)", 1.0),  # the LU factors
    "det": ("fl.det(a)", 1.0),
    "qr": ("tuple(fl.qr(a))", 1.0),  # the working copy (reflectors); R and Q are the results
    "cholesky": ("fl.cholesky(a)", 1.0),
    "matmul": ("fl.matmul(a, a)", 1.0),  # faer's packing of the operands
}

_PEAK_CHILD = """
import numpy as np, ferrolinalg as fl
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
n = {n}
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n)); a = a + a.T + 2 * n * np.eye(n)
b = rng.standard_normal((n, 4))
for warm in (fl.eigh, fl.svd, fl.inv, fl.qr, fl.cholesky, fl.det):
    warm(np.eye(4))
open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current RSS
base = status("VmRSS")
r = {call}
peak = status("VmHWM")
results = sum(x.nbytes for x in (r if isinstance(r, tuple) else (r,)) if hasattr(x, "nbytes"))
print((peak - base - results) / (n * n * 8))
"""


@pytest.mark.parametrize("name", sorted(WORKSPACE))
def test_peak_memory_within_documented_workspace(name):
    import subprocess

    call, documented = WORKSPACE[name]
    proc = subprocess.run([sys.executable, "-c", _PEAK_CHILD.format(n=1000, call=call)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    used = float(proc.stdout.strip())
    assert used <= 1.5 * documented, f"{name}: peak scratch {used:.2f} n^2 elements, documented {documented}"
