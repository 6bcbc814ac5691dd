//! The threads long calls run on while their caller waits for Ctrl-C
//! ([`crate::errors::run_interruptible`]).
//!
//! Threads are kept and reused, not started per call: faer's GEMM keeps its packing buffers in
//! thread-local storage, and a fresh thread per call found them cold (page faults on megabytes of
//! new memory every call: a 1024x1024 product measured up to 1.6x slower). A finished worker
//! parks itself in the idle list (at most [`MAX_IDLE`]); a call takes an idle worker or starts a
//! new one, so concurrent callers and abandoned (interrupted) work each have their own.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Mutex;

/// A unit of work for a worker thread.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Idle workers kept at most; more finish and exit.
const MAX_IDLE: usize = 4;

type Idle = Mutex<Vec<SyncSender<Job>>>;

/// The idle list; replaced (the old one leaked) in a forked child, whose copy names threads that
/// did not survive the fork and whose lock may have been held by one of them.
static IDLE: AtomicPtr<Idle> = AtomicPtr::new(core::ptr::null_mut());

fn idle() -> &'static Idle {
    let mut ptr = IDLE.load(Ordering::Acquire);
    if ptr.is_null() {
        let fresh = Box::into_raw(Box::new(Mutex::new(Vec::new())));
        ptr = match IDLE.compare_exchange(core::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => fresh,
            Err(existing) => {
                // SAFETY: `fresh` was never shared; another thread installed its list first.
                drop(unsafe { Box::from_raw(fresh) });
                existing
            }
        };
    }
    // SAFETY: lists are leaked, never freed, so the pointer stays valid for the whole process.
    unsafe { &*ptr }
}

/// Runs `job` on an idle worker thread, or on a new one.
pub fn submit(job: Job) -> std::io::Result<()> {
    let mut job = job;
    loop {
        let worker = idle().lock().unwrap_or_else(|p| p.into_inner()).pop();
        let Some(tx) = worker else { break };
        match tx.send(job) {
            Ok(()) => return Ok(()),
            Err(returned) => job = returned.0, // that worker has exited: try the next
        }
    }
    let (tx, rx) = sync_channel::<Job>(1);
    std::thread::Builder::new().name("ferrolinalg-call".into()).spawn(move || {
        let mut job = job;
        loop {
            job();
            {
                let mut list = idle().lock().unwrap_or_else(|p| p.into_inner());
                if list.len() >= MAX_IDLE {
                    return;
                }
                list.push(tx.clone());
            }
            match rx.recv() {
                Ok(next) => job = next,
                Err(_) => return,
            }
        }
    })?;
    Ok(())
}

/// In the child of a fork: forget the parent's workers (they do not exist here).
pub fn reset_after_fork() {
    let fresh = Box::into_raw(Box::new(Mutex::new(Vec::new())));
    IDLE.store(fresh, Ordering::Release);
}
