//! Matrix products with NumPy's `matmul` semantics: 1-D operands promoted (and the added axis
//! removed from the result), batch axes broadcast, any strides.
//!
//! Each product of the batch is one call of faer's GEMM on strided views, so no operand is ever
//! copied to fit the kernel. What NumPy's one-BLAS-call-per-matrix loop cannot do is split a batch
//! across threads: a stack of many small products runs batch-parallel (each thread takes a range
//! of the batch and runs sequential products), while a few large ones use faer's own threads
//! inside each product.

use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::strided::{broadcast_shapes, broadcast_strides, ArrayMut, ArrayRef, BatchOffsets};
use crate::threads::Par;
use rayon::prelude::*;

/// Below this many multiply-adds in total, starting threads costs more than it saves
/// (a rayon hand-off is a few microseconds; this is ~10-20 µs of single-core work).
const PAR_MIN_WORK: usize = 1 << 17;

/// A batch-parallel task should carry at least this much work, so scheduling stays negligible.
const TASK_MIN_WORK: usize = 1 << 15;

/// Products with at most this many multiply-adds skip faer for a direct loop: faer's dispatch
/// costs more than the arithmetic on such tiny matrices.
const TINY_WORK: usize = 8 * 8 * 8;

/// A strided matrix inside a batch: shape and strides (in elements) of its two axes.
#[derive(Clone, Copy, Debug)]
struct MatLayout {
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

/// The shape of a matmul problem after NumPy's rules are applied.
#[derive(Clone, Debug)]
pub struct MatmulShape {
    /// The result's shape as NumPy returns it (the axes added for 1-D operands removed).
    pub out_shape: Vec<usize>,
    batch: Vec<usize>,
    m: usize,
    n: usize,
    k: usize,
    a_promoted: bool,
    b_promoted: bool,
}

/// Checks two operand shapes against NumPy's matmul rules and returns the problem's shape.
pub fn matmul_shape(a: &[usize], b: &[usize]) -> Result<MatmulShape> {
    let err = |what: &str| Error::Shape { what: format!("matmul: {what}"), shapes: vec![a.to_vec(), b.to_vec()] };
    if a.is_empty() || b.is_empty() {
        return Err(err("operands must have at least one dimension (use * to multiply by a scalar)"));
    }
    let a_promoted = a.len() == 1;
    let b_promoted = b.len() == 1;
    let (m, ka) = if a_promoted { (1, a[0]) } else { (a[a.len() - 2], a[a.len() - 1]) };
    let (kb, n) = if b_promoted { (b[0], 1) } else { (b[b.len() - 2], b[b.len() - 1]) };
    if ka != kb {
        return Err(err(&format!(
            "the last axis of the first operand (size {ka}) does not match the {} axis of the second (size {kb})",
            if b_promoted { "only" } else { "second-to-last" }
        )));
    }
    let a_batch = if a_promoted { &[][..] } else { &a[..a.len() - 2] };
    let b_batch = if b_promoted { &[][..] } else { &b[..b.len() - 2] };
    let batch = broadcast_shapes(a_batch, b_batch)
        .ok_or_else(|| err("the batch axes (all but the last two) do not broadcast"))?;
    let mut out_shape = batch.clone();
    if !a_promoted {
        out_shape.push(m);
    }
    if !b_promoted {
        out_shape.push(n);
    }
    Ok(MatmulShape { out_shape, batch, m, n, k: ka, a_promoted, b_promoted })
}

/// Splits an operand into (strides over the broadcast batch, matrix layout), promoting a 1-D
/// operand to a row (`as_row`) or a column.
fn split_operand(
    shape: &[usize],
    strides: &[isize],
    promoted: bool,
    as_row: bool,
    batch: &[usize],
) -> (Vec<isize>, MatLayout) {
    if promoted {
        let layout = if as_row {
            MatLayout { rows: 1, cols: shape[0], rs: 0, cs: strides[0] }
        } else {
            MatLayout { rows: shape[0], cols: 1, rs: strides[0], cs: 0 }
        };
        return (vec![0; batch.len()], layout);
    }
    let nd = shape.len();
    let layout = MatLayout { rows: shape[nd - 2], cols: shape[nd - 1], rs: strides[nd - 2], cs: strides[nd - 1] };
    (broadcast_strides(&shape[..nd - 2], &strides[..nd - 2], batch), layout)
}

/// `out = a @ b` with NumPy's semantics. `out` must have the shape [`matmul_shape`] gives (any
/// strides) and must not overlap `a` or `b`.
pub fn matmul<T: Real>(a: &ArrayRef<T>, b: &ArrayRef<T>, out: &mut ArrayMut<T>, par: Par) -> Result<()> {
    let shape = matmul_shape(a.shape(), b.shape())?;
    if out.shape() != shape.out_shape.as_slice() {
        return Err(Error::OutShape { expected: shape.out_shape, got: out.shape().to_vec() });
    }
    if out.is_empty() {
        return Ok(());
    }
    let MatmulShape { batch, m, n, k, a_promoted, b_promoted, .. } = shape;
    let (a_bs, a_mat) = split_operand(a.shape(), a.strides(), a_promoted, true, &batch);
    let (b_bs, b_mat) = split_operand(b.shape(), b.strides(), b_promoted, false, &batch);
    // the result's strides over (batch, m, n), with stride 0 for an axis NumPy removed
    let os = out.strides();
    let nb = batch.len();
    let c_bs = os[..nb].to_vec();
    let c_mat = MatLayout {
        rows: m,
        cols: n,
        rs: if a_promoted { 0 } else { os[nb] },
        cs: if b_promoted { 0 } else { os[os.len() - 1] },
    };
    let nbatch: usize = batch.iter().product();
    let work = m * n * k;
    let (ap, bp, cp) = (SendPtr(a.ptr() as *mut T), SendPtr(b.ptr() as *mut T), SendPtr(out.ptr()));

    // SAFETY (for every `product` call below): the offsets come from the operands' own shapes and
    // strides, so every element a product touches lies inside a view its creator vouched for; each
    // batch position writes a distinct matrix of `out`.
    let run_range = |start: usize, count: usize, faer_par: faer::Par| {
        for [ao, bo, co] in BatchOffsets::new(&batch, [&a_bs, &b_bs, &c_bs], start, count) {
            unsafe {
                product(
                    cp.get().offset(co),
                    c_mat,
                    ap.get().offset(ao),
                    a_mat,
                    bp.get().offset(bo),
                    b_mat,
                    k,
                    faer_par,
                )
            };
        }
    };

    let threads = par.num_threads();
    let total = nbatch.saturating_mul(work.max(1));
    if nbatch >= 2 * threads && threads > 1 && total >= PAR_MIN_WORK {
        // batch-parallel: contiguous ranges of the batch, each run sequentially; the split does not
        // change any product's arithmetic, so results are identical for every thread count
        let per_task = (TASK_MIN_WORK / work.max(1)).max(1).max(nbatch / (threads * 8)).max(1);
        let ntasks = nbatch.div_ceil(per_task);
        par.install(|| {
            (0..ntasks).into_par_iter().for_each(|t| {
                let start = t * per_task;
                run_range(start, per_task.min(nbatch - start), faer::Par::Seq)
            })
        });
    } else {
        let par = par.when(work >= PAR_MIN_WORK);
        par.install(|| run_range(0, nbatch, par.faer()));
    }
    Ok(())
}

/// A raw pointer that may cross into rayon workers; what it points to is governed by the views it
/// was taken from.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: only used to address disjoint parts of views that are themselves Send + Sync.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}
impl<T> SendPtr<T> {
    #[inline(always)]
    fn get(self) -> *mut T {
        self.0
    }
}

/// One product `c = a @ b` of an `m x k` and a `k x n` matrix.
///
/// # Safety
/// Every element addressed by the layouts must be valid; `c` must not overlap `a` or `b`.
#[allow(clippy::too_many_arguments)]
unsafe fn product<T: Real>(
    c: *mut T,
    cl: MatLayout,
    a: *const T,
    al: MatLayout,
    b: *const T,
    bl: MatLayout,
    k: usize,
    par: faer::Par,
) {
    let (m, n) = (cl.rows, cl.cols);
    if k == 0 {
        for i in 0..m as isize {
            for j in 0..n as isize {
                *c.offset(i * cl.rs + j * cl.cs) = T::ZERO;
            }
        }
        return;
    }
    if m * n * k <= TINY_WORK {
        tiny_product(c, cl, a, al, b, bl, k);
        return;
    }
    let a = faer::MatRef::from_raw_parts(a, m, k, al.rs, al.cs);
    let b = faer::MatRef::from_raw_parts(b, k, n, bl.rs, bl.cs);
    let c = faer::MatMut::from_raw_parts_mut(c, m, n, cl.rs, cl.cs);
    faer::linalg::matmul::matmul(c, faer::Accum::Replace, a, b, T::ONE, par);
}

/// A direct triple loop for products too small for a blocked kernel to pay off.
///
/// # Safety
/// As [`product`].
#[inline]
unsafe fn tiny_product<T: Real>(
    c: *mut T,
    cl: MatLayout,
    a: *const T,
    al: MatLayout,
    b: *const T,
    bl: MatLayout,
    k: usize,
) {
    for i in 0..cl.rows as isize {
        for j in 0..cl.cols as isize {
            let mut acc = T::ZERO;
            for p in 0..k as isize {
                acc = (*a.offset(i * al.rs + p * al.cs)).mul_add(*b.offset(p * bl.rs + j * bl.cs), acc);
            }
            *c.offset(i * cl.rs + j * cl.cs) = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strided::c_strides;
    use crate::threads;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
            })
            .collect()
    }

    #[test]
    fn shapes_follow_numpy() {
        assert_eq!(matmul_shape(&[3], &[3]).unwrap().out_shape, Vec::<usize>::new());
        assert_eq!(matmul_shape(&[2, 3], &[3]).unwrap().out_shape, vec![2]);
        assert_eq!(matmul_shape(&[3], &[5, 3, 4]).unwrap().out_shape, vec![5, 4]);
        assert_eq!(matmul_shape(&[7, 1, 2, 3], &[5, 3, 4]).unwrap().out_shape, vec![7, 5, 2, 4]);
        let e = matmul_shape(&[2, 3], &[4, 5]).unwrap_err().to_string();
        assert!(e.contains("(2, 3)") && e.contains("(4, 5)"), "{e}");
        assert!(matmul_shape(&[2, 2, 3], &[3, 3, 4]).is_err());
        assert!(matmul_shape(&[], &[3]).is_err());
    }

    #[test]
    fn batched_products_match_naive_for_all_sizes_and_thread_counts() {
        threads::set_num_threads(2);
        let pool = threads::current();
        for &(nb, m, k, n) in &[(1, 1, 1, 1), (3, 2, 3, 4), (50, 4, 4, 4), (7, 17, 33, 9), (4, 70, 65, 80), (1, 130, 140, 150)] {
            let a = data(nb * m * k, 1);
            let b = data(nb * k * n, 2);
            let mut c = vec![f64::NAN; nb * m * n];
            let av = ArrayRef::from_slice(&a, &[nb, m, k]);
            let bv = ArrayRef::from_slice(&b, &[nb, k, n]);
            for par in [Par::SEQ, pool.par()] {
                matmul(&av, &bv, &mut ArrayMut::from_slice(&mut c, &[nb, m, n]), par).unwrap();
                for t in 0..nb {
                    let want = naive(&a[t * m * k..][..m * k], &b[t * k * n..][..k * n], m, k, n);
                    for (x, y) in c[t * m * n..][..m * n].iter().zip(&want) {
                        assert!((x - y).abs() <= 1e-12 * k as f64, "{nb}x{m}x{k}x{n}: {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn negative_strides_and_broadcast_batch() {
        // a: (2, 3, 4) read with its middle axis reversed; b: (4, 5) broadcast over the batch
        let (m, k, n) = (3, 4, 5);
        let a = data(2 * m * k, 3);
        let b = data(k * n, 4);
        let s = c_strides(&[2, m, k]);
        let a_rev = unsafe {
            ArrayRef::from_raw(a.as_ptr().offset((m as isize - 1) * s[1]), vec![2, m, k], vec![s[0], -s[1], s[2]])
        };
        let bv = ArrayRef::from_slice(&b, &[k, n]);
        let mut c = vec![0.0; 2 * m * n];
        matmul(&a_rev, &bv, &mut ArrayMut::from_slice(&mut c, &[2, m, n]), Par::SEQ).unwrap();
        for t in 0..2 {
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k).map(|p| a[t * m * k + (m - 1 - i) * k + p] * b[p * n + j]).sum();
                    assert!((c[t * m * n + i * n + j] - want).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn zero_inner_dimension_gives_zeros() {
        let a: Vec<f64> = vec![];
        let mut c = vec![f64::NAN; 6];
        matmul(
            &ArrayRef::from_slice(&a, &[2, 0]),
            &ArrayRef::from_slice(&a, &[0, 3]),
            &mut ArrayMut::from_slice(&mut c, &[2, 3]),
            Par::SEQ,
        )
        .unwrap();
        assert!(c.iter().all(|&x| x == 0.0));
    }
}
