//! Householder tridiagonalisation + implicit QL with Wilkinson-like shifts, unblocked, for small
//! symmetric matrices (EISPACK's `tred2` / `tql2`, in the 0-based form of Numerical Recipes'
//! `tred2` / `tqli`).
//!
//! Below n ~ 32 faer's blocked `self_adjoint_evd` spends most of its time on set-up (workspace
//! layout, block Householder reflectors, its driver), and cyclic Jacobi costs ~6 n^3 flops per
//! sweep; this classical pair needs ~(4/3 + 3) n^3 flops with vectors and no allocation, so it is
//! the fastest for stacks of small matrices. Backward stable like any orthogonal reduction.
//! The input must already lie in a safe range (`eigh` scales it), so the plain sums of squares
//! here neither overflow nor underflow harmfully.

use crate::scalar::{copysign, hyp, Real};

/// Iterations allowed per eigenvalue before giving up (QL converges in ~2 per eigenvalue).
const MAX_ITERS: usize = 60;

/// Eigenvalues (unsorted, into `d`) and, if `vectors`, eigenvectors of the symmetric `n x n`
/// matrix `a` (row-major, lower triangle read; destroyed). The eigenvectors come back as the
/// rows of `zt` (`n x n`, row `j` is the eigenvector of `d[j]`). `e` is scratch of length n.
/// Returns false if QL did not converge.
#[cfg_attr(not(test), allow(dead_code))]
pub fn tql_eigh<T: Real>(a: &mut [T], n: usize, vectors: bool, d: &mut [T], e: &mut [T], zt: &mut [T]) -> bool {
    assert!(a.len() == n * n && d.len() == n && e.len() == n);
    assert!(!vectors || zt.len() == n * n);
    if n == 0 {
        return true;
    }
    tred2(a, n, vectors, d, e);
    if vectors {
        // rows of zt are columns of Q: QL rotates pairs of them, contiguous this way
        for i in 0..n {
            for k in 0..n {
                zt[i * n + k] = a[k * n + i];
            }
        }
    }
    tql2(n, d, e, if vectors { Some(zt) } else { None })
}

/// Reduces `a` (row-major, lower triangle) to tridiagonal form: diagonal `d`, sub-diagonal in
/// `e[1..]`; with `vectors`, `a` is replaced by the orthogonal `Q` (`A = Q T Q^T`).
fn tred2<T: Real>(a: &mut [T], n: usize, vectors: bool, d: &mut [T], e: &mut [T]) {
    let two = T::ONE + T::ONE;
    for i in (1..n).rev() {
        let l = i - 1;
        let mut h = T::ZERO;
        if l > 0 {
            let mut scale = T::ZERO;
            for k in 0..=l {
                scale += a[i * n + k].abs();
            }
            if scale == T::ZERO {
                e[i] = a[i * n + l];
            } else {
                for k in 0..=l {
                    a[i * n + k] /= scale;
                    h += a[i * n + k] * a[i * n + k];
                }
                let mut f = a[i * n + l];
                let mut g = if f >= T::ZERO { T::ZERO - h.sqrt() } else { h.sqrt() };
                e[i] = scale * g;
                h -= f * g;
                a[i * n + l] = f - g;
                f = T::ZERO;
                for j in 0..=l {
                    if vectors {
                        a[j * n + i] = a[i * n + j] / h;
                    }
                    g = T::ZERO;
                    for k in 0..=j {
                        g += a[j * n + k] * a[i * n + k];
                    }
                    for k in j + 1..=l {
                        g += a[k * n + j] * a[i * n + k];
                    }
                    e[j] = g / h;
                    f += e[j] * a[i * n + j];
                }
                let hh = f / (h * two);
                for j in 0..=l {
                    let f = a[i * n + j];
                    let g = e[j] - hh * f;
                    e[j] = g;
                    for k in 0..=j {
                        a[j * n + k] -= f * e[k] + g * a[i * n + k];
                    }
                }
            }
        } else {
            e[i] = a[i * n + l];
        }
        d[i] = h;
    }
    d[0] = T::ZERO;
    e[0] = T::ZERO;
    for i in 0..n {
        if vectors {
            if d[i] != T::ZERO {
                for j in 0..i {
                    let mut g = T::ZERO;
                    for k in 0..i {
                        g += a[i * n + k] * a[k * n + j];
                    }
                    for k in 0..i {
                        a[k * n + j] -= g * a[k * n + i];
                    }
                }
            }
            d[i] = a[i * n + i];
            a[i * n + i] = T::ONE;
            for j in 0..i {
                a[j * n + i] = T::ZERO;
                a[i * n + j] = T::ZERO;
            }
        } else {
            d[i] = a[i * n + i];
        }
    }
}

/// Implicit QL on the tridiagonal (`d`, sub-diagonal `e[1..]`), accumulating the rotations into
/// the rows of `zt`. Eigenvalues end in `d`.
#[inline(always)]
pub(crate) fn tql2<T: Real>(n: usize, d: &mut [T], e: &mut [T], mut zt: Option<&mut [T]>) -> bool {
    let eps = T::EPSILON;
    let two = T::ONE + T::ONE;
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = T::ZERO;
    let mut tnorm = T::ZERO;
    for i in 0..n {
        let x = d[i].abs() + e[i].abs();
        if x > tnorm {
            tnorm = x;
        }
    }
    let negligible = eps * eps * tnorm;
    for l in 0..n {
        let mut iter = 0;
        loop {
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                // An off-diagonal below eps^2 ||T|| is dropped too, whatever its neighbours
                // (LAPACK's `steqr` has the same second test, in its scaled form): next to zero
                // diagonals a subnormal one would otherwise make the shift overflow. Dropping it
                // perturbs T far below the eps ||T|| the backward error allows.
                if e[m].abs() <= eps * dd || e[m].abs() <= negligible {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            if iter > MAX_ITERS {
                return false;
            }
            let mut g = (d[l + 1] - d[l]) / (two * e[l]);
            let mut r = hyp(g, T::ONE);
            g = d[m] - d[l] + e[l] / (g + copysign(r, g));
            let (mut s, mut c, mut p) = (T::ONE, T::ONE, T::ZERO);
            let mut underflow = false;
            let mut i = m;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = hyp(f, g);
                e[i + 1] = r;
                if r == T::ZERO {
                    // recover from underflow: deflate here and start again
                    d[i + 1] -= p;
                    e[m] = T::ZERO;
                    underflow = true;
                    break;
                }
                let rinv = T::ONE / r;
                s = f * rinv;
                c = g * rinv;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + two * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                if let Some(z) = zt.as_mut() {
                    let (lo, hi) = z.split_at_mut((i + 1) * n);
                    let zi = &mut lo[i * n..];
                    let zi1 = &mut hi[..n];
                    for (x, y) in zi.iter_mut().zip(zi1.iter_mut()) {
                        let f = *y;
                        *y = s * *x + c * f;
                        *x = c * *x - s * f;
                    }
                }
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[m] = T::ZERO;
        }
    }
    true
}
