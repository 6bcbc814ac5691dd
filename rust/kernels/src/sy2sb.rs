//! Stage one of a two-stage tridiagonalisation for eigenvalues only: a symmetric matrix reduced
//! to a band of half-bandwidth `b` by LAPACK's `dsytrd_sy2sb` (lower): for each panel of `b`
//! columns, a QR factorisation of the rows below the band, then the two-sided update of the
//! trailing matrix by its compact WY form, all in GEMM.
//!
//! Why: the one-stage reduction ([`crate::sytrd_blocked`]) does half its `4/3 n^3` flops in
//! symmetric matrix-vector products, which read the trailing matrix once per column and are
//! bound by cache bandwidth; here every trailing-matrix flop is a GEMM. The band then goes to
//! tridiagonal form by bulge chasing (`O(n^2 b)`, stage two).
//!
//! Only the lower triangle is read and updated: `A22 V` by blocks of columns (the diagonal block
//! mirrored), the rank-`2b` update by blocks of columns from the diagonal down: `4/3 n^3` flops.
//!
//! Threads, with the same bits for any thread count: the products run in FIXED blocks of rows
//! or columns of [`BLOCK`] through [`Par::for_each`], each block one sequential GEMM.

use crate::gemm::{gemm_seq_with, Mat as GMat};
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::ge2gb;
use crate::svd_small::dot;
use crate::threads::Par;

/// Rows / columns per GEMM task.
const BLOCK: usize = 64;

/// Reduces the symmetric `n x n` `a` (column-major, `a[i + j lda]`, lower triangle read) to a
/// symmetric band matrix of half-bandwidth `b` with the same eigenvalues (`B = Q^T A Q`): on
/// return the lower band (`0 <= i - j <= b`) holds `B`; every other entry is unspecified.
pub(crate) fn dense_to_band_sym<T: Real>(a: &mut [T], n: usize, lda: usize, b: usize, par: Par) {
    assert!(lda >= n && (n == 0 || a.len() >= (n - 1) * lda + n));
    if b == 0 || n <= b + 1 {
        return;
    }
    let mut p = Panel::new(b);
    let (mut x, mut x2) = (Vec::new(), Vec::new());
    let (mut w, mut vw, mut bt, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut small = vec![T::ZERO; b * b];
    let mut k = 0;
    // the first panel and X = A22 V; every later X comes out of the previous panel's update
    p.factor(a, lda, n, k);
    symm_lower(a, lda, k + b, n - k - b, &p.v, p.pk, &mut x, &mut x2, par);
    loop {
        let r0 = k + b; // first row of the panel and of the trailing matrix A22
        let m = n - r0;
        let pk = p.pk;
        let (v, t) = (&mut p.v, &mut p.t);
        // X := X T
        y.clear();
        y.extend_from_slice(&x);
        // SAFETY: live buffers of the stated shapes; X alone is written.
        unsafe {
            let c = GMat { ptr: x.as_mut_ptr(), rows: m, cols: pk, rs: 1, cs: m as isize };
            let ym = GMat { ptr: y.as_mut_ptr(), rows: m, cols: pk, rs: 1, cs: m as isize };
            let tm = GMat { ptr: t.as_mut_ptr(), rows: pk, cols: pk, rs: 1, cs: pk as isize };
            gemm_seq_with(c, ym, tm, false, &mut Vec::new());
        }
        // M = 1/2 T^T (V^T X) (pk x pk, symmetric), W = X - V M
        let mut vtx = vec![T::ZERO; pk * pk];
        // SAFETY: vtx, V and X are live buffers of the stated shapes; vtx alone is written.
        unsafe {
            let c = GMat { ptr: vtx.as_mut_ptr(), rows: pk, cols: pk, rs: 1, cs: pk as isize };
            let vt = GMat { ptr: v.as_mut_ptr(), rows: pk, cols: m, rs: m as isize, cs: 1 };
            let xm = GMat { ptr: x.as_mut_ptr(), rows: m, cols: pk, rs: 1, cs: m as isize };
            gemm_seq_with(c, vt, xm, false, &mut Vec::new());
        }
        let half = T::from_f64(0.5);
        for j in 0..pk {
            for i in 0..pk {
                let mut s = T::ZERO;
                for l in 0..=i {
                    s += t[l + i * pk] * vtx[l + j * pk];
                }
                small[i + j * pk] = T::ZERO - s * half;
            }
        }
        w.clear();
        w.extend_from_slice(&x);
        // SAFETY: as above; W alone is written.
        unsafe {
            let c = GMat { ptr: w.as_mut_ptr(), rows: m, cols: pk, rs: 1, cs: m as isize };
            let vm = GMat { ptr: v.as_mut_ptr(), rows: m, cols: pk, rs: 1, cs: m as isize };
            let sm = GMat { ptr: small.as_mut_ptr(), rows: pk, cols: pk, rs: 1, cs: pk as isize };
            gemm_seq_with(c, vm, sm, true, &mut Vec::new());
        }
        // A22 += [V W] (-[W^T; V^T]) on the lower triangle, by blocks of columns (see
        // [`Update::block`])
        vw.clear();
        vw.extend_from_slice(v);
        vw.extend_from_slice(&w);
        bt.clear();
        bt.resize(2 * pk * m, T::ZERO);
        for r in 0..m {
            for j in 0..pk {
                bt[r * 2 * pk + j] = T::ZERO - w[j * m + r];
                bt[r * 2 * pk + pk + j] = T::ZERO - v[j * m + r];
            }
        }
        let upd = Update { a: SendPtr(a.as_mut_ptr()), lda, r0, m, vw: SendPtr(vw.as_mut_ptr()), bt: SendPtr(bt.as_mut_ptr()), pk };
        if r0 + b + 1 >= n {
            // the last panel: the plain update
            // SAFETY: the blocks write disjoint columns of A22; vw and bt are read.
            par.for_each(m.div_ceil(BLOCK), &|blk| unsafe { upd.block(blk * BLOCK, BLOCK.min(m - blk * BLOCK)) });
            break;
        }
        // The update fused with the next panel's `X = A23 V'` (A23 = A22[b.., b..]): the next
        // panel's columns are updated first and factored; then each block of A23's columns is
        // updated and at once, while it is in cache, multiplied into X' (the blocks and pieces of
        // [`symm_lower`], so X' has the bits it would have there). This reads A23 once per panel
        // instead of twice.
        // SAFETY: the first b columns of A22, nothing else, written; vw and bt read.
        unsafe { upd.block(0, b) };
        p.factor(a, lda, n, r0);
        // (a fresh pointer: `a` was borrowed again by the factorisation)
        let upd = Update { a: SendPtr(a.as_mut_ptr()), ..upd };
        let (m2, pk2) = (m - b, p.pk);
        let (cut, nblk) = symm_pieces(m2);
        for buf in [&mut x, &mut x2] {
            buf.clear();
            buf.resize(m2 * pk2, T::ZERO);
        }
        let (vp, xp, x2p) = (SendPtr(p.v.as_ptr() as *mut T), SendPtr(x.as_mut_ptr()), SendPtr(x2.as_mut_ptr()));
        par.for_each(2, &|piece| {
            let (blocks, out) = if piece == 0 { (0..cut, xp) } else { (cut..nblk, x2p) };
            let mut dg = vec![T::ZERO; BLOCK * BLOCK];
            for blk in blocks {
                let c0 = blk * BLOCK;
                // SAFETY: piece `piece` alone updates its blocks of A23's columns (rows from the
                // block's top down) and then reads them, and alone writes its own X'; V' is read.
                unsafe {
                    upd.block(b + c0, BLOCK.min(m2 - c0));
                    symm_block(upd.a, lda, r0 + b, m2, vp, pk2, out, blk, &mut dg);
                }
            }
        });
        for (xi, &yi) in x.iter_mut().zip(x2.iter()) {
            *xi += yi;
        }
        k += b;
    }
}

/// One panel's reflectors: `V` (`m x pk`, unit lower trapezoidal, column-major) and `T`
/// (`pk x pk`, upper) with `Q = I - V T V^T` (LAPACK's `dlarft`, forward, columnwise).
struct Panel<T> {
    b: usize,
    pk: usize,
    v: Vec<T>,
    t: Vec<T>,
    tau: Vec<T>,
    work: Vec<T>,
}

impl<T: Real> Panel<T> {
    fn new(b: usize) -> Self {
        Panel { b, pk: 0, v: Vec::new(), t: vec![T::ZERO; b * b], tau: vec![T::ZERO; b], work: vec![T::ZERO; b] }
    }

    /// QR of the panel `a[r0.., k..k + b]` (`r0 = k + b`) in place, unblocked: `pk = min(b, m)`
    /// reflectors, each applied to all the panel's later columns (with `m < b` the last columns
    /// are transformed too); `V` copied out and `T` formed.
    fn factor(&mut self, a: &mut [T], lda: usize, n: usize, k: usize) {
        let b = self.b;
        let r0 = k + b;
        let m = n - r0;
        let pk = b.min(m);
        self.pk = pk;
        // (ge2gb.rs's dgeqr2, compiled for AVX2 + FMA where the CPU has them: this panel took a
        // quarter of the time as a plain loop with a serial dot product)
        ge2gb::panel_qr(&mut a[k * lda + r0..], m, b, lda, &mut self.tau);
        let (v, t, tau, small) = (&mut self.v, &mut self.t, &self.tau, &mut self.work);
        v.clear();
        v.resize(m * pk, T::ZERO);
        for j in 0..pk {
            v[j * m + j] = T::ONE;
            let src = &a[(k + j) * lda + r0 + j + 1..(k + j) * lda + n];
            v[j * m + j + 1..j * m + m].copy_from_slice(src);
        }
        t[..pk * pk].fill(T::ZERO);
        for j in 0..pk {
            for i in 0..j {
                // (V^T v_j)_i over rows j.. (v_j is zero above j)
                let s = dot(&v[i * m + j..i * m + m], &v[j * m + j..j * m + m]);
                small[i] = T::ZERO - tau[j] * s;
            }
            for i in 0..j {
                let mut s = T::ZERO;
                for l in i..j {
                    s += t[i + l * pk] * small[l];
                }
                t[i + j * pk] = s;
            }
            t[j + j * pk] = tau[j];
        }
    }
}

/// The rank-`2 pk` update `A22 += [V W] (-[W^T; V^T])` of the trailing matrix `A22 =
/// a[r0.., r0..]` (`m x m`), `vw` (`m x 2 pk`) and `bt` (`2 pk x m`) column-major.
#[derive(Clone, Copy)]
struct Update<T> {
    a: SendPtr<T>,
    lda: usize,
    r0: usize,
    m: usize,
    vw: SendPtr<T>,
    bt: SendPtr<T>,
    pk: usize,
}

impl<T: Real> Update<T> {
    /// Columns `c0..c0 + cols` of `A22`, rows from `c0` down (the lower triangle and the upper
    /// part of the diagonal block, which nobody reads), by one GEMM.
    ///
    /// # Safety
    /// The buffers are live with the stated shapes, and nothing else touches these columns.
    unsafe fn block(&self, c0: usize, cols: usize) {
        let (lda, r0, m, pk) = (self.lda, self.r0, self.m, self.pk);
        // SAFETY: the caller's contract.
        unsafe {
            let c = GMat { ptr: self.a.get().add((r0 + c0) * lda + r0 + c0), rows: m - c0, cols, rs: 1, cs: lda as isize };
            let am = GMat { ptr: self.vw.get().add(c0), rows: m - c0, cols: 2 * pk, rs: 1, cs: m as isize };
            let bm = GMat { ptr: self.bt.get().add(c0 * 2 * pk), rows: 2 * pk, cols, rs: 1, cs: (2 * pk) as isize };
            gemm_seq_with(c, am, bm, true, &mut Vec::new());
        }
    }
}

/// The two FIXED pieces of [`symm_lower`]'s blocks for an `m x m` matrix: blocks `0..cut` and
/// `cut..nblk`, holding about half the lower triangle each (columns `0..cut BLOCK` when
/// `(m - cut BLOCK)^2 = m^2 / 2`); they depend on `m` alone.
fn symm_pieces(m: usize) -> (usize, usize) {
    let nblk = m.div_ceil(BLOCK);
    let cut = (((m as f64) * (1.0 - core::f64::consts::FRAC_1_SQRT_2) / BLOCK as f64).round() as usize).min(nblk);
    (cut, nblk)
}

/// `X = A22 V` (`m x pk`, column-major) for the symmetric `A22 = a[r0.., r0..]` of which only the
/// lower triangle is valid, by the blocks of [`symm_block`] in the two pieces of
/// [`symm_pieces`], each summing into its own `X` (`x`, `x2`), added in a fixed order.
#[allow(clippy::too_many_arguments)]
fn symm_lower<T: Real>(a: &mut [T], lda: usize, r0: usize, m: usize, v: &[T], pk: usize, x: &mut Vec<T>, x2: &mut Vec<T>, par: Par) {
    for buf in [&mut *x, &mut *x2] {
        buf.clear();
        buf.resize(m * pk, T::ZERO);
    }
    let (cut, nblk) = symm_pieces(m);
    let (ap, vp) = (SendPtr(a.as_mut_ptr()), SendPtr(v.as_ptr() as *mut T));
    let (xp, x2p) = (SendPtr(x.as_mut_ptr()), SendPtr(x2.as_mut_ptr()));
    par.for_each(2, &|piece| {
        let (blocks, out) = if piece == 0 { (0..cut, xp) } else { (cut..nblk, x2p) };
        let mut dg = vec![T::ZERO; BLOCK * BLOCK];
        for blk in blocks {
            // SAFETY: piece `piece` alone writes its own X (`out`); A22's lower triangle and V are
            // only read.
            unsafe { symm_block(ap, lda, r0, m, vp, pk, out, blk, &mut dg) };
        }
    });
    for (xi, &yi) in x.iter_mut().zip(x2.iter()) {
        *xi += yi;
    }
}

/// Block `blk` (columns `J = blk BLOCK..`, [`BLOCK`] wide) of `X += A22 V` (see [`symm_lower`]):
/// `X[J..] += A22[J.., J] V[J]` (the diagonal block mirrored into the full copy `dg` first) and
/// `X[J] += A22[J + 1.., J]^T V[J + 1..]`.
///
/// # Safety
/// `a` holds the lower triangle of `A22 = a[r0.., r0..]` (`m x m`, leading dimension `lda`), `v`
/// `m x pk` and `out` `m x pk` elements (column-major, leading dimension `m`); nothing else
/// writes `out` or those columns of `A22` meanwhile.
#[allow(clippy::too_many_arguments)]
unsafe fn symm_block<T: Real>(ap: SendPtr<T>, lda: usize, r0: usize, m: usize, vp: SendPtr<T>, pk: usize, out: SendPtr<T>, blk: usize, dg: &mut [T]) {
    let c0 = blk * BLOCK;
    let wd = BLOCK.min(m - c0);
    let below = m - c0 - wd;
    // SAFETY: the caller's contract.
    unsafe {
        let col = |j: usize| ap.get().add((r0 + j) * lda + r0);
        for jj in 0..wd {
            for ii in jj..wd {
                let e = *col(c0 + jj).add(c0 + ii);
                dg[ii + jj * wd] = e;
                dg[jj + ii * wd] = e;
            }
        }
        let vj = GMat { ptr: vp.get().add(c0), rows: wd, cols: pk, rs: 1, cs: m as isize };
        let xj = GMat { ptr: out.get().add(c0), rows: wd, cols: pk, rs: 1, cs: m as isize };
        let d = GMat { ptr: dg.as_mut_ptr(), rows: wd, cols: wd, rs: 1, cs: wd as isize };
        gemm_seq_with(xj, d, vj, true, &mut Vec::new());
        if below > 0 {
            let l = GMat { ptr: col(c0).add(c0 + wd), rows: below, cols: wd, rs: 1, cs: lda as isize };
            let xb = GMat { ptr: out.get().add(c0 + wd), rows: below, cols: pk, rs: 1, cs: m as isize };
            gemm_seq_with(xb, l, vj, true, &mut Vec::new());
            let lt = GMat { ptr: col(c0).add(c0 + wd), rows: wd, cols: below, rs: lda as isize, cs: 1 };
            let vb = GMat { ptr: vp.get().add(c0 + wd), rows: below, cols: pk, rs: 1, cs: m as isize };
            gemm_seq_with(xj, lt, vb, true, &mut Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eigenvalues of the symmetric matrix whose lower triangle is `a` (column-major), by faer.
    fn eigenvalues(a: &[f64], n: usize, lda: usize, band: Option<usize>) -> Vec<f64> {
        let m = faer::Mat::<f64>::from_fn(n, n, |i, j| {
            let (r, c) = if i >= j { (i, j) } else { (j, i) };
            if band.is_some_and(|b| r - c > b) {
                0.0
            } else {
                a[r + c * lda]
            }
        });
        let mut w = m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        w.sort_by(f64::total_cmp);
        w
    }

    fn check(n: usize, b: usize, lda: usize, a0: &[f64], par: Par, label: &str) -> Vec<f64> {
        let mut a = a0.to_vec();
        dense_to_band_sym(&mut a, n, lda, b, par);
        let want = eigenvalues(a0, n, lda, None);
        let got = eigenvalues(&a, n, lda, Some(b));
        let amax = a0.iter().fold(0.0f64, |m, x| if x.is_finite() { m.max(x.abs()) } else { m });
        let tol = 16.0 * n as f64 * f64::EPSILON * amax.max(f64::MIN_POSITIVE);
        for (x, y) in got.iter().zip(&want) {
            assert!((x - y).abs() <= tol, "{label} n={n} b={b}: eigenvalue {x} of the band against {y} (tol {tol:e})");
        }
        a
    }

    /// A random symmetric matrix in the lower triangle of a column-major array with NaN above it
    /// and in the padding rows: neither may leak into the band.
    fn random(n: usize, lda: usize, seed: u64) -> Vec<f64> {
        let x = crate::testing::data(lda * n, seed);
        let mut a = vec![f64::NAN; lda * n];
        for j in 0..n {
            for i in j..n {
                a[i + j * lda] = x[i + j * lda];
            }
        }
        a
    }

    #[test]
    fn random_orders_and_bandwidths() {
        for n in [1usize, 2, 3, 17, 64, 100, 257] {
            for b in [1usize, 2, 3, 8, 16, 32, 64] {
                let lda = n + 3;
                check(n, b, lda, &random(n, lda, (n * 100 + b) as u64), Par::SEQ, "random");
            }
        }
    }

    #[test]
    fn nasty() {
        let n = 130;
        // zero
        check(n, 16, n, &vec![0.0; n * n], Par::SEQ, "zero");
        // graded: A_ij = r_ij 10^-(i + j) / 20
        let x = crate::testing::data(n * n, 3);
        let g: Vec<f64> = (0..n * n).map(|p| {
            let (i, j) = (p % n, p / n);
            x[if i >= j { p } else { j + i * n }] * 10f64.powf(-((i + j) as f64) / 20.0)
        }).collect();
        check(n, 16, n, &g, Par::SEQ, "graded");
        // repeated eigenvalues: Q diag(1, 1, ..., 2, 2, ...) Q^T from a reflector
        let v = crate::testing::data(n, 5);
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let r: Vec<f64> = (0..n * n).map(|p| {
            let (i, j) = (p % n, p / n);
            let qd = |i: usize, j: usize| (if i == j { 1.0 } else { 0.0 }) - 2.0 * v[i] * v[j] / vv;
            (0..n).map(|l| qd(i, l) * (1.0 + (l % 2) as f64) * qd(j, l)).sum()
        }).collect();
        check(n, 8, n, &r, Par::SEQ, "repeated");
    }

    #[test]
    fn float32() {
        let (n, b) = (150usize, 16usize);
        let a0 = crate::testing::symmetric(n, 7);
        let mut a: Vec<f32> = a0.iter().map(|&x| x as f32).collect();
        dense_to_band_sym(&mut a, n, n, b, Par::SEQ);
        let a64: Vec<f64> = a.iter().map(|&x| x as f64).collect();
        let a0r: Vec<f64> = a0.iter().map(|&x| x as f32 as f64).collect();
        let (want, got) = (eigenvalues(&a0r, n, n, None), eigenvalues(&a64, n, n, Some(b)));
        let tol = 16.0 * n as f64 * f32::EPSILON as f64 * 0.5;
        for (x, y) in got.iter().zip(&want) {
            assert!((x - y).abs() <= tol, "f32: {x} against {y}");
        }
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        let (n, b) = (300usize, 32usize);
        let a0 = random(n, n, 11);
        let one = check(n, b, n, &a0, Par::SEQ, "one thread");
        let pool = check(n, b, n, &a0, crate::threads::current().par(), "pool");
        for j in 0..n {
            for i in j..(j + b + 1).min(n) {
                assert_eq!(one[i + j * n].to_bits(), pool[i + j * n].to_bits(), "({i}, {j})");
            }
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// This stage against the one-stage tridiagonalisation ([`crate::sytrd_blocked::sytrd_blocked`]),
    /// f64, one thread and the pool, median wall ms of 15 interleaved rounds (`--ignored
    /// --nocapture`; `SY2SB_N=512`, `SY2SB_B=32` to choose).
    #[test]
    #[ignore]
    fn sy2sb_timing() {
        let pool = crate::threads::current();
        let env = |k: &str, d: Vec<usize>| std::env::var(k).map_or(d, |v| v.split(',').map(|x| x.parse().unwrap()).collect());
        for n in env("SY2SB_N", vec![256, 512, 1024, 2048]) {
            let a0 = crate::testing::symmetric(n, 9);
            for b in env("SY2SB_B", vec![16, 32, 64]) {
                let one_stage = |par: Par| {
                    let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
                    crate::sytrd_blocked::sytrd_blocked(&mut a0.clone(), n, &mut d, &mut e, &mut tau, par)
                };
                let [s1, s2, o1, o2] = crate::testing::interleaved_medians([
                    &mut || dense_to_band_sym(&mut a0.clone(), n, n, b, Par::SEQ),
                    &mut || dense_to_band_sym(&mut a0.clone(), n, n, b, pool.par()),
                    &mut || one_stage(Par::SEQ),
                    &mut || one_stage(pool.par()),
                ]);
                println!("n={n:5} b={b:3}: to band 1 thread {s1:8.2} ms, pool {s2:8.2}; one-stage sytrd 1 thread {o1:8.2}, pool {o2:8.2}");
            }
        }
    }
}
