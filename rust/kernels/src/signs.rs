//! The sign convention of eigenvectors and singular vectors (DESIGN.md): the largest-magnitude
//! component of each eigenvector, and of each right singular vector (each row of `Vh`, with the
//! matching column of `U` flipped alongside), is positive, as scikit-learn's
//! `svd_flip(..., u_based_decision=False)`. Ties go to the first such component. Results are
//! then the same from run to run, for any thread count and any LAPACK-like backend.

use crate::scalar::Real;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{ColMut, MatMut};

/// Whether `v` must be negated so that its largest-magnitude component is positive.
pub fn needs_flip<T: Real>(v: impl Iterator<Item = T>) -> bool {
    let mut best = T::ZERO;
    let mut best_abs = T::NEG_INFINITY;
    for x in v {
        if x.abs() > best_abs {
            best_abs = x.abs();
            best = x;
        }
    }
    best < T::ZERO
}

fn negate<T: Real>(col: ColMut<'_, T>) {
    for x in col.iter_mut() {
        *x = T::ZERO - *x;
    }
}

/// Flips each column of `v` (eigenvectors as columns) so its largest-magnitude component is positive.
pub fn normalize_columns<T: Real>(mut v: MatMut<'_, T>) {
    for j in 0..v.ncols() {
        if needs_flip(v.rb().col(j).iter().copied()) {
            negate(v.rb_mut().col_mut(j));
        }
    }
}

/// Columns per side of [`write_columns`]' tiles: 32 x 32 f64 is 8 KiB, in L1 with room to spare.
const TILE: usize = 32;

/// `dst[:, k] = sign[k] * src[col(k) * ld..][..m]` for every column `k` of the `m x c` `dst`,
/// whatever `dst`'s strides: the vectors of a decomposition (column-major scratch, columns in any
/// order) written out with their signs. A row-major `dst` (NumPy's usual result) is written in
/// tiles of [`TILE`] x [`TILE`], along its rows while `src` is read along its columns: column by
/// column, every element of a C-order result of order 1024 had been a cache and TLB miss of its
/// own (`eigh` of order 1024 spent ~10% of its time writing its eigenvectors that way).
/// Multiplying by a sign of +-1 is exact, so this is a copy as far as the bits go.
pub(crate) fn write_columns<T: Real>(src: &[T], ld: usize, col: impl Fn(usize) -> usize, sign: &[T], mut dst: MatMut<'_, T>) {
    let (m, c) = (dst.nrows(), dst.ncols());
    assert!(sign.len() >= c && m <= ld);
    let (rs, cs) = (dst.row_stride(), dst.col_stride());
    let p = dst.rb_mut().as_ptr_mut();
    if rs.unsigned_abs() <= cs.unsigned_abs() {
        for k in 0..c {
            let (s, g) = (&src[col(k) * ld..][..m], sign[k]);
            for (i, &x) in s.iter().enumerate() {
                // SAFETY: (i, k) lies inside the m x c view `dst`.
                unsafe { *p.offset(i as isize * rs + k as isize * cs) = g * x };
            }
        }
        return;
    }
    let mut off = [0usize; TILE];
    for k0 in (0..c).step_by(TILE) {
        let kn = TILE.min(c - k0);
        for (t, o) in off[..kn].iter_mut().enumerate() {
            *o = col(k0 + t) * ld;
            assert!(*o + m <= src.len());
        }
        for i0 in (0..m).step_by(TILE) {
            for i in i0..(i0 + TILE).min(m) {
                // SAFETY: row i of `dst`, columns k0..k0 + kn, inside the view.
                let row = unsafe { p.offset(i as isize * rs + k0 as isize * cs) };
                for t in 0..kn {
                    // SAFETY: as above; `off[t] + i < src.len()` was checked (i < m).
                    unsafe { *row.offset(t as isize * cs) = sign[k0 + t] * *src.get_unchecked(off[t] + i) };
                }
            }
        }
    }
}

/// The sign, +-1, that [`needs_flip`] gives `v`.
pub(crate) fn sign_of<T: Real>(v: impl Iterator<Item = T>) -> T {
    if needs_flip(v) {
        T::ZERO - T::ONE
    } else {
        T::ONE
    }
}

/// Flips each row of `vh` so its largest-magnitude component is positive, and the matching
/// column of `u` with it (so that `u @ diag(s) @ vh` is unchanged).
pub fn normalize_svd<T: Real>(mut u: MatMut<'_, T>, mut vh: MatMut<'_, T>) {
    for i in 0..vh.nrows() {
        if needs_flip(vh.rb().row(i).iter().copied()) {
            negate(vh.rb_mut().row_mut(i).transpose_mut());
            if i < u.ncols() {
                negate(u.rb_mut().col_mut(i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_component_becomes_positive() {
        let mut v = faer::Mat::<f64>::from_fn(3, 2, |i, j| [[1.0, -3.0], [-2.0, 1.0], [0.5, 2.0]][i][j]);
        normalize_columns(v.as_mut());
        assert_eq!(v[(1, 0)], 2.0); // column 0's largest |x| was -2
        assert_eq!(v[(1, 1)], -1.0); // column 1's largest |x| was -3: flipped
        assert_eq!(v[(0, 1)], 3.0);
    }

    /// write_columns gathers, signs and places every column for row-major, column-major and
    /// negatively strided destinations, across tile edges (sizes not multiples of TILE).
    #[test]
    fn write_columns_every_layout() {
        let (m, c, ld) = (37, 70, 41);
        let src: Vec<f64> = (0..ld * (c + 3)).map(|x| x as f64 + 0.5).collect();
        let col = |k: usize| (k * 7 + 2) % (c + 3);
        let sign: Vec<f64> = (0..c).map(|k| if k % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let want = faer::Mat::<f64>::from_fn(m, c, |i, k| sign[k] * src[col(k) * ld + i]);
        let mut buf = vec![0.0; m * c];
        write_columns(&src, ld, col, &sign, faer::MatMut::from_row_major_slice_mut(&mut buf, m, c));
        assert_eq!(faer::MatRef::from_row_major_slice(&buf, m, c), want.as_ref());
        buf.fill(0.0);
        write_columns(&src, ld, col, &sign, faer::MatMut::from_column_major_slice_mut(&mut buf, m, c));
        assert_eq!(faer::MatRef::from_column_major_slice(&buf, m, c), want.as_ref());
        buf.fill(0.0);
        write_columns(&src, ld, col, &sign, faer::MatMut::from_row_major_slice_mut(&mut buf, m, c).reverse_rows_mut());
        assert_eq!(faer::MatRef::from_row_major_slice(&buf, m, c).reverse_rows(), want.as_ref());
    }
}
