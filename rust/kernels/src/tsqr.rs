//! Tall-skinny QR (TSQR) of one tall matrix on all threads, for the SVD of tall matrices.
//!
//! `A` (`m x n`, `m >= 2n`) is cut into a few row blocks `A_i`, each factored by Householder QR
//! (`A_i = Q_i R_i`) in parallel; the stacked `R_i` are factored once more (`[R_1; ...] = Q_s R`),
//! so `A = diag(Q_i) Q_s R`. Only the number of blocks, fixed by the shape, decides what each
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
use faer::reborrow::ReborrowMut;
use faer::{Conj, Mat, MatMut, MatRef};

/// At most this many row blocks: on the 2-core machine four balance the two threads, and every
/// further block adds `2 n^3` flops to the stacked factorization.
const MAX_BLOCKS: usize = 4;

/// `Q_s`, the stacked factorization's `Q`, is applied to this many pieces of columns at once.
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
    let mut out = Mat::<T>::zeros(a.nrows(), a.ncols());
    // SAFETY: `out` has `a`'s shape and is a fresh matrix of its own.
    unsafe { gemm::copy_tiled(gemm::Mat::of(a), gemm::Mat::of_mut(out.as_mut())) };
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
    stacked: Factored<T>,
    /// The largest `|a_ij|` (NaN left out) and whether every entry is finite, found in the
    /// blocks' copies (see [`Tsqr::factor`]).
    pub(crate) amax: T,
    pub(crate) finite: bool,
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
        // the stacked R_i (zeros below each diagonal)
        let stack = Mat::<T>::from_fn(nb * n, n, |i, j| {
            let (b, r) = (i / n, i % n);
            if r <= j { factored[b].qr[(r, j)] } else { T::ZERO }
        });
        let stacked = Factored::new(stack)?;
        Ok(Tsqr { n, bounds, blocks: factored, stacked, amax, finite })
    }

    /// The `n x n` upper triangular factor `R`.
    pub(crate) fn r(&self) -> Mat<T> {
        Mat::from_fn(self.n, self.n, |i, j| if i <= j { self.stacked.qr[(i, j)] } else { T::ZERO })
    }

    /// `out = Q y` for `y` (`n x p`) and `out` (`m x p`, any strides), the blocks in parallel.
    pub(crate) fn apply_q(&self, y: MatRef<'_, T>, out: MatMut<'_, T>, par: Par) -> Result<()> {
        let (n, p, nb) = (self.n, y.ncols(), self.blocks.len());
        // z = Q_s [y; 0]
        let mut z = Mat::<T>::zeros(nb * n, p);
        z.as_mut().get_mut(..n, ..).copy_from(y);
        let failed: std::sync::Mutex<Option<crate::error::Error>> = std::sync::Mutex::new(None);
        let fail = |e| {
            failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
        };
        // in a fixed number of column pieces on the threads (columns are independent; fixed, so
        // the bits do not depend on the thread count). On one thread this took 7-10 ms of a
        // 100 ms thin SVD of 10000x256 while the other thread waited; in pieces the whole SVD
        // ran in 0.91-0.95x the time (256x10000: 0.97x; session 17, interleaved)
        let piece = p.div_ceil(STACKED_PIECES).max(1);
        let (zp, zcs) = (SendPtr(z.as_ptr_mut()), z.col_stride());
        par.for_each(p.div_ceil(piece), &|t| {
            let (c0, c1) = (t * piece, ((t + 1) * piece).min(p));
            // SAFETY: columns c0..c1 of `z`, written by task t alone.
            let zt = unsafe { MatMut::from_raw_parts_mut(zp.get().offset(c0 as isize * zcs), nb * n, c1 - c0, 1, zcs) };
            if let Err(e) = self.stacked.apply_q(zt) {
                fail(e);
            }
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::randomized::gaussian;

    #[test]
    fn tsqr_factors_and_ignores_thread_count() {
        for (m, n) in [(40usize, 5usize), (1000, 17), (2001, 64), (9, 1)] {
            let a = Mat::<f64>::from_fn(m, n, |i, j| gaussian(3, (i * n + j) as u64));
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
}
