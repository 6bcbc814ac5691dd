//! Cyclic two-sided Jacobi for small symmetric matrices.
//!
//! For tiny matrices the set-up of a blocked tridiagonalisation (workspace layout, Householder
//! blocks, the QR / divide-and-conquer driver) costs more than the arithmetic; a few Jacobi
//! sweeps over a matrix that fits in L1 are faster, and Jacobi is at least as accurate
//! (Demmel & Veselić: relative accuracy on graded matrices) and gives orthogonal vectors to
//! working precision. Rotations use Rutishauser's stable formulas (Golub & Van Loan, 8.5.2).

use crate::scalar::Real;
use faer::MatMut;

/// Sweeps after which we give up (quadratic convergence makes 6-10 the norm for n <= 32).
const MAX_SWEEPS: usize = 40;

/// Diagonalises the full symmetric matrix `a` (both triangles set, column-major; destroyed) in
/// place: `w` gets the eigenvalues (unsorted), `u` (if given) the eigenvectors as columns.
/// Returns false if it did not converge.
pub fn jacobi_eigh<T: Real>(mut a: MatMut<'_, T>, mut u: Option<MatMut<'_, T>>, w: &mut [T]) -> bool {
    let n = a.nrows();
    if let Some(u) = u.as_mut() {
        for j in 0..n {
            for i in 0..n {
                u[(i, j)] = if i == j { T::ONE } else { T::ZERO };
            }
        }
    }
    // absolute floor for skipping: an off-diagonal element below eps * ||A||_F / n changes the
    // backward error by at most eps ||A|| in total
    let mut fro = T::ZERO;
    for j in 0..n {
        for i in 0..n {
            fro = fro + a[(i, j)] * a[(i, j)];
        }
    }
    let eps = T::EPSILON;
    let floor = eps * fro.sqrt() / T::from_f64(n.max(1) as f64);
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
                let apq = a[(p, q)];
                let app = a[(p, p)];
                let aqq = a[(q, q)];
                // skip if negligible relative to the diagonal (keeps relative accuracy) or
                // absolutely (keeps zero diagonals from stalling)
                if apq.abs() <= floor || apq.abs() <= eps * (app.abs() * aqq.abs()).sqrt() {
                    continue;
                }
                rotated = true;
                let theta = (aqq - app) * half / apq;
                let t = if theta.abs() > big {
                    half / theta
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
                a[(p, p)] = app - t * apq;
                a[(q, q)] = aqq + t * apq;
                a[(p, q)] = T::ZERO;
                a[(q, p)] = T::ZERO;
                for r in 0..n {
                    if r != p && r != q {
                        let arp = a[(r, p)];
                        let arq = a[(r, q)];
                        let np = c * arp - s * arq;
                        let nq = s * arp + c * arq;
                        a[(r, p)] = np;
                        a[(r, q)] = nq;
                        a[(p, r)] = np;
                        a[(q, r)] = nq;
                    }
                }
                if let Some(u) = u.as_mut() {
                    for r in 0..n {
                        let urp = u[(r, p)];
                        let urq = u[(r, q)];
                        u[(r, p)] = c * urp - s * urq;
                        u[(r, q)] = s * urp + c * urq;
                    }
                }
            }
        }
        converged = !rotated;
    }
    for (i, wi) in w.iter_mut().enumerate().take(n) {
        *wi = a[(i, i)];
    }
    converged
}
