//! Bindings of the norms.

use crate::convert::{float_array, new_array, view, view_mut, Float, FloatArray};
use crate::errors::{run_detached, to_pyerr};
use ferrolinalg_kernels::norms::{self, VectorOrd};
use ferrolinalg_kernels::threads;
use numpy::PyArrayDyn;
use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_vector_norm, m)?)?;
    Ok(())
}

/// The `ord` vector norm of `x` over `axes` (normalised, sorted and distinct: the Python wrapper
/// checks them), as an array of the kept axes' shape (0-d for a full reduction).
#[pyfunction]
fn _vector_norm<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    ord: f64,
    axes: Vec<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let ord = VectorOrd::from_f64(ord).map_err(|e| to_pyerr(py, e))?;
    match float_array(x, "x")? {
        FloatArray::F32(x) => vector_norm_typed(py, &x, ord, &axes),
        FloatArray::F64(x) => vector_norm_typed(py, &x, ord, &axes),
    }
}

fn vector_norm_typed<'py, T: Float>(
    py: Python<'py>,
    x: &Bound<'py, PyArrayDyn<T>>,
    ord: VectorOrd,
    axes: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let xv = view(x);
    if let Some(&bad) = axes.iter().find(|&&a| a >= xv.ndim()) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "axis {bad} is out of bounds for an array of dimension {}",
            xv.ndim()
        )));
    }
    let kept: Vec<usize> = (0..xv.ndim()).filter(|d| !axes.contains(d)).map(|d| xv.shape()[d]).collect();
    let result = new_array::<T>(py, &kept)?;
    let mut rv = view_mut(&result);
    let pool = threads::current();
    run_detached(py, || norms::vector_norm(&xv, axes, ord, &mut rv, pool.par()))?;
    Ok(result.into_any())
}
