//! Strided n-dimensional views: a pointer, a shape and strides counted in elements (negative
//! strides allowed, zero strides for broadcast axes). They are what NumPy hands over, so no input
//! is ever copied to fit a kernel.

use core::marker::PhantomData;
use smallvec::SmallVec;

/// A shape, stored inline for arrays of up to 6 axes: views are made on every call, and a heap
/// allocation per shape showed up in the profile of small products.
pub type Dims = SmallVec<[usize; 6]>;
/// Strides in elements, inline like [`Dims`].
pub type Strides = SmallVec<[isize; 6]>;

/// A read-only strided view of `T`s.
#[derive(Clone, Debug)]
pub struct ArrayRef<'a, T> {
    ptr: *const T,
    shape: Dims,
    strides: Strides,
    _life: PhantomData<&'a T>,
}

/// A writable strided view of `T`s. Distinct indices must address distinct elements (no zero
/// strides on axes longer than one), or parallel writes would race.
#[derive(Debug)]
pub struct ArrayMut<'a, T> {
    ptr: *mut T,
    shape: Dims,
    strides: Strides,
    _life: PhantomData<&'a mut T>,
}

// SAFETY: the views are plain (pointer, shape, strides) descriptions of memory that the creator
// promised stays valid for 'a; `T: Sync` makes shared reads from several threads sound, and an
// `ArrayMut` is only ever split into disjoint parts before it is written from several threads.
unsafe impl<T: Sync> Send for ArrayRef<'_, T> {}
unsafe impl<T: Sync> Sync for ArrayRef<'_, T> {}
unsafe impl<T: Send> Send for ArrayMut<'_, T> {}
unsafe impl<T: Sync> Sync for ArrayMut<'_, T> {}

/// The shape accessors shared by [`ArrayRef`] and [`ArrayMut`].
macro_rules! view_shape_accessors {
    () => {
        pub fn shape(&self) -> &[usize] {
            &self.shape
        }
        pub fn strides(&self) -> &[isize] {
            &self.strides
        }
        pub fn ndim(&self) -> usize {
            self.shape.len()
        }
        pub fn len(&self) -> usize {
            self.shape.iter().product()
        }
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }
    };
}

impl<'a, T> ArrayRef<'a, T> {
    /// # Safety
    /// For every index `i` within `shape`, `ptr.offset(sum(i[d] * strides[d]))` must point to an
    /// initialised `T` that is not written to for the lifetime `'a`. With a zero-size `shape`,
    /// `ptr` is never read.
    pub unsafe fn from_raw(ptr: *const T, shape: &[usize], strides: &[isize]) -> Self {
        debug_assert_eq!(shape.len(), strides.len());
        Self { ptr, shape: Dims::from_slice(shape), strides: Strides::from_slice(strides), _life: PhantomData }
    }

    /// A contiguous row-major view of a slice.
    pub fn from_slice(data: &'a [T], shape: &[usize]) -> Self {
        assert_eq!(data.len(), shape.iter().product::<usize>(), "slice length does not fit shape");
        let strides = c_strides(shape);
        // SAFETY: every index within `shape` addresses an element of `data`.
        unsafe { Self::from_raw(data.as_ptr(), shape, &strides) }
    }

    pub fn ptr(&self) -> *const T {
        self.ptr
    }
    view_shape_accessors!();

    /// The element at a multi-index (checked against the shape in debug builds).
    ///
    /// # Safety
    /// `index` must be within the shape.
    #[inline]
    pub unsafe fn get_unchecked(&self, index: &[usize]) -> T
    where
        T: Copy,
    {
        debug_assert!(index.iter().zip(&self.shape).all(|(i, n)| i < n));
        *self.ptr.offset(offset_of(index, &self.strides))
    }
}

impl<'a, T> ArrayMut<'a, T> {
    /// # Safety
    /// For every index `i` within `shape`, `ptr.offset(sum(i[d] * strides[d]))` must point to a
    /// `T` that nothing else reads or writes for the lifetime `'a`, and distinct indices must
    /// address distinct elements.
    pub unsafe fn from_raw(ptr: *mut T, shape: &[usize], strides: &[isize]) -> Self {
        debug_assert_eq!(shape.len(), strides.len());
        Self { ptr, shape: Dims::from_slice(shape), strides: Strides::from_slice(strides), _life: PhantomData }
    }

    /// A contiguous row-major view of a mutable slice.
    pub fn from_slice(data: &'a mut [T], shape: &[usize]) -> Self {
        assert_eq!(data.len(), shape.iter().product::<usize>(), "slice length does not fit shape");
        let strides = c_strides(shape);
        // SAFETY: every index within `shape` addresses a distinct element of `data`.
        unsafe { Self::from_raw(data.as_mut_ptr(), shape, &strides) }
    }

    pub fn ptr(&self) -> *mut T {
        self.ptr
    }
    view_shape_accessors!();

    /// A read-only view of the same memory.
    pub fn as_ref(&self) -> ArrayRef<'_, T> {
        // SAFETY: same memory, same shape, borrowed for less than 'a.
        unsafe { ArrayRef::from_raw(self.ptr, &self.shape, &self.strides) }
    }
}

/// A raw pointer that may cross into worker threads, for kernels that hand disjoint parts of a
/// view (matrices of a batch, ranges of accumulators) to parallel tasks. What it points to is
/// governed by the view it was taken from; each user says why its parts are disjoint.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SendPtr<T>(pub(crate) *mut T);
// SAFETY: a description of memory only; every user hands each thread a disjoint part.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer (a method, so closures capture the whole `Sync` wrapper, not its field).
    #[inline(always)]
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

/// Row-major (C-order) strides, in elements, for a shape.
pub fn c_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = smallvec::smallvec![0isize; shape.len()];
    let mut step = 1isize;
    for (s, &n) in strides.iter_mut().zip(shape).rev() {
        *s = step;
        step *= n.max(1) as isize;
    }
    strides
}

/// The element offset of a multi-index.
#[inline]
pub fn offset_of(index: &[usize], strides: &[isize]) -> isize {
    index.iter().zip(strides).map(|(&i, &s)| i as isize * s).sum()
}

/// NumPy's broadcasting of two shapes, or `None` if they do not broadcast.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Dims> {
    let n = a.len().max(b.len());
    let mut out: Dims = smallvec::smallvec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Strides of an operand of shape `shape` seen through the broadcast shape `target` (which has at
/// least as many axes): missing leading axes and axes of length one get stride zero.
pub fn broadcast_strides(shape: &[usize], strides: &[isize], target: &[usize]) -> Strides {
    let lead = target.len() - shape.len();
    (0..target.len())
        .map(|i| {
            if i < lead || (shape[i - lead] == 1 && target[i] != 1) {
                0
            } else {
                strides[i - lead]
            }
        })
        .collect()
}

/// Walks the multi-indices of a batch shape in row-major order and yields, for each, the element
/// offsets of `N` operands (each with its own strides over the batch axes). Starting at an
/// arbitrary flat position lets parallel workers each take a contiguous range of the batch.
pub struct BatchOffsets<'s, const N: usize> {
    shape: &'s [usize],
    strides: [&'s [isize]; N],
    index: Dims,
    offsets: [isize; N],
    remaining: usize,
}

impl<'s, const N: usize> BatchOffsets<'s, N> {
    /// Offsets for the flat batch positions `start..start + count`.
    pub fn new(shape: &'s [usize], strides: [&'s [isize]; N], start: usize, count: usize) -> Self {
        let mut index: Dims = smallvec::smallvec![0usize; shape.len()];
        let mut rest = start;
        for (i, &n) in index.iter_mut().zip(shape).rev() {
            if n > 0 {
                *i = rest % n;
                rest /= n;
            }
        }
        let offsets = core::array::from_fn(|k| offset_of(&index, strides[k]));
        Self { shape, strides, index, offsets, remaining: count }
    }
}

impl<const N: usize> Iterator for BatchOffsets<'_, N> {
    type Item = [isize; N];

    #[inline]
    fn next(&mut self) -> Option<[isize; N]> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let current = self.offsets;
        if self.remaining > 0 && self.shape.len() == 1 {
            // one axis (a plain stack): a valid range never wraps, so no carry and no index
            // (`index` is not read again)
            for k in 0..N {
                self.offsets[k] += self.strides[k][0];
            }
        } else if self.remaining > 0 {
            // odometer step: bump the last axis, carrying into earlier ones
            for d in (0..self.shape.len()).rev() {
                self.index[d] += 1;
                for k in 0..N {
                    self.offsets[k] += self.strides[k][d];
                }
                if self.index[d] < self.shape[d] {
                    break;
                }
                for k in 0..N {
                    self.offsets[k] -= self.strides[k][d] * self.shape[d] as isize;
                }
                self.index[d] = 0;
            }
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[3, 1, 5], &[4, 5]).unwrap().as_slice(), &[3, 4, 5]);
        assert_eq!(broadcast_shapes(&[], &[2]).unwrap().as_slice(), &[2]);
        assert_eq!(broadcast_shapes(&[0], &[1]).unwrap().as_slice(), &[0]);
        assert_eq!(broadcast_shapes(&[2], &[3]), None);
        assert_eq!(broadcast_strides(&[1, 5], &[5, 1], &[3, 4, 5]).as_slice(), &[0, 0, 1]);
    }

    #[test]
    fn batch_offsets_match_direct_computation() {
        let shape = [2usize, 3, 4];
        let s0 = [12isize, 4, 1];
        let s1 = [0isize, -5, 7];
        let all: Vec<[isize; 2]> = BatchOffsets::new(&shape, [&s0, &s1], 0, 24).collect();
        let mut k = 0;
        for i in 0..2 {
            for j in 0..3 {
                for l in 0..4 {
                    let idx = [i, j, l];
                    assert_eq!(all[k], [offset_of(&idx, &s0), offset_of(&idx, &s1)]);
                    k += 1;
                }
            }
        }
        let tail: Vec<[isize; 2]> = BatchOffsets::new(&shape, [&s0, &s1], 17, 7).collect();
        assert_eq!(tail, all[17..]);
        assert_eq!(BatchOffsets::<1>::new(&[], [&[]], 0, 1).collect::<Vec<_>>(), vec![[0]]);
        // one axis (its step skips the odometer): a middle range, a broadcast and a negative stride
        let one: Vec<[isize; 3]> = BatchOffsets::new(&[9], [&[16], &[0], &[-3]], 4, 5).collect();
        assert_eq!(one, (4..9).map(|t| [16 * t, 0, -3 * t]).collect::<Vec<_>>());
    }
}
