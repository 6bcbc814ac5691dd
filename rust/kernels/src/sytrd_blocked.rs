//! Symmetric eigensolver for large orders: LAPACK's blocked `dsytrd` (lower, panels of [`NB`]
//! columns reduced by `dlatrd`, the trailing matrix updated by one GEMM per panel) on the
//! column-major working copy `eigh` makes; then `dsterf` ([`sytrd::sterf`]) for eigenvalues
//! only, or our tridiagonal divide and conquer ([`crate::stedc`], session 8; faer's until then)
//! followed by the back-transformation `Q Z` in blocks of [`QB`] reflectors through GEMM
//! (`dormtr`-style) for eigenvectors.
//!
//! Eigenvalues only, from [`TWO_STAGE_MIN_N`] up (session 10), the tridiagonalisation runs in two
//! stages instead: [`crate::sy2sb`] takes the matrix to a band of half-bandwidth
//! [`TWO_STAGE_BAND`] with every trailing-matrix flop in GEMM, and [`crate::sb2st`] chases the band
//! down to tridiagonal form (`6 n^2 b` flops, its sweeps pipelined over the pool). The one-stage reduction spends half of
//! its `4/3 n^3` flops in matrix-vector products bound by cache bandwidth, which the first stage
//! avoids; the second stage is what it costs instead.
//!
//! `two_stage_values_timing`, f64, on the pool (2 threads), idle machine, median wall ms; the
//! tridiagonal's eigenvalues (`dsterf`) come on top either way:
//!
//! | n | one-stage | `sy2sb` + `sb2st`, b = 16 | `dsterf` |
//! | ---: | ---: | ---: | ---: |
//! | 256 | 1.22 | 0.91 + 0.41 | 0.74 |
//! | 320 | 2.00 | 1.34 + 0.66 | 1.11 |
//! | 384 | 3.11 | 2.05 + 0.91 | 1.61 |
//! | 512 | 6.60 | 4.28 + 1.71 | 2.85 |
//! | 1024 | 42.0 | 25.2 + 6.2 | 11.5 |
//! | 2048 | 318 | 157 + 25 | 42 |
//!
//! Session 11 pipelined `sb2st`'s sweeps over the pool (one thread -> two, same run, on a
//! slower machine than the table's: 512 3.6 -> 2.6-3.1 ms, 1024 14.1 -> 8.6-9.2). Tried for the
//! `dsterf` part, not kept: the eigenvalues as the squared singular values of the bidiagonal
//! Cholesky factor of `T - sigma I` (`sigma` Gershgorin's lower bound) by our dqds, as LAPACK's
//! `dlarre` does: the same eigenvalues (within 0.12 `n eps ||T||`) but 1.8x slower than `dsterf`
//! (n = 256 / 512 / 1024: 2.0 / 8.2 / 32.5 ms against 1.2 / 4.4 / 17.3). Tried again in session
//! 14 with dqds's passes four to a sweep (2.2x faster on bidiagonals of random matrices): still
//! slower on random tridiagonals, 64 / 256 / 512 / 1024: 71 / 1242 / 7710 / 36700 us against
//! `dsterf`'s 67 / 979 / 3804 / 13739 (Zen 3, busy machine).
//!
//! Hence [`TWO_STAGE_MIN_N`] = 352. At 512 / 1024, b = 8 gave 4.6 + 1.1 / 26.8 + 4.3, b = 24
//! 4.2 + 2.1 / 22.9 + 8.4: 16 is as good as any.
//!
//! Threads, with the same bits for any thread count: every parallel step is a FIXED split run
//! by [`Par::for_each`] (which runs the pieces in turn on one thread):
//! - each panel column's symmetric matrix-vector product `A22 v` on the trailing matrix, from
//!   [`SYMV_SPLIT_MIN`] rows up, as two pieces of columns holding about half the lower triangle
//!   each (each piece reads its columns once, doing `y += a v_j` and `y_j += a . v` in one pass),
//!   whose partial results are added in a fixed order;
//! - the trailing rank-2k update `A22 -= V W^T + W V^T` as one GEMM (`k = 2 NB`) per block of
//!   [`UPD_BW`] columns (lower part only);
//! - the back-transformation per block of [`ZB`] columns of `Z`, after its blocks of reflectors
//!   are packed and their `T` built, one task per block ([`crate::larfb`]);
//! - the divide and conquer's leaves, merges and their pieces (see [`crate::stedc`]).
//!
//! Expected cost (2 cores, f64): the tridiagonalisation does `4/3 n^3` flops, half in the
//! matrix-vector products (bound by cache / memory bandwidth: the trailing lower triangle is read
//! once per column; each core's half fits its 2 MiB L2 up to n ~ 1000) and half in GEMM:
//! n = 512 ~ 3-6 ms, n = 1024 ~ 25-40 ms. Measured (one thread, this thread's CPU time, on the
//! shared VM with two other engineers building: +-30% between runs): n = 512 9.5-11 ms
//! (16-19 GFlop/s), n = 1024 82-90 ms (the lower triangle, 4 MiB, no longer fits one core's L2).
//! Two-thread wall-clock numbers could not be measured: the other vCPU was busy throughout.
//!
//! Where the time went before (faer's `self_adjoint_evd`, ms, wall clock best of 3, load ~2.5;
//! `faer_phases`):
//!
//! | n, threads | tridiag_in_place | tridiagonal D&C | back-transformation | all | values only (of which QR) |
//! |---|---|---|---|---|---|
//! | 512, 1 | 18.1 | 22.2 | 8.9 | 49.1 | 27.2 (9.1) |
//! | 512, 2 | 12.0 | 16.0 | 12.6 | 40.7 | 26.2 (14.2) |
//! | 1024, 1 | 112-132 | 94-101 | 50-51 | 257-283 | 154-167 (35-42) |
//! | 1024, 2 | 109-128 | 102-108 | 44-53 | 255-289 | 159-166 (37-49) |
//!
//! This module (same runs): n = 512: tridiagonalisation 11-18 ms, `dsterf` 4.0-4.4 ms (faer's
//! QR without vectors 9-14), back-transformation [`apply_q`] 6-9 ms; n = 1024: 85-116, 15-16
//! and 42-58 ms. So for eigenvalues only the module replaces faer's path from n = 97; with
//! eigenvectors faer's divide and conquer (~45% of the time) stays the bottleneck, and the gain
//! depends on the machine (see [`BLOCKED_MIN_N_VECTORS`]): none on session 6's AMD machine,
//! 3-20% on session 7's Intel one, where `eigh` uses the module from n = 129.
//!
//! Tried and measured:
//! - `sytrd::symv4` (indexed loop) compiled to scalar loads and shuffles here (perf: `vmovsd`,
//!   `vunpcklpd`); [`symv4c`] over chunks vectorises: sytrd n = 1024 154 -> 85-100 ms;
//! - fused multiply-adds in the matrix-vector product: 55 -> 33 us per n = 512 product
//!   (`symv_timing`); an AVX-512 build was no faster (37-40 us);
//! - faer's divide and conquer recursion threshold 16 / 32 / 64 / 128 / 256: n = 512 21.8 /
//!   20.0 / 18.6 / 19.2 / 24.1 ms, n = 1024 98.7 / 90.6 / 101.3 / 99.9 / 111.3 (noise): default
//!   kept;
//! - faer's divide and conquer works in absolute terms: on `T` scaled to norm ~1e146 (the top of
//!   `eigh`'s safe range) its eigenvalues were off by 1e-4 relative, so `T` is scaled to max
//!   norm ~1 first (as `dstedc` does); `eigh` does the same for faer's whole algorithm.

use crate::gemm::{gemm_seq_with, Mat as GMat};
use crate::larfb;
use crate::scalar::Real;
use crate::sb2st;
use crate::stedc;
use crate::sy2sb;
use crate::sytrd;
use crate::threads::Par;
#[cfg(test)]
use faer::dyn_stack::{MemBuffer, MemStack};
#[cfg(test)]
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::MatMut;

/// Panel width of the tridiagonalisation. Measured (`nb_timing`, f64, one thread, CPU time,
/// NX = 128): n = 300: nb = 8 / 16 / 24 / 32: 2.08 / 2.12 / 2.21 / 2.35 ms; n = 512: 9.55 /
/// 9.53 / 9.87 / 10.43; n = 1024: 83 / 87 / 82 / 89 (noise). The panel's corrections cost
/// 4 i m per column, the GEMM half prefers wider panels: 16 (LAPACK's default is 32).
pub const NB: usize = 16;

/// When the trailing matrix has at most this many rows, the unblocked `sytd2` finishes.
/// Measured (`nx_timing`, f64, one thread, CPU time, us, NB = 16):
///
/// | n | nx = 32 | 48 | 64 | 96 | 128 |
/// |---|---|---|---|---|---|
/// | 96 | 130 | 134 | 130 | 144 | 140 |
/// | 128 | 247 | 240 | 250 | 271 | 303 |
/// | 192 | 667 | 692 | 733 | 737 | 714 |
/// | 256 | 1468 | 1468 | 1553 | 1565 | 1665 |
/// | 512 | 10379 | 10186 | 10927 | 11845 | 10151 |
pub const NX: usize = 48;

/// The symmetric matrix-vector product splits into two fixed pieces from this many rows up.
pub const SYMV_SPLIT_MIN: usize = 192;

/// Column block of the trailing update's GEMM tasks.
pub const UPD_BW: usize = 64;

/// Reflectors per block of the back-transformation.
pub const QB: usize = 64;

/// Column block of `Z` per back-transformation task.
pub const ZB: usize = 128;

/// From this order up `eigvalsh` uses this module (above the unblocked kernel's range). Measured
/// (`values_crossover_timing`, f64, one thread, CPU time, us, unblocked `sytrd::sy_eigh` against
/// this module with NB = 16, NX = 128): n = 96: 315 / 311, 128: 605 / 575, 160: 1081 / 982,
/// 192: 1661 / 1420, 256: 3986 / 2587, 320: 6323 / 5381. With NX = 48 the blocked code wins
/// from n ~ 96 (see [`NX`]).
pub const BLOCKED_MIN_N: usize = 97;

/// Eigenvalues only, from this order up the tridiagonalisation runs in two stages: the dense
/// matrix to a band of half-bandwidth [`TWO_STAGE_BAND`] ([`crate::sy2sb`], LAPACK's
/// `dsytrd_sy2sb`, all its updates in GEMM), then the band to tridiagonal form by bulge chasing
/// ([`crate::sb2st`], `dsytrd_sb2st`, `O(n^2 b)`). Measured by `two_stage_values_timing` (f64,
/// on the pool, median wall ms, one-stage [`sytrd_blocked`] against `sy2sb + sb2st`): see the
/// module doc; the two tie at 320.
pub const TWO_STAGE_MIN_N: usize = 352;
pub const TWO_STAGE_BAND: usize = 16;

/// [`sytrd_blocked`] for [`crate::sytrd`]'s eigenvector path (small orders, one thread):
/// the sub-diagonal in `sytd2`'s layout (`e[0] = 0`, `e[i + 1] = T[i + 1, i]`).
pub(crate) fn tridiagonalize_sytd2_layout<T: Real>(a: &mut [T], n: usize, d: &mut [T], e: &mut [T], tau: &mut [T]) {
    sytrd_blocked(a, n, d, e, tau, Par::SEQ);
    e.copy_within(0..n - 1, 1);
    e[0] = T::ZERO;
}

/// From this order up `eigh` with eigenvectors uses this module (below it, sytrd.rs's QL path):
/// our tridiagonalisation, the tridiagonal divide and conquer (faer's in session 7, ours
/// ([`crate::stedc`]) from session 8), our back-transformation. Session 7, Intel Xeon (AVX-512, 2 cores), medians of 11 from Python against faer's whole
/// `self_adjoint_evd`: f64 n = 160 2.31 against 2.39 ms, 200 3.87 / 4.56, 256 5.64 / 6.72,
/// 384 13.2 / 14.9, 512 24.9 / 30.0, 1024 133 / 161; f32 160-384 equal or better
/// (8.4 / 9.1 ms at 384). On session 6's AMD machine the two had tied (f64 n = 300 13.8-15.2
/// against 15.1-15.7 ms, 512 46-54 against 42-54, 1024 266-285 against 248-277, busy machine),
/// so this was off there. Session 8, with [`crate::stedc`]: from 113 (`eigh::TQL_MAX_N` + 1),
/// where this path on the pool overtakes the QL path (`small_order_crossover_timing`, one
/// thread: n = 96 0.54 QL against 0.60 ms, with the pool 0.54; 128 1.00-1.07 against 0.96-1.04,
/// with the pool 0.92; 160 1.9-2.2 against 1.6-1.7).
pub const BLOCKED_MIN_N_VECTORS: usize = 113;

#[cfg(target_arch = "x86_64")]
fn simd() -> bool {
    crate::cpu::has_avx2_fma()
}

#[cfg(not(target_arch = "x86_64"))]
fn simd() -> bool {
    false
}

/// `a b + c`: one fused multiply-add if `F` (compiled where the CPU has FMA: half the
/// arithmetic instructions of the product's inner loop, which is bound by them once the matrix
/// is in L2), else a multiply and an add ([`Real::mul_add`], which is never fused).
#[inline(always)]
fn fm<T: Real, const F: bool>(a: T, b: T, c: T) -> T {
    if F {
        if core::mem::size_of::<T>() == 8 {
            // SAFETY: T is f64 (Real is implemented for f32 and f64 only, told apart by size).
            unsafe {
                let r = f64::mul_add(
                    core::mem::transmute_copy::<T, f64>(&a),
                    core::mem::transmute_copy(&b),
                    core::mem::transmute_copy(&c),
                );
                core::mem::transmute_copy::<f64, T>(&r)
            }
        } else {
            // SAFETY: T is f32 (as above).
            unsafe {
                let r = f32::mul_add(
                    core::mem::transmute_copy::<T, f32>(&a),
                    core::mem::transmute_copy(&b),
                    core::mem::transmute_copy(&c),
                );
                core::mem::transmute_copy::<f32, T>(&r)
            }
        }
    } else {
        a.mul_add(b, c)
    }
}

/// Four columns of the lower symmetric product at once: `y += sum_c vj[c] col_c` and returns
/// `col_c . v` for each c. As [`sytrd::symv4`], written over chunks of 8 rows so that the
/// compiler vectorises it (that one's indexed loop compiled to scalar loads and shuffles here:
/// perf showed `vmovsd` / `vunpcklpd` in its hot loop). Fixed summation order.
#[inline(always)]
fn symv4c<T: Real, const L: usize, const F: bool>(cols: [&[T]; 4], v: &[T], y: &mut [T], vj: [T; 4]) -> [T; 4] {
    let len = v.len();
    let (c0, c1, c2, c3) = (&cols[0][..len], &cols[1][..len], &cols[2][..len], &cols[3][..len]);
    let y = &mut y[..len];
    let mut acc = [[T::ZERO; L]; 4];
    let full = len / L * L;
    // SAFETY: F (fused multiply-adds) is chosen only where the CPU has AVX2 and FMA ([`simd`]);
    // every column, v and y hold `len >= full` values.
    #[cfg(target_arch = "x86_64")]
    let done = F && unsafe { symv4c_chunks_avx2::<T, L>([c0.as_ptr(), c1.as_ptr(), c2.as_ptr(), c3.as_ptr()], v.as_ptr(), y.as_mut_ptr(), vj, full, &mut acc) };
    #[cfg(not(target_arch = "x86_64"))]
    let done = false;
    if !done {
        let it = c0[..full]
            .chunks_exact(L)
            .zip(c1[..full].chunks_exact(L))
            .zip(c2[..full].chunks_exact(L))
            .zip(c3[..full].chunks_exact(L))
            .zip(v[..full].chunks_exact(L))
            .zip(y[..full].chunks_exact_mut(L));
        for (((((a0, a1), a2), a3), vv), yy) in it {
            for l in 0..L {
                yy[l] =
                    fm::<T, F>(a3[l], vj[3], fm::<T, F>(a2[l], vj[2], fm::<T, F>(a1[l], vj[1], fm::<T, F>(a0[l], vj[0], yy[l]))));
                acc[0][l] = fm::<T, F>(a0[l], vv[l], acc[0][l]);
                acc[1][l] = fm::<T, F>(a1[l], vv[l], acc[1][l]);
                acc[2][l] = fm::<T, F>(a2[l], vv[l], acc[2][l]);
                acc[3][l] = fm::<T, F>(a3[l], vv[l], acc[3][l]);
            }
        }
    }
    let mut s = [T::ZERO; 4];
    for k in full..len {
        let (a0, a1, a2, a3) = (c0[k], c1[k], c2[k], c3[k]);
        let vk = v[k];
        y[k] = fm::<T, F>(a3, vj[3], fm::<T, F>(a2, vj[2], fm::<T, F>(a1, vj[1], fm::<T, F>(a0, vj[0], y[k]))));
        s[0] = fm::<T, F>(a0, vk, s[0]);
        s[1] = fm::<T, F>(a1, vk, s[1]);
        s[2] = fm::<T, F>(a2, vk, s[2]);
        s[3] = fm::<T, F>(a3, vk, s[3]);
    }
    let mut out = [T::ZERO; 4];
    for c in 0..4 {
        // pairwise, in a fixed order
        let a = &mut acc[c];
        let mut h = L / 2;
        while h > 0 {
            for l in 0..h {
                a[l] += a[l + h];
            }
            h /= 2;
        }
        out[c] = a[0] + s[c];
    }
    out
}

/// The whole chunks of [`symv4c`] (`full` rows, a multiple of `L`) with explicit AVX2
/// intrinsics, where `L` is one 256-bit vector of `T` (4 f64 or 8 f32): the same operations in
/// the same order as the portable loop, so the same bits. Returns false (nothing done) for other
/// `L`. LLVM vectorised the portable loop across the four columns instead of along them, with
/// blends and unpacks in the hot loop: `symv_timing` f64 n = 256 / 512 / 1024, 8.0 / 34.2 / 177
/// us before, 5.6 / 23.6 / 153 so. The same intrinsics on 512-bit vectors (8 f64 lanes) were
/// slower on the AVX-512 Xeon of session 20, 7.4 / 30.6 / 185 us: the columns are not 64-byte
/// aligned, so every 512-bit load straddles two cache lines.
///
/// # Safety
/// The CPU has AVX2 and FMA; `cols[c]`, `v`, `y` hold at least `full` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn symv4c_chunks_avx2<T: Real, const L: usize>(cols: [*const T; 4], v: *const T, y: *mut T, vj: [T; 4], full: usize, acc: &mut [[T; L]; 4]) -> bool {
    use core::arch::x86_64::*;
    macro_rules! chunks {
        ($t:ty, $lanes:expr, $zero:ident, $load:ident, $store:ident, $set1:ident, $fma:ident) => {{
            let c: [*const $t; 4] = core::array::from_fn(|i| cols[i] as *const $t);
            let (v, y) = (v as *const $t, y as *mut $t);
            let b: [_; 4] = core::array::from_fn(|i| $set1(core::mem::transmute_copy::<T, $t>(&vj[i])));
            let (mut s0, mut s1, mut s2, mut s3) = ($zero(), $zero(), $zero(), $zero());
            let mut i = 0;
            while i < full {
                let (a0, a1, a2, a3) = ($load(c[0].add(i)), $load(c[1].add(i)), $load(c[2].add(i)), $load(c[3].add(i)));
                let vv = $load(v.add(i));
                let yy = $fma(a3, b[3], $fma(a2, b[2], $fma(a1, b[1], $fma(a0, b[0], $load(y.add(i))))));
                $store(y.add(i), yy);
                s0 = $fma(a0, vv, s0);
                s1 = $fma(a1, vv, s1);
                s2 = $fma(a2, vv, s2);
                s3 = $fma(a3, vv, s3);
                i += $lanes;
            }
            for (dst, s) in acc.iter_mut().zip([s0, s1, s2, s3]) {
                $store(dst.as_mut_ptr() as *mut $t, s);
            }
        }};
    }
    if core::mem::size_of::<T>() == 8 && L == 4 {
        chunks!(f64, 4, _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd);
        true
    } else if core::mem::size_of::<T>() == 4 && L == 8 {
        chunks!(f32, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps);
        true
    } else {
        false
    }
}

/// `y[c0..m] = ` the contributions of columns `c0..c1` of the lower triangle of the `m x m`
/// matrix at `a[o + o ld..]` (leading dimension `ld`) to `A v` (each column once: `y += a v_j`
/// below the diagonal and `y_j += a . v`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn symv_piece_body<T: Real, const L: usize, const F: bool>(
    a: &[T],
    ld: usize,
    o: usize,
    m: usize,
    c0: usize,
    c1: usize,
    v: &[T],
    y: &mut [T],
) {
    for yk in y[c0..m].iter_mut() {
        *yk = T::ZERO;
    }
    let v = &v[..m];
    let mut j = c0;
    while j + 4 <= c1 {
        let base = (o + j) * ld + o;
        let cc = [
            &a[base..base + m],
            &a[base + ld..base + ld + m],
            &a[base + 2 * ld..base + 2 * ld + m],
            &a[base + 3 * ld..base + 3 * ld + m],
        ];
        for c in 0..4 {
            y[j + c] = cc[c][j + c].mul_add(v[j + c], y[j + c]);
            for r in c + 1..4 {
                let x = cc[c][j + r];
                y[j + r] = x.mul_add(v[j + c], y[j + r]);
                y[j + c] = x.mul_add(v[j + r], y[j + c]);
            }
        }
        let vj = [v[j], v[j + 1], v[j + 2], v[j + 3]];
        let s = symv4c::<T, L, F>(
            [&cc[0][j + 4..], &cc[1][j + 4..], &cc[2][j + 4..], &cc[3][j + 4..]],
            &v[j + 4..],
            &mut y[j + 4..m],
            vj,
        );
        for c in 0..4 {
            y[j + c] += s[c];
        }
        j += 4;
    }
    while j < c1 {
        let c = (o + j) * ld + o + j;
        let col = &a[c..c + m - j];
        let vj = v[j];
        let s = sytrd::axpy_dot(vj, &col[1..], &mut y[j + 1..m], &v[j + 1..]);
        y[j] = col[0].mul_add(vj, y[j]) + s;
        j += 1;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn symv_piece_avx2<T: Real>(a: &[T], ld: usize, o: usize, m: usize, c0: usize, c1: usize, v: &[T], y: &mut [T]) {
    // one register of accumulators per column (4 f64 / 8 f32): two per column spilled to the
    // stack. Measured (this thread's CPU time, n = 512 / 1024 f64, whole lower triangle):
    // unfused multiply-adds 55 / 251 us, fused 33 / 181 us (31.5 / 23 GB/s from L2);
    // an AVX-512 build (8 f64 accumulators per column) 37 / 203 us unfused, 40 / 194 fused.
    if core::mem::size_of::<T>() == 8 {
        symv_piece_body::<T, 4, true>(a, ld, o, m, c0, c1, v, y)
    } else {
        symv_piece_body::<T, 8, true>(a, ld, o, m, c0, c1, v, y)
    }
}

#[allow(clippy::too_many_arguments)]
fn symv_piece<T: Real>(simd: bool, a: &[T], ld: usize, o: usize, m: usize, c0: usize, c1: usize, v: &[T], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` is true only when the CPU has AVX2 and FMA.
        return unsafe { symv_piece_avx2(a, ld, o, m, c0, c1, v, y) };
    }
    let _ = simd;
    symv_piece_body::<T, 4, false>(a, ld, o, m, c0, c1, v, y)
}

/// `y = A v` for the `m x m` lower-stored symmetric matrix at `a[o + o ld..]`; `y2`: m scratch.
/// From [`SYMV_SPLIT_MIN`] rows two fixed pieces of columns (about half the triangle each; the
/// split depends on `m` alone), run on `par`, added in a fixed order.
#[allow(clippy::too_many_arguments)]
fn symv<T: Real>(simd: bool, a: &[T], ld: usize, o: usize, m: usize, v: &[T], y: &mut [T], y2: &mut [T], par: Par) {
    if m < SYMV_SPLIT_MIN {
        return symv_piece(simd, a, ld, o, m, 0, m, v, y);
    }
    // columns s..m hold (m - s)^2 / 2 of the m^2 / 2 elements: s = m (1 - 1/sqrt 2), rounded to 4
    let s = ((m as f64 * (1.0 - core::f64::consts::FRAC_1_SQRT_2)) as usize) / 4 * 4;
    let (p0, p1) = (crate::strided::SendPtr(y.as_mut_ptr()), crate::strided::SendPtr(y2.as_mut_ptr()));
    par.for_each(2, &|t| {
        // SAFETY: task 0 alone writes y[..m], task 1 alone y2[..m] (both at least m long).
        let out = unsafe { core::slice::from_raw_parts_mut(if t == 0 { p0.get() } else { p1.get() }, m) };
        if t == 0 {
            symv_piece(simd, a, ld, o, m, 0, s, v, out);
        } else {
            symv_piece(simd, a, ld, o, m, s, m, v, out);
        }
    });
    for (yk, &zk) in y[s..m].iter_mut().zip(&y2[s..m]) {
        *yk += zk;
    }
}

/// `y -= sum_c coef[c] cols[c]` (every column at least `y.len()` long), four columns per pass
/// over `y`: the panel's corrections, one pass where LAPACK's two `dgemv` calls make 2 i passes
/// of `daxpy`-like traffic. Fixed order.
#[inline(always)]
fn sub_cols<T: Real, const L: usize, const F: bool>(y: &mut [T], cols: &[&[T]], coef: &[T]) {
    let len = y.len();
    let full = len / L * L;
    let mut c = 0;
    while c + 4 <= cols.len() {
        let (x0, x1, x2, x3) = (&cols[c][..len], &cols[c + 1][..len], &cols[c + 2][..len], &cols[c + 3][..len]);
        let (a0, a1, a2, a3) = (T::ZERO - coef[c], T::ZERO - coef[c + 1], T::ZERO - coef[c + 2], T::ZERO - coef[c + 3]);
        let it = y[..full]
            .chunks_exact_mut(L)
            .zip(x0[..full].chunks_exact(L))
            .zip(x1[..full].chunks_exact(L))
            .zip(x2[..full].chunks_exact(L))
            .zip(x3[..full].chunks_exact(L));
        for ((((yy, b0), b1), b2), b3) in it {
            for l in 0..L {
                yy[l] = fm::<T, F>(b3[l], a3, fm::<T, F>(b2[l], a2, fm::<T, F>(b1[l], a1, fm::<T, F>(b0[l], a0, yy[l]))));
            }
        }
        for k in full..len {
            y[k] = fm::<T, F>(x3[k], a3, fm::<T, F>(x2[k], a2, fm::<T, F>(x1[k], a1, fm::<T, F>(x0[k], a0, y[k]))));
        }
        c += 4;
    }
    while c < cols.len() {
        let (x0, a0) = (&cols[c][..len], T::ZERO - coef[c]);
        for (yk, &xk) in y.iter_mut().zip(x0) {
            *yk = fm::<T, F>(xk, a0, *yk);
        }
        c += 1;
    }
}

/// `out[c] = cols[c] . v` for every column (each at least `v.len()` long), four columns per pass
/// over `v`, `L` partial sums each (fixed order).
#[inline(always)]
fn dots<T: Real, const L: usize, const F: bool>(cols: &[&[T]], v: &[T], out: &mut [T]) {
    let len = v.len();
    let full = len / L * L;
    let mut c = 0;
    let reduce = |a: &mut [T; L]| {
        let mut h = L / 2;
        while h > 0 {
            for l in 0..h {
                a[l] += a[l + h];
            }
            h /= 2;
        }
        a[0]
    };
    while c + 4 <= cols.len() {
        let (x0, x1, x2, x3) = (&cols[c][..len], &cols[c + 1][..len], &cols[c + 2][..len], &cols[c + 3][..len]);
        let mut acc = [[T::ZERO; L]; 4];
        let it = v[..full]
            .chunks_exact(L)
            .zip(x0[..full].chunks_exact(L))
            .zip(x1[..full].chunks_exact(L))
            .zip(x2[..full].chunks_exact(L))
            .zip(x3[..full].chunks_exact(L));
        for ((((vv, b0), b1), b2), b3) in it {
            for l in 0..L {
                acc[0][l] = fm::<T, F>(b0[l], vv[l], acc[0][l]);
                acc[1][l] = fm::<T, F>(b1[l], vv[l], acc[1][l]);
                acc[2][l] = fm::<T, F>(b2[l], vv[l], acc[2][l]);
                acc[3][l] = fm::<T, F>(b3[l], vv[l], acc[3][l]);
            }
        }
        let mut s = [T::ZERO; 4];
        for k in full..len {
            s[0] = fm::<T, F>(x0[k], v[k], s[0]);
            s[1] = fm::<T, F>(x1[k], v[k], s[1]);
            s[2] = fm::<T, F>(x2[k], v[k], s[2]);
            s[3] = fm::<T, F>(x3[k], v[k], s[3]);
        }
        for q in 0..4 {
            out[c + q] = reduce(&mut acc[q]) + s[q];
        }
        c += 4;
    }
    while c < cols.len() {
        out[c] = sytrd::dot(&cols[c][..len], v);
        c += 1;
    }
}

/// One panel of LAPACK's `dlatrd` (lower): reduces columns `k0..k0 + nb` of the `n x n`
/// column-major `a` and builds `W` (columns `nb..2 nb` of `vw`, `M = n - k0` rows, row `r` for
/// global row `k0 + r`) such that the trailing matrix's update is `A22 -= V W^T + W V^T`. Leaves
/// each reflector's unit element in `a[k + 1, k]` (its value is in `e[k]`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn latrd_body<T: Real, const L: usize, const F: bool>(
    a: &mut [T],
    n: usize,
    k0: usize,
    nb: usize,
    d: &mut [T],
    e: &mut [T],
    tau: &mut [T],
    vw: &mut [T],
    ys: &mut [T],
    par: Par,
    simd: bool,
) {
    let mm = n - k0;
    let half = T::from_f64(0.5);
    assert!(nb <= NB);
    let (y2, coef) = ys.split_at_mut(n);
    for i in 0..nb {
        let k = k0 + i;
        let r0 = i; // k's row in W
                    // column k (rows k..n) -= V W[k, :]^T + W V[k, :]^T over the panel's earlier columns
        if i > 0 {
            let (before, rest) = a.split_at_mut(k * n);
            let col = &mut rest[k..n];
            let mut cols: [&[T]; 2 * NB] = [&[]; 2 * NB];
            for j in 0..i {
                cols[j] = &before[(k0 + j) * n + k..(k0 + j) * n + n];
                cols[i + j] = &vw[(nb + j) * mm + r0..(nb + j) * mm + mm];
                coef[j] = vw[(nb + j) * mm + r0];
                coef[i + j] = before[(k0 + j) * n + k];
            }
            sub_cols::<T, L, F>(col, &cols[..2 * i], &coef[..2 * i]);
        }
        let ck = k * n;
        d[k] = a[ck + k];
        let alpha = a[ck + k + 1];
        let (beta, t) = sytrd::larfg(alpha, &mut a[ck + k + 2..ck + n]);
        e[k] = beta;
        tau[k] = t;
        a[ck + k + 1] = T::ONE;
        let o = k + 1;
        let m = n - o;
        let (wcols, _) = vw.split_at_mut((nb + i + 1) * mm);
        let (wprev, wi) = wcols.split_at_mut((nb + i) * mm);
        let w = &mut wi[o - k0..mm];
        if t == T::ZERO {
            for x in w.iter_mut() {
                *x = T::ZERO;
            }
            continue;
        }
        let a_ro: &[T] = a;
        let v = &a_ro[ck + o..ck + n];
        symv(simd, a_ro, n, o, m, v, w, y2, par);
        if i > 0 {
            // w -= V (W^T v) + W (V^T v) over the panel's earlier columns
            let mut cols: [&[T]; 2 * NB] = [&[]; 2 * NB];
            for j in 0..i {
                cols[j] = &wprev[(nb + j) * mm + (o - k0)..(nb + j) * mm + mm];
                cols[i + j] = &a_ro[(k0 + j) * n + o..(k0 + j) * n + n];
            }
            dots::<T, L, F>(&cols[..2 * i], v, &mut coef[..2 * i]);
            // now (W^T v, V^T v): V pairs with the first, W with the second
            for j in 0..i {
                cols[j] = &a_ro[(k0 + j) * n + o..(k0 + j) * n + n];
                cols[i + j] = &wprev[(nb + j) * mm + (o - k0)..(nb + j) * mm + mm];
            }
            sub_cols::<T, L, F>(w, &cols[..2 * i], &coef[..2 * i]);
        }
        for x in w.iter_mut() {
            *x *= t;
        }
        let alpha2 = T::ZERO - half * t * sytrd::dot(w, v);
        sytrd::axpy(alpha2, v, w);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn latrd_avx2<T: Real>(
    a: &mut [T],
    n: usize,
    k0: usize,
    nb: usize,
    d: &mut [T],
    e: &mut [T],
    tau: &mut [T],
    vw: &mut [T],
    ys: &mut [T],
    par: Par,
) {
    if core::mem::size_of::<T>() == 8 {
        latrd_body::<T, 4, true>(a, n, k0, nb, d, e, tau, vw, ys, par, true)
    } else {
        latrd_body::<T, 8, true>(a, n, k0, nb, d, e, tau, vw, ys, par, true)
    }
}

#[allow(clippy::too_many_arguments)]
fn latrd<T: Real>(
    simd: bool,
    a: &mut [T],
    n: usize,
    k0: usize,
    nb: usize,
    d: &mut [T],
    e: &mut [T],
    tau: &mut [T],
    vw: &mut [T],
    ys: &mut [T],
    par: Par,
) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` is true only when the CPU has AVX2 and FMA.
        return unsafe { latrd_avx2(a, n, k0, nb, d, e, tau, vw, ys, par) };
    }
    latrd_body::<T, 4, false>(a, n, k0, nb, d, e, tau, vw, ys, par, simd)
}

/// Reduces the symmetric `a` (`n x n`, column-major, lower triangle read; the strictly upper
/// part is used as scratch) to tridiagonal form `T = Q^T A Q`: diagonal in `d`, sub-diagonal
/// `T[k + 1, k]` in `e[k]` (`e[n - 1] = 0`; `dsterf`'s layout). Reflector `k` keeps its vector
/// `[1; a[k + 2.., k]]` below the sub-diagonal of column `k` and its factor in `tau[k]`
/// (`tau[n - 1] = 0`).
pub(crate) fn sytrd_blocked<T: Real>(a: &mut [T], n: usize, d: &mut [T], e: &mut [T], tau: &mut [T], par: Par) {
    sytrd_blocked_with(a, n, d, e, tau, par, NB, NX)
}

#[allow(clippy::too_many_arguments)]
fn sytrd_blocked_with<T: Real>(a: &mut [T], n: usize, d: &mut [T], e: &mut [T], tau: &mut [T], par: Par, nb: usize, nx: usize) {
    assert!(a.len() >= n * n && d.len() >= n && e.len() >= n && tau.len() >= n);
    if n == 0 {
        return;
    }
    let simd = simd();
    let a = &mut a[..n * n];
    let mut k0 = 0;
    let mut vw = Vec::new();
    let mut bt = Vec::new();
    let mut ys = vec![T::ZERO; n + 2 * NB];
    while n - k0 > nx.max(nb + 1) {
        let mm = n - k0;
        vw.clear();
        vw.resize(2 * nb * mm, T::ZERO);
        latrd(simd, a, n, k0, nb, d, e, tau, &mut vw, &mut ys, par);
        let k1 = k0 + nb;
        let mt = n - k1; // trailing order
                         // V's rows k1..n into columns 0..NB of vw (beside W), and B = -[W^T; V^T] (2 NB x mt)
        for j in 0..nb {
            let src = &a[(k0 + j) * n + k1..(k0 + j) * n + n];
            vw[j * mm + nb..j * mm + mm].copy_from_slice(src);
        }
        bt.clear();
        bt.resize(2 * nb * mt, T::ZERO);
        for r in 0..mt {
            for j in 0..nb {
                bt[r * 2 * nb + j] = T::ZERO - vw[(nb + j) * mm + nb + r];
                bt[r * 2 * nb + nb + j] = T::ZERO - vw[j * mm + nb + r];
            }
        }
        // A22[:, c0..c1] (rows c0..) += [V W] B[:, c0..c1], fixed column blocks
        let nblk = mt.div_ceil(UPD_BW);
        let ap = crate::strided::SendPtr(a.as_mut_ptr());
        let (vwp, btp) = (vw.as_ptr() as usize, bt.as_ptr() as usize);
        par.for_each(nblk, &|b| {
            let c0 = b * UPD_BW;
            let c1 = (c0 + UPD_BW).min(mt);
            // SAFETY: block b writes rows k1 + c0.. of columns k1 + c0..k1 + c1 of `a` only
            // (disjoint between blocks; `a` is not read by any block); `vw` and `bt` are read.
            unsafe {
                let c = GMat { ptr: ap.get().add((k1 + c0) * n + k1 + c0), rows: mt - c0, cols: c1 - c0, rs: 1, cs: n as isize };
                let am = GMat { ptr: (vwp as *mut T).add(nb + c0), rows: mt - c0, cols: 2 * nb, rs: 1, cs: mm as isize };
                let bm =
                    GMat { ptr: (btp as *mut T).add(c0 * 2 * nb), rows: 2 * nb, cols: c1 - c0, rs: 1, cs: (2 * nb) as isize };
                gemm_seq_with(c, am, bm, true, &mut Vec::new());
            }
        });
        k0 = k1;
    }
    // the last block unblocked, on a compact copy
    let m = n - k0;
    let mut c = vec![T::ZERO; m * m];
    for j in 0..m {
        c[j * m + j..j * m + m].copy_from_slice(&a[(k0 + j) * n + k0 + j..(k0 + j) * n + n]);
    }
    let (mut dc, mut ec, mut tc, mut wk) = (vec![T::ZERO; m], vec![T::ZERO; m], vec![T::ZERO; m], vec![T::ZERO; 2 * m]);
    sytrd::sytd2_any(&mut c, m, &mut dc, &mut ec, &mut tc, &mut wk);
    for j in 0..m {
        a[(k0 + j) * n + k0 + j..(k0 + j) * n + n].copy_from_slice(&c[j * m + j..j * m + m]);
    }
    for i in 0..m {
        d[k0 + i] = dc[i];
        e[k0 + i] = if i + 1 < m { ec[i + 1] } else { T::ZERO };
        tau[k0 + i] = if i + 1 < m { tc[i] } else { T::ZERO };
    }
}

/// `Z[1.., :] = Q Z[1.., :]` (Q from [`sytrd_blocked`]'s reflectors in `a`), LAPACK's `dormtr`
/// (lower, left, no transpose) in blocks of [`QB`] reflectors, last block first: per block
/// `C -= V (T (V^T C))` with `T` from `dlarft`, by GEMM per fixed block of [`ZB`] columns
/// ([`crate::larfb::apply_left`]).
pub(crate) fn apply_q<T: Real>(a: &[T], n: usize, tau: &[T], z: MatMut<'_, T>, par: Par) {
    if n <= 1 {
        return;
    }
    assert!(z.row_stride() == 1 && z.nrows() == n && z.ncols() == n);
    // reflector i acts on rows i + 1..n, its tail below the subdiagonal in column i of `a`
    let h = larfb::Reflectors { a, off: 1, rs: 1, cs: n, rows: n - 1, k: n - 1, tau };
    larfb::apply_left(&h, z.subrows_mut(1, n - 1), QB, ZB, larfb::TFactor::Dots, par);
}

/// Eigenvalues (into `w`; ascending if `vectors`, else unsorted) and, if `u` is given, the
/// eigenvectors (its columns) of the symmetric `n x n` `a` (column-major, lower triangle read;
/// destroyed). Returns false if the tridiagonal eigensolver did not converge.
pub(crate) fn eigh_blocked<T: Real>(a: &mut [T], n: usize, w: &mut [T], u: Option<MatMut<'_, T>>, par: Par) -> bool {
    let mut e = vec![T::ZERO; n];
    if u.is_none() && n >= TWO_STAGE_MIN_N {
        sy2sb::dense_to_band_sym(a, n, n, TWO_STAGE_BAND, par);
        sb2st::band_to_tridiagonal(a, n, n, TWO_STAGE_BAND, w, &mut e, par);
        e[n - 1] = T::ZERO;
        return sytrd::sterf(n, &mut w[..n], &mut e);
    }
    let mut tau = vec![T::ZERO; n];
    sytrd_blocked(a, n, w, &mut e, &mut tau, par);
    let Some(u) = u else {
        return sytrd::sterf(n, &mut w[..n], &mut e);
    };
    // the divide and conquer works in absolute terms (its deflation tolerances are eps times the
    // largest entry; faer's, used until session 8, was off by 1e-4 relative for a matrix of norm
    // 1e146 or 1e-146, the ends of the range `eigh` scales into): scale T to max norm ~1 first,
    // by a power of two (exact), as LAPACK's dstedc does
    let tmax = w[..n].iter().chain(&e[..n]).fold(0.0f64, |m, x| m.max(x.to_f64().abs()));
    let ts = if tmax > 0.0 { T::from_f64((-tmax.log2().round()).exp2()) } else { T::ONE };
    for x in w[..n].iter_mut().chain(e[..n].iter_mut()) {
        *x = *x * ts;
    }
    let ldq = u.col_stride() as usize;
    assert!(u.row_stride() == 1 && u.nrows() == n && u.ncols() == n && u.col_stride() >= n as isize);
    // SAFETY: u is n x n with unit row stride and column stride ldq: these are its elements.
    let q = unsafe { core::slice::from_raw_parts_mut(u.as_ptr_mut(), (n - 1) * ldq + n) };
    let ok = stedc::stedc(&mut w[..n], &e[..n - 1], q, ldq, par);
    let inv = T::ONE / ts;
    for x in w[..n].iter_mut() {
        *x = *x * inv;
    }
    if !ok {
        return false;
    }
    apply_q(a, n, &tau, u, par);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::symmetric as sym;
    /// The values-only tridiagonalisation of one n x n matrix on the pool, median wall ms: one
    /// stage (`sytrd_blocked`) against two (`sy2sb` + `sb2st`) for a few bandwidths, and `dsterf`
    /// after it (run with `--ignored --nocapture`; FL_SIZES and FL_BANDS override the lists).
    #[test]
    #[ignore]
    fn two_stage_values_timing() {
        crate::threads::set_num_threads(crate::testing::env_list("FL_THREADS", &[2])[0]);
        let pool = crate::threads::current();
        let list = crate::testing::env_list;
        for n in list("FL_SIZES", &[97, 128, 192, 256, 384, 512, 1024, 2048]) {
            let a = crate::testing::symmetric(n, n as u64);
            let c0 = col_major_lower(&a, n);
            let mut c = c0.clone();
            let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let [t1] = crate::testing::interleaved_medians([&mut || {
                c.copy_from_slice(&c0);
                sytrd_blocked(&mut c, n, &mut d, &mut e, &mut tau, pool.par());
            }]);
            let (d0, e0) = (d.clone(), e.clone());
            let [ts] = crate::testing::interleaved_medians([&mut || {
                d.copy_from_slice(&d0);
                e.copy_from_slice(&e0);
                assert!(sytrd::sterf(n, &mut d, &mut e));
            }]);
            print!("n={n:5} sytrd {t1:8.3} ms, sterf {ts:7.3} |");
            for b in list("FL_BANDS", &[8, 16, 24, 32]) {
                let mut band = c0.clone();
                let [ta] = crate::testing::interleaved_medians([&mut || {
                    band.copy_from_slice(&c0);
                    crate::sy2sb::dense_to_band_sym(&mut band, n, n, b, pool.par());
                }]);
                let [tb] = crate::testing::interleaved_medians([&mut || {
                    crate::sb2st::band_to_tridiagonal(&mut band, n, n, b, &mut d, &mut e, pool.par());
                }]);
                print!(" b={b}: {ta:.3}+{tb:.3}={:.3}", ta + tb);
            }
            println!();
        }
    }


    /// eigh with eigenvectors phase by phase on the pool, median wall ms: the tridiagonalisation,
    /// the divide and conquer, the back-transformation (run with `--ignored --nocapture`;
    /// FL_SIZES overrides the list). `/tmp`-style LAPACK counterparts: dsytrd, dstedc, dormtr.
    #[test]
    #[ignore]
    fn eigh_phases_timing() {
        crate::threads::set_num_threads(crate::testing::env_list("FL_THREADS", &[2])[0]);
        let pool = crate::threads::current();
        for n in crate::testing::env_list("FL_SIZES", &[256, 512, 1024]) {
            let a = crate::testing::symmetric(n, n as u64);
            let c0 = col_major_lower(&a, n);
            let mut c = c0.clone();
            let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let [t1] = crate::testing::interleaved_medians([&mut || {
                c.copy_from_slice(&c0);
                sytrd_blocked(&mut c, n, &mut d, &mut e, &mut tau, pool.par());
            }]);
            let tmax = d.iter().chain(&e).fold(0.0f64, |m, x| m.max(x.abs()));
            let ts = (-tmax.log2().round()).exp2();
            let d0: Vec<f64> = d.iter().map(|x| x * ts).collect();
            let e0: Vec<f64> = e.iter().map(|x| x * ts).collect();
            let mut q = vec![0.0; n * n];
            let [t2] = crate::testing::interleaved_medians([&mut || {
                d.copy_from_slice(&d0);
                assert!(crate::stedc::stedc(&mut d, &e0[..n - 1], &mut q, n, pool.par()));
            }]);
            let q0 = q.clone();
            let [t3] = crate::testing::interleaved_medians([&mut || {
                q.copy_from_slice(&q0);
                apply_q(&c, n, &tau, faer::MatMut::from_column_major_slice_mut(&mut q, n, n), pool.par());
            }]);
            println!("n={n:5} sytrd {t1:8.2} ms, stedc {t2:8.2}, apply_q {t3:8.2}, all {:8.2}", t1 + t2 + t3);
        }
    }

    fn col_major_lower(a: &[f64], n: usize) -> Vec<f64> {
        // sym() is symmetric, so row-major = column-major; poison the upper part (never read)
        let mut c = a.to_vec();
        for j in 0..n {
            for i in 0..j {
                c[j * n + i] = f64::NAN;
            }
        }
        c
    }

    #[test]
    fn blocked_residual_orthogonality_and_threads() {
        let pool = { crate::threads::current() };
        for n in [130usize, 161, 200, 257, 300] {
            let a = sym(n, n as u64 + 11);
            let eps = f64::EPSILON;
            let anorm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
            // values: sequential and pooled give the same bits
            let mut w1 = vec![0.0; n];
            let mut c = col_major_lower(&a, n);
            assert!(eigh_blocked(&mut c, n, &mut w1, None, Par::SEQ));
            let mut w2 = vec![0.0; n];
            let mut c = col_major_lower(&a, n);
            assert!(eigh_blocked(&mut c, n, &mut w2, None, pool.par()));
            assert!(w1.iter().zip(&w2).all(|(x, y)| x.to_bits() == y.to_bits()), "n={n}");
            // vectors
            let mut w = vec![0.0; n];
            let mut u = faer::Mat::<f64>::zeros(n, n);
            let mut c = col_major_lower(&a, n);
            assert!(eigh_blocked(&mut c, n, &mut w, Some(u.as_mut()), pool.par()));
            let (mut res, mut orth) = (0.0f64, 0.0f64);
            for k in 0..n {
                for i in 0..n {
                    let av: f64 = (0..n).map(|j| a[j * n + i] * u[(j, k)]).sum();
                    res = res.max((av - w[k] * u[(i, k)]).abs());
                }
                for l in 0..n {
                    let vv: f64 = (0..n).map(|j| u[(j, l)] * u[(j, k)]).sum();
                    orth = orth.max((vv - if l == k { 1.0 } else { 0.0 }).abs());
                }
            }
            assert!(res / (anorm * n as f64 * eps) < 2.0, "n={n} residual {}", res / (anorm * n as f64 * eps));
            assert!(orth / (n as f64 * eps) < 2.0, "n={n} orthogonality {}", orth / (n as f64 * eps));
            let mut s1 = w1.clone();
            s1.sort_by(|x, y| x.partial_cmp(y).unwrap());
            for (x, y) in s1.iter().zip(&w) {
                assert!((x - y).abs() <= 4.0 * n as f64 * eps * anorm, "n={n}");
            }
        }
    }

    /// Where the time goes, faer's `self_adjoint_evd` against this module, one and two threads
    /// (wall clock, best of 3; run with `--ignored --nocapture`, FL_SIZES=512,1024).
    #[test]
    #[ignore]
    fn faer_phases() {
        use faer::linalg::evd::tridiag;
        let sizes: Vec<usize> = match std::env::var("FL_SIZES") {
            Ok(v) => v.split(',').map(|x| x.parse().unwrap()).collect(),
            Err(_) => vec![512, 1024],
        };
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        // one thread: this thread's CPU time (the shared machine's other load does not count);
        // two: wall clock
        let cpu = std::sync::atomic::AtomicBool::new(true);
        let best = |f: &mut dyn FnMut()| {
            let mut b = f64::INFINITY;
            for _ in 0..5 {
                let (t, c) = (std::time::Instant::now(), crate::testing::thread_cpu_time());
                f();
                let el = if cpu.load(std::sync::atomic::Ordering::Relaxed) {
                    crate::testing::thread_cpu_time() - c
                } else {
                    t.elapsed().as_secs_f64()
                };
                b = b.min(el * 1e3);
            }
            b
        };
        for n in sizes {
            let a = sym(n, 5);
            let am = faer::Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
            for two in [false, true] {
                cpu.store(!two, std::sync::atomic::Ordering::Relaxed);
                let label = if two { "2 threads" } else { "1 thread " };
                let run = |f: &mut (dyn FnMut(faer::Par) + Send)| {
                    if two {
                        pool.par().install_fixed(f)
                    } else {
                        f(faer::Par::Seq)
                    }
                };
                let mut t_tri = 0.0;
                let mut t_dc = 0.0;
                let mut t_all = 0.0;
                let mut t_vals = 0.0;
                let skip_faer = std::env::var("FL_OURS").is_ok();
                run(&mut |fp| {
                    if skip_faer {
                        return;
                    }
                    let params = Default::default();
                    let mut buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, fp, params));
                    let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, n);
                    let mut h = faer::Mat::<f64>::zeros(bs, n - 1);
                    let mut tr = am.clone();
                    t_tri = best(&mut || {
                        tr.copy_from(&am);
                        tridiag::tridiag_in_place(tr.as_mut(), h.as_mut(), fp, MemStack::new(&mut buf), Default::default());
                    });
                    let d = faer::Col::<f64>::from_fn(n, |i| tr[(i, i)]);
                    let e = faer::Col::<f64>::from_fn(n, |i| if i + 1 < n { tr[(i + 1, i)] } else { 0.0 });
                    let mut s = faer::Col::<f64>::zeros(n);
                    let mut u = faer::Mat::<f64>::zeros(n, n);
                    t_dc = best(&mut || {
                        evd::tridiagonal_self_adjoint_evd(
                            d.as_diagonal(),
                            e.as_diagonal(),
                            s.as_diagonal_mut(),
                            Some(u.as_mut()),
                            fp,
                            MemStack::new(&mut buf),
                            params,
                        )
                        .unwrap();
                    });
                    t_all = best(&mut || {
                        evd::self_adjoint_evd(
                            am.as_ref(),
                            s.as_diagonal_mut(),
                            Some(u.as_mut()),
                            fp,
                            MemStack::new(&mut buf),
                            params,
                        )
                        .unwrap();
                    });
                    t_vals = best(&mut || {
                        evd::self_adjoint_evd(am.as_ref(), s.as_diagonal_mut(), None, fp, MemStack::new(&mut buf), params)
                            .unwrap();
                    });
                });
                println!(
                    "n={n:5} {label} faer: tridiag {t_tri:7.1} ms, D&C {t_dc:7.1}, back-transform (rest) {:7.1}, all {t_all:7.1} | values {t_vals:7.1} (QR {:7.1})",
                    t_all - t_tri - t_dc,
                    t_vals - t_tri
                );
                let par = if two { pool.par() } else { Par::SEQ };
                let c0 = col_major_lower(&a, n);
                let mut c = c0.clone();
                let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
                let t_ours = best(&mut || {
                    c.copy_from_slice(&c0);
                    sytrd_blocked(&mut c, n, &mut d, &mut e, &mut tau, par);
                });
                let (d0, e0) = (d.clone(), e.clone());
                let t_sterf = best(&mut || {
                    d.copy_from_slice(&d0);
                    e.copy_from_slice(&e0);
                    assert!(sytrd::sterf(n, &mut d, &mut e));
                });
                let mut z = faer::Mat::<f64>::identity(n, n);
                let t_q = best(&mut || apply_q(&c, n, &tau, z.as_mut(), par));
                let mut w = vec![0.0; n];
                let mut u = faer::Mat::<f64>::zeros(n, n);
                let t_vec = best(&mut || {
                    c.copy_from_slice(&c0);
                    assert!(eigh_blocked(&mut c, n, &mut w, Some(u.as_mut()), par));
                });
                let t_val = best(&mut || {
                    c.copy_from_slice(&c0);
                    assert!(eigh_blocked(&mut c, n, &mut w, None, par));
                });
                println!(
                    "n={n:5} {label} ours: sytrd {t_ours:7.1} ms ({:.1} GF/s), sterf {t_sterf:7.1}, apply_q {t_q:7.1}, all {t_vec:7.1} | values {t_val:7.1}",
                    4.0 / 3.0 * (n as f64).powi(3) / t_ours / 1e6
                );
            }
        }
    }
}

#[cfg(test)]
mod symv_timing {
    use super::*;

    /// The symmetric matrix-vector product alone, this thread's CPU time, best of 20
    /// (`--ignored --nocapture`): GB/s of the lower triangle read.
    #[test]
    #[ignore]
    fn symv_timing() {
        let now = crate::testing::thread_cpu_time;
        for n in [256usize, 512, 768, 1024] {
            let a = crate::testing::data(n * n, 3);
            let v = crate::testing::data(n, 4);
            let mut y = vec![0.0; n];
            {
                let reps = 20;
                let mut best = f64::INFINITY;
                for _ in 0..20 {
                    let t = now();
                    for _ in 0..reps {
                        symv_piece(true, &a, n, 0, n, 0, n, &v, &mut y);
                    }
                    best = best.min((now() - t) / reps as f64);
                }
                let bytes = (n * n / 2 * 8) as f64;
                println!(
                    "n={n:5} symv {:8.1} us, {:6.1} GB/s, {:5.1} GF/s",
                    best * 1e6,
                    bytes / best / 1e9,
                    (2 * n * n) as f64 / best / 1e9
                );
            }
        }
    }
}

#[cfg(test)]
mod dc_timing {
    use super::*;

    /// faer's tridiagonal divide and conquer by recursion threshold (QR below it), this
    /// thread's CPU time, best of 3 (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn dc_threshold_timing() {
        let now = crate::testing::thread_cpu_time;
        for n in [512usize, 1024] {
            let a = crate::testing::symmetric(n, 9);
            let mut c = a.clone();
            let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            sytrd_blocked(&mut c, n, &mut d, &mut e, &mut tau, Par::SEQ);
            let dd = faer::Col::<f64>::from_fn(n, |i| d[i]);
            let ee = faer::Col::<f64>::from_fn(n, |i| e[i]);
            let mut s = faer::Col::<f64>::zeros(n);
            let mut u = faer::Mat::<f64>::zeros(n, n);
            for thr in [16usize, 32, 64, 128, 256] {
                let mut params: faer::Spec<evd::SelfAdjointEvdParams, f64> = Default::default();
                params.config.recursion_threshold = thr;
                let mut buf =
                    MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, faer::Par::Seq, params));
                let mut best = f64::INFINITY;
                for _ in 0..3 {
                    let t = now();
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
                    best = best.min(now() - t);
                }
                println!("n={n:5} D&C recursion threshold {thr:4}: {:8.1} ms", best * 1e3);
            }
        }
    }
}

#[cfg(test)]
mod nb_timing {
    use super::*;

    /// The tridiagonalisation by panel width, one thread, this thread's CPU time, best of 5
    /// per round over 3 interleaved rounds (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn nb_timing() {
        let now = crate::testing::thread_cpu_time;
        for n in [300usize, 512, 1024] {
            let a = crate::testing::symmetric(n, 9);
            let mut c = a.clone();
            let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            // up to NB: the panel buffers are sized for it (`latrd_body` asserts nb <= NB)
            let nbs = [4usize, 8, 12, NB];
            let mut best = [f64::INFINITY; 4];
            for _ in 0..3 {
                for (k, &nb) in nbs.iter().enumerate() {
                    for _ in 0..5 {
                        c.copy_from_slice(&a);
                        let t = now();
                        sytrd_blocked_with(&mut c, n, &mut d, &mut e, &mut tau, Par::SEQ, nb, NX);
                        best[k] = best[k].min(now() - t);
                    }
                }
            }
            for (k, &nb) in nbs.iter().enumerate() {
                println!("n={n:5} nb={nb:3}: {:8.2} ms", best[k] * 1e3);
            }
        }
    }
}

#[cfg(test)]
mod crossover_timing {
    use super::*;

    /// Eigenvalues only: the unblocked `sytrd::sy_eigh` against this module, one thread, this
    /// thread's CPU time, best of 3 interleaved rounds (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn values_crossover_timing() {
        let now = crate::testing::thread_cpu_time;
        for n in [96usize, 128, 160, 192, 256, 320] {
            let a = crate::testing::symmetric(n, 9);
            let mut c = a.clone();
            let (mut w, mut e, mut q) = (vec![0.0; n], vec![0.0; n], vec![0.0; 0]);
            let mut work = vec![0.0; sytrd::work_len(n, false)];
            let reps = (2_000_000 / (n * n)).max(2);
            let (mut tu, mut tb) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..3 {
                let t = now();
                for _ in 0..reps {
                    c.copy_from_slice(&a);
                    assert!(sytrd::sy_eigh(&mut c, n, false, &mut w, &mut e, &mut q, &mut work));
                }
                tu = tu.min((now() - t) / reps as f64);
                let t = now();
                for _ in 0..reps {
                    c.copy_from_slice(&a);
                    assert!(eigh_blocked(&mut c, n, &mut w, None, Par::SEQ));
                }
                tb = tb.min((now() - t) / reps as f64);
            }
            println!("n={n:5} values: unblocked {:8.1} us, blocked {:8.1} us", tu * 1e6, tb * 1e6);
        }
    }
}

#[cfg(test)]
mod nx_timing {
    use super::*;

    /// The tridiagonalisation by the order of the unblocked tail, one thread, this thread's CPU
    /// time, best of 3 interleaved rounds (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn nx_timing() {
        let now = crate::testing::thread_cpu_time;
        for n in [96usize, 128, 192, 256, 512] {
            let a = crate::testing::symmetric(n, 9);
            let mut c = a.clone();
            let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let nxs = [32usize, 48, 64, 96, 128];
            let mut best = [f64::INFINITY; 5];
            let reps = (2_000_000 / (n * n)).max(2);
            for _ in 0..3 {
                for (k, &nx) in nxs.iter().enumerate() {
                    let t = now();
                    for _ in 0..reps {
                        c.copy_from_slice(&a);
                        sytrd_blocked_with(&mut c, n, &mut d, &mut e, &mut tau, Par::SEQ, NB, nx);
                    }
                    best[k] = best[k].min((now() - t) / reps as f64);
                }
            }
            let row: Vec<String> = nxs.iter().zip(&best).map(|(nx, t)| format!("nx={nx}: {:7.1}", t * 1e6)).collect();
            println!("n={n:5} us: {}", row.join("  "));
        }
    }
}
