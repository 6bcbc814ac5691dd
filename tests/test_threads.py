"""Thread settings (``get_num_threads``, ``set_num_threads``, ``threads``, the
``FERROLINALG_NUM_THREADS`` environment variable), results independent of the thread count, calls
from many Python threads at once, and use in a forked child after the parent used the pool."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, assert_matmul_close, assert_norm_close, assert_product_close, checked, randn

pytestmark = pytest.mark.usefixtures("restore_threads")


# --------------------------------------------------------------------------------------------
# settings


def test_set_and_get():
    """set_num_threads(n) is what get_num_threads() returns next, for 1, 2 and more threads than
    cores; the count is a positive int."""
    assert isinstance(fl.get_num_threads(), int) and fl.get_num_threads() >= 1
    for n in (1, 2, 3, 1, 8):
        fl.set_num_threads(n)
        assert fl.get_num_threads() == n


@pytest.mark.parametrize("bad", [0, -1, -100])
def test_set_num_threads_rejects_below_one(bad):
    """n < 1 raises ValueError and leaves the count as it was."""
    fl.set_num_threads(3)
    with pytest.raises(ValueError):
        fl.set_num_threads(bad)
    assert fl.get_num_threads() == 3


def test_threads_context_restores():
    """with fl.threads(n) sets n inside the block and restores the previous count after it,
    also when nested."""
    fl.set_num_threads(2)
    with fl.threads(1):
        assert fl.get_num_threads() == 1
        with fl.threads(3):
            assert fl.get_num_threads() == 3
        assert fl.get_num_threads() == 1
    assert fl.get_num_threads() == 2


def test_threads_context_restores_on_exception():
    """The previous count comes back when the block raises, and the exception propagates."""
    fl.set_num_threads(2)
    with pytest.raises(KeyError):
        with fl.threads(1):
            assert fl.get_num_threads() == 1
            raise KeyError("boom")
    assert fl.get_num_threads() == 2


def test_threads_context_rejects_below_one():
    """fl.threads(0) raises ValueError and changes nothing."""
    fl.set_num_threads(2)
    with pytest.raises(ValueError):
        with fl.threads(0):
            pass
    assert fl.get_num_threads() == 2


def _run_child(code: str, env_value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FERROLINALG_NUM_THREADS"}
    if env_value is not None:
        env["FERROLINALG_NUM_THREADS"] = env_value
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )


_CHILD_CODE = """
import numpy as np, ferrolinalg as fl
n = fl.get_num_threads()
a = np.arange(300 * 300, dtype=np.float64).reshape(300, 300) % 7
c = fl.matmul(a, a)
assert np.array_equal(c, a @ a), "matmul wrong in the child"
print(n)
"""


@pytest.mark.parametrize("value", ["1", "3"])
def test_environment_variable_sets_initial_count(value):
    """FERROLINALG_NUM_THREADS sets the initial thread count of a new process (and a product
    large enough for threads works with it)."""
    done = _run_child(_CHILD_CODE, value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == value


def test_default_count_without_environment_variable():
    """Without the environment variable the count is a positive default, at most the CPUs this
    process may use."""
    done = _run_child(_CHILD_CODE, None)
    assert done.returncode == 0, done.stderr
    n = int(done.stdout.strip())
    assert 1 <= n <= len(os.sched_getaffinity(0))


# --------------------------------------------------------------------------------------------
# results do not depend on the thread count


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [
        ((64, 8, 8), (64, 8, 8)),  # many tiny products: batch-parallel
        ((16, 33, 47), (16, 47, 29)),
        ((7, 1, 20, 30), (5, 30, 10)),  # broadcast batch
        ((3, 130, 140), (3, 140, 150)),  # a few large products: each split across threads
        ((2, 300, 200), (200, 250)),
        ((1, 257, 129), (1, 129, 65)),
        ((20, 2000), (2000, 200)),  # split by rows of C^T: each half below the packed kernel's 128
    ],
    ids=str,
)
def test_batched_matmul_bit_identical_for_1_and_2_threads(rng, dtype, shapes):
    """A batched product is bit-for-bit the same with 1 and with 2 threads (and correct), in C and
    transposed layouts."""
    a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
    for va, vb in ((a, b), (np.swapaxes(np.swapaxes(a, -1, -2).copy(), -1, -2), b[..., ::-1, :])):
        fl.set_num_threads(1)
        one = checked(fl.matmul, va, vb)
        fl.set_num_threads(2)
        two = checked(fl.matmul, va, vb)
        assert_matmul_close(two, va, vb)
        assert np.array_equal(one, two), f"max difference {np.max(np.abs(one - two))}"


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_results_correct_for_any_thread_count(rng, n):
    """With 1 to 4 threads (more than this machine's cores too), threaded products, batched
    products and large norms are right."""
    fl.set_num_threads(n)
    a, b = randn(rng, (257, 300), np.float64), randn(rng, (300, 129), np.float32)
    sa, sb = randn(rng, (100, 9, 13), np.float32), randn(rng, (13, 11), np.float32)
    assert_matmul_close(checked(fl.matmul, a, b), a, b)
    assert_matmul_close(checked(fl.matmul, np.asfortranarray(a), b[::-1][::-1]), a, b)
    assert_matmul_close(checked(fl.matmul, sa, sb), sa, sb)
    x = randn(rng, (600, 500), np.float64)
    assert_norm_close(checked(fl.vector_norm, x, axis=0), np.linalg.vector_norm(x, axis=0), np.float64, 600)
    assert_norm_close(checked(fl.vector_norm, x), np.linalg.vector_norm(x), np.float64, x.size)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_norms_bit_identical_for_1_and_2_threads(rng, dtype):
    """Norms of inputs large enough to be reduced on several threads are bit-for-bit the same
    with 1 and with 2 threads (the reduction's chunks do not depend on the thread count)."""
    x = randn(rng, (700, 400), dtype)
    calls = [
        (fl.vector_norm, {}),
        (fl.vector_norm, {"axis": 0}),
        (fl.vector_norm, {"axis": 1, "ord": 3}),
        (fl.vector_norm, {"ord": 1}),
        (fl.matrix_norm, {}),
        (fl.matrix_norm, {"ord": 1}),
    ]
    for fn, kwargs in calls:
        fl.set_num_threads(1)
        one = checked(fn, x, **kwargs)
        fl.set_num_threads(2)
        two = checked(fn, x, **kwargs)
        assert np.array_equal(one, two), (fn.__name__, kwargs)


# --------------------------------------------------------------------------------------------
# many Python threads at once


def _workload(rng):
    """(name, function, args, kwargs) calls mixing large (threaded) and small products and norms."""
    calls = []
    for dtype in FLOAT_DTYPES:
        big_a, big_b = randn(rng, (160, 150), dtype), randn(rng, (150, 170), dtype)
        batch_a, batch_b = randn(rng, (40, 9, 11), dtype), randn(rng, (40, 11, 7), dtype)
        x = randn(rng, (50, 60), dtype)
        x_big = randn(rng, (600, 500), dtype)  # large enough for a threaded reduction
        # large enough for the packed kernel with A's copy shared by the threads (one buffer is
        # kept for it between calls: two sizes, so callers race to grow and reuse it)
        shared_a, shared_b = randn(rng, (520, 300), dtype), randn(rng, (300, 540), dtype)
        shared_a2, shared_b2 = randn(rng, (600, 280), dtype), randn(rng, (280, 530), dtype)
        calls += [
            ("vector_norm big", fl.vector_norm, (x_big,), {}),
            ("vector_norm big axis 0", fl.vector_norm, (x_big,), {"axis": 0}),
            ("matmul big", fl.matmul, (big_a, big_b), {}),
            ("matmul big F", fl.matmul, (np.asfortranarray(big_a), big_b[::-1]), {}),
            ("matmul batch", fl.matmul, (batch_a, batch_b), {}),
            ("matmul shared A", fl.matmul, (shared_a, shared_b), {}),
            ("matmul shared A other size", fl.matmul, (shared_a2, shared_b2), {}),
            ("matmul small", fl.matmul, (x[:3, :4], x[:4, :5]), {}),
            ("dot", fl.dot, (x, x.T), {}),
            ("vecdot", fl.vecdot, (x, x), {}),
            ("vector_norm", fl.vector_norm, (x,), {"axis": 1}),
            ("vector_norm p", fl.vector_norm, (x,), {"ord": 3}),
            ("matrix_norm", fl.matrix_norm, (batch_a,), {}),
            ("matrix_norm 1", fl.matrix_norm, (batch_a,), {"ord": 1}),
        ]
    return calls


def test_calls_from_eight_python_threads(rng):
    """Eight Python threads calling matmul, dot, vecdot and the norms at once (with the library
    using 2 threads) all get the results a lone caller gets, bit for bit."""
    fl.set_num_threads(2)
    calls = _workload(rng)
    inputs_before = [[np.copy(x) for x in args] for _, _, args, _ in calls]
    expected = [checked(fn, *args, **kwargs) for _, fn, args, kwargs in calls]
    # the lone results are right in the first place
    for (name, _, args, _), got in zip(calls, expected):
        if name.startswith("matmul"):
            assert_matmul_close(got, *args)
        elif name == "vector_norm big axis 0":
            assert_norm_close(got, np.linalg.vector_norm(args[0].astype(np.float64), axis=0), args[0].dtype, 600)
    start = threading.Barrier(8)

    def worker(seed):
        start.wait(timeout=30)
        order = np.random.default_rng(seed).permutation(len(calls))
        out = []
        for _ in range(10):
            for i in order:
                _, fn, args, kwargs = calls[i]
                out.append((i, fn(*args, **kwargs)))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(worker, s) for s in range(8)]]
    for (name, _, args, _), before in zip(calls, inputs_before):
        assert all(np.array_equal(x, y) for x, y in zip(args, before)), f"{name} modified an input"
    for per_thread in results:
        assert len(per_thread) == 10 * len(calls)
        for i, got in per_thread:
            name = calls[i][0]
            assert type(got) is type(expected[i]), name
            assert np.array_equal(got, expected[i]), f"{name}: differs from the lone caller's result"


# --------------------------------------------------------------------------------------------
# fork


def _every_function(a, b, v, x):
    """One call of every public function, the matmul large enough to use the thread pool."""
    return {
        "matmul": fl.matmul(a, b),
        "matmul_batch": fl.matmul(np.stack([a[:40, :50]] * 30), b[:50, :60]),
        "dot": fl.dot(a, v),
        "vecdot": fl.vecdot(a, b.T),
        "vector_norm": fl.vector_norm(x, axis=1),
        "matrix_norm": fl.matrix_norm(x, ord=1),
    }


def _child_work(conn, inputs):
    """Runs in the forked child: every public function, results sent back to the parent."""
    try:
        res = {"threads": fl.get_num_threads(), **_every_function(*inputs)}
        a, b = inputs[:2]
        with fl.threads(1):
            res["matmul_1"] = fl.matmul(a, b)
        conn.send(("ok", res))
    except BaseException as e:  # report, never hang the parent
        conn.send(("error", repr(e)))
    finally:
        conn.close()


def test_forked_child_uses_every_function(rng):
    """After the parent used the thread pool, a forked child can call every public function
    (matmul large enough for threads, dot, vecdot, vector_norm, matrix_norm) without deadlock,
    with the parent's thread count, and gets the parent's results; the parent keeps working."""
    fl.set_num_threads(2)
    a, b = randn(rng, (300, 300), np.float64), randn(rng, (300, 300), np.float64)
    v, x = randn(rng, (300,), np.float64), randn(rng, (20, 30), np.float64)
    # the parent uses the pool (a threaded product) right before forking
    parent = _every_function(a, b, v, x)
    assert_matmul_close(parent["matmul"], a, b)
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: fork with threads
        proc = ctx.Process(target=_child_work, args=(send, (a, b, v, x)))
        proc.start()
    send.close()
    try:
        assert recv.poll(60), "the forked child did not answer within 60 s (deadlock?)"
        status, res = recv.recv()
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(10)
    assert status == "ok", res
    assert proc.exitcode == 0
    assert res["threads"] == 2
    assert_matmul_close(res["matmul"], a, b)
    assert_matmul_close(res["matmul_1"], a, b)
    assert_matmul_close(res["matmul_batch"], np.stack([a[:40, :50]] * 30), b[:50, :60])
    assert_product_close(res["dot"], np.dot, a, v, k=300)
    assert_product_close(res["vecdot"], np.vecdot, a, b.T, k=300)
    assert_norm_close(res["vector_norm"], np.linalg.vector_norm(x, axis=1), np.float64, 30)
    assert_norm_close(res["matrix_norm"], np.linalg.matrix_norm(x, ord=1), np.float64, 20)
    for key, want in parent.items():  # same thread count, same inputs: the parent's results
        assert np.array_equal(res[key], want), key
    # and the parent's pool still works
    assert np.array_equal(fl.matmul(a, b), parent["matmul"])
