//! A register-blocked product kernel for small matrices (every dimension up to [`SMALL_MAX`]).
//!
//! At these sizes faer's general GEMM spends more on dispatch and blocking decisions than on
//! arithmetic: a 32x32x32 float64 product took 3.4 us on one core (19 GFLOP/s), and a stack of
//! them ran at that speed, bound by the kernel rather than by memory (two threads were 2.0x one
//! thread on 10000 products). This kernel keeps a block of `C` (4 vectors of rows by 4 columns:
//! 16 of the 32 AVX-512 registers) in registers for the whole inner dimension, loading a column
//! of `A` and broadcasting entries of `B`, with fused multiply-adds. It is compiled for
//! AVX-512F + FMA and used only where the CPU has them (checked once per call, a cached flag);
//! elsewhere faer's kernel runs as before.
//!
//! Each entry of `C` is one chain of fused multiply-adds over `p = 0..k` in order, whatever the
//! block it falls in, so results do not depend on how a product is cut (batches, threads).

use crate::gemm::Mat;
use crate::scalar::Real;

/// Largest `m`, `n` and `k` the kernel takes.
pub(crate) const SMALL_MAX: usize = 64;

/// Whether this CPU runs the kernel (AVX-512F and FMA).
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `c = a @ b`, or `c += a @ b` if `accumulate`, for column-major `c` and `a` (`rs == 1`) and
/// `b` of any strides.
///
/// # Safety
/// The views are valid for their shapes, `c` does not overlap `a` or `b`, `c.rs == a.rs == 1`,
/// and [`available`] returned true.
pub(crate) unsafe fn gemm_small<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool) {
    debug_assert!(c.rs == 1 && a.rs == 1);
    #[cfg(target_arch = "x86_64")]
    {
        if core::mem::size_of::<T>() == 8 {
            drive_avx512::<T, 32, 8>(c, a, b, accumulate)
        } else {
            drive_avx512::<T, 64, 16>(c, a, b, accumulate)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("gemm_small without AVX-512")
}

/// Rows in blocks of `MR` (4 vectors), then of `V` (one vector), then one at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn drive_avx512<T: Real, const MR: usize, const V: usize>(c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool) {
    let m = c.rows;
    let mut i0 = 0;
    while i0 + MR <= m {
        row_block::<T, MR>(i0, c, a, b, accumulate);
        i0 += MR;
    }
    while i0 + V <= m {
        row_block::<T, V>(i0, c, a, b, accumulate);
        i0 += V;
    }
    while i0 < m {
        row_block::<T, 1>(i0, c, a, b, accumulate);
        i0 += 1;
    }
}

/// Rows `i0..i0 + R` of `c`, in blocks of 4 columns, then one at a time.
#[inline(always)]
unsafe fn row_block<T: Real, const R: usize>(i0: usize, c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool) {
    let n = c.cols;
    let mut j0 = 0;
    while j0 + 4 <= n {
        tile::<T, R, 4>(i0, j0, c, a, b, accumulate);
        j0 += 4;
    }
    while j0 < n {
        tile::<T, R, 1>(i0, j0, c, a, b, accumulate);
        j0 += 1;
    }
}

/// The `R x NR` block of `c` at `(i0, j0)`, accumulated in registers over the whole inner
/// dimension.
#[inline(always)]
unsafe fn tile<T: Real, const R: usize, const NR: usize>(i0: usize, j0: usize, c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool) {
    let k = a.cols;
    let mut acc = [[T::ZERO; R]; NR];
    let a0 = a.ptr.add(i0);
    let b0 = b.ptr.offset(j0 as isize * b.cs);
    for p in 0..k {
        let ap = a0.offset(p as isize * a.cs);
        let mut av = [T::ZERO; R];
        for (i, x) in av.iter_mut().enumerate() {
            *x = *ap.add(i);
        }
        let bp = b0.offset(p as isize * b.rs);
        for (j, col) in acc.iter_mut().enumerate() {
            let bj = *bp.offset(j as isize * b.cs);
            for (x, &ai) in col.iter_mut().zip(&av) {
                *x = ai.fused_mul_add(bj, *x);
            }
        }
    }
    let c0 = c.ptr.add(i0).offset(j0 as isize * c.cs);
    for (j, col) in acc.iter().enumerate() {
        let cp = c0.offset(j as isize * c.cs);
        for (i, &x) in col.iter().enumerate() {
            *cp.add(i) = if accumulate { *cp.add(i) + x } else { x };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        // column-major a (m x k), b (k x n); result column-major
        let mut c = vec![0.0; m * n];
        for j in 0..n {
            for p in 0..k {
                for i in 0..m {
                    c[j * m + i] += a[p * m + i] * b[j * k + p];
                }
            }
        }
        c
    }

    #[test]
    fn matches_a_naive_product_at_every_size_and_both_forms() {
        if !available() {
            return;
        }
        for m in [1usize, 7, 8, 9, 16, 31, 32, 33, 40, 64] {
            for n in [1usize, 3, 4, 5, 17, 64] {
                for k in [1usize, 2, 13, 64] {
                    let a: Vec<f64> = (0..m * k).map(|x| ((x * 7 + 3) % 11) as f64 - 5.0).collect();
                    let b: Vec<f64> = (0..k * n).map(|x| ((x * 5 + 1) % 13) as f64 - 6.0).collect();
                    let want = naive(m, n, k, &a, &b);
                    let mut c = vec![1.0; m * n];
                    let cm = Mat { ptr: c.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: m as isize };
                    let am = Mat { ptr: a.as_ptr() as *mut f64, rows: m, cols: k, rs: 1, cs: m as isize };
                    // b row-major: any strides are read
                    let bt: Vec<f64> = (0..k * n).map(|x| b[(x % n) * k + x / n]).collect();
                    let bm = Mat { ptr: bt.as_ptr() as *mut f64, rows: k, cols: n, rs: n as isize, cs: 1 };
                    unsafe { gemm_small(cm, am, bm, false) };
                    assert_eq!(c, want, "{m}x{n}x{k}");
                    unsafe { gemm_small(cm, am, bm, true) };
                    let twice: Vec<f64> = want.iter().map(|x| 2.0 * x).collect();
                    assert_eq!(c, twice, "{m}x{n}x{k} accumulate");
                    // float32 through the same kernel
                    let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
                    let b32: Vec<f32> = bt.iter().map(|&x| x as f32).collect();
                    let mut c32 = vec![0.0f32; m * n];
                    let cm = Mat { ptr: c32.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: m as isize };
                    let am = Mat { ptr: a32.as_ptr() as *mut f32, rows: m, cols: k, rs: 1, cs: m as isize };
                    let bm = Mat { ptr: b32.as_ptr() as *mut f32, rows: k, cols: n, rs: n as isize, cs: 1 };
                    unsafe { gemm_small(cm, am, bm, false) };
                    assert!(c32.iter().zip(&want).all(|(&x, &y)| x as f64 == y), "{m}x{n}x{k} f32");
                }
            }
        }
    }

    /// Our kernel against faer's on square products, in us per product (one thread, in cache;
    /// run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn small_vs_faer_timing() {
        for n in [8usize, 12, 16, 24, 32, 48, 64] {
            let a = faer::Mat::<f64>::from_fn(n, n, |i, j| (i * 3 + j) as f64 * 0.01);
            let b = faer::Mat::<f64>::from_fn(n, n, |i, j| (i + 2 * j) as f64 * 0.01);
            let mut c = faer::Mat::<f64>::zeros(n, n);
            let reps = (20_000_000 / (n * n * n)).max(10);
            let time = |f: &mut dyn FnMut()| {
                let mut best = f64::MAX;
                for _ in 0..5 {
                    let t = std::time::Instant::now();
                    for _ in 0..reps {
                        f();
                    }
                    best = best.min(t.elapsed().as_secs_f64() / reps as f64 * 1e6);
                }
                best
            };
            let ours = time(&mut || unsafe {
                let cm = Mat { ptr: c.as_ptr_mut(), rows: n, cols: n, rs: 1, cs: c.col_stride() };
                let am = Mat { ptr: a.as_ptr() as *mut f64, rows: n, cols: n, rs: 1, cs: a.col_stride() };
                let bm = Mat { ptr: b.as_ptr() as *mut f64, rows: n, cols: n, rs: 1, cs: b.col_stride() };
                gemm_small(cm, am, bm, false);
            });
            let theirs = time(&mut || faer::linalg::matmul::matmul(c.as_mut(), faer::Accum::Replace, a.as_ref(), b.as_ref(), 1.0, faer::Par::Seq));
            println!("n {n}: ours {ours:.3} us ({:.1} GF/s), faer {theirs:.3} us", 2.0 * (n * n * n) as f64 / ours / 1e3);
        }
    }
}
