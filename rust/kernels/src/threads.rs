//! ferrolinalg's own thread pool, and the [`Par`] handle kernels take to use it.
//!
//! One rayon pool for the whole library, sized by `FERROLINALG_NUM_THREADS` or else the number of
//! cores, resizable at run time. It is created lazily and is separate from the global rayon pool,
//! so other rayon users in the process neither share nor starve it.
//!
//! Kernels split their work with [`Par::for_each`], a fork-join made for short calls. Measured on
//! this project's machine (a 2-vCPU VM), handing work to a sleeping rayon worker takes 16 µs back
//! to back and 60-110 µs after a pause: more than a whole 64x64 product. OpenBLAS avoids this by
//! keeping its threads spinning. `for_each` does two things instead:
//! - the calling thread works on the tasks itself rather than blocking until a worker wakes, so a
//!   slow wake-up delays only the tasks the worker would have taken;
//! - a worker that helped keeps polling for the next call for [`LINGER`] before it returns to
//!   rayon (and sleeps), so calls in a loop find their helpers awake.
//!
//! faer's own parallel algorithms run through [`Par::install_fixed`], which first asks lingering
//! workers to stand down so faer gets the whole pool.
//!
//! Fork safety: a child made by `fork()` inherits the pool's memory but none of its threads, so
//! using it would wait forever. [`reset_after_fork`] (called from an at-fork hook in the child)
//! abandons the whole pool state, locks included, since a lock may have been held by a thread
//! that no longer exists, and starts a fresh one. The abandoned state is leaked, never dropped:
//! dropping it would signal threads that are not there.

use rayon::ThreadPool;
use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a worker that helped with a `for_each` keeps polling for the next one before it goes
/// back to rayon and sleeps. Long enough to bridge the Python code between calls in a loop, short
/// enough that an idle process stops burning CPU at once (OpenBLAS spins for ~0.1 s).
pub const LINGER: Duration = Duration::from_millis(1);

/// The configured thread count; 0 until first read or set (then the default applies). An atomic
/// outside the pool's lock, so the child of a fork can read it whatever state the lock is in.
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The pool, built for the thread count it carries.
struct PoolState {
    pool: Mutex<Option<(usize, Arc<PoolInner>)>>,
}

/// A rayon pool and the fork-join state its lingering workers watch.
struct PoolInner {
    rayon: ThreadPool,
    shared: Arc<Shared>,
}

/// What the caller of a `for_each` and the workers helping it share.
struct Shared {
    /// The running job, or null. Points into the caller's stack frame: the caller clears it and
    /// waits until `active` is zero before that frame ends.
    job: AtomicPtr<JobHeader>,
    /// Bumped for each job, so lingering workers notice a new one.
    generation: AtomicUsize,
    /// Workers between reading `job` and being done with it.
    active: AtomicUsize,
    /// Workers in their linger loop.
    lingering: AtomicUsize,
    /// Set by `install_fixed` to send lingering workers back to rayon at once.
    stand_down: AtomicBool,
    /// One job at a time; a second concurrent caller runs its tasks on its own thread.
    busy: AtomicBool,
}

/// A job: `ntasks` calls of `f`, claimed one by one from `next`.
struct JobHeader {
    f: *const (dyn Fn(usize) + Sync),
    ntasks: usize,
    next: AtomicUsize,
    done: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl JobHeader {
    /// Claims and runs tasks until none are left; a panicking task is recorded, not propagated.
    ///
    /// # Safety
    /// `self.f` must be alive (the caller of `for_each` guarantees it while the job is published).
    unsafe fn work(&self) {
        let f = &*self.f;
        loop {
            let t = self.next.fetch_add(1, Ordering::Relaxed);
            if t >= self.ntasks {
                return;
            }
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(t))) {
                let mut slot = self.panic.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(payload);
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Below this much work in a whole batch (in multiply-adds or the like), [`Par::for_batch`] runs
/// on one thread: a hand-off costs ~1 µs to a lingering worker and 16-110 µs to a sleeping one.
pub const BATCH_PAR_MIN_WORK: usize = 1 << 17;

/// A batch-parallel task carries at least this much work, so scheduling stays negligible.
pub const TASK_MIN_WORK: usize = 1 << 15;

/// The degree of faer's parallel algorithms run by [`Par::install_fixed`]: fixed, so that their
/// results do not depend on the thread count.
pub const FAER_DEGREE: usize = 2;

/// Rounds of pure spinning (a pause instruction each, ~50 ns on this CPU) before `backoff` also
/// yields: a yield is a system call, which on the VM could delay the reaction to new work by
/// microseconds, longer than half of a 64x64 product.
const SPIN_ROUNDS: u32 = 2048;

/// Spins politely: pause instructions first, then a yield now and then so that a descheduled
/// peer can run.
#[inline]
pub(crate) fn backoff(round: &mut u32) {
    *round = round.saturating_add(1);
    if *round > SPIN_ROUNDS && *round % 64 == 0 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// A worker's loop while it helps: run any published job, then poll for the next until
/// [`LINGER`] passes without one (or `install_fixed` asks it to stand down).
fn linger(shared: &Shared, max_lingering: usize) {
    if shared.lingering.fetch_add(1, Ordering::SeqCst) >= max_lingering {
        shared.lingering.fetch_sub(1, Ordering::SeqCst);
        return; // enough helpers already
    }
    let mut seen = usize::MAX;
    let mut last_work = Instant::now();
    let mut round = 0u32;
    loop {
        let generation = shared.generation.load(Ordering::Acquire);
        if generation != seen {
            seen = generation;
            shared.active.fetch_add(1, Ordering::SeqCst);
            let job = shared.job.load(Ordering::SeqCst);
            if !job.is_null() {
                // SAFETY: the job stays alive while `active` counts us (see `Shared::job`).
                unsafe { (*job).work() };
            }
            shared.active.fetch_sub(1, Ordering::SeqCst);
            last_work = Instant::now();
            round = 0;
        } else if shared.stand_down.load(Ordering::Relaxed) || last_work.elapsed() > LINGER {
            break;
        } else {
            backoff(&mut round);
        }
    }
    shared.lingering.fetch_sub(1, Ordering::SeqCst);
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
pub struct Pool(Option<Arc<PoolInner>>);

/// The library's pool as configured now (built on first use). With one thread the pool has one
/// worker, which only [`Par::install_fixed`] uses (kernels otherwise run on the calling thread
/// when there is one thread).
pub fn current() -> Pool {
    let n = num_threads();
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
                .map(|rayon| {
                    let shared = Arc::new(Shared {
                        job: AtomicPtr::new(core::ptr::null_mut()),
                        generation: AtomicUsize::new(0),
                        active: AtomicUsize::new(0),
                        lingering: AtomicUsize::new(0),
                        stand_down: AtomicBool::new(false),
                        busy: AtomicBool::new(false),
                    });
                    Arc::new(PoolInner { rayon, shared })
                });
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
#[derive(Clone, Copy)]
pub struct Par<'a> {
    pool: Option<&'a PoolInner>,
}

impl core::fmt::Debug for Par<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Par({} threads)", self.num_threads())
    }
}

impl<'a> Par<'a> {
    /// Run on the calling thread only.
    pub const SEQ: Par<'static> = Par { pool: None };

    /// How many threads a kernel may use.
    pub fn num_threads(self) -> usize {
        self.pool.map_or(1, |p| p.rayon.current_num_threads())
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

    /// Calls `f(0)`, ..., `f(ntasks - 1)`, spread over the calling thread and the pool's workers;
    /// returns when all are done. Tasks are claimed in order, one at a time, so uneven tasks
    /// balance. A panicking task is re-raised here after the others finish.
    pub fn for_each(self, ntasks: usize, f: &(dyn Fn(usize) + Sync)) {
        let pool = match self.pool {
            Some(pool) if ntasks > 1 && pool.rayon.current_num_threads() > 1 => pool,
            _ => return (0..ntasks).for_each(f),
        };
        let shared = &pool.shared;
        if shared.busy.swap(true, Ordering::Acquire) {
            // another thread's job is running: this caller keeps to its own core
            return (0..ntasks).for_each(f);
        }
        let job = JobHeader {
            // SAFETY: the lifetime is erased for the workers; the protocol below ends all their
            // access before `f` goes out of scope.
            f: unsafe { core::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(f) },
            ntasks,
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            panic: Mutex::new(None),
        };
        shared.stand_down.store(false, Ordering::Relaxed);
        shared.job.store(&job as *const JobHeader as *mut JobHeader, Ordering::SeqCst);
        shared.generation.fetch_add(1, Ordering::Release);
        // wake helpers unless enough are already lingering; each spawned job joins the lingerers
        let helpers = (pool.rayon.current_num_threads() - 1).min(ntasks - 1);
        let lingering = shared.lingering.load(Ordering::SeqCst);
        for _ in lingering..helpers {
            let shared = pool.shared.clone();
            pool.rayon.spawn(move || linger(&shared, helpers));
        }
        // SAFETY: `job` is alive for this whole block.
        unsafe { job.work() };
        let mut round = 0;
        while job.done.load(Ordering::Acquire) < ntasks {
            backoff(&mut round);
        }
        // unpublish, then wait until no worker can still be looking at `job` (both SeqCst, so a
        // worker either sees the null or is counted in `active`)
        shared.job.store(core::ptr::null_mut(), Ordering::SeqCst);
        while shared.active.load(Ordering::SeqCst) != 0 {
            backoff(&mut round);
        }
        shared.busy.store(false, Ordering::Release);
        if let Some(payload) = job.panic.into_inner().unwrap_or_else(|p| p.into_inner()) {
            resume_unwind(payload);
        }
    }

    /// Runs `a` and `b`, at once when the pool has a second thread, and returns both results.
    /// `a` is claimed first: when both run on one thread (no helper free), `a` runs before `b`,
    /// so `b` may wait for what `a` produces, never the other way round. A panic in either is
    /// re-raised here after both finish.
    pub fn join<A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let (a, b) = (Mutex::new(Some(a)), Mutex::new(Some(b)));
        let (ra, rb) = (Mutex::new(None), Mutex::new(None));
        self.for_each(2, &|t| {
            if t == 0 {
                let a = a.lock().unwrap_or_else(|p| p.into_inner()).take().expect("task 0 runs once");
                *ra.lock().unwrap_or_else(|p| p.into_inner()) = Some(a());
            } else {
                let b = b.lock().unwrap_or_else(|p| p.into_inner()).take().expect("task 1 runs once");
                *rb.lock().unwrap_or_else(|p| p.into_inner()) = Some(b());
            }
        });
        fn take<R>(m: Mutex<Option<R>>) -> R {
            m.into_inner().unwrap_or_else(|p| p.into_inner()).expect("both tasks ran")
        }
        (take(ra), take(rb))
    }

    /// Runs a batch of `nbatch` independent items, each costing about `work_per_item` (any unit
    /// proportional to time, e.g. multiply-adds), as `f(start, count)` over contiguous ranges:
    /// on this thread alone when the whole batch is too small to gain from threads, else split
    /// into ranges of at least [`TASK_MIN_WORK`] spread over the pool. The split never changes
    /// what an item computes, so results do not depend on the thread count.
    pub fn for_batch(self, nbatch: usize, work_per_item: usize, f: &(dyn Fn(usize, usize) + Sync)) {
        let threads = self.num_threads();
        let work_per_item = work_per_item.max(1);
        if threads <= 1 || nbatch < 2 || nbatch.saturating_mul(work_per_item) < BATCH_PAR_MIN_WORK {
            return f(0, nbatch);
        }
        let per_task = (TASK_MIN_WORK / work_per_item).max(nbatch / (threads * 8)).max(1);
        let ntasks = nbatch.div_ceil(per_task);
        self.for_each(ntasks, &|t| {
            let start = t * per_task;
            f(start, per_task.min(nbatch - start))
        });
    }

    /// Runs `op` with faer's parallelism of a fixed degree ([`FAER_DEGREE`]) inside the pool (so
    /// rayon iterators and faer's parallel paths use it), even a one-thread pool; with no pool
    /// ([`Par::SEQ`]), with `faer::Par::Seq` on this thread. A panic in `op` resumes in the caller.
    ///
    /// faer's parallel algorithms split their work by the degree they are given, and its
    /// parallel eigendecomposition does not round as its sequential one does (eigh of a 600x600
    /// matrix differed by ~5e-13 between one thread and two). A degree fixed whatever the thread
    /// count makes them compute the same bits on one thread (rayon runs the pieces in turn) as on
    /// many.
    pub fn install_fixed<R: Send>(self, op: impl FnOnce(faer::Par) -> R + Send) -> R {
        match self.pool {
            Some(pool) => {
                pool.shared.stand_down.store(true, Ordering::Relaxed);
                pool.rayon.install(|| op(faer::Par::rayon(FAER_DEGREE)))
            }
            None => op(faer::Par::Seq),
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
        let sum: usize = pool.par().install_fixed(|_| {
            use rayon::prelude::*;
            (0..1000usize).into_par_iter().sum()
        });
        assert_eq!(sum, 499500);
        // for_each runs every task exactly once, also when called back to back and concurrently
        for _ in 0..200 {
            let hits: Vec<AtomicUsize> = (0..37).map(|_| AtomicUsize::new(0)).collect();
            pool.par().for_each(37, &|t| {
                hits[t].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        }
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let total = AtomicUsize::new(0);
                        current().par().for_each(10, &|t| {
                            total.fetch_add(t, Ordering::Relaxed);
                        });
                        assert_eq!(total.load(Ordering::Relaxed), 45);
                    }
                });
            }
        });
        // a panicking task is re-raised in the caller, and the pool stays usable
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.par().for_each(4, &|t| assert!(t != 2, "task 2"))));
        assert!(caught.is_err());
        let total = AtomicUsize::new(0);
        pool.par().for_each(4, &|t| {
            total.fetch_add(t, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed), 6);
        set_num_threads(1);
        assert_eq!(current().par().num_threads(), 1);
        set_num_threads(before);
    }
}
