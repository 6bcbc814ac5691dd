//! Randomized range finder and randomized SVD (Halko, Martinsson and Tropp 2011, Algorithms 4.3
//! and 4.4 / 5.1), following scikit-learn's `randomized_range_finder` / `randomized_svd` step by
//! step (same oversampling, power iterations, "none" / "LU" / "QR" / "auto" normalizers, and the
//! transposition of wide matrices), so that the accuracy is the same for the same parameters.
//!
//! What is ours:
//! - the Gaussian test matrix comes from a counter-based generator ([`gaussian`]): element `i`
//!   depends only on `(seed, i)`, so a seeded result is the same for any thread count;
//! - implicit centering ([`Op`]): the SVD of `A - 1 mu^T` (PCA) is computed from products with
//!   `A` and a rank-one correction, `(A - 1 mu^T) Q = A Q - 1 (mu^T Q)`, so the centred copy of
//!   `A` that scikit-learn makes is never built;
//! - the products are our GEMM ([`crate::gemm`]), split across threads by blocks of the result
//!   (bit-identical for any thread count); the small dense steps (LU, QR, SVD of the
//!   `(k + p) x n` projection) are faer's, sequential.

use crate::error::{Error, Result};
use crate::gemm::{self, Mat as GMat};
use crate::scalar::Real;
use crate::signs::normalize_svd;
use crate::strided::ArrayRef;
use crate::threads::Par;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::householder;
use faer::linalg::lu::partial_pivoting::factor as lu;
use faer::linalg::qr::no_pivoting::factor as qr;
use faer::linalg::svd::{self as fsvd, ComputeSvdVectors};
use faer::Mat;

/// The dense column-major matrices the solvers return (faer's), named for the bindings crate.
pub use faer::Mat as Dense;

// ------------------------------------------------------------------------------------------
// the random test matrix

/// One step of splitmix64 (Steele, Lea and Flood): a bijective 64-bit mixer.
#[inline]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `index`-th standard normal number of the stream `seed`: two uniforms hashed from
/// `(seed, index)` by splitmix64, then Box-Muller. A pure function of its arguments, so a test
/// matrix is the same whatever the thread count or the order it is filled in.
pub fn gaussian(seed: u64, index: u64) -> f64 {
    let key = splitmix64(seed);
    let b1 = splitmix64(key ^ splitmix64(index.wrapping_mul(2)));
    let b2 = splitmix64(key ^ splitmix64(index.wrapping_mul(2).wrapping_add(1)));
    // u1 in (0, 1] (log is finite), u2 in [0, 1)
    let u1 = ((b1 >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
    let u2 = (b2 >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
}

/// An `n x l` column-major matrix of independent standard normals; element `(i, j)` is
/// `gaussian(seed, j * n + i)`.
pub fn gaussian_matrix<T: Real>(n: usize, l: usize, seed: u64) -> Mat<T> {
    Mat::from_fn(n, l, |i, j| T::from_f64(gaussian(seed, (j * n + i) as u64)))
}

// ------------------------------------------------------------------------------------------
// the operator: A, optionally centred, optionally transposed

/// The linear operator `A_c = A - 1 mu^T` (`mu` the optional column means of `A`, length
/// `A.cols`), or its transpose when `trans`. Products with it never form `A_c`.
#[derive(Clone, Copy)]
pub(crate) struct Op<'m, T> {
    pub a: GMat<T>,
    pub mean: Option<&'m [T]>,
    pub trans: bool,
}

// SAFETY: `a` only describes memory that is read (see `Op::apply`); the mean is a shared slice.
unsafe impl<T: Sync> Send for Op<'_, T> {}
unsafe impl<T: Sync> Sync for Op<'_, T> {}

impl<'m, T: Real> Op<'m, T> {
    pub fn rows(&self) -> usize {
        if self.trans { self.a.cols } else { self.a.rows }
    }
    pub fn cols(&self) -> usize {
        if self.trans { self.a.rows } else { self.a.cols }
    }
    pub fn t(self) -> Self {
        Op { trans: !self.trans, ..self }
    }

    /// `out = op @ x` for a column-major `x` of `self.cols()` rows.
    ///
    /// # Safety
    /// `self.a` must address valid elements for the whole call.
    pub unsafe fn apply(&self, x: &Mat<T>, out: &mut Mat<T>, par: Par) {
        self.apply_with(x, out, &mut Vec::new(), par)
    }

    /// [`Op::apply`] with a scratch vector reused across calls (a fresh multi-megabyte buffer
    /// per product cost page faults and kernel page zeroing: 8% of a randomized SVD's profile).
    ///
    /// # Safety
    /// As [`Op::apply`].
    pub unsafe fn apply_with(&self, x: &Mat<T>, out: &mut Mat<T>, tmp: &mut Vec<T>, par: Par) {
        let (r, c, l) = (self.rows(), self.cols(), x.ncols());
        debug_assert!(x.nrows() == c && out.nrows() == r && out.ncols() == l);
        let a = if self.trans {
            GMat { ptr: self.a.ptr, rows: self.a.cols, cols: self.a.rows, rs: self.a.cs, cs: self.a.rs }
        } else {
            self.a
        };
        if a.cs.abs() < a.rs.abs() && l > 1 {
            // A row-major (a C-order input, not transposed): as the left operand of a
            // column-major product it would be packed on every call (43% of eigsh's time before
            // the same fix there). Computing the row-major result `out^T = x^T A^T` makes A the
            // right operand, column-major as it is; the result is then copied (r l elements,
            // against 2 r c l flops).
            tmp.clear();
            tmp.resize(r * l, T::ZERO);
            let c_rm = GMat { ptr: tmp.as_mut_ptr(), rows: r, cols: l, rs: l as isize, cs: 1 };
            gemm::gemm(c_rm, a, gmat(x), par);
            for j in 0..l {
                let col = out.col_mut(j);
                for (i, v) in col.iter_mut().enumerate() {
                    *v = tmp[i * l + j];
                }
            }
        } else {
            gemm::gemm(gmat_mut(out), a, gmat(x), par);
        }
        let Some(mu) = self.mean else { return };
        if !self.trans {
            // (A - 1 mu^T) x = A x - 1 (mu^T x)
            for j in 0..l {
                let col = x.col(j);
                let mut acc = T::ZERO;
                for i in 0..c {
                    acc = mu[i].mul_add(col[i], acc);
                }
                for v in out.col_mut(j).iter_mut() {
                    *v = *v - acc;
                }
            }
        } else {
            // (A - 1 mu^T)^T x = A^T x - mu (1^T x)
            for j in 0..l {
                let s = x.col(j).iter().fold(T::ZERO, |acc, &v| acc + v);
                for (i, v) in out.col_mut(j).iter_mut().enumerate() {
                    *v = *v - mu[i] * s;
                }
            }
        }
    }
}

/// Our GEMM's description of a faer matrix (read only).
pub(crate) fn gmat<T>(m: &Mat<T>) -> GMat<T> {
    GMat { ptr: m.as_ptr() as *mut T, rows: m.nrows(), cols: m.ncols(), rs: m.row_stride(), cs: m.col_stride() }
}

/// Our GEMM's description of a faer matrix (written).
pub(crate) fn gmat_mut<T>(m: &mut Mat<T>) -> GMat<T> {
    GMat { ptr: m.as_ptr_mut(), rows: m.nrows(), cols: m.ncols(), rs: m.row_stride(), cs: m.col_stride() }
}

// ------------------------------------------------------------------------------------------
// normalizers

/// How the power iterations keep the sample matrix well conditioned (scikit-learn's
/// `power_iteration_normalizer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalizer {
    /// "none": plain products (fastest, loses directions below `sqrt(eps) * sigma_1`)
    None,
    /// "LU": `P L` of an LU factorization with partial pivoting (scipy's `lu(permute_l=True)`)
    Lu,
    /// "QR": the orthonormal factor of a Householder QR
    Qr,
    /// "auto": "none" for at most 2 power iterations, else "LU" (scikit-learn's rule)
    Auto,
}

impl Normalizer {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Self::None),
            "LU" => Ok(Self::Lu),
            "QR" => Ok(Self::Qr),
            "auto" => Ok(Self::Auto),
            other => Err(Error::Value(format!(
                "power_iteration_normalizer must be 'auto', 'QR', 'LU' or 'none', not {other:?}"
            ))),
        }
    }
    fn resolve(self, n_iter: usize) -> Self {
        match self {
            Self::Auto if n_iter <= 2 => Self::None,
            Self::Auto => Self::Lu,
            other => other,
        }
    }
}

/// A copy in f64.
pub(crate) fn to_f64<T: Real>(m: &Mat<T>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].to_f64())
}

/// `src` (f64) rounded into `dst` (same shape).
pub(crate) fn from_f64<T: Real>(src: &Mat<f64>, dst: &mut Mat<T>) {
    *dst = Mat::from_fn(src.nrows(), src.ncols(), |i, j| T::from_f64(src[(i, j)]));
}

/// Replaces the `m x l` matrix `y` (`m >= l`) by the orthonormal `Q` of its thin QR.
///
/// Computed in f64 whatever `T`: faer's float32 QR loses the directions of a strongly graded
/// matrix, which the power iterations make (`A A^T A G` of a spectrum decaying as 0.8^i: the
/// last 6 of 20 directions came out at angles of 73-90 degrees from the f64 ones, where LAPACK's
/// `sgeqrf` keeps them; the relative error of the 10th singular value was 3.4e-4 against
/// scikit-learn's 9e-7). The QR of the f32 product in f64 keeps them all (cosines >= 0.986).
/// It is O(m l^2), small next to the products.
pub(crate) fn orthonormalize<T: Real>(y: &mut Mat<T>) {
    if core::mem::size_of::<T>() != 8 {
        let mut y64 = to_f64(y);
        orthonormalize(&mut y64);
        from_f64(&y64, y);
        return;
    }
    let (m, l) = (y.nrows(), y.ncols());
    if l == 0 {
        return;
    }
    let size = m.min(l);
    let bs = qr::recommended_block_size::<T>(m, l);
    let mut coeff = Mat::<T>::zeros(bs, size);
    let req = qr::qr_in_place_scratch::<T>(m, l, bs, faer::Par::Seq, Default::default())
        .or(householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(m, bs, size));
    let mut buf = MemBuffer::new(req);
    let stack = MemStack::new(&mut buf);
    qr::qr_in_place(y.as_mut(), coeff.as_mut(), faer::Par::Seq, stack, Default::default());
    // the Householder basis is the unit lower trapezoid of the factored matrix
    let mut basis = y.clone();
    for j in 0..l {
        for i in 0..j.min(m) {
            basis[(i, j)] = T::ZERO;
        }
        if j < m {
            basis[(j, j)] = T::ONE;
        }
    }
    y.fill(T::ZERO);
    for j in 0..size {
        y[(j, j)] = T::ONE;
    }
    householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        basis.as_ref(),
        coeff.as_ref(),
        faer::Conj::No,
        y.as_mut(),
        faer::Par::Seq,
        stack,
    );
}

/// Replaces the `m x l` matrix `y` (`m >= l`) by `P L` of its LU factorization with partial
/// pivoting `y = P L U` (what scipy's `lu(y, permute_l=True)` returns as its first factor).
fn lu_normalize<T: Real>(y: &mut Mat<T>) {
    if core::mem::size_of::<T>() != 8 {
        // in f64, as `orthonormalize`
        let mut y64 = to_f64(y);
        lu_normalize(&mut y64);
        from_f64(&y64, y);
        return;
    }
    let (m, l) = (y.nrows(), y.ncols());
    if l == 0 || m == 0 {
        return;
    }
    let mut perm = vec![0usize; m];
    let mut perm_inv = vec![0usize; m];
    let req = lu::lu_in_place_scratch::<usize, T>(m, l, faer::Par::Seq, Default::default());
    let mut buf = MemBuffer::new(req);
    let (_, p) = lu::lu_in_place(y.as_mut(), &mut perm, &mut perm_inv, faer::Par::Seq, MemStack::new(&mut buf), Default::default());
    // faer: (P y)[i] = y[fwd[i]] = (L U)[i], so row fwd[i] of P L is row i of L
    let (fwd, _) = p.arrays();
    let fwd = fwd.to_vec();
    let mut out = Mat::<T>::zeros(m, l);
    for j in 0..l {
        for (i, &src) in fwd.iter().enumerate() {
            let v = if i == j {
                T::ONE
            } else if i > j {
                y[(i, j)]
            } else {
                T::ZERO
            };
            out[(src, j)] = v;
        }
    }
    *y = out;
}

fn normalize<T: Real>(y: &mut Mat<T>, how: Normalizer) {
    match how {
        Normalizer::Qr => orthonormalize(y),
        Normalizer::Lu => lu_normalize(y),
        Normalizer::None | Normalizer::Auto => {}
    }
}

// ------------------------------------------------------------------------------------------
// the algorithms

/// scikit-learn's `n_iter="auto"`: 7 power iterations when `k` is small next to the matrix
/// (`k < 0.1 min(m, n)`), else 4.
pub fn auto_n_iter(k: usize, m: usize, n: usize) -> usize {
    if (k as f64) < 0.1 * (m.min(n) as f64) { 7 } else { 4 }
}

/// An orthonormal `op.rows() x l` basis approximating the range of `op`
/// (`randomized_range_finder`): `Q = qr(op (op^T op)^q G)`, normalised between products.
///
/// # Safety
/// `op.a` must address valid elements for the whole call.
pub(crate) unsafe fn range_finder<T: Real>(op: Op<'_, T>, l: usize, n_iter: usize, how: Normalizer, seed: u64, par: Par) -> Mat<T> {
    let how = how.resolve(n_iter);
    let (m, n) = (op.rows(), op.cols());
    let mut q = gaussian_matrix::<T>(n, l, seed);
    let mut y = Mat::<T>::zeros(m, l);
    let mut tmp = Vec::new();
    for _ in 0..n_iter {
        op.apply_with(&q, &mut y, &mut tmp, par);
        normalize(&mut y, how);
        op.t().apply_with(&y, &mut q, &mut tmp, par);
        normalize(&mut q, how);
    }
    op.apply_with(&q, &mut y, &mut tmp, par);
    orthonormalize(&mut y);
    y
}

/// `Ok` if every element of the 2-D `a` is finite, else a `Value` error naming the first
/// non-finite one. A plain loop over the rows (the generic `checks::check_finite` walks a
/// multi-index per element: 7.5% of a randomized SVD's time).
pub fn check_finite_2d<T: Real>(a: &ArrayRef<T>, name: &str) -> Result<()> {
    let shape = a.shape();
    if shape.len() != 2 {
        return crate::checks::check_finite(a, name, Par::SEQ);
    }
    let (m, n) = (shape[0], shape[1]);
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    for i in 0..m {
        // SAFETY: row i, columns 0..n, lie inside the view.
        let row = unsafe { a.ptr().offset(i as isize * rs) };
        let mut bad = false;
        for j in 0..n {
            // SAFETY: as above.
            let x = unsafe { *row.offset(j as isize * cs) };
            // x - x is 0 for finite x, NaN for inf and NaN: no branch per element
            bad |= (x - x) != T::ZERO;
        }
        if bad {
            // SAFETY: (i, j) for j < n lies inside the view.
            let j = (0..n).find(|&j| unsafe { !(*row.offset(j as isize * cs)).is_finite() }).unwrap_or(0);
            // SAFETY: (i, j) inside the view.
            let v = unsafe { *row.offset(j as isize * cs) };
            return Err(Error::Value(format!(
                "{name} must not contain infs or NaNs (found {v:?} at index [{i}, {j}]); pass check_finite=False to skip this check"
            )));
        }
    }
    Ok(())
}

/// Parameters of [`randomized_svd`].
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub k: usize,
    pub n_oversamples: usize,
    /// `None`: [`auto_n_iter`]
    pub n_iter: Option<usize>,
    pub normalizer: Normalizer,
    pub seed: u64,
}

/// The rank-`k` randomized SVD of a 2-D `a` (`m x n`), centred first by the column means `mean`
/// when given (implicitly): `u` (`m x k`, column-major), `s` (`k`), `vh` (`k x n`, column-major
/// faer matrices). Signs follow DESIGN.md (largest |entry| of each row of `vh` positive).
/// scikit-learn's steps: a wide matrix is processed transposed.
pub fn randomized_svd<T: Real>(a: &ArrayRef<T>, mean: Option<&[T]>, p: Params, par: Par) -> Result<(Mat<T>, Vec<T>, Mat<T>)> {
    let shape = a.shape();
    if shape.len() != 2 {
        return Err(Error::Shape { what: "randomized_svd needs a 2-D array (M, N)".into(), shapes: vec![shape.to_vec()] });
    }
    let (m, n) = (shape[0], shape[1]);
    let kmax = m.min(n);
    if p.k == 0 || p.k > kmax {
        return Err(Error::Value(format!(
            "randomized_svd: k={} must be between 1 and min(M, N)={kmax} for a matrix of shape ({m}, {n})",
            p.k
        )));
    }
    if let Some(mu) = mean {
        assert_eq!(mu.len(), n, "mean must have one entry per column");
    }
    let strides = a.strides();
    let base = Op { a: GMat { ptr: a.ptr() as *mut T, rows: m, cols: n, rs: strides[0], cs: strides[1] }, mean, trans: false };
    let transpose = m < n;
    let op = if transpose { base.t() } else { base };
    // l = k + p, but no more than the matrix has (scikit-learn would fail in the LU otherwise)
    let l = (p.k + p.n_oversamples).min(kmax);
    let n_iter = p.n_iter.unwrap_or_else(|| auto_n_iter(p.k, m, n));
    // SAFETY: `a` is a valid view for this call and is only read.
    let (mut u, s, mut v) = unsafe {
        let q = range_finder(op, l, n_iter, p.normalizer, p.seed, par);
        // B^T = op^T Q (n' x l); the SVD of B = Q^T op is that of B^T transposed
        let mut bt = Mat::<T>::zeros(op.cols(), l);
        op.t().apply(&q, &mut bt, par);
        let nc = op.cols();
        // the SVD of the small projection in f64 (faer's float32 SVD was 30x less accurate than
        // LAPACK's on these matrices), rounded back
        let bt64 = to_f64(&bt);
        let mut s = faer::Col::<f64>::zeros(l);
        // B^T = W S Z^T  =>  B = Z S W^T: Uhat = Z (l x l), V = W (n' x l)
        let mut w64 = Mat::<f64>::zeros(nc, l);
        let mut z64 = Mat::<f64>::zeros(l, l);
        let params = faer::Spec::new(<fsvd::SvdParams as faer::Auto<f64>>::auto());
        let req = fsvd::svd_scratch::<f64>(nc, l, ComputeSvdVectors::Thin, ComputeSvdVectors::Thin, faer::Par::Seq, params);
        let mut buf = MemBuffer::new(req);
        fsvd::svd(bt64.as_ref(), s.as_diagonal_mut(), Some(w64.as_mut()), Some(z64.as_mut()), faer::Par::Seq, MemStack::new(&mut buf), params)
            .map_err(|_| Error::LinAlg { what: "randomized_svd: the SVD of the projected matrix did not converge (is there a NaN or an infinity in the input?)".into(), batch_index: None })?;
        let (mut w, mut z) = (Mat::<T>::zeros(0, 0), Mat::<T>::zeros(0, 0));
        from_f64(&w64, &mut w);
        from_f64(&z64, &mut z);
        // U_op = Q Uhat (m' x l)
        let mut uop = Mat::<T>::zeros(op.rows(), l);
        gemm::gemm(gmat_mut(&mut uop), gmat(&q), gmat(&z), par);
        let s: Vec<T> = (0..l).map(|i| T::from_f64(s[i])).collect();
        if transpose {
            // op = A^T = U_op S W^T  =>  A = W S U_op^T
            (w, s, uop)
        } else {
            (uop, s, w)
        }
    };
    if s.iter().any(|x| !x.is_finite()) {
        return Err(Error::LinAlg { what: "randomized_svd: non-finite singular values (is there a NaN or an infinity in the input?)".into(), batch_index: None });
    }
    // u: m x l, v: n x l (columns are right singular vectors); sign convention on v's columns
    normalize_svd(u.as_mut(), v.as_mut().transpose_mut());
    let u = u.get(.., ..p.k).to_owned();
    let v = v.get(.., ..p.k).to_owned();
    let mut vh = Mat::<T>::zeros(p.k, n);
    vh.copy_from(v.transpose());
    Ok((u, s[..p.k].to_vec(), vh))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mat_from(a: &[f64], m: usize, n: usize) -> Mat<f64> {
        Mat::from_fn(m, n, |i, j| a[i * n + j])
    }

    #[test]
    fn gaussian_moments() {
        let n = 200_000u64;
        let (mut s1, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let g = gaussian(42, i);
            s1 += g;
            s2 += g * g;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        assert_ne!(gaussian(1, 0), gaussian(2, 0));
    }

    #[test]
    fn normalizers_keep_the_column_space() {
        let (m, l) = (40, 6);
        let y0 = Mat::<f64>::from_fn(m, l, |i, j| gaussian(3, (j * m + i) as u64));
        for how in [Normalizer::Lu, Normalizer::Qr] {
            let mut y = y0.clone();
            normalize(&mut y, how);
            // y0 = y C for some C: the least-squares residual of y0 against y's columns is zero
            let q = { let mut q = y.clone(); orthonormalize(&mut q); q };
            let proj = &q * (q.transpose() * &y0);
            let err = (&proj - &y0).norm_max();
            assert!(err < 1e-12, "{how:?} {err}");
            if how == Normalizer::Qr {
                let id = y.transpose() * &y;
                assert!((&id - Mat::<f64>::identity(l, l)).norm_max() < 1e-13);
            }
        }
    }

    #[test]
    fn exact_for_low_rank_with_and_without_centering() {
        // rank 3 plus a constant column offset
        let (m, n, r) = (60, 25, 3);
        let g = |seed, rows, cols| Mat::<f64>::from_fn(rows, cols, |i, j| gaussian(seed, (j * rows + i) as u64));
        let x = g(1, m, r) * g(2, r, n);
        let mu: Vec<f64> = (0..n).map(|j| j as f64 * 0.5 - 3.0).collect();
        let xs = Mat::<f64>::from_fn(m, n, |i, j| x[(i, j)] + mu[j]);
        for (data, mean, transpose) in [(&x, None, false), (&xs, Some(&mu[..]), false), (&xs, Some(&mu[..]), true)] {
            let rows: Vec<f64> = if transpose {
                (0..n).flat_map(|j| (0..m).map(move |i| data[(i, j)])).collect()
            } else {
                (0..m).flat_map(|i| (0..n).map(move |j| data[(i, j)])).collect()
            };
            if transpose && mean.is_some() {
                continue; // the mean is per column of the original orientation
            }
            let (mm, nn) = if transpose { (n, m) } else { (m, n) };
            let av = ArrayRef::from_slice(&rows, &[mm, nn]);
            let p = Params { k: r, n_oversamples: 5, n_iter: None, normalizer: Normalizer::Auto, seed: 7 };
            let (u, s, vh) = randomized_svd(&av, mean, p, Par::SEQ).unwrap();
            let target = if transpose { mat_from(&rows, mm, nn) } else { x.clone() };
            let rec = &u * faer::Col::from_fn(r, |i| s[i]).as_diagonal() * &vh;
            assert!((&rec - &target).norm_max() < 1e-10 * target.norm_max(), "mean={} t={transpose}", mean.is_some());
        }
    }

    #[test]
    fn k_out_of_range_is_an_error() {
        let a = vec![1.0f64; 12];
        let av = ArrayRef::from_slice(&a, &[3, 4]);
        for k in [0, 4] {
            let p = Params { k, n_oversamples: 2, n_iter: Some(1), normalizer: Normalizer::Auto, seed: 0 };
            assert!(matches!(randomized_svd(&av, None, p, Par::SEQ), Err(Error::Value(_))));
        }
    }
}

