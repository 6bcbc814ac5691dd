//! SVD of small and mid-size matrices, our own: unblocked Householder bidiagonalization
//! (Golub-Kahan, LAPACK's `dgebd2`) on a column-major working copy, then the implicit QR
//! iteration on the bidiagonal with Demmel and Kahan's zero-shift sweeps and relative
//! convergence tests (LAPACK's `dbdsqr`), which finds every singular value of the bidiagonal to
//! high relative accuracy. With vectors, the reflectors are accumulated into `Q` and `P`
//! (`dorgbr`), and each QR sweep's rotations are collected and applied afterwards in column
//! strips (`dlasr`), all on contiguous rows.
//!
//! Why: faer's SVD is built for large matrices. Per matrix, one thread (svd.rs's notes), at
//! 32x32 its bidiagonalization alone takes 73 us of its 94 us for the values, and its
//! bidiagonal QR 150 us at 64x64. This file takes a fraction of that (timings in the test
//! `small_vs_faer_timing` and in svd.rs).
//!
//! The working copy is scaled into a safe range by the caller (svd.rs's `scale_for`), so sums
//! of squares need no rescaling except where a column underflows (handled in [`norm2`]).
//! Every inner loop runs over a contiguous column or row; the dot products keep [`LANES`]
//! independent partial sums, summed in a fixed order, so they vectorize without reassociation
//! and give the same bits whatever the vector width. The whole kernel is compiled a second time
//! for AVX-512 (and AVX2) and picked at run time ([`svd_small`]).

use crate::scalar::{copysign, hyp, Real};
use crate::strided::SendPtr;
use crate::sweep_pipe::{CloseOnDrop, Sweep, SweepPipe};
use crate::threads::Par;

/// Iterations allowed: `MAX_ITER * n^2` inner steps in all (LAPACK's `maxitr`).
const MAX_ITER: usize = 6;

/// Room for the independent partial sums in [`dot`]; [`lanes`] of them are used.
pub(crate) const LANES: usize = 16;

/// Partial sums per dot product: one 512-bit register's worth (8 for f64, 16 for f32), so short
/// columns leave short scalar tails.
#[inline(always)]
pub(crate) const fn lanes<T>() -> usize {
    let l = 64 / core::mem::size_of::<T>();
    if l > LANES { LANES } else { l }
}

/// Columns per strip when a sweep's rotations are applied to the vectors.
const STRIP: usize = 32;

#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let lanes = lanes::<T>();
    let mut acc = [T::ZERO; LANES];
    let ca = a.chunks_exact(lanes);
    let cb = b.chunks_exact(lanes);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..lanes {
            acc[l] = acc[l] + x[l] * y[l];
        }
    }
    let mut tail = T::ZERO;
    for (x, y) in ra.iter().zip(rb) {
        tail = tail + *x * *y;
    }
    sum_lanes(&mut acc, lanes) + tail
}

/// The sum of the first `lanes` partial sums (a power of two), pairwise in a fixed order.
#[inline(always)]
pub(crate) fn sum_lanes<T: Real>(acc: &mut [T], lanes: usize) -> T {
    let mut w = lanes;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] = acc[l] + acc[l + w];
        }
    }
    acc[0]
}

/// `y += alpha x`
#[inline(always)]
pub(crate) fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = *yi + alpha * *xi;
    }
}

/// `c += alpha z`, then returns `v . c` (one pass over `c`; partial sums as in [`dot`]).
#[inline(always)]
fn axpy_dot<T: Real>(alpha: T, z: &[T], c: &mut [T], v: &[T]) -> T {
    let n = c.len().min(z.len()).min(v.len());
    let (z, c, v) = (&z[..n], &mut c[..n], &v[..n]);
    let lanes = lanes::<T>();
    let mut acc = [T::ZERO; LANES];
    let full = n / lanes * lanes;
    for ((cc, zz), vv) in c[..full].chunks_exact_mut(lanes).zip(z.chunks_exact(lanes)).zip(v.chunks_exact(lanes)) {
        for l in 0..lanes {
            let x = cc[l] + alpha * zz[l];
            cc[l] = x;
            acc[l] = acc[l] + vv[l] * x;
        }
    }
    let mut tail = T::ZERO;
    for i in full..n {
        let x = c[i] + alpha * z[i];
        c[i] = x;
        tail = tail + v[i] * x;
    }
    sum_lanes(&mut acc, lanes) + tail
}

/// The 2-norm of `x` without harmful underflow or overflow: the plain sum of squares when it is
/// a normal number, else rescaled by the largest entry (by division: `1 / max` of a subnormal
/// `max` would overflow).
#[inline(always)]
pub(crate) fn norm2<T: Real>(x: &[T]) -> T {
    let ss = dot(x, x);
    if ss >= T::MIN_POSITIVE && ss <= T::MAX {
        return ss.sqrt();
    }
    let big = x.iter().fold(T::ZERO, |m, v| if v.abs() > m { v.abs() } else { m });
    if big == T::ZERO || !big.is_finite() {
        return big;
    }
    let s = x.iter().fold(T::ZERO, |s, v| {
        let t = *v / big;
        s + t * t
    });
    big * s.sqrt()
}

#[inline(always)]
fn max<T: Real>(a: T, b: T) -> T {
    if a > b { a } else { b }
}

#[inline(always)]
fn min<T: Real>(a: T, b: T) -> T {
    if a < b { a } else { b }
}

/// A Householder reflector `H = I - tau [1; v] [1; v]^T` with `H [alpha; x] = [beta; 0]` (as
/// LAPACK's `dlarfg`): `x` is overwritten by `v`, returns `(beta, tau)`; `tau = 0` when `x = 0`.
/// Safe for tiny (subnormal) vectors, which the ends of `gbbrd.rs`'s bulge chase do produce: `beta` is computed from a rescaled copy when it is below
/// `MIN_POSITIVE / EPSILON`, and no reciprocal of a subnormal is ever taken.
#[inline(always)]
pub(crate) fn householder<T: Real>(alpha: T, x: &mut [T]) -> (T, T) {
    let (beta, tau, _) = householder_scaled(alpha, x);
    (beta, tau)
}

/// [`householder`], also returning the factor `s` that `x` was multiplied by
/// (`1 / (alpha - beta)`), or None when there is none to speak of: `x` was zero (left alone) or
/// `beta` so tiny that `x` was rescaled first (the factor may not be representable then).
#[inline(always)]
pub(crate) fn householder_scaled<T: Real>(alpha: T, x: &mut [T]) -> (T, T, Option<T>) {
    let mut xnorm = norm2(x);
    if xnorm == T::ZERO {
        return (alpha, T::ZERO, None);
    }
    let mut alpha = alpha;
    let mut beta = T::ZERO - copysign(hyp(alpha, xnorm), alpha);
    let safmin = T::MIN_POSITIVE / T::EPSILON;
    let mut knt = 0;
    if beta.abs() < safmin {
        let rsafmn = T::ONE / safmin;
        while beta.abs() < safmin && knt < 20 {
            knt += 1;
            for v in x.iter_mut() {
                *v = *v * rsafmn;
            }
            beta = beta * rsafmn;
            alpha = alpha * rsafmn;
        }
        xnorm = norm2(x);
        beta = T::ZERO - copysign(hyp(alpha, xnorm), alpha);
    }
    let tau = (beta - alpha) / beta;
    let scal = T::ONE / (alpha - beta);
    for v in x.iter_mut() {
        *v = *v * scal;
    }
    for _ in 0..knt {
        beta = beta * safmin;
    }
    (beta, tau, if knt == 0 { Some(scal) } else { None })
}

/// `c -= tau (v^T c) v` for `v = [1; vt]` (`c` as long as `v`).
#[inline(always)]
fn reflect<T: Real>(tau: T, vt: &[T], c: &mut [T]) {
    let (c0, cr) = c.split_first_mut().expect("non-empty column");
    let w = *c0 + dot(vt, cr);
    let f = T::ZERO - tau * w;
    *c0 = *c0 + f;
    axpy(f, vt, cr);
}

/// The scratch one decomposition of an `m x n` matrix needs, in elements of `T`.
pub(crate) fn work_len(m: usize, n: usize, vectors: bool, full: bool) -> usize {
    let (mm, nn) = (m.max(n), m.min(n));
    let vec_len = if vectors { mm * if full { mm } else { nn } + 2 * nn * nn + 4 * nn } else { dqds_work_len(nn) };
    mm * nn + 6 * nn + mm + 2 + vec_len
}

/// Upper bidiagonalization of the column-major `m x n` matrix `a` (`m >= n >= 1`, leading
/// dimension m): `A = Q B P^T`, `B` with diagonal `d` and superdiagonal `e[..n-1]`. The left
/// reflectors stay below the diagonal of `a` (scales in `tauq`); the right ones, `u_i` with
/// `u_i[0] = 1` acting on rows `i+1..n`, go to column `i` of `pv` (`n x n`, column-major) when
/// given (scales in `taup`). `r` (n) and `z` (m) are scratch.
///
/// Each step after the first fuses the right reflector's update of a column with the next left
/// reflector's: two passes over the trailing matrix per step instead of three.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn bidiag<T: Real>(
    a: &mut [T],
    m: usize,
    n: usize,
    d: &mut [T],
    e: &mut [T],
    tauq: &mut [T],
    taup: &mut [T],
    mut pv: Option<&mut [T]>,
    r: &mut [T],
    z: &mut [T],
) {
    // the first left reflector, applied on its own
    {
        let (c0, rest) = a.split_at_mut(m);
        let (beta, tau) = householder(c0[0], &mut c0[1..]);
        c0[0] = beta;
        d[0] = beta;
        tauq[0] = tau;
        if tau != T::ZERO {
            for cj in rest.chunks_exact_mut(m) {
                reflect(tau, &c0[1..], cj);
            }
        }
    }
    for i in 0..n {
        if i + 1 == n {
            taup[i] = T::ZERO;
            e[i] = T::ZERO;
            break;
        }
        // the right reflector from row i, columns i+1..n
        let len = n - i - 1;
        let row = &mut r[..len];
        for (k, x) in row.iter_mut().enumerate() {
            *x = a[(i + 1 + k) * m + i];
        }
        let (beta, tp) = householder(row[0], &mut row[1..]);
        row[0] = T::ONE;
        e[i] = beta;
        taup[i] = tp;
        if let Some(pv) = pv.as_deref_mut() {
            pv[i * n + i + 1..(i + 1) * n].copy_from_slice(row);
        }
        // the trailing block, rows i+1..m, columns i+1..n
        let (_, trail) = a.split_at_mut((i + 1) * m);
        let h = m - i - 1;
        let zz = &mut z[..h];
        if tp != T::ZERO {
            // z = A_trail u
            // four columns per pass over z
            zz.copy_from_slice(&trail[i + 1..i + 1 + h]);
            let mut k = 1;
            while k + 4 <= len {
                let (u0, u1, u2, u3) = (row[k], row[k + 1], row[k + 2], row[k + 3]);
                let c0 = &trail[k * m + i + 1..k * m + i + 1 + h];
                let c1 = &trail[(k + 1) * m + i + 1..(k + 1) * m + i + 1 + h];
                let c2 = &trail[(k + 2) * m + i + 1..(k + 2) * m + i + 1 + h];
                let c3 = &trail[(k + 3) * m + i + 1..(k + 3) * m + i + 1 + h];
                for ((((zl, x0), x1), x2), x3) in zz.iter_mut().zip(c0).zip(c1).zip(c2).zip(c3) {
                    *zl = *zl + (u0 * *x0 + u1 * *x1) + (u2 * *x2 + u3 * *x3);
                }
                k += 4;
            }
            while k < len {
                axpy(row[k], &trail[k * m + i + 1..k * m + i + 1 + h], zz);
                k += 1;
            }
        }
        // column i+1: the right update, then its own left reflector
        let (c1, rest) = trail.split_at_mut(m);
        let c1 = &mut c1[i + 1..];
        if tp != T::ZERO {
            axpy(T::ZERO - tp, zz, c1);
        }
        let (beta, tq) = householder(c1[0], &mut c1[1..]);
        c1[0] = beta;
        d[i + 1] = beta;
        tauq[i + 1] = tq;
        // columns i+2..n: the right update and the left reflector in one pass
        for (k, cj) in rest.chunks_exact_mut(m).enumerate() {
            let cj = &mut cj[i + 1..];
            if tq == T::ZERO {
                if tp != T::ZERO {
                    axpy(T::ZERO - tp * row[k + 1], zz, cj);
                }
                continue;
            }
            let vt = &c1[1..];
            let (c0, cr) = cj.split_first_mut().expect("non-empty column");
            let w = if tp != T::ZERO {
                let alpha = T::ZERO - tp * row[k + 1];
                *c0 = *c0 + alpha * zz[0];
                *c0 + axpy_dot(alpha, &zz[1..], cr, vt)
            } else {
                *c0 + dot(vt, cr)
            };
            let f = T::ZERO - tq * w;
            *c0 = *c0 + f;
            axpy(f, vt, cr);
        }
    }
}

/// `Q[:, :kq]` (column-major `m x kq`, leading dimension m, into `q`) from the left reflectors
/// that [`bidiag`] left in `a` (`dorgbr`).
#[inline(always)]
fn form_q<T: Real>(a: &[T], m: usize, n: usize, tauq: &[T], q: &mut [T], kq: usize) {
    q[..m * kq].fill(T::ZERO);
    for j in 0..kq {
        q[j * m + j] = T::ONE;
    }
    for i in (0..n).rev() {
        let tau = tauq[i];
        if tau == T::ZERO {
            continue;
        }
        let v = &a[i * m + i + 1..(i + 1) * m];
        for cj in q[i * m..kq * m].chunks_exact_mut(m) {
            reflect(tau, v, &mut cj[i..]);
        }
    }
}

/// `P` (column-major `n x n`: its columns are the rows of `P^T`) from the right reflectors
/// stored in `pv` by [`bidiag`].
#[inline(always)]
fn form_p<T: Real>(pv: &[T], n: usize, taup: &[T], p: &mut [T]) {
    p[..n * n].fill(T::ZERO);
    for j in 0..n {
        p[j * n + j] = T::ONE;
    }
    for i in (0..n.saturating_sub(1)).rev() {
        let tau = taup[i];
        if tau == T::ZERO {
            continue;
        }
        let u = &pv[i * n + i + 1..(i + 1) * n];
        for cj in p[(i + 1) * n..n * n].chunks_exact_mut(n) {
            let cj = &mut cj[i + 1..];
            let w = dot(u, cj);
            axpy(T::ZERO - tau * w, u, cj);
        }
    }
}

/// Plane rotation (`dlartg`): `c`, `s`, `r` with `[c s; -s c] [f; g] = [r; 0]`.
#[inline(always)]
fn lartg<T: Real>(f: T, g: T) -> (T, T, T) {
    if g == T::ZERO {
        return (T::ONE, T::ZERO, f);
    }
    if f == T::ZERO {
        return (T::ZERO, copysign(T::ONE, g), g.abs());
    }
    let d = hyp(f, g);
    let c = f.abs() / d;
    let r = copysign(d, f);
    let s = g / r;
    (c, s, r)
}

/// Singular values `(ssmin, ssmax)` of `[f g; 0 h]` (`dlas2`).
#[inline(always)]
fn las2<T: Real>(f: T, g: T, h: T) -> (T, T) {
    let (fa, ga, ha) = (f.abs(), g.abs(), h.abs());
    let (fhmn, fhmx) = (min(fa, ha), max(fa, ha));
    let (one, two) = (T::ONE, T::ONE + T::ONE);
    if fhmn == T::ZERO {
        let ssmax = if fhmx == T::ZERO {
            ga
        } else {
            let (mx, mn) = (max(fhmx, ga), min(fhmx, ga));
            mx * (one + (mn / mx) * (mn / mx)).sqrt()
        };
        (T::ZERO, ssmax)
    } else if ga < fhmx {
        let as_ = one + fhmn / fhmx;
        let at = (fhmx - fhmn) / fhmx;
        let au = (ga / fhmx) * (ga / fhmx);
        let c = two / ((as_ * as_ + au).sqrt() + (at * at + au).sqrt());
        (fhmn * c, fhmx / c)
    } else {
        let au = fhmx / ga;
        if au == T::ZERO {
            ((fhmn * fhmx) / ga, ga)
        } else {
            let as_ = one + fhmn / fhmx;
            let at = (fhmx - fhmn) / fhmx;
            let c = one / ((one + (as_ * au) * (as_ * au)).sqrt() + (one + (at * au) * (at * au)).sqrt());
            let ssmin = (fhmn * c) * au;
            (ssmin + ssmin, ga / (c + c))
        }
    }
}

/// SVD of `[f g; 0 h]` (`dlasv2`): `(ssmin, ssmax, snr, csr, snl, csl)` with
/// `[csl snl; -snl csl] [f g; 0 h] [csr -snr; snr csr] = diag(ssmax, ssmin)`.
#[inline(always)]
fn lasv2<T: Real>(f: T, g: T, h: T) -> (T, T, T, T, T, T) {
    let (one, two, four, half) = (T::ONE, T::ONE + T::ONE, T::from_f64(4.0), T::from_f64(0.5));
    let (mut ft, mut fa, mut ht, mut ha) = (f, f.abs(), h, h.abs());
    let mut pmax = 1;
    let swap = ha > fa;
    if swap {
        pmax = 3;
        core::mem::swap(&mut ft, &mut ht);
        core::mem::swap(&mut fa, &mut ha);
    }
    let (gt, ga) = (g, g.abs());
    let (mut ssmin, mut ssmax, mut clt, mut crt, mut slt, mut srt);
    if ga == T::ZERO {
        ssmin = ha;
        ssmax = fa;
        clt = one;
        crt = one;
        slt = T::ZERO;
        srt = T::ZERO;
    } else {
        let mut gasmal = true;
        (ssmin, ssmax, clt, crt, slt, srt) = (T::ZERO, T::ZERO, one, one, T::ZERO, T::ZERO);
        if ga > fa {
            pmax = 2;
            if fa / ga < T::EPSILON {
                gasmal = false;
                ssmax = ga;
                ssmin = if ha > one { fa / (ga / ha) } else { (fa / ga) * ha };
                clt = one;
                slt = ht / gt;
                srt = one;
                crt = ft / gt;
            }
        }
        if gasmal {
            let dd = fa - ha;
            let l = if dd == fa { one } else { dd / fa };
            let m = gt / ft;
            let mut t = two - l;
            let mm = m * m;
            let tt = t * t;
            let s = (tt + mm).sqrt();
            let r = if l == T::ZERO { m.abs() } else { (l * l + mm).sqrt() };
            let a = half * (s + r);
            ssmin = ha / a;
            ssmax = fa * a;
            if mm == T::ZERO {
                t = if l == T::ZERO { copysign(two, ft) * copysign(one, gt) } else { gt / copysign(dd, ft) + m / t };
            } else {
                t = (m / (s + t) + m / (r + l)) * (one + a);
            }
            let l = (t * t + four).sqrt();
            crt = two / l;
            srt = t / l;
            clt = (crt + srt * m) / a;
            slt = (ht / ft) * srt / a;
        }
    }
    let (csl, snl, csr, snr) = if swap { (srt, crt, slt, clt) } else { (clt, slt, crt, srt) };
    let tsign = match pmax {
        1 => copysign(one, csr) * copysign(one, csl) * copysign(one, f),
        2 => copysign(one, snr) * copysign(one, csl) * copysign(one, g),
        _ => copysign(one, snr) * copysign(one, snl) * copysign(one, h),
    };
    ssmax = copysign(ssmax, tsign);
    ssmin = copysign(ssmin, tsign * copysign(one, f) * copysign(one, h));
    (ssmin, ssmax, snr, csr, snl, csl)
}

/// Applies rotations `k = 0..nrot` to the rows `k, k+1` of `rows` (row-major, row length
/// `len`): `x' = c x + s y`, `y' = c y - s x` for `x` = row k, `y` = row k+1; in the order
/// k = 0, 1, .. (`forward`) or the reverse. Strips of [`STRIP`] columns carry the moving row in
/// registers (`dlasr`'s 'V' pivot, applied strip by strip).
#[inline(always)]
fn rotate_rows<T: Real>(rows: &mut [T], len: usize, cs: &[T], sn: &[T], forward: bool) {
    if cs.is_empty() || len == 0 {
        return;
    }
    // full strips, then narrower ones for the rest of the row (a 48-long row is a strip of 32
    // and one of 16: a column at a time, the last 16 had cost as much as the first 32)
    let mut start = 0;
    while start < len {
        start += match len - start {
            w if w >= STRIP => rotate_strip::<T, STRIP>(rows, len, start, cs, sn, forward),
            w if w >= 16 => rotate_strip::<T, 16>(rows, len, start, cs, sn, forward),
            w if w >= 8 => rotate_strip::<T, 8>(rows, len, start, cs, sn, forward),
            w if w >= 4 => rotate_strip::<T, 4>(rows, len, start, cs, sn, forward),
            _ => rotate_strip::<T, 1>(rows, len, start, cs, sn, forward),
        };
    }
}

/// [`rotate_rows`] on columns `start..start + W`, the running row kept in registers; returns
/// `W`. Every element sees the same operations in the same order whatever `W`.
#[inline(always)]
fn rotate_strip<T: Real, const W: usize>(rows: &mut [T], len: usize, start: usize, cs: &[T], sn: &[T], forward: bool) -> usize {
    let nrot = cs.len();
    let mut carry = [T::ZERO; W];
    if forward {
        carry.copy_from_slice(&rows[start..start + W]);
        for k in 0..nrot {
            let (c, s) = (cs[k], sn[k]);
            let (lo, hi) = rows.split_at_mut((k + 1) * len);
            let x = &mut lo[k * len + start..k * len + start + W];
            let y = &hi[start..start + W];
            for l in 0..W {
                let (xl, yl) = (carry[l], y[l]);
                x[l] = c * xl + s * yl;
                carry[l] = c * yl - s * xl;
            }
        }
        rows[nrot * len + start..nrot * len + start + W].copy_from_slice(&carry);
    } else {
        carry.copy_from_slice(&rows[nrot * len + start..nrot * len + start + W]);
        for k in (0..nrot).rev() {
            let (c, s) = (cs[k], sn[k]);
            let (lo, hi) = rows.split_at_mut((k + 1) * len);
            let x = &lo[k * len + start..k * len + start + W];
            let y = &mut hi[start..start + W];
            for l in 0..W {
                let (xl, yl) = (x[l], carry[l]);
                y[l] = c * yl - s * xl;
                carry[l] = c * xl + s * yl;
            }
        }
        rows[start..start + W].copy_from_slice(&carry);
    }
    W
}

/// The vectors the bidiagonal QR rotates: `ut` rows (length `lu`) are the left vectors, `vt`
/// rows (length `lv`) the right ones; or a [`SweepPipe`] that carries the rotations to a second
/// thread which applies them. `cs`/`sn` are scratch of `2 n` each.
pub(crate) struct Vecs<'a, T: Real> {
    target: Target<'a, T>,
    cs: &'a mut [T],
    sn: &'a mut [T],
}

enum Target<'a, T: Real> {
    Rows { ut: &'a mut [T], lu: usize, vt: &'a mut [T], lv: usize },
    Pipe(&'a SweepPipe<T>),
}

impl<T: Real> Vecs<'_, T> {
    /// The rotations of a sweep on rows `lo..=lo + nrot` (the right vectors' in
    /// `cs/sn[..nrot]`, the left vectors' in `cs/sn[n..n + nrot]`), applied or handed on.
    #[inline(always)]
    fn sweep(&mut self, sweep: Sweep, n: usize) {
        let k = sweep.nrot;
        let rot = [&self.cs[..k], &self.sn[..k], &self.cs[n..n + k], &self.sn[n..n + k]];
        match &mut self.target {
            Target::Rows { ut, lu, vt, lv } => apply_sweep(ut, *lu, vt, *lv, sweep, rot),
            // SAFETY: bdsqr, the pipe's only producer, is the only caller
            Target::Pipe(pipe) => unsafe { pipe.push(sweep, rot) },
        }
    }
}

/// Applies a sweep's rotations (`[cr, sr, cl, sl]`) to the rows of the right (`vt`) and left
/// (`ut`) vectors.
#[inline(always)]
fn apply_sweep<T: Real>(ut: &mut [T], lu: usize, vt: &mut [T], lv: usize, sweep: Sweep, rot: [&[T]; 4]) {
    let (lo, hi) = (sweep.lo, sweep.lo + sweep.nrot);
    rotate_rows(&mut vt[lo * lv..(hi + 1) * lv], lv, rot[0], rot[1], sweep.forward);
    rotate_rows(&mut ut[lo * lu..(hi + 1) * lu], lu, rot[2], rot[3], sweep.forward);
}

/// Singular values of the upper bidiagonal (`d`, `e[..n-1]`) by implicit QR (`dbdsqr`), the
/// rotations applied to the rows of `vecs` when given. The values end in `d`, unsorted, with
/// signs; `e` is destroyed. Returns false if the iteration did not converge.
#[inline(always)]
pub(crate) fn bdsqr<T: Real>(d: &mut [T], e: &mut [T], mut vecs: Option<Vecs<'_, T>>) -> bool {
    let n = d.len();
    if n <= 1 {
        return true;
    }
    let eps = T::EPSILON;
    let unfl = T::MIN_POSITIVE;
    let nf = T::from_f64(n as f64);
    let tolmul = T::from_f64(eps.to_f64().powf(-0.125).clamp(10.0, 100.0));
    let tol = tolmul * eps;
    let maxit = MAX_ITER * n * n;
    // a lower bound on the smallest singular value, for the absolute threshold
    let mut sminoa = d[0].abs();
    if sminoa != T::ZERO {
        let mut mu = sminoa;
        for i in 1..n {
            mu = d[i].abs() * (mu / (mu + e[i - 1].abs()));
            sminoa = min(sminoa, mu);
            if sminoa == T::ZERO {
                break;
            }
        }
    }
    sminoa = sminoa / nf.sqrt();
    let thresh = max(tol * sminoa, T::from_f64((MAX_ITER * n * n) as f64) * unfl);
    let hndrth = T::from_f64(0.01);
    let mut iter = 0usize;
    let mut hi = n - 1;
    let (mut oldll, mut oldm): (isize, isize) = (-1, -1);
    let mut idir = 0;
    'outer: loop {
        if hi == 0 {
            break;
        }
        if iter > maxit {
            return false;
        }
        // the block lo..=hi whose superdiagonal has no negligible entry
        let mut smax = d[hi].abs();
        let mut lo = 0;
        for ll in (0..hi).rev() {
            let abse = e[ll].abs();
            if abse <= thresh {
                e[ll] = T::ZERO;
                if ll == hi - 1 {
                    hi -= 1;
                    continue 'outer;
                }
                lo = ll + 1;
                break;
            }
            smax = max(smax, max(d[ll].abs(), abse));
        }
        if hi == lo + 1 {
            // a 2x2 block: directly
            let (sigmn, sigmx, sinr, cosr, sinl, cosl) = lasv2(d[lo], e[lo], d[hi]);
            d[lo] = sigmx;
            e[lo] = T::ZERO;
            d[hi] = sigmn;
            if let Some(v) = vecs.as_mut() {
                (v.cs[0], v.sn[0], v.cs[n], v.sn[n]) = (cosr, sinr, cosl, sinl);
                v.sweep(Sweep { lo, nrot: 1, forward: true }, n);
            }
            if lo == 0 {
                break;
            }
            hi = lo - 1;
            continue;
        }
        // a new block: chase the bulge from the larger end
        if lo as isize > oldm || (hi as isize) < oldll {
            idir = if d[lo].abs() >= d[hi].abs() { 1 } else { 2 };
        }
        // convergence tests
        let mut sminl;
        if idir == 1 {
            if e[hi - 1].abs() <= tol * d[hi].abs() {
                e[hi - 1] = T::ZERO;
                continue;
            }
            let mut mu = d[lo].abs();
            sminl = mu;
            for l in lo..hi {
                if e[l].abs() <= tol * mu {
                    e[l] = T::ZERO;
                    continue 'outer;
                }
                mu = d[l + 1].abs() * (mu / (mu + e[l].abs()));
                sminl = min(sminl, mu);
            }
        } else {
            if e[lo].abs() <= tol * d[lo].abs() {
                e[lo] = T::ZERO;
                continue;
            }
            let mut mu = d[hi].abs();
            sminl = mu;
            for l in (lo..hi).rev() {
                if e[l].abs() <= tol * mu {
                    e[l] = T::ZERO;
                    continue 'outer;
                }
                mu = d[l].abs() * (mu / (mu + e[l].abs()));
                sminl = min(sminl, mu);
            }
        }
        oldll = lo as isize;
        oldm = hi as isize;
        // the shift: zero when it would spoil the relative accuracy of the smallest value
        let mut shift = T::ZERO;
        if nf * tol * (sminl / smax) > max(eps, hndrth * tol) {
            let sll;
            if idir == 1 {
                sll = d[lo].abs();
                shift = las2(d[hi - 1], e[hi - 1], d[hi]).0;
            } else {
                sll = d[hi].abs();
                shift = las2(d[lo], e[lo], d[lo + 1]).0;
            }
            if sll > T::ZERO && (shift / sll) * (shift / sll) < eps {
                shift = T::ZERO;
            }
        }
        iter += hi - lo;
        let nrot = hi - lo;
        // rotations of this sweep: (cs, sn)[..nrot] for the right vectors, [n..n+nrot] left
        let mut rv = vecs.as_mut();
        macro_rules! save {
            ($k:expr, $c:expr, $s:expr, $cl:expr, $sl:expr) => {
                if let Some(v) = rv.as_deref_mut() {
                    v.cs[$k] = $c;
                    v.sn[$k] = $s;
                    v.cs[n + $k] = $cl;
                    v.sn[n + $k] = $sl;
                }
            };
        }
        if shift == T::ZERO {
            // Demmel-Kahan zero-shift sweep
            let (mut cs, mut oldcs, mut oldsn) = (T::ONE, T::ONE, T::ZERO);
            if idir == 1 {
                for i in lo..hi {
                    let (c, s, r) = lartg(d[i] * cs, e[i]);
                    cs = c;
                    if i > lo {
                        e[i - 1] = oldsn * r;
                    }
                    let (oc, os, di) = lartg(oldcs * r, d[i + 1] * s);
                    (oldcs, oldsn, d[i]) = (oc, os, di);
                    save!(i - lo, c, s, oc, os);
                }
                let h = d[hi] * cs;
                d[hi] = h * oldcs;
                e[hi - 1] = h * oldsn;
                if e[hi - 1].abs() <= thresh {
                    e[hi - 1] = T::ZERO;
                }
            } else {
                for i in (lo + 1..=hi).rev() {
                    let (c, s, r) = lartg(d[i] * cs, e[i - 1]);
                    cs = c;
                    if i < hi {
                        e[i] = oldsn * r;
                    }
                    let (oc, os, di) = lartg(oldcs * r, d[i - 1] * s);
                    (oldcs, oldsn, d[i]) = (oc, os, di);
                    // bottom-up: the left vectors get (c, s), the right ones (oc, os), on the
                    // pair (i, i-1); stored for the pair (i-1, i) with the sine negated
                    save!(i - 1 - lo, oc, T::ZERO - os, c, T::ZERO - s);
                }
                let h = d[lo] * cs;
                d[lo] = h * oldcs;
                e[lo] = h * oldsn;
                if e[lo].abs() <= thresh {
                    e[lo] = T::ZERO;
                }
            }
        } else if idir == 1 {
            // shifted sweep, top to bottom
            let mut f = (d[lo].abs() - shift) * (copysign(T::ONE, d[lo]) + shift / d[lo]);
            let mut g = e[lo];
            for i in lo..hi {
                let (cosr, sinr, r) = lartg(f, g);
                if i > lo {
                    e[i - 1] = r;
                }
                f = cosr * d[i] + sinr * e[i];
                e[i] = cosr * e[i] - sinr * d[i];
                g = sinr * d[i + 1];
                d[i + 1] = cosr * d[i + 1];
                let (cosl, sinl, r) = lartg(f, g);
                d[i] = r;
                f = cosl * e[i] + sinl * d[i + 1];
                d[i + 1] = cosl * d[i + 1] - sinl * e[i];
                if i + 1 < hi {
                    g = sinl * e[i + 1];
                    e[i + 1] = cosl * e[i + 1];
                }
                save!(i - lo, cosr, sinr, cosl, sinl);
            }
            e[hi - 1] = f;
            if e[hi - 1].abs() <= thresh {
                e[hi - 1] = T::ZERO;
            }
        } else {
            // shifted sweep, bottom to top
            let mut f = (d[hi].abs() - shift) * (copysign(T::ONE, d[hi]) + shift / d[hi]);
            let mut g = e[hi - 1];
            for i in (lo + 1..=hi).rev() {
                let (cosr, sinr, r) = lartg(f, g);
                if i < hi {
                    e[i] = r;
                }
                f = cosr * d[i] + sinr * e[i - 1];
                e[i - 1] = cosr * e[i - 1] - sinr * d[i];
                g = sinr * d[i - 1];
                d[i - 1] = cosr * d[i - 1];
                let (cosl, sinl, r) = lartg(f, g);
                d[i] = r;
                f = cosl * e[i - 1] + sinl * d[i - 1];
                d[i - 1] = cosl * d[i - 1] - sinl * e[i - 1];
                if i > lo + 1 {
                    g = sinl * e[i - 2];
                    e[i - 2] = cosl * e[i - 2];
                }
                // row rotations (cosr) act on the left vectors, column ones on the right
                save!(i - 1 - lo, cosl, T::ZERO - sinl, cosr, T::ZERO - sinr);
            }
            e[lo] = f;
            if e[lo].abs() <= thresh {
                e[lo] = T::ZERO;
            }
        }
        if let Some(v) = vecs.as_mut() {
            v.sweep(Sweep { lo, nrot, forward: idir == 1 }, n);
        }
    }
    true
}

/// Passes allowed per value before [`dqds`] gives up (and [`bdsqr`] is used instead).
const DQDS_MAX_PASSES: usize = 30;

/// The eigenvalues `(small, big)` of the 2x2 qd block `(q1, e1, q2)` (trace `q1 + e1 + q2`,
/// determinant `q1 q2`), `e1 > 0`: with `q1 >= q2` and `t = (q1 - q2 + e1) / 2`,
/// `big = q2 + t + sqrt(t (t + q2 e1 / t))` is a sum of positive terms and `small = q1 q2 / big`,
/// so both keep high relative accuracy (no cancellation, no overflow of a square).
#[inline(always)]
fn qd2<T: Real>(q1: T, e1: T, q2: T) -> (T, T) {
    let (q1, q2) = if q1 >= q2 { (q1, q2) } else { (q2, q1) };
    let t = T::from_f64(0.5) * ((q1 - q2) + e1);
    let s = q2 * (e1 / t);
    let big = q2 + t + t.sqrt() * (t + s).sqrt();
    (q1 * (q2 / big), big)
}

/// What the last accepted dqds pass leaves for choosing the next shift (the inputs of LAPACK's
/// dlasq4): the smallest `d` of the pass (`dmin`), of all but its last row (`dmin1`) and of all
/// but its last two (`dmin2`), its last three `d` (`dn`, `dn1`, `dn2`), the bottom row it ran to
/// (`hi_pass`: rows deflated since then change which of these describe the block now), the kind
/// of the last shift (`kind`, dlasq4's TTYPE, with 11 or 12 taken off per failed pass) and the
/// fraction of `dmin` the no-information case uses (`g`).
struct ShiftState<T> {
    dmin: T,
    dmin1: T,
    dmin2: T,
    dn: T,
    dn1: T,
    dn2: T,
    hi_pass: usize,
    kind: i32,
    g: T,
}

/// `sum` plus the running products `b e_k / q_k` up the block from row `end - 1` to `lo` (an
/// estimate of how much the rows above contribute to the norm of the bottom eigenvector,
/// dlasq4's loops), stopping once the latest term (`pair`: the larger of it and the one before)
/// is below 1/100 of the sum or the sum passes `cap`. `None` when some `e_k > q_k` (the estimate
/// does not apply).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn ratio_tail<T: Real>(q: &[T], ee: &[T], lo: usize, end: usize, b: T, sum: T, cap: T, pair: bool) -> Option<T> {
    let (mut b, mut sum) = (b, sum);
    let hundred = T::from_f64(100.0);
    for j in (lo..end).rev() {
        if b == T::ZERO {
            break;
        }
        let b_prev = b;
        if ee[j] > q[j] {
            return None;
        }
        b = b * (ee[j] / q[j]);
        sum = sum + b;
        let term = if pair { max(b, b_prev) } else { b };
        if term * hundred < sum || sum > cap {
            break;
        }
    }
    Some(sum)
}

/// The next dqds shift for the block `lo..=hi` (`hi >= lo + 2`): a lower bound of its smallest
/// eigenvalue as close to it as the last pass lets us tell, the case analysis of LAPACK's dlasq4
/// (Parlett and Marques, "An implementation of the dqds algorithm (positive case)", 2000).
/// `q`, `ee` are the current qd arrays, `oq`, `oe` the ones the last pass started from. When the
/// smallest `d` was the last (or next to last), the bottom rows' Gershgorin discs or a Rayleigh
/// quotient residual bound place the eigenvalue; with no such information a fraction of `dmin`
/// that grows while it keeps succeeding. A shift that still overshoots is caught by the pass.
#[inline(always)]
fn dqds_shift<T: Real>(q: &[T], ee: &[T], oq: &[T], oe: &[T], lo: usize, hi: usize, st: &mut ShiftState<T>) -> T {
    let c = T::from_f64;
    let (zero, one, half, quarter, third) = (T::ZERO, T::ONE, c(0.5), c(0.25), c(0.333));
    // the Rayleigh quotient residual bound applies while the estimated tail stays below 0.563
    let cap = c(0.563);
    let rayleigh = |gam: T, a2: T| gam * (one - a2.sqrt()) / (a2 + one);
    // (a zero dmin at a row deflated since says nothing of the block left: cases 7 to 12)
    if st.dmin <= zero && st.hi_pass == hi {
        st.kind = -1;
        return -st.dmin;
    }
    let (dmin, dmin1, dmin2, dn, dn1, dn2) = (st.dmin, st.dmin1, st.dmin2, st.dn, st.dn1, st.dn2);
    let s = if st.hi_pass == hi {
        // nothing deflated since the pass
        if dmin == dn || dmin == dn1 {
            let b1 = q[hi].sqrt() * ee[hi - 1].sqrt();
            let b2 = q[hi - 1].sqrt() * ee[hi - 2].sqrt();
            let a2 = q[hi - 1] + ee[hi - 1];
            if dmin == dn && dmin1 == dn1 {
                // the bottom eigenvalue is the smallest: Gershgorin's discs of the last two rows
                let gap2 = dmin2 - a2 - dmin2 * quarter;
                let gap1 = if gap2 > zero && gap2 > b2 { a2 - dn - (b2 / gap2) * b2 } else { a2 - dn - (b1 + b2) };
                if gap1 > zero && gap1 > b1 {
                    st.kind = -2;
                    max(dn - (b1 / gap1) * b1, half * dmin)
                } else {
                    let mut s = if dn > b1 { dn - b1 } else { zero };
                    if a2 > b1 + b2 {
                        s = min(s, a2 - (b1 + b2));
                    }
                    st.kind = -3;
                    max(s, third * dmin)
                }
            } else {
                // a Rayleigh quotient bound from the tail of the block
                st.kind = -4;
                let s = quarter * dmin;
                let start = if dmin == dn {
                    if ee[hi - 1] > q[hi - 1] {
                        return s;
                    }
                    Some((dn, zero, ee[hi - 1] / q[hi - 1], hi - 1))
                } else if oe[hi - 1] > oq[hi] || ee[hi - 2] > q[hi - 2] {
                    None
                } else {
                    Some((dn1, oe[hi - 1] / oq[hi], ee[hi - 2] / q[hi - 2], hi - 2))
                };
                // b2 is row `end`'s ratio; the tail goes on above it
                let Some((gam, a2, b2, end)) = start else { return s };
                match ratio_tail(q, ee, lo, end, b2, a2 + b2, cap, true) {
                    Some(a2) if a2 * c(1.05) < cap => rayleigh(gam, a2 * c(1.05)),
                    Some(_) => s,
                    None => return s,
                }
            }
        } else if dmin == dn2 {
            st.kind = -5;
            let s = quarter * dmin;
            let (b1, b2) = (oq[hi], oq[hi - 1]);
            if oe[hi - 2] > b2 || oe[hi - 1] > b1 {
                return s;
            }
            let mut a2 = (oe[hi - 2] / b2) * (one + oe[hi - 1] / b1);
            if hi - lo > 2 {
                let b2 = ee[hi - 3] / q[hi - 3];
                match ratio_tail(q, ee, lo, hi - 3, b2, a2 + b2, cap, true) {
                    Some(t) => a2 = t * c(1.05),
                    None => return s,
                }
            }
            if a2 < cap { rayleigh(dn2, a2) } else { s }
        } else {
            // no information: a fraction of dmin, larger each time it works
            st.g = if st.kind == -6 { st.g + (one - st.g) * third } else if st.kind == -18 { c(0.08325) } else { quarter };
            st.kind = -6;
            st.g * dmin
        }
    } else if st.hi_pass == hi + 1 {
        // one value deflated: dmin1 and dn1 describe the block
        if dmin1 == dn1 && dmin2 == dn2 {
            st.kind = -7;
            let s = third * dmin1;
            if ee[hi - 1] > q[hi - 1] {
                return s;
            }
            let b1 = ee[hi - 1] / q[hi - 1];
            let Some(b2) = ratio_tail(q, ee, lo, hi - 1, b1, b1, T::INFINITY, true) else { return s };
            let b2 = (b2 * c(1.05)).sqrt();
            let a2 = dmin1 / (b2 * b2 + one);
            let gap2 = half * dmin2 - a2;
            if gap2 > zero && gap2 > b2 * a2 {
                max(s, a2 * (one - c(1.01) * a2 * (b2 / gap2) * b2))
            } else {
                st.kind = -8;
                max(s, a2 * (one - c(1.01) * b2))
            }
        } else {
            st.kind = -9;
            if dmin1 == dn1 { half * dmin1 } else { quarter * dmin1 }
        }
    } else if st.hi_pass == hi + 2 {
        // two values deflated: dmin2 and dn2 describe the block
        if dmin2 == dn2 && c(2.0) * ee[hi - 1] < q[hi - 1] {
            st.kind = -10;
            let s = third * dmin2;
            let b1 = ee[hi - 1] / q[hi - 1];
            let Some(b2) = ratio_tail(q, ee, lo, hi - 1, b1, b1, T::INFINITY, false) else { return s };
            let b2 = (b2 * c(1.05)).sqrt();
            let a2 = dmin2 / (b2 * b2 + one);
            let gap2 = q[hi - 1] + ee[hi - 2] - q[hi - 2].sqrt() * ee[hi - 2].sqrt() - a2;
            if gap2 > zero && gap2 > b2 * a2 {
                max(s, a2 * (one - c(1.01) * a2 * (b2 / gap2) * b2))
            } else {
                max(s, a2 * (one - c(1.01) * b2))
            }
        } else {
            st.kind = -11;
            quarter * dmin2
        }
    } else {
        // more than two deflated: nothing known
        st.kind = -12;
        zero
    };
    s
}

/// How many dqds passes [`dqds`] runs in one sweep: the first with the shift, the others without.
const DQDS_GROUP: usize = 4;

/// The scratch [`dqds`] needs for `n` values (see [`grouped_work_len`]).
pub(crate) const fn dqds_work_len(n: usize) -> usize {
    grouped_work_len(DQDS_GROUP, n)
}

/// The scratch of `k` passes a sweep for `n` values: `k + 1` pairs of qd arrays and the values.
const fn grouped_work_len(k: usize, n: usize) -> usize {
    (2 * k + 3) * n
}

/// `K` dqds passes in one sweep over the rows `lo..=hi` (`hi >= lo + K`): pass `c` reads the qd
/// arrays in `slots[c]` (`q` in `[..n]`, `ee` in `[n..]`) and writes `slots[c + 1]`, one row
/// behind pass `c - 1`, whose output row it needs. The first pass has the shift `tau`, the
/// others none.
///
/// Why: each pass is one chain of dependent operations (an addition, a division, a
/// multiplication and a subtraction per row, ~23-27 cycles), so passes side by side cost little
/// more than one; and a pass without a shift may start before the shifted one has shown its
/// shift to be safe, since a positive qd array stays positive without a shift. Once the shift
/// has made the bottom `q` small, unshifted passes shrink the coupling above it about as fast as
/// shifted ones would.
///
/// Returns whether the first pass kept every `d` non-negative and finite (if not, the later
/// passes are void), and the last pass's `[dmin, dmin1, dmin2, dn, dn1, dn2]` (see
/// [`ShiftState`]).
#[inline(always)]
fn dqds_group<T: Real, const K: usize>(slots: &mut [&mut [T]], n: usize, lo: usize, hi: usize, tau: T) -> (bool, [T; 6]) {
    debug_assert!(slots.len() > K && hi >= lo + K && hi < n);
    let mut d = [T::ZERO; K];
    let mut dmin_first = T::INFINITY;
    // the last pass's minima (all rows so far, all but the last, all but the last two) and its
    // last three d
    let (mut dm, mut dm1, mut dm2) = (T::INFINITY, T::INFINITY, T::INFINITY);
    let (mut dn, mut dn1, mut dn2) = (T::ZERO, T::ZERO, T::ZERO);
    // pass c's row i (c and K are constants once the loops over c are unrolled; a macro, not a
    // closure, so that d and the minima stay in registers: a closure left out of line measured
    // 1.5x slower)
    macro_rules! row {
        ($c:expr, $i:expr) => {{
            let (c, i) = ($c, $i);
            let (src, dst) = slots.split_at_mut(c + 1);
            let (src, dst) = (&*src[c], &mut *dst[0]);
            if i == lo {
                d[c] = if c == 0 { src[lo] - tau } else { src[lo] };
                if c == 0 {
                    dmin_first = d[c];
                }
                if c == K - 1 {
                    (dm, dn) = (d[c], d[c]);
                }
            }
            // (d (q / qh), not (d q) / qh: the product d q could overflow)
            let qh = d[c] + src[n + i];
            let t = src[i + 1] / qh;
            dst[n + i] = src[n + i] * t;
            dst[i] = qh;
            d[c] = if c == 0 { d[c] * t - tau } else { d[c] * t };
            if c == 0 {
                dmin_first = min(dmin_first, d[c]);
            }
            if c == K - 1 {
                (dm2, dm1, dm) = (dm1, dm, min(dm, d[c]));
                (dn2, dn1, dn) = (dn1, dn, d[c]);
            }
            if i + 1 == hi {
                dst[hi] = d[c];
            }
        }};
    }
    // passes start one row apart ...
    for j in lo..lo + K {
        for c in 0..K {
            if c <= j - lo {
                row!(c, j - c);
            }
        }
    }
    // ... run side by side ...
    for j in lo + K..hi {
        for c in 0..K {
            row!(c, j - c);
        }
    }
    // ... and end one row apart
    for j in hi..hi + K - 1 {
        for c in 0..K {
            if c > j - hi {
                row!(c, j - c);
            }
        }
    }
    let first_ok = dmin_first >= T::ZERO && dmin_first.is_finite() && d[0].is_finite();
    (first_ok, [dm, dm1, dm2, dn, dn1, dn2])
}

/// Singular values of the upper bidiagonal (`d`, `e[..n-1]`) by the dqds algorithm (Fernando and
/// Parlett): qd arrays `q = d^2`, `ee = e^2`, shifted differential qd passes, each value deflated
/// at the bottom as `sqrt(shift + q)`. All quantities stay positive, so every value, the tiny
/// ones included, comes with high relative accuracy. The values end in `d` (unsorted, positive).
/// `work` holds [`dqds_work_len`]`(n)`.
///
/// The shifts are LAPACK's (dlasq4, see [`dqds_shift`]); each shifted pass is followed, in the
/// same sweep, by unshifted ones ([`dqds_group`]). A shifted pass that overshoots (some `d` turns
/// negative) is rejected and retried alone as dlasq3 does: with the overshoot taken off when only
/// the last `d` went negative, else with a quarter of the shift, then with none. A negative last
/// `d` whose row has converged anyway (its coupling and `d` below the tolerance) is taken as
/// zero. Returns false (with `d`, `e` untouched) when an entry is zero or not finite or the
/// passes run out; [`bdsqr`] handles those.
#[inline(always)]
pub(crate) fn dqds<T: Real>(d: &mut [T], e: &[T], work: &mut [T]) -> bool {
    dqds_grouped::<T, DQDS_GROUP>(d, e, work)
}

/// [`dqds`] with `K` passes a sweep (`1 <= K <= 7`; `work` holds [`grouped_work_len`]`(K, n)`).
#[inline(always)]
fn dqds_grouped<T: Real, const K: usize>(d: &mut [T], e: &[T], work: &mut [T]) -> bool {
    let n = d.len();
    if n <= 1 {
        for x in d.iter_mut() {
            *x = x.abs();
        }
        return true;
    }
    let (z, rest) = work.split_at_mut(2 * (K + 1) * n);
    let vals = &mut rest[..n];
    // pairs of qd arrays (`q` then `ee`): the current ones first; `slots[old]` holds the ones the
    // last pass started from (read by the shift), the others are free
    let mut chunks = z.chunks_exact_mut(2 * n);
    let mut slots: [&mut [T]; 8] = core::array::from_fn(|s| if s <= K { chunks.next().expect("dqds_work_len") } else { &mut [] });
    let mut old = 1;
    let (mut qmin, mut emax) = (T::INFINITY, T::ZERO);
    for i in 0..n {
        let (qi, ei) = (d[i] * d[i], if i + 1 < n { e[i] * e[i] } else { T::ZERO });
        // a zero (or underflowed) pivot, or a zero coupling: the QR iteration copes with those
        if !(qi >= T::MIN_POSITIVE && qi <= T::MAX) || (i + 1 < n && !(ei >= T::MIN_POSITIVE && ei <= T::MAX)) {
            return false;
        }
        slots[0][i] = qi;
        slots[0][n + i] = ei;
        qmin = min(qmin, qi);
        emax = max(emax, ei);
    }
    let tol = T::EPSILON * T::from_f64(100.0);
    let tol2 = tol * tol;
    let mut hi = n - 1;
    let lo = 0;
    let mut sigma = T::ZERO;
    let mut nvals = 0;
    let mut passes = 0;
    let max_passes = DQDS_MAX_PASSES * n;
    // the first shift: Gershgorin's lower bound of the smallest eigenvalue, if positive
    let first = qmin - T::from_f64(2.0) * qmin.sqrt() * emax.sqrt();
    let mut st = ShiftState {
        dmin: -max(first, T::ZERO),
        dmin1: T::ZERO,
        dmin2: T::ZERO,
        dn: T::ZERO,
        dn1: T::ZERO,
        dn2: T::ZERO,
        hi_pass: hi,
        kind: 0,
        g: T::ZERO,
    };
    loop {
        // deflate at the bottom: one value, or two from a 2x2 block
        let (q, ee) = slots[0].split_at(n);
        loop {
            if hi == lo {
                vals[nvals] = sigma + q[hi];
                nvals += 1;
                break;
            }
            if ee[hi - 1] <= tol2 * (sigma + q[hi]) {
                vals[nvals] = sigma + q[hi];
                nvals += 1;
                hi -= 1;
                continue;
            }
            if hi == lo + 1 || ee[hi - 2] <= tol2 * (sigma + q[hi - 1]) {
                let (small, big) = qd2(q[hi - 1], ee[hi - 1], q[hi]);
                vals[nvals] = sigma + big;
                vals[nvals + 1] = sigma + small;
                nvals += 2;
                if hi == lo + 1 {
                    hi = lo;
                    break;
                }
                hi -= 2;
                continue;
            }
            break;
        }
        if nvals == n {
            break;
        }
        if hi == lo {
            continue;
        }
        let mut tau = {
            let (oq, oe) = slots[old].split_at(n);
            dqds_shift(q, ee, oq, oe, lo, hi, &mut st)
        };
        // the shifted pass and the unshifted ones after it; alone when it has to be retried
        let mut group = true;
        loop {
            // (blocks of a few rows take their passes one at a time)
            let k = if group && hi >= lo + K { K } else { 1 };
            passes += k;
            #[cfg(test)]
            tests::PASSES.fetch_add(k, std::sync::atomic::Ordering::Relaxed);
            if passes > max_passes {
                return false;
            }
            let (first_ok, [dm, dm1, dm2, dn, dn1, dn2]) = if k > 1 {
                dqds_group::<T, K>(&mut slots, n, lo, hi, tau)
            } else {
                dqds_group::<T, 1>(&mut slots, n, lo, hi, tau)
            };
            let accepted = if first_ok {
                Some(dm)
            } else if k == 1 && dm < T::ZERO && dm1 > T::ZERO && dn.is_finite() && slots[1][n + hi - 1] < tol * (sigma + dn1) && dn.abs() < tol * sigma {
                // the last row converged, hidden by a d just below zero
                slots[1][hi] = T::ZERO;
                Some(T::ZERO)
            } else {
                None
            };
            if let Some(dm) = accepted {
                // the last pass's output becomes current, its input the old arrays
                slots[..=k].rotate_right(1);
                old = k;
                sigma = sigma + tau;
                st.dmin = dm;
                (st.dmin1, st.dmin2, st.dn, st.dn1, st.dn2, st.hi_pass) = (dm1, dm2, dn, dn1, dn2, hi);
                break;
            }
            if k > 1 {
                // retry the shifted pass alone, to see how it failed
                group = false;
                continue;
            }
            #[cfg(test)]
            tests::FAILS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if tau == T::ZERO {
                return false;
            }
            if st.kind < -22 || !(dm.is_finite() && dn.is_finite()) {
                tau = T::ZERO;
            } else if dm1 > T::ZERO {
                // only the last d went below zero: take the overshoot off the shift
                tau = (tau + dm) * (T::ONE - T::from_f64(2.0) * T::EPSILON);
                st.kind -= 11;
            } else {
                tau = tau * T::from_f64(0.25);
                st.kind -= 12;
            }
        }
    }
    for (x, v) in d.iter_mut().zip(vals.iter()) {
        *x = v.sqrt();
    }
    true
}

/// What [`svd_small`] produced: singular values in `s` (descending, non-negative). With vectors,
/// `(left, lu, right, lv, perm, sgn)`: for `k < n`, the left singular vector of `s[k]` is row
/// `perm[k]` of `left` (rows of length `lu`) and the right one is row `perm[k]` of `right`
/// (length `lv`) times `sgn[perm[k]]`; for `n <= k < kq` (full `Q`) the left vector `k` is row
/// `k` of `left`.
pub(crate) struct SmallOut<'w, T> {
    /// the singular values, descending
    pub s: &'w [T],
    /// with vectors: (left rows, their length, right rows, their length, order, signs)
    pub vecs: Option<(&'w [T], usize, &'w [T], usize, &'w [usize], &'w [T])>,
}

/// From this `n` up, an SVD with vectors given two threads runs its QR iteration on one and
/// the work on the vectors on the other. Measured (`pipe_timing`, wall time, two threads / one):
/// n = 16: 0.97-1.06 (the hand-off costs what it saves), 32: 0.90-0.94, 48: 0.76, 64: 0.70,
/// 96: 0.67.
const PIPE_MIN_N: usize = 24;

/// Runs `body` compiled for the widest vector unit this CPU has (`body` and what it calls
/// must be `#[inline(always)]` to be compiled so). For the tasks that `Par::join` runs through
/// a function pointer, where the caller's target features do not reach.
macro_rules! widest_isa {
    ($(#[$doc:meta])* fn $name:ident($($p:ident: $t:ty),* $(,)?) -> $r:ty $body:block) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        fn $name<T: Real>($($p: $t),*) -> $r {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body<T: Real>($($p: $t),*) -> $r $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512dq")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn wide<T: Real>($($p: $t),*) -> $r {
                    body($($p),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn narrow<T: Real>($($p: $t),*) -> $r {
                    body($($p),*)
                }
                if crate::cpu::has_avx512() {
                    // SAFETY: the CPU has the features (checked just above).
                    return unsafe { wide($($p),*) };
                }
                if crate::cpu::has_avx2_fma() {
                    // SAFETY: as above.
                    return unsafe { narrow($($p),*) };
                }
            }
            body($($p),*)
        }
    };
}

widest_isa! {
    /// The producer of the two-thread path: forms `P` (`n x n` at `p`) from the right
    /// reflectors, then runs the QR iteration with its rotations into `pipe`. `P` is written
    /// before the first sweep is published (or the pipe closed), and the consumer touches it
    /// only after receiving one, so the two never use `p` at once.
    fn chase_into_pipe(
        pv: &[T],
        taup: &[T],
        p: *mut T,
        d: &mut [T],
        e: &mut [T],
        cs: &mut [T],
        sn: &mut [T],
        pipe: &SweepPipe<T>,
    ) -> bool {
        let _close = CloseOnDrop(pipe);
        let n = d.len();
        // SAFETY: `p` holds n n elements, not in use by the consumer yet (above)
        form_p(pv, n, taup, unsafe { core::slice::from_raw_parts_mut(p, n * n) });
        bdsqr(d, e, Some(Vecs { target: Target::Pipe(pipe), cs, sn }))
    }
}

widest_isa! {
    /// The consumer of the two-thread path: forms `Q` from the left reflectors, then applies
    /// every sweep of the QR iteration to `Q` and `P` as it arrives.
    fn rotate_vectors(a: &[T], m: usize, n: usize, tauq: &[T], q: &mut [T], kq: usize, p: *mut T, pipe: &SweepPipe<T>) -> () {
        form_q(a, m, n, tauq, q, kq);
        // SAFETY: the pipe's only consumer
        let mut sweeps = unsafe { pipe.receiver() };
        while let Some((sweep, rot)) = sweeps.next() {
            // SAFETY: `p` (n n elements) is the producer's no longer once a sweep has arrived
            // (see `chase_into_pipe`)
            let p = unsafe { core::slice::from_raw_parts_mut(p, n * n) };
            apply_sweep(q, m, p, n, sweep, rot);
        }
    }
}

/// The SVD of the column-major `m x n` matrix already copied into `work[..m n]` (`m >= n >= 1`,
/// see [`work_len`]). With `vectors`, the left vectors are `kq` (n or m) rows of length m, the
/// right ones n rows of length n; with two threads in `par` and `n >= PIPE_MIN_N`, the QR
/// iteration and the work on the vectors run on one each (see [`chase_into_pipe`]). Returns
/// `None` if the QR iteration did not converge.
#[inline(always)]
fn svd_small_impl<'w, T: Real>(
    work: &'w mut [T],
    perm: &'w mut [usize],
    m: usize,
    n: usize,
    vectors: bool,
    kq: usize,
    par: Par,
) -> Option<SmallOut<'w, T>> {
    let (a, rest) = work.split_at_mut(m * n);
    let (d, rest) = rest.split_at_mut(n);
    let (e, rest) = rest.split_at_mut(n);
    let (tauq, rest) = rest.split_at_mut(n);
    let (taup, rest) = rest.split_at_mut(n);
    let (r, rest) = rest.split_at_mut(n);
    let (sgn, rest) = rest.split_at_mut(n);
    let (z, rest) = rest.split_at_mut(m + 2);
    if !vectors {
        bidiag(a, m, n, d, e, tauq, taup, None, r, z);
        if !dqds(d, &e[..n], rest) && !bdsqr(d, &mut e[..n], None) {
            return None;
        }
        for x in d.iter_mut() {
            *x = x.abs();
        }
        // descending (the QR leaves them almost sorted: insertion sort)
        for i in 1..n {
            let x = d[i];
            let mut j = i;
            while j > 0 && d[j - 1] < x {
                d[j] = d[j - 1];
                j -= 1;
            }
            d[j] = x;
        }
        return Some(SmallOut { s: d, vecs: None });
    }
    let (q, rest) = rest.split_at_mut(m * kq);
    let (p, rest) = rest.split_at_mut(n * n);
    let (pv, rest) = rest.split_at_mut(n * n);
    let (cs, rest) = rest.split_at_mut(2 * n);
    let (sn, _) = rest.split_at_mut(2 * n);
    // the right reflectors go to `pv`, then P and Q are formed from the reflectors
    bidiag(a, m, n, d, e, tauq, taup, Some(&mut *pv), r, z);
    let ok = if par.is_parallel() && n >= PIPE_MIN_N {
        // two threads: this one forms P and runs the QR iteration, the other forms Q and applies
        // the iteration's rotations to Q and P as they come (sweep_pipe.rs says why)
        let pipe = SweepPipe::new(n);
        let e = &mut e[..n];
        let (a, tauq, taup, pv) = (&*a, &*tauq, &*taup, &*pv);
        let p = SendPtr(p.as_mut_ptr());
        par.join(
            || chase_into_pipe(pv, taup, p.get(), d, e, cs, sn, &pipe),
            || rotate_vectors(a, m, n, tauq, q, kq, p.get(), &pipe),
        )
        .0
    } else {
        form_p(pv, n, taup, p);
        form_q(a, m, n, tauq, q, kq);
        bdsqr(d, &mut e[..n], Some(Vecs { target: Target::Rows { ut: q, lu: m, vt: p, lv: n }, cs, sn }))
    };
    if !ok {
        return None;
    }
    for (x, sg) in d.iter_mut().zip(sgn.iter_mut()) {
        *sg = if *x < T::ZERO { T::ZERO - T::ONE } else { T::ONE };
        *x = x.abs();
    }
    for (k, pk) in perm.iter_mut().enumerate().take(kq) {
        *pk = k;
    }
    // descending order of d (stable): the first n of perm
    let dd: &[T] = d;
    perm[..n].sort_by(|&i, &j| dd[j].partial_cmp(&dd[i]).unwrap_or(core::cmp::Ordering::Equal));
    for k in 0..n {
        r[k] = d[perm[k]];
    }
    d.copy_from_slice(&r[..n]);
    Some(SmallOut { s: d, vecs: Some((q, m, p, n, perm, sgn)) })
}

/// The singular values of the upper bidiagonal (`d`, `e[..n-1]`, `e` of length n): dqds, or the
/// QR iteration where dqds cannot run; into `d`, descending and non-negative. `work` holds
/// [`dqds_work_len`]`(n)` elements. False if the QR iteration did not converge.
#[inline(always)]
fn bidiag_values_impl<T: Real>(d: &mut [T], e: &mut [T], work: &mut [T]) -> bool {
    let n = d.len();
    if !dqds(d, &e[..n], work) && !bdsqr(d, &mut e[..n], None) {
        return false;
    }
    for x in d.iter_mut() {
        *x = x.abs();
    }
    for i in 1..n {
        let x = d[i];
        let mut j = i;
        while j > 0 && d[j - 1] < x {
            d[j] = d[j - 1];
            j -= 1;
        }
        d[j] = x;
    }
    true
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn bidiag_values_avx2<T: Real>(d: &mut [T], e: &mut [T], work: &mut [T]) -> bool {
    bidiag_values_impl(d, e, work)
}

/// [`bidiag_values_impl`] compiled for AVX2 where the CPU has it (the faster build for the
/// values, see [`svd_small`]; same bits).
pub(crate) fn bidiag_values<T: Real>(d: &mut [T], e: &mut [T], work: &mut [T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::cpu::has_avx2_fma() {
            // SAFETY: the CPU has the features (checked just above).
            return unsafe { bidiag_values_avx2(d, e, work) };
        }
    }
    bidiag_values_impl(d, e, work)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
unsafe fn svd_small_avx512<'w, T: Real>(
    work: &'w mut [T],
    perm: &'w mut [usize],
    m: usize,
    n: usize,
    vectors: bool,
    kq: usize,
    par: Par,
) -> Option<SmallOut<'w, T>> {
    svd_small_impl(work, perm, m, n, vectors, kq, par)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn svd_small_avx2<'w, T: Real>(
    work: &'w mut [T],
    perm: &'w mut [usize],
    m: usize,
    n: usize,
    vectors: bool,
    kq: usize,
    par: Par,
) -> Option<SmallOut<'w, T>> {
    svd_small_impl(work, perm, m, n, vectors, kq, par)
}

/// The SVD of the column-major `m x n` matrix in `work[..m n]` (`m >= n >= 1`; `work` of
/// [`work_len`]`(m, n, vectors, kq == m)` elements, `perm` of `kq`), compiled for the widest
/// vector unit this CPU has. No fused multiply-adds are enabled by the wider code paths (Rust
/// never contracts `a * b + c`), so every path gives the same bits.
pub(crate) fn svd_small<'w, T: Real>(
    work: &'w mut [T],
    perm: &'w mut [usize],
    m: usize,
    n: usize,
    vectors: bool,
    kq: usize,
    par: Par,
) -> Option<SmallOut<'w, T>> {
    debug_assert!(m >= n && n >= 1 && work.len() >= work_len(m, n, vectors, kq == m && m != n));
    #[cfg(target_arch = "x86_64")]
    {
        // Values only: the AVX2 build is the faster one on this project's AVX-512 machine
        // (this thread's CPU time, interleaved, three runs of `avx512_vs_avx2_timing`: AVX2 /
        // AVX-512 = 0.95-0.96 at 64x64, 0.95-0.98 at 128, a tie at 32 and 256), with vectors
        // the AVX-512 one (AVX2 / AVX-512 = 1.06-1.09 at 64, 1.02 at 96). Same bits either way.
        if !vectors && crate::cpu::has_avx2_fma() {
            // SAFETY: the CPU has the features (checked just above).
            return unsafe { svd_small_avx2(work, perm, m, n, vectors, kq, par) };
        }
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            // SAFETY: the CPU has the features (checked just above).
            return unsafe { svd_small_avx512(work, perm, m, n, vectors, kq, par) };
        }
        if crate::cpu::has_avx2_fma() {
            // SAFETY: as above.
            return unsafe { svd_small_avx2(work, perm, m, n, vectors, kq, par) };
        }
    }
    svd_small_impl(work, perm, m, n, vectors, kq, par)
}

#[cfg(test)]
mod tests {
    use super::*;
    pub(super) static PASSES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    pub(super) static FAILS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// The reflector of a vector whose entries are all subnormal (or straddle the subnormal
    /// range): finite, `H [alpha; x] = [beta; 0]` to a few ulps of `|beta|`, and `|beta|` the
    /// norm; a `1 / max` or `1 / (alpha - beta)` of a subnormal would give infinities here.
    #[test]
    fn householder_of_subnormal_vectors() {
        fn check<T: Real>(alpha: f64, x: &[f64]) {
            let xs: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
            let a = T::from_f64(alpha);
            let mut v = xs.clone();
            let (beta, tau) = householder(a, &mut v);
            assert!(beta.is_finite() && tau.is_finite() && v.iter().all(|t| t.is_finite()), "{alpha} {x:?}: {beta:?} {tau:?}");
            // H y = y - tau (u^T y) u with u = [1; v], y = [alpha; x], in f64 on y / |beta| (so
            // that nothing underflows); a subnormal carries fewer bits, hence the absolute
            // allowance of a few of its smallest steps
            let (t64, b64) = (tau.to_f64(), beta.to_f64());
            let ys: Vec<f64> = std::iter::once(a.to_f64()).chain(xs.iter().map(|t| t.to_f64())).map(|t| t / b64.abs()).collect();
            let u: Vec<f64> = std::iter::once(1.0).chain(v.iter().map(|t| t.to_f64())).collect();
            let tol = 8.0 * T::EPSILON.to_f64() + 16.0 * T::MIN_POSITIVE.to_f64() * T::EPSILON.to_f64() / b64.abs();
            let norm = ys.iter().map(|t| t * t).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() <= tol, "{alpha} {x:?}: |y| / |beta| = {norm}");
            let w: f64 = u.iter().zip(&ys).map(|(p, q)| p * q).sum();
            for (k, (yk, uk)) in ys.iter().zip(&u).enumerate() {
                let hk = yk - t64 * w * uk;
                let want = if k == 0 { b64.signum() } else { 0.0 };
                assert!((hk - want).abs() <= tol, "{alpha} {x:?}: (H y)[{k}] / |beta| = {hk}, want {want}");
            }
        }
        let tiny = f64::MIN_POSITIVE;
        check::<f64>(0.0, &[3.0 * tiny / 1024.0, -tiny / 4096.0, 5e-320]);
        check::<f64>(1e-310, &[2e-310, -3e-311]);
        check::<f64>(-4e-320, &[1e-321]);
        check::<f64>(1e-300, &[1e-310, 1e-312]);
        check::<f32>(0.0, &[3e-40, -1e-41, 5e-42]);
        check::<f32>(1e-39, &[-2e-39]);
        // the ordinary path keeps working
        check::<f64>(1.0, &[2.0, -3.0]);
        check::<f32>(-0.5, &[1e-3, 4.0]);
    }

    /// A square `n x n` matrix of uniform entries in [-1, 1) (a fixed generator, the same matrix
    /// in every timing test).
    fn random_square(n: usize) -> Vec<f64> {
        let mut x = 12345u64;
        (0..n * n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    /// The bidiagonal `(d, e)` of [`random_square`]`(n)`.
    fn random_bidiagonal(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut w = random_square(n);
        let (mut d, mut e, mut tq, mut tp, mut r, mut z) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n + 2]);
        bidiag(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, None, &mut r, &mut z);
        (d, e)
    }

    #[test]
    #[ignore]
    fn dqds_passes() {
        use std::sync::atomic::Ordering::Relaxed;
        for &n in &[32usize, 64, 256] {
            let (mut d, e) = random_bidiagonal(n);
            PASSES.store(0, Relaxed);
            FAILS.store(0, Relaxed);
            let mut wk = vec![0.0; dqds_work_len(n)];
            let ok = dqds(&mut d, &e, &mut wk);
            println!("n={n} ok={ok} passes/n {:.2} fails {}", PASSES.load(Relaxed) as f64 / n as f64, FAILS.load(Relaxed));
        }
    }

    /// dqds with 1 to 7 passes a sweep, interleaved (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn dqds_group_timing() {
        fn run<const K: usize>(d0: &[f64], e0: &[f64], reps: usize) -> f64 {
            let n = d0.len();
            let mut wk = vec![0.0; grouped_work_len(K, n)];
            let mut d = d0.to_vec();
            let t = std::time::Instant::now();
            for _ in 0..reps {
                d.copy_from_slice(d0);
                assert!(dqds_grouped::<f64, K>(&mut d, e0, &mut wk));
            }
            t.elapsed().as_secs_f64() / reps as f64 * 1e6
        }
        for &n in &[32usize, 64, 128, 256] {
            let (d, e) = random_bidiagonal(n);
            let reps = (300_000 / (n * n)).max(3);
            let mut best = [f64::INFINITY; 7];
            for _ in 0..9 {
                let t = [run::<1>(&d, &e, reps), run::<2>(&d, &e, reps), run::<3>(&d, &e, reps), run::<4>(&d, &e, reps), run::<5>(&d, &e, reps), run::<6>(&d, &e, reps), run::<7>(&d, &e, reps)];
                for k in 0..7 {
                    best[k] = best[k].min(t[k]);
                }
            }
            let row: Vec<String> = best.iter().enumerate().map(|(k, t)| format!("K={} {t:7.1}", k + 1)).collect();
            println!("n={n:4} dqds us: {}", row.join("  "));
        }
    }

    /// The phases per matrix (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn phase_timing() {
        for &n in &[32usize, 64, 128, 256] {
            let a = random_square(n);
            let reps = (2_000_000 / (n * n * n)).clamp(3, 20000);
            let mut w = a.clone();
            let (mut d, mut e, mut tq, mut tp, mut r, mut z) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n + 2]);
            let mut tb = f64::INFINITY;
            for _ in 0..if std::arch::is_x86_feature_detected!("avx512f") { 7 } else { 0 } {
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    w.copy_from_slice(&a);
                    // SAFETY: test on this CPU only when it has AVX-512
                    unsafe { bidiag_avx512(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, &mut r, &mut z) };
                }
                tb = tb.min(t.elapsed().as_secs_f64() / reps as f64 * 1e6);
            }
            let t = std::time::Instant::now();
            for _ in 0..reps {
                w.copy_from_slice(&a);
                bidiag(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, None, &mut r, &mut z);
            }
            let tb0 = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            let (d0, e0) = (d.clone(), e.clone());
            let t = std::time::Instant::now();
            for _ in 0..reps {
                d.copy_from_slice(&d0);
                e.copy_from_slice(&e0);
                assert!(bdsqr(&mut d, &mut e, None));
            }
            let tq_ = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            let mut wk = vec![0.0; dqds_work_len(n)];
            let t = std::time::Instant::now();
            for _ in 0..reps {
                d.copy_from_slice(&d0);
                assert!(dqds(&mut d, &e0, &mut wk));
            }
            let tdq = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            println!("n={n:4} bidiag avx512 {tb:9.1} us  plain {tb0:9.1} us   bdsqr values {tq_:9.1} us  dqds {tdq:9.1} us");
        }
    }

    /// dqds against the QR iteration on random and graded bidiagonals: the same values to a
    /// relative few n eps.
    #[test]
    fn dqds_matches_bdsqr() {
        let mut x = 99u64;
        let mut rnd = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        for &n in &[2usize, 3, 5, 10, 33, 64, 150] {
            for kind in 0..4 {
                let d0: Vec<f64> = (0..n).map(|i| match kind {
                    0 => rnd() + 0.01,
                    1 => 10f64.powf(-30.0 * i as f64 / n as f64) * (1.0 + rnd()),
                    2 => 10f64.powf(-30.0 * (n - i) as f64 / n as f64) * (1.0 + rnd()),
                    _ => 1.0 + 1e-9 * rnd(),
                }).collect();
                let e0: Vec<f64> = (0..n).map(|i| if i + 1 == n { 0.0 } else { match kind {
                    1 => 10f64.powf(-30.0 * i as f64 / n as f64) * rnd(),
                    2 => 10f64.powf(-30.0 * (n - i) as f64 / n as f64) * rnd(),
                    3 => 1e-5 * rnd(),
                    _ => rnd(),
                } }).collect();
                let (mut d1, mut e1) = (d0.clone(), e0.clone());
                assert!(bdsqr(&mut d1, &mut e1, None));
                let mut d2 = d0.clone();
                let mut wk = vec![0.0; dqds_work_len(n)];
                assert!(dqds(&mut d2, &e0, &mut wk), "n={n} kind={kind}");
                let mut a: Vec<f64> = d1.iter().map(|v| v.abs()).collect();
                a.sort_by(|x, y| y.partial_cmp(x).unwrap());
                d2.sort_by(|x, y| y.partial_cmp(x).unwrap());
                for i in 0..n {
                    assert!((a[i] - d2[i]).abs() <= 10.0 * n as f64 * f64::EPSILON * a[i], "n={n} kind={kind} i={i} {} {}", a[i], d2[i]);
                }
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn bidiag_avx512(a: &mut [f64], m: usize, n: usize, d: &mut [f64], e: &mut [f64], tq: &mut [f64], tp: &mut [f64], r: &mut [f64], z: &mut [f64]) {
        bidiag(a, m, n, d, e, tq, tp, None, r, z)
    }

    /// The whole kernel compiled for AVX-512 against AVX2, interleaved, this thread's CPU time
    /// (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn avx512_vs_avx2_timing() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        let now = crate::testing::thread_cpu_time;
        for &(n, vectors) in &[(32usize, false), (64, false), (64, true), (96, true), (128, false), (256, false)] {
            let a = random_square(n);
            let reps = (4_000_000 / (n * n * n)).clamp(2, 2000);
            let mut wk = vec![0.0; work_len(n, n, vectors, false)];
            let mut perm = vec![0usize; n];
            let (mut t5, mut t2) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..15 {
                let t = now();
                for _ in 0..reps {
                    wk[..n * n].copy_from_slice(&a);
                    // SAFETY: the CPU has AVX-512 (checked above)
                    assert!(unsafe { svd_small_avx512(&mut wk, &mut perm, n, n, vectors, n, Par::SEQ) }.is_some());
                }
                t5 = t5.min((now() - t) / reps as f64 * 1e6);
                let t = now();
                for _ in 0..reps {
                    wk[..n * n].copy_from_slice(&a);
                    // SAFETY: as above
                    assert!(unsafe { svd_small_avx2(&mut wk, &mut perm, n, n, vectors, n, Par::SEQ) }.is_some());
                }
                t2 = t2.min((now() - t) / reps as f64 * 1e6);
            }
            println!("n={n:4} vectors={vectors}: avx512 {t5:9.1} us, avx2 {t2:9.1} us, avx2/avx512 {:.3}", t2 / t5);
        }
    }

    /// Where the time of an SVD with vectors goes (`n x n`, one thread, this thread's CPU
    /// time, best of 15; run with `--ignored --nocapture`): the bidiagonalization with the
    /// right reflectors kept, forming `P` and `Q`, and the QR iteration rotating them.
    #[test]
    #[ignore]
    fn vectors_phase_timing() {
        #[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx512f,avx512vl,avx512dq"))]
        unsafe fn phases(a: &[f64], n: usize, wk: &mut [f64], t: &mut [f64; 4]) {
            let now = crate::testing::thread_cpu_time;
            let (w, rest) = wk.split_at_mut(n * n);
            w.copy_from_slice(a);
            let (d, rest) = rest.split_at_mut(n);
            let (e, rest) = rest.split_at_mut(n);
            let (tq, rest) = rest.split_at_mut(n);
            let (tp, rest) = rest.split_at_mut(n);
            let (r, rest) = rest.split_at_mut(n);
            let (z, rest) = rest.split_at_mut(n + 2);
            let (q, rest) = rest.split_at_mut(n * n);
            let (p, rest) = rest.split_at_mut(n * n);
            let (cs, rest) = rest.split_at_mut(2 * n);
            let (sn, _) = rest.split_at_mut(2 * n);
            let t0 = now();
            bidiag(w, n, n, d, e, tq, tp, Some(&mut *p), r, z);
            let t1 = now();
            form_p(p, n, tp, q);
            p.copy_from_slice(&q[..n * n]);
            let t2 = now();
            form_q(w, n, n, tq, q, n);
            let t3 = now();
            assert!(bdsqr(d, &mut e[..n], Some(Vecs { target: Target::Rows { ut: q, lu: n, vt: p, lv: n }, cs, sn })));
            let t4 = now();
            for (ti, x) in t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
                *ti = ti.min(x * 1e6);
            }
        }
        if !std::arch::is_x86_feature_detected!("avx512f") || !std::arch::is_x86_feature_detected!("avx512dq") || !std::arch::is_x86_feature_detected!("avx512vl") {
            return;
        }
        for &n in &[32usize, 48, 64, 96] {
            let a = random_square(n);
            let mut wk = vec![0.0; 4 * n * n + 12 * n + 2];
            let mut t = [f64::INFINITY; 4];
            for _ in 0..15 {
                // SAFETY: the CPU has the features (checked above)
                unsafe { phases(&a, n, &mut wk, &mut t) };
            }
            println!("n={n:4}: bidiag {:8.1}  form P {:8.1}  form Q {:8.1}  QR with vectors {:8.1} us", t[0], t[1], t[2], t[3]);
        }
    }

    /// The SVD with vectors on one thread and on two (the sweep pipe), wall time, median of
    /// interleaved repeats (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn pipe_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for &n in &[16usize, 32, 48, 64, 96] {
            let a = random_square(n);
            let reps = (2_000_000 / (n * n * n)).clamp(5, 2000);
            let mut wk = vec![0.0; work_len(n, n, true, false)];
            let mut perm = vec![0usize; n];
            let mut t = [Vec::new(), Vec::new()];
            for _ in 0..21 {
                for (k, par) in [Par::SEQ, pool.par()].into_iter().enumerate() {
                    let t0 = std::time::Instant::now();
                    for _ in 0..reps {
                        wk[..n * n].copy_from_slice(&a);
                        assert!(svd_small(&mut wk, &mut perm, n, n, true, n, par).is_some());
                    }
                    t[k].push(t0.elapsed().as_secs_f64() / reps as f64 * 1e6);
                }
            }
            for v in t.iter_mut() {
                v.sort_by(|x, y| x.partial_cmp(y).unwrap());
            }
            println!("n={n:4}: one thread {:8.1} us, two {:8.1} us, two/one {:.3}", t[0][10], t[1][10], t[1][10] / t[0][10]);
        }
    }

    /// The AVX-512, AVX2 and baseline builds give the same bits (the dispatch may pick any),
    /// and so does the two-thread path (sweep_pipe.rs), whether its second thread helps or not.
    #[test]
    fn builds_give_the_same_bits() {
        if !std::arch::is_x86_feature_detected!("avx512f") || !std::arch::is_x86_feature_detected!("avx512dq") || !std::arch::is_x86_feature_detected!("avx512vl") {
            return;
        }
        // everything a run gives, as one list of numbers
        fn flat(out: Option<SmallOut<'_, f64>>) -> Vec<f64> {
            let out = out.unwrap();
            let mut all = out.s.to_vec();
            if let Some((l, _, r, _, p, sg)) = out.vecs {
                all.extend_from_slice(l);
                all.extend_from_slice(r);
                all.extend(p.iter().map(|&k| k as f64));
                all.extend_from_slice(sg);
            }
            all
        }
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for &(m, n) in &[(7usize, 7usize), (40, 33), (64, 64), (130, 100), (96, 96)] {
            let mut x = (m * 31 + n) as u64;
            let a: Vec<f64> = (0..m * n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
                })
                .collect();
            for vectors in [false, true] {
                let mut outs = Vec::new();
                for build in 0..5 {
                    let mut wk = vec![0.0; work_len(m, n, vectors, false)];
                    let mut perm = vec![0usize; n];
                    wk[..m * n].copy_from_slice(&a);
                    // SAFETY: the CPU has AVX-512 and AVX2 (checked above)
                    let out = match build {
                        0 => flat(unsafe { svd_small_avx512(&mut wk, &mut perm, m, n, vectors, n, Par::SEQ) }),
                        1 => flat(unsafe { svd_small_avx2(&mut wk, &mut perm, m, n, vectors, n, Par::SEQ) }),
                        2 => flat(svd_small_impl(&mut wk, &mut perm, m, n, vectors, n, Par::SEQ)),
                        // two threads, and two threads with the pool's only helper kept busy (so
                        // that both tasks may run on this thread, the consumer last)
                        3 => flat(svd_small(&mut wk, &mut perm, m, n, vectors, n, pool.par())),
                        _ => {
                            let stop = std::sync::atomic::AtomicBool::new(false);
                            std::thread::scope(|sc| {
                                sc.spawn(|| {
                                    pool.par().for_each(2, &|_| {
                                        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                                            std::hint::spin_loop();
                                        }
                                    })
                                });
                                std::thread::sleep(std::time::Duration::from_millis(2));
                                let out = flat(svd_small(&mut wk, &mut perm, m, n, vectors, n, pool.par()));
                                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                                out
                            })
                        }
                    };
                    outs.push(out);
                }
                for (build, out) in outs.iter().enumerate().skip(1) {
                    assert_eq!(&outs[0], out, "{m}x{n} vectors={vectors} build {build}");
                }
            }
        }
    }
}
