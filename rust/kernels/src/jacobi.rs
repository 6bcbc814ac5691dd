//! Cyclic two-sided Jacobi for small symmetric matrices.
//!
//! For tiny matrices the set-up of a blocked tridiagonalisation (workspace layout, Householder
//! blocks, the QR / divide-and-conquer driver) costs more than the arithmetic; a few Jacobi
//! sweeps over a matrix that fits in L1 are faster, and Jacobi is at least as accurate
//! (Demmel & Veselić: relative accuracy on graded matrices) and gives orthogonal vectors to
//! working precision. Rotations use Rutishauser's stable formulas (Golub & Van Loan, 8.5.2).
//! Jacobi costs ~6 n^3 flops per sweep against ~9 n^3 in all for tridiagonalisation, so it only
//! pays for small n (see `eigh::JACOBI_MAX_N`).

use crate::scalar::Real;

/// Sweeps after which we give up (quadratic convergence makes 6-10 the norm for n <= 32).
const MAX_SWEEPS: usize = 40;

/// Rotates columns `p` and `q` of the column-major `n x n` matrix `m`:
/// `(m[:, p], m[:, q]) <- (c m[:, p] - s m[:, q], s m[:, p] + c m[:, q])`.
#[inline(always)]
fn rotate_cols<T: Real>(m: &mut [T], n: usize, p: usize, q: usize, c: T, s: T) {
    debug_assert!(p < q);
    let (left, right) = m.split_at_mut(q * n);
    let cp = &mut left[p * n..p * n + n];
    let cq = &mut right[..n];
    for (x, y) in cp.iter_mut().zip(cq.iter_mut()) {
        let (xp, xq) = (*x, *y);
        *x = c * xp - s * xq;
        *y = s * xp + c * xq;
    }
}

/// Diagonalises the full symmetric `n x n` matrix `a` (column-major, both triangles set;
/// destroyed) in place: `w` gets the eigenvalues (unsorted) and `u` (if given, `n x n`
/// column-major) the eigenvectors as columns. Returns false if it did not converge.
pub fn jacobi_eigh<T: Real>(a: &mut [T], n: usize, mut u: Option<&mut [T]>, w: &mut [T]) -> bool {
    assert!(a.len() == n * n && w.len() == n);
    if let Some(u) = u.as_mut() {
        assert!(u.len() == n * n);
        u.fill(T::ZERO);
        for i in 0..n {
            u[i * n + i] = T::ONE;
        }
    }
    // absolute floor for skipping: off-diagonal elements below eps * ||A||_F / n each change the
    // backward error by at most eps ||A||_F in total, and keep zero diagonals from stalling
    let fro = a.iter().fold(T::ZERO, |s, &x| s + x * x).sqrt();
    let eps = T::EPSILON;
    let floor = eps * fro / T::from_f64(n.max(1) as f64);
    let half = T::from_f64(0.5);
    let big = T::ONE / eps;
    let mut converged = n <= 1;
    for _sweep in 0..MAX_SWEEPS {
        if converged {
            break;
        }
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[q * n + p];
                let app = a[p * n + p];
                let aqq = a[q * n + q];
                // negligible relative to the diagonal (Demmel-Veselić, keeps relative accuracy)
                // or absolutely
                if apq.abs() <= floor || apq.abs() <= eps * (app.abs() * aqq.abs()).sqrt() {
                    continue;
                }
                rotated = true;
                let theta = (aqq - app) * half / apq;
                let t = if theta.abs() > big {
                    half / theta // theta^2 + 1 == theta^2: avoid the overflow
                } else {
                    let t = T::ONE / (theta.abs() + (theta * theta + T::ONE).sqrt());
                    if theta < T::ZERO {
                        T::ZERO - t
                    } else {
                        t
                    }
                };
                let c = T::ONE / (t * t + T::ONE).sqrt();
                let s = t * c;
                // A <- J^T A J: columns p, q (contiguous), then rows p, q from symmetry; the 2x2
                // block gets the exact rotated values (Rutishauser's updates, a_pq = 0)
                rotate_cols(a, n, p, q, c, s);
                for r in 0..n {
                    a[r * n + p] = a[p * n + r];
                    a[r * n + q] = a[q * n + r];
                }
                a[p * n + p] = app - t * apq;
                a[q * n + q] = aqq + t * apq;
                a[q * n + p] = T::ZERO;
                a[p * n + q] = T::ZERO;
                if let Some(u) = u.as_mut() {
                    rotate_cols(u, n, p, q, c, s);
                }
            }
        }
        converged = !rotated;
    }
    for (i, wi) in w.iter_mut().enumerate() {
        *wi = a[i * n + i];
    }
    converged
}
