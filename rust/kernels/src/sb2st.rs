//! Stage 2 of the two-stage symmetric tridiagonalisation: a symmetric band matrix (lower
//! bandwidth `b`) to tridiagonal form by bulge chasing (LAPACK 3.7's `dsytrd_sb2st` with its
//! `dsb2st_kernels`, after Haidar, Ltaief and Dongarra), eigenvalues only: no reflector is kept.
//!
//! Sweep `i` annihilates `A[i + 2..=i + b, i]` with one reflector acting on rows / columns
//! `i + 1..=i + b`, applied two-sided to that `b x b` diagonal block and from the right to the
//! block below it, which fills that block (the bulge). A second reflector, generated from the
//! bulge's first column, annihilates that column and is applied from the left to the rest of
//! the block; it is the next step's reflector, two-sided on the next diagonal block and from the
//! right on the block below that, and so on down in steps of `b` until it falls off the end. The
//! lower triangle of each chased block stays filled (it lies in the next sweep's way and is
//! annihilated by it). `6 n^2 b` flops.
//!
//! Storage: the band is copied to a compact lower band array `ab` with leading dimension
//! `ldb = 2 b` (the band plus the fill, which reaches `2 b - 1` below the diagonal):
//! `A[i, j] = ab[(i - j) + j ldb] = ab[i + j (ldb - 1)]` for `0 <= i - j < ldb`. Any block inside
//! that region is therefore a dense column-major block with column stride `ldb - 1`, and the
//! `(2 b) x b` panel a step works on is one contiguous stretch of memory (16 KiB at b = 32 in
//! f64): it sits in L1, the whole band (n = 1024, b = 32: 512 KiB) in L2.
//!
//! One step (a reflector `v`, `tau` on rows / columns `st..=ed`, `lm = ed - st + 1`, the block
//! below it `C = A[ed + 1..=j2, st..=ed]`, `lm2` rows) takes two passes over the panel's columns,
//! each column `j` of the panel being the contiguous `[A[j..=ed, j]; C[:, j - st]]`:
//! 1. `z = [A_diag; C] v` (the diagonal block's symmetric product from its lower triangle: one
//!    `axpy` down the whole column and one dot product along its diagonal part);
//! 2. the diagonal block's rank-2 update (`dlarfy`: `y = tau z - tau^2 / 2 (z^T v) v`,
//!    `A -= v y^T + y v^T`), `C`'s rank-1 update from the right (`C -= tau (C v) v^T`), and,
//!    column 0 of `C` done first, the next reflector `u` from it and its application from the
//!    left to `C`'s further columns as each is reached.
//!
//! That is the general [`step`]: any `lm`, `lm2` (each sweep's last steps), and every step when
//! `b` is not a multiple of 4 or is above 32 (the loop as it was). Full steps
//! (`lm = lm2 = b`, nearly all) of `b` a multiple of 4 up to 32 take a kernel in two parts,
//! with `b` a literal for b = 8, 16, 24, 32 (fixed trip counts once inlined):
//! - the head ([`full_head`]): `w = tau C v`, `C`'s column 0 updated, the next reflector `u`
//!   from it (`larfg` with one square root). It touches only `C` and is all the next step needs
//!   from this one, so it is done one step ahead, before this step's body: its latency chain
//!   (the product, the square root, the divisions) overlaps the body instead of stalling the
//!   next step;
//! - the body ([`full_body`]): `z = A v`, `y`, `A -= v y^T + y v^T`, and `C`'s columns `1..b`,
//!   the right update and the left reflector together, one read for the dot and one update
//!   per column (`c_j -= v_j w + tau_u (u . c_j - v_j (u . w)) u`).
//!
//! Both work on 4-row chunks aligned to the step's first row and by tile columns of 4 (each
//! chunk of `z`, `v`, `y`, `u`, `w` loaded once per 4 columns), with real fused multiply-adds
//! (the private [`fma`], through `Real::fused_mul_add`; `Real::mul_add` does not fuse). Results
//! differ from the general step in rounding only (test `full_step_matches_general`).
//!
//! Speed, f64, one thread, medians of `sb2st_timing` (ms; the machine is shared, runs vary by
//! ~10%; "before" is the general step everywhere, as this file was):
//!
//! | n    | b  | before | after       |
//! |------|----|--------|-------------|
//! | 512  | 16 | 3.17   | 1.52 - 1.68 |
//! | 1024 | 16 | 12.6   | 6.3         |
//! | 2048 | 16 | 53.4   | 23.1 - 25.9 |
//! | 512  | 32 | 4.76   | 2.8 - 3.1   |
//! | 1024 | 32 | 19.1   | 10.6 - 11.5 |
//! | 2048 | 32 | 79.4   | 40.3 - 43.4 |
//!
//! and at n = 1024 (general against fast path in one binary): b = 8 11.3 -> 4.5, b = 24
//! 16.7 -> 8.6; b = 64 unchanged (general path). What each piece gained at n = 1024, b = 16:
//! 1. real FMAs and aligned 4-wide chunks for full steps, `b` at run time: small (n = 512:
//!    3.17 -> 2.89);
//! 2. `b` a literal for 8 / 16 / 24 / 32: 12.6 -> 8.9 (b = 32: 19.1 -> 13.5);
//! 3. the first pass by tile columns of 4 (on its own): nothing (9.0);
//! 4. the head / body split with the head a step ahead: at first slower (11.5), because the
//!    unrolled literal-`b` loops were no longer vectorised (loads and stores interleaved per
//!    element; the compiler could not prove that they do not alias) and scalar stores to `z`
//!    were read back by vector loads (failed store-to-load forwarding). Each 4-chunk loaded
//!    whole before it is stored ([`ld4`], [`st4`]) and `z`'s diagonal tile kept in registers:
//!    -> 7.9;
//! 5. the body's rank-2 update and `C` by tile columns of 4: -> 7.1;
//! 6. the head's `C v` by row chunks with the partial sums in registers, `larfg` with one
//!    square root: -> 6.2 - 6.7.
//!
//! Did not pay: the fast path at b = 64 (26 ms with the first version, 37 after the head /
//! body split, against the general step's 32 - 35: the 64 KiB panel and the next step's `C`
//! no longer fit in L1 together), hence b <= 32. Not tried: several sweeps pipelined through
//! one window, 8-wide chunks for f32 (f32 takes the same 4-wide code: n = 1024, b = 16
//! 11.7 -> 5.2 ms, b = 8 9.8 -> 4.2, b = 32 15.6 -> 8.6), AVX-512.
//!
//! Compiled for AVX2 + FMA where the CPU has them (one machine always takes the same branch).
//!
//! Threads (session 11): from [`PAR_MIN_N`] up the sweeps are pipelined over the pool, in groups
//! of [`GROUP`] consecutive sweeps per worker, each group run as a wavefront ([`Sweeps`] has the
//! protocol, which gives the same bits for any thread count). `sb2st_timing`, f64, b = 16, one
//! run (a slower machine than the table above's), ms, one thread -> pool, by group size:
//!
//! | group | 512 | 1024 |
//! | ---: | --- | --- |
//! | 1 (sweep by sweep) | 4.5 -> 4.7 | 13.7 -> 15.2 |
//! | 2 | 3.7 -> 3.1 | 13.3 -> 11.0 |
//! | 4 | 3.8 -> 3.0 | 13.6 -> 9.2 |
//! | 6 | 3.8 -> 2.8 | 13.8 -> 8.6 |
//! | 8 | 3.7 -> 2.9 | 15.1 -> 9.5 |
//!
//! Sweep by sweep the pool gained nothing: each step's window moved between the cores. Larger
//! groups move data less often but spread the wavefront over more of the cache.

use crate::scalar::Real;
use crate::sytrd::{axpy, axpy_dot, dot, larfg};
use crate::threads::Par;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The symmetric tridiagonal `T = Q^T A Q` (diagonal `d`, `n`; sub-diagonal `e[i] = T[i + 1, i]`,
/// `n - 1` or more, entries past `n - 2` untouched) of the symmetric `n x n` band matrix `A`
/// (`A[i, j] = 0` for `|i - j| > b`; any `b`, `b >= n - 1` meaning dense) whose lower band is
/// `a[i + j lda]`, `0 <= i - j <= b` (column-major, `lda >= n`; nothing else of `a` is read, so
/// the rest may hold anything, NaN included; `a` itself is left as it was). Eigenvalues only:
/// the reflectors are not kept. The sweeps are pipelined over `par`'s threads from
/// [`PAR_MIN_N`] up, with the same bits for any thread count (see [`Sweeps`]).
pub(crate) fn band_to_tridiagonal<T: Real>(a: &mut [T], n: usize, lda: usize, b: usize, d: &mut [T], e: &mut [T], par: Par) {
    tridiagonal_impl(a, n, lda, b, d, e, true, par)
}

/// From this order up the sweeps run on the pool: below it one sweep is too short (a few
/// microseconds) for the pipeline's hand-overs and the pool's wake-up to pay. Measured with
/// `sb2st_timing` (f64, b = 16, ms, one thread -> two): see the module doc.
pub(crate) const PAR_MIN_N: usize = 256;

/// [`band_to_tridiagonal`]; `fast = false` takes the general [`step`] for every step (the
/// tests' reference for [`full_head`] + [`full_body`]).
#[allow(clippy::too_many_arguments)]
fn tridiagonal_impl<T: Real>(a: &mut [T], n: usize, lda: usize, b: usize, d: &mut [T], e: &mut [T], fast: bool, par: Par) {
    if n == 0 {
        return;
    }
    assert!(lda >= n && a.len() >= (n - 1) * lda + n, "band_to_tridiagonal: a too short for n = {n}, lda = {lda}");
    assert!(d.len() >= n && e.len() + 1 >= n, "band_to_tridiagonal: d / e too short for n = {n}");
    let b = b.min(n - 1);
    if b <= 1 {
        for i in 0..n {
            d[i] = a[i + i * lda];
            if i + 1 < n {
                e[i] = if b == 1 { a[i + 1 + i * lda] } else { T::ZERO };
            }
        }
        return;
    }
    let ldb = 2 * b;
    let mut ab = vec![T::ZERO; ldb * n];
    for j in 0..n {
        let m = (b + 1).min(n - j);
        ab[j * ldb..j * ldb + m].copy_from_slice(&a[j + j * lda..j + j * lda + m]);
    }
    // the full-step kernel did not pay for other bandwidths: at b = 64 the panel (64 KiB in f64)
    // and the next step's head no longer fit in L1 together
    let full_steps = fast && b % 4 == 0 && b <= 32;
    let sweeps = Sweeps::new(&mut ab, n, b);
    #[cfg(target_arch = "x86_64")]
    let avx2 = crate::cpu::has_avx2_fma();
    let worker = |_: usize| {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            return unsafe { run_sweeps_avx2(&sweeps, full_steps) };
        }
        run_sweeps::<T, false>(&sweeps, full_steps)
    };
    let par = par.when(n >= PAR_MIN_N);
    par.for_each(par.num_threads().min(n - 2), &worker);
    drop(sweeps);
    for i in 0..n {
        d[i] = ab[i * ldb];
        if i + 1 < n {
            e[i] = ab[i * ldb + 1];
        }
    }
}

/// The compact band `ab` (leading dimension `2 b`) shared by the workers that run its `n - 2`
/// sweeps, and the pipeline's state.
///
/// Sweep `i` works on a window of columns at a time: column `i` for its first reflector, then
/// `st..st + 2 b` (clipped to `n`) for the step on rows / columns `st..st + b` (the step's
/// diagonal block and the block below it lie in its `b` columns; the next step's head, done a
/// step ahead, in the `b` after them). Its windows move right, and every step of a sweep
/// touches only its window. Sweep `i` takes a window ending at column `hi` only once sweep
/// `i - 1` has released every column below `hi` (moved its window past them for good), and
/// releases the columns below its next window's start after each step. So two windows that
/// overlap are worked on in the order of the sweeps, as one thread would: every column sees the
/// same operations on the same values in the same order, and the result has the same bits for
/// any number of threads. Workers claim sweeps in order, and a worker waits only on the sweep
/// before its own, claimed earlier by a worker that is running it: the first unfinished sweep
/// never waits, so the pipeline cannot deadlock, and one worker alone runs the sweeps in turn.
struct Sweeps<'a, T> {
    ab: *mut T,
    n: usize,
    b: usize,
    /// `released[i]`: sweep `i` will touch no column below this again (`n` once it is done)
    released: Vec<Released>,
    /// the next sweep to claim
    next: AtomicUsize,
    /// a sweep panicked: the workers waiting on it must not go on
    failed: AtomicBool,
    _ab: PhantomData<&'a mut [T]>,
}

/// One sweep's progress, on its own cache line pair: neighbouring sweeps run on different
/// threads, and a shared line would bounce between their cores on every release.
#[repr(align(128))]
struct Released(AtomicUsize);

// SAFETY: the workers reach `ab` only through `window`, whose protocol (above) gives each window
// to one sweep at a time.
unsafe impl<T: Send> Sync for Sweeps<'_, T> {}

impl<'a, T> Sweeps<'a, T> {
    fn new(ab: &'a mut [T], n: usize, b: usize) -> Self {
        assert!(ab.len() >= 2 * b * n);
        Sweeps {
            ab: ab.as_mut_ptr(),
            n,
            b,
            released: (0..n).map(|_| Released(AtomicUsize::new(0))).collect(),
            next: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            _ab: PhantomData,
        }
    }

    /// Columns `lo..hi` of `ab` for sweep `i`, once sweep `i - 1` has released them.
    ///
    /// # Safety
    /// Only by sweep `i`'s worker, with `lo` at or past what sweep `i` has released, and the
    /// slice dropped before sweep `i` releases any of it.
    #[allow(clippy::mut_from_ref)]
    unsafe fn window(&self, i: usize, lo: usize, hi: usize) -> &mut [T] {
        let hi = hi.min(self.n);
        if i > 0 {
            let mut round = 0;
            while !self.is_free(i, hi) {
                crate::threads::backoff(&mut round);
            }
            assert!(!self.failed.load(Ordering::Relaxed), "band_to_tridiagonal: an earlier sweep failed");
        }
        let ldb = 2 * self.b;
        // SAFETY: in bounds (`ab` holds `2 b n`); by the protocol no other live window overlaps it.
        unsafe { core::slice::from_raw_parts_mut(self.ab.add(lo * ldb), (hi - lo) * ldb) }
    }

    /// Whether sweep `i - 1` has released the columns below `hi`.
    fn is_free(&self, i: usize, hi: usize) -> bool {
        i == 0 || self.released[i - 1].0.load(Ordering::Acquire) >= hi.min(self.n)
    }

    /// Sweep `i` will touch no column below `upto` again.
    fn release(&self, i: usize, upto: usize) {
        self.released[i].0.store(upto, Ordering::Release);
    }
}

/// Marks sweeps `first..end` done when dropped, and failed if that is by a panic (so that the
/// worker waiting on them panics too instead of spinning for ever or using half-updated columns).
struct GroupGuard<'s, 'a, T> {
    sweeps: &'s Sweeps<'a, T>,
    first: usize,
    end: usize,
}

impl<T> Drop for GroupGuard<'_, '_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.sweeps.failed.store(true, Ordering::Relaxed);
        }
        for i in self.first..self.end {
            self.sweeps.release(i, self.sweeps.n);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_sweeps_avx2<T: Real>(sweeps: &Sweeps<'_, T>, full_steps: bool) {
    run_sweeps::<T, true>(sweeps, full_steps)
}

/// Sweeps a worker claims at a time and runs as a wavefront (see [`run_sweeps`]; the module doc
/// has the timings that chose it).
const GROUP: usize = 6;
/// `sb2st_timing`'s choice of group size (`SB2ST_G`), in place of [`GROUP`] when not 0.
#[cfg(test)]
static GROUP_OVERRIDE: AtomicUsize = AtomicUsize::new(0);

/// [`GROUP`], or in the tests [`GROUP_OVERRIDE`].
fn group_size() -> usize {
    #[cfg(test)]
    {
        let g = GROUP_OVERRIDE.load(Ordering::Relaxed);
        if g > 0 {
            return g;
        }
    }
    GROUP
}

/// One worker: claims groups of [`GROUP`] consecutive sweeps in order and runs each group as a
/// wavefront: round after round, each sweep of the group that may go on (its predecessor far
/// enough ahead) does one step. A column is then worked on by the group's sweeps in turn while
/// it is in this core's cache, and passes to the other core once per group rather than once per
/// sweep (sweep by sweep, alternating between the cores, the pool was no faster than one
/// thread: each step's window, 8 KiB at b = 16 in f64, moved between the cores for some 300 ns
/// of arithmetic).
#[inline(always)]
fn run_sweeps<T: Real, const FUSE: bool>(sweeps: &Sweeps<'_, T>, full_steps: bool) {
    let (n, b) = (sweeps.n, sweeps.b);
    let mut z = vec![T::ZERO; 2 * b];
    let gs = group_size();
    let mut group: Vec<Sweep<T>> = (0..gs).map(|_| Sweep::new(b)).collect();
    loop {
        let first = sweeps.next.fetch_add(gs, Ordering::Relaxed);
        if first + 2 >= n {
            return;
        }
        let end = (first + gs).min(n - 2);
        let _done = GroupGuard { sweeps, first, end };
        let group = &mut group[..end - first];
        for (k, s) in group.iter_mut().enumerate() {
            s.start(first + k, b.min(n - 1 - first - k));
        }
        loop {
            let mut active = false;
            for (k, s) in group.iter_mut().enumerate() {
                if !s.done {
                    active = true;
                    // only the group's first sweep waits (on another worker's group); the
                    // others try again next round
                    s.advance::<FUSE>(sweeps, &mut z, full_steps, k == 0);
                }
            }
            if !active {
                break;
            }
        }
    }
}

/// One sweep's state between its steps.
struct Sweep<T> {
    i: usize,
    /// the next step's reflector on rows / columns `st..st + lm`, in `v`, `tau`; `st == i` for
    /// the first reflector not made yet
    st: usize,
    lm: usize,
    tau: T,
    /// the next step's head already done (its (tau_u, u . w), u in `u`, w in `w`)
    ahead: Option<(T, T)>,
    done: bool,
    v: Vec<T>,
    u: Vec<T>,
    w: Vec<T>,
    u2: Vec<T>,
    w2: Vec<T>,
}

impl<T: Real> Sweep<T> {
    fn new(b: usize) -> Self {
        let z = || vec![T::ZERO; b];
        Sweep { i: 0, st: 0, lm: 0, tau: T::ZERO, ahead: None, done: true, v: z(), u: z(), w: z(), u2: z(), w2: z() }
    }

    /// Sweep `i` (`i + 2 < n`), its first reflector of length `lm` not made yet.
    fn start(&mut self, i: usize, lm: usize) {
        (self.i, self.st, self.lm, self.tau, self.ahead, self.done) = (i, i, lm, T::ZERO, None, false);
    }

    /// One step (or the first reflector) in its window of `sweeps` (each kernel works on the
    /// window with column indices relative to it), if the window is free or `wait`, which then
    /// waits for it; `z` holds `2 b` scratch. Full steps (`lm = lm2 = b`) take [`full_head`] +
    /// [`full_body`] when `full_steps`, with the next step's head (its reflector) done before
    /// this step's body when the next step is full too; other steps take [`step`].
    #[inline(always)]
    fn advance<const FUSE: bool>(&mut self, sweeps: &Sweeps<'_, T>, z: &mut [T], full_steps: bool, wait: bool) {
        let (n, b, i) = (sweeps.n, sweeps.b, self.i);
        let ldb = 2 * b;
        let (st, lm) = (self.st, self.lm);
        let hi = if st == i { i + 1 } else { st + 2 * b };
        if !wait && !sweeps.is_free(i, hi) {
            return;
        }
        // SAFETY: this worker runs sweep `i`; the window starts at what the sweep has released
        // and is dropped before the next release.
        let ab = unsafe { sweeps.window(i, st, hi) };
        if st == i {
            self.tau = first_reflector(ab, ldb, 0, lm, &mut self.v);
            self.st = i + 1;
            sweeps.release(i, self.st);
            return;
        }
        let ed = st + lm - 1;
        let lm2 = (n - 1 - ed).min(b);
        let tau = self.tau;
        let (v, u, w, u2, w2) = (&mut self.v[..], &mut self.u[..], &mut self.w[..], &mut self.u2[..], &mut self.w2[..]);
        if full_steps && lm == b && lm2 == b {
            let ahead = self.ahead;
            let mut next_ahead = None;
            // a literal `b` for the common bandwidths: fixed trip counts once inlined
            macro_rules! full {
                ($b:expr) => {{
                    let (tau_u, uw) = match ahead {
                        Some(x) => x,
                        None => full_head::<T, FUSE>(ab, $b, 0, v, tau, w, u),
                    };
                    if ed + 2 * b <= n - 1 {
                        next_ahead = Some(full_head::<T, FUSE>(ab, $b, b, u, tau_u, w2, u2));
                    }
                    full_body::<T, FUSE>(ab, $b, 0, v, tau, w, u, tau_u, uw, z);
                    tau_u
                }};
            }
            let tau_u = match b {
                8 => full!(8),
                16 => full!(16),
                24 => full!(24),
                32 => full!(32),
                _ => full!(b),
            };
            // v <- u; the next step's head (if done) into u, w
            core::mem::swap(&mut self.v, &mut self.u);
            if next_ahead.is_some() {
                core::mem::swap(&mut self.u, &mut self.u2);
                core::mem::swap(&mut self.w, &mut self.w2);
            }
            self.ahead = next_ahead;
            self.tau = tau_u;
        } else {
            let tau_u = step(ab, ldb, 0, lm, lm2, &v[..lm], tau, &mut u[..lm2.max(1)], z);
            if lm2 <= 1 {
                self.done = true;
                sweeps.release(i, n);
                return;
            }
            v[..lm2].copy_from_slice(&u[..lm2]);
            self.tau = tau_u;
        }
        self.st = ed + 1;
        self.lm = lm2;
        sweeps.release(i, self.st);
    }
}

/// `a b + c`, fused (one rounding, [`Real::fused_mul_add`]) when `FUSE` (only inside the AVX2 +
/// FMA build, where it is one `vfmadd`; elsewhere it would be a libm call), else `a * b + c`.
#[inline(always)]
fn fma<T: Real, const FUSE: bool>(a: T, b: T, c: T) -> T {
    if FUSE { a.fused_mul_add(b, c) } else { a * b + c }
}

/// Sweep `i`'s first reflector, from column `i` (rows `i + 1..=i + lm`, at offsets `1..=lm` of
/// its compact column): annihilates `A[i + 2..=i + lm, i]`, its vector into `v[..lm]`
/// (`v[0] = 1`); returns its `tau`.
#[inline(always)]
fn first_reflector<T: Real>(ab: &mut [T], ldb: usize, i: usize, lm: usize, v: &mut [T]) -> T {
    let ci = i * ldb;
    let (beta, tau) = larfg(ab[ci + 1], &mut ab[ci + 2..ci + 1 + lm]);
    ab[ci + 1] = beta;
    v[0] = T::ONE;
    v[1..lm].copy_from_slice(&ab[ci + 2..ci + 1 + lm]);
    for x in ab[ci + 2..ci + 1 + lm].iter_mut() {
        *x = T::ZERO;
    }
    tau
}

/// `s[..4]` as an array (all four loads before any store, so the compiler can make them one
/// vector load without proving that they do not alias the stores around them).
#[inline(always)]
fn ld4<T: Copy>(s: &[T]) -> [T; 4] {
    [s[0], s[1], s[2], s[3]]
}

/// `s[..4] = x`.
#[inline(always)]
fn st4<T: Copy>(s: &mut [T], x: [T; 4]) {
    s[..4].copy_from_slice(&x);
}

/// The head of a full step (`lm = lm2 = b`, `b` a multiple of 4; the reflector `(v, tau)` on
/// rows / columns `st..st + b`): `w = tau C v` (`C` the `b x b` block below the diagonal
/// block), `C`'s column 0 updated (`c_0 -= w`, `v_0 = 1`), the next reflector `u` generated
/// from it; returns `(tau_u, u . w)`. Only `C` is touched, and this is all the next step
/// needs from this one (its reflector), so it is done a step ahead: the chain `C v`, `larfg`
/// (square root, divisions) of one step then overlaps the previous step's body.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn full_head<T: Real, const FUSE: bool>(ab: &mut [T], b: usize, st: usize, v: &[T], tau: T, w: &mut [T], u: &mut [T]) -> (T, T) {
    let ldb = 2 * b;
    let cs = ldb - 1;
    let (v, w, u) = (&v[..b], &mut w[..b], &mut u[..b]);
    let pan = &mut ab[st * ldb..st * ldb + b * cs + 1]; // pan[r + j cs] = A[st + r, st + j], r >= j
    // w = tau C v by chunks of 4 rows (two partial sums, even and odd columns, to halve the
    // dependency chain; no stores of partial sums), c_0 - w into u, and its sum of squares
    // below row 0
    let nv0 = T::ZERO - v[0];
    let mut ss4 = [T::ZERO; 4];
    for r in (0..b).step_by(4) {
        let (mut e, mut o) = ([T::ZERO; 4], [T::ZERO; 4]);
        for j in (0..b).step_by(2) {
            let (xa, xb) = (ld4(&pan[j * cs + b + r..]), ld4(&pan[(j + 1) * cs + b + r..]));
            e = core::array::from_fn(|m| fma::<T, FUSE>(xa[m], v[j], e[m]));
            o = core::array::from_fn(|m| fma::<T, FUSE>(xb[m], v[j + 1], o[m]));
        }
        let wc: [T; 4] = core::array::from_fn(|m| tau * (e[m] + o[m]));
        st4(&mut w[r..], wc);
        let c0 = ld4(&pan[b + r..]);
        let x: [T; 4] = core::array::from_fn(|m| fma::<T, FUSE>(wc[m], nv0, c0[m]));
        st4(&mut u[r..], x);
        let xm = if r == 0 { [T::ZERO, x[1], x[2], x[3]] } else { x };
        ss4 = core::array::from_fn(|m| fma::<T, FUSE>(xm[m], xm[m], ss4[m]));
    }
    // the next reflector from u (larfg: one square root, the plain formula when the sums of
    // squares are safely normal, else larfg itself)
    let alpha = u[0];
    let ss = (ss4[0] + ss4[2]) + (ss4[1] + ss4[3]);
    let aa = alpha * alpha + ss;
    let (beta, tau_u) = if ss >= T::MIN_POSITIVE / (T::EPSILON * T::EPSILON) && aa <= T::MAX {
        let h = aa.sqrt();
        let beta = if alpha >= T::ZERO { T::ZERO - h } else { h };
        let scal = T::ONE / (alpha - beta);
        for r in (0..b).step_by(4) {
            let x = ld4(&u[r..]);
            st4(&mut u[r..], core::array::from_fn(|m| x[m] * scal));
        }
        (beta, (beta - alpha) / beta)
    } else {
        larfg(alpha, &mut u[1..])
    };
    u[0] = T::ONE;
    let c0 = &mut pan[b..2 * b];
    c0[0] = beta;
    for x in c0[1..].iter_mut() {
        *x = T::ZERO;
    }
    let mut acc = [T::ZERO; 4];
    for (uc, wc) in u.chunks_exact(4).zip(w.chunks_exact(4)) {
        let (uc, wc) = (ld4(uc), ld4(wc));
        acc = core::array::from_fn(|l| fma::<T, FUSE>(uc[l], wc[l], acc[l]));
    }
    (tau_u, (acc[0] + acc[2]) + (acc[1] + acc[3]))
}

/// The body of a full step after [`full_head`] (`w`, `u`, `tau_u`, `uw = u . w` from it): the
/// diagonal block's two-sided update (`z = A v` from its lower triangle, `y = tau z - tau^2 / 2
/// (z . v) v`, `A -= v y^T + y v^T`) and `C`'s columns `1..b`, right update and left reflector
/// together: `c_j -= v_j w + tau_u (u . c_j - v_j (u . w)) u` (one read for the dot, one
/// update). In 4-wide chunks the compiler vectorises, fused multiply-adds when `FUSE`, the
/// diagonal block by tile columns of 4 (rows counted from `st`, so the chunks of `z`, `v`, `y`
/// are aligned; each column's rows inside its 4 x 4 diagonal tile one by one).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn full_body<T: Real, const FUSE: bool>(
    ab: &mut [T],
    b: usize,
    st: usize,
    v: &[T],
    tau: T,
    w: &[T],
    u: &[T],
    tau_u: T,
    uw: T,
    z: &mut [T],
) {
    let ldb = 2 * b;
    let cs = ldb - 1;
    let (v, w, u) = (&v[..b], &w[..b], &u[..b]);
    let z = &mut z[..b];
    let pan = &mut ab[st * ldb..st * ldb + b * cs + 1]; // pan[r + j cs] = A[st + r, st + j], r >= j
    // z = A v, by tile columns of 4 (each chunk of z loaded and stored once per 4 columns)
    for x in z.iter_mut() {
        *x = T::ZERO;
    }
    for j0 in (0..b).step_by(4) {
        let r1 = j0 + 4;
        let vv = [v[j0], v[j0 + 1], v[j0 + 2], v[j0 + 3]];
        // the diagonal tile in registers (no scalar stores to z that a vector load then reads:
        // a failed store-to-load forwarding costs more than the arithmetic)
        let mut zt = [z[j0], z[j0 + 1], z[j0 + 2], z[j0 + 3]];
        let mut sd = [T::ZERO; 4];
        for l in 0..4 {
            for m in l + 1..4 {
                let x = pan[(j0 + l) * cs + j0 + m];
                zt[m] = fma::<T, FUSE>(x, vv[l], zt[m]);
                sd[l] = fma::<T, FUSE>(x, vv[m], sd[l]);
            }
        }
        let cols: [&[T]; 4] = core::array::from_fn(|l| &pan[(j0 + l) * cs + r1..(j0 + l) * cs + b]);
        let mut acc = [[T::ZERO; 4]; 4];
        for (k, (zc, vc)) in z[r1..].chunks_exact_mut(4).zip(v[r1..].chunks_exact(4)).enumerate() {
            let mut zz = ld4(zc);
            let vc = ld4(vc);
            for l in 0..4 {
                let cc = ld4(&cols[l][4 * k..4 * k + 4]);
                zz = core::array::from_fn(|m| fma::<T, FUSE>(cc[m], vv[l], zz[m]));
                acc[l] = core::array::from_fn(|m| fma::<T, FUSE>(cc[m], vc[m], acc[l][m]));
            }
            st4(zc, zz);
        }
        for l in 0..4 {
            let j = j0 + l;
            let a = &acc[l];
            zt[l] = fma::<T, FUSE>(pan[j * cs + j], vv[l], zt[l] + (sd[l] + ((a[0] + a[2]) + (a[1] + a[3]))));
        }
        z[j0..r1].copy_from_slice(&zt);
    }
    // y = tau z - tau^2 / 2 (z . v) v in z
    let half = T::from_f64(0.5);
    let alpha = T::ZERO - half * tau * tau * dot(z, v);
    for (zk, vk) in z.iter_mut().zip(v) {
        *zk = fma::<T, FUSE>(*vk, alpha, tau * *zk);
    }
    let y = &*z;
    // A -= v y^T + y v^T and C's columns 1..b, by tile columns of 4: each chunk of v, y, w, u
    // loaded once per 4 columns
    for j0 in (0..b).step_by(4) {
        let r1 = j0 + 4;
        let (vv, yy) = (ld4(&v[j0..]), ld4(&y[j0..]));
        let (nv, ny): ([T; 4], [T; 4]) = (core::array::from_fn(|l| T::ZERO - vv[l]), core::array::from_fn(|l| T::ZERO - yy[l]));
        for l in 0..4 {
            for m in l..4 {
                let x = &mut pan[(j0 + l) * cs + j0 + m];
                *x = fma::<T, FUSE>(vv[m], ny[l], fma::<T, FUSE>(yy[m], nv[l], *x));
            }
        }
        for r in (r1..b).step_by(4) {
            let (vc, yc) = (ld4(&v[r..]), ld4(&y[r..]));
            for l in 0..4 {
                let c = &mut pan[(j0 + l) * cs + r..(j0 + l) * cs + r + 4];
                let x = ld4(c);
                st4(c, core::array::from_fn(|m| fma::<T, FUSE>(vc[m], ny[l], fma::<T, FUSE>(yc[m], nv[l], x[m]))));
            }
        }
        // C: s_l = u . c_l, t_l = tau_u (s_l - v_l (u . w)), c_l -= v_l w + t_l u
        if j0 == 0 {
            // column 0 done by the head
            for l in 1..4 {
                let c0 = l * cs + b;
                let cc = &mut pan[c0..c0 + b];
                let mut acc = [T::ZERO; 4];
                for (uc, xc) in u.chunks_exact(4).zip(cc.chunks_exact(4)) {
                    let (uc, xc) = (ld4(uc), ld4(xc));
                    acc = core::array::from_fn(|m| fma::<T, FUSE>(uc[m], xc[m], acc[m]));
                }
                let s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
                let t = T::ZERO - tau_u * fma::<T, FUSE>(nv[l], uw, s);
                for ((xc, wc), uc) in cc.chunks_exact_mut(4).zip(w.chunks_exact(4)).zip(u.chunks_exact(4)) {
                    let (x, wc, uc) = (ld4(xc), ld4(wc), ld4(uc));
                    st4(xc, core::array::from_fn(|m| fma::<T, FUSE>(uc[m], t, fma::<T, FUSE>(wc[m], nv[l], x[m]))));
                }
            }
            continue;
        }
        let mut acc = [[T::ZERO; 4]; 4];
        for r in (0..b).step_by(4) {
            let uc = ld4(&u[r..]);
            for l in 0..4 {
                let xc = ld4(&pan[(j0 + l) * cs + b + r..]);
                acc[l] = core::array::from_fn(|m| fma::<T, FUSE>(uc[m], xc[m], acc[l][m]));
            }
        }
        let t: [T; 4] = core::array::from_fn(|l| {
            let a = &acc[l];
            T::ZERO - tau_u * fma::<T, FUSE>(nv[l], uw, (a[0] + a[2]) + (a[1] + a[3]))
        });
        for r in (0..b).step_by(4) {
            let (uc, wc) = (ld4(&u[r..]), ld4(&w[r..]));
            for l in 0..4 {
                let c = &mut pan[(j0 + l) * cs + b + r..(j0 + l) * cs + b + r + 4];
                let x = ld4(c);
                st4(c, core::array::from_fn(|m| fma::<T, FUSE>(uc[m], t[l], fma::<T, FUSE>(wc[m], nv[l], x[m]))));
            }
        }
    }
}

/// One step: the reflector `(v, tau)` on rows / columns `st..st + lm` applied two-sided to the
/// diagonal block and from the right to the `lm2` rows below it; the next reflector generated
/// from the first column of those rows (into `u`, `u[0] = 1`; its `tau` returned) and applied
/// from the left to their further columns. `z`: `lm + lm2` scratch.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step<T: Real>(ab: &mut [T], ldb: usize, st: usize, lm: usize, lm2: usize, v: &[T], tau: T, u: &mut [T], z: &mut [T]) -> T {
    let len = lm + lm2;
    let z = &mut z[..len];
    // pass 1: z = [A_diag; C] v
    for x in z.iter_mut() {
        *x = T::ZERO;
    }
    for jj in 0..lm {
        let c0 = (st + jj) * ldb;
        let col = &ab[c0..c0 + len - jj];
        let vj = v[jj];
        let (zd, zr) = z[jj..].split_at_mut(1);
        let nd = lm - jj - 1;
        let s = axpy_dot(vj, &col[1..1 + nd], &mut zr[..nd], &v[jj + 1..lm]);
        zd[0] = col[0].mul_add(vj, zd[0] + s);
        axpy(vj, &col[1 + nd..], &mut zr[nd..]);
    }
    // y = tau z_d - tau^2 / 2 (z_d . v) v in z[..lm]; w = tau z_c in z[lm..]
    let half = T::from_f64(0.5);
    let alpha = T::ZERO - half * tau * tau * dot(&z[..lm], v);
    for (zk, vk) in z[..lm].iter_mut().zip(v) {
        *zk = vk.mul_add(alpha, tau * *zk);
    }
    for zk in z[lm..].iter_mut() {
        *zk = tau * *zk;
    }
    let (y, w) = z.split_at(lm);
    // pass 2
    let mut tau_u = T::ZERO;
    for jj in 0..lm {
        let c0 = (st + jj) * ldb;
        let col = &mut ab[c0..c0 + len - jj];
        let (cd, cc) = col.split_at_mut(lm - jj);
        let (nv, ny) = (T::ZERO - v[jj], T::ZERO - y[jj]);
        for ((x, vk), yk) in cd.iter_mut().zip(&v[jj..]).zip(&y[jj..]) {
            *x = vk.mul_add(ny, yk.mul_add(nv, *x));
        }
        if lm2 == 0 {
            continue;
        }
        axpy(nv, w, cc);
        if jj == 0 {
            let (beta, t) = larfg(cc[0], &mut cc[1..]);
            cc[0] = beta;
            u[0] = T::ONE;
            u[1..].copy_from_slice(&cc[1..]);
            for x in cc[1..].iter_mut() {
                *x = T::ZERO;
            }
            tau_u = t;
        } else if tau_u != T::ZERO {
            let s = T::ZERO - tau_u * dot(cc, u);
            axpy(s, u, cc);
        }
    }
    tau_u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::data;

    /// The lower band (`a[i + j n]`, `0 <= i - j <= b`) of a random symmetric band matrix, the
    /// rest of `a` NaN.
    fn random_band(n: usize, b: usize, seed: u64) -> Vec<f64> {
        let r = data(n * n, seed);
        let mut a = vec![f64::NAN; n * n];
        for j in 0..n {
            for i in j..n.min(j + b + 1) {
                a[i + j * n] = r[i + j * n];
            }
        }
        a
    }

    /// Eigenvalues (ascending) of the symmetric band matrix whose lower band is in `a`, by faer.
    fn reference(a: &[f64], n: usize, b: usize) -> Vec<f64> {
        let m = faer::Mat::<f64>::from_fn(n, n, |i, j| {
            let (i, j) = if i >= j { (i, j) } else { (j, i) };
            if i - j <= b {
                a[i + j * n]
            } else {
                0.0
            }
        });
        let mut w = m.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        w.sort_by(|x, y| x.partial_cmp(y).unwrap());
        w
    }

    /// Eigenvalues (ascending) of the tridiagonal `band_to_tridiagonal` gives, by `sterf`;
    /// checks that `a` is left as it was.
    fn ours_ld<T: Real>(a: &[f64], n: usize, lda: usize, b: usize) -> Vec<f64> {
        let mut at: Vec<T> = a.iter().map(|&x| T::from_f64(x)).collect();
        let before: Vec<u64> = at.iter().map(|x| x.to_f64().to_bits()).collect();
        let mut d = vec![T::ZERO; n];
        let mut e = vec![T::ZERO; n];
        band_to_tridiagonal(&mut at, n, lda, b, &mut d, &mut e, Par::SEQ);
        assert!(at.iter().zip(&before).all(|(x, y)| x.to_f64().to_bits() == *y), "a changed");
        assert!(d.iter().chain(&e).all(|x| x.is_finite()), "n={n} b={b}: not finite");
        if n > 0 {
            e[n - 1] = T::ZERO;
        }
        assert!(crate::sytrd::sterf(n, &mut d, &mut e));
        let mut w: Vec<f64> = d.iter().map(|x| x.to_f64()).collect();
        w.sort_by(|x, y| x.partial_cmp(y).unwrap());
        w
    }

    fn ours<T: Real>(a: &[f64], n: usize, b: usize) -> Vec<f64> {
        ours_ld::<T>(a, n, n, b)
    }

    /// The largest eigenvalue error of ours in units of `n eps max|A|` (`n` at least 1).
    fn error_ratio<T: Real>(a: &[f64], n: usize, b: usize) -> f64 {
        let amax =
            (0..n).flat_map(|j| (j..n.min(j + b + 1)).map(move |i| (i, j))).fold(0.0f64, |m, (i, j)| m.max(a[i + j * n].abs()));
        let w0 = reference(a, n, b);
        let w1 = ours::<T>(a, n, b);
        let err = w0.iter().zip(&w1).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        if err == 0.0 {
            return 0.0;
        }
        err / (n.max(1) as f64 * T::EPSILON.to_f64() * amax)
    }

    /// f64 against faer's eigenvalues (in f64 too: the ratio holds both errors, and `sterf`'s;
    /// worst seen 8.3, at n = 257, b = 64) and f32 against the same f64 reference (nearly exact
    /// at f32's eps: worst seen 1.2). A Householder reduction's backward error is a modest
    /// multiple of `eps ||A||_2`, and `||A||_2` of these random bands is ~6 `max|A|` at b = 64,
    /// so `16` and `4` leave margin; a missing or wrong term of any update gives errors of order
    /// `max|A|`, some 10^9 (f64) or 10^2..10^4 (f32) times these tolerances.
    const C64: f64 = 16.0;
    const C32: f64 = 4.0;

    fn check(a: &[f64], n: usize, b: usize, what: &str) -> [f64; 2] {
        let r64 = error_ratio::<f64>(a, n, b);
        let r32 = error_ratio::<f32>(a, n, b);
        assert!(r64 < C64 && r32 < C32, "{what} n={n} b={b}: error / (n eps max|A|) f64 {r64:.3}, f32 {r32:.3}");
        [r64, r32]
    }

    #[test]
    fn eigenvalues_match_dense() {
        let mut worst = [0.0f64; 2];
        for n in [0usize, 1, 2, 3, 17, 64, 100, 257, 600] {
            for b in [0usize, 1, 2, 3, 8, 16, 32, 64] {
                let a = random_band(n, b, (n * 100 + b) as u64);
                let r = check(&a, n, b, "random");
                worst = [worst[0].max(r[0]), worst[1].max(r[1])];
            }
        }
        eprintln!("worst error / (n eps max|A|): f64 {:.3}, f32 {:.3}", worst[0], worst[1]);
    }

    /// `lda > n`, NaN in the padding rows and everywhere outside the lower band (b = n - 2 and
    /// the like, so a read of the upper triangle or past the band would show).
    #[test]
    fn leading_dimension_and_garbage() {
        for (n, b) in [(40usize, 38usize), (100, 7), (33, 32), (5, 64)] {
            let lda = n + 5;
            let r = data(lda * n, 7 + n as u64);
            let mut a = vec![f64::NAN; lda * n];
            let mut dense = vec![f64::NAN; n * n];
            for j in 0..n {
                for i in j..n.min(j + b + 1) {
                    a[i + j * lda] = r[i + j * lda];
                    dense[i + j * n] = r[i + j * lda];
                }
            }
            let w0 = reference(&dense, n, b);
            for w in [ours_ld::<f64>(&a, n, lda, b), ours_ld::<f32>(&a, n, lda, b)] {
                let err = w0.iter().zip(&w).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
                assert!(err < C32 * n as f64 * f32::EPSILON as f64 * 0.5, "n={n} b={b} lda={lda}: {err:e}");
            }
        }
    }

    #[test]
    fn zero_and_identity() {
        for (n, b) in [(50usize, 8usize), (64, 32), (7, 64)] {
            let mut a = vec![0.0; n * n];
            let (mut d, mut e) = (vec![1.0; n], vec![1.0; n]);
            band_to_tridiagonal(&mut a, n, n, b, &mut d, &mut e, Par::SEQ);
            assert!(d.iter().chain(&e[..n - 1]).all(|&x| x == 0.0), "zero n={n} b={b}");
            // 3 I: no reflector does anything (tau = 0): d = 3, e = 0 exactly
            for j in 0..n {
                a[j + j * n] = 3.0;
            }
            band_to_tridiagonal(&mut a, n, n, b, &mut d, &mut e, Par::SEQ);
            assert!(d.iter().all(|&x| x == 3.0) && e[..n - 1].iter().all(|&x| x == 0.0), "3 I n={n} b={b}");
        }
    }

    /// Entries graded over 24 orders of magnitude (`A[i, j] = r g^(i + j)`), both directions.
    #[test]
    fn graded() {
        for (n, b) in [(100usize, 8usize), (257, 16), (64, 63)] {
            let g = (1e-24f64).powf(1.0 / (2 * (n - 1)) as f64);
            for flip in [false, true] {
                let mut a = random_band(n, b, 3 * n as u64);
                for j in 0..n {
                    for i in j..n.min(j + b + 1) {
                        let k = if flip { 2 * (n - 1) - i - j } else { i + j };
                        a[i + j * n] *= g.powi(k as i32);
                    }
                }
                let r = error_ratio::<f64>(&a, n, b);
                assert!(r < C64, "graded n={n} b={b} flip={flip}: {r:.3}");
            }
        }
    }

    /// A direct sum of `k` copies of one random band block (eigenvalues of multiplicity `k`),
    /// and the same plus a tiny band perturbation (tight clusters).
    #[test]
    fn repeated_and_clustered() {
        for (m, k, b) in [(20usize, 5usize, 8usize), (33, 8, 16), (64, 4, 32), (10, 30, 3)] {
            let n = m * k;
            let blk = random_band(m, b, m as u64 + 99);
            for tiny in [0.0, 1e-10] {
                let p = data(n * n, 5);
                let mut a = vec![f64::NAN; n * n];
                for j in 0..n {
                    for i in j..n.min(j + b + 1) {
                        let same = i / m == j / m;
                        let x = if same { blk[i % m + (j % m) * m] } else { 0.0 };
                        a[i + j * n] = x + tiny * p[i + j * n];
                    }
                }
                check(&a, n, b, if tiny == 0.0 { "repeated" } else { "clustered" });
                if tiny == 0.0 {
                    let w = ours::<f64>(&a, n, b);
                    let tol = C64 * n as f64 * f64::EPSILON;
                    for c in w.chunks(k) {
                        assert!(c[k - 1] - c[0] < 2.0 * tol, "m={m} k={k} b={b}: cluster {c:?}");
                    }
                }
            }
        }
    }

    /// The tridiagonal of the fast path (full steps by [`full_head`] + [`full_body`]) against the general
    /// [`step`] everywhere, b = 2..40 (multiples of 4 up to 32 take the fast path), n not a multiple of b,
    /// f64 and f32: `d` and `|e|` (the same reflectors up to rounding, so no sign flips on these
    /// random bands) within `1000 n eps max|A|` (worst seen: f64 69, f32 104; the tridiagonal's
    /// entries are not backward-stable quantities, so their rounding differences exceed the
    /// eigenvalues', while a missing or wrong term would give differences of order `max|A|`,
    /// 10^10 (f64) or 10^4 (f32) or more of these units), and the fast path's eigenvalues against faer's.
    #[test]
    fn full_step_matches_general() {
        fn tri<T: Real>(a: &[f64], n: usize, b: usize, fast: bool) -> (Vec<f64>, Vec<f64>) {
            let mut at: Vec<T> = a.iter().map(|&x| T::from_f64(x)).collect();
            let (mut d, mut e) = (vec![T::ZERO; n], vec![T::ZERO; n]);
            tridiagonal_impl(&mut at, n, n, b, &mut d, &mut e, fast, Par::SEQ);
            (d.iter().map(|x| x.to_f64()).collect(), e[..n - 1].iter().map(|x| x.to_f64().abs()).collect())
        }
        fn diff<T: Real>(a: &[f64], n: usize, b: usize) -> f64 {
            let amax = a.iter().filter(|x| !x.is_nan()).fold(0.0f64, |m, x| m.max(x.abs()));
            let (d0, e0) = tri::<T>(a, n, b, false);
            let (d1, e1) = tri::<T>(a, n, b, true);
            let err = d0.iter().zip(&d1).chain(e0.iter().zip(&e1)).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
            err / (n as f64 * T::EPSILON.to_f64() * amax)
        }
        let mut worst = [0.0f64; 2];
        for b in 2usize..=40 {
            for n in [b + 1, 2 * b + 3, 3 * b + 1, 5 * b + b / 2 + 1] {
                let a = random_band(n, b, (7 * n + b) as u64);
                let r = [diff::<f64>(&a, n, b), diff::<f32>(&a, n, b)];
                assert!(r[0] < 1e3 && r[1] < 1e3, "n={n} b={b}: fast vs general / (n eps max|A|) f64 {:.3}, f32 {:.3}", r[0], r[1]);
                worst = [worst[0].max(r[0]), worst[1].max(r[1])];
                if b % 4 == 0 && b <= 32 {
                    check(&a, n, b, "fast");
                }
            }
        }
        eprintln!("worst fast vs general / (n eps max|A|): f64 {:.3}, f32 {:.3}", worst[0], worst[1]);
    }

    /// The pipelined sweeps on the pool give the same bits as one thread, for full-step and
    /// general bandwidths, n around and above [`PAR_MIN_N`], both dtypes.
    #[test]
    fn same_bits_for_any_thread_count() {
        fn tri<T: Real>(a: &[f64], n: usize, b: usize, par: Par) -> Vec<u64> {
            let mut at: Vec<T> = a.iter().map(|&x| T::from_f64(x)).collect();
            let (mut d, mut e) = (vec![T::ZERO; n], vec![T::ZERO; n]);
            band_to_tridiagonal(&mut at, n, n, b, &mut d, &mut e, par);
            d.iter().chain(&e[..n - 1]).map(|x| x.to_f64().to_bits()).collect()
        }
        let pool = crate::threads::current();
        for (n, b) in [(PAR_MIN_N, 16usize), (PAR_MIN_N + 37, 8), (300, 5), (301, 32), (280, 64), (400, 24), (PAR_MIN_N, PAR_MIN_N + 9)] {
            let a = random_band(n, b, (3 * n + b) as u64);
            assert_eq!(tri::<f64>(&a, n, b, Par::SEQ), tri::<f64>(&a, n, b, pool.par()), "f64 n={n} b={b}");
            assert_eq!(tri::<f32>(&a, n, b, Par::SEQ), tri::<f32>(&a, n, b, pool.par()), "f32 n={n} b={b}");
            if n == PAR_MIN_N && b == 16 {
                // and the result is right, not merely the same
                let r = error_ratio::<f64>(&a, n, b);
                assert!(r < C64, "n={n} b={b}: {r}");
            }
        }
    }

    /// Median wall ms, f64, one thread and the pool, of `band_to_tridiagonal` (the copy into
    /// band storage included) and, for scale, of `sterf` on its result (`SB2ST_N`, `SB2ST_B`).
    #[test]
    #[ignore]
    fn sb2st_timing() {
        let pool = crate::threads::current();
        eprintln!("    n    b   sb2st 1 thread   pool   sterf ms   GF/s (6 n^2 b, pool)");
        for g in crate::testing::env_list("SB2ST_G", &[GROUP]) {
            GROUP_OVERRIDE.store(g, Ordering::Relaxed);
            eprintln!("group {g}");
            for n in crate::testing::env_list("SB2ST_N", &[256, 512, 1024, 2048]) {
                for b in crate::testing::env_list("SB2ST_B", &[16, 32, 64]) {
                    let a0 = random_band(n, b, 1 + n as u64);
                    let mut a = a0.clone();
                    let mut a2 = a0.clone();
                    let (mut d, mut e) = (vec![0.0; n], vec![0.0; n]);
                    let (mut dp, mut ep) = (vec![0.0; n], vec![0.0; n]);
                    band_to_tridiagonal(&mut a, n, n, b, &mut d, &mut e, Par::SEQ);
                    let (d1, e1) = (d.clone(), e.clone());
                    let (mut d2, mut e2) = (d.clone(), e.clone());
                    let [t1, tp, t2] = crate::testing::interleaved_medians([
                        &mut || band_to_tridiagonal(&mut a, n, n, b, &mut d, &mut e, Par::SEQ),
                        &mut || band_to_tridiagonal(&mut a2, n, n, b, &mut dp, &mut ep, pool.par()),
                        &mut || {
                            d2.copy_from_slice(&d1);
                            e2.copy_from_slice(&e1);
                            e2[n - 1] = 0.0;
                            assert!(crate::sytrd::sterf(n, &mut d2, &mut e2));
                        },
                    ]);
                    let gf = 6.0 * (n * n * b) as f64 / (tp * 1e6);
                    eprintln!("{n:5} {b:4} {t1:12.3} {tp:10.3} {t2:10.3} {gf:8.2}");
                }
            }
        }
        GROUP_OVERRIDE.store(0, Ordering::Relaxed);
    }
}
