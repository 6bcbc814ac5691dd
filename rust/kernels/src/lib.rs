//! ferrolinalg's numerical kernels.
//!
//! Plain Rust over strided views: nothing here knows about Python, so `cargo test -p
//! ferrolinalg-kernels` tests every algorithm without an interpreter. The Python bindings
//! (`rust/python`) only convert NumPy arrays into the views of [`strided`], release the GIL and
//! call in here.
//!
//! Conventions shared by every module:
//! - Kernels are generic over [`Real`] (`f32`, `f64`); no algorithm is written twice per dtype.
//! - Inputs are [`strided::ArrayRef`]s (any strides, negative ones included) and results are
//!   written into caller-provided [`strided::ArrayMut`]s, as faer's kernels do.
//! - Parallelism is an explicit [`threads::Par`] argument, never hidden global state; a kernel
//!   decides from the problem size whether threads are worth starting.
//! - Errors are typed ([`error`]) and carry the facts (shapes, indices) a message needs.

pub mod error;
mod batch;
pub mod factor;
pub mod activations;
pub mod dense;
mod gemv;
mod gemm;
mod small_gemm;
mod packed_gemm;
mod transpose;
pub mod checks;
mod cpu;
pub mod lu;
pub mod eigh;
pub mod einsum;
mod jacobi;
mod tql;
mod secular;
mod secular_sv;
mod bdsdc;
mod stedc;
mod sytrd;
mod sytrd_blocked;
mod larfb;
mod sy2sb;
mod sb2st;
pub mod matmul;
pub mod norms;
pub mod reduce;
pub mod scalar;
pub mod signs;
pub mod strided;
pub mod svd;
mod svd_small;
mod sweep_pipe;
mod gebrd;
mod ge2gb;
mod gbbrd;
mod tsqr;
pub mod threads;
mod workspace;
pub mod randomized;
pub mod eigsh;
pub mod pca;

#[cfg(test)]
mod testing;

pub use error::{Error, Result};
pub use scalar::Real;
pub use strided::{ArrayMut, ArrayRef};
pub use threads::Par;
