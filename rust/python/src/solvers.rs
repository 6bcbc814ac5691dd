//! Bindings of the LU-based solvers: `inv`, `solve`, `det`, `slogdet`.

use crate::convert::{float_array, new_array, scalar_or_array, unbound, unbound_mut, view, view_mut, Float, FloatArray};
use crate::errors::{held, run_detached, run_interruptible, to_pyerr};
use ferrolinalg_kernels::lu::{self, DetOut};
use ferrolinalg_kernels::threads;
use numpy::PyArrayDyn;
use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(inv, m)?)?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(det, m)?)?;
    m.add_function(wrap_pyfunction!(_slogdet, m)?)?;
    Ok(())
}

/// The inverse of each matrix of `a` (`(..., n, n)`), as `numpy.linalg.inv`.
///
/// LU with partial pivoting. A singular matrix (an exact zero pivot, as LAPACK decides) raises
/// `ferrolinalg.LinAlgError` naming its batch index; `check_finite=True` raises `ValueError` on
/// NaN or infinity (pass `False` to skip the check).
#[pyfunction]
#[pyo3(signature = (a, *, check_finite=true))]
fn inv<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    match float_array(a, "a")? {
        FloatArray::F32(a) => inv_typed(py, &a, check_finite),
        FloatArray::F64(a) => inv_typed(py, &a, check_finite),
    }
}

fn inv_typed<'py, T: Float>(py: Python<'py>, a: &Bound<'py, PyArrayDyn<T>>, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    let av = view(a);
    let shape = lu::inv_shape(av.shape()).map_err(|e| to_pyerr(py, e))?;
    let result = new_array::<T>(py, &shape)?;
    let pool = threads::current();
    let cost = av.len().saturating_mul(*shape.last().unwrap_or(&0));
    let keep = held(&[a.as_any(), result.as_any()]);
    // SAFETY: `keep` holds `a` and the result until the work is done.
    let (av, mut rv) = unsafe { (unbound(&av), unbound_mut(&view_mut(&result))) };
    run_interruptible(py, cost, keep, move || lu::inv(&av, &mut rv, check_finite, pool.par()))?;
    Ok(result.into_any())
}

/// The solution `x` of `a @ x = b`, as `numpy.linalg.solve` (NumPy 2's rules): `b` is one
/// vector `(n,)` when it is 1-D, else a stack of matrices `(..., n, k)` whose batch axes
/// broadcast against `a`'s.
///
/// A singular matrix raises `ferrolinalg.LinAlgError` naming its batch index;
/// `check_finite=True` raises `ValueError` on NaN or infinity in `a` or `b`.
#[pyfunction]
#[pyo3(signature = (a, b, *, check_finite=true))]
fn solve<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    check_finite: bool,
) -> PyResult<Bound<'py, PyAny>> {
    // one dtype for both, as NumPy promotes: float32 only if both are
    match (float_array(a, "a")?, float_array(b, "b")?) {
        (FloatArray::F32(a), FloatArray::F32(b)) => solve_typed(py, &a, &b, check_finite),
        (FloatArray::F64(a), FloatArray::F64(b)) => solve_typed(py, &a, &b, check_finite),
        (FloatArray::F32(a), FloatArray::F64(b)) => solve_typed(py, &to_f64(&a)?, &b, check_finite),
        (FloatArray::F64(a), FloatArray::F32(b)) => solve_typed(py, &a, &to_f64(&b)?, check_finite),
    }
}

fn to_f64<'py>(arr: &Bound<'py, PyArrayDyn<f32>>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    Ok(arr.call_method1("astype", ("float64",))?.cast_into::<PyArrayDyn<f64>>()?)
}

fn solve_typed<'py, T: Float>(
    py: Python<'py>,
    a: &Bound<'py, PyArrayDyn<T>>,
    b: &Bound<'py, PyArrayDyn<T>>,
    check_finite: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (av, bv) = (view(a), view(b));
    let shape = lu::solve_shape(av.shape(), bv.shape()).map_err(|e| to_pyerr(py, e))?;
    let result = new_array::<T>(py, &shape)?;
    let pool = threads::current();
    let n = av.shape().last().copied().unwrap_or(0);
    let cost = av.len().saturating_mul(n).saturating_add(shape.iter().product::<usize>().saturating_mul(n));
    let keep = held(&[a.as_any(), b.as_any(), result.as_any()]);
    // SAFETY: `keep` holds `a`, `b` and the result until the work is done.
    let (av, bv, mut rv) = unsafe { (unbound(&av), unbound(&bv), unbound_mut(&view_mut(&result))) };
    run_interruptible(py, cost, keep, move || lu::solve(&av, &bv, &mut rv, check_finite, pool.par()))?;
    Ok(result.into_any())
}

/// The determinant of each matrix of `a` (`(..., n, n)`), as `numpy.linalg.det`: a NumPy
/// scalar for one matrix, 0 for a singular one, 1 for the empty one.
///
/// The product of the pivots is kept as mantissa and exponent, so it neither overflows nor
/// underflows before the determinant itself does. `check_finite=True` raises `ValueError` on
/// NaN or infinity.
#[pyfunction]
#[pyo3(signature = (a, *, check_finite=true))]
fn det<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    match float_array(a, "a")? {
        FloatArray::F32(a) => det_typed(py, &a, check_finite),
        FloatArray::F64(a) => det_typed(py, &a, check_finite),
    }
}

fn det_typed<'py, T: Float>(py: Python<'py>, a: &Bound<'py, PyArrayDyn<T>>, check_finite: bool) -> PyResult<Bound<'py, PyAny>> {
    let av = view(a);
    let shape = lu::det_shape("det", av.shape()).map_err(|e| to_pyerr(py, e))?;
    let result = new_array::<T>(py, &shape)?;
    let mut rv = view_mut(&result);
    let pool = threads::current();
    run_detached(py, || lu::det(&av, DetOut::Det(&mut rv), check_finite, pool.par()))?;
    scalar_or_array(result)
}

/// `(sign, logabsdet)` of each matrix of `a` (NumPy scalars for one matrix); the Python wrapper
/// `ferrolinalg.slogdet` makes the named tuple.
#[pyfunction]
#[pyo3(signature = (a, *, check_finite=true))]
fn _slogdet<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    check_finite: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    match float_array(a, "a")? {
        FloatArray::F32(a) => slogdet_typed(py, &a, check_finite),
        FloatArray::F64(a) => slogdet_typed(py, &a, check_finite),
    }
}

fn slogdet_typed<'py, T: Float>(
    py: Python<'py>,
    a: &Bound<'py, PyArrayDyn<T>>,
    check_finite: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let av = view(a);
    let shape = lu::det_shape("slogdet", av.shape()).map_err(|e| to_pyerr(py, e))?;
    let (sign, logabs) = (new_array::<T>(py, &shape)?, new_array::<T>(py, &shape)?);
    let (mut sv, mut lv) = (view_mut(&sign), view_mut(&logabs));
    let pool = threads::current();
    run_detached(py, || lu::det(&av, DetOut::Slogdet(&mut sv, &mut lv), check_finite, pool.par()))?;
    Ok((scalar_or_array(sign)?, scalar_or_array(logabs)?))
}
