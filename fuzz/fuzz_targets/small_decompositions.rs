//! The small-matrix kernels (closed forms, Jacobi, QL, own LU) and the decompositions around
//! them on fuzzer-chosen stacks of small matrices, special values included: they must return
//! a result or an error, never panic, and for finite moderate input the results must hold up
//! (residuals of eigh, svd and qr; inv times the matrix where it is well conditioned).
#![no_main]

#[path = "common.rs"]
mod common;

use common::Bytes;
use ferrolinalg_kernels::eigh::{eigh, Uplo};
use ferrolinalg_kernels::factor::{cholesky, qr};
use ferrolinalg_kernels::lu::{det, inv, DetOut};
use ferrolinalg_kernels::svd::{svd, SvdOut};
use ferrolinalg_kernels::{ArrayMut, ArrayRef, Par};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let nb = bytes.below(3) + 1;
    let n = bytes.below(9);
    let check_finite = bytes.below(2) == 0;
    let a: Vec<f64> = (0..nb * n * n).map(|_| bytes.value()).collect();
    let moderate = a.iter().all(|x| x.is_finite() && x.abs() < 1e6);
    let shape = [nb, n, n];
    let av = ArrayRef::from_slice(&a, &shape);
    let amax = a.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1.0);
    let tol = 1e-10 * amax * (n.max(1) as f64);

    // eigh: A V = V diag(w)
    let (mut w, mut v) = (vec![0.0; nb * n], vec![0.0; nb * n * n]);
    let r = eigh(&av, Uplo::Lower, &mut ArrayMut::from_slice(&mut w, &[nb, n]), Some(&mut ArrayMut::from_slice(&mut v, &shape)), check_finite, Par::SEQ);
    if moderate {
        r.expect("eigh of a finite matrix");
        for t in 0..nb {
            let (at, vt, wt) = (&a[t * n * n..][..n * n], &v[t * n * n..][..n * n], &w[t * n..][..n]);
            let sym = |i: usize, j: usize| if i >= j { at[i * n + j] } else { at[j * n + i] };
            for i in 0..n {
                for k in 0..n {
                    let av_ik: f64 = (0..n).map(|j| sym(i, j) * vt[j * n + k]).sum();
                    assert!((av_ik - vt[i * n + k] * wt[k]).abs() <= tol, "eigh residual");
                }
            }
        }
    }

    // svd: A = U diag(s) Vh
    let (mut s, mut u, mut vh) = (vec![0.0; nb * n], vec![0.0; nb * n * n], vec![0.0; nb * n * n]);
    let r = svd(&av, SvdOut { s: &mut ArrayMut::from_slice(&mut s, &[nb, n]), uv: Some((&mut ArrayMut::from_slice(&mut u, &shape), &mut ArrayMut::from_slice(&mut vh, &shape))) }, Par::SEQ);
    if moderate {
        r.expect("svd of a finite matrix");
        for t in 0..nb {
            for i in 0..n {
                for j in 0..n {
                    let x: f64 = (0..n).map(|l| u[t * n * n + i * n + l] * s[t * n + l] * vh[t * n * n + l * n + j]).sum();
                    assert!((x - a[t * n * n + i * n + j]).abs() <= tol, "svd reconstruction");
                }
            }
        }
    }

    // qr: A = Q R
    let (mut q, mut rr) = (vec![0.0; nb * n * n], vec![0.0; nb * n * n]);
    qr(&av, Some(&mut ArrayMut::from_slice(&mut q, &shape)), &mut ArrayMut::from_slice(&mut rr, &shape), Par::SEQ).expect("qr has no failure mode");
    if moderate {
        for t in 0..nb {
            for i in 0..n {
                for j in 0..n {
                    let x: f64 = (0..n).map(|l| q[t * n * n + i * n + l] * rr[t * n * n + l * n + j]).sum();
                    assert!((x - a[t * n * n + i * n + j]).abs() <= tol, "qr reconstruction");
                }
            }
        }
    }

    // inv, det, cholesky: a result or an error, never a panic
    let mut out = vec![0.0; nb * n * n];
    let _ = inv(&av, &mut ArrayMut::from_slice(&mut out, &shape), check_finite, Par::SEQ);
    let mut d = vec![0.0; nb];
    let _ = det(&av, DetOut::Det(&mut ArrayMut::from_slice(&mut d, &[nb])), check_finite, Par::SEQ);
    let _ = cholesky(&av, &mut ArrayMut::from_slice(&mut out, &shape), false, Par::SEQ);
});
