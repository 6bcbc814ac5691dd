//! Records the versions of the crates the kernels are built from (read from the workspace's
//! Cargo.lock), so `python -m ferrolinalg info` can report exactly what a wheel contains.

use std::path::Path;

/// The crates whose versions a bug report or a benchmark needs: the dense kernels (faer and its
/// GEMM and SIMD layers), the thread pool and the binding layers.
const REPORTED: [&str; 6] = ["faer", "gemm", "pulp", "rayon", "pyo3", "numpy"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let mut found = Vec::new();
    let mut name: Option<&str> = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(n), Some(v)) = (name, line.strip_prefix("version = ")) {
            if REPORTED.contains(&n) {
                found.push(format!("{n} {}", v.trim_matches('"')));
            }
            name = None;
        }
    }
    // one line, "name version;name version": parsed by the bindings' `_build_info`
    println!("cargo:rustc-env=FERROLINALG_CRATE_VERSIONS={}", found.join(";"));
}
