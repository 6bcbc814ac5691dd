//! A few extreme eigenpairs of a large symmetric matrix: `eigsh(a, k, which)`.
//!
//! The method is a thick-restarted block Davidson iteration without preconditioner, which in
//! exact arithmetic spans the same spaces as block Lanczos with thick restarts (the residual
//! `A x - theta x` of a Ritz pair lies in `span(V, A V)`, so expanding by residuals is expanding
//! the block Krylov space), but needs no three-term recurrence to stay accurate:
//! - the basis `V` is kept orthonormal by block classical Gram-Schmidt, done twice ("twice is
//!   enough", Giraud et al.), and `W = A V` is stored, so the projected matrix `T = V^T A V`,
//!   the Ritz vectors `X = V Y` and their products `A X = W Y` need no extra pass over `A`;
//! - Rayleigh-Ritz with our `eigh` on `T` (small, `mmax x mmax`);
//! - soft locking: a Ritz pair whose residual is below the tolerance stays in the basis but is
//!   no longer expanded, so the block's matrix products go to the pairs still converging;
//! - thick restart: when the basis is full it is compressed to the `keep` best Ritz vectors
//!   (`V <- V Y_keep`, `W <- W Y_keep`, `T <- diag(theta_keep)`), at no cost in products with `A`.
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
    match davidson(a, k, which, par) {
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

/// The block Davidson iteration; `None` if it exceeds its work budget.
fn davidson<T: Real>(a: &ArrayRef<T>, k: usize, which: Which, par: Par) -> Option<(Vec<T>, Mat<T>)> {
    let n = a.shape()[0];
    // Block size, restart size and basis size. Measured on GOE 2000, k = 10, one thread
    // (`davidson_parameters_timing`; steps to convergence, seconds on the busy machine):
    // (b, keep, mmax) = (10, 20, 70): 246 steps, 1.34 s; (10, 30, 120): 133, 0.87 s;
    // (8, 30, 150): 120, 0.84 s; (16, 40, 160): 106, 1.12 s; (16, 48, 256): 86, 1.36 s.
    // Small blocks keep the Krylov space efficient; a basis of ~15 blocks beyond `keep` pays
    // for its Rayleigh-Ritz cost; larger ones do not.
    let b = (k / 2).clamp(8, 32).min(n);
    let keep = (3 * k).max(k + 2 * b).min(n);
    let mmax = (keep + 14 * b).min(n);
    davidson_with(a, k, which, b, keep, mmax, par)
}

#[allow(clippy::too_many_arguments)]
fn davidson_with<T: Real>(a: &ArrayRef<T>, k: usize, which: Which, b: usize, keep: usize, mmax: usize, par: Par) -> Option<(Vec<T>, Mat<T>)> {
    let n = a.shape()[0];
    let st = a.strides();
    let am = GMat { ptr: a.ptr() as *mut T, rows: n, cols: n, rs: st[0], cs: st[1] };
    // A is symmetric, so A = A^T: hand the GEMM the orientation in which A is column-major
    // (a C-order A as a row-major left operand was packed on every product: 43% of the time
    // for GOE 2000, k = 10, measured with perf)
    let am = if st[1].abs() < st[0].abs() { tr(am) } else { am };
    let eps = T::EPSILON.to_f64();
    let fro = {
        let mut s = 0.0f64;
        for i in 0..n {
            for j in 0..n {
                // SAFETY: (i, j) is inside the n x n view.
                let x = unsafe { *am.ptr.offset(i as isize * am.rs + j as isize * am.cs) }.to_f64();
                s += x * x;
            }
        }
        s.sqrt()
    };
    let mut anorm = fro / (n as f64).sqrt();
    // budget: a full decomposition costs ~ 9 n^3 flops; one block step ~ 2 n^2 b + 8 n m b
    let budget = 9.0 * (n as f64).powi(3);
    let mut spent = 0.0f64;

    let mut v = Mat::<T>::zeros(n, mmax);
    let mut w = Mat::<T>::zeros(n, mmax);
    let mut t = Mat::<T>::zeros(mmax, mmax);
    let mut m = 0usize;
    // the first block: random
    let mut block = Mat::<T>::from_fn(n, b, |i, j| T::from_f64(gaussian(0x5eed, (j * n + i) as u64)));
    let mut fresh = (n * b) as u64; // counter for further random vectors
    loop {
        // --- orthogonalize the new block against V and within itself (block CGS, twice)
        let mut nb = block.ncols();
        let norms0: Vec<f64> = (0..nb).map(|j| col_norm(&block, j)).collect();
        for _ in 0..2 {
            if m > 0 {
                let mut h = Mat::<T>::zeros(m, nb);
                // SAFETY: all views are inside their matrices.
                unsafe {
                    mm(gmat_mut(&mut h), tr(cols(gmat(&v), 0, m)), gmat(&block), par);
                    let mut ph = Mat::<T>::zeros(n, nb);
                    mm(gmat_mut(&mut ph), cols(gmat(&v), 0, m), gmat(&h), par);
                    block = &block - &ph;
                }
            }
        }
        // within the block: Gram-Schmidt (twice) column by column, dropping what is dependent
        let mut kept: Vec<usize> = Vec::new();
        for j in 0..nb {
            for _ in 0..2 {
                for &p in &kept {
                    let d = dot(&block, p, &block, j);
                    axpy(&mut block, j, p, d);
                }
            }
            let nj = col_norm(&block, j);
            if nj > 1e3 * eps * norms0[j].max(f64::MIN_POSITIVE) && nj > 0.0 {
                let inv = T::from_f64(1.0 / nj);
                for x in block.col_mut(j).iter_mut() {
                    *x = *x * inv;
                }
                kept.push(j);
            }
        }
        if kept.is_empty() {
            // everything the residuals offered is in the basis already: a random direction
            block = Mat::from_fn(n, 1, |i, _| T::from_f64(gaussian(0x5eed, fresh + i as u64)));
            fresh += n as u64;
            if m + 1 > n {
                return None;
            }
            continue;
        }
        nb = kept.len().min(mmax - m);
        if nb == 0 {
            return None;
        }
        // --- append to V, W = A V, extend T
        for (c, &j) in kept.iter().take(nb).enumerate() {
            v.col_mut(m + c).copy_from(block.col(j));
        }
        // SAFETY: the views are inside v, w, t and `a`.
        unsafe {
            mm(cols(gmat_mut(&mut w), m, nb), am, cols(gmat(&v), m, nb), par);
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
        spent += 2.0 * (n * n * nb) as f64 + 8.0 * (n * m * nb) as f64;

        // --- Rayleigh-Ritz
        let (theta, y) = small_eigh(&t, m)?;
        anorm = anorm.max(theta[0].to_f64().abs()).max(theta[m - 1].to_f64().abs());
        // wanted order: the best first
        let order: Vec<usize> = if which == Which::Largest { (0..m).rev().collect() } else { (0..m).collect() };
        // Ritz vectors and residuals of the pairs the test and the next block need; all `keep`
        // only when the basis is about to be compressed
        let restart = m + b > mmax;
        let nx = if restart { keep.min(m) } else { (k + b).min(keep).min(m) };
        let yk = Mat::<T>::from_fn(m, nx, |i, j| y[(i, order[j])]);
        let mut x = Mat::<T>::zeros(n, nx);
        let mut ax = Mat::<T>::zeros(n, nx);
        // SAFETY: views inside their matrices.
        unsafe {
            mm(gmat_mut(&mut x), cols(gmat(&v), 0, m), gmat(&yk), par);
            mm(gmat_mut(&mut ax), cols(gmat(&w), 0, m), gmat(&yk), par);
        }
        spent += 4.0 * (n * m * nx) as f64;
        let tol = (n as f64) * eps * anorm;
        let mut resid = Mat::<T>::zeros(n, nx);
        let mut rnorm = vec![0.0f64; nx];
        for j in 0..nx {
            let th = theta[order[j]];
            for i in 0..n {
                resid[(i, j)] = ax[(i, j)] - x[(i, j)] * th;
            }
            rnorm[j] = col_norm(&resid, j);
        }
        if rnorm[..k.min(nx)].iter().all(|&r| r <= tol) && nx >= k {
            let mut vals: Vec<T> = (0..k).map(|j| theta[order[j]]).collect();
            let mut vecs = Mat::<T>::from_fn(n, k, |i, j| x[(i, j)]);
            if which == Which::Largest {
                vals.reverse();
                vecs = Mat::from_fn(n, k, |i, j| x[(i, k - 1 - j)]);
            }
            crate::signs::normalize_columns(vecs.as_mut());
            return Some((vals, vecs));
        }
        if spent > budget {
            return None;
        }
        // --- next block: residuals of the best unconverged pairs
        let next: Vec<usize> = (0..nx).filter(|&j| rnorm[j] > tol).take(b).collect();
        block = Mat::from_fn(n, next.len(), |i, c| resid[(i, next[c])]);
        // --- thick restart when the basis cannot take another block
        if restart {
            let nk = nx;
            // V <- V Y_keep = X, W <- W Y_keep = A X, T <- diag(theta_keep)
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
    }
}

fn col_norm<T: Real>(a: &Mat<T>, j: usize) -> f64 {
    a.col(j).iter().map(|&x| x.to_f64() * x.to_f64()).sum::<f64>().sqrt()
}

fn dot<T: Real>(a: &Mat<T>, i: usize, b: &Mat<T>, j: usize) -> T {
    let (ca, cb) = (a.col(i), b.col(j));
    let mut s = T::ZERO;
    for r in 0..ca.nrows() {
        s = ca[r].mul_add(cb[r], s);
    }
    s
}

/// column `j` -= d * column `p` (same matrix)
fn axpy<T: Real>(a: &mut Mat<T>, j: usize, p: usize, d: T) {
    for r in 0..a.nrows() {
        let x = a[(r, p)];
        a[(r, j)] = a[(r, j)] - d * x;
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

    /// Block size / restart / basis size against time on GOE 2000 (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn davidson_parameters_timing() {
        let n = 2000;
        let a = goe(n, 1);
        let av = ArrayRef::from_slice(&a, &[n, n]);
        let k = 10;
        for &(b, keep, mmax) in &[(10, 30, 120), (8, 30, 150), (8, 30, 110), (8, 40, 160), (12, 36, 160), (8, 26, 146), (6, 30, 150)] {
            let t = std::time::Instant::now();
            let r = davidson_with(&av, k, Which::Largest, b, keep, mmax, Par::SEQ);
            println!("b {b} keep {keep} mmax {mmax}: {:.3} s ok {}", t.elapsed().as_secs_f64(), r.is_some());

        }
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
