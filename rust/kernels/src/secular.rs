//! The secular equation of a symmetric rank-one update of a diagonal matrix: the eigenvalues of
//! `diag(d) + rho z z^T` (`d` strictly increasing, `||z||_2 = 1`, `rho > 0`) are the roots of
//!
//! ```text
//!     f(lambda) = 1/rho + sum_j z_j^2 / (d_j - lambda),
//! ```
//! one in each interval `(d_i, d_{i+1})` and the last in `(d_{n-1}, d_{n-1} + rho]`. This is the
//! root finder a divide-and-conquer eigensolver calls once per eigenvalue of each merge.
//!
//! A translation of LAPACK 3.x's `dlaed4` (with its helpers `dlaed5`, the case n = 2, and
//! `dlaed6`, the three-pole interpolation), by Ren-Cang Li (University of California at Berkeley);
//! LAPACK is BSD-licensed, (c) the University of Tennessee, the University of California Berkeley,
//! the University of Colorado Denver and NAG Ltd. The translation keeps LAPACK's structure (and its
//! comments where they explain why) so that it can be read line by line against the Fortran;
//! indices are 0-based. Deviations, all in what is written to `delta`:
//! - n = 1 and n = 2: LAPACK's `DELTA` holds `1` resp. the normalized eigenvector; here it holds
//!   `d_j - lambda` as for n >= 3 (the eigenvector is `z_j / delta_j` normalized in every case).
//!
//! Every `d_j - lambda` is computed from the shifted origin (the pole nearer to the root),
//! `(d_j - d_origin) - tau`, never as `d_j - lambda`: `lambda = d_origin + tau` is rounded to the
//! magnitude of `d`, while `tau` and the differences to the nearest poles keep their own relative
//! accuracy, which is what makes the eigenvectors `z_j / delta_j` orthogonal.

use crate::scalar::Real;

/// Iterations allowed per root (LAPACK's `MAXIT` in `dlaed4`).
const MAXIT: usize = 30;
/// Iterations allowed in [`laed6`] (LAPACK's `MAXIT` in `dlaed6`).
const MAXIT6: usize = 40;

#[inline(always)]
pub(crate) fn k<T: Real>(x: f64) -> T {
    T::from_f64(x)
}

/// LAPACK's `dlamch('Epsilon')`: the relative rounding error `2^-p` (half of `T::EPSILON`).
#[inline(always)]
pub(crate) fn eps<T: Real>() -> T {
    T::EPSILON * k::<T>(0.5)
}

#[inline(always)]
pub(crate) fn max<T: Real>(a: T, b: T) -> T {
    if a >= b {
        a
    } else {
        b
    }
}

#[inline(always)]
pub(crate) fn min<T: Real>(a: T, b: T) -> T {
    if a <= b {
        a
    } else {
        b
    }
}

/// Evaluates `psi = sum z_j^2 / delta_j` and its derivative `dpsi = sum (z_j / delta_j)^2` over
/// `j in 0..end` (the poles left of the origin), and LAPACK's running error bound
/// `|sum of the partial sums of psi|`.
#[inline(always)]
fn eval_psi<T: Real>(z: &[T], delta: &[T], end: usize) -> (T, T, T) {
    let (mut psi, mut dpsi, mut erretm) = (T::ZERO, T::ZERO, T::ZERO);
    for j in 0..end {
        let temp = z[j] / delta[j];
        psi += z[j] * temp;
        dpsi += temp * temp;
        erretm += psi;
    }
    (psi, dpsi, erretm.abs())
}

/// Evaluates `phi = sum z_j^2 / delta_j` and its derivative `dphi` over `j = n-1` down to `start`
/// (the poles right of the origin), adding the partial sums of `phi` to `erretm`.
#[inline(always)]
fn eval_phi<T: Real>(z: &[T], delta: &[T], start: usize, erretm: &mut T) -> (T, T) {
    let (mut phi, mut dphi) = (T::ZERO, T::ZERO);
    for j in (start..z.len()).rev() {
        let temp = z[j] / delta[j];
        phi += z[j] * temp;
        dphi += temp * temp;
        *erretm += phi;
    }
    (phi, dphi)
}

/// The `i`-th (0-based) eigenvalue of `diag(d) + rho z z^T`, `d` strictly increasing,
/// `||z||_2 = 1`, `rho > 0` (LAPACK's `dlaed4`).
///
/// Writes `delta[j] = d[j] - lambda_i` (computed accurately, relative to the nearer pole) for all
/// `j` and returns `lambda_i`; `None` if the iteration did not converge (LAPACK's `INFO > 0`).
/// The method consists of approximating the rational functions in the secular equation by
/// simpler interpolating rational functions.
pub(crate) fn laed4<T: Real>(i: usize, d: &[T], z: &[T], delta: &mut [T], rho: T) -> Option<T> {
    let n = d.len();
    assert!(n >= 1 && i < n && z.len() == n && delta.len() == n);
    // Since this routine is called in an inner loop, we do no argument checking.
    //
    // Quick return for N=1 and 2.
    if n == 1 {
        // Presumably, I=1 upon entry
        let tau = rho * z[0] * z[0];
        delta[0] = -tau;
        return Some(d[0] + tau);
    }
    if n == 2 {
        return Some(laed5(i, d, z, delta, rho));
    }
    if i == n - 1 {
        last_root(d, z, delta, rho)
    } else {
        interior_root(i, d, z, delta, rho)
    }
}

/// `dlaed4`'s case I = N: the root in `(d[n-1], d[n-1] + rho]`, with `d[n-1]` as the origin.
fn last_root<T: Real>(d: &[T], z: &[T], delta: &mut [T], rho: T) -> Option<T> {
    let (two, four, eight) = (k::<T>(2.0), k::<T>(4.0), k::<T>(8.0));
    let n = d.len();
    let i = n - 1;
    let eps = eps::<T>();
    let rhoinv = T::ONE / rho;

    // Initialize some basic variables (LAPACK's II = N - 1, here 0-based)
    let ii = n - 2;
    let mut niter = 1;

    // Calculate initial guess
    let midpt = rho / two;

    // If ||Z||_2 is not one, then TEMP should be set to RHO * ||Z||_2^2 / TWO
    for j in 0..n {
        delta[j] = (d[j] - d[i]) - midpt;
    }
    let mut psi = T::ZERO;
    for j in 0..n - 2 {
        psi += z[j] * z[j] / delta[j];
    }
    let c = rhoinv + psi;
    let w = c + z[ii] * z[ii] / delta[ii] + z[n - 1] * z[n - 1] / delta[n - 1];

    let mut tau;
    let mut dltlb;
    let mut dltub;
    if w <= T::ZERO {
        let temp = z[n - 2] * z[n - 2] / (d[n - 1] - d[n - 2] + rho) + z[n - 1] * z[n - 1] / rho;
        if c <= temp {
            tau = rho;
        } else {
            let del = d[n - 1] - d[n - 2];
            let a = -c * del + z[n - 2] * z[n - 2] + z[n - 1] * z[n - 1];
            let b = z[n - 1] * z[n - 1] * del;
            tau = if a < T::ZERO {
                two * b / ((a * a + four * b * c).sqrt() - a)
            } else {
                (a + (a * a + four * b * c).sqrt()) / (two * c)
            };
        }
        // It can be proved that
        //     D(N)+RHO/2 <= LAMBDA(N) < D(N)+TAU <= D(N)+RHO
        dltlb = midpt;
        dltub = rho;
    } else {
        let del = d[n - 1] - d[n - 2];
        let a = -c * del + z[n - 2] * z[n - 2] + z[n - 1] * z[n - 1];
        let b = z[n - 1] * z[n - 1] * del;
        tau = if a < T::ZERO {
            two * b / ((a * a + four * b * c).sqrt() - a)
        } else {
            (a + (a * a + four * b * c).sqrt()) / (two * c)
        };
        // It can be proved that
        //     D(N) < D(N)+TAU < LAMBDA(N) < D(N)+RHO/2
        dltlb = T::ZERO;
        dltub = midpt;
    }

    for j in 0..n {
        delta[j] = (d[j] - d[i]) - tau;
    }

    // Evaluate PSI and the derivative DPSI
    let (mut psi, mut dpsi, mut erretm) = eval_psi(z, delta, ii + 1);

    // Evaluate PHI and the derivative DPHI
    let temp = z[n - 1] / delta[n - 1];
    let mut phi = z[n - 1] * temp;
    let mut dphi = temp * temp;
    erretm = eight * (-phi - psi) + erretm - phi + rhoinv + tau.abs() * (dpsi + dphi);

    let mut w = rhoinv + phi + psi;

    // Test for convergence
    if w.abs() <= eps * erretm {
        return Some(d[i] + tau);
    }

    if w <= T::ZERO {
        dltlb = max(dltlb, tau);
    } else {
        dltub = min(dltub, tau);
    }

    // Calculate the new step
    niter += 1;
    let mut c = w - delta[n - 2] * dpsi - delta[n - 1] * dphi;
    let a = (delta[n - 2] + delta[n - 1]) * w - delta[n - 2] * delta[n - 1] * (dpsi + dphi);
    let b = delta[n - 2] * delta[n - 1] * w;
    if c < T::ZERO {
        c = c.abs();
    }
    let mut eta = if c == T::ZERO {
        // ETA = B/A
        // ETA = RHO - TAU
        dltub - tau
    } else if a >= T::ZERO {
        (a + (a * a - four * b * c).abs().sqrt()) / (two * c)
    } else {
        two * b / (a - (a * a - four * b * c).abs().sqrt())
    };

    // Note, eta should be positive if w is negative, and
    // eta should be negative otherwise. However,
    // if for some reason caused by roundoff, eta*w > 0,
    // we simply use one Newton step instead. This way
    // will guarantee eta*w < 0.
    if w * eta > T::ZERO {
        eta = -w / (dpsi + dphi);
    }
    let temp = tau + eta;
    if temp > dltub || temp < dltlb {
        eta = if w < T::ZERO { (dltub - tau) / two } else { (dltlb - tau) / two };
    }
    for dj in delta.iter_mut() {
        *dj -= eta;
    }

    tau += eta;

    // Evaluate PSI and the derivative DPSI
    (psi, dpsi, erretm) = eval_psi(z, delta, ii + 1);

    // Evaluate PHI and the derivative DPHI
    let temp = z[n - 1] / delta[n - 1];
    phi = z[n - 1] * temp;
    dphi = temp * temp;
    erretm = eight * (-phi - psi) + erretm - phi + rhoinv + tau.abs() * (dpsi + dphi);

    w = rhoinv + phi + psi;

    // Main loop to update the values of the array DELTA
    for _niter in niter + 1..=MAXIT {
        // Test for convergence
        if w.abs() <= eps * erretm {
            return Some(d[i] + tau);
        }

        if w <= T::ZERO {
            dltlb = max(dltlb, tau);
        } else {
            dltub = min(dltub, tau);
        }

        // Calculate the new step
        let c = w - delta[n - 2] * dpsi - delta[n - 1] * dphi;
        let a = (delta[n - 2] + delta[n - 1]) * w - delta[n - 2] * delta[n - 1] * (dpsi + dphi);
        let b = delta[n - 2] * delta[n - 1] * w;
        let mut eta = if a >= T::ZERO {
            (a + (a * a - four * b * c).abs().sqrt()) / (two * c)
        } else {
            two * b / (a - (a * a - four * b * c).abs().sqrt())
        };

        // Note, eta should be positive if w is negative, and
        // eta should be negative otherwise. However,
        // if for some reason caused by roundoff, eta*w > 0,
        // we simply use one Newton step instead. This way
        // will guarantee eta*w < 0.
        if w * eta > T::ZERO {
            eta = -w / (dpsi + dphi);
        }
        let temp = tau + eta;
        if temp > dltub || temp < dltlb {
            eta = if w < T::ZERO { (dltub - tau) / two } else { (dltlb - tau) / two };
        }
        for dj in delta.iter_mut() {
            *dj -= eta;
        }

        tau += eta;

        // Evaluate PSI and the derivative DPSI
        (psi, dpsi, erretm) = eval_psi(z, delta, ii + 1);

        // Evaluate PHI and the derivative DPHI
        let temp = z[n - 1] / delta[n - 1];
        phi = z[n - 1] * temp;
        dphi = temp * temp;
        erretm = eight * (-phi - psi) + erretm - phi + rhoinv + tau.abs() * (dpsi + dphi);

        w = rhoinv + phi + psi;
    }

    // Return with INFO = 1, NITER = MAXIT and not converged
    None
}

/// `dlaed4`'s case I < N: the root in `(d[i], d[i+1])`, with the nearer of the two poles as the
/// origin.
fn interior_root<T: Real>(i: usize, d: &[T], z: &[T], delta: &mut [T], rho: T) -> Option<T> {
    let (two, three, four, eight, ten) = (k::<T>(2.0), k::<T>(3.0), k::<T>(4.0), k::<T>(8.0), k::<T>(10.0));
    let n = d.len();
    let eps = eps::<T>();
    let rhoinv = T::ONE / rho;

    let mut niter = 1;
    let ip1 = i + 1;

    // Calculate initial guess
    let del = d[ip1] - d[i];
    let midpt = del / two;
    for j in 0..n {
        delta[j] = (d[j] - d[i]) - midpt;
    }

    let mut psi = T::ZERO;
    for j in 0..i {
        psi += z[j] * z[j] / delta[j];
    }

    let mut phi = T::ZERO;
    for j in (i + 2..n).rev() {
        phi += z[j] * z[j] / delta[j];
    }
    let c = rhoinv + psi + phi;
    let w = c + z[i] * z[i] / delta[i] + z[ip1] * z[ip1] / delta[ip1];

    let orgati;
    let mut tau;
    let mut dltlb;
    let mut dltub;
    if w > T::ZERO {
        // d(i)< the ith eigenvalue < (d(i)+d(i+1))/2
        //
        // We choose d(i) as origin.
        orgati = true;
        let a = c * del + z[i] * z[i] + z[ip1] * z[ip1];
        let b = z[i] * z[i] * del;
        tau = if a > T::ZERO {
            two * b / (a + (a * a - four * b * c).abs().sqrt())
        } else {
            (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
        };
        dltlb = T::ZERO;
        dltub = midpt;
    } else {
        // (d(i)+d(i+1))/2 <= the ith eigenvalue < d(i+1)
        //
        // We choose d(i+1) as origin.
        orgati = false;
        let a = c * del - z[i] * z[i] - z[ip1] * z[ip1];
        let b = z[ip1] * z[ip1] * del;
        tau = if a < T::ZERO {
            two * b / (a - (a * a + four * b * c).abs().sqrt())
        } else {
            -(a + (a * a + four * b * c).abs().sqrt()) / (two * c)
        };
        dltlb = -midpt;
        dltub = T::ZERO;
    }

    let origin = if orgati { d[i] } else { d[ip1] };
    for j in 0..n {
        delta[j] = (d[j] - origin) - tau;
    }
    // `ii` is the origin's index; `ii - 1` and `ii + 1` (LAPACK's IIM1, IIP1) are used only when
    // they exist (three-pole interpolation needs 0 < ii < n-1).
    let ii = if orgati { i } else { i + 1 };

    // Evaluate PSI and the derivative DPSI
    let (mut psi, mut dpsi, mut erretm) = eval_psi(z, delta, ii);

    // Evaluate PHI and the derivative DPHI
    let (mut phi, mut dphi) = eval_phi(z, delta, ii + 1, &mut erretm);

    let mut w = rhoinv + phi + psi;

    // W is the value of the secular function with
    // its ii-th element removed.
    let mut swtch3 = if orgati { w < T::ZERO } else { w > T::ZERO };
    if ii == 0 || ii == n - 1 {
        swtch3 = false;
    }

    let temp = z[ii] / delta[ii];
    let mut dw = dpsi + dphi + temp * temp;
    let temp = z[ii] * temp;
    w += temp;
    erretm = eight * (phi - psi) + erretm + two * rhoinv + three * temp.abs() + tau.abs() * dw;

    // Test for convergence
    if w.abs() <= eps * erretm {
        return Some(origin + tau);
    }

    if w <= T::ZERO {
        dltlb = max(dltlb, tau);
    } else {
        dltub = min(dltub, tau);
    }

    // Calculate the new step
    niter += 1;
    let mut eta;
    if !swtch3 {
        let c = if orgati {
            let t = z[i] / delta[i];
            w - delta[ip1] * dw - (d[i] - d[ip1]) * (t * t)
        } else {
            let t = z[ip1] / delta[ip1];
            w - delta[i] * dw - (d[ip1] - d[i]) * (t * t)
        };
        let mut a = (delta[i] + delta[ip1]) * w - delta[i] * delta[ip1] * dw;
        let b = delta[i] * delta[ip1] * w;
        eta = if c == T::ZERO {
            if a == T::ZERO {
                a = if orgati {
                    z[i] * z[i] + delta[ip1] * delta[ip1] * (dpsi + dphi)
                } else {
                    z[ip1] * z[ip1] + delta[i] * delta[i] * (dpsi + dphi)
                };
            }
            b / a
        } else if a <= T::ZERO {
            (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
        } else {
            two * b / (a + (a * a - four * b * c).abs().sqrt())
        };
    } else {
        // Interpolation using THREE most relevant poles
        let (iim1, iip1) = (ii - 1, ii + 1);
        let temp = rhoinv + psi + phi;
        let c;
        let mut zz = [T::ZERO; 3];
        if orgati {
            let mut temp1 = z[iim1] / delta[iim1];
            temp1 = temp1 * temp1;
            c = temp - delta[iip1] * (dpsi + dphi) - (d[iim1] - d[iip1]) * temp1;
            zz[0] = z[iim1] * z[iim1];
            zz[2] = delta[iip1] * delta[iip1] * ((dpsi - temp1) + dphi);
        } else {
            let mut temp1 = z[iip1] / delta[iip1];
            temp1 = temp1 * temp1;
            c = temp - delta[iim1] * (dpsi + dphi) - (d[iip1] - d[iim1]) * temp1;
            zz[0] = delta[iim1] * delta[iim1] * (dpsi + (dphi - temp1));
            zz[2] = z[iip1] * z[iip1];
        }
        zz[1] = z[ii] * z[ii];
        eta = laed6(niter, orgati, c, &[delta[iim1], delta[ii], delta[iip1]], &zz, w)?;
    }

    // Note, eta should be positive if w is negative, and
    // eta should be negative otherwise. However,
    // if for some reason caused by roundoff, eta*w > 0,
    // we simply use one Newton step instead. This way
    // will guarantee eta*w < 0.
    if w * eta >= T::ZERO {
        eta = -w / dw;
    }
    let temp = tau + eta;
    if temp > dltub || temp < dltlb {
        eta = if w < T::ZERO { (dltub - tau) / two } else { (dltlb - tau) / two };
    }

    let mut prew = w;

    for dj in delta.iter_mut() {
        *dj -= eta;
    }

    // Evaluate PSI and the derivative DPSI
    (psi, dpsi, erretm) = eval_psi(z, delta, ii);

    // Evaluate PHI and the derivative DPHI
    (phi, dphi) = eval_phi(z, delta, ii + 1, &mut erretm);

    let temp = z[ii] / delta[ii];
    dw = dpsi + dphi + temp * temp;
    let temp = z[ii] * temp;
    w = rhoinv + phi + psi + temp;
    erretm = eight * (phi - psi) + erretm + two * rhoinv + three * temp.abs() + (tau + eta).abs() * dw;

    let mut swtch = if orgati { -w > prew.abs() / ten } else { w > prew.abs() / ten };

    tau += eta;

    // Main loop to update the values of the array DELTA
    for niter in niter + 1..=MAXIT {
        // Test for convergence
        if w.abs() <= eps * erretm {
            return Some(origin + tau);
        }

        if w <= T::ZERO {
            dltlb = max(dltlb, tau);
        } else {
            dltub = min(dltub, tau);
        }

        // Calculate the new step
        let mut eta;
        if !swtch3 {
            let c = if !swtch {
                if orgati {
                    let t = z[i] / delta[i];
                    w - delta[ip1] * dw - (d[i] - d[ip1]) * (t * t)
                } else {
                    let t = z[ip1] / delta[ip1];
                    w - delta[i] * dw - (d[ip1] - d[i]) * (t * t)
                }
            } else {
                let temp = z[ii] / delta[ii];
                if orgati {
                    dpsi += temp * temp;
                } else {
                    dphi += temp * temp;
                }
                w - delta[i] * dpsi - delta[ip1] * dphi
            };
            let mut a = (delta[i] + delta[ip1]) * w - delta[i] * delta[ip1] * dw;
            let b = delta[i] * delta[ip1] * w;
            eta = if c == T::ZERO {
                if a == T::ZERO {
                    a = if !swtch {
                        if orgati {
                            z[i] * z[i] + delta[ip1] * delta[ip1] * (dpsi + dphi)
                        } else {
                            z[ip1] * z[ip1] + delta[i] * delta[i] * (dpsi + dphi)
                        }
                    } else {
                        delta[i] * delta[i] * dpsi + delta[ip1] * delta[ip1] * dphi
                    };
                }
                b / a
            } else if a <= T::ZERO {
                (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
            } else {
                two * b / (a + (a * a - four * b * c).abs().sqrt())
            };
        } else {
            // Interpolation using THREE most relevant poles
            let (iim1, iip1) = (ii - 1, ii + 1);
            let temp = rhoinv + psi + phi;
            let c;
            let mut zz = [T::ZERO; 3];
            if swtch {
                c = temp - delta[iim1] * dpsi - delta[iip1] * dphi;
                zz[0] = delta[iim1] * delta[iim1] * dpsi;
                zz[2] = delta[iip1] * delta[iip1] * dphi;
            } else if orgati {
                let mut temp1 = z[iim1] / delta[iim1];
                temp1 = temp1 * temp1;
                c = temp - delta[iip1] * (dpsi + dphi) - (d[iim1] - d[iip1]) * temp1;
                zz[0] = z[iim1] * z[iim1];
                zz[2] = delta[iip1] * delta[iip1] * ((dpsi - temp1) + dphi);
            } else {
                let mut temp1 = z[iip1] / delta[iip1];
                temp1 = temp1 * temp1;
                c = temp - delta[iim1] * (dpsi + dphi) - (d[iip1] - d[iim1]) * temp1;
                zz[0] = delta[iim1] * delta[iim1] * (dpsi + (dphi - temp1));
                zz[2] = z[iip1] * z[iip1];
            }
            zz[1] = z[ii] * z[ii];
            eta = laed6(niter, orgati, c, &[delta[iim1], delta[ii], delta[iip1]], &zz, w)?;
        }

        // Note, eta should be positive if w is negative, and
        // eta should be negative otherwise. However,
        // if for some reason caused by roundoff, eta*w > 0,
        // we simply use one Newton step instead. This way
        // will guarantee eta*w < 0.
        if w * eta >= T::ZERO {
            eta = -w / dw;
        }
        let temp = tau + eta;
        if temp > dltub || temp < dltlb {
            eta = if w < T::ZERO { (dltub - tau) / two } else { (dltlb - tau) / two };
        }

        for dj in delta.iter_mut() {
            *dj -= eta;
        }

        tau += eta;
        prew = w;

        // Evaluate PSI and the derivative DPSI
        (psi, dpsi, erretm) = eval_psi(z, delta, ii);

        // Evaluate PHI and the derivative DPHI
        (phi, dphi) = eval_phi(z, delta, ii + 1, &mut erretm);

        let temp = z[ii] / delta[ii];
        dw = dpsi + dphi + temp * temp;
        let temp = z[ii] * temp;
        w = rhoinv + phi + psi + temp;
        erretm = eight * (phi - psi) + erretm + two * rhoinv + three * temp.abs() + tau.abs() * dw;
        if w * prew > T::ZERO && w.abs() > prew.abs() / ten {
            swtch = !swtch;
        }
    }

    // Return with INFO = 1, NITER = MAXIT and not converged
    None
}

/// The `i`-th (0-based) eigenvalue of the 2 x 2 matrix `diag(d) + rho z z^T`, `d[0] < d[1]`,
/// `||z||_2 = 1`, `rho > 0` (LAPACK's `dlaed5`), in closed form. Writes `delta[j] = d[j] - lambda`
/// from the nearer pole (LAPACK writes the normalized eigenvector instead, which is
/// `z_j / delta_j` normalized).
pub(crate) fn laed5<T: Real>(i: usize, d: &[T], z: &[T], delta: &mut [T], rho: T) -> T {
    assert!(i < 2 && d.len() == 2 && z.len() == 2 && delta.len() == 2);
    let (two, four) = (k::<T>(2.0), k::<T>(4.0));
    let del = d[1] - d[0];
    if i == 0 {
        let w = T::ONE + two * rho * (z[1] * z[1] - z[0] * z[0]) / del;
        if w > T::ZERO {
            let b = del + rho * (z[0] * z[0] + z[1] * z[1]);
            let c = rho * z[0] * z[0] * del;

            // B > ZERO, always
            let tau = two * c / (b + (b * b - four * c).abs().sqrt());
            delta[0] = -tau;
            delta[1] = del - tau;
            d[0] + tau
        } else {
            let b = -del + rho * (z[0] * z[0] + z[1] * z[1]);
            let c = rho * z[1] * z[1] * del;
            let tau =
                if b > T::ZERO { -two * c / (b + (b * b + four * c).sqrt()) } else { (b - (b * b + four * c).sqrt()) / two };
            delta[0] = -del - tau;
            delta[1] = -tau;
            d[1] + tau
        }
    } else {
        // Now I=2
        let b = -del + rho * (z[0] * z[0] + z[1] * z[1]);
        let c = rho * z[1] * z[1] * del;
        let tau = if b > T::ZERO { (b + (b * b + four * c).sqrt()) / two } else { two * c / (-b + (b * b + four * c).sqrt()) };
        delta[0] = -del - tau;
        delta[1] = -tau;
        d[1] + tau
    }
}

/// The root closest to the origin (LAPACK's `dlaed6`; in most cases, the root sought is the
/// smallest in magnitude, though it might not be in some extremely rare situations) of
///
/// ```text
///     f(x) = rho + z[0] / (d[0] - x) + z[1] / (d[1] - x) + z[2] / (d[2] - x),
/// ```
/// between `d[1]` and `d[2]` if `orgati`, else between `d[0]` and `d[1]`; `d[0] < d[1] < d[2]`,
/// every `z[j] > 0`. `finit` is `f(0)`, more accurate than evaluating it here. `kniter` is the
/// caller's ([`laed4`]'s) 1-based iteration count: at 2 the initial guess is refined first.
/// `None` if the iteration did not converge (LAPACK's `INFO = 1`).
///
/// Uses the Gragg-Thornton-Warner cubically convergent scheme (LAPACK's 2006 revision).
pub(crate) fn laed6<T: Real>(kniter: usize, orgati: bool, rho: T, d: &[T; 3], z: &[T; 3], finit: T) -> Option<T> {
    let (two, four, eight) = (k::<T>(2.0), k::<T>(4.0), k::<T>(8.0));
    let (mut lbd, mut ubd) = if orgati { (d[1], d[2]) } else { (d[0], d[1]) };
    if finit < T::ZERO {
        lbd = T::ZERO;
    } else {
        ubd = T::ZERO;
    }

    let mut tau = T::ZERO;
    if kniter == 2 {
        let (a, b, c);
        if orgati {
            let temp = (d[2] - d[1]) / two;
            c = rho + z[0] / ((d[0] - d[1]) - temp);
            a = c * (d[1] + d[2]) + z[1] + z[2];
            b = c * d[1] * d[2] + z[1] * d[2] + z[2] * d[1];
        } else {
            let temp = (d[0] - d[1]) / two;
            c = rho + z[2] / ((d[2] - d[1]) - temp);
            a = c * (d[0] + d[1]) + z[0] + z[1];
            b = c * d[0] * d[1] + z[0] * d[1] + z[1] * d[0];
        }
        let temp = max(max(a.abs(), b.abs()), c.abs());
        let (a, b, c) = (a / temp, b / temp, c / temp);
        tau = if c == T::ZERO {
            b / a
        } else if a <= T::ZERO {
            (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
        } else {
            two * b / (a + (a * a - four * b * c).abs().sqrt())
        };
        if tau < lbd || tau > ubd {
            tau = (lbd + ubd) / two;
        }
        if d[0] == tau || d[1] == tau || d[2] == tau {
            tau = T::ZERO;
        } else {
            let temp = finit
                + tau * z[0] / (d[0] * (d[0] - tau))
                + tau * z[1] / (d[1] * (d[1] - tau))
                + tau * z[2] / (d[2] * (d[2] - tau));
            if temp <= T::ZERO {
                lbd = tau;
            } else {
                ubd = tau;
            }
            if finit.abs() <= temp.abs() {
                tau = T::ZERO;
            }
        }
    }

    // get machine parameters for possible scaling to avoid overflow: SMALL1 is
    // BASE**INT(LOG(SAFMIN)/LOG(BASE)/THREE) with base 2 (2^-340 in f64, 2^-42 in f32; SAFMIN is
    // a power of two, so its exponent is the logarithm and Rust's `/` truncates as INT does)
    let eps = eps::<T>();
    let safmin_exp = ((T::MIN_POSITIVE.to_f64().to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let small1 = T::from_f64(f64::from_bits(((safmin_exp / 3 + 1023) as u64) << 52));
    let sminv1 = T::ONE / small1;
    let small2 = small1 * small1;
    let sminv2 = sminv1 * sminv1;

    // Determine if scaling of inputs necessary to avoid overflow
    // when computing 1/TEMP**3
    let temp = if orgati { min((d[1] - tau).abs(), (d[2] - tau).abs()) } else { min((d[0] - tau).abs(), (d[1] - tau).abs()) };
    let mut dscale = *d;
    let mut zscale = *z;
    let mut sclinv = T::ONE;
    let scale = temp <= small1;
    if scale {
        let sclfac;
        if temp <= small2 {
            // Scale up by power of radix nearest 1/SAFMIN**(2/3)
            sclfac = sminv2;
            sclinv = small2;
        } else {
            // Scale up by power of radix nearest 1/SAFMIN**(1/3)
            sclfac = sminv1;
            sclinv = small1;
        }

        // Scaling up safe because D, Z, TAU scaled elsewhere to be O(1)
        for j in 0..3 {
            dscale[j] = d[j] * sclfac;
            zscale[j] = z[j] * sclfac;
        }
        tau *= sclfac;
        lbd *= sclfac;
        ubd *= sclfac;
    }

    let (mut fc, mut df, mut ddf) = (T::ZERO, T::ZERO, T::ZERO);
    for j in 0..3 {
        let temp = T::ONE / (dscale[j] - tau);
        let temp1 = zscale[j] * temp;
        let temp2 = temp1 * temp;
        let temp3 = temp2 * temp;
        fc += temp1 / dscale[j];
        df += temp2;
        ddf += temp3;
    }
    let mut f = finit + tau * fc;

    let mut converged = f.abs() <= T::ZERO;
    if !converged {
        if f <= T::ZERO {
            lbd = tau;
        } else {
            ubd = tau;
        }

        // Iteration begins -- Use Gragg-Thornton-Warner cubic convergent
        //                     scheme
        //
        // It is not hard to see that
        //
        //       1) Iterations will go up monotonically
        //          if FINIT < 0;
        //
        //       2) Iterations will go down monotonically
        //          if FINIT > 0.
        for _niter in 2..=MAXIT6 {
            let (temp1, temp2) = if orgati { (dscale[1] - tau, dscale[2] - tau) } else { (dscale[0] - tau, dscale[1] - tau) };
            let a = (temp1 + temp2) * f - temp1 * temp2 * df;
            let b = temp1 * temp2 * f;
            let c = f - (temp1 + temp2) * df + temp1 * temp2 * ddf;
            let temp = max(max(a.abs(), b.abs()), c.abs());
            let (a, b, c) = (a / temp, b / temp, c / temp);
            let mut eta = if c == T::ZERO {
                b / a
            } else if a <= T::ZERO {
                (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
            } else {
                two * b / (a + (a * a - four * b * c).abs().sqrt())
            };
            if f * eta >= T::ZERO {
                eta = -f / df;
            }

            tau += eta;
            if tau < lbd || tau > ubd {
                tau = (lbd + ubd) / two;
            }

            fc = T::ZERO;
            let mut erretm = T::ZERO;
            df = T::ZERO;
            ddf = T::ZERO;
            for j in 0..3 {
                let temp = T::ONE / (dscale[j] - tau);
                let temp1 = zscale[j] * temp;
                let temp2 = temp1 * temp;
                let temp3 = temp2 * temp;
                let temp4 = temp1 / dscale[j];
                fc += temp4;
                erretm += temp4.abs();
                df += temp2;
                ddf += temp3;
            }
            f = finit + tau * fc;
            erretm = eight * (finit.abs() + tau.abs() * erretm) + tau.abs() * df;
            if f.abs() <= eps * erretm {
                converged = true;
                break;
            }
            if f <= T::ZERO {
                lbd = tau;
            } else {
                ubd = tau;
            }
        }
    }

    // Undo scaling
    if scale {
        tau *= sclinv;
    }
    if converged {
        Some(tau)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::data;

    /// `n` strictly increasing poles in about [-0.5, 2.5]; with `tiny_gaps`, every third gap is
    /// `max(1e-10, 100 eps)` relative. Built in f64 and rounded to `T`.
    fn poles<T: Real>(n: usize, seed: u64, tiny_gaps: bool) -> Vec<T> {
        let r = data(n, seed);
        let tiny = 1e-10f64.max(100.0 * T::EPSILON.to_f64());
        let mut x = r[0];
        let mut d = vec![T::from_f64(x)];
        for k in 1..n {
            let gap = if tiny_gaps && k % 3 == 1 { tiny * (1.0 + x.abs()) } else { (r[k] + 0.51) * 2.0 / n as f64 };
            x += gap;
            d.push(T::from_f64(x));
        }
        d
    }

    /// A random `z` of unit norm (normalized in f64, rounded to `T`).
    fn unit_z<T: Real>(n: usize, seed: u64) -> Vec<T> {
        let r: Vec<f64> = data(n, seed ^ 0x9e37_79b9).iter().map(|&x| if x == 0.0 { 0.25 } else { x }).collect();
        let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt();
        r.iter().map(|&x| T::from_f64(x / norm)).collect()
    }

    /// The worst ratio of error to tolerance seen by `check_all` for each check (delta against
    /// `d - lambda`, the secular residual, the eigenvalue), printed by the tests (`--nocapture`).
    #[derive(Default, Debug)]
    struct Worst {
        delta: f64,
        residual: f64,
        eigenvalue: f64,
    }

    impl Worst {
        fn merge(&mut self, o: Worst) {
            self.delta = self.delta.max(o.delta);
            self.residual = self.residual.max(o.residual);
            self.eigenvalue = self.eigenvalue.max(o.eigenvalue);
        }
    }

    /// The eigenvalues (ascending) of `diag(d) + rho z z^T` in f64, by faer.
    fn reference(d: &[f64], z: &[f64], rho: f64) -> Vec<f64> {
        let n = d.len();
        let a = faer::Mat::<f64>::from_fn(n, n, |r, c| rho * z[r] * z[c] + if r == c { d[r] } else { 0.0 });
        a.self_adjoint_eigenvalues(faer::Side::Lower).unwrap()
    }

    /// Every root of the secular equation of `(d, z, rho)`, checked: `delta[i] < 0 < delta[i+1]`
    /// (the root strictly inside its interval, seen from the nearer pole) and `lambda` in the
    /// closed interval; `delta[j] = d[j] - lambda` to a few ulps; the secular function at the
    /// computed `delta` small against the sum of its terms' magnitudes; `lambda` against faer's
    /// eigenvalues of the matrix in f64. Returns the deltas (row `i` for root `i`) and the worst
    /// error / tolerance ratios.
    ///
    /// `delta` is updated in place once per iteration (as in LAPACK), so its entries far from the
    /// origin carry one rounding per iteration: hence 8 ulps, not 2.
    fn check_all<T: Real>(d: &[T], z: &[T], rho: T, what: &str) -> (Vec<Vec<T>>, Worst) {
        let n = d.len();
        let eps = T::EPSILON.to_f64();
        let df: Vec<f64> = d.iter().map(|x| x.to_f64()).collect();
        let zf: Vec<f64> = z.iter().map(|x| x.to_f64()).collect();
        let rf = rho.to_f64();
        for j in 1..n {
            assert!(df[j] > df[j - 1], "{what}: poles not strictly increasing");
        }
        let ref_eigs = reference(&df, &zf, rf);
        let znorm2: f64 = zf.iter().map(|x| x * x).sum();
        let anorm = df.iter().fold(0.0f64, |m, x| m.max(x.abs())) + rf * znorm2;
        let mut all = Vec::with_capacity(n);
        let mut worst = Worst::default();
        for i in 0..n {
            let mut delta = vec![T::NAN; n];
            let lam = laed4(i, d, z, &mut delta, rho).unwrap_or_else(|| panic!("{what}: root {i} did not converge"));
            let l = lam.to_f64();
            let dl: Vec<f64> = delta.iter().map(|x| x.to_f64()).collect();
            // in its interval
            assert!(dl[i] < 0.0, "{what}: root {i}: delta[i] = {} not < 0", dl[i]);
            assert!(l >= df[i], "{what}: root {i}: lambda {l} < d[i] {}", df[i]);
            if i + 1 < n {
                assert!(dl[i + 1] > 0.0, "{what}: root {i}: delta[i+1] = {} not > 0", dl[i + 1]);
                assert!(l <= df[i + 1], "{what}: root {i}: lambda {l} > d[i+1] {}", df[i + 1]);
            } else {
                assert!(-dl[i] <= rf * znorm2 * (1.0 + 4.0 * eps), "{what}: last root beyond d[n-1] + rho");
            }
            // delta is d - lambda to a few ulps
            let mut scale_i = df[i].abs();
            if i + 1 < n {
                scale_i = scale_i.max(df[i + 1].abs());
            }
            for j in 0..n {
                let s = df[j].abs().max(l.abs()).max(scale_i);
                let dtol = 8.0 * eps * s;
                worst.delta = worst.delta.max((dl[j] - (df[j] - l)).abs() / dtol);
                assert!(
                    (dl[j] - (df[j] - l)).abs() <= dtol,
                    "{what}: root {i}: delta[{j}] = {:e} but d[j] - lambda = {:e}",
                    dl[j],
                    df[j] - l
                );
            }
            // the secular function at the computed delta
            let mut f = 1.0 / rf;
            let mut s = 1.0 / rf;
            for j in 0..n {
                let t = zf[j] * zf[j] / dl[j];
                f += t;
                s += t.abs();
            }
            let ftol = 2.0 * (n as f64 + 8.0) * eps * s;
            worst.residual = worst.residual.max(f.abs() / ftol);
            assert!(f.abs() <= ftol, "{what}: root {i}: |f(lambda)| = {:e} > {:e}", f.abs(), ftol);
            // against the eigenvalues of the matrix
            let etol = 4.0 * (n as f64 + 2.0) * eps * anorm;
            worst.eigenvalue = worst.eigenvalue.max((l - ref_eigs[i]).abs() / etol);
            assert!((l - ref_eigs[i]).abs() <= etol, "{what}: root {i}: lambda {l} vs reference {} (tol {etol:e})", ref_eigs[i]);
            all.push(delta);
        }
        (all, worst)
    }

    fn random_cases<T: Real>() {
        let mut worst = Worst::default();
        let mut seed = 1u64;
        for &n in &[1usize, 2, 3, 4, 7, 20, 100, 300] {
            for &rho in &[1e-3, 1.0, 1e3] {
                for tiny_gaps in [false, true] {
                    seed += 1;
                    let d = poles::<T>(n, seed, tiny_gaps);
                    let z = unit_z::<T>(n, seed);
                    worst.merge(
                        check_all(&d, &z, T::from_f64(rho), &format!("{} n={n} rho={rho} tiny_gaps={tiny_gaps}", T::NAME)).1,
                    );
                }
            }
        }
        eprintln!("{} random: worst error / tolerance {worst:?}", T::NAME);
    }

    /// Random poles (some pairs 1e-10 apart relative, or 100 eps in f32), random unit z,
    /// rho in {1e-3, 1, 1e3}, n from 1 to 300: every root checked by `check_all`.
    #[test]
    fn random_f64() {
        random_cases::<f64>();
    }

    #[test]
    fn random_f32() {
        random_cases::<f32>();
    }

    /// For well-separated random data the eigenvectors `z / delta^(i)` (normalized) are
    /// orthogonal to working precision without Gu-Eisenstat's recomputed z, if each delta is
    /// accurate relative to itself.
    fn orthogonality<T: Real>() {
        let n = 50;
        for (s, &rho) in [1e-3, 1.0, 1e3].iter().enumerate() {
            let d = poles::<T>(n, 77 + s as u64, false);
            let z = unit_z::<T>(n, 77 + s as u64);
            let (deltas, w) = check_all(&d, &z, T::from_f64(rho), &format!("{} orthogonality rho={rho}", T::NAME));
            let vs: Vec<Vec<f64>> = deltas
                .iter()
                .map(|delta| {
                    let v: Vec<f64> = (0..n).map(|j| z[j].to_f64() / delta[j].to_f64()).collect();
                    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                    v.iter().map(|x| x / norm).collect()
                })
                .collect();
            let mut worst = 0.0f64;
            for a in 0..n {
                for b in 0..n {
                    let dot: f64 = (0..n).map(|j| vs[a][j] * vs[b][j]).sum();
                    worst = worst.max((dot - if a == b { 1.0 } else { 0.0 }).abs());
                }
            }
            let tol = n as f64 * T::EPSILON.to_f64();
            eprintln!("{} orthogonality rho={rho}: max |V^T V - I| = {worst:e} (tolerance {tol:e}); {w:?}", T::NAME);
            assert!(worst <= tol, "{} rho={rho}: max |V^T V - I| = {worst:e} > {tol:e}", T::NAME);
        }
    }

    #[test]
    fn eigenvectors_orthogonal_f64() {
        orthogonality::<f64>();
    }

    #[test]
    fn eigenvectors_orthogonal_f32() {
        orthogonality::<f32>();
    }

    /// Some z_j tiny (1e-8): roots within rho z_j^2 of a pole, below the resolution of lambda
    /// itself but not of delta.
    fn tiny_z<T: Real>() {
        let mut worst = Worst::default();
        for &n in &[3usize, 4, 10, 40] {
            for &rho in &[1e-3, 1.0, 1e3] {
                let d = poles::<T>(n, 500 + n as u64, false);
                let mut zf: Vec<f64> = unit_z::<f64>(n, 500 + n as u64);
                for j in (0..n).step_by(3) {
                    zf[j] = 1e-8 * if zf[j] < 0.0 { -1.0 } else { 1.0 };
                }
                zf[n - 1] = 1e-8; // the last root too
                let norm = zf.iter().map(|x| x * x).sum::<f64>().sqrt();
                let z: Vec<T> = zf.iter().map(|&x| T::from_f64(x / norm)).collect();
                worst.merge(check_all(&d, &z, T::from_f64(rho), &format!("{} tiny z n={n} rho={rho}", T::NAME)).1);
            }
        }
        eprintln!("{} tiny z: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn tiny_z_components() {
        tiny_z::<f64>();
        tiny_z::<f32>();
    }

    /// Clusters of poles 1e-13 apart relative (16 eps in f32) among well-separated ones.
    fn clustered<T: Real>() {
        let mut worst = Worst::default();
        let gap = 1e-13f64.max(16.0 * T::EPSILON.to_f64());
        for &n in &[3usize, 5, 12, 60] {
            for &rho in &[1e-3, 1.0, 1e3] {
                let r = data(n, 900 + n as u64);
                let mut x = 0.3;
                let mut df = vec![x];
                for k in 1..n {
                    // clusters of up to 4 poles
                    x += if k % 4 != 0 { gap * x.abs() } else { (r[k] + 0.6) / n as f64 };
                    df.push(x);
                }
                let d: Vec<T> = df.iter().map(|&x| T::from_f64(x)).collect();
                let z = unit_z::<T>(n, 900 + n as u64);
                worst.merge(check_all(&d, &z, T::from_f64(rho), &format!("{} clustered n={n} rho={rho}", T::NAME)).1);
            }
        }
        eprintln!("{} clustered: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn clustered_poles() {
        clustered::<f64>();
        clustered::<f32>();
    }

    /// n = 2 with poles 1, 2 and 10 ulps apart, and unequal and equal weights.
    fn n2_close<T: Real>() {
        let mut worst = Worst::default();
        let one = T::ONE;
        for ulps in [1.0, 2.0, 10.0, 1e3] {
            let d = [one, one + T::EPSILON * T::from_f64(ulps)];
            for (z0, z1) in [(0.6, 0.8), (0.8, 0.6), (1.0 / 2f64.sqrt(), 1.0 / 2f64.sqrt()), (1e-8, 1.0)] {
                for &rho in &[1e-3, 1.0, 1e3] {
                    let z = [T::from_f64(z0), T::from_f64(z1)];
                    let what = format!("{} n=2 ulps={ulps} z=({z0},{z1}) rho={rho}", T::NAME);
                    worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                }
            }
        }
        eprintln!("{} n = 2: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn n2_nearly_equal_poles() {
        n2_close::<f64>();
        n2_close::<f32>();
    }

    /// `laed6` alone: the root of rho + sum z_j / (d_j - x) between the origin and the pole on the
    /// side where the root lies, both orientations, both signs of f(0), kniter = 2 (initial guess
    /// refined) and 3; checked by its residual and against bisection in f64.
    #[test]
    fn laed6_three_poles() {
        let f = |rho: f64, d: &[f64; 3], z: &[f64; 3], x: f64| rho + (0..3).map(|j| z[j] / (d[j] - x)).sum::<f64>();
        let mut tested = [0usize; 2];
        for (rho, d, z) in [
            (0.5, [-1.0, -0.1, 0.3], [0.2, 0.3, 0.4]),
            (-0.5, [-1.0, -0.1, 0.3], [0.2, 0.3, 0.4]),
            (2.0, [-0.5, -1e-9, 1e-6], [1e-3, 1e-12, 0.5]),
            (-3.0, [-2.0, -1e-3, 1.0], [0.7, 1e-6, 0.1]),
            (0.5, [-0.3, 0.1, 1.0], [0.4, 0.3, 0.2]),
            (-0.5, [-0.3, 0.1, 1.0], [0.4, 0.3, 0.2]),
            (1e3, [-1e-6, 1e-9, 0.5], [0.5, 1e-12, 1e-3]),
            (-2.0, [-1.0, 1e-3, 2.0], [0.1, 1e-6, 0.7]),
        ] {
            for orgati in [true, false] {
                let (lo, hi) = if orgati { (d[1], d[2]) } else { (d[0], d[1]) };
                if !(lo < 0.0 && 0.0 < hi) {
                    continue;
                }
                tested[orgati as usize] += 1;
                let finit = f(rho, &d, &z, 0.0);
                // f increases between poles: bisection between the origin and the pole where the
                // root lies
                let (mut a, mut b) = if finit < 0.0 { (0.0, hi) } else { (lo, 0.0) };
                for _ in 0..2000 {
                    let m = 0.5 * (a + b);
                    if m == a || m == b {
                        break;
                    }
                    if f(rho, &d, &z, m) < 0.0 {
                        a = m;
                    } else {
                        b = m;
                    }
                }
                let root = 0.5 * (a + b);
                for kniter in [2usize, 3] {
                    let what = format!("rho={rho} d={d:?} orgati={orgati} kniter={kniter}");
                    let tau = laed6(kniter, orgati, rho, &d, &z, finit).unwrap_or_else(|| panic!("{what}: no convergence"));
                    assert!(tau > lo && tau < hi, "{what}: tau {tau:e} outside ({lo:e}, {hi:e})");
                    // LAPACK's error bound on f(tau) = finit + tau * fc, plus the rounding of the
                    // direct evaluation here
                    let (mut sum, mut df) = (0.0, 0.0);
                    for j in 0..3 {
                        sum += (z[j] / (d[j] * (d[j] - tau))).abs();
                        df += z[j] / ((d[j] - tau) * (d[j] - tau));
                    }
                    let erretm = 8.0 * (finit.abs() + tau.abs() * sum) + tau.abs() * df;
                    let s = erretm + rho.abs() + (0..3).map(|j| (z[j] / (d[j] - tau)).abs()).sum::<f64>();
                    let res = f(rho, &d, &z, tau).abs();
                    assert!(res <= 4.0 * f64::EPSILON * s, "{what}: |f(tau)| = {res:e}, scale {s:e}");
                    assert!((tau - root).abs() <= 1e-9 * (hi - lo), "{what}: tau {tau:e} vs bisection {root:e}");
                }
            }
        }
        assert!(tested[0] >= 3 && tested[1] >= 3);
    }
}
