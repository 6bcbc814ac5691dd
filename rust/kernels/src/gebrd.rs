//! Blocked Householder bidiagonalization (LAPACK's `dgebrd` with `dlabrd` panels) of a
//! column-major working copy, and its back-transformation (`dormbr`, [`apply_q_bidiag`] and
//! [`apply_p_bidiag`]). It served the values-only SVD of mid-size and large matrices until the
//! two-stage reduction (`ge2gb.rs` + `gbbrd.rs`) beat it at every size (see svd.rs); it is the
//! reduction of the SVD with vectors, whose singular vectors of `B` the back-transformation
//! turns into those of `A`, and the baseline of the two-stage reduction's timings.
//!
//! `A = Q B P^T` with `B` upper bidiagonal (`m >= n`). Each panel of [`NB`] columns computes its
//! left and right reflectors one at a time, keeping the updates of the trailing matrix in the
//! `X` (`m x NB`) and `Y` (`n x NB`) blocks; the trailing matrix is then updated once per panel,
//! `A -= U Y^T + X V^T`, by two GEMMs.
//!
//! Cost: `8/3 n^3` flops for a square matrix (`4 m n^2 - 4/3 n^3` in general). Half of them are
//! the two matrix-vector products per step on the not-yet-updated trailing matrix
//! (`A^T v` for the right side, `A u` for the left), bound by memory bandwidth: with an L2 of
//! 2 MiB per core here, a 256x256 f64 matrix (0.5 MB) streams from L2, a 1024x1024 one (8 MB)
//! from L3. The other half is the panel's trailing update, in GEMM at close to peak. The
//! unblocked kernel of `svd_small.rs` reads and writes the trailing matrix twice per step
//! instead (all its flops are level 2).
//!
//! BLAS-2.5 fusion (Howell, Demmel et al., "Cache efficient bidiagonalization using BLAS 2.5
//! operators", 2008): the left product of step `i` needs the updated row `i` (the right
//! reflector `u`), which needs `A^T v` finished, so LAPACK reads the trailing matrix twice per
//! step. But `A u` is linear in `u`: [`fused_piece`] walks the trailing columns in chunks of
//! ~256 KiB ([`fused_chunk`]); for each chunk it forms `Y`'s entries (`A^T v`), the updated row
//! `i` there, and at once adds `A(i+1:m, c) row(c)` to `z` while those columns are still in
//! L1/L2. The reflector of the row is then a scalar multiple of it (`householder_scaled`), so
//! `X`'s column is `tau (A(:, i+1) + s z - corrections)`: one read of the trailing matrix per
//! step. When the row is zero or tiny (the reflector is not a plain multiple of it) the step
//! falls back to the separate row-split `A u` pass ([`x_piece`]).
//!
//! Threads: the fused pass is split in two fixed pieces of columns, each with its own `z`
//! (summed `z0 + z1` in fixed order); the fallback pass by rows; the trailing update in two
//! fixed blocks of columns; all run by [`Par::for_each`] (in turn on one thread). Every output
//! element is computed by the same operations in the same order whoever runs its piece, so one
//! thread and two give the same bits. The small corrections of a step (the products with the
//! panel's earlier columns, `O(NB n)` each) run on the calling thread, except those folded into
//! the long products: in a trailing column, the rows `p..i` of the panel's right reflectors sit
//! just above the rows `i..m` that `A^T v` reads, and the panel's columns sit just left of the
//! trailing ones that `A u` reads, so one longer pass does both.
//!
//! The fused pass, measured (two threads, ms, same run): 256 / 512 / 1024: two passes 5.8 / 33 /
//! 206, fused 5.5 / 27.0 / 141.7; LAPACK's `dgebrd` (OpenBLAS) 6.0 / 42.0 / 209. The gain grows
//! with n as expected: at 256 the matrix sits in L2 and the second read was cheap; at 1024 it
//! halves the L3 traffic of the level-2 half (~5.7 GB -> ~2.9 GB).
//!
//! Earlier, before the fusion:
//!
//! Measured (`gebrd_timing`, one n x n matrix, ms; one thread: this thread's CPU time; two:
//! wall time; the machine was shared with two other builds throughout, so the two-thread
//! numbers vary from run to run: 1024 gave 185 ms in a quieter moment, ~295 ms in a busy one):
//!
//! | n | old unblocked reduction + dqds | blocked reduction, 1 thread | 2 threads | dqds |
//! | --- | --- | --- | --- | --- |
//! | 192 | 3.04 | 1.96 | 2.00 | 0.63 |
//! | 256 | 6.74 | 3.86 | 4.14 | 1.09 |
//! | 512 | 52.2 | 28.0 | 29.8 (24.5 quieter) | 4.18 |
//! | 1024 | 456 | 300 | 295 (185 quieter) | 16.3 |
//!
//! faer's `singular_values` (its own blocked reduction) took 9.6 / 50.6 / 372 ms at 256 / 512 /
//! 1024. At 1024 the reduction's level-2 half streams ~5.7 GB from L3 (~19 GB/s on one core),
//! which is what bounds it; a second core's stream is what the two-piece split buys.
//!
//! Tried: an indexed `dot4` (bounds checks kept it from vectorizing): the `A^T v` pass took
//! twice the time of the `A u` pass over the same data (perf: 28% against 13% of the samples);
//! reduction 4.17 ms against 3.86 ms with chunked iterators at 256. Gathering the rows of `Y`
//! (stride n) for the `Y yp` correction per column, and short separate dot products for the
//! panel's corrections: replaced together by the pass over `Y`'s columns and the folding above
//! (256: 4.62 ms wall before, 4.26 ms thread CPU after, on a busy machine: not an exact
//! comparison; not measured separately).
//!
//! The back-transformation applies `Q` (n reflectors) to the m x k `U` and `P` (n - 1) to the
//! n x k `V` in blocks of [`BT_QB`] reflectors through GEMM ([`crate::larfb`]): `2 n^2 k` flops
//! a side for a square matrix, as many as one n x n x k product. Measured
//! (`back_transformation_timing`, f64, square, k = n, U and V together, median wall ms, three
//! runs on an idle machine), against OpenBLAS 0.3.31's `dormqr` (SciPy's; the `Q` side of
//! `dormbr`, the `P` side is `dormlq` at the same cost) taken twice, in the same minutes:
//!
//! | n | one thread | pool (2 threads) | OpenBLAS x2, 1 thread | OpenBLAS x2, 2 threads |
//! | ---: | ---: | ---: | ---: | ---: |
//! | 256 | 2.5-3.0 | 1.41-1.57 | 2.5-3.8 | 3.0-3.4 |
//! | 512 | 14.2-16.3 | 8.7-9.2 | 18-25 | 15.5-17.5 |
//! | 1024 | 104-121 | 63-67 | 125-131 | 96-115 |
//!
//! (LAPACK's `dormbr` twice, two threads, measured earlier on this machine: 3.5 / 15 / 92 ms.)
//! One side on one thread takes 1.3x (n = 1024) to 1.9x (256) an n x n x n GEMM's CPU time:
//! `T` and the zeros above `V`'s diagonal add `2 BT_QB` flops per element of `U` and block, the
//! update's GEMMs are only [`BT_QB`] deep, and the small ones of small orders run slower. Two
//! threads gain 1.7-1.9x.

use crate::gemm::{gemm_seq_with, Mat};
use crate::larfb::{apply_left, Reflectors, TFactor};
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::svd_small::{dot, householder, householder_scaled, lanes, sum_lanes, LANES};
use crate::threads::Par;
use faer::MatMut;

/// Panel width.
pub(crate) const NB: usize = 32;

/// A matrix-vector product is split in two pieces from this many elements of the trailing
/// matrix (~256 KiB of f64, ~10 us from L2 on one core; the hand-off to the lingering helper
/// costs ~1 us).
const SPLIT_ELEMS: usize = 1 << 15;

/// The trailing update is split in two blocks of columns from this many multiply-adds.
const GEMM_SPLIT: usize = 1 << 18;

/// Scratch elements [`gebrd`] needs for an `m x n` matrix.
pub(crate) fn work_len(m: usize, n: usize) -> usize {
    // X, Y, the dot products' vector, the row and its coefficients, the row's correction, the
    // three small coefficient vectors, and the fused pass's two pieces of z
    m * NB + n * NB + (m + NB) + (n + NB + 1) + n + 3 * (NB + 1) + 2 * m
}

/// Four dot products with the same `v`, one pass over `v`; each the same bits as [`dot`].
/// (Chunked iterators, so that no bounds check stands in the way of vectorizing: an indexed
/// version of this loop ran at half the speed of [`acc_cols`]' pass over the same data.)
#[inline(always)]
fn dot4<T: Real>(c: [&[T]; 4], v: &[T]) -> [T; 4] {
    let n = v.len();
    let lanes = lanes::<T>();
    let (c0, c1, c2, c3) = (&c[0][..n], &c[1][..n], &c[2][..n], &c[3][..n]);
    let mut a0 = [T::ZERO; LANES];
    let mut a1 = [T::ZERO; LANES];
    let mut a2 = [T::ZERO; LANES];
    let mut a3 = [T::ZERO; LANES];
    let it = v
        .chunks_exact(lanes)
        .zip(c0.chunks_exact(lanes))
        .zip(c1.chunks_exact(lanes))
        .zip(c2.chunks_exact(lanes))
        .zip(c3.chunks_exact(lanes));
    for ((((vv, x0), x1), x2), x3) in it {
        for l in 0..lanes {
            a0[l] = a0[l] + x0[l] * vv[l];
            a1[l] = a1[l] + x1[l] * vv[l];
            a2[l] = a2[l] + x2[l] * vv[l];
            a3[l] = a3[l] + x3[l] * vv[l];
        }
    }
    let full = n / lanes * lanes;
    let (mut t0, mut t1, mut t2, mut t3) = (T::ZERO, T::ZERO, T::ZERO, T::ZERO);
    for r in full..n {
        let vv = v[r];
        t0 = t0 + c0[r] * vv;
        t1 = t1 + c1[r] * vv;
        t2 = t2 + c2[r] * vv;
        t3 = t3 + c3[r] * vv;
    }
    [
        sum_lanes(&mut a0, lanes) + t0,
        sum_lanes(&mut a1, lanes) + t1,
        sum_lanes(&mut a2, lanes) + t2,
        sum_lanes(&mut a3, lanes) + t3,
    ]
}

/// `x += sum_k coef[k] * col_k` where column k is `base[k * ld..k * ld + x.len()]`; four
/// columns per pass over `x`.
///
/// # Safety
/// `base` points at `coef.len()` columns of `x.len()` readable elements `ld` apart, none
/// overlapping `x`.
#[inline(always)]
unsafe fn acc_cols<T: Real>(x: &mut [T], base: *const T, ld: usize, coef: &[T]) {
    let len = x.len();
    let col = |k: usize| core::slice::from_raw_parts(base.add(k * ld), len);
    let nk = coef.len();
    let mut k = 0;
    while k + 4 <= nk {
        let (u0, u1, u2, u3) = (coef[k], coef[k + 1], coef[k + 2], coef[k + 3]);
        let (c0, c1, c2, c3) = (col(k), col(k + 1), col(k + 2), col(k + 3));
        for r in 0..len {
            x[r] = x[r] + ((u0 * c0[r] + u1 * c1[r]) + (u2 * c2[r] + u3 * c3[r]));
        }
        k += 4;
    }
    while k < nk {
        let (u, c) = (coef[k], col(k));
        for r in 0..len {
            x[r] = x[r] + u * c[r];
        }
        k += 1;
    }
}

/// The right-hand product of step `i` for the trailing columns `c0..c1` (global indices):
/// `Y[c, j] = tau (A(i:m, c) . v - A(p:i, c) . yx + Y(c, 0:j) . nyp)`, and the row update's
/// term `rc[c] = A(p:i, c) . xr`. Rows `p..i` of a trailing column lie just above rows `i..m`,
/// so `w = [-yx; v]` makes the first two terms one dot product over rows `p..m`.
///
/// # Safety
/// `a` is the `m x n` column-major matrix, `y` the `n x NB` block; rows `c0..c1` of column `j`
/// of `y` and of `rc` are written by this call only; nothing written meanwhile overlaps what it
/// reads.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn y_piece<T: Real>(
    a: *const T,
    m: usize,
    n: usize,
    p: usize,
    y: *mut T,
    j: usize,
    c0: usize,
    c1: usize,
    w: &[T],
    nyp: &[T],
    xr: &[T],
    rc: *mut T,
    tau: T,
) {
    let col = |c: usize| core::slice::from_raw_parts(a.add(c * m + p), m - p);
    let out = core::slice::from_raw_parts_mut(y.add(j * n + c0), c1 - c0);
    let rc = core::slice::from_raw_parts_mut(rc.add(c0), c1 - c0);
    let mut c = c0;
    while c + 4 <= c1 {
        let cols = [col(c), col(c + 1), col(c + 2), col(c + 3)];
        let r = dot4(cols, w);
        out[c - c0..c - c0 + 4].copy_from_slice(&r);
        if j > 0 {
            let r = dot4(cols, xr);
            rc[c - c0..c - c0 + 4].copy_from_slice(&r);
        }
        c += 4;
    }
    while c < c1 {
        out[c - c0] = dot(col(c), w);
        if j > 0 {
            rc[c - c0] = dot(col(c), xr);
        }
        c += 1;
    }
    // Y's earlier columns, contiguous (not a gather of Y's rows)
    acc_cols(out, y.add(c0), n, nyp);
    for o in out.iter_mut() {
        *o = tau * *o;
    }
}

/// The left-hand product of step `i` for rows `r0..r1` (global, `r0 > i`):
/// `X[r, j] = tau (A(r, p:n) cu + X(r, 0:j) nxa)` with `cu = [-xy; u]` (the panel's columns
/// `p..=i` and the trailing ones `i+1..n` are adjacent).
///
/// # Safety
/// As [`y_piece`], for rows `r0..r1` of column `j` of `x` (`m x NB`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn x_piece<T: Real>(
    a: *const T,
    m: usize,
    p: usize,
    x: *mut T,
    j: usize,
    r0: usize,
    r1: usize,
    cu: &[T],
    nxa: &[T],
    tau: T,
) {
    let out = core::slice::from_raw_parts_mut(x.add(j * m + r0), r1 - r0);
    out.fill(T::ZERO);
    acc_cols(out, a.add(p * m + r0), m, cu);
    acc_cols(out, x.add(r0), m, nxa);
    for o in out.iter_mut() {
        *o = tau * *o;
    }
}

/// Columns per chunk of [`fused_piece`]: about 256 KiB of the trailing matrix, so that a chunk
/// read for the right-hand product is still in L2 (2 MiB a core here) when it is read again for
/// the left-hand one; a multiple of 4 (the dot products go four columns at a time).
fn fused_chunk(rows: usize) -> usize {
    ((1usize << 15) / rows.max(1)).clamp(4, 64) / 4 * 4
}

/// Step `i`'s fused pass over the trailing columns `c0..c1` (Howell et al.'s "BLAS 2.5"): chunk
/// by chunk, [`y_piece`]'s `Y(c, j)` and `rc[c]`; then the updated row `i`,
/// `row(c) = A(i, c) - rc[c] - Y(c, 0..=j) . A(i, p..=i)` (`narow = -A(i, p..=i)`), whose
/// reflector is the next right-hand one; and `z += A(i+1:m, c) row(c)` for `c >= i + 2`, the
/// left-hand product with that reflector before its scaling (see [`gebrd`]). Each chunk of the
/// trailing matrix comes from memory once instead of twice.
///
/// # Safety
/// As [`y_piece`]; `row.add(c - i - 1)` is the row's entry for column `c`, written by this call
/// only for `c0..c1`; `z` holds `m - i - 1` elements of this piece alone.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn fused_piece<T: Real>(
    a: *const T,
    m: usize,
    n: usize,
    p: usize,
    i: usize,
    y: *mut T,
    j: usize,
    c0: usize,
    c1: usize,
    w: &[T],
    nyp: &[T],
    xr: &[T],
    narow: &[T],
    rc: *mut T,
    tau: T,
    row: *mut T,
    z: &mut [T],
) {
    let chunk = fused_chunk(m - p);
    let mut c = c0;
    while c < c1 {
        let ce = (c + chunk).min(c1);
        y_piece(a, m, n, p, y, j, c, ce, w, nyp, xr, rc, tau);
        let r = core::slice::from_raw_parts_mut(row.add(c - i - 1), ce - c);
        for (q, rr) in r.iter_mut().enumerate() {
            *rr = *a.add((c + q) * m + i);
        }
        if j > 0 {
            for (q, rr) in r.iter_mut().enumerate() {
                *rr = *rr - *rc.add(c + q);
            }
        }
        acc_cols(r, y.add(c), n, narow);
        let cz = c.max(i + 2);
        if ce > cz {
            acc_cols(z, a.add(cz * m + i + 1), m, &r[cz - c..]);
        }
        c = ce;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn fused_piece_avx2<T: Real>(
    a: *const T,
    m: usize,
    n: usize,
    p: usize,
    i: usize,
    y: *mut T,
    j: usize,
    c0: usize,
    c1: usize,
    w: &[T],
    nyp: &[T],
    xr: &[T],
    narow: &[T],
    rc: *mut T,
    tau: T,
    row: *mut T,
    z: &mut [T],
) {
    fused_piece(a, m, n, p, i, y, j, c0, c1, w, nyp, xr, narow, rc, tau, row, z)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn x_piece_avx2<T: Real>(
    a: *const T,
    m: usize,
    p: usize,
    x: *mut T,
    j: usize,
    r0: usize,
    r1: usize,
    cu: &[T],
    nxa: &[T],
    tau: T,
) {
    x_piece(a, m, p, x, j, r0, r1, cu, nxa, tau)
}

/// Upper bidiagonalization of the column-major `m x n` matrix `a` (`m >= n >= 1`, leading
/// dimension m), as `svd_small`'s `bidiag` leaves it: diagonal in `d`, superdiagonal in
/// `e[..n-1]` (`e[n-1] = 0`), the left reflectors below the diagonal of `a` (scales in `tauq`),
/// the right ones right of the superdiagonal in the rows of `a` (scales in `taup`, LAPACK's
/// layout). `work` holds [`work_len`] elements.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gebrd<T: Real>(
    a: &mut [T],
    m: usize,
    n: usize,
    d: &mut [T],
    e: &mut [T],
    tauq: &mut [T],
    taup: &mut [T],
    work: &mut [T],
    par: Par,
) {
    if crate::cpu::has_avx2_fma() {
        // SAFETY: the CPU has the features (checked just above).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            return gebrd_avx2(a, m, n, d, e, tauq, taup, work, par);
        }
    }
    gebrd_impl(a, m, n, d, e, tauq, taup, work, par)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gebrd_avx2<T: Real>(
    a: &mut [T],
    m: usize,
    n: usize,
    d: &mut [T],
    e: &mut [T],
    tauq: &mut [T],
    taup: &mut [T],
    work: &mut [T],
    par: Par,
) {
    gebrd_impl(a, m, n, d, e, tauq, taup, work, par)
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gebrd_impl<T: Real>(
    a: &mut [T],
    m: usize,
    n: usize,
    d: &mut [T],
    e: &mut [T],
    tauq: &mut [T],
    taup: &mut [T],
    work: &mut [T],
    par: Par,
) {
    assert!(m >= n && n >= 1 && a.len() >= m * n && work.len() >= work_len(m, n));
    let avx2 = crate::cpu::has_avx2_fma();
    let (xb, rest) = work.split_at_mut(m * NB);
    let (yb, rest) = rest.split_at_mut(n * NB);
    let (wb, rest) = rest.split_at_mut(m + NB);
    let (ub, rest) = rest.split_at_mut(n + NB + 1);
    let (rcb, rest) = rest.split_at_mut(n);
    let (c1, rest) = rest.split_at_mut(NB + 1);
    let (c2, rest) = rest.split_at_mut(NB + 1);
    let (c3, rest) = rest.split_at_mut(NB + 1);
    let (zb, _) = rest.split_at_mut(2 * m);
    let ap = SendPtr(a.as_mut_ptr());
    let xp = SendPtr(xb.as_mut_ptr());
    let yp_ = SendPtr(yb.as_mut_ptr());
    let mut p = 0;
    while p < n {
        let nb = NB.min(n - p);
        for j in 0..nb {
            let i = p + j;
            // SAFETY (this block): every slice below lies inside `a` (m x n, column-major),
            // `xb` (m x NB) or `yb` (n x NB); the column written (`a`'s column i, or a column of
            // X or Y) is disjoint from what is read alongside it.
            unsafe {
                let a = ap.get();
                let (x, y) = (xp.get(), yp_.get());
                // column i, rows i..m: A(i:m, i) -= A(i:m, p:i) Y(i, 0:j)^T + X(i:m, 0:j) A(p:i, i)
                let h = m - i;
                let coli = core::slice::from_raw_parts_mut(a.add(i * m + i), h);
                if j > 0 {
                    for k in 0..j {
                        c1[k] = T::ZERO - *y.add(k * n + i);
                        c2[k] = T::ZERO - *a.add(i * m + p + k);
                    }
                    acc_cols(coli, a.add(p * m + i), m, &c1[..j]);
                    acc_cols(coli, x.add(i), m, &c2[..j]);
                }
                let (beta, tq) = householder(coli[0], &mut coli[1..]);
                d[i] = beta;
                tauq[i] = tq;
                coli[0] = T::ONE;
                if i + 1 == n {
                    e[i] = T::ZERO;
                    taup[i] = T::ZERO;
                    continue;
                }
                // w = [-yx; v] with yx = X(i:m, 0:j)^T v; -yp = -A(i:m, p:i)^T v; xr = X(i, 0:j)
                let wv = &mut wb[..j + h];
                for k in 0..j {
                    c1[k] = T::ZERO - dot(core::slice::from_raw_parts(a.add((p + k) * m + i), h), coli);
                    wv[k] = T::ZERO - dot(core::slice::from_raw_parts(x.add(k * m + i), h), coli);
                    c2[k] = *x.add(k * m + i);
                }
                wv[j..].copy_from_slice(coli);
                let (wv, nypv, xrv) = (&*wv, &c1[..j], &c2[..j]);
                let rcp = SendPtr(rcb.as_mut_ptr());
                // Y(i+1:n, j) and the updated row i (A(i, i+1:n) -= Y(i+1:n, 0:j+1) A(i, p:i+1)^T
                // + A(p:i, i+1:n)^T X(i, 0:j)^T), with z = A(i+1:m, i+2:n) row(1:) for the left-hand
                // product, in one pass split by columns; each piece sums its own z
                let w = n - i - 1;
                let (cu, row) = ub.split_at_mut(j + 1);
                let row = &mut row[..w];
                for k in 0..=j {
                    c3[k] = T::ZERO - *a.add((p + k) * m + i);
                }
                let narow = &c3[..=j];
                let (cb, ce) = (i + 1, n);
                let zl = m - i - 1;
                let pieces = if (ce - cb) * h >= SPLIT_ELEMS && ce - cb >= 8 { 2 } else { 1 };
                let cmid = if pieces == 2 { cb + ((ce - cb) / 2).next_multiple_of(4).min(ce - cb) } else { ce };
                zb[..pieces * zl].fill(T::ZERO);
                let (rowp, zp) = (SendPtr(row.as_mut_ptr()), SendPtr(zb.as_mut_ptr()));
                let frun = |t: usize| {
                    let (lo, hi) = if t == 0 { (cb, cmid) } else { (cmid, ce) };
                    let (a, y, rc) = (ap.get() as *const T, yp_.get(), rcp.get());
                    // SAFETY: piece t owns z's t-th slice, rows lo..hi of Y's column j, rc and
                    // the row's entries for its columns (see fused_piece).
                    let z = core::slice::from_raw_parts_mut(zp.get().add(t * zl), zl);
                    if avx2 {
                        #[cfg(target_arch = "x86_64")]
                        fused_piece_avx2(a, m, n, p, i, y, j, lo, hi, wv, nypv, xrv, narow, rc, tq, rowp.get(), z);
                    } else {
                        fused_piece(a, m, n, p, i, y, j, lo, hi, wv, nypv, xrv, narow, rc, tq, rowp.get(), z);
                    }
                };
                if pieces == 2 {
                    par.for_each(2, &|t| frun(t));
                    let (z0, z1) = zb[..2 * zl].split_at_mut(zl);
                    for (x0, x1) in z0.iter_mut().zip(z1.iter()) {
                        *x0 = *x0 + *x1;
                    }
                } else {
                    frun(0);
                }
                let (beta, tp, scal) = householder_scaled(row[0], &mut row[1..]);
                e[i] = beta;
                taup[i] = tp;
                row[0] = T::ONE;
                for (q, r) in row.iter().enumerate() {
                    *a.add((i + 1 + q) * m + i) = *r;
                }
                let u: &[T] = row;
                // cu = [-xy; u] with xy = Y(i+1:n, 0:j+1)^T u; -xa = -A(p:i, i+1:n) u
                for k in 0..=j {
                    cu[k] = T::ZERO - dot(core::slice::from_raw_parts(y.add(k * n + i + 1), w), u);
                }
                for k in 0..j {
                    c2[k] = T::ZERO;
                }
                acc_cols(&mut c2[..j], a.add((i + 1) * m + p), m, u);
                for k in 0..j {
                    c2[k] = T::ZERO - c2[k];
                }
                let (cuv, nxav) = (&ub[..j + 1 + w], &c2[..j]);
                let (rbeg, rend) = (i + 1, m);
                if let (Some(s), true) = (scal, rend > rbeg) {
                    // X(i+1:m, j) = tau (A(i+1:m, p:n) [-xy; u] + X(i+1:m, 0:j) nxa): the
                    // trailing part is A(i+1:m, i+1) + s z (u = [1; s row(1:)]), the pass above
                    // having summed z; the panel's columns and X's remain, O(NB m)
                    let out = core::slice::from_raw_parts_mut(x.add(j * m + rbeg), rend - rbeg);
                    let (coln, zs) = (core::slice::from_raw_parts(a.add((i + 1) * m + rbeg), rend - rbeg), &zb[..zl]);
                    for ((o, c), z) in out.iter_mut().zip(coln).zip(zs) {
                        *o = *c + s * *z;
                    }
                    acc_cols(out, a.add(p * m + rbeg), m, &cuv[..=j]);
                    acc_cols(out, x.add(rbeg), m, nxav);
                    for o in out.iter_mut() {
                        *o = tp * *o;
                    }
                } else if rend > rbeg {
                    // no scale factor (a zero or tiny row): the left-hand product in full,
                    // split by rows
                    let pieces = if (rend - rbeg) * w >= SPLIT_ELEMS && rend - rbeg >= 32 { 2 } else { 1 };
                    let rmid = if pieces == 2 { rbeg + ((rend - rbeg) / 2).next_multiple_of(8).min(rend - rbeg) } else { rend };
                    let xrun = |t: usize| {
                        let (lo, hi) = if t == 0 { (rbeg, rmid) } else { (rmid, rend) };
                        let (a, x) = (ap.get() as *const T, xp.get());
                        if avx2 {
                            #[cfg(target_arch = "x86_64")]
                            x_piece_avx2(a, m, p, x, j, lo, hi, cuv, nxav, tp);
                        } else {
                            x_piece(a, m, p, x, j, lo, hi, cuv, nxav, tp);
                        }
                    };
                    if pieces == 2 {
                        par.for_each(2, &|t| xrun(t));
                    } else {
                        xrun(0);
                    }
                }
            }
        }
        let q0 = p + nb;
        if q0 < n {
            // the trailing update A(q0:m, q0:n) += A(q0:m, p:q0) (-Y(q0:n, :))^T + (-X(q0:m, :)) A(p:q0, q0:n)
            // (A(q0-1, q0) holds the last right reflector's unit)
            let (rows, cols) = (m - q0, n - q0);
            for k in 0..nb {
                for v in yb[k * n + q0..(k + 1) * n].iter_mut() {
                    *v = T::ZERO - *v;
                }
                for v in xb[k * m + q0..(k + 1) * m].iter_mut() {
                    *v = T::ZERO - *v;
                }
            }
            let pieces = if rows * cols * nb >= GEMM_SPLIT && cols >= 32 { 2 } else { 1 };
            let cmid = if pieces == 2 { (cols / 2).next_multiple_of(16).min(cols) } else { cols };
            let grun = |t: usize| {
                let (lo, hi) = if t == 0 { (0, cmid) } else { (cmid, cols) };
                if hi == lo {
                    return;
                }
                let (a, x, y) = (ap.get(), xp.get(), yp_.get());
                let mut scratch = Vec::new();
                // SAFETY: C (rows q0..m, columns q0+lo..q0+hi of `a`) is written by this piece
                // only; the panel's columns p..q0, rows p..q0 of the trailing columns, X and Y
                // are only read, and none of them overlaps C.
                unsafe {
                    let c = Mat { ptr: a.add((q0 + lo) * m + q0), rows, cols: hi - lo, rs: 1, cs: m as isize };
                    let upan = Mat { ptr: a.add(p * m + q0), rows, cols: nb, rs: 1, cs: m as isize };
                    let yt = Mat { ptr: y.add(q0 + lo), rows: nb, cols: hi - lo, rs: n as isize, cs: 1 };
                    gemm_seq_with(c, upan, yt, true, &mut scratch);
                    let xm = Mat { ptr: x.add(q0), rows, cols: nb, rs: 1, cs: m as isize };
                    let vr = Mat { ptr: a.add((q0 + lo) * m + p), rows: nb, cols: hi - lo, rs: 1, cs: m as isize };
                    gemm_seq_with(c, xm, vr, true, &mut scratch);
                }
            };
            if pieces == 2 {
                par.for_each(2, &grun);
            } else {
                grun(0);
            }
        }
        // the diagonal and superdiagonal back in place of the reflectors' units
        for i in p..q0 {
            a[i * m + i] = d[i];
            if i + 1 < n {
                a[(i + 1) * m + i] = e[i];
            }
        }
        p = q0;
    }
}

/// Reflectors per block of the back-transformation ([`apply_q_bidiag`], [`apply_p_bidiag`]).
/// Measured (`back_transformation_timing`, f64, one thread, CPU time over an n^3 GEMM's on the
/// same run, since the machine's speed moved by 1.5x within minutes), U side, n = 256 / 512 /
/// 1024: 16: 1.7 / 1.45 / 1.44; 24: 1.65 / 1.4 / 1.3; 32: 1.78 / 1.4 / 1.28; 48: 2.0 / 1.38 /
/// 1.25; 64: 2.3-2.8 / 1.45-2.0 / 1.33; 128: 4.5 / 2.2 / 1.6. Wider blocks make the update's
/// GEMMs deeper but cost `T` and the zeros above `V`'s diagonal (`2 qb` flops per element of U
/// and block each), which small orders feel.
pub(crate) const BT_QB: usize = 32;

/// Column width of a back-transformation task, at most (see [`bt_col_block`]).
pub(crate) const BT_ZB: usize = 128;

/// The back-transformation's column block for `k` columns: at most [`BT_ZB`] wide, in an even
/// number of blocks from 64 columns up, so that two threads finish together (300 columns:
/// 4 x 80 rather than 128 + 128 + 44). A function of `k` alone, so the thread count never
/// changes a result.
fn bt_col_block(k: usize) -> usize {
    let nblk = k.div_ceil(BT_ZB);
    let nblk = if k >= 64 { nblk.next_multiple_of(2) } else { 1 };
    k.div_ceil(nblk).next_multiple_of(8).max(1)
}

/// The pool for a back-transformation of `2 rows n k` flops only if it is worth splitting
/// (about a 64 x 64 x 128 product: below, a helper's hand-off costs more than it saves).
fn bt_par<T>(par: Par<'_>, rows: usize, n: usize, k: usize) -> Par<'_> {
    par.when(crate::gemm::worth_splitting::<T>(rows, n, k))
}

/// U := Q U: Q = H_0 H_1 ... H_{n-1} from gebrd's left reflectors in `a` (m x n, lda = m)
/// and `tauq`; `u` is column-major m x k (k columns, leading dimension ldu >= m), typically
/// [U_B; 0] with U_B the n x n left singular vectors of B (LAPACK dormbr 'Q','L','N').
///
/// Blocks of [`BT_QB`] reflectors, last first, each applied as `I - V T V^T` by GEMM per
/// column block of `u` ([`crate::larfb::apply_left`]); the same bits for any thread count.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_q_bidiag<T: Real>(
    a: &[T],
    m: usize,
    n: usize,
    tauq: &[T],
    u: &mut [T],
    ldu: usize,
    k: usize,
    par: Par,
) {
    assert!(m >= n && a.len() >= m * n && tauq.len() >= n && ldu >= m);
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let c = MatMut::from_column_major_slice_with_stride_mut(&mut u[..(k - 1) * ldu + m], m, k, ldu);
    // H_i acts on rows i..m: its tail below the diagonal in column i of `a`
    let h = Reflectors { a, off: 0, rs: 1, cs: m, rows: m, k: n, tau: tauq };
    apply_left(&h, c, BT_QB, bt_col_block(k), TFactor::Gemm, bt_par::<T>(par, m, n, k));
}

/// V := P V: P = G_0 G_1 ... G_{n-2} from gebrd's right reflectors in the rows of `a` and
/// `taup`; `v` is column-major n x k (leading dimension ldv >= n), typically the n x n right
/// singular vectors of B (so that A = (Q U_B) S (P V_B)^T; LAPACK dormbr 'P','L','N' applied to V).
///
/// As [`apply_q_bidiag`]; the reflectors' tails, strided rows of `a`, are gathered into the
/// packed blocks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_p_bidiag<T: Real>(
    a: &[T],
    m: usize,
    n: usize,
    taup: &[T],
    v: &mut [T],
    ldv: usize,
    k: usize,
    par: Par,
) {
    assert!(m >= n && a.len() >= m * n && ldv >= n && taup.len() + 1 >= n);
    if n <= 1 || k == 0 {
        return;
    }
    let c = MatMut::from_column_major_slice_with_stride_mut(&mut v[1..(k - 1) * ldv + n], n - 1, k, ldv);
    // G_i acts on rows i + 1..n of V (row r + 1 of V is row r here): its unit at a(i, i + 1),
    // its tail a(i, i + 2..n), so element r > i of reflector i sits at a[(r + 1) m + i]
    let h = Reflectors { a, off: m, rs: m, cs: 1, rows: n - 1, k: n - 1, tau: taup };
    apply_left(&h, c, BT_QB, bt_col_block(k), TFactor::Gemm, bt_par::<T>(par, n, n, k));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rand_mat(m: usize, n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..m * n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    /// The blocked reduction's bidiagonal against the unblocked one's: the same up to rounding
    /// (the reflectors are the same up to rounding, signs included), and its Frobenius norm
    /// equals A's; one thread and two give the same bits.
    #[test]
    fn matches_unblocked() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for &(m, n) in &[(1usize, 1usize), (5, 3), (33, 33), (40, 31), (64, 64), (100, 70), (130, 130), (300, 257)] {
            let a = rand_mat(m, n, (m * 7 + n) as u64);
            let mut w1 = a.clone();
            let (mut d1, mut e1, mut tq1, mut tp1) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let mut wk = vec![0.0; work_len(m, n)];
            gebrd(&mut w1, m, n, &mut d1, &mut e1, &mut tq1, &mut tp1, &mut wk, Par::SEQ);
            let mut w2 = a.clone();
            let (mut d2, mut e2, mut tq2, mut tp2) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            gebrd(&mut w2, m, n, &mut d2, &mut e2, &mut tq2, &mut tp2, &mut wk, pool.par());
            assert_eq!(w1, w2);
            assert_eq!((&d1, &e1, &tq1, &tp1), (&d2, &e2, &tq2, &tp2));
            let mut w3 = a.clone();
            let (mut d3, mut e3, mut tq3, mut tp3, mut r, mut z) =
                (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; m + 2]);
            crate::svd_small::bidiag(&mut w3, m, n, &mut d3, &mut e3, &mut tq3, &mut tp3, None, &mut r, &mut z);
            let scale = (a.iter().map(|x| x * x).sum::<f64>()).sqrt();
            for i in 0..n {
                assert!((d1[i] - d3[i]).abs() <= 1e-12 * scale, "{m}x{n} d[{i}] {} {}", d1[i], d3[i]);
                assert!((e1[i] - e3[i]).abs() <= 1e-12 * scale, "{m}x{n} e[{i}] {} {}", e1[i], e3[i]);
                assert!((tq1[i] - tq3[i]).abs() <= 1e-10, "{m}x{n} tauq[{i}]");
                assert!((tp1[i] - tp3[i]).abs() <= 1e-10, "{m}x{n} taup[{i}]");
            }
            // the left reflectors below the diagonal
            for j in 0..n {
                for i in j + 1..m {
                    assert!((w1[j * m + i] - w3[j * m + i]).abs() <= 1e-9, "{m}x{n} v ({i},{j})");
                }
            }
        }
    }

    fn to_f64<T: Real>(x: &[T]) -> Vec<f64> {
        x.iter().map(|v| v.to_f64()).collect()
    }

    /// gebrd of `a` (m x n): the reflectors in `w`, d, e, tauq, taup.
    #[allow(clippy::type_complexity)]
    fn reduce<T: Real>(a: &[f64], m: usize, n: usize) -> (Vec<T>, Vec<T>, Vec<T>, Vec<T>, Vec<T>) {
        let mut w: Vec<T> = a.iter().map(|&x| T::from_f64(x)).collect();
        let (mut d, mut e, mut tq, mut tp) = (vec![T::ZERO; n], vec![T::ZERO; n], vec![T::ZERO; n], vec![T::ZERO; n]);
        let mut wk = vec![T::ZERO; work_len(m, n)];
        gebrd(&mut w, m, n, &mut d, &mut e, &mut tq, &mut tp, &mut wk, Par::SEQ);
        (w, d, e, tq, tp)
    }

    /// `Q [B; 0] P^T` from gebrd's output, as apply_p_bidiag(apply_q_bidiag([B; 0])^T)^T, with
    /// leading dimensions past the rows (their padding must come back untouched); the result
    /// column-major m x n.
    #[allow(clippy::too_many_arguments)]
    fn reconstruct<T: Real>(w: &[T], m: usize, n: usize, d: &[T], e: &[T], tq: &[T], tp: &[T], par: Par) -> Vec<f64> {
        let (ldu, ldv) = (m + 3, n + 2);
        let pad = T::from_f64(7.25);
        // X = [B; 0], m x n
        let mut x = vec![pad; ldu * n];
        for j in 0..n {
            for i in 0..m {
                x[j * ldu + i] = if i == j {
                    d[j]
                } else if i + 1 == j {
                    e[i]
                } else {
                    T::ZERO
                };
            }
        }
        apply_q_bidiag(w, m, n, tq, &mut x, ldu, n, par);
        // Y = (Q X)^T, n x m, then P Y = A^T
        let mut y = vec![pad; ldv * m];
        for j in 0..n {
            for i in 0..m {
                y[i * ldv + j] = x[j * ldu + i];
            }
        }
        apply_p_bidiag(w, m, n, tp, &mut y, ldv, m, par);
        for j in 0..n {
            assert!(x[j * ldu + m..(j + 1) * ldu].iter().all(|&v| v == pad), "{m}x{n}: u's padding written");
        }
        for i in 0..m {
            assert!(y[i * ldv + n..(i + 1) * ldv].iter().all(|&v| v == pad), "{m}x{n}: v's padding written");
        }
        let mut r = vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                r[j * m + i] = y[i * ldv + j].to_f64();
            }
        }
        r
    }

    fn frob(x: &[f64]) -> f64 {
        x.iter().map(|v| v * v).sum::<f64>().sqrt()
    }

    /// `||X^T X - I||_max` for the column-major `rows x cols` X.
    fn orth_err(x: &[f64], rows: usize, cols: usize) -> f64 {
        let mut worst = 0.0f64;
        for i in 0..cols {
            for j in 0..cols {
                let s: f64 = (0..rows).map(|r| x[i * rows + r] * x[j * rows + r]).sum();
                worst = worst.max((s - if i == j { 1.0 } else { 0.0 }).abs());
            }
        }
        worst
    }

    /// Q (m x m) and P (n x n) applied to the identity, as f64, for the first `k` columns.
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn q_and_p<T: Real>(w: &[T], m: usize, n: usize, tq: &[T], tp: &[T], kq: usize, kp: usize, par: Par) -> (Vec<f64>, Vec<f64>) {
        let mut q = vec![T::ZERO; m * kq];
        for j in 0..kq {
            q[j * m + j] = T::ONE;
        }
        apply_q_bidiag(w, m, n, tq, &mut q, m, kq, par);
        let mut p = vec![T::ZERO; n * kp];
        for j in 0..kp {
            p[j * n + j] = T::ONE;
        }
        apply_p_bidiag(w, m, n, tp, &mut p, n, kp, par);
        (to_f64(&q), to_f64(&p))
    }

    const BT_SHAPES: &[(usize, usize)] =
        &[(1, 1), (2, 2), (5, 3), (17, 17), (64, 64), (66, 65), (100, 70), (129, 129), (300, 300), (310, 257)];

    /// `A = Q [B; 0] P^T` to `4 max(m, n) eps ||A||_F` and `Q^T Q = I`, `P^T P = I` to `4 m eps`
    /// (at most 0.28 and 0.19 of these seen, at 2x2 and 5x3), the first `k < n` columns of
    /// `Q I` and `P I` on their own as within the whole, the same bits on one thread and on the
    /// pool; and a zeroed `tauq` or `taup` misses the reconstruction by over 100 times its tolerance.
    fn back_transformation<T: Real>() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let eps = T::EPSILON.to_f64();
        for &(m, n) in BT_SHAPES {
            let a = rand_mat(m, n, (m * 13 + n) as u64);
            let (w, d, e, tq, tp) = reduce::<T>(&a, m, n);
            // the matrix gebrd saw (rounded to T)
            let a_r: Vec<f64> = a.iter().map(|&x| T::from_f64(x).to_f64()).collect();
            let anorm = frob(&a_r);
            let tol = 4.0 * m.max(n) as f64 * eps * anorm;
            let r1 = reconstruct(&w, m, n, &d, &e, &tq, &tp, Par::SEQ);
            let r2 = reconstruct(&w, m, n, &d, &e, &tq, &tp, pool.par());
            assert!(r1.iter().zip(&r2).all(|(x, y)| x.to_bits() == y.to_bits()), "{} {m}x{n}: threads changed bits", T::NAME);
            let diff: Vec<f64> = r1.iter().zip(&a_r).map(|(x, y)| x - y).collect();
            let res = frob(&diff);
            assert!(res <= tol, "{} {m}x{n}: ||A - Q B P^T|| = {res:e} > {tol:e}", T::NAME);
            // orthogonality
            let (q, p) = q_and_p(&w, m, n, &tq, &tp, m, n, Par::SEQ);
            let (q2, p2) = q_and_p(&w, m, n, &tq, &tp, m, n, pool.par());
            assert!(q == q2 && p == p2, "{} {m}x{n}: threads changed Q or P", T::NAME);
            let otol = 4.0 * m as f64 * eps;
            let (oq, op) = (orth_err(&q, m, m), orth_err(&p, n, n));
            assert!(oq <= otol && op <= otol, "{} {m}x{n}: Q^T Q - I {oq:e}, P^T P - I {op:e} > {otol:e}", T::NAME);
            // k < n columns: the same columns as within the whole (to rounding: the column blocks
            // differ, so the GEMMs may round differently)
            if n > 1 {
                let k = (n / 2).max(1);
                let (qk, pk) = q_and_p(&w, m, n, &tq, &tp, k, k, pool.par());
                let ctol = 10.0 * m as f64 * eps;
                assert!(qk.iter().zip(&q[..m * k]).all(|(x, y)| (x - y).abs() <= ctol), "{} {m}x{n}: Q's first {k} columns", T::NAME);
                assert!(pk.iter().zip(&p[..n * k]).all(|(x, y)| (x - y).abs() <= ctol), "{} {m}x{n}: P's first {k} columns", T::NAME);
            }
            // the test would see broken reflectors (zero tau: Q or P = I); 1x1 has none to break
            let zeros = vec![T::ZERO; n];
            if m > 1 && tq.iter().any(|&t| t != T::ZERO) {
                let rb = reconstruct(&w, m, n, &d, &e, &zeros, &tp, Par::SEQ);
                let diff: Vec<f64> = rb.iter().zip(&a_r).map(|(x, y)| x - y).collect();
                assert!(frob(&diff) > 100.0 * tol, "{} {m}x{n}: zeroed tauq went unnoticed", T::NAME);
            }
            if n > 2 && tp.iter().any(|&t| t != T::ZERO) {
                let rb = reconstruct(&w, m, n, &d, &e, &tq, &zeros, Par::SEQ);
                let diff: Vec<f64> = rb.iter().zip(&a_r).map(|(x, y)| x - y).collect();
                assert!(frob(&diff) > 100.0 * tol, "{} {m}x{n}: zeroed taup went unnoticed", T::NAME);
            }
        }
    }

    #[test]
    fn back_transformation_f64() {
        back_transformation::<f64>();
    }

    #[test]
    fn back_transformation_f32() {
        back_transformation::<f32>();
    }

    /// The back-transformation of an n x n SVD, `U := Q U` and `V := P V` (k = n), f64, ms: the
    /// median wall time on one thread and on the pool, the best CPU time on one thread, and an
    /// n x n x n GEMM's (as many flops as one side: a yardstick on a machine whose speed moves
    /// with its other load). Run with `--ignored --nocapture`; `BT_SIZES` overrides the sizes.
    #[test]
    #[ignore]
    fn back_transformation_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let sizes: Vec<usize> = std::env::var("BT_SIZES")
            .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
            .unwrap_or(vec![256, 512, 1024]);
        for n in sizes {
            let a = rand_mat(n, n, n as u64);
            let (w, _, _, tq, tp) = reduce::<f64>(&a, n, n);
            let c0 = rand_mat(n, n, 3 * n as u64 + 1);
            let mut c = c0.clone();
            let rounds = if n >= 1024 { 7 } else { 15 };
            let mut row = Vec::new();
            for (label, par) in [("1 thread", Par::SEQ), ("pool", pool.par())] {
                let mut tu = Vec::new();
                let mut tv = Vec::new();
                for _ in 0..rounds {
                    c.copy_from_slice(&c0);
                    let t = std::time::Instant::now();
                    apply_q_bidiag(&w, n, n, &tq, &mut c, n, n, par);
                    tu.push(t.elapsed().as_secs_f64() * 1e3);
                    c.copy_from_slice(&c0);
                    let t = std::time::Instant::now();
                    apply_p_bidiag(&w, n, n, &tp, &mut c, n, n, par);
                    tv.push(t.elapsed().as_secs_f64() * 1e3);
                }
                tu.sort_by(|x, y| x.partial_cmp(y).unwrap());
                tv.sort_by(|x, y| x.partial_cmp(y).unwrap());
                let (mu, mv) = (tu[rounds / 2], tv[rounds / 2]);
                row.push(format!("{label}: U {mu:7.2} V {mv:7.2} both {:7.2} (best {:7.2})", mu + mv, tu[0] + tv[0]));
            }
            let now = crate::testing::thread_cpu_time;
            let (mut cu, mut cv, mut cg) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
            let mut g = vec![0.0; n * n];
            for _ in 0..rounds {
                c.copy_from_slice(&c0);
                let t = now();
                apply_q_bidiag(&w, n, n, &tq, &mut c, n, n, Par::SEQ);
                cu = cu.min((now() - t) * 1e3);
                c.copy_from_slice(&c0);
                let t = now();
                apply_p_bidiag(&w, n, n, &tp, &mut c, n, n, Par::SEQ);
                cv = cv.min((now() - t) * 1e3);
                let t = now();
                // SAFETY: three distinct n x n column-major buffers.
                unsafe {
                    let gm = Mat { ptr: g.as_mut_ptr(), rows: n, cols: n, rs: 1, cs: n as isize };
                    let am = Mat { ptr: c0.as_ptr() as *mut f64, rows: n, cols: n, rs: 1, cs: n as isize };
                    let bm = Mat { ptr: c.as_ptr() as *mut f64, rows: n, cols: n, rs: 1, cs: n as isize };
                    gemm_seq_with(gm, am, bm, false, &mut Vec::new());
                }
                cg = cg.min((now() - t) * 1e3);
            }
            row.push(format!("1 thread cpu best: U {cu:7.2} V {cv:7.2} | n^3 gemm {cg:7.2}"));
            println!("n={n:5} ms | {}", row.join(" | "));
        }
    }

    /// The phases of the values-only SVD of one n x n matrix, best of runs, ms: the old path
    /// (`svd_small`: unblocked reduction and dqds), the blocked reduction on one thread and on
    /// two, dqds, faer's singular values (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn gebrd_timing() {
        faer::set_global_parallelism(faer::Par::Seq);
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let sizes: Vec<usize> = std::env::var("GEBRD_SIZES")
            .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
            .unwrap_or(vec![128, 192, 256, 384, 512, 1024]);
        for n in sizes {
            let a = rand_mat(n, n, n as u64);
            let reps = (30_000_000 / (n * n * n)).clamp(1, 200);
            let rounds = if n >= 1024 { 3 } else { 7 };
            let mut wk = vec![0.0; crate::svd_small::work_len(n, n, false, false)];
            let mut perm = vec![0usize; n];
            let mut w = a.clone();
            let (mut d, mut e, mut tq, mut tp) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let mut gw = vec![0.0; work_len(n, n)];
            let mut vw = vec![0.0; crate::svd_small::dqds_work_len(n)];
            let mut t_b1w = f64::INFINITY;
            let (mut t_old, mut t_b1, mut t_b2, mut t_dq, mut t_faer) =
                (f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY);
            let am = faer::Mat::<f64>::from_fn(n, n, |i, j| a[j * n + i]);
            // one thread: this thread's CPU time (the machine is shared); two threads: wall time
            let now = crate::testing::thread_cpu_time;
            for _ in 0..rounds {
                let t = now();
                for _ in 0..reps {
                    wk[..n * n].copy_from_slice(&a);
                    assert!(crate::svd_small::svd_small(&mut wk, &mut perm, n, n, false, n, crate::threads::Par::SEQ).is_some());
                }
                t_old = t_old.min((now() - t) / reps as f64 * 1e3);
                let t = now();
                for _ in 0..reps {
                    w.copy_from_slice(&a);
                    gebrd(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, &mut gw, Par::SEQ);
                }
                t_b1 = t_b1.min((now() - t) / reps as f64 * 1e3);
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    w.copy_from_slice(&a);
                    gebrd(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, &mut gw, Par::SEQ);
                }
                t_b1w = t_b1w.min(t.elapsed().as_secs_f64() / reps as f64 * 1e3);
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    w.copy_from_slice(&a);
                    gebrd(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, &mut gw, pool.par());
                }
                t_b2 = t_b2.min(t.elapsed().as_secs_f64() / reps as f64 * 1e3);
                let (d0, e0) = (d.clone(), e.clone());
                let t = now();
                for _ in 0..reps {
                    d.copy_from_slice(&d0);
                    e.copy_from_slice(&e0);
                    assert!(crate::svd_small::bidiag_values(&mut d, &mut e, &mut vw));
                }
                t_dq = t_dq.min((now() - t) / reps as f64 * 1e3);
                d.copy_from_slice(&d0);
                e.copy_from_slice(&e0);
                if std::env::var("GEBRD_FAER").is_ok() {
                    let t = now();
                    let _ = am.as_ref().singular_values().unwrap();
                    t_faer = t_faer.min((now() - t) * 1e3);
                }
            }
            println!("n={n:5} old (unblocked+dqds) {t_old:8.2} ms | blocked reduction 1 thr (cpu) {t_b1:8.2} ms (wall) {t_b1w:8.2} ms, 2 thr (wall) {t_b2:8.2} ms | dqds {t_dq:7.2} ms | faer values {t_faer:8.2} ms");
        }
    }
}
