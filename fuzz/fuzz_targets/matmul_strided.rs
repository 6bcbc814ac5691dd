//! `matmul` on fuzzer-chosen shapes (1-D promotion, broadcast batches, zero sizes, mismatches)
//! and strides (negative, zero, gapped, transposed): it must return an error for shapes NumPy
//! rejects, and otherwise exactly the naive product (small integer values: exact sums).
#![no_main]

#[path = "common.rs"]
mod common;

use common::{at, layout, Bytes};
use ferrolinalg_kernels::matmul::{matmul, matmul_shape};
use ferrolinalg_kernels::{ArrayMut, ArrayRef, Par};
use libfuzzer_sys::fuzz_target;

fn shape(bytes: &mut Bytes) -> Vec<usize> {
    let nd = bytes.below(4) + 1;
    (0..nd).map(|_| bytes.below(5)).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let sa = shape(&mut bytes);
    let mut sb = shape(&mut bytes);
    // usually make the inner dimensions agree, so that the product itself is exercised
    if bytes.below(4) != 0 && sb.len() >= 2 {
        let k = sa[sa.len() - 1];
        let at_k = sb.len() - 2;
        sb[at_k] = k;
    }
    let Ok(problem) = matmul_shape(&sa, &sb) else { return };
    let out_shape = problem.out_shape.to_vec();
    let (la, lb) = (layout(&mut bytes, sa.clone()), layout(&mut bytes, sb.clone()));
    let a: Vec<f64> = (0..la.len).map(|_| bytes.value().clamp(-16.0, 16.0)).map(|x| if x.is_nan() { 1.0 } else { x.round() }).collect();
    let b: Vec<f64> = (0..lb.len).map(|_| bytes.value().clamp(-16.0, 16.0)).map(|x| if x.is_nan() { 1.0 } else { x.round() }).collect();
    let n_out: usize = out_shape.iter().product();
    let mut c = vec![f64::NAN; n_out.max(1)];
    // SAFETY: `layout` sized each buffer to hold every element its view reaches.
    let (av, bv) = unsafe {
        (
            ArrayRef::from_raw(a.as_ptr().add(la.offset), &la.shape, &la.strides),
            ArrayRef::from_raw(b.as_ptr().add(lb.offset), &lb.shape, &lb.strides),
        )
    };
    let c_strides = ferrolinalg_kernels::strided::c_strides(&out_shape);
    // SAFETY: C-order strides over a buffer of the result's size.
    let mut cv = unsafe { ArrayMut::from_raw(c.as_mut_ptr(), &out_shape, &c_strides) };
    matmul(&av, &bv, &mut cv, Par::SEQ).expect("shapes were accepted");
    // the naive product, with NumPy's promotion of 1-D operands and batch broadcasting
    let a2: Vec<usize> = if sa.len() == 1 { vec![1, sa[0]] } else { sa.clone() };
    let b2: Vec<usize> = if sb.len() == 1 { vec![sb[0], 1] } else { sb.clone() };
    let (m, k, n) = (a2[a2.len() - 2], a2[a2.len() - 1], b2[b2.len() - 1]);
    let nb = a2.len().max(b2.len()) - 2;
    let pad = |s: &[usize]| -> Vec<usize> { let mut v = vec![1; nb + 2 - s.len()]; v.extend_from_slice(&s[..s.len() - 2]); v };
    let (ab, bb) = (pad(&a2), pad(&b2));
    let batch: Vec<usize> = ab.iter().zip(&bb).map(|(&x, &y)| if x == 1 { y } else { x }).collect();
    let total: usize = batch.iter().product();
    for t in 0..total {
        let mut rem = t;
        let mut idx = vec![0; nb];
        for d in (0..nb).rev() {
            idx[d] = rem % batch[d];
            rem /= batch[d];
        }
        let pick = |dims: &[usize]| -> Vec<usize> { idx.iter().zip(dims).map(|(&i, &d)| if d == 1 { 0 } else { i }).collect() };
        let (ia, ib) = (pick(&ab), pick(&bb));
        // each operand's own batch index: the last of its batch axes
        let a_batch: Vec<usize> = ia[nb - (a2.len() - 2)..].to_vec();
        let b_batch: Vec<usize> = ib[nb - (b2.len() - 2)..].to_vec();
        for i in 0..m {
            for j in 0..n {
                let mut want = 0.0;
                for p in 0..k {
                    let mut ea = a_batch.clone();
                    if sa.len() == 1 { ea = vec![p] } else { ea.extend([i, p]) }
                    let mut eb = b_batch.clone();
                    if sb.len() == 1 { eb = vec![p] } else { eb.extend([p, j]) }
                    want += a[at(&la, &ea)] * b[at(&lb, &eb)];
                }
                // the result's element (batch..., i, j) with the promoted axes removed
                let mut ec: Vec<usize> = idx.clone();
                if sa.len() != 1 { ec.push(i) }
                if sb.len() != 1 { ec.push(j) }
                let off: isize = ec.iter().zip(&c_strides).map(|(&x, &s)| x as isize * s).sum();
                let got = c[off as usize];
                assert!(got == want || (got.is_nan() && want.is_nan()), "{sa:?} x {sb:?} at {ec:?}: {got} vs {want}");
            }
        }
    }
});
