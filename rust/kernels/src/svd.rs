//! Singular value decomposition of stacks of matrices: `A = U diag(S) Vh`, singular values
//! descending, with the sign convention of DESIGN.md (see [`crate::signs`]).
//!
//! Matrices with `max / min <= QR_RATIO` go to our own kernels for the values only, whatever
//! their size: below [`TWO_STAGE_MIN_N`] the unblocked Householder bidiagonalization of
//! [`crate::svd_small`], from it up a two-stage reduction (LAPACK 3.7's two-stage `dgebrd`,
//! PLASMA's `ge2gb` + `gbbrd`): [`crate::ge2gb`] takes the matrix to an upper band of width
//! [`two_stage_band`] with almost all of its flops in GEMM (its updates in fixed blocks over the
//! threads), then [`crate::gbbrd`] chases the band down to bidiagonal form (`O(n^2 b)` flops);
//! then dqds either way (the bidiagonal QR iteration where dqds cannot run). With vectors,
//! matrices up to [`SMALL_MAX_N_VECTORS`] go to [`crate::svd_small`] (the bidiagonal QR
//! iteration with the rotations applied to the accumulated reflectors); larger ones take
//! LAPACK's `dgesdd` path, all ours ([`bidiag_dc`]): the one-stage blocked bidiagonalization
//! ([`crate::gebrd`]), the bidiagonal divide and conquer ([`crate::bdsdc`]) and the blocked
//! back-transformations ([`crate::gebrd::apply_q_bidiag`], `apply_p_bidiag`). A tall matrix
//! (`m / n` above [`QR_RATIO`]) is first reduced by a QR factorization, the small `R` is
//! decomposed and `U = Q U_R`; a wide one is handled through its transpose.
//! A matrix our kernel cannot finish (its iteration limit) goes to faer's path.
//!
//! Values only, one n x n matrix on the pool (2 threads), median wall ms
//! (`two_stage_values_timing`, idle machine): the reduction, unblocked (`svd_small`, dqds
//! included) / one-stage blocked (`gebrd.rs`, LAPACK's `dgebrd`) / two-stage `ge2gb + gbbrd` at
//! the band chosen, then dqds:
//!
//! | n | unblocked + dqds | one-stage | two-stage | b | dqds |
//! | ---: | ---: | ---: | ---: | ---: | ---: |
//! | 64 | 0.141 | 0.105 | 0.035 + 0.046 | 8 | 0.064 |
//! | 72 | 0.185 | 0.144 | 0.044 + 0.061 | 8 | 0.079 |
//! | 128 | 0.796 | 0.563 | 0.178 + 0.194 | 8 | 0.219 |
//! | 256 | 5.15 | 3.56 | 1.00 + 0.82 | 16 | 0.82 |
//! | 512 | 42.6 | 19.6 | 6.4 + 3.6 | 16 | 3.3 |
//! | 1024 | 360 | 144 | 41.2 + 15.7 | 16 | 12.3 |
//! | 2048 | 3026 | 1064 | 272 + 76 | 24 | 49 |
//!
//! (The dqds column is before session 14's grouped passes, see `svd_small::dqds_group`: dqds
//! is 2.2x faster now, 33 us at 64 and 432 us at 256 on a Zen 3 core.)
//!
//! The unblocked reduction (without its dqds) ties the two-stage one at 64-72, hence
//! [`TWO_STAGE_MIN_N`] = 72. Narrower bands make `gbbrd` cheaper (`~8 n^2 b` flops) and
//! `ge2gb`'s GEMMs slower (their inner dimension is `b`): b = 8 was best to ~200, 16 to ~1000,
//! 24 beyond (1024: b = 16 and 24 tie at 57 / 56 ms). The one-stage `gebrd.rs` no longer runs
//! for the values; it is the reduction of the SVD with vectors (below).
//!
//! With vectors the two-stage reduction does not pay: the back-transformation through the
//! bulge chasing's reflectors costs ~4 n^3 flops per side, more than the one-stage reduction
//! saves (LAPACK 3.7 has no two-stage driver with vectors either). The phases of
//! [`bidiag_dc`], one n x n Gaussian matrix on the pool, median ms (`bidiag_dc_phases_timing`),
//! against LAPACK's (NumPy's OpenBLAS, 2 threads, same minutes; `dormbr` both sides):
//!
//! | n | gebrd | ours: bdsdc | back-transformations | LAPACK: dgebrd | dbdsdc | dormbr x 2 |
//! | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
//! | 256 | 5.8 | 7.2 | 1.4 | 5.9 | 5.9 | 3.1 |
//! | 512 | 33.0 | 30.8 | 8.8 | 34.0 | 28.7 | 14.6 |
//! | 1024 | 205.6 | 107.1 | 55.5 | 240.2 | 149.6 | 85.2 |
//!
//! faer's whole SVD, which served these sizes before, took 691 ms at 1024 (one thread; its
//! parallel form 510-700), of which 348 its bidiagonalization.
//!
//! What is ours:
//! - batching: a stack runs in parallel across its matrices ([`Par::for_batch`]), each matrix on
//!   one thread with one workspace per task;
//! - one matrix on all threads: a tall or wide one through TSQR ([`crate::tsqr`]), a square-ish
//!   one through our reductions, divide and conquer and back-transformations, all in fixed
//!   pieces; a tall one with its full `U` through faer's parallel SVD split in a fixed number of
//!   pieces ([`Par::install_fixed`]): each gives the same bits for any thread count;
//! - scaling: a matrix whose entries are near overflow or underflow is decomposed from a copy
//!   scaled by a power of two (exact), as LAPACK's `gesdd` does, and its singular values scaled
//!   back;
//! - the sign convention, errors naming the batch index, any input and output strides.

use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::signs::{self, normalize_svd, write_columns};
use crate::strided::{ArrayMut, ArrayRef};
use crate::threads::Par;
use crate::batch::for_each_matrix;
use crate::checks;
use crate::workspace;
use crate::bdsdc;
use crate::gbbrd;
use crate::gebrd;
use crate::ge2gb;
use crate::svd_small;
use crate::tsqr;
use faer::dyn_stack::{MemStack, StackReq};
use faer::linalg::svd::{self as fsvd, ComputeSvdVectors, SvdParams};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{ColMut, MatMut, MatRef};

/// Tall matrices with `m / n` above this are reduced by QR before the bidiagonalization.
/// faer's default is 11/6; LAPACK's `gesdd` switches at 11/6 as well ("m much larger than n").
pub const QR_RATIO: f64 = 11.0 / 6.0;

/// Matrices with `min(m, n)` up to [`SMALL_MAX_N_VECTORS`] (and `max / min <= QR_RATIO`) go to
/// our own kernel of [`svd_small`] with vectors, larger ones to [`bidiag_dc`] (blocked
/// bidiagonalization and divide and conquer). Measured (`small_vs_dc_timing`, one thread, us,
/// svd_small / bidiag_dc): 64: 597 / 944, 80: 1926 / 1437, 96: 1745 / 1866, 128: 3833 / 3394,
/// 160: 7166 / 5624 (a noisy machine: the crossover lies between 80 and 128). Values only,
/// there is no upper limit. faer's path only takes the matrices our kernels cannot finish.
pub const SMALL_MAX_N_VECTORS: usize = 96;

/// Values only, from this `min(m, n)` up the reduction to bidiagonal form runs in two stages
/// (see [`reduce_to_bidiagonal`]); measured by `two_stage_values_timing` below.
pub const TWO_STAGE_MIN_N: usize = 72;

/// The bandwidth between the two stages for `min(m, n) = n` (see the module doc's table).
pub fn two_stage_band(n: usize) -> usize {
    match n {
        0..256 => 8,
        256..1536 => 16,
        _ => 24,
    }
}

/// Whether an `m x n` problem goes to our kernels ([`small_one`]: [`svd_small`], the two-stage
/// reduction for the values of larger ones, [`bidiag_dc`] for their vectors) rather than first
/// through a QR factorization.
fn use_small(m: usize, n: usize) -> bool {
    let (mm, nn) = (m.max(n), m.min(n));
    nn >= 1 && (mm as f64) <= QR_RATIO * nn as f64
}

/// Whether an `m x n` problem (with [`use_small`]) with vectors takes [`bidiag_dc`] rather than
/// [`svd_small`]'s bidiagonal QR iteration.
fn use_divide_and_conquer(m: usize, n: usize, vectors: bool) -> bool {
    vectors && m.min(n) > SMALL_MAX_N_VECTORS
}

/// Whether an `m x n` problem (with [`use_small`]) takes the two-stage reduction.
fn use_two_stage(m: usize, n: usize, vectors: bool) -> bool {
    !vectors && m.min(n) >= TWO_STAGE_MIN_N
}

/// Scratch elements of [`small_one`].
fn small_work_len(m: usize, n: usize, vectors: bool, full: bool) -> usize {
    let (mm, nn) = (m.max(n), m.min(n));
    if use_divide_and_conquer(m, n, vectors) {
        // the working copy only: bidiag_dc allocates what it needs
        return mm * nn;
    }
    let len = svd_small::work_len(m, n, vectors, full);
    if use_two_stage(m, n, vectors) {
        len.max(mm * nn + 7 * nn)
    } else {
        len
    }
}

// faer's parallel SVD with as many pieces as threads does not give the same bits for 1 and 2
// threads (max difference ~1e-12 at 300x300, 600x200), which DESIGN.md requires: a single matrix
// therefore runs either TSQR (tall or wide, see `svd_tall`) or faer's parallel SVD with a fixed
// degree (`use_parallel`), else one thread. Stacks run in parallel across their matrices.
//
// Why no one-sided Jacobi kernel for small matrices (the issue suggests one for n <= 32):
// faer's SVD measured, in us per matrix, one thread (svdvals / of it the bidiagonalization /
// svd with vectors): 8x8 12.8 / 3.7 / 17.6, 16x16 49 / 16 / 75, 32x32 94 / 73 / 148,
// 64x64 415 / 265 / 517; NumPy (LAPACK gesdd, incl. call overhead) 8x8 18 / 25 (svdvals / svd),
// 16x16 24 / 69, 32x32 81 / 139. A one-sided Jacobi sweep costs ~6 m n^2 flops and takes 6-8
// sweeps: ~1.7 Mflop at 32x32 with vectors (~0.4 ms), 3x faer's time; at 8x8 ~20 kflop, at best
// on par with faer, which already beats LAPACK there. So it does not pay. What paid is our own
// bidiagonalization and dqds (svd_small.rs), per matrix, one thread, busy machine (best of
// runs; ours / faer, us): values 32x32 42 / 114, 64x64 187 / 391, 128x128 1165 / 2087,
// 256x256 ~6000 / ~19000, 512x512 ~80000 / ~95000; with vectors 32x32 100 / 140, 64x64
// 485 / 617, 96x96 1436 / 1667, 128x128 3295 / 2854 (faer's divide and conquer wins from
// 128: hence SMALL_MAX_N_VECTORS = 96).

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
    /// An `m x n` problem (`m >= n`) with the thin vectors or none.
    fn thin(m: usize, n: usize, vectors: bool) -> Dims {
        let k = if vectors { n } else { 0 };
        let vectors = if vectors { ComputeSvdVectors::Thin } else { ComputeSvdVectors::No };
        Dims { m, n, ku: k, kv: k, vectors }
    }
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
/// into `out`. With `check_finite`, a NaN or an infinity in `a` gives `checks::check_finite`'s
/// error; without (callers that promise finite input), a matrix holding one, like one that does
/// not converge, gives `Error::LinAlg` naming its batch index (`None` for a single matrix).
pub fn svd<T: Real>(a: &ArrayRef<T>, out: SvdOut<'_, '_, T>, check_finite: bool, par: Par) -> Result<()> {
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
    // The views of the matrix at batch offsets `offs` (of a, s, u, vh).
    //
    // SAFETY (of every call): the offsets come from `BatchOffsets` over the batch shape (or are
    // 0 for a single matrix), so each view lies within its array (the shapes were checked
    // above); the output views of distinct batch positions are disjoint (caller's promise of
    // `ArrayMut`), so each task writes its own.
    type Views<'v, T> = (MatRef<'v, T>, ColMut<'v, T>, Option<(MatMut<'v, T>, MatMut<'v, T>)>);
    let views = |offs: [isize; 4]| -> Views<'_, T> {
        let p = ptrs;
        unsafe {
            let am = MatRef::from_raw_parts(p.a.offset(offs[0]), dims.m, dims.n, a_strides[nb], a_strides[nb + 1]);
            let s = ColMut::from_raw_parts_mut(p.s.offset(offs[1]), dims.k(), s_strides[nb]);
            let uv = (!p.u.is_null()).then(|| {
                let u = MatMut::from_raw_parts_mut(p.u.offset(offs[2]), dims.m, dims.ku, u_strides[nb], u_strides[nb + 1]);
                // V = Vh^T: Vh's row stride is V's column stride
                let v = MatMut::from_raw_parts_mut(p.vh.offset(offs[3]), dims.n, dims.kv, vh_strides[nb + 1], vh_strides[nb]);
                (u, v)
            });
            (am, s, uv)
        }
    };
    let one = |offs: [isize; 4], stack: &mut MemStack| -> core::result::Result<(), ()> {
        let (am, s, uv) = views(offs);
        // a single matrix's blocked bidiagonalization runs on `par`; a stack's matrices one per thread
        svd_one(am, s, uv, stack, faer::Par::Seq, if nbatch == 1 { par } else { Par::SEQ })
    };
    let strides: [&[isize]; 4] = [&a_strides[..nb], &s_strides[..nb], &u_strides[..nb], &vh_strides[..nb]];
    // the scaled copy of a matrix near overflow or underflow (see `svd_one`) is the one
    // allocation outside the workspace
    workspace::check_available::<T>(dims.m * dims.n)?;
    let scratch = one_scratch::<T>(&dims, faer::Par::Seq);
    let (tall, parallel) = (use_tsqr(&dims), use_parallel(&dims));
    // the TSQR path finds non-finite entries in its copies of the row blocks, on all threads;
    // everything else is checked first (a separate pass over a 10000x256 matrix on one thread
    // was ~1.5 ms of a 40 ms `svdvals`)
    let tall_one = nbatch == 1 && tall;
    if check_finite && !tall_one {
        checks::check_finite(a, "a", par)?;
    }
    let failed = if nbatch == 1 && (tall || parallel) {
        let (am, s, uv) = views([0; 4]);
        let done = if tall {
            svd_tsqr(am, s, uv, par)?
        } else {
            par.install_fixed(|fpar| -> Result<Option<bool>> {
                let mut buf = workspace::buffer(one_scratch::<T>(&dims, fpar))?;
                Ok(Some(svd_one(am, s, uv, MemStack::new(&mut buf), fpar, par).is_ok()))
            })?
        };
        match done {
            Some(true) => None,
            Some(false) => Some(0),
            // near overflow or underflow, or not finite: the one-thread path below (after the
            // check, which then names the entry)
            None => {
                if check_finite {
                    checks::check_finite(a, "a", par)?;
                }
                for_each_matrix(batch, strides, dims.work(), scratch, par, &one)?
            }
        }
    } else {
        for_each_matrix(batch, strides, dims.work(), scratch, par, &one)?
    };
    match failed {
        None => Ok(()),
        Some(i) => Err(Error::LinAlg {
            what: "SVD did not converge (is there a NaN or an infinity in the input?)".into(),
            batch_index: (nb > 0).then_some(i),
        }),
    }
}

/// faer's and our small kernel's workspace for one matrix of `dims`.
fn one_scratch<T: Real>(dims: &Dims, fpar: faer::Par) -> StackReq {
    let (cu, cv) = dims.compute();
    let mut scratch = fsvd::svd_scratch::<T>(dims.m, dims.n, cu, cv, fpar, params::<T>());
    let vectors = dims.vectors != ComputeSvdVectors::No;
    if use_small(dims.m, dims.n) {
        let full = dims.ku.max(dims.kv) == dims.m.max(dims.n) && dims.m != dims.n;
        let (mm, nn) = (dims.m.max(dims.n), dims.m.min(dims.n));
        let kq = if full { mm } else { nn };
        scratch = scratch.or(StackReq::new::<T>(small_work_len(dims.m, dims.n, vectors, full)).and(StackReq::new::<usize>(kq)));
    }
    scratch
}

/// Whether one matrix of `dims` goes through [`svd_tsqr`]: tall (or wide) enough for at least two
/// TSQR blocks, large enough that splitting pays (~4M multiply-adds in its QR), and with thin or
/// no vectors (a full `U` needs the complement of `Q`, which faer's path forms).
fn use_tsqr(dims: &Dims) -> bool {
    let (m, n) = (dims.m.max(dims.n), dims.m.min(dims.n));
    let thin = dims.vectors == ComputeSvdVectors::No || (dims.ku == n && dims.kv == n);
    thin && tsqr::blocks(m, n) >= 2 && m.saturating_mul(n).saturating_mul(n) >= 1 << 22
}

/// From this `min(m, n)` up, a single matrix that is neither small nor tall runs faer's parallel
/// SVD, with a fixed degree so that the result does not depend on the thread count
/// ([`Par::install_fixed`]).
const PAR_MIN_K: usize = 192;

/// Only with vectors: faer's bidiagonalization does not gain from threads, its divide and conquer
/// and the vectors' back-transformation do (`square_svd_par_timing`, busy machine, ms: values of
/// 1024x1024 339 sequential / 342 parallel, with vectors 641 / 510).
fn use_parallel(dims: &Dims) -> bool {
    let vectors = dims.vectors != ComputeSvdVectors::No;
    vectors && !use_small(dims.m, dims.n) && dims.m.min(dims.n) >= PAR_MIN_K
}

/// One matrix by TSQR on all threads ([`tsqr`]), then the SVD of its `R`: see [`svd_tall`]. A
/// wide `A` goes through `A^T = U' S V'^T`, so `A = V' S U'^T`: U and V swap sides, and the sign
/// convention (on A's right singular vectors, `U'` here) is applied again afterwards.
fn svd_tsqr<T: Real>(a: MatRef<'_, T>, s: ColMut<'_, T>, uv: Option<(MatMut<'_, T>, MatMut<'_, T>)>, par: Par) -> Result<Option<bool>> {
    if a.nrows() >= a.ncols() {
        return svd_tall(a, s, uv, par);
    }
    let mut uv = uv;
    let swapped = uv.as_mut().map(|(u, v)| (v.rb_mut(), u.rb_mut()));
    let done = svd_tall(a.transpose(), s, swapped, par)?;
    if let (Some(true), Some((u, v))) = (done, uv) {
        normalize_svd(u, v.transpose_mut());
    }
    Ok(done)
}

/// A tall matrix by TSQR (`A = Q R`), then the SVD of its `R` (`R = U_R S V^T`, so `U = Q U_R`
/// and `V` is `R`'s). `Some(false)` if `R`'s SVD did not converge, `None` if the matrix holds a
/// NaN or an infinity or needs scaling (the one-thread path then handles it).
fn svd_tall<T: Real>(a: MatRef<'_, T>, mut s: ColMut<'_, T>, uv: Option<(MatMut<'_, T>, MatMut<'_, T>)>, par: Par) -> Result<Option<bool>> {
    let n = a.ncols();
    let qr = tsqr::Tsqr::factor(a, par)?;
    if !qr.finite || scale_for(qr.amax).is_some() {
        return Ok(None);
    }
    let r = qr.r();
    let vectors = uv.is_some();
    let dims = Dims::thin(n, n, vectors);
    let mut buf = workspace::buffer(one_scratch::<T>(&dims, faer::Par::Seq))?;
    let stack = MemStack::new(&mut buf);
    match uv {
        None => Ok(Some(svd_one(r.as_ref(), s.rb_mut(), None, stack, faer::Par::Seq, par).is_ok())),
        Some((u, v)) => {
            let mut ur = faer::Mat::<T>::zeros(n, n);
            // R's SVD with vectors on faer's fixed-degree parallel path where a square one
            // would take it
            let ok = if use_parallel(&dims) {
                par.install_fixed(|fpar| -> Result<bool> {
                    let mut buf = workspace::buffer(one_scratch::<T>(&dims, fpar))?;
                    Ok(svd_one(r.as_ref(), s.rb_mut(), Some((ur.as_mut(), v)), MemStack::new(&mut buf), fpar, par).is_ok())
                })?
            } else {
                svd_one(r.as_ref(), s.rb_mut(), Some((ur.as_mut(), v)), stack, faer::Par::Seq, par).is_ok()
            };
            if !ok {
                return Ok(Some(false));
            }
            // V's sign convention carries over: U = Q U_R flips with U_R's columns
            qr.apply_q(ur.as_ref(), u, par)?;
            Ok(Some(true))
        }
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

/// The largest `|a_ij|` (NaN left out) and whether every entry is finite, reading `a` in its
/// memory order: a column at a time over a row-major 10000x256 matrix took 16 ms against 1.8.
pub(crate) fn max_abs<T: Real>(a: MatRef<'_, T>) -> (T, bool) {
    let (mut amax, mut finite) = (T::ZERO, true);
    let mut visit = |x: T| {
        finite &= x.is_finite();
        if x.abs() > amax {
            amax = x.abs();
        }
    };
    if a.row_stride().abs() <= a.col_stride().abs() {
        for j in 0..a.ncols() {
            a.col(j).iter().for_each(|&x| visit(x));
        }
    } else {
        for i in 0..a.nrows() {
            a.row(i).iter().for_each(|&x| visit(x));
        }
    }
    (amax, finite)
}

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
    fpar: faer::Par,
    par: Par,
) -> core::result::Result<(), ()> {
    let mut uv = uv;
    if use_small(a.nrows(), a.ncols()) {
        let uvr = uv.as_mut().map(|(u, v)| (u.rb_mut(), v.rb_mut()));
        if small_one(a, s.rb_mut(), uvr, stack, par) {
            return Ok(());
        }
        // a NaN or an infinity, or the QR iteration did not converge: faer's algorithm below
    }
    // (a NaN is left out of the maximum: faer reports it as non-convergence below)
    let scale = scale_for(max_abs(a).0);
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
        fpar,
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

/// One matrix by [`svd_small`] or, for a larger one, the two-stage reduction (values) or
/// [`bidiag_dc`] (vectors) on `par` (the caller checked [`use_small`]). Copies `a` (scaled by [`scale_for`] when near overflow or
/// underflow), writes `s` (scaled back), `u` and `v` with the sign convention; false if `a` holds
/// a NaN or an infinity or an iteration did not converge (nothing useful written then).
fn small_one<T: Real>(
    a: MatRef<'_, T>,
    mut s: ColMut<'_, T>,
    uv: Option<(MatMut<'_, T>, MatMut<'_, T>)>,
    stack: &mut MemStack,
    par: Par,
) -> bool {
    let (m, n) = (a.nrows(), a.ncols());
    let trans = m < n;
    let (mm, nn) = (m.max(n), m.min(n));
    let vectors = uv.is_some();
    let full = match &uv {
        Some((u, v)) => u.ncols().max(v.ncols()) == mm && m != n,
        None => false,
    };
    let kq = if full { mm } else { nn };
    let (mut work, stack) = stack.make_with::<T>(small_work_len(m, n, vectors, full), |_| T::ZERO);
    let (mut perm, _) = stack.make_with::<usize>(kq, |_| 0);
    // the column-major working copy of M = A (m >= n) or A^T, and its largest magnitude, in one
    // pass that reads the input along its shorter stride
    let (rs, cs) = if trans { (a.col_stride(), a.row_stride()) } else { (a.row_stride(), a.col_stride()) };
    let ptr = a.as_ptr();
    let mut amax = T::ZERO;
    let mut finite = true;
    let mut take = |x: T| {
        let ax = x.abs();
        finite &= x.is_finite();
        if ax > amax {
            amax = ax;
        }
        x
    };
    if rs.unsigned_abs() <= cs.unsigned_abs() {
        for j in 0..nn {
            for i in 0..mm {
                // SAFETY: (i, j) lies inside M, whose elements are `ptr + i rs + j cs` (a view
                // of `a`, transposed or not).
                work[j * mm + i] = take(unsafe { *ptr.offset(i as isize * rs + j as isize * cs) });
            }
        }
    } else {
        for i in 0..mm {
            for j in 0..nn {
                // SAFETY: as above.
                work[j * mm + i] = take(unsafe { *ptr.offset(i as isize * rs + j as isize * cs) });
            }
        }
    }
    if !finite {
        return false;
    }
    let scale = scale_for(amax);
    if let Some(f) = scale {
        for x in work[..mm * nn].iter_mut() {
            *x = *x * f;
        }
    }
    let inv = scale.map_or(T::ONE, |f| T::ONE / f);
    if use_two_stage(m, n, vectors) {
        let (aw, rest) = work.split_at_mut(mm * nn);
        let (d, rest) = rest.split_at_mut(nn);
        let (e, rest) = rest.split_at_mut(nn);
        let band = two_stage_band(nn);
        ge2gb::dense_to_band(aw, mm, nn, mm, band, par);
        gbbrd::band_to_bidiagonal(aw, nn, mm, band, d, e);
        e[nn - 1] = T::ZERO;
        if !svd_small::bidiag_values(d, e, rest) {
            return false;
        }
        for (k, x) in d.iter().enumerate() {
            s[k] = *x * inv;
        }
        return true;
    }
    if use_divide_and_conquer(m, n, vectors) {
        let Some((u, v)) = uv else { unreachable!() };
        let (mut big, mut small) = if trans { (v, u) } else { (u, v) };
        let Some(sd) = bidiag_dc(&mut work[..mm * nn], mm, nn, big.ncols(), par) else {
            return false;
        };
        for (k, x) in sd.s.iter().enumerate() {
            s[k] = *x * inv;
        }
        let (sign_big, sign_small) = vector_signs(
            trans,
            big.ncols(),
            nn,
            |k| sd.left[k * mm..(k + 1) * mm].iter().copied(),
            |k| sd.right[k * nn..(k + 1) * nn].iter().copied(),
        );
        write_columns(&sd.left, mm, |k| k, &sign_big, big.rb_mut());
        write_columns(&sd.right, nn, |k| k, &sign_small, small.rb_mut());
        return true;
    }
    let Some(out) = svd_small::svd_small(&mut work[..], &mut perm[..], mm, nn, vectors, kq, par) else {
        return false;
    };
    for (k, x) in out.s.iter().enumerate() {
        s[k] = *x * inv;
    }
    if let (Some((u, v)), Some((left, lu, right, lv, perm, sgn))) = (uv, out.vecs) {
        // the vectors of A^T's decomposition swap sides; left vector k is row `brow(k)` of
        // `left`, right vector k row perm[k] of `right` times sgn[perm[k]]
        let (big, small) = if trans { (v, u) } else { (u, v) };
        let brow = |k: usize| if k < nn { perm[k] } else { k };
        let (sign_big, mut sign_small) = vector_signs(
            trans,
            big.ncols(),
            small.ncols(),
            |k| left[brow(k) * lu..][..mm].iter().copied(),
            |k| right[perm[k] * lv..][..nn].iter().map(move |x| *x * sgn[perm[k]]),
        );
        for (k, g) in sign_small.iter_mut().enumerate() {
            *g = *g * sgn[perm[k]];
        }
        write_columns(left, lu, brow, &sign_big, big);
        write_columns(right, lv, |k| perm[k], &sign_small, small);
    }
    true
}

/// The signs of DESIGN.md's convention for the vectors of `M = A` (`trans` false) or `A^T`
/// (true) before they are written out, as [`normalize_svd`] would give them afterwards: the
/// largest component of each right singular vector of `A` (a column of `M`'s right vectors
/// `small`, or of its left ones `big` if `trans`) positive, the matching left vector flipped
/// alongside (`big`'s columns past `small`'s have no partner and keep their sign). `big_col(k)`
/// and `small_col(k)` are the vectors as they will be written. Returns `(sign_big, sign_small)`.
fn vector_signs<T: Real, I: Iterator<Item = T>, J: Iterator<Item = T>>(
    trans: bool,
    big_cols: usize,
    small_cols: usize,
    big_col: impl Fn(usize) -> I,
    small_col: impl Fn(usize) -> J,
) -> (Vec<T>, Vec<T>) {
    if trans {
        let sign_big: Vec<T> = (0..big_cols).map(|k| signs::sign_of(big_col(k))).collect();
        let sign_small = (0..small_cols).map(|k| if k < big_cols { sign_big[k] } else { T::ONE }).collect();
        (sign_big, sign_small)
    } else {
        let sign_small: Vec<T> = (0..small_cols).map(|k| signs::sign_of(small_col(k))).collect();
        let sign_big = (0..big_cols).map(|k| if k < small_cols { sign_small[k] } else { T::ONE }).collect();
        (sign_big, sign_small)
    }
}

/// What [`bidiag_dc`] returns: the singular values (descending), the left vectors (`m x kq`,
/// column-major) and the right ones (`n x n`, column-major).
struct DcSvd<T> {
    s: Vec<T>,
    left: Vec<T>,
    right: Vec<T>,
}

/// The SVD of the column-major `m x n` matrix `a` (`m >= n`, overwritten) with vectors: the
/// one-stage blocked bidiagonalization ([`gebrd::gebrd`], LAPACK's `dgebrd`), the divide and
/// conquer of [`bdsdc::bdsdc`] on the bidiagonal, and the back-transformations of both sides by
/// the reflectors (LAPACK's `dormbr`): LAPACK's `dgesdd` path for a square-ish matrix. `kq` is
/// `n` (thin) or `m` (full left vectors). None if the divide and conquer did not converge.
fn bidiag_dc<T: Real>(a: &mut [T], m: usize, n: usize, kq: usize, par: Par) -> Option<DcSvd<T>> {
    let (mut d, mut e) = (vec![T::ZERO; n], vec![T::ZERO; n]);
    let (mut tauq, mut taup) = (vec![T::ZERO; n], vec![T::ZERO; n]);
    let mut work = vec![T::ZERO; gebrd::work_len(m, n)];
    gebrd::gebrd(a, m, n, &mut d, &mut e, &mut tauq, &mut taup, &mut work, par);
    drop(work);
    // U_B straight into the top of the left vectors' buffer, VT_B into the right's (and
    // transposed there): no other n x n scratch
    let mut left = vec![T::ZERO; m * kq];
    let mut right = vec![T::ZERO; n * n];
    if !bdsdc::bdsdc(&mut d, &e[..n - 1], &mut left, m, &mut right, n, par) {
        return None;
    }
    // left: Q [U_B 0; 0 I] (m x kq)
    for k in n..kq {
        left[k * m + k] = T::ONE;
    }
    gebrd::apply_q_bidiag(a, m, n, &tauq, &mut left, m, kq, par);
    // right: P V_B, V_B = VT_B^T
    for k in 0..n {
        for i in k + 1..n {
            right.swap(k * n + i, i * n + k);
        }
    }
    gebrd::apply_p_bidiag(a, m, n, &taup, &mut right, n, n, par);
    Some(DcSvd { s: d, left, right })
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
        svd(&av, SvdOut { s: &mut sv, uv: Some((&mut uvw, &mut vv)) }, false, Par::SEQ).unwrap();
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
        let err = svd(&av, SvdOut { s: &mut sv, uv: None }, false, Par::SEQ).unwrap_err();
        assert!(matches!(err, Error::LinAlg { batch_index: Some(2), .. }), "{err:?}");
    }

    /// The values-only reduction of one n x n matrix on the pool, median wall ms: one stage
    /// (`gebrd`) against two (`ge2gb` + `gbbrd`) for a few bandwidths, and dqds after it (run with
    /// `--ignored --nocapture`; FL_SIZES and FL_BANDS override the lists).
    #[test]
    #[ignore]
    fn two_stage_values_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let list = crate::testing::env_list;
        for n in list("FL_SIZES", &[128, 160, 192, 256, 384, 512, 1024]) {
            let a0 = crate::testing::data(n * n, n as u64);
            let mut w = a0.clone();
            let (mut d, mut e, mut tq, mut tp) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let mut gw = vec![0.0; crate::gebrd::work_len(n, n).max(svd_small::dqds_work_len(n))];
            let [t1] = crate::testing::interleaved_medians([&mut || {
                w.copy_from_slice(&a0);
                crate::gebrd::gebrd(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, &mut gw, pool.par());
            }]);
            let (d0, e0) = (d.clone(), e.clone());
            let [tq_] = crate::testing::interleaved_medians([&mut || {
                d.copy_from_slice(&d0);
                e.copy_from_slice(&e0);
                assert!(svd_small::bidiag_values(&mut d, &mut e, &mut gw));
            }]);
            let mut wk = vec![0.0; svd_small::work_len(n, n, false, false)];
            let mut perm = vec![0usize; n];
            let [t0] = crate::testing::interleaved_medians([&mut || {
                wk[..n * n].copy_from_slice(&a0);
                assert!(svd_small::svd_small(&mut wk, &mut perm, n, n, false, n, Par::SEQ).is_some());
            }]);
            print!("n={n:5} unblocked+dqds {t0:7.3} gebrd {t1:8.3} ms, dqds {tq_:7.3} |");
            for b in list("FL_BANDS", &[16, 24, 32, 48]) {
                let mut w2 = a0.clone();
                let (mut d2, mut e2) = (vec![0.0; n], vec![0.0; n]);
                let [ta] = crate::testing::interleaved_medians([&mut || {
                    w2.copy_from_slice(&a0);
                    ge2gb::dense_to_band(&mut w2, n, n, n, b, pool.par());
                }]);
                let [tb] = crate::testing::interleaved_medians([&mut || {
                    w.copy_from_slice(&w2);
                    gbbrd::band_to_bidiagonal(&mut w, n, n, b, &mut d2, &mut e2);
                }]);
                print!(" b={b}: {ta:.3}+{tb:.3}={:.3}", ta + tb);
            }
            println!();
        }
    }

    /// A reproducible pseudo-random matrix (row-major, m x n) with entries in [-1, 1).
    fn rand_mat(m: usize, n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..m * n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    /// Our small kernel against faer's SVD on one matrix: residual and orthogonality in units
    /// of n eps, singular values to `tol` relative to the largest.
    fn check_small(a: &[f64], m: usize, n: usize, full: bool) {
        assert!(use_small(m, n));
        let k = m.min(n);
        let (ku, kv) = if full { (m, n) } else { (k, k) };
        let av = ArrayRef::from_slice(a, &[m, n]);
        let (mut s, mut u, mut vh, mut s2) = (vec![0.0; k], vec![0.0; m * ku], vec![0.0; kv * n], vec![0.0; k]);
        {
            let mut sv = ArrayMut::from_slice(&mut s, &[k]);
            let mut uvw = ArrayMut::from_slice(&mut u, &[m, ku]);
            let mut vv = ArrayMut::from_slice(&mut vh, &[kv, n]);
            svd(&av, SvdOut { s: &mut sv, uv: Some((&mut uvw, &mut vv)) }, false, Par::SEQ).unwrap();
            let mut sv2 = ArrayMut::from_slice(&mut s2, &[k]);
            svd(&av, SvdOut { s: &mut sv2, uv: None }, false, Par::SEQ).unwrap();
        }
        let am = faer::Mat::<f64>::from_fn(m, n, |i, j| a[i * n + j]);
        let reference = am.as_ref().singular_values().unwrap();
        let smax = reference[0].max(f64::MIN_POSITIVE);
        let eps = f64::EPSILON;
        let nn = m.max(n) as f64;
        for i in 0..k {
            assert!((s[i] - reference[i]).abs() <= 50.0 * nn * eps * smax, "{m}x{n} s[{i}] {} vs {}", s[i], reference[i]);
            assert!((s2[i] - reference[i]).abs() <= 50.0 * nn * eps * smax, "{m}x{n} values only s[{i}] {} vs {}", s2[i], reference[i]);
            if i > 0 {
                assert!(s[i - 1] >= s[i] && s2[i - 1] >= s2[i]);
            }
        }
        let mut err: f64 = 0.0;
        for i in 0..m {
            for j in 0..n {
                let r: f64 = (0..k).map(|l| u[i * ku + l] * s[l] * vh[l * n + j]).sum();
                err = err.max((r - a[i * n + j]).abs());
            }
        }
        assert!(err <= 20.0 * nn * eps * smax, "{m}x{n} residual {err:e}");
        let mut orth: f64 = 0.0;
        for p in 0..ku {
            for q in 0..ku {
                let g: f64 = (0..m).map(|i| u[i * ku + p] * u[i * ku + q]).sum();
                orth = orth.max((g - if p == q { 1.0 } else { 0.0 }).abs());
            }
        }
        for p in 0..kv {
            for q in 0..kv {
                let g: f64 = (0..n).map(|j| vh[p * n + j] * vh[q * n + j]).sum();
                orth = orth.max((g - if p == q { 1.0 } else { 0.0 }).abs());
            }
        }
        assert!(orth <= 20.0 * nn * eps, "{m}x{n} orthogonality {orth:e}");
    }

    #[test]
    fn small_kernel_random_shapes() {
        for &(m, n) in &[(1, 1), (2, 2), (3, 2), (2, 3), (3, 3), (5, 4), (4, 5), (8, 8), (13, 9), (9, 13), (17, 17), (32, 32), (40, 33), (33, 40), (64, 64), (96, 60)] {
            let a = rand_mat(m, n, (m * 100 + n) as u64);
            for full in [false, true] {
                check_small(&a, m, n, full);
            }
        }
    }

    #[test]
    fn small_kernel_nasty() {
        let n = 24;
        // graded rows, rank-deficient, repeated values, zero, Kahan
        let mut graded = rand_mat(n, n, 3);
        for i in 0..n {
            for j in 0..n {
                graded[i * n + j] *= 10f64.powi(-(i as i32) / 2);
            }
        }
        check_small(&graded, n, n, false);
        let x = rand_mat(n, 3, 4);
        let y = rand_mat(3, n, 5);
        let rank3: Vec<f64> = (0..n * n).map(|p| (0..3).map(|l| x[(p / n) * 3 + l] * y[l * n + p % n]).sum()).collect();
        check_small(&rank3, n, n, false);
        let ident: Vec<f64> = (0..n * n).map(|p| if p / n == p % n { 1.0 } else { 0.0 }).collect();
        check_small(&ident, n, n, true);
        check_small(&vec![0.0; n * n], n, n, false);
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let kahan: Vec<f64> = (0..n * n)
            .map(|p| {
                let (i, j) = (p / n, p % n);
                let si = s.powi(i as i32);
                if i == j { si } else if j > i { -c * si } else { 0.0 }
            })
            .collect();
        check_small(&kahan, n, n, false);
        // bidiagonal input: the QR iteration on its own, with a tiny value
        let mut bd = vec![0.0; n * n];
        for i in 0..n {
            bd[i * n + i] = if i == n / 2 { 1e-20 } else { 1.0 + i as f64 };
            if i + 1 < n {
                bd[i * n + i + 1] = 1.0;
            }
        }
        check_small(&bd, n, n, false);
    }

    /// Our kernel against faer's SVD per matrix (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn small_vs_faer_timing() {
        faer::set_global_parallelism(faer::Par::Seq);
        for &n in &[8usize, 16, 32, 64, 96, 128, 192, 256, 384, 512] {
            let a = rand_mat(n, n, n as u64);
            let reps = (4_000_000 / (n * n * n)).clamp(3, 20000);
            let av = ArrayRef::from_slice(&a, &[n, n]);
            let (mut s, mut u, mut vh) = (vec![0.0; n], vec![0.0; n * n], vec![0.0; n * n]);
            let mut time = |vectors: bool, small: bool| {
                let am = faer::Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    if small {
                        let mut sv = ArrayMut::from_slice(&mut s, &[n]);
                        if vectors {
                            let mut uvw = ArrayMut::from_slice(&mut u, &[n, n]);
                            let mut vv = ArrayMut::from_slice(&mut vh, &[n, n]);
                            svd(&av, SvdOut { s: &mut sv, uv: Some((&mut uvw, &mut vv)) }, false, Par::SEQ).unwrap();
                        } else {
                            svd(&av, SvdOut { s: &mut sv, uv: None }, false, Par::SEQ).unwrap();
                        }
                    } else if vectors {
                        let _ = am.as_ref().thin_svd().unwrap();
                    } else {
                        let _ = am.as_ref().singular_values().unwrap();
                    }
                }
                t.elapsed().as_secs_f64() / reps as f64 * 1e6
            };
            let (ov, fv, ou, fu) = (time(false, true), time(false, false), time(true, true), time(true, false));
            println!("n={n:4} values: ours {ov:9.1} us faer {fv:9.1} us | vectors: ours {ou:9.1} us faer {fu:9.1} us");
        }
    }
}

#[cfg(test)]
mod tall_timing {
    use super::*;
    /// faer's SVD of a tall matrix (its QR path, one thread) against the TSQR path
    /// (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn tall_svd_timing() {
        let (m, n) = (10000usize, 256usize);
        let a = faer::Mat::<f64>::from_fn(m, n, |i, j| crate::randomized::gaussian(5, (i * n + j) as u64));
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        for vectors in [false, true] {
            let dims = Dims::thin(m, n, vectors);
            let mut buf = workspace::buffer(one_scratch::<f64>(&dims, faer::Par::Seq)).unwrap();
            let (mut best_f, mut best_1, mut best_2) = (1e9f64, 1e9f64, 1e9f64);
            for _ in 0..4 {
                let mut s = faer::Col::<f64>::zeros(n);
                let mut u = faer::Mat::<f64>::zeros(m, n);
                let mut v = faer::Mat::<f64>::zeros(n, n);
                let t = std::time::Instant::now();
                let uv = vectors.then(|| (u.as_mut(), v.as_mut()));
                svd_one(a.as_ref(), s.as_mut(), uv, MemStack::new(&mut buf), faer::Par::Seq, Par::SEQ).unwrap();
                best_f = best_f.min(t.elapsed().as_secs_f64());
                let s_ref = s.clone();
                for (par, best) in [(Par::SEQ, &mut best_1), (pool.par(), &mut best_2)] {
                    let t = std::time::Instant::now();
                    let uv = vectors.then(|| (u.as_mut(), v.as_mut()));
                    assert_eq!(svd_tall(a.as_ref(), s.as_mut(), uv, par).unwrap(), Some(true));
                    *best = best.min(t.elapsed().as_secs_f64());
                    assert!((&s - &s_ref).norm_max() < 1e-10);
                }
            }
            println!("{m}x{n} vectors {vectors}: faer {:.1} ms, tsqr 1 thread {:.1} ms, 2 threads {:.1} ms", best_f * 1e3, best_1 * 1e3, best_2 * 1e3);
        }
    }
}

#[cfg(test)]
mod par_timing {
    use super::*;
    /// faer's SVD of one square matrix, sequential against the fixed-degree parallel one
    /// (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn square_svd_par_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let par = pool.par();
        for n in [256usize, 512, 1024] {
            let a = faer::Mat::<f64>::from_fn(n, n, |i, j| crate::randomized::gaussian(5, (i * n + j) as u64));
            for vectors in [false, true] {
                let dims = Dims::thin(n, n, vectors);
                let (mut best_s, mut best_p) = (1e9f64, 1e9f64);
                for _ in 0..3 {
                    let mut s = faer::Col::<f64>::zeros(n);
                    let mut u = faer::Mat::<f64>::zeros(n, n);
                    let mut v = faer::Mat::<f64>::zeros(n, n);
                    let mut buf = workspace::buffer(one_scratch::<f64>(&dims, faer::Par::Seq)).unwrap();
                    let t = std::time::Instant::now();
                    let uv = vectors.then(|| (u.as_mut(), v.as_mut()));
                    svd_one(a.as_ref(), s.as_mut(), uv, MemStack::new(&mut buf), faer::Par::Seq, Par::SEQ).unwrap();
                    best_s = best_s.min(t.elapsed().as_secs_f64());
                    let t = std::time::Instant::now();
                    par.install_fixed(|fpar| {
                        let mut buf = workspace::buffer(one_scratch::<f64>(&dims, fpar)).unwrap();
                        let uv = vectors.then(|| (u.as_mut(), v.as_mut()));
                        svd_one(a.as_ref(), s.as_mut(), uv, MemStack::new(&mut buf), fpar, par).unwrap();
                    });
                    best_p = best_p.min(t.elapsed().as_secs_f64());
                }
                println!("svd {n} vectors {vectors}: sequential {:.1} ms, degree 2 on 2 threads {:.1} ms", best_s * 1e3, best_p * 1e3);
            }
        }
    }
}

#[cfg(test)]
mod dc_timing {
    use super::*;

    /// The phases of [`bidiag_dc`] for one n x n matrix on the pool, median wall ms, sizes in
    /// `DC_N` (default 256,1024): bidiagonalization, divide and conquer, both back-transformations
    /// (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn bidiag_dc_phases_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let par = pool.par();
        let sizes: Vec<usize> = std::env::var("DC_N")
            .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
            .unwrap_or(vec![256, 1024]);
        for n in sizes {
            let a: Vec<f64> = (0..n * n).map(|i| crate::randomized::gaussian(5, i as u64)).collect();
            let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
            for _ in 0..5 {
                let mut w = a.clone();
                let (mut d, mut e) = (vec![0.0; n], vec![0.0; n]);
                let (mut tq, mut tp) = (vec![0.0; n], vec![0.0; n]);
                let mut work = vec![0.0; gebrd::work_len(n, n)];
                let t0 = std::time::Instant::now();
                gebrd::gebrd(&mut w, n, n, &mut d, &mut e, &mut tq, &mut tp, &mut work, par);
                let t1 = std::time::Instant::now();
                let (mut ub, mut vtb) = (vec![0.0; n * n], vec![0.0; n * n]);
                assert!(bdsdc::bdsdc(&mut d, &e[..n - 1], &mut ub, n, &mut vtb, n, par));
                let t2 = std::time::Instant::now();
                gebrd::apply_q_bidiag(&w, n, n, &tq, &mut ub, n, n, par);
                let t3 = std::time::Instant::now();
                gebrd::apply_p_bidiag(&w, n, n, &tp, &mut vtb, n, n, par);
                let t4 = std::time::Instant::now();
                for (k, (x, y)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4)].into_iter().enumerate() {
                    t[k].push((y - x).as_secs_f64() * 1e3);
                }
            }
            let med = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                v[v.len() / 2]
            };
            let [a0, a1, a2, a3] = &mut t;
            println!("n = {n}: gebrd {:.1} ms, bdsdc {:.1}, apply Q {:.1}, apply P {:.1}", med(a0), med(a1), med(a2), med(a3));
        }
    }
}

#[cfg(test)]
mod crossover_timing {
    use super::*;

    /// With vectors, one thread: svd_small's bidiagonal QR iteration against [`bidiag_dc`], us
    /// per n x n matrix (the crossover SMALL_MAX_N_VECTORS; run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn small_vs_dc_timing() {
        for n in [48usize, 64, 80, 96, 128, 160] {
            let a: Vec<f64> = (0..n * n).map(|i| crate::randomized::gaussian(7, i as u64)).collect();
            let reps = (20_000_000 / (n * n * n)).clamp(3, 2000);
            let mut work = vec![0.0; svd_small::work_len(n, n, true, false)];
            let mut perm = vec![0usize; n];
            let (mut ts, mut td) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..5 {
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    work[..n * n].copy_from_slice(&a);
                    assert!(svd_small::svd_small(&mut work[..], &mut perm[..], n, n, true, n, Par::SEQ).is_some());
                }
                ts = ts.min(t.elapsed().as_secs_f64() / reps as f64 * 1e6);
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    work[..n * n].copy_from_slice(&a);
                    assert!(bidiag_dc(&mut work[..n * n], n, n, n, Par::SEQ).is_some());
                }
                td = td.min(t.elapsed().as_secs_f64() / reps as f64 * 1e6);
            }
            println!("n = {n}: svd_small {ts:.1} us, gebrd + bdsdc {td:.1} us");
        }
    }
}
