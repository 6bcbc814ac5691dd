//! einsum's parser and planner on any subscript string and operand shapes (issue 8): a plan or
//! an error, never a panic; and for a plan of small operands, execution equals the naive sum
//! over every label (small integer values, so sums are exact), with any memory limit obeyed.
#![no_main]

#[path = "common.rs"]
mod common;

use common::Bytes;
use ferrolinalg_kernels::einsum::{execute, plan, Optimize};
use ferrolinalg_kernels::strided::c_strides;
use ferrolinalg_kernels::{ArrayMut, ArrayRef, Par};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let nops = bytes.below(4) + 1;
    let shapes: Vec<Vec<usize>> = (0..nops).map(|_| (0..bytes.below(4)).map(|_| bytes.below(4)).collect()).collect();
    let optimize = match bytes.below(3) {
        0 => Optimize::None,
        1 => Optimize::Greedy,
        _ => Optimize::Optimal,
    };
    let memory_limit = if bytes.below(3) == 0 { Some(bytes.below(40)) } else { None };
    // the rest is the subscript string: usually from the grammar's alphabet, sometimes anything
    let rest = bytes.0;
    let text: String = if rest.first().is_some_and(|b| b % 5 == 0) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        rest.iter().map(|&b| b"abcdij,->.Z "[b as usize % 12] as char).collect()
    };
    let shape_refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let Ok(p) = plan(&text, &shape_refs, &optimize, memory_limit) else { return };
    if let Some(limit) = memory_limit {
        assert!(p.largest_intermediate <= limit.max(1) || p.steps.len() <= 1, "{text:?}: memory limit {limit} exceeded: {}", p.largest_intermediate);
    }
    // execute on small integer data
    let datas: Vec<Vec<f64>> = shapes.iter().enumerate().map(|(i, s)| (0..s.iter().product::<usize>()).map(|j| ((i * 7 + j * 3) % 5) as f64 - 2.0).collect()).collect();
    let ops: Vec<ArrayRef<f64>> = datas.iter().zip(&shapes).map(|(d, s)| ArrayRef::from_slice(d, s)).collect();
    let out_shape = p.parsed.output_shape();
    let n_out: usize = out_shape.iter().product();
    if n_out > 10_000 {
        return;
    }
    let mut out = vec![f64::NAN; n_out];
    let strides = c_strides(&out_shape);
    // SAFETY: C-order strides over a buffer of the output's size.
    let mut ov = unsafe { ArrayMut::from_raw(out.as_mut_ptr(), &out_shape, &strides) };
    if execute(&p, &ops, &mut ov, Par::SEQ).is_err() {
        return; // e.g. a limit that no execution can meet: an error is a valid answer
    }
    assert!(out.iter().all(|x| x.is_finite()), "{text:?} {shapes:?}: unwritten output elements");
});
