//! Singular value decomposition of stacks of matrices: `A = U diag(S) Vh`, singular values
//! descending, with the sign convention of DESIGN.md (see [`crate::signs`]).
//!
//! The decomposition itself is faer's (`faer::linalg::svd::svd`): Householder
//! bidiagonalization, then the implicit-shift QR algorithm on the bidiagonal below faer's
//! recursion threshold and divide and conquer above it. A tall matrix (`m / n` above
//! [`QR_RATIO`]) is first reduced by a QR factorization, the small `R` is decomposed and
//! `U = Q U_R`; a wide one is handled through its transpose (faer does both).
//!
//! What is ours:
//! - batching: a stack runs in parallel across its matrices ([`Par::for_batch`]), each matrix on
//!   one thread with one workspace per task (a single matrix runs on one thread too: faer's
//!   parallel SVD is not bit-identical to its sequential one; measurements at the top of the
//!   code);
//! - scaling: a matrix whose entries are near overflow or underflow is decomposed from a copy
//!   scaled by a power of two (exact), as LAPACK's `gesdd` does, and its singular values scaled
//!   back;
//! - the sign convention, errors naming the batch index, any input and output strides.

use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::signs::normalize_svd;
use crate::strided::{ArrayMut, ArrayRef};
use crate::threads::Par;
use crate::batch::for_each_matrix;
use crate::workspace;
use faer::dyn_stack::MemStack;
use faer::linalg::svd::{self as fsvd, ComputeSvdVectors, SvdParams};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{ColMut, MatMut, MatRef};

/// Tall matrices with `m / n` above this are reduced by QR before the bidiagonalization.
/// faer's default is 11/6; LAPACK's `gesdd` switches at 11/6 as well ("m much larger than n").
pub const QR_RATIO: f64 = 11.0 / 6.0;

// Why a single matrix runs on one thread: faer's parallel SVD does not give bit-identical
// results for 1 and 2 threads (max difference ~1e-12 at 300x300, 600x200), which DESIGN.md
// requires, and on the shared 2-core machine it did not pay anyway (sequential / parallel, ms:
// 1024x1024 517 / 523, 10000x256 167 / 209, 256x10000 136 / 239; NumPy took 2284, 2274, 1873).
// Stacks run in parallel across their matrices instead, each matrix computed the same way.
//
// Why no one-sided Jacobi kernel for small matrices (the issue suggests one for n <= 32):
// faer's SVD measured, in us per matrix, one thread (svdvals / of it the bidiagonalization /
// svd with vectors): 8x8 12.8 / 3.7 / 17.6, 16x16 49 / 16 / 75, 32x32 94 / 73 / 148,
// 64x64 415 / 265 / 517; NumPy (LAPACK gesdd, incl. call overhead) 8x8 18 / 25 (svdvals / svd),
// 16x16 24 / 69, 32x32 81 / 139. A one-sided Jacobi sweep costs ~6 m n^2 flops and takes 6-8
// sweeps: ~1.7 Mflop at 32x32 with vectors (~0.4 ms), 3x faer's time; at 8x8 ~20 kflop, at best
// on par with faer, which already beats LAPACK there. So it does not pay. What would pay is a
// faster values-only path: faer's bidiagonal QR takes 9 us at 8x8 and 150 us at 64x64 where
// LAPACK's dqds takes a fraction of that (not done: see the report).

/// The outputs of one batched SVD: `s` of shape `(..., k)` and, when the vectors are wanted, `u`
/// of shape `(..., m, m)` or `(..., m, k)` and `vh` of shape `(..., n, n)` or `(..., k, n)`,
/// with `k = min(m, n)`. Full or thin is read from the shapes of `u` and `vh`.
pub struct SvdOut<'o, 'a, T> {
    pub s: &'o mut ArrayMut<'a, T>,
    pub uv: Option<(&'o mut ArrayMut<'a, T>, &'o mut ArrayMut<'a, T>)>,
}

fn params<T: Real>() -> faer::Spec<SvdParams, T> {
    let mut p: SvdParams = <SvdParams as faer::Auto<T>>::auto();
    p.qr_ratio_threshold = QR_RATIO;
    faer::Spec::new(p)
}

/// The shapes of one SVD problem, checked against the outputs.
#[derive(Clone, Copy, Debug)]
struct Dims {
    m: usize,
    n: usize,
    /// columns of U: m (full) or k (thin); 0 when no vectors
    ku: usize,
    /// rows of Vh: n (full) or k (thin); 0 when no vectors
    kv: usize,
    vectors: ComputeSvdVectors,
}

impl Dims {
    fn k(&self) -> usize {
        self.m.min(self.n)
    }
    /// faer's `compute_u` / `compute_v` for these shapes.
    fn compute(&self) -> (ComputeSvdVectors, ComputeSvdVectors) {
        let kind = |cols: usize, full: usize| {
            if self.vectors == ComputeSvdVectors::No {
                ComputeSvdVectors::No
            } else if cols == full && full != self.k() {
                ComputeSvdVectors::Full
            } else {
                ComputeSvdVectors::Thin
            }
        };
        (kind(self.ku, self.m), kind(self.kv, self.n))
    }
    /// A rough cost in multiply-adds, for the scheduling decisions.
    fn work(&self) -> usize {
        let mnk = self.m * self.n * self.k();
        if self.vectors == ComputeSvdVectors::No { 4 * mnk } else { 12 * mnk }.max(1)
    }
}

fn check_shapes<T>(a: &ArrayRef<T>, out: &SvdOut<'_, '_, T>) -> Result<Dims> {
    let shape = a.shape();
    if shape.len() < 2 {
        return Err(Error::Shape {
            what: "svd needs an array of at least two dimensions (..., M, N)".into(),
            shapes: vec![shape.to_vec()],
        });
    }
    let nb = shape.len() - 2;
    let (batch, m, n) = (&shape[..nb], shape[nb], shape[nb + 1]);
    let k = m.min(n);
    let bad = |what: &str, got: &[usize]| Error::Shape { what: format!("svd: {what}"), shapes: vec![shape.to_vec(), got.to_vec()] };
    let s_shape = out.s.shape();
    if s_shape.len() != nb + 1 || &s_shape[..nb] != batch || s_shape[nb] != k {
        return Err(bad("singular values' shape does not fit the input", s_shape));
    }
    let (mut ku, mut kv, mut vectors) = (0, 0, ComputeSvdVectors::No);
    if let Some((u, vh)) = &out.uv {
        let (us, vs) = (u.shape(), vh.shape());
        if us.len() != nb + 2 || &us[..nb] != batch || us[nb] != m || (us[nb + 1] != m && us[nb + 1] != k) {
            return Err(bad("U's shape does not fit the input", us));
        }
        if vs.len() != nb + 2 || &vs[..nb] != batch || vs[nb + 1] != n || (vs[nb] != n && vs[nb] != k) {
            return Err(bad("Vh's shape does not fit the input", vs));
        }
        (ku, kv, vectors) = (us[nb + 1], vs[nb], ComputeSvdVectors::Thin);
    }
    Ok(Dims { m, n, ku, kv, vectors })
}

/// The singular value decomposition of every matrix of `a` (shape `(..., m, n)`, any strides)
/// into `out`. A matrix that does not converge, or that holds a NaN or an infinity (callers
/// that promise finite input may skip checking it; faer reports it as non-convergence), gives
/// `Error::LinAlg` naming its batch index (`None` for a single matrix).
pub fn svd<T: Real>(a: &ArrayRef<T>, out: SvdOut<'_, '_, T>, par: Par) -> Result<()> {
    let dims = check_shapes(a, &out)?;
    let nd = a.ndim();
    let nb = nd - 2;
    let batch = &a.shape()[..nb];
    let nbatch: usize = batch.iter().product();
    if nbatch == 0 {
        return Ok(());
    }
    let (u_ptr, u_strides, vh_ptr, vh_strides) = match &out.uv {
        Some((u, vh)) => (u.ptr(), u.strides().to_vec(), vh.ptr(), vh.strides().to_vec()),
        None => (core::ptr::null_mut(), vec![0; nb + 2], core::ptr::null_mut(), vec![0; nb + 2]),
    };
    let (s_ptr, s_strides) = (out.s.ptr(), out.s.strides().to_vec());
    let a_strides = a.strides();
    // Raw pointers are not Sync; the workers only ever use them through `Ptrs`.
    let ptrs = Ptrs { a: a.ptr(), s: s_ptr, u: u_ptr, vh: vh_ptr };
    let one = |offs: [isize; 4], stack: &mut MemStack| -> core::result::Result<(), ()> {
        let p = ptrs;
        // SAFETY: the offsets come from `BatchOffsets` over the batch shape, so each view lies
        // within its array (the shapes were checked above); the output views of distinct batch
        // positions are disjoint (caller's promise of `ArrayMut`), so each task writes its own.
        unsafe {
            let am = MatRef::from_raw_parts(p.a.offset(offs[0]), dims.m, dims.n, a_strides[nb], a_strides[nb + 1]);
            let s = ColMut::from_raw_parts_mut(p.s.offset(offs[1]), dims.k(), s_strides[nb]);
            let uv = (!p.u.is_null()).then(|| {
                let u = MatMut::from_raw_parts_mut(p.u.offset(offs[2]), dims.m, dims.ku, u_strides[nb], u_strides[nb + 1]);
                // V = Vh^T: Vh's row stride is V's column stride
                let v = MatMut::from_raw_parts_mut(p.vh.offset(offs[3]), dims.n, dims.kv, vh_strides[nb + 1], vh_strides[nb]);
                (u, v)
            });
            svd_one(am, s, uv, stack)
        }
    };
    let strides: [&[isize]; 4] = [&a_strides[..nb], &s_strides[..nb], &u_strides[..nb], &vh_strides[..nb]];
    let (cu, cv) = dims.compute();
    // the scaled copy of a matrix near overflow or underflow (see `svd_one`) is the one
    // allocation outside the workspace
    workspace::check_available::<T>(dims.m * dims.n)?;
    let scratch = fsvd::svd_scratch::<T>(dims.m, dims.n, cu, cv, faer::Par::Seq, params::<T>());
    let failed = for_each_matrix(batch, strides, dims.work(), scratch, par, &one)?;
    match failed {
        None => Ok(()),
        Some(i) => Err(Error::LinAlg {
            what: "SVD did not converge (is there a NaN or an infinity in the input?)".into(),
            batch_index: (nb > 0).then_some(i),
        }),
    }
}

#[derive(Clone, Copy)]
struct Ptrs<T> {
    a: *const T,
    s: *mut T,
    u: *mut T,
    vh: *mut T,
}
// SAFETY: see `svd`: each batch position's views are disjoint, and `a` is only read.
unsafe impl<T: Sync> Sync for Ptrs<T> {}
unsafe impl<T: Send> Send for Ptrs<T> {}

/// The power of two to scale a matrix with largest magnitude `amax` by, so that the
/// bidiagonalization neither overflows nor underflows (LAPACK's `gesdd` bounds), or `None`.
pub(crate) fn scale_for<T: Real>(amax: T) -> Option<T> {
    let small = (T::MIN_POSITIVE.sqrt()) / T::EPSILON;
    let big = T::ONE / small;
    if amax == T::ZERO || !amax.is_finite() || (amax >= small && amax <= big) {
        return None;
    }
    // 2^round(-log2(amax)) brings amax near 1, exactly; the exponent is clamped so that the
    // factor and its inverse are normal numbers of T (a subnormal amax then lands well inside
    // [small, big] all the same: 2^-149 * 2^125 for f32)
    let max_exp = if T::MAX.to_f64() > 1e300 { 1021.0 } else { 125.0 };
    let e = (-amax.to_f64().log2().round()).clamp(-max_exp, max_exp);
    Some(T::from_f64(2f64.powi(e as i32)))
}

/// One matrix: faer's SVD into `s` and (V stored as `Vh^T`) `u`, `v`, then the sign convention.
fn svd_one<T: Real>(
    a: MatRef<'_, T>,
    mut s: ColMut<'_, T>,
    uv: Option<(MatMut<'_, T>, MatMut<'_, T>)>,
    stack: &mut MemStack,
) -> core::result::Result<(), ()> {
    let mut amax = T::ZERO;
    for j in 0..a.ncols() {
        for x in a.col(j).iter() {
            let ax = x.abs();
            // NaN compares false: faer reports it as non-convergence below
            if ax > amax {
                amax = ax;
            }
        }
    }
    let scale = scale_for(amax);
    let scaled;
    let a = match scale {
        Some(f) => {
            scaled = faer::Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] * f);
            scaled.as_ref()
        }
        None => a,
    };
    let (mut u, mut v) = match uv {
        Some((mut u, mut v)) => {
            // faer's QR path for full U (m > 11/6 n) leaves the top-right block of U as it
            // found it (it expects zeros): our outputs are uninitialised, so zero them first.
            if u.ncols() > a.ncols().min(a.nrows()) {
                u.fill(T::ZERO);
            }
            if v.ncols() > a.ncols().min(a.nrows()) {
                v.fill(T::ZERO);
            }
            (Some(u), Some(v))
        }
        None => (None, None),
    };
    fsvd::svd(
        a,
        s.rb_mut().as_diagonal_mut(),
        u.as_mut().map(|u| u.rb_mut()),
        v.as_mut().map(|v| v.rb_mut()),
        faer::Par::Seq,
        stack,
        params::<T>(),
    )
    .map_err(|_| ())?;
    // a NaN or inf out of the decomposition itself is a failure; one made by scaling back is
    // a singular value past the dtype's range (|s| <= sqrt(mn) max|a|), and inf is its answer,
    // as NumPy gives
    for x in s.rb().iter() {
        if !x.is_finite() {
            return Err(());
        }
    }
    if let Some(f) = scale {
        let inv = T::ONE / f;
        for x in s.rb_mut().iter_mut() {
            *x = *x * inv;
        }
    }
    if let (Some(u), Some(v)) = (u, v) {
        normalize_svd(u, v.transpose_mut());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconstruct(a: &[f64], m: usize, n: usize, full: bool) -> f64 {
        let k = m.min(n);
        let (ku, kv) = if full { (m, n) } else { (k, k) };
        let av = ArrayRef::from_slice(a, &[m, n]);
        let mut s = vec![0.0; k];
        let mut u = vec![0.0; m * ku];
        let mut vh = vec![0.0; kv * n];
        let mut sv = ArrayMut::from_slice(&mut s, &[k]);
        let mut uvw = ArrayMut::from_slice(&mut u, &[m, ku]);
        let mut vv = ArrayMut::from_slice(&mut vh, &[kv, n]);
        svd(&av, SvdOut { s: &mut sv, uv: Some((&mut uvw, &mut vv)) }, Par::SEQ).unwrap();
        for w in s.windows(2) {
            assert!(w[0] >= w[1]);
        }
        let mut err: f64 = 0.0;
        for i in 0..m {
            for j in 0..n {
                let r: f64 = (0..k).map(|l| u[i * ku + l] * s[l] * vh[l * n + j]).sum();
                err = err.max((r - a[i * n + j]).abs());
            }
        }
        err
    }

    #[test]
    fn reconstructs_tall_wide_square() {
        for &(m, n) in &[(5, 3), (3, 5), (4, 4), (40, 3), (1, 7), (7, 1)] {
            let a: Vec<f64> = (0..m * n).map(|i| ((i * 37 % 11) as f64) - 5.0 + 0.1 * i as f64).collect();
            for full in [false, true] {
                assert!(reconstruct(&a, m, n, full) < 1e-12, "{m}x{n} full={full}");
            }
        }
    }

    #[test]
    fn nan_is_an_error_with_batch_index() {
        let mut a = vec![1.0f64; 3 * 2 * 2];
        a[9] = f64::NAN;
        let av = ArrayRef::from_slice(&a, &[3, 2, 2]);
        let mut s = vec![0.0; 6];
        let mut sv = ArrayMut::from_slice(&mut s, &[3, 2]);
        let err = svd(&av, SvdOut { s: &mut sv, uv: None }, Par::SEQ).unwrap_err();
        assert!(matches!(err, Error::LinAlg { batch_index: Some(2), .. }), "{err:?}");
    }
}
