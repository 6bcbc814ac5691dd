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
use crate::strided::{broadcast_shapes, broadcast_strides, ArrayMut, ArrayRef, BatchOffsets, Dims, Strides};
use crate::gemm::{gemm, gemm_seq, tiny_square_run, worth_splitting, Mat};
use crate::threads::Par;
use crate::gemv;

/// Matrix-vector products with at least this many matrix elements go to [`gemv::row_product`].
const MATVEC_MIN: usize = 1 << 14;

/// A stack of products whose results add up to at least [`STREAM_MIN_BYTES`], each of at most
/// [`STREAM_MAX_PRODUCT_BYTES`], writes them with non-temporal stores (where the small-product
/// kernel runs: `small_gemm::with_streaming_stores`). Measured, interleaved against ordinary
/// stores (session 21, two threads): f32 20000x16²: 0.72 of the time, f64 10000x16²: 0.81, f32
/// 10000x32²: 0.87, f64 20000x24²: 0.94, f64 10000x32²: 0.98-0.99; but f64 8000x48²: 1.04 and
/// 5000x64²: 1.09, hence the bound on each product.
const STREAM_MIN_BYTES: usize = 16 << 20;
const STREAM_MAX_PRODUCT_BYTES: usize = 8 << 10;

/// A matrix's shape and strides (in elements) inside a batch; the batch position gives its start.
#[derive(Clone, Copy, Debug)]
struct MatLayout {
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

impl MatLayout {
    fn at<T>(self, ptr: *mut T) -> Mat<T> {
        Mat { ptr, rows: self.rows, cols: self.cols, rs: self.rs, cs: self.cs }
    }
}

/// The shape of a matmul problem after NumPy's rules are applied.
#[derive(Clone, Debug)]
pub struct MatmulShape {
    /// The result's shape as NumPy returns it (the axes added for 1-D operands removed).
    pub out_shape: Dims,
    batch: Dims,
    m: usize,
    n: usize,
    k: usize,
    a_promoted: bool,
    b_promoted: bool,
}

impl MatmulShape {
    /// Multiply-adds of the whole product, for scheduling decisions.
    pub fn work(&self) -> usize {
        self.batch.iter().product::<usize>().saturating_mul(self.m).saturating_mul(self.n).saturating_mul(self.k)
    }
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
) -> (Strides, MatLayout) {
    if promoted {
        let layout = if as_row {
            MatLayout { rows: 1, cols: shape[0], rs: 0, cs: strides[0] }
        } else {
            MatLayout { rows: shape[0], cols: 1, rs: strides[0], cs: 0 }
        };
        return (smallvec::smallvec![0; batch.len()], layout);
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
        return Err(Error::OutShape { expected: shape.out_shape.to_vec(), got: out.shape().to_vec() });
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
    let c_bs = Strides::from_slice(&os[..nb]);
    let c_mat = MatLayout {
        rows: m,
        cols: n,
        rs: if a_promoted { 0 } else { os[nb] },
        cs: if b_promoted { 0 } else { os[os.len() - 1] },
    };
    let nbatch: usize = batch.iter().product();
    let work = m * n * k;
    // the operands' starts, as `Mat`s (which may cross into worker threads)
    let (a0, b0, c0) = (a_mat.at(a.ptr() as *mut T), b_mat.at(b.ptr() as *mut T), c_mat.at(out.ptr()));

    // Runs the products at batch positions start..start + count. SAFETY: the offsets come from
    // the operands' own shapes and strides, so every element a product touches lies inside a view
    // its creator vouched for; each batch position writes a distinct matrix of `out`.
    let run_range = |start: usize, count: usize, par: Par| {
        if m == n && n == k && (1..=4).contains(&n) {
            // tiny squares (2-D / 3-D transforms): one loop without the per-product call chain
            let offsets = BatchOffsets::new(&batch, [&a_bs, &b_bs, &c_bs], start, count);
            unsafe { tiny_square_run(c0, a0, b0, offsets) };
            return;
        }
        let mut scratch = Vec::new();
        // matrix-vector products with a matrix of at least MATVEC_MIN elements: gemv's streams
        // over the matrix, split across the threads (faer's product read a 4096x1024 f32 matrix
        // at ~33 GB/s on a Zen 3 core, OpenBLAS at ~43)
        let matvec = (m == 1 || n == 1) && k * m.max(n) >= MATVEC_MIN;
        if matvec {
            scratch.resize(gemv::scratch_len(k, m.max(n)), T::ZERO);
        }
        for [ao, bo, co] in BatchOffsets::new(&batch, [&a_bs, &b_bs, &c_bs], start, count) {
            unsafe {
                let c = c0.offset(co);
                let a = a0.offset(ao);
                let b = b0.offset(bo);
                if matvec {
                    // as a row times a matrix: x @ b, or (a @ x)^T = x^T a^T
                    let (x, xs, w, ds) = if m == 1 { (a.ptr, a.cs, b, c.cs) } else { (b.ptr, b.rs, a.t(), c.rs) };
                    gemv::row_product(c.ptr, ds, x, xs, w, par, scratch.as_mut_ptr(), |_, _| {});
                } else if par.is_parallel() {
                    gemm(c, a, b, par);
                } else {
                    gemm_seq(c, a, b, &mut scratch);
                }
            }
        }
    };

    if nbatch >= 2 * par.num_threads() {
        // batch-parallel: contiguous ranges of the batch, each run sequentially; a result far
        // larger than the caches is written past them (small_gemm::with_streaming_stores)
        let product_bytes = m * n * core::mem::size_of::<T>();
        let stream = nbatch * product_bytes >= STREAM_MIN_BYTES && product_bytes <= STREAM_MAX_PRODUCT_BYTES;
        par.for_batch(nbatch, work, &|start, count| {
            crate::small_gemm::with_streaming_stores(stream, || run_range(start, count, Par::SEQ))
        });
    } else {
        // a few products: each one split across the threads if it is large enough
        run_range(0, nbatch, par.when(worth_splitting::<T>(m, n, k)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{data, naive_matmul as naive};
    use crate::strided::c_strides;
    use crate::threads;



    #[test]
    fn shapes_follow_numpy() {
        assert_eq!(matmul_shape(&[3], &[3]).unwrap().out_shape.as_slice(), &[] as &[usize]);
        assert_eq!(matmul_shape(&[2, 3], &[3]).unwrap().out_shape.as_slice(), &[2]);
        assert_eq!(matmul_shape(&[3], &[5, 3, 4]).unwrap().out_shape.as_slice(), &[5, 4]);
        assert_eq!(matmul_shape(&[7, 1, 2, 3], &[5, 3, 4]).unwrap().out_shape.as_slice(), &[7, 5, 2, 4]);
        let e = matmul_shape(&[2, 3], &[4, 5]).unwrap_err().to_string();
        assert!(e.contains("(2, 3)") && e.contains("(4, 5)"), "{e}");
        assert!(matmul_shape(&[2, 2, 3], &[3, 3, 4]).is_err());
        assert!(matmul_shape(&[], &[3]).is_err());
    }

    #[test]
    fn batched_products_match_naive_for_all_sizes_and_thread_counts() {
        threads::set_num_threads(2);
        let pool = threads::current();
        let sizes = [(1, 1, 1, 1), (20, 2, 2, 2), (20, 3, 3, 3), (3, 2, 3, 4), (50, 4, 4, 4), (9, 1, 37, 1), (7, 17, 33, 9), (4, 70, 65, 80), (1, 130, 140, 150)];
        for &(nb, m, k, n) in &sizes {
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

    /// A stack large enough for non-temporal stores gives the bits of the same products in a
    /// stack too small for them, into an aligned result and into one offset by an element
    /// (where whole vectors are not aligned and ordinary stores take over).
    #[test]
    fn streamed_results_equal_cached_ones() {
        threads::set_num_threads(2);
        let pool = threads::current();
        for &(m, k, n) in &[(16usize, 16usize, 16usize), (32, 32, 32), (13, 8, 21)] {
            let nb = (STREAM_MIN_BYTES / (m * n * 8)) + 3;
            let a = data(nb * m * k, 5);
            let b = data(nb * k * n, 6);
            let av = ArrayRef::from_slice(&a, &[nb, m, k]);
            let bv = ArrayRef::from_slice(&b, &[nb, k, n]);
            let mut small = vec![0.0; 4 * m * n];
            let (a4, b4) = (ArrayRef::from_slice(&a[..4 * m * k], &[4, m, k]), ArrayRef::from_slice(&b[..4 * k * n], &[4, k, n]));
            matmul(&a4, &b4, &mut ArrayMut::from_slice(&mut small, &[4, m, n]), pool.par()).unwrap();
            for offset in [0, 1] {
                // a 64-byte aligned buffer (then `offset` elements in)
                let mut buf = vec![0.0f64; nb * m * n + 16];
                let skip = (buf.as_ptr() as usize).wrapping_neg() % 64 / 8 + offset;
                let c = &mut buf[skip..skip + nb * m * n];
                matmul(&av, &bv, &mut ArrayMut::from_slice(c, &[nb, m, n]), pool.par()).unwrap();
                assert_eq!(&c[..4 * m * n], &small[..], "{m}x{k}x{n} offset {offset}");
                let t = nb - 1;
                let want = naive(&a[t * m * k..][..m * k], &b[t * k * n..][..k * n], m, k, n);
                for (x, y) in c[t * m * n..].iter().zip(&want) {
                    assert!((x - y).abs() <= 1e-12 * k as f64, "{m}x{k}x{n}: {x} vs {y}");
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
        // SAFETY: starting at the last row of each matrix and stepping back stays inside `a`.
        let a_rev = unsafe {
            ArrayRef::from_raw(a.as_ptr().offset((m as isize - 1) * s[1]), &[2, m, k], &[s[0], -s[1], s[2]])
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

    /// Stacks of tiny squares (n = 1..4, the batch loop of `tiny_square_run`): one batch axis and
    /// two, a broadcast operand, transposed (column-major) matrices, reversed rows and a
    /// column-major result; each product bit for bit what `gemm_seq` gives for it alone (the
    /// naive reference within rounding).
    #[test]
    fn tiny_square_stacks_every_layout() {
        for n in 1..=4usize {
            let nb = 6;
            let a = data(nb * n * n, 7);
            let b = data(nb * n * n, 8);
            let nn = (n * n) as isize;
            let (ni, one) = (n as isize, 1isize);
            // (a strides, b strides, c strides) over [2, 3, n, n]; a broadcast over the first axis
            let cases: [([isize; 4], [isize; 4], [isize; 4]); 4] = [
                ([3 * nn, nn, ni, one], [3 * nn, nn, ni, one], [3 * nn, nn, ni, one]),
                ([0, nn, one, ni], [3 * nn, nn, ni, one], [3 * nn, nn, one, ni]),
                ([3 * nn, nn, -ni, one], [3 * nn, nn, one, ni], [nn, 2 * nn, ni, one]),
                ([3 * nn, nn, ni, one], [0, 0, ni, one], [3 * nn, nn, ni, one]),
            ];
            for (ci, (sa, sb, sc)) in cases.iter().enumerate() {
                // reversed rows start at the last row of each matrix
                let a0 = if sa[2] < 0 { (n as isize - 1) * ni } else { 0 };
                // SAFETY: every layout above addresses elements of its buffer only.
                let av = unsafe { ArrayRef::from_raw(a.as_ptr().offset(a0), &[2, 3, n, n], sa) };
                let bv = unsafe { ArrayRef::from_raw(b.as_ptr(), &[2, 3, n, n], sb) };
                let mut c = vec![f64::NAN; nb * n * n];
                let mut cv = unsafe { ArrayMut::from_raw(c.as_mut_ptr(), &[2, 3, n, n], sc) };
                matmul(&av, &bv, &mut cv, Par::SEQ).unwrap();
                for t0 in 0..2isize {
                    for t1 in 0..3isize {
                        let at = |i: usize, p: usize| a[(a0 + t0 * sa[0] + t1 * sa[1] + i as isize * sa[2] + p as isize * sa[3]) as usize];
                        let bt = |p: usize, j: usize| b[(t0 * sb[0] + t1 * sb[1] + p as isize * sb[2] + j as isize * sb[3]) as usize];
                        let (ar, br): (Vec<f64>, Vec<f64>) = ((0..n * n).map(|x| at(x / n, x % n)).collect(), (0..n * n).map(|x| bt(x / n, x % n)).collect());
                        let mut one_c = vec![0.0; n * n];
                        let m = |v: &[f64]| Mat { ptr: v.as_ptr() as *mut f64, rows: n, cols: n, rs: n as isize, cs: 1 };
                        unsafe { gemm_seq(m(&one_c), m(&ar), m(&br), &mut Vec::new()) };
                        let want = naive(&ar, &br, n, n, n);
                        for i in 0..n {
                            for j in 0..n {
                                let got = c[(t0 * sc[0] + t1 * sc[1] + i as isize * sc[2] + j as isize * sc[3]) as usize];
                                assert_eq!(got.to_bits(), one_c[i * n + j].to_bits(), "n={n} case {ci} ({t0}, {t1}) ({i}, {j})");
                                assert!((got - want[i * n + j]).abs() <= 1e-14, "n={n} case {ci}");
                            }
                        }
                        one_c.clear();
                    }
                }
            }
            // one batch axis (BatchOffsets' one-axis step), the result column-major: the same bits
            // as the two-axis run of case 0
            let mut c1 = vec![f64::NAN; nb * n * n];
            let mut c2 = vec![f64::NAN; nb * n * n];
            let (a3, b3) = (ArrayRef::from_slice(&a, &[nb, n, n]), ArrayRef::from_slice(&b, &[nb, n, n]));
            let mut cv1 = unsafe { ArrayMut::from_raw(c1.as_mut_ptr(), &[nb, n, n], &[nn, one, ni]) };
            matmul(&a3, &b3, &mut cv1, Par::SEQ).unwrap();
            let (a4, b4) = (ArrayRef::from_slice(&a, &[2, 3, n, n]), ArrayRef::from_slice(&b, &[2, 3, n, n]));
            let mut cv2 = unsafe { ArrayMut::from_raw(c2.as_mut_ptr(), &[2, 3, n, n], &[3 * nn, nn, one, ni]) };
            matmul(&a4, &b4, &mut cv2, Par::SEQ).unwrap();
            assert!(c1.iter().zip(&c2).all(|(x, y)| x.to_bits() == y.to_bits()), "n={n}: one batch axis differs");
        }
    }

    /// A row-major (`c`) or column-major (`f`) view of `data` as a `rows x cols` matrix.
    fn layout(data: &[f64], rows: usize, cols: usize, f: bool) -> ArrayRef<'_, f64> {
        let strides = if f { vec![1, rows as isize] } else { vec![cols as isize, 1] };
        // SAFETY: either layout addresses exactly the rows * cols elements of `data`.
        unsafe { ArrayRef::from_raw(data.as_ptr(), &[rows, cols], &strides) }
    }

    #[test]
    fn every_layout_combination_packed_and_split() {
        threads::set_num_threads(2);
        let pool = threads::current();
        for &(m, k, n) in &[(33, 47, 29), (130, 70, 90), (1, 300, 260), (260, 300, 1)] {
            let a = data(m * k, 5);
            let b = data(k * n, 6);
            for mask in 0..8 {
                let (af, bf, cf) = (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0);
                // the same logical matrices in each layout: element (i, j) at its layout's place
                let store = |src: &[f64], r: usize, cl: usize, f: bool| -> Vec<f64> {
                    if f { (0..r * cl).map(|x| src[(x % r) * cl + x / r]).collect() } else { src.to_vec() }
                };
                let (ad, bd) = (store(&a, m, k, af), store(&b, k, n, bf));
                let mut c = vec![f64::NAN; m * n];
                let cs = if cf { vec![1, m as isize] } else { vec![n as isize, 1] };
                // SAFETY: either layout addresses each of the m * n elements of `c` once.
                let mut cv = unsafe { ArrayMut::from_raw(c.as_mut_ptr(), &[m, n], &cs) };
                for par in [Par::SEQ, pool.par()] {
                    matmul(&layout(&ad, m, k, af), &layout(&bd, k, n, bf), &mut cv, par).unwrap();
                    let got = store(&c, m, n, cf); // back to row-major order for comparison
                    let got: Vec<f64> = if cf { (0..m * n).map(|x| c[(x % n) * m + x / n]).collect() } else { got };
                    let want = naive(&a, &b, m, k, n);
                    for (x, y) in got.iter().zip(&want) {
                        assert!((x - y).abs() <= 1e-12 * k as f64, "{m}x{k}x{n} layouts {mask}: {x} vs {y}");
                    }
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
