"""The SVD of one tall (or, through its transpose, wide) matrix through TSQR (rust/kernels/src/tsqr.rs): row blocks factored in
parallel, their stacked R factored again, then the SVD of R and U = Q U_R.

A single matrix with at least two row blocks of 2n rows and ~4M multiply-adds in its QR goes this
way, for the singular values and the thin SVD; a full U, a stack, and a matrix near overflow or
underflow go the one-thread way. Checked against NumPy by LAPACK-style ratios, in every layout,
on nasty spectra, and for bit-identical results with one and two threads."""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, param_id, randn
from test_svd import RATIO, _with_singular_values, check_svd

# (rows, cols): all take the TSQR path (2 to 4 row blocks); wide ones through the transpose
TALL = [(2000, 64), (1000, 100), (600, 150), (4000, 40), (2003, 67)]
WIDE = [(64, 2000), (150, 600), (67, 2003)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", TALL + WIDE, ids=str)
def test_tall_svd_against_numpy(rng, dtype, shape):
    a = randn(rng, shape, dtype)
    got = checked(fl.svd, a, full_matrices=False)
    check_svd(a, got, full_matrices=False)
    s = checked(fl.svdvals, a)
    assert s.dtype == dtype
    ref = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    assert np.max(np.abs(s - ref)) <= RATIO * eps(dtype) * max(shape) * ref[0]
    if max(shape) <= 1000:
        # the full U (not through TSQR)
        full = fl.svd(a, full_matrices=True)
        check_svd(a, full, full_matrices=True)


# (every layout of the TSQR shapes giving the same bits: test_svd.py's layout test)


@pytest.mark.parametrize("shape", [(3000, 80), (80, 3000)], ids=str)
def test_tall_threads_bit_identical(rng, restore_threads, shape):
    a = rng.standard_normal(shape)
    results = []
    for n in (1, 2, 1, 2):
        fl.set_num_threads(n)
        results.append((fl.svd(a, full_matrices=False), fl.svdvals(a)))
    for (usv, s) in results[1:]:
        assert all(np.array_equal(g, w) for g, w in zip(usv, results[0][0]))
        assert np.array_equal(s, results[0][1])


def _tall_nasty(rng, dtype):
    e = eps(dtype)
    m, n = 1200, 60
    big, tiny = (1e300, 1e-300) if dtype == np.float64 else (1e36, 1e-36)
    mats = {
        "rank 5": rng.standard_normal((m, 5)) @ rng.standard_normal((5, n)),
        "rank 0": np.zeros((m, n)),
        "graded": _with_singular_values(rng, m, n, 10.0 ** -np.linspace(0, 12, n)),
        "cond 1/eps": _with_singular_values(rng, m, n, np.geomspace(1, e, n)),
        "clustered": _with_singular_values(rng, m, n, 1 + 1e-9 * np.arange(n)),
        "graded columns": rng.standard_normal((m, n)) * 10.0 ** -np.arange(n // 6).repeat(6),
        "one huge row": np.vstack([1e8 * rng.standard_normal((1, n)), rng.standard_normal((m - 1, n))]),
        "near overflow": big * rng.standard_normal((m, n)),
        "near underflow": tiny * rng.standard_normal((m, n)),
    }
    return {name: x.astype(dtype) for name, x in mats.items()}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=param_id)
def test_tall_nasty_matrices(rng, dtype):
    for name, a in _tall_nasty(rng, dtype).items():
        if name.startswith("graded"):
            a = a.T.copy()  # and a wide one
        got = fl.svd(a, full_matrices=False)
        assert all(np.all(np.isfinite(x)) for x in got), name
        # checked on a / max|a| (the ratios are scale-invariant; the check's own products would
        # overflow or underflow otherwise), the reference in float64 on the same values
        amax = float(np.max(np.abs(a.astype(np.float64)))) or 1.0
        a1 = a.astype(np.float64) / amax
        ref = np.linalg.svd(a1, compute_uv=False)
        try:
            check_svd(a1, fl.SVDResult(got.U, (got.S.astype(np.float64) / amax).astype(dtype), got.Vh),
                      full_matrices=False, ref_s=ref)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
        s = fl.svdvals(a).astype(np.float64) / amax
        assert np.max(np.abs(s - ref)) <= RATIO * eps(dtype) * max(a.shape) * max(ref[0], 1e-300), name


def test_tall_single_matrix_in_a_batch_and_errors(rng):
    a = rng.standard_normal((1, 1600, 50))
    got = fl.svd(a, full_matrices=False)
    check_svd(a, got, full_matrices=False)
    bad = a.copy()
    bad[0, 700, 3] = np.nan
    with pytest.raises(ValueError, match="NaN|inf|finite"):
        fl.svd(bad)
    with pytest.raises(fl.LinAlgError, match="batch index 0|index 0"):
        fl.svd(bad, full_matrices=False, check_finite=False)
    with pytest.raises(np.linalg.LinAlgError):
        fl.svdvals(bad[0], check_finite=False)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf], ids=str)
def test_tall_non_finite_found_in_any_block(rng, bad_value):
    """A matrix large enough for TSQR, its one bad entry in the last row block (TSQR finds NaN
    and infinities in the blocks' copies): check_finite=False gives LinAlgError, never values."""
    a = rng.standard_normal((3000, 80))
    a[2900, 5] = bad_value
    with pytest.raises(fl.LinAlgError):
        fl.svd(a, full_matrices=False, check_finite=False)
    with pytest.raises(np.linalg.LinAlgError):
        fl.svdvals(a, check_finite=False)
    with pytest.raises(ValueError, match="NaN|inf|finite"):
        fl.svdvals(a)
