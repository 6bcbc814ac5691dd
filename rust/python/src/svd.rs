//! Bindings of the singular value decomposition.

use crate::convert::{float_array, new_array, unbound, unbound_mut, view, view_mut, Float, FloatArray};
use crate::errors::{run_interruptible, to_pyerr};
use ferrolinalg_kernels::svd::{self, SvdOut};
use ferrolinalg_kernels::{threads, Error};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_svd, m)?)?;
    Ok(())
}

/// The SVD of the matrices in the last two axes of `a`: `(U, S, Vh)` if `compute_uv`, else `S`.
/// `U` comes back as a view of `(..., k, m)` C-order storage with its last two axes swapped
/// (each matrix column-major, as faer writes it fastest); `S` and `Vh` are C-order.
#[pyfunction]
fn _svd<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    full_matrices: bool,
    compute_uv: bool,
    check_finite: bool,
) -> PyResult<Bound<'py, PyAny>> {
    match float_array(a, "a")? {
        FloatArray::F32(a) => svd_typed(py, &a, full_matrices, compute_uv, check_finite),
        FloatArray::F64(a) => svd_typed(py, &a, full_matrices, compute_uv, check_finite),
    }
}

fn svd_typed<'py, T: Float>(
    py: Python<'py>,
    a: &Bound<'py, PyArrayDyn<T>>,
    full_matrices: bool,
    compute_uv: bool,
    check_finite: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let av = view(a);
    let shape = av.shape();
    if shape.len() < 2 {
        return Err(to_pyerr(
            py,
            Error::Shape {
                what: "svd needs an array of at least two dimensions (..., M, N)".into(),
                shapes: vec![shape.to_vec()],
            },
        ));
    }
    let nb = shape.len() - 2;
    let (m, n) = (shape[nb], shape[nb + 1]);
    let k = m.min(n);
    let with = |tail: &[usize]| -> Vec<usize> { shape[..nb].iter().chain(tail).copied().collect() };
    let pool = threads::current();
    let s = new_array::<T>(py, &with(&[k]))?;
    let nbatch: usize = shape[..nb].iter().product();
    let cost = nbatch.saturating_mul(m * n * k).saturating_mul(if compute_uv { 6 } else { 2 });
    let keep = |arrays: &[&Bound<'py, PyAny>]| -> Vec<Py<PyAny>> { arrays.iter().map(|x| (*x).clone().unbind()).collect() };
    // SAFETY (every `unbound` below): the arrays are in `keep` until the work is done.
    let (av, mut sv) = unsafe { (unbound(&av), unbound_mut(&view_mut(&s))) };
    if !compute_uv {
        run_interruptible(py, cost, keep(&[a.as_any(), s.as_any()]), move || {
            svd::svd(&av, SvdOut { s: &mut sv, uv: None }, check_finite, pool.par())
        })?;
        return Ok(s.into_any());
    }
    let (ku, kv) = if full_matrices { (m, n) } else { (k, k) };
    let ut = new_array::<T>(py, &with(&[ku, m]))?;
    let u = ut.call_method1("swapaxes", (-1, -2))?.cast_into::<PyArrayDyn<T>>()?;
    let vh = new_array::<T>(py, &with(&[kv, n]))?;
    let (mut uv, mut vhv) = unsafe { (unbound_mut(&view_mut(&u)), unbound_mut(&view_mut(&vh))) };
    run_interruptible(py, cost, keep(&[a.as_any(), s.as_any(), u.as_any(), vh.as_any()]), move || {
        svd::svd(&av, SvdOut { s: &mut sv, uv: Some((&mut uv, &mut vhv)) }, check_finite, pool.par())
    })?;
    Ok(PyTuple::new(py, [u.into_any(), s.into_any(), vh.into_any()])?.into_any())
}
