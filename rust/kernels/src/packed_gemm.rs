//! A packed matrix product for large and medium operands on AVX2 + FMA CPUs (`C = A B` or `C += A B`, with
//! `C` column-major), the way BLIS and OpenBLAS compute it, with a register tile for AVX2 and one
//! for AVX-512 ([`Kernel`]; the AVX-512 tile runs wherever the CPU has it).
//!
//! Why our own: on the AMD Zen 3 this project now runs on (AVX2, no AVX-512), faer's sequential
//! product reached 31-39 GFLOP/s in f64 on one core where OpenBLAS reached ~40 (the FMA peak is
//! ~50), and a 2048³ product through `matmul` took 1.2x NumPy's time. This kernel, written in the
//! same session, ran 1024³ and 2048³ products at 0.83-0.93x faer's time in f64 and 0.70-0.89x in
//! f32 (one core, interleaved, `timing` below); its register tile alone runs at up to 48 GFLOP/s.
//!
//! It also takes medium products on one thread (at least 128 rows of `C`, or 64 if `A`'s columns
//! are far apart, [`worth_packing_one`]):
//! the pieces a large product, a batch, a contraction or a dense layer is cut into. There faer
//! packs nothing when the operands are contiguous, and so reads them straight from wherever
//! they are: in L2 it is at most ~10% faster than this kernel (f32 128³: 1.05-1.10x), but with
//! operands in L3, as in any pipeline that does not multiply the same arrays over and over, it
//! stalls where this kernel's packing streams them with prefetches (512x32x512 with `A` rotated
//! through 16 copies: 0.76-0.83x faer's time in f64 and f32, `rotated_timing`). Measured through
//! the Python calls, interleaved (session 16): a 32x512 -> 512 linear layer 0.78x its time
//! before, a batch of 1000 products of 128² f64 0.89x, 256x1024 -> 4096 with gelu 0.87x,
//! attention scores 0.95x, the MLP at batch 256 0.96x. Below 128 rows faer stays (see
//! [`ONE_MIN_ROWS`]); across threads only large products come here ([`worth_packing`]: the
//! shared packing of A costs a second dispatch to the threads).
//!
//! The loops are BLIS's: for each block of [`Tile::NC`] columns of `B` and [`Tile::KC`] of depth,
//! `B`'s block is packed into panels of `NR` columns (row by row: `NR` values per step of the
//! depth); for each block of [`Tile::MC`] rows of `A` in that depth, `A`'s block is packed into
//! panels of `MR` rows (`MR` values per step, 64-byte aligned); then the register tile, an
//! `MR x NR` block of `C` held in vector registers for the whole depth (twelve with AVX2, 24 with
//! AVX-512), runs over every pair of panels: two vector loads of `A` and `NR` broadcasts of `B`
//! feed `2 NR` fused multiply-adds per step. `B`'s panel (12 KiB) stays in L1 while `A`'s block (192 KiB) streams
//! from L2. A panel past `A`'s last row is zero-padded and its tile goes through a buffer; the
//! last panel of `B`'s columns is zero-padded too, but its tile computes only the columns it has.
//!
//! Packing reads any strides, so no layout needs a copy beforehand. Each entry of `C` is the
//! same chain of operations whatever block or thread computes it (depth blocks always start at
//! multiples of `KC`), so results do not depend on the number of threads.

use crate::gemm::Mat;
use crate::scalar::Real;
use crate::threads::Par;

/// Products split across threads come here when every dimension of a thread's share reaches
/// this (see the module documentation).
const PACKED_MIN: usize = 256;

/// Whether an `m x k` by `k x n` product split across threads should run here ([`gemm_parallel`]):
/// large enough, and the CPU has AVX2 and FMA.
pub(crate) fn worth_packing(m: usize, n: usize, k: usize) -> bool {
    m >= PACKED_MIN && n >= PACKED_MIN && k >= PACKED_MIN && crate::cpu::has_avx2_fma()
}

/// On one thread, products of at least this many rows of `C` (column-major) and at least
/// [`ONE_MIN_COLS`] columns and depth come here (and from [`FAR_MIN_ROWS`] rows some others).
/// Below 128 rows, packing `B` (O(kn) scalar copies against O(mnk) arithmetic) cost more than
/// it saved: 64x256x64 ran 1.03-1.14x faer's time, 16x512x512 1.2-1.5x (`rotated_timing`,
/// session 16).
const ONE_MIN_ROWS: usize = 128;

/// See [`ONE_MIN_ROWS`].
const ONE_MIN_COLS: usize = 16;

/// From this many rows of `C`, a product on one thread comes here also below [`ONE_MIN_ROWS`] if
/// `A`'s columns (or rows) lie at least [`FAR_STRIDE_BYTES`] apart. faer then reads each short
/// column of `A` from another page, where the hardware prefetcher does not follow, and stalls;
/// this kernel's packing prefetches them. A contraction that multiplies slices of a large
/// tensor does this: `einsum("ijk,kjl->il")` on 64x128x256 and 256x128x64 f64, a sum of
/// 64x256x64 products with `A`'s columns 64 KiB apart, ran in 0.50x its time before (10.6 ms
/// against 5.2), 0.80-0.88x in interleaved runs of the whole call, with everything else equal
/// within noise (session 16).
const FAR_MIN_ROWS: usize = 64;

/// See [`FAR_MIN_ROWS`]: one 4 KiB page.
const FAR_STRIDE_BYTES: usize = 4096;

/// Whether `c = a @ b` (`c` column-major) on one thread should run here ([`gemm`]).
///
/// With AVX-512, not for the far-strided `A` of [`FAR_MIN_ROWS`]: on the AVX-512 Xeon of
/// session 20 (2 MiB of L2 a core, prefetchers that follow such an `A`), faer's AVX-512 product
/// ran 64x256x64 with `A`'s columns 64 KiB apart in 0.72-0.86x this kernel's time (one core,
/// `rotated_timing`, f32 / f64), and `einsum("ijk,kjl->il")` / `tensordot` on 64x128x256 took
/// 0.86x / 0.76x the time through it (interleaved, whole calls). Medium products (from
/// [`ONE_MIN_ROWS`] rows) stay here: faer was faster on one core alone (128³ f64 1.15x) but not
/// in a batch on both cores, where operands come from memory (1000 products of 128² f64 took
/// 1.05-1.07x the time through faer).
pub(crate) fn worth_packing_one<T>(c: Mat<T>, a: Mat<T>) -> bool {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    let far = !crate::cpu::has_avx512() && a.rs.unsigned_abs().max(a.cs.unsigned_abs()) * core::mem::size_of::<T>() >= FAR_STRIDE_BYTES;
    (m >= ONE_MIN_ROWS || far && m >= FAR_MIN_ROWS) && n >= ONE_MIN_COLS && k >= ONE_MIN_COLS && crate::cpu::has_avx2_fma()
}

/// A register tile and the blocking around it: one element type on one instruction set. Every
/// tile is two vectors of rows by `NR` columns of `C`, held in registers for the whole depth.
trait Kernel {
    type T: Real;
    /// Rows of the register tile (two vectors).
    const MR: usize;
    /// Columns of the register tile (at most [`MAX_NR`]).
    const NR: usize;
    /// Rows of `A` packed at once (a block of `MC x KC` stays in L2 while the tiles use it).
    const MC: usize;
    /// Depth of a packed block.
    const KC: usize = 256;
    /// Columns of `B` packed at once (a multiple of `NR`).
    const NC: usize;

    /// `c[..MR, ..N] = a_panel b_panel` (or `+=` if `accumulate`) over a depth of `kc`, for a
    /// column-major `c` with column stride `cs`.
    ///
    /// # Safety
    /// `a` holds `kc * MR` values, `b` `kc * NR`, `c` is valid for the tile; the CPU has the
    /// kernel's instruction set.
    unsafe fn tile<const N: usize>(kc: usize, a: *const Self::T, b: *const Self::T, c: *mut Self::T, cs: isize, accumulate: bool);
}

/// The widest register tile of any kernel, in columns.
const MAX_NR: usize = 12;

/// The largest register tile, in values (the edge tile's buffer).
const MAX_TILE: usize = 32 * MAX_NR;

/// AVX2 + FMA: two 256-bit vectors of rows by 6 columns (twelve accumulators, 15 of the 16
/// registers). Tuned on AMD Zen 3 (512 KiB of L2 a core).
struct Avx2<T>(core::marker::PhantomData<T>);

/// AVX-512F: two 512-bit vectors of rows by 12 columns (24 accumulators, 27 of the 32
/// registers): per step of the depth, two loads of `A` and twelve broadcasts of `B` feed 24 fused
/// multiply-adds, the same balance of loads to arithmetic as the AVX2 tile at twice the width.
/// On the Intel Xeon (Sapphire Rapids class, 2 MiB of L2 a core) of session 20, OpenBLAS's
/// AVX-512 kernels ran the 1024³ product in 0.44-0.53x the AVX2 tile's time.
struct Avx512<T>(core::marker::PhantomData<T>);

macro_rules! kernel {
    ($isa:ident, $t:ty, $module:ident, $tile:ident, $mr:expr, $nr:expr, $mc:expr) => {
        impl Kernel for $isa<$t> {
            type T = $t;
            const MR: usize = $mr;
            const NR: usize = $nr;
            const MC: usize = $mc;
            // the largest multiple of NR up to 4096 columns
            const NC: usize = 4096 / $nr * $nr;
            #[inline(always)]
            unsafe fn tile<const N: usize>(kc: usize, a: *const $t, b: *const $t, c: *mut $t, cs: isize, accumulate: bool) {
                #[cfg(target_arch = "x86_64")]
                $module::$tile::<N>(kc, a, b, c, cs, accumulate);
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("packed_gemm off x86-64 ({kc}, {a:?}, {b:?}, {c:?}, {cs}, {accumulate})");
            }
        }
    };
}

kernel!(Avx2, f64, avx2, tile_f64, 8, 6, 96);
kernel!(Avx2, f32, avx2, tile_f32, 16, 6, 192);
kernel!(Avx512, f64, avx512, tile_f64, 16, 12, 192);
kernel!(Avx512, f32, avx512, tile_f32, 32, 12, 384);

/// The block sizes `[MC, KC, NC]` of a kernel.
fn blocks_of<K: Kernel>() -> [usize; 3] {
    [K::MC, K::KC, K::NC]
}

/// Calls `$run::<K>(...)` with the kernel for `$t` (f32 or f64, told by its size) on this CPU,
/// its arguments cast from `$t` to the kernel's type (the casts only rename the pointee type).
macro_rules! dispatch {
    ($t:ty, $run:ident($($arg:expr),*)) => {
        if core::mem::size_of::<$t>() == 8 {
            if crate::cpu::has_avx512() { $run::<Avx512<f64>>($($arg),*) } else { $run::<Avx2<f64>>($($arg),*) }
        } else if crate::cpu::has_avx512() {
            $run::<Avx512<f32>>($($arg),*)
        } else {
            $run::<Avx2<f32>>($($arg),*)
        }
    };
}

/// `c = a @ b`, or `c += a @ b` if `accumulate`, for a column-major `c` (`rs == 1`) and `a`, `b`
/// of any strides. Returns false, having done nothing, if the packing buffers (`scratch`, reused
/// across calls) cannot be allocated.
///
/// # Safety
/// As `gemm::gemm`; `c.rs == 1`; the CPU has AVX2 and FMA.
pub(crate) unsafe fn gemm<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool, scratch: &mut Vec<T>) -> bool {
    let scratch = scratch as *mut Vec<T> as *mut Vec<u8>;
    dispatch!(T, gemm_with(c.cast(), a.cast(), b.cast(), accumulate, &mut *scratch.cast()))
}

/// [`gemm`] with the kernel `K`.
unsafe fn gemm_with<K: Kernel>(c: Mat<K::T>, a: Mat<K::T>, b: Mat<K::T>, accumulate: bool, scratch: &mut Vec<K::T>) -> bool {
    blocked::<K>(c, a, b, accumulate, blocks_of::<K>(), None, scratch)
}

/// [`gemm`] with the block sizes `[mc, kc, nc]` given (tests use small ones to reach every edge).
/// With `packed_a`, `a`'s blocks were packed beforehand by [`pack_all_a`] with the same blocks
/// (for all of `a`'s rows; `c` and `b` may be a block of columns of the whole product).
unsafe fn blocked<K: Kernel>(c: Mat<K::T>, a: Mat<K::T>, b: Mat<K::T>, accumulate: bool, blocks: [usize; 3], packed_a: Option<*const K::T>, scratch: &mut Vec<K::T>) -> bool {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    debug_assert!(c.rs == 1 && a.rows == m && b.rows == k && b.cols == n);
    let (mr, nr) = (K::MR, K::NR);
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 {
        if !accumulate {
            for j in 0..n {
                for i in 0..m {
                    *c.ptr.offset(i as isize + j as isize * c.cs) = <K::T>::ZERO;
                }
            }
        }
        return true;
    }
    let [mc_max, kc_max, nc_max] = blocks;
    let kc_max = kc_max.min(k).max(1);
    let mc_max = mc_max.min(m).div_ceil(mr) * mr;
    let nc_max = nc_max.min(n).div_ceil(nr) * nr;
    let a_len = if packed_a.is_some() { 0 } else { mc_max * kc_max };
    let b_len = nc_max * kc_max;
    // 64-byte alignment for A's panels (a vector load never straddles two cache lines: misaligned
    // by malloc's 16 bytes, 128³ ran at 25 GFLOP/s instead of 34)
    let align = 64 / core::mem::size_of::<K::T>();
    scratch.clear();
    if scratch.try_reserve(a_len + b_len + align).is_err() {
        return false;
    }
    let base = scratch.as_mut_ptr();
    let own_a = base.add(base.align_offset(64));
    let b_pack = own_a.add(a_len);
    let m_r = m.div_ceil(mr) * mr;
    let mut edge = [<K::T>::ZERO; MAX_TILE];
    debug_assert!(mr * nr <= edge.len());

    for jc in (0..n).step_by(nc_max) {
        let nc = nc_max.min(n - jc);
        for pc in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - pc);
            pack_b::<K>(b, pc, kc, jc, nc, b_pack);
            let add = accumulate || pc > 0;
            for ic in (0..m).step_by(mc_max) {
                let mc = mc_max.min(m - ic);
                let a_pack = match packed_a {
                    Some(all) => all.add(m_r * pc + ic * kc) as *mut K::T,
                    None => {
                        pack_a::<K>(a, ic, mc, pc, kc, own_a);
                        own_a
                    }
                };
                for jr in (0..nc).step_by(nr) {
                    let cols = nr.min(nc - jr);
                    let bp = b_pack.add(jr * kc);
                    for ir in (0..mc).step_by(mr) {
                        let rows = mr.min(mc - ir);
                        let ap = a_pack.add(ir * kc);
                        let cp = c.ptr.offset((ic + ir) as isize + (jc + jr) as isize * c.cs);
                        if rows == mr {
                            tile_cols::<K>(cols, kc, ap, bp, cp, c.cs, add);
                        } else {
                            tile_cols::<K>(cols, kc, ap, bp, edge.as_mut_ptr(), mr as isize, false);
                            for j in 0..cols {
                                for i in 0..rows {
                                    let dst = cp.offset(i as isize + j as isize * c.cs);
                                    let v = edge[j * mr + i];
                                    *dst = if add { *dst + v } else { v };
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    true
}

/// The register tile for the first `cols` (1 to `NR`) columns of a panel: the last panel of a
/// block computes only the columns it has (a 32-column product in tiles of six: 36 columns'
/// work without this).
#[inline(always)]
unsafe fn tile_cols<K: Kernel>(cols: usize, kc: usize, a: *const K::T, b: *const K::T, c: *mut K::T, cs: isize, accumulate: bool) {
    match cols {
        12 => K::tile::<12>(kc, a, b, c, cs, accumulate),
        11 => K::tile::<11>(kc, a, b, c, cs, accumulate),
        10 => K::tile::<10>(kc, a, b, c, cs, accumulate),
        9 => K::tile::<9>(kc, a, b, c, cs, accumulate),
        8 => K::tile::<8>(kc, a, b, c, cs, accumulate),
        7 => K::tile::<7>(kc, a, b, c, cs, accumulate),
        6 => K::tile::<6>(kc, a, b, c, cs, accumulate),
        5 => K::tile::<5>(kc, a, b, c, cs, accumulate),
        4 => K::tile::<4>(kc, a, b, c, cs, accumulate),
        3 => K::tile::<3>(kc, a, b, c, cs, accumulate),
        2 => K::tile::<2>(kc, a, b, c, cs, accumulate),
        _ => K::tile::<1>(kc, a, b, c, cs, accumulate),
    }
}

/// A's packed copy is shared by the threads only up to this many bytes (above, each thread packs
/// the blocks it needs, as on one thread).
const SHARED_A_MAX_BYTES: usize = 64 << 20;

/// The shared copy of `A` ([`gemm_parallel`]), kept for the next product (as OpenBLAS keeps its
/// buffers) up to [`SHARED_A_MAX_BYTES`]. Allocated afresh for every call, a copy above glibc's
/// largest mmap threshold (32 MiB: a 2048² f64 `A`) came from new pages each time, and faulting
/// them in made packing take 15-18 ms of a 250 ms product; kept, 2048³ f64 ran in 0.93-0.94x
/// the time (session 17, interleaved).
static SHARED_A_BUFFER: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());

/// `c = a @ b` on `par`'s threads: `a` packed once, its blocks shared out between the threads,
/// then each thread one block of `c`'s columns. Returns false, having done nothing, if the shared
/// copy would be too large or cannot be allocated (the caller then splits the product itself).
///
/// Why: with each thread packing all of `a` for its half of `c`, both read `a` whole from memory
/// (a 1024² f64 `a` is 8 MiB: ~1.2 ms of a thread's ~15 ms); OpenBLAS packs it once.
///
/// Results do not depend on the thread count: each entry of `c` is computed as on one thread.
///
/// # Safety
/// As [`gemm`].
pub(crate) unsafe fn gemm_parallel<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, par: Par) -> bool {
    dispatch!(T, shared_a_with(c.cast(), a.cast(), b.cast(), par))
}

/// [`gemm_parallel`] with the kernel `K`.
unsafe fn shared_a_with<K: Kernel>(c: Mat<K::T>, a: Mat<K::T>, b: Mat<K::T>, par: Par) -> bool {
    shared_a::<K>(c, a, b, blocks_of::<K>(), par)
}

/// [`gemm_parallel`] with the block sizes given.
unsafe fn shared_a<K: Kernel>(c: Mat<K::T>, a: Mat<K::T>, b: Mat<K::T>, blocks: [usize; 3], par: Par) -> bool {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    let threads = par.num_threads();
    let m_r = m.div_ceil(K::MR) * K::MR;
    let len = m_r * k;
    if threads < 2 || m == 0 || n == 0 || k == 0 || len * core::mem::size_of::<K::T>() > SHARED_A_MAX_BYTES {
        return false;
    }
    let words = (len * core::mem::size_of::<K::T>()).div_ceil(8) + 8;
    // the kept buffer if no other product holds it (try_lock: never waits, so a fork child that
    // inherited it locked allocates its own)
    let mut kept = match SHARED_A_BUFFER.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    };
    let mut own = Vec::new();
    let buffer: &mut Vec<u64> = match kept.as_deref_mut() {
        Some(buffer) => buffer,
        None => &mut own,
    };
    if buffer.capacity() < words {
        *buffer = Vec::new();
        if buffer.try_reserve_exact(words).is_err() {
            return false;
        }
    }
    let base = buffer.as_mut_ptr() as *mut K::T;
    let all = base.add(base.align_offset(64));
    pack_all_a::<K>(a, blocks, all, par);
    let all = all as *const K::T;
    // one block of c's columns per thread, whole tiles except the last (more, smaller blocks
    // claimed as threads come free gained nothing: 256 columns each, 1024² and 2048² f64 and f32
    // were 0.98-1.00x, session 17)
    let width = n.div_ceil(threads).div_ceil(K::NR) * K::NR;
    let parts = n.div_ceil(width);
    let failed = core::sync::atomic::AtomicBool::new(false);
    let all_addr = all as usize;
    par.for_each(parts, &|t| {
        let j0 = t * width;
        let w = width.min(n - j0);
        let cols = |x: Mat<K::T>| Mat { ptr: x.ptr.offset(j0 as isize * x.cs), cols: w, ..x };
        // SAFETY: each task writes its own columns of c; the shared copy of a is only read.
        let done = crate::gemm::with_kept_scratch::<K::T, _>(|scratch| unsafe { blocked::<K>(cols(c), a, cols(b), false, blocks, Some(all_addr as *const K::T), scratch) });
        if !done {
            failed.store(true, core::sync::atomic::Ordering::Relaxed);
        }
    });
    // a task that could not allocate its B buffer left its columns unwritten: do them here
    if failed.load(core::sync::atomic::Ordering::Relaxed) {
        return blocked::<K>(c, a, b, false, blocks, Some(all), &mut Vec::new());
    }
    true
}

/// Packs all of `a`, block by block as [`blocked`] reads them (depth block `pc`, row block `ic`
/// at `m_r * pc + ic * kc`), the blocks shared out over `par`'s threads.
unsafe fn pack_all_a<K: Kernel>(a: Mat<K::T>, blocks: [usize; 3], dst: *mut K::T, par: Par) {
    let (m, k) = (a.rows, a.cols);
    let m_r = m.div_ceil(K::MR) * K::MR;
    let kc_max = blocks[1].min(k).max(1);
    let mc_max = blocks[0].min(m).div_ceil(K::MR) * K::MR;
    let row_blocks = m.div_ceil(mc_max);
    let dst = dst as usize;
    par.for_each(k.div_ceil(kc_max) * row_blocks, &|i| {
        let (pc, ic) = ((i / row_blocks) * kc_max, (i % row_blocks) * mc_max);
        let (kc, mc) = (kc_max.min(k - pc), mc_max.min(m - ic));
        // SAFETY: each task writes its own block of the copy.
        unsafe { pack_a::<K>(a, ic, mc, pc, kc, (dst as *mut K::T).add(m_r * pc + ic * kc)) };
    });
}

/// Packs rows `r0..r0 + mc` and columns `p0..p0 + kc` of `a` into panels of `MR` rows: panel
/// `q` holds, for each step `p` of the depth, rows `q MR..(q + 1) MR` (zeros past `mc`).
unsafe fn pack_a<K: Kernel>(a: Mat<K::T>, r0: usize, mc: usize, p0: usize, kc: usize, dst: *mut K::T) {
    let mr = K::MR;
    if a.rs == 1 {
        // column-major: step by step along the depth, each step's `mc` contiguous values cut
        // into the panels (whole panels by constant-size copies: two vector moves each), with the
        // column four steps ahead prefetched. Panel by panel instead (`MR` values of each column
        // in turn, a 64-byte run every `cs` elements) the hardware prefetcher could not follow
        // an operand in L3: a 512x32x512 f32 product with its 1 MiB `A` rotated through 16
        // copies ran at 36 GFLOP/s, now 51-55 (in L2: 54-67 before, 51-71 now; session 16,
        // `rotated_timing`).
        let full = mc / mr;
        let src = a.ptr.offset(r0 as isize + p0 as isize * a.cs);
        for p in 0..kc {
            let col = src.offset(p as isize * a.cs);
            prefetch(col.wrapping_offset(4 * a.cs), mc);
            for q in 0..full {
                core::ptr::copy_nonoverlapping(col.add(q * mr), dst.add(q * mr * kc + p * mr), K::MR);
            }
            if full * mr < mc {
                let d = dst.add(full * mr * kc + p * mr);
                for i in 0..mr {
                    *d.add(i) = if full * mr + i < mc { *col.add(full * mr + i) } else { <K::T>::ZERO };
                }
            }
        }
        return;
    }
    for (q, ir) in (0..mc).step_by(mr).enumerate() {
        let rows = mr.min(mc - ir);
        let src = a.ptr.offset((r0 + ir) as isize * a.rs + p0 as isize * a.cs);
        let d = dst.add(q * mr * kc);
        if a.cs == 1 && rows == mr {
            // row-major, a whole panel: by register transposes (all of a 1024² f64 `A`, one
            // thread, out of cache: 1.75 ms element by element below, 0.98 ms so;
            // `packing_timing`)
            crate::transpose::transpose(src as *const K::T, a.rs, mr, kc, d, mr as isize);
            continue;
        }
        if a.cs.abs() < a.rs.abs() {
            // row-major: read each row along the depth (contiguous), write with stride mr (in L1).
            // Not all MR rows side by side as `pack_b` reads its six columns: for A that was
            // slower (row-major 1024² f32, all its blocks: 1.15 ms side by side against 0.38 one
            // row at a time; f64 0.50-0.80 against 0.46-0.55; session 15, scratch measurement)
            for i in 0..rows {
                let s = src.offset(i as isize * a.rs);
                for p in 0..kc {
                    *d.add(p * mr + i) = *s.offset(p as isize * a.cs);
                }
            }
            for p in 0..kc {
                for i in rows..mr {
                    *d.add(p * mr + i) = <K::T>::ZERO;
                }
            }
        } else {
            for p in 0..kc {
                for i in 0..mr {
                    *d.add(p * mr + i) = if i < rows { *src.offset(i as isize * a.rs + p as isize * a.cs) } else { <K::T>::ZERO };
                }
            }
        }
    }
}

/// Asks for the cache lines of `len` values from `from` on (a hint: never faults, so `from` may
/// point past the matrix).
#[inline(always)]
fn prefetch<T>(from: *const T, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = from as *const i8;
        for off in (0..len * core::mem::size_of::<T>()).step_by(64) {
            // SAFETY: prefetching is a hint; it reads nothing and faults on no address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.wrapping_add(off)) };
        }
    }
}

/// Packs rows `p0..p0 + kc` and columns `c0..c0 + nc` of `b` into panels of `NR` columns: panel
/// `q` holds, for each step `p` of the depth, columns `q NR..(q + 1) NR` (zeros past `nc`).
unsafe fn pack_b<K: Kernel>(b: Mat<K::T>, p0: usize, kc: usize, c0: usize, nc: usize, dst: *mut K::T) {
    for (q, jr) in (0..nc).step_by(K::NR).enumerate() {
        let cols = K::NR.min(nc - jr);
        let src = b.ptr.offset(p0 as isize * b.rs + (c0 + jr) as isize * b.cs);
        let d = dst.add(q * K::NR * kc);
        if b.rs.abs() < b.cs.abs() && cols == K::NR {
            // column-major: the panel's columns read side by side along the depth, each step's
            // values written together (one column at a time, written with a stride of six, took
            // 2.1 ms of a 1024³ f64 product instead of 0.9: six short runs in turn, each too
            // short for the prefetcher, where six streams at once keep it busy)
            let cols: [*const K::T; MAX_NR] = core::array::from_fn(|j| src.wrapping_offset(j as isize * b.cs) as *const K::T);
            for p in 0..kc {
                for (j, col) in cols[..K::NR].iter().enumerate() {
                    *d.add(p * K::NR + j) = *col.offset(p as isize * b.rs);
                }
            }
        } else if b.rs.abs() < b.cs.abs() {
            for j in 0..cols {
                let s = src.offset(j as isize * b.cs);
                for p in 0..kc {
                    *d.add(p * K::NR + j) = *s.offset(p as isize * b.rs);
                }
            }
            for p in 0..kc {
                for j in cols..K::NR {
                    *d.add(p * K::NR + j) = <K::T>::ZERO;
                }
            }
        } else if b.cs == 1 && cols == K::NR {
            // row-major, a whole panel: NR contiguous values a step (was one element at a time
            // with a test each: 0.73 ms against 0.35 for column-major, a thread's 1024x512 f64
            // half of a 1024² product out of cache, `packing_timing`)
            for p in 0..kc {
                core::ptr::copy_nonoverlapping(src.offset(p as isize * b.rs) as *const K::T, d.add(p * K::NR), K::NR);
            }
        } else {
            for p in 0..kc {
                for j in 0..K::NR {
                    *d.add(p * K::NR + j) = if j < cols { *src.offset(p as isize * b.rs + j as isize * b.cs) } else { <K::T>::ZERO };
                }
            }
        }
    }
}

/// One register tile per type and instruction set: `$lanes` values per vector, two vectors of
/// rows by `N` (up to `$nr`) columns. The loops over the columns have constant bounds, so the
/// accumulators stay in registers (checked in the disassembly: the depth loop is 2 loads, N
/// broadcasts, 2N FMAs).
#[cfg(target_arch = "x86_64")]
macro_rules! tile {
    ($name:ident, $features:literal, $t:ty, $lanes:expr, $nr:expr, $zero:ident, $load:ident, $store:ident, $set1:ident, $fma:ident, $add:ident) => {
        /// See [`super::Kernel::tile`].
        #[target_feature(enable = $features)]
        #[inline(never)]
        pub(super) unsafe fn $name<const N: usize>(kc: usize, mut a: *const $t, mut b: *const $t, c: *mut $t, cs: isize, accumulate: bool) {
            const L: usize = $lanes;
            let mut acc = [[$zero(); 2]; N];
            for j in 0..N {
                _mm_prefetch::<_MM_HINT_T0>(c.offset(j as isize * cs) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(c.offset(j as isize * cs + 2 * L as isize - 1) as *const i8);
            }
            for _ in 0..kc {
                let a0 = $load(a);
                let a1 = $load(a.add(L));
                // the panel's steps eight ahead (A streams from L2), every cache line of them
                let ahead = a.add(16 * L) as *const i8;
                for line in (0..2 * L * core::mem::size_of::<$t>()).step_by(64) {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.add(line));
                }
                for j in 0..N {
                    let bj = $set1(*b.add(j));
                    acc[j][0] = $fma(a0, bj, acc[j][0]);
                    acc[j][1] = $fma(a1, bj, acc[j][1]);
                }
                a = a.add(2 * L);
                b = b.add($nr);
            }
            for (j, [v0, v1]) in acc.into_iter().enumerate() {
                let cp = c.offset(j as isize * cs);
                let (v0, v1) = if accumulate { ($add($load(cp), v0), $add($load(cp.add(L)), v1)) } else { (v0, v1) };
                $store(cp, v0);
                $store(cp.add(L), v1);
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::*;
    tile!(tile_f64, "avx2,fma", f64, 4, 6, _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_add_pd);
    tile!(tile_f32, "avx2,fma", f32, 8, 6, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use core::arch::x86_64::*;
    tile!(tile_f64, "avx512f,fma", f64, 8, 12, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd);
    tile!(tile_f32, "avx512f,fma", f32, 16, 12, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A strided view of `data` (`rs`, `cs` may be negative; `data` covers every element).
    fn view<T>(data: &mut [T], offset: usize, rows: usize, cols: usize, rs: isize, cs: isize) -> Mat<T> {
        Mat { ptr: unsafe { data.as_mut_ptr().add(offset) }, rows, cols, rs, cs }
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// The layouts an operand is read in: column-major, row-major, both strided with a gap, and
    /// reversed rows and columns. Returns the view and the buffer it reads.
    fn layout<T: Real>(rows: usize, cols: usize, kind: usize, seed: u64) -> (Vec<T>, Mat<T>, Vec<f64>) {
        let vals = values(rows * cols, seed);
        let at = |i: usize, j: usize| vals[i + j * rows];
        let (r, c) = (rows as isize, cols as isize);
        let (len, offset, rs, cs) = match kind {
            0 => (rows * cols, 0, 1, r),
            1 => (rows * cols, 0, c, 1),
            2 => ((3 * rows + 1) * cols, 0, 3, 3 * r + 1),
            _ => (rows * cols, rows * cols - 1, -c, -1),
        };
        let mut data = vec![T::ZERO; len.max(1)];
        for j in 0..cols {
            for i in 0..rows {
                data[(offset as isize + i as isize * rs + j as isize * cs) as usize] = T::from_f64(at(i, j));
            }
        }
        let m = view(&mut data, offset, rows, cols, rs, cs);
        (data, m, vals)
    }

    fn check<K: Kernel>(m: usize, n: usize, k: usize, kinds: [usize; 2], accumulate: bool, blocks: [usize; 3]) {
        check_with::<K::T>(m, n, k, kinds, accumulate, &|c, a, b, acc| unsafe { blocked::<K>(c, a, b, acc, blocks, None, &mut Vec::new()) });
    }

    /// `product(c, a, b, accumulate)` against the reference on operands of the given layouts.
    #[allow(clippy::type_complexity)]
    fn check_with<T: Real>(m: usize, n: usize, k: usize, kinds: [usize; 2], accumulate: bool, product: &dyn Fn(Mat<T>, Mat<T>, Mat<T>, bool) -> bool) {
        let (_ad, a, av) = layout::<T>(m, k, kinds[0], 1 + m as u64);
        let (_bd, b, bv) = layout::<T>(k, n, kinds[1], 2 + n as u64);
        // C: column stride m + 2, with sentinels in the gap that must survive
        let ld = m + 2;
        let init = values(ld * n, 3);
        let mut cd: Vec<T> = init.iter().map(|&x| T::from_f64(x)).collect();
        let c = view(&mut cd, 0, m, n, 1, ld as isize);
        assert!(product(c, a, b, accumulate));
        let tol = 8.0 * (k as f64 + 2.0) * T::EPSILON.to_f64();
        for j in 0..n {
            for i in 0..ld {
                let got = cd[i + j * ld].to_f64();
                if i >= m {
                    assert_eq!(got, T::from_f64(init[i + j * ld]).to_f64(), "gap ({i}, {j}) written");
                    continue;
                }
                let mut want = if accumulate { T::from_f64(init[i + j * ld]).to_f64() } else { 0.0 };
                let mut scale = want.abs();
                for p in 0..k {
                    let t = T::from_f64(av[i + p * m]).to_f64() * T::from_f64(bv[p + j * k]).to_f64();
                    want += t;
                    scale += t.abs();
                }
                assert!((got - want).abs() <= tol * scale.max(1e-30), "{} {m}x{n}x{k} {kinds:?} acc {accumulate}: ({i}, {j}) {got} vs {want}", T::NAME);
            }
        }
    }

    /// Runs `$test::<K>()` for every kernel this CPU can run (whatever `FERROLINALG_NO_AVX512`
    /// says: both kernels are tested on an AVX-512 machine).
    macro_rules! each_kernel {
        ($test:ident) => {
            if crate::cpu::has_avx2_fma() {
                $test::<Avx2<f64>>();
                $test::<Avx2<f32>>();
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
                $test::<Avx512<f64>>();
                $test::<Avx512<f32>>();
            }
        };
    }

    fn equals_reference<K: Kernel>() {
        // small blocks so that every loop runs several times and ends on a partial block
        let small = [2 * K::MR, 20, 14];
        for &(m, n, k) in &[(1, 1, 1), (8, 6, 3), (17, 13, 45), (40, 29, 61), (70, 25, 30), (33, 7, 20), (5, 31, 1), (16, 10, 9), (9, 4, 5)] {
            for ka in 0..4 {
                for kb in 0..4 {
                    for accumulate in [false, true] {
                        check::<K>(m, n, k, [ka, kb], accumulate, small);
                    }
                }
            }
        }
        // the real block sizes, past one block in each direction
        for kinds in [[0, 0], [1, 1], [0, 1], [1, 0]] {
            if core::mem::size_of::<K::T>() == 8 {
                check::<K>(K::MC + 8, K::NC + 10, K::KC + 44, kinds, false, blocks_of::<K>());
            } else {
                check::<K>(2 * K::MC + 6, 70, 2 * K::KC + 8, kinds, true, blocks_of::<K>());
            }
        }
    }

    #[test]
    fn equals_reference_on_every_edge_and_layout() {
        each_kernel!(equals_reference);
    }

    fn same_bits_on_two_threads<K: Kernel>() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let bits = |v: &[K::T]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<_>>();
        for &(m, n, k) in &[(50, 37, 61), (24, 13, 20), (7, 90, 33)] {
            for kinds in [[0, 0], [1, 3], [2, 1]] {
                let (_ad, a, _) = layout::<K::T>(m, k, kinds[0], 5);
                let (_bd, b, _) = layout::<K::T>(k, n, kinds[1], 6);
                let mut one = vec![<K::T>::from_f64(f64::NAN); m * n];
                let mut two = one.clone();
                let blocks = [K::MR, 20, 14];
                unsafe {
                    assert!(blocked::<K>(view(&mut one, 0, m, n, 1, m as isize), a, b, false, blocks, None, &mut Vec::new()));
                    assert!(shared_a::<K>(view(&mut two, 0, m, n, 1, m as isize), a, b, blocks, pool.par()));
                }
                assert_eq!(bits(&one), bits(&two), "{} {m}x{n}x{k} {kinds:?}", K::T::NAME);
            }
        }
        // and against the reference with the real blocks
        for kinds in [[0, 1], [1, 0]] {
            check_with::<K::T>(300, 280, 270, kinds, false, &|c, a, b, _| unsafe { shared_a_with::<K>(c, a, b, pool.par()) });
        }
    }

    #[test]
    fn shared_a_gives_the_same_bits_as_one_thread() {
        each_kernel!(same_bits_on_two_threads);
    }

    /// Through the public entries: whichever kernel this CPU runs.
    #[test]
    fn public_entries_equal_reference() {
        if !crate::cpu::has_avx2_fma() {
            return;
        }
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        check_with::<f32>(300, 280, 270, [0, 1], false, &|c, a, b, _| unsafe { gemm_parallel(c, a, b, pool.par()) });
        check_with::<f64>(130, 50, 70, [1, 0], true, &|c, a, b, acc| unsafe { gemm(c, a, b, acc, &mut Vec::new()) });
    }

    fn zero_depth<K: Kernel>() {
        let seven = <K::T>::from_f64(7.0);
        let mut cd = vec![seven; 12];
        let a = Mat { ptr: core::ptr::null_mut(), rows: 3, cols: 0, rs: 1, cs: 3 };
        let b = Mat { ptr: core::ptr::null_mut(), rows: 0, cols: 4, rs: 1, cs: 0 };
        let c = view(&mut cd, 0, 3, 4, 1, 3);
        assert!(unsafe { blocked::<K>(c, a, b, true, blocks_of::<K>(), None, &mut Vec::new()) });
        assert!(cd.iter().all(|&x| x == seven));
        assert!(unsafe { blocked::<K>(c, a, b, false, blocks_of::<K>(), None, &mut Vec::new()) });
        assert!(cd.iter().all(|&x| x == <K::T>::ZERO));
    }

    #[test]
    fn zero_depth_replaces_or_keeps() {
        each_kernel!(zero_depth);
    }

    fn inf_and_nan<K: Kernel>() {
        // an edge tile in both directions (one row and one column past whole tiles); an inf in
        // A's last row must not turn the padded rows' zeros into NaNs that leak, and a NaN in B
        // reaches its column only
        let (m, n, k) = (K::MR + 1, K::NR + 1, 7);
        let mut ad: Vec<K::T> = (0..m * k).map(|x| <K::T>::from_f64(x as f64 * 0.25)).collect();
        ad[m - 1] = <K::T>::from_f64(f64::INFINITY); // a[m - 1, 0]
        let mut bd: Vec<K::T> = (0..k * n).map(|x| <K::T>::from_f64(1.0 + x as f64)).collect();
        bd[2 * k + 3] = <K::T>::from_f64(f64::NAN); // b[3, 2]
        let mut cd = vec![<K::T>::ZERO; m * n];
        let a = view(&mut ad, 0, m, k, 1, m as isize);
        let b = view(&mut bd, 0, k, n, 1, k as isize);
        let c = view(&mut cd, 0, m, n, 1, m as isize);
        assert!(unsafe { blocked::<K>(c, a, b, false, blocks_of::<K>(), None, &mut Vec::new()) });
        for j in 0..n {
            for i in 0..m {
                let v = cd[i + j * m].to_f64();
                if j == 2 {
                    assert!(v.is_nan(), "({i}, {j}) = {v}");
                } else if i == m - 1 {
                    assert_eq!(v, f64::INFINITY, "({i}, {j})");
                } else {
                    assert!(v.is_finite(), "({i}, {j}) = {v}");
                }
            }
        }
    }

    #[test]
    fn inf_and_nan_propagate_and_padding_stays_out() {
        each_kernel!(inf_and_nan);
    }

    /// One core, interleaved medians: this kernel against faer's sequential product.
    /// `cargo test --release -p ferrolinalg-kernels --lib -- --ignored --nocapture packed_gemm::tests::timing`
    #[test]
    #[ignore]
    fn timing() {
        use std::time::Instant;
        fn run<T: Real, K: Kernel<T = T>>(m: usize, n: usize, k: usize) {
            let ad: Vec<T> = values(m * k, 1).into_iter().map(T::from_f64).collect();
            let bd: Vec<T> = values(k * n, 2).into_iter().map(T::from_f64).collect();
            let mut cd = vec![T::ZERO; m * n];
            let a = Mat { ptr: ad.as_ptr() as *mut T, rows: m, cols: k, rs: 1, cs: m as isize };
            let b = Mat { ptr: bd.as_ptr() as *mut T, rows: k, cols: n, rs: 1, cs: k as isize };
            let c = Mat { ptr: cd.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: m as isize };
            let mut scratch = Vec::new();
            let (mut ours, mut faer) = (vec![], vec![]);
            for _ in 0..15 {
                let t = Instant::now();
                unsafe { blocked::<K>(c, a, b, false, blocks_of::<K>(), None, &mut scratch) };
                ours.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                unsafe {
                    faer::linalg::matmul::matmul(
                        faer::MatMut::from_raw_parts_mut(c.ptr, m, n, 1, m as isize),
                        faer::Accum::Replace,
                        faer::MatRef::from_raw_parts(a.ptr as *const T, m, k, 1, m as isize),
                        faer::MatRef::from_raw_parts(b.ptr as *const T, k, n, 1, k as isize),
                        T::ONE,
                        faer::Par::Seq,
                    )
                };
                faer.push(t.elapsed().as_secs_f64());
            }
            ours.sort_by(f64::total_cmp);
            faer.sort_by(f64::total_cmp);
            let flops = 2.0 * (m * n * k) as f64;
            println!(
                "{} {} {m}x{n}x{k}: packed {:.1} GFLOP/s, faer {:.1} GFLOP/s, ratio {:.3}",
                T::NAME,
                core::any::type_name::<K>().rsplit("::").next().unwrap_or(""),
                flops / ours[7] / 1e9,
                flops / faer[7] / 1e9,
                ours[7] / faer[7]
            );
        }
        for &(m, n, k) in &[(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (4096, 1024, 1024)] {
            run::<f64, Avx2<f64>>(m, n, k);
            run::<f32, Avx2<f32>>(m, n, k);
            if crate::cpu::has_avx512() {
                run::<f64, Avx512<f64>>(m, n, k);
                run::<f32, Avx512<f32>>(m, n, k);
            }
        }
    }

    /// Medium products with operands that are (`sets` > 1) or are not in cache: C (m x n) =
    /// A (m rows of a col-major matrix with leading dimension `lda`) B (k x n col-major).
    #[test]
    #[ignore]
    fn rotated_timing() {
        use std::time::Instant;
        fn run<T: Real, K: Kernel<T = T>>(m: usize, n: usize, k: usize, lda: usize, sets: usize) {
            let ad: Vec<Vec<T>> = (0..sets).map(|s| values(lda * k, 1 + s as u64).into_iter().map(T::from_f64).collect()).collect();
            let bd: Vec<Vec<T>> = (0..sets).map(|s| values(k * n, 99 + s as u64).into_iter().map(T::from_f64).collect()).collect();
            let mut cd = vec![T::ZERO; m * n];
            let c = Mat { ptr: cd.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: m as isize };
            let mut scratch = Vec::new();
            let (mut ours, mut faer) = (vec![], vec![]);
            let reps = 64;
            for _ in 0..15 {
                for which in 0..2 {
                    let t = Instant::now();
                    for r in 0..reps {
                        let a = Mat { ptr: ad[r % sets].as_ptr() as *mut T, rows: m, cols: k, rs: 1, cs: lda as isize };
                        let b = Mat { ptr: bd[r % sets].as_ptr() as *mut T, rows: k, cols: n, rs: 1, cs: k as isize };
                        unsafe {
                            if which == 0 {
                                blocked::<K>(c, a, b, false, blocks_of::<K>(), None, &mut scratch);
                            } else {
                                faer::linalg::matmul::matmul(
                                    faer::MatMut::from_raw_parts_mut(c.ptr, m, n, 1, m as isize),
                                    faer::Accum::Replace,
                                    faer::MatRef::from_raw_parts(a.ptr as *const T, m, k, 1, lda as isize),
                                    faer::MatRef::from_raw_parts(b.ptr as *const T, k, n, 1, k as isize),
                                    T::ONE,
                                    faer::Par::Seq,
                                )
                            }
                        }
                    }
                    let dt = t.elapsed().as_secs_f64() / reps as f64;
                    if which == 0 { ours.push(dt) } else { faer.push(dt) }
                }
            }
            ours.sort_by(f64::total_cmp);
            faer.sort_by(f64::total_cmp);
            let flops = 2.0 * (m * n * k) as f64;
            println!(
                "{} {} {m}x{n}x{k} lda {lda} sets {sets}: packed {:.1} GFLOP/s, faer {:.1} GFLOP/s, ratio {:.3}",
                T::NAME,
                core::any::type_name::<K>().rsplit("::").next().unwrap_or(""),
                flops / ours[7] / 1e9,
                flops / faer[7] / 1e9,
                ours[7] / faer[7]
            );
        }
        let spec = std::env::var("SHAPE").unwrap_or("128,32,512,512".into());
        for shape in spec.split(';') {
            let d: Vec<usize> = shape.split(',').map(|x| x.parse().unwrap()).collect();
            for sets in [1, 16] {
                run::<f32, Avx2<f32>>(d[0], d[1], d[2], d[3], sets);
                run::<f64, Avx2<f64>>(d[0], d[1], d[2], d[3], sets);
                if crate::cpu::has_avx512() {
                    run::<f32, Avx512<f32>>(d[0], d[1], d[2], d[3], sets);
                    run::<f64, Avx512<f64>>(d[0], d[1], d[2], d[3], sets);
                }
            }
        }
    }

    /// Packing alone, one thread, f64 1024x1024 operands rotated through 4 copies (out of cache),
    /// column-major against row-major: all of A by `pack_all_a`, and B (1024 x 512, a thread's
    /// half) panel block by panel block as `blocked` packs it.
    #[test]
    #[ignore]
    fn packing_timing() {
        use std::time::Instant;
        let n = 1024usize;
        let sets: Vec<Vec<f64>> = (0..4).map(|s| values(n * n, 5 + s)).collect();
        type K = Avx2<f64>;
        let blocks = blocks_of::<K>();
        let mut dst = vec![0.0f64; n * n + 64];
        let mut bdst = vec![0.0f64; 512usize.div_ceil(K::NR) * K::NR * K::KC];
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); 4];
        for round in 0..40 {
            for kind in 0..4 {
                let src = &sets[(round * 4 + kind) % 4];
                let (rs, cs) = if kind % 2 == 0 { (1isize, n as isize) } else { (n as isize, 1isize) };
                let m = Mat { ptr: src.as_ptr() as *mut f64, rows: n, cols: n, rs, cs };
                let t = Instant::now();
                unsafe {
                    if kind < 2 {
                        pack_all_a::<K>(m, blocks, dst.as_mut_ptr(), Par::SEQ);
                    } else {
                        for pc in (0..n).step_by(K::KC) {
                            pack_b::<K>(m, pc, K::KC, 0, 512, bdst.as_mut_ptr());
                        }
                    }
                }
                times[kind].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        for (kind, name) in ["pack_all_a col-major", "pack_all_a row-major", "pack_b col-major (1024x512)", "pack_b row-major (1024x512)"].iter().enumerate() {
            let mut v = times[kind].clone();
            v.sort_by(f64::total_cmp);
            println!("{name}: median {:.3} ms, min {:.3}", v[v.len() / 2], v[0]);
        }
    }
}
