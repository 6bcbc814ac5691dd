//! Bindings of the thread settings.

use ferrolinalg_kernels::threads;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_reset_after_fork, m)?)?;
    Ok(())
}

/// Sets how many threads ferrolinalg's kernels may use (at least 1).
#[pyfunction]
fn set_num_threads(n: i64) -> PyResult<()> {
    if n < 1 {
        return Err(PyValueError::new_err(format!("the number of threads must be at least 1, not {n}")));
    }
    threads::set_num_threads(n as usize);
    Ok(())
}

/// How many threads ferrolinalg's kernels may use.
#[pyfunction]
fn get_num_threads() -> usize {
    threads::num_threads()
}

/// Called in the child after `os.fork()`: the pool's threads did not survive, start a new pool.
#[pyfunction]
fn _reset_after_fork() {
    threads::reset_after_fork();
    crate::long_calls::reset_after_fork();
}

// The C entry points threadpoolctl's controller (python/ferrolinalg/_threadpoolctl.py) calls
// through ctypes, as it calls `openblas_get_num_threads` in OpenBLAS: `threadpool_info()` lists
// ferrolinalg and `threadpool_limits(n)` limits it without knowing about Python modules.

/// The number of threads ferrolinalg's kernels may use.
#[no_mangle]
pub extern "C" fn ferrolinalg_get_num_threads() -> std::os::raw::c_int {
    threads::num_threads().min(std::os::raw::c_int::MAX as usize) as std::os::raw::c_int
}

/// Sets the number of threads ferrolinalg's kernels may use; values below 1 mean 1.
#[no_mangle]
pub extern "C" fn ferrolinalg_set_num_threads(n: std::os::raw::c_int) {
    threads::set_num_threads(n.max(1) as usize);
}
