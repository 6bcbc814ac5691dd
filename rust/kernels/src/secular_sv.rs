//! The secular equation of the SVD of a rank-one modification of a diagonal matrix: the squares of
//! the singular values `sigma` of the merged matrix of a bidiagonal divide and conquer are the
//! eigenvalues of `diag(d)^2 + rho z z^T` (`0 <= d_0 < d_1 < ... < d_{n-1}`, `||z||_2 = 1`,
//! `rho > 0`), i.e. the roots of
//!
//! ```text
//!     f(sigma) = 1/rho + sum_j z_j^2 / ((d_j - sigma)(d_j + sigma)),
//! ```
//! one in each interval `(d_i, d_{i+1})` and the last in `(d_{n-1}, sqrt(d_{n-1}^2 + rho)]`. This is
//! the root finder a divide-and-conquer SVD calls once per singular value of each merge.
//!
//! A translation of LAPACK 3.x's `dlasd4` (with its helper `dlasd5`, the case n = 2; the
//! three-pole interpolation `dlaed6` is shared with the eigenvalue version, [`crate::secular`]), by
//! Ren-Cang Li (University of California at Berkeley); LAPACK is BSD-licensed, (c) the University
//! of Tennessee, the University of California Berkeley, the University of Colorado Denver and NAG
//! Ltd. The translation follows the current `dlasd4` (MAXIT = 400, the step kept in units of
//! `sigma - d_origin`, the geometric-mean bisection for a tiny `d_i` with a tiny `z_i`, and the
//! fallback to two-pole interpolation when `dlaed6` fails), not the 3.3.1 version. It keeps
//! LAPACK's structure (and its comments where they explain why) so that it can be read line by
//! line against the Fortran; indices are 0-based. LAPACK writes the two-pole step out four times
//! and the three-pole step twice: here each is one function ([`Interior::two_pole_eta`],
//! [`Interior::three_pole_eta`]), as is the conversion of a step in `sigma^2` to one in `sigma`
//! ([`sigma_step`]). Deviations:
//! - n = 1: LAPACK's `DELTA(1)` and `WORK(1)` are `1`; here they hold `d_0 - sigma` and
//!   `d_0 + sigma` as for n >= 2 (`d_0 - sigma` computed as `-rho z_0^2 / (d_0 + sigma)`, without
//!   cancellation).
//! - The last root's initial guess when `W <= 0` and `C <= TEMP`: LAPACK (since 3.5, where `TAU`
//!   became `sigma - d_{n-1}` instead of `sigma^2 - d_{n-1}^2`) sets `TAU = RHO`, a value of
//!   `sigma^2 - d_{n-1}^2` used unconverted; here it is converted as in the other branches,
//!   `rho / (d_{n-1} + sqrt(d_{n-1}^2 + rho))` (what 3.3.1 computed). With `rho` large against
//!   `d_{n-1}` the unconverted guess overshoots the root by up to a factor ~`sqrt(rho)`, and the
//!   rounding errors made at that magnitude stay in `delta` and `work` (30 ulps in f32 with
//!   `rho = 1e3`).
//!
//! Checked against LAPACK's own `dlasd4`/`slasd4` (scipy's OpenBLAS build, outside the test
//! suite) on this file's test data: with the `TAU = RHO` line restored, 99% of ~14000 roots agree
//! to the bit in `sigma`, `delta` and `work`, including every last root. The others are interior
//! roots whose three-pole steps go through `dlaed6`; that build's `dlaed6` stops with a 4x looser
//! test than the source [`laed6`] is translated from (a literal port of the source agrees with
//! [`laed6`] to the bit), and they differ by ulps.
//!
//! Every `d_j - sigma` is computed from the shifted origin (the pole nearer to the root, in the
//! sense of `sigma^2`), `(d_j - d_origin) - tau`, and every `d_j + sigma` as
//! `(d_j + d_origin) + tau`, never from `sigma` itself: `sigma = d_origin + tau` is rounded to the
//! magnitude of `d`, while `tau` and the differences to the nearest poles keep their own relative
//! accuracy, which is what the singular vectors `z_j / ((d_j - sigma)(d_j + sigma))` need.

use crate::scalar::Real;
use crate::secular::{eps, k, laed6, max, min};

/// Iterations allowed per root (LAPACK's `MAXIT` in `dlasd4`).
const MAXIT: usize = 400;

/// Evaluates `psi = sum z_j^2 / (delta_j work_j)` and its derivative (with respect to `sigma^2`)
/// `dpsi = sum (z_j / (delta_j work_j))^2` over `j in 0..end` (the poles left of the origin), and
/// LAPACK's running error bound `|sum of the partial sums of psi|`.
#[inline(always)]
fn eval_psi<T: Real>(z: &[T], delta: &[T], work: &[T], end: usize) -> (T, T, T) {
    let (mut psi, mut dpsi, mut erretm) = (T::ZERO, T::ZERO, T::ZERO);
    for j in 0..end {
        let temp = z[j] / (work[j] * delta[j]);
        psi += z[j] * temp;
        dpsi += temp * temp;
        erretm += psi;
    }
    (psi, dpsi, erretm.abs())
}

/// Evaluates `phi = sum z_j^2 / (delta_j work_j)` and its derivative `dphi` over `j = n-1` down to
/// `start` (the poles right of the origin), adding the partial sums of `phi` to `erretm`.
#[inline(always)]
fn eval_phi<T: Real>(z: &[T], delta: &[T], work: &[T], start: usize, erretm: &mut T) -> (T, T) {
    let (mut phi, mut dphi) = (T::ZERO, T::ZERO);
    for j in (start..z.len()).rev() {
        let temp = z[j] / (work[j] * delta[j]);
        phi += z[j] * temp;
        dphi += temp * temp;
        *erretm += phi;
    }
    (phi, dphi)
}

/// The `i`-th (0-based) root `sigma` of the secular equation of the SVD of a rank-one-modified
/// diagonal: `1 + rho * sum_j z_j^2 / ((d_j - sigma)(d_j + sigma)) = 0`, with
/// `0 <= d_0 < d_1 < ... < d_{n-1}`, all `z_j != 0`, `rho > 0` (LAPACK's `dlasd4`;
/// `n = d.len() >= 1`). As in LAPACK, `||z||_2 = 1` is assumed (the initial guess and the bounds
/// of the last root use it): a caller with another `z` passes `z / ||z||` and `rho ||z||^2`, as
/// `dlasd3` does. The roots are increasing in `i`, `sigma_i` in `[d_i, d_{i+1}]` and the last in
/// `(d_{n-1}, sqrt(d_{n-1}^2 + rho)]`.
///
/// As in LAPACK, the iteration works with `d_j^2 - sigma^2` and the squares of
/// `z_j / (d_j^2 - sigma^2)`, which must not overflow: in f32, a root next to a pole below about
/// 1e-9 (for a unit `z` and `rho` near 1) can make them infinite and the iteration fail (`None`;
/// LAPACK's `slasd4` alike). The divide and conquer's deflation (`dlasd2`: every `|z_j|` and every
/// gap at least about `8 eps max d`, `d_1` at least half that) keeps the data far inside the
/// range.
///
/// On return `delta[j] = d_j - sigma` and `work[j] = d_j + sigma`, both computed from the shifted
/// origin (as LAPACK does) so that they keep their relative accuracy. `None` if the iteration did
/// not converge (LAPACK's `INFO > 0`). The method consists of approximating the rational functions
/// in the secular equation by simpler interpolating rational functions.
pub(crate) fn lasd4<T: Real>(i: usize, d: &[T], z: &[T], delta: &mut [T], work: &mut [T], rho: T) -> Option<T> {
    let n = d.len();
    assert!(n >= 1 && i < n && z.len() == n && delta.len() == n && work.len() == n);
    // Since this routine is called in an inner loop, we do no argument checking.
    //
    // Quick return for N=1 and 2.
    if n == 1 {
        // Presumably, I=1 upon entry
        let sigma = (d[0] * d[0] + rho * z[0] * z[0]).sqrt();
        // LAPACK sets DELTA(1) = WORK(1) = ONE; see the module documentation
        delta[0] = -(rho * z[0] * z[0]) / (d[0] + sigma);
        work[0] = d[0] + sigma;
        return Some(sigma);
    }
    if n == 2 {
        return Some(lasd5(i, d, z, delta, work, rho));
    }
    if i == n - 1 {
        last_root(d, z, delta, work, rho)
    } else {
        interior_root(i, d, z, delta, work, rho)
    }
}

/// `dlasd4`'s case I = N: the root in `(d[n-1], sqrt(d[n-1]^2 + rho)]`, with `d[n-1]` as the
/// origin.
fn last_root<T: Real>(d: &[T], z: &[T], delta: &mut [T], work: &mut [T], rho: T) -> Option<T> {
    let (two, four, eight) = (k::<T>(2.0), k::<T>(4.0), k::<T>(8.0));
    let n = d.len();
    let dn = d[n - 1];
    let eps = eps::<T>();
    let rhoinv = T::ONE / rho;

    // Initialize some basic variables (LAPACK's II = N - 1, here 0-based)
    let ii = n - 2;
    let mut niter = 1;

    // Calculate initial guess
    let temp = rho / two;

    // If ||Z||_2 is not one, then TEMP should be set to
    // RHO * ||Z||_2^2 / TWO
    let temp1 = temp / (dn + (dn * dn + temp).sqrt());
    for j in 0..n {
        work[j] = d[j] + dn + temp1;
        delta[j] = (d[j] - dn) - temp1;
    }

    let mut psi = T::ZERO;
    for j in 0..n - 2 {
        psi += z[j] * z[j] / (delta[j] * work[j]);
    }

    let c = rhoinv + psi;
    let w = c + z[ii] * z[ii] / (delta[ii] * work[ii]) + z[n - 1] * z[n - 1] / (delta[n - 1] * work[n - 1]);

    let tau;
    if w <= T::ZERO {
        let temp1 = (dn * dn + rho).sqrt();
        let temp = z[n - 2] * z[n - 2] / ((d[n - 2] + temp1) * (dn - d[n - 2] + rho / (dn + temp1)))
            + z[n - 1] * z[n - 1] / rho;

        // The following TAU2 is to approximate
        // SIGMA_n^2 - D( N )*D( N )
        if c <= temp {
            // LAPACK (since 3.5) has TAU = RHO here, a value of SIGMA_n^2 - D(N)^2 taken as one of
            // SIGMA_n - D(N); converted here as in the other branches (as 3.3.1 did), see the
            // module documentation
            tau = rho / (dn + temp1);
        } else {
            let delsq = (dn - d[n - 2]) * (dn + d[n - 2]);
            let a = -c * delsq + z[n - 2] * z[n - 2] + z[n - 1] * z[n - 1];
            let b = z[n - 1] * z[n - 1] * delsq;
            let tau2 = if a < T::ZERO {
                two * b / ((a * a + four * b * c).sqrt() - a)
            } else {
                (a + (a * a + four * b * c).sqrt()) / (two * c)
            };
            tau = tau2 / (dn + (dn * dn + tau2).sqrt());
        }

        // It can be proved that
        //     D(N)^2+RHO/2 <= SIGMA_n^2 < D(N)^2+TAU2 <= D(N)^2+RHO
    } else {
        let delsq = (dn - d[n - 2]) * (dn + d[n - 2]);
        let a = -c * delsq + z[n - 2] * z[n - 2] + z[n - 1] * z[n - 1];
        let b = z[n - 1] * z[n - 1] * delsq;

        // The following TAU2 is to approximate
        // SIGMA_n^2 - D( N )*D( N )
        let tau2 = if a < T::ZERO {
            two * b / ((a * a + four * b * c).sqrt() - a)
        } else {
            (a + (a * a + four * b * c).sqrt()) / (two * c)
        };
        tau = tau2 / (dn + (dn * dn + tau2).sqrt());

        // It can be proved that
        // D(N)^2 < D(N)^2+TAU2 < SIGMA(N)^2 < D(N)^2+RHO/2
    }

    // The following TAU is to approximate SIGMA_n - D( N )
    let mut sigma = dn + tau;
    for j in 0..n {
        delta[j] = (d[j] - dn) - tau;
        work[j] = d[j] + dn + tau;
    }

    // Evaluate PSI and the derivative DPSI
    let (mut psi, mut dpsi, mut erretm) = eval_psi(z, delta, work, ii + 1);

    // Evaluate PHI and the derivative DPHI
    let temp = z[n - 1] / (delta[n - 1] * work[n - 1]);
    let mut phi = z[n - 1] * temp;
    let mut dphi = temp * temp;
    erretm = eight * (-phi - psi) + erretm - phi + rhoinv;

    let mut w = rhoinv + phi + psi;

    // Test for convergence
    if w.abs() <= eps * erretm {
        return Some(sigma);
    }

    // Calculate the new step
    niter += 1;
    let dtnsq1 = work[n - 2] * delta[n - 2];
    let dtnsq = work[n - 1] * delta[n - 1];
    let mut c = w - dtnsq1 * dpsi - dtnsq * dphi;
    let a = (dtnsq + dtnsq1) * w - dtnsq * dtnsq1 * (dpsi + dphi);
    let b = dtnsq * dtnsq1 * w;
    if c < T::ZERO {
        c = c.abs();
    }
    let mut eta = if c == T::ZERO {
        rho - sigma * sigma
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
    let temp = eta - dtnsq;
    if temp > rho {
        eta = rho + dtnsq;
    }

    // LAPACK also accumulates TAU = SIGMA - D(N) here, for a term of ERRETM that is commented
    // out; `delta[n-1]` is `-tau`
    eta /= sigma + (eta + sigma * sigma).sqrt();
    sigma += eta;

    for j in 0..n {
        delta[j] -= eta;
        work[j] += eta;
    }

    // Evaluate PSI and the derivative DPSI
    (psi, dpsi, erretm) = eval_psi(z, delta, work, ii + 1);

    // Evaluate PHI and the derivative DPHI
    let tau2 = work[n - 1] * delta[n - 1];
    let temp = z[n - 1] / tau2;
    phi = z[n - 1] * temp;
    dphi = temp * temp;
    erretm = eight * (-phi - psi) + erretm - phi + rhoinv;

    w = rhoinv + phi + psi;

    // Main loop to update the values of the array DELTA
    for _niter in niter + 1..=MAXIT {
        // Test for convergence
        if w.abs() <= eps * erretm {
            return Some(sigma);
        }

        // Calculate the new step
        let dtnsq1 = work[n - 2] * delta[n - 2];
        let dtnsq = work[n - 1] * delta[n - 1];
        let c = w - dtnsq1 * dpsi - dtnsq * dphi;
        let a = (dtnsq + dtnsq1) * w - dtnsq1 * dtnsq * (dpsi + dphi);
        let b = dtnsq1 * dtnsq * w;
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
        let temp = eta - dtnsq;
        if temp <= T::ZERO {
            eta /= two;
        }

        eta /= sigma + (eta + sigma * sigma).sqrt();
        sigma += eta;

        for j in 0..n {
            delta[j] -= eta;
            work[j] += eta;
        }

        // Evaluate PSI and the derivative DPSI
        (psi, dpsi, erretm) = eval_psi(z, delta, work, ii + 1);

        // Evaluate PHI and the derivative DPHI
        let tau2 = work[n - 1] * delta[n - 1];
        let temp = z[n - 1] / tau2;
        phi = z[n - 1] * temp;
        dphi = temp * temp;
        erretm = eight * (-phi - psi) + erretm - phi + rhoinv;

        w = rhoinv + phi + psi;
    }

    // Return with INFO = 1, NITER = MAXIT and not converged
    None
}

/// `dlasd4`'s case I < N: the root in `(d[i], d[i+1])`, with the nearer of the two poles (in the
/// sense of `sigma^2`) as the origin.
fn interior_root<T: Real>(i: usize, d: &[T], z: &[T], delta: &mut [T], work: &mut [T], rho: T) -> Option<T> {
    let (two, four, eight, three, ten) = (k::<T>(2.0), k::<T>(4.0), k::<T>(8.0), k::<T>(3.0), k::<T>(10.0));
    let n = d.len();
    let eps = eps::<T>();
    let rhoinv = T::ONE / rho;

    let mut niter = 1;
    let ip1 = i + 1;

    // Calculate initial guess
    let delsq = (d[ip1] - d[i]) * (d[ip1] + d[i]);
    let delsq2 = delsq / two;
    let sq2 = ((d[i] * d[i] + d[ip1] * d[ip1]) / two).sqrt();
    let temp = delsq2 / (d[i] + sq2);
    for j in 0..n {
        work[j] = d[j] + d[i] + temp;
        delta[j] = (d[j] - d[i]) - temp;
    }

    let mut psi = T::ZERO;
    for j in 0..i {
        psi += z[j] * z[j] / (work[j] * delta[j]);
    }

    let mut phi = T::ZERO;
    for j in (i + 2..n).rev() {
        phi += z[j] * z[j] / (work[j] * delta[j]);
    }
    let c = rhoinv + psi + phi;
    let w = c + z[i] * z[i] / (work[i] * delta[i]) + z[ip1] * z[ip1] / (work[ip1] * delta[ip1]);

    let mut geomavg = false;
    let orgati;
    let ii;
    let mut sglb;
    let mut sgub;
    let mut tau;
    if w > T::ZERO {
        // d(i)^2 < the ith sigma^2 < (d(i)^2+d(i+1)^2)/2
        //
        // We choose d(i) as origin.
        orgati = true;
        ii = i;
        sglb = T::ZERO;
        sgub = delsq2 / (d[i] + sq2);
        let a = c * delsq + z[i] * z[i] + z[ip1] * z[ip1];
        let b = z[i] * z[i] * delsq;
        let tau2 = if a > T::ZERO {
            two * b / (a + (a * a - four * b * c).abs().sqrt())
        } else {
            (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
        };

        // TAU2 now is an estimation of SIGMA^2 - D( I )^2. The
        // following, however, is the corresponding estimation of
        // SIGMA - D( I ).
        tau = tau2 / (d[i] + (d[i] * d[i] + tau2).sqrt());
        let temp = eps.sqrt();
        if d[i] <= temp * d[ip1] && z[i].abs() <= temp && d[i] > T::ZERO {
            tau = min(ten * d[i], sgub);
            geomavg = true;
        }
    } else {
        // (d(i)^2+d(i+1)^2)/2 <= the ith sigma^2 < d(i+1)^2
        //
        // We choose d(i+1) as origin.
        orgati = false;
        ii = ip1;
        sglb = -delsq2 / (d[ii] + sq2);
        sgub = T::ZERO;
        let a = c * delsq - z[i] * z[i] - z[ip1] * z[ip1];
        let b = z[ip1] * z[ip1] * delsq;
        let tau2 = if a < T::ZERO {
            two * b / (a - (a * a + four * b * c).abs().sqrt())
        } else {
            -(a + (a * a + four * b * c).abs().sqrt()) / (two * c)
        };

        // TAU2 now is an estimation of SIGMA^2 - D( IP1 )^2. The
        // following, however, is the corresponding estimation of
        // SIGMA - D( IP1 ).
        tau = tau2 / (d[ip1] + (d[ip1] * d[ip1] + tau2).abs().sqrt());
    }

    let mut sigma = d[ii] + tau;
    for j in 0..n {
        work[j] = d[j] + d[ii] + tau;
        delta[j] = (d[j] - d[ii]) - tau;
    }
    // `ii - 1` and `ii + 1` (LAPACK's IIM1, IIP1) are used only when they exist (three-pole
    // interpolation needs 0 < ii < n-1).

    // Evaluate PSI and the derivative DPSI
    let (mut psi, mut dpsi, mut erretm) = eval_psi(z, delta, work, ii);

    // Evaluate PHI and the derivative DPHI
    let (mut phi, mut dphi) = eval_phi(z, delta, work, ii + 1, &mut erretm);

    let mut w = rhoinv + phi + psi;

    // W is the value of the secular function with
    // its ii-th element removed.
    let mut swtch3 = if orgati { w < T::ZERO } else { w > T::ZERO };
    if ii == 0 || ii == n - 1 {
        swtch3 = false;
    }

    let temp = z[ii] / (work[ii] * delta[ii]);
    let mut dw = dpsi + dphi + temp * temp;
    let temp = z[ii] * temp;
    w += temp;
    erretm = eight * (phi - psi) + erretm + two * rhoinv + three * temp.abs();

    // Test for convergence
    if w.abs() <= eps * erretm {
        return Some(sigma);
    }

    if w <= T::ZERO {
        sglb = max(sglb, tau);
    } else {
        sgub = min(sgub, tau);
    }

    // Calculate the new step
    niter += 1;
    let st = Interior { i, orgati, d, z, rhoinv, delsq };
    let eta = if !swtch3 {
        st.two_pole_eta(false, delta, work, w, dw, dpsi, dphi)
    } else {
        // Interpolation using THREE most relevant poles
        match st.three_pole_eta(niter, false, delta, work, w, psi, phi, dpsi, dphi) {
            Some(eta) => eta,
            None => {
                // If INFO is not 0, i.e., DLAED6 failed, switch back
                // to 2 pole interpolation.
                swtch3 = false;
                st.two_pole_eta(false, delta, work, w, dw, dpsi, dphi)
            }
        }
    };

    let eta = sigma_step(eta, w, dw, sigma, tau, sglb, sgub, geomavg);

    let mut prew = w;

    tau += eta;
    sigma += eta;

    for j in 0..n {
        work[j] += eta;
        delta[j] -= eta;
    }

    // Evaluate PSI and the derivative DPSI
    (psi, dpsi, erretm) = eval_psi(z, delta, work, ii);

    // Evaluate PHI and the derivative DPHI
    (phi, dphi) = eval_phi(z, delta, work, ii + 1, &mut erretm);

    let tau2 = work[ii] * delta[ii];
    let temp = z[ii] / tau2;
    dw = dpsi + dphi + temp * temp;
    let temp = z[ii] * temp;
    w = rhoinv + phi + psi + temp;
    erretm = eight * (phi - psi) + erretm + two * rhoinv + three * temp.abs();

    let mut swtch = if orgati { -w > prew.abs() / ten } else { w > prew.abs() / ten };

    // Main loop to update the values of the array DELTA and WORK
    for niter in niter + 1..=MAXIT {
        // Test for convergence
        if w.abs() <= eps * erretm {
            return Some(sigma);
        }

        if w <= T::ZERO {
            sglb = max(sglb, tau);
        } else {
            sgub = min(sgub, tau);
        }

        // Calculate the new step
        let eta = if !swtch3 {
            st.two_pole_eta(swtch, delta, work, w, dw, dpsi, dphi)
        } else {
            // Interpolation using THREE most relevant poles
            match st.three_pole_eta(niter, swtch, delta, work, w, psi, phi, dpsi, dphi) {
                Some(eta) => eta,
                None => {
                    // If INFO is not 0, i.e., DLAED6 failed, switch
                    // back to two pole interpolation
                    swtch3 = false;
                    st.two_pole_eta(swtch, delta, work, w, dw, dpsi, dphi)
                }
            }
        };

        let eta = sigma_step(eta, w, dw, sigma, tau, sglb, sgub, geomavg);

        prew = w;

        tau += eta;
        sigma += eta;

        for j in 0..n {
            work[j] += eta;
            delta[j] -= eta;
        }

        // Evaluate PSI and the derivative DPSI
        (psi, dpsi, erretm) = eval_psi(z, delta, work, ii);

        // Evaluate PHI and the derivative DPHI
        (phi, dphi) = eval_phi(z, delta, work, ii + 1, &mut erretm);

        let tau2 = work[ii] * delta[ii];
        let temp = z[ii] / tau2;
        dw = dpsi + dphi + temp * temp;
        let temp = z[ii] * temp;
        w = rhoinv + phi + psi + temp;
        erretm = eight * (phi - psi) + erretm + two * rhoinv + three * temp.abs();

        if w * prew > T::ZERO && w.abs() > prew.abs() / ten {
            swtch = !swtch;
        }
    }

    // Return with INFO = 1, NITER = MAXIT and not converged
    None
}

/// What the steps of [`interior_root`] share: the root's interval `(d[i], d[i+1])`, the origin
/// (`d[i]` if `orgati`, else `d[i+1]`), the data, `1/rho` and `delsq = d[i+1]^2 - d[i]^2`.
struct Interior<'a, T> {
    i: usize,
    orgati: bool,
    d: &'a [T],
    z: &'a [T],
    rhoinv: T,
    delsq: T,
}

impl<T: Real> Interior<'_, T> {
    /// The step in `sigma^2` by interpolation with the two poles `d[i]` and `d[i+1]` (with
    /// `swtch`, the "middle way" that keeps both poles' terms exact). `w` is the secular function
    /// at the current `delta`, `work`, `dw` its derivative, `dpsi`, `dphi` the derivatives of its
    /// parts left and right of the origin.
    #[allow(clippy::too_many_arguments)]
    fn two_pole_eta(&self, swtch: bool, delta: &[T], work: &[T], w: T, dw: T, mut dpsi: T, mut dphi: T) -> T {
        let (two, four) = (k::<T>(2.0), k::<T>(4.0));
        let (i, orgati, z, delsq) = (self.i, self.orgati, self.z, self.delsq);
        let ip1 = i + 1;
        let dtipsq = work[ip1] * delta[ip1];
        let dtisq = work[i] * delta[i];
        let c = if !swtch {
            if orgati {
                let t = z[i] / dtisq;
                w - dtipsq * dw + delsq * (t * t)
            } else {
                let t = z[ip1] / dtipsq;
                w - dtisq * dw - delsq * (t * t)
            }
        } else {
            let ii = if orgati { i } else { ip1 };
            let temp = z[ii] / (work[ii] * delta[ii]);
            if orgati {
                dpsi += temp * temp;
            } else {
                dphi += temp * temp;
            }
            w - dtisq * dpsi - dtipsq * dphi
        };
        let mut a = (dtipsq + dtisq) * w - dtipsq * dtisq * dw;
        let b = dtipsq * dtisq * w;
        if c == T::ZERO {
            if a == T::ZERO {
                a = if !swtch {
                    if orgati {
                        z[i] * z[i] + dtipsq * dtipsq * (dpsi + dphi)
                    } else {
                        z[ip1] * z[ip1] + dtisq * dtisq * (dpsi + dphi)
                    }
                } else {
                    dtisq * dtisq * dpsi + dtipsq * dtipsq * dphi
                };
            }
            b / a
        } else if a <= T::ZERO {
            (a - (a * a - four * b * c).abs().sqrt()) / (two * c)
        } else {
            two * b / (a + (a * a - four * b * c).abs().sqrt())
        }
    }

    /// The step in `sigma^2` by interpolation with the THREE most relevant poles (the origin and
    /// its two neighbours; needs `0 < ii < n-1`), by [`laed6`]; `None` if `laed6` failed.
    /// `niter` is the 1-based iteration count (at 2, `laed6` refines its initial guess).
    #[allow(clippy::too_many_arguments)]
    fn three_pole_eta(
        &self,
        niter: usize,
        swtch: bool,
        delta: &[T],
        work: &[T],
        w: T,
        psi: T,
        phi: T,
        dpsi: T,
        dphi: T,
    ) -> Option<T> {
        let (orgati, d, z) = (self.orgati, self.d, self.z);
        let ii = if orgati { self.i } else { self.i + 1 };
        let (iim1, iip1) = (ii - 1, ii + 1);
        let dtiim = work[iim1] * delta[iim1];
        let dtiip = work[iip1] * delta[iip1];
        let temp = self.rhoinv + psi + phi;
        let c;
        let mut zz = [T::ZERO; 3];
        if swtch {
            c = temp - dtiim * dpsi - dtiip * dphi;
            zz[0] = dtiim * dtiim * dpsi;
            zz[2] = dtiip * dtiip * dphi;
        } else if orgati {
            let mut temp1 = z[iim1] / dtiim;
            temp1 = temp1 * temp1;
            let temp2 = (d[iim1] - d[iip1]) * (d[iim1] + d[iip1]) * temp1;
            c = temp - dtiip * (dpsi + dphi) - temp2;
            zz[0] = z[iim1] * z[iim1];
            zz[2] = if dpsi < temp1 { dtiip * dtiip * dphi } else { dtiip * dtiip * ((dpsi - temp1) + dphi) };
        } else {
            let mut temp1 = z[iip1] / dtiip;
            temp1 = temp1 * temp1;
            let temp2 = (d[iip1] - d[iim1]) * (d[iim1] + d[iip1]) * temp1;
            c = temp - dtiim * (dpsi + dphi) - temp2;
            zz[0] = if dphi < temp1 { dtiim * dtiim * dpsi } else { dtiim * dtiim * (dpsi + (dphi - temp1)) };
            zz[2] = z[iip1] * z[iip1];
        }
        zz[1] = z[ii] * z[ii];
        let dd = [dtiim, delta[ii] * work[ii], dtiip];
        laed6(niter, orgati, c, &dd, &zz, w)
    }
}

/// `eta`, a step in `sigma^2` from the current `sigma` (with the secular function `w` and its
/// derivative `dw` there), as a step in `sigma` kept inside the bracket `[sglb, sgub]` of
/// `tau = sigma - d_origin`: halfway to the bracket's end if it would leave it, or, with `geomavg`
/// (a tiny `d_i` with a tiny `z_i`, where the root may be orders of magnitude below the bracket's
/// upper end), to the geometric mean of `tau` and that end.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn sigma_step<T: Real>(mut eta: T, w: T, dw: T, sigma: T, tau: T, sglb: T, sgub: T, geomavg: bool) -> T {
    let two = k::<T>(2.0);
    // Note, eta should be positive if w is negative, and
    // eta should be negative otherwise. However,
    // if for some reason caused by roundoff, eta*w > 0,
    // we simply use one Newton step instead. This way
    // will guarantee eta*w < 0.
    if w * eta >= T::ZERO {
        eta = -w / dw;
    }

    eta /= sigma + (sigma * sigma + eta).sqrt();
    let temp = tau + eta;
    if temp > sgub || temp < sglb {
        eta = if w < T::ZERO { (sgub - tau) / two } else { (sglb - tau) / two };
        if geomavg {
            if w < T::ZERO {
                if tau > T::ZERO {
                    eta = (sgub * tau).sqrt() - tau;
                }
            } else if sglb > T::ZERO {
                eta = (sglb * tau).sqrt() - tau;
            }
        }
    }
    eta
}

/// The `i`-th (0-based) root of the secular equation for n = 2, `0 <= d[0] < d[1]`,
/// `||z||_2 = 1`, `rho > 0` (LAPACK's `dlasd5`), in closed form. Writes `delta[j] = d[j] - sigma`
/// and `work[j] = d[j] + sigma` from the nearer pole, as LAPACK does.
fn lasd5<T: Real>(i: usize, d: &[T], z: &[T], delta: &mut [T], work: &mut [T], rho: T) -> T {
    debug_assert!(i < 2 && d.len() == 2 && z.len() == 2 && delta.len() == 2 && work.len() == 2);
    let (two, three, four) = (k::<T>(2.0), k::<T>(3.0), k::<T>(4.0));
    let del = d[1] - d[0];
    let delsq = del * (d[1] + d[0]);
    if i == 0 {
        let w = T::ONE
            + four * rho * (z[1] * z[1] / (d[0] + three * d[1]) - z[0] * z[0] / (three * d[0] + d[1])) / del;
        if w > T::ZERO {
            let b = delsq + rho * (z[0] * z[0] + z[1] * z[1]);
            let c = rho * z[0] * z[0] * delsq;

            // B > ZERO, always
            //
            // The following TAU is DSIGMA * DSIGMA - D( 1 ) * D( 1 )
            let tau = two * c / (b + (b * b - four * c).abs().sqrt());

            // The following TAU is DSIGMA - D( 1 )
            let tau = tau / (d[0] + (d[0] * d[0] + tau).sqrt());
            delta[0] = -tau;
            delta[1] = del - tau;
            work[0] = two * d[0] + tau;
            work[1] = (d[0] + tau) + d[1];
            d[0] + tau
        } else {
            let b = -delsq + rho * (z[0] * z[0] + z[1] * z[1]);
            let c = rho * z[1] * z[1] * delsq;

            // The following TAU is DSIGMA * DSIGMA - D( 2 ) * D( 2 )
            let tau = if b > T::ZERO {
                -two * c / (b + (b * b + four * c).sqrt())
            } else {
                (b - (b * b + four * c).sqrt()) / two
            };

            // The following TAU is DSIGMA - D( 2 )
            let tau = tau / (d[1] + (d[1] * d[1] + tau).abs().sqrt());
            delta[0] = -(del + tau);
            delta[1] = -tau;
            work[0] = d[0] + tau + d[1];
            work[1] = two * d[1] + tau;
            d[1] + tau
        }
    } else {
        // Now I=2
        let b = -delsq + rho * (z[0] * z[0] + z[1] * z[1]);
        let c = rho * z[1] * z[1] * delsq;

        // The following TAU is DSIGMA * DSIGMA - D( 2 ) * D( 2 )
        let tau = if b > T::ZERO {
            (b + (b * b + four * c).sqrt()) / two
        } else {
            two * c / (-b + (b * b + four * c).sqrt())
        };

        // The following TAU is DSIGMA - D( 2 )
        let tau = tau / (d[1] + (d[1] * d[1] + tau).sqrt());
        delta[0] = -(del + tau);
        delta[1] = -tau;
        work[0] = d[0] + tau + d[1];
        work[1] = two * d[1] + tau;
        d[1] + tau
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::data;

    /// `a + b = s + e` exactly (Knuth's TwoSum).
    fn two_sum(a: f64, b: f64) -> (f64, f64) {
        let s = a + b;
        let bb = s - a;
        (s, (a - (s - bb)) + (b - bb))
    }

    /// `sum xs` as if computed in twice the working precision, then rounded (Ogita-Rump-Oishi's
    /// Sum2): the differences of differences the relative-accuracy checks need, in f64 for f64
    /// data.
    fn sum2(xs: &[f64]) -> f64 {
        let (mut s, mut c) = (0.0, 0.0);
        for &x in xs {
            let (t, e) = two_sum(s, x);
            s = t;
            c += e;
        }
        s + c
    }

    /// A double-double number `hi + lo`, `|lo| <= ulp(hi) / 2`.
    #[derive(Clone, Copy)]
    struct Dd(f64, f64);

    fn quick_two_sum(a: f64, b: f64) -> Dd {
        let s = a + b;
        Dd(s, b - (s - a))
    }

    fn dd_add(a: Dd, b: Dd) -> Dd {
        let (s, e) = two_sum(a.0, b.0);
        quick_two_sum(s, e + a.1 + b.1)
    }

    fn dd_mul(a: Dd, b: Dd) -> Dd {
        let p = a.0 * b.0;
        let e = a.0.mul_add(b.0, -p);
        quick_two_sum(p, e + (a.0 * b.1 + a.1 * b.0))
    }

    fn dd_div(a: Dd, b: Dd) -> Dd {
        let q1 = a.0 / b.0;
        let r = dd_add(a, dd_mul(b, Dd(-q1, 0.0)));
        let q2 = r.0 / b.0;
        let r = dd_add(r, dd_mul(b, Dd(-q2, 0.0)));
        let q3 = r.0 / b.0;
        dd_add(quick_two_sum(q1, q2), Dd(q3, 0.0))
    }

    /// The `i`-th root of `1/rho + sum_j z_j^2 / ((d_j - s)(d_j + s))` (increasing in `s` between
    /// poles) as two adjacent f64 numbers `lo < hi` that bracket it: bisection on the bit patterns
    /// of positive f64s (at most 64 steps), the sign of the secular function evaluated in
    /// double-double (`d_j -/+ s` exact, each term to about 1e-30 relative). Independent of
    /// `lasd4` and accurate to an ulp of f64 unless the root is ill-conditioned far beyond the
    /// test data.
    fn bisect_root(d: &[f64], z: &[f64], rho: f64, i: usize) -> (f64, f64) {
        let n = d.len();
        let g = |s: f64| {
            let mut f = dd_div(Dd(1.0, 0.0), Dd(rho, 0.0));
            for j in 0..n {
                let (a, ae) = two_sum(d[j], -s);
                let (b, be) = two_sum(d[j], s);
                // as (z / (d - s)) (z / (d + s)): no underflow of (d - s)(d + s) for a tiny s
                let (q1, q2) = (dd_div(Dd(z[j], 0.0), Dd(a, ae)), dd_div(Dd(z[j], 0.0), Dd(b, be)));
                if !(q1.0 * q2.0).is_finite() {
                    // a term beyond f64's range decides the sign (overflow only near a pole)
                    return q1.0 * q2.0;
                }
                f = dd_add(f, dd_mul(q1, q2));
            }
            f.0 + f.1
        };
        let znorm2: f64 = z.iter().map(|x| x * x).sum();
        let mut lo = d[i];
        let mut hi =
            if i + 1 < n { d[i + 1] } else { (d[n - 1] * d[n - 1] + rho * znorm2).sqrt() * (1.0 + 1e-14) };
        loop {
            let (a, b) = (lo.to_bits(), hi.to_bits());
            let mid = f64::from_bits(a / 2 + b / 2 + (a & b & 1));
            if mid <= lo || mid >= hi {
                return (lo, hi);
            }
            if g(mid) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }

    /// `n` strictly increasing poles, `d_0 = 0` if `zero_first` (as in the divide and conquer) else
    /// in [0.05, 0.15], the gaps random in about (0, 2/n]; with `ulp_gaps`, every third gap is 1 to
    /// 4 ulps. Built in `T`.
    fn poles<T: Real>(n: usize, seed: u64, zero_first: bool, ulp_gaps: bool) -> Vec<T> {
        let r = data(n + 1, seed);
        let mut x = if zero_first { T::ZERO } else { T::from_f64(0.1 + 0.1 * r[n]) };
        let mut d = vec![x];
        for k in 1..n {
            let gap = if ulp_gaps && k % 3 == 1 && x > T::ZERO {
                T::EPSILON * x * T::from_f64((1 + k % 4) as f64)
            } else {
                T::from_f64((r[k] + 0.51) * 2.0 / n as f64)
            };
            x += gap;
            assert!(x > d[k - 1]);
            d.push(x);
        }
        d
    }

    /// `zf` normalized in f64 and rounded to `T`.
    fn normalized<T: Real>(zf: &[f64]) -> Vec<T> {
        let norm = zf.iter().map(|x| x * x).sum::<f64>().sqrt();
        zf.iter().map(|&x| T::from_f64(x / norm)).collect()
    }

    /// A random `z` of unit norm with entries of random sign, none below 0.05 / sqrt(n) relative.
    fn unit_z<T: Real>(n: usize, seed: u64) -> Vec<T> {
        let r: Vec<f64> = data(n, seed ^ 0x9e37_79b9)
            .iter()
            .map(|&x| if x < 0.0 { x - 0.05 } else { x + 0.05 })
            .collect();
        normalized(&r)
    }

    /// The singular values (ascending) of the `(n+1) x n` matrix `[diag(d); sqrt(rho) z^T]`, whose
    /// Gram matrix is `diag(d)^2 + rho z z^T`, in f64 by faer: the reference for the roots,
    /// accurate to a small multiple of `eps_f64 (max d + sqrt(rho) ||z||)`.
    fn reference(d: &[f64], z: &[f64], rho: f64) -> Vec<f64> {
        let n = d.len();
        let srho = rho.sqrt();
        let m = faer::Mat::<f64>::from_fn(n + 1, n, |r, c| {
            if r == n {
                srho * z[c]
            } else if r == c {
                d[r]
            } else {
                0.0
            }
        });
        let mut s = m.as_ref().singular_values().unwrap();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        s
    }

    /// The worst ratio of error to tolerance seen by `check_all` for each check, printed by the
    /// tests (`--nocapture`).
    #[derive(Default, Debug)]
    struct Worst {
        /// `delta`, `work` against `d -/+ sigma`, at the scale of `max(d_j, sigma)`
        abs: f64,
        /// `delta`, `work` against `d -/+ s'` relative to themselves, `s'` the exact root the
        /// iteration represents
        rel: f64,
        /// the secular function at the computed `delta`, `work`
        residual: f64,
        /// `sigma` against the exact root, absolute
        sigma: f64,
        /// `sigma` against the exact root, relative to `sigma`
        sigma_rel: f64,
        /// faer's singular values against the bisection, in units of `eps_f64 (max d + sqrt(rho))`
        /// (not a ratio to a tolerance)
        faer: f64,
    }

    impl Worst {
        fn merge(&mut self, o: Worst) {
            self.abs = self.abs.max(o.abs);
            self.rel = self.rel.max(o.rel);
            self.residual = self.residual.max(o.residual);
            self.sigma = self.sigma.max(o.sigma);
            self.sigma_rel = self.sigma_rel.max(o.sigma_rel);
            self.faer = self.faer.max(o.faer);
        }
    }

    /// Every root of the secular equation of `(d, z, rho)`, checked:
    /// - in its interval: `delta[i] < 0 < delta[i+1]` (strictly inside, seen from the poles) and
    ///   `sigma` in `[d_i, d_{i+1}]`, the last in `(d_{n-1}, sqrt(d_{n-1}^2 + rho ||z||^2)]`, and
    ///   the roots nondecreasing;
    /// - `delta[j] = d_j - sigma`, `work[j] = d_j + sigma` to `16 eps (d_j + sigma)`: each
    ///   iteration adds a rounding at the magnitude of the current iterate to both, and LAPACK's
    ///   bracketing steps can take `tau` far beyond the root before it returns (seen: 7 eps in the
    ///   f32 spread test, bit-identical to LAPACK's `slasd4`);
    /// - relative accuracy: with `s' = d_o - delta_o` in exact arithmetic (`o` the origin, `i` or
    ///   `i+1`; `delta_o = -tau` exactly), `delta[j] = d_j - s'` and `work[j] = d_j + s'` to
    ///   `32 eps` relative to themselves, and `s'` within 4 ulps of `sigma`;
    /// - the secular function at the computed `delta * work` small against the sum of its terms'
    ///   magnitudes (the convergence test's own bound);
    /// - `sigma` against the exact root (bracketed by two adjacent f64s by [`bisect_root`]) to
    ///   `16 eps (max d + sqrt(rho) ||z||)` and to `(16 + sqrt(n)) eps sigma` relative; and the
    ///   bisection itself against faer's singular values of `[diag(d); sqrt(rho) z^T]`, to
    ///   `16 (1 + sqrt(n)) eps_f64 (max d + sqrt(rho) ||z||)` (faer's SVD is accurate to that
    ///   absolute level only, up to ~80 eps_f64 here: too coarse to judge `lasd4` in f64).
    ///
    /// Returns `(delta, work)` for each root and the worst error / tolerance ratios.
    fn check_all<T: Real>(d: &[T], z: &[T], rho: T, what: &str) -> (Vec<(Vec<T>, Vec<T>)>, Worst) {
        let n = d.len();
        let eps = T::EPSILON.to_f64();
        let df: Vec<f64> = d.iter().map(|x| x.to_f64()).collect();
        let zf: Vec<f64> = z.iter().map(|x| x.to_f64()).collect();
        let rf = rho.to_f64();
        assert!(df[0] >= 0.0, "{what}: d_0 < 0");
        for j in 1..n {
            assert!(df[j] > df[j - 1], "{what}: poles not strictly increasing");
        }
        let faer_refs = reference(&df, &zf, rf);
        let znorm2: f64 = zf.iter().map(|x| x * x).sum();
        let scale = df[n - 1] + (rf * znorm2).sqrt();
        let mut all = Vec::with_capacity(n);
        let mut worst = Worst::default();
        let mut prev = 0.0f64;
        for i in 0..n {
            let mut delta = vec![T::NAN; n];
            let mut work = vec![T::NAN; n];
            let sigma = lasd4(i, d, z, &mut delta, &mut work, rho)
                .unwrap_or_else(|| panic!("{what}: root {i} did not converge"));
            let s = sigma.to_f64();
            let dl: Vec<f64> = delta.iter().map(|x| x.to_f64()).collect();
            let wk: Vec<f64> = work.iter().map(|x| x.to_f64()).collect();

            // in its interval
            assert!(s.is_finite(), "{what}: root {i} = {s}");
            assert!(dl[i] < 0.0, "{what}: root {i}: delta[i] = {:e} not < 0", dl[i]);
            assert!(s >= df[i], "{what}: root {i}: sigma {s:e} < d[i] {:e}", df[i]);
            if i + 1 < n {
                assert!(dl[i + 1] > 0.0, "{what}: root {i}: delta[i+1] = {:e} not > 0", dl[i + 1]);
                assert!(s <= df[i + 1], "{what}: root {i}: sigma {s:e} > d[i+1] {:e}", df[i + 1]);
            } else {
                let ub = (df[n - 1] * df[n - 1] + rf * znorm2).sqrt();
                assert!(s <= ub * (1.0 + 4.0 * eps), "{what}: last root {s:e} beyond sqrt(d^2 + rho) = {ub:e}");
            }
            assert!(s >= prev, "{what}: root {i} = {s:e} < root {} = {prev:e}", i - 1);
            prev = s;

            // delta and work are d -/+ sigma
            for j in 0..n {
                let tol = 16.0 * eps * (df[j] + s);
                let (ed, ew) = ((dl[j] - (df[j] - s)).abs(), (wk[j] - (df[j] + s)).abs());
                worst.abs = worst.abs.max(ed.max(ew) / tol);
                assert!(ed <= tol, "{what}: root {i}: delta[{j}] = {:e} but d_j - sigma = {:e}", dl[j], df[j] - s);
                assert!(ew <= tol, "{what}: root {i}: work[{j}] = {:e} but d_j + sigma = {:e}", wk[j], df[j] + s);
            }

            // relative accuracy against the root the iteration represents, s' = d_o - delta_o
            let rel_err = |o: usize| {
                let mut e = 0.0f64;
                for j in 0..n {
                    let ed = sum2(&[dl[j], -df[j], df[o], -dl[o]]).abs() / dl[j].abs();
                    let ew = sum2(&[wk[j], -df[j], -df[o], dl[o]]).abs() / wk[j].abs();
                    e = e.max(ed).max(ew);
                }
                e
            };
            let o = if i + 1 < n && rel_err(i + 1) < rel_err(i) { i + 1 } else { i };
            let rel = rel_err(o) / (32.0 * eps);
            worst.rel = worst.rel.max(rel);
            assert!(rel <= 1.0, "{what}: root {i}: delta, work relative error {:e} eps", rel * 32.0);
            let sp = sum2(&[df[o], -dl[o]]);
            assert!((sp - s).abs() <= 4.0 * eps * s, "{what}: root {i}: sigma {s:e} but d_o - delta_o = {sp:e}");

            // the secular function at the computed delta, work
            let mut f = 1.0 / rf;
            let mut sum = 1.0 / rf;
            for j in 0..n {
                let t = zf[j] * zf[j] / (dl[j] * wk[j]);
                f += t;
                sum += t.abs();
            }
            let ftol = 2.0 * (n as f64 + 10.0) * eps * sum;
            worst.residual = worst.residual.max(f.abs() / ftol);
            assert!(f.abs() <= ftol, "{what}: root {i}: |f(sigma)| = {:e} > {ftol:e}", f.abs());

            // against the root by bisection in double-double, and that against faer's singular
            // values of the matrix
            let (lo, hi) = bisect_root(&df, &zf, rf, i);
            let ftol = 16.0 * (1.0 + (n as f64).sqrt()) * f64::EPSILON * scale;
            assert!(
                (faer_refs[i] - lo).abs() <= ftol,
                "{what}: root {i}: bisection {lo:e} vs faer {:e} (tol {ftol:e})",
                faer_refs[i]
            );
            worst.faer = worst.faer.max((faer_refs[i] - lo).abs() / (f64::EPSILON * scale));
            let err = if s < lo { lo - s } else if s > hi { s - hi } else { 0.0 };
            let stol = 16.0 * eps * scale;
            worst.sigma = worst.sigma.max(err / stol);
            assert!(err <= stol, "{what}: root {i}: sigma {s:e} vs [{lo:e}, {hi:e}] (tol {stol:e})");
            let rtol = (16.0 + (n as f64).sqrt()) * eps * s;
            worst.sigma_rel = worst.sigma_rel.max(err / rtol);
            assert!(err <= rtol, "{what}: root {i}: sigma {s:e} vs [{lo:e}, {hi:e}] (relative tol {rtol:e})");
            all.push((delta, work));
        }
        (all, worst)
    }

    fn random_cases<T: Real>() {
        let mut worst = Worst::default();
        let mut seed = 1u64;
        for &n in &[1usize, 2, 3, 4, 7, 20, 100, 400] {
            for &rho in &[1e-3, 1.0, 1e3] {
                for zero_first in [true, false] {
                    for ulp_gaps in [false, true] {
                        seed += 1;
                        let d = poles::<T>(n, seed, zero_first, ulp_gaps);
                        let z = unit_z::<T>(n, seed);
                        let what = format!("{} n={n} rho={rho} d0=0:{zero_first} ulp gaps:{ulp_gaps}", T::NAME);
                        worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                    }
                }
            }
        }
        eprintln!("{} random: worst error / tolerance {worst:?}", T::NAME);
    }

    /// Random poles (`d_0 = 0` or not; some pairs 1 to 4 ulps apart), random unit z, rho in
    /// {1e-3, 1, 1e3}, n from 1 to 400: every root checked by `check_all`.
    #[test]
    fn random_f64() {
        random_cases::<f64>();
    }

    #[test]
    fn random_f32() {
        random_cases::<f32>();
    }

    /// For well-separated poles and z well away from zero, the vectors `z_j / (delta_j work_j)`
    /// (normalized; the eigenvectors of `diag(d)^2 + rho z z^T`) are orthogonal to working
    /// precision without Gu-Eisenstat's recomputed z, if each `delta_j work_j` is accurate
    /// relative to itself.
    fn orthogonality<T: Real>() {
        for &n in &[50usize, 200] {
            for (s, &rho) in [1e-3, 1.0, 1e3].iter().enumerate() {
                for zero_first in [true, false] {
                    let seed = 77 + s as u64 + n as u64;
                    let d = poles::<T>(n, seed, zero_first, false);
                    let z = unit_z::<T>(n, seed);
                    let what = format!("{} orthogonality n={n} rho={rho} d0=0:{zero_first}", T::NAME);
                    let (dw, w) = check_all(&d, &z, T::from_f64(rho), &what);
                    let vs: Vec<Vec<f64>> = dw
                        .iter()
                        .map(|(delta, work)| {
                            let v: Vec<f64> =
                                (0..n).map(|j| z[j].to_f64() / (delta[j].to_f64() * work[j].to_f64())).collect();
                            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                            v.iter().map(|x| x / norm).collect()
                        })
                        .collect();
                    let mut worst = 0.0f64;
                    for a in 0..n {
                        for b in 0..=a {
                            let dot: f64 = (0..n).map(|j| vs[a][j] * vs[b][j]).sum();
                            worst = worst.max((dot - if a == b { 1.0 } else { 0.0 }).abs());
                        }
                    }
                    let tol = n as f64 * T::EPSILON.to_f64();
                    eprintln!("{what}: max |V^T V - I| = {worst:e} (tolerance {tol:e}); {w:?}");
                    assert!(worst <= tol, "{what}: max |V^T V - I| = {worst:e} > {tol:e}");
                }
            }
        }
    }

    #[test]
    fn vectors_orthogonal_f64() {
        orthogonality::<f64>();
    }

    #[test]
    fn vectors_orthogonal_f32() {
        orthogonality::<f32>();
    }

    /// Clusters of up to 4 poles 1 to 4 ulps apart among well-separated ones, `d_0 = 0` or not.
    fn clustered<T: Real>() {
        let mut worst = Worst::default();
        for &n in &[3usize, 5, 12, 60] {
            for &rho in &[1e-3, 1.0, 1e3] {
                for zero_first in [true, false] {
                    let r = data(n, 900 + n as u64);
                    let mut x = if zero_first { T::ZERO } else { T::from_f64(0.3) };
                    let mut d = vec![x];
                    for k in 1..n {
                        x += if k % 4 != 0 && x > T::ZERO {
                            T::EPSILON * x * T::from_f64((1 + k % 3) as f64)
                        } else {
                            T::from_f64((r[k] + 0.6) / n as f64)
                        };
                        d.push(x);
                    }
                    let z = unit_z::<T>(n, 900 + n as u64);
                    let what = format!("{} clustered n={n} rho={rho} d0=0:{zero_first}", T::NAME);
                    worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                }
            }
        }
        eprintln!("{} clustered: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn clustered_poles() {
        clustered::<f64>();
        clustered::<f32>();
    }

    /// Some `z_j` tiny (1e-150 in f64, 1e-15 in f32, every third and the last): those roots are
    /// within `rho z_j^2` of a pole, far below the resolution of `sigma` itself but not of
    /// `delta`; with `d_0 = 0` and a tiny `z_0` the first root is itself tiny.
    fn tiny_z<T: Real>() {
        let mut worst = Worst::default();
        let tiny = if T::EPSILON.to_f64() > 1e-10 { 1e-15 } else { 1e-150 };
        for &n in &[3usize, 4, 10, 40] {
            for &rho in &[1e-3, 1.0, 1e3] {
                for zero_first in [true, false] {
                    let d = poles::<T>(n, 500 + n as u64, zero_first, false);
                    let mut zf: Vec<f64> = unit_z::<f64>(n, 500 + n as u64);
                    for j in (0..n).step_by(3) {
                        zf[j] = tiny * if zf[j] < 0.0 { -1.0 } else { 1.0 };
                    }
                    zf[n - 1] = tiny;
                    let z = normalized::<T>(&zf);
                    let what = format!("{} tiny z n={n} rho={rho} d0=0:{zero_first}", T::NAME);
                    worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                }
            }
        }
        eprintln!("{} tiny z: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn tiny_z_components() {
        tiny_z::<f64>();
        tiny_z::<f32>();
    }

    /// Poles spread over many orders of magnitude: pairs `10^(-step k)`, `2 10^(-step k)` for
    /// `k = 0..=levels` (`step` 10 in f64, down to 1e-30; 4 in f32, down to 1e-8), the smallest
    /// replaced by 0 or not, so that `d_i <= sqrt(eps) d_{i+1}` across levels; z alternately of order
    /// one and below `sqrt(eps)`: the case of LAPACK's geometric-mean bisection (`GEOMAVG`). (In
    /// f32 much smaller poles overflow `(z_j / (d_j^2 - sigma^2))^2`, see [`lasd4`].)
    fn spread<T: Real>() {
        let mut worst = Worst::default();
        let f32 = T::EPSILON.to_f64() > 1e-10;
        let (step, small_z, max_levels) = if f32 { (4, 1e-5, 2) } else { (10, 1e-9, 3) };
        for levels in 1..=max_levels {
            for &rho in &[1e-3, 1.0, 1e3] {
                for zero_first in [true, false] {
                    for phase in 0..2 {
                        let mut df: Vec<f64> = (0..=levels)
                            .rev()
                            .flat_map(|k| {
                                let x = 10f64.powi(-(step * k) as i32);
                                [x, 2.0 * x]
                            })
                            .collect();
                        if zero_first {
                            df[0] = 0.0;
                        }
                        let n = df.len();
                        let d: Vec<T> = df.iter().map(|&x| T::from_f64(x)).collect();
                        let r = data(n, 1234 + n as u64);
                        let zf: Vec<f64> = (0..n)
                            .map(|j| if (j + phase) % 2 == 0 { small_z * (1.5 + r[j]) } else { 0.5 + r[j] })
                            .collect();
                        let z = normalized::<T>(&zf);
                        let what = format!("{} spread n={n} rho={rho} d0=0:{zero_first} phase={phase}", T::NAME);
                        worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                    }
                }
            }
        }
        eprintln!("{} spread: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn spread_poles() {
        spread::<f64>();
        spread::<f32>();
    }

    /// rho tiny (every root within `rho z_j^2 / (2 d_j)` right of its pole) or huge (every
    /// interior root just left of `d_{i+1}`, the last one far out): roots extremely close to a
    /// pole without any tiny z.
    fn extreme_rho<T: Real>() {
        let mut worst = Worst::default();
        let f32 = T::EPSILON.to_f64() > 1e-10;
        let rhos = if f32 { [1e-6, 1e6] } else { [1e-12, 1e12] };
        for &n in &[3usize, 4, 7, 30] {
            for &rho in &rhos {
                for zero_first in [true, false] {
                    let d = poles::<T>(n, 700 + n as u64, zero_first, false);
                    let z = unit_z::<T>(n, 700 + n as u64);
                    let what = format!("{} extreme rho n={n} rho={rho} d0=0:{zero_first}", T::NAME);
                    worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                }
            }
        }
        eprintln!("{} extreme rho: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn roots_near_poles() {
        extreme_rho::<f64>();
        extreme_rho::<f32>();
    }

    /// n = 2 (LAPACK's `dlasd5`): `d_0` zero, small or one; `d_1 - d_0` from 1 ulp to 1000; the
    /// weight on either pole or equal; rho from 1e-3 to 1e3; both roots.
    fn n2<T: Real>() {
        let mut worst = Worst::default();
        let s = 1.0 / 2f64.sqrt();
        for d0 in [0.0, 1e-3, 1.0] {
            // gaps of 1, 4 and 1000 ulps of max(d_0, 1), then absolute gaps
            for (gap, ulps) in [(1.0, true), (4.0, true), (1e3, true), (0.5, false), (1e3, false)] {
                let d0t = T::from_f64(d0);
                let g = if ulps {
                    T::EPSILON * T::from_f64(gap) * if d0 > 0.0 { d0t } else { T::ONE }
                } else {
                    T::from_f64(gap)
                };
                let d = [d0t, d0t + g];
                assert!(d[1] > d[0]);
                for (z0, z1) in [(0.6, 0.8), (0.8, 0.6), (s, s), (1e-8, 1.0), (1.0, 1e-8)] {
                    let z = normalized::<T>(&[z0, z1]);
                    for &rho in &[1e-3, 1.0, 1e3] {
                        let what =
                            format!("{} n=2 d0={d0} gap={gap} (ulps: {ulps}) z=({z0},{z1}) rho={rho}", T::NAME);
                        worst.merge(check_all(&d, &z, T::from_f64(rho), &what).1);
                    }
                }
            }
        }
        eprintln!("{} n = 2: worst error / tolerance {worst:?}", T::NAME);
    }

    #[test]
    fn n2_all_orderings() {
        n2::<f64>();
        n2::<f32>();
    }

    /// n = 1: `sigma = sqrt(d_0^2 + rho z_0^2)`, with `delta`, `work` holding `d_0 -/+ sigma` (not
    /// LAPACK's ones), `d_0 - sigma` accurate even when it is tiny against `d_0`.
    #[test]
    fn n1() {
        for d0 in [0.0, 1e-3, 1.0, 1e3] {
            for rho in [1e-20, 1e-3, 1.0, 1e3] {
                let mut delta = [f64::NAN];
                let mut work = [f64::NAN];
                let s = lasd4(0, &[d0], &[1.0], &mut delta, &mut work, rho).unwrap();
                let want = (d0 * d0 + rho).sqrt();
                assert!((s - want).abs() <= 2.0 * f64::EPSILON * want, "d0={d0} rho={rho}: {s} vs {want}");
                // d0 - sigma = -rho / (d0 + sigma)
                let dwant = -rho / (d0 + want);
                let tol = 4.0 * f64::EPSILON * dwant.abs();
                assert!((delta[0] - dwant).abs() <= tol, "d0={d0} rho={rho}: delta {:e}", delta[0]);
                assert!((work[0] - (d0 + want)).abs() <= 4.0 * f64::EPSILON * (d0 + want));
            }
        }
        let (mut delta, mut work) = ([f32::NAN], [f32::NAN]);
        let s = lasd4(0, &[2.0f32], &[1.0], &mut delta, &mut work, 1e-3).unwrap();
        assert!(s > 2.0 && delta[0] < 0.0 && (delta[0] as f64 + 1e-3 / (2.0 + s as f64)).abs() < 1e-9);
    }
}
