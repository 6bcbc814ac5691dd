//! Stage 2 of the two-stage values-only SVD: an upper band matrix to upper bidiagonal form by
//! Householder bulge chasing (Lang's algorithm, the structure of PLASMA's `gbtype1cb/2cb/3cb`
//! kernels and of LAPACK's `dsb2st_kernels` for the symmetric case), values only.
//!
//! Sweep `i` (one per row, `i = 0..n-2`) makes row `i` bidiagonal and chases the bulge it creates
//! off the end of the matrix in steps of `b`. A step owns a block of `l <= b` columns `[c, c+l)`:
//! - the right reflector generated from row `r` (`r = i` in the first step, the previous block's
//!   first row after that) annihilates `A[r, c+1..c+l]` and is applied to rows `r+1..c+l`: the
//!   rest of the previous block's rows (the "off-diagonal" part) and the block's own `l x l`
//!   diagonal part, which it fills below the diagonal (the bulge);
//! - the left reflector generated from column `c` (rows `[c, c+l)`) annihilates the first column of
//!   that bulge and is applied to columns `c+1..c+l-1+b`: the diagonal part and the `l x b` part
//!   right of it, which it fills above the band;
//! - the next step's right reflector is generated from row `c` of that fill.
//!
//! Only the first column (row) of each bulge is annihilated; the rest is left for the next
//! sweep, whose blocks are shifted by one and so cover it. At any time the matrix stays inside
//! the envelope `-(b-1) <= c - r <= 2b-1`, which is what the compact storage below holds.
//!
//! Storage: element `(r, c)` of the working matrix lives at `w[r + c * ld]`. With `ld = 3b` this
//! is a compact "skewed" band storage (`3 b n` elements instead of `n^2`): two entries of the
//! envelope never share an address (`(r, c)` and `(r', c+1)` would need `r - r' = 3b`, but the
//! envelope allows at most `3b - 3`), and every window a step touches is an ordinary column-major
//! block with leading dimension `ld` whose columns are contiguous. It is built in place in the
//! caller's `a` (the band is read column by column, and with `lda >= 3b` no write overtakes an
//! unread entry); when `lda < 3b` (`n < 3b`) the dense storage itself is used (`ld = lda`).
//!
//! Cost: a step applies two reflectors of length `<= b` to `~2 b^2` entries each (`~16 b^2`
//! flops), a sweep from row `i` has `(n - i) / b` steps: `~8 n^2 b` flops in all.
//!
//! Measured (`gbbrd_timing`, f64, one thread, median wall ms of 15 interleaved rounds, on a
//! shared 2-core machine with a load average of ~3.4: noisy), GFlop/s counted over the loop
//! bounds:
//!
//! | n | b = 16 | b = 32 | b = 64 |
//! | --- | --- | --- | --- |
//! | 256 | 0.83 (9.0 GF/s) | 1.12 (12.7) | 5.8 (4.2) |
//! | 512 | 7.5 (4.2) | 9.2 (6.6) | 17.5 (6.5) |
//! | 1024 | 25.5 (5.0) | 30.3 (8.4) | 60.5 (8.2) |
//! | 2048 | 64.4 (8.0) | 95.0 (10.9) | 202 (10.1) |
//!
//! The target for n = 1024, b = 32 is 8 ms (~32 GFlop/s); this straightforward version is ~4x
//! off: each reflector is applied in its own passes (level 2, `~2 b^2` entries read and written
//! per reflector at ~1-2 flops per load), one sweep at a time, so every sweep streams the whole
//! band (`3 b n` elements, 0.8 MB at 1024/32) from L2. Not yet done: fusing a step's left
//! application with the next right one (3 passes over a block instead of 4), several sweeps
//! pipelined through one window (L1 reuse), explicit FMAs (`Real::mul_add` does not fuse).

use crate::scalar::Real;
use crate::svd_small::{dot, householder};

/// The bidiagonal of an upper band matrix (see the module doc).
///
/// Input: the n x n upper band matrix A (A[i, j] nonzero only for 0 <= j - i <= b), column-major
/// dense storage: A[i, j] = a[i + j * lda]; entries outside the band are ignored (may hold
/// garbage); `a` is overwritten. Output: d (len n) and e (len n-1, e[i] = B[i, i+1]) of an upper
/// bidiagonal B = Q^T A P with the same singular values. Values only: no reflectors kept.
pub(crate) fn band_to_bidiagonal<T: Real>(a: &mut [T], n: usize, lda: usize, b: usize, d: &mut [T], e: &mut [T]) {
    if n == 0 {
        return;
    }
    assert!(lda >= n && a.len() >= (n - 1) * lda + n, "band_to_bidiagonal: a too short for n = {n}, lda = {lda}");
    assert!(d.len() >= n && e.len() >= n - 1, "band_to_bidiagonal: d or e too short for n = {n}");
    let b = b.min(n - 1);
    if b <= 1 {
        for i in 0..n {
            d[i] = a[i + i * lda];
            if i + 1 < n {
                e[i] = if b == 1 { a[i + (i + 1) * lda] } else { T::ZERO };
            }
        }
        return;
    }
    let ld = if lda >= 3 * b { 3 * b } else { lda };
    // v (right reflector), u (left reflector), z (A v): b + b + 2b
    let mut scratch = vec![T::ZERO; 4 * b];
    compact(a, n, lda, b, ld, &mut scratch);
    chase_dispatch(a, n, ld, b, &mut scratch);
    for i in 0..n {
        d[i] = a[i + i * ld];
        if i + 1 < n {
            e[i] = a[i + (i + 1) * ld];
        }
    }
}

/// Moves the band of the dense `a` (leading dimension `lda`) to the storage with leading dimension
/// `ld <= lda` in place, zeroing the rest of the envelope `c - 2b + 1 <= r <= c + b - 1`
/// (`tmp`: `b + 1` elements).
fn compact<T: Real>(a: &mut [T], n: usize, lda: usize, b: usize, ld: usize, tmp: &mut [T]) {
    for c in 0..n {
        let top = c.saturating_sub(b);
        let col = &mut tmp[..c + 1 - top];
        col.copy_from_slice(&a[top + c * lda..c + 1 + c * lda]);
        let lo = (c + 1).saturating_sub(2 * b);
        let hi = (c + b).min(n); // exclusive
        let dst = &mut a[c * ld + lo..c * ld + hi];
        dst.fill(T::ZERO);
        dst[top - lo..top - lo + col.len()].copy_from_slice(col);
    }
}

/// `A[r0..r0+m, c..c+l] -= tau (A v) v^T` for `v = [1; v[1..l]]` (`m = z.len()`), `z` scratch.
#[inline(always)]
fn apply_right<T: Real>(w: &mut [T], ld: usize, r0: usize, c: usize, v: &[T], tau: T, z: &mut [T]) {
    let m = z.len();
    z.copy_from_slice(&w[r0 + c * ld..][..m]);
    for (j, &vj) in v.iter().enumerate().skip(1) {
        let col = &w[r0 + (c + j) * ld..][..m];
        for (zi, x) in z.iter_mut().zip(col) {
            *zi = *zi + vj * *x;
        }
    }
    for (j, &vj) in v.iter().enumerate() {
        let f = T::ZERO - tau * vj;
        let col = &mut w[r0 + (c + j) * ld..][..m];
        for (x, zi) in col.iter_mut().zip(z.iter()) {
            *x = *x + f * *zi;
        }
    }
}

/// `A[r0..r0+l, q0..q1] -= tau u (u^T A)` for `u = [1; u[1..l]]`, column by column.
#[inline(always)]
fn apply_left<T: Real>(w: &mut [T], ld: usize, r0: usize, q0: usize, q1: usize, u: &[T], tau: T) {
    let l = u.len();
    for q in q0..q1 {
        let col = &mut w[r0 + q * ld..][..l];
        let f = T::ZERO - tau * dot(u, col);
        for (x, ui) in col.iter_mut().zip(u) {
            *x = *x + f * *ui;
        }
    }
}

/// The sweeps over the working matrix `w` (leading dimension `ld`, see the module doc);
/// `scratch` holds `4 b` elements.
#[inline(always)]
fn chase<T: Real>(w: &mut [T], n: usize, ld: usize, b: usize, scratch: &mut [T]) {
    let (v, rest) = scratch.split_at_mut(b);
    let (u, z) = rest.split_at_mut(b);
    for i in 0..n.saturating_sub(2) {
        let (mut r, mut c) = (i, i + 1);
        loop {
            let l = b.min(n - c);
            if l < 2 {
                break;
            }
            // right reflector from row r, columns [c, c+l)
            for j in 0..l {
                v[j] = w[r + (c + j) * ld];
            }
            let (beta, tp) = householder(v[0], &mut v[1..l]);
            v[0] = T::ONE;
            w[r + c * ld] = beta;
            for j in 1..l {
                w[r + (c + j) * ld] = T::ZERO;
            }
            if tp != T::ZERO {
                apply_right(w, ld, r + 1, c, &v[..l], tp, &mut z[..c + l - r - 1]);
            }
            // left reflector from column c, rows [c, c+l)
            let col = &mut w[c + c * ld..][..l];
            let (h, t) = col.split_first_mut().expect("l >= 2");
            let (beta, tq) = householder(*h, t);
            *h = beta;
            u[0] = T::ONE;
            u[1..l].copy_from_slice(t);
            t.fill(T::ZERO);
            if tq != T::ZERO {
                let q1 = (c + l + b).min(n);
                apply_left(w, ld, c, c + 1, q1, &u[..l], tq);
            }
            r = c;
            c += l;
            if c >= n {
                break;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chase_avx2<T: Real>(w: &mut [T], n: usize, ld: usize, b: usize, scratch: &mut [T]) {
    chase(w, n, ld, b, scratch)
}

/// [`chase`] compiled for AVX2 where the CPU has it.
fn chase_dispatch<T: Real>(w: &mut [T], n: usize, ld: usize, b: usize, scratch: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::cpu::has_avx2_fma() {
            // SAFETY: the CPU has the features (checked just above).
            return unsafe { chase_avx2(w, n, ld, b, scratch) };
        }
    }
    chase(w, n, ld, b, scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dense n x n column-major matrix (leading dimension lda) holding an upper band of width
    /// b from `f(i, j)`, NaN everywhere else.
    fn band_mat<T: Real>(n: usize, lda: usize, b: usize, f: impl Fn(usize, usize) -> f64) -> Vec<T> {
        let mut a = vec![T::NAN; lda * n.max(1)];
        for j in 0..n {
            for i in j.saturating_sub(b)..=j {
                a[i + j * lda] = T::from_f64(f(i, j));
            }
        }
        a
    }

    /// Singular values (descending) of the band part of `a` by faer, in f64.
    fn reference<T: Real>(a: &[T], n: usize, lda: usize, b: usize) -> Vec<f64> {
        let m = faer::Mat::<f64>::from_fn(n, n, |i, j| if i <= j && j - i <= b { a[i + j * lda].to_f64() } else { 0.0 });
        m.as_ref().singular_values().unwrap()
    }

    /// Runs the reduction and returns the singular values of the bidiagonal (descending).
    fn reduce<T: Real>(a: &[T], n: usize, lda: usize, b: usize) -> Vec<T> {
        reduce_scaled(a, n, lda, b, T::ONE)
    }

    /// [`reduce`] with the bidiagonal multiplied by `f` before its values are computed (dqds
    /// squares its entries: near the underflow threshold it needs the rescaling svd.rs does).
    fn reduce_scaled<T: Real>(a: &[T], n: usize, lda: usize, b: usize, f: T) -> Vec<T> {
        let mut w = a.to_vec();
        let mut d = vec![T::NAN; n];
        let mut e = vec![T::NAN; n.max(1)];
        band_to_bidiagonal(&mut w, n, lda, b, &mut d, &mut e[..n.saturating_sub(1)]);
        e[n.saturating_sub(1)] = T::ZERO;
        for x in d.iter_mut().chain(e.iter_mut()) {
            *x = *x * f;
        }
        let mut work = vec![T::ZERO; crate::svd_small::dqds_work_len(n)];
        let (d0, e0) = (d.clone(), e.clone());
        assert!(
            crate::svd_small::bidiag_values(&mut d, &mut e, &mut work),
            "{} n {n} b {b}: nonfinite d {} e {} min abs d {:?} max e {:?}",
            T::NAME,
            d0.iter().filter(|x| !x.is_finite()).count(),
            e0.iter().filter(|x| !x.is_finite()).count(),
            d0.iter().map(|x| x.abs().to_f64()).fold(f64::INFINITY, f64::min),
            e0.iter().map(|x| x.abs().to_f64()).fold(0.0, f64::max)
        );
        d
    }

    /// The largest |sigma_i - reference_i| in units of `n eps sigma_max`.
    fn err_ratio<T: Real>(a: &[T], n: usize, lda: usize, b: usize) -> f64 {
        let s = reduce(a, n, lda, b);
        let r = reference(a, n, lda, b);
        let smax = r.first().copied().unwrap_or(0.0);
        let mut err: f64 = 0.0;
        for (x, y) in s.iter().zip(&r) {
            assert!(x.is_finite(), "n {n} b {b}: non-finite singular value");
            err = err.max((x.to_f64() - y).abs());
        }
        if err == 0.0 {
            0.0
        } else {
            err / ((n as f64) * T::EPSILON.to_f64() * smax)
        }
    }

    fn check_random<T: Real>(c: f64) {
        let mut worst: f64 = 0.0;
        for &n in &[0usize, 1, 2, 3, 17, 64, 100, 257, 600] {
            for &b in &[0usize, 1, 2, 3, 8, 16, 32, 64] {
                if n == 600 && b < 8 {
                    continue;
                }
                let lda = n + 3;
                let x = crate::testing::data(n * n + 1, (n * 131 + b) as u64);
                let a: Vec<T> = band_mat(n, lda, b, |i, j| x[i + j * n]);
                let r = err_ratio(&a, n, lda, b);
                worst = worst.max(r);
                assert!(r <= c, "{} n {n} b {b}: error {r:.2} n eps sigma_max", T::NAME);
            }
        }
        eprintln!("{}: worst error {worst:.3} n eps sigma_max", T::NAME);
    }

    #[test]
    fn random_f64() {
        check_random::<f64>(TOL);
    }

    #[test]
    fn random_f32() {
        check_random::<f32>(TOL);
    }

    const TOL: f64 = 4.0;

    /// Both storages: the compact one (`lda >= 3b`) and the dense one (`lda < 3b`) on the same
    /// matrix give the same values (the compact path reads nothing outside the envelope).
    #[test]
    fn compact_and_dense_storage_agree() {
        for &(n, b) in &[(40usize, 8usize), (47, 15), (100, 32)] {
            let x = crate::testing::data(n * n, n as u64);
            let a: Vec<f64> = band_mat(n, n, b, |i, j| x[i + j * n]);
            // lda = n >= 3b: compact; the same matrix with 3b > lda = n via a larger b whose
            // extra diagonals are zero
            let s1 = reduce(&a, n, n, b);
            let a2: Vec<f64> = band_mat(n, n, n - 1, |i, j| if j - i <= b { x[i + j * n] } else { 0.0 });
            let s2 = reduce(&a2, n, n, n - 1);
            for (p, q) in s1.iter().zip(&s2) {
                assert!((p - q).abs() <= 4.0 * n as f64 * f64::EPSILON * s1[0], "n {n} b {b}: {p} vs {q}");
            }
        }
    }

    #[test]
    fn zero_matrix() {
        for &(n, b) in &[(1usize, 0usize), (5, 2), (64, 8), (100, 32)] {
            let a: Vec<f64> = band_mat(n, n + 1, b, |_, _| 0.0);
            let mut w = a.clone();
            let (mut d, mut e) = (vec![f64::NAN; n], vec![f64::NAN; n - 1]);
            band_to_bidiagonal(&mut w, n, n + 1, b, &mut d, &mut e);
            assert!(d.iter().chain(&e).all(|&x| x == 0.0), "n {n} b {b}");
        }
    }

    /// Row i scaled by 10^(-k i / n) (k = 12 for f64, 5 for f32): the error stays normwise small.
    fn graded<T: Real>(k: f64) {
        for &(n, b) in &[(64usize, 8usize), (100, 16), (257, 32)] {
            let x = crate::testing::data(n * n, 7 + n as u64);
            let a: Vec<T> = band_mat(n, n, b, |i, j| x[i + j * n] * 10f64.powf(-k * i as f64 / n as f64));
            let r = err_ratio(&a, n, n, b);
            assert!(r <= TOL, "{} graded n {n} b {b}: error {r:.2} n eps sigma_max", T::NAME);
            // columns graded the other way
            let a: Vec<T> = band_mat(n, n, b, |i, j| x[i + j * n] * 10f64.powf(-k * (n - 1 - j) as f64 / n as f64));
            let r = err_ratio(&a, n, n, b);
            assert!(r <= TOL, "{} column-graded n {n} b {b}: error {r:.2} n eps sigma_max", T::NAME);
        }
    }

    #[test]
    fn graded_rows() {
        graded::<f64>(12.0);
        graded::<f32>(5.0);
    }

    /// Exactly repeated singular values: a block diagonal of copies of one k x k upper band block
    /// (each value n / k times), and a scaled identity stored with a wide band of zeros.
    #[test]
    fn repeated_values() {
        for &(n, b, k) in &[(60usize, 8usize, 12usize), (100, 16, 20), (96, 3, 6)] {
            let x = crate::testing::data(k * k, k as u64);
            let a: Vec<f64> =
                band_mat(
                    n,
                    n,
                    b,
                    |i, j| if i / k == j / k { x[i % k + (j % k) * k] + if i == j { 1.0 } else { 0.0 } } else { 0.0 },
                );
            let s = reduce(&a, n, n, b);
            let blk = faer::Mat::<f64>::from_fn(k, k, |i, j| {
                if i <= j && j - i <= b {
                    x[i + j * k] + if i == j { 1.0 } else { 0.0 }
                } else {
                    0.0
                }
            });
            let sb = blk.as_ref().singular_values().unwrap();
            let tol = TOL * n as f64 * f64::EPSILON * sb[0];
            for (p, x) in s.iter().enumerate() {
                let want = sb[p / (n / k)];
                assert!((x - want).abs() <= tol, "n {n} b {b} k {k}: s[{p}] {x} vs {want}");
            }
            let r = err_ratio(&a, n, n, b);
            assert!(r <= TOL, "n {n} b {b} k {k}: error {r:.2}");
        }
        for &(n, b) in &[(50usize, 8usize), (64, 32)] {
            let a: Vec<f32> = band_mat(n, n, b, |i, j| if i == j { 2.5 } else { 0.0 });
            let s = reduce(&a, n, n, b);
            assert!(s.iter().all(|&x| x == 2.5), "{s:?}");
        }
    }

    /// Tiny matrices (near the underflow threshold): the chase's last reflectors see subnormal
    /// vectors, whose norm must not overflow (`1 / subnormal` is infinite in f32).
    #[test]
    fn tiny_entries() {
        fn run<T: Real>(scale: f64) {
            for &(n, b) in &[(64usize, 8usize), (257, 8), (100, 32)] {
                let x = crate::testing::data(n * n, 3 + n as u64);
                let a: Vec<T> = band_mat(n, n, b, |i, j| x[i + j * n] * scale);
                let s = reduce_scaled(&a, n, n, b, T::from_f64(1.0 / scale));
                // the reference from the unscaled matrix (the scaling is exact: a power of ten
                // is not, so compare against the scaled entries brought back to f64 and up)
                let m = faer::Mat::<f64>::from_fn(
                    n,
                    n,
                    |i, j| {
                        if i <= j && j - i <= b {
                            a[i + j * n].to_f64() / scale
                        } else {
                            0.0
                        }
                    },
                );
                let r = m.as_ref().singular_values().unwrap();
                let tol = TOL * n as f64 * T::EPSILON.to_f64() * r[0];
                for (p, q) in s.iter().zip(&r) {
                    assert!((p.to_f64() - q).abs() <= tol, "{} tiny n {n} b {b}: {p:?} vs {q}", T::NAME);
                }
            }
        }
        run::<f64>(1e-300);
        run::<f32>(1e-34);
    }

    /// The flops of one reduction (the multiply-adds of the two reflector applications, counted
    /// over the loop bounds of [`chase`]).
    fn flops(n: usize, b: usize) -> f64 {
        let b = b.min(n - 1);
        let mut f = 0.0;
        for i in 0..n.saturating_sub(2) {
            let (mut r, mut c) = (i, i + 1);
            loop {
                let l = b.min(n - c);
                if l < 2 {
                    break;
                }
                f += 4.0 * (c + l - r - 1) as f64 * l as f64;
                f += 4.0 * l as f64 * ((c + l + b).min(n) - c - 1) as f64;
                r = c;
                c += l;
                if c >= n {
                    break;
                }
            }
        }
        f
    }

    /// Median wall ms of the reduction, one thread, f64 (run with `--ignored --nocapture`). The
    /// timed closure includes restoring the band entries of the input (`n (b+1)` copies).
    #[test]
    #[ignore]
    fn gbbrd_timing() {
        let sizes: Vec<usize> = std::env::var("GBBRD_SIZES")
            .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
            .unwrap_or(vec![256, 512, 1024, 2048]);
        for n in sizes {
            let bs = [16usize, 32, 64];
            let inputs: Vec<Vec<f64>> = bs
                .iter()
                .map(|&b| {
                    let x = crate::testing::data(n * (b + 1), (n + b) as u64);
                    band_mat(n, n, b, |i, j| x[(b + i - j) + j * (b + 1)])
                })
                .collect();
            let mut work: Vec<Vec<f64>> = inputs.clone();
            let mut de: Vec<(Vec<f64>, Vec<f64>)> = bs.iter().map(|_| (vec![0.0; n], vec![0.0; n - 1])).collect();
            let mut run = |k: usize| {
                let b = bs[k];
                let (w, a0) = (&mut work[k], &inputs[k]);
                for c in 0..n {
                    let lo = c.saturating_sub(b) + c * n;
                    w[lo..c + 1 + c * n].copy_from_slice(&a0[lo..c + 1 + c * n]);
                }
                let (d, e) = &mut de[k];
                band_to_bidiagonal(w, n, n, b, d, e);
            };
            let run = std::cell::RefCell::new(&mut run);
            let t =
                crate::testing::interleaved_medians([&mut || (run.borrow_mut())(0), &mut || (run.borrow_mut())(1), &mut || {
                    (run.borrow_mut())(2)
                }]);
            for (k, &b) in bs.iter().enumerate() {
                let gf = flops(n, b) / (t[k] * 1e-3) / 1e9;
                println!("gbbrd n={n:5} b={b:3}: {:9.3} ms  ({:5.1} GFlop/s, {:.0} Mflop)", t[k], gf, flops(n, b) / 1e6);
            }
        }
    }
}
