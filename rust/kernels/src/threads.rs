//! ferrolinalg's own thread pool, and the [`Par`] handle kernels take to use it.
//!
//! One rayon pool for the whole library, sized by `FERROLINALG_NUM_THREADS` or else the number of
//! cores, resizable at run time. It is created lazily and never touched by the global rayon pool,
//! so other rayon users in the process do not share (or starve) it.
//!
//! Fork safety: a child made by `fork()` inherits the pool's memory but none of its threads, so
//! using it would wait forever. [`reset_after_fork`] (called from an at-fork hook in the child)
//! abandons the whole pool state, locks included, since a lock may have been held by a thread
//! that no longer exists, and starts a fresh one. The abandoned state is leaked, never dropped:
//! dropping it would signal threads that are not there.

use rayon::ThreadPool;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The configured thread count; 0 until first read or set (then the default applies). An atomic
/// outside the pool's lock, so the child of a fork can read it whatever state the lock is in.
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The pool, built for the thread count it carries.
struct PoolState {
    pool: Mutex<Option<(usize, Arc<ThreadPool>)>>,
}

static STATE: AtomicPtr<PoolState> = AtomicPtr::new(core::ptr::null_mut());

fn new_state() -> *mut PoolState {
    Box::into_raw(Box::new(PoolState { pool: Mutex::new(None) }))
}

fn state() -> &'static PoolState {
    let mut ptr = STATE.load(Ordering::Acquire);
    if ptr.is_null() {
        let fresh = new_state();
        ptr = match STATE.compare_exchange(core::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh,
            Err(existing) => {
                // SAFETY: `fresh` was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                existing
            }
        };
    }
    // SAFETY: states are leaked, never freed, so the pointer stays valid for the whole process.
    unsafe { &*ptr }
}

/// The thread count used when none is set: `FERROLINALG_NUM_THREADS` if it is a positive
/// integer, else the number of CPUs this process may run on.
pub fn default_num_threads() -> usize {
    std::env::var("FERROLINALG_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// The configured number of threads.
pub fn num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Acquire) {
        0 => {
            let n = default_num_threads();
            // a concurrent set_num_threads wins over the default
            match NUM_THREADS.compare_exchange(0, n, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => n,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// Sets the number of threads (at least 1). The pool is rebuilt at its next use; calls already
/// running finish on the pool they started with.
pub fn set_num_threads(n: usize) {
    NUM_THREADS.store(n.max(1), Ordering::Release);
}

/// Abandons the pool state inherited over `fork()` and starts afresh with the same thread count.
/// Only for the child side of a fork, where no other thread of this library is running. The old
/// state's lock may be held by a thread that did not survive the fork, so it is not touched.
pub fn reset_after_fork() {
    STATE.store(new_state(), Ordering::Release);
}

/// A handle on the pool for one call: keeps the pool alive while a kernel runs on it.
#[derive(Clone)]
pub struct Pool(Option<Arc<ThreadPool>>);

/// The library's pool as configured now (built on first use). With one thread there is no pool
/// and kernels run on the calling thread.
pub fn current() -> Pool {
    let n = num_threads();
    if n <= 1 {
        return Pool(None);
    }
    // A panic cannot leave the slot half-written (it is assigned whole), so a poisoned lock is
    // simply taken over.
    let mut slot = state().pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match &*slot {
        Some((built_for, pool)) if *built_for == n => Pool(Some(pool.clone())),
        _ => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("ferrolinalg-{i}"))
                .build()
                .ok() // could not start threads: run sequentially rather than fail
                .map(Arc::new);
            *slot = pool.clone().map(|p| (n, p));
            Pool(pool)
        }
    }
}

impl Pool {
    pub fn par(&self) -> Par<'_> {
        Par { pool: self.0.as_deref() }
    }
}

/// The parallelism a kernel may use: the library's pool, or none (run on the calling thread).
#[derive(Clone, Copy, Debug)]
pub struct Par<'a> {
    pool: Option<&'a ThreadPool>,
}

impl<'a> Par<'a> {
    /// Run on the calling thread only.
    pub const SEQ: Par<'static> = Par { pool: None };

    /// How many threads a kernel may use.
    pub fn num_threads(self) -> usize {
        self.pool.map_or(1, |p| p.current_num_threads())
    }

    pub fn is_parallel(self) -> bool {
        self.num_threads() > 1
    }

    /// `self` if `worth_it`, else [`Par::SEQ`]: for kernels to drop threads on small problems.
    pub fn when(self, worth_it: bool) -> Par<'a> {
        if worth_it {
            self
        } else {
            Par { pool: None }
        }
    }

    /// Runs `op` inside the pool (so rayon iterators and faer's parallel paths use it), or
    /// directly on this thread when sequential. A panic in `op` resumes in the caller.
    pub fn install<R: Send>(self, op: impl FnOnce() -> R + Send) -> R {
        match self.pool {
            Some(pool) if pool.current_num_threads() > 1 => pool.install(op),
            _ => op(),
        }
    }

    /// faer's parallelism for code running inside [`Par::install`]. Outside `install`, faer would
    /// fall back to the global rayon pool, so only call this in an installed closure.
    pub fn faer(self) -> faer::Par {
        match self.num_threads() {
            1 => faer::Par::Seq,
            n => faer::Par::rayon(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_get_thread_count() {
        let before = num_threads();
        set_num_threads(2);
        assert_eq!(num_threads(), 2);
        let pool = current();
        assert_eq!(pool.par().num_threads(), 2);
        let sum: usize = pool.par().install(|| {
            use rayon::prelude::*;
            (0..1000usize).into_par_iter().sum()
        });
        assert_eq!(sum, 499500);
        set_num_threads(1);
        assert_eq!(current().par().num_threads(), 1);
        set_num_threads(before);
    }
}
