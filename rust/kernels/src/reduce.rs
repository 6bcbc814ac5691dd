//! Reductions of strided arrays over any set of axes: the engine under the norms.
//!
//! The input is walked in memory order (axes sorted by stride), whatever the reduced axes are,
//! so a reduction down the columns of a C-order matrix streams memory as one along the rows does.
//! Each element updates the accumulator of its output position.
//!
//! Large inputs are cut into chunks along their outermost axis. The cut depends only on the
//! shape, never on the thread count, and partial results are combined in chunk order, so a
//! result is bit-identical for any number of threads.

use crate::scalar::Real;
use crate::strided::{ArrayMut, ArrayRef, SendPtr};
use crate::threads::Par;

/// Below this many elements a reduction is one walk on one thread.
const PAR_MIN_ELEMS: usize = 1 << 18;
/// Elements per chunk (rounded to whole steps of the outermost axis).
const CHUNK_ELEMS: usize = 1 << 16;
/// Chunks with private accumulators are only used while the accumulators stay this small.
const MAX_PRIVATE_ACCS: usize = 1 << 12;

/// One kind of reduction: an accumulator per output element, fed the input's elements.
pub trait Reducer<T>: Sync {
    type Acc: Copy + Send + Sync;
    fn init(&self) -> Self::Acc;
    fn update(&self, acc: Self::Acc, x: T) -> Self::Acc;
    /// Merges the accumulators of two parts (`a` before `b`).
    fn combine(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;

    /// Folds a contiguous run. Four interleaved accumulators let the compiler use SIMD lanes
    /// and, for sums, shorten the rounding-error chain.
    #[inline]
    fn fold(&self, acc: Self::Acc, xs: &[T]) -> Self::Acc
    where
        T: Copy,
    {
        let mut lanes = [self.init(); 4];
        let mut chunks = xs.chunks_exact(4);
        for c in &mut chunks {
            for l in 0..4 {
                lanes[l] = self.update(lanes[l], c[l]);
            }
        }
        let mut tail = self.init();
        for &x in chunks.remainder() {
            tail = self.update(tail, x);
        }
        let lanes = self.combine(self.combine(lanes[0], lanes[1]), self.combine(lanes[2], lanes[3]));
        self.combine(acc, self.combine(lanes, tail))
    }
}

/// An axis of the walk: its length, its input stride and the matching accumulator stride.
#[derive(Clone, Copy, Debug)]
struct WalkAxis {
    len: usize,
    x_stride: isize,
    acc_stride: isize,
}

/// Reduces `x` over `axes` (sorted, distinct, in range) and returns one accumulator per element
/// of the kept axes, in C order over them.
pub fn reduce<T: Real, R: Reducer<T>>(x: &ArrayRef<T>, axes: &[usize], r: &R, par: Par) -> Vec<R::Acc> {
    let shape = x.shape();
    let kept_len: usize = (0..shape.len()).filter(|d| !axes.contains(d)).map(|d| shape[d]).product();
    let mut accs = vec![r.init(); kept_len];
    if kept_len == 0 || x.is_empty() {
        return accs;
    }
    // accumulator strides: C order over the kept axes, 0 on reduced ones
    let mut acc_strides = vec![0isize; shape.len()];
    let mut step = 1isize;
    for d in (0..shape.len()).rev() {
        if !axes.contains(&d) {
            acc_strides[d] = step;
            step *= shape[d] as isize;
        }
    }
    let mut walk: Vec<WalkAxis> = (0..shape.len())
        .filter(|&d| shape[d] > 1)
        .map(|d| WalkAxis { len: shape[d], x_stride: x.strides()[d], acc_stride: acc_strides[d] })
        .collect();
    // memory order: largest stride outermost; among equal strides, kept axes inside
    walk.sort_by_key(|a| (core::cmp::Reverse(a.x_stride.unsigned_abs()), a.acc_stride != 0));
    if walk.is_empty() {
        walk.push(WalkAxis { len: 1, x_stride: 0, acc_stride: 0 });
    }

    let total = x.len();
    let outer = walk[0];
    let per_step = total / outer.len;
    let chunk = (CHUNK_ELEMS / per_step).max(1);
    let nchunks = outer.len.div_ceil(chunk);
    // chunking depends on the size only; threads only decide who runs the chunks
    let chunked = total >= PAR_MIN_ELEMS && nchunks > 1;
    let par = par.when(chunked);

    if outer.acc_stride != 0 {
        // the outermost axis is kept: chunks own disjoint accumulators, no combining needed
        let accs_ptr = SendPtr(accs.as_mut_ptr());
        let run = |c: usize| {
            let start = c * chunk;
            let len = chunk.min(outer.len - start);
            let mut w = walk.clone();
            w[0].len = len;
            // SAFETY: chunk `c` touches only accumulators start*acc_stride.. of its own rows,
            // disjoint from every other chunk's; the input offsets stay inside `x`.
            unsafe {
                walk_into(
                    r,
                    x.ptr().offset(start as isize * outer.x_stride),
                    accs_ptr.get().offset(start as isize * outer.acc_stride),
                    &w,
                )
            };
        };
        par.for_each(nchunks, &run);
        return accs;
    }

    // the outermost axis is reduced: each chunk fills private accumulators, combined in order
    if !chunked || kept_len > MAX_PRIVATE_ACCS {
        // SAFETY: the walk covers exactly x's elements and accs' positions.
        unsafe { walk_into(r, x.ptr(), accs.as_mut_ptr(), &walk) };
        return accs;
    }
    let partials: Vec<std::sync::Mutex<Vec<R::Acc>>> = (0..nchunks).map(|_| Default::default()).collect();
    par.for_each(nchunks, &|c| {
        let start = c * chunk;
        let mut w = walk.clone();
        w[0].len = chunk.min(outer.len - start);
        let mut mine = vec![r.init(); kept_len];
        // SAFETY: the chunk's walk stays inside x; `mine` has every accumulator position.
        unsafe { walk_into(r, x.ptr().offset(start as isize * outer.x_stride), mine.as_mut_ptr(), &w) };
        *partials[c].lock().unwrap() = mine;
    });
    for part in partials {
        let part = part.into_inner().unwrap();
        for (a, p) in accs.iter_mut().zip(part) {
            *a = r.combine(*a, p);
        }
    }
    accs
}

/// Walks the axes (outermost first) from `x` and `acc`, updating accumulators.
///
/// # Safety
/// Every offset the walk produces must address valid elements of the input and the accumulators.
unsafe fn walk_into<T: Real, R: Reducer<T>>(r: &R, x: *const T, acc: *mut R::Acc, walk: &[WalkAxis]) {
    let (inner, outer) = walk.split_last().expect("at least one axis");
    let mut index = vec![0usize; outer.len()];
    let (mut xo, mut ao) = (0isize, 0isize);
    loop {
        let xp = x.offset(xo);
        let ap = acc.offset(ao);
        if inner.acc_stride == 0 {
            // the innermost axis is reduced: fold a run into one accumulator
            if inner.x_stride == 1 {
                *ap = r.fold(*ap, core::slice::from_raw_parts(xp, inner.len));
            } else {
                let mut a = *ap;
                for j in 0..inner.len as isize {
                    a = r.update(a, *xp.offset(j * inner.x_stride));
                }
                *ap = a;
            }
        } else {
            for j in 0..inner.len as isize {
                let slot = ap.offset(j * inner.acc_stride);
                *slot = r.update(*slot, *xp.offset(j * inner.x_stride));
            }
        }
        // odometer over the outer axes
        let mut d = outer.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            xo += outer[d].x_stride;
            ao += outer[d].acc_stride;
            if index[d] < outer[d].len {
                break;
            }
            xo -= outer[d].x_stride * outer[d].len as isize;
            ao -= outer[d].acc_stride * outer[d].len as isize;
            index[d] = 0;
        }
    }
}

/// Writes `finish(acc)` for each accumulator into `out` (C order over its shape).
pub fn write_out<T, A: Copy>(accs: &[A], out: &mut ArrayMut<T>, finish: impl Fn(A) -> T) {
    let shape = crate::strided::Dims::from_slice(out.shape());
    let strides = crate::strided::Strides::from_slice(out.strides());
    let mut index: crate::strided::Dims = smallvec::smallvec![0usize; shape.len()];
    for &a in accs {
        // SAFETY: `index` runs over `out`'s shape in C order, one position per accumulator.
        unsafe { *out.ptr().offset(crate::strided::offset_of(&index, &strides)) = finish(a) };
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
}
