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
}
