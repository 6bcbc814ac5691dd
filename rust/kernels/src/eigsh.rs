//! A few extreme eigenpairs of a large symmetric matrix: `eigsh(a, k, which)`.
//!
//! The method is a thick-restarted block Krylov iteration (block Lanczos expansion between
//! Rayleigh-Ritz steps, expansion by residuals after them, as block Davidson without
//! preconditioner does; both span the same Krylov space), in two phases (see [`iterative`]):
//! on `A` itself until the wanted end is located, then on the shifted and inverted
//! `(sigma I - A)^-1`, whose wanted eigenvalues are far better separated:
//! - the basis `V` is kept orthonormal by block classical Gram-Schmidt with reorthogonalization
//!   ([`orthonormalize_block`]), and `W = op V` is stored, so the projected matrix
//!   `T = V^T op V`, the Ritz vectors `X = V Y` and their images `op X = W Y` need no extra
//!   application of the operator;
//! - Rayleigh-Ritz with our `eigh` on `T` (small, `mmax x mmax`), whenever the basis has grown
//!   by a quarter, or sooner where the residuals' rate of decrease predicts convergence;
//! - soft locking: a Ritz pair whose residual is below the tolerance stays in the basis but is
//!   no longer expanded, so the block's products go to the pairs still converging;
//! - thick restart: when the basis is full it is compressed to the `keep` best Ritz vectors
//!   (`V <- V Y_keep`, `W <- W Y_keep`, `T <- diag(theta_keep)`), at no cost in applications.
//!
//! Convergence test: every wanted pair has `||A x - theta x|| <= n eps ||A||` (the level of a
//! full decomposition's residual bound), with `||A||` estimated from below by both the largest
//! |Ritz value| and `||A||_F / sqrt(n)`, so the test is never looser than the bound.
//!
//! Small matrices, or many eigenpairs relative to `n`, go to the full `eigh` (crate::eigh),
//! which is then cheaper; so does a run that exceeds the full decomposition's work budget
//! (a safety net: it has not happened on the spectra tested).

use crate::eigh::{self, Uplo};
use crate::error::{Error, Result};
use crate::gemm::{self, Mat as GMat};
use crate::randomized::{gaussian, gmat, gmat_mut};
use crate::scalar::Real;
use crate::strided::{ArrayMut, ArrayRef};
use crate::threads::Par;
use faer::Mat;

/// Which end of the spectrum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// the k largest (algebraic) eigenvalues, scipy's "LA"
    Largest,
    /// the k smallest (algebraic) eigenvalues, scipy's "SA"
    Smallest,
}

/// Up to this order the full decomposition is used (it takes a few ms there).
pub const FULL_MAX_N: usize = 200;

/// The full decomposition is used when `k * FULL_K_RATIO > n`: with that many pairs the basis
/// is a large fraction of `n` and a dense `eigh` costs less.
pub const FULL_K_RATIO: usize = 6;

/// The `k` eigenpairs at the `which` end of the symmetric `n x n` matrix `a` (only its lower
/// triangle is read by the full path; the iterative path uses the whole matrix, which must then
/// be symmetric). Returns the eigenvalues ascending and the eigenvectors as columns (`n x k`),
/// with DESIGN.md's sign convention.
pub fn eigsh<T: Real>(a: &ArrayRef<T>, k: usize, which: Which, check_finite: bool, par: Par) -> Result<(Vec<T>, Mat<T>)> {
    let (batch, n) = eigh::eigh_shape(a.shape())?;
    if !batch.is_empty() {
        return Err(Error::Shape { what: "eigsh needs one square matrix (N, N)".into(), shapes: vec![a.shape().to_vec()] });
    }
    if k == 0 || k > n {
        return Err(Error::Value(format!("eigsh: k={k} must be between 1 and N={n}")));
    }
    if check_finite {
        crate::checks::check_finite(a, "a", par)?;
    }
    if n <= FULL_MAX_N || k * FULL_K_RATIO > n {
        return full(a, k, which, par);
    }
    match iterative(a, k, which, par) {
        Some(r) => Ok(r),
        None => full(a, k, which, par),
    }
}

/// The `k` wanted pairs from the full decomposition.
fn full<T: Real>(a: &ArrayRef<T>, k: usize, which: Which, par: Par) -> Result<(Vec<T>, Mat<T>)> {
    let n = a.shape()[0];
    let mut w = vec![T::ZERO; n];
    let mut v = vec![T::ZERO; n * n];
    {
        let mut wv = ArrayMut::from_slice(&mut w, &[n]);
        let mut vv = ArrayMut::from_slice(&mut v, &[n, n]);
        eigh::eigh(a, Uplo::Lower, &mut wv, Some(&mut vv), false, par)?;
    }
    let first = if which == Which::Largest { n - k } else { 0 };
    let vals = w[first..first + k].to_vec();
    let vecs = Mat::from_fn(n, k, |i, j| v[i * n + first + j]);
    Ok((vals, vecs))
}

/// Eigenpairs of a small dense symmetric matrix (our eigh), as (ascending values, vectors).
fn small_eigh<T: Real>(t: &Mat<T>, m: usize) -> Option<(Vec<T>, Mat<T>)> {
    // SAFETY: the view addresses the leading m x m block of `t`, alive for this call.
    let tv = unsafe { ArrayRef::from_raw(t.as_ptr(), &[m, m], &[t.row_stride(), t.col_stride()]) };
    let mut w = vec![T::ZERO; m];
    let mut y = vec![T::ZERO; m * m];
    {
        let mut wv = ArrayMut::from_slice(&mut w, &[m]);
        let mut yv = ArrayMut::from_slice(&mut y, &[m, m]);
        eigh::eigh(&tv, Uplo::Lower, &mut wv, Some(&mut yv), false, Par::SEQ).ok()?;
    }
    Some((w, Mat::from_fn(m, m, |i, j| y[i * m + j])))
}

/// `c = a @ b` on faer matrices (sub-views allowed through `GMat`).
unsafe fn mm<T: Real>(c: GMat<T>, a: GMat<T>, b: GMat<T>, par: Par) {
    gemm::gemm(c, a, b, par);
}

fn cols<T>(m: GMat<T>, c0: usize, nc: usize) -> GMat<T> {
    // SAFETY (of later use): a column range of a valid matrix.
    GMat { ptr: m.ptr.wrapping_offset(c0 as isize * m.cs), cols: nc, ..m }
}

fn rows<T>(m: GMat<T>, r0: usize, nr: usize) -> GMat<T> {
    GMat { ptr: m.ptr.wrapping_offset(r0 as isize * m.rs), rows: nr, ..m }
}

fn tr<T>(m: GMat<T>) -> GMat<T> {
    GMat { ptr: m.ptr, rows: m.cols, cols: m.rows, rs: m.cs, cs: m.rs }
}

/// The iterative path; `None` if it gives up (then the full decomposition runs).
///
/// Phase 1 runs the Krylov iteration on `A` itself until its best Ritz pair's residual is below
/// [`PROBE`] `* ||A||`, for at most the cost of a Cholesky factorization (`n^3 / 3` flops):
/// spectra whose wanted end is well separated converge there.
/// Otherwise (the top of a random symmetric matrix: eigenvalue gaps ~1e-3 of the spread) phase 2
/// shifts just beyond the wanted end, using phase 1's best Ritz value and residual, factors
/// `sigma I - A` (Cholesky; a failure means the shift was inside the spectrum, and it moves
/// out), and runs the same iteration on the inverse, starting from phase 1's Ritz vectors. A
/// final Rayleigh-Ritz step on `A` gives the eigenvalues, and checks every residual against the
/// same bound as phase 1.
/// Measured on GOE 2000, k = 10, two threads, idle machine: phase 1 alone (the whole method in
/// session 2) needed ~120 block steps of 8 (444 ms); now phase 1 stops after 11, the shift is
/// ~2.5 above the top eigenvalue, the Cholesky factorization takes ~32-45 ms, phase 2 converges
/// in 23 blocks of 8 with its solves at ~2.1 ms a block ([`crate::factor::cholesky_solve`]):
/// ~150-170 ms in all (session 5, a noisier machine), against 0.8-1.0 s for NumPy's full `eigh`.
fn iterative<T: Real>(a: &ArrayRef<T>, k: usize, which: Which, par: Par) -> Option<(Vec<T>, Mat<T>)> {
    let n = a.shape()[0];
    let st = a.strides();
    let am = GMat { ptr: a.ptr() as *mut T, rows: n, cols: n, rs: st[0], cs: st[1] };
    // A is symmetric, so A = A^T: hand the GEMM the orientation in which A is column-major
    // (a C-order A as a row-major left operand was packed on every product: 43% of the time
    // for GOE 2000, k = 10, measured with perf)
    let am = if st[1].abs() < st[0].abs() { tr(am) } else { am };
    let eps = T::EPSILON.to_f64();
    let fro = frobenius(am, par);
    // residual bound: n eps ||A||, the level of a full decomposition's, with ||A|| estimated
    // from below (never looser than the bound)
    let ntol = n as f64 * eps;
    let sizes = {
        let b = (k / 2).clamp(8, 32).min(n);
        let keep = (3 * k).max(k + 2 * b).min(n);
        Sizes { b, keep, mmax: (keep + 14 * b).min(n) }
    };
    let nf = n as f64;
    let phase1 = krylov(&Operator::Matrix(am), n, k, which, &sizes, None, &|_, anorm| ntol * anorm, fro / nf.sqrt(), nf.powi(3) / 3.0, Some(PROBE), par);
    let (theta, rnorm, x) = match phase1 {
        Run::Converged(vals, x) => return Some(finish(vals, x, which)),
        Run::Failed => return None,
        Run::Unconverged { theta, rnorm, x } => (theta, rnorm, x),
    };
    let anorm = theta.iter().fold(fro / nf.sqrt(), |m, t| m.max(t.abs()));
    // --- phase 2: shift and invert
    let s = if which == Which::Largest { 1.0 } else { -1.0 };
    // the best Ritz value lies within its residual of an eigenvalue; a shift closer to the
    // wanted end separates the wanted `mu` better, but the smallest wanted `mu` must stay well
    // above the rounding level of the largest (`eps mu_1`): keep the shift at least 1/20 of the
    // wanted range away
    let spread = (theta[0] - theta[(k - 1).min(theta.len() - 1)]).abs();
    let mut delta = rnorm[0].max(0.05 * spread).max(1e-6 * anorm);
    let l = 'factor: {
        for _ in 0..4 {
            let sigma = theta[0] + s * delta;
            let mut m = shifted(am, s, sigma, par);
            let factored = crate::factor::cholesky_parallel(m.as_mut(), par);
            let ok = factored && (0..n).all(|i| m[(i, i)].is_finite() && m[(i, i)] > T::ZERO);
            if ok {
                break 'factor m;
            }
            // the shift is inside the spectrum: move it out
            delta = 2.0 * delta + rnorm[0] + 0.01 * anorm;
        }
        return None;
    };
    // phase 1's block width: its Ritz vectors' residuals span only `b` dimensions (those of
    // its last block), so `op` applied to them adds `b` new directions, and so does every later
    // block, Lanczos or residual; wider blocks were filled with rounding noise. On GOE 2000,
    // k = 10, blocks of 16 (twice phase 1's, session 4's choice) took 264 columns and ~116 ms
    // (median of 9 runs), blocks of 8 take 184 columns and ~72 ms.
    let b2 = sizes.b;
    let sizes2 = Sizes { b: b2, keep: sizes.keep.max(k + 2 * b2), mmax: (sizes.keep.max(k + 2 * b2) + 30 * b2).min(n) };
    let start = Mat::<T>::from_fn(n, b2.min(x.ncols()), |i, j| x[(i, j)]);
    // a pair of the inverse with residual r has a residual ~ r / mu^2 as a pair of A
    let tol_mu = move |mu: f64, _: f64| 0.1 * ntol * anorm * mu * mu;
    let mu_max = 1.0 / delta;
    let phase2 = krylov(&Operator::ShiftInvert { l }, n, k, Which::Largest, &sizes2, Some(start), &tol_mu, mu_max, 9.0 * nf.powi(3), None, par);
    let Run::Converged(_, x) = phase2 else { return None };
    // --- Rayleigh-Ritz on A in the span of the converged vectors, and the residual check
    let mut ax = Mat::<T>::zeros(n, k);
    let mut tk = Mat::<T>::zeros(k, k);
    // SAFETY: views inside their matrices.
    unsafe {
        mm(gmat_mut(&mut ax), am, gmat(&x), par);
        mm(gmat_mut(&mut tk), tr(gmat(&x)), gmat(&ax), par);
    }
    let tk = Mat::<T>::from_fn(k, k, |i, j| (tk[(i, j)] + tk[(j, i)]) * T::from_f64(0.5));
    let (lam, y) = small_eigh(&tk, k)?;
    let order: Vec<usize> = if which == Which::Largest { (0..k).rev().collect() } else { (0..k).collect() };
    let y = Mat::<T>::from_fn(k, k, |i, j| y[(i, order[j])]);
    let xf = &x * &y;
    let axf = &ax * &y;
    let anorm = lam.iter().fold(anorm, |m, t| m.max(t.to_f64().abs()));
    for j in 0..k {
        let th = lam[order[j]];
        let r = (0..n).map(|i| (axf[(i, j)] - xf[(i, j)] * th).to_f64().powi(2)).sum::<f64>().sqrt();
        if r.is_nan() || r > ntol * anorm {
            return None;
        }
    }
    Some(finish((0..k).map(|j| lam[order[j]]).collect(), xf, which))
}

/// `||A||_F`, in f64, for an `n x n` view `am`: per column in 8 vectorized partial sums (through
/// contiguous columns when `am` has them), columns in parallel, their sums added in order (so the
/// result does not depend on the thread count). An element-by-element loop took ~4 ms for n = 2000.
fn frobenius<T: Real>(am: GMat<T>, par: Par) -> f64 {
    let n = am.cols;
    let mut sums = vec![0.0f64; n];
    let out = crate::strided::SendPtr(sums.as_mut_ptr());
    let (ap, rows, rs, cs) = (crate::strided::SendPtr(am.ptr), am.rows, am.rs, am.cs);
    par.for_batch(n, rows, &|start, count| {
        let mut buf: Vec<T> = Vec::new();
        for j in start..start + count {
            // SAFETY: column j of the view; each task writes its own entries of `sums`.
            unsafe {
                let c = ap.get().wrapping_offset(j as isize * cs);
                let col: &[T] = if rs == 1 {
                    core::slice::from_raw_parts(c, rows)
                } else {
                    buf.clear();
                    buf.extend((0..rows).map(|i| *c.offset(i as isize * rs)));
                    &buf
                };
                let (scale, ssq) = scaled_sum_squares(col);
                *out.get().add(j) = scale * scale * ssq;
            }
        }
    });
    sums.iter().sum::<f64>().sqrt()
}

/// `s (sigma I - A)` (lower triangle; the upper is zero) as a new column-major matrix, for the
/// shift's Cholesky factorization: columns filled in parallel (first touch of 32 MB for n = 2000,
/// which an element-by-element `from_fn` took ~10 ms over).
fn shifted<T: Real>(am: GMat<T>, s: f64, sigma: f64, par: Par) -> Mat<T> {
    let n = am.cols;
    // allocated, not initialized: every element is written below, before `set_dims` exposes it
    let mut m = Mat::<T>::with_capacity(n, n);
    let (base, cs) = (crate::strided::SendPtr(m.as_ptr_mut()), m.col_stride());
    let (st, sg) = (T::from_f64(s), T::from_f64(sigma));
    let (ap, ars, acs) = (crate::strided::SendPtr(am.ptr), am.rs, am.cs);
    par.for_batch(n, n, &|start, count| {
        for j in start..start + count {
            // SAFETY: column j of `m` (written by this task only) and of the view.
            unsafe {
                let dst = core::slice::from_raw_parts_mut(base.get().offset(j as isize * cs), n);
                let src = ap.get().wrapping_offset(j as isize * acs);
                dst[..j].fill(T::ZERO);
                for (i, d) in dst.iter_mut().enumerate().skip(j) {
                    let aij = *src.offset(i as isize * ars);
                    *d = st * (if i == j { sg - aij } else { -aij });
                }
            }
        }
    });
    // SAFETY: within the capacity, and all n x n elements were written above.
    unsafe { m.set_dims(n, n) };
    m
}

/// The wanted pairs (values in wanted order, best first) as `eigsh` returns them: ascending,
/// with DESIGN.md's sign convention.
fn finish<T: Real>(mut vals: Vec<T>, x: Mat<T>, which: Which) -> (Vec<T>, Mat<T>) {
    let (n, k) = (x.nrows(), vals.len());
    let mut vecs = Mat::<T>::from_fn(n, k, |i, j| x[(i, j)]);
    if which == Which::Largest {
        vals.reverse();
        vecs = Mat::from_fn(n, k, |i, j| x[(i, k - 1 - j)]);
    }
    crate::signs::normalize_columns(vecs.as_mut());
    (vals, vecs)
}

/// The symmetric operator a Krylov run works with.
enum Operator<T> {
    /// `A` itself (`A x`)
    Matrix(GMat<T>),
    /// shift and invert: `(s (sigma I - A))^-1 x` with `s = +1` for the largest eigenvalues
    /// (`sigma` above them) and `-1` for the smallest (`sigma` below), through the Cholesky factor
    /// `L` of the positive definite `s (sigma I - A)`. Its largest eigenvalues
    /// `mu = 1 / |sigma - lambda|` belong to the wanted `lambda`s, and they are far better
    /// separated than the `lambda`s themselves.
    ShiftInvert { l: Mat<T> },
}

/// Phase 1 stops once the best Ritz pair's residual is below this fraction of `||A||`: the shift
/// is then placed reliably (on GOE 2000, k = 10: 11 block steps, the top Ritz value 2% below
/// the top eigenvalue). With a fixed budget instead, small matrices got too few steps, a shift
/// inside the spectrum, and after moving it out one so far away that phase 2 crawled.
const PROBE: f64 = 0.05;

impl<T: Real> Operator<T> {
    /// `out = op(x)`, both `n x nb`.
    ///
    /// # Safety
    /// `out` and `x` are valid, disjoint `n x nb` views.
    unsafe fn apply(&self, out: GMat<T>, x: GMat<T>, par: Par) {
        match self {
            Operator::Matrix(am) => mm(out, *am, x, par),
            Operator::ShiftInvert { l } => {
                let n = l.nrows();
                let nb = x.cols;
                for j in 0..nb {
                    for i in 0..n {
                        *out.ptr.offset(i as isize * out.rs + j as isize * out.cs) = *x.ptr.offset(i as isize * x.rs + j as isize * x.cs);
                    }
                }
                debug_assert!(out.rs == 1);
                crate::factor::cholesky_solve(l.as_ref(), faer::MatMut::from_raw_parts_mut(out.ptr, n, nb, out.rs, out.cs), par);
            }
        }
    }

    /// Flops of one application to one vector.
    fn flops(&self, n: usize) -> f64 {
        2.0 * (n * n) as f64
    }
}

/// How a Krylov run ended.
enum Run<T> {
    /// the wanted pairs: eigenvalues of the operator in wanted order (best first) and vectors
    Converged(Vec<T>, Mat<T>),
    /// out of budget: the best Ritz values so far (wanted order), their residual norms and the
    /// Ritz vectors
    Unconverged { theta: Vec<f64>, rnorm: Vec<f64>, x: Mat<T> },
    /// nothing usable (an inner solver failed, or the space is exhausted)
    Failed,
}

/// Tuning of a run.
struct Sizes {
    /// block size
    b: usize,
    /// Ritz vectors kept at a thick restart
    keep: usize,
    /// basis size
    mmax: usize,
}

/// A thick-restarted block Krylov iteration on `op` for the `k` eigenpairs at the `which` end
/// (see the module's documentation).
///
/// The basis grows by whole blocks. Between Rayleigh-Ritz steps a block is expanded by the
/// operator applied to the newest block (block Lanczos); after a Rayleigh-Ritz step, by the
/// residuals of the best unconverged Ritz pairs (block Davidson without preconditioner), which
/// spans the same Krylov space but steers it to the pairs still wanted. Rayleigh-Ritz (our
/// `eigh` on the `m x m` projection) runs when the basis has grown by a quarter since the last
/// one, or is full: its cost then stays a fixed fraction of the products'; or sooner, where the
/// residuals' rate of decrease since the last one predicts the run to stop ([`next_rr`]).
///
/// `tol(theta, anorm)` is the residual a Ritz pair with value `theta` must reach, given the
/// running estimate `anorm` of the operator's norm. `start` (`n x nb`) seeds the first block.
/// With `probe`, the run also stops (unconverged) once the best Ritz pair's residual is below
/// `probe * anorm`.
#[allow(clippy::too_many_arguments)]
fn krylov<T: Real>(
    op: &Operator<T>,
    n: usize,
    k: usize,
    which: Which,
    sz: &Sizes,
    start: Option<Mat<T>>,
    tol: &dyn Fn(f64, f64) -> f64,
    anorm0: f64,
    budget: f64,
    probe: Option<f64>,
    par: Par,
) -> Run<T> {
    let Sizes { b, keep, mmax } = *sz;
    let mut anorm = anorm0;
    let mut spent = 0.0f64;
    let mut v = Mat::<T>::zeros(n, mmax);
    let mut w = Mat::<T>::zeros(n, mmax);
    let mut t = Mat::<T>::zeros(mmax, mmax);
    let mut m = 0usize;
    // the basis size at which the next Rayleigh-Ritz step runs, and what the last one measured
    let mut rr_at = next_rr(keep.max(k + b), None);
    let mut applied = 0usize;
    let mut last_rr: Option<Progress> = None;
    let mut block = start.unwrap_or_else(|| Mat::<T>::from_fn(n, b, |i, j| T::from_f64(gaussian(0x5eed, (j * n + i) as u64))));
    let mut fresh = (n * b) as u64; // counter for further random vectors
    loop {
        // --- orthogonalize the new block against V and within itself
        let (ob, flops) = orthonormalize_block(&v, m, block, par);
        spent += flops;
        block = ob;
        if block.ncols() == 0 {
            // everything the block offered is in the basis already: a random direction
            block = Mat::from_fn(n, 1, |i, _| T::from_f64(gaussian(0x5eed, fresh + i as u64)));
            fresh += n as u64;
            if m + 1 > n.min(mmax) {
                return Run::Failed;
            }
            continue;
        }
        let nb = block.ncols().min(mmax - m);
        if nb == 0 {
            return Run::Failed;
        }
        // --- append to V, W = op V, extend T
        for c in 0..nb {
            v.col_mut(m + c).copy_from(block.col(c));
        }
        // SAFETY: the views are inside v, w, t; columns m..m+nb of w and v are disjoint matrices.
        unsafe {
            op.apply(cols(gmat_mut(&mut w), m, nb), cols(gmat(&v), m, nb), par);
            // T[0..m+nb, m..m+nb] = V^T W_new
            let tt = gmat_mut(&mut t);
            mm(rows(cols(tt, m, nb), 0, m + nb), tr(cols(gmat(&v), 0, m + nb)), cols(gmat(&w), m, nb), par);
        }
        for j in m..m + nb {
            for i in 0..m {
                t[(j, i)] = t[(i, j)];
            }
        }
        for j in m..m + nb {
            for i in j + 1..m + nb {
                let s = (t[(i, j)] + t[(j, i)]) * T::from_f64(0.5);
                t[(i, j)] = s;
                t[(j, i)] = s;
            }
        }
        m += nb;
        applied += nb;
        spent += op.flops(n) * nb as f64 + 2.0 * (n * m * nb) as f64;

        let restart = m + b > mmax;
        if !restart && m < rr_at && spent <= budget {
            // block Lanczos step: the next block is op applied to this one
            block = Mat::from_fn(n, nb, |i, j| w[(i, m - nb + j)]);
            continue;
        }

        // --- Rayleigh-Ritz
        let Some((theta, y)) = small_eigh(&t, m) else { return Run::Failed };
        anorm = anorm.max(theta[0].to_f64().abs()).max(theta[m - 1].to_f64().abs());
        // wanted order: the best first
        let order: Vec<usize> = if which == Which::Largest { (0..m).rev().collect() } else { (0..m).collect() };
        // Ritz vectors and residuals of the pairs the test and the next block need; all `keep`
        // only when the basis is about to be compressed
        let nx = if restart { keep.min(m) } else { (k + b).min(keep).min(m) };
        let yk = Mat::<T>::from_fn(m, nx, |i, j| y[(i, order[j])]);
        let mut x = Mat::<T>::zeros(n, nx);
        let mut ax = Mat::<T>::zeros(n, nx);
        // SAFETY: views inside their matrices.
        unsafe {
            mm(gmat_mut(&mut x), cols(gmat(&v), 0, m), gmat(&yk), par);
            mm(gmat_mut(&mut ax), cols(gmat(&w), 0, m), gmat(&yk), par);
        }
        spent += 4.0 * (n * m * nx) as f64 + 9.0 * (m * m * m) as f64;
        let mut resid = Mat::<T>::zeros(n, nx);
        let mut rnorm = vec![0.0f64; nx];
        let mut ok = vec![false; nx];
        for j in 0..nx {
            let th = theta[order[j]];
            for i in 0..n {
                resid[(i, j)] = ax[(i, j)] - x[(i, j)] * th;
            }
            rnorm[j] = col_norm(&resid, j);
            ok[j] = rnorm[j] <= tol(th.to_f64(), anorm);
        }
        if nx >= k && ok[..k].iter().all(|&c| c) {
            let vals: Vec<T> = (0..k).map(|j| theta[order[j]]).collect();
            return Run::Converged(vals, Mat::<T>::from_fn(n, k, |i, j| x[(i, j)]));
        }
        // how far each wanted pair is from its target (and the best from the probe's)
        let mut gaps: Vec<f64> = (0..k.min(nx)).map(|j| (rnorm[j] / tol(theta[order[j]].to_f64(), anorm)).ln()).collect();
        if let Some(p) = probe {
            gaps.push((rnorm[0] / (p * anorm)).ln());
        }
        let now = Progress { applied, gaps };
        let predicted = last_rr.as_ref().and_then(|last| now.columns_to_go(last, probe.is_some()));
        last_rr = Some(now);
        if spent > budget || probe.is_some_and(|p| rnorm[0] <= p * anorm) {
            let th: Vec<f64> = (0..nx).map(|j| theta[order[j]].to_f64()).collect();
            return Run::Unconverged { theta: th, rnorm, x };
        }
        // --- next block: residuals of the best unconverged pairs
        let next: Vec<usize> = (0..nx).filter(|&j| !ok[j]).take(b).collect();
        block = Mat::from_fn(n, next.len(), |i, c| resid[(i, next[c])]);
        // --- thick restart when the basis cannot take another block
        if restart {
            let nk = nx;
            // V <- V Y_keep = X, W <- W Y_keep = op X, T <- diag(theta_keep)
            for j in 0..nk {
                v.col_mut(j).copy_from(x.col(j));
                w.col_mut(j).copy_from(ax.col(j));
            }
            t.fill(T::ZERO);
            for j in 0..nk {
                t[(j, j)] = theta[order[j]];
            }
            m = nk;
        }
        rr_at = next_rr(m.max(keep.max(k + b)), predicted.map(|c| m + c.max(1)));
    }
}

/// The basis size at which to run the next Rayleigh-Ritz step: when the basis has grown by a
/// quarter from `base`, so that its cost (`~9 m^3`) stays a fixed fraction of the products', or
/// earlier where the residuals predict convergence. With the quarter alone, phase 2 on GOE
/// 2000 (k = 10) ran its last steps at m = 232 and 296 and converged by 264: two blocks and a
/// larger Rayleigh-Ritz step too many.
fn next_rr(base: usize, predicted: Option<usize>) -> usize {
    let quarter = (5 * base).div_ceil(4);
    predicted.map_or(quarter, |p| p.min(quarter))
}

/// What a Rayleigh-Ritz step measured: the columns applied so far, and for each wanted pair
/// `ln(residual / target)` (positive while unconverged); with a probe, the best pair's distance
/// from it last.
struct Progress {
    applied: usize,
    gaps: Vec<f64>,
}

impl Progress {
    /// Columns still to apply until the run stops, if the residuals keep falling at the rate
    /// (per column, in log scale) they fell since `last`: until every wanted pair converges, or
    /// with a probe until that is met if sooner. `None` when some pair made no progress.
    /// (Krylov residuals fall at least this fast as the polynomial degree grows, so this tends to
    /// be late, never much early.)
    fn columns_to_go(&self, last: &Progress, probe: bool) -> Option<usize> {
        let cols = (self.applied - last.applied) as f64;
        if cols <= 0.0 || self.gaps.len() != last.gaps.len() {
            return None;
        }
        let to_go = |g: f64, g0: f64| -> Option<f64> {
            if g <= 0.0 {
                Some(0.0)
            } else if g0 > g {
                Some(g * cols / (g0 - g))
            } else {
                None
            }
        };
        let nk = self.gaps.len() - usize::from(probe);
        let mut all: Option<f64> = Some(0.0);
        for j in 0..nk {
            all = all.zip(to_go(self.gaps[j], last.gaps[j])).map(|(a, c)| a.max(c));
        }
        let best = if probe { to_go(self.gaps[nk], last.gaps[nk]) } else { None };
        let c = match (all, best) {
            (Some(a), Some(p)) => a.min(p),
            (a, p) => a.or(p)?,
        };
        Some(c.ceil().min(1e9) as usize)
    }
}

/// The columns of `block` made orthonormal to the first `m` columns of `v` and to each other,
/// without those numerically dependent on them; and the flops spent.
///
/// Each pass projects the block out of `V` (block classical Gram-Schmidt) and then
/// orthonormalizes it column by column (Gram-Schmidt done twice). Passes repeat until one removes
/// less than 30% of every column's norm (the criterion of Daniel, Gragg, Kaufman and Stewart):
/// two are enough unless the block lies nearly inside span(V), as the inverse operator's blocks
/// do once the top eigenvectors are in the basis. (The within-block step must be inside the
/// loop: subtracting one nearly dependent column from another amplifies what is left of `V` in
/// it; with a single pass V^T V - I reached 1e-4 and the iteration diverged.) A column is
/// dependent when a pass leaves less than 1000 eps of its norm.
fn orthonormalize_block<T: Real>(v: &Mat<T>, m: usize, mut block: Mat<T>, par: Par) -> (Mat<T>, f64) {
    let n = block.nrows();
    let eps = T::EPSILON.to_f64();
    let mut flops = 0.0;
    let mut alive: Vec<usize> = (0..block.ncols()).collect();
    for pass in 0..4 {
        let before: Vec<f64> = alive.iter().map(|&j| col_norm(&block, j)).collect();
        if m > 0 {
            let mut h = Mat::<T>::zeros(m, block.ncols());
            // SAFETY: all views are inside their matrices.
            unsafe {
                mm(gmat_mut(&mut h), tr(cols(gmat(v), 0, m)), gmat(&block), par);
                let mut ph = Mat::<T>::zeros(n, block.ncols());
                mm(gmat_mut(&mut ph), cols(gmat(v), 0, m), gmat(&h), par);
                block = &block - &ph;
            }
            flops += 4.0 * (n * m * block.ncols()) as f64;
        }
        let mut kept: Vec<usize> = Vec::new();
        let mut again = false;
        for (c, &j) in alive.iter().enumerate() {
            for _ in 0..2 {
                for &p in &kept {
                    let d = dot(&block, p, &block, j);
                    axpy(&mut block, j, p, d);
                }
            }
            let nj = col_norm(&block, j);
            if nj > 1e3 * eps * before[c] && nj > 0.0 {
                again |= nj < 0.7 * before[c];
                let inv = T::from_f64(1.0 / nj);
                for x in block.col_mut(j).iter_mut() {
                    *x = *x * inv;
                }
                kept.push(j);
            }
        }
        alive = kept;
        if alive.is_empty() || (pass >= 1 && !again) {
            break;
        }
    }
    (Mat::from_fn(n, alive.len(), |i, c| block[(i, alive[c])]), flops)
}

// Column kernels of the Gram-Schmidt steps, on the contiguous columns of faer's `Mat` (row
// stride 1) with 8 independent partial sums the compiler vectorizes. Through indexed access
// they were scalar, bounds-checked loops: about a third of phase 2's time on GOE 2000.

/// Column `j` of `a` as a slice.
fn col<T>(a: &Mat<T>, j: usize) -> &[T] {
    // SAFETY: faer's `Mat` stores each column contiguously (row stride 1), `nrows` values.
    unsafe { core::slice::from_raw_parts(a.as_ptr().offset(j as isize * a.col_stride()), a.nrows()) }
}

/// `sum x[r] * y[r]` in 8 lanes, summed in a fixed order.
fn dot_slices<T: Real>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let tail = xc.remainder().iter().zip(yc.remainder()).fold(T::ZERO, |s, (&a, &b)| a.mul_add(b, s));
    for (a, b) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] = a[l].mul_add(b[l], acc[l]);
        }
    }
    acc.iter().fold(tail, |s, &v| s + v)
}

/// `(scale, ssq)` with `sum x^2 = scale^2 ssq`: `scale = max |x|`, and the squares summed in T
/// after dividing by it, so that they can neither overflow nor underflow. `ssq` is 1 when
/// `scale` is 0 or not finite (the sum is then `scale^2`).
fn scaled_sum_squares<T: Real>(c: &[T]) -> (f64, f64) {
    let scale = c.iter().fold(0.0f64, |m, &x| m.max(x.to_f64().abs()));
    if scale == 0.0 || !scale.is_finite() {
        return (scale, 1.0);
    }
    let inv = T::from_f64(1.0 / scale);
    let scaled: Vec<T> = c.iter().map(|&x| x * inv).collect();
    (scale, dot_slices(&scaled, &scaled).to_f64())
}

fn col_norm<T: Real>(a: &Mat<T>, j: usize) -> f64 {
    let (scale, ssq) = scaled_sum_squares(col(a, j));
    scale * ssq.sqrt()
}

fn dot<T: Real>(a: &Mat<T>, i: usize, b: &Mat<T>, j: usize) -> T {
    dot_slices(col(a, i), col(b, j))
}

/// column `j` -= d * column `p` (same matrix)
fn axpy<T: Real>(a: &mut Mat<T>, j: usize, p: usize, d: T) {
    let (n, cs) = (a.nrows() as isize, a.col_stride());
    let base = a.as_ptr_mut();
    // SAFETY: columns j and p of `a` (distinct: callers pass an earlier column p), n values each.
    unsafe {
        let x = core::slice::from_raw_parts(base.offset(p as isize * cs), n as usize);
        let y = core::slice::from_raw_parts_mut(base.offset(j as isize * cs), n as usize);
        for (yi, &xi) in y.iter_mut().zip(x) {
            *yi = *yi - d * xi;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goe(n: usize, seed: u64) -> Vec<f64> {
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let x = gaussian(seed, (i * n + j) as u64);
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        a
    }

    fn check(a: &[f64], n: usize, k: usize, which: Which) {
        let av = ArrayRef::from_slice(a, &[n, n]);
        let (w, v) = eigsh(&av, k, which, true, Par::SEQ).unwrap();
        let (wf, _) = full(&av, k, which, Par::SEQ).unwrap();
        let am = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
        let anorm = wf.iter().chain(w.iter()).fold(0.0f64, |m, x| m.max(x.abs()));
        for j in 0..k {
            assert!((w[j] - wf[j]).abs() <= 10.0 * n as f64 * f64::EPSILON * anorm, "{which:?} {j}: {} vs {}", w[j], wf[j]);
            let r = (&am * v.col(j) - v.col(j) * w[j]).norm_l2();
            assert!(r <= n as f64 * f64::EPSILON * anorm * 2.0, "residual {r}");
        }
        let g = v.transpose() * &v;
        assert!((&g - Mat::<f64>::identity(k, k)).norm_max() < 1e-12);
        assert!(w.windows(2).all(|p| p[0] <= p[1]));
    }

    /// Time of the iterative path on GOE 2000, k = 10 (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn eigsh_phases_timing() {
        let n = 2000;
        let a = goe(n, 1);
        let av = ArrayRef::from_slice(&a, &[n, n]);
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let r = iterative(&av, 10, Which::Largest, Par::SEQ);
            println!("1 thread {:.3} s ok {}", t.elapsed().as_secs_f64(), r.is_some());
            crate::threads::set_num_threads(2);
            let t = std::time::Instant::now();
            let r = iterative(&av, 10, Which::Largest, crate::threads::current().par());
            println!("2 threads {:.3} s ok {}", t.elapsed().as_secs_f64(), r.is_some());
        }
    }

    /// The iterative path itself (no fallback to the full decomposition) on both ends of a GOE
    /// matrix, whose top needs phase 2, gives the same bits for one and two threads.
    #[test]
    fn iterative_path_converges_and_ignores_thread_count() {
        let n = 400;
        let a = goe(n, 3);
        let av = ArrayRef::from_slice(&a, &[n, n]);
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for which in [Which::Largest, Which::Smallest] {
            let one = iterative(&av, 5, which, Par::SEQ).expect("iterative path converges");
            let two = iterative(&av, 5, which, pool.par()).expect("iterative path converges");
            assert_eq!(one.0, two.0);
            assert_eq!(one.1, two.1);
        }
        check(&a, n, 5, Which::Largest);
    }

    #[test]
    fn goe_both_ends() {
        let n = 400;
        let a = goe(n, 3);
        check(&a, n, 5, Which::Largest);
        check(&a, n, 5, Which::Smallest);
    }

    #[test]
    fn decaying_spectrum_with_repeated_values() {
        let n = 300;
        // Q diag(d) Q^T with d = 1/(1+i) and a double top eigenvalue
        let g = Mat::<f64>::from_fn(n, n, |i, j| gaussian(9, (i * n + j) as u64));
        let mut q = g.clone();
        crate::randomized::orthonormalize(&mut q);
        let d: Vec<f64> = (0..n).map(|i| if i == 0 { 1.0 } else { 1.0 / i as f64 }).collect();
        let am = &q * faer::Col::from_fn(n, |i| d[i]).as_diagonal() * q.transpose();
        let a: Vec<f64> = (0..n * n).map(|p| { let (i, j) = (p / n, p % n); 0.5 * (am[(i, j)] + am[(j, i)]) }).collect();
        check(&a, n, 4, Which::Largest);
        check(&a, n, 3, Which::Smallest);
    }
}
