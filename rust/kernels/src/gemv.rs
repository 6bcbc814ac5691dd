//! One row times a matrix (batch-1 dense layers): `dst = act(x @ w + bias)` for a single input
//! row `x` (`1 x k`) and weights `w` (`k x n`).
//!
//! Such a product does two flops per weight and reads each weight once, so its speed is the
//! bandwidth at which the weights arrive: from L2 when a model is called over and over, from L3
//! or memory when a layer's weights were not used just before. Measured on the 2-core
//! development VM (f32 784 x 512, 1.6 MB): one core streams ~27 GB/s from L3 and ~60 GB/s from
//! L2; faer's general GEMM path reaches ~50 GB/s from L2. So the kernels here are plain
//! streams over the weights in memory order, with the bias and activation applied once the
//! row is complete, and large weights are cut into two contiguous slabs read by two cores:
//! - weights with contiguous rows (`x @ w` of a C-order `(in, out)` matrix): slabs of rows,
//!   each producing a partial sum of the whole output row (`acc += x[p] * w[p, :]`, eight rows
//!   per pass over `acc`, which stays in L1); the two partial rows are added at the end;
//! - weights with contiguous columns (PyTorch's C-order `(out, in)`, or matmul's `a @ v` of a
//!   C-order `a`): slabs of columns, each column a dot product with `x`; weights larger than the
//!   two cores' L2 caches in sixteen chunks that the threads claim as they come free.
//!
//! The slabs depend only on the shape, never on the thread count, and each is summed in a fixed
//! order, so one thread and two give the same bits. A model's weights split this way stay with
//! the core that reads them: `Par::for_each` hands task 0 to the calling thread and task 1 to
//! the lingering helper, so over repeated calls each core's L2 keeps its own slab.

use crate::activations::{apply_rows, ActFloat, Activation};
use crate::gemm::{gemm_seq, Mat};
use crate::scalar::Real;
use crate::strided::SendPtr;
use crate::threads::Par;

/// Weights of at least this many bytes are read by two threads, one slab each. Below it the
/// hand-off (about 1 µs to a lingering helper) costs more than half the stream saves: at
/// ~27 GB/s, 256 KiB take ~10 µs on one core.
pub(crate) const SPLIT_BYTES: usize = 1 << 18;

/// Slab boundaries fall on multiples of this many rows or columns.
const SLAB_ALIGN: usize = 16;

/// Column-contiguous weights of at least this many bytes, more than the two cores' L2 caches
/// hold, come from L3 or memory on every call, so no slab stays with a core: they are cut into
/// [`CHUNKS`] pieces claimed one at a time by whichever thread is free, so that a core slowed
/// for a moment (a late helper, another tenant of the host) does not leave the other idle at
/// the end. matmul's f32 4096x1024 matrix-vector product: 0.98x the time of two slabs over 41
/// interleaved blocks, 0.92x in a stretch where the host was busy.
const CHUNKED_BYTES: usize = 4 << 20;

/// Pieces of column-contiguous weights past [`CHUNKED_BYTES`] (16 and 32 measured the same; 4
/// and 8 balanced less).
const CHUNKS: usize = 16;

/// How many slabs (1 or 2) a `k x n` product of `T`s is cut into, and where the cut is, for
/// `len` rows (or columns) along the cut.
fn slabs<T>(k: usize, n: usize, len: usize) -> (usize, usize) {
    let bytes = k.saturating_mul(n).saturating_mul(core::mem::size_of::<T>());
    if bytes >= SPLIT_BYTES && len >= 2 * SLAB_ALIGN {
        (2, (len / 2).next_multiple_of(SLAB_ALIGN).min(len))
    } else {
        (1, len)
    }
}

/// Scratch elements [`row_layer`] needs for a `k x n` product.
pub(crate) fn scratch_len(k: usize, n: usize) -> usize {
    // a partial row, a contiguous copy of the output, a contiguous copy of x
    2 * n + k
}

/// `dst[j * dcs] = act(sum_p x[p * xs] * w[p, j] + bias[j])` for `j < n`: one row times a
/// `k x n` matrix `w` (any strides), with the bias (empty for none) and activation applied to
/// the finished row. Two threads of `par` share large weights (see the module docs).
///
/// # Safety
/// `x` holds `k` readable elements at stride `xs`, `w` describes readable memory, `dst` holds
/// `n` writable elements at stride `dcs` that overlap no input, `scratch` holds
/// [`scratch_len`] writable elements that overlap nothing else.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn row_layer<T: ActFloat>(
    dst: *mut T,
    dcs: isize,
    x: *const T,
    xs: isize,
    w: Mat<T>,
    bias: &[T],
    act: Activation,
    par: Par,
    scratch: *mut T,
) {
    row_product(dst, dcs, x, xs, w, par, scratch, |out, n| apply_rows(act, out, 1, n, 0, bias));
}

/// `dst[j * dcs] = finish(sum_p x[p * xs] * w[p, j])` for `j < n`: the product part of
/// [`row_layer`] (see the module docs), also matmul's kernel for one matrix-vector product.
/// `finish` gets the finished row, contiguous (in `dst` itself when it is, else in scratch),
/// and its length, before the row is copied to a strided `dst`.
///
/// # Safety
/// As [`row_layer`].
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn row_product<T: Real>(
    dst: *mut T,
    dcs: isize,
    x: *const T,
    xs: isize,
    w: Mat<T>,
    par: Par,
    scratch: *mut T,
    finish: impl FnOnce(*mut T, usize),
) {
    let (k, n) = (w.rows, w.cols);
    if n == 0 {
        return;
    }
    let out = if dcs == 1 { dst } else { scratch.add(n) };
    let part = scratch;
    if k == 0 {
        core::slice::from_raw_parts_mut(out, n).fill(T::ZERO);
    } else if w.cs == 1 {
        // rows of w contiguous: a stream of rows, cut into slabs of rows
        let (ns, k0) = slabs::<T>(k, n, k);
        let (op, pp, xp) = (SendPtr(out), SendPtr(part), SendPtr(x as *mut T));
        let slab = |s: usize| {
            let (op, pp, xp, w) = (op, pp, xp, w); // whole Sync wrappers, not their fields
            let (p0, p1) = if s == 0 { (0, k0) } else { (k0, k) };
            let acc = if s == 0 { op.get() } else { pp.get() };
            // SAFETY: rows p0..p1 of w and x; slab s writes only its own partial row.
            unsafe { vm_rows_dispatch(acc, n, xp.get().offset(p0 as isize * xs), xs, w.ptr.offset(p0 as isize * w.rs), w.rs, p1 - p0) };
        };
        run_slabs(par, ns, &slab);
        if ns == 2 {
            let (o, p) = (core::slice::from_raw_parts_mut(out, n), core::slice::from_raw_parts(part, n));
            for (o, &p) in o.iter_mut().zip(p) {
                *o += p;
            }
        }
    } else if w.rs == 1 {
        // columns of w contiguous: dot products, cut into slabs of columns
        let xc = if xs == 1 {
            x
        } else {
            let c = scratch.add(2 * n);
            for p in 0..k {
                *c.add(p) = *x.offset(p as isize * xs);
            }
            c as *const T
        };
        // each output is its own dot product, so any cut gives the same bits: weights past both
        // cores' L2 are cut finer and claimed as the threads come free (see CHUNKS)
        let (ns, c0) = slabs::<T>(k, n, n);
        let per = if ns == 2 && k * n * core::mem::size_of::<T>() >= CHUNKED_BYTES {
            n.div_ceil(CHUNKS).next_multiple_of(SLAB_ALIGN)
        } else {
            c0
        };
        let (op, xp) = (SendPtr(out), SendPtr(xc as *mut T));
        let chunk = |s: usize| {
            let (op, xp, w) = (op, xp, w);
            let (j0, j1) = (s * per, ((s + 1) * per).min(n));
            // SAFETY: columns j0..j1 of w and of the output row, this chunk's alone.
            unsafe { vm_cols_dispatch(op.get().add(j0), j1 - j0, xp.get(), w.ptr.offset(j0 as isize * w.cs), w.cs, k) };
        };
        run_slabs(par, n.div_ceil(per), &chunk);
    } else {
        // neither rows nor columns contiguous: the general product, on this thread
        let a = Mat { ptr: x as *mut T, rows: 1, cols: k, rs: 0, cs: xs };
        gemm_seq(Mat { ptr: out, rows: 1, cols: n, rs: n as isize, cs: 1 }, a, w, &mut Vec::new());
    }
    finish(out, n);
    if dcs != 1 {
        for j in 0..n {
            *dst.offset(j as isize * dcs) = *out.add(j);
        }
    }
}

/// Runs `ns` slabs (or chunks), on two threads when `par` has them.
fn run_slabs(par: Par, ns: usize, slab: &(dyn Fn(usize) + Sync)) {
    if ns > 1 && par.is_parallel() {
        par.for_each(ns, slab);
    } else {
        (0..ns).for_each(slab);
    }
}

#[inline(always)]
unsafe fn vm_rows_dispatch<T: Real>(acc: *mut T, n: usize, x: *const T, xs: isize, w: *const T, rs: isize, k: usize) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return vm_rows_avx2(acc, n, x, xs, w, rs, k);
    }
    vm_rows(acc, n, x, xs, w, rs, k)
}

#[inline(always)]
unsafe fn vm_cols_dispatch<T: Real>(out: *mut T, n: usize, x: *const T, w: *const T, cs: isize, k: usize) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return vm_cols_avx2(out, n, x, w, cs, k);
    }
    vm_cols::<T, false>(out, n, x, w, cs, k)
}

/// The same loop compiled for AVX2 (same operations, same bits: Rust never fuses `a * b + c`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn vm_rows_avx2<T: Real>(acc: *mut T, n: usize, x: *const T, xs: isize, w: *const T, rs: isize, k: usize) {
    vm_rows(acc, n, x, xs, w, rs, k)
}

/// The dot products compiled for AVX2 with fused multiply-adds. Fusing made matmul's f32
/// 4096x1024 matrix-vector product (weights from L3) 0.92x the time, interleaved in one process:
/// with each multiply-add one instruction whose load is folded in, more of the weights' loads
/// are in flight at once. One machine always takes the same path, so one thread and two still
/// give the same bits; a machine without FMA rounds each product apart.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn vm_cols_avx2<T: Real>(out: *mut T, n: usize, x: *const T, w: *const T, cs: isize, k: usize) {
    vm_cols::<T, true>(out, n, x, w, cs, k)
}

/// `acc[j] = sum_p x[p * xs] * w[p * rs + j]` for `j < n`, `p < k`: contiguous rows of `w`
/// eight at a time, each pass adding their weighted sum to `acc` (in L1), so the weights are
/// read once, in memory order.
#[inline(always)]
unsafe fn vm_rows<T: Real>(acc: *mut T, n: usize, x: *const T, xs: isize, w: *const T, rs: isize, k: usize) {
    // SAFETY (whole function): every index stays within the shapes the caller vouched for.
    let out = core::slice::from_raw_parts_mut(acc, n);
    out.fill(T::ZERO);
    let xv = |p: usize| *x.offset(p as isize * xs);
    let row = |p: usize| core::slice::from_raw_parts(w.offset(p as isize * rs), n);
    let mut p = 0;
    while p + 8 <= k {
        let xx: [T; 8] = core::array::from_fn(|i| xv(p + i));
        let r: [&[T]; 8] = core::array::from_fn(|i| row(p + i));
        for j in 0..n {
            let a = (xx[0] * r[0][j] + xx[1] * r[1][j]) + (xx[2] * r[2][j] + xx[3] * r[3][j]);
            let b = (xx[4] * r[4][j] + xx[5] * r[5][j]) + (xx[6] * r[6][j] + xx[7] * r[7][j]);
            out[j] += a + b;
        }
        p += 8;
    }
    while p < k {
        let (x0, r0) = (xv(p), row(p));
        for j in 0..n {
            out[j] += x0 * r0[j];
        }
        p += 1;
    }
}

/// Lanes of partial sums per dot product (one cache line's worth of `T`).
const LANES: usize = 16;

/// `acc + x w`, rounded once if `FUSED` (see [`vm_cols`]).
#[inline(always)]
fn madd<T: Real, const FUSED: bool>(acc: T, x: T, w: T) -> T {
    if FUSED {
        x.fused_mul_add(w, acc)
    } else {
        acc + x * w
    }
}

/// `out[j] = sum_p x[p] * w[j * cs + p]` for `j < n`: dot products of `x` (contiguous) with the
/// contiguous columns of `w`, four columns at a time, each summed in [`LANES`] partial sums
/// (vectorisable; fixed order) that are added pairwise at the end. `FUSED`: each multiply-add of
/// the partial sums rounds once (only for code compiled with the `fma` feature, where that is
/// one instruction).
#[inline(always)]
unsafe fn vm_cols<T: Real, const FUSED: bool>(out: *mut T, n: usize, x: *const T, w: *const T, cs: isize, k: usize) {
    // SAFETY (whole function): every index stays within the shapes the caller vouched for.
    let x = core::slice::from_raw_parts(x, k);
    let col = |j: usize| core::slice::from_raw_parts(w.offset(j as isize * cs), k);
    let body = k / LANES * LANES;
    let finish = |lanes: &[T; LANES], c: &[T]| {
        let mut l = *lanes;
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for i in 0..width {
                let hi = l[i + width];
                l[i] += hi;
            }
        }
        let mut s = l[0];
        for p in body..k {
            s += x[p] * c[p];
        }
        s
    };
    let xb = x[..body].chunks_exact(LANES);
    let mut j = 0;
    while j + 4 <= n {
        let (c0, c1, c2, c3) = (col(j), col(j + 1), col(j + 2), col(j + 3));
        let (mut a0, mut a1, mut a2, mut a3) = ([T::ZERO; LANES], [T::ZERO; LANES], [T::ZERO; LANES], [T::ZERO; LANES]);
        let chunks = c0[..body].chunks_exact(LANES).zip(c1[..body].chunks_exact(LANES)).zip(c2[..body].chunks_exact(LANES)).zip(c3[..body].chunks_exact(LANES));
        for (xc, (((w0, w1), w2), w3)) in xb.clone().zip(chunks) {
            for l in 0..LANES {
                a0[l] = madd::<T, FUSED>(a0[l], xc[l], w0[l]);
                a1[l] = madd::<T, FUSED>(a1[l], xc[l], w1[l]);
                a2[l] = madd::<T, FUSED>(a2[l], xc[l], w2[l]);
                a3[l] = madd::<T, FUSED>(a3[l], xc[l], w3[l]);
            }
        }
        *out.add(j) = finish(&a0, c0);
        *out.add(j + 1) = finish(&a1, c1);
        *out.add(j + 2) = finish(&a2, c2);
        *out.add(j + 3) = finish(&a3, c3);
        j += 4;
    }
    while j < n {
        let c = col(j);
        let mut a = [T::ZERO; LANES];
        for (xc, wc) in xb.clone().zip(c[..body].chunks_exact(LANES)) {
            for l in 0..LANES {
                a[l] = madd::<T, FUSED>(a[l], xc[l], wc[l]);
            }
        }
        *out.add(j) = finish(&a, c);
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{data, naive_matmul};
    use crate::threads;

    /// Both kernels (rows and columns of w contiguous) and the general fallback, with and
    /// without the two-slab split and the chunks of large weights (1030x520 f64 is past
    /// CHUNKED_BYTES), against the naive product; one and two threads give the
    /// same bits.
    #[test]
    fn row_layer_matches_naive_on_every_path() {
        threads::set_num_threads(2);
        let pool = threads::current();
        for &(k, n) in &[(1, 1), (9, 5), (37, 131), (300, 257), (513, 130), (1030, 520)] {
            let x = data(2 * k, 1);
            let w = data(k * n, 2);
            let wt: Vec<f64> = (0..k * n).map(|i| w[(i % k) * n + i / k]).collect(); // column-major
            let b = data(n, 3);
            let want: Vec<f64> = naive_matmul(&x[..k], &w, 1, k, n).iter().zip(&b).map(|(v, b)| (v + b).max(0.0)).collect();
            let spread: Vec<f64> = w.iter().flat_map(|&v| [v, f64::NAN]).collect(); // every other element
            let mats = [
                Mat { ptr: w.as_ptr() as *mut f64, rows: k, cols: n, rs: n as isize, cs: 1 },
                Mat { ptr: wt.as_ptr() as *mut f64, rows: k, cols: n, rs: 1, cs: k as isize },
                Mat { ptr: spread.as_ptr() as *mut f64, rows: k, cols: n, rs: 2 * n as isize, cs: 2 },
            ];
            let mut first: Vec<Vec<f64>> = Vec::new();
            for par in [Par::SEQ, pool.par()] {
                for (i, wm) in mats.iter().enumerate() {
                    let mut out = vec![f64::NAN; 2 * n];
                    let mut scratch = vec![f64::NAN; scratch_len(k, n)];
                    // x read at stride 2 for the last matrix; out written at stride 2
                    let (xs, xbuf) = if i == 2 { (2, (0..2 * k).map(|p| if p % 2 == 0 { x[p / 2] } else { f64::NAN }).collect::<Vec<_>>()) } else { (1, x.clone()) };
                    // SAFETY: the views describe the vectors above.
                    unsafe { row_layer(out.as_mut_ptr(), 2, xbuf.as_ptr(), xs, *wm, &b, Activation::Relu, par, scratch.as_mut_ptr()) };
                    let got: Vec<f64> = out.iter().step_by(2).cloned().collect();
                    for (g, e) in got.iter().zip(&want) {
                        assert!((g - e).abs() <= 1e-13 * k as f64, "{k}x{n} path {i}: {g} vs {e}");
                    }
                    match first.get(i) {
                        Some(f) => assert_eq!(f, &got, "{k}x{n} path {i}: 1 vs 2 threads"),
                        None => first.push(got),
                    }
                }
            }
        }
    }
    use std::arch::x86_64::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[target_feature(enable = "avx2,fma")]
    unsafe fn stream_sum(p: *const f32, len: usize) -> f32 {
        let mut acc = [_mm256_setzero_ps(); 8];
        let mut i = 0;
        while i + 64 <= len {
            for (a, v) in acc.iter_mut().enumerate() {
                *v = _mm256_add_ps(*v, _mm256_loadu_ps(p.add(i + 8 * a)));
            }
            i += 64;
        }
        let mut s = _mm256_setzero_ps();
        for a in acc {
            s = _mm256_add_ps(s, a);
        }
        let mut o = [0f32; 8];
        _mm256_storeu_ps(o.as_mut_ptr(), s);
        o.iter().sum()
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    }

    /// Runs every variant over all sets, interleaved round by round; prints median and min.
    fn compare(title: &str, mb: f64, nsets: usize, rounds: usize, vs: &mut [(&str, &mut dyn FnMut(usize))]) {
        let mut ts: Vec<Vec<f64>> = vec![Vec::new(); vs.len()];
        for r in 0..rounds + 5 {
            for (v, (_, f)) in vs.iter_mut().enumerate() {
                let t0 = std::time::Instant::now();
                for i in 0..nsets {
                    f(i);
                }
                if r >= 5 {
                    ts[v].push(t0.elapsed().as_secs_f64() / nsets as f64 * 1e6);
                }
            }
        }
        for (v, (name, _)) in vs.iter().enumerate() {
            let min = ts[v].iter().cloned().fold(f64::INFINITY, f64::min);
            let med = median(ts[v].clone());
            println!("{title}: {name:<34} median {med:6.1} us ({:5.1} GB/s)  min {min:6.1} us ({:5.1} GB/s)", mb / med * 1e3, mb / min * 1e3);
        }
    }

    #[test]
    #[ignore]
    fn timing_stream() {
        threads::set_num_threads(2);
        let pool = threads::current();
        let par = pool.par();
        let (k, n) = (784usize, 512usize);
        let len = k * n;
        let bufs: Vec<Vec<f32>> = (0..16).map(|s| (0..len).map(|i| ((i + s) % 13) as f32).collect()).collect();
        let ptrs: Vec<SendPtr<f32>> = bufs.iter().map(|b| SendPtr(b.as_ptr() as *mut f32)).collect();
        let x: Vec<f32> = (0..k).map(|i| (i % 7) as f32).collect();
        let xp = SendPtr(x.as_ptr() as *mut f32);
        let mut outs = vec![0f32; 2 * n];
        let op = SendPtr(outs.as_mut_ptr());
        let mb = (len * 4) as f64 / 1e6;
        let sink = AtomicU32::new(0);
        let wm = |i: usize| Mat { ptr: ptrs[i].get(), rows: k, cols: n, rs: n as isize, cs: 1 };
        let wt = |i: usize| Mat { ptr: ptrs[i].get(), rows: k, cols: n, rs: 1, cs: k as isize };
        let mut scr = vec![0f32; scratch_len(k, n)];
        let sp = scr.as_mut_ptr();
        for (name, nsets) in [("L3 rot16", 16usize), ("same buf", 1)] {
            let mut v1 = |i: usize| unsafe {
                sink.fetch_add(stream_sum(ptrs[i].get(), len) as u32, Ordering::Relaxed);
            };
            let mut v2 = |i: usize| {
                let p = ptrs[i];
                par.for_each(2, &|h| unsafe {
                    sink.fetch_add(stream_sum(p.get().add(h * len / 2), len / 2) as u32, Ordering::Relaxed);
                });
            };
            let mut v3 = |i: usize| unsafe { vm_rows_avx2::<f32>(op.get(), n, xp.get(), 1, ptrs[i].get(), n as isize, k) };
            let mut v5 = |i: usize| unsafe { row_layer(op.get(), 1, xp.get(), 1, wm(i), &[], Activation::Relu, Par::SEQ, sp) };
            let mut v6 = |i: usize| unsafe { row_layer(op.get(), 1, xp.get(), 1, wm(i), &[], Activation::Relu, par, sp) };
            let mut v7 = |i: usize| unsafe { row_layer(op.get(), 1, xp.get(), 1, wt(i), &[], Activation::Relu, Par::SEQ, sp) };
            let mut v8 = |i: usize| unsafe { row_layer(op.get(), 1, xp.get(), 1, wt(i), &[], Activation::Relu, par, sp) };
            let mut v9 = |i: usize| {
                let p = ptrs[i];
                par.for_each(2, &|h| unsafe {
                    let (p, xp, op) = (p, xp, op);
                    vm_rows_avx2::<f32>(op.get().add(h * n / 2), n / 2, xp.get(), 1, p.get().add(h * n / 2), n as isize, k)
                });
            };
            compare(name, mb, nsets, 60, &mut [
                ("stream 1t", &mut v1),
                ("stream 2t halves", &mut v2),
                ("vm_rows 1t", &mut v3),
                ("row_layer SEQ (2 k-slabs)", &mut v5),
                ("row_layer 2t (k-slabs)", &mut v6),
                ("row_layer dot form SEQ", &mut v7),
                ("row_layer dot form 2t", &mut v8),
                ("vm_rows 2t col halves", &mut v9),
            ]);
        }
        drop(outs);
    }

    /// The MLP of the benchmark (784-512-512-10 relu, f32) at batch 1: one thread against two.
    #[test]
    #[ignore]
    fn timing_mlp_batch1() {
        use crate::dense::{Layer, Mlp, WeightLayout};
        use crate::strided::{ArrayMut, ArrayRef};
        threads::set_num_threads(2);
        let pool = threads::current();
        let sizes = [784usize, 512, 512, 10];
        let ws: Vec<Vec<f32>> = (0..3).map(|i| data(sizes[i] * sizes[i + 1], i as u64).iter().map(|&v| v as f32).collect()).collect();
        let bs: Vec<Vec<f32>> = (0..3).map(|i| data(sizes[i + 1], 10 + i as u64).iter().map(|&v| v as f32).collect()).collect();
        let layers = (0..3)
            .map(|i| {
                let act = if i < 2 { Activation::Relu } else { Activation::Identity };
                let w = ArrayRef::from_slice(&ws[i], &[sizes[i], sizes[i + 1]]);
                let b = ArrayRef::from_slice(&bs[i], &[sizes[i + 1]]);
                Layer::new(&w, WeightLayout::InOut, Some(&b), act, i).unwrap()
            })
            .collect();
        let mlp = Mlp::new(layers).unwrap();
        let xs: Vec<Vec<f32>> = (0..16).map(|s| data(784, 100 + s).iter().map(|&v| v as f32).collect()).collect();
        let mut out = vec![0f32; 10];
        let op = SendPtr(out.as_mut_ptr());
        let par = pool.par();
        let mut seq = |i: usize| {
            let mut o = ArrayMut::from_slice(unsafe { core::slice::from_raw_parts_mut(op.get(), 10) }, &[1, 10]);
            mlp.forward(&ArrayRef::from_slice(&xs[i], &[1, 784]), &mut o, Par::SEQ).unwrap()
        };
        let mut two = |i: usize| {
            let mut o = ArrayMut::from_slice(unsafe { core::slice::from_raw_parts_mut(op.get(), 10) }, &[1, 10]);
            mlp.forward(&ArrayRef::from_slice(&xs[i], &[1, 784]), &mut o, par).unwrap()
        };
        let mb = (784 * 512 + 512 * 512 + 5120) as f64 * 4e-6;
        compare("MLP b1", mb, 16, 200, &mut [("1 thread", &mut seq), ("2 threads", &mut two)]);
    }

    /// GF/s of one thread's sequential GEMM (faer through gemm_seq) on the MLP's batch-256 shapes
    /// against a large square product.
    #[test]
    #[ignore]
    fn timing_gemm_shapes() {
        for &(m, k, n) in &[(256usize, 784usize, 512usize), (256, 784, 256), (256, 512, 256), (128, 784, 512), (256, 512, 512), (128, 512, 512), (128, 512, 10), (64, 784, 512)] {
            let a: Vec<f32> = data(m * k, 1).iter().map(|&v| v as f32).collect();
            let b: Vec<f32> = data(k * n, 2).iter().map(|&v| v as f32).collect();
            let mut c = vec![0f32; m * n];
            let mut scratch = Vec::new();
            let mut ts = Vec::new();
            for _ in 0..(if m == 2048 { 5 } else { 200 }) {
                let t0 = std::time::Instant::now();
                // SAFETY: the views describe the vectors above (row-major x @ w as the MLP does).
                unsafe {
                    gemm_seq(
                        Mat { ptr: c.as_mut_ptr(), rows: m, cols: n, rs: n as isize, cs: 1 },
                        Mat { ptr: a.as_ptr() as *mut f32, rows: m, cols: k, rs: k as isize, cs: 1 },
                        Mat { ptr: b.as_ptr() as *mut f32, rows: k, cols: n, rs: n as isize, cs: 1 },
                        &mut scratch,
                    )
                };
                ts.push(t0.elapsed().as_secs_f64());
            }
            let best = ts.iter().cloned().fold(f64::INFINITY, f64::min);
            let fl = 2.0 * (m * n * k) as f64;
            println!("gemm_seq f32 {m}x{k}x{n}: best {:.1} us = {:.0} GF/s, median {:.0} GF/s", best * 1e6, fl / best / 1e9, fl / median(ts) / 1e9);
        }
    }
}
