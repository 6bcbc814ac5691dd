//! LU factorization with partial pivoting and what is built on it: `inv`, `solve`, `det` and
//! `slogdet`, with NumPy's semantics (batches `(..., n, n)`, `solve`'s broadcasting of `b`).
//!
//! Two engines, picked by the order `n` of the matrices:
//! - `n <= SMALL_MAX` (40): our own unblocked LU on a row-major copy that stays in L1 (an 8x8
//!   matrix is half a KiB), with row-oriented solves; for n <= 8 the order is a compile-time
//!   constant (`fixed`), so the loops unroll. faer's LU is recursive and blocked, built for large
//!   matrices: on small ones its dispatch and strided views cost more than the arithmetic.
//! - larger: faer's blocked, recursive LU (`linalg::lu::partial_pivoting`) on a column-major
//!   copy, then faer's triangular solves or its inverse from the factors. One large matrix gets
//!   faer's own threads; a batch of them is split across the pool instead, one matrix per task.
//!
//! Singularity is decided as LAPACK's `getrf` decides it: an exact zero pivot. No tolerance is
//! invented; a nearly singular matrix gives a (large, inaccurate) answer, as in NumPy. `inv` and
//! `solve` report a singular matrix as an error naming its batch position (the first one, so the
//! message does not depend on the thread count); `det` and `slogdet` return 0 and (0, -inf).
//!
//! The input is never written: every matrix is copied before it is factored. The copy is also
//! where the `check_finite` test happens, so finiteness costs no extra pass over the data.

use crate::checks;
use crate::workspace;
use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::strided::{broadcast_shapes, broadcast_strides, ArrayMut, ArrayRef, BatchOffsets, Dims, Strides};
use crate::threads::Par;
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::lu::partial_pivoting::{factor, inverse, solve};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Up to this order matrices are factored by the in-cache LU of this module; above it by faer.
/// Measured on this project's machine (f64, one core, per matrix of a batch, ours / faer's):
/// n = 40: inv 23 / 34 us, det 7.7 / 8.3 us, solve 8.7 / 8.3 us; n = 48: inv 38 / 36 us,
/// det 12.2 / 10.3 us; n = 64: ours is 1.2-1.8x slower. Below 32 ours wins by 1.5-3x.
pub const SMALL_MAX: usize = 40;

/// A single matrix of at least this order gets faer's
/// own threads inside its factorization. Not tuned: a judgement that below it the sequential
/// factorization (under ~1 ms) is too short to repay waking the pool's workers (up to ~0.1 ms on
/// this machine, see `threads`); faer itself only splits its updates above 128 x 128.
const PAR_MIN_N: usize = 192;

/// A strided matrix: where it starts, its column count and strides in elements (the row count
/// is the order `n` of the problem).
#[derive(Clone, Copy, Debug)]
struct Mat<T> {
    ptr: *mut T,
    cols: usize,
    rs: isize,
    cs: isize,
}

// SAFETY: a `Mat` only describes memory; the functions taking it say who reads or writes what.
unsafe impl<T> Send for Mat<T> {}
unsafe impl<T> Sync for Mat<T> {}

impl<T: Copy> Mat<T> {
    /// # Safety
    /// The result must address memory the caller may access with the same layout.
    #[inline]
    unsafe fn offset(self, off: isize) -> Self {
        Mat { ptr: self.ptr.offset(off), ..self }
    }
    /// # Safety
    /// `(i, j)` within the shape and the memory readable.
    #[inline(always)]
    unsafe fn get(self, i: usize, j: usize) -> T {
        *self.ptr.offset(i as isize * self.rs + j as isize * self.cs)
    }
    /// # Safety
    /// `(i, j)` within the shape and the memory writable by this thread.
    #[inline(always)]
    unsafe fn set(self, i: usize, j: usize, v: T) {
        *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) = v;
    }
}

/// The order of the square matrices in the last two axes of `shape`, or a shape error naming the
/// function.
fn square_order(what: &str, shape: &[usize]) -> Result<usize> {
    let nd = shape.len();
    if nd < 2 {
        return Err(Error::Shape {
            what: format!("{what}: the argument must have at least two dimensions (a matrix or a stack of matrices)"),
            shapes: vec![shape.to_vec()],
        });
    }
    if shape[nd - 1] != shape[nd - 2] {
        return Err(Error::Shape {
            what: format!("{what}: the last two dimensions must be square"),
            shapes: vec![shape.to_vec()],
        });
    }
    Ok(shape[nd - 1])
}

fn split_matrix(shape: &[usize], strides: &[isize]) -> (Dims, Strides, isize, isize) {
    let nd = shape.len();
    (Dims::from_slice(&shape[..nd - 2]), Strides::from_slice(&strides[..nd - 2]), strides[nd - 2], strides[nd - 1])
}

/// The shape of `inv(a)`: that of `a`, once `a` is checked to be a stack of square matrices.
pub fn inv_shape(a: &[usize]) -> Result<Dims> {
    square_order("inv", a)?;
    Ok(Dims::from_slice(a))
}

/// The shape of `det(a)` and of each part of `slogdet(a)`: `a`'s batch axes.
pub fn det_shape(what: &str, a: &[usize]) -> Result<Dims> {
    square_order(what, a)?;
    Ok(Dims::from_slice(&a[..a.len() - 2]))
}

/// The shape of `solve(a, b)` under NumPy 2's rules: `b` is one vector `(n,)` (broadcast against
/// every matrix of `a`) only when it is 1-D; otherwise it is a stack of `(n, k)` matrices whose
/// batch axes broadcast against `a`'s.
pub fn solve_shape(a: &[usize], b: &[usize]) -> Result<Dims> {
    let n = square_order("solve", a)?;
    let err = |what: &str| Error::Shape { what: format!("solve: {what}"), shapes: vec![a.to_vec(), b.to_vec()] };
    let a_batch = &a[..a.len() - 2];
    match b.len() {
        0 => Err(err("b must have at least one dimension")),
        1 => {
            if b[0] != n {
                return Err(err("b (a vector) must have as many elements as a has rows"));
            }
            Ok(Dims::from_slice(&a[..a.len() - 1]))
        }
        nb => {
            if b[nb - 2] != n {
                return Err(err("the second-to-last axis of b must have as many elements as a has rows"));
            }
            let mut out = broadcast_shapes(a_batch, &b[..nb - 2])
                .ok_or_else(|| err("the batch axes (all but the last two) do not broadcast"))?;
            out.push(n);
            out.push(b[nb - 1]);
            Ok(out)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the small engine

/// LU with partial pivoting of the row-major `n x n` matrix in `m`, in place (`P A = L U`, `L`
/// unit lower triangular below the diagonal, `U` on and above it); `piv[k]` is the row swapped
/// with row `k` at step `k`. As LAPACK's `getf2`, a zero pivot is recorded and its elimination
/// step skipped (nothing would be eliminated), so the factorization completes with finite
/// numbers. Returns the first zero pivot's index, and whether the number of swaps is odd.
fn lu_small<T: Real>(n: usize, m: &mut [T], piv: &mut [usize]) -> (Option<usize>, bool) {
    debug_assert!(m.len() >= n * n && piv.len() >= n);
    let mut first_zero = None;
    let mut odd = false;
    for k in 0..n {
        let mut p = k;
        let mut max = m[k * n + k].abs();
        for i in k + 1..n {
            let v = m[i * n + k].abs();
            if v > max {
                max = v;
                p = i;
            }
        }
        piv[k] = p;
        if p != k {
            let (top, bottom) = m.split_at_mut(p * n);
            top[k * n..k * n + n].swap_with_slice(&mut bottom[..n]);
            odd = !odd;
        }
        let pivot = m[k * n + k];
        if pivot == T::ZERO {
            first_zero.get_or_insert(k);
            continue;
        }
        // LAPACK's choice: multiply by the reciprocal unless it would overflow
        let scale_by_recip = pivot.abs() >= T::MIN_POSITIVE;
        let r = T::ONE / pivot;
        let (top, bottom) = m.split_at_mut((k + 1) * n);
        let urow = &top[k * n + k + 1..k * n + n];
        for row in bottom.chunks_exact_mut(n) {
            let l = if scale_by_recip { row[k] * r } else { row[k] / pivot };
            row[k] = l;
            if l != T::ZERO {
                for (x, &u) in row[k + 1..].iter_mut().zip(urow) {
                    *x = *x - l * u;
                }
            }
        }
    }
    (first_zero, odd)
}

/// Solves `A X = B` in place in the row-major `n x k` matrix `x` from the factors of
/// [`lu_small`] (no zero pivot). Row operations: each step is an axpy on whole rows of `x`,
/// contiguous and vectorizable (the inverse is this with `X = I`).
fn lu_small_solve<T: Real>(n: usize, lu: &[T], piv: &[usize], x: &mut [T], k: usize) {
    debug_assert!(x.len() >= n * k);
    for i in 0..n {
        if piv[i] != i {
            let (top, bottom) = x.split_at_mut(piv[i] * k);
            top[i * k..i * k + k].swap_with_slice(&mut bottom[..k]);
        }
    }
    for i in 1..n {
        let (done, rest) = x.split_at_mut(i * k);
        let xi = &mut rest[..k];
        for (j, &l) in lu[i * n..i * n + i].iter().enumerate() {
            if l != T::ZERO {
                for (v, &w) in xi.iter_mut().zip(&done[j * k..j * k + k]) {
                    *v = *v - l * w;
                }
            }
        }
    }
    for i in (0..n).rev() {
        let (head, done) = x.split_at_mut((i + 1) * k);
        let xi = &mut head[i * k..];
        for (j, &u) in lu[i * n + i + 1..i * n + n].iter().enumerate() {
            if u != T::ZERO {
                for (v, &w) in xi.iter_mut().zip(&done[j * k..j * k + k]) {
                    *v = *v - u * w;
                }
            }
        }
        let d = lu[i * n + i];
        for v in xi.iter_mut() {
            *v = *v / d;
        }
    }
}

/// Solves `A x = b` for one vector, in place in `x`, from the factors of [`lu_small`]: dot
/// products along the contiguous rows of the factors.
fn lu_small_solve_vec<T: Real>(n: usize, lu: &[T], piv: &[usize], x: &mut [T]) {
    for k in 0..n {
        x.swap(k, piv[k]);
    }
    for i in 1..n {
        let (done, rest) = x.split_at_mut(i);
        rest[0] = rest[0] - dot(&lu[i * n..i * n + i], done);
    }
    for i in (0..n).rev() {
        let (head, done) = x.split_at_mut(i + 1);
        head[i] = (head[i] - dot(&lu[i * n + i + 1..i * n + n], &done[..n - i - 1])) / lu[i * n + i];
    }
}

/// A dot product in four independent partial sums (the compiler may not reorder float adds
/// itself, and one chain of dependent adds would be latency-bound).
#[inline]
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::ZERO; 4];
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..4 {
            acc[l] = acc[l] + x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
    for (x, y) in ar.iter().zip(br) {
        s = s + *x * *y;
    }
    s
}

/// The small engine for an order `N` known at compile time (n <= 8): the same arithmetic as
/// [`lu_small`] and [`lu_small_solve`], but with every loop bound a constant the compiler
/// unrolls, so an 8x8 problem runs from registers without loop or bounds-check overhead.
mod fixed {
    use crate::scalar::Real;

    /// The row-major `N x N` matrix at the start of `m`.
    fn as_matrix<T, const N: usize>(m: &mut [T]) -> &mut [[T; N]; N] {
        assert!(m.len() >= N * N);
        // SAFETY: `m` holds at least N*N contiguous `T`s, which is the layout of [[T; N]; N]
        // (same alignment as T); the borrow is `m`'s.
        unsafe { &mut *(m.as_mut_ptr() as *mut [[T; N]; N]) }
    }

    /// Copies the strided matrix `a` into the row-major scratch `m`; rows with unit stride (C
    /// order) as whole-row copies.
    ///
    /// # Safety
    /// `a` must be a readable `N x N` matrix.
    #[inline(always)]
    pub unsafe fn load<T: Real, const N: usize>(a: super::Mat<T>, m: &mut [T]) {
        let m = as_matrix::<T, N>(m);
        if a.cs == 1 {
            for (i, row) in m.iter_mut().enumerate() {
                // SAFETY: with unit column stride, row i of `a` is N contiguous `T`s, aligned as
                // `T` (which is `[T; N]`'s alignment).
                *row = *(a.ptr.offset(i as isize * a.rs) as *const [T; N]);
            }
        } else {
            for (i, row) in m.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = a.get(i, j);
                }
            }
        }
    }

    #[inline(always)]
    pub fn lu<T: Real, const N: usize>(m: &mut [T], piv: &mut [usize]) -> (Option<usize>, bool) {
        let m = as_matrix::<T, N>(m);
        let piv = &mut piv[..N];
        let mut first_zero = None;
        let mut odd = false;
        for k in 0..N {
            let mut p = k;
            let mut max = m[k][k].abs();
            for i in k + 1..N {
                // selects, not branches: which row wins is data, unpredictable
                let v = m[i][k].abs();
                let better = v > max;
                max = if better { v } else { max };
                p = if better { i } else { p };
            }
            piv[k] = p;
            if p != k {
                m.swap(k, p);
                odd = !odd;
            }
            let pivot = m[k][k];
            if pivot == T::ZERO {
                first_zero.get_or_insert(k);
                continue;
            }
            let scale_by_recip = pivot.abs() >= T::MIN_POSITIVE;
            let r = T::ONE / pivot;
            // U's row with its first k + 1 entries zeroed: the update then runs over whole rows
            // (a constant length, unrolled and vectorized) and leaves columns 0..=k unchanged
            let mut urow = m[k];
            for (j, u) in urow.iter_mut().enumerate() {
                *u = if j <= k { T::ZERO } else { *u };
            }
            for row in m[k + 1..].iter_mut() {
                let l = if scale_by_recip { row[k] * r } else { row[k] / pivot };
                for j in 0..N {
                    row[j] = row[j] - l * urow[j];
                }
                row[k] = l;
            }
        }
        (first_zero, odd)
    }

    /// `X = A^-1` (row-major, `N x N`) from the factors.
    #[inline(always)]
    pub fn inverse<T: Real, const N: usize>(lu: &mut [T], piv: &[usize], x: &mut [T]) {
        let lu = &*as_matrix::<T, N>(lu);
        let x = as_matrix::<T, N>(x);
        for (i, row) in x.iter_mut().enumerate() {
            *row = [T::ZERO; N];
            row[i] = T::ONE;
        }
        for k in 0..N {
            x.swap(k, piv[k]);
        }
        for i in 1..N {
            for j in 0..i {
                let l = lu[i][j];
                let xj = x[j];
                for c in 0..N {
                    x[i][c] = x[i][c] - l * xj[c];
                }
            }
        }
        for i in (0..N).rev() {
            for j in i + 1..N {
                let u = lu[i][j];
                let xj = x[j];
                for c in 0..N {
                    x[i][c] = x[i][c] - u * xj[c];
                }
            }
            let d = lu[i][i];
            for c in 0..N {
                x[i][c] = x[i][c] / d;
            }
        }
    }

    /// Solves `A x = b` for one vector, in place in `x[..N]`.
    #[inline(always)]
    pub fn solve_vec<T: Real, const N: usize>(lu: &mut [T], piv: &[usize], x: &mut [T]) {
        let lu = &*as_matrix::<T, N>(lu);
        let x: &mut [T; N] = (&mut x[..N]).try_into().expect("N elements");
        for k in 0..N {
            x.swap(k, piv[k]);
        }
        for i in 1..N {
            let mut s = x[i];
            for j in 0..i {
                s = s - lu[i][j] * x[j];
            }
            x[i] = s;
        }
        for i in (0..N).rev() {
            let mut s = x[i];
            for j in i + 1..N {
                s = s - lu[i][j] * x[j];
            }
            x[i] = s / lu[i][i];
        }
    }
}

/// The fixed-order LU and vector solve compiled a second time for AVX2 (4 doubles per instruction
/// instead of SSE2's 2), picked at run time. Only the vector width changes, not the operations
/// (no fused multiply-adds), so the results are bit-identical either way. Measured (10000 8x8
/// f64, one core): det 1.95 -> 1.75 ms, solve 2.6 -> 1.95 ms; the inverse got slower (3.3 ->
/// 4.2 ms), so it stays SSE2.
mod fixed_dispatch {
    use super::fixed;
    use crate::scalar::Real;

    #[cfg(target_arch = "x86_64")]
    fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }

    macro_rules! dispatch {
        ($name:ident, $avx:ident, ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn $avx<T: Real, const N: usize>($($arg: $ty),*) $(-> $ret)? {
                fixed::$name::<T, N>($($arg),*)
            }
            #[inline]
            pub fn $name<T: Real, const N: usize>($($arg: $ty),*) $(-> $ret)? {
                #[cfg(target_arch = "x86_64")]
                if has_avx2() {
                    // SAFETY: the CPU has AVX2 (checked just above).
                    return unsafe { $avx::<T, N>($($arg),*) };
                }
                fixed::$name::<T, N>($($arg),*)
            }
        };
    }
    dispatch!(lu, lu_avx2, (m: &mut [T], piv: &mut [usize]) -> (Option<usize>, bool));
    dispatch!(solve_vec, solve_vec_avx2, (lu: &mut [T], piv: &[usize], x: &mut [T]));
}

/// Calls `fixed::$f::<T, n>(args)` for orders 1 to 8, else evaluates `$fallback`.
macro_rules! by_order {
    ($n:expr, $f:ident($($arg:expr),*), $fallback:expr) => {
        by_order!($n, fixed_dispatch::$f($($arg),*), $fallback)
    };
    ($n:expr, $m:ident::$f:ident($($arg:expr),*), $fallback:expr) => {
        match $n {
            1 => $m::$f::<T, 1>($($arg),*),
            2 => $m::$f::<T, 2>($($arg),*),
            3 => $m::$f::<T, 3>($($arg),*),
            4 => $m::$f::<T, 4>($($arg),*),
            5 => $m::$f::<T, 5>($($arg),*),
            6 => $m::$f::<T, 6>($($arg),*),
            7 => $m::$f::<T, 7>($($arg),*),
            8 => $m::$f::<T, 8>($($arg),*),
            _ => $fallback,
        }
    };
}

/// Right-hand sides are solved in blocks of this many columns by the small engine, so its
/// scratch stays small (and in cache) for any `k`.
const RHS_BLOCK: usize = 32;

// ---------------------------------------------------------------------------------------------
// per-thread workspace, both engines

/// What happened to one matrix of the batch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Done,
    Singular,
    NonFinite,
}

/// A factored matrix: first zero pivot (if any) and the parity of the row permutation.
struct Factored {
    zero_pivot: Option<usize>,
    odd: bool,
}

/// Scratch memory of one thread, reused across the matrices of its range.
struct Workspace<T: Real> {
    n: usize,
    /// The factors: row-major for the small engine, column-major for faer.
    lu: Vec<T>,
    piv: Vec<usize>,
    perm_inv: Vec<usize>,
    /// A block of right-hand sides, row-major (small engine).
    x: Vec<T>,
    /// faer's scratch (large engine), sized for the factorization and `rhs_cols` right-hand sides.
    mem: Option<MemBuffer>,
    /// Whether `lu` holds the factors of `A^T` rather than `A` (large engine).
    transposed: bool,
}

impl<T: Real> Workspace<T> {
    fn new(n: usize, rhs_cols: usize, par: faer::Par) -> Self {
        let mem = (n > SMALL_MAX).then(|| {
            MemBuffer::new(StackReq::any_of(&[
                factor::lu_in_place_scratch::<usize, T>(n, n, par, Default::default()),
                inverse::inverse_scratch::<usize, T>(n, par),
                solve::solve_in_place_scratch::<usize, T>(n, rhs_cols.max(1), par),
            ]))
        });
        // the large engine's factors are written by the copy in `factor` (an n = 1000 matrix
        // zeroed first cost ~0.5 ms of a 15 ms `solve`)
        let lu = if n <= SMALL_MAX { vec![T::ZERO; n * n] } else { Vec::with_capacity(n * n) };
        Workspace { n, lu, piv: vec![0; n], perm_inv: vec![0; n], x: vec![T::ZERO; if n <= SMALL_MAX { n * n.max(RHS_BLOCK) } else { 0 }], mem, transposed: false }
    }

    fn is_small(&self) -> bool {
        self.n <= SMALL_MAX
    }

    /// Copies `a` in (row-major for the small engine, column-major for faer) and factors it.
    /// `None` if `check` is set and `a` holds a NaN or an infinity.
    ///
    /// # Safety
    /// `a` must be a readable `n x n` matrix.
    unsafe fn factor(&mut self, a: Mat<T>, check: bool, par: faer::Par) -> Option<Factored> {
        let n = self.n;
        if self.is_small() {
            by_order!(n, fixed::load(a, &mut self.lu), {
                for i in 0..n {
                    let row = &mut self.lu[i * n..i * n + n];
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = a.get(i, j);
                    }
                }
            });
            if check && !all_finite(&self.lu[..n * n]) {
                return None;
            }
            let (zero_pivot, odd) = by_order!(n, lu(&mut self.lu, &mut self.piv), lu_small(n, &mut self.lu, &mut self.piv));
            return Some(Factored { zero_pivot, odd });
        }
        // Column-major copy of A, or of A^T when A's rows are the contiguous direction (C
        // order): that copy reads memory in order, where a transposing one would not (~8% of an
        // n = 1000 inverse). The factors of A^T serve as well: A x = b is solved as (A^T)^T x = b,
        // inv(A) = inv(A^T)^T, det(A) = det(A^T).
        self.transposed = a.cs.unsigned_abs() < a.rs.unsigned_abs();
        let (rs, cs) = if self.transposed { (a.cs, a.rs) } else { (a.rs, a.cs) };
        let m = Mat { ptr: a.ptr, cols: n, rs, cs };
        let finite = copy_columns(m, n, self.lu.as_mut_ptr(), check, par);
        // SAFETY: the copy wrote all n * n elements (the capacity was reserved in `new`).
        self.lu.set_len(n * n);
        if !finite {
            return None;
        }
        // SAFETY: `lu` holds n x n elements, column-major.
        let mat = faer::MatMut::from_raw_parts_mut(self.lu.as_mut_ptr(), n, n, 1, n as isize);
        let stack = MemStack::new(self.mem.as_mut().expect("large workspace has scratch"));
        let (info, _) = factor::lu_in_place(mat, &mut self.piv, &mut self.perm_inv, par, stack, Default::default());
        // faer does not stop at a zero pivot (it divides by it); the first one is still exactly
        // zero on U's diagonal, as every later step only touches later rows and columns.
        let zero_pivot = (0..n).find(|&k| self.lu[k * n + k] == T::ZERO);
        Some(Factored { zero_pivot, odd: info.transposition_count % 2 == 1 })
    }

    fn lu_ref(&self) -> faer::MatRef<'_, T> {
        // SAFETY: `lu` holds n x n elements, column-major (large engine only).
        unsafe { faer::MatRef::from_raw_parts(self.lu.as_ptr(), self.n, self.n, 1, self.n as isize) }
    }

    fn perm(&self) -> faer::perm::PermRef<'_, usize> {
        // SAFETY: faer's factorization filled `piv` and `perm_inv` as a permutation and its
        // inverse.
        unsafe { faer::perm::PermRef::new_unchecked(&self.piv, &self.perm_inv, self.n) }
    }

    /// Writes the inverse of the factored (non-singular) matrix into `out`.
    ///
    /// # Safety
    /// `out` must be a writable `n x n` matrix no other thread touches.
    unsafe fn inverse_into(&mut self, out: Mat<T>, par: faer::Par) {
        let n = self.n;
        if self.is_small() {
            by_order!(n, fixed::inverse(&mut self.lu, &self.piv, &mut self.x), {
                let x = &mut self.x[..n * n];
                x.fill(T::ZERO);
                for i in 0..n {
                    x[i * n + i] = T::ONE;
                }
                lu_small_solve(n, &self.lu, &self.piv, x, n)
            });
            for i in 0..n {
                for (j, &v) in self.x[i * n..i * n + n].iter().enumerate() {
                    out.set(i, j, v);
                }
            }
            return;
        }
        // inv(A) = inv(A^T)^T: with the factors of A^T, write through the transposed view
        let (rs, cs) = if self.transposed { (out.cs, out.rs) } else { (out.rs, out.cs) };
        let dst = faer::MatMut::from_raw_parts_mut(out.ptr, n, n, rs, cs);
        let mut mem = self.mem.take().expect("large workspace has scratch");
        inverse::inverse(dst, self.lu_ref(), self.lu_ref(), self.perm(), par, MemStack::new(&mut mem));
        self.mem = Some(mem);
    }

    /// Solves `A X = B` for the factored (non-singular) matrix, `B` read from `b` and `X` written
    /// to `out` (both `n x k`). `None` if `check` is set and `b` is not finite.
    ///
    /// # Safety
    /// `b` readable, `out` writable by this thread only, both `n x k`.
    unsafe fn solve_into(&mut self, b: Mat<T>, out: Mat<T>, check: bool, par: faer::Par) -> Option<()> {
        let (n, k) = (self.n, b.cols);
        let mut finite = true;
        if self.is_small() && k == 1 {
            // one vector: the common case, without the block loop
            let x = &mut self.x[..n];
            for (i, v) in x.iter_mut().enumerate() {
                *v = b.get(i, 0);
            }
            finite = !check || all_finite(x);
            by_order!(n, solve_vec(&mut self.lu, &self.piv, x), lu_small_solve_vec(n, &self.lu, &self.piv, x));
            for (i, &v) in x.iter().enumerate() {
                out.set(i, 0, v);
            }
        } else if self.is_small() {
            for c0 in (0..k).step_by(RHS_BLOCK) {
                let kc = RHS_BLOCK.min(k - c0);
                let x = &mut self.x[..n * kc];
                for i in 0..n {
                    for (j, v) in x[i * kc..i * kc + kc].iter_mut().enumerate() {
                        *v = b.get(i, c0 + j);
                    }
                }
                finite &= !check || all_finite(x);
                lu_small_solve(n, &self.lu, &self.piv, x, kc);
                for i in 0..n {
                    for (j, &v) in x[i * kc..i * kc + kc].iter().enumerate() {
                        out.set(i, c0 + j, v);
                    }
                }
            }
        } else {
            for i in 0..n {
                for j in 0..k {
                    let v = b.get(i, j);
                    finite &= !check || v.is_finite();
                    out.set(i, j, v);
                }
            }
            if finite {
                let rhs = faer::MatMut::from_raw_parts_mut(out.ptr, n, k, out.rs, out.cs);
                let mut mem = self.mem.take().expect("large workspace has scratch");
                let stack = MemStack::new(&mut mem);
                if self.transposed {
                    // A x = b is (A^T)^T x = b
                    solve::solve_transpose_in_place(self.lu_ref(), self.lu_ref(), self.perm(), rhs, par, stack);
                } else {
                    solve::solve_in_place(self.lu_ref(), self.lu_ref(), self.perm(), rhs, par, stack);
                }
                self.mem = Some(mem);
            }
        }
        finite.then_some(())
    }

    /// The factored matrix's determinant as `(sign, mantissa, exponent)`: `det = sign * m * 2^e`
    /// with `m` in [0.5, 1), accumulated in f64 with the exponent apart, so no intermediate
    /// product overflows or underflows. `sign` is 0 for a singular matrix.
    fn det_parts(&self, f: &Factored) -> (f64, f64, i64) {
        if f.zero_pivot.is_some() {
            return (0.0, 0.0, 0);
        }
        let n = self.n;
        let (mut sign, mut m, mut e) = (if f.odd { -1.0 } else { 1.0 }, 1.0f64, 0i64);
        for k in 0..n {
            let d = self.lu[k * n + k].to_f64();
            if d < 0.0 {
                sign = -sign;
            }
            let (dm, de) = frexp(d.abs());
            let (pm, pe) = frexp(m * dm);
            m = pm;
            e += de + pe;
        }
        if n == 0 {
            return (1.0, 1.0, 0);
        }
        (sign, m, e)
    }
}

/// Copies the `n x n` matrix `m` column by column to `dst` (column-major, `n * n` elements,
/// possibly uninitialized) and returns whether every element is finite (always true without
/// `check`). With faer's threads (a single large matrix) the columns are copied in blocks on
/// the pool: sequential, the copy of an n = 1000 matrix was ~1 ms of a 15 ms `solve` while the
/// other core waited.
///
/// # Safety
/// `m` readable, `dst` writable for `n * n` elements that nothing else touches.
unsafe fn copy_columns<T: Real>(m: Mat<T>, n: usize, dst: *mut T, check: bool, par: faer::Par) -> bool {
    const COLS_PER_TASK: usize = 64;
    let dst = crate::strided::SendPtr(dst);
    let copy = |j0: usize, j1: usize| -> bool {
        let mut ok = true;
        for j in j0..j1 {
            let col = dst.get().add(j * n);
            for i in 0..n {
                let v = m.get(i, j);
                ok &= v.is_finite();
                col.add(i).write(v);
            }
        }
        ok || !check
    };
    if par.degree() > 1 && n > COLS_PER_TASK {
        use rayon::prelude::*;
        (0..n.div_ceil(COLS_PER_TASK)).into_par_iter().map(|t| copy(t * COLS_PER_TASK, ((t + 1) * COLS_PER_TASK).min(n))).reduce(|| true, |a, b| a & b)
    } else {
        copy(0, n)
    }
}

/// Whether every element is finite; a branch-free reduction the compiler vectorizes.
#[inline]
fn all_finite<T: Real>(x: &[T]) -> bool {
    x.iter().fold(true, |ok, v| ok & v.is_finite())
}

/// `(m, e)` with `x = m * 2^e` and `m` in [0.5, 1), for finite positive `x`; NaN passes through
/// as the mantissa.
fn frexp(x: f64) -> (f64, i64) {
    if !x.is_finite() || x == 0.0 {
        return (x, 0);
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    if biased == 0 {
        // subnormal: scale into the normal range first (exact)
        let (m, e) = frexp(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (m, biased - 1022)
}

/// `m * 2^e`, overflowing to infinity and underflowing to zero as the exact value would round.
fn ldexp(mut m: f64, mut e: i64) -> f64 {
    let step = f64::from_bits((1023 + 500) << 52); // 2^500
    while e > 500 && m.is_finite() && m != 0.0 {
        m *= step;
        e -= 500;
    }
    while e < -500 && m != 0.0 {
        m /= step;
        e += 500;
    }
    // e in [-500, 500]: 2^e is a normal number, built from its bits
    m * f64::from_bits(((1023 + e) as u64) << 52)
}

// ---------------------------------------------------------------------------------------------
// the batch driver

/// Collects the first failure over a batch run in parallel: the lowest batch index wins, so the
/// error does not depend on how the batch was split.
struct Failures {
    singular: AtomicUsize,
    nonfinite: AtomicBool,
}

impl Failures {
    fn new() -> Self {
        Failures { singular: AtomicUsize::new(usize::MAX), nonfinite: AtomicBool::new(false) }
    }
    fn record(&self, index: usize, outcome: Outcome) {
        match outcome {
            Outcome::Done => {}
            Outcome::Singular => {
                self.singular.fetch_min(index, Ordering::Relaxed);
            }
            Outcome::NonFinite => self.nonfinite.store(true, Ordering::Relaxed),
        }
    }
    /// The error to report, if any: non-finite input first (with the message of
    /// [`checks::check_finite`]), then the first singular matrix.
    fn into_result<T: Real>(self, inputs: &[(&ArrayRef<T>, &str)], batched: bool) -> Result<()> {
        if self.nonfinite.into_inner() {
            for (x, name) in inputs {
                checks::check_finite(x, name, Par::SEQ)?;
            }
            return Err(Error::Value("the input must not contain infs or NaNs".into()));
        }
        match self.singular.into_inner() {
            usize::MAX => Ok(()),
            i => Err(Error::LinAlg { what: "Singular matrix".into(), batch_index: batched.then_some(i) }),
        }
    }
}

/// Runs `item(offsets, workspace, faer_par)` over a batch of `nbatch` problems with
/// matrices of order `n`: batch-parallel (each thread a range of the batch, sequential inside)
/// when there are enough matrices or they are small, else one after another with faer's threads
/// inside each large one.
fn drive<T: Real, const N: usize>(
    batch: &[usize],
    strides: [&[isize]; N],
    n: usize,
    rhs_cols: usize,
    work_per_item: usize,
    par: Par,
    failures: &Failures,
    item: &(dyn Fn([isize; N], &mut Workspace<T>, faer::Par) -> Outcome + Sync),
) {
    let nbatch: usize = batch.iter().product();
    if nbatch == 0 {
        return;
    }
    let run = |start: usize, count: usize, fpar: faer::Par| {
        let mut ws = Workspace::<T>::new(n, rhs_cols, fpar);
        for (k, offsets) in BatchOffsets::new(batch, strides, start, count).enumerate() {
            failures.record(start + k, item(offsets, &mut ws, fpar));
        }
    };
    // (the choice depends on the shape alone, and faer's threads split by a fixed degree, so that
    // results do not depend on the thread count; see `Par::install_fixed`)
    if n <= SMALL_MAX || nbatch >= 2 || n < PAR_MIN_N {
        par.for_batch(nbatch, work_per_item, &|start, count| run(start, count, faer::Par::Seq));
    } else {
        par.install_fixed(|fpar| run(0, nbatch, fpar));
    }
}

/// Work of one item for the batch splitter: the factorization's multiply-adds, plus `extra`.
fn lu_work(n: usize, extra: usize) -> usize {
    (n * n * n / 3).saturating_add(extra).max(1)
}

// ---------------------------------------------------------------------------------------------
// the operations

/// `out = inv(a)` for every matrix of the stack `a` (`out` has `a`'s shape, any strides).
pub fn inv<T: Real>(a: &ArrayRef<T>, out: &mut ArrayMut<T>, check_finite: bool, par: Par) -> Result<()> {
    let shape = inv_shape(a.shape())?;
    if out.shape() != shape.as_slice() {
        return Err(Error::OutShape { expected: shape.to_vec(), got: out.shape().to_vec() });
    }
    let n = square_order("inv", a.shape())?;
    // per thread: the factors, faer's workspace and the right-hand sides (of the same order)
    workspace::check_available::<T>(n.saturating_mul(n).saturating_mul(3))?;
    let (batch, a_bs, ars, acs) = split_matrix(a.shape(), a.strides());
    let (_, o_bs, ors, ocs) = split_matrix(out.shape(), out.strides());
    let a0 = Mat { ptr: a.ptr() as *mut T, cols: n, rs: ars, cs: acs };
    let o0 = Mat { ptr: out.ptr(), cols: n, rs: ors, cs: ocs };
    let failures = Failures::new();
    drive::<T, 2>(&batch, [&a_bs, &o_bs], n, n, lu_work(n, n * n * n), par, &failures, &|[ao, oo], ws, fpar| {
        // SAFETY: the offsets come from the arrays' own shapes and strides; each batch position
        // writes its own matrix of `out`.
        unsafe {
            let Some(f) = ws.factor(a0.offset(ao), check_finite, fpar) else { return Outcome::NonFinite };
            if f.zero_pivot.is_some() {
                return Outcome::Singular;
            }
            ws.inverse_into(o0.offset(oo), fpar);
        }
        Outcome::Done
    });
    failures.into_result(&[(a, "a")], !batch.is_empty())
}

/// `out = solve(a, b)` with NumPy 2's rules (see [`solve_shape`]).
pub fn solve<T: Real>(a: &ArrayRef<T>, b: &ArrayRef<T>, out: &mut ArrayMut<T>, check_finite: bool, par: Par) -> Result<()> {
    let shape = solve_shape(a.shape(), b.shape())?;
    if out.shape() != shape.as_slice() {
        return Err(Error::OutShape { expected: shape.to_vec(), got: out.shape().to_vec() });
    }
    let n = square_order("solve", a.shape())?;
    // per thread: the factors, faer's workspace and the right-hand sides (of the same order)
    workspace::check_available::<T>(n.saturating_mul(n).saturating_mul(3))?;
    let (a_batch, a_bs0, ars, acs) = split_matrix(a.shape(), a.strides());
    let os = out.strides();
    let (batch, b_bs, b0, o_bs, o0);
    if b.ndim() == 1 {
        batch = a_batch;
        b_bs = Strides::from_elem(0, batch.len());
        b0 = Mat { ptr: b.ptr() as *mut T, cols: 1, rs: b.strides()[0], cs: 1 };
        o_bs = Strides::from_slice(&os[..batch.len()]);
        o0 = Mat { ptr: out.ptr(), cols: 1, rs: os[batch.len()], cs: 1 };
    } else {
        let nb = b.ndim();
        batch = Dims::from_slice(&shape[..shape.len() - 2]);
        b_bs = broadcast_strides(&b.shape()[..nb - 2], &b.strides()[..nb - 2], &batch);
        let k = b.shape()[nb - 1];
        b0 = Mat { ptr: b.ptr() as *mut T, cols: k, rs: b.strides()[nb - 2], cs: b.strides()[nb - 1] };
        o_bs = Strides::from_slice(&os[..batch.len()]);
        o0 = Mat { ptr: out.ptr(), cols: k, rs: os[batch.len()], cs: os[batch.len() + 1] };
    }
    let a_bs = broadcast_strides(&a.shape()[..a.ndim() - 2], &a_bs0, &batch);
    let a0 = Mat { ptr: a.ptr() as *mut T, cols: n, rs: ars, cs: acs };
    let k = b0.cols;
    if k == 0 {
        // no right-hand sides: an empty result, nothing factored (as NumPy)
        return Ok(());
    }
    let failures = Failures::new();
    let work = lu_work(n, 2 * n * n * k);
    drive::<T, 3>(&batch, [&a_bs, &b_bs, &o_bs], n, k, work, par, &failures, &|[ao, bo, oo], ws, fpar| {
        // SAFETY: the offsets come from the arrays' own (broadcast) shapes and strides; each
        // batch position writes its own matrix of `out`.
        unsafe {
            let Some(f) = ws.factor(a0.offset(ao), check_finite, fpar) else { return Outcome::NonFinite };
            if f.zero_pivot.is_some() {
                return Outcome::Singular;
            }
            if ws.solve_into(b0.offset(bo), o0.offset(oo), check_finite, fpar).is_none() {
                return Outcome::NonFinite;
            }
        }
        Outcome::Done
    });
    failures.into_result(&[(a, "a"), (b, "b")], !batch.is_empty())
}

/// Where `det` / `slogdet` write: `det` alone, or `sign` and `logabsdet`.
pub enum DetOut<'o, 'a, T> {
    Det(&'o mut ArrayMut<'a, T>),
    Slogdet(&'o mut ArrayMut<'a, T>, &'o mut ArrayMut<'a, T>),
}

/// `det(a)` or `slogdet(a)` of every matrix of the stack `a`, into arrays of `a`'s batch shape.
/// A singular matrix gives 0, or sign 0 and logabsdet -inf, as in NumPy; the empty matrix gives
/// 1, or (1, 0).
pub fn det<T: Real>(a: &ArrayRef<T>, out: DetOut<'_, '_, T>, check_finite: bool, par: Par) -> Result<()> {
    let what = if matches!(out, DetOut::Det(_)) { "det" } else { "slogdet" };
    let shape = det_shape(what, a.shape())?;
    let order = a.shape().last().copied().unwrap_or(0);
    workspace::check_available::<T>(order.saturating_mul(order).saturating_mul(2))?;
    let outs: Vec<&ArrayMut<T>> = match &out {
        DetOut::Det(d) => vec![&**d],
        DetOut::Slogdet(s, l) => vec![&**s, &**l],
    };
    for o in &outs {
        if o.shape() != shape.as_slice() {
            return Err(Error::OutShape { expected: shape.to_vec(), got: o.shape().to_vec() });
        }
    }
    let n = square_order(what, a.shape())?;
    let (batch, a_bs, ars, acs) = split_matrix(a.shape(), a.strides());
    let a0 = Mat { ptr: a.ptr() as *mut T, cols: n, rs: ars, cs: acs };
    let p0 = Mat { ptr: outs[0].ptr(), cols: 1, rs: 0, cs: 0 };
    let p1 = Mat { ptr: outs[outs.len() - 1].ptr(), cols: 1, rs: 0, cs: 0 };
    let s0 = Strides::from_slice(outs[0].strides());
    let s1 = Strides::from_slice(outs[outs.len() - 1].strides());
    let slog = outs.len() == 2;
    let failures = Failures::new();
    drive::<T, 3>(&batch, [&a_bs, &s0, &s1], n, 0, lu_work(n, 0), par, &failures, &|[ao, o0, o1], ws, fpar| {
        // SAFETY: the offsets come from the arrays' own shapes and strides; each batch position
        // writes its own elements of the outputs.
        unsafe {
            let Some(f) = ws.factor(a0.offset(ao), check_finite, fpar) else { return Outcome::NonFinite };
            let (sign, m, e) = ws.det_parts(&f);
            if slog {
                let logabs = if sign == 0.0 { f64::NEG_INFINITY } else { m.ln() + e as f64 * core::f64::consts::LN_2 };
                p0.offset(o0).set(0, 0, T::from_f64(sign));
                p1.offset(o1).set(0, 0, T::from_f64(logabs));
            } else {
                p0.offset(o0).set(0, 0, T::from_f64(sign * ldexp(m, e)));
            }
        }
        Outcome::Done
    });
    failures.into_result(&[(a, "a")], !batch.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::data;
    use crate::threads;


    /// The `n x k` product of an `n x n` and an `n x k` matrix (row-major).
    fn matmul(a: &[f64], b: &[f64], n: usize, k: usize) -> Vec<f64> {
        crate::testing::naive_matmul(a, b, n, n, k)
    }

    #[test]
    fn inverse_and_solve_have_small_residuals_on_both_engines() {
        threads::set_num_threads(2);
        let pool = threads::current();
        for &(nb, n) in &[(3, 1), (5, 2), (7, 3), (50, 8), (4, 17), (3, 40), (3, 41), (2, 70), (1, 200)] {
            let a = data(nb * n * n, n as u64);
            let mut inv_out = vec![f64::NAN; nb * n * n];
            let av = ArrayRef::from_slice(&a, &[nb, n, n]);
            inv(&av, &mut ArrayMut::from_slice(&mut inv_out, &[nb, n, n]), true, pool.par()).unwrap();
            let b = data(nb * n * 3, 99);
            let mut x = vec![f64::NAN; nb * n * 3];
            solve(&av, &ArrayRef::from_slice(&b, &[nb, n, 3]), &mut ArrayMut::from_slice(&mut x, &[nb, n, 3]), true, pool.par()).unwrap();
            for t in 0..nb {
                let at = &a[t * n * n..(t + 1) * n * n];
                let prod = matmul(at, &inv_out[t * n * n..(t + 1) * n * n], n, n);
                for i in 0..n {
                    for j in 0..n {
                        let expect = if i == j { 1.0 } else { 0.0 };
                        assert!((prod[i * n + j] - expect).abs() < 1e-8 * n as f64, "n={n} inv residual");
                    }
                }
                let ax = matmul(at, &x[t * n * 3..(t + 1) * n * 3], n, 3);
                for (u, v) in ax.iter().zip(&b[t * n * 3..(t + 1) * n * 3]) {
                    assert!((u - v).abs() < 1e-8 * n as f64, "n={n} solve residual");
                }
            }
        }
    }

    #[test]
    fn singular_and_determinants() {
        let pool = threads::current();
        // batch of three: the second is singular (rank one)
        let a = [2.0, 1.0, 1.0, 3.0, 1.0, 2.0, 2.0, 4.0, 0.0, 1.0, 1.0, 0.0];
        let av = ArrayRef::from_slice(&a, &[3, 2, 2]);
        let mut out = vec![0.0; 12];
        let err = inv(&av, &mut ArrayMut::from_slice(&mut out, &[3, 2, 2]), true, pool.par()).unwrap_err();
        assert_eq!(err, Error::LinAlg { what: "Singular matrix".into(), batch_index: Some(1) });
        let mut d = vec![0.0; 3];
        det(&av, DetOut::Det(&mut ArrayMut::from_slice(&mut d, &[3])), true, pool.par()).unwrap();
        assert_eq!(d, vec![5.0, 0.0, -1.0]);
        let (mut s, mut l) = (vec![0.0; 3], vec![0.0; 3]);
        det(&av, DetOut::Slogdet(&mut ArrayMut::from_slice(&mut s, &[3]), &mut ArrayMut::from_slice(&mut l, &[3])), true, pool.par()).unwrap();
        assert_eq!(s, vec![1.0, 0.0, -1.0]);
        assert!((l[0] - 5f64.ln()).abs() < 1e-15 && l[1] == f64::NEG_INFINITY && l[2] == 0.0);
        // the empty matrix
        let e: [f64; 0] = [];
        let mut d1 = vec![0.0; 1];
        det(&ArrayRef::from_slice(&e, &[0, 0]), DetOut::Det(&mut ArrayMut::from_slice(&mut d1, &[])), true, pool.par()).unwrap();
        assert_eq!(d1, vec![1.0]);
    }

    #[test]
    fn scaled_products_do_not_overflow() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
        assert_eq!(ldexp(0.5, 4), 8.0);
        assert_eq!(ldexp(0.5, 2000), f64::INFINITY);
        assert_eq!(ldexp(0.5, -2000), 0.0);
        assert_eq!(ldexp(0.75, -1074), 5e-324);
    }
}
