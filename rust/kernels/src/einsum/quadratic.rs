//! Quadratic forms: `s[r] = x_r^T W x_r` for every row `x_r` of `X`, when an expression reads the
//! same operand on both sides of a matrix (`bi,ij,bj->b`, `...i,ij,...j->...`).
//!
//! The pairwise path computes `X W` (`2 rows n^2` flops) and then a row-wise dot product. But
//! the sum is unchanged when `W` is replaced by its symmetric part `S = (W + W^T) / 2` (swapping
//! the names of the two summed indices), and with `S` half of the products are redundant:
//! `x^T S x = sum_I x_I^T S_II x_I + 2 sum_{J<I} x_J^T S_JI x_I` over blocks of [`QB`] indices.
//! So `U = X B`, with `B` the block upper triangle of `S` (its diagonal blocks halved), and
//! `s[r] = 2 U_r . x_r`: for n = 300 in blocks of 32, 55% of the pairwise path's flops (60% in
//! blocks of 64, as in session 5), all of it in products of depth up to 64 (our register-blocked
//! kernel), rows in fixed chunks of 64 in parallel.
//!
//! Measured (session 6, on a machine busy with two builds, so only the ratio to the pairwise path
//! in the same run counts): blocks of 32 at 0.68-0.69 of the pairwise time against 0.70-0.73 for
//! blocks of 64. Tried and dropped: one product per block column over its whole depth (up to 300,
//! so `C` is loaded and stored once): 0.87-0.90, since the kernel's panel of `B` no longer stays in
//! L1 across the chunk's rows.
//! (NumPy's `matmul` exploits operand identity the same way: `a @ a.T` runs as a `syrk`.)
//!
//! The operand identity is decided on the arrays themselves: the same data, shape and strides.

use super::exec::dot8;
use super::parse::Label;
use super::plan::Plan;
use crate::gemm::{gemm_seq_with, Mat};
use crate::scalar::Real;
use crate::strided::{ArrayRef, SendPtr};
use crate::threads::Par;

/// Width of the blocks of `S`'s triangle: narrower blocks mean fewer flops (the triangle's
/// `n (n + QB) / 2` per row) but shorter kernel columns; at 32 the kernel still runs its widest
/// tile (4 vectors of rows) on the transposed products of a row-major `X`.
const QB: usize = 32;

/// Depth of each block product: the register-blocked kernel's largest order, so every product
/// runs on it, and the panel of `B` it reads (`QB x KC`) stays in L1 across the chunk's rows.
const KC: usize = crate::small_gemm::SMALL_MAX;

/// Rows of `X` per task: fixed, so that the result does not depend on the thread count.
const ROWS: usize = crate::small_gemm::SMALL_MAX;

/// Fewer rows than this go the pairwise way: `B` (`n^2` elements, ~1 ns each) costs about what
/// the triangle saves on 50 rows.
const MIN_ROWS: usize = 2 * ROWS;

/// A quadratic form found in a plan: which operands play which part.
pub(super) struct Form {
    /// the operand read twice
    pub x: usize,
    /// the matrix between
    pub w: usize,
    /// the axis of `x` summed against `W`
    pub axis: usize,
    /// `x`'s other axes, the output's labels (outermost first: decreasing |stride|)
    pub batch: Vec<(Label, usize)>,
    /// the number of forms: the product of the batch axes' lengths
    pub rows: usize,
}

/// The form `plan` computes on `ops`, if it is one this module handles: three operands, two of
/// them the same array read with the same labels but for one (`i` and `j`, summed), the third a
/// matrix with the labels `i` and `j`, and the output exactly the other labels of `x`, which must
/// merge into one row stride. Small orders (a single block) are left to the pairwise path.
pub(super) fn detect<T>(plan: &Plan, ops: &[ArrayRef<T>]) -> Option<Form> {
    if plan.parsed.inputs.len() != 3 {
        return None;
    }
    let same = |p: usize, q: usize| {
        ops[p].ptr() == ops[q].ptr() && ops[p].shape() == ops[q].shape() && ops[p].strides() == ops[q].strides()
    };
    [(0, 1, 2), (0, 2, 1), (1, 2, 0)].into_iter().filter(|&(p, q, _)| same(p, q)).find_map(|(p, q, w)| form(plan, ops, p, q, w))
}

/// [`detect`] for `x` read as operands `p` and `q`, and `W` as operand `w`.
fn form<T>(plan: &Plan, ops: &[ArrayRef<T>], p: usize, q: usize, w: usize) -> Option<Form> {
    let inputs = &plan.parsed.inputs;
    let (lp, lq, lw) = (&inputs[p], &inputs[q], &inputs[w]);
    let distinct = |l: &[Label]| l.iter().enumerate().all(|(k, a)| !l[..k].contains(a));
    if lp.len() != lq.len() || !distinct(lp) || !distinct(lq) || lw.len() != 2 || lw[0] == lw[1] {
        return None;
    }
    let mut differ = (0..lp.len()).filter(|&t| lp[t] != lq[t]);
    let axis = differ.next()?;
    if differ.next().is_some() {
        return None;
    }
    let (i, j) = (lp[axis], lq[axis]);
    // W's labels (i, j) or (j, i): x^T W^T x is the same number
    if !(lw.contains(&i) && lw.contains(&j)) {
        return None;
    }
    let n = plan.parsed.sizes[i as usize];
    if n <= crate::small_gemm::SMALL_MAX || plan.parsed.sizes[j as usize] != n || plan.memory_limit.is_some_and(|m| n * n > m) {
        return None;
    }
    // the output: exactly x's other labels
    let out = &plan.parsed.output;
    if out.len() + 1 != lp.len() || !lp.iter().enumerate().all(|(t, l)| t == axis || out.contains(l)) {
        return None;
    }
    let (shape, strides) = (ops[p].shape(), ops[p].strides());
    let mut batch: Vec<(Label, usize)> = (0..lp.len()).filter(|&t| t != axis && shape[t] > 1).map(|t| (lp[t], t)).collect();
    batch.sort_by_key(|&(_, t)| core::cmp::Reverse(strides[t].unsigned_abs()));
    let mergeable = batch.windows(2).all(|w| strides[w[0].1] == strides[w[1].1] * shape[w[1].1] as isize);
    let rows: usize = batch.iter().map(|&(_, t)| shape[t]).product();
    if rows < MIN_ROWS {
        return None;
    }
    mergeable.then_some(Form { x: p, w, axis, batch, rows })
}

/// `s[r] = x_r^T W x_r` for the `rows x n` matrix `x` and the `n x n` matrix `w` (any strides).
///
/// `U` and `B` take `X`'s orientation, so that every block product reads `X` where it is
/// (row-major `X`: the products run transposed, `U^T = B^T X^T`); only an `X` with neither unit
/// stride is copied, a chunk at a time.
///
/// # Safety
/// `x` and `w` address valid elements; `s` has `x.rows` elements.
pub(super) unsafe fn forms<T: Real>(x: Mat<T>, w: Mat<T>, s: &mut [T], par: Par) {
    let (rows, n) = (x.rows, x.cols);
    debug_assert!(w.rows == n && w.cols == n && s.len() == rows);
    let by_rows = x.cs == 1 && x.rs != 1;
    // element (r, c) of an n-column matrix (U, B) in the chosen orientation
    let (rstride, cstride) = if by_rows { (n as isize, 1isize) } else { (1, n as isize) };
    // B: block column I holds S[0..end_I, I], its diagonal block halved; halves summed (not the
    // sum halved) so that no entry overflows where W's do not
    let nblocks = n.div_ceil(QB);
    let mut b: Vec<T> = vec![T::ZERO; n * n];
    let bp = SendPtr(b.as_mut_ptr());
    par.for_each(nblocks, &|bi| {
        let c0 = bi * QB;
        symmetric_block_column(w, bp.get(), rstride, cstride, c0, (c0 + QB).min(n));
    });
    // U = X B and the row sums, a chunk of rows per task
    let two = T::from_f64(2.0);
    let (sp, xp) = (SendPtr(s.as_mut_ptr()), SendPtr(x.ptr));
    par.for_each(rows.div_ceil(ROWS), &|task| {
        let r0 = task * ROWS;
        let nr = ROWS.min(rows - r0);
        // this chunk of X: where it is when one of its strides is 1, else a column-major copy
        let copied = x.rs != 1 && x.cs != 1;
        let mut buf: Vec<T> = vec![T::ZERO; nr * n * (1 + usize::from(copied))];
        let (u, copy) = buf.split_at_mut(nr * n);
        let xc = if copied {
            for i in 0..n {
                for r in 0..nr {
                    copy[i * nr + r] = *xp.get().offset((r0 + r) as isize * x.rs + i as isize * x.cs);
                }
            }
            Mat { ptr: copy.as_mut_ptr(), rows: nr, cols: n, rs: 1, cs: nr as isize }
        } else {
            Mat { ptr: xp.get().offset(r0 as isize * x.rs), rows: nr, ..x }
        };
        // U = X B, block column by block column: U[:, I] = X[:, ..end_I] B[..end_I, I], summed
        // over depths of KC
        let (urs, ucs) = if by_rows { (n as isize, 1) } else { (1, nr as isize) };
        let mut scratch = Vec::new();
        for bi in 0..nblocks {
            let c0 = bi * QB;
            let c1 = (c0 + QB).min(n);
            let c = Mat { ptr: u.as_mut_ptr().offset(c0 as isize * ucs), rows: nr, cols: c1 - c0, rs: urs, cs: ucs };
            for k0 in (0..c1).step_by(KC) {
                let kw = KC.min(c1 - k0);
                let a = Mat { ptr: xc.ptr.offset(k0 as isize * xc.cs), rows: nr, cols: kw, rs: xc.rs, cs: xc.cs };
                let bm = Mat {
                    ptr: bp.get().offset(k0 as isize * rstride + c0 as isize * cstride),
                    rows: kw,
                    cols: c1 - c0,
                    rs: rstride,
                    cs: cstride,
                };
                gemm_seq_with(c, a, bm, k0 > 0, &mut scratch);
            }
        }
        // s = 2 rowsum(U * X), each row's terms in a fixed order (vectorized along U's and
        // X's unit strides: a dot product per row, or columns accumulated across rows)
        let mut acc = [T::ZERO; ROWS];
        let (up, xcp) = (u.as_ptr(), xc.ptr as *const T);
        if ucs == 1 && xc.cs == 1 {
            for (r, a) in acc[..nr].iter_mut().enumerate() {
                let ur = core::slice::from_raw_parts(up.offset(r as isize * urs), n);
                let xr = core::slice::from_raw_parts(xcp.offset(r as isize * xc.rs), n);
                *a = dot8(ur, Some(xr));
            }
        } else {
            for i in 0..n {
                for (r, a) in acc[..nr].iter_mut().enumerate() {
                    let (uv, xv) =
                        (*up.offset(r as isize * urs + i as isize * ucs), *xcp.offset(r as isize * xc.rs + i as isize * xc.cs));
                    *a = uv.mul_add(xv, *a);
                }
            }
        }
        for (r, &a) in acc[..nr].iter().enumerate() {
            *sp.get().add(r0 + r) = two * a;
        }
    });
}

/// Columns `c0..c1` of `B` (rows `0..c1`): `(W + W^T) / 2`, halved again in rows `c0..c1`.
/// A function of its own, with everything passed by value: inside the closure the captured
/// strides and pointers were reloaded from memory on every element (~3 ns each).
#[inline(never)]
unsafe fn symmetric_block_column<T: Real>(w: Mat<T>, b: *mut T, rstride: isize, cstride: isize, c0: usize, c1: usize) {
    let half = T::from_f64(0.5);
    let (wp, wrs, wcs) = (w.ptr as *const T, w.rs, w.cs);
    // in 8x8 tiles, so that both W[r, c] and W[c, r] are read in runs of 8
    for r0 in (0..c1).step_by(8) {
        let r1 = (r0 + 8).min(c1);
        for q0 in (c0..c1).step_by(8) {
            let q1 = (q0 + 8).min(c1);
            let mut tile = [[T::ZERO; 8]; 8]; // tile[c - q0][r - r0] = W[c, r] / 2
            for c in q0..q1 {
                for r in r0..r1 {
                    tile[c - q0][r - r0] = *wp.offset(c as isize * wrs + r as isize * wcs) * half;
                }
            }
            for r in r0..r1 {
                let scale = if r >= c0 { half } else { T::ONE };
                for c in q0..q1 {
                    let v = *wp.offset(r as isize * wrs + c as isize * wcs) * half + tile[c - q0][r - r0];
                    *b.offset(r as isize * rstride + c as isize * cstride) = v * scale;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::{plan, Optimize};
    use super::*;
    use crate::testing::data;

    /// The quadratic-form path against the pairwise one on `bi,ij,bj->b` (512x300, 300x300),
    /// interleaved, medians of 300 (run with `--ignored --nocapture`). Session 5: ~800 us against
    /// ~1000 us on two threads (a noisy day: both ~30% slower than the session before).
    #[test]
    #[ignore]
    fn quadratic_forms_timing() {
        let (b, n) = (512usize, 300usize);
        let (x, w) = (data(b * n, 1), data(n * n, 2));
        let x2 = x.clone();
        let p = plan("bi,ij,bj->b", &[&[b, n], &[n, n], &[b, n]], &Optimize::Greedy, None).unwrap();
        let same = [ArrayRef::from_slice(&x, &[b, n]), ArrayRef::from_slice(&w, &[n, n]), ArrayRef::from_slice(&x, &[b, n])];
        let copy = [ArrayRef::from_slice(&x, &[b, n]), ArrayRef::from_slice(&w, &[n, n]), ArrayRef::from_slice(&x2, &[b, n])];
        assert!(detect(&p, &same).is_some() && detect(&p, &copy).is_none());
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let (mut out, mut t) = (vec![0.0; b], [Vec::new(), Vec::new()]);
        for _ in 0..300 {
            for (k, ops) in [&same, &copy].into_iter().enumerate() {
                let c = std::time::Instant::now();
                let mut ov = crate::strided::ArrayMut::from_slice(&mut out, &[b]);
                super::super::exec::execute(&p, ops, &mut ov, pool.par()).unwrap();
                t[k].push(c.elapsed().as_secs_f64());
            }
        }
        for v in t.iter_mut() {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        }
        println!("median: quadratic forms {:.0} us, pairwise {:.0} us", t[0][150] * 1e6, t[1][150] * 1e6);
    }
}
