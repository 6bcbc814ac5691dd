//! The singular value decomposition of an upper bidiagonal matrix by divide and conquer, with
//! both sets of singular vectors: LAPACK's `dbdsdc` with `compq = 'I'` (`dlasd0`, merging by
//! `dlasd1`-`dlasd3`), after Gu and Eisenstat ("A divide-and-conquer algorithm for the
//! bidiagonal SVD", SIMAX 1995) as LAPACK implements it (Ming Gu and Huan Ren). LAPACK is
//! BSD-licensed, (c) the University of Tennessee, the University of California Berkeley, the
//! University of Colorado Denver and NAG Ltd.
//!
//! Why our own: `svd` with vectors spends a third of its time here, and faer's bidiagonal divide
//! and conquer is not public (faer 0.24, `pub(super)`), so its SVD could only be called whole,
//! with its own bidiagonalization. LAPACK's `dbdsdc` took 6.8 / 29 / 160 ms at n = 256 / 512 /
//! 1024 on this machine (NumPy's OpenBLAS, 2 threads).
//!
//! The recursion: a node of `nn` rows (columns `nn + sqre`) is split at its centre row `ic` into
//! a left child of `nl` rows and `nl + 1` columns (its last column is the centre's) and a right
//! child of `nr = nn - nl - 1` rows with the node's `sqre`:
//!
//! ```text
//!     B = diag(U1, 1, U2) [ D1 0 0 0 ; z1^T a z2^T b ; 0 0 D2 0 ] diag(VT1, VT2)
//! ```
//! where the middle row is the centre row `(alpha e_ic + beta e_ic+1)^T` seen through the
//! children's right vectors (`a`: the left child's null vector, `b`: the right child's, present
//! iff `sqre`). A rotation folds `b` into `a`; the middle matrix is then the upper arrowhead
//! `[z^T ; 0 diag(ds_1..)]` with `ds_0 = 0`, whose singular values are the roots of the secular
//! equation `1 + rho sum z_j^2 / (ds_j^2 - sigma^2) = 0` ([`crate::secular_sv::lasd4`]) once the
//! negligible `z_j` and the nearly equal `ds_j` have been deflated (`dlasd2`). The vectors of
//! the arrowhead come from Gu and Eisenstat's recomputed `z` (`dlasd3`), so that they are
//! orthogonal however close the roots, and the node's vectors are the children's times them:
//! two GEMMs per side, which skip the zero blocks by grouping the columns by the half of the
//! rows they occupy (LAPACK's column types).
//!
//! Leaves (at most [`LEAF`] rows) are decomposed densely (faer's SVD of the small
//! `nn x (nn + sqre)` block, full vectors) where LAPACK runs the bidiagonal QR iteration
//! (`dlasdq`): both are backward stable, which is all the divide and conquer keeps.
//!
//! Threads: the leaves run in parallel, then level by level the merges of one level; inside a
//! merge the roots, the vectors and the products run in FIXED pieces through [`Par::for_each`],
//! so any thread count computes the same bits.

use crate::gemm::{gemm_seq_with, Mat as GMat};
use crate::scalar::{copysign, hyp, Real};
use crate::secular::{eps, max};
use crate::secular_sv::lasd4;
use crate::svd_small::norm2;
use crate::strided::SendPtr;
use crate::threads::Par;
use std::sync::atomic::{AtomicBool, Ordering};

/// Subproblems of at most this many rows are leaves (LAPACK's `SMLSIZ` is 25).
pub(crate) const LEAF: usize = 32;

/// Pieces the roots and vectors of one merge are cut into (fixed: the bits must not depend on
/// the thread count).
const ROOT_PIECES: usize = 8;

/// Pieces of columns each product of one merge is cut into.
const GEMM_PIECES: usize = 4;

/// One node of the tree: its first row, its rows `nn`, and whether it has an extra column.
#[derive(Clone, Copy, Debug)]
struct Node {
    f: usize,
    nn: usize,
    sqre: bool,
}

impl Node {
    /// Rows of the left child (the centre row is `f + nl`).
    fn nl(&self) -> usize {
        self.nn / 2
    }
}

/// The singular value decomposition `B = U diag(d) VT` of the `n x n` upper bidiagonal matrix
/// with diagonal `d` and superdiagonal `e[0..n - 1]` (`e[i] = B[i, i + 1]`): the singular values
/// into `d`, DESCENDING; the left vectors into the columns of `u` and the right ones into the
/// rows of `vt` (both `n x n`, column-major, leading dimensions `ldu`, `ldvt >= n`; whatever they
/// held is overwritten). Returns false if a leaf or a secular equation did not converge (NaN or
/// infinity in the input).
pub(crate) fn bdsdc<T: Real>(d: &mut [T], e: &[T], u: &mut [T], ldu: usize, vt: &mut [T], ldvt: usize, par: Par) -> bool {
    let n = d.len();
    assert!(e.len() + 1 >= n && ldu >= n && ldvt >= n);
    assert!(n == 0 || (u.len() >= (n - 1) * ldu + n && vt.len() >= (n - 1) * ldvt + n));
    if n == 0 {
        return true;
    }
    for j in 0..n {
        u[j * ldu..j * ldu + n].fill(T::ZERO);
        vt[j * ldvt..j * ldvt + n].fill(T::ZERO);
    }
    // work at norm ~1, as dbdsdc does: the deflation tolerances are absolute
    let mut orgnrm = T::ZERO;
    for &x in d.iter().chain(&e[..n - 1]) {
        if !x.is_finite() {
            return false;
        }
        orgnrm = max(x.abs(), orgnrm);
    }
    if orgnrm == T::ZERO {
        for j in 0..n {
            u[j * ldu + j] = T::ONE;
            vt[j * ldvt + j] = T::ONE;
        }
        return true;
    }
    let mut es: Vec<T> = e[..n - 1].iter().map(|&x| x / orgnrm).collect();
    es.push(T::ZERO);
    for x in d.iter_mut() {
        *x = *x / orgnrm;
    }
    let levels = tree(n);
    let failed = AtomicBool::new(false);
    let (dp, up, vp) = (SendPtr(d.as_mut_ptr()), SendPtr(u.as_mut_ptr()), SendPtr(vt.as_mut_ptr()));
    let leaves = levels.last().unwrap();
    par.for_each(leaves.len(), &|t| {
        let nd = leaves[t];
        // SAFETY: leaf t owns d[f..f + nn], the diagonal block of u at (f, f) of order nn and
        // that of vt of order nn + sqre (the blocks of one level are disjoint).
        let ok = unsafe {
            let d = core::slice::from_raw_parts_mut(dp.get().add(nd.f), nd.nn);
            leaf(d, &es[nd.f..nd.f + nd.nn], nd.sqre, up.get().add(nd.f * ldu + nd.f), ldu, vp.get().add(nd.f * ldvt + nd.f), ldvt)
        };
        if !ok {
            failed.store(true, Ordering::Relaxed);
        }
    });
    if failed.load(Ordering::Relaxed) {
        return false;
    }
    for level in levels[..levels.len() - 1].iter().rev() {
        par.for_each(level.len(), &|t| {
            let nd = level[t];
            let nl = nd.nl();
            // SAFETY: as for the leaves: merge t owns its rows of d, its block of u and of vt.
            let ok = unsafe {
                let d = core::slice::from_raw_parts_mut(dp.get().add(nd.f), nd.nn);
                let (alpha, beta) = (d[nl], es[nd.f + nl]);
                let uv = Blocks { u: up.get().add(nd.f * ldu + nd.f), ldu, vt: vp.get().add(nd.f * ldvt + nd.f), ldvt };
                merge(d, alpha, beta, nl, nd.sqre, uv, par)
            };
            if !ok {
                failed.store(true, Ordering::Relaxed);
            }
        });
        if failed.load(Ordering::Relaxed) {
            return false;
        }
    }
    // ascending -> descending, and the scale back
    d.reverse();
    for x in d.iter_mut() {
        *x = *x * orgnrm;
    }
    for j in 0..n / 2 {
        let (a, b) = u.split_at_mut((n - 1 - j) * ldu);
        a[j * ldu..j * ldu + n].swap_with_slice(&mut b[..n]);
    }
    for c in 0..n {
        vt[c * ldvt..c * ldvt + n].reverse();
    }
    true
}

/// The tree of `n` rows down to leaves of at most [`LEAF`] rows, root level first (all leaves on
/// the last level): a node's left child has `nl = nn / 2` rows and an extra column, its right
/// child the remaining `nn - nl - 1` rows and the node's own `sqre`.
fn tree(n: usize) -> Vec<Vec<Node>> {
    let mut levels = vec![vec![Node { f: 0, nn: n, sqre: false }]];
    while levels.last().unwrap().iter().any(|nd| nd.nn > LEAF) {
        let next = levels
            .last()
            .unwrap()
            .iter()
            .flat_map(|nd| {
                let nl = nd.nl();
                [Node { f: nd.f, nn: nl, sqre: true }, Node { f: nd.f + nl + 1, nn: nd.nn - nl - 1, sqre: nd.sqre }]
            })
            .collect();
        levels.push(next);
    }
    levels
}

/// A leaf: the rows `d`, `e[..nn - 1]` of `B` and, if `sqre`, the extra column `e[nn - 1]`,
/// decomposed densely; the singular values ascending into `d`, the left vectors into the
/// `nn x nn` block at `u`, the right ones into the rows of the `(nn + sqre)`-square block at
/// `vt`, the null vector (if `sqre`) last.
unsafe fn leaf<T: Real>(d: &mut [T], e: &[T], sqre: bool, u: *mut T, ldu: usize, vt: *mut T, ldvt: usize) -> bool {
    use faer::dyn_stack::MemStack;
    use faer::linalg::svd::{self as fsvd, ComputeSvdVectors};
    let nn = d.len();
    let m = nn + sqre as usize;
    let a = faer::Mat::<T>::from_fn(nn, m, |i, j| {
        if i == j {
            d[i]
        } else if j == i + 1 {
            e[i]
        } else {
            T::ZERO
        }
    });
    let mut s = faer::Col::<T>::zeros(nn);
    let mut uf = faer::Mat::<T>::zeros(nn, nn);
    let mut vf = faer::Mat::<T>::zeros(m, m);
    let req = fsvd::svd_scratch::<T>(nn, m, ComputeSvdVectors::Full, ComputeSvdVectors::Full, faer::Par::Seq, Default::default());
    let mut buf = faer::dyn_stack::MemBuffer::new(req);
    let r = fsvd::svd(a.as_ref(), s.as_diagonal_mut(), Some(uf.as_mut()), Some(vf.as_mut()), faer::Par::Seq, MemStack::new(&mut buf), Default::default());
    if r.is_err() {
        return false;
    }
    let mut order: Vec<usize> = (0..nn).collect();
    order.sort_by(|&a, &b| s[a].partial_cmp(&s[b]).unwrap_or(core::cmp::Ordering::Equal));
    for (c, &src) in order.iter().enumerate() {
        d[c] = s[src];
        for i in 0..nn {
            *u.add(c * ldu + i) = uf[(i, src)];
        }
        for j in 0..m {
            *vt.add(j * ldvt + c) = vf[(j, src)];
        }
    }
    if sqre {
        for j in 0..m {
            *vt.add(j * ldvt + nn) = vf[(j, nn)];
        }
    }
    true
}

/// The vector blocks of one node: `u` its `nn x nn` block, `vt` its `(nn + sqre)`-square one.
#[derive(Clone, Copy)]
struct Blocks<T> {
    u: *mut T,
    ldu: usize,
    vt: *mut T,
    ldvt: usize,
}

impl<T: Copy> Blocks<T> {
    unsafe fn u(&self, i: usize, j: usize) -> *mut T {
        self.u.add(i + j * self.ldu)
    }
    unsafe fn vt(&self, i: usize, j: usize) -> *mut T {
        self.vt.add(i + j * self.ldvt)
    }
}

/// `dlasd1`: the node's rows `d` (the left child's singular values ascending in `d[..nl]`, the
/// right child's in `d[nl + 1..]`; `d[nl]` is ignored) and its blocks holding the children's
/// vectors; on return the node's singular values ascending in `d` and its vectors in the blocks
/// (the null vector, if `sqre`, in the last row of `vt`'s block). `alpha` and `beta` are the
/// centre row's diagonal and superdiagonal entries.
unsafe fn merge<T: Real>(d: &mut [T], alpha: T, beta: T, nl: usize, sqre: bool, b: Blocks<T>, par: Par) -> bool {
    let n = d.len();
    let nr = n - nl - 1;
    let m = n + sqre as usize;
    // scale to norm ~1 (dlasd1)
    d[nl] = T::ZERO;
    let mut orgnrm = max(alpha.abs(), beta.abs());
    for &x in d.iter() {
        orgnrm = max(x.abs(), orgnrm);
    }
    if orgnrm == T::ZERO {
        orgnrm = T::ONE;
    }
    let (alpha, beta) = (alpha / orgnrm, beta / orgnrm);
    for x in d.iter_mut() {
        *x = *x / orgnrm;
    }

    // the slots of the arrowhead's columns 1..n: the left child's values (slot i + 1 is the
    // left's i) then the right's (slot i is the right's i), with their z, their column of u,
    // their row of vt and their type (1: left rows only, 2: right rows only, 3: both)
    let mut sig = vec![T::ZERO; n];
    let mut z = vec![T::ZERO; n];
    let mut src = vec![0usize; n];
    let mut typ = vec![0u8; n];
    for i in 0..nl {
        sig[i + 1] = d[i];
        z[i + 1] = alpha * *b.vt(i, nl);
        src[i + 1] = i;
        typ[i + 1] = 1;
    }
    for i in nl + 1..n {
        sig[i] = d[i];
        z[i] = beta * *b.vt(i, nl + 1);
        src[i] = i;
        typ[i] = 2;
    }
    let z1 = alpha * *b.vt(nl, nl);
    let zm = if sqre { beta * *b.vt(n, nl + 1) } else { T::ZERO };

    // slots 1..n in ascending order (the two halves are each sorted: merge them)
    let mut order: Vec<usize> = Vec::with_capacity(n - 1);
    {
        let (mut i, mut j) = (1, nl + 1);
        while i <= nl || j < n {
            if j >= n || (i <= nl && sig[i] <= sig[j]) {
                order.push(i);
                i += 1;
            } else {
                order.push(j);
                j += 1;
            }
        }
    }
    let mut tol = max(alpha.abs(), beta.abs());
    if let Some(&last) = order.last() {
        tol = max(sig[last].abs(), tol);
    }
    let tol = T::from_f64(8.0) * eps::<T>() * tol;

    // dlasd2's deflation: a negligible z_j, or two values close enough that a rotation of their
    // vectors puts all of z's weight on one
    let mut kept: Vec<usize> = Vec::with_capacity(n);
    let mut deflated: Vec<usize> = Vec::new();
    let mut prev: Option<usize> = None;
    for &j in &order {
        if z[j].abs() <= tol {
            deflated.push(j);
            continue;
        }
        let Some(p) = prev else {
            prev = Some(j);
            continue;
        };
        if (sig[j] - sig[p]).abs() <= tol {
            let tau = hyp(z[j], z[p]);
            let (c, s) = (z[j] / tau, T::ZERO - z[p] / tau);
            z[j] = tau;
            z[p] = T::ZERO;
            let (cp, cj) = (src[p], src[j]);
            for i in 0..n {
                let (x, y) = (*b.u(i, cp), *b.u(i, cj));
                *b.u(i, cp) = c * x + s * y;
                *b.u(i, cj) = c * y - s * x;
            }
            for i in 0..m {
                let (x, y) = (*b.vt(cp, i), *b.vt(cj, i));
                *b.vt(cp, i) = c * x + s * y;
                *b.vt(cj, i) = c * y - s * x;
            }
            if typ[j] != typ[p] {
                typ[j] = 3;
            }
            deflated.push(p);
        } else {
            kept.push(p);
        }
        prev = Some(j);
    }
    if let Some(p) = prev {
        kept.push(p);
    }
    let k = kept.len() + 1;

    // the secular problem: ds_0 = 0 with z_0 from the null vectors, then the kept slots
    let mut ds = vec![T::ZERO; k];
    let mut zs = vec![T::ZERO; k];
    for (t, &j) in kept.iter().enumerate() {
        ds[t + 1] = sig[j];
        zs[t + 1] = z[j];
    }
    if k >= 2 && ds[1].abs() <= tol * T::from_f64(0.5) {
        ds[1] = tol * T::from_f64(0.5);
    }
    // the first row of VT2 (the combined null vectors), and the node's new null vector
    let mut v0 = vec![T::ZERO; m];
    if sqre {
        let z0 = hyp(z1, zm);
        let (c, s) = if z0 <= tol { (T::ONE, T::ZERO) } else { (z1 / z0, zm / z0) };
        zs[0] = if z0 <= tol { tol } else { z0 };
        for i in 0..=nl {
            let x = *b.vt(nl, i);
            v0[i] = c * x;
            *b.vt(n, i) = T::ZERO - s * x;
        }
        for i in nl + 1..m {
            let x = *b.vt(n, i);
            v0[i] = s * x;
            *b.vt(n, i) = c * x;
        }
    } else {
        zs[0] = if z1.abs() <= tol { tol } else { z1 };
        for (i, x) in v0.iter_mut().enumerate() {
            *x = *b.vt(nl, i);
        }
    }

    // the kept slots grouped by type: [centre | 1 | 3 | 2] (secular indices)
    let mut group: Vec<usize> = vec![0];
    let mut count = [0usize; 4];
    for t in [1u8, 3, 2] {
        let before = group.len();
        group.extend((1..k).filter(|&i| typ[kept[i - 1]] == t));
        count[t as usize] = group.len() - before;
    }
    let (k1, k3, k2) = (count[1], count[3], count[2]);
    // the right vectors' order puts the centre between types 1 and 3: [1 | centre | 3 | 2], so
    // that the rows of VT2 with entries in the left columns ([1 | centre | 3]) and those with
    // entries in the right columns ([centre | 3 | 2]) are both contiguous
    let mut group_v: Vec<usize> = group[1..1 + k1].to_vec();
    group_v.push(0);
    group_v.extend_from_slice(&group[1 + k1..]);

    // the roots and the arrowhead's vectors (first, so that their k x k scratch is gone before
    // the copies below are made): ql (k x k, rows in group order) its left vectors, qv (k x k,
    // columns in group_v order) its right ones, transposed
    let mut roots = vec![T::ZERO; k];
    let mut ql = vec![T::ZERO; k * k];
    let mut qv = vec![T::ZERO; k * k];
    if k == 1 {
        roots[0] = zs[0].abs();
        ql[0] = copysign(T::ONE, zs[0]);
        qv[0] = T::ONE;
    } else if !arrowhead_vectors(&ds, &zs, &group, &group_v, &mut roots, &mut ql, &mut qv, par) {
        return false;
    }


    // copies of what the products read, and of the deflated vectors, before the blocks are
    // overwritten: U2L (nl x (k1 + k3)) and U2R (nr x (k3 + k2)) are the kept columns' rows in
    // each half; VL ((1 + k1 + k3) x (nl + 1)) and VR ((1 + k3 + k2) x (nr + sqre)) the rows of
    // VT2 with entries in the left and right columns
    let ucol = |g: usize| src[kept[group[g] - 1]];
    let mut u2l = vec![T::ZERO; nl * (k1 + k3)];
    for c in 0..k1 + k3 {
        let s = ucol(1 + c);
        for i in 0..nl {
            u2l[c * nl + i] = *b.u(i, s);
        }
    }
    let mut u2r = vec![T::ZERO; nr * (k3 + k2)];
    for c in 0..k3 + k2 {
        let s = ucol(1 + k1 + c);
        for i in 0..nr {
            u2r[c * nr + i] = *b.u(nl + 1 + i, s);
        }
    }
    let (kl, kr, ml, mr) = (1 + k1 + k3, 1 + k3 + k2, nl + 1, m - nl - 1);
    let mut vl = vec![T::ZERO; kl * ml];
    let mut vr = vec![T::ZERO; kr * mr];
    // (group_v position r holds group position r + 1 below the centre at k1, r above it)
    let vrow = |r: usize| if r < k1 { ucol(r + 1) } else { ucol(r) };
    for i in 0..ml {
        for r in 0..kl {
            vl[i * kl + r] = if r == k1 { v0[i] } else { *b.vt(vrow(r), i) };
        }
    }
    for i in 0..mr {
        for r in 0..kr {
            vr[i * kr + r] = if r == 0 { v0[ml + i] } else { *b.vt(vrow(k1 + r), ml + i) };
        }
    }
    let nd = deflated.len();
    let mut ud = vec![T::ZERO; n * nd];
    let mut vd = vec![T::ZERO; nd * m];
    for (t, &j) in deflated.iter().enumerate() {
        core::ptr::copy_nonoverlapping(b.u(0, src[j]), ud.as_mut_ptr().add(t * n), n);
    }
    for i in 0..m {
        for (t, &j) in deflated.iter().enumerate() {
            vd[i * nd + t] = *b.vt(src[j], i);
        }
    }

    // the node's vectors, straight into the blocks (what they held is in the copies above):
    // U[:, ..k] = U2 ql, VT[..k, :] = qv VT2, each product over the rows (columns) the kept
    // columns (rows) occupy
    {
        let (unp, vnp) = (SendPtr(b.u), SendPtr(b.vt));
        let (ldu, ldvt) = (b.ldu, b.ldvt);
        let (u2lp, u2rp, vlp, vrp) = (SendPtr(u2l.as_mut_ptr()), SendPtr(u2r.as_mut_ptr()), SendPtr(vl.as_mut_ptr()), SendPtr(vr.as_mut_ptr()));
        let (qlp, qvp) = (SendPtr(ql.as_mut_ptr()), SendPtr(qv.as_mut_ptr()));
        let piece = k.div_ceil(GEMM_PIECES).max(1);
        let pieces = k.div_ceil(piece);
        par.for_each(4 * pieces, &|t| {
            let (which, c0) = (t / pieces, (t % pieces) * piece);
            let w = piece.min(k - c0);
            // SAFETY: piece t writes columns c0..c0 + w of one half of un (rows) or one range of
            // vn's columns for the rows c0..c0 + w: disjoint; the rest is only read.
            match which {
                0 if nl > 0 && k1 + k3 > 0 => {
                    let c = GMat { ptr: unp.get().add(c0 * ldu), rows: nl, cols: w, rs: 1, cs: ldu as isize };
                    let a = GMat { ptr: u2lp.get(), rows: nl, cols: k1 + k3, rs: 1, cs: nl as isize };
                    let bb = GMat { ptr: qlp.get().add(c0 * k + 1), rows: k1 + k3, cols: w, rs: 1, cs: k as isize };
                    gemm_seq_with(c, a, bb, false, &mut Vec::new());
                }
                1 if nr > 0 && k3 + k2 > 0 => {
                    let c = GMat { ptr: unp.get().add(c0 * ldu + nl + 1), rows: nr, cols: w, rs: 1, cs: ldu as isize };
                    let a = GMat { ptr: u2rp.get(), rows: nr, cols: k3 + k2, rs: 1, cs: nr as isize };
                    let bb = GMat { ptr: qlp.get().add(c0 * k + 1 + k1), rows: k3 + k2, cols: w, rs: 1, cs: k as isize };
                    gemm_seq_with(c, a, bb, false, &mut Vec::new());
                }
                2 => {
                    // rows c0..c0 + w of vn, left columns
                    let c = GMat { ptr: vnp.get().add(c0), rows: w, cols: ml, rs: 1, cs: ldvt as isize };
                    let a = GMat { ptr: qvp.get().add(c0), rows: w, cols: kl, rs: 1, cs: k as isize };
                    let bb = GMat { ptr: vlp.get(), rows: kl, cols: ml, rs: 1, cs: kl as isize };
                    gemm_seq_with(c, a, bb, false, &mut Vec::new());
                }
                3 => {
                    let c = GMat { ptr: vnp.get().add(ml * ldvt + c0), rows: w, cols: mr, rs: 1, cs: ldvt as isize };
                    let a = GMat { ptr: qvp.get().add(k1 * k + c0), rows: w, cols: kr, rs: 1, cs: k as isize };
                    let bb = GMat { ptr: vrp.get(), rows: kr, cols: mr, rs: 1, cs: kr as isize };
                    gemm_seq_with(c, a, bb, false, &mut Vec::new());
                }
                _ => {}
            }
        });
        for c in 0..k {
            *b.u(nl, c) = ql[c * k];
            // a half no kept column reaches (no product wrote it)
            if k1 + k3 == 0 {
                core::slice::from_raw_parts_mut(b.u(0, c), nl).fill(T::ZERO);
            }
            if k3 + k2 == 0 {
                core::slice::from_raw_parts_mut(b.u(nl + 1, c), nr).fill(T::ZERO);
            }
        }
    }
    for (t, col) in ud.chunks_exact(n.max(1)).enumerate() {
        core::ptr::copy_nonoverlapping(col.as_ptr(), b.u(0, k + t), n);
    }
    for i in 0..m {
        for t in 0..nd {
            *b.vt(k + t, i) = vd[i * nd + t];
        }
    }

    // all values sorted ascending, their vectors permuted in place to match
    let mut vals: Vec<T> = roots;
    vals.extend(deflated.iter().map(|&j| sig[j]));
    let mut perm: Vec<usize> = (0..n).collect();
    perm.sort_by(|&a, &b| vals[a].partial_cmp(&vals[b]).unwrap_or(core::cmp::Ordering::Equal));
    for (c, &s) in perm.iter().enumerate() {
        d[c] = vals[s] * orgnrm;
    }
    // U's columns by following the permutation's cycles (one column of scratch); VT's rows
    // column by column through one column of scratch
    let mut tmp = vec![T::ZERO; n];
    let mut done = vec![false; n];
    for c0 in 0..n {
        if done[c0] || perm[c0] == c0 {
            continue;
        }
        core::ptr::copy_nonoverlapping(b.u(0, c0), tmp.as_mut_ptr(), n);
        let mut c = c0;
        loop {
            done[c] = true;
            let s = perm[c];
            if s == c0 {
                core::ptr::copy_nonoverlapping(tmp.as_ptr(), b.u(0, c), n);
                break;
            }
            core::ptr::copy_nonoverlapping(b.u(0, s), b.u(0, c), n);
            c = s;
        }
    }
    for i in 0..m {
        let col = core::slice::from_raw_parts_mut(b.vt(0, i), n);
        for (x, &s) in tmp.iter_mut().zip(&perm) {
            *x = col[s];
        }
        col.copy_from_slice(&tmp);
    }
    true
}

/// `dlasd3`'s core: the singular values `roots` (ascending) of the arrowhead `[zs^T ; 0
/// diag(ds[1..])]` (`ds` ascending from `ds[0] = 0`, every `zs` non-negligible) and its vectors
/// made from Gu and Eisenstat's recomputed `z`: `ql[r + i k]` the component `group[r]` of the
/// left vector of `roots[i]`, `qv[i + r k]` the component `group_v[r]` of its right vector.
#[allow(clippy::too_many_arguments)]
fn arrowhead_vectors<T: Real>(ds: &[T], zs: &[T], group: &[usize], group_v: &[usize], roots: &mut [T], ql: &mut [T], qv: &mut [T], par: Par) -> bool {
    let k = ds.len();
    let mut rho = T::ZERO;
    for &x in zs {
        rho = rho + x * x;
    }
    let rn = rho.sqrt();
    let zn: Vec<T> = zs.iter().map(|&x| x / rn).collect();
    // dm[i + j k] = ds_i - root_j, wm[i + j k] = ds_i + root_j
    let mut dm = vec![T::ZERO; k * k];
    let mut wm = vec![T::ZERO; k * k];
    let failed = AtomicBool::new(false);
    let piece = k.div_ceil(ROOT_PIECES).max(1);
    let (rp, dmp, wmp) = (SendPtr(roots.as_mut_ptr()), SendPtr(dm.as_mut_ptr()), SendPtr(wm.as_mut_ptr()));
    par.for_each(k.div_ceil(piece), &|t| {
        for j in t * piece..(t * piece + piece).min(k) {
            // SAFETY: root j writes roots[j] and column j of dm and wm only.
            unsafe {
                let delta = core::slice::from_raw_parts_mut(dmp.get().add(j * k), k);
                let work = core::slice::from_raw_parts_mut(wmp.get().add(j * k), k);
                match lasd4(j, ds, &zn, delta, work, rho) {
                    Some(x) => *rp.get().add(j) = x,
                    None => failed.store(true, Ordering::Relaxed),
                }
            }
        }
    });
    if failed.load(Ordering::Relaxed) {
        return false;
    }
    // Gu and Eisenstat's z: the one for which the computed roots are exact
    // z_i^2 = (ds_i^2 - root_{k-1}^2) prod_{j < i} (ds_i^2 - root_j^2) / (ds_i^2 - ds_j^2)
    //         prod_{i <= j < k - 1} (ds_i^2 - root_j^2) / (ds_i^2 - ds_{j+1}^2)
    // (column by column, as dm and wm are stored; in pieces of rows over the threads)
    let mut zh: Vec<T> = (0..k).map(|i| dm[i + (k - 1) * k] * wm[i + (k - 1) * k]).collect();
    let zhp = SendPtr(zh.as_mut_ptr());
    par.for_each(k.div_ceil(piece), &|t| {
        let (i0, i1) = (t * piece, (t * piece + piece).min(k));
        // SAFETY: piece t writes zh[i0..i1] only.
        let zh = unsafe { core::slice::from_raw_parts_mut(zhp.get().add(i0), i1 - i0) };
        for j in 0..k - 1 {
            let (dmj, wmj) = (&dm[j * k + i0..j * k + i1], &wm[j * k + i0..j * k + i1]);
            for (ii, ((x, &dij), &wij)) in zh.iter_mut().zip(dmj).zip(wmj).enumerate() {
                let i = i0 + ii;
                // the poles in order with ds_i's own left out: ds_j below i, ds_{j+1} from i on
                let p = if j < i { ds[j] } else { ds[j + 1] };
                // (one division: after the deflation every factor is at least ~eps^2 in
                // magnitude, and the merge works at norm ~1, so no product under- or overflows)
                *x = *x * (dij * wij / ((ds[i] - p) * (ds[i] + p)));
            }
        }
    });
    for (x, &z) in zh.iter_mut().zip(zs) {
        *x = copysign(x.abs().sqrt(), z);
    }
    let (qlp, qvp) = (SendPtr(ql.as_mut_ptr()), SendPtr(qv.as_mut_ptr()));
    par.for_each(k.div_ceil(piece), &|t| {
        let mut v = vec![T::ZERO; k];
        let mut w = vec![T::ZERO; k];
        for j in t * piece..(t * piece + piece).min(k) {
            // right vector v_i = zh_i / ((ds_i - root_j)(ds_i + root_j)); left u_0 = -1,
            // u_i = ds_i v_i
            for ((((vi, wi), &zi), &di), (&dmi, &wmi)) in v.iter_mut().zip(w.iter_mut()).zip(&zh).zip(ds).zip(dm[j * k..j * k + k].iter().zip(&wm[j * k..j * k + k])) {
                *vi = zi / (dmi * wmi);
                *wi = di * *vi;
            }
            w[0] = T::ZERO - T::ONE;
            // scaled norms (dnrm2's job): near ds_0 = 0, v_0 ~ 1 / root_0, whose square
            // overflows f32 for roots below ~1e-19
            let (iv, iu) = (T::ONE / norm2(&v), T::ONE / norm2(&w));
            // SAFETY: column j of ql and row j of qv belong to this piece alone.
            unsafe {
                for (r, &g) in group.iter().enumerate() {
                    *qlp.get().add(r + j * k) = w[g] * iu;
                }
                for (r, &g) in group_v.iter().enumerate() {
                    *qvp.get().add(j + r * k) = v[g] * iv;
                }
            }
        }
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// max |B - U diag(s) VT| / (||B|| n eps), max |U^T U - I| / (n eps), same for VT.
    fn ratios<T: Real>(d0: &[T], e0: &[T], s: &[T], u: &[T], vt: &[T]) -> (f64, f64, f64) {
        let n = d0.len();
        let f = |x: T| x.to_f64();
        let bn = (0..n).map(|i| f(d0[i]).abs() + if i + 1 < n { f(e0[i]).abs() } else { 0.0 }).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let eps = T::EPSILON.to_f64();
        let mut res: f64 = 0.0;
        for j in 0..n {
            for i in 0..n {
                let mut x = 0.0;
                for l in 0..n {
                    x += f(u[l * n + i]) * f(s[l]) * f(vt[j * n + l]);
                }
                let bij = if i == j { f(d0[i]) } else if j == i + 1 { f(e0[i]) } else { 0.0 };
                res = res.max((x - bij).abs());
            }
        }
        let orth = |q: &[T], cols: bool| {
            let mut o: f64 = 0.0;
            for a in 0..n {
                for b in 0..n {
                    let mut x = 0.0;
                    for l in 0..n {
                        x += if cols { f(q[a * n + l]) * f(q[b * n + l]) } else { f(q[l * n + a]) * f(q[l * n + b]) };
                    }
                    o = o.max((x - if a == b { 1.0 } else { 0.0 }).abs());
                }
            }
            o / (n as f64 * eps)
        };
        (res / (bn * n as f64 * eps), orth(u, true), orth(vt, false))
    }

    fn check<T: Real>(d0: &[T], e0: &[T], what: &str) {
        let n = d0.len();
        let mut d = d0.to_vec();
        let mut u = vec![T::ZERO; n * n];
        let mut vt = vec![T::ZERO; n * n];
        assert!(bdsdc(&mut d, e0, &mut u, n, &mut vt, n, Par::SEQ), "{what}: failed");
        for w in d.windows(2) {
            assert!(w[0] >= w[1], "{what}: not descending");
        }
        assert!(d.iter().all(|&x| x >= T::ZERO), "{what}: negative singular value");
        let (r, ou, ov) = ratios(d0, e0, &d, &u, &vt);
        assert!(r < 4.0 && ou < 4.0 && ov < 4.0, "{what} n={n}: residual {r:.2}, orth U {ou:.2}, orth VT {ov:.2}");
        // the values against the values of faer's dense SVD
        let a = faer::Mat::<f64>::from_fn(n, n, |i, j| if i == j { d0[i].to_f64() } else if j == i + 1 { e0[i].to_f64() } else { 0.0 });
        let sv = a.singular_values().unwrap();
        let bn = sv.first().copied().unwrap_or(0.0).max(f64::MIN_POSITIVE);
        for (x, y) in d.iter().zip(sv.iter()) {
            assert!((x.to_f64() - y).abs() <= 8.0 * n as f64 * T::EPSILON.to_f64() * bn, "{what}: value {} against {y}", x.to_f64());
        }
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64) / (1u64 << 53) as f64 - 0.5
    }

    fn cases<T: Real>() {
        let mut seed = 7u64;
        for n in [1usize, 2, 3, 5, 31, 32, 33, 34, 64, 65, 100, 200] {
            let d: Vec<T> = (0..n).map(|_| T::from_f64(lcg(&mut seed))).collect();
            let e: Vec<T> = (0..n).map(|_| T::from_f64(lcg(&mut seed))).collect();
            check(&d, &e[..n.saturating_sub(1)], "random");
            // graded, repeated, zero and tiny entries
            let dg: Vec<T> = (0..n).map(|i| T::from_f64(0.5f64.powi(i as i32 % 60))).collect();
            let eg: Vec<T> = (0..n).map(|i| T::from_f64(0.25f64.powi(i as i32 % 60))).collect();
            check(&dg, &eg[..n.saturating_sub(1)], "graded");
            let d1 = vec![T::ONE; n];
            let e0 = vec![T::ZERO; n];
            check(&d1, &e0[..n.saturating_sub(1)], "identity");
            let dz: Vec<T> = (0..n).map(|i| if i % 3 == 0 { T::ZERO } else { T::from_f64(lcg(&mut seed)) }).collect();
            check(&dz, &e[..n.saturating_sub(1)], "zeros on the diagonal");
            let et: Vec<T> = (0..n).map(|i| if i % 5 == 1 { T::from_f64(1e-30) } else { T::ONE }).collect();
            check(&d1, &et[..n.saturating_sub(1)], "ones with tiny couplings");
        }
    }

    #[test]
    fn random_and_nasty_f64() {
        cases::<f64>();
    }

    #[test]
    fn random_and_nasty_f32() {
        cases::<f32>();
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let mut seed = 3u64;
        let n = 300;
        let d0: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
        let e0: Vec<f64> = (0..n - 1).map(|_| lcg(&mut seed)).collect();
        let run = |par: Par| {
            let mut d = d0.clone();
            let mut u = vec![0.0; n * n];
            let mut vt = vec![0.0; n * n];
            assert!(bdsdc(&mut d, &e0, &mut u, n, &mut vt, n, par));
            (d, u, vt)
        };
        let a = run(Par::SEQ);
        let b = run(pool.par());
        assert!(a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
    }

    /// Median wall ms of one bidiagonal SVD with vectors, one thread and the pool, for the sizes
    /// in `BDSDC_N` (default 256,512,1024); LAPACK's dbdsdc (NumPy's OpenBLAS) took 6.8 / 29 /
    /// 160 ms (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn bdsdc_timing() {
        crate::threads::set_num_threads(2);
        let pool = crate::threads::current();
        let sizes: Vec<usize> = std::env::var("BDSDC_N")
            .map(|v| v.split(',').map(|x| x.parse().unwrap()).collect())
            .unwrap_or(vec![256, 512, 1024]);
        for n in sizes {
            // the bidiagonal of a Gaussian matrix (its spectrum is the SVD's usual one)
            let mut a: Vec<f64> = (0..n * n).map(|i| crate::randomized::gaussian(5, i as u64)).collect();
            let (mut d0, mut e0) = (vec![0.0; n], vec![0.0; n]);
            let (mut tq, mut tp) = (vec![0.0; n], vec![0.0; n]);
            let mut work = vec![0.0; crate::gebrd::work_len(n, n)];
            crate::gebrd::gebrd(&mut a, n, n, &mut d0, &mut e0, &mut tq, &mut tp, &mut work, Par::SEQ);
            e0.pop();
            let mut u = vec![0.0; n * n];
            let mut vt = vec![0.0; n * n];
            let mut line = format!("n = {n}:");
            for (name, par) in [("one thread", Par::SEQ), ("pool", pool.par())] {
                let mut t = Vec::new();
                for _ in 0..std::env::var("BDSDC_REPS").map_or(5, |v| v.parse().unwrap()) {
                    let mut d = d0.clone();
                    let t0 = std::time::Instant::now();
                    assert!(bdsdc(&mut d, &e0, &mut u, n, &mut vt, n, par));
                    t.push(t0.elapsed().as_secs_f64() * 1e3);
                }
                t.sort_by(|a, b| a.partial_cmp(b).unwrap());
                line += &format!(" {name} {:.2} ms", t[2]);
            }
            println!("{line}");
        }
    }
}
