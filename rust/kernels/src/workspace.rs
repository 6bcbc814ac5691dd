//! Fallible allocation of scratch memory.
//!
//! Rust's allocation functions abort the process when memory runs out, which for a library
//! inside a long-running Python service is the worst outcome. Every scratch buffer whose size
//! comes from the caller's input (decomposition workspaces, packed copies) is allocated here
//! instead, and a size the system refuses becomes [`Error::Memory`] (Python's `MemoryError`).

use crate::error::{Error, Result};
use faer::dyn_stack::{MemBuffer, StackReq};

fn refused(bytes: usize) -> Error {
    Error::Memory { bytes }
}

/// A `MemBuffer` for faer's workspace `req`.
pub(crate) fn buffer(req: StackReq) -> Result<MemBuffer> {
    MemBuffer::try_new(req).map_err(|_| refused(req.size_bytes()))
}

/// Checks, by reserving and releasing it, that `count` values of `T` can be allocated now: for
/// allocations made by code that cannot fail gracefully (faer's owned matrices). Sizes below
/// 64 MiB are not checked (no system refuses those while it still runs Python).
pub(crate) fn check_available<T>(count: usize) -> Result<()> {
    let bytes = count.saturating_mul(core::mem::size_of::<T>());
    if bytes < 64 << 20 {
        return Ok(());
    }
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(bytes).map_err(|_| refused(bytes))
}
