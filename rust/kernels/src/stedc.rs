//! Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by divide and conquer: LAPACK's
//! `dstedc` path for a tridiagonal (`dlaed0` with `icompq = 2`, merging by `dlaed1`-`dlaed3`):
//! Cuppen's splitting, the deflation of Dongarra and Sorensen, the secular equation solved by
//! `dlaed4` ([`crate::secular`]) and the eigenvectors of each rank-one update made orthogonal by
//! Gu and Eisenstat's recomputation of `z`.
//!
//! Why our own: `eigh` with vectors spends most of its time here for n >= 256, and faer's divide
//! and conquer (`tridiagonal_self_adjoint_evd`) took 14-17 ms at n = 512 and 73-82 ms at 1024 on
//! one core (session 8, `dc_threshold_timing`), where LAPACK's `dstevd` takes ~3 ms at 512. Its
//! merges multiply the whole `n x n` product with every column, deflated or not, run the
//! secular equation and the eigenvector formulas in scalar generic code, and permute through
//! scattered writes. This module follows LAPACK instead:
//! - deflated columns are copied, not multiplied;
//! - the non-deflated columns are grouped by which half of the rows they occupy (`dlaed2`'s
//!   column types), so each half's product skips the other half's zero block;
//! - the roots, the recomputed `z`, the eigenvector columns and the products run in FIXED
//!   pieces through [`Par::for_each`], so any thread count computes the same bits.
//!
//! The subproblems are the leaves of a balanced halving down to [`LEAF`] rows, solved by
//! implicit QL ([`crate::tql::tql2`]); merges then run level by level, the merges of one level in
//! parallel with each other.

use crate::gemm::{gemm_seq_with, Mat as GMat};
use crate::scalar::{copysign, hyp, Real};
use crate::secular::laed4;
use crate::strided::SendPtr;
use crate::threads::Par;
use crate::tql::tql2;
use std::sync::atomic::{AtomicBool, Ordering};

/// Subproblems of at most this many rows are solved by QL (LAPACK's `SMLSIZ` is 25). Leaves of
/// 12 to 48 rows timed the same within the noise (n = 128, 256, 512, one thread and the pool:
/// 0.54-0.60, 2.2-2.4 and 9.4-9.9 ms one thread); 64 was 5-15% slower.
pub(crate) const LEAF: usize = 32;

/// Pieces the roots and eigenvector columns of one merge are cut into (fixed: the bits must not
/// depend on the thread count; several per thread, as roots differ in cost).
const ROOT_PIECES: usize = 8;

/// Pieces of columns each half's product of one merge is cut into.
const GEMM_PIECES: usize = 4;

/// Eigenvalues (ascending, into `d`) and eigenvectors (column `j` of `q` belongs to `d[j]`) of the
/// symmetric tridiagonal matrix with diagonal `d` and sub-diagonal `e[0..n - 1]`
/// (`e[i] = T[i + 1, i]`). `q` is `n x n`, column-major with column stride `ldq >= n`; whatever it
/// held is overwritten. Returns false if a leaf's QL or a secular equation did not converge.
///
/// Works in absolute terms like `dlaed0` (its tolerances are `eps` times the largest entry):
/// the caller scales `T` to norm ~1 first, as `dstedc` does.
pub(crate) fn stedc<T: Real>(d: &mut [T], e: &[T], q: &mut [T], ldq: usize, par: Par) -> bool {
    let n = d.len();
    assert!(e.len() + 1 >= n && ldq >= n && (n == 0 || q.len() >= (n - 1) * ldq + n));
    if n == 0 {
        return true;
    }
    for j in 0..n {
        q[j * ldq..j * ldq + n].fill(T::ZERO);
    }
    let levels = halving_tree(d, e);
    let failed = AtomicBool::new(false);
    let (dp, qp) = (SendPtr(d.as_mut_ptr()), SendPtr(q.as_mut_ptr()));
    let leaves = levels.last().unwrap();
    par.for_each(leaves.len(), &|t| {
        let (s, l) = leaves[t];
        // SAFETY: leaf t owns d[s..s + l] and the diagonal block of q at (s, s) of order l.
        let ok = unsafe {
            let d = core::slice::from_raw_parts_mut(dp.get().add(s), l);
            leaf(d, &e[s..s + l - 1], qp.get().add(s * ldq + s), ldq)
        };
        if !ok {
            failed.store(true, Ordering::Relaxed);
        }
    });
    if failed.load(Ordering::Relaxed) {
        return false;
    }
    // one workspace for all merges: a merge of the block at s of order l uses the slices from
    // s n (its l^2 <= (n - s) n entries fit before the next block's)
    let mut ws = Workspace { qc: vec![T::ZERO; n * n], qn: vec![T::ZERO; n * n], dm: vec![T::ZERO; n * n] };
    let (qcp, qnp, dmp) = (SendPtr(ws.qc.as_mut_ptr()), SendPtr(ws.qn.as_mut_ptr()), SendPtr(ws.dm.as_mut_ptr()));
    for level in levels[..levels.len() - 1].iter().rev() {
        par.for_each(level.len(), &|t| {
            let (s, l) = level[t];
            // SAFETY: merge t owns d[s..s + l], the diagonal block of q at (s, s) of order l and
            // the workspace slices from s n of length l^2 (disjoint from the other merges').
            let ok = unsafe {
                let d = core::slice::from_raw_parts_mut(dp.get().add(s), l);
                let off = s * n;
                let qc = core::slice::from_raw_parts_mut(qcp.get().add(off), l * l);
                let qn = core::slice::from_raw_parts_mut(qnp.get().add(off), l * l);
                let dm = core::slice::from_raw_parts_mut(dmp.get().add(off), l * l);
                merge(d, e[s + l / 2 - 1], l / 2, qp.get().add(s * ldq + s), ldq, qc, qn, dm, par)
            };
            if !ok {
                failed.store(true, Ordering::Relaxed);
            }
        });
        if failed.load(Ordering::Relaxed) {
            return false;
        }
    }
    true
}

/// The halving tree of `n = d.len()` rows down to leaves of at most [`LEAF`], root level first
/// (all leaves on the last level), each block as (first row, order); and Cuppen's split applied
/// to `d`: `T = diag(T1, T2) + |b| v v^T` with each coupling `b` taken off both diagonals.
fn halving_tree<T: Real>(d: &mut [T], e: &[T]) -> Vec<Vec<(usize, usize)>> {
    let mut levels: Vec<Vec<(usize, usize)>> = vec![vec![(0, d.len())]];
    while levels.last().unwrap().iter().any(|&(_, l)| l > LEAF) {
        let next = levels.last().unwrap().iter().flat_map(|&(s, l)| [(s, l / 2), (s + l / 2, l - l / 2)]).collect();
        levels.push(next);
    }
    for level in &levels[..levels.len() - 1] {
        for &(s, l) in level {
            let k = s + l / 2 - 1;
            let b = e[k].abs();
            d[k] = d[k] - b;
            d[k + 1] = d[k + 1] - b;
        }
    }
    levels
}

struct Workspace<T> {
    /// the non-deflated columns, grouped by type: the top half's rows, then the bottom half's
    qc: Vec<T>,
    /// the merged eigenvectors before sorting (the deflated ones after the product's)
    qn: Vec<T>,
    /// `d_i - lambda_j` from the secular equation, then the rank-one update's eigenvectors
    dm: Vec<T>,
}

/// A leaf: QL with vectors on the tridiagonal (`d`, `e[0..l - 1]`), eigenvalues sorted into `d`
/// and their vectors into the `l x l` block at `q` (column stride `ldq`).
unsafe fn leaf<T: Real>(d: &mut [T], e: &[T], q: *mut T, ldq: usize) -> bool {
    let l = d.len();
    let mut ee = vec![T::ZERO; l];
    ee[1..].copy_from_slice(&e[..l - 1]);
    let mut zt = vec![T::ZERO; l * l];
    for i in 0..l {
        zt[i * l + i] = T::ONE;
    }
    if !tql2(l, d, &mut ee, Some(&mut zt)) {
        return false;
    }
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|&a, &b| d[a].partial_cmp(&d[b]).unwrap_or(core::cmp::Ordering::Equal));
    let sorted: Vec<T> = order.iter().map(|&i| d[i]).collect();
    d.copy_from_slice(&sorted);
    for (c, &src) in order.iter().enumerate() {
        core::slice::from_raw_parts_mut(q.add(c * ldq), l).copy_from_slice(&zt[src * l..src * l + l]);
    }
    true
}

/// `dlaed1`-`dlaed3`: the block at `q` (order `l = d.len()`, column stride `ldq`) holds the
/// sorted eigen-decompositions of its two halves (`n1` and `l - n1` rows; the off-diagonal blocks
/// zero) and `d` their eigenvalues; on return, those of `diag(T1, T2) + |rho| v v^T` where `v`
/// joins the last row of the first half's vectors to the first of the second's (`rho` signed,
/// the coupling off-diagonal).
#[allow(clippy::too_many_arguments)]
unsafe fn merge<T: Real>(
    d: &mut [T],
    rho: T,
    n1: usize,
    q: *mut T,
    ldq: usize,
    qc: &mut [T],
    qn: &mut [T],
    dm: &mut [T],
    par: Par,
) -> bool {
    let l = d.len();
    let n2 = l - n1;
    let col = |j: usize| q.add(j * ldq);
    // z = Q^T v, normalised (each row of an orthogonal Q has norm one, so ||z||^2 = 2)
    let half = T::from_f64(core::f64::consts::FRAC_1_SQRT_2);
    let mut z = vec![T::ZERO; l];
    for (j, zj) in z.iter_mut().enumerate() {
        *zj = if j < n1 { *col(j).add(n1 - 1) } else { *col(j).add(n1) } * half;
    }
    if rho < T::ZERO {
        for zj in &mut z[n1..] {
            *zj = T::ZERO - *zj;
        }
    }
    let rho = (rho + rho).abs();
    let Deflation { kept, deflated, typ } = deflate(d, &mut z, n1, rho, |p, j, c, s| {
        let (x, y) = (core::slice::from_raw_parts_mut(col(p), l), core::slice::from_raw_parts_mut(col(j), l));
        for (x, y) in x.iter_mut().zip(y.iter_mut()) {
            let (a, b) = (*x, *y);
            *x = c * a + s * b;
            *y = c * b - s * a;
        }
    });
    let k = kept.len();
    let dl: Vec<T> = kept.iter().map(|&j| d[j]).collect();
    let w: Vec<T> = kept.iter().map(|&j| z[j]).collect();
    // group the kept columns by type: [1 | 2 | 3]; `group[r]` is the secular index of row r
    let mut group: Vec<usize> = Vec::with_capacity(k);
    let mut count = [0usize; 3];
    for t in 1..=3u8 {
        let before = group.len();
        group.extend((0..k).filter(|&i| typ[kept[i]] == t));
        count[t as usize - 1] = group.len() - before;
    }
    let (k1, k3) = (count[0], count[2]);
    let (ktop, kbot) = (k - k3, k - k1);
    for (r, &i) in group[..ktop].iter().enumerate() {
        core::ptr::copy_nonoverlapping(col(kept[i]), qc.as_mut_ptr().add(r * n1), n1);
    }
    let qcb = n1 * ktop;
    for (r, &i) in group[k1..].iter().enumerate() {
        core::ptr::copy_nonoverlapping(col(kept[i]).add(n1), qc.as_mut_ptr().add(qcb + r * n2), n2);
    }
    for (t, &j) in deflated.iter().enumerate() {
        core::ptr::copy_nonoverlapping(col(j), qn.as_mut_ptr().add((k + t) * l), l);
    }
    let Some(lam) = secular_roots(&dl, &w, rho, dm, par) else {
        return false;
    };
    eigenvectors_of_update(&dl, &w, dm, k, &group, par);
    // the products: top rows from the type 1 and 2 columns, bottom rows from types 2 and 3
    {
        let (qcp, qnp, dmp) = (SendPtr(qc.as_mut_ptr()), SendPtr(qn.as_mut_ptr()), SendPtr(dm.as_mut_ptr()));
        let piece = k.div_ceil(GEMM_PIECES).max(1);
        let pieces = k.div_ceil(piece);
        par.for_each(2 * pieces, &|t| {
            let (bottom, c0) = (t >= pieces, (t % pieces) * piece);
            let w = piece.min(k - c0);
            let (rows, r0, inner, s0, a_off) = if bottom { (n2, n1, kbot, k1, qcb) } else { (n1, 0, ktop, 0, 0) };
            // SAFETY: piece t writes rows r0..r0 + rows of columns c0..c0 + w of qn only; qc and
            // dm are only read.
            let c = GMat { ptr: qnp.get().add(c0 * l + r0), rows, cols: w, rs: 1, cs: l as isize };
            let a = GMat { ptr: qcp.get().add(a_off), rows, cols: inner, rs: 1, cs: rows as isize };
            let b = GMat { ptr: dmp.get().add(c0 * k + s0), rows: inner, cols: w, rs: 1, cs: k as isize };
            gemm_seq_with(c, a, b, false, &mut Vec::new());
        });
    }
    // all eigenvalues sorted, their vectors back into the block
    let mut vals: Vec<T> = lam;
    vals.extend(deflated.iter().map(|&j| d[j]));
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|&a, &b| vals[a].partial_cmp(&vals[b]).unwrap_or(core::cmp::Ordering::Equal));
    for (c, &src) in order.iter().enumerate() {
        d[c] = vals[src];
        core::ptr::copy_nonoverlapping(qn.as_ptr().add(src * l), col(c), l);
    }
    true
}

/// What [`deflate`] leaves: the secular equation's columns (ascending `d`), the deflated ones, and
/// every column's type.
struct Deflation {
    kept: Vec<usize>,
    deflated: Vec<usize>,
    typ: Vec<u8>,
}

/// `dlaed2`'s deflation of `diag(d) + rho z z^T` (`d`'s two halves at `n1` each ascending,
/// `rho > 0`), in ascending order: a negligible `z_j`, or two eigenvalues close enough that a
/// rotation of their columns puts all of `z`'s weight on one (the other then is an eigenvalue
/// as it stands). `rotate(p, j, c, s)` applies that rotation to the columns `p` and `j` of
/// whatever the caller keeps of the eigenvectors (`x_p = c x_p + s x_j`, `x_j = c x_j - s x_p`);
/// `d` and `z` are updated here. Column types: 1 = rows of the top half only, 3 = bottom only,
/// 2 = both (a rotation mixed a top and a bottom column), 4 = deflated.
fn deflate<T: Real>(d: &mut [T], z: &mut [T], n1: usize, rho: T, mut rotate: impl FnMut(usize, usize, T, T)) -> Deflation {
    let l = d.len();
    // the two sorted halves merged into one ascending order
    let mut perm = Vec::with_capacity(l);
    let (mut i, mut j) = (0, n1);
    while i < n1 || j < l {
        if j == l || (i < n1 && d[i] <= d[j]) {
            perm.push(i);
            i += 1;
        } else {
            perm.push(j);
            j += 1;
        }
    }
    let dmax = d.iter().fold(T::ZERO, |m, x| if x.abs() > m { x.abs() } else { m });
    let zmax = z.iter().fold(T::ZERO, |m, x| if x.abs() > m { x.abs() } else { m });
    let eps = T::EPSILON * T::from_f64(0.5); // LAPACK's dlamch('Epsilon')
    let tol = T::from_f64(8.0) * eps * if dmax > zmax { dmax } else { zmax };
    let mut typ: Vec<u8> = (0..l).map(|j| if j < n1 { 1 } else { 3 }).collect();
    let mut kept = Vec::with_capacity(l);
    let mut deflated = Vec::with_capacity(l);
    let mut prev: Option<usize> = None;
    for &j in &perm {
        if rho * z[j].abs() <= tol {
            deflated.push(j);
            continue;
        }
        if let Some(p) = prev {
            let tau = hyp(z[j], z[p]);
            let t = d[j] - d[p];
            let c = z[j] / tau;
            let s = T::ZERO - z[p] / tau;
            if (t * c * s).abs() <= tol {
                z[j] = tau;
                z[p] = T::ZERO;
                if typ[j] != typ[p] {
                    typ[j] = 2;
                }
                typ[p] = 4;
                rotate(p, j, c, s);
                let dp = d[p] * c * c + d[j] * s * s;
                d[j] = d[p] * s * s + d[j] * c * c;
                d[p] = dp;
                deflated.push(p);
                prev = Some(j);
                continue;
            }
            kept.push(p);
        }
        prev = Some(j);
    }
    if let Some(p) = prev {
        kept.push(p);
    }
    Deflation { kept, deflated, typ }
}

/// The roots of the secular equation of `diag(dl) + rho w w^T` (`dl` ascending, `rho > 0`, no
/// `w_i` negligible), by `dlaed4` in FIXED pieces over `par`: root `j` is returned at `j` and
/// `dl_i - lambda_j` written to column `j` of `dm` (`k x k`, `k = dl.len()`). None if one did
/// not converge.
fn secular_roots<T: Real>(dl: &[T], w: &[T], rho: T, dm: &mut [T], par: Par) -> Option<Vec<T>> {
    let k = dl.len();
    let mut lam = vec![T::ZERO; k];
    let failed = AtomicBool::new(false);
    let (lp, dmp) = (SendPtr(lam.as_mut_ptr()), SendPtr(dm.as_mut_ptr()));
    let piece = k.div_ceil(ROOT_PIECES).max(1);
    par.for_each(k.div_ceil(piece), &|t| {
        for j in t * piece..(t * piece + piece).min(k) {
            // SAFETY: root j writes lam[j] and column j of dm only.
            let delta = unsafe { core::slice::from_raw_parts_mut(dmp.get().add(j * k), k) };
            match laed4(j, dl, w, delta, rho) {
                // SAFETY: as above
                Some(x) => unsafe { *lp.get().add(j) = x },
                None => failed.store(true, Ordering::Relaxed),
            }
        }
    });
    (!failed.load(Ordering::Relaxed)).then_some(lam)
}

/// Gu and Eisenstat's `w`: the one for which the computed roots of `diag(dl) + rho w w^T` are
/// exact, from `dm` as [`secular_roots`] leaves it (`dl_i - lambda_j` in column `j`). With it the
/// eigenvectors `wh_i / (dl_i - lambda_j)` are orthogonal to working precision however close the
/// roots.
fn exact_w<T: Real>(dl: &[T], w: &[T], dm: &[T], par: Par) -> Vec<T> {
    let k = dl.len();
    // (LAPACK's dlaed3 special-cases k <= 2, where its dlaed4 returns the eigenvector itself;
    // ours returns d_i - lambda_j for every k, so the general formulas serve)
    // w_i^2 = -(dl_i - lambda_i) prod_{j != i} (dl_i - lambda_j) / (dl_i - dl_j), the sign of w_i
    let mut wh: Vec<T> = (0..k).map(|i| dm[i * k + i]).collect();
    let whp = SendPtr(wh.as_mut_ptr());
    let piece = k.div_ceil(ROOT_PIECES).max(1);
    par.for_each(k.div_ceil(piece), &|t| {
        let (i0, i1) = (t * piece, (t * piece + piece).min(k));
        // SAFETY: piece t writes wh[i0..i1] only.
        let wh = unsafe { core::slice::from_raw_parts_mut(whp.get().add(i0), i1 - i0) };
        for j in 0..k {
            let dj = dl[j];
            let colj = &dm[j * k + i0..j * k + i1];
            for (ii, (x, &dij)) in wh.iter_mut().zip(colj).enumerate() {
                if i0 + ii != j {
                    *x = *x * (dij / (dl[i0 + ii] - dj));
                }
            }
        }
    });
    for (x, &wi) in wh.iter_mut().zip(w) {
        *x = copysign((T::ZERO - *x).sqrt(), wi);
    }
    wh
}

/// `dlaed3`'s eigenvectors of `diag(dl) + rho w w^T`: `dm` (`k x k`) holds `dl_i - lambda_j` in
/// column `j` on entry and the normalised eigenvector of `lambda_j` on return, its rows in the
/// order of `group` (row `r` is component `group[r]`), made from [`exact_w`].
fn eigenvectors_of_update<T: Real>(dl: &[T], w: &[T], dm: &mut [T], k: usize, group: &[usize], par: Par) {
    if k == 0 {
        return;
    }
    let wh = exact_w(dl, w, dm, par);
    let dmp = SendPtr(dm.as_mut_ptr());
    let piece = k.div_ceil(ROOT_PIECES).max(1);
    par.for_each(k.div_ceil(piece), &|t| {
        let mut v = vec![T::ZERO; k];
        for j in t * piece..(t * piece + piece).min(k) {
            // SAFETY: column j of dm belongs to this piece alone.
            let colj = unsafe { core::slice::from_raw_parts_mut(dmp.get().add(j * k), k) };
            let mut ss = T::ZERO;
            for ((vi, &whi), &dij) in v.iter_mut().zip(&wh).zip(colj.iter()) {
                *vi = whi / dij;
                ss = ss + *vi * *vi;
            }
            let inv = T::ONE / ss.sqrt();
            for (r, &i) in group.iter().enumerate() {
                colj[r] = v[i] * inv;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// max |T Q - Q diag(d)| / (||T|| n eps) and max |Q^T Q - I| / (n eps).
    fn ratios(d0: &[f64], e0: &[f64], d: &[f64], q: &[f64]) -> (f64, f64) {
        let n = d.len();
        let tn = (0..n).map(|i| d0[i].abs() + if i > 0 { e0[i - 1].abs() } else { 0.0 } + if i + 1 < n { e0[i].abs() } else { 0.0 }).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let eps = f64::EPSILON;
        let mut res: f64 = 0.0;
        for j in 0..n {
            let v = &q[j * n..j * n + n];
            for i in 0..n {
                let mut tv = d0[i] * v[i];
                if i > 0 {
                    tv += e0[i - 1] * v[i - 1];
                }
                if i + 1 < n {
                    tv += e0[i] * v[i + 1];
                }
                res = res.max((tv - d[j] * v[i]).abs());
            }
        }
        let mut orth: f64 = 0.0;
        for a in 0..n {
            for b in 0..=a {
                let s: f64 = (0..n).map(|i| q[a * n + i] * q[b * n + i]).sum();
                orth = orth.max((s - if a == b { 1.0 } else { 0.0 }).abs());
            }
        }
        (res / (tn * n as f64 * eps), orth / (n as f64 * eps))
    }

    fn check(d0: &[f64], e0: &[f64], label: &str) {
        let n = d0.len();
        let mut d = d0.to_vec();
        let mut q = vec![f64::NAN; n * n];
        assert!(stedc(&mut d, e0, &mut q, n, Par::SEQ), "{label}: did not converge");
        assert!(d.windows(2).all(|p| p[0] <= p[1]), "{label}: not ascending");
        let (r, o) = ratios(d0, e0, &d, &q);
        assert!(r < 4.0 && o < 4.0, "{label} n={n}: residual ratio {r:.2}, orthogonality ratio {o:.2}");
        // the eigenvalues agree with dsterf's
        let (mut ds, mut es) = (d0.to_vec(), e0.to_vec());
        es.push(0.0);
        assert!(crate::sytrd::sterf(n, &mut ds, &mut es));
        ds.sort_by(f64::total_cmp);
        let tn = d0.iter().chain(e0).fold(0.0f64, |m, x| m.max(x.abs()));
        for (a, b) in d.iter().zip(&ds) {
            assert!((a - b).abs() <= 8.0 * n as f64 * f64::EPSILON * tn, "{label}: eigenvalue {a} against dsterf's {b}");
        }
    }

    fn random(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let x = crate::testing::data(2 * n, seed);
        (x[..n].to_vec(), x[n..2 * n - 1].to_vec())
    }

    #[test]
    fn random_tridiagonals() {
        for n in [1usize, 2, 3, 32, 33, 64, 65, 100, 129, 257, 300] {
            let (d, e) = random(n, n as u64);
            check(&d, &e, "random");
        }
    }

    #[test]
    fn nasty_tridiagonals() {
        for n in [40usize, 101, 200] {
            // Wilkinson's W+: pairs of nearly equal eigenvalues (deflation by rotation)
            let m = (n / 2) as f64;
            let d: Vec<f64> = (0..n).map(|i| (i as f64 - m).abs()).collect();
            check(&d, &vec![1.0; n - 1], "wilkinson");
            // 1-2-1 Toeplitz (known spectrum, no deflation)
            check(&vec![2.0; n], &vec![-1.0; n - 1], "toeplitz");
            // the identity with tiny couplings: everything deflates
            check(&vec![1.0; n], &vec![1e-18; n - 1], "near identity");
            // zero couplings in places: splits into independent blocks
            let (d, mut e) = random(n, 7);
            for i in (0..n - 1).step_by(7) {
                e[i] = 0.0;
            }
            check(&d, &e, "split");
            // graded
            let d: Vec<f64> = (0..n).map(|i| 0.7f64.powi(i as i32)).collect();
            let e: Vec<f64> = (0..n - 1).map(|i| 0.7f64.powi(i as i32) * 0.3).collect();
            check(&d, &e, "graded");
            // repeated eigenvalues: a direct sum of identical blocks
            let (b, f) = random(10, 3);
            let d: Vec<f64> = (0..n).map(|i| b[i % 10]).collect();
            let e: Vec<f64> = (0..n - 1).map(|i| if i % 10 == 9 { 0.0 } else { f[i % 10] }).collect();
            check(&d, &e, "repeated");
        }
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        let pool = crate::threads::current();
        for n in [300usize, 600] {
            let (d0, e0) = random(n, 5);
            let (mut d1, mut q1) = (d0.clone(), vec![0.0; n * n]);
            let (mut d2, mut q2) = (d0.clone(), vec![0.0; n * n]);
            assert!(stedc(&mut d1, &e0, &mut q1, n, Par::SEQ));
            assert!(stedc(&mut d2, &e0, &mut q2, n, pool.par()));
            assert!(d1.iter().zip(&d2).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(q1.iter().zip(&q2).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn float32() {
        for n in [50usize, 200] {
            let (d, e) = random(n, 11);
            let (mut df, ef): (Vec<f32>, Vec<f32>) = (d.iter().map(|&x| x as f32).collect(), e.iter().map(|&x| x as f32).collect());
            let mut q = vec![0.0f32; n * n];
            assert!(stedc(&mut df, &ef, &mut q, n, Par::SEQ));
            let d0: Vec<f64> = ef.iter().map(|&x| x as f64).collect();
            let dd: Vec<f64> = d.iter().map(|&x| x as f32 as f64).collect();
            let (r, o) = ratios(&dd, &d0, &df.iter().map(|&x| x as f64).collect::<Vec<_>>(), &q.iter().map(|&x| x as f64).collect::<Vec<_>>());
            // in units of f64's eps: f32's is 2^29 times larger
            let scale = (f32::EPSILON as f64) / f64::EPSILON;
            assert!(r < 4.0 * scale && o < 4.0 * scale, "f32 n={n}: residual {:.2}, orthogonality {:.2} (f32 eps units)", r / scale, o / scale);
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::evd::{self, ComputeEigenvectors};

    /// This module against faer's divide and conquer on the tridiagonal of a random symmetric
    /// matrix, one thread and the pool, median wall ms of 15 interleaved rounds
    /// (`--ignored --nocapture`; `STEDC_N=128,300` for other orders).
    #[test]
    #[ignore]
    fn stedc_vs_faer_timing() {
        let pool = crate::threads::current();
        let orders: Vec<usize> = std::env::var("STEDC_N").map_or(vec![128, 256, 512, 1024], |v| v.split(',').map(|x| x.parse().unwrap()).collect());
        for n in orders {
            let mut a = crate::testing::symmetric(n, 9);
            let (mut d, mut e, mut tau) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            crate::sytrd_blocked::sytrd_blocked(&mut a, n, &mut d, &mut e, &mut tau, Par::SEQ);
            let (mut q1, mut q2) = (vec![0.0; n * n], vec![0.0; n * n]);
            let (dd, ee) = (faer::Col::<f64>::from_fn(n, |i| d[i]), faer::Col::<f64>::from_fn(n, |i| e[i]));
            let mut s = faer::Col::<f64>::zeros(n);
            let mut u = faer::Mat::<f64>::zeros(n, n);
            let params = Default::default();
            let mut buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(n, ComputeEigenvectors::Yes, faer::Par::Seq, params));
            let [ours1, ours2, faer1] = crate::testing::interleaved_medians([
                &mut || {
                    let mut w = d.clone();
                    assert!(stedc(&mut w, &e[..n - 1], &mut q1, n, Par::SEQ));
                },
                &mut || {
                    let mut w = d.clone();
                    assert!(stedc(&mut w, &e[..n - 1], &mut q2, n, pool.par()));
                },
                &mut || {
                    evd::tridiagonal_self_adjoint_evd(
                        dd.as_diagonal(),
                        ee.as_diagonal(),
                        s.as_diagonal_mut(),
                        Some(u.as_mut()),
                        faer::Par::Seq,
                        MemStack::new(&mut buf),
                        params,
                    )
                    .unwrap();
                },
            ]);
            println!("n={n:5}: stedc 1 thread {ours1:7.2} ms, pool {ours2:7.2} ms; faer 1 thread {faer1:7.2} ms");
        }
    }
}

#[cfg(test)]
mod crossover_timing {
    use super::*;

    /// eigh with vectors at small orders: the unblocked path (tridiagonalisation, explicit Q,
    /// QL rotating Q: `sytrd::sy_eigh`) against the blocked one (tridiagonalisation, this
    /// module, back-transformation by GEMM: `sytrd_blocked::eigh_blocked`), one thread, median
    /// wall ms of 15 interleaved rounds (`--ignored --nocapture`).
    #[test]
    #[ignore]
    fn small_order_crossover_timing() {
        for n in [48usize, 64, 96, 128, 160, 192] {
            let a0 = crate::testing::symmetric(n, 3);
            let (mut w, mut w2, mut e, mut q) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n * n]);
            let mut work = vec![0.0; crate::sytrd::work_len(n, true)];
            let mut u = faer::Mat::<f64>::zeros(n, n);
            let (mut w3, mut u3) = (vec![0.0; n], faer::Mat::<f64>::zeros(n, n));
            let pool = crate::threads::current();
            let [ql, dc, dc2] = crate::testing::interleaved_medians([
                &mut || {
                    let mut a = a0.clone();
                    assert!(crate::sytrd::sy_eigh(&mut a, n, true, &mut w, &mut e, &mut q, &mut work));
                },
                &mut || {
                    let mut a = a0.clone();
                    assert!(crate::sytrd_blocked::eigh_blocked(&mut a, n, &mut w2, Some(u.as_mut()), Par::SEQ));
                },
                &mut || {
                    let mut a = a0.clone();
                    assert!(crate::sytrd_blocked::eigh_blocked(&mut a, n, &mut w3, Some(u3.as_mut()), pool.par()));
                },
            ]);
            println!("n={n:4}: QL path {ql:6.3} ms, divide and conquer path {dc:6.3} ms, the same with the pool {dc2:6.3} ms");
        }
    }
}
