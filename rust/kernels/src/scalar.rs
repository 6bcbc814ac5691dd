//! The floating-point types the kernels are generic over.

use core::fmt::Debug;

/// A real floating-point type the kernels compute in: `f32` or `f64`.
///
/// It extends faer's `RealField` (so every faer routine is callable generically) with the few
/// constants and conversions our own kernels need.
pub trait Real:
    faer::traits::RealField + Copy + Send + Sync + Debug + PartialOrd + Default + 'static
{
    /// The NumPy name of the dtype, for messages.
    const NAME: &'static str;
    const ZERO: Self;
    const ONE: Self;
    const EPSILON: Self;
    const INFINITY: Self;
    const NEG_INFINITY: Self;
    const NAN: Self;
    /// Smallest positive normal number.
    const MIN_POSITIVE: Self;
    const MAX: Self;

    fn to_f64(self) -> f64;
    fn from_f64(x: f64) -> Self;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    fn powf(self, p: Self) -> Self;
    fn is_finite(self) -> bool;
    fn is_nan(self) -> bool;
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// `self a + b` with one rounding. For code compiled with the `fma` target feature only,
    /// where it is one instruction; elsewhere it is a libm call (see [`Real::mul_add`]).
    fn fused_mul_add(self, a: Self, b: Self) -> Self;
}

macro_rules! impl_real {
    ($t:ident) => {
        impl Real for $t {
            const NAME: &'static str = stringify!($t);
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = $t::EPSILON;
            const INFINITY: Self = $t::INFINITY;
            const NEG_INFINITY: Self = $t::NEG_INFINITY;
            const NAN: Self = $t::NAN;
            const MIN_POSITIVE: Self = $t::MIN_POSITIVE;
            const MAX: Self = $t::MAX;

            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn powf(self, p: Self) -> Self {
                $t::powf(self, p)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                // `a * b + c` rather than a fused multiply-add: without a target-cpu flag the
                // fused form is a libm call, far slower than the two instructions.
                self * a + b
            }
            #[inline(always)]
            fn fused_mul_add(self, a: Self, b: Self) -> Self {
                $t::mul_add(self, a, b)
            }
        }
    };
}
impl_real!(f32);
impl_real!(f64);

/// `sqrt(a^2 + b^2)` without overflow or harmful underflow: the plain formula when the sum of
/// squares is a normal number (the common case: one square root, no division), else rescaled.
#[inline(always)]
pub(crate) fn hyp<T: Real>(a: T, b: T) -> T {
    let ss = a * a + b * b;
    if ss >= T::MIN_POSITIVE && ss <= T::MAX {
        return ss.sqrt();
    }
    let (x, y) = (a.abs(), b.abs());
    let (big, small) = if x > y { (x, y) } else { (y, x) };
    if big == T::ZERO {
        return T::ZERO;
    }
    let r = small / big;
    big * (T::ONE + r * r).sqrt()
}

/// `|mag|` with the sign of `sign` (`+` for a zero `sign`), as Fortran's `SIGN`.
#[inline(always)]
pub(crate) fn copysign<T: Real>(mag: T, sign: T) -> T {
    if sign >= T::ZERO {
        mag.abs()
    } else {
        T::ZERO - mag.abs()
    }
}
