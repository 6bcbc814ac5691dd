//! The one mapping from kernel errors (and panics) to Python exceptions.
//!
//! `ValueError` for shapes and arguments, `ferrolinalg.LinAlgError` (a subclass of
//! `numpy.linalg.LinAlgError`, defined in Python) for singular matrices and non-convergence, and
//! `RuntimeError` for a Rust panic, which must never unwind into Python or abort it.

use ferrolinalg_kernels::Error;
use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    match err {
        Error::Shape { .. } | Error::OutShape { .. } | Error::Value(_) => PyValueError::new_err(err.to_string()),
        Error::Memory { .. } => PyMemoryError::new_err(err.to_string()),
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
        Err(payload) => Err(panic_error(payload)),
    }
}

/// A caught panic as the `RuntimeError` Python sees.
fn panic_error(payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    PyRuntimeError::new_err(format!("ferrolinalg internal error (a bug; please report it): {msg}"))
}

/// Work estimated below this many multiply-adds (about 10 ms on one core) runs on the calling
/// thread; above it, on a thread of its own so that the caller can answer Ctrl-C (see
/// [`run_interruptible`]). Starting that thread costs ~30 µs, noise at this size.
pub const LONG_WORK: usize = 50_000_000;

/// How often a caller waiting for long work checks for signals: Ctrl-C is answered within this.
const SIGNAL_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Runs native work with the GIL released, like [`run_detached`], but so that a long call can be
/// interrupted: when `cost` reaches [`LONG_WORK`], the work runs on a worker thread
/// ([`crate::long_calls`]) while the
/// calling thread waits, checking Python's signals every [`SIGNAL_POLL`]. If a signal handler
/// raises (Ctrl-C gives `KeyboardInterrupt`), that exception is returned at once and the work
/// is abandoned: it runs to its end on its own thread (the kernels cannot be stopped midway;
/// faer's decompositions have no cancellation points) and its results are dropped. `keep` holds
/// the Python objects the work reads and writes (inputs and result arrays), so that they outlive
/// it even when the caller has returned.
///
/// The closure must own everything it uses (`move`): views of the kept arrays made with
/// [`crate::convert::unbound`]. The library stays usable meanwhile: a call finding the pool busy
/// with abandoned work runs on its own thread.
pub fn run_interruptible<R: Send + 'static>(
    py: Python<'_>,
    cost: usize,
    keep: Vec<Py<PyAny>>,
    work: impl FnOnce() -> Result<R, Error> + Send + 'static,
) -> PyResult<R> {
    if cost < LONG_WORK {
        let result = run_detached(py, work);
        drop(keep);
        return result;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let submitted = crate::long_calls::submit(Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(work));
        // the receiver may be gone (interrupted caller): then the result is dropped here
        let _ = tx.send(result);
        // `keep`'s references are released here, without the GIL: pyo3 defers the decrements
        // to the next time any thread holds it
        drop(keep);
    }));
    if let Err(err) = submitted {
        return Err(PyRuntimeError::new_err(format!("ferrolinalg could not start a thread for a long call: {err}")));
    }
    let mut rx = rx;
    loop {
        // the receiver moves into the GIL-free section and back (it is Send, not Sync)
        let (received, back) = py.detach(move || (rx.recv_timeout(SIGNAL_POLL), rx));
        rx = back;
        match received {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(err))) => return Err(to_pyerr(py, err)),
            Ok(Err(payload)) => return Err(panic_error(payload)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err("ferrolinalg internal error: a long call's thread ended without a result"))
            }
        }
    }
}

/// New references to `arrays`, for [`run_interruptible`]'s `keep`.
pub fn held(arrays: &[&Bound<'_, PyAny>]) -> Vec<Py<PyAny>> {
    arrays.iter().map(|x| (*x).clone().unbind()).collect()
}
