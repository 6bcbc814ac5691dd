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

/// Per-thread scratch kept up to this many bytes between calls (larger requests are allocated
/// and freed each time).
const SCRATCH_KEEP_BYTES: usize = 8 << 20;

/// Which of a thread's two reusable scratch buffers: a kernel holds [`Slot::Outer`] across a
/// parallel loop whose tasks (one of which runs on the calling thread) use [`Slot::Task`].
#[derive(Clone, Copy)]
pub(crate) enum Slot {
    Outer = 0,
    Task = 1,
}

thread_local! {
    /// This thread's reusable scratch buffers (`u64`s: aligned for any float).
    static SCRATCH: [core::cell::RefCell<Vec<u64>>; 2] =
        const { [core::cell::RefCell::new(Vec::new()), core::cell::RefCell::new(Vec::new())] };
}

/// Runs `f` on `len` values of `T` of scratch (contents unspecified: whatever an earlier call
/// left, or zeros): this thread's buffer `slot`, kept for its later calls when at most
/// [`SCRATCH_KEEP_BYTES`].
///
/// Why: a fresh allocation of a few hundred KB comes from `mmap`, and its first touch costs a
/// page fault per 4 KB, about 1 us each on this VM: the quadratic-form kernel's 720 KB matrix
/// took ~190 us to fill when freshly allocated, against a ~450 us product. A nested call for a
/// slot already lent out gets a fresh buffer.
pub(crate) fn with_scratch<T: crate::scalar::Real, R>(slot: Slot, len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    const { assert!(core::mem::align_of::<T>() <= 8 && core::mem::size_of::<T>() <= 8) };
    let words = (len * core::mem::size_of::<T>()).div_ceil(8);
    let fresh = |f: &mut dyn FnMut(&mut Vec<u64>) -> R| f(&mut vec![0u64; words]);
    let mut run = Some(f);
    let mut body = |buf: &mut Vec<u64>| {
        if buf.len() < words {
            buf.clear();
            buf.resize(words, 0);
        }
        // SAFETY: the buffer holds at least `words` initialized u64s, as many bytes as `len` Ts,
        // aligned for T, which is a plain float type (any bits are a value).
        let s = unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, len) };
        (run.take().expect("called once"))(s)
    };
    if words * 8 > SCRATCH_KEEP_BYTES {
        return fresh(&mut body);
    }
    SCRATCH.with(|cells| match cells[slot as usize].try_borrow_mut() {
        Ok(mut buf) => body(&mut buf),
        Err(_) => fresh(&mut body),
    })
}
