//! What the CPU can do, asked at run time. Kernels that gain from AVX2 and FMA are compiled twice
//! (portably, and inside a `#[target_feature(enable = "avx2,fma")]` function) and pick one with
//! [`has_avx2_fma`]; those with AVX-512 versions ask [`has_avx512`]. One machine always takes the
//! same branch, so a kernel's bits do not change from call to call.

use std::sync::atomic::{AtomicU8, Ordering};

/// Whether this CPU has AVX2 and FMA (false off x86-64; the standard library caches the answer).
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// 0: not yet known, 1: AVX-512 kernels run, 2: they do not.
static AVX512: AtomicU8 = AtomicU8::new(0);

/// Whether the AVX-512 kernels run: the CPU has AVX-512F and FMA, and the environment variable
/// `FERROLINALG_NO_AVX512` is not set to a non-empty value other than `0` (set, the AVX2 or
/// portable kernels run instead: that is how their path is tested on an AVX-512 machine).
/// Detected on the first call, then one relaxed load.
#[inline]
pub(crate) fn has_avx512() -> bool {
    match AVX512.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let yes = detect_avx512();
            AVX512.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cold]
fn detect_avx512() -> bool {
    avx512_with(std::env::var_os("FERROLINALG_NO_AVX512"))
}

/// [`detect_avx512`] given the value of `FERROLINALG_NO_AVX512`.
fn avx512_with(no_avx512: Option<std::ffi::OsString>) -> bool {
    if no_avx512.is_some_and(|v| !v.is_empty() && v != "0") {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_variable_turns_avx512_off() {
        let cpu = avx512_with(None);
        assert_eq!(avx512_with(Some("".into())), cpu);
        assert_eq!(avx512_with(Some("0".into())), cpu);
        assert!(!avx512_with(Some("1".into())));
        assert!(!avx512_with(Some("yes".into())));
        assert_eq!(has_avx512(), detect_avx512());
    }
}
