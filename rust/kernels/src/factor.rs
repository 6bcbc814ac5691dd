//! Triangular factorizations of stacks of matrices: QR (`A = Q R`) and Cholesky (`A = L L^T`).
//!
//! The arithmetic is faer's (blocked Householder QR, left-looking blocked Cholesky). What is ours:
//! batching across the stack ([`crate::batch`]), any input and output strides, errors naming the
//! batch index, and a unique QR: faer's Householder reflections leave the signs of `R`'s diagonal
//! arbitrary, so each row of `R` with a negative diagonal entry is negated together with the
//! matching column of `Q` (`Q R` unchanged). For a matrix of full column rank that makes `Q` and
//! `R` the unique factors with `diag(R) > 0`, the same for any thread count and run to run.
//!
//! One matrix runs on one thread (faer's parallel kernels are not bit-identical to the
//! sequential ones); stacks, and the row blocks of a tall-skinny QR (TSQR, as `ferrolinalg.dask`
//! does it), run in parallel.

use crate::batch::for_each_matrix;
use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::strided::{ArrayMut, ArrayRef, SendPtr};
use crate::threads::Par;
use faer::dyn_stack::{MemStack, StackReq};
use faer::linalg::cholesky::llt::factor as llt;
use faer::linalg::householder;
use faer::linalg::qr::no_pivoting::factor as fqr;
use faer::linalg::temp_mat_scratch;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::mat::AsMatMut;
use faer::{Conj, MatMut, MatRef};
use crate::gemm::Mat as GMat;

fn matrix_dims(what: &str, shape: &[usize]) -> Result<(usize, usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::Shape {
            what: format!("{what} needs an array of at least two dimensions (..., M, N)"),
            shapes: vec![shape.to_vec()],
        });
    }
    let nb = shape.len() - 2;
    Ok((nb, shape[nb], shape[nb + 1]))
}

fn check_out(what: &str, a: &[usize], out: &[usize], rows: usize, cols: usize) -> Result<()> {
    let nb = a.len() - 2;
    if out.len() != a.len() || out[..nb] != a[..nb] || out[nb] != rows || out[nb + 1] != cols {
        let mut expected = a[..nb].to_vec();
        expected.extend([rows, cols]);
        return Err(Error::Shape {
            what: format!("{what}: output shape {out:?} does not fit the input (expected {expected:?})"),
            shapes: vec![a.to_vec(), out.to_vec()],
        });
    }
    Ok(())
}

/// The QR factorization of every matrix of `a` (`(..., m, n)`, any strides): `r` of shape
/// `(..., kr, n)` and, if given, `q` of shape `(..., m, kr)`, where `kr` is `min(m, n)`
/// ("reduced") or `m` ("complete"; then `r` has `m` rows, zero below the first `min(m, n)`).
pub fn qr<T: Real>(a: &ArrayRef<T>, q: Option<&mut ArrayMut<T>>, r: &mut ArrayMut<T>, par: Par) -> Result<()> {
    let (nb, m, n) = matrix_dims("qr", a.shape())?;
    let k = m.min(n);
    let kr = r.shape().get(nb).copied().unwrap_or(0);
    if kr != k && kr != m {
        return Err(Error::Shape { what: "qr: R must have min(M, N) or M rows".into(), shapes: vec![a.shape().to_vec(), r.shape().to_vec()] });
    }
    check_out("qr (R)", a.shape(), r.shape(), kr, n)?;
    if let Some(q) = &q {
        check_out("qr (Q)", a.shape(), q.shape(), m, kr)?;
    }
    let block = fqr::recommended_block_size::<T>(m, n).max(1);
    let scratch = StackReq::all_of(&[
        temp_mat_scratch::<T>(m, n),
        temp_mat_scratch::<T>(block, k),
        fqr::qr_in_place_scratch::<T>(m, n, block, faer::Par::Seq, Default::default()),
        householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(m, block, kr),
    ]);
    let (a_s, r_s) = (a.strides(), r.strides().to_vec());
    let (q_ptr, q_s) = match &q {
        Some(q) => (SendPtr(q.ptr()), q.strides().to_vec()),
        None => (SendPtr(core::ptr::null_mut()), vec![0; nb + 2]),
    };
    let (a_ptr, r_ptr) = (SendPtr(a.ptr() as *mut T), SendPtr(r.ptr()));
    let work = 2 * m * n * k + if q.is_some() { 2 * m * kr * k } else { 0 };
    let one = |offs: [isize; 3], stack: &mut MemStack| -> core::result::Result<(), ()> {
        // SAFETY: offsets from `BatchOffsets` over the checked shapes keep every view inside its
        // array; distinct batch positions write disjoint matrices of `q` and `r`.
        unsafe {
            let av = MatRef::from_raw_parts(a_ptr.get().offset(offs[0]) as *const T, m, n, a_s[nb], a_s[nb + 1]);
            let rv = MatMut::from_raw_parts_mut(r_ptr.get().offset(offs[1]), kr, n, r_s[nb], r_s[nb + 1]);
            let qv = (!q_ptr.get().is_null())
                .then(|| MatMut::from_raw_parts_mut(q_ptr.get().offset(offs[2]), m, kr, q_s[nb], q_s[nb + 1]));
            qr_one(av, qv, rv, block, stack);
        }
        Ok(())
    };
    for_each_matrix(&a.shape()[..nb], [&a_s[..nb], &r_s[..nb], &q_s[..nb]], work, scratch, par, &one)?;
    Ok(())
}

fn qr_one<T: Real>(a: MatRef<'_, T>, q: Option<MatMut<'_, T>>, mut r: MatMut<'_, T>, block: usize, stack: &mut MemStack) {
    let (m, n) = (a.nrows(), a.ncols());
    let k = m.min(n);
    // SAFETY: both temporaries are written in full before they are read (`copy_from`, then faer).
    let (mut work, stack) = unsafe { faer::linalg::temp_mat_uninit::<T, _, _>(m, n, stack) };
    let mut work = work.as_mat_mut();
    work.copy_from(a);
    // entries near underflow or overflow: factor a copy scaled by a power of two (exact) so the
    // reflectors' norms neither underflow to zero nor overflow, then scale R back (Q is the same)
    let mut amax = T::ZERO;
    for j in 0..n {
        for x in work.rb().col(j).iter() {
            if x.abs() > amax {
                amax = x.abs();
            }
        }
    }
    let scale = crate::svd::scale_for(amax);
    if let Some(f) = scale {
        for j in 0..n {
            for x in work.rb_mut().col_mut(j).iter_mut() {
                *x = *x * f;
            }
        }
    }
    // SAFETY: faer's QR writes every coefficient before the reflectors read them.
    let (mut coeff, stack) = unsafe { faer::linalg::temp_mat_uninit::<T, _, _>(block, k, stack) };
    let mut coeff = coeff.as_mat_mut();
    if k > 0 {
        fqr::qr_in_place(work.rb_mut(), coeff.rb_mut(), faer::Par::Seq, stack, Default::default());
    }
    // R: the upper triangle of the factored matrix, zeros below it
    for j in 0..n {
        for i in 0..r.nrows() {
            r[(i, j)] = if i <= j && i < k { work[(i, j)] } else { T::ZERO };
        }
    }
    if let Some(mut q) = q {
        // Q = H_1 ... H_k applied to the first columns of the identity
        q.fill(T::ZERO);
        for i in 0..q.ncols().min(m) {
            q[(i, i)] = T::ONE;
        }
        if k > 0 {
            householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
                work.rb().get(.., ..k),
                coeff.rb(),
                Conj::No,
                q.rb_mut(),
                faer::Par::Seq,
                stack,
            );
        }
        for i in 0..k {
            if r[(i, i)] < T::ZERO {
                for j in 0..m {
                    q[(j, i)] = -q[(j, i)];
                }
            }
        }
    }
    let unscale = scale.map_or(T::ONE, |f| T::ONE / f);
    for i in 0..k {
        let sign = if r[(i, i)] < T::ZERO { -unscale } else { unscale };
        for j in i..n {
            r[(i, j)] = r[(i, j)] * sign;
        }
    }
}

/// The Cholesky factor of every symmetric positive-definite matrix of `a` (`(..., n, n)`, any
/// strides; only the triangle named by `upper` is read) into `out`: `L` with `A = L L^T`, or with
/// `upper`, `U = L^T` with `A = U^T U`. The other triangle of `out` is zero. A matrix that is not
/// positive definite (or holds a NaN) gives `Error::LinAlg` naming its batch index.
pub fn cholesky<T: Real>(a: &ArrayRef<T>, out: &mut ArrayMut<T>, upper: bool, par: Par) -> Result<()> {
    let (nb, m, n) = matrix_dims("cholesky", a.shape())?;
    if m != n {
        return Err(Error::Shape { what: "cholesky needs square matrices (..., N, N)".into(), shapes: vec![a.shape().to_vec()] });
    }
    check_out("cholesky", a.shape(), out.shape(), n, n)?;
    let scratch = StackReq::all_of(&[
        temp_mat_scratch::<T>(n, n),
        llt::cholesky_in_place_scratch::<T>(n, faer::Par::Seq, Default::default()),
    ]);
    let (a_s, o_s) = (a.strides().to_vec(), out.strides().to_vec());
    let (a_ptr, o_ptr) = (SendPtr(a.ptr() as *mut T), SendPtr(out.ptr()));
    let one = |offs: [isize; 2], stack: &mut MemStack| -> core::result::Result<(), ()> {
        // SAFETY: as in `qr`: views inside their arrays, each batch position writes its own.
        unsafe {
            // the upper triangle of A is the lower triangle of A^T: read A transposed for `upper`
            let (rs, cs) = if upper { (a_s[nb + 1], a_s[nb]) } else { (a_s[nb], a_s[nb + 1]) };
            let av = MatRef::from_raw_parts(a_ptr.get().offset(offs[0]) as *const T, n, n, rs, cs);
            let (ors, ocs) = if upper { (o_s[nb + 1], o_s[nb]) } else { (o_s[nb], o_s[nb + 1]) };
            let mut ov = MatMut::from_raw_parts_mut(o_ptr.get().offset(offs[1]), n, n, ors, ocs);
            let (mut work, stack) = faer::linalg::temp_mat_uninit::<T, _, _>(n, n, stack);
            let mut work = work.as_mat_mut();
            for j in 0..n {
                for i in j..n {
                    work[(i, j)] = av[(i, j)];
                }
            }
            let ok = llt::cholesky_in_place(work.rb_mut(), Default::default(), faer::Par::Seq, stack, Default::default()).is_ok()
                && (0..n).all(|i| work[(i, i)].is_finite());
            for j in 0..n {
                for i in 0..n {
                    ov[(i, j)] = if i >= j { work[(i, j)] } else { T::ZERO };
                }
            }
            if ok { Ok(()) } else { Err(()) }
        }
    };
    match for_each_matrix(&a.shape()[..nb], [&a_s[..nb], &o_s[..nb]], n * n * n / 3, scratch, par, &one)? {
        None => Ok(()),
        Some(i) => Err(Error::LinAlg { what: "matrix is not positive definite".into(), batch_index: (nb > 0).then_some(i) }),
    }
}

/// Block columns of [`cholesky_parallel`].
const CHOL_BLOCK: usize = 128;
/// Rows per task of its panel solves.
const CHOL_PANEL_ROWS: usize = 64;

/// The Cholesky factor of one large matrix on all of `par`'s threads, in place: `a` (`n x n`,
/// column-major, lower triangle read) becomes `L` in its lower triangle (the upper triangle is
/// left undefined). `false` if the matrix is not positive definite (or not finite).
///
/// Right-looking and blocked by [`CHOL_BLOCK`] columns: each diagonal block by faer's
/// sequential Cholesky, each panel by triangular solves on fixed row ranges, the trailing matrix
/// by our GEMM (`A22 -= L21 L21^T`) in fixed column blocks, so the work is parallel and every
/// entry is computed the same way for any thread count (faer's parallel Cholesky is not
/// bit-identical to its sequential one). faer's sequential factorization of a 2000x2000 matrix
/// took ~100 ms here, about 27 GFLOP/s; the trailing updates run at GEMM speed.
pub(crate) fn cholesky_parallel<T: Real>(a: MatMut<'_, T>, par: Par) -> bool {
    let n = a.nrows();
    debug_assert!(a.ncols() == n && a.row_stride() == 1);
    let cs = a.col_stride();
    let base = SendPtr(a.as_ptr_mut());
    let at = move |i: usize, j: usize| -> *mut T { base.get().wrapping_offset(i as isize + j as isize * cs) };
    let req = llt::cholesky_in_place_scratch::<T>(CHOL_BLOCK, faer::Par::Seq, Default::default());
    // the diagonal block at `j0` factored in place; false if it is not positive definite
    let factor_diagonal = |j0: usize| -> bool {
        let jb = CHOL_BLOCK.min(n - j0);
        let Ok(mut buf) = crate::workspace::buffer(req) else { return false };
        // SAFETY: the block lies inside `a`, and no other task touches it meanwhile.
        let mut d = unsafe { MatMut::from_raw_parts_mut(at(j0, j0), jb, jb, 1, cs) };
        let ok = llt::cholesky_in_place(d.rb_mut(), Default::default(), faer::Par::Seq, MemStack::new(&mut buf), Default::default()).is_ok();
        ok && (0..jb).all(|i| d[(i, i)].is_finite())
    };
    if n == 0 {
        return true;
    }
    if !factor_diagonal(0) {
        return false;
    }
    // -L21 of the current step, column-major (`rest` rows)
    let mut neg: Vec<T> = vec![T::ZERO; n.saturating_sub(CHOL_BLOCK) * CHOL_BLOCK];
    let next_ok = std::sync::atomic::AtomicBool::new(true);
    for j0 in (0..n).step_by(CHOL_BLOCK) {
        let jb = CHOL_BLOCK.min(n - j0);
        let rest = n - j0 - jb;
        if rest == 0 {
            break;
        }
        let negp = SendPtr(neg.as_mut_ptr());
        // SAFETY (this block): every view below lies inside `a` or `neg`; concurrent tasks write
        // disjoint row ranges (panel) or column blocks (update) and read only the panel.
        unsafe {
            let l11 = MatRef::from_raw_parts(at(j0, j0) as *const T, jb, jb, 1, cs);
            // L21 = A21 L11^-T, as L11 X = A21^T on row ranges of A21; and -L21 for the update
            let tasks = rest.div_ceil(CHOL_PANEL_ROWS);
            par.for_each(tasks, &|t| {
                let r0 = t * CHOL_PANEL_ROWS;
                let nr = CHOL_PANEL_ROWS.min(rest - r0);
                let x = MatMut::from_raw_parts_mut(at(j0 + jb + r0, j0), jb, nr, cs, 1);
                faer::linalg::triangular_solve::solve_lower_triangular_in_place(l11, x, faer::Par::Seq);
                for p in 0..jb {
                    for i in r0..r0 + nr {
                        *negp.get().add(p * rest + i) = -*at(j0 + jb + i, j0 + p);
                    }
                }
            });
            // A22 -= L21 L21^T, lower part, one block of columns per task: C += (-L21) L21^T.
            // The first block holds the next diagonal block, complete once its update is: its
            // task factors it (tasks are claimed in order, so it starts first), off the
            // critical path of the other updates.
            let blocks = rest.div_ceil(CHOL_BLOCK);
            par.for_each(blocks, &|t| {
                let c0 = t * CHOL_BLOCK;
                let nc = CHOL_BLOCK.min(rest - c0);
                let rows = rest - c0;
                let c = GMat { ptr: at(j0 + jb + c0, j0 + jb + c0), rows, cols: nc, rs: 1, cs };
                let l = GMat { ptr: negp.get().add(c0), rows, cols: jb, rs: 1, cs: rest as isize };
                let lt = GMat { ptr: at(j0 + jb + c0, j0), rows: jb, cols: nc, rs: cs, cs: 1 };
                let mut scratch = Vec::new();
                crate::gemm::gemm_seq_with(c, l, lt, true, &mut scratch);
                if t == 0 && !factor_diagonal(j0 + jb) {
                    next_ok.store(false, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        if !next_ok.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
    }
    true
}

/// Diagonal blocks of [`cholesky_solve`]: the part solved by faer's triangular solve (a
/// `1/SOLVE_BLOCK` share of the flops); the rest is GEMM on the panels below them.
const SOLVE_BLOCK: usize = 128;
/// Rows per task of [`cholesky_solve`]'s panel products: fixed, so that results do not depend on
/// the thread count.
const SOLVE_ROWS: usize = 256;

/// `X <- (L L^T)^-1 X` for a lower triangular `L` (`n x n`, upper triangle not read) and a few
/// right-hand sides `X` (`n x nrhs`, column-major), on all of `par`'s threads.
///
/// Blocked by [`SOLVE_BLOCK`]: the forward solve updates the rows below each diagonal block by
/// GEMM with the block's panel (`X2 -= L21 X1`), the backward solve updates each block by GEMM
/// with the panel's transpose (`X1 -= L21^T X2`, partial products of fixed row ranges summed in
/// order). `L` is read twice, by the GEMM kernel, in row ranges split across the threads, each
/// range against all right-hand sides: with few of them the solve is bound by reading `L`, so
/// more columns per pass is what makes it faster. faer's `solve_lower_triangular_in_place` with 8
/// right-hand sides ran at ~18 GFLOP/s on a 2000x2000 factor (eigsh's shift and invert spent 60%
/// of its phase 2 there), this at 25 on one thread.
///
/// # Safety
/// `l` and `x` are valid and do not overlap; `x` has row stride 1.
pub(crate) unsafe fn cholesky_solve<T: Real>(l: MatRef<'_, T>, x: MatMut<'_, T>, par: Par) {
    let (n, nrhs) = (x.nrows(), x.ncols());
    debug_assert!(l.nrows() == n && l.ncols() == n && x.row_stride() == 1);
    if n == 0 || nrhs == 0 {
        return;
    }
    let (lp, lrs, lcs) = (SendPtr(l.as_ptr() as *mut T), l.row_stride(), l.col_stride());
    let (xp, xcs) = (SendPtr(x.as_ptr_mut()), x.col_stride());
    let lmat = move |r0: usize, c0: usize, rows: usize, cols: usize| GMat { ptr: lp.get().wrapping_offset(r0 as isize * lrs + c0 as isize * lcs), rows, cols, rs: lrs, cs: lcs };
    let xmat = move |r0: usize, rows: usize| GMat { ptr: xp.get().wrapping_add(r0), rows, cols: nrhs, rs: 1, cs: xcs };
    let chunk_count = |rest: usize| rest.div_ceil(SOLVE_ROWS);
    let bmax = SOLVE_BLOCK.min(n);
    // -X1 (forward), or one partial L21^T X2 per row range (backward): bmax x nrhs column-major each
    let mut tmp: Vec<T> = vec![T::ZERO; bmax * nrhs * chunk_count(n).max(1)];
    let blocks: Vec<usize> = (0..n).step_by(SOLVE_BLOCK).collect();
    // forward: L Y = X
    for &j0 in &blocks {
        let jb = SOLVE_BLOCK.min(n - j0);
        let x1 = MatMut::from_raw_parts_mut(xp.get().add(j0), jb, nrhs, 1, xcs);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(l.submatrix(j0, j0, jb, jb), x1, faer::Par::Seq);
        let rest = n - j0 - jb;
        if rest == 0 {
            continue;
        }
        for c in 0..nrhs {
            for i in 0..jb {
                tmp[i + c * jb] = -*xp.get().offset((j0 + i) as isize + c as isize * xcs);
            }
        }
        let neg = SendPtr(tmp.as_mut_ptr());
        // X2 += L21 (-X1), in row ranges
        par.for_each(chunk_count(rest), &|t| {
            let r0 = t * SOLVE_ROWS;
            let nr = SOLVE_ROWS.min(rest - r0);
            let negm = GMat { ptr: neg.get(), rows: jb, cols: nrhs, rs: 1, cs: jb as isize };
            let mut scratch = Vec::new();
            // SAFETY: each task writes its own rows of X2; L21's rows and -X1 are only read.
            crate::gemm::gemm_seq_with(xmat(j0 + jb + r0, nr), lmat(j0 + jb + r0, j0, nr, jb), negm, true, &mut scratch);
        });
    }
    // backward: L^T X = Y
    for &j0 in blocks.iter().rev() {
        let jb = SOLVE_BLOCK.min(n - j0);
        let rest = n - j0 - jb;
        if rest > 0 {
            let parts = SendPtr(tmp.as_mut_ptr());
            let part = move |t: usize| GMat { ptr: parts.get().wrapping_add(t * jb * nrhs), rows: jb, cols: nrhs, rs: 1, cs: jb as isize };
            // partial L21^T X2 of each row range
            par.for_each(chunk_count(rest), &|t| {
                let r0 = t * SOLVE_ROWS;
                let nr = SOLVE_ROWS.min(rest - r0);
                let p = lmat(j0 + jb + r0, j0, nr, jb);
                let pt = GMat { ptr: p.ptr, rows: jb, cols: nr, rs: p.cs, cs: p.rs };
                let mut scratch = Vec::new();
                // SAFETY: each task writes its own partial; L21 and X2 are only read.
                crate::gemm::gemm_seq_with(part(t), pt, xmat(j0 + jb + r0, nr), false, &mut scratch);
            });
            // X1 -= the partials, summed in order
            for c in 0..nrhs {
                for i in 0..jb {
                    let mut sum = T::ZERO;
                    for t in 0..chunk_count(rest) {
                        sum = sum + tmp[t * jb * nrhs + i + c * jb];
                    }
                    let xi = xp.get().offset((j0 + i) as isize + c as isize * xcs);
                    *xi = *xi - sum;
                }
            }
        }
        let x1 = MatMut::from_raw_parts_mut(xp.get().add(j0), jb, nrhs, 1, xcs);
        faer::linalg::triangular_solve::solve_upper_triangular_in_place(l.submatrix(j0, j0, jb, jb).transpose(), x1, faer::Par::Seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::data;

    /// A well-conditioned symmetric positive definite `n x n` matrix: `G G^T + n I`.
    fn spd(n: usize, seed: u64) -> faer::Mat<f64> {
        let g = faer::Mat::<f64>::from_fn(n, n, |i, j| crate::randomized::gaussian(seed, (i * n + j) as u64));
        &g * g.transpose() + faer::Mat::<f64>::identity(n, n) * (n as f64)
    }

    #[test]
    fn qr_reconstructs_with_positive_diagonal() {
        for &(m, n) in &[(5, 3), (3, 5), (4, 4), (1, 1), (70, 20)] {
            let a = data(m * n, 7);
            let k = m.min(n);
            for &kr in &[k, m] {
                let mut q = vec![f64::NAN; m * kr];
                let mut r = vec![f64::NAN; kr * n];
                qr(
                    &ArrayRef::from_slice(&a, &[m, n]),
                    Some(&mut ArrayMut::from_slice(&mut q, &[m, kr])),
                    &mut ArrayMut::from_slice(&mut r, &[kr, n]),
                    Par::SEQ,
                )
                .unwrap();
                for i in 0..m {
                    for j in 0..n {
                        let got: f64 = (0..kr).map(|p| q[i * kr + p] * r[p * n + j]).sum();
                        assert!((got - a[i * n + j]).abs() < 1e-12, "{m}x{n} kr={kr}");
                    }
                }
                for i in 0..k {
                    assert!(r[i * n + i] >= 0.0);
                }
            }
        }
    }

    #[test]
    fn parallel_cholesky_factors_and_ignores_thread_count() {
        for n in [1usize, 5, 128, 129, 300] {
            let a = spd(n, 4);
            crate::threads::set_num_threads(2);
            let pool = crate::threads::current();
            let mut one = a.clone();
            let mut two = a.clone();
            assert!(cholesky_parallel(one.as_mut(), Par::SEQ));
            assert!(cholesky_parallel(two.as_mut(), pool.par()));
            let l = faer::Mat::<f64>::from_fn(n, n, |i, j| if i >= j { one[(i, j)] } else { 0.0 });
            let l2 = faer::Mat::<f64>::from_fn(n, n, |i, j| if i >= j { two[(i, j)] } else { 0.0 });
            assert_eq!(l, l2, "n {n}: threads changed the factor");
            let err = (&l * l.transpose() - &a).norm_max();
            assert!(err <= 1e-13 * a.norm_max() * n as f64, "n {n}: {err}");
            let mut bad = a.clone();
            bad[(n - 1, n - 1)] = -1.0;
            assert!(!cholesky_parallel(bad.as_mut(), pool.par()));
        }
    }

    #[test]
    fn blocked_cholesky_solve_matches_the_definition() {
        for (n, nrhs) in [(1usize, 1usize), (5, 3), (128, 8), (129, 1), (300, 8), (257, 5)] {
            let a = spd(n, 5);
            let mut l = a.clone();
            assert!(cholesky_parallel(l.as_mut(), Par::SEQ));
            // the upper triangle holds garbage that must not be read
            for j in 0..n {
                for i in 0..j {
                    l[(i, j)] = f64::NAN;
                }
            }
            let b = faer::Mat::<f64>::from_fn(n, nrhs, |i, j| crate::randomized::gaussian(6, (i * nrhs + j) as u64));
            let mut x = b.clone();
            // SAFETY: distinct matrices, x column-major.
            unsafe { cholesky_solve(l.as_ref(), x.as_mut(), Par::SEQ) };
            let mut y = b.clone();
            crate::threads::set_num_threads(2);
            // SAFETY: as above.
            unsafe { cholesky_solve(l.as_ref(), y.as_mut(), crate::threads::current().par()) };
            assert_eq!(x, y, "n {n}: threads changed the solution");
            let err = (&a * &x - &b).norm_max();
            assert!(err <= 1e-12 * (a.norm_max() * x.norm_max() + b.norm_max()) * n as f64, "n {n}: {err}");
        }
    }

    /// The parallel Cholesky factorization of a 2000x2000 matrix (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn cholesky_parallel_timing() {
        let n = 2000;
        let a = spd(n, 5);
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let flops = (n * n * n) as f64 / 3.0;
        for _ in 0..5 {
            let mut l = a.clone();
            let t = std::time::Instant::now();
            assert!(cholesky_parallel(l.as_mut(), Par::SEQ));
            let t1 = t.elapsed().as_secs_f64();
            let mut l = a.clone();
            let t = std::time::Instant::now();
            assert!(cholesky_parallel(l.as_mut(), pool.par()));
            let t2 = t.elapsed().as_secs_f64();
            println!("cholesky 2000: 1 thread {:.1} ms ({:.1} GFLOP/s), 2 threads {:.1} ms ({:.1})", t1 * 1e3, flops / t1 * 1e-9, t2 * 1e3, flops / t2 * 1e-9);
        }
    }

    /// One panel solve of the parallel Cholesky: strided right-hand sides against a column-major copy.
    #[test]
    #[ignore]
    fn panel_solve_timing() {
        let (jb, rest) = (128usize, 1872usize);
        let a = spd(jb, 5);
        let l = a.llt(faer::Side::Lower).unwrap().L().to_owned();
        let p0 = faer::Mat::<f64>::from_fn(rest, jb, |i, j| crate::randomized::gaussian(7, (i * jb + j) as u64));
        let (mut best_s, mut best_c) = (1e9f64, 1e9f64);
        for _ in 0..20 {
            let mut p = p0.clone();
            let t = std::time::Instant::now();
            for r0 in (0..rest).step_by(64) {
                let nr = 64.min(rest - r0);
                let x = p.as_mut().submatrix_mut(r0, 0, nr, jb).transpose_mut();
                faer::linalg::triangular_solve::solve_lower_triangular_in_place(l.as_ref(), x, faer::Par::Seq);
            }
            best_s = best_s.min(t.elapsed().as_secs_f64());
            let mut q = p0.clone();
            let t = std::time::Instant::now();
            let mut sc = faer::Mat::<f64>::zeros(jb, 64);
            for r0 in (0..rest).step_by(64) {
                let nr = 64.min(rest - r0);
                let mut x = sc.as_mut().submatrix_mut(0, 0, jb, nr);
                x.copy_from(q.as_ref().submatrix(r0, 0, nr, jb).transpose());
                faer::linalg::triangular_solve::solve_lower_triangular_in_place(l.as_ref(), x.as_mut(), faer::Par::Seq);
                q.as_mut().submatrix_mut(r0, 0, nr, jb).copy_from(x.transpose());
            }
            best_c = best_c.min(t.elapsed().as_secs_f64());
            assert!((&p - &q).norm_max() < 1e-12);
        }
        let flops = (rest * jb * jb) as f64;
        println!("panel solve {rest}x{jb}: strided {:.2} ms ({:.1} GFLOP/s), via copy {:.2} ms ({:.1})", best_s * 1e3, flops / best_s * 1e-9, best_c * 1e3, flops / best_c * 1e-9);
    }

    /// faer's triangular solves against the blocked one (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn cholesky_solve_timing() {
        let n = 2000;
        let a = spd(n, 5);
        let mut l = a.clone();
        assert!(cholesky_parallel(l.as_mut(), Par::SEQ));
        let b = faer::Mat::<f64>::from_fn(n, 16, |i, j| crate::randomized::gaussian(6, (i * 16 + j) as u64));
        let flops = 2.0 * 2.0 * (n * n) as f64 / 2.0 * 16.0;
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for _ in 0..12 {
            let mut x = b.clone();
            let t = std::time::Instant::now();
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(l.as_ref(), x.as_mut(), faer::Par::Seq);
            faer::linalg::triangular_solve::solve_upper_triangular_in_place(l.transpose(), x.as_mut(), faer::Par::Seq);
            let tf = t.elapsed().as_secs_f64();
            let mut y = b.clone();
            let t = std::time::Instant::now();
            // SAFETY: distinct matrices.
            unsafe { cholesky_solve(l.as_ref(), y.as_mut(), Par::SEQ) };
            let tb = t.elapsed().as_secs_f64();
            let mut z = b.clone();
            let t = std::time::Instant::now();
            // SAFETY: distinct matrices.
            unsafe { cholesky_solve(l.as_ref(), z.as_mut(), pool.par()) };
            let t2 = t.elapsed().as_secs_f64();
            let g = |t: f64| flops / t * 1e-9;
            println!("16 rhs: faer {:.2} ms ({:.1} GFLOP/s), blocked 1 thread {:.2} ms ({:.1}), 2 threads {:.2} ms ({:.1}), max diff {:.1e}", tf * 1e3, g(tf), tb * 1e3, g(tb), t2 * 1e3, g(t2), (&x - &y).norm_max());
        }
    }
}

