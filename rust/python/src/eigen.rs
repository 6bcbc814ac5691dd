//! Bindings of the symmetric eigendecomposition (`eigh`, `eigvalsh`).

use crate::convert::{float_array, new_array, unbound, unbound_mut, view, view_mut, Float, FloatArray};
use crate::errors::{run_interruptible, to_pyerr};
use ferrolinalg_kernels::eigh::{self, Uplo};
use ferrolinalg_kernels::{threads, Error};
use numpy::PyArrayDyn;
use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_eigh, m)?)?;
    Ok(())
}

/// The eigenvalues (ascending) of the symmetric matrices in `a`, reading only the `uplo` ("L" or
/// "U") triangle, and with `compute_v` the eigenvectors as columns: `(w, v)`, else `(w, None)`.
#[pyfunction]
fn _eigh<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    uplo: &str,
    compute_v: bool,
    check_finite: bool,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
    let uplo = match uplo {
        "L" => Uplo::Lower,
        "U" => Uplo::Upper,
        other => return Err(to_pyerr(py, Error::Value(format!("UPLO must be 'L' or 'U', not {other:?}")))),
    };
    match float_array(a, "a")? {
        FloatArray::F32(a) => eigh_typed(py, &a, uplo, compute_v, check_finite),
        FloatArray::F64(a) => eigh_typed(py, &a, uplo, compute_v, check_finite),
    }
}

fn eigh_typed<'py, T: Float>(
    py: Python<'py>,
    a: &Bound<'py, PyArrayDyn<T>>,
    uplo: Uplo,
    compute_v: bool,
    check_finite: bool,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
    let av = view(a);
    let (mut w_shape, n) = eigh::eigh_shape(av.shape()).map_err(|e| to_pyerr(py, e))?;
    w_shape.push(n);
    let w = new_array::<T>(py, &w_shape)?;
    let v = compute_v.then(|| new_array::<T>(py, av.shape())).transpose()?;
    let pool = threads::current();
    let nbatch: usize = w_shape[..w_shape.len() - 1].iter().product();
    let cost = nbatch.saturating_mul(n * n * n).saturating_mul(if compute_v { 3 } else { 1 });
    let mut keep = vec![a.clone().into_any().unbind(), w.clone().into_any().unbind()];
    keep.extend(v.iter().map(|v| v.clone().into_any().unbind()));
    // SAFETY: `keep` holds `a`, `w` and `v` until the work is done.
    let (av, mut wv, mut vv) = unsafe { (unbound(&av), unbound_mut(&view_mut(&w)), v.as_ref().map(|v| unbound_mut(&view_mut(v)))) };
    run_interruptible(py, cost, keep, move || eigh::eigh(&av, uplo, &mut wv, vv.as_mut(), check_finite, pool.par()))?;
    Ok((w.into_any(), v.map(|v| v.into_any())))
}
