//! The symmetric eigendecomposition (`eigh`, `eigvalsh`) of a stack of matrices `(..., n, n)`.
//!
//! Per matrix: the triangle that `uplo` names is copied (checked for NaN / inf on the way, and
//! scaled by a power of two into a safe range, as LAPACK's `dsyevd` does, so that values near
//! overflow or underflow lose nothing) into a column-major working matrix, which is then
//! diagonalised by our cyclic Jacobi kernel ([`crate::jacobi`], n <= 4), our unblocked
//! column-major tridiagonalisation + QL / dsterf ([`crate::sytrd`], n <= 112 with eigenvectors, 96 for eigenvalues only) or our blocked
//! tridiagonalisation + dsterf / our tridiagonal divide and conquer ([`crate::stedc`]) + blocked back-transformation
//! ([`crate::sytrd_blocked`], larger n); crossovers measured, see [`JACOBI_MAX_N`]. faer's whole
//! `self_adjoint_evd` remains the fallback when a tridiagonal solver does not converge.
//! Eigenvalues come back ascending and eigenvectors with DESIGN.md's sign convention
//! ([`signs::normalize_columns`]).
//!
//! Threads: a stack of matrices runs across the batch ([`Par::for_batch`]), each matrix on one
//! thread; a single large matrix splits its steps over the pool in fixed pieces
//! ([`crate::sytrd_blocked`]) and runs faer's parallel parts with a fixed degree. Neither choice
//! changes what a matrix computes, so results are bit-identical for any thread count.

use crate::error::{Error, Result};
use crate::jacobi;
use crate::scalar::Real;
use crate::signs;
use crate::strided::{ArrayMut, ArrayRef, BatchOffsets, SendPtr, Strides};
use crate::sytrd;
use crate::sytrd_blocked;
use crate::threads::Par;
#[cfg(test)]
use crate::tql;
use crate::workspace;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Mat, MatMut, MatRef};
use std::sync::Mutex;

/// Which triangle of the input is read (NumPy's `UPLO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uplo {
    Lower,
    Upper,
}

/// Up to this order the Jacobi kernel runs; up to [`TQL_MAX_N`] (with eigenvectors) or
/// [`TQL_MAX_N_VALUES`] (eigenvalues only) our unblocked column-major tridiagonalisation +
/// QL / `dsterf` ([`crate::sytrd`]); above, for eigenvalues only [`crate::sytrd_blocked`]
/// (blocked tridiagonalisation + dsterf), with eigenvectors faer's `self_adjoint_evd` (see
/// [`crate::sytrd_blocked`]'s module doc for why and the measurements).
///
/// Measured per matrix (float64, one thread, this thread's CPU time, best of 5 blocks;
/// `cargo test --release -p ferrolinalg-kernels sytrd_timing -- --ignored --nocapture`) on the
/// shared 2-vCPU VM while three others built and benchmarked: noisy, ±30% between runs), in µs:
///
/// | n | 8 | 16 | 24 | 32 | 48 | 64 | 96 | 128 | 192 | 256 |
/// |---|---|---|---|---|---|---|---|---|---|---|
/// | sytrd, vectors | 3.5 | 12 | 25 | 50 | 146 | 284 | 1036 | 2196 | 5320 | 11930 |
/// | old tql (tred2 + tql2), vectors | 3.6 | 14 | 36 | 78 | 243 | 548 | 1828 | 4689 | 15193 | 43308 |
/// | faer, vectors | 7.8 | 21 | 48 | 82 | 212 | 411 | 1040 | 1893 | 4000 | 7496 |
/// | sytrd, values | 3.0 | 8.8 | 18 | 33 | 85 | 154 | 436 | 638 | 1648 | 3493 |
/// | old tql, values | 2.9 | 11 | 24 | 48 | 139 | 304 | 888 | 1745 | 5369 | 11848 |
/// | faer, values | 5.1 | 17 | 39 | 67 | 151 | 266 | 627 | 1244 | 2346 | 4266 |
///
/// (Before sytrd, with tred2 + tql2: Jacobi won at n = 3, 4, 0.40 and 0.79 µs against 1.1 and 1.6.)
/// Jacobi is kept to n = 4, where it ties or wins and is the more accurate; its ~6 n^3 flops per
/// sweep lose beyond. With vectors sytrd wins to ~96 and ties faer at 128 (in other runs it was
/// 10-15% ahead there: 1580 against 1847 µs); beyond, faer's divide and conquer and blocked
/// back-transformation win. For values only sytrd wins to 256 in every run (dsterf costs O(n^2)).
/// Session 6: for values only the blocked tridiagonalisation ([`crate::sytrd_blocked`], panels
/// of 16, unblocked tail of 48) + dsterf beats the unblocked sytrd from n ~ 96 (one thread, CPU
/// time: 1420 against 1661 us at 192, 2587 against 3986 at 256), so [`TQL_MAX_N_VALUES`] is 96;
/// sytrd's eigenvector path uses the same panels from n = 96 for its tridiagonalisation.
/// Session 7: with vectors, orders above [`TQL_MAX_N`] use [`crate::sytrd_blocked`] too (its
/// tridiagonalisation and back-transformation around faer's tridiagonal divide and conquer), 3-20%
/// faster than faer's whole algorithm on this machine (see `BLOCKED_MIN_N_VECTORS`); faer's
/// `self_adjoint_evd` remains the fallback. Session 8: our own divide and conquer
/// ([`crate::stedc`]) replaces faer's there: eigh 512 1.25 -> 0.79 of NumPy's time, 1024 1.12 -> 0.84;
/// and the path now starts at 113 ([`TQL_MAX_N`] 112), on the pool from there
/// (`PAR_MIN_N_VECTORS`): eigh 128 1.10 -> 0.87.
pub const JACOBI_MAX_N: usize = 4;

/// See [`JACOBI_MAX_N`].
pub const TQL_MAX_N: usize = 112;

/// See [`JACOBI_MAX_N`].
pub const TQL_MAX_N_VALUES: usize = 96;

/// From this order up, a single matrix uses the pool (fixed splits in [`crate::sytrd_blocked`],
/// faer's parallel parts with a fixed degree, see [`Par::install_fixed`]); below it the hand-off
/// to threads costs more than it saves.
const PAR_MIN_N: usize = 192;

/// The same for `eigh` with eigenvectors, whose path from [`TQL_MAX_N`] up (the blocked
/// tridiagonalisation, [`crate::stedc`], the blocked back-transformation) gains from the pool
/// earlier: at n = 128 0.92 against 1.04 ms on one thread (`small_order_crossover_timing`).
const PAR_MIN_N_VECTORS: usize = TQL_MAX_N + 1;

/// Checks `a` is a stack of square matrices and returns `(batch shape, n)`.
pub fn eigh_shape(a: &[usize]) -> Result<(Vec<usize>, usize)> {
    let nd = a.len();
    if nd < 2 || a[nd - 1] != a[nd - 2] {
        return Err(Error::Shape {
            what: "eigh: the last two dimensions of a must be square".to_string(),
            shapes: vec![a.to_vec()],
        });
    }
    Ok((a[..nd - 2].to_vec(), a[nd - 1]))
}

/// Per-thread working memory, reused across the matrices of a range.
struct Work<T: Real> {
    /// the Jacobi kernel's matrix and vectors (n x n, column-major, unpadded)
    ja: Vec<T>,
    ju: Vec<T>,
    je: Vec<T>,
    sign: Vec<T>,
    a: Mat<T>,
    u: Mat<T>,
    w: Vec<T>,
    perm: Vec<usize>,
    buf: MemBuffer,
    buf_for: Option<(usize, bool, usize)>,
}

impl<T: Real> Work<T> {
    fn new() -> Self {
        Work {
            ja: Vec::new(),
            ju: Vec::new(),
            je: Vec::new(),
            sign: Vec::new(),
            a: Mat::new(),
            u: Mat::new(),
            w: Vec::new(),
            perm: Vec::new(),
            buf: MemBuffer::new(faer::dyn_stack::StackReq::EMPTY),
            buf_for: None,
        }
    }
}

/// Why one matrix failed (the batch index is added by the caller).
enum Fail {
    NotFinite(usize, usize),
    NoConvergence,
}

/// A power of two `s` such that `s * amax` lies in LAPACK's safe range
/// `[sqrt(smlnum), sqrt(bignum)]` (`smlnum = min_positive / eps`), or 1 if it already does.
/// A power of two, so scaling and unscaling are exact.
fn safe_scale<T: Real>(amax: T) -> T {
    let smlnum = T::MIN_POSITIVE.to_f64() / T::EPSILON.to_f64();
    let (rmin, rmax) = (smlnum.sqrt(), (1.0 / smlnum).sqrt());
    let amax = amax.to_f64();
    let target = if amax > 0.0 && amax < rmin {
        rmin / amax
    } else if amax > rmax {
        rmax / amax
    } else {
        return T::ONE;
    };
    // round towards 1 so the scaled max stays inside [rmin, rmax]
    let e = target.log2();
    let e = if e > 0.0 { e.floor() } else { e.ceil() };
    T::from_f64(e.exp2())
}

/// A power of two `s` with `s * amax` near 1 (1 if `amax` is 0).
fn safe_scale_to_one<T: Real>(amax: T) -> T {
    let a = amax.to_f64();
    if a > 0.0 && a.is_finite() {
        T::from_f64((-a.log2().round()).exp2())
    } else {
        T::ONE
    }
}

/// Calls `f(i, j, src[(i, j)])` for every entry of the lower triangle (`i >= j`) of the square
/// `src`, in an order that follows its memory: a column at a time for a column-major `src`, bands
/// of 8 rows read along the rows for a row-major one. Column by column, a row-major matrix of
/// power-of-two order has every entry of a column in the same cache set: C-order `eigh` of
/// order 1024 took 10 ms longer than F-order (168.5 against 158.3 ms), `eigvalsh` 4.2 ms.
#[inline(always)]
fn for_each_lower<T: Real>(src: MatRef<'_, T>, mut f: impl FnMut(usize, usize, T)) {
    let n = src.nrows();
    if src.row_stride().abs() <= src.col_stride().abs() {
        for j in 0..n {
            for i in j..n {
                f(i, j, src[(i, j)]);
            }
        }
    } else {
        for i0 in (0..n).step_by(8) {
            let i1 = (i0 + 8).min(n);
            for j in 0..i1 {
                for i in i0.max(j)..i1 {
                    f(i, j, src[(i, j)]);
                }
            }
        }
    }
}

/// Decomposes one matrix `a` (only the `uplo` triangle read) into `w` (ascending) and, if given,
/// `v` (eigenvectors as columns, normalised signs).
#[allow(clippy::too_many_arguments)]
fn eigh_one<T: Real>(
    a: MatRef<'_, T>,
    uplo: Uplo,
    w_out: *mut T,
    w_stride: isize,
    v_out: Option<MatMut<'_, T>>,
    check_finite: bool,
    work: &mut Work<T>,
    par: Par,
) -> core::result::Result<(), Fail> {
    let n = a.nrows();
    let vectors = v_out.is_some();
    // the triangle, read as lower: (i, j) with i >= j is a[i, j] (lower) or a[j, i] (upper)
    let src = if uplo == Uplo::Lower { a } else { a.transpose() };
    let mut amax = T::ZERO;
    // the first non-finite entry in column order, (column, row): the one an error names
    let mut first_bad: Option<(usize, usize)> = None;
    // one pass reads the triangle, checks it and copies it (unscaled: the scale needs its largest
    // entry) into `ja`, column-major, lower (and upper too for the Jacobi kernel, which reads both)
    let jacobi = n <= JACOBI_MAX_N;
    work.ja.resize(n * n, T::ZERO);
    let ja = &mut work.ja;
    for_each_lower(src, |i, j, x| {
        if !x.is_finite() {
            if first_bad.is_none_or(|bad| (j, i) < bad) {
                first_bad = Some((j, i));
            }
            amax = T::INFINITY;
        } else if x.abs() > amax {
            amax = x.abs();
        }
        ja[j * n + i] = x;
        if jacobi {
            ja[i * n + j] = x;
        }
    });
    if let (Some((j, i)), true) = (first_bad, check_finite) {
        return Err(if uplo == Uplo::Lower { Fail::NotFinite(i, j) } else { Fail::NotFinite(j, i) });
    }
    if !amax.is_finite() {
        // NaN or inf with check_finite=False: the decomposition is undefined, and NaN says so
        // (as LAPACK's NaN propagation would); the solvers could otherwise skip an inf
        // rotation and return finite numbers in silence
        for k in 0..n {
            // SAFETY: the caller's `w_out` addresses n elements `w_stride` apart.
            unsafe { *w_out.offset(k as isize * w_stride) = T::NAN };
        }
        if let Some(mut v) = v_out {
            v.fill(T::NAN);
        }
        return Ok(());
    }
    let scale = safe_scale(amax);
    if scale != T::ONE {
        for j in 0..n {
            for i in if jacobi { 0 } else { j }..n {
                ja[j * n + i] = ja[j * n + i] * scale;
            }
        }
    }
    work.w.resize(n, T::ZERO);
    // the small-order kernels first; one that does not converge (QL can stall on strongly
    // graded f32 matrices) hands the matrix to faer's algorithm below
    let mut small = n <= if vectors { TQL_MAX_N } else { TQL_MAX_N_VALUES };
    if small && !jacobi {
        // column-major lower triangle (the strictly upper part is never read)
        work.ju.resize(if vectors { n * n } else { 0 }, T::ZERO);
        work.je.resize(n + sytrd::work_len(n, vectors), T::ZERO);
        let (je, scratch) = work.je.split_at_mut(n);
        // (non-finite values from finite input are a failure too: the fuzzer found subnormal
        // off-diagonals next to zero diagonals overflowing the QL shift)
        if !sytrd::sy_eigh(&mut work.ja, n, vectors, &mut work.w, je, &mut work.ju, scratch)
            || !work.w[..n].iter().all(|x| x.is_finite())
        {
            small = false;
        }
    } else if small {
        work.ju.resize(if vectors { n * n } else { 0 }, T::ZERO);
        let u = if vectors { Some(&mut work.ju[..]) } else { None };
        if !jacobi::jacobi_eigh(&mut work.ja, n, u, &mut work.w) || !work.w[..n].iter().all(|x| x.is_finite()) {
            small = false;
        }
    }
    // large orders: our blocked tridiagonalisation (sytrd_blocked.rs); if its tridiagonal
    // solver does not converge, faer's algorithm below has the last word
    let mut blocked = false;
    let blocked_min = if vectors { sytrd_blocked::BLOCKED_MIN_N_VECTORS } else { sytrd_blocked::BLOCKED_MIN_N };
    if !small && n > if vectors { TQL_MAX_N } else { TQL_MAX_N_VALUES } && n >= blocked_min {
        // `ja` still holds the scaled copy: no small-order kernel ran at this order
        if vectors && work.u.nrows() != n {
            work.u = Mat::zeros(n, n);
        }
        let u = if vectors { Some(work.u.as_mut()) } else { None };
        blocked = sytrd_blocked::eigh_blocked(&mut work.ja, n, &mut work.w, u, par) && work.w[..n].iter().all(|x| x.is_finite());
    }
    if !small && !blocked {
        if work.a.nrows() != n {
            work.a = Mat::zeros(n, n);
        }
        // faer's divide and conquer works in absolute terms: on a matrix scaled to the ends of
        // the safe range (norm 1e146 or 1e-146 in f64) its eigenvalues were off by 1e-4
        // relative (backward error ratios 1e11), so faer gets the matrix at max |a| ~ 1 (a
        // further power of two, exact; undone below with the safe-range scale)
        let to_one = safe_scale_to_one(amax * scale);
        let s2 = scale * to_one;
        // faer reads the lower triangle only
        let wa = &mut work.a;
        for_each_lower(src, |i, j, x| wa[(i, j)] = x * s2);
        if vectors && work.u.nrows() != n {
            work.u = Mat::zeros(n, n);
        }
        let Work { a: wa, u: wu, w: ww, buf, buf_for, .. } = &mut *work;
        par.install_fixed(|fpar| {
            let key = (n, vectors, fpar.degree());
            if *buf_for != Some(key) {
                let compute = if vectors { ComputeEigenvectors::Yes } else { ComputeEigenvectors::No };
                *buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<T>(n, compute, fpar, Default::default()));
                *buf_for = Some(key);
            }
            let mut s = faer::Col::<T>::zeros(n);
            let u = if vectors { Some(wu.as_mut()) } else { None };
            evd::self_adjoint_evd(wa.as_ref(), s.as_diagonal_mut(), u, fpar, MemStack::new(buf), Default::default())
                .map_err(|_| Fail::NoConvergence)?;
            let back = T::ONE / to_one;
            for i in 0..n {
                ww[i] = s[i] * back;
            }
            Ok(())
        })?;
    }
    if work.w.iter().any(|x| x.is_nan()) {
        return Err(Fail::NoConvergence);
    }
    // ascending, ties kept in order (the solvers already sort; this makes it a guarantee)
    work.perm.clear();
    work.perm.extend(0..n);
    let w = &work.w;
    if w.windows(2).any(|p| p[0] > p[1]) {
        work.perm.sort_by(|&i, &j| w[i].partial_cmp(&w[j]).unwrap_or(core::cmp::Ordering::Equal));
    }
    let inv_scale = T::ONE / scale;
    for (k, &p) in work.perm.iter().enumerate() {
        // SAFETY: the caller's `w_out` addresses n elements `w_stride` apart.
        unsafe { *w_out.offset(k as isize * w_stride) = work.w[p] * inv_scale };
    }
    if let Some(v) = v_out {
        // each eigenvector is a contiguous column of the scratch (Jacobi's and sytrd's `ju`,
        // or `u`): its sign is picked there (DESIGN.md's convention), then V is written in one
        // tiled pass, along its rows for the usual C-order result
        let (src, ld): (&[T], usize) = if small {
            (&work.ju[..n * n], n)
        } else {
            let ld = work.u.col_stride() as usize;
            // SAFETY: `u` is n x n, column-major with unit row stride and column stride ld.
            (unsafe { core::slice::from_raw_parts(work.u.as_ptr(), (n - 1) * ld + n) }, ld)
        };
        work.sign.clear();
        for &p in &work.perm {
            work.sign.push(signs::sign_of(src[p * ld..p * ld + n].iter().copied()));
        }
        let perm = &work.perm;
        signs::write_columns(src, ld, |k| perm[k], &work.sign, v);
    }
    Ok(())
}

/// The eigenvalues `w` (shape `(..., n)`, ascending) and, when `v` is given, the eigenvectors
/// (shape `(..., n, n)`, as columns) of the symmetric matrices in `a`, reading only the `uplo`
/// triangle. `check_finite` raises on a NaN or inf in that triangle. Outputs may have any strides
/// and must not overlap `a`.
pub fn eigh<T: Real>(
    a: &ArrayRef<T>,
    uplo: Uplo,
    w: &mut ArrayMut<T>,
    v: Option<&mut ArrayMut<T>>,
    check_finite: bool,
    par: Par,
) -> Result<()> {
    let (batch, n) = eigh_shape(a.shape())?;
    // per thread: a copy of the matrix, the vectors and faer's workspace (of the same order)
    workspace::check_available::<T>(n.saturating_mul(n).saturating_mul(4))?;
    let nb = batch.len();
    let mut w_shape = batch.clone();
    w_shape.push(n);
    if w.shape() != w_shape.as_slice() {
        return Err(Error::OutShape { expected: w_shape, got: w.shape().to_vec() });
    }
    if let Some(v) = &v {
        if v.shape() != a.shape() {
            return Err(Error::OutShape { expected: a.shape().to_vec(), got: v.shape().to_vec() });
        }
    }
    let nbatch: usize = batch.iter().product();
    if nbatch == 0 || n == 0 {
        return Ok(());
    }
    let (as_, ws, vs): (Strides, Strides, Strides) = (
        Strides::from_slice(a.strides()),
        Strides::from_slice(w.strides()),
        match &v {
            Some(v) => Strides::from_slice(v.strides()),
            None => Strides::from_slice(a.strides()), // unused: no V to address
        },
    );
    let a0 = SendPtr(a.ptr() as *mut T);
    let w0 = SendPtr(w.ptr());
    let v0 = v.as_ref().map(|v| SendPtr(v.ptr()));
    let first_error: Mutex<Option<(usize, Error)>> = Mutex::new(None);

    // Decomposes the matrices at batch positions start..start + count.
    let run_range = |start: usize, count: usize, rpar: Par| {
        let mut work = Work::<T>::new();
        let offsets = BatchOffsets::new(&batch, [&as_[..nb], &ws[..nb], &vs[..nb]], start, count);
        for (k, [ao, wo, vo]) in offsets.enumerate() {
            let index = start + k;
            // SAFETY: offsets and strides come from the views' own shapes, so every element
            // addressed lies inside memory their creators vouched for; each batch position owns
            // a distinct matrix of `w` and `v`, so no two tasks write the same element.
            let result = unsafe {
                let am = MatRef::from_raw_parts(a0.get().offset(ao) as *const T, n, n, as_[nb], as_[nb + 1]);
                let vm = v0.map(|p| MatMut::from_raw_parts_mut(p.get().offset(vo), n, n, vs[nb], vs[nb + 1]));
                eigh_one(am, uplo, w0.get().offset(wo), ws[nb], vm, check_finite, &mut work, rpar)
            };
            if let Err(fail) = result {
                let err = match fail {
                    Fail::NotFinite(i, j) => Error::Value(format!(
                        "eigh: a must not contain infs or NaNs (found one at [{i}, {j}] of the matrix at batch index {index}); pass check_finite=False to skip this check"
                    )),
                    Fail::NoConvergence => Error::LinAlg {
                        what: "eigh: the eigenvalue algorithm did not converge".to_string(),
                        batch_index: Some(index),
                    },
                };
                let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
                if slot.as_ref().is_none_or(|(i, _)| index < *i) {
                    *slot = Some((index, err));
                }
                return; // later matrices of this range cannot give an earlier error
            }
        }
    };

    // work per matrix: tridiagonalisation and back-transformation, ~ 4 n^3 multiply-adds
    let work_per_item = 4 * n * n * n;
    // (the choice depends on the shape alone: a batch-parallel matrix is computed sequentially,
    // a single one with faer's threads, and each must come out the same for any thread count)
    let par_min_n = if v.is_some() { PAR_MIN_N_VECTORS } else { PAR_MIN_N };
    if nbatch >= 2 || n < par_min_n {
        par.for_batch(nbatch, work_per_item, &|start, count| run_range(start, count, Par::SEQ));
    } else {
        run_range(0, nbatch, par);
    }
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some((_, err)) => Err(err),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::symmetric as sym;

    fn check(n: usize) {
        let a = sym(n, n as u64);
        let mut w = vec![0.0; n];
        let mut v = vec![0.0; n * n];
        let av = ArrayRef::from_slice(&a, &[n, n]);
        let mut wv = ArrayMut::from_slice(&mut w, &[n]);
        let mut vv = ArrayMut::from_slice(&mut v, &[n, n]);
        eigh(&av, Uplo::Lower, &mut wv, Some(&mut vv), true, Par::SEQ).unwrap();
        let eps = f64::EPSILON;
        let anorm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
        for i in 0..n {
            for k in 0..n {
                let av_ik: f64 = (0..n).map(|j| a[i * n + j] * v[j * n + k]).sum();
                assert!((av_ik - v[i * n + k] * w[k]).abs() < 50.0 * n as f64 * eps * anorm, "n={n}");
                let vtv: f64 = (0..n).map(|j| v[j * n + i] * v[j * n + k]).sum();
                let id = if i == k { 1.0 } else { 0.0 };
                assert!((vtv - id).abs() < 50.0 * n as f64 * eps, "n={n}");
            }
        }
        assert!(w.windows(2).all(|p| p[0] <= p[1]));
    }

    #[test]
    fn residuals_small_and_large() {
        for n in [1, 2, 3, 5, 6, 8, 16, 24, 32, 33, 40, 70] {
            check(n);
        }
    }

    /// Jacobi, tql and faer per matrix (run with `--ignored --nocapture`): the table at
    /// [`JACOBI_MAX_N`].
    #[test]
    #[ignore]
    fn jacobi_vs_faer_timing() {
        for n in [2usize, 3, 4, 6, 8, 10, 12, 16, 24, 32, 48, 64, 96] {
            let a = sym(n, 7);
            let reps = 20000 / n;
            let (mut ja, mut ju, mut w) = (vec![0.0; n * n], vec![0.0; n * n], vec![0.0; n]);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                ja.copy_from_slice(&a);
                assert!(jacobi::jacobi_eigh(&mut ja, n, Some(&mut ju), &mut w));
            }
            let tj = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            let (mut e, mut zt) = (vec![0.0; n], vec![0.0; n * n]);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                ja.copy_from_slice(&a);
                assert!(tql::tql_eigh(&mut ja, n, true, &mut w, &mut e, &mut zt));
            }
            let tq = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                ja.copy_from_slice(&a);
                assert!(tql::tql_eigh(&mut ja, n, false, &mut w, &mut e, &mut zt));
            }
            let tqn = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            let req = evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::No, faer::Par::Seq, Default::default());
            let mut buf = MemBuffer::new(req);
            let am = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
            let mut s = faer::Col::<f64>::zeros(n);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                evd::self_adjoint_evd(
                    am.as_ref(),
                    s.as_diagonal_mut(),
                    None,
                    faer::Par::Seq,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .unwrap();
            }
            let tfn = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            println!("n={n:3} values only: tql {tqn:8.2} us  faer {tfn:8.2} us");
            let req = evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, faer::Par::Seq, Default::default());
            let mut buf = MemBuffer::new(req);
            let am = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
            let mut u = Mat::<f64>::zeros(n, n);
            let mut s = faer::Col::<f64>::zeros(n);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                evd::self_adjoint_evd(
                    am.as_ref(),
                    s.as_diagonal_mut(),
                    Some(u.as_mut()),
                    faer::Par::Seq,
                    MemStack::new(&mut buf),
                    Default::default(),
                )
                .unwrap();
            }
            let tf = t.elapsed().as_secs_f64() / reps as f64 * 1e6;
            println!("n={n:3} jacobi {tj:8.2} us  tql {tq:8.2} us  faer {tf:8.2} us");
        }
    }

    #[test]
    fn non_square_is_a_shape_error() {
        assert!(matches!(eigh_shape(&[3, 4]), Err(Error::Shape { .. })));
        assert!(matches!(eigh_shape(&[3]), Err(Error::Shape { .. })));
    }
}
