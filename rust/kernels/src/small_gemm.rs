//! A register-blocked product kernel for small matrices (every dimension up to [`SMALL_MAX`]).
//!
//! At these sizes faer's general GEMM spends more on dispatch and blocking decisions than on
//! arithmetic: a 32x32x32 float64 product took 3.4 us on one core (19 GFLOP/s), and a stack of
//! them ran at that speed, bound by the kernel rather than by memory (two threads were 2.0x one
//! thread on 10000 products). This kernel keeps a block of `C` (up to 4 vectors of rows by 4 or 8
//! columns, at most 16 of the 32 AVX-512 registers) in registers for the whole inner dimension,
//! loading a column of `A` and broadcasting entries of `B`, with fused multiply-adds. Rows past a
//! multiple of the vector width are handled with masked loads and stores, so any `m` takes it.
//!
//! It is written with explicit AVX-512 intrinsics, one monomorphic function per type with the
//! target features (`#[inline(never)]` at that boundary), and `accumulate` as a const parameter.
//! A first version wrote the same loops over arrays of generic scalars and left the
//! vectorisation to LLVM: its f64 instance reached 40 GFLOP/s when called with constant
//! arguments (LLVM cloned it for the timing test) but the general instance, the one `gemm_seq`
//! calls, kept its 16 accumulators in a stack array and stored all of them on every step of the
//! inner loop (16 vector stores per 16 FMAs: 2.5x slower).
//!
//! Used only where the CPU has AVX-512F and FMA ([`crate::cpu::has_avx512`]: detected once,
//! cached); elsewhere, or when the environment variable `FERROLINALG_NO_AVX512` is set to a
//! non-empty value other than `0` (for testing that path), faer's kernel runs as before.
//!
//! Each entry of `C` is one chain of fused multiply-adds over `p = 0..k` in order, starting from
//! zero, whatever the block it falls in, so results do not depend on how a product is cut
//! (batches, threads). With `accumulate`, that chain's result is added to `C` at the end.

use crate::gemm::Mat;
use crate::scalar::Real;

/// Largest `m`, `n` and `k` the kernel takes.
pub(crate) const SMALL_MAX: usize = 64;

/// `c = a @ b`, or `c += a @ b` if `accumulate`, for column-major `c` and `a` (`rs == 1`) and
/// `b` of any strides.
///
/// # Safety
/// The views are valid for their shapes, `c` does not overlap `a` or `b`, `c.rs == a.rs == 1`,
/// and [`crate::cpu::has_avx512`] returned true.
pub(crate) unsafe fn gemm_small<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool) {
    debug_assert!(c.rs == 1 && a.rs == 1 && crate::cpu::has_avx512());
    #[cfg(target_arch = "x86_64")]
    {
        let stream = STREAM.with(|s| s.get());
        // `Real` is f32 or f64: the size tells which, and the casts only rename the pointee type
        if core::mem::size_of::<T>() == 8 {
            f64_avx512::gemm(c.cast(), a.cast(), b.cast(), accumulate, stream)
        } else {
            f32_avx512::gemm(c.cast(), a.cast(), b.cast(), accumulate, stream)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("gemm_small without AVX-512")
}

thread_local! {
    /// Whether [`gemm_small`] writes `C` with non-temporal stores on this thread (set by
    /// [`with_streaming_stores`]).
    static STREAM: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Runs `f` with [`gemm_small`]'s results written by non-temporal stores (where a whole aligned
/// vector is written) if `on`, then fences them, so that they are ordered before anything this
/// thread does next (such as signalling that its part of a batch is done).
///
/// Why: a stack of small products whose results add up to far more than the caches writes
/// each result line once and reads it never again; an ordinary store first fetches the line
/// from memory (a read for ownership), a third more memory traffic for a product bound by it.
pub(crate) fn with_streaming_stores<R>(on: bool, f: impl FnOnce() -> R) -> R {
    if !on {
        return f();
    }
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STREAM.with(|s| s.set(self.0));
            #[cfg(target_arch = "x86_64")]
            // SAFETY: sfence has no preconditions (SSE, part of x86_64's baseline)
            unsafe {
                core::arch::x86_64::_mm_sfence()
            };
        }
    }
    let _restore = Restore(STREAM.with(|s| s.replace(true)));
    f()
}

/// A column-major copy of a row-major `a` (`cs == 1`) in `scratch`, for the kernel: 8x8 blocks
/// transposed in registers, the edges one element at a time. `None` if `a` is not row-major or the
/// scratch cannot be allocated (the caller then packs it the general way).
///
/// The general 8x8-tiled copy (`gemm::pack_col_major`) moves one element at a time: a 64x64
/// operand took ~3.5 us of a ~10 us product (C-order `a` with Fortran-order `b` into a C-order
/// result, or any transposed `a`). With this one, such a product takes 1.27x (f64 64x64),
/// 1.17x (f32 64x64), 1.15x (f32 32x32) the time of the all-C-order one (was 1.4x, 1.6x, 1.5x).
///
/// # Safety
/// `a` is valid for its shape and [`crate::cpu::has_avx512`] returned true.
pub(crate) unsafe fn pack_rows<T: Real>(a: Mat<T>, scratch: &mut Vec<T>) -> Option<Mat<T>> {
    if a.cs != 1 {
        return None;
    }
    let (m, k) = (a.rows, a.cols);
    scratch.clear();
    scratch.try_reserve(m * k).ok()?;
    let dst = scratch.as_mut_ptr();
    #[cfg(target_arch = "x86_64")]
    {
        if core::mem::size_of::<T>() == 8 {
            transpose_f64(a.ptr as *const f64, a.rs, m, k, dst as *mut f64);
        } else {
            // `transpose.rs`'s 8x8 register transposes (AVX2, which every AVX-512 CPU has)
            crate::transpose::transpose(a.ptr as *const T, a.rs, m, k, dst, m as isize);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("pack_rows without AVX-512");
    // SAFETY: the transposition wrote all m * k elements.
    scratch.set_len(m * k);
    Some(Mat { ptr: dst, rows: m, cols: k, rs: 1, cs: m as isize })
}

/// `dst[p * m + i] = src[i * rs + p]` for an `m x k` row-major `src`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline(never)]
unsafe fn transpose_f64(src: *const f64, rs: isize, m: usize, k: usize, dst: *mut f64) {
    use core::arch::x86_64::*;
    let (m8, k8) = (m - m % 8, k - k % 8);
    // _mm512_set_epi64 lists lanes from the highest: these are [0,1,8,9,4,5,12,13] etc.
    let idx1 = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    let idx2 = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    let idx3 = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
    let idx4 = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
    for i0 in (0..m8).step_by(8) {
        for p0 in (0..k8).step_by(8) {
            let row = |x: usize| src.offset((i0 + x) as isize * rs).add(p0);
            let (r0, r1, r2, r3) = (_mm512_loadu_pd(row(0)), _mm512_loadu_pd(row(1)), _mm512_loadu_pd(row(2)), _mm512_loadu_pd(row(3)));
            let (r4, r5, r6, r7) = (_mm512_loadu_pd(row(4)), _mm512_loadu_pd(row(5)), _mm512_loadu_pd(row(6)), _mm512_loadu_pd(row(7)));
            // pairs of rows interleaved: t0 = [r0_0 r1_0 r0_2 r1_2 r0_4 r1_4 r0_6 r1_6], t1 the odd columns
            let (t0, t1) = (_mm512_unpacklo_pd(r0, r1), _mm512_unpackhi_pd(r0, r1));
            let (t2, t3) = (_mm512_unpacklo_pd(r2, r3), _mm512_unpackhi_pd(r2, r3));
            let (t4, t5) = (_mm512_unpacklo_pd(r4, r5), _mm512_unpackhi_pd(r4, r5));
            let (t6, t7) = (_mm512_unpacklo_pd(r6, r7), _mm512_unpackhi_pd(r6, r7));
            // rows 0-3 (u0..u3) and 4-7 (u4..u7) of columns (0, 4), (1, 5), (2, 6), (3, 7)
            let (u0, u2) = (_mm512_permutex2var_pd(t0, idx1, t2), _mm512_permutex2var_pd(t0, idx2, t2));
            let (u1, u3) = (_mm512_permutex2var_pd(t1, idx1, t3), _mm512_permutex2var_pd(t1, idx2, t3));
            let (u4, u6) = (_mm512_permutex2var_pd(t4, idx1, t6), _mm512_permutex2var_pd(t4, idx2, t6));
            let (u5, u7) = (_mm512_permutex2var_pd(t5, idx1, t7), _mm512_permutex2var_pd(t5, idx2, t7));
            let col = |c: usize| dst.add((p0 + c) * m + i0);
            _mm512_storeu_pd(col(0), _mm512_permutex2var_pd(u0, idx3, u4));
            _mm512_storeu_pd(col(4), _mm512_permutex2var_pd(u0, idx4, u4));
            _mm512_storeu_pd(col(1), _mm512_permutex2var_pd(u1, idx3, u5));
            _mm512_storeu_pd(col(5), _mm512_permutex2var_pd(u1, idx4, u5));
            _mm512_storeu_pd(col(2), _mm512_permutex2var_pd(u2, idx3, u6));
            _mm512_storeu_pd(col(6), _mm512_permutex2var_pd(u2, idx4, u6));
            _mm512_storeu_pd(col(3), _mm512_permutex2var_pd(u3, idx3, u7));
            _mm512_storeu_pd(col(7), _mm512_permutex2var_pd(u3, idx4, u7));
        }
    }
    transpose_edges(src, rs, m, k, m8, k8, dst);
}

/// The rows from `m8` on (every column) and the columns from `k8` on (rows before `m8`), one
/// element at a time.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn transpose_edges<T: Copy>(src: *const T, rs: isize, m: usize, k: usize, m8: usize, k8: usize, dst: *mut T) {
    for i in 0..m {
        let from = if i < m8 { k8 } else { 0 };
        let row = src.offset(i as isize * rs);
        for p in from..k {
            *dst.add(p * m + i) = *row.add(p);
        }
    }
}

/// One AVX-512 kernel per type: `$t` elements, `$lanes` per vector of type `$v`, masks `$mask`.
#[cfg(target_arch = "x86_64")]
macro_rules! avx512_kernel {
    ($name:ident, $t:ty, $lanes:expr, $v:ty, $mask:ty,
     $zero:ident, $loadz:ident, $storem:ident, $set1:ident, $fmadd:ident, $add:ident, $stream:ident) => {
        mod $name {
            use crate::gemm::Mat;
            use core::arch::x86_64::*;

            const L: usize = $lanes;
            const FULL: $mask = !0;

            /// See [`super::gemm_small`].
            #[target_feature(enable = "avx512f,fma")]
            #[inline(never)]
            pub(super) unsafe fn gemm(c: Mat<$t>, a: Mat<$t>, b: Mat<$t>, accumulate: bool, stream: bool) {
                match (accumulate, stream) {
                    (true, _) => drive::<true, false>(c, a, b),
                    (false, false) => drive::<false, false>(c, a, b),
                    (false, true) => drive::<false, true>(c, a, b),
                }
            }

            /// Rows in blocks of up to 4 vectors, as even as the vector count allows (5 vectors:
            /// 3 + 2, not 4 + 1, so that no block is left with too few independent FMA chains).
            #[target_feature(enable = "avx512f,fma")]
            #[inline]
            unsafe fn drive<const ACC: bool, const NT: bool>(c: Mat<$t>, a: Mat<$t>, b: Mat<$t>) {
                let m = c.rows;
                let nvec = m.div_ceil(L);
                let nblocks = nvec.div_ceil(4);
                let rem = m % L;
                let last_mask: $mask = if rem == 0 { FULL } else { ((1 as $mask) << rem) - 1 };
                let mut v0 = 0;
                for blk in 0..nblocks {
                    // the first `nvec % nblocks` blocks take one vector more
                    let nv = nvec / nblocks + usize::from(blk < nvec % nblocks);
                    let lm = if v0 + nv == nvec { last_mask } else { FULL };
                    match nv {
                        4 => cols::<4, 4, ACC, NT>(v0 * L, lm, c, a, b),
                        3 => cols::<3, 4, ACC, NT>(v0 * L, lm, c, a, b),
                        2 => cols::<2, 8, ACC, NT>(v0 * L, lm, c, a, b),
                        _ => cols::<1, 8, ACC, NT>(v0 * L, lm, c, a, b),
                    }
                    v0 += nv;
                }
            }

            /// Rows `i0..i0 + MV * L` (the last vector masked by `lm`): columns in tiles of `NR`,
            /// the remainder in tiles of 4, 2 and 1.
            #[target_feature(enable = "avx512f,fma")]
            #[inline]
            unsafe fn cols<const MV: usize, const NR: usize, const ACC: bool, const NT: bool>(
                i0: usize,
                lm: $mask,
                c: Mat<$t>,
                a: Mat<$t>,
                b: Mat<$t>,
            ) {
                let n = c.cols;
                let mut j0 = 0;
                while j0 + NR <= n {
                    tile::<MV, NR, ACC, NT>(i0, j0, lm, c, a, b);
                    j0 += NR;
                }
                if NR > 4 && j0 + 4 <= n {
                    tile::<MV, 4, ACC, NT>(i0, j0, lm, c, a, b);
                    j0 += 4;
                }
                if j0 + 2 <= n {
                    tile::<MV, 2, ACC, NT>(i0, j0, lm, c, a, b);
                    j0 += 2;
                }
                if j0 < n {
                    tile::<MV, 1, ACC, NT>(i0, j0, lm, c, a, b);
                }
            }

            /// The block of `c` at rows `i0..` (`MV` vectors) and columns `j0..j0 + NR`, summed in
            /// registers over the whole inner dimension, then stored (or added) once.
            #[target_feature(enable = "avx512f,fma")]
            #[inline]
            unsafe fn tile<const MV: usize, const NR: usize, const ACC: bool, const NT: bool>(
                i0: usize,
                j0: usize,
                lm: $mask,
                c: Mat<$t>,
                a: Mat<$t>,
                b: Mat<$t>,
            ) {
                let mask = |v: usize| if v + 1 == MV { lm } else { FULL };
                let mut acc: [[$v; MV]; NR] = [[$zero(); MV]; NR];
                let mut ap = a.ptr.add(i0) as *const $t;
                let mut bp = b.ptr.offset(j0 as isize * b.cs) as *const $t;
                for _ in 0..a.cols {
                    let mut av: [$v; MV] = [$zero(); MV];
                    for (v, x) in av.iter_mut().enumerate() {
                        // SAFETY (whole loop): rows i0.. of column p of `a` (masked past row m,
                        // and masked-off lanes are never read), entry (p, j0 + j) of `b`.
                        *x = $loadz(mask(v), ap.add(v * L));
                    }
                    for (j, row) in acc.iter_mut().enumerate() {
                        let bj = $set1(*bp.offset(j as isize * b.cs));
                        for (x, &y) in row.iter_mut().zip(&av) {
                            *x = $fmadd(y, bj, *x);
                        }
                    }
                    ap = ap.offset(a.cs);
                    bp = bp.offset(b.rs);
                }
                for (j, row) in acc.iter().enumerate() {
                    let cp = c.ptr.add(i0).offset((j0 + j) as isize * c.cs);
                    for (v, &x) in row.iter().enumerate() {
                        // SAFETY: rows i0.. of column j0 + j of `c`, masked past row m.
                        let p = cp.add(v * L);
                        let x = if ACC { $add($loadz(mask(v), p), x) } else { x };
                        if NT && mask(v) == FULL && (p as usize) % 64 == 0 {
                            // a whole aligned vector: past the caches (see `with_streaming_stores`)
                            $stream(p, x);
                        } else {
                            $storem(p, mask(v), x);
                        }
                    }
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
avx512_kernel!(f64_avx512, f64, 8, __m512d, u8,
    _mm512_setzero_pd, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_stream_pd);
#[cfg(target_arch = "x86_64")]
avx512_kernel!(f32_avx512, f32, 16, __m512, u16,
    _mm512_setzero_ps, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_stream_ps);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strided::{ArrayMut, ArrayRef};
    use crate::threads::Par;

    /// Deterministic values in [-1, 1) with some exact zeros.
    fn values(len: usize, seed: u64) -> Vec<f64> {
        crate::testing::data(len, seed).into_iter().enumerate().map(|(i, x)| if i % 17 == 5 { 0.0 } else { 2.0 * x }).collect()
    }

    /// The kernel's arithmetic, written plainly: one FMA chain per entry from zero, in `p` order.
    fn reference<T: Fused>(m: usize, n: usize, k: usize, a: &dyn Fn(usize, usize) -> T, b: &dyn Fn(usize, usize) -> T) -> Vec<T> {
        let mut c = vec![T::ZERO; m * n];
        for j in 0..n {
            for i in 0..m {
                let mut s = T::ZERO;
                for p in 0..k {
                    s = T::fused(a(i, p), b(p, j), s);
                }
                c[j * m + i] = s;
            }
        }
        c
    }

    trait Fused: Real {
        fn fused(a: Self, b: Self, c: Self) -> Self;
    }
    impl Fused for f64 {
        fn fused(a: f64, b: f64, c: f64) -> f64 {
            a.mul_add(b, c)
        }
    }
    impl Fused for f32 {
        fn fused(a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
    }

    /// Every size class (vector multiples and not, each row-block split, each column-tile
    /// remainder), `b` in three layouts, `c` with a padded column stride whose padding must stay
    /// untouched, both forms: bit-identical to the plain FMA chains.
    fn check_sizes<T: Fused>() {
        let sizes = [1usize, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 47, 48, 63, 64];
        for (si, &m) in sizes.iter().enumerate() {
            for &n in &[1usize, 2, 3, 4, 5, 7, 8, 9, 13, 31, 64] {
                for &k in &[1usize, 2, 5, 16, 33, 64] {
                    let seed = (si * 1000 + n * 10 + k) as u64;
                    let av: Vec<T> = values(m * k, seed).into_iter().map(T::from_f64).collect();
                    let bv: Vec<T> = values(k * n, seed + 1).into_iter().map(T::from_f64).collect();
                    // a column-major with a padded column stride
                    let lda = m + 3;
                    let mut a = vec![T::ZERO; lda * k];
                    for p in 0..k {
                        a[p * lda..][..m].copy_from_slice(&av[p * m..][..m]);
                    }
                    let want = reference::<T>(m, n, k, &|i, p| av[p * m + i], &|p, j| bv[j * k + p]);
                    // b: column-major, row-major, and every other entry of a wider row-major buffer
                    let b_col = bv.clone();
                    let b_row: Vec<T> = (0..k * n).map(|x| bv[(x % n) * k + x / n]).collect();
                    let b_str: Vec<T> = (0..2 * k * n).map(|x| if x % 2 == 0 { b_row[x / 2] } else { T::from_f64(f64::NAN) }).collect();
                    let b_layouts = [(&b_col, 1isize, k as isize), (&b_row, n as isize, 1), (&b_str, 2 * n as isize, 2)];
                    for (bl, &(bdata, rs, cs)) in b_layouts.iter().enumerate() {
                        let ldc = m + 5;
                        let sentinel = T::from_f64(7.0);
                        let mut c = vec![sentinel; ldc * n];
                        let cm = Mat { ptr: c.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: ldc as isize };
                        let am = Mat { ptr: a.as_ptr() as *mut T, rows: m, cols: k, rs: 1, cs: lda as isize };
                        let bm = Mat { ptr: bdata.as_ptr() as *mut T, rows: k, cols: n, rs, cs };
                        // SAFETY: the views address the buffers above; c is separate.
                        unsafe { gemm_small(cm, am, bm, false) };
                        for j in 0..n {
                            for i in 0..ldc {
                                let got = c[j * ldc + i];
                                if i < m {
                                    assert!(got == want[j * m + i], "{m}x{n}x{k} b layout {bl} ({i}, {j}): {got:?} vs {:?}", want[j * m + i]);
                                } else {
                                    assert!(got == sentinel, "{m}x{n}x{k}: padding written at ({i}, {j})");
                                }
                            }
                        }
                        // SAFETY: as above.
                        unsafe { gemm_small(cm, am, bm, true) };
                        for j in 0..n {
                            for i in 0..m {
                                assert!(c[j * ldc + i] == want[j * m + i] + want[j * m + i], "{m}x{n}x{k} accumulate");
                            }
                            assert!(c[j * ldc + m] == sentinel);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn matches_plain_fma_chains_at_every_size_layout_and_form_f64() {
        if crate::cpu::has_avx512() {
            check_sizes::<f64>();
        }
    }

    #[test]
    fn matches_plain_fma_chains_at_every_size_layout_and_form_f32() {
        if crate::cpu::has_avx512() {
            check_sizes::<f32>();
        }
    }

    /// The register transposition against the plain one, at every size class and a padded row
    /// stride (f64 in 8x8 zmm blocks, f32 in 8x8 ymm blocks, edges element by element).
    #[test]
    fn pack_rows_transposes_exactly() {
        if !crate::cpu::has_avx512() {
            return;
        }
        fn check<T: Real + core::fmt::Debug>() {
            for &m in &[1usize, 3, 7, 8, 9, 16, 17, 31, 33, 64] {
                for &k in &[1usize, 2, 8, 9, 15, 24, 63, 64] {
                    let lda = k + 3;
                    let src: Vec<T> = (0..m * lda).map(|x| T::from_f64(x as f64)).collect();
                    let a = Mat { ptr: src.as_ptr() as *mut T, rows: m, cols: k, rs: lda as isize, cs: 1 };
                    let mut scratch = Vec::new();
                    // SAFETY: `a` addresses `src`.
                    let p = unsafe { pack_rows(a, &mut scratch) }.unwrap();
                    assert_eq!((p.rows, p.cols, p.rs, p.cs), (m, k, 1, m as isize));
                    for i in 0..m {
                        for q in 0..k {
                            assert!(scratch[q * m + i] == src[i * lda + q], "{m}x{k} ({i}, {q})");
                        }
                    }
                }
            }
            // not row-major: left to the general packing
            let v = vec![T::ZERO; 16];
            let a = Mat { ptr: v.as_ptr() as *mut T, rows: 4, cols: 2, rs: 1, cs: 4 };
            // SAFETY: `a` addresses `v`.
            assert!(unsafe { pack_rows(a, &mut Vec::new()) }.is_none());
        }
        check::<f64>();
        check::<f32>();
    }

    #[test]
    fn nan_and_inf_propagate_as_in_ieee_arithmetic() {
        if !crate::cpu::has_avx512() {
            return;
        }
        // (inf * 0 = nan; nan anywhere in a row of a or column of b gives nan; inf alone gives inf)
        let (m, n, k) = (9, 5, 3);
        let mut a = vec![1.0f64; m * k];
        let mut b = vec![1.0f64; k * n];
        a[0] = f64::INFINITY; // a(0, 0)
        b[k] = 0.0; // b(0, 1): inf * 0 in c(0, 1)
        a[2 * m + 4] = f64::NAN; // a(4, 2)
        a[1] = f64::NEG_INFINITY; // a(1, 0)
        let mut c = vec![0.0f64; m * n];
        let cm = Mat { ptr: c.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: m as isize };
        let am = Mat { ptr: a.as_mut_ptr(), rows: m, cols: k, rs: 1, cs: m as isize };
        let bm = Mat { ptr: b.as_mut_ptr(), rows: k, cols: n, rs: 1, cs: k as isize };
        // SAFETY: the views address the buffers above.
        unsafe { gemm_small(cm, am, bm, false) };
        for j in 0..n {
            assert!(c[j * m + 4].is_nan());
            assert_eq!(c[j * m + 2], if j == 1 { 2.0 } else { 3.0 }); // b(0, 1) = 0
            if j == 1 {
                assert!(c[j * m].is_nan() && c[j * m + 1].is_nan());
            } else {
                assert_eq!(c[j * m], f64::INFINITY);
                assert_eq!(c[j * m + 1], f64::NEG_INFINITY);
            }
        }
    }

    /// Stacks of C-order products through `matmul`, one and two threads, in us per product: how
    /// the time grows once the stack leaves the caches (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn batched_timing() {
        for &(n, nb) in &[(32usize, 1usize), (32, 100), (32, 1000), (32, 10000), (64, 100), (64, 1000)] {
            let a = values(nb * n * n, 1);
            let b = values(nb * n * n, 2);
            let mut c = vec![0.0; nb * n * n];
            let reps = (2_000_000 / (nb * n * n)).max(2);
            crate::threads::set_num_threads(2);
            let pool = crate::threads::current();
            let mut best = [f64::MAX; 2];
            for round in 0..14 {
                let par = if round % 2 == 0 { Par::SEQ } else { pool.par() };
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    let av = ArrayRef::from_slice(&a, &[nb, n, n]);
                    let bv = ArrayRef::from_slice(&b, &[nb, n, n]);
                    crate::matmul::matmul(&av, &bv, &mut ArrayMut::from_slice(&mut c, &[nb, n, n]), par).unwrap();
                }
                best[round % 2] = best[round % 2].min(t.elapsed().as_secs_f64() / (reps * nb) as f64 * 1e6);
            }
            println!("f64 {nb}x{n}x{n}: {:.3} us per product on one thread, {:.3} on two", best[0], best[1]);
        }
    }

    /// Through the public entry point on C-order data, as the Python binding calls it, against
    /// the kernel called directly and faer's GEMM, in us per product (one thread, operands in
    /// cache; run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn small_vs_faer_timing() {
        fn time(reps: usize, f: &mut dyn FnMut()) -> f64 {
            let mut best = f64::MAX;
            for _ in 0..7 {
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    f();
                }
                best = best.min(t.elapsed().as_secs_f64() / reps as f64 * 1e6);
            }
            best
        }
        for n in [8usize, 12, 16, 24, 32, 48, 64] {
            let reps = (20_000_000 / (n * n * n)).max(10);
            let a = values(n * n, 1);
            let b = values(n * n, 2);
            let mut c = vec![0.0; n * n];
            let entry = time(reps, &mut || {
                let av = ArrayRef::from_slice(&a, &[n, n]);
                let bv = ArrayRef::from_slice(&b, &[n, n]);
                crate::matmul::matmul(&av, &bv, &mut ArrayMut::from_slice(&mut c, &[n, n]), Par::SEQ).unwrap();
            });
            let direct = if crate::cpu::has_avx512() {
                time(reps, &mut || {
                    let cm = Mat { ptr: c.as_mut_ptr(), rows: n, cols: n, rs: 1, cs: n as isize };
                    let am = Mat { ptr: a.as_ptr() as *mut f64, rows: n, cols: n, rs: 1, cs: n as isize };
                    let bm = Mat { ptr: b.as_ptr() as *mut f64, rows: n, cols: n, rs: 1, cs: n as isize };
                    // SAFETY: the views address the buffers above.
                    unsafe { gemm_small(cm, am, bm, false) }
                })
            } else {
                f64::NAN
            };
            let fa = faer::MatRef::from_column_major_slice(&a, n, n);
            let fb = faer::MatRef::from_column_major_slice(&b, n, n);
            let faer_t = time(reps, &mut || {
                let fc = faer::MatMut::from_column_major_slice_mut(&mut c, n, n);
                faer::linalg::matmul::matmul(fc, faer::Accum::Replace, fa, fb, 1.0, faer::Par::Seq)
            });
            let gf = |t: f64| 2.0 * (n * n * n) as f64 / t / 1e3;
            println!(
                "f64 n {n}: matmul C-order {entry:.3} us ({:.1} GF/s), kernel {direct:.3} us ({:.1} GF/s), faer {faer_t:.3} us",
                gf(entry),
                gf(direct)
            );
        }
    }
}
