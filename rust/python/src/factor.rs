//! Bindings of the QR and Cholesky factorizations.

use crate::convert::{float_array, new_array, unbound, unbound_mut, view, view_mut, Float, FloatArray};
use crate::errors::{held, run_interruptible};
use ferrolinalg_kernels::{checks, factor, threads};
use numpy::PyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_qr, m)?)?;
    m.add_function(wrap_pyfunction!(_cholesky, m)?)?;
    Ok(())
}

/// The QR factorization of the matrices in the last two axes: `(Q, R)` for mode "reduced" or
/// "complete", `R` alone for mode "r". `diag(R) >= 0`.
#[pyfunction]
fn _qr<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, mode: &str, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    match float_array(a, "a")? {
        FloatArray::F32(a) => qr_typed(py, &a, mode, check_finite),
        FloatArray::F64(a) => qr_typed(py, &a, mode, check_finite),
    }
}

fn qr_typed<'py, T: Float>(py: Python<'py>, a: &Bound<'py, PyArrayDyn<T>>, mode: &str, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    let av = view(a);
    let shape = av.shape().to_vec();
    if shape.len() < 2 {
        return Err(PyValueError::new_err(format!("qr needs an array of at least two dimensions (..., M, N), got shape {shape:?}")));
    }
    let nb = shape.len() - 2;
    let (m, n) = (shape[nb], shape[nb + 1]);
    let kr = match mode {
        "reduced" | "r" => m.min(n),
        "complete" => m,
        _ => return Err(PyValueError::new_err(format!("qr's mode must be 'reduced', 'complete' or 'r', not {mode:?}"))),
    };
    let with = |tail: [usize; 2]| -> Vec<usize> { shape[..nb].iter().chain(&tail).copied().collect() };
    let pool = threads::current();
    let r = new_array::<T>(py, &with([kr, n]))?;
    let q = if mode == "r" { None } else { Some(new_array::<T>(py, &with([m, kr]))?) };
    let cost = av.len().saturating_mul(m.min(n)).saturating_mul(2);
    let mut keep = held(&[a.as_any(), r.as_any()]);
    keep.extend(q.iter().map(|q| q.clone().into_any().unbind()));
    // SAFETY: `keep` holds `a`, `r` and `q` until the work is done.
    let (av, mut rv, mut qv) = unsafe { (unbound(&av), unbound_mut(&view_mut(&r)), q.as_ref().map(|q| unbound_mut(&view_mut(q)))) };
    run_interruptible(py, cost, keep, move || {
        if check_finite {
            checks::check_finite(&av, "a", pool.par())?;
        }
        factor::qr(&av, qv.as_mut(), &mut rv, pool.par())
    })?;
    match q {
        Some(q) => Ok(PyTuple::new(py, [q.into_any(), r.into_any()])?.into_any()),
        None => Ok(r.into_any()),
    }
}

/// The Cholesky factor of the symmetric positive-definite matrices in the last two axes (lower,
/// or with `upper` the upper one), reading only that triangle.
#[pyfunction]
fn _cholesky<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, upper: bool, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    match float_array(a, "a")? {
        FloatArray::F32(a) => cholesky_typed(py, &a, upper, check_finite),
        FloatArray::F64(a) => cholesky_typed(py, &a, upper, check_finite),
    }
}

fn cholesky_typed<'py, T: Float>(py: Python<'py>, a: &Bound<'py, PyArrayDyn<T>>, upper: bool, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    let av = view(a);
    let out = new_array::<T>(py, av.shape())?;
    let pool = threads::current();
    let cost = av.len().saturating_mul(av.shape().last().copied().unwrap_or(0)) / 3;
    let keep = held(&[a.as_any(), out.as_any()]);
    // SAFETY: `keep` holds `a` and the result until the work is done.
    let (av, mut ov) = unsafe { (unbound(&av), unbound_mut(&view_mut(&out))) };
    run_interruptible(py, cost, keep, move || {
        if check_finite {
            checks::check_finite(&av, "a", pool.par())?;
        }
        factor::cholesky(&av, &mut ov, upper, pool.par())
    })?;
    Ok(out.into_any())
}
