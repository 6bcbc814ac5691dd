//! What the CPU can do, asked at run time. Kernels that gain from AVX2 and FMA are compiled twice
//! (portably, and inside a `#[target_feature(enable = "avx2,fma")]` function) and pick one with
//! [`has_avx2_fma`]; one machine always takes the same branch, so a kernel's bits do not change
//! from call to call.

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
