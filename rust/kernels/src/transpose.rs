//! Transposing copies by register transposes: `dst[p * dcs + i] = src[i * rs + p]` for an
//! `m x k` block of contiguous rows, written as columns.
//!
//! Element by element, a transposing copy makes one strided access per element. In AVX2
//! registers a 4x4 (f64) or 8x8 (f32) tile is read as rows and written as columns, whole vectors
//! on both sides. Used where the packed product packs a row-major `A` (all of a 1024² f64 `A`,
//! one thread, out of cache: 1.75 ms element by element, 0.98 ms by tiles: `packing_timing`)
//! and where `gemm::copy_tiled` copies a row-major matrix into a column-major one (TSQR's row
//! blocks of a row-major tall matrix: there memory bounds both, 0.55-0.72 ms a 2500x256 f64
//! block element by element, 0.49-0.67 so: `copy_timing`).

/// `dst[p * dcs + i] = src[i * rs + p]` for `i < m`, `p < k`: bit copies, by register
/// transposes for 4- and 8-byte elements on AVX2 CPUs, else one element at a time.
///
/// # Safety
/// `src` addresses `m` rows of `k` readable elements `rs` apart; `dst` addresses `k` columns of
/// `m` writable elements `dcs` apart, overlapping nothing of `src`.
pub(crate) unsafe fn transpose<T: Copy>(src: *const T, rs: isize, m: usize, k: usize, dst: *mut T, dcs: isize) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        // SAFETY (both): the CPU has AVX2 (checked just above); the elements are moved as bits.
        if core::mem::size_of::<T>() == 8 {
            return avx2::transpose_8(src as *const f64, rs, m, k, dst as *mut f64, dcs);
        }
        if core::mem::size_of::<T>() == 4 {
            return avx2::transpose_4(src as *const f32, rs, m, k, dst as *mut f32, dcs);
        }
    }
    scalar(src, rs, 0, m, 0, k, dst, dcs);
}

/// The block `i0..m` x `p0..k`, one element at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn scalar<T: Copy>(src: *const T, rs: isize, i0: usize, m: usize, p0: usize, k: usize, dst: *mut T, dcs: isize) {
    for i in i0..m {
        let row = src.offset(i as isize * rs);
        for p in p0..k {
            *dst.offset(p as isize * dcs + i as isize) = *row.add(p);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::*;

    /// 4x4 tiles of 8-byte elements, two above each other where there are eight rows (each
    /// column's store then fills a 64-byte line: all of a 1024² f64 `A` packed in 1.2-1.35x the
    /// column-major time with 4-row stripes, ~1.03x so); the rows past the last whole tile and
    /// the columns past the last whole tile one element at a time.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn transpose_8(src: *const f64, rs: isize, m: usize, k: usize, dst: *mut f64, dcs: isize) {
        let (m4, k4) = (m - m % 4, k - k % 4);
        let tile = |i0: usize, p0: usize| {
            let row = |x: usize| src.offset((i0 + x) as isize * rs).add(p0);
            let (r0, r1) = (_mm256_loadu_pd(row(0)), _mm256_loadu_pd(row(1)));
            let (r2, r3) = (_mm256_loadu_pd(row(2)), _mm256_loadu_pd(row(3)));
            // [r0_0 r1_0 r0_2 r1_2], [r0_1 r1_1 r0_3 r1_3], the same for rows 2 and 3
            let (t0, t1) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
            let (t2, t3) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
            let at = |c: usize| dst.offset((p0 + c) as isize * dcs + i0 as isize);
            _mm256_storeu_pd(at(0), _mm256_permute2f128_pd::<0x20>(t0, t2));
            _mm256_storeu_pd(at(1), _mm256_permute2f128_pd::<0x20>(t1, t3));
            _mm256_storeu_pd(at(2), _mm256_permute2f128_pd::<0x31>(t0, t2));
            _mm256_storeu_pd(at(3), _mm256_permute2f128_pd::<0x31>(t1, t3));
        };
        let m8 = m - m % 8;
        for i0 in (0..m8).step_by(8) {
            for p0 in (0..k4).step_by(4) {
                tile(i0, p0);
                tile(i0 + 4, p0);
            }
        }
        if m4 > m8 {
            for p0 in (0..k4).step_by(4) {
                tile(m8, p0);
            }
        }
        super::scalar(src, rs, 0, m4, k4, k, dst, dcs);
        super::scalar(src, rs, m4, m, 0, k, dst, dcs);
    }

    /// 8x8 tiles of 4-byte elements (the classic `_MM_TRANSPOSE8_PS`), the edges as above.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn transpose_4(src: *const f32, rs: isize, m: usize, k: usize, dst: *mut f32, dcs: isize) {
        let (m8, k8) = (m - m % 8, k - k % 8);
        for i0 in (0..m8).step_by(8) {
            let row = |x: usize| src.offset((i0 + x) as isize * rs);
            for p0 in (0..k8).step_by(8) {
                let ld = |x: usize| _mm256_loadu_ps(row(x).add(p0));
                let (r0, r1, r2, r3, r4, r5, r6, r7) = (ld(0), ld(1), ld(2), ld(3), ld(4), ld(5), ld(6), ld(7));
                let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
                let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
                let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
                let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
                // rows 0-3 of columns c | c + 4 in each 128-bit half
                let (s0, s1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xEE>(t0, t2));
                let (s2, s3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xEE>(t1, t3));
                let (s4, s5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xEE>(t4, t6));
                let (s6, s7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xEE>(t5, t7));
                let at = |c: usize| dst.offset((p0 + c) as isize * dcs + i0 as isize);
                _mm256_storeu_ps(at(0), _mm256_permute2f128_ps::<0x20>(s0, s4));
                _mm256_storeu_ps(at(1), _mm256_permute2f128_ps::<0x20>(s1, s5));
                _mm256_storeu_ps(at(2), _mm256_permute2f128_ps::<0x20>(s2, s6));
                _mm256_storeu_ps(at(3), _mm256_permute2f128_ps::<0x20>(s3, s7));
                _mm256_storeu_ps(at(4), _mm256_permute2f128_ps::<0x31>(s0, s4));
                _mm256_storeu_ps(at(5), _mm256_permute2f128_ps::<0x31>(s1, s5));
                _mm256_storeu_ps(at(6), _mm256_permute2f128_ps::<0x31>(s2, s6));
                _mm256_storeu_ps(at(7), _mm256_permute2f128_ps::<0x31>(s3, s7));
            }
        }
        super::scalar(src, rs, 0, m8, k8, k, dst, dcs);
        super::scalar(src, rs, m8, m, 0, k, dst, dcs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size around the tiles, both element sizes, padded strides: the same as element by
    /// element, and nothing outside the block written.
    #[test]
    fn transpose_matches_elementwise() {
        fn check<T: Copy + PartialEq + core::fmt::Debug>(make: impl Fn(usize) -> T, sentinel: T) {
            for m in [0usize, 1, 3, 4, 5, 8, 9, 17] {
                for k in [0usize, 1, 4, 7, 8, 13, 16] {
                    let (rs, dcs) = (k + 3, m + 2);
                    let src: Vec<T> = (0..m.max(1) * rs).map(&make).collect();
                    let mut dst = vec![sentinel; k.max(1) * dcs];
                    unsafe { transpose(src.as_ptr(), rs as isize, m, k, dst.as_mut_ptr(), dcs as isize) };
                    for p in 0..k.max(1) {
                        for i in 0..dcs {
                            let want = if i < m && p < k { src[i * rs + p] } else { sentinel };
                            assert_eq!(dst[p * dcs + i], want, "{m}x{k}: ({i}, {p})");
                        }
                    }
                }
            }
        }
        check::<f64>(|x| x as f64 + 0.5, -1.0);
        check::<f32>(|x| x as f32 + 0.25, -1.0);
        check::<u16>(|x| x as u16, u16::MAX);
    }

    /// A 2500x256 f64 row block of a row-major 10000x256 matrix (TSQR's block) into a
    /// column-major copy, sources rotated out of cache: 8x8 element tiles (`gemm::copy_tiled`'s
    /// general path) against register transposes (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn copy_timing() {
        let (m, k) = (2500usize, 256usize);
        let sources: Vec<Vec<f64>> = (0..8).map(|s| (0..4 * m * k).map(|x| (x + s) as f64).collect()).collect();
        let mut dst = vec![0.0f64; m * k];
        let (mut tiles, mut regs) = (Vec::new(), Vec::new());
        for round in 0..40 {
            let src = sources[round % 8].as_ptr();
            let t = std::time::Instant::now();
            for i0 in (0..m).step_by(8) {
                for p0 in (0..k).step_by(8) {
                    unsafe { scalar(src, k as isize, i0, (i0 + 8).min(m), p0, (p0 + 8).min(k), dst.as_mut_ptr(), m as isize) };
                }
            }
            tiles.push(t.elapsed().as_secs_f64() * 1e3);
            let src = sources[(round + 4) % 8].as_ptr();
            let t = std::time::Instant::now();
            unsafe { transpose(src, k as isize, m, k, dst.as_mut_ptr(), m as isize) };
            regs.push(t.elapsed().as_secs_f64() * 1e3);
        }
        tiles.sort_by(f64::total_cmp);
        regs.sort_by(f64::total_cmp);
        println!("2500x256 f64 block: element tiles {:.3} ms, register transposes {:.3} ms (medians)", tiles[20], regs[20]);
    }
}
