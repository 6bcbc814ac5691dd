//! Tall-skinny QR (TSQR) of one tall matrix on all threads, for the SVD of tall matrices.
//!
//! `A` (`m x n`, `m >= 2n`) is cut into a few row blocks `A_i`, each factored by Householder QR
//! (`A_i = Q_i R_i`) in parallel; the stacked `R_i` are factored once more (`[R_1; ...] = Q_s R`),
//! so `A = diag(Q_i) Q_s R`. `Q_s` is a binary tree of merges of two triangles, each exploiting
//! their zeros ([`Merge`]). Only the number of blocks, fixed by the shape, decides what each
//! block computes, so the result is bit-identical for any thread count. As backward stable as one
//! Householder QR of the whole matrix (Demmel, Grigori, Hoemmen and Langou, 2012).
//!
//! Why: a single matrix's SVD runs on one thread (faer's parallel SVD is not bit-identical to its
//! sequential one), and for a tall matrix its first step, the QR factorization, is most of the
//! work: 46 ms of faer's QR at ~27 GFLOP/s for 10000x256 on one core, against 7 ms for the
//! singular values of the 256x256 `R` (measured on the 2-core VM).

use crate::error::Result;
use crate::gemm;
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::threads::Par;
use faer::dyn_stack::MemStack;
use faer::linalg::householder;
use faer::linalg::qr::no_pivoting::factor as fqr;
use faer::reborrow::{Reborrow, ReborrowMut};
use crate::svd_small::{axpy, dot, householder};
use faer::{Conj, Mat, MatMut, MatRef};

/// At most this many row blocks: on the 2-core machine four balance the two threads, and every
/// further block adds a merge of `2/3 n^3` flops.
const MAX_BLOCKS: usize = 4;

/// Each merge of `Q_s` is applied to this many pieces of columns at once.
const STACKED_PIECES: usize = 4;

/// The number of row blocks for an `m x n` matrix: blocks of at least `2n` rows (a block of
/// fewer leaves its QR little to gain over the stacked one), at most [`MAX_BLOCKS`]; below 2 the
/// TSQR has nothing to split.
pub(crate) fn blocks(m: usize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (m / (2 * n)).min(MAX_BLOCKS)
}

/// A column-major copy of `a`, in tiles when `a` is row-major (faer's `to_owned` walks it a column
/// at a time: 5.7 ms against 0.4 for a 2500x256 block of a row-major 10000x256 matrix).
fn col_major_copy<T: Real>(a: MatRef<'_, T>) -> Mat<T> {
    if a.row_stride().abs() <= a.col_stride().abs() {
        return a.to_owned();
    }
    // not zeroed first: every element is written by the copy (zeroing 20 MB of blocks cost ~3%
    // of a 10000x256 `svdvals`)
    let (m, n) = (a.nrows(), a.ncols());
    let mut out = Mat::<T>::with_capacity(m, n);
    let dst = gemm::Mat { ptr: out.as_ptr_mut(), rows: m, cols: n, rs: 1, cs: out.col_stride() };
    // SAFETY: the capacity holds `m x n` elements at `dst`'s strides; the copy writes every
    // one of them before `set_dims` makes them part of the matrix.
    unsafe {
        gemm::copy_tiled(gemm::Mat::of(a), dst);
        out.set_dims(m, n);
    }
    out
}

/// One Householder QR in place: the factored matrix (R on and above the diagonal, reflectors
/// below) and its block coefficients.
struct Factored<T> {
    qr: Mat<T>,
    coeff: Mat<T>,
}

impl<T: Real> Factored<T> {
    fn new(mut a: Mat<T>) -> Result<Self> {
        let (m, n) = (a.nrows(), a.ncols());
        let k = m.min(n);
        let block = fqr::recommended_block_size::<T>(m, n).max(1);
        let mut coeff = Mat::<T>::zeros(block, k);
        let mut buf = crate::workspace::buffer(fqr::qr_in_place_scratch::<T>(m, n, block, faer::Par::Seq, Default::default()))?;
        if k > 0 {
            fqr::qr_in_place(a.as_mut(), coeff.as_mut(), faer::Par::Seq, MemStack::new(&mut buf), Default::default());
        }
        Ok(Factored { qr: a, coeff })
    }

    /// `y <- Q y` (`y` has as many rows as the factored matrix).
    fn apply_q(&self, y: MatMut<'_, T>) -> Result<()> {
        let k = self.qr.nrows().min(self.qr.ncols());
        if k == 0 {
            return Ok(());
        }
        let req = householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(self.qr.nrows(), self.coeff.nrows(), y.ncols());
        let mut buf = crate::workspace::buffer(req)?;
        householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
            self.qr.as_ref().get(.., ..k),
            self.coeff.as_ref(),
            Conj::No,
            y,
            faer::Par::Seq,
            MemStack::new(&mut buf),
        );
        Ok(())
    }
}

/// `A = diag(Q_i) Q_s R` for a tall `A` (see the module docs).
pub(crate) struct Tsqr<T> {
    n: usize,
    /// the first row of each block, and one past the last
    bounds: Vec<usize>,
    blocks: Vec<Factored<T>>,
    /// `Q_s` as a tree of [`Merge`]s, level by level from the leaves (see [`merge_pairs`])
    levels: Vec<Vec<Merge<T>>>,
    /// `R` (column-major `n x n`, upper triangular)
    r: Vec<T>,
    /// The largest `|a_ij|` (NaN left out) and whether every entry is finite, found in the
    /// blocks' copies (see [`Tsqr::factor`]).
    pub(crate) amax: T,
    pub(crate) finite: bool,
}

/// The pairs of block positions `(top, bottom)` merged at tree level `level` (0 at the leaves)
/// for `nb` blocks: at level `l` the `R` of positions `a` and `a + 2^l` (`a` a multiple of
/// `2^(l+1)`) merge into position `a`, so two blocks give one level, three or four give two. The
/// shape of the tree depends on `nb` alone, so the bits do not depend on the thread count.
fn merge_pairs(nb: usize, level: usize) -> Vec<(usize, usize)> {
    let half = 1usize << level;
    (0..nb).step_by(2 * half).filter(|a| a + half < nb).map(|a| (a, a + half)).collect()
}

impl<T: Real> Tsqr<T> {
    /// Factors `a` (`m x n`, `blocks(m, n) >= 2`) in `blocks(m, n)` row blocks on `par`'s threads.
    /// Each block's task also finds its largest magnitude in its copy (in cache, and on all
    /// threads: reading all of a 10000x256 `A` first on one thread took 1.7 ms of a 36 ms
    /// `svdvals`); a NaN or an infinity only makes the factors NaN.
    pub(crate) fn factor(a: MatRef<'_, T>, par: Par) -> Result<Self> {
        let (m, n) = (a.nrows(), a.ncols());
        let nb = blocks(m, n);
        debug_assert!(nb >= 2);
        let bounds: Vec<usize> = (0..=nb).map(|i| i * m / nb).collect();
        type Slot<T> = std::sync::Mutex<Option<(Result<Factored<T>>, (T, bool))>>;
        let slots: Vec<Slot<T>> = (0..nb).map(|_| std::sync::Mutex::new(None)).collect();
        let (ap, ars, acs) = (SendPtr(a.as_ptr() as *mut T), a.row_stride(), a.col_stride());
        par.for_each(nb, &|i| {
            let (r0, r1) = (bounds[i], bounds[i + 1]);
            // SAFETY: rows r0..r1 of `a`, only read.
            let ai = unsafe { MatRef::from_raw_parts(ap.get().offset(r0 as isize * ars) as *const T, r1 - r0, n, ars, acs) };
            let copy = col_major_copy(ai);
            let range = crate::svd::max_abs(copy.as_ref());
            *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some((Factored::new(copy), range));
        });
        let (mut factored, mut amax, mut finite) = (Vec::with_capacity(nb), T::ZERO, true);
        for slot in slots {
            let (block, (block_max, block_finite)) = slot.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every block task ran");
            factored.push(block?);
            amax = if block_max > amax { block_max } else { amax };
            finite &= block_finite;
        }
        // each block's R (zeros below the diagonal), merged pairwise up the tree, the pairs of
        // a level in parallel
        let slots: Vec<std::sync::Mutex<Vec<T>>> = factored
            .iter()
            .map(|f| {
                let mut r = vec![T::ZERO; n * n];
                for j in 0..n {
                    for i in 0..=j {
                        r[i + j * n] = f.qr[(i, j)];
                    }
                }
                std::sync::Mutex::new(r)
            })
            .collect();
        let mut levels = Vec::new();
        for level in 0.. {
            let pairs = merge_pairs(nb, level);
            if pairs.is_empty() {
                break;
            }
            let merged: Vec<std::sync::Mutex<Option<Merge<T>>>> = pairs.iter().map(|_| std::sync::Mutex::new(None)).collect();
            par.for_each(pairs.len(), &|i| {
                let (top, bot) = pairs[i];
                let bot = std::mem::take(&mut *slots[bot].lock().unwrap_or_else(|p| p.into_inner()));
                let mut top = slots[top].lock().unwrap_or_else(|p| p.into_inner());
                let merge = Merge::new(&mut top, bot, n);
                *merged[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(merge);
            });
            levels.push(merged.into_iter().map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every merge task ran")).collect());
        }
        let r = std::mem::take(&mut *slots[0].lock().unwrap_or_else(|p| p.into_inner()));
        Ok(Tsqr { n, bounds, blocks: factored, levels, r, amax, finite })
    }

    /// The `n x n` upper triangular factor `R`.
    pub(crate) fn r(&self) -> Mat<T> {
        Mat::from_fn(self.n, self.n, |i, j| if i <= j { self.r[i + j * self.n] } else { T::ZERO })
    }

    /// `out = Q y` for `y` (`n x p`) and `out` (`m x p`, any strides), the blocks in parallel.
    pub(crate) fn apply_q(&self, y: MatRef<'_, T>, out: MatMut<'_, T>, par: Par) -> Result<()> {
        let (n, p, nb) = (self.n, y.ncols(), self.blocks.len());
        // z = Q_s [y; 0]: block position i's rows at i n..
        let mut z = Mat::<T>::zeros(nb * n, p);
        z.as_mut().get_mut(..n, ..).copy_from(y);
        let failed: std::sync::Mutex<Option<crate::error::Error>> = std::sync::Mutex::new(None);
        let fail = |e| {
            failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
        };
        // down the tree, the root first; each merge on a fixed number of column pieces, all the
        // pieces of a level's merges on the threads (columns are independent; fixed, so the bits
        // do not depend on the thread count; on one thread the dense stacked Q took 7-10 ms of a
        // 100 ms thin SVD of 10000x256 while the other thread waited, session 17)
        let piece = p.div_ceil(STACKED_PIECES).max(1);
        let pieces = p.div_ceil(piece);
        let (zp, zcs) = (SendPtr(z.as_ptr_mut()), z.col_stride());
        for (level, merges) in self.levels.iter().enumerate().rev() {
            let pairs = merge_pairs(nb, level);
            par.for_each(pairs.len() * pieces, &|task| {
                let ((top, bot), t) = (pairs[task / pieces], task % pieces);
                let (c0, c1) = (t * piece, ((t + 1) * piece).min(p));
                // SAFETY: rows of positions `top` and `bot` and columns c0..c1 of `z`, written by
                // this task alone (a level's pairs are disjoint).
                let (zt, zb) = unsafe {
                    let at = |pos: usize| zp.get().offset((pos * n) as isize + c0 as isize * zcs);
                    (MatMut::from_raw_parts_mut(at(top), n, c1 - c0, 1, zcs), MatMut::from_raw_parts_mut(at(bot), n, c1 - c0, 1, zcs))
                };
                merges[task / pieces].apply_q(zt, zb);
            });
        }
        let (op, ors, ocs) = (SendPtr(out.as_ptr_mut()), out.row_stride(), out.col_stride());
        // a row-major `out` gets each block through a column-major copy: faer's product with a
        // row-major destination cost 5 ms more for a 10000x256 `U` (`row_major_timing`)
        let row_major = ors.abs() > ocs.abs();
        par.for_each(nb, &|i| {
            let (r0, r1) = (self.bounds[i], self.bounds[i + 1]);
            // SAFETY: rows r0..r1 of `out`, written by task i alone.
            let mut oi = unsafe { MatMut::from_raw_parts_mut(op.get().offset(r0 as isize * ors), r1 - r0, p, ors, ocs) };
            let mut col_major = if row_major { Some(Mat::<T>::zeros(r1 - r0, p)) } else { None };
            let mut yi = match col_major.as_mut() {
                Some(c) => c.as_mut(),
                None => {
                    oi.fill(T::ZERO);
                    oi.rb_mut()
                }
            };
            // out_i = Q_i [z_i; 0]
            yi.rb_mut().get_mut(..n, ..).copy_from(z.as_ref().get(i * n..(i + 1) * n, ..));
            if let Err(e) = self.blocks[i].apply_q(yi.rb_mut()) {
                fail(e);
            }
            if let Some(c) = &col_major {
                // SAFETY: `c` and `oi` have the same shape; `oi` is this task's alone.
                unsafe { gemm::copy_tiled(gemm::Mat::of(c.as_ref()), gemm::Mat::of_mut(oi.rb_mut())) };
            }
        });
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Reflectors per block of a triangle merge ([`Merge`]): its trailing updates are products with
/// this inner dimension. 12-24 merged two 256x256 triangles in the same time within noise
/// (0.55-0.7 ms; 8: 0.83, 64: 2.1 before the panels were compiled for AVX2).
const MERGE_BLOCK: usize = 32;

/// Two stacked `n x n` upper triangles factored, `[R_top; R_bot] = Q [R; 0]`, by Householder
/// reflectors that touch only rows that can be nonzero (LAPACK's `tpqrt` with a triangular
/// bottom): reflector `j` acts on row `j` of the top and rows `0..=j` of the bottom, which stays
/// upper triangular. `2/3 n^3` flops, where a QR of the dense `2n x n` stack takes `10/3 n^3`
/// (for 10000x256 in four blocks the dense stacked QR took 4.6 ms on one thread while the other
/// waited).
struct Merge<T> {
    n: usize,
    b: usize,
    /// reflector `j`'s vector in column `j`, rows `0..=j` (column-major `n x n`, upper
    /// triangular); its entry in the top is an implicit 1 in row `j`
    v: Vec<T>,
    /// the upper triangular `T` of each block's compact form `I - V T V^T`, block `k` in
    /// columns `k b..` of this column-major `b x n` array
    t: Vec<T>,
}

impl<T: Real> Merge<T> {
    /// Factors in place: `top` (column-major `n x n`, upper triangular) becomes `R`; `bot`
    /// (the same, zeros below the diagonal) becomes the reflectors.
    fn new(top: &mut [T], mut bot: Vec<T>, n: usize) -> Self {
        let b = MERGE_BLOCK.min(n).max(1);
        let mut t = vec![T::ZERO; b * n];
        let mut s = vec![T::ZERO; b];
        for j0 in (0..n).step_by(b) {
            let j1 = (j0 + b).min(n);
            let bw = j1 - j0;
            #[cfg(target_arch = "x86_64")]
            if crate::cpu::has_avx2_fma() {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                unsafe { merge_panel_avx2(top, &mut bot, &mut t, &mut s, n, b, j0, j1) };
            } else {
                merge_panel(top, &mut bot, &mut t, &mut s, n, b, j0, j1);
            }
            #[cfg(not(target_arch = "x86_64"))]
            merge_panel(top, &mut bot, &mut t, &mut s, n, b, j0, j1);
            if j1 == n {
                continue;
            }
            // the later columns: [top; bot] -= [I; V] T^T ([I; V]^T [top; bot]) on rows j0..j1
            // of the top and 0..j1 of the bottom
            let nc = n - j1;
            let (left, right) = bot.split_at_mut(j1 * n);
            let v = faer::MatRef::from_column_major_slice_with_stride(&left[j0 * n..], j1, bw, n);
            let c_bot = faer::MatMut::from_column_major_slice_with_stride_mut(right, j1, nc, n);
            let tk = faer::MatRef::from_column_major_slice_with_stride(&t[j0 * b..], bw, bw, b);
            let c_top = faer::MatMut::from_column_major_slice_with_stride_mut(&mut top[j1 * n + j0..], bw, nc, n);
            block_update(v, tk.transpose(), c_top, c_bot);
        }
        Merge { n, b, v: bot, t }
    }

    /// `[y_top; y_bot] <- Q [y_top; y_bot]` (`n x p` each).
    fn apply_q(&self, mut y_top: MatMut<'_, T>, mut y_bot: MatMut<'_, T>) {
        let (n, b) = (self.n, self.b);
        // Q = H_0 H_1 ... H_{n-1}: the last block first
        for j0 in (0..n).step_by(b).rev() {
            let j1 = (j0 + b).min(n);
            let bw = j1 - j0;
            let v = faer::MatRef::from_column_major_slice_with_stride(&self.v[j0 * n..], j1, bw, n);
            let tk = faer::MatRef::from_column_major_slice_with_stride(&self.t[j0 * b..], bw, bw, b);
            block_update(v, tk, y_top.rb_mut().get_mut(j0..j1, ..), y_bot.rb_mut().get_mut(..j1, ..));
        }
    }
}

/// Columns `j0..j1` of a [`Merge`]: their reflectors, each applied to the block's later
/// columns (vector by vector: the block is narrow), and the block's `T`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn merge_panel<T: Real>(top: &mut [T], bot: &mut [T], t: &mut [T], s: &mut [T], n: usize, b: usize, j0: usize, j1: usize) {
    let bw = j1 - j0;
    for j in j0..j1 {
        let (head, tail) = bot.split_at_mut((j + 1) * n);
        let v = &mut head[j * n..j * n + j + 1];
        let (beta, tau) = householder(top[j * n + j], v);
        top[j * n + j] = beta;
        t[(j - j0) + j * b] = tau;
        if tau == T::ZERO {
            continue;
        }
        // the block's later columns
        for c in j + 1..j1 {
            let col = &mut tail[(c - j - 1) * n..(c - j - 1) * n + j + 1];
            let f = T::ZERO - tau * (top[c * n + j] + dot(v, col));
            top[c * n + j] = top[c * n + j] + f;
            axpy(f, v, col);
        }
    }
    // T (LAPACK's dlarft, forward, columnwise): T[..i, i] = -tau_i T[..i, ..i] V[.., ..i]^T v_i,
    // where v_k and v_i (k < i) share rows 0..=j0 + k of the bottom (their units are in
    // different rows of the top)
    for i in 1..bw {
        let ci = (j0 + i) * n;
        let tau = t[i + (j0 + i) * b];
        for (k, sk) in s[..i].iter_mut().enumerate() {
            let ck = (j0 + k) * n;
            *sk = dot(&bot[ck..ck + j0 + k + 1], &bot[ci..ci + j0 + k + 1]);
        }
        for r in 0..i {
            let mut acc = T::ZERO;
            for (k, sk) in s.iter().enumerate().take(i).skip(r) {
                acc = acc + t[r + (j0 + k) * b] * *sk;
            }
            t[r + (j0 + i) * b] = T::ZERO - tau * acc;
        }
    }
}

/// [`merge_panel`] compiled for AVX2 (the same operations in the same order: Rust never fuses
/// `a * b + c`, so the same bits): a merge of two 256x256 triangles took 1.44 ms with the
/// generic build's SSE2 vectors, 0.69 with these (`merge_timing`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn merge_panel_avx2<T: Real>(top: &mut [T], bot: &mut [T], t: &mut [T], s: &mut [T], n: usize, b: usize, j0: usize, j1: usize) {
    merge_panel(top, bot, t, s, n, b, j0, j1)
}

/// `[c_top; c_bot] -= [I; v] (tk ([I; v]^T [c_top; c_bot]))` with the products of faer (the
/// shapes are small: `tk` is at most `MERGE_BLOCK` square).
fn block_update<T: Real>(v: MatRef<'_, T>, tk: MatRef<'_, T>, mut c_top: MatMut<'_, T>, c_bot: MatMut<'_, T>) {
    use faer::linalg::matmul::matmul;
    let mut w = c_top.to_owned();
    matmul(w.as_mut(), faer::Accum::Add, v.transpose(), c_bot.rb(), T::ONE, faer::Par::Seq);
    let mut tw = Mat::<T>::zeros(w.nrows(), w.ncols());
    matmul(tw.as_mut(), faer::Accum::Replace, tk, w.as_ref(), T::ONE, faer::Par::Seq);
    for j in 0..tw.ncols() {
        for i in 0..tw.nrows() {
            c_top[(i, j)] = c_top[(i, j)] - tw[(i, j)];
        }
    }
    matmul(c_bot, faer::Accum::Add, v, tw.as_ref(), T::ZERO - T::ONE, faer::Par::Seq);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::randomized::gaussian;

    #[test]
    fn tsqr_factors_and_ignores_thread_count() {
        // two, three and four blocks (merge trees of one and two levels); n across the merge's
        // 32-column blocks; the last two rank-deficient (a zero column, repeated columns: zero
        // reflectors in the merges)
        let shapes = [(40usize, 5usize, 0usize), (20, 5, 0), (30, 5, 0), (1000, 17, 0), (2001, 64, 0), (9, 1, 0), (1300, 100, 0), (700, 70, 1), (700, 70, 2)];
        for (m, n, kind) in shapes {
            let a = Mat::<f64>::from_fn(m, n, |i, j| match kind {
                1 if j == 3 => 0.0,
                2 => gaussian(3, (i * n + j % 7) as u64),
                _ => gaussian(3, (i * n + j) as u64),
            });
            crate::threads::set_num_threads(2);
            let pool = crate::threads::current();
            let one = Tsqr::factor(a.as_ref(), Par::SEQ).unwrap();
            let two = Tsqr::factor(a.as_ref(), pool.par()).unwrap();
            let r = one.r();
            assert_eq!(r, two.r(), "{m}x{n}: threads changed R");
            let mut q = Mat::<f64>::zeros(m, n);
            one.apply_q(Mat::<f64>::identity(n, n).as_ref(), q.as_mut(), pool.par()).unwrap();
            let mut q1 = Mat::<f64>::zeros(m, n);
            one.apply_q(Mat::<f64>::identity(n, n).as_ref(), q1.as_mut(), Par::SEQ).unwrap();
            assert_eq!(q, q1, "{m}x{n}: threads changed Q");
            let tol = 1e-14 * (m as f64);
            assert!((&q * &r - &a).norm_max() <= tol * a.norm_max(), "{m}x{n}: A != QR");
            assert!((q.transpose() * &q - Mat::<f64>::identity(n, n)).norm_max() <= tol, "{m}x{n}: Q not orthonormal");
        }
    }

    /// TSQR of a row-major and a column-major 10000x256 matrix on two threads, and `Q` applied
    /// into a row-major and a column-major `U` (`--ignored --nocapture`, medians of 15
    /// interleaved).
    #[test]
    #[ignore]
    fn row_major_timing() {
        let (m, n) = (10000usize, 256usize);
        let data = crate::testing::data(m * n, 9);
        let rm = faer::MatRef::from_row_major_slice(&data, m, n);
        let cm = faer::MatRef::from_column_major_slice(&data, m, n);
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let [f_row, f_col] = crate::testing::interleaved_medians([
            &mut || drop(Tsqr::factor(rm, pool.par()).unwrap()),
            &mut || drop(Tsqr::factor(cm, pool.par()).unwrap()),
        ]);
        println!("factor: row-major {f_row:.2} ms, col-major {f_col:.2} ms");
        let q = Tsqr::factor(cm, pool.par()).unwrap();
        let y = faer::Mat::<f64>::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.0 });
        let mut orow = vec![0.0; m * n];
        let mut ocol = faer::Mat::<f64>::zeros(m, n);
        let [a_row, a_col] = crate::testing::interleaved_medians([
            &mut || q.apply_q(y.as_ref(), faer::MatMut::from_row_major_slice_mut(&mut orow, m, n), pool.par()).unwrap(),
            &mut || q.apply_q(y.as_ref(), ocol.as_mut(), pool.par()).unwrap(),
        ]);
        println!("apply_q: row-major out {a_row:.2} ms, col-major {a_col:.2} ms");
        assert!(orow.iter().enumerate().all(|(x, v)| v.to_bits() == ocol[(x / n, x % n)].to_bits()));
    }

    /// One merge of two 256x256 triangles on one thread (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn merge_timing() {
        let n = 256usize;
        let tri = |seed: u64| -> Vec<f64> { (0..n * n).map(|x| if x % n <= x / n { gaussian(seed, x as u64) } else { 0.0 }).collect() };
        let mut times = Vec::new();
        for round in 0..30 {
            let (mut top, bot) = (tri(round), tri(round + 100));
            let t = std::time::Instant::now();
            let m = Merge::new(&mut top, bot, n);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            drop(m);
        }
        times.sort_by(f64::total_cmp);
        println!("merge 256: median {:.3} ms, min {:.3} ({:.1} GFLOP/s at the median)", times[15], times[0], 2.0 / 3.0 * (n * n * n) as f64 / times[15] / 1e6);
    }
}
