//! What the extension was built with and what it finds at run time, for
//! `python -m ferrolinalg info`.

use ferrolinalg_kernels::threads;
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_build_info, m)?)?;
    Ok(())
}

/// The SIMD instruction sets this CPU offers that the kernels can use. faer picks its kernels
/// at run time from these (its `pulp` layer dispatches on AVX-512, then AVX2+FMA, then SSE), so
/// a wheel built for the baseline still runs the widest kernels the machine has.
fn cpu_features() -> Vec<&'static str> {
    let mut found = Vec::new();
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        macro_rules! probe {
            ($($f:tt),*) => { $( if std::is_x86_feature_detected!($f) { found.push($f); } )* };
        }
        probe!("sse4.2", "avx", "avx2", "fma", "avx512f", "avx512vl", "avx512dq");
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            found.push("neon");
        }
    }
    found
}

/// Versions of the crates inside, the CPU features in use and the thread settings.
#[pyfunction]
fn _build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    let crates = PyDict::new(py);
    for entry in env!("FERROLINALG_CRATE_VERSIONS").split(';').filter(|e| !e.is_empty()) {
        if let Some((name, version)) = entry.split_once(' ') {
            crates.set_item(name, version)?;
        }
    }
    info.set_item("crates", crates)?;
    info.set_item("cpu_features", cpu_features())?;
    info.set_item("target", format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS))?;
    info.set_item("debug_build", cfg!(debug_assertions))?;
    info.set_item("num_threads", threads::num_threads())?;
    info.set_item("default_num_threads", threads::default_num_threads())?;
    info.set_item("env_num_threads", std::env::var("FERROLINALG_NUM_THREADS").ok())?;
    Ok(info)
}
