//! A pipe that carries the plane rotations of a QR iteration's sweeps from the thread that
//! chases the bulges to a second thread that applies them to the vectors.
//!
//! Why: in the bidiagonal QR iteration with vectors (svd_small.rs's `bdsqr`), each sweep is a
//! chain of dependent rotations (a square root and divisions per step, ~100 cycles of latency),
//! and applying the sweep's rotations to the singular vectors is independent, vectorisable work
//! of about half that time. On one thread the two add up (n = 64, this thread's CPU time:
//! chasing 165 us, with vectors 249 us, `svd_small::tests::vectors_phase_timing`); on two, the
//! second thread applies sweep `s` while the first chases sweep `s + 1`. Measured (the whole
//! SVD with vectors, `svd_small::tests::pipe_timing`, wall time): two threads take 0.70 of one
//! thread's time at n = 64, 0.67 at 96. Each matrix sees the same rotations in the same order
//! either way, so the results are bit for bit those of one thread.
//!
//! Single producer, single consumer. The producer never waits: sweeps go into a ring of
//! [`SLOTS`] slots while the consumer keeps up, and into an overflow list, applied last, once
//! it falls behind (or has not started: [`crate::threads::Par::join`] may run both tasks on
//! one thread, the producer first). So neither side can wait for the other forever.

use crate::scalar::Real;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Sweeps the ring holds before the producer spills into the overflow list.
const SLOTS: usize = 32;

/// Where a sweep acts: rows `lo..=lo + nrot` of both sets of vectors, rotations applied
/// top-down (`forward`) or bottom-up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sweep {
    pub lo: usize,
    pub nrot: usize,
    pub forward: bool,
}

/// The pipe: room for `SLOTS` sweeps of up to `n - 1` rotations each (four numbers a rotation:
/// the right vectors' cosine and sine, then the left vectors').
pub(crate) struct SweepPipe<T> {
    /// Numbers a slot holds: four per rotation, `4 n`.
    per: usize,
    heads: Box<[UnsafeCell<Sweep>]>,
    rots: Box<[UnsafeCell<T>]>,
    /// Sweeps written to the ring (by the producer).
    published: AtomicUsize,
    /// Sweeps of the ring copied out (by the consumer): their slots are free.
    applied: AtomicUsize,
    /// Set by the producer after its last sweep (or when it unwinds).
    closed: AtomicBool,
    /// The producer's own state: its sweeps past a full ring, in order. Touched by the consumer
    /// only after `closed`.
    spill: UnsafeCell<Spill<T>>,
}

/// Non-empty once the producer has spilled, and from then on it takes every sweep.
struct Spill<T> {
    heads: Vec<Sweep>,
    rots: Vec<T>,
}

// SAFETY: the slots and the spill are shared by exactly one producer and one consumer under the
// protocol of `push` / `Receiver::next` (each slot is written only while the consumer cannot read
// it, and read only after its publication; the spill is the producer's until `closed`).
unsafe impl<T: Send> Sync for SweepPipe<T> {}

impl<T: Real> SweepPipe<T> {
    /// A pipe for the sweeps of an `n x n` bidiagonal.
    pub(crate) fn new(n: usize) -> Self {
        let per = 4 * n.max(1);
        SweepPipe {
            per,
            heads: (0..SLOTS).map(|_| UnsafeCell::new(Sweep { lo: 0, nrot: 0, forward: true })).collect(),
            rots: (0..SLOTS * per).map(|_| UnsafeCell::new(T::ZERO)).collect(),
            published: AtomicUsize::new(0),
            applied: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            spill: UnsafeCell::new(Spill { heads: Vec::new(), rots: Vec::new() }),
        }
    }

    /// Hands on a sweep: `rot` holds the right cosines, right sines, left cosines and left
    /// sines, `sweep.nrot` of each. Never waits.
    ///
    /// # Safety
    /// Only one thread (the producer) calls `push` and `close`.
    #[inline(always)]
    pub(crate) unsafe fn push(&self, sweep: Sweep, rot: [&[T]; 4]) {
        debug_assert!(4 * sweep.nrot <= self.per && rot.iter().all(|r| r.len() == sweep.nrot));
        let spill = &mut *self.spill.get();
        let seq = self.published.load(Ordering::Relaxed);
        if spill.heads.is_empty() && seq - self.applied.load(Ordering::Acquire) < SLOTS {
            let slot = seq % SLOTS;
            *self.heads[slot].get() = sweep;
            let per = self.per;
            for (part, r) in rot.iter().enumerate() {
                for (i, x) in r.iter().enumerate() {
                    *self.rots[slot * per + part * sweep.nrot + i].get() = *x;
                }
            }
            self.published.store(seq + 1, Ordering::Release);
        } else {
            // the consumer fell behind (or has not started): from here on every sweep goes to
            // the spill, so that the order is kept
            spill.heads.push(sweep);
            for r in rot {
                spill.rots.extend_from_slice(r);
            }
        }
    }

    /// Marks the end of the sweeps.
    ///
    /// # Safety
    /// As [`push`](Self::push).
    pub(crate) unsafe fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// The consumer's end: yields every sweep, in order, until the producer closes the pipe.
    ///
    /// # Safety
    /// Only one thread (the consumer) takes a receiver, once.
    pub(crate) unsafe fn receiver(&self) -> Receiver<'_, T> {
        Receiver { pipe: self, seq: 0, spilled: None, local: vec![T::ZERO; self.per] }
    }
}

/// Yields the sweeps of a [`SweepPipe`] in order (a loop of `next`, rather than a callback, so
/// that the caller's code applying them is compiled with the caller's target features).
pub(crate) struct Receiver<'a, T> {
    pipe: &'a SweepPipe<T>,
    /// Sweeps of the ring received.
    seq: usize,
    /// Once the ring is done: the next sweep of the spill and where its numbers start.
    spilled: Option<(usize, usize)>,
    /// This thread's copy of the sweep being applied (see `next`).
    local: Vec<T>,
}

impl<T: Real> Receiver<'_, T> {
    /// The next sweep and its rotations (`[cr, sr, cl, sl]`), waiting for the producer if it
    /// has none yet; `None` once the pipe is closed and empty. A sweep's numbers stay valid until
    /// the next call.
    #[inline(always)]
    #[allow(clippy::should_implement_trait)]
    pub(crate) fn next(&mut self) -> Option<(Sweep, [&[T]; 4])> {
        let pipe = self.pipe;
        let per = pipe.per;
        if self.spilled.is_none() {
            let mut round = 0;
            loop {
                if self.seq < pipe.published.load(Ordering::Acquire) {
                    // The sweep's numbers are copied out at once, in one pass: they were just
                    // written on the producer's core, and fetched by the rotation loop one or
                    // two at a time as it needs them, each such fetch waited out a transfer
                    // between cores (the applying thread ran at a third of its speed on one
                    // core). The copy also frees the slot for the producer.
                    let slot = self.seq % SLOTS;
                    // SAFETY: the slot was published (Acquire above) and the producer does not
                    // write it again until `applied` passes it
                    let sweep = unsafe { *pipe.heads[slot].get() };
                    let len = 4 * sweep.nrot;
                    let src = unsafe { core::slice::from_raw_parts(pipe.rots[slot * per..].as_ptr() as *const T, len) };
                    self.local[..len].copy_from_slice(src);
                    self.seq += 1;
                    pipe.applied.store(self.seq, Ordering::Release);
                    let (q, r) = (sweep.nrot, &self.local[..len]);
                    return Some((sweep, [&r[..q], &r[q..2 * q], &r[2 * q..3 * q], &r[3 * q..]]));
                }
                if pipe.closed.load(Ordering::Acquire) {
                    // everything published before the close is visible now
                    if self.seq < pipe.published.load(Ordering::Acquire) {
                        continue;
                    }
                    self.spilled = Some((0, 0));
                    break;
                }
                crate::threads::backoff(&mut round);
            }
        }
        let (k, at) = self.spilled.as_mut()?;
        // SAFETY: the pipe is closed, so the producer is done with the spill
        let spill = unsafe { &*pipe.spill.get() };
        let sweep = *spill.heads.get(*k)?;
        let r = &spill.rots[*at..*at + 4 * sweep.nrot];
        *k += 1;
        *at += 4 * sweep.nrot;
        let q = sweep.nrot;
        Some((sweep, [&r[..q], &r[q..2 * q], &r[2 * q..3 * q], &r[3 * q..]]))
    }
}

/// Closes the pipe when the producer's task ends, however it ends.
pub(crate) struct CloseOnDrop<'a, T: Real>(pub &'a SweepPipe<T>);

impl<T: Real> Drop for CloseOnDrop<'_, T> {
    fn drop(&mut self) {
        // SAFETY: held by the producer only.
        unsafe { self.0.close() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sweep arrives once, in order, with its numbers, whether the consumer runs beside
    /// the producer, falls behind (the spill) or starts only after the producer has finished.
    #[test]
    fn sweeps_arrive_in_order() {
        let n = 9;
        let make = |s: usize| {
            let sweep = Sweep { lo: s % 5, nrot: 1 + s % (n - 1), forward: s % 3 == 0 };
            let rot: Vec<Vec<f64>> = (0..4).map(|p| (0..sweep.nrot).map(|i| (s * 100 + p * 10 + i) as f64).collect()).collect();
            (sweep, rot)
        };
        let total = 200;
        for mode in 0..3 {
            let pipe = SweepPipe::<f64>::new(n);
            let seen = std::sync::Mutex::new(Vec::new());
            let produce = || {
                let _close = CloseOnDrop(&pipe);
                for s in 0..total {
                    let (sweep, rot) = make(s);
                    // SAFETY: this is the only producer
                    unsafe { pipe.push(sweep, [&rot[0], &rot[1], &rot[2], &rot[3]]) };
                    if mode == 1 && s % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                }
            };
            let consume = || {
                // SAFETY: the only consumer
                let mut rx = unsafe { pipe.receiver() };
                while let Some((sweep, rot)) = rx.next() {
                    if mode == 0 && sweep.lo == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(20));
                    }
                    seen.lock().unwrap().push((sweep.lo, sweep.nrot, sweep.forward, rot.map(|r| r.to_vec())));
                }
            };
            if mode == 2 {
                produce();
                consume();
            } else {
                std::thread::scope(|sc| {
                    sc.spawn(consume);
                    produce();
                });
            }
            let seen = seen.into_inner().unwrap();
            assert_eq!(seen.len(), total, "mode {mode}");
            for (s, got) in seen.iter().enumerate() {
                let (sweep, rot) = make(s);
                assert_eq!((got.0, got.1, got.2), (sweep.lo, sweep.nrot, sweep.forward), "mode {mode} sweep {s}");
                assert_eq!(got.3.to_vec(), rot, "mode {mode} sweep {s}");
            }
        }
    }
}
