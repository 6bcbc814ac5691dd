//! Bindings of the randomized and truncated solvers (`randomized_svd`, `eigsh`) and of PCA's
//! native passes.

use crate::convert::{float_array, new_array, view, view_mut, Float, FloatArray};
use crate::errors::{run_detached, to_pyerr};
use ferrolinalg_kernels::eigsh::{self, Which};
use ferrolinalg_kernels::randomized::{self, Dense, Normalizer, Params};
use ferrolinalg_kernels::{pca, threads, Error};
use numpy::PyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_randomized_svd, m)?)?;
    m.add_function(wrap_pyfunction!(_eigsh, m)?)?;
    m.add_function(wrap_pyfunction!(_pca_fit, m)?)?;
    Ok(())
}

/// A new C-order array holding a column-major faer matrix.
fn mat_array<'py, T: Float>(py: Python<'py>, m: &Dense<T>) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let arr = new_array::<T>(py, &[m.nrows(), m.ncols()])?;
    let v = view_mut(&arr);
    let (rs, cs) = (v.strides()[0], v.strides()[1]);
    let p = v.ptr();
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            // SAFETY: (i, j) is inside the fresh array, which nothing else references yet.
            unsafe { *p.offset(i as isize * rs + j as isize * cs) = m[(i, j)] };
        }
    }
    Ok(arr)
}

fn vec_array<'py, T: Float>(py: Python<'py>, x: &[T]) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let arr = new_array::<T>(py, &[x.len()])?;
    let v = view_mut(&arr);
    for (i, &val) in x.iter().enumerate() {
        // SAFETY: i is inside the fresh 1-D array.
        unsafe { *v.ptr().offset(i as isize * v.strides()[0]) = val };
    }
    Ok(arr)
}

/// The rank-`k` randomized SVD of a 2-D array: `(U, S, Vh)`. `n_iter=None` is "auto".
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _randomized_svd<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    k: usize,
    n_oversamples: usize,
    n_iter: Option<usize>,
    normalizer: &str,
    seed: u64,
    check_finite: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let normalizer = Normalizer::parse(normalizer).map_err(|e| to_pyerr(py, e))?;
    let p = Params { k, n_oversamples, n_iter, normalizer, seed };
    match float_array(a, "a")? {
        FloatArray::F32(a) => rsvd_typed(py, &a, p, check_finite),
        FloatArray::F64(a) => rsvd_typed(py, &a, p, check_finite),
    }
}

fn rsvd_typed<'py, T: Float>(py: Python<'py>, a: &Bound<'py, PyArrayDyn<T>>, p: Params, check_finite: bool) -> PyResult<Bound<'py, PyTuple>> {
    let av = view(a);
    let pool = threads::current();
    let (u, s, vh) = run_detached(py, || {
        if check_finite {
            randomized::check_finite_2d(&av, "a")?;
        }
        randomized::randomized_svd(&av, None, p, pool.par())
    })?;
    PyTuple::new(py, [mat_array(py, &u)?.into_any(), vec_array(py, &s)?.into_any(), mat_array(py, &vh)?.into_any()])
}

/// The `k` eigenpairs at one end ("LA" if `largest`, else "SA") of a symmetric 2-D array:
/// `(w, v)`, `w` ascending.
#[pyfunction]
fn _eigsh<'py>(py: Python<'py>, a: &Bound<'py, PyAny>, k: usize, largest: bool, check_finite: bool) -> PyResult<Bound<'py, PyTuple>> {
    let which = if largest { Which::Largest } else { Which::Smallest };
    match float_array(a, "a")? {
        FloatArray::F32(a) => eigsh_typed(py, &a, k, which, check_finite),
        FloatArray::F64(a) => eigsh_typed(py, &a, k, which, check_finite),
    }
}

fn eigsh_typed<'py, T: Float>(py: Python<'py>, a: &Bound<'py, PyArrayDyn<T>>, k: usize, which: Which, check_finite: bool) -> PyResult<Bound<'py, PyTuple>> {
    let av = view(a);
    let pool = threads::current();
    let (w, v) = run_detached(py, || eigsh::eigsh(&av, k, which, check_finite, pool.par()))?;
    PyTuple::new(py, [vec_array(py, &w)?.into_any(), mat_array(py, &v)?.into_any()])
}

/// PCA's fit on a 2-D `x` (n_samples, n_features): `(mean, S, Vh, total_var)`.
/// `solver="full"`: all `min(m, n)` singular values and rows of `Vh` (QR, then SVD of `R`);
/// `"randomized"`: the first `k`, from the implicitly centred randomized SVD.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _pca_fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    solver: &str,
    k: usize,
    n_oversamples: usize,
    n_iter: Option<usize>,
    normalizer: &str,
    seed: u64,
) -> PyResult<Bound<'py, PyTuple>> {
    let randomized = match solver {
        "full" => false,
        "randomized" => true,
        other => return Err(to_pyerr(py, Error::Value(format!("unknown native PCA solver {other:?}")))),
    };
    let normalizer = Normalizer::parse(normalizer).map_err(|e| to_pyerr(py, e))?;
    let p = Params { k, n_oversamples, n_iter, normalizer, seed };
    match float_array(x, "X")? {
        FloatArray::F32(x) => pca_typed(py, &x, randomized, p),
        FloatArray::F64(x) => pca_typed(py, &x, randomized, p),
    }
}

fn pca_typed<'py, T: Float>(py: Python<'py>, x: &Bound<'py, PyArrayDyn<T>>, randomized: bool, p: Params) -> PyResult<Bound<'py, PyTuple>> {
    let xv = view(x);
    let pool = threads::current();
    let (mean, s, vh, total) = run_detached(py, || {
        randomized::check_finite_2d(&xv, "X")?;
        if randomized {
            let (mean, total) = pca::mean_and_total_var(&xv, pool.par())?;
            let (_, s, vh) = randomized::randomized_svd(&xv, Some(&mean), p, pool.par())?;
            Ok((mean, s, vh, total))
        } else {
            let mean = pca::column_mean(&xv, pool.par())?;
            let (s, v) = pca::centred_svd(&xv, &mean, pool.par())?;
            let vh = v.transpose().to_owned();
            Ok((mean, s, vh, f64::NAN))
        }
    })?;
    let total = pyo3::types::PyFloat::new(py, total).into_any();
    PyTuple::new(py, [vec_array(py, &mean)?.into_any(), vec_array(py, &s)?.into_any(), mat_array(py, &vh)?.into_any(), total])
}
