//! Helpers shared by the kernels' unit tests.

/// `len` reproducible pseudo-random values in [-0.5, 0.5) (an LCG: no dependency, same on every
/// machine).
pub fn data(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        })
        .collect()
}

/// The row-major `m x n` product of a row-major `m x k` and a row-major `k x n` matrix, by the
/// definition: the reference the product and solver kernels are checked against.
pub fn naive_matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    c
}

/// A reproducible random symmetric `n x n` matrix (row-major), entries in [-0.5, 0.5).
pub fn symmetric(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut r = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let x = r();
            a[i * n + j] = x;
            a[j * n + i] = x;
        }
    }
    a
}

/// This thread's CPU time in seconds (Linux `CLOCK_THREAD_CPUTIME_ID`), for timing tests on a
/// shared machine: other processes' load does not count.
pub(crate) fn thread_cpu_time() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clk: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: CLOCK_THREAD_CPUTIME_ID (3) writes one timespec.
    unsafe { clock_gettime(3, &mut ts) };
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

/// The comma-separated sizes in the environment variable `var` (e.g. `FL_SIZES=256,512`), else
/// `default`: how the ignored timing tests take their lists.
pub(crate) fn env_list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var).map(|v| v.split(',').map(|x| x.parse().expect("a list of sizes")).collect()).unwrap_or(default.to_vec())
}

/// The median wall time in ms of each closure over 15 interleaved rounds, for the ignored timing
/// tests: interleaving lets slow drifts of a shared machine hit every variant alike.
pub(crate) fn interleaved_medians<const K: usize>(mut fs: [&mut dyn FnMut(); K]) -> [f64; K] {
    let mut t: [Vec<f64>; K] = core::array::from_fn(|_| Vec::new());
    for _ in 0..15 {
        for (f, t) in fs.iter_mut().zip(t.iter_mut()) {
            let s = std::time::Instant::now();
            f();
            t.push(s.elapsed().as_secs_f64() * 1e3);
        }
    }
    t.map(|mut v| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[7]
    })
}
