//! Blocked application of Householder reflectors from the left, `C := H_0 H_1 ... H_{k-1} C`
//! (LAPACK's `dlarft` + `dlarfb`: forward, columnwise, no transpose), the back-transformation
//! under `dormtr` ([`crate::sytrd_blocked::apply_q`]) and `dormbr` (`gebrd.rs`'s
//! `apply_q_bidiag` and `apply_p_bidiag`).
//!
//! The reflectors go in blocks of `qb`, last block first. A block's reflectors are packed into
//! `V` (unit diagonal, zeros above it) and `dlarft`'s recurrence gives the upper triangular `T`
//! with `H_{i0} ... H_{i1-1} = I - V T V^T`; then `C -= V (T (V^T C))` by three GEMMs.
//!
//! Two phases, one [`Par::for_each`] each:
//! 1. every block's `V` and `T`, one task per block (they are independent);
//! 2. one task per fixed block of `zb` columns of `C`, which runs all the reflector blocks on its
//!    columns, last first. A column of `C` depends on no other column, so the tasks need no
//!    barrier between reflector blocks (one fork-join in all, where a parallel update per
//!    reflector block needs one each), and a task's columns stay in its core's caches from one
//!    reflector block to the next.
//!
//! Every element is computed by the same operations in the same order whoever runs its task, so
//! any thread count gives the same bits. The blocks (`qb`, `zb`) and the way `T` is built
//! ([`TFactor`]) are the caller's: a caller that must keep its results bit for bit keeps its own.

use crate::gemm::{copy_tiled, gemm_seq_with, Mat};
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::sytrd;
use crate::threads::Par;
use faer::MatMut;

/// `k` reflectors acting on `rows` rows: reflector `c` is `H_c = I - tau[c] v v^T` with
/// `v[..c] = 0`, `v[c] = 1` and, for `c < r < rows`, `v[r] = a[off + r * rs + c * cs]`. The
/// whole rectangle (`r < rows`, `c < k`) must lie in `a`: it is copied in tiles, and the
/// entries at and above each unit are then overwritten in the copy.
pub(crate) struct Reflectors<'a, T> {
    pub a: &'a [T],
    pub off: usize,
    pub rs: usize,
    pub cs: usize,
    pub rows: usize,
    pub k: usize,
    pub tau: &'a [T],
}

/// How [`apply_left`] builds a block's `T`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TFactor {
    /// `dlarft`'s dot products `V^T v_c`, one column at a time: the bits `sytrd_blocked`'s
    /// back-transformation has always had.
    Dots,
    /// `V^T V` by one GEMM first (twice the dot products' flops, at GEMM speed). The phase that
    /// packs `V` and builds `T` for gebrd's n x n `Q` with blocks of 32, f64, one thread, best
    /// wall ms, n = 256 / 512 / 1024: 0.20 / 0.63 / 2.4, against 0.5-0.6 / 1.45-2.2 / 5.4 with
    /// the dot products (these, or four per pass under AVX2: tried, only faster from 512, dropped).
    Gemm,
}

/// `C := H_0 H_1 ... H_{k-1} C` for `C` (`h.rows x ncols`, unit row stride), in blocks of `qb`
/// reflectors and tasks of `zb` columns (see the module doc).
pub(crate) fn apply_left<T: Real>(h: &Reflectors<'_, T>, c: MatMut<'_, T>, qb: usize, zb: usize, tf: TFactor, par: Par) {
    let (rows, k, ncols) = (h.rows, h.k, c.ncols());
    assert!(c.nrows() == rows && (c.row_stride() == 1 || rows <= 1) && k <= rows && qb >= 1 && zb >= 1);
    assert!(h.tau.len() >= k);
    // every block's rectangle of `a` is copied whole (the part above its diagonal is not used)
    assert!(k == 0 || h.off + (rows - 1) * h.rs + (k - 1) * h.cs < h.a.len());
    if k == 0 || ncols == 0 {
        return;
    }
    let nblocks = k.div_ceil(qb);
    // block b: reflectors b qb..b qb + nb on rows b qb..rows; its V (rows - b qb) x nb at
    // vstart[b], its T (nb x nb, leading dimension qb) at b qb^2
    let mut vstart = vec![0; nblocks + 1];
    for b in 0..nblocks {
        vstart[b + 1] = vstart[b] + (rows - b * qb) * qb.min(k - b * qb);
    }
    let mut vb = vec![T::ZERO; vstart[nblocks]];
    let mut tb = vec![T::ZERO; nblocks * qb * qb];
    let (vp, tp) = (SendPtr(vb.as_mut_ptr()), SendPtr(tb.as_mut_ptr()));
    par.for_each(nblocks, &|b| {
        let i0 = b * qb;
        let nb = qb.min(k - i0);
        let brows = rows - i0;
        // SAFETY: block b's V and T are written by this task only, and lie inside vb and tb.
        let (v, t) = unsafe {
            (
                core::slice::from_raw_parts_mut(vp.get().add(vstart[b]), brows * nb),
                core::slice::from_raw_parts_mut(tp.get().add(b * qb * qb), qb * qb),
            )
        };
        // the rectangle, tiled (the rows of `a` that hold gebrd's right reflectors are strided),
        // then the unit diagonal and the zeros above it
        // SAFETY: the source rectangle lies inside `a` (asserted above), `v` is this task's own.
        unsafe {
            let src = Mat { ptr: h.a.as_ptr().add(h.off + i0 * (h.rs + h.cs)) as *mut T, rows: brows, cols: nb, rs: h.rs as isize, cs: h.cs as isize };
            copy_tiled(src, Mat { ptr: v.as_mut_ptr(), rows: brows, cols: nb, rs: 1, cs: brows as isize });
        }
        for cc in 0..nb {
            v[cc * brows..cc * brows + cc].fill(T::ZERO);
            v[cc * brows + cc] = T::ONE;
        }
        let tau = &h.tau[i0..i0 + nb];
        match tf {
            TFactor::Dots => larft(v, brows, nb, tau, t, qb),
            TFactor::Gemm => larft_gemm(v, brows, nb, tau, t, qb),
        }
    });
    let ntask = ncols.div_ceil(zb);
    let (cp, ccs) = (SendPtr(c.as_ptr_mut()), c.col_stride());
    let (vb, tb) = (&vb[..], &tb[..]);
    par.for_each(ntask, &|task| {
        let c0 = task * zb;
        let w = zb.min(ncols - c0);
        let mut w0 = vec![T::ZERO; qb.min(k) * w];
        let mut w1 = vec![T::ZERO; qb.min(k) * w];
        let mut scratch = Vec::new();
        for b in (0..nblocks).rev() {
            let i0 = b * qb;
            let nb = qb.min(k - i0);
            let brows = rows - i0;
            let (vbp, tbp) = (vb[vstart[b]..].as_ptr() as *mut T, tb[b * qb * qb..].as_ptr() as *mut T);
            // SAFETY: this task reads and writes rows i0..rows of columns c0..c0 + w of C only
            // (disjoint between tasks); V and T are only read; w0, w1 are the task's own.
            unsafe {
                let cm = Mat { ptr: cp.get().offset(c0 as isize * ccs + i0 as isize), rows: brows, cols: w, rs: 1, cs: ccs };
                let vm = Mat { ptr: vbp, rows: brows, cols: nb, rs: 1, cs: brows as isize };
                let vt = Mat { ptr: vbp, rows: nb, cols: brows, rs: brows as isize, cs: 1 };
                let w0m = Mat { ptr: w0.as_mut_ptr(), rows: nb, cols: w, rs: 1, cs: nb as isize };
                gemm_seq_with(w0m, vt, cm, false, &mut scratch);
                let tm = Mat { ptr: tbp, rows: nb, cols: nb, rs: 1, cs: qb as isize };
                let w1m = Mat { ptr: w1.as_mut_ptr(), rows: nb, cols: w, rs: 1, cs: nb as isize };
                gemm_seq_with(w1m, tm, w0m, false, &mut scratch);
                for x in w1[..nb * w].iter_mut() {
                    *x = T::ZERO - *x;
                }
                gemm_seq_with(cm, vm, w1m, true, &mut scratch);
            }
        }
    });
}

/// `dlarft` (forward, columnwise): the upper triangular `T` (`nb x nb`, column-major, leading
/// dimension `ldt`) with `H_0 ... H_{nb-1} = I - V T V^T` for the `rows x nb` packed `V`
/// (unit diagonal, zeros above), `T(0:c, c) = -tau_c T(0:c, 0:c) V(:, 0:c)^T v_c`.
fn larft<T: Real>(v: &[T], rows: usize, nb: usize, tau: &[T], t: &mut [T], ldt: usize) {
    // (v_c is zero above row c: the dot products start there)
    t_recurrence(nb, tau, t, ldt, |r, c| sytrd::dot(&v[r * rows + c..(r + 1) * rows], &v[c * rows + c..(c + 1) * rows]));
}

/// [`larft`] with `S = V^T V` from one GEMM.
fn larft_gemm<T: Real>(v: &[T], rows: usize, nb: usize, tau: &[T], t: &mut [T], ldt: usize) {
    let mut s = vec![T::ZERO; nb * nb];
    // SAFETY: `v` is rows x nb and only read, `s` is nb x nb and distinct from it.
    unsafe {
        let vp = v.as_ptr() as *mut T;
        let sm = Mat { ptr: s.as_mut_ptr(), rows: nb, cols: nb, rs: 1, cs: nb as isize };
        let vt = Mat { ptr: vp, rows: nb, cols: rows, rs: rows as isize, cs: 1 };
        let vm = Mat { ptr: vp, rows, cols: nb, rs: 1, cs: rows as isize };
        gemm_seq_with(sm, vt, vm, false, &mut Vec::new());
    }
    t_recurrence(nb, tau, t, ldt, |r, c| s[c * nb + r]);
}

/// `dlarft`'s recurrence given `vtv(r, c) = v_r . v_c` for `r < c`.
#[inline(always)]
fn t_recurrence<T: Real>(nb: usize, tau: &[T], t: &mut [T], ldt: usize, vtv: impl Fn(usize, usize) -> T) {
    let mut tmp = vec![T::ZERO; nb];
    for c in 0..nb {
        let tc = tau[c];
        for x in t[c * ldt..c * ldt + nb].iter_mut() {
            *x = T::ZERO;
        }
        t[c * ldt + c] = tc;
        if tc == T::ZERO {
            continue;
        }
        for (r, x) in tmp[..c].iter_mut().enumerate() {
            *x = T::ZERO - tc * vtv(r, c);
        }
        for r in 0..c {
            let mut acc = T::ZERO;
            for q in r..c {
                acc = t[q * ldt + r].mul_add(tmp[q], acc);
            }
            t[c * ldt + r] = acc;
        }
    }
}
