//! The one mapping from kernel errors (and panics) to Python exceptions.
//!
//! `ValueError` for shapes and arguments, `ferrolinalg.LinAlgError` (a subclass of
//! `numpy.linalg.LinAlgError`, defined in Python) for singular matrices and non-convergence, and
//! `RuntimeError` for a Rust panic, which must never unwind into Python or abort it.

use ferrolinalg_kernels::Error;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Shape { .. } | Error::OutShape { .. } | Error::Value(_) => PyValueError::new_err(err.to_string()),
        Error::LinAlg { .. } => match py.import("ferrolinalg._errors").and_then(|m| m.getattr("LinAlgError")) {
            Ok(cls) => PyErr::from_type(cls.cast_into().expect("LinAlgError is a type"), err.to_string()),
            Err(import_error) => import_error,
        },
    }
}

/// Runs native work with the GIL released, turning a panic into a `RuntimeError`.
pub fn run_detached<R: Send>(py: Python<'_>, work: impl FnOnce() -> Result<R, Error> + Send) -> PyResult<R> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(to_pyerr(py, err)),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PyRuntimeError::new_err(format!(
                "ferrolinalg internal error (a bug; please report it): {msg}"
            )))
        }
    }
}
