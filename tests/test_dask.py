"""ferrolinalg.dask: results equal to the single-machine functions, on the threaded scheduler and
on a distributed LocalCluster of worker processes (one of which is killed mid-computation)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

import ferrolinalg as fl

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
fd = pytest.importorskip("ferrolinalg.dask")

from conftest import FLOAT_DTYPES, eps  # noqa: E402


def _close(got, want, dtype, scale=1.0, factor=50):
    tol = factor * eps(dtype) * max(want.shape, default=1) * scale
    np.testing.assert_allclose(np.asarray(got), want, atol=tol, rtol=0)


@pytest.fixture(autouse=True)
def _threaded_scheduler():
    with dask.config.set(scheduler="threads"):
        yield


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "a_shape,a_chunks,b_shape,b_chunks",
    [
        ((300, 40), (70, 13), (40, 25), (9, 10)),  # contraction chunks that do not line up
        ((300, 40), (300, 40), (40,), (40,)),  # matrix @ vector
        ((40,), (11,), (40, 7), (40, 3)),  # vector @ matrix
        ((6, 20, 30), (2, 20, 7), (30, 10), (30, 5)),  # a stack times one matrix
        ((1, 20, 30), (1, 10, 30), (4, 30, 10), (2, 15, 5)),  # broadcast batch axis
    ],
    ids=["2d-misaligned", "matvec", "vecmat", "stack", "broadcast"],
)
def test_matmul_equals_numpy(rng, dtype, a_shape, a_chunks, b_shape, b_chunks):
    a = rng.standard_normal(a_shape).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    got = fd.matmul(da.from_array(a, chunks=a_chunks), da.from_array(b, chunks=b_chunks))
    want = np.matmul(a.astype(np.float64), b)
    assert got.shape == want.shape and got.dtype == dtype
    _close(got.compute(), want, dtype, scale=np.sqrt(a_shape[-1]))


def test_matmul_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        fd.matmul(da.ones((3, 4)), da.ones((5, 2)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,chunks", [((500, 20), (90, 20)), ((400, 30), (100, 7)), ((64, 8), (8, 8)), ((5, 5), (5, 5))])
def test_tsqr_and_svd_equal_single_machine(rng, dtype, shape, chunks):
    a = rng.standard_normal(shape).astype(dtype)
    x = da.from_array(a, chunks=chunks)
    q, r = dask.compute(*fd.qr(x))
    want_q, want_r = fl.qr(a)
    _close(q, want_q, dtype)
    _close(r, want_r, dtype, scale=np.sqrt(shape[0]))
    u, s, vh = dask.compute(*fd.svd(x))
    want = fl.svd(a, full_matrices=False)
    _close(s, want.S, dtype, scale=np.sqrt(shape[0]))
    # DESIGN.md's sign rule holds (largest component of each row of Vh positive); where two
    # components nearly tie, rounding may pick the other one, so the vectors agree up to sign
    rows = np.arange(vh.shape[0])
    assert np.all(vh[rows, np.argmax(np.abs(vh), axis=1)] > 0)
    flip = np.sign(np.sum(vh * want.Vh, axis=1))
    _close(vh * flip[:, None], want.Vh, dtype, factor=500)
    _close(u * flip, want.U, dtype, factor=500)


def test_svd_of_a_wide_matrix_goes_through_its_transpose(rng):
    a = rng.standard_normal((12, 300))
    u, s, vh = dask.compute(*fd.svd(da.from_array(a, chunks=(12, 50))))
    np.testing.assert_allclose((u * s) @ vh, a, atol=1e-12)
    np.testing.assert_allclose(s, fl.svdvals(a), rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_randomized_svd_recovers_a_low_rank_matrix(rng, dtype):
    m, n, rank = 2000, 300, 12
    a = (rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n)) + 1e-4 * rng.standard_normal((m, n))).astype(dtype)
    u, s, vh = fd.randomized_svd(da.from_array(a, chunks=(300, 100)), 8, seed=3)
    exact = fl.svd(a, full_matrices=False)
    np.testing.assert_allclose(s, exact.S[:8], rtol=100 * eps(dtype) * n + 1e-6)
    # the same sign convention as the exact SVD, so the vectors agree too
    np.testing.assert_allclose(vh, exact.Vh[:8], atol=1e-3 if dtype == np.float32 else 1e-8)
    np.testing.assert_allclose(u.compute(), exact.U[:, :8], atol=1e-3 if dtype == np.float32 else 1e-8)
    with pytest.raises(ValueError, match="k must be"):
        fd.randomized_svd(da.ones((10, 5)), 6)


@pytest.mark.skipif(not hasattr(fl, "tensordot"), reason="needs ferrolinalg.tensordot")
def test_tensordot_and_einsum_equal_numpy(rng):
    a = rng.standard_normal((20, 12, 16))
    b = rng.standard_normal((16, 12, 9))
    da_a, da_b = da.from_array(a, chunks=(7, 5, 6)), da.from_array(b, chunks=(4, 12, 3))
    want = np.tensordot(a, b, axes=([1, 2], [1, 0]))
    np.testing.assert_allclose(fd.tensordot(da_a, da_b, axes=([1, 2], [1, 0])).compute(), want, atol=1e-11)
    np.testing.assert_allclose(fd.einsum("ijk,kjl->il", da_a, da_b).compute(), want, atol=1e-11)
    c = rng.standard_normal((9, 4))
    got = fd.einsum("ijk,kjl,lm->im", da_a, da_b, da.from_array(c, chunks=(5, 2))).compute()
    np.testing.assert_allclose(got, want @ c, atol=1e-10)


@pytest.mark.skipif(not hasattr(fl, "linear"), reason="needs ferrolinalg.linear")
def test_linear_on_row_blocks(rng):
    x = rng.standard_normal((500, 64)).astype(np.float32)
    w = rng.standard_normal((64, 32)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    got = fd.linear(da.from_array(x, chunks=(128, 16)), w, b, "relu").compute()
    np.testing.assert_allclose(got, fl.linear(x, w, b, "relu"), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="features"):
        fd.linear(da.ones((4, 3)), w)


# ----------------------------------------------------------------------------------------------
# a real cluster: worker processes on loopback


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, memory_limit="1GiB", silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_local_cluster_sizes_threads_and_computes(cluster_client, rng):
    threads = fd.configure_workers(cluster_client)
    assert len(threads) == 2
    assert all(n == max(1, (os.cpu_count() or 1) // 2) for n in threads.values()), threads
    a = rng.standard_normal((4000, 50))
    x = da.from_array(a, chunks=(500, 50))
    np.testing.assert_allclose(fd.matmul(x.T, x).compute(), a.T @ a, rtol=1e-10, atol=1e-9)
    s = fd.svd(x).S.compute()
    np.testing.assert_allclose(s, fl.svdvals(a), rtol=1e-11)


def _slow_block(block: np.ndarray) -> np.ndarray:
    time.sleep(0.05)
    return block


def test_a_killed_worker_is_retried_and_the_result_is_right(cluster_client, rng):
    distributed = pytest.importorskip("distributed")
    a = rng.standard_normal((6000, 40))
    x = da.from_array(a, chunks=(200, 40)).map_blocks(_slow_block)
    future = cluster_client.compute(fd.matmul(x.T, x))
    time.sleep(0.4)  # some blocks are done, most are not
    pids = cluster_client.run(os.getpid)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    result = future.result(timeout=120)
    np.testing.assert_allclose(result, a.T @ a, rtol=1e-10, atol=1e-9)
    # the nanny restarted the worker: the cluster is whole again
    distributed.wait(cluster_client.submit(int, 1))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n_components", [None, 5, 0.9, "mle"])
def test_pca_full_equals_single_machine(rng, dtype, n_components):
    x = (rng.standard_normal((3000, 12)) @ rng.standard_normal((12, 12)) + 3.0).astype(dtype)
    ours = fd.PCA(n_components=n_components, svd_solver="full").fit(da.from_array(x, chunks=(700, 12)))
    want = fl.PCA(n_components=n_components, svd_solver="full").fit(x)
    assert ours.n_components_ == want.n_components_
    tol = 1e-3 if dtype == np.float32 else 1e-9
    for attr in ("mean_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "components_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(want, attr), rtol=tol, atol=tol, err_msg=attr)
    np.testing.assert_allclose(ours.noise_variance_, want.noise_variance_, rtol=tol, atol=tol)
    z = ours.transform(da.from_array(x, chunks=(700, 12)))
    np.testing.assert_allclose(z.compute(), want.transform(x), rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(ours.inverse_transform(z).compute(), want.inverse_transform(want.transform(x)), rtol=tol, atol=tol * 10)


def test_pca_randomized_on_chunks(rng):
    x = rng.standard_normal((5000, 6)) @ rng.standard_normal((6, 40)) + 1e-3 * rng.standard_normal((5000, 40))
    ours = fd.PCA(n_components=4, svd_solver="randomized", random_state=0).fit(da.from_array(x, chunks=(1000, 40)))
    want = fl.PCA(n_components=4, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.explained_variance_, want.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.components_, want.components_, atol=1e-6)
    np.testing.assert_allclose(ours.explained_variance_ratio_, want.explained_variance_ratio_, rtol=1e-8)
