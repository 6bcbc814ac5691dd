//! The `ferrolinalg._core` extension module: thin `#[pyfunction]`s that borrow NumPy arrays as
//! strided views, check them, release the GIL and call the kernels crate. No algorithm lives
//! here; each file binds one family of operations.

mod buffers;
mod convert;
mod dense;
mod eigen;
mod einsum;
mod errors;
mod factor;
mod info;
mod long_calls;
mod norms;

mod products;
mod solvers;
mod svd;
mod threads;
mod lowrank;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    products::register(m)?;
    solvers::register(m)?;

    norms::register(m)?;
    eigen::register(m)?;
    svd::register(m)?;
    factor::register(m)?;
    threads::register(m)?;
    info::register(m)?;
    einsum::register(m)?;
    dense::register(m)?;
    lowrank::register(m)?;
    Ok(())
}
