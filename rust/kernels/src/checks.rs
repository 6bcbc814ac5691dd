//! Checks of input values shared by the decompositions and solvers.

use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::strided::ArrayRef;
use crate::threads::Par;

/// `Ok` if every element of `x` is finite, else a `Value` error naming `name` (the argument) and
/// the first non-finite element's index. The `check_finite=True` default of the solvers: a NaN
/// or inf must give an error, never a wrong answer in silence.
///
/// The array is walked row by row along its last axis; a contiguous row is checked without a
/// branch per element (`v - v` is 0 for a finite `v` and NaN otherwise, summed in 8 lanes the
/// compiler vectorizes). The element-by-element walk this replaces took 7% of a batched 32x32
/// `svdvals`.
pub fn check_finite<T: Real>(x: &ArrayRef<T>, name: &str, _par: Par) -> Result<()> {
    let (shape, strides) = (x.shape(), x.strides());
    if x.is_empty() {
        return Ok(());
    }
    let nd = shape.len();
    let (len, step) = if nd == 0 { (1, 1) } else { (shape[nd - 1], strides[nd - 1]) };
    let outer = if nd == 0 { &[][..] } else { &shape[..nd - 1] };
    let mut index = vec![0usize; outer.len()];
    loop {
        let start: isize = index.iter().zip(strides).map(|(&i, &s)| i as isize * s).sum();
        // SAFETY: the row `index` of the view, `len` elements `step` apart, lies inside it.
        let row_ok = unsafe {
            let p = x.ptr().offset(start);
            if step == 1 {
                all_finite(core::slice::from_raw_parts(p, len))
            } else {
                (0..len).all(|j| (*p.offset(j as isize * step)).is_finite())
            }
        };
        if !row_ok {
            // SAFETY: as above.
            let j = (0..len).find(|&j| unsafe { !(*x.ptr().offset(start + j as isize * step)).is_finite() }).unwrap_or(0);
            // SAFETY: as above.
            let v = unsafe { *x.ptr().offset(start + j as isize * step) };
            let mut at = index.clone();
            if nd > 0 {
                at.push(j);
            }
            return Err(Error::Value(format!(
                "{name} must not contain infs or NaNs (found {v:?} at index {at:?}); pass check_finite=False to skip this check"
            )));
        }
        let mut d = outer.len();
        loop {
            if d == 0 {
                return Ok(());
            }
            d -= 1;
            index[d] += 1;
            if index[d] < outer[d] {
                break;
            }
            index[d] = 0;
        }
    }
}

/// Whether every value of `row` is finite, without a branch per element.
fn all_finite<T: Real>(row: &[T]) -> bool {
    let mut acc = [T::ZERO; 8];
    let chunks = row.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = *a + (v - v);
        }
    }
    let mut s = tail.iter().fold(T::ZERO, |s, &v| s + (v - v));
    for a in acc {
        s = s + a;
    }
    s == T::ZERO
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_non_finite_value_in_every_position() {
        for n in [1usize, 7, 8, 9, 33] {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                for pos in 0..n * 3 {
                    let mut data = vec![1.5f64; n * 3];
                    data[pos] = bad;
                    let c = ArrayRef::from_slice(&data, &[3, n]);
                    let err = check_finite(&c, "a", Par::SEQ).unwrap_err().to_string();
                    assert!(err.contains(&format!("[{}, {}]", pos / n, pos % n)), "{err}");
                    // the transposed (strided) view
                    let t = unsafe { ArrayRef::from_raw(data.as_ptr(), &[n, 3], &[1, n as isize]) };
                    let err = check_finite(&t, "a", Par::SEQ).unwrap_err().to_string();
                    assert!(err.contains(&format!("[{}, {}]", pos % n, pos / n)), "{err}");
                }
            }
            let ok = vec![f64::MAX; n * 3];
            assert!(check_finite(&ArrayRef::from_slice(&ok, &[3, n]), "a", Par::SEQ).is_ok());
        }
        let scalar = [f64::NAN];
        assert!(check_finite(&ArrayRef::from_slice(&scalar, &[]), "a", Par::SEQ).is_err());
    }
}
