//! The data passes of PCA that are not a decomposition in their own right: column means and the
//! total variance without a centred copy, and the "full" solver's `S` and `Vh` of the centred
//! data through a QR factorization (no `U`).
//!
//! Why QR first: scikit-learn's `svd_solver="full"` calls LAPACK's `gesdd` on the centred copy,
//! which for a tall `m x n` matrix does a QR (~2 m n^2 flops), forms `Q` (~2 m n^2) and
//! multiplies `U = Q U_R` (~2 m n^2). `fit` needs only `S` and `Vh`, which are those of `R`:
//! a third of the arithmetic. The QR is a TSQR over fixed row blocks (each block centred into a
//! column-major scratch and factored on its own thread; the stacked `R`s factored once more), so
//! the threads share the work and the result does not depend on the thread count.

use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::strided::{ArrayRef, SendPtr};
use crate::threads::Par;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::qr::no_pivoting::factor as qr;
use faer::linalg::svd::{self as fsvd, ComputeSvdVectors};
use faer::Mat;

/// Rows per accumulation chunk of the column passes (fixed: partial sums are added in chunk
/// order, so the result does not depend on the thread count).
const CHUNK_ROWS: usize = 512;

fn dims2<T>(a: &ArrayRef<T>, what: &str) -> Result<(usize, usize)> {
    match a.shape() {
        &[m, n] => Ok((m, n)),
        s => Err(Error::Shape { what: format!("{what} needs a 2-D array (n_samples, n_features)"), shapes: vec![s.to_vec()] }),
    }
}

/// Per-chunk column sums of `f(x, j)` over the rows of `a`, added in chunk order.
fn column_sums<T: Real>(a: &ArrayRef<T>, par: Par, f: &(dyn Fn(T, usize) -> f64 + Sync)) -> Vec<f64> {
    let (m, n) = (a.shape()[0], a.shape()[1]);
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let nchunks = m.div_ceil(CHUNK_ROWS).max(1);
    let mut partial = vec![0.0f64; nchunks * n];
    let out = SendPtr(partial.as_mut_ptr());
    let base = SendPtr(a.ptr() as *mut T);
    par.when(m * n >= 1 << 16).for_batch(nchunks, CHUNK_ROWS * n, &|start, count| {
        for c in start..start + count {
            // SAFETY: chunk c owns partial[c n..(c + 1) n]; `a` is only read, inside its view.
            unsafe {
                let acc = core::slice::from_raw_parts_mut(out.get().add(c * n), n);
                for i in c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(m) {
                    let row = base.get().offset(i as isize * rs);
                    for (j, s) in acc.iter_mut().enumerate() {
                        *s += f(*row.offset(j as isize * cs), j);
                    }
                }
            }
        }
    });
    let mut total = vec![0.0f64; n];
    for c in 0..nchunks {
        for j in 0..n {
            total[j] += partial[c * n + j];
        }
    }
    total
}

/// The column means of `a` (`m x n`) and the total variance of the centred data,
/// `sum((a - mean)^2) / (m - 1)` (two passes, in f64: as accurate as the centred copy's).
pub fn mean_and_total_var<T: Real>(a: &ArrayRef<T>, par: Par) -> Result<(Vec<T>, f64)> {
    let (m, _) = dims2(a, "PCA")?;
    let sums = column_sums(a, par, &|x, _| x.to_f64());
    let mean64: Vec<f64> = sums.iter().map(|s| s / m as f64).collect();
    let mean: Vec<T> = mean64.iter().map(|&x| T::from_f64(x)).collect();
    let mu = &mean;
    let ss = column_sums(a, par, &|x, j| {
        let d = x.to_f64() - mu[j].to_f64();
        d * d
    });
    let total = ss.iter().sum::<f64>() / (m as f64 - 1.0);
    Ok((mean, total))
}

/// The column means only.
pub fn column_mean<T: Real>(a: &ArrayRef<T>, par: Par) -> Result<Vec<T>> {
    let (m, _) = dims2(a, "PCA")?;
    let sums = column_sums(a, par, &|x, _| x.to_f64());
    Ok(sums.iter().map(|s| T::from_f64(s / m as f64)).collect())
}

/// Rows per TSQR block: at least `4 n` (the stacked `R`s then add at most a quarter to the work)
/// and at least 2048.
fn tsqr_block_rows(n: usize) -> usize {
    (4 * n).max(2048)
}

/// `R` (`min(m, n) x n`, upper trapezoidal) of the QR factorization of `a - 1 mean^T`,
/// computed in f64 whatever `T` (faer's float32 QR loses accuracy on graded data, see
/// `randomized::orthonormalize`; the centred block copy is made anyway, so f64 costs only the
/// arithmetic).
fn centred_r<T: Real>(a: &ArrayRef<T>, mean: &[T], par: Par) -> Mat<f64> {
    let (m, n) = (a.shape()[0], a.shape()[1]);
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    let rb = tsqr_block_rows(n);
    let nblocks = m.div_ceil(rb).max(1);
    let heights: Vec<usize> = (0..nblocks).map(|b| (rb.min(m - b * rb)).min(n)).collect();
    let offsets: Vec<usize> = heights.iter().scan(0, |acc, &h| { let o = *acc; *acc += h; Some(o) }).collect();
    let total: usize = heights.iter().sum();
    let mut stacked = Mat::<f64>::zeros(total, n);
    let sp = SendPtr(stacked.as_ptr_mut());
    let scs = stacked.col_stride();
    let base = SendPtr(a.ptr() as *mut T);
    let one_block = |b: usize| {
        let r0 = b * rb;
        let rows = rb.min(m - r0);
        // the centred block, column-major
        // SAFETY: rows r0..r0 + rows of `a` are inside the view; it is only read.
        let mut blk = Mat::<f64>::from_fn(rows, n, |i, j| {
            (unsafe { *base.get().offset((r0 + i) as isize * rs + j as isize * cs) } - mean[j]).to_f64()
        });
        let r = qr_r(&mut blk);
        for j in 0..n {
            for i in 0..heights[b] {
                // SAFETY: block b owns rows offsets[b]..offsets[b] + heights[b] of `stacked`.
                unsafe { *sp.get().offset((offsets[b] + i) as isize + j as isize * scs) = r[(i, j)] };
            }
        }
    };
    if nblocks == 1 {
        one_block(0);
        return stacked;
    }
    par.for_each(nblocks, &one_block);
    qr_r(&mut stacked)
}

/// Factors `a` in place (sequential Householder QR) and returns its `R` (`min(m, n) x n`).
fn qr_r<T: Real>(a: &mut Mat<T>) -> Mat<T> {
    let (m, n) = (a.nrows(), a.ncols());
    let size = m.min(n);
    if size == 0 {
        return Mat::zeros(size, n);
    }
    let bs = qr::recommended_block_size::<T>(m, n);
    let mut coeff = Mat::<T>::zeros(bs, size);
    let mut buf = MemBuffer::new(qr::qr_in_place_scratch::<T>(m, n, bs, faer::Par::Seq, Default::default()));
    qr::qr_in_place(a.as_mut(), coeff.as_mut(), faer::Par::Seq, MemStack::new(&mut buf), Default::default());
    Mat::from_fn(size, n, |i, j| if i <= j { a[(i, j)] } else { T::ZERO })
}

/// The singular values (descending, `min(m, n)`) and right singular vectors (`V`, `n x min(m,
/// n)`, columns; DESIGN.md's signs) of `a - 1 mean^T`, without `U`.
pub fn centred_svd<T: Real>(a: &ArrayRef<T>, mean: &[T], par: Par) -> Result<(Vec<T>, Mat<T>)> {
    let (m, n) = dims2(a, "PCA")?;
    let k = m.min(n);
    let r = if m >= 2 * n {
        centred_r(a, mean, par)
    } else {
        let (rs, cs) = (a.strides()[0], a.strides()[1]);
        // SAFETY: (i, j) inside the view.
        Mat::<f64>::from_fn(m, n, |i, j| (unsafe { *a.ptr().offset(i as isize * rs + j as isize * cs) } - mean[j]).to_f64())
    };
    let mut s = faer::Col::<f64>::zeros(k);
    let mut v = Mat::<f64>::zeros(n, k);
    let params = faer::Spec::new(<fsvd::SvdParams as faer::Auto<f64>>::auto());
    let req = fsvd::svd_scratch::<f64>(r.nrows(), n, ComputeSvdVectors::No, ComputeSvdVectors::Thin, faer::Par::Seq, params);
    let mut buf = MemBuffer::new(req);
    fsvd::svd(r.as_ref(), s.as_diagonal_mut(), None, Some(v.as_mut()), faer::Par::Seq, MemStack::new(&mut buf), params)
        .map_err(|_| Error::LinAlg { what: "PCA: the SVD did not converge (is there a NaN or an infinity in the input?)".into(), batch_index: None })?;
    crate::signs::normalize_columns(v.as_mut());
    let v = Mat::<T>::from_fn(n, k, |i, j| T::from_f64(v[(i, j)]));
    Ok(((0..k).map(|i| T::from_f64(s[i])).collect(), v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::randomized::gaussian;

    #[test]
    fn tsqr_svd_matches_the_direct_one() {
        let (m, n) = (5000, 20);
        let x: Vec<f64> = (0..m * n).map(|p| gaussian(5, p as u64) * (1.0 + (p % n) as f64) + 3.0).collect();
        let av = ArrayRef::from_slice(&x, &[m, n]);
        let (mean, tv) = mean_and_total_var(&av, Par::SEQ).unwrap();
        let (s, v) = centred_svd(&av, &mean, Par::SEQ).unwrap();
        let c = Mat::<f64>::from_fn(m, n, |i, j| x[i * n + j] - mean[j]);
        let sref = c.singular_values().unwrap();
        for i in 0..n {
            assert!((s[i] - sref[i]).abs() < 1e-12 * sref[0], "{i}");
        }
        let ss: f64 = s.iter().map(|x| x * x).sum::<f64>() / (m as f64 - 1.0);
        assert!((ss - tv).abs() < 1e-10 * tv);
        // C V = U S: the columns of C V have norms S
        let cv = &c * &v;
        for j in 0..n {
            assert!((cv.col(j).norm_l2() - s[j]).abs() < 1e-10 * s[0]);
        }
    }
}
