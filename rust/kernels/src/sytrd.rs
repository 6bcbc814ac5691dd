//! Symmetric eigensolver for small and mid orders (n up to a few hundred): LAPACK's unblocked
//! `dsytd2` (lower) tridiagonalisation on a column-major working copy; for eigenvalues only,
//! LAPACK's `dsterf` (Pal-Walker-Kahan root-free QL / QR, [`sterf`]); with eigenvectors,
//! `dorg2r`-style explicit formation of `Q`, then implicit QL ([`crate::tql::tql2`]) with the
//! rotations applied to the contiguous columns of `Q`.
//!
//! From n = [`BLOCKED_Q_MIN_N`] `Q` is formed in blocks of [`QB`] reflectors through GEMM
//! ([`form_q_blocked`], `dorgqr`-style). From n = [`BLOCKED_TRIDIAG_MIN_N`] the
//! tridiagonalisation runs in panels ([`crate::sytrd_blocked`], the last 48 columns by
//! [`sytd2`]): 240 against 303 us at n = 128.
//!
//! Tried and dropped (slower, measured A/B in one run): applying each QL sweep's rotations to
//! `Q` afterwards in blocks of 16 rows with the carried column in registers (1.6x slower at
//! n = 128), and applying the rotations in pairs in one pass over three columns (1.8x slower);
//! faer's tridiagonal divide and conquer (`tridiagonal_self_adjoint_evd`) on our tridiagonal
//! costs more at n <= 128 than our whole QL with vectors.
//!
//! Session 4 (n = 128, AVX-512 machine, per matrix; the busy machine's noise is +-20% between
//! runs, so only interleaved A/B comparisons count). Where the time goes with vectors: sytd2
//! ~290 us, forming Q 250-420 us unblocked / 140-230 us blocked, QL ~780 us of which ~440 us is
//! the scalar QL itself (a latency chain of a square root and a division per rotation: QL
//! without vectors alone takes 430-450 us) and ~340 us the rotations (18534 of them, 0.15 ns
//! per rotation and row: already near the FMA throughput). Dropped after measuring:
//! - buffering QL's rotations and applying them strip by strip (16 or 32 rows of `Q` in L1, the
//!   carried column in registers, `Q` copied to a strip-major layout to avoid L1 set conflicts
//!   at the power-of-two column stride): 0.27-0.47 ns per rotation and row, slower than at once
//!   (the carried column makes a latency chain per strip);
//! - one thread running QL (recording its rotations) while another forms Q, then the recorded
//!   rotations applied with Q's rows split between the threads: the same bits, but applying
//!   recorded rotations back to back costs 900 us where interleaved with the scalar QL they
//!   add 340-460 us (out-of-order execution hides one under the other), so two threads lost;
//! - fused multiply-adds on QL's scalar chain: no measurable change (437 / 431 against 450 /
//!   432 us);
//! - the AVX-512 build of this file: sytd2 371 against 285 us and forming Q 289 against 257 us
//!   at n = 128 (2807 / 2179 and 2270 / 2095 at 256): AVX2 stays;
//! - sytd2 with each step's rank-2 update fused into the next step's product (one sweep over
//!   the trailing matrix per step instead of two, same bits): 0.96-1.05x, no gain (the matrix
//!   sits in L2, and the loops are bound by arithmetic, not by memory).
//!
//! Why not [`crate::tql`]'s `tred2`: it works on a row-major copy whose inner loops are
//! reductions along rows and columns alternately, which the compiler cannot vectorise (a float
//! sum is not reassociated). Here every inner loop is contiguous: the symmetric matrix-vector
//! product walks the lower triangle column by column doing one `axpy` and one dot product per
//! column (the dot with 8 independent partial sums, so it vectorises, in a fixed order, so the
//! result does not depend on threads), the rank-2 update is a column-wise double `axpy`, and
//! QL's rotations combine two contiguous columns of `Q`. At these orders the matrix sits in L1
//! (n = 32: 8 KiB) or L2 (n = 128: 128 KiB), so the unblocked algorithm (no `gemm`) is memory
//! friendly enough, and it avoids the set-up of a blocked one.
//!
//! The loops are compiled twice: for AVX2 + FMA (picked at run time when the CPU has them; 4
//! doubles per instruction, fused multiply-adds) and for the baseline target. One machine
//! always takes the same branch, so results are the same for any number of threads.
//!
//! The input must lie in a safe range (`eigh` scales it by a power of two); the Householder
//! vector's norm is still computed with a rescaling fallback so that tiny columns lose nothing.

use crate::scalar::Real;
use crate::tql;

/// `sum x[k] y[k]` with 8 partial sums (vectorisable; fixed order).
#[inline(always)]
pub(crate) fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    let n = x.len();
    let y = &y[..n];
    let mut acc = [T::ZERO; 8];
    let mut xc = x.chunks_exact(8);
    let mut yc = y.chunks_exact(8);
    for (a, b) in (&mut xc).zip(&mut yc) {
        for l in 0..8 {
            acc[l] = a[l].mul_add(b[l], acc[l]);
        }
    }
    let mut s = T::ZERO;
    for (a, b) in xc.remainder().iter().zip(yc.remainder()) {
        s = a.mul_add(*b, s);
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + s
}

/// `y += a * x` and returns `sum x[k] v[k]` (one pass over `x`).
#[inline(always)]
pub(crate) fn axpy_dot<T: Real>(a: T, x: &[T], y: &mut [T], v: &[T]) -> T {
    let n = x.len();
    let (y, v) = (&mut y[..n], &v[..n]);
    let mut acc = [T::ZERO; 8];
    let mut xc = x.chunks_exact(8);
    let mut yc = y.chunks_exact_mut(8);
    let mut vc = v.chunks_exact(8);
    for ((xs, ys), vs) in (&mut xc).zip(&mut yc).zip(&mut vc) {
        for l in 0..8 {
            ys[l] = xs[l].mul_add(a, ys[l]);
            acc[l] = xs[l].mul_add(vs[l], acc[l]);
        }
    }
    let mut s = T::ZERO;
    for ((xs, ys), vs) in xc.remainder().iter().zip(yc.into_remainder()).zip(vc.remainder()) {
        *ys = xs.mul_add(a, *ys);
        s = xs.mul_add(*vs, s);
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])) + s
}

/// `y += a * x`.
#[inline(always)]
pub(crate) fn axpy<T: Real>(a: T, x: &[T], y: &mut [T]) {
    for (ys, xs) in y.iter_mut().zip(x) {
        *ys = xs.mul_add(a, *ys);
    }
}

/// `||x||_2`, rescaled when the plain sum of squares could have under- or overflowed.
#[inline(always)]
fn norm2<T: Real>(x: &[T]) -> T {
    let ss = dot(x, x);
    let low = T::MIN_POSITIVE / (T::EPSILON * T::EPSILON);
    if ss >= low && ss <= T::MAX {
        return ss.sqrt();
    }
    let mut amax = T::ZERO;
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
        }
    }
    if amax == T::ZERO || !amax.is_finite() {
        return amax;
    }
    let inv = T::ONE / amax;
    let mut s = T::ZERO;
    for &v in x {
        let t = v * inv;
        s = t.mul_add(t, s);
    }
    amax * s.sqrt()
}

/// Four columns of the lower symmetric product at once: `y += sum_c vj[c] col_c` and returns
/// `col_c . v` for each c (rows below the 4 x 4 diagonal block).
#[inline(always)]
pub(crate) fn symv4<T: Real>(cols: [&[T]; 4], v: &[T], y: &mut [T], vj: [T; 4]) -> [T; 4] {
    let len = v.len();
    let (c0, c1, c2, c3) = (&cols[0][..len], &cols[1][..len], &cols[2][..len], &cols[3][..len]);
    let y = &mut y[..len];
    let mut acc = [[T::ZERO; 4]; 4];
    let chunks = len / 4;
    for q in 0..chunks {
        for l in 0..4 {
            let k = q * 4 + l;
            let (a0, a1, a2, a3) = (c0[k], c1[k], c2[k], c3[k]);
            let vk = v[k];
            y[k] = a3.mul_add(vj[3], a2.mul_add(vj[2], a1.mul_add(vj[1], a0.mul_add(vj[0], y[k]))));
            acc[0][l] = a0.mul_add(vk, acc[0][l]);
            acc[1][l] = a1.mul_add(vk, acc[1][l]);
            acc[2][l] = a2.mul_add(vk, acc[2][l]);
            acc[3][l] = a3.mul_add(vk, acc[3][l]);
        }
    }
    let mut s = [T::ZERO; 4];
    for k in chunks * 4..len {
        let (a0, a1, a2, a3) = (c0[k], c1[k], c2[k], c3[k]);
        let vk = v[k];
        y[k] = a3.mul_add(vj[3], a2.mul_add(vj[2], a1.mul_add(vj[1], a0.mul_add(vj[0], y[k]))));
        s[0] = a0.mul_add(vk, s[0]);
        s[1] = a1.mul_add(vk, s[1]);
        s[2] = a2.mul_add(vk, s[2]);
        s[3] = a3.mul_add(vk, s[3]);
    }
    let mut out = [T::ZERO; 4];
    for c in 0..4 {
        out[c] = ((acc[c][0] + acc[c][2]) + (acc[c][1] + acc[c][3])) + s[c];
    }
    out
}

/// Four columns of the rank-2 update at once: `col_c += nw[c] v + nv[c] w`.
#[inline(always)]
fn syr2_4<T: Real>(cols: [&mut [T]; 4], v: &[T], w: &[T], nw: [T; 4], nv: [T; 4]) {
    let len = v.len();
    let w = &w[..len];
    let [c0, c1, c2, c3] = cols;
    let (c0, c1, c2, c3) = (&mut c0[..len], &mut c1[..len], &mut c2[..len], &mut c3[..len]);
    for k in 0..len {
        let (vk, wk) = (v[k], w[k]);
        c0[k] = vk.mul_add(nw[0], wk.mul_add(nv[0], c0[k]));
        c1[k] = vk.mul_add(nw[1], wk.mul_add(nv[1], c1[k]));
        c2[k] = vk.mul_add(nw[2], wk.mul_add(nv[2], c2[k]));
        c3[k] = vk.mul_add(nw[3], wk.mul_add(nv[3], c3[k]));
    }
}

/// LAPACK's `dlarfg`: the reflector `H = I - tau [1; v] [1; v]^T` with `H [alpha; x] = [beta; 0]`;
/// `x` is overwritten by `v`. Returns `(beta, tau)`; `tau = 0` (H = I) when `x` is zero or
/// negligible (below the smallest normal number, far under `eps ||A||` for a scaled matrix).
#[inline(always)]
pub(crate) fn larfg<T: Real>(alpha: T, x: &mut [T]) -> (T, T) {
    let xnorm = norm2(x);
    if xnorm == T::ZERO {
        return (alpha, T::ZERO);
    }
    let (p, q) = (alpha.abs(), xnorm);
    let (big, small) = if p > q { (p, q) } else { (q, p) };
    let r = small / big;
    let h = big * (T::ONE + r * r).sqrt();
    let beta = if alpha >= T::ZERO { T::ZERO - h } else { h };
    if beta.abs() < T::MIN_POSITIVE {
        return (alpha, T::ZERO);
    }
    let tau = (beta - alpha) / beta;
    let scal = T::ONE / (alpha - beta);
    for v in x.iter_mut() {
        *v *= scal;
    }
    (beta, tau)
}

/// Reduces the symmetric `a` (`n x n`, column-major, lower triangle read) to tridiagonal form
/// `T = Q^T A Q`: diagonal in `d`, sub-diagonal `T[i + 1, i]` in `e[i + 1]` (`e[0] = 0`, the layout
/// [`tql::tql2`] takes). Reflector `i` (acting on rows `i + 1..`) keeps its vector below the
/// sub-diagonal of column `i` of `a` and its factor in `tau[i]`. `work`: 2 n scratch.
#[inline(always)]
fn sytd2<T: Real>(a: &mut [T], n: usize, d: &mut [T], e: &mut [T], tau: &mut [T], work: &mut [T]) {
    let (v, rest) = work.split_at_mut(n);
    let y = &mut rest[..n];
    e[0] = T::ZERO;
    let half = T::from_f64(0.5);
    for i in 0..n - 1 {
        let m = n - i - 1;
        let ci = i * n;
        d[i] = a[ci + i];
        let alpha = a[ci + i + 1];
        let (beta, t) = larfg(alpha, &mut a[ci + i + 2..ci + n]);
        e[i + 1] = beta;
        tau[i] = t;
        if t == T::ZERO {
            continue;
        }
        v[0] = T::ONE;
        v[1..m].copy_from_slice(&a[ci + i + 2..ci + n]);
        // y = t * A22 v, A22 = a[i + 1.., i + 1..] (lower triangle, column by column)
        for yk in y[..m].iter_mut() {
            *yk = T::ZERO;
        }
        let o = i + 1;
        let mut j = 0;
        // four columns at a time: y and v are loaded once per row for the four
        while j + 4 <= m {
            let base = (o + j) * n + o;
            let (c0, rest) = a[base..base + 3 * n + m].split_at(n);
            let (c1, rest) = rest.split_at(n);
            let (c2, c3) = rest.split_at(n);
            let cc = [c0, c1, c2, c3];
            for c in 0..4 {
                y[j + c] = cc[c][j + c].mul_add(v[j + c], y[j + c]);
                for r in c + 1..4 {
                    let x = cc[c][j + r];
                    y[j + r] = x.mul_add(v[j + c], y[j + r]);
                    y[j + c] = x.mul_add(v[j + r], y[j + c]);
                }
            }
            let vj = [v[j], v[j + 1], v[j + 2], v[j + 3]];
            let s = symv4([&c0[j + 4..m], &c1[j + 4..m], &c2[j + 4..m], &c3[j + 4..m]], &v[j + 4..m], &mut y[j + 4..m], vj);
            for c in 0..4 {
                y[j + c] += s[c];
            }
            j += 4;
        }
        while j < m {
            let c = (o + j) * n + o + j;
            let col = &a[c..c + m - j];
            let vj = v[j];
            let s = axpy_dot(vj, &col[1..], &mut y[j + 1..m], &v[j + 1..m]);
            y[j] = col[0].mul_add(vj, y[j]) + s;
            j += 1;
        }
        for yk in y[..m].iter_mut() {
            *yk *= t;
        }
        // w = y - (t / 2) (y . v) v, kept in y
        let alpha2 = T::ZERO - half * t * dot(&y[..m], &v[..m]);
        axpy(alpha2, &v[..m], &mut y[..m]);
        // A22 -= v w^T + w v^T (lower triangle), four columns at a time
        let w = &y[..m];
        let mut j = 0;
        while j + 4 <= m {
            let base = (o + j) * n + o;
            let (c0, rest) = a[base..base + 3 * n + m].split_at_mut(n);
            let (c1, rest) = rest.split_at_mut(n);
            let (c2, c3) = rest.split_at_mut(n);
            let cc = [c0, c1, c2, c3];
            for c in 0..4 {
                let (nw, nv) = (T::ZERO - w[j + c], T::ZERO - v[j + c]);
                for r in c..4 {
                    let x = &mut cc[c][j + r];
                    *x = v[j + r].mul_add(nw, w[j + r].mul_add(nv, *x));
                }
            }
            let [c0, c1, c2, c3] = cc;
            let nw = [T::ZERO - w[j], T::ZERO - w[j + 1], T::ZERO - w[j + 2], T::ZERO - w[j + 3]];
            let nv = [T::ZERO - v[j], T::ZERO - v[j + 1], T::ZERO - v[j + 2], T::ZERO - v[j + 3]];
            syr2_4(
                [&mut c0[j + 4..m], &mut c1[j + 4..m], &mut c2[j + 4..m], &mut c3[j + 4..m]],
                &v[j + 4..m],
                &w[j + 4..m],
                nw,
                nv,
            );
            j += 4;
        }
        while j < m {
            let c = (o + j) * n + o + j;
            let col = &mut a[c..c + m - j];
            let (nw, nv) = (T::ZERO - w[j], T::ZERO - v[j]);
            for ((x, &vk), &wk) in col.iter_mut().zip(&v[j..m]).zip(&w[j..m]) {
                *x = vk.mul_add(nw, wk.mul_add(nv, *x));
            }
            j += 1;
        }
    }
    d[n - 1] = a[(n - 1) * n + n - 1];
}

/// Forms `Q = H(0) H(1) ... H(n - 2)` (column-major, `n x n`) from [`sytd2`]'s reflectors, as
/// LAPACK's `dorgtr` + `dorg2r`: backwards, each reflector touching only the columns it changes.
#[inline(always)]
fn form_q<T: Real>(a: &[T], n: usize, tau: &[T], q: &mut [T]) {
    for x in q.iter_mut() {
        *x = T::ZERO;
    }
    q[0] = T::ONE;
    if n == 1 {
        return;
    }
    q[n * n - 1] = T::ONE;
    for i in (0..n - 1).rev() {
        apply_reflector_to_q(a, n, tau[i], i, n - 1, q);
    }
}

/// One step of `dorg2r`: applies reflector `i` of [`sytd2`] (`H(i)` acts on rows and columns
/// `i + 1..`, `v = [1; a[i + 2.., i]]`) to the columns `i + 2..=last` of `Q`, formed by the later
/// reflectors, and forms column `i + 1`.
#[inline(always)]
fn apply_reflector_to_q<T: Real>(a: &[T], n: usize, t: T, i: usize, last: usize, q: &mut [T]) {
    let ve = &a[i * n + i + 2..i * n + n];
    let c1 = (i + 1) * n;
    for j in i + 2..=last {
        // column j: row i + 1 is still 0 (identity) before H(i)
        let cj = j * n;
        let s = t * dot(ve, &q[cj + i + 2..cj + n]);
        q[cj + i + 1] = T::ZERO - s;
        axpy(T::ZERO - s, ve, &mut q[cj + i + 2..cj + n]);
    }
    q[c1 + i + 1] = T::ONE - t;
    for (x, &vk) in q[c1 + i + 2..c1 + n].iter_mut().zip(ve) {
        *x = T::ZERO - t * vk;
    }
}

/// Reflectors per block in [`form_q_blocked`].
const QB: usize = 32;

/// From this order up, `Q` is formed by [`form_q_blocked`] (see [`QB`]); below, [`form_q`].
pub const BLOCKED_Q_MIN_N: usize = 80;

/// Forms `Q` as [`form_q`] does, in blocks of [`QB`] reflectors, last block first (LAPACK's
/// `dorgqr` with `dlarft` + `dlarfb`): a block's product `I - V T V^T` is applied to the
/// columns the later blocks formed by two GEMMs (`W = T (V^T C)`, `C -= V W`), then the block's
/// own columns are formed one reflector at a time. Most of the `4/3 n^3` flops run in GEMM.
/// `work`: [`QB`] `(3 n + QB)` scratch.
#[inline(always)]
fn form_q_blocked<T: Real>(a: &[T], n: usize, tau: &[T], q: &mut [T], work: &mut [T]) {
    for x in q.iter_mut() {
        *x = T::ZERO;
    }
    q[0] = T::ONE;
    if n == 1 {
        return;
    }
    let nref = n - 1;
    let (vb, rest) = work.split_at_mut(n * QB);
    let (tb, rest) = rest.split_at_mut(QB * QB);
    let (w0, rest) = rest.split_at_mut(QB * n);
    let wb = &mut rest[..QB * n];
    // block starts: the last block holds the remainder
    let nblocks = nref.div_ceil(QB);
    for blk in (0..nblocks).rev() {
        let i0 = blk * QB;
        let i1 = (i0 + QB).min(nref);
        let nb = i1 - i0;
        // rows i0 + 1..n of Q are the ones this block's reflectors touch
        let rows = n - i0 - 1;
        let trail = n - i1 - 1; // columns i1 + 1..n, formed by the later blocks
        if trail > 0 {
            // V explicitly (rows x nb, column-major): reflector i0 + c has its 1 in row c
            for c in 0..nb {
                let i = i0 + c;
                let col = &mut vb[c * rows..(c + 1) * rows];
                for x in col[..c].iter_mut() {
                    *x = T::ZERO;
                }
                col[c] = T::ONE;
                col[c + 1..].copy_from_slice(&a[i * n + i + 2..i * n + n]);
            }
            // T (nb x nb upper triangular, column-major), LAPACK's dlarft (forward, columnwise)
            for c in 0..nb {
                let t = tau[i0 + c];
                for x in tb[c * QB..c * QB + nb].iter_mut() {
                    *x = T::ZERO;
                }
                tb[c * QB + c] = t;
                if t == T::ZERO {
                    continue;
                }
                // tmp[r] = -t V[:, r] . v_c (v_c is zero above row c)
                let mut tmp = [T::ZERO; QB];
                let vc = &vb[c * rows + c..(c + 1) * rows];
                for r in 0..c {
                    tmp[r] = T::ZERO - t * dot(&vb[r * rows + c..(r + 1) * rows], vc);
                }
                // T[0..c, c] = T[0..c, 0..c] tmp (upper triangular)
                for r in 0..c {
                    let mut acc = T::ZERO;
                    for k in r..c {
                        acc = tb[k * QB + r].mul_add(tmp[k], acc);
                    }
                    tb[c * QB + r] = acc;
                }
            }
            // SAFETY: every view below lies inside `vb`, `tb`, `wb` or `q` with the shapes and
            // strides given, and no product's output overlaps its inputs.
            unsafe {
                use crate::gemm::{gemm_seq, gemm_seq_with, Mat};
                let mut scratch = Vec::new();
                let cmat = Mat { ptr: q.as_mut_ptr().add((i1 + 1) * n + i0 + 1), rows, cols: trail, rs: 1, cs: n as isize };
                let vmat = Mat { ptr: vb.as_mut_ptr(), rows, cols: nb, rs: 1, cs: rows as isize };
                let vt = Mat { ptr: vb.as_mut_ptr(), rows: nb, cols: rows, rs: rows as isize, cs: 1 };
                // W0 = V^T C, W = T W0, then C -= V W (as C += V (-W))
                let w0m = Mat { ptr: w0.as_mut_ptr(), rows: nb, cols: trail, rs: 1, cs: nb as isize };
                gemm_seq(w0m, vt, cmat, &mut scratch);
                let tm = Mat { ptr: tb.as_mut_ptr(), rows: nb, cols: nb, rs: 1, cs: QB as isize };
                let wm = Mat { ptr: wb.as_mut_ptr(), rows: nb, cols: trail, rs: 1, cs: nb as isize };
                gemm_seq(wm, tm, w0m, &mut scratch);
                for x in wb[..nb * trail].iter_mut() {
                    *x = T::ZERO - *x;
                }
                // C += V (-W)
                gemm_seq_with(cmat, vmat, wm, true, &mut scratch);
            }
        }
        // the block's own columns i0 + 1..=i1, one reflector at a time (as form_q)
        for i in (i0..i1).rev() {
            apply_reflector_to_q(a, n, tau[i], i, i1, q);
        }
    }
}

/// Eigenvalues of the symmetric 2 x 2 `[[a, b], [b, c]]` (LAPACK's `dlae2`).
#[inline(always)]
fn lae2<T: Real>(a: T, b: T, c: T) -> (T, T) {
    let half = T::from_f64(0.5);
    let sm = a + c;
    let df = a - c;
    let adf = df.abs();
    let tb = b + b;
    let ab = tb.abs();
    let (acmx, acmn) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        let r = ab / adf;
        adf * (T::ONE + r * r).sqrt()
    } else if adf < ab {
        let r = adf / ab;
        ab * (T::ONE + r * r).sqrt()
    } else {
        ab * T::from_f64(core::f64::consts::SQRT_2)
    };
    if sm < T::ZERO {
        let rt1 = half * (sm - rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else if sm > T::ZERO {
        let rt1 = half * (sm + rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else {
        (half * rt, T::ZERO - half * rt)
    }
}

/// `sqrt(1 + x^2)` without overflow.
#[inline(always)]
fn hyp1<T: Real>(x: T) -> T {
    let a = x.abs();
    if a > T::ONE {
        let r = T::ONE / a;
        a * (T::ONE + r * r).sqrt()
    } else {
        (T::ONE + a * a).sqrt()
    }
}

/// A power of two `s` with `s * x` near `target` (exact scaling).
fn pow2_towards<T: Real>(x: T, target: T) -> T {
    let e = (target.to_f64() / x.to_f64()).log2().round();
    T::from_f64(e.exp2())
}

/// One sweep of [`sterf`]'s root-free implicit QL or QR with shift `sigma`, row by row. Each
/// sweep is one chain of dependent operations (two divisions started together, then
/// multiplications), so sterf runs two sweeps with the same shift at once, the second a row
/// behind the first, whose output rows it reads: the second sweep's shift is no longer the
/// freshest estimate, but after the first sweep it is within the square of the coupling of the
/// eigenvalue, so the second converges about as fast as a freshly shifted one, and the two
/// chains together take little more time than one.
struct PwkSweep<T> {
    c: T,
    s: T,
    gamma: T,
    p: T,
    sigma: T,
}

impl<T: Real> PwkSweep<T> {
    /// A sweep of the block ending at row `m`.
    #[inline(always)]
    fn start(d: &[T], m: usize, sigma: T) -> Self {
        let gamma = d[m] - sigma;
        PwkSweep { c: T::ONE, s: T::ZERO, gamma, p: gamma * gamma, sigma }
    }

    /// The QL sweep's row `i` (rows `m - 1` down to `l`): reads `e[i]`, `d[i]`, writes
    /// `e[i + 1]` (below row `m - 1`) and `d[i + 1]`.
    #[inline(always)]
    fn ql_row(&mut self, d: &mut [T], e: &mut [T], i: usize, m: usize, min_p: T) {
        let bb = e[i];
        let r = self.p + bb;
        if i != m - 1 {
            e[i + 1] = self.s * r;
        }
        let alpha = d[i];
        d[i + 1] = self.rotate(bb, r, alpha, min_p);
    }

    /// The QR sweep's row `i` (rows `m` up to `l - 1`): reads `e[i]`, `d[i + 1]`, writes
    /// `e[i - 1]` (above row `m`) and `d[i]`.
    #[inline(always)]
    fn qr_row(&mut self, d: &mut [T], e: &mut [T], i: usize, m: usize, min_p: T) {
        let bb = e[i];
        let r = self.p + bb;
        if i != m {
            e[i - 1] = self.s * r;
        }
        let alpha = d[i + 1];
        d[i] = self.rotate(bb, r, alpha, min_p);
    }

    /// The rotation of a row with squared coupling `bb`, `r = p + bb` and diagonal `alpha`;
    /// returns the new diagonal entry of the row before.
    #[inline(always)]
    fn rotate(&mut self, bb: T, r: T, alpha: T, min_p: T) -> T {
        let oldc = self.c;
        // 1 / r and 1 / p start together (off the dependency chain of LAPACK's two successive
        // divisions c = p / r, p' = gamma^2 / c = gamma^2 r / p)
        let rinv = T::ONE / r;
        let pinv = if self.p >= min_p { T::ONE / self.p } else { T::ZERO };
        self.c = self.p * rinv;
        self.s = bb * rinv;
        let oldgam = self.gamma;
        self.gamma = self.c * (alpha - self.sigma) - self.s * oldgam;
        let dnew = oldgam + (alpha - self.gamma);
        self.p = if pinv != T::ZERO && self.c != T::ZERO {
            (self.gamma * self.gamma) * (r * pinv)
        } else if self.c != T::ZERO {
            (self.gamma * self.gamma) / self.c
        } else {
            oldc * bb
        };
        dnew
    }
}

/// Eigenvalues (unsorted, into `d`) of the symmetric tridiagonal matrix with diagonal `d` and
/// sub-diagonal `e[0..n - 1]` (`e[i] = T[i + 1, i]`; destroyed): LAPACK's `dsterf`, the
/// Pal-Walker-Kahan root-free variant of implicit QL / QR (no square root per rotation: the
/// squares of the off-diagonals are iterated), choosing QL or QR per block by which end has
/// the larger diagonal, with relative deflation tests and each unreduced block scaled into a
/// safe range. Returns false if it did not converge in 30 n iterations.
#[inline(always)]
pub(crate) fn sterf<T: Real>(n: usize, d: &mut [T], e: &mut [T]) -> bool {
    if n <= 1 {
        return true;
    }
    let eps = T::EPSILON;
    let eps2 = eps * eps;
    let two = T::ONE + T::ONE;
    let safmin = T::MIN_POSITIVE;
    let ssfmax = (T::ONE / safmin).sqrt() / T::from_f64(3.0);
    let ssfmin = safmin.sqrt() / eps2;
    let nmaxit = 30 * n;
    let mut jtot = 0;
    // (timing test only: FL_SLOWDIV=1 measures LAPACK's division order)
    let min_p = if cfg!(test) && std::env::var("FL_SLOWDIV").is_ok() { T::INFINITY } else { T::MIN_POSITIVE };
    let mut l1 = 0;
    while l1 < n {
        if l1 > 0 {
            e[l1 - 1] = T::ZERO;
        }
        let mut m = l1;
        while m < n - 1 {
            if e[m].abs() <= (d[m].abs().sqrt() * d[m + 1].abs().sqrt()) * eps {
                e[m] = T::ZERO;
                break;
            }
            m += 1;
        }
        let mut l = l1;
        let (lsv, lendsv) = (l, m);
        let mut lend = m;
        l1 = m + 1;
        if lend == l {
            continue;
        }
        // scale the block into [ssfmin, ssfmax]
        let mut anorm = T::ZERO;
        for i in l..=lend {
            if d[i].abs() > anorm {
                anorm = d[i].abs();
            }
        }
        for i in l..lend {
            if e[i].abs() > anorm {
                anorm = e[i].abs();
            }
        }
        if anorm == T::ZERO {
            continue;
        }
        let sc = if anorm > ssfmax {
            pow2_towards(anorm, ssfmax)
        } else if anorm < ssfmin {
            pow2_towards(anorm, ssfmin)
        } else {
            T::ONE
        };
        if sc != T::ONE {
            for x in d[l..=lend].iter_mut() {
                *x *= sc;
            }
            for x in e[l..lend].iter_mut() {
                *x *= sc;
            }
        }
        for x in e[l..lend].iter_mut() {
            *x = *x * *x;
        }
        if d[lend].abs() < d[l].abs() {
            lend = lsv;
            l = lendsv;
        }
        if lend >= l {
            // QL
            loop {
                let mut m = lend;
                for mm in l..lend {
                    if e[mm].abs() <= eps2 * (d[mm] * d[mm + 1]).abs() {
                        m = mm;
                        break;
                    }
                }
                if m < lend {
                    e[m] = T::ZERO;
                }
                let p = d[l];
                if m == l {
                    l += 1;
                    if l <= lend {
                        continue;
                    }
                    break;
                }
                if m == l + 1 {
                    let (rt1, rt2) = lae2(d[l], e[l].sqrt(), d[l + 1]);
                    d[l] = rt1;
                    d[l + 1] = rt2;
                    e[l] = T::ZERO;
                    l += 2;
                    if l <= lend {
                        continue;
                    }
                    break;
                }
                if jtot == nmaxit {
                    return false;
                }
                jtot += 1;
                let rte = e[l].sqrt();
                let mut sigma = (d[l + 1] - p) / (two * rte);
                let r = hyp1(sigma);
                sigma = p - rte / (sigma + if sigma >= T::ZERO { r } else { T::ZERO - r });
                // two sweeps with this shift, the second a row behind the first (see PwkSweep)
                jtot += 1;
                let mut a = PwkSweep::start(d, m, sigma);
                a.ql_row(d, e, m - 1, m, min_p);
                a.ql_row(d, e, m - 2, m, min_p);
                // (the second sweep starts from the d[m] the first has written)
                let mut b = PwkSweep::start(d, m, sigma);
                b.ql_row(d, e, m - 1, m, min_p);
                for i in (l..m - 2).rev() {
                    a.ql_row(d, e, i, m, min_p);
                    b.ql_row(d, e, i + 1, m, min_p);
                }
                e[l] = a.s * a.p;
                d[l] = sigma + a.gamma;
                b.ql_row(d, e, l, m, min_p);
                e[l] = b.s * b.p;
                d[l] = sigma + b.gamma;
            }
        } else {
            // QR
            loop {
                let mut m = lend;
                let mut mm = l;
                while mm > lend {
                    if e[mm - 1].abs() <= eps2 * (d[mm] * d[mm - 1]).abs() {
                        m = mm;
                        break;
                    }
                    mm -= 1;
                }
                if m > lend {
                    e[m - 1] = T::ZERO;
                }
                let p = d[l];
                if m == l {
                    if l == lend {
                        break;
                    }
                    l -= 1;
                    continue;
                }
                if m + 1 == l {
                    let (rt1, rt2) = lae2(d[l], e[l - 1].sqrt(), d[l - 1]);
                    d[l] = rt1;
                    d[l - 1] = rt2;
                    e[l - 1] = T::ZERO;
                    if l < lend + 2 {
                        break;
                    }
                    l -= 2;
                    continue;
                }
                if jtot == nmaxit {
                    return false;
                }
                jtot += 1;
                let rte = e[l - 1].sqrt();
                let mut sigma = (d[l - 1] - p) / (two * rte);
                let r = hyp1(sigma);
                sigma = p - rte / (sigma + if sigma >= T::ZERO { r } else { T::ZERO - r });
                jtot += 1;
                let mut a = PwkSweep::start(d, m, sigma);
                a.qr_row(d, e, m, m, min_p);
                a.qr_row(d, e, m + 1, m, min_p);
                // (the second sweep starts from the d[m] the first has written)
                let mut b = PwkSweep::start(d, m, sigma);
                b.qr_row(d, e, m, m, min_p);
                for i in m + 2..l {
                    a.qr_row(d, e, i, m, min_p);
                    b.qr_row(d, e, i - 1, m, min_p);
                }
                e[l - 1] = a.s * a.p;
                d[l] = sigma + a.gamma;
                b.qr_row(d, e, l - 1, m, min_p);
                e[l - 1] = b.s * b.p;
                d[l] = sigma + b.gamma;
            }
        }
        if sc != T::ONE {
            let inv = T::ONE / sc;
            for x in d[lsv..=lendsv].iter_mut() {
                *x *= inv;
            }
        }
    }
    true
}

#[inline(always)]
fn eigh_body<T: Real>(a: &mut [T], n: usize, vectors: bool, d: &mut [T], e: &mut [T], q: &mut [T], work: &mut [T]) -> bool {
    let (tau, work) = work.split_at_mut(n);
    if n >= BLOCKED_TRIDIAG_MIN_N {
        // blocked panels down to the last NX columns (sytrd_blocked.rs): 240 against 303 us
        // at n = 128 for the tridiagonalisation alone
        crate::sytrd_blocked::tridiagonalize_sytd2_layout(a, n, d, e, tau);
    } else {
        sytd2(a, n, d, e, tau, work);
    }
    if !vectors {
        // sterf takes e[i] = T[i + 1, i]
        e.copy_within(1..n, 0);
        e[n - 1] = T::ZERO;
        return sterf(n, d, e);
    }
    if n >= BLOCKED_Q_MIN_N {
        form_q_blocked(a, n, tau, q, work);
    } else {
        form_q(a, n, tau, q);
    }
    tql::tql2(n, d, e, Some(q))
}

/// From this order up [`sy_eigh`] tridiagonalises with [`crate::sytrd_blocked`]'s panels (the
/// last [`crate::sytrd_blocked::NX`] columns still by [`sytd2`]).
pub const BLOCKED_TRIDIAG_MIN_N: usize = 96;

/// The scratch [`sy_eigh`] needs for order `n`, in elements of `T`.
pub fn work_len(n: usize, vectors: bool) -> usize {
    // tau, then sytd2's 2 n or form_q_blocked's
    n + if vectors && n >= BLOCKED_Q_MIN_N { QB * (3 * n + QB) } else { 2 * n }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn eigh_avx2<T: Real>(
    a: &mut [T],
    n: usize,
    vectors: bool,
    d: &mut [T],
    e: &mut [T],
    q: &mut [T],
    work: &mut [T],
) -> bool {
    eigh_body(a, n, vectors, d, e, q, work)
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn sytd2_avx2(a: &mut [f64], n: usize, d: &mut [f64], e: &mut [f64], work: &mut [f64]) {
    let (tau, work) = work.split_at_mut(n);
    sytd2(a, n, d, e, tau, work)
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn form_q_blocked_avx2(a: &[f64], n: usize, tau: &[f64], q: &mut [f64], work: &mut [f64]) {
    form_q_blocked(a, n, tau, q, work)
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn tql2_avx2(n: usize, d: &mut [f64], e: &mut [f64]) -> bool {
    tql::tql2(n, d, e, None)
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn sterf_avx2(n: usize, d: &mut [f64], e: &mut [f64]) -> bool {
    sterf(n, d, e)
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn form_q_avx2(a: &[f64], n: usize, tau: &[f64], q: &mut [f64]) {
    form_q(a, n, tau, q)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sytd2_avx2_any<T: Real>(a: &mut [T], n: usize, d: &mut [T], e: &mut [T], tau: &mut [T], work: &mut [T]) {
    sytd2(a, n, d, e, tau, work)
}

/// [`sytd2`] (AVX2 + FMA when the CPU has them), for the last, small block of
/// [`crate::sytrd_blocked`]. `work`: 2 n scratch.
pub(crate) fn sytd2_any<T: Real>(a: &mut [T], n: usize, d: &mut [T], e: &mut [T], tau: &mut [T], work: &mut [T]) {
    if n == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { sytd2_avx2_any(a, n, d, e, tau, work) };
    }
    sytd2(a, n, d, e, tau, work)
}

/// Eigenvalues (unsorted, into `d`) and, if `vectors`, eigenvectors of the symmetric `n x n`
/// matrix `a` (column-major, lower triangle read; destroyed). The eigenvectors come back as the
/// columns of `q` (column-major `n x n`: column `j`, contiguous, belongs to `d[j]`). `e`: n
/// scratch; `work`: [`work_len`] scratch. Returns false if QL did not converge.
pub fn sy_eigh<T: Real>(a: &mut [T], n: usize, vectors: bool, d: &mut [T], e: &mut [T], q: &mut [T], work: &mut [T]) -> bool {
    assert!(a.len() >= n * n && d.len() >= n && e.len() >= n && work.len() >= work_len(n, vectors));
    assert!(!vectors || q.len() >= n * n);
    if n == 0 {
        return true;
    }
    let (a, d, e) = (&mut a[..n * n], &mut d[..n], &mut e[..n]);
    let q = if vectors { &mut q[..n * n] } else { &mut q[..0] };
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { eigh_avx2(a, n, vectors, d, e, q, work) };
    }
    eigh_body(a, n, vectors, d, e, q, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::symmetric as sym;

    /// sterf on random tridiagonals, per call (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn sterf_timing() {
        for &n in &[64usize, 128, 256, 512, 1024] {
            let r = crate::testing::data(2 * n, 7);
            let (d0, e0) = (r[..n].to_vec(), r[n..].to_vec());
            let reps = (2_000_000 / (n * n)).max(3);
            let mut best = f64::INFINITY;
            for _ in 0..7 {
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    let (mut d, mut e) = (d0.clone(), e0.clone());
                    e[n - 1] = 0.0;
                    assert!(unsafe { sterf_avx2(n, &mut d, &mut e) });
                }
                best = best.min(t.elapsed().as_secs_f64() / reps as f64 * 1e6);
            }
            println!("n={n:5} sterf {best:9.1} us");
        }
    }

    #[test]
    fn residual_and_orthogonality() {
        for n in [1usize, 2, 3, 5, 8, 9, 16, 17, 31, 32, 33, 64, 100, 128, 130] {
            let a = sym(n, n as u64 + 3);
            let mut w = a.clone();
            let (mut d, mut e, mut q, mut work) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * n], vec![0.0; work_len(n, true)]);
            assert!(sy_eigh(&mut w, n, true, &mut d, &mut e, &mut q, &mut work));
            let eps = f64::EPSILON;
            let anorm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
            let (mut res, mut orth) = (0.0f64, 0.0f64);
            for k in 0..n {
                for i in 0..n {
                    let av: f64 = (0..n).map(|j| a[j * n + i] * q[k * n + j]).sum();
                    res = res.max((av - d[k] * q[k * n + i]).abs());
                    let vv: f64 = (0..n).map(|j| q[i * n + j] * q[k * n + j]).sum();
                    orth = orth.max((vv - if i == k { 1.0 } else { 0.0 }).abs());
                }
            }
            assert!(res / (anorm * n as f64 * eps) < 5.0, "n={n} residual {res}");
            assert!(orth / (n as f64 * eps) < 5.0, "n={n} orthogonality {orth}");
            // values only: the same eigenvalues
            let mut w2 = a.clone();
            let mut d2 = vec![0.0; n];
            assert!(sy_eigh(&mut w2, n, false, &mut d2, &mut e, &mut q, &mut work));
            let (mut s1, mut s2) = (d.clone(), d2.clone());
            s1.sort_by(|x, y| x.partial_cmp(y).unwrap());
            s2.sort_by(|x, y| x.partial_cmp(y).unwrap());
            for (x, y) in s1.iter().zip(&s2) {
                assert!((x - y).abs() <= 4.0 * n as f64 * eps * anorm, "n={n}");
            }
        }
    }

    /// Per-matrix times of this kernel, tql.rs's and faer's (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn sytrd_timing() {
        use faer::dyn_stack::{MemBuffer, MemStack};
        use faer::linalg::evd::{self, ComputeEigenvectors};
        // this thread's CPU time (the shared machine's other load does not count)
        let now = crate::testing::thread_cpu_time;
        let time = |reps: usize, f: &mut dyn FnMut()| {
            let mut best = f64::INFINITY;
            for _ in 0..5 {
                let t = now();
                for _ in 0..reps {
                    f();
                }
                best = best.min((now() - t) / reps as f64 * 1e6);
            }
            best
        };
        let sizes: Vec<usize> = match std::env::var("FL_SIZES") {
            Ok(v) => v.split(',').map(|x| x.parse().unwrap()).collect(),
            Err(_) => vec![8, 16, 24, 32, 48, 64, 96, 128, 192, 256],
        };
        for n in sizes {
            let a = sym(n, 7);
            if std::env::var("FL_AB").is_ok() {
                let (mut w, mut d, mut e, mut q, mut work) =
                    (a.clone(), vec![0.0; n], vec![0.0; n], vec![0.0; n * n], vec![0.0; work_len(n, true)]);
                let reps = (200000 / (n * n)).max(3);
                let (mut ta, mut tb, mut tt) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
                for _ in 0..10 {
                    std::env::set_var("FL_SLOWDIV", "1");
                    ta = ta.min(time(reps, &mut || {
                        w.copy_from_slice(&a);
                        assert!(sy_eigh(&mut w, n, false, &mut d, &mut e, &mut q, &mut work));
                    }));
                    std::env::remove_var("FL_SLOWDIV");
                    tb = tb.min(time(reps, &mut || {
                        w.copy_from_slice(&a);
                        assert!(sy_eigh(&mut w, n, false, &mut d, &mut e, &mut q, &mut work));
                    }));
                    tt = tt.min(time(reps, &mut || {
                        w.copy_from_slice(&a);
                        unsafe { sytd2_avx2(&mut w, n, &mut d, &mut e, &mut work) };
                    }));
                }
                println!("n={n:4} A/B values: LAPACK divisions {ta:9.1} us, overlapped {tb:9.1} us (of which sytd2 {tt:9.1})");
                continue;
            }

            let reps = (200000 / (n * n)).max(3);
            let (mut w, mut d, mut e, mut q, mut work) =
                (a.clone(), vec![0.0; n], vec![0.0; n], vec![0.0; n * n], vec![0.0; work_len(n, true)]);
            let new_v = time(reps, &mut || {
                w.copy_from_slice(&a);
                assert!(sy_eigh(&mut w, n, true, &mut d, &mut e, &mut q, &mut work));
            });
            let new_n = time(reps, &mut || {
                w.copy_from_slice(&a);
                assert!(sy_eigh(&mut w, n, false, &mut d, &mut e, &mut q, &mut work));
            });
            let old_v = time(reps, &mut || {
                w.copy_from_slice(&a);
                assert!(tql::tql_eigh(&mut w, n, true, &mut d, &mut e, &mut q));
            });
            let old_n = time(reps, &mut || {
                w.copy_from_slice(&a);
                assert!(tql::tql_eigh(&mut w, n, false, &mut d, &mut e, &mut q));
            });
            let am = faer::Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
            let mut s = faer::Col::<f64>::zeros(n);
            let mut u = faer::Mat::<f64>::zeros(n, n);
            let mut buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
                n,
                ComputeEigenvectors::Yes,
                faer::Par::Seq,
                Default::default(),
            ));
            let faer_v = time(reps, &mut || {
                evd::self_adjoint_evd(
                    am.as_ref(),
                    s.as_diagonal_mut(),
                    Some(u.as_mut()),
                    faer::Par::Seq,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .unwrap();
            });
            let faer_n = time(reps, &mut || {
                evd::self_adjoint_evd(
                    am.as_ref(),
                    s.as_diagonal_mut(),
                    None,
                    faer::Par::Seq,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .unwrap();
            });
            let tri = time(reps, &mut || {
                w.copy_from_slice(&a);
                unsafe { sytd2_avx2(&mut w, n, &mut d, &mut e, &mut work) };
            });
            let tau = work[..n].to_vec();
            let fq = time(reps, &mut || unsafe { form_q_avx2(&w, n, &tau, &mut q) });
            let mut wq = vec![0.0; QB * (3 * n + QB)];
            let mut q2 = q.clone();
            let fqb = time(reps, &mut || unsafe { form_q_blocked_avx2(&w, n, &tau, &mut q2, &mut wq) });
            let dq = q.iter().zip(&q2).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            println!("n={n:4} form_q {fq:9.1} us, blocked {fqb:9.1} us (max difference {dq:.1e})");
            let (d0, e0) = (d.clone(), e.clone());
            let (mut d1, mut e1) = (d.clone(), e.clone());
            let tql_vals = time(reps, &mut || {
                d1.copy_from_slice(&d0);
                e1.copy_from_slice(&e0);
                assert!(unsafe { tql2_avx2(n, &mut d1, &mut e1) });
            });
            let sterf_t = time(reps, &mut || {
                d1.copy_from_slice(&d0);
                e1[..n - 1].copy_from_slice(&e0[1..]);
                e1[n - 1] = 0.0;
                assert!(unsafe { sterf_avx2(n, &mut d1, &mut e1) });
            });
            println!("n={n:4} QL (tql2) without vectors {tql_vals:9.1} us, sterf {sterf_t:9.1} us");
            let mut u = faer::Mat::<f64>::zeros(n, n);
            let mut s = faer::Col::<f64>::zeros(n);
            let mut dc = [0.0; 3];
            for (k, thr) in [16usize, 48, 128].into_iter().enumerate() {
                let mut params: faer::Spec<evd::SelfAdjointEvdParams, f64> = Default::default();
                params.config.recursion_threshold = thr;
                let mut buf =
                    MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, faer::Par::Seq, params));
                let dd = faer::Col::<f64>::from_fn(n, |i| d0[i]);
                let ee = faer::Col::<f64>::from_fn(n, |i| if i + 1 < n { e0[i + 1] } else { 0.0 });
                dc[k] = time(reps, &mut || {
                    evd::tridiagonal_self_adjoint_evd(
                        dd.as_diagonal(),
                        ee.as_diagonal(),
                        s.as_diagonal_mut(),
                        Some(u.as_mut()),
                        faer::Par::Seq,
                        MemStack::new(&mut buf),
                        params,
                    )
                    .unwrap();
                });
            }
            println!(
                "n={n:4} form_q {fq:9.1} us; faer tridiagonal evd (recursion 16/48/128) {:9.1} {:9.1} {:9.1} us",
                dc[0], dc[1], dc[2]
            );
            println!("n={n:4} sytd2 {tri:9.1} us, {:.2} GFlop/s", 4.0 / 3.0 * (n * n * n) as f64 / tri / 1e3);
            println!("n={n:4} vectors: new {new_v:9.1} tql {old_v:9.1} faer {faer_v:9.1} | values: new {new_n:9.1} tql {old_n:9.1} faer {faer_n:9.1} us");
        }
    }
}
