//! One matrix product `C = A B` on strided matrices: the engine under `matmul`, and later under
//! contractions and dense layers.
//!
//! The arithmetic, by size: products of every dimension up to 64 on AVX-512 CPUs run our
//! register-blocked kernel (`small_gemm.rs`); on AVX2 + FMA CPUs, products of every dimension
//! from 256 and, on one thread, of 128 rows and more (64 when `A`'s columns are a page or more
//! apart) run our packed kernel (`packed_gemm.rs`, written when the project moved to a Zen 3 VM
//! where faer's AVX2 kernel trailed OpenBLAS by 10-20%); everything else is faer's GEMM.
//!
//! Measured on the AVX-512 machine of sessions 6-13, faer matched or beat OpenBLAS on one core,
//! but two things cost it up to half its speed, and this module fixes both (the packed kernel
//! has neither problem: it packs any layout, and on several threads packs A once and splits C's
//! columns itself, `packed_gemm::gemm_parallel`):
//! - Layout: once the problem is oriented so that `C` is column-major, faer runs at full speed
//!   only if `B` is column-major too (1024³ f64: 77 GF/s against 39 GF/s). BLAS hides this in its
//!   packing; we pack `B` into a column-major scratch when it is not (O(KN) next to O(MNK)).
//! - Threads: faer's own parallel GEMM reached 1.58x its one-core speed on two cores, OpenBLAS
//!   nearly 2x. Splitting `C` into one block of columns (or rows) per thread, each computed by a
//!   sequential GEMM, scales almost perfectly, since each thread's block is independent.
//!   Still so with faer 0.24 (`split_vs_faer_parallel_timing`, session 6, machine busy with two
//!   builds, medians of 15 interleaved: 1024³ 53 and 79 ms against 70 and 96 ms for faer's
//!   parallel product; 2048³ 517 and 598 against 562 and 639).

use crate::scalar::Real;
use crate::packed_gemm;
use crate::small_gemm;
use crate::threads::Par;

/// A product is split across threads only if its multiply-adds times its element size reach this
/// (f64 n ≈ 55, f32 n ≈ 69 for square products, ~5 µs on one core). The lingering workers of
/// threads.rs take a half within ~1 µs, so a split pays from a few microseconds of work up.
/// Measured with 2 threads on the AVX-512 Xeons, split / one thread, in the time of a
/// NumPy-style call: session 21, f64 n = 48 / 56 / 64 / 80: 0.96 / 0.88 / 0.73 / 0.76, f32 n =
/// 56 / 64 / 80: 0.96 / 0.96 / 0.89, n = 32 and 40 gained nothing (so from 1 MiB then);
/// session 22 (another model, 15 interleaved blocks), f64 n = 56 / 64: 0.88 / 0.83, f32 n = 64
/// / 80 / 96: 1.12 / 0.98 / 0.83, hence 1.25 MiB, which leaves f32 64 on one thread. (Sessions
/// before 21 split from 4 MiB, f64 n ≈ 80, measured with faer's kernel and a slower hand-off.)
const SPLIT_MIN_WORK_BYTES: usize = 5 << 18;

/// Whether an `m x k` by `k x n` product of `T`s is worth splitting across threads.
pub(crate) fn worth_splitting<T>(m: usize, n: usize, k: usize) -> bool {
    m.saturating_mul(n).saturating_mul(k).saturating_mul(core::mem::size_of::<T>()) >= SPLIT_MIN_WORK_BYTES
}

/// Block boundaries of a split fall on multiples of this (whole micro-kernel tiles).
const SPLIT_ALIGN: usize = 16;

/// `B` is packed only when `C` has at least this many rows: below, the copy costs more than
/// the slower access it avoids.
const PACK_MIN_ROWS: usize = 16;

/// A `B` that needs packing is packed in bands of this many rows, each band's product added to
/// `C` straight after: the band is still in L2 when faer reads it. Packing all of `B` first and
/// then multiplying cost a 1024³ f64 product 3.4 ms on one core (13%; the copy of 8 MiB ran at a
/// third of the speed it reaches on its own, with the product's data in the caches); bands of 256
/// rows cost 0.5-1.2 ms, and 2048³ 4-7 ms instead of 21 (`layout_timing`, session 7; bands of
/// 64 and 128 rows were no better at 1024 and worse at 2048, where faer's own blocking of the
/// depth then no longer fits the band).
const PACK_DEPTH: usize = 256;

/// A strided matrix: where it starts, its shape and its strides in elements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mat<T> {
    pub ptr: *mut T,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: a `Mat` is a description of memory; the functions taking it state who may touch what.
unsafe impl<T> Send for Mat<T> {}
unsafe impl<T> Sync for Mat<T> {}

impl<T> Mat<T> {
    /// The layout of a faer view (to read only, unless the view was mutable).
    pub(crate) fn of(a: faer::MatRef<'_, T>) -> Self {
        Mat { ptr: a.as_ptr() as *mut T, rows: a.nrows(), cols: a.ncols(), rs: a.row_stride(), cs: a.col_stride() }
    }

    /// The layout of a mutable faer view.
    pub(crate) fn of_mut(a: faer::MatMut<'_, T>) -> Self {
        Mat { ptr: a.as_ptr_mut(), rows: a.nrows(), cols: a.ncols(), rs: a.row_stride(), cs: a.col_stride() }
    }

    /// The same layout starting `offset` elements further on.
    pub(crate) unsafe fn offset(self, offset: isize) -> Self {
        Mat { ptr: self.ptr.offset(offset), ..self }
    }

    /// The same layout read as elements of type `U`: for kernels written per type, called from
    /// code generic over `Real` once the element size has told which type `T` is.
    pub(crate) fn cast<U>(self) -> Mat<U> {
        Mat { ptr: self.ptr as *mut U, rows: self.rows, cols: self.cols, rs: self.rs, cs: self.cs }
    }

    /// The transpose (the same elements).
    pub(crate) fn t(self) -> Self {
        Mat { ptr: self.ptr, rows: self.cols, cols: self.rows, rs: self.cs, cs: self.rs }
    }

    /// Columns `c0..c0 + n`.
    unsafe fn cols(self, c0: usize, n: usize) -> Self {
        Mat { ptr: self.ptr.offset(c0 as isize * self.cs), cols: n, ..self }
    }

    /// Rows `r0..r0 + n`.
    unsafe fn rows(self, r0: usize, n: usize) -> Self {
        Mat { ptr: self.ptr.offset(r0 as isize * self.rs), rows: n, ..self }
    }

    /// Whether the matrix is laid out more by rows than by columns (then the problem is better
    /// solved transposed). Strides of axes of length one do not count.
    fn is_row_major(&self) -> bool {
        self.cols > 1 && (self.rows == 1 || self.cs.abs() < self.rs.abs())
    }
}

/// `c = a @ b` for an `m x k` `a` and a `k x n` `b`, split across `par`'s threads when large.
///
/// # Safety
/// Every element the three layouts address must be valid; `c`'s elements must be distinct and
/// not overlap `a` or `b`.
pub(crate) unsafe fn gemm<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, par: Par) {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    // orient the problem so that C is column-major: C^T = B^T A^T
    let (c, a, b) = if c.is_row_major() { (c.t(), b.t(), a.t()) } else { (c, a, b) };
    let (m, n) = (c.rows, c.cols);
    let threads = par.num_threads();
    if threads <= 1 || !worth_splitting::<T>(m, n, k) {
        with_kept_scratch::<T, _>(|scratch| gemm_seq(c, a, b, scratch));
        return;
    }
    // large products on AVX2: the packed kernel with A packed once for all threads
    if c.rs == 1 && packed_gemm::worth_packing(m, n.div_ceil(threads), k) && packed_gemm::gemm_parallel(c, a, b, par) {
        return;
    }
    // one block per thread; columns of a column-major C are contiguous, so split those first.
    // Every block runs the kernel the whole product would run on one thread, so that results do
    // not depend on the thread count (a block has fewer rows or columns than the whole, so it
    // could otherwise fall below the packed kernel's sizes where the whole did not)
    let packed = c.rs == 1 && packed_gemm::worth_packing_one(c, a);
    let split_cols = n >= threads * SPLIT_ALIGN || n >= m;
    let len = if split_cols { n } else { m };
    let block = len.div_ceil(threads).div_ceil(SPLIT_ALIGN) * SPLIT_ALIGN;
    let blocks = len.div_ceil(block);
    par.for_each(blocks, &|i| {
        let start = i * block;
        let size = block.min(len - start);
        // SAFETY: blocks are disjoint parts of C; A and B are only read.
        unsafe {
            let (c, a, b) = if split_cols { (c.cols(start, size), a, b.cols(start, size)) } else { (c.rows(start, size), a.rows(start, size), b) };
            with_kept_scratch::<T, _>(|scratch| {
                if !(packed && packed_gemm::gemm(c, a, b, false, scratch)) {
                    gemm_seq(c, a, b, scratch);
                }
            });
        }
    });
}

/// The most scratch, in bytes, a thread keeps between products: what a thread keeps adds to the
/// memory of every later call, and only medium products lose much to a fresh allocation (a 256³
/// f64 product needs ~1 MB; the largest packed products up to `(MC + NC) KC` elements, 8.5 MB
/// for f64). Only `gemm` (matmul and the kernels' large products on the pool) keeps scratch:
/// kept by every product of the SVD's steps as well, on every thread they ran on, the buffers
/// raised a 1000x1000 `svd`'s peak memory from 5.1 to 7.9-8.2 times the matrix
/// (`tests/test_memory.py`), so those pass a scratch of their own.
const KEPT_SCRATCH_MAX_BYTES: usize = 4 << 20;

thread_local! {
    static KEPT_SCRATCH_F64: core::cell::RefCell<Vec<f64>> = const { core::cell::RefCell::new(Vec::new()) };
    static KEPT_SCRATCH_F32: core::cell::RefCell<Vec<f32>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's kept packing scratch for `T` (a fresh one if a caller up the
/// stack holds it). Why keep it: a buffer allocated per product was, after a few hundred
/// products, handed back to the system by glibc and faulted in afresh every time: a 256³ f64
/// product in a loop went from 1 page fault a call to 210 and from 0.52 to 0.9-1.05 ms
/// (session 18); kept, 0 faults and 0.40 ms. OpenBLAS keeps its buffers the same way.
pub(crate) fn with_kept_scratch<T: Real, R>(f: impl FnOnce(&mut Vec<T>) -> R) -> R {
    fn run<U, T, R>(kept: &'static std::thread::LocalKey<core::cell::RefCell<Vec<U>>>, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
        kept.with(|cell| match cell.try_borrow_mut() {
            Ok(mut v) => {
                // SAFETY: the caller picked `kept` by T's size, and `Real` is f32 or f64, so U is T.
                let r = f(unsafe { &mut *(&mut *v as *mut Vec<U> as *mut Vec<T>) });
                if v.capacity() * core::mem::size_of::<U>() > KEPT_SCRATCH_MAX_BYTES {
                    *v = Vec::new();
                }
                r
            }
            Err(_) => f(&mut Vec::new()),
        })
    }
    if core::mem::size_of::<T>() == 8 {
        run(&KEPT_SCRATCH_F64, f)
    } else {
        run(&KEPT_SCRATCH_F32, f)
    }
}

/// `c = a @ b` on this thread. `scratch` holds a packed copy of `b` when one is needed; passing
/// the same vector for a run of products reuses its allocation.
///
/// # Safety
/// As [`gemm`].
pub(crate) unsafe fn gemm_seq<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, scratch: &mut Vec<T>) {
    gemm_seq_with(c, a, b, false, scratch)
}

/// `c = a @ b`, or `c += a @ b` if `accumulate` (faer's `Accum::Add`), on this thread. The
/// accumulating form serves contractions that sum a series of products into one result
/// (einsum's contracted labels that no stride arrangement can merge into one axis).
///
/// # Safety
/// As [`gemm`].
pub(crate) unsafe fn gemm_seq_with<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool, scratch: &mut Vec<T>) {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            fill_zero(c);
        }
        return;
    }
    // Tiny products where faer's dispatch (~40 ns) would cost more than the arithmetic: square
    // matrices up to 4x4 (2-D and 3-D transforms, with or without homogeneous coordinates) with
    // fixed-size kernels the compiler keeps in registers, and single dot products (vecdot). A
    // stack of 100000 4x4 products took 61 ns each through a general loop, 41 ns through this
    // call chain; matmul runs whole stacks of them by [`tiny_square_run`] instead.
    // (they replace c; an accumulating product always goes to faer)
    if m == n && n == k && !accumulate {
        match n {
            1 => return fixed_square::<T, 1>(c, a, b),
            2 => return fixed_square::<T, 2>(c, a, b),
            3 => return fixed_square::<T, 3>(c, a, b),
            4 => return fixed_square::<T, 4>(c, a, b),
            _ => {}
        }
    }
    if m == 1 && n == 1 && !accumulate {
        return dot_product(c, a, b);
    }
    let (c, a, b) = if c.is_row_major() { (c.t(), b.t(), a.t()) } else { (c, a, b) };
    let (m, n) = (c.rows, c.cols);
    // small products: our register-blocked kernel (see small_gemm.rs for why and the timings);
    // it reads B where it is and needs A column-major (packed here if it is not: a row-major A by
    // register transposes, anything else the general way)
    if m.max(n).max(k) <= small_gemm::SMALL_MAX && c.rs == 1 && crate::cpu::has_avx512() {
        let a = if a.rs == 1 {
            Some(a)
        } else {
            match small_gemm::pack_rows(a, scratch) {
                Some(packed) => Some(packed),
                None => pack_col_major(a, scratch),
            }
        };
        if let Some(a) = a {
            return small_gemm::gemm_small(c, a, b, accumulate);
        }
    }
    // large and medium products: our packed AVX2 kernel where the CPU has it (packed_gemm.rs
    // says why and from which sizes)
    if c.rs == 1 && packed_gemm::worth_packing_one(c, a) && packed_gemm::gemm(c, a, b, accumulate, scratch) {
        return;
    }
    if n > 1 && b.rs != 1 && m >= PACK_MIN_ROWS {
        // B packed a band of PACK_DEPTH rows at a time, each band's product added to C
        let mut p0 = 0;
        while p0 < k {
            let kc = PACK_DEPTH.min(k - p0);
            let band = b.rows(p0, kc);
            let band = pack_b(band, scratch).unwrap_or(band);
            faer_gemm(c, a.cols(p0, kc), band, accumulate || p0 > 0);
            p0 += kc;
        }
        return;
    }
    faer_gemm(c, a, b, accumulate);
}

/// `c = a @ b` (or `c += a @ b`) by faer's sequential product, for any strides.
unsafe fn faer_gemm<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>, accumulate: bool) {
    let (m, n, k) = (c.rows, c.cols, a.cols);
    let a = faer::MatRef::from_raw_parts(a.ptr as *const T, m, k, a.rs, a.cs);
    let b = faer::MatRef::from_raw_parts(b.ptr as *const T, k, n, b.rs, b.cs);
    let c = faer::MatMut::from_raw_parts_mut(c.ptr, m, n, c.rs, c.cs);
    let accum = if accumulate { faer::Accum::Add } else { faer::Accum::Replace };
    faer::linalg::matmul::matmul(c, accum, a, b, T::ONE, faer::Par::Seq);
}

/// Copies `b` into `scratch` in column-major order: a row-major `b` by register transposes where
/// the CPU has them (1024x1024 f64 on its own: 1.16 ms against 1.58 ms for the scalar tiles,
/// `pack_timing`), anything else by [`pack_col_major`]. `None` if the scratch cannot be allocated.
unsafe fn pack_b<T: Real>(b: Mat<T>, scratch: &mut Vec<T>) -> Option<Mat<T>> {
    if b.cs == 1 && crate::cpu::has_avx512() {
        return small_gemm::pack_rows(b, scratch);
    }
    pack_col_major(b, scratch)
}

/// Copies `b` into `scratch` in column-major order; `None` if the scratch cannot be allocated
/// (the product then reads `b` where it is: slower, never an abort).
unsafe fn pack_col_major<T: Real>(b: Mat<T>, scratch: &mut Vec<T>) -> Option<Mat<T>> {
    let (k, n) = (b.rows, b.cols);
    scratch.clear();
    scratch.try_reserve(k * n).ok()?;
    let dst = Mat { ptr: scratch.as_mut_ptr(), rows: k, cols: n, rs: 1, cs: k as isize };
    copy_tiled(b, dst);
    // SAFETY: every one of the k * n elements was written above.
    scratch.set_len(k * n);
    Some(dst)
}

/// `dst = src` for two matrices of the same shape and any strides, in 8x8 tiles: a transposing
/// copy has one strided side, and with power-of-two strides (a 1024-row matrix) every strided
/// line maps to the same L1 cache set. Eight lines per side stay within the cache's
/// associativity where 32 did not (measured: packing cost 9% of a 1024³ product with 32x32
/// tiles); a whole strided pass per line of the other side was far slower still (TSQR's row
/// blocks of a row-major 10000x256 matrix: 5.7 ms a block copied column by column).
///
/// # Safety
/// Both layouts address valid, non-overlapping elements; `dst`'s are distinct.
pub(crate) unsafe fn copy_tiled<T: Copy>(src: Mat<T>, dst: Mat<T>) {
    const TILE: usize = 8;
    debug_assert!(src.rows == dst.rows && src.cols == dst.cols);
    let (m, n) = (src.rows, src.cols);
    if src.cs == 1 && dst.rs == 1 {
        // rows into columns: by register transposes where the CPU has them
        return crate::transpose::transpose(src.ptr as *const T, src.rs, m, n, dst.ptr, dst.cs);
    }
    for i0 in (0..m).step_by(TILE) {
        let i1 = (i0 + TILE).min(m);
        for j0 in (0..n).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                let (s, d) = (src.ptr.offset(j as isize * src.cs), dst.ptr.offset(j as isize * dst.cs));
                for i in i0..i1 {
                    d.offset(i as isize * dst.rs).write(*s.offset(i as isize * src.rs));
                }
            }
        }
    }
}

unsafe fn fill_zero<T: Real>(c: Mat<T>) {
    for j in 0..c.cols as isize {
        for i in 0..c.rows as isize {
            *c.ptr.offset(i * c.rs + j * c.cs) = T::ZERO;
        }
    }
}

/// `c = a @ b` for `N x N` matrices, loaded into fixed-size arrays first.
#[inline(always)]
unsafe fn fixed_square<T: Real, const N: usize>(c: Mat<T>, a: Mat<T>, b: Mat<T>) {
    #[inline(always)]
    unsafe fn load<T: Real, const N: usize>(m: Mat<T>) -> [[T; N]; N] {
        let mut v = [[T::ZERO; N]; N];
        for (i, row) in v.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = *m.ptr.offset(i as isize * m.rs + j as isize * m.cs);
            }
        }
        v
    }
    /// The rows of a matrix whose rows are contiguous, read as whole arrays (vector loads).
    #[inline(always)]
    unsafe fn load_rows<T: Real, const N: usize>(m: Mat<T>) -> [[T; N]; N] {
        let mut v = [[T::ZERO; N]; N];
        for (i, row) in v.iter_mut().enumerate() {
            *row = (m.ptr.offset(i as isize * m.rs) as *const [T; N]).read_unaligned();
        }
        v
    }
    let (av, bv) = if a.cs == 1 && b.cs == 1 { (load_rows::<T, N>(a), load_rows::<T, N>(b)) } else { (load::<T, N>(a), load::<T, N>(b)) };
    for i in 0..N {
        let mut row = [T::ZERO; N];
        for p in 0..N {
            let x = av[i][p];
            for j in 0..N {
                row[j] = x.mul_add(bv[p][j], row[j]);
            }
        }
        if c.cs == 1 {
            (c.ptr.offset(i as isize * c.rs) as *mut [T; N]).write_unaligned(row);
        } else {
            for (j, &x) in row.iter().enumerate() {
                *c.ptr.offset(i as isize * c.rs + j as isize * c.cs) = x;
            }
        }
    }
}

/// A run of `N x N` products `c_t = a_t @ b_t`, the operands `offsets` elements past `c`, `a`
/// and `b`: [`fixed_square`] in one loop (a stack of 4x4 transforms spent more in the call
/// chain per product, `gemm_seq_with`'s frame and checks, than in the 64 multiply-adds).
#[inline(always)]
unsafe fn fixed_square_loop<T: Real, const N: usize, I: Iterator<Item = [isize; 3]>>(c: Mat<T>, a: Mat<T>, b: Mat<T>, offsets: I) {
    for [ao, bo, co] in offsets {
        fixed_square::<T, N>(c.offset(co), a.offset(ao), b.offset(bo));
    }
}

/// [`fixed_square_loop`] compiled for AVX2 (rows of four f64 in one register; no FMA, so the
/// same bits as everywhere else).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fixed_square_loop_avx2<T: Real, const N: usize, I: Iterator<Item = [isize; 3]>>(c: Mat<T>, a: Mat<T>, b: Mat<T>, offsets: I) {
    fixed_square_loop::<T, N, I>(c, a, b, offsets)
}

/// `c_t = a_t @ b_t` for a run of square products of order `n <= 4` (see [`fixed_square`]), the
/// operands of product `t` at the `t`-th offsets `[a, b, c]` past `a`, `b` and `c`. The same bits
/// as [`gemm_seq`] on each product.
///
/// # Safety
/// Every product's views are valid, each `c_t`'s elements distinct and not overlapping any
/// operand; `1 <= n <= 4` and the views are `n x n`.
pub(crate) unsafe fn tiny_square_run<T: Real, I: Iterator<Item = [isize; 3]>>(c: Mat<T>, a: Mat<T>, b: Mat<T>, offsets: I) {
    debug_assert!(c.rows == c.cols && a.rows == c.rows && a.cols == c.rows && b.rows == c.rows && b.cols == c.rows);
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        return match c.rows {
            1 => fixed_square_loop_avx2::<T, 1, I>(c, a, b, offsets),
            2 => fixed_square_loop_avx2::<T, 2, I>(c, a, b, offsets),
            3 => fixed_square_loop_avx2::<T, 3, I>(c, a, b, offsets),
            _ => fixed_square_loop_avx2::<T, 4, I>(c, a, b, offsets),
        };
    }
    match c.rows {
        1 => fixed_square_loop::<T, 1, I>(c, a, b, offsets),
        2 => fixed_square_loop::<T, 2, I>(c, a, b, offsets),
        3 => fixed_square_loop::<T, 3, I>(c, a, b, offsets),
        _ => fixed_square_loop::<T, 4, I>(c, a, b, offsets),
    }
}

/// `c = a @ b` for a `1 x k` row and a `k x 1` column: one dot product.
#[inline]
unsafe fn dot_product<T: Real>(c: Mat<T>, a: Mat<T>, b: Mat<T>) {
    let mut acc = [T::ZERO; 4];
    let k = a.cols;
    let mut p = 0;
    while p + 4 <= k {
        for (l, slot) in acc.iter_mut().enumerate() {
            let q = (p + l) as isize;
            *slot = (*a.ptr.offset(q * a.cs)).mul_add(*b.ptr.offset(q * b.rs), *slot);
        }
        p += 4;
    }
    let mut total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    while p < k {
        total = (*a.ptr.offset(p as isize * a.cs)).mul_add(*b.ptr.offset(p as isize * b.rs), total);
        p += 1;
    }
    *c.ptr = total;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row-major `B` deeper than one packing band (`k` = 2 bands and 45 rows), replacing and
    /// accumulating: every band must add to `C`, the first replace it unless accumulating.
    #[test]
    fn banded_packing_replaces_then_accumulates() {
        let (m, k, n) = (37, 2 * PACK_DEPTH + 45, 29);
        // A column-major, B row-major (rows of n), C column-major
        let (a_rm, b_rm) = (crate::testing::data(m * k, 3), crate::testing::data(k * n, 4));
        let want = crate::testing::naive_matmul(&a_rm, &b_rm, m, k, n);
        let a_cm: Vec<f64> = (0..m * k).map(|x| a_rm[(x % m) * k + x / m]).collect();
        let a = Mat { ptr: a_cm.as_ptr() as *mut f64, rows: m, cols: k, rs: 1, cs: m as isize };
        let b = Mat { ptr: b_rm.as_ptr() as *mut f64, rows: k, cols: n, rs: n as isize, cs: 1 };
        for accumulate in [false, true] {
            let mut c = vec![1.0f64; m * n];
            let cm = Mat { ptr: c.as_mut_ptr(), rows: m, cols: n, rs: 1, cs: m as isize };
            unsafe { gemm_seq_with(cm, a, b, accumulate, &mut Vec::new()) };
            for i in 0..m {
                for j in 0..n {
                    let expect = want[i * n + j] + if accumulate { 1.0 } else { 0.0 };
                    let got = c[i + j * m];
                    assert!((got - expect).abs() <= 1e-12 * (k as f64), "accumulate={accumulate} ({i}, {j}): {got} vs {expect}");
                }
            }
        }
    }

    use crate::testing::interleaved_medians;

    /// The order of the timing tests below (run with `--ignored --nocapture`): FL_N, else 1024.
    fn order() -> usize {
        std::env::var("FL_N").map_or(1024, |v| v.parse().unwrap())
    }

    /// Our split (one sequential faer product per thread) against faer's own parallel product on
    /// the same pool.
    #[test]
    #[ignore]
    fn split_vs_faer_parallel_timing() {
        let n = order();
        let (a, b) = (crate::testing::data(n * n, 1), crate::testing::data(n * n, 2));
        let mut c = vec![0.0f64; n * n];
        let cp = c.as_mut_ptr();
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let m = |p: *const f64| Mat { ptr: p as *mut f64, rows: n, cols: n, rs: 1, cs: n as isize };
        let [ours, faer_par] =
            interleaved_medians([&mut || unsafe { gemm(m(cp), m(a.as_ptr()), m(b.as_ptr()), pool.par()) }, &mut || {
                let c = crate::strided::SendPtr(cp);
                pool.par().install_fixed(|fpar| {
                    let av = faer::MatRef::from_column_major_slice(&a, n, n);
                    let bv = faer::MatRef::from_column_major_slice(&b, n, n);
                    // SAFETY: c is n x n and no other reference to it is live here.
                    let cv = unsafe { faer::MatMut::from_raw_parts_mut(c.get(), n, n, 1, n as isize) };
                    faer::linalg::matmul::matmul(cv, faer::Accum::Replace, av, bv, 1.0, fpar);
                })
            }]);
        println!("n={n}: our split {ours:.2} ms, faer parallel {faer_par:.2} ms");
    }

    /// Packing a row-major `n x n` B on its own: scalar tiles against register transposes.
    #[test]
    #[ignore]
    fn pack_timing() {
        let n = order();
        let b = crate::testing::data(n * n, 1);
        let m = Mat { ptr: b.as_ptr() as *mut f64, rows: n, cols: n, rs: n as isize, cs: 1 };
        let (mut s1, mut s2) = (Vec::new(), Vec::new());
        let [scalar, simd] =
            interleaved_medians([&mut || unsafe { pack_col_major(m, &mut s1).map(|_| ()).unwrap() }, &mut || unsafe {
                pack_b(m, &mut s2).map(|_| ()).unwrap()
            }]);
        println!("n={n}: scalar tiles {scalar:.2} ms, register transposes {simd:.2} ms");
    }

    /// One-thread products of `n x n` f64: all column-major against a row-major C with
    /// column-major A and B (NumPy's F-order operands, which make B row-major once the product is
    /// turned round).
    #[test]
    #[ignore]
    fn layout_timing() {
        let n = order();
        let (a, b) = (crate::testing::data(n * n, 1), crate::testing::data(n * n, 2));
        let mut c = vec![0.0f64; n * n];
        let cp = c.as_mut_ptr();
        let col = |p: *const f64| Mat { ptr: p as *mut f64, rows: n, cols: n, rs: 1, cs: n as isize };
        let row = |p: *const f64| Mat { ptr: p as *mut f64, rows: n, cols: n, rs: n as isize, cs: 1 };
        let [cm, rm] = interleaved_medians([
            &mut || unsafe { gemm_seq(col(cp), col(a.as_ptr()), col(b.as_ptr()), &mut Vec::new()) },
            &mut || unsafe { gemm_seq(row(cp), col(a.as_ptr()), col(b.as_ptr()), &mut Vec::new()) },
        ]);
        println!("n={n}: all column-major {cm:.2} ms, row-major C {rm:.2} ms");
    }
}
