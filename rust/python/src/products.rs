//! Bindings of the matrix and vector products.

use crate::convert::{float_pair, into_result, unbound, unbound_mut, view, view_mut, Float, FloatPair};
use crate::errors::{run_interruptible, to_pyerr};
use ferrolinalg_kernels::{matmul as mm, threads};
use numpy::prelude::*;
use numpy::PyArrayDyn;
use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    Ok(())
}

/// Matrix product with NumPy's `matmul` semantics; see `ferrolinalg.matmul`.
#[pyfunction]
#[pyo3(signature = (x1, x2, /, out=None))]
fn matmul<'py>(
    py: Python<'py>,
    x1: &Bound<'py, PyAny>,
    x2: &Bound<'py, PyAny>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    match float_pair(x1, x2)? {
        FloatPair::F32(a, b) => matmul_typed(py, &a, &b, out),
        FloatPair::F64(a, b) => matmul_typed(py, &a, &b, out),
    }
}

fn matmul_typed<'py, T: Float>(
    py: Python<'py>,
    a: &Bound<'py, PyArrayDyn<T>>,
    b: &Bound<'py, PyArrayDyn<T>>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (av, bv) = (view(a), view(b));
    let shape = mm::matmul_shape(av.shape(), bv.shape()).map_err(|e| to_pyerr(py, e))?;
    let cost = shape.work();
    // Runs the product into `result` (a fresh array or a checked `out=`), interruptible when long.
    let run = |result: &Bound<'py, PyArrayDyn<T>>| -> PyResult<()> {
        let keep = vec![a.clone().into_any().unbind(), b.clone().into_any().unbind(), result.clone().into_any().unbind()];
        // SAFETY: `keep` holds both operands and the result until the work is done.
        let (av, bv, mut rv) = unsafe { (unbound(&av), unbound(&bv), unbound_mut(&view_mut(result))) };
        let pool = threads::current();
        run_interruptible(py, cost, keep, move || mm::matmul(&av, &bv, &mut rv, pool.par()))
    };
    into_result(py, &shape.out_shape, out, &[a.as_untyped(), b.as_untyped()], run)
}
