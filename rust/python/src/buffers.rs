//! Memory for large results: a small cache of recently freed blocks, so a call repeated on
//! same-shaped inputs writes its result into warm memory instead of fresh pages.
//!
//! Why: a new block above glibc's mmap ceiling (32 MiB) comes from the kernel as fresh pages, and
//! each page costs a fault plus zeroing on first touch. Measured here for a 10000x32x32 float64
//! product (82 MB result): 29 ms with a new result against 15 ms writing into `out=`; NumPy pays
//! the same (40 ms against 22 ms). ML pipelines call with the same shapes over and over, so the
//! block freed by the previous call is the one the next call needs.
//!
//! How: NumPy (>= 1.22, NEP 49) lets a caller set the allocator used for new arrays
//! (`PyDataMem_SetHandler`, per context). We set ours only around the allocation of our own
//! results, so the arrays are ordinary (they own their data, `base` is None), and NumPy calls
//! our `free` when they die, whoever holds them by then. Blocks of at least [`MIN_CACHED`] bytes
//! are kept by exact size, at most [`MAX_BLOCKS`] of them and [`MAX_CACHED_BYTES`] in all; the
//! rest is plain malloc/free, as NumPy's default allocator does.
//!
//! Huge pages: NumPy's own allocator asks Linux for transparent huge pages on blocks of 4 MiB
//! and more (`madvise(MADV_HUGEPAGE)`; with THP in its default `madvise` mode nothing else gets
//! them), and so does [`cached_malloc`], on a block aligned to 2 MiB so that all of it can be
//! backed. Without it, a 1024x1024 float32 product written into our result ran at 92 GFLOP/s
//! against 143 into a NumPy-allocated `out=` (session 15): its columns, 4 KiB apart, each fell
//! on another small page, and the register tile's six columns missed the TLB on every tile.

use core::ffi::{c_char, c_void};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCapsule;
use std::sync::Mutex;

/// Smaller blocks are left to malloc (glibc reuses them from its heap).
const MIN_CACHED: usize = 1 << 20;
const MAX_BLOCKS: usize = 4;
const MAX_CACHED_BYTES: usize = 512 << 20;

/// Blocks from this size on are advised to use transparent huge pages (NumPy's threshold).
#[cfg(target_os = "linux")]
const HUGE_PAGE_MIN: usize = 4 << 20;

extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn calloc(nelem: usize, elsize: usize) -> *mut c_void;
    fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
}

/// Freed blocks by size, oldest first. Only touched with the GIL held (allocation happens in our
/// bindings, freeing in an array's deallocation), so a fork never finds the lock held.
static CACHE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn cached_malloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    if size >= MIN_CACHED {
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = cache.iter().rposition(|&(s, _)| s == size) {
            return cache.remove(i).1 as *mut c_void;
        }
    }
    #[cfg(target_os = "linux")]
    if size >= HUGE_PAGE_MIN {
        return huge_page_block(size);
    }
    malloc(size.max(1))
}

/// A block of `size` bytes aligned to a huge page, advised to use huge pages (the advice is a
/// hint: if the kernel declines, the block is ordinary memory). `free` releases it.
#[cfg(target_os = "linux")]
unsafe fn huge_page_block(size: usize) -> *mut c_void {
    extern "C" {
        fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> core::ffi::c_int;
        fn madvise(addr: *mut c_void, len: usize, advice: core::ffi::c_int) -> core::ffi::c_int;
    }
    const MADV_HUGEPAGE: core::ffi::c_int = 14;
    const HUGE_PAGE: usize = 2 << 20;
    let mut block = core::ptr::null_mut();
    if posix_memalign(&mut block, HUGE_PAGE, size) != 0 {
        return core::ptr::null_mut();
    }
    madvise(block, size, MADV_HUGEPAGE);
    block
}

unsafe extern "C" fn cached_calloc(_ctx: *mut c_void, nelem: usize, elsize: usize) -> *mut c_void {
    calloc(nelem.max(1), elsize.max(1))
}

unsafe extern "C" fn cached_realloc(_ctx: *mut c_void, ptr: *mut c_void, size: usize) -> *mut c_void {
    realloc(ptr, size.max(1))
}

unsafe extern "C" fn cached_free(_ctx: *mut c_void, ptr: *mut c_void, size: usize) {
    if ptr.is_null() {
        return;
    }
    if (MIN_CACHED..=MAX_CACHED_BYTES).contains(&size) {
        let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        cache.push((size, ptr as usize));
        // drop the oldest blocks beyond the limits
        while cache.len() > MAX_BLOCKS || cache.iter().map(|&(s, _)| s).sum::<usize>() > MAX_CACHED_BYTES {
            let (_, old) = cache.remove(0);
            free(old as *mut c_void);
        }
        return;
    }
    free(ptr);
}

/// NumPy's `PyDataMemAllocator` and `PyDataMem_Handler` (numpy/ndarraytypes.h, NEP 49).
#[repr(C)]
struct DataMemAllocator {
    ctx: *mut c_void,
    malloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    calloc: unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void,
    realloc: unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void, *mut c_void, usize),
}

#[repr(C)]
struct DataMemHandler {
    name: [u8; 127],
    version: u8,
    allocator: DataMemAllocator,
}

// SAFETY: the handler is immutable and its context pointer is null.
unsafe impl Sync for DataMemHandler {}

const fn handler_name() -> [u8; 127] {
    let mut name = [0u8; 127];
    let src = b"ferrolinalg_cached";
    let mut i = 0;
    while i < src.len() {
        name[i] = src[i];
        i += 1;
    }
    name
}

static HANDLER: DataMemHandler = DataMemHandler {
    name: handler_name(),
    version: 1,
    allocator: DataMemAllocator {
        ctx: core::ptr::null_mut(),
        malloc: cached_malloc,
        calloc: cached_calloc,
        realloc: cached_realloc,
        free: cached_free,
    },
};

type SetHandler = unsafe extern "C" fn(*mut pyo3::ffi::PyObject) -> *mut pyo3::ffi::PyObject;

/// The handler capsule and NumPy's `PyDataMem_SetHandler`, or None where NumPy lacks it.
struct Hook {
    capsule: Py<PyAny>,
    set_handler: SetHandler,
}

static HOOK: PyOnceLock<Option<Hook>> = PyOnceLock::new();

fn hook(py: Python<'_>) -> Option<&Hook> {
    HOOK.get_or_init(py, || {
        let api = py
            .import("numpy._core._multiarray_umath")
            .or_else(|_| py.import("numpy.core.multiarray"))
            .and_then(|m| m.getattr("_ARRAY_API"))
            .ok()?;
        let api = api.cast::<PyCapsule>().ok()?;
        // SAFETY (this block): `_ARRAY_API` is NumPy's C-API table, a capsule with no name holding
        // an array of function pointers; slots 211 (PyArray_GetNDArrayCFeatureVersion) and 304
        // (PyDataMem_SetHandler, NumPy >= 1.22) have the signatures transmuted to, per
        // numpy/__multiarray_api.h; 304 is read only after the feature version says it exists.
        // The handler capsule points to a static that lives as long as the process.
        let table = unsafe { pyo3::ffi::PyCapsule_GetPointer(api.as_ptr(), core::ptr::null()) } as *const *const c_void;
        if table.is_null() {
            return None;
        }
        // PyArray_GetNDArrayCFeatureVersion (API slot 211) >= 0x0f means NumPy >= 1.22 (NEP 49)
        let feature_version: unsafe extern "C" fn() -> u32 = unsafe { core::mem::transmute(*table.add(211)) };
        if unsafe { feature_version() } < 0x0f {
            return None;
        }
        let set_handler: SetHandler = unsafe { core::mem::transmute(*table.add(304)) };
        let capsule = unsafe {
            pyo3::ffi::PyCapsule_New(
                &HANDLER as *const DataMemHandler as *mut c_void,
                c"mem_handler".as_ptr() as *const c_char,
                None,
            )
        };
        if capsule.is_null() {
            unsafe { pyo3::ffi::PyErr_Clear() };
            return None;
        }
        let capsule = unsafe { Bound::from_owned_ptr(py, capsule) }.unbind();
        Some(Hook { capsule, set_handler })
    })
    .as_ref()
}

/// Runs `alloc` (which creates one array) with our allocator in force, if `bytes` is worth it.
pub fn with_cached_allocator<R>(py: Python<'_>, bytes: usize, alloc: impl FnOnce() -> R) -> R {
    let Some(hook) = (bytes >= MIN_CACHED).then(|| hook(py)).flatten() else {
        return alloc();
    };
    // SAFETY: SetHandler takes a handler capsule (or NULL) and returns a new reference to the
    // previous one (NULL on error).
    let previous = unsafe { (hook.set_handler)(hook.capsule.as_ptr()) };
    if previous.is_null() {
        unsafe { pyo3::ffi::PyErr_Clear() };
        return alloc();
    }
    let _restore = RestoreHandler { set_handler: hook.set_handler, previous };
    alloc()
}

/// Puts the previous allocator back when dropped, so it is restored even if `alloc` fails.
struct RestoreHandler {
    set_handler: SetHandler,
    previous: *mut pyo3::ffi::PyObject,
}

impl Drop for RestoreHandler {
    fn drop(&mut self) {
        // SAFETY: restoring returns a new reference to our capsule, released at once; then the
        // reference to the previous handler that the first SetHandler gave us is released.
        unsafe {
            let ours = (self.set_handler)(self.previous);
            pyo3::ffi::Py_XDECREF(ours);
            pyo3::ffi::Py_DECREF(self.previous);
        }
    }
}
