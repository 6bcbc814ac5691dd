"""ferrolinalg.dask on a LocalCluster: a matrix larger than a worker's memory limit, and the
speed-up from one worker process to two.

    python benches/dask_scaling.py [--rows 400000] [--cols 500] [--memory-limit 1GiB] [--json PATH]

The matrix is generated block by block on the workers (``da.random``, never materialised whole):
``rows x cols`` float64, by default 1.6 GB against a 1 GiB limit per worker. Two jobs run on it:

- the top-10 singular values by ``ferrolinalg.dask.randomized_svd`` (every pass streams the
  blocks; only ``rows x 20`` and ``20 x cols`` matrices are held);
- the Gram matrix ``A.T @ A`` by ``ferrolinalg.dask.matmul`` (one product per block, summed by
  tree reduction).

Each is timed (median of ``--repeats``) with 1 and then 2 worker processes of one Dask thread
each, ferrolinalg's pool sized by ``configure_workers`` (cores / workers per process).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import dask.array as da
import distributed
import numpy as np

import ferrolinalg.dask as fd


def _matrix(rows: int, cols: int, chunk_rows: int) -> da.Array:
    # a low-rank signal plus noise, generated on the workers from a fixed seed
    rs = da.random.RandomState(0)
    left = rs.standard_normal((rows, 20), chunks=(chunk_rows, 20))
    right = np.random.default_rng(1).standard_normal((20, cols))
    return left @ right + 0.1 * rs.standard_normal((rows, cols), chunks=(chunk_rows, cols))


def _time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--cols", type=int, default=500)
    parser.add_argument("--chunk-rows", type=int, default=20_000)
    parser.add_argument("--memory-limit", default="1GiB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()

    nbytes = args.rows * args.cols * 8
    results: dict[str, object] = {"rows": args.rows, "cols": args.cols, "matrix_bytes": nbytes,
                                  "memory_limit": args.memory_limit, "timings": {}}
    print(f"matrix {args.rows} x {args.cols} float64 = {nbytes / 2**30:.2f} GiB; "
          f"worker memory limit {args.memory_limit}")
    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None,
                                      memory_limit=args.memory_limit, silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            threads = fd.configure_workers(client)
            a = _matrix(args.rows, args.cols, args.chunk_rows)
            svd_time, (_, s, _) = _time(lambda: fd.randomized_svd(a, 10, n_iter=2, seed=0), args.repeats)
            gram_time, gram = _time(lambda: fd.matmul(a.T, a).compute(), args.repeats)
            print(f"{workers} worker(s), ferrolinalg threads per worker {sorted(set(threads.values()))}: "
                  f"randomized_svd k=10 {svd_time:.2f} s, A.T @ A {gram_time:.2f} s "
                  f"(top singular value {s[0]:.4g}, trace of A.T A {np.trace(gram):.4g})")
            results["timings"][workers] = {"randomized_svd": svd_time, "gram": gram_time}  # type: ignore[index]
    t = results["timings"]  # type: ignore[assignment]
    print(f"speed-up 1 -> 2 workers: randomized_svd {t[1]['randomized_svd'] / t[2]['randomized_svd']:.2f}x, "
          f"A.T @ A {t[1]['gram'] / t[2]['gram']:.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
