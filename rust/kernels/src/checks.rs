//! Checks of input values shared by the decompositions and solvers.

use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::strided::ArrayRef;
use crate::threads::Par;

/// `Ok` if every element of `x` is finite, else a `Value` error naming `name` (the argument) and
/// the first non-finite element's index. The `check_finite=True` default of the solvers: a NaN
/// or inf must give an error, never a wrong answer in silence.
pub fn check_finite<T: Real>(x: &ArrayRef<T>, name: &str, _par: Par) -> Result<()> {
    let shape = x.shape();
    if x.is_empty() {
        return Ok(());
    }
    let mut index = vec![0usize; shape.len()];
    loop {
        // SAFETY: `index` stays within the shape.
        let v = unsafe { x.get_unchecked(&index) };
        if !v.is_finite() {
            return Err(Error::Value(format!(
                "{name} must not contain infs or NaNs (found {v:?} at index {index:?}); pass check_finite=False to skip this check"
            )));
        }
        let mut d = shape.len();
        loop {
            if d == 0 {
                return Ok(());
            }
            d -= 1;
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
}
