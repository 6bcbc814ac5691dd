//! Vector norms over any axes, with NumPy's results, but never overflowing or underflowing where
//! the norm itself is representable.
//!
//! Sums accumulate in f64 for both dtypes, so a float32 sum of squares can neither overflow
//! (f32::MAX² fits in f64) nor lose tiny values. For float64, a 2-norm whose plain sum of squares
//! overflowed or fell into the range where squares lose precision is recomputed with the scaled
//! sum of squares of LAPACK's `nrm2`: only then is the slower, division-per-element pass paid.
//! General p-norms always use the scaled form (they pay a `powf` per element anyway).

use crate::error::{Error, Result};
use crate::reduce::{reduce, write_out, Reducer};
use crate::scalar::Real;
use crate::strided::{ArrayMut, ArrayRef};
use crate::threads::Par;

/// The `ord` of a vector norm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VectorOrd {
    /// sqrt(sum |x|²)
    Two,
    /// sum |x|
    One,
    /// max |x|
    Inf,
    /// min |x|
    NegInf,
    /// the number of non-zero elements
    Zero,
    /// (sum |x|^p)^(1/p) for any other p
    P(f64),
}

impl VectorOrd {
    pub fn from_f64(p: f64) -> Result<Self> {
        Ok(match p {
            _ if p.is_nan() => return Err(Error::Value("ord must not be NaN".into())),
            2.0 => VectorOrd::Two,
            1.0 => VectorOrd::One,
            0.0 => VectorOrd::Zero,
            f64::INFINITY => VectorOrd::Inf,
            f64::NEG_INFINITY => VectorOrd::NegInf,
            p => VectorOrd::P(p),
        })
    }
}

/// Below this, a float64 sum of squares may have lost precision to underflow (squares of
/// values under ~1e-154 are subnormal); above it, the largest terms are exact enough.
const SSQ_UNDERFLOW: f64 = f64::from_bits(123u64 << 52); // 2^-900

/// The sum, in f64, of `term(x)` over the elements: sums of squares, of magnitudes, counts.
struct SumOf<F>(F);
impl<T: Real, F: Fn(T) -> f64 + Sync> Reducer<T> for SumOf<F> {
    type Acc = f64;
    fn init(&self) -> f64 {
        0.0
    }
    #[inline(always)]
    fn update(&self, acc: f64, x: T) -> f64 {
        acc + (self.0)(x)
    }
    fn combine(&self, a: f64, b: f64) -> f64 {
        a + b
    }
}

fn square<T: Real>(x: T) -> f64 {
    x.to_f64() * x.to_f64()
}

fn magnitude<T: Real>(x: T) -> f64 {
    x.to_f64().abs()
}

/// 1 for a non-zero element (NaN included, as in NumPy), else 0.
fn non_zero<T: Real>(x: T) -> f64 {
    if x != T::ZERO { 1.0 } else { 0.0 }
}

/// LAPACK's scaled sum of squares: `scale² · ssq` is the sum of squares, with `scale` the
/// largest magnitude seen, so nothing overflows or underflows.
struct ScaledSumSq;
impl<T: Real> Reducer<T> for ScaledSumSq {
    type Acc = (f64, f64);
    fn init(&self) -> (f64, f64) {
        (0.0, 1.0)
    }
    #[inline]
    fn update(&self, (scale, ssq): (f64, f64), x: T) -> (f64, f64) {
        let ax = x.to_f64().abs();
        if ax.is_nan() {
            (f64::NAN, f64::NAN)
        } else if ax > scale {
            let r = scale / ax;
            (ax, 1.0 + ssq * r * r)
        } else if ax > 0.0 {
            let r = ax / scale;
            (scale, ssq + r * r)
        } else {
            (scale, ssq)
        }
    }
    fn combine(&self, a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
        let ((sa, qa), (sb, qb)) = (a, b);
        if sa.is_nan() || sb.is_nan() {
            (f64::NAN, f64::NAN)
        } else if sa >= sb {
            if sa == 0.0 { (0.0, 1.0) } else { (sa, qa + qb * (sb / sa) * (sb / sa)) }
        } else {
            (sb, qb + qa * (sa / sb) * (sa / sb))
        }
    }
}

fn scaled_norm((scale, ssq): (f64, f64)) -> f64 {
    if scale == f64::INFINITY { f64::INFINITY } else { scale * ssq.sqrt() }
}

/// sum |x|^p over the finite non-zero elements, kept as `scale^p · sum` with `scale` the largest
/// magnitude seen (as the scaled sum of squares), so neither huge nor tiny values overflow or
/// underflow for any p. Zeros and infinities are only flagged: |x|^p of them is 0 or inf, which
/// decides the norm alone (see [`pow_norm`]).
struct ScaledSumPow(f64);

#[derive(Clone, Copy)]
struct PowAcc {
    scale: f64,
    sum: f64,
    zero: bool,
    inf: bool,
}

impl<T: Real> Reducer<T> for ScaledSumPow {
    type Acc = PowAcc;
    fn init(&self) -> PowAcc {
        PowAcc { scale: 0.0, sum: 0.0, zero: false, inf: false }
    }
    #[inline]
    fn update(&self, acc: PowAcc, x: T) -> PowAcc {
        let ax = x.to_f64().abs();
        if ax == 0.0 {
            PowAcc { zero: true, ..acc }
        } else if ax == f64::INFINITY {
            PowAcc { inf: true, ..acc }
        } else {
            <Self as Reducer<T>>::combine(self, acc, PowAcc { scale: ax, sum: 1.0, zero: false, inf: false })
        }
    }
    fn combine(&self, a: PowAcc, b: PowAcc) -> PowAcc {
        let (zero, inf) = (a.zero || b.zero, a.inf || b.inf);
        let p = self.0;
        let (scale, sum) = if a.scale.is_nan() || b.scale.is_nan() {
            (f64::NAN, f64::NAN)
        } else if b.scale == 0.0 {
            (a.scale, a.sum)
        } else if a.scale == 0.0 {
            (b.scale, b.sum)
        } else if a.scale >= b.scale {
            (a.scale, a.sum + b.sum * (b.scale / a.scale).powf(p))
        } else {
            (b.scale, b.sum + a.sum * (a.scale / b.scale).powf(p))
        };
        PowAcc { scale, sum, zero, inf }
    }
}

/// The norm from its accumulator, with NumPy's values where zeros, infinities or nothing at all
/// decide it: for p > 0 an infinity gives inf; for p < 0 a zero gives 0 (0^p is inf, whose 1/p
/// power is 0) and a sum of nothing (no elements, or only infinities, whose |x|^p are 0) gives inf.
fn pow_norm(acc: PowAcc, p: f64) -> f64 {
    if acc.scale.is_nan() {
        f64::NAN
    } else if p > 0.0 {
        if acc.inf {
            f64::INFINITY
        } else if acc.scale == 0.0 {
            0.0
        } else {
            acc.scale * acc.sum.powf(1.0 / p)
        }
    } else if acc.zero {
        0.0
    } else if acc.scale == 0.0 {
        f64::INFINITY
    } else {
        acc.scale * acc.sum.powf(1.0 / p)
    }
}

/// max |x| (or min |x| with `MIN`), propagating NaN as NumPy's max and min do.
struct Extreme<const MIN: bool>;
impl<T: Real, const MIN: bool> Reducer<T> for Extreme<MIN> {
    type Acc = T;
    fn init(&self) -> T {
        if MIN { T::INFINITY } else { T::ZERO }
    }
    #[inline(always)]
    fn update(&self, acc: T, x: T) -> T {
        self.combine(acc, x.abs())
    }
    #[inline(always)]
    fn combine(&self, a: T, b: T) -> T {
        if a.is_nan() || b.is_nan() {
            T::NAN
        } else if (b < a) == MIN && b != a {
            b
        } else {
            a
        }
    }
}

/// The `ord` norm of `x` over `axes` (sorted, distinct, in range) into `out`, whose shape is
/// `x`'s with those axes removed.
pub fn vector_norm<T: Real>(x: &ArrayRef<T>, axes: &[usize], ord: VectorOrd, out: &mut ArrayMut<T>, par: Par) -> Result<()> {
    let kept: Vec<usize> = (0..x.ndim()).filter(|d| !axes.contains(d)).map(|d| x.shape()[d]).collect();
    if out.shape() != kept.as_slice() {
        return Err(Error::OutShape { expected: kept, got: out.shape().to_vec() });
    }
    let reduced: usize = axes.iter().map(|&d| x.shape()[d]).product();
    if reduced == 0 && ord == VectorOrd::NegInf {
        // the inf norm of an empty vector is 0 (magnitudes start at 0), as NumPy gives; the
        // minimum of nothing has no such value
        return Err(Error::Value("cannot take the -inf norm of an empty vector: the minimum of zero elements is undefined".into()));
    }
    match ord {
        VectorOrd::Two => {
            let accs = reduce(x, axes, &SumOf(square::<T>), par);
            let rescue = accs.iter().any(|&s| !(SSQ_UNDERFLOW..f64::INFINITY).contains(&s) && !s.is_nan());
            if rescue {
                let scaled = reduce(x, axes, &ScaledSumSq, par);
                let merged: Vec<f64> = accs
                    .iter()
                    .zip(&scaled)
                    .map(|(&s, &sc)| if (SSQ_UNDERFLOW..f64::INFINITY).contains(&s) || s.is_nan() { s.sqrt() } else { scaled_norm(sc) })
                    .collect();
                write_out(&merged, out, T::from_f64);
            } else {
                write_out(&accs, out, |s: f64| T::from_f64(s.sqrt()));
            }
        }
        VectorOrd::One => write_out(&reduce(x, axes, &SumOf(magnitude::<T>), par), out, T::from_f64),
        VectorOrd::Zero => write_out(&reduce(x, axes, &SumOf(non_zero::<T>), par), out, T::from_f64),
        VectorOrd::Inf => write_out(&reduce(x, axes, &Extreme::<false>, par), out, |v| v),
        VectorOrd::NegInf => write_out(&reduce(x, axes, &Extreme::<true>, par), out, |v| v),
        VectorOrd::P(p) => write_out(&reduce(x, axes, &ScaledSumPow(p), par), out, |acc| T::from_f64(pow_norm(acc, p))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threads;

    fn norm_all(x: &[f64], ord: VectorOrd) -> f64 {
        let mut out = [0.0f64];
        let v = ArrayRef::from_slice(x, &[x.len()]);
        vector_norm(&v, &[0], ord, &mut ArrayMut::from_slice(&mut out, &[]), Par::SEQ).unwrap();
        out[0]
    }

    #[test]
    fn two_norm_neither_overflows_nor_underflows() {
        assert_eq!(SSQ_UNDERFLOW, 2f64.powi(-900));
        let big = norm_all(&[1e200, 1e200], VectorOrd::Two);
        assert!((big / (2f64.sqrt() * 1e200) - 1.0).abs() < 4.0 * f64::EPSILON, "{big}");
        let tiny = norm_all(&[3e-200, 4e-200], VectorOrd::Two);
        assert!((tiny / 5e-200 - 1.0).abs() < 4.0 * f64::EPSILON, "{tiny}");
        assert_eq!(norm_all(&[0.0, 0.0], VectorOrd::Two), 0.0);
        assert!(norm_all(&[1.0, f64::NAN], VectorOrd::Two).is_nan());
        assert_eq!(norm_all(&[1.0, f64::INFINITY], VectorOrd::Two), f64::INFINITY);
        assert!(norm_all(&[f64::INFINITY, f64::NAN], VectorOrd::Two).is_nan());
    }

    #[test]
    fn orders_match_definitions() {
        let x = [3.0, -4.0, 0.0, 1.0];
        assert_eq!(norm_all(&x, VectorOrd::One), 8.0);
        assert_eq!(norm_all(&x, VectorOrd::Inf), 4.0);
        assert_eq!(norm_all(&x, VectorOrd::NegInf), 0.0);
        assert_eq!(norm_all(&x, VectorOrd::Zero), 3.0);
        let p3 = norm_all(&x, VectorOrd::P(3.0));
        assert!((p3 - (27.0f64 + 64.0 + 1.0).powf(1.0 / 3.0)).abs() < 1e-14);
        assert!(norm_all(&[1.0, f64::NAN, 5.0], VectorOrd::Inf).is_nan());
        assert_eq!(norm_all(&[], VectorOrd::Inf), 0.0);
        // general p: scaled, so huge and tiny values neither overflow nor underflow
        let want = 4f64.powf(1.0 / 3.0);
        assert!((norm_all(&[1e200; 4], VectorOrd::P(3.0)) / (want * 1e200) - 1.0).abs() < 1e-14);
        assert!((norm_all(&[1e-200; 4], VectorOrd::P(3.0)) / (want * 1e-200) - 1.0).abs() < 1e-14);
        assert!((norm_all(&[1e200; 4], VectorOrd::P(-2.0)) / 5e199 - 1.0).abs() < 1e-14);
        assert_eq!(norm_all(&[2.0, 0.0], VectorOrd::P(-1.0)), 0.0);
        assert_eq!(norm_all(&[0.0, 0.0], VectorOrd::P(3.0)), 0.0);
        assert_eq!(norm_all(&[f64::INFINITY, 2.0], VectorOrd::P(-1.0)), 2.0);
        assert_eq!(norm_all(&[], VectorOrd::P(-1.0)), f64::INFINITY);
        assert_eq!(norm_all(&[f64::INFINITY, 2.0], VectorOrd::P(3.0)), f64::INFINITY);
    }

    #[test]
    fn axes_and_threads_give_identical_results() {
        // (64, 3000) reduced over each axis, and over both, with 1 and 2 threads
        let (r, c) = (64, 3000);
        let data: Vec<f64> = (0..r * c).map(|i| ((i * 7919) % 1000) as f64 / 100.0 - 5.0).collect();
        let x = ArrayRef::from_slice(&data, &[r, c]);
        threads::set_num_threads(2);
        let pool = threads::current();
        for axes in [vec![0], vec![1], vec![0, 1]] {
            let kept: Vec<usize> = (0..2).filter(|d| !axes.contains(d)).map(|d| [r, c][d]).collect();
            let n: usize = kept.iter().product();
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            vector_norm(&x, &axes, VectorOrd::Two, &mut ArrayMut::from_slice(&mut a, &kept), Par::SEQ).unwrap();
            vector_norm(&x, &axes, VectorOrd::Two, &mut ArrayMut::from_slice(&mut b, &kept), pool.par()).unwrap();
            assert_eq!(a, b, "axes {axes:?}");
            // against a direct computation
            for (o, &got) in a.iter().enumerate() {
                let want: f64 = match axes.as_slice() {
                    [0] => (0..r).map(|i| data[i * c + o].powi(2)).sum::<f64>().sqrt(),
                    [1] => (0..c).map(|j| data[o * c + j].powi(2)).sum::<f64>().sqrt(),
                    _ => data.iter().map(|v| v * v).sum::<f64>().sqrt(),
                };
                assert!((got - want).abs() <= 1e-12 * want, "axes {axes:?}: {got} vs {want}");
            }
        }
    }
}
