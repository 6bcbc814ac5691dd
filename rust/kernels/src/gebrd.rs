//! Blocked Householder bidiagonalization (LAPACK's `dgebrd` with `dlabrd` panels) of a
//! column-major working copy. It served the values-only SVD of mid-size and large matrices until
//! the two-stage reduction (`ge2gb.rs` + `gbbrd.rs`) beat it at every size (see svd.rs); it is
//! now compiled for the tests only, as the baseline of their timings.
//!
//! `A = Q B P^T` with `B` upper bidiagonal (`m >= n`). Each panel of [`NB`] columns computes its
//! left and right reflectors one at a time, keeping the updates of the trailing matrix in the
//! `X` (`m x NB`) and `Y` (`n x NB`) blocks; the trailing matrix is then updated once per panel,
//! `A -= U Y^T + X V^T`, by two GEMMs.
//!
//! Cost: `8/3 n^3` flops for a square matrix (`4 m n^2 - 4/3 n^3` in general). Half of them are
//! the two matrix-vector products per step on the not-yet-updated trailing matrix
//! (`A^T v` for the right side, `A u` for the left), which read the whole trailing matrix twice
//! per step and are bound by memory bandwidth: with an L2 of 2 MiB per core here, a 256x256
//! f64 matrix (0.5 MB) streams from L2, a 1024x1024 one (8 MB) from L3. The other half is the
//! panel's trailing update, in GEMM at close to peak. The unblocked kernel of `svd_small.rs`
//! reads and writes the trailing matrix twice per step instead (all its flops are level 2).
//!
//! Threads: the two matrix-vector products of a step are split in two fixed pieces (by columns
//! for `A^T v`, each column a dot product; by rows for `A u`) and the trailing update in two
//! fixed blocks of columns, run by [`Par::for_each`] (in turn on one thread). Every output
//! element is computed by the same operations in the same order whoever runs its piece, so one
//! thread and two give the same bits. The small corrections of a step (the products with the
//! panel's earlier columns, `O(NB n)` each) run on the calling thread, except those folded into
//! the long products: in a trailing column, the rows `p..i` of the panel's right reflectors sit
//! just above the rows `i..m` that `A^T v` reads, and the panel's columns sit just left of the
//! trailing ones that `A u` reads, so one longer pass does both.
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

use crate::gemm::{gemm_seq_with, Mat};
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::svd_small::{dot, householder, lanes, sum_lanes, LANES};
use crate::threads::Par;

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
    // small coefficient vectors
    m * NB + n * NB + (m + NB) + (n + NB + 1) + n + 2 * (NB + 1)
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn y_piece_avx2<T: Real>(
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
    y_piece(a, m, n, p, y, j, c0, c1, w, nyp, xr, rc, tau)
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
    let (c2, _) = rest.split_at_mut(NB + 1);
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
                // Y(i+1:n, j), the large product split by columns
                let (cb, ce) = (i + 1, n);
                let pieces = if (ce - cb) * h >= SPLIT_ELEMS && ce - cb >= 8 { 2 } else { 1 };
                let cmid = if pieces == 2 { cb + ((ce - cb) / 2).next_multiple_of(4).min(ce - cb) } else { ce };
                let yrun = |t: usize| {
                    let (lo, hi) = if t == 0 { (cb, cmid) } else { (cmid, ce) };
                    let (a, y, rc) = (ap.get() as *const T, yp_.get(), rcp.get());
                    if avx2 {
                        #[cfg(target_arch = "x86_64")]
                        y_piece_avx2(a, m, n, p, y, j, lo, hi, wv, nypv, xrv, rc, tq);
                    } else {
                        y_piece(a, m, n, p, y, j, lo, hi, wv, nypv, xrv, rc, tq);
                    }
                };
                if pieces == 2 {
                    par.for_each(2, &|t| yrun(t));
                } else {
                    yrun(0);
                }
                // row i: A(i, i+1:n) -= Y(i+1:n, 0:j+1) A(i, p:i+1)^T + A(p:i, i+1:n)^T X(i, 0:j)^T
                let w = n - i - 1;
                let (cu, row) = ub.split_at_mut(j + 1);
                let row = &mut row[..w];
                for (q, r) in row.iter_mut().enumerate() {
                    *r = *a.add((i + 1 + q) * m + i);
                }
                if j > 0 {
                    for (r, c) in row.iter_mut().zip(&rcb[i + 1..n]) {
                        *r = *r - *c;
                    }
                }
                for k in 0..=j {
                    c1[k] = T::ZERO - *a.add((p + k) * m + i);
                }
                acc_cols(row, y.add(i + 1), n, &c1[..=j]);
                let (beta, tp) = householder(row[0], &mut row[1..]);
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
                // X(i+1:m, j), split by rows
                let (rbeg, rend) = (i + 1, m);
                if rend > rbeg {
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
            let mut vw = vec![0.0; 5 * n];
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
                    assert!(crate::svd_small::svd_small(&mut wk, &mut perm, n, n, false, n).is_some());
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
