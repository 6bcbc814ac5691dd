"""ferrolinalg on Dask arrays: the same functions, each block computed by ferrolinalg's kernels.

An optional extra (``pip install ferrolinalg[dask]``). When one machine's memory or cores are
not enough, the work runs on the engine pipelines already have, Dask (threaded scheduler, or a
``dask.distributed`` cluster), not on anything of ours:

- ``matmul``, ``tensordot``, ``einsum``: one ferrolinalg product per pair of blocks
  (``blockwise``); a contraction over a chunked axis gives one partial product per chunk, summed
  by Dask's tree reduction (no block is concatenated along the contracted axis, as Dask's own
  ``matmul`` does it). Operands whose chunks do not line up are rechunked by ``blockwise``.
- ``linear``: ``map_blocks`` over the row blocks of ``x`` (the input-feature axis is made one
  chunk, since the activation needs whole sums); the weights travel once to each worker.
- ``qr``, ``svd`` of tall-and-skinny matrices by TSQR: each row block's QR by ferrolinalg, the
  stacked ``R`` factors' QR and the small SVD in one task, then each block of ``Q`` / ``U``.
- ``randomized_svd`` for chunked matrices too large for one machine's memory: every pass over
  ``A`` streams its blocks (``A @ Q`` block by block, ``A.T @ Q`` by tree reduction), and only
  ``n x (k + p)`` and ``(k + p) x n`` matrices are ever held whole.
- ``PCA``: ``ferrolinalg.PCA`` fitted through those (TSQR for ``svd_solver="full"``, the chunked
  randomized SVD for ``"randomized"``), with ``transform`` / ``inverse_transform`` blockwise.

Threads: each worker process has ferrolinalg's pool too. ``configure_workers(client)`` sizes it
so that workers x threads per host stays within the host's cores.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.array.core import blockwise

import ferrolinalg as fl

__all__ = [
    "PCA",
    "configure_workers",
    "einsum",
    "linear",
    "matmul",
    "qr",
    "randomized_svd",
    "svd",
    "tensordot",
]


def _float_dtype(*dtypes: Any) -> np.dtype:
    """The dtype ferrolinalg's kernels return for operands of these dtypes."""
    kinds = [np.dtype(d) for d in dtypes]
    if all(d.kind == "f" and d.itemsize <= 4 for d in kinds):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _as_dask(x: Any) -> da.Array:
    return x if isinstance(x, da.Array) else da.from_array(np.asarray(x), chunks=-1)


def _sum_partials(x: da.Array, axes: Sequence[int]) -> da.Array:
    """Sums the size-1-per-block contraction axes of a blockwise product by tree reduction."""
    axes = [ax for ax in axes]
    if not axes:
        return x
    if all(x.numblocks[ax] == 1 for ax in axes):
        return x.squeeze(axis=tuple(axes)) if all(x.shape[ax] == 1 for ax in axes) else x.sum(axis=tuple(axes))
    return x.sum(axis=tuple(axes), dtype=x.dtype)


# ----------------------------------------------------------------------------------------------
# products


def _block_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return fl.matmul(a, b)[..., np.newaxis, :]


def matmul(a: Any, b: Any) -> da.Array:
    """``a @ b`` with NumPy's ``matmul`` semantics, each pair of blocks by ``ferrolinalg.matmul``."""
    a, b = _as_dask(a), _as_dask(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul does not take scalars (0-d arrays)")
    a_1d, b_1d = a.ndim == 1, b.ndim == 1
    if a_1d:
        a = a[np.newaxis, :]
    if b_1d:
        b = b[:, np.newaxis]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match "
                         f"(the last axis of the first, {a.shape[-1]}, is not the second-to-last of the second, {b.shape[-2]})")
    if a.ndim < b.ndim:
        a = a[(b.ndim - a.ndim) * (np.newaxis,)]
    elif b.ndim < a.ndim:
        b = b[(a.ndim - b.ndim) * (np.newaxis,)]
    nd = a.ndim
    out_ind = tuple(range(nd + 1))
    a_ind = tuple(range(nd))
    b_ind = tuple(range(nd - 2)) + (nd - 1, nd)
    out = blockwise(_block_matmul, out_ind, a, a_ind, b, b_ind, adjust_chunks={nd - 1: 1},
                    dtype=_float_dtype(a.dtype, b.dtype), concatenate=False)
    out = _sum_partials(out, [nd - 1])
    if a_1d:
        out = out.squeeze(-2)
    if b_1d:
        out = out.squeeze(-1)
    return out


def _normalize_axes(a_ndim: int, b_ndim: int, axes: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if isinstance(axes, Integral):
        if axes < 0 or axes > min(a_ndim, b_ndim):
            raise ValueError(f"tensordot: axes={axes} is out of range for arrays of {a_ndim} and {b_ndim} dimensions")
        return tuple(range(a_ndim - axes, a_ndim)), tuple(range(axes))
    left, right = axes
    left = (left,) if isinstance(left, Integral) else tuple(left)
    right = (right,) if isinstance(right, Integral) else tuple(right)
    if len(left) != len(right):
        raise ValueError(f"tensordot: the axes lists {left} and {right} have different lengths")
    return tuple(ax % a_ndim for ax in left), tuple(ax % b_ndim for ax in right)


def _block_tensordot(a: np.ndarray, b: np.ndarray, axes: Any, keep: int, a_free: int) -> np.ndarray:
    out = fl.tensordot(a, b, axes=axes)
    # the contracted axes come back as size-1 axes right after a's free axes (blockwise's layout)
    return out.reshape(out.shape[:a_free] + (1,) * keep + out.shape[a_free:])


def tensordot(a: Any, b: Any, axes: Any = 2) -> da.Array:
    """``numpy.tensordot`` semantics; each pair of blocks by ``ferrolinalg.tensordot``."""
    a, b = _as_dask(a), _as_dask(b)
    left, right = _normalize_axes(a.ndim, b.ndim, axes)
    for l, r in zip(left, right):
        if a.shape[l] != b.shape[r]:
            raise ValueError(f"tensordot: axis {l} of {a.shape} (size {a.shape[l]}) and axis {r} of "
                             f"{b.shape} (size {b.shape[r]}) do not match")
    a_ind = list(range(a.ndim))
    b_ind = list(range(a.ndim, a.ndim + b.ndim))
    for l, r in zip(left, right):
        b_ind[r] = a_ind[l]
    a_free = [i for i in range(a.ndim) if i not in left]
    b_free = [b_ind[i] for i in range(b.ndim) if i not in right]
    contracted = [a_ind[l] for l in left]
    out_ind = a_free + contracted + b_free
    out = blockwise(_block_tensordot, out_ind, a, a_ind, b, b_ind,
                    adjust_chunks=dict.fromkeys(contracted, 1), dtype=_float_dtype(a.dtype, b.dtype),
                    concatenate=False, axes=(left, right), keep=len(contracted), a_free=len(a_free))
    return _sum_partials(out, list(range(len(a_free), len(a_free) + len(contracted))))


def _block_einsum(*operands: np.ndarray, subscripts: str, ncontract: int, optimize: Any) -> np.ndarray:
    out = fl.einsum(subscripts, *operands, optimize=optimize)
    return out.reshape(out.shape + (1,) * ncontract)


def einsum(subscripts: str, *operands: Any, optimize: Any = "greedy") -> da.Array:
    """``numpy.einsum`` semantics; each combination of blocks by ``ferrolinalg.einsum``, indices
    summed over a chunked axis added up by tree reduction."""
    from dask.array.einsumfuncs import parse_einsum_input

    ops = [_as_dask(o) for o in operands]
    inputs, output, ops = parse_einsum_input((subscripts, *ops))
    full = f"{inputs}->{output}"
    terms = inputs.split(",")
    for term, op in zip(terms, ops):
        if len(term) != op.ndim:
            raise ValueError(f"einsum: term {term!r} has {len(term)} indices for an operand of shape {op.shape}")
    contracted = sorted({c for t in terms for c in t} - set(output))
    with warnings.catch_warnings():
        # operands whose chunks differ along a shared index are rechunked to common chunks by
        # blockwise, on purpose: that is how mismatched chunking is handled (never misread)
        warnings.simplefilter("ignore", da.PerformanceWarning)
        out = _einsum_blockwise(output, contracted, ops, terms, full, optimize)
    return _sum_partials(out, list(range(len(output), len(output) + len(contracted))))


def _einsum_blockwise(output: str, contracted: list[str], ops: list[da.Array], terms: list[str], full: str,
                      optimize: Any) -> da.Array:
    return blockwise(_block_einsum, tuple(output) + tuple(contracted),
                    *(x for pair in zip(ops, [tuple(t) for t in terms]) for x in pair),
                    adjust_chunks=dict.fromkeys(contracted, 1),
                    dtype=_float_dtype(*[o.dtype for o in ops]), concatenate=True,
                    subscripts=full, ncontract=len(contracted), optimize=optimize)


def _block_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, activation: str | None,
                  weight_layout: str, slope: float) -> np.ndarray:
    return fl.linear(x, w, b, activation, weight_layout=weight_layout, slope=slope)


def linear(x: Any, w: Any, b: Any = None, activation: str | None = None, *,
           weight_layout: str = "in_out", slope: float = 0.01) -> da.Array:
    """``ferrolinalg.linear`` on the row blocks of a Dask array ``x`` of shape ``(..., in)``.

    The weights and bias are small and go whole to every task. If ``x`` is chunked along its
    feature axis, that axis is rechunked into one chunk: the activation needs whole sums.
    """
    x = _as_dask(x)
    w = np.asarray(w.compute() if isinstance(w, da.Array) else w)
    b = None if b is None else np.asarray(b.compute() if isinstance(b, da.Array) else b)
    if w.ndim != 2:
        raise ValueError(f"linear: the weights must be a matrix, got shape {w.shape}")
    n_in, n_out = (w.shape[0], w.shape[1]) if weight_layout == "in_out" else (w.shape[1], w.shape[0])
    if x.shape[-1] != n_in:
        raise ValueError(f"linear: x has {x.shape[-1]} features (shape {x.shape}) but the weights "
                         f"(shape {w.shape}, layout {weight_layout!r}) take {n_in}")
    if x.numblocks[-1] != 1:
        x = x.rechunk({x.ndim - 1: -1})
    chunks = x.chunks[:-1] + ((n_out,),)
    w_d = dask.delayed(w, pure=True)  # one copy of the weights in the graph, not one per task
    b_d = None if b is None else dask.delayed(b, pure=True)
    return x.map_blocks(_block_linear, w_d, b_d, activation, weight_layout, slope, chunks=chunks,
                        dtype=_float_dtype(x.dtype, w.dtype), meta=np.empty((0,) * x.ndim, _float_dtype(x.dtype, w.dtype)))


# ----------------------------------------------------------------------------------------------
# tall-and-skinny factorizations (TSQR)


def _tall_skinny(a: Any, what: str) -> da.Array:
    a = _as_dask(a)
    if a.ndim != 2:
        raise ValueError(f"{what} needs a matrix, got shape {a.shape}")
    if a.numblocks[1] != 1:
        # TSQR needs whole rows: a tall-and-skinny matrix has few columns, so one column chunk
        a = a.rechunk({1: -1})
    return a


def _block_qr(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q, r = fl.qr(block)
    return q, r


def _combine_r(rs: list[np.ndarray], n: int, with_svd: bool) -> dict[str, Any]:
    """QR of the stacked block R factors; with ``with_svd``, the SVD of the final R as well."""
    stacked = np.concatenate(rs, axis=0)
    q2, r = fl.qr(stacked)
    out: dict[str, Any] = {"q2": q2, "r": r, "offsets": np.cumsum([0] + [x.shape[0] for x in rs])}
    if with_svd:
        u_r, s, vh = fl.svd(r, full_matrices=False)
        out.update(u_r=u_r, s=s, vh=vh)
    return out


def _block_q(q1: np.ndarray, comb: dict[str, Any], i: int, with_svd: bool) -> np.ndarray:
    lo, hi = comb["offsets"][i], comb["offsets"][i + 1]
    right = comb["q2"][lo:hi]
    if with_svd:
        right = fl.matmul(right, comb["u_r"])
    return fl.matmul(q1, right)


def _tsqr(a: da.Array, with_svd: bool) -> tuple[da.Array, dict[str, Any], Any]:
    m, n = a.shape
    blocks = a.to_delayed().ravel()
    parts = [dask.delayed(_block_qr, nout=2, pure=True)(blk) for blk in blocks]
    comb = dask.delayed(_combine_r, pure=True)([p[1] for p in parts], n, with_svd)
    k = min(m, n)
    dtype = _float_dtype(a.dtype)
    cols = k
    qs = [da.from_delayed(dask.delayed(_block_q, pure=True)(p[0], comb, i, with_svd), shape=(rows, cols), dtype=dtype)
          for i, (p, rows) in enumerate(zip(parts, a.chunks[0]))]
    return da.concatenate(qs, axis=0), comb, k


def qr(a: Any) -> tuple[da.Array, da.Array]:
    """The reduced QR factorization of a tall-and-skinny Dask matrix by TSQR: ``(Q, R)``.

    ``Q`` is chunked like ``a``'s rows; ``R`` (``n x n``) is one chunk. ``diag(R) >= 0``, as in
    ``ferrolinalg.qr``, so the factors equal the single-machine ones.
    """
    a = _tall_skinny(a, "qr")
    q, comb, k = _tsqr(a, with_svd=False)
    r = da.from_delayed(comb["r"], shape=(k, a.shape[1]), dtype=q.dtype)
    return q, r


def svd(a: Any) -> fl.SVDResult:
    """The thin SVD of a tall-and-skinny Dask matrix by TSQR: ``(U, S, Vh)``, ``U`` chunked like
    ``a``'s rows, with ferrolinalg's sign convention (so equal to ``ferrolinalg.svd(a,
    full_matrices=False)`` on the whole matrix)."""
    a = _tall_skinny(a, "svd")
    if a.shape[0] < a.shape[1]:
        u, s, vh = svd(a.T)
        return fl.SVDResult(vh.T, s, u.T)
    u, comb, k = _tsqr(a, with_svd=True)
    s = da.from_delayed(comb["s"], shape=(k,), dtype=u.dtype)
    vh = da.from_delayed(comb["vh"], shape=(k, a.shape[1]), dtype=u.dtype)
    return fl.SVDResult(u, s, vh)


# ----------------------------------------------------------------------------------------------
# randomized SVD of a chunked matrix


def _orthonormal_columns(y: da.Array) -> da.Array:
    """An orthonormal basis of the columns of a tall-and-skinny Dask matrix (TSQR's Q)."""
    q, _ = qr(y)
    return q


def randomized_svd(a: Any, k: int, n_oversamples: int = 10, n_iter: int | str = "auto",
                   seed: int | None = None) -> fl.SVDResult:
    """The top ``k`` singular triplets of a chunked matrix (Halko, Martinsson and Tropp).

    Every pass over ``a`` streams its blocks, so ``a`` may be far larger than a worker's memory
    (only ``(m or n) x (k + n_oversamples)`` matrices are held whole, chunked like ``a``'s rows
    where they are tall). Power iterations are normalized by QR (TSQR on the tall side);
    ``n_iter="auto"`` is scikit-learn's rule (7 if ``k < 0.1 min(m, n)``, else 4). The result is
    computed when returned (``U`` stays a Dask array chunked like ``a``'s rows), with
    ferrolinalg's sign convention.
    """
    a = _as_dask(a)
    if a.ndim != 2:
        raise ValueError(f"randomized_svd needs a matrix, got shape {a.shape}")
    m, n = a.shape
    if not isinstance(k, Integral) or k < 1 or k > min(m, n):
        raise ValueError(f"randomized_svd: k must be an integer in [1, min(m, n) = {min(m, n)}], got {k!r}")
    if n_iter == "auto":
        n_iter = 7 if k < 0.1 * min(m, n) else 4
    if not isinstance(n_iter, Integral) or n_iter < 0:
        raise ValueError(f"randomized_svd: n_iter must be 'auto' or a non-negative integer, got {n_iter!r}")
    dtype = _float_dtype(a.dtype)
    ell = min(k + n_oversamples, min(m, n))
    if a.numblocks[1] != 1:
        a = a.rechunk({1: -1})
    omega = np.random.default_rng(seed).standard_normal((n, ell)).astype(dtype)
    q = _orthonormal_columns(matmul(a, omega)).persist()
    for _ in range(int(n_iter)):
        z = matmul(a.T, q).compute()  # n x ell: small, held whole
        z_q, _ = fl.qr(z)
        q = _orthonormal_columns(matmul(a, z_q)).persist()
    b = matmul(q.T, a).compute()  # ell x n
    u_b, s, vh = fl.svd(b, full_matrices=False)
    u = matmul(q, u_b[:, :k])
    return fl.SVDResult(u, s[:k], vh[:k])


# ----------------------------------------------------------------------------------------------
# threads in worker processes


def _set_threads(n: int) -> int:
    fl.set_num_threads(n)
    return fl.get_num_threads()


def configure_workers(client: Any) -> dict[str, int]:
    """Sizes ferrolinalg's pool in every worker of a ``dask.distributed`` client so that, per
    host, worker processes x ferrolinalg threads <= the host's cores (each Dask worker already
    runs ``nthreads`` tasks at once; those share the process's one ferrolinalg pool).

    Returns each worker's new thread count. Call it again after adding workers.
    """
    workers = client.scheduler_info(n_workers=-1)["workers"] if _takes_n_workers(client) else client.scheduler_info()["workers"]
    per_host: dict[str, int] = {}
    for info in workers.values():
        per_host[info["host"]] = per_host.get(info["host"], 0) + 1
    cores = client.run(os.cpu_count)
    result: dict[str, int] = {}
    for addr, info in workers.items():
        n = max(1, (cores.get(addr) or 1) // per_host[info["host"]])
        result.update(client.run(_set_threads, n, workers=[addr]))
    return result


def _takes_n_workers(client: Any) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------------------
# PCA


class PCA(fl.PCA):
    """``ferrolinalg.PCA`` fitted on a chunked, tall-and-skinny Dask array.

    ``svd_solver="full"`` (and ``"auto"``, ``"covariance_eigh"``) runs TSQR on the centred data and
    the SVD of the small ``R``; ``"randomized"`` runs :func:`randomized_svd` on the centred data,
    streaming its blocks. The fitted attributes are NumPy arrays, equal to ``ferrolinalg.PCA``'s
    on the whole matrix for the full solver (the randomized one draws its own test matrix, so it
    agrees to the method's accuracy). ``transform`` and ``inverse_transform`` take Dask arrays too
    and work block by block.
    """

    def fit(self, X: Any, y: Any = None) -> PCA:
        x = _tall_skinny(X, "PCA.fit")
        if x.dtype.kind != "f" or x.dtype.itemsize not in (4, 8):
            x = x.astype(np.float64)
        self._check_params()
        n_samples, n_features = x.shape
        mean = np.asarray(x.mean(axis=0, dtype=np.float64).compute()).astype(x.dtype)
        centred = x - mean
        dt = x.dtype.type
        if self.svd_solver == "randomized":
            k = self.n_components
            if not isinstance(k, Integral) or not 1 <= k <= min(n_samples, n_features):
                raise ValueError(f"n_components={k!r} must be an int in [1, {min(n_samples, n_features)}] "
                                 "with svd_solver='randomized'")
            seed = self.random_state if isinstance(self.random_state, Integral) else None
            _, s, vh = randomized_svd(centred, int(k), n_oversamples=int(self.n_oversamples),
                                      n_iter=self.iterated_power, seed=seed)
            total_var = dt(da.var(x, axis=0, ddof=1, dtype=np.float64).sum().compute())
            self._finish_truncated(mean, np.asarray(s), np.asarray(vh), total_var, n_samples, n_features, int(k))
            self._fit_svd_solver = "randomized"
        else:
            _, s, vh = svd(centred)
            s, vh = (np.asarray(v) for v in dask.compute(s, vh))
            n_components = min(n_samples, n_features) if self.n_components is None else self.n_components
            self._finish_full(mean, s, vh, s**2 / dt(n_samples - 1), n_samples, n_features, n_components)
            self._fit_svd_solver = "full"
        self.n_features_in_ = n_features
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        return self.fit(X).transform(X)

    def transform(self, X: Any) -> Any:
        if not isinstance(X, da.Array):
            return super().transform(X)
        self._check_fitted()
        x = X.rechunk({1: -1}) if X.numblocks[1] != 1 else X
        base = fl.PCA.transform
        return x.map_blocks(lambda block: base(self, block), chunks=(x.chunks[0], (self.n_components_,)),
                            dtype=self.components_.dtype)

    def inverse_transform(self, X: Any) -> Any:
        if not isinstance(X, da.Array):
            return super().inverse_transform(X)
        self._check_fitted()
        z = X.rechunk({1: -1}) if X.numblocks[1] != 1 else X
        base = fl.PCA.inverse_transform
        return z.map_blocks(lambda block: base(self, block), chunks=(z.chunks[0], (self.components_.shape[1],)),
                            dtype=self.components_.dtype)
