//! Stage 1 of the two-stage values-only SVD: a dense `m x n` matrix (`m >= n`) to an upper band
//! matrix of bandwidth `b` with the same singular values, `B = Q^T A P`, almost all of it in GEMM
//! (PLASMA's `ge2gb`, LAPACK 3.7's two-stage `dgebrd` stage 1).
//!
//! For `k = 0, b, 2b, ...`:
//! 1. QR of the column panel `A[k.., k..k+b]` (unblocked Householder on a contiguous copy, then
//!    the compact WY factor `T` as `dlarft`, from `S = V^T V` computed by one GEMM), and
//!    `C = A[k.., k+b..n]` `-= V (T^T (V^T C))`, split over threads by fixed blocks of
//!    [`UPD_COLS`] columns, each block's three GEMMs back to back while the block is in L2;
//! 2. LQ of the row panel `A[k..k+b, k+b..n]` (a QR of its transposed copy), and
//!    `C = A[k+b.., k+b..n]` `-= ((C Y) T) Y^T`, split by fixed blocks of [`UPD_ROWS`] rows.
//!
//! The blocks are fixed by the shape alone (not by the thread count) and each is computed by
//! the same sequential GEMMs whoever runs it, so one thread and many give the same bits.
//!
//! Cost: `4 m n^2 - 4/3 n^3` flops (`8/3 n^3` square) in the updates, all GEMM (half of it with an
//! inner dimension of `b`), plus `O(m n b)` in the panels, which run on one thread.
//!
//! Measured (`ge2gb_timing`, f64 square, b = 32, median wall ms; the machine was shared with
//! other builds, load 1.6 to 3.5 on its 2 cores, so the pool often had no second core):
//! n = 256: 1.3-1.8 (gebrd 2.9-3.4); 512: 7.7-8.6 (gebrd 23-25); 1024: 58-64 one thread, 39 on
//! the pool in the quieter run (gebrd 246-260 one thread, 154 pool); 2048: 611 (gebrd 1951).
//! On one core the left update's GEMMs (`V^T C`, `C += V W`, blocks of 128 columns) run at
//! ~70-77 GF/s (thread CPU time, n = 1024, first step); the right update's `C Y` (row blocks of
//! a column-major `C`, the reduction along its rows) at ~49 GF/s, which with the panels (~6% of
//! the time, on one thread, not overlapped) is what bounds it. Not done yet: a look-ahead that
//! factors the next panel while the other threads finish the update, and fusing the right
//! update's rank-b part with the next left update per column block.

use crate::gemm::{gemm_seq_with, Mat};
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::svd_small::{dot, householder};
use crate::sytrd::axpy;
use crate::threads::Par;

/// Columns per task of the left (QR) update.
const UPD_COLS: usize = 128;

/// Rows per task of the right (LQ) update.
const UPD_ROWS: usize = 128;

/// An update is run on the pool from this many multiply-adds.
const PAR_MIN_WORK: usize = 1 << 18;

/// Unblocked Householder QR of the column-major `rows x cols` panel `p` (leading dimension `ld`):
/// `R` on and above the diagonal, the reflectors' tails below it (`v[0] = 1` implied), the
/// scales in `tau[..min(rows, cols)]`. LAPACK's `dgeqr2`.
#[inline(always)]
fn panel_qr_body<T: Real>(p: &mut [T], rows: usize, cols: usize, ld: usize, tau: &mut [T]) {
    let nr = rows.min(cols);
    for i in 0..nr {
        let (head, tail) = p.split_at_mut((i + 1) * ld);
        let coli = &mut head[i * ld + i..i * ld + rows];
        let (beta, t) = householder(coli[0], &mut coli[1..]);
        coli[0] = beta;
        tau[i] = t;
        if t == T::ZERO {
            continue;
        }
        let v = &coli[1..];
        for c in 0..cols - i - 1 {
            let col = &mut tail[c * ld + i..c * ld + rows];
            let (c0, cr) = col.split_first_mut().expect("non-empty column");
            let w = *c0 + dot(v, cr);
            let f = T::ZERO - t * w;
            *c0 = *c0 + f;
            axpy(f, v, cr);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn panel_qr_avx2<T: Real>(p: &mut [T], rows: usize, cols: usize, ld: usize, tau: &mut [T]) {
    panel_qr_body(p, rows, cols, ld, tau)
}

/// [`panel_qr_body`] (LAPACK's `dgeqr2`), compiled for AVX2 + FMA where the CPU has them.
pub(crate) fn panel_qr<T: Real>(p: &mut [T], rows: usize, cols: usize, ld: usize, tau: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { panel_qr_avx2(p, rows, cols, ld, tau) };
    }
    panel_qr_body(p, rows, cols, ld, tau)
}

/// The panel factored by [`panel_qr`] in `p` (`rows x nr`, leading dimension `rows`) turned into
/// the explicit reflector basis `V` (zeros above the diagonal, ones on it), and `tn = -T` (`nr x
/// nr`, column-major, upper triangular) with `H_0 ... H_{nr-1} = I - V T V^T` (LAPACK's `dlarft`,
/// forward, columnwise), from `S = V^T V` (one GEMM) into `s`.
fn form_vt<T: Real>(p: &mut [T], rows: usize, nr: usize, tau: &[T], tn: &mut [T], s: &mut [T]) {
    for c in 0..nr {
        for x in p[c * rows..c * rows + c].iter_mut() {
            *x = T::ZERO;
        }
        p[c * rows + c] = T::ONE;
    }
    // SAFETY: p holds rows x nr elements, s nr x nr; s does not overlap p.
    unsafe {
        let v = Mat { ptr: p.as_mut_ptr(), rows, cols: nr, rs: 1, cs: rows as isize };
        let vt = Mat { ptr: p.as_mut_ptr(), rows: nr, cols: rows, rs: rows as isize, cs: 1 };
        let sm = Mat { ptr: s.as_mut_ptr(), rows: nr, cols: nr, rs: 1, cs: nr as isize };
        gemm_seq_with(sm, vt, v, false, &mut Vec::new());
    }
    // T[0..i, i] = -tau_i T[0..i, 0..i] S[0..i, i]; stored negated: tn = -T
    for i in 0..nr {
        let t = tau[i];
        for x in tn[i * nr..(i + 1) * nr].iter_mut() {
            *x = T::ZERO;
        }
        tn[i * nr + i] = T::ZERO - t;
        if t == T::ZERO {
            continue;
        }
        for r in 0..i {
            // -T[r, i] = tau_i sum_{q=r}^{i-1} T[r, q] S[q, i] = -tau_i sum tn[r, q] S[q, i]
            let mut acc = T::ZERO;
            for q in r..i {
                acc = tn[q * nr + r].mul_add(s[i * nr + q], acc);
            }
            tn[i * nr + r] = T::ZERO - t * acc;
        }
    }
}

/// Reduces the `m x n` (`m >= n`) column-major `a` (`A[i, j] = a[i + j * lda]`) to upper band form.
///
/// On return the upper band of the leading `n x n` block (`A[i, j]` for `0 <= j - i <= b`,
/// `i < n`) holds an upper band matrix `B = Q^T A P` with the same singular values as `A`; every
/// other entry is unspecified (reflector data). `b >= n - 1` leaves `R` of a QR of `A` (upper
/// triangular); `b = 1` a bidiagonal matrix. `par`: the pool; the result has the same bits for
/// any thread count.
pub(crate) fn dense_to_band<T: Real>(a: &mut [T], m: usize, n: usize, lda: usize, b: usize, par: Par) {
    assert!(m >= n, "dense_to_band needs m >= n ({m} x {n})");
    if n == 0 {
        return;
    }
    assert!(lda >= m && a.len() >= (n - 1) * lda + m, "dense_to_band: a too short for {m} x {n}, lda {lda}");
    let b = b.max(1);
    let bmax = b.min(n);
    // V (m x b), Y (n x b), Y^T, -T, S, tau, the right update's C Y (m x b)
    let mut vb = vec![T::ZERO; m * bmax];
    let mut yb = vec![T::ZERO; n * bmax];
    let mut ytb = vec![T::ZERO; n * bmax];
    let mut tn = vec![T::ZERO; bmax * bmax];
    let mut sb = vec![T::ZERO; bmax * bmax];
    let mut tau = vec![T::ZERO; bmax];
    let mut wb = vec![T::ZERO; m * bmax];
    let ap = SendPtr(a.as_mut_ptr());
    let mut k = 0;
    while k < n {
        let bb = b.min(n - k);
        let mr = m - k;
        // 1. QR of the column panel A[k.., k..k+bb] on a contiguous copy
        let v = &mut vb[..mr * bb];
        for c in 0..bb {
            v[c * mr..(c + 1) * mr].copy_from_slice(&a[(k + c) * lda + k..(k + c) * lda + m]);
        }
        panel_qr(v, mr, bb, mr, &mut tau);
        // R back (the band's upper triangle)
        for c in 0..bb {
            a[(k + c) * lda + k..(k + c) * lda + k + c + 1].copy_from_slice(&v[c * mr..c * mr + c + 1]);
        }
        let k1 = k + bb;
        if k1 >= n {
            break;
        }
        let nc = n - k1;
        form_vt(v, mr, bb, &tau, &mut tn[..bb * bb], &mut sb[..bb * bb]);
        // left update of C = A[k.., k1..n]: W = V^T C, W = -T^T W, C += V W; by column blocks
        {
            let nblk = nc.div_ceil(UPD_COLS);
            let (vp, tp) = (SendPtr(vb.as_mut_ptr()), SendPtr(tn.as_mut_ptr()));
            par.when(mr * nc * bb >= PAR_MIN_WORK).for_each(nblk, &|t| {
                let c0 = t * UPD_COLS;
                let w = UPD_COLS.min(nc - c0);
                let mut w0 = vec![T::ZERO; bb * w];
                let mut w1 = vec![T::ZERO; bb * w];
                let mut scratch = Vec::new();
                // SAFETY: task t reads and writes columns k1 + c0..k1 + c0 + w, rows k..m, of `a`
                // only (disjoint between tasks); V and -T are only read; w0, w1 are its own.
                unsafe {
                    let c = Mat { ptr: ap.get().add((k1 + c0) * lda + k), rows: mr, cols: w, rs: 1, cs: lda as isize };
                    let vm = Mat { ptr: vp.get(), rows: mr, cols: bb, rs: 1, cs: mr as isize };
                    let vtm = Mat { ptr: vp.get(), rows: bb, cols: mr, rs: mr as isize, cs: 1 };
                    let w0m = Mat { ptr: w0.as_mut_ptr(), rows: bb, cols: w, rs: 1, cs: bb as isize };
                    let w1m = Mat { ptr: w1.as_mut_ptr(), rows: bb, cols: w, rs: 1, cs: bb as isize };
                    let tnt = Mat { ptr: tp.get(), rows: bb, cols: bb, rs: bb as isize, cs: 1 };
                    gemm_seq_with(w0m, vtm, c, false, &mut scratch);
                    gemm_seq_with(w1m, tnt, w0m, false, &mut scratch);
                    gemm_seq_with(c, vm, w1m, true, &mut scratch);
                }
            });
        }
        // 2. LQ of the row panel A[k..k1, k1..n]: QR of its transpose (nc x bb) in Y
        let y = &mut yb[..nc * bb];
        for r in 0..bb {
            for j in 0..nc {
                y[r * nc + j] = a[(k1 + j) * lda + k + r];
            }
        }
        let nr = nc.min(bb);
        panel_qr(y, nc, bb, nc, &mut tau);
        // L = R^T back (the band's lower triangle A[k + r, k1 + j], j <= r)
        for r in 0..bb {
            for j in 0..=r.min(nc - 1) {
                a[(k1 + j) * lda + k + r] = y[r * nc + j];
            }
        }
        let mr2 = m - k1;
        if mr2 > 0 {
            let y = &mut yb[..nc * nr];
            form_vt(y, nc, nr, &tau, &mut tn[..nr * nr], &mut sb[..nr * nr]);
            let yt = &mut ytb[..nc * nr];
            for r in 0..nr {
                for j in 0..nc {
                    yt[j * nr + r] = y[r * nc + j];
                }
            }
            // right update of C = A[k1.., k1..n]: W = C Y (by fixed row blocks), W = W (-T) in
            // each row block, then C += W Y^T by fixed column blocks (a rank-nr update by column
            // blocks runs at ~70 GF/s on one core, by row blocks of a column-major C at ~50)
            let wp = SendPtr(wb.as_mut_ptr());
            let (yp, ytp, tp) = (SendPtr(yb.as_mut_ptr()), SendPtr(ytb.as_mut_ptr()), SendPtr(tn.as_mut_ptr()));
            let rpar = par.when(mr2 * nc * nr >= PAR_MIN_WORK);
            rpar.for_each(mr2.div_ceil(UPD_ROWS), &|t| {
                let r0 = t * UPD_ROWS;
                let h = UPD_ROWS.min(mr2 - r0);
                let mut w0 = vec![T::ZERO; h * nr];
                let mut scratch = Vec::new();
                // SAFETY: task t reads rows k1 + r0..k1 + r0 + h of columns k1..n of `a` and
                // writes rows r0..r0 + h of W only (disjoint between tasks); Y and -T are read.
                unsafe {
                    let c = Mat { ptr: ap.get().add(k1 * lda + k1 + r0), rows: h, cols: nc, rs: 1, cs: lda as isize };
                    let ym = Mat { ptr: yp.get(), rows: nc, cols: nr, rs: 1, cs: nc as isize };
                    let tnm = Mat { ptr: tp.get(), rows: nr, cols: nr, rs: 1, cs: nr as isize };
                    let w0m = Mat { ptr: w0.as_mut_ptr(), rows: h, cols: nr, rs: 1, cs: h as isize };
                    let w1m = Mat { ptr: wp.get().add(r0), rows: h, cols: nr, rs: 1, cs: mr2 as isize };
                    gemm_seq_with(w0m, c, ym, false, &mut scratch);
                    gemm_seq_with(w1m, w0m, tnm, false, &mut scratch);
                }
            });
            rpar.for_each(nc.div_ceil(UPD_COLS), &|t| {
                let c0 = t * UPD_COLS;
                let w = UPD_COLS.min(nc - c0);
                // SAFETY: task t writes rows k1..m of columns k1 + c0..k1 + c0 + w of `a` only
                // (disjoint between tasks); W and Y^T are only read.
                unsafe {
                    let c = Mat { ptr: ap.get().add((k1 + c0) * lda + k1), rows: mr2, cols: w, rs: 1, cs: lda as isize };
                    let w1m = Mat { ptr: wp.get(), rows: mr2, cols: nr, rs: 1, cs: mr2 as isize };
                    let ytm = Mat { ptr: ytp.get().add(c0 * nr), rows: nr, cols: w, rs: 1, cs: nr as isize };
                    gemm_seq_with(c, w1m, ytm, true, &mut Vec::new());
                }
            });
        }
        k = k1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The band (`0 <= j - i <= b`) of the leading `n x n` block of `a` as a dense matrix.
    fn band_of<T: Real>(a: &[T], n: usize, lda: usize, b: usize) -> faer::Mat<f64> {
        faer::Mat::<f64>::from_fn(n, n, |i, j| if j >= i && j - i <= b { a[i + j * lda].to_f64() } else { 0.0 })
    }

    fn singular_values(a: faer::MatRef<'_, f64>) -> Vec<f64> {
        a.singular_values().unwrap()
    }

    /// Reduces `a0` (m x n column-major, lda = m + pad) and checks the band's singular values
    /// against those of `a0` (in f64): `|s_i - s_i'| <= c max(m, n) eps_T max|A|`.
    fn check<T: Real>(a0: &[f64], m: usize, n: usize, b: usize, c: f64, what: &str) -> Vec<T> {
        let lda = m + 3;
        let mut a = vec![T::from_f64(f64::NAN); lda * n.max(1)];
        for j in 0..n {
            for i in 0..m {
                a[i + j * lda] = T::from_f64(a0[i + j * m]);
            }
        }
        dense_to_band(&mut a, m, n, lda, b, Par::SEQ);
        // the padding rows are untouched
        for j in 0..n {
            for i in m..lda {
                assert!(a[i + j * lda].is_nan(), "{what}: padding ({i}, {j}) written");
            }
        }
        if n == 0 {
            return a;
        }
        for j in 0..n {
            for i in j.saturating_sub(b)..=j {
                assert!(a[i + j * lda].is_finite(), "{what}: band entry ({i}, {j}) not finite");
            }
        }
        // the reference from the input as rounded to T
        let am = faer::Mat::<f64>::from_fn(m, n, |i, j| T::from_f64(a0[i + j * m]).to_f64());
        let want = singular_values(am.as_ref());
        let got = singular_values(band_of(&a, n, lda, b).as_ref());
        let amax = a0.iter().fold(0.0f64, |x, y| x.max(y.abs()));
        let tol = c * m.max(n) as f64 * T::EPSILON.to_f64() * amax;
        for i in 0..n {
            assert!(
                (got[i] - want[i]).abs() <= tol,
                "{what} {m}x{n} b={b} {}: s[{i}] {} vs {} (tol {tol:e})",
                T::NAME,
                got[i],
                want[i]
            );
        }
        a
    }

    fn rand(m: usize, n: usize, seed: u64) -> Vec<f64> {
        crate::testing::data(m * n, seed)
    }

    /// Random matrices of every shape and bandwidth asked for, f64 and f32. The tolerance: the
    /// reduction is backward stable with an error of order `sqrt(n) eps ||A||_F` per side; with
    /// entries in [-0.5, 0.5) `||A||_F <= sqrt(m n) max|A|`, so `c max(m, n) eps max|A|` with
    /// c = 4 leaves room for the constants (observed errors are far below).
    #[test]
    fn random_shapes() {
        for &n in &[1usize, 2, 3, 33, 64, 100, 257, 500] {
            for m in [n, n + 7, 3 * n / 2] {
                for &b in &[1usize, 2, 8, 16, 32, 64] {
                    let a = rand(m, n, (m * 131 + n * 7 + b) as u64);
                    check::<f64>(&a, m, n, b, 4.0, "random");
                    check::<f32>(&a, m, n, b, 4.0, "random");
                }
            }
        }
    }

    /// b >= n: one QR, the band is R; and b = n - 1.
    #[test]
    fn wide_band() {
        for &(m, n) in &[(5usize, 5usize), (9, 5), (40, 33), (64, 64)] {
            let a = rand(m, n, (m + n) as u64);
            for b in [n - 1, n, n + 5, 1000] {
                check::<f64>(&a, m, n, b, 4.0, "wide band");
            }
        }
    }

    /// Rank deficient (rank 10 of 120 x 90), zero, and graded columns (scales 1 .. 1e-12).
    #[test]
    fn special_matrices() {
        let (m, n, r) = (120usize, 90usize, 10usize);
        let (x, y) = (rand(m, r, 1), rand(r, n, 2));
        let mut a = vec![0.0; m * n];
        for j in 0..n {
            for i in 0..m {
                a[i + j * m] = (0..r).map(|p| x[i + p * m] * y[p + j * r]).sum();
            }
        }
        for b in [1, 8, 32] {
            check::<f64>(&a, m, n, b, 4.0, "rank 10");
            check::<f32>(&a, m, n, b, 4.0, "rank 10");
        }
        let z = vec![0.0; m * n];
        for b in [1, 16, 200] {
            let out = check::<f64>(&z, m, n, b, 4.0, "zero");
            for j in 0..n {
                for i in j.saturating_sub(b)..=j {
                    assert_eq!(out[i + j * (m + 3)], 0.0);
                }
            }
        }
        let mut g = rand(m, n, 3);
        for j in 0..n {
            let s = 10f64.powf(-12.0 * j as f64 / (n - 1) as f64);
            for i in 0..m {
                g[i + j * m] *= s;
            }
        }
        for b in [1, 8, 32] {
            check::<f64>(&g, m, n, b, 4.0, "graded");
        }
    }

    /// The check itself must catch a broken band: a sign flipped in one band entry, or an entry
    /// just outside the band that the reduction should have eliminated, changes the singular
    /// values far beyond the tolerance; and entries below the band do not count.
    #[test]
    fn check_is_sharp() {
        let (m, n, b) = (70usize, 64usize, 8usize);
        let a0 = rand(m, n, 9);
        let mut a = vec![0.0f64; m * n];
        a.copy_from_slice(&a0);
        dense_to_band(&mut a, m, n, m, b, Par::SEQ);
        let want = singular_values(faer::Mat::<f64>::from_fn(m, n, |i, j| a0[i + j * m]).as_ref());
        let err = |a: &[f64]| {
            let got = singular_values(band_of(a, n, m, b).as_ref());
            got.iter().zip(&want).fold(0.0f64, |e, (x, y)| e.max((x - y).abs()))
        };
        let tol = 4.0 * m as f64 * f64::EPSILON * 0.5;
        assert!(err(&a) <= tol);
        // garbage below the band does not matter
        let mut g = a.clone();
        for j in 0..n {
            for i in j + 1..m {
                g[i + j * m] = 1e3;
            }
        }
        assert_eq!(err(&g), err(&a));
        let mut s = a.clone();
        s[10 + 12 * m] = -s[10 + 12 * m] + 0.1;
        assert!(err(&s) > 100.0 * tol);
    }

    /// A wrong `T` (its transpose in the left update, as a broken kernel might use) must fail the
    /// check: rerun the reduction with `tn` transposed in place of `form_vt`'s result.
    #[test]
    fn wrong_transpose_fails() {
        let (m, n, b) = (80usize, 80usize, 16usize);
        let a0 = rand(m, n, 11);
        let want = singular_values(faer::Mat::<f64>::from_fn(m, n, |i, j| a0[i + j * m]).as_ref());
        // one step by hand with T^T in place of T in the left update
        let mut a = a0.clone();
        let mut v: Vec<f64> = a[..m * b].to_vec();
        let mut tau = vec![0.0; b];
        panel_qr(&mut v, m, b, m, &mut tau);
        let (mut tn, mut s) = (vec![0.0; b * b], vec![0.0; b * b]);
        form_vt(&mut v, m, b, &tau, &mut tn, &mut s);
        // Q^T A with Q = I - V T V^T should make columns 0..b upper triangular: the right T does,
        // the transposed one does not
        for transpose in [false, true] {
            let mut c = a0.clone();
            let nc = n;
            let mut w0 = vec![0.0; b * nc];
            let mut w1 = vec![0.0; b * nc];
            unsafe {
                let cm = Mat { ptr: c.as_mut_ptr(), rows: m, cols: nc, rs: 1, cs: m as isize };
                let vm = Mat { ptr: v.as_mut_ptr(), rows: m, cols: b, rs: 1, cs: m as isize };
                let vtm = Mat { ptr: v.as_mut_ptr(), rows: b, cols: m, rs: m as isize, cs: 1 };
                let w0m = Mat { ptr: w0.as_mut_ptr(), rows: b, cols: nc, rs: 1, cs: b as isize };
                let w1m = Mat { ptr: w1.as_mut_ptr(), rows: b, cols: nc, rs: 1, cs: b as isize };
                let (rs, cs) = if transpose { (1, b as isize) } else { (b as isize, 1) };
                let tnt = Mat { ptr: tn.as_mut_ptr(), rows: b, cols: b, rs, cs };
                gemm_seq_with(w0m, vtm, cm, false, &mut Vec::new());
                gemm_seq_with(w1m, tnt, w0m, false, &mut Vec::new());
                gemm_seq_with(cm, vm, w1m, true, &mut Vec::new());
            }
            let below = (0..b).flat_map(|j| (j + 1..m).map(move |i| (i, j))).fold(0.0f64, |e, (i, j)| e.max(c[i + j * m].abs()));
            if transpose {
                assert!(below > 1e-3, "a transposed T still triangularizes the panel ({below:e})");
            } else {
                assert!(below < 1e-13, "Q^T A not triangular in the panel ({below:e})");
            }
        }
        dense_to_band(&mut a, m, n, m, b, Par::SEQ);
        let got = singular_values(band_of(&a, n, m, b).as_ref());
        for i in 0..n {
            assert!((got[i] - want[i]).abs() <= 4.0 * m as f64 * f64::EPSILON * 0.5);
        }
    }

    /// One thread and the pool give the same bits (n = 300, b = 32; also a tall one).
    #[test]
    fn threads_same_bits() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for &(m, n, b) in &[(300usize, 300usize, 32usize), (450, 300, 32), (700, 600, 64)] {
            let a0 = rand(m, n, 5);
            let mut a1 = a0.clone();
            dense_to_band(&mut a1, m, n, m, b, Par::SEQ);
            let mut a2 = a0.clone();
            dense_to_band(&mut a2, m, n, m, b, pool.par());
            for j in 0..n {
                for i in 0..m {
                    assert_eq!(a1[i + j * m].to_bits(), a2[i + j * m].to_bits(), "{m}x{n} ({i}, {j})");
                }
            }
        }
    }

    /// Median wall ms, f64 square: the reduction to band on one thread and on the pool, beside
    /// the one-stage bidiagonalisation `gebrd` (run with `--ignored --nocapture`; FL_SIZES and
    /// FL_BANDS override the lists).
    #[test]
    #[ignore]
    fn ge2gb_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let list = crate::testing::env_list;
        for n in list("FL_SIZES", &[256, 512, 1024, 2048]) {
            let a0 = crate::testing::data(n * n, n as u64);
            let (mut w1, mut w2) = (a0.clone(), a0.clone());
            // gebrd's outputs, one set per closure
            let mut bufs: Vec<Vec<f64>> = (0..8).map(|_| vec![0.0; n]).collect();
            let (o1, o2) = bufs.split_at_mut(4);
            let (mut gw1, mut gw2) = (vec![0.0; crate::gebrd::work_len(n, n)], vec![0.0; crate::gebrd::work_len(n, n)]);
            let [g1, g2] = crate::testing::interleaved_medians([
                &mut || {
                    w1.copy_from_slice(&a0);
                    let [d, e, tq, tp] = o1 else { unreachable!() };
                    crate::gebrd::gebrd(&mut w1, n, n, d, e, tq, tp, &mut gw1, Par::SEQ);
                },
                &mut || {
                    w2.copy_from_slice(&a0);
                    let [d, e, tq, tp] = o2 else { unreachable!() };
                    crate::gebrd::gebrd(&mut w2, n, n, d, e, tq, tp, &mut gw2, pool.par());
                },
            ]);
            println!("n={n:5} gebrd: 1 thread {g1:8.2} ms, pool {g2:8.2} ms");
            for b in list("FL_BANDS", &[16, 32, 64]) {
                let [t1, t2] = crate::testing::interleaved_medians([
                    &mut || {
                        w1.copy_from_slice(&a0);
                        dense_to_band(&mut w1, n, n, n, b, Par::SEQ);
                    },
                    &mut || {
                        w2.copy_from_slice(&a0);
                        dense_to_band(&mut w2, n, n, n, b, pool.par());
                    },
                ]);
                let gf = 8.0 / 3.0 * (n as f64).powi(3) * 1e-6;
                println!(
                    "n={n:5} b={b:3} ge2gb: 1 thread {t1:8.2} ms ({:5.1} GF/s), pool {t2:8.2} ms ({:5.1} GF/s)",
                    gf / t1,
                    gf / t2
                );
            }
        }
    }
}
