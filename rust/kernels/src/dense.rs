//! Dense layers: `out = act(x @ w + b)` with the bias and activation applied to each output
//! tile right after the GEMM writes it (while it is in cache), and [`Mlp`], a stack of such
//! layers run in one call.
//!
//! Tiling: the output is cut into tiles of whole rows (and of columns too when there are few
//! rows and many columns), each about [`TILE_BYTES`]: small enough to stay in cache between the
//! GEMM and the epilogue, large enough that the GEMM's per-call packing is amortised. The tiles
//! depend only on the problem's shape, never on the thread count, so results are bit-identical
//! for any number of threads. Softmax needs whole rows, so it never splits columns.

use crate::activations::{apply_rows, ActFloat, Activation};
use crate::error::{Error, Result};
use crate::gemm::{gemm_seq, worth_splitting, Mat};
use crate::gemv;
use crate::strided::{ArrayMut, ArrayRef, BatchOffsets, Dims, SendPtr};
use crate::threads::Par;
use std::sync::Mutex;

/// Rows per output tile (at most). Each GEMM call repacks the weights, so fewer, taller tiles
/// run faster; measured for a 4096 x 1024 -> 1024 float32 layer on one core (ours / NumPy's
/// matmul, two runs): 256-row tiles 1.08 and 1.14, 1024 rows 1.07 and 1.11, 2048 rows 1.04 and
/// 0.98, one tile 1.03 and 0.94. And per call, for 1024 -> 1024: 37 GF/s with 16 rows, 75 with
/// 64, 93 with 128, 110 with 256. 1024 rows keeps four tiles for two threads in that case.
const ROW_BLOCK: usize = 1024;

/// Target size of one output tile: 1024 float32 columns (512 float64) of [`ROW_BLOCK`] rows.
/// That is past L2 (2 MiB) but well within L3 (260 MiB here): a tile sized for L2 (256 rows)
/// cost more in repacked weights than the epilogue gained from L2 (the measurements above).
const TILE_BYTES: usize = 4 << 20;

/// An MLP's batch is split into row blocks (each through every layer on one thread) only if the
/// blocks have at least this many rows; smaller batches share each layer between the threads.
const LAYER_SPLIT_ROWS: usize = 256;

/// Tiles `(row block, column block)` of one layer of an MLP run layer by layer: two column
/// halves of a wide layer, else two row halves (softmax needs whole rows), else one tile; from
/// the shape alone, so results do not depend on the thread count.
fn layer_tiles<T>(m: usize, k: usize, n: usize, whole_rows: bool) -> (usize, usize) {
    if !worth_splitting::<T>(m, n, k) {
        (m.max(1), n.max(1))
    } else if n >= 128 && !whole_rows {
        (m.max(1), (n / 2).next_multiple_of(16))
    } else if m >= 32 {
        ((m / 2).next_multiple_of(16), n.max(1))
    } else {
        (m.max(1), n.max(1))
    }
}

/// How the weight matrix is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLayout {
    /// `(in, out)`: `x @ w`.
    InOut,
    /// `(out, in)` (PyTorch's `nn.Linear.weight`): `x @ w.T`, read through a transposed view.
    OutIn,
}

impl WeightLayout {
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "in_out" => Ok(WeightLayout::InOut),
            "out_in" => Ok(WeightLayout::OutIn),
            other => Err(Error::Value(format!("weight_layout must be \"in_out\" or \"out_in\", not {other:?}"))),
        }
    }
}

/// The weights of a layer as an `in x out` matrix view (transposed for `OutIn`), after checks.
fn weight_mat<T>(w: &ArrayRef<T>, layout: WeightLayout, what: &str) -> Result<Mat<T>> {
    if w.ndim() != 2 {
        return Err(Error::Value(format!("{what}: the weight must be 2-D, got shape {}", crate::error::fmt_shape(w.shape()))));
    }
    let (s, st) = (w.shape(), w.strides());
    let ptr = w.ptr() as *mut T;
    Ok(match layout {
        WeightLayout::InOut => Mat { ptr, rows: s[0], cols: s[1], rs: st[0], cs: st[1] },
        WeightLayout::OutIn => Mat { ptr, rows: s[1], cols: s[0], rs: st[1], cs: st[0] },
    })
}

/// The bias as a contiguous slice: borrowed if it is one, else copied into `keep`.
fn bias_slice<'a, T: Copy>(b: Option<&'a ArrayRef<T>>, n: usize, what: &str, keep: &'a mut Vec<T>) -> Result<&'a [T]> {
    let Some(b) = b else { return Ok(&[]) };
    if b.shape() != [n] {
        return Err(Error::Value(format!(
            "{what}: the bias has shape {} but the layer has {n} outputs",
            crate::error::fmt_shape(b.shape())
        )));
    }
    let s = b.strides()[0];
    if s == 1 || n <= 1 {
        // SAFETY: n contiguous elements of the bias view.
        return Ok(unsafe { core::slice::from_raw_parts(b.ptr(), n) });
    }
    // SAFETY: element i of the view is at i * s.
    keep.extend((0..n as isize).map(|i| unsafe { *b.ptr().offset(i * s) }));
    Ok(keep)
}

/// The rows of `x` (all axes but the last) as groups of equally spaced rows: one group when the
/// batch axes collapse into one stride (C-order and most views), else one per position of all
/// but the last batch axis. Returns (rows per group, x row stride, out row stride, offsets).
fn row_groups<T>(x: &ArrayRef<T>, out: &ArrayMut<T>) -> (usize, isize, isize, RowGroups) {
    let nd = x.ndim();
    let batch = &x.shape()[..nd - 1];
    let (xs, os) = (&x.strides()[..nd - 1], &out.strides()[..nd - 1]);
    let m: usize = batch.iter().product();
    if let (Some(a), Some(b)) = (collapse(batch, xs), collapse(batch, os)) {
        return (m, a, b, smallvec::smallvec![[0, 0]]);
    }
    let outer = &batch[..batch.len() - 1];
    let rows = batch[batch.len() - 1];
    let (xo, oo) = (&xs[..xs.len() - 1], &os[..os.len() - 1]);
    let n: usize = outer.iter().product();
    let offsets = BatchOffsets::new(outer, [xo, oo], 0, n).collect();
    (rows, xs[xs.len() - 1], os[os.len() - 1], offsets)
}

/// Offsets of each group's first row in `x` and `out` (one inline: no allocation per call).
type RowGroups = smallvec::SmallVec<[[isize; 2]; 1]>;

/// The single stride that walks the axes `shape` (with `strides`) in row-major order, if any.
fn collapse(shape: &[usize], strides: &[isize]) -> Option<isize> {
    let mut step: Option<isize> = None; // the stride the next outer axis must have
    let mut inner: Option<isize> = None;
    for (&n, &s) in shape.iter().zip(strides).rev() {
        if n == 1 {
            continue;
        }
        match step {
            None => inner = Some(s),
            Some(want) if want == s => {}
            Some(_) => return None,
        }
        step = Some(s * n as isize);
    }
    Some(inner.unwrap_or(1))
}

/// The output shape of `linear` for these operand shapes, after the checks.
pub fn linear_shape(x: &[usize], w: &[usize], layout: WeightLayout) -> Result<Dims> {
    if w.len() != 2 {
        return Err(Error::Value(format!("linear: the weight must be 2-D, got shape {}", crate::error::fmt_shape(w)))); 
    }
    let (k, n) = match layout {
        WeightLayout::InOut => (w[0], w[1]),
        WeightLayout::OutIn => (w[1], w[0]),
    };
    if x.is_empty() || x[x.len() - 1] != k {
        return Err(Error::Shape {
            what: format!(
                "linear: x's last axis must be the layer's input width {k} (weight_layout={})",
                if layout == WeightLayout::InOut { "\"in_out\": w is (in, out)" } else { "\"out_in\": w is (out, in)" }
            ),
            shapes: vec![x.to_vec(), w.to_vec()],
        });
    }
    let mut shape = Dims::from_slice(&x[..x.len() - 1]);
    shape.push(n);
    Ok(shape)
}

/// Tile sizes `(row block, column block)` for an `m x n` output of `T`, from the shape alone
/// (never the thread count, so results do not depend on it).
fn tile_sizes<T>(m: usize, n: usize, k: usize, whole_rows: bool) -> (usize, usize) {
    let size = core::mem::size_of::<T>();
    if whole_rows {
        // softmax reads each row three times: keep the tile near L2 size, but not under 64 rows
        let mb = (TILE_BYTES / (n * size).max(1)).clamp(64, 256);
        return (mb.min(m).max(1), n.max(1));
    }
    // equal row blocks of at most ROW_BLOCK rows (1536 rows: two of 768, not 1024 + 512)
    let mb = m.div_ceil(m.div_ceil(ROW_BLOCK).max(1)).next_multiple_of(16).clamp(1, m.max(1));
    let mut nb = (TILE_BYTES / (mb * size) / 64 * 64).max(256);
    // a large product with few tiles: smaller column blocks so that threads can share it
    if worth_splitting::<T>(m, n, k) && m.div_ceil(mb) * n.div_ceil(nb) < 4 {
        nb = nb.min(n.div_ceil(4).next_multiple_of(64)).max(64);
    }
    (mb, nb.min(n).max(1))
}

/// `out = act(x @ w + b)` for `x` of shape `(..., in)`, `w` `(in, out)` or `(out, in)` per
/// `layout`, `b` `(out,)` or none; `out` of shape `(..., out)`, any strides, not overlapping
/// the inputs.
pub fn linear<T: ActFloat>(
    x: &ArrayRef<T>,
    w: &ArrayRef<T>,
    layout: WeightLayout,
    b: Option<&ArrayRef<T>>,
    act: Activation,
    out: &mut ArrayMut<T>,
    par: Par,
) -> Result<()> {
    let shape = linear_shape(x.shape(), w.shape(), layout)?;
    if out.shape() != shape.as_slice() {
        return Err(Error::OutShape { expected: shape.to_vec(), got: out.shape().to_vec() });
    }
    let wm = weight_mat(w, layout, "linear")?;
    let (k, n) = (wm.rows, wm.cols);
    let mut keep = Vec::new();
    let bias = bias_slice(b, n, "linear", &mut keep)?;
    if out.is_empty() {
        return Ok(());
    }
    let (m, xrs, ors, groups) = row_groups(x, out);
    let xcs = x.strides()[x.ndim() - 1];
    let ocs = out.strides()[out.ndim() - 1];
    if m * groups.len() == 1 {
        // one row (batch 1): a stream over the weights, on two cores when they are large
        let [xo, oo] = groups[0];
        let mut scratch = Vec::<T>::with_capacity(gemv::scratch_len(k, n));
        // SAFETY: the offsets come from the views; the scratch is written before it is read
        // (row_layer's contract) and overlaps nothing.
        unsafe { gemv::row_layer(out.ptr().offset(oo), ocs, x.ptr().offset(xo), xcs, wm, bias, act, par, scratch.as_mut_ptr()) };
        return Ok(());
    }
    let (mb, nb) = tile_sizes::<T>(m, n, k, act.needs_whole_rows());
    let (nrb, ncb) = (m.div_ceil(mb), n.div_ceil(nb));
    let per_group = nrb * ncb;
    let ntasks = groups.len() * per_group;
    let (xp, op) = (SendPtr(x.ptr() as *mut T), SendPtr(out.ptr()));
    let groups = &groups;
    let weights = wm;
    let task = |t: usize, scratch: &mut Vec<T>, tile: &mut Vec<T>| {
        let wm = weights; // the whole `Mat` (which is Sync), not its raw pointer field
        let [xo, oo] = groups[t / per_group];
        let (rb, cb) = ((t % per_group) / ncb, t % ncb);
        let (r0, c0) = (rb * mb, cb * nb);
        let (rows, cols) = (mb.min(m - r0), nb.min(n - c0));
        // SAFETY: the offsets stay within the views (they come from their shapes and strides);
        // each task writes its own tile of `out`.
        unsafe {
            let a = Mat { ptr: xp.get().offset(xo + r0 as isize * xrs), rows, cols: k, rs: xrs, cs: xcs };
            let bm = Mat { ptr: wm.ptr.offset(c0 as isize * wm.cs), rows: k, cols, ..wm };
            let dst = op.get().offset(oo + r0 as isize * ors + c0 as isize * ocs);
            let bias = if bias.is_empty() { bias } else { &bias[c0..c0 + cols] };
            tile_product(dst, ors, ocs, rows, cols, a, bm, bias, act, scratch, tile);
        }
    };
    if par.is_parallel() && ntasks > 1 && worth_splitting::<T>(m * groups.len(), n, k) {
        par.for_each(ntasks, &|t| task(t, &mut Vec::new(), &mut Vec::new()));
    } else {
        let (mut scratch, mut tile) = (Vec::new(), Vec::new());
        for t in 0..ntasks {
            task(t, &mut scratch, &mut tile);
        }
    }
    Ok(())
}

/// One output tile: `dst = act(a @ b + bias)` for a `rows x cols` tile at `dst` with strides
/// `(rs, cs)`. Written in place when its rows are contiguous, else through `tile` (a contiguous
/// copy the epilogue can run on) and then copied out.
///
/// # Safety
/// As `gemm_seq`; `dst`'s tile is this call's alone.
#[allow(clippy::too_many_arguments)]
unsafe fn tile_product<T: ActFloat>(
    dst: *mut T,
    rs: isize,
    cs: isize,
    rows: usize,
    cols: usize,
    a: Mat<T>,
    b: Mat<T>,
    bias: &[T],
    act: Activation,
    scratch: &mut Vec<T>,
    tile: &mut Vec<T>,
) {
    if rows == 1 {
        // one row (the last of a batch): the vector-matrix kernels of batch 1, on this thread
        scratch.clear();
        scratch.reserve(gemv::scratch_len(a.cols, cols));
        gemv::row_layer(dst, cs, a.ptr, a.cs, b, bias, act, Par::SEQ, scratch.as_mut_ptr());
        return;
    }
    if cs == 1 || cols == 1 {
        // rows of contiguous elements (or of one element each): the epilogue runs in place
        gemm_seq(Mat { ptr: dst, rows, cols, rs, cs }, a, b, scratch);
        apply_rows(act, dst, rows, cols, rs, bias);
        return;
    }
    tile.clear();
    tile.reserve(rows * cols);
    let t = tile.as_mut_ptr();
    gemm_seq(Mat { ptr: t, rows, cols, rs: cols as isize, cs: 1 }, a, b, scratch);
    apply_rows(act, t, rows, cols, cols as isize, bias);
    for i in 0..rows {
        for j in 0..cols {
            *dst.offset(i as isize * rs + j as isize * cs) = *t.add(i * cols + j);
        }
    }
}

/// One layer of an [`Mlp`]: weights copied once into `in x out` row-major order.
#[derive(Clone, Debug)]
pub struct Layer<T> {
    w: Vec<T>,
    k: usize,
    n: usize,
    bias: Vec<T>,
    act: Activation,
}

impl<T: ActFloat> Layer<T> {
    /// A copy of the weights `w` (read per `layout`) and bias `b`; `index` names the layer in
    /// errors.
    pub fn new(w: &ArrayRef<T>, layout: WeightLayout, b: Option<&ArrayRef<T>>, act: Activation, index: usize) -> Result<Self> {
        let what = format!("layer {index}");
        let wm = weight_mat(w, layout, &what)?;
        let (k, n) = (wm.rows, wm.cols);
        let mut packed = Vec::with_capacity(k * n);
        for p in 0..k as isize {
            // SAFETY: (p, j) is within the view.
            packed.extend((0..n as isize).map(|j| unsafe { *wm.ptr.offset(p * wm.rs + j * wm.cs) }));
        }
        let mut keep = Vec::new();
        let bias = bias_slice(b, n, &what, &mut keep)?.to_vec();
        Ok(Layer { w: packed, k, n, bias, act })
    }

    pub fn in_features(&self) -> usize {
        self.k
    }
    pub fn out_features(&self) -> usize {
        self.n
    }
    pub fn activation(&self) -> Activation {
        self.act
    }
    /// The weights, `in x out` row-major.
    pub fn weight(&self) -> &[T] {
        &self.w
    }
    /// The bias (empty if none).
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// The same layer in another float type (for an input of the other dtype).
    pub fn cast<U: ActFloat>(&self) -> Layer<U> {
        let conv = |v: &[T]| v.iter().map(|x| U::from_f64(x.to_f64())).collect();
        Layer { w: conv(&self.w), k: self.k, n: self.n, bias: conv(&self.bias), act: self.act }
    }

    fn mat(&self) -> Mat<T> {
        Mat { ptr: self.w.as_ptr() as *mut T, rows: self.k, cols: self.n, rs: self.n as isize, cs: 1 }
    }
}

/// A multilayer perceptron: layers applied in order, in one call. Scratch buffers for the
/// intermediate activations come from a small pool (taken and returned per call), so callers on
/// several threads never share one and, after the first calls, nothing is allocated.
#[derive(Debug)]
pub struct Mlp<T> {
    layers: Vec<Layer<T>>,
    pool: Mutex<Vec<Vec<T>>>,
}

/// Scratch sets kept for reuse; more concurrent callers than this allocate their own.
const POOL_MAX: usize = 8;

impl<T: ActFloat> Mlp<T> {
    /// Checks that each layer's input width is the previous one's output width.
    pub fn new(layers: Vec<Layer<T>>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::Value("an MLP needs at least one layer".into()));
        }
        for (i, pair) in layers.windows(2).enumerate() {
            if pair[0].n != pair[1].k {
                return Err(Error::Value(format!(
                    "layer {} has {} inputs but layer {i} has {} outputs",
                    i + 1,
                    pair[1].k,
                    pair[0].n
                )));
            }
        }
        Ok(Mlp { layers, pool: Mutex::new(Vec::new()) })
    }

    /// The same network in another float type.
    pub fn cast<U: ActFloat>(&self) -> Mlp<U> {
        Mlp { layers: self.layers.iter().map(Layer::cast).collect(), pool: Mutex::new(Vec::new()) }
    }

    pub fn layers(&self) -> &[Layer<T>] {
        &self.layers
    }
    pub fn in_features(&self) -> usize {
        self.layers[0].k
    }
    pub fn out_features(&self) -> usize {
        self.layers[self.layers.len() - 1].n
    }

    /// `Err` naming the first layer whose weights or bias hold a NaN or inf.
    pub fn check_finite(&self) -> Result<()> {
        for (i, l) in self.layers.iter().enumerate() {
            if let Some(p) = l.w.iter().position(|v| !v.is_finite()) {
                return Err(Error::Value(format!(
                    "layer {i}: the weight holds {:?} at (in {}, out {})",
                    l.w[p],
                    p / l.n,
                    p % l.n
                )));
            }
            if let Some(p) = l.bias.iter().position(|v| !v.is_finite()) {
                return Err(Error::Value(format!("layer {i}: the bias holds {:?} at {p}", l.bias[p])));
            }
        }
        Ok(())
    }

    /// The output shape for an input of shape `x`.
    pub fn out_shape(&self, x: &[usize]) -> Result<Dims> {
        let k = self.in_features();
        if x.is_empty() || x[x.len() - 1] != k {
            return Err(Error::Shape {
                what: format!("MLP: x's last axis must be layer 0's input width {k}"),
                shapes: vec![x.to_vec()],
            });
        }
        let mut shape = Dims::from_slice(&x[..x.len() - 1]);
        shape.push(self.out_features());
        Ok(shape)
    }

    /// `out = mlp(x)` for `x` of shape `(..., in)`, `out` `(..., out)`, any strides.
    pub fn forward(&self, x: &ArrayRef<T>, out: &mut ArrayMut<T>, par: Par) -> Result<()> {
        let shape = self.out_shape(x.shape())?;
        if out.shape() != shape.as_slice() {
            return Err(Error::OutShape { expected: shape.to_vec(), got: out.shape().to_vec() });
        }
        if out.is_empty() {
            return Ok(());
        }
        let (m, xrs, ors, groups) = row_groups(x, out);
        let xcs = x.strides()[x.ndim() - 1];
        let ocs = out.strides()[out.ndim() - 1];
        let widest = self.layers.iter().map(|l| l.n).max().unwrap_or(0);
        let work: usize = self.layers.iter().map(|l| l.k * l.n).sum::<usize>().saturating_mul(m * groups.len());
        let big = work.saturating_mul(core::mem::size_of::<T>()) >= 1 << 22;
        // Each row block runs through every layer on one thread, so threads share the batch by
        // rows: a large batch of at least 2 x 64 rows is split in two or more (from the shape
        // alone, so results do not depend on the thread count).
        // Smaller batches (one group of rows) share each layer instead, see `layer_split` below.
        let layer_split = big && groups.len() == 1 && (2..2 * LAYER_SPLIT_ROWS).contains(&m);
        let mb = if big && m >= 128 && !layer_split { m.div_ceil(m.div_ceil(ROW_BLOCK / 4).max(2)).next_multiple_of(16) } else { m };
        let mb = mb.clamp(1, m.max(1));
        let parallel = par.is_parallel() && big;
        let nrb = m.div_ceil(mb);
        let ntasks = nrb * groups.len();
        // two ping-pong buffers of mb x widest per task
        let per_task = 2 * mb * widest;
        let mut buf = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
        let widest_in = self.layers.iter().map(|l| l.k).max().unwrap_or(0);
        let need = (per_task * if parallel { ntasks } else { 1 }).max(2 * widest + gemv::scratch_len(widest_in, widest));
        if buf.len() < need {
            buf.resize(need, T::ZERO);
        }
        let bp = SendPtr(buf.as_mut_ptr());
        let (xp, op) = (SendPtr(x.ptr() as *mut T), SendPtr(out.ptr()));
        let groups = &groups;
        let task = |t: usize, slot: usize, scratch: &mut Vec<T>, tile: &mut Vec<T>| {
            let [xo, oo] = groups[t / nrb];
            let r0 = (t % nrb) * mb;
            let rows = mb.min(m - r0);
            // SAFETY: each task uses its own slot of the buffer and its own rows of `out`;
            // offsets come from the views' shapes and strides.
            unsafe {
                let mut input = Mat { ptr: xp.get().offset(xo + r0 as isize * xrs), rows, cols: 0, rs: xrs, cs: xcs };
                let slots = [bp.get().add(slot * per_task), bp.get().add(slot * per_task + mb * widest)];
                let last = self.layers.len() - 1;
                for (i, l) in self.layers.iter().enumerate() {
                    input.cols = l.k;
                    let bias: &[T] = &l.bias;
                    if i == last {
                        let dst = op.get().offset(oo + r0 as isize * ors);
                        tile_product(dst, ors, ocs, rows, l.n, input, l.mat(), bias, l.act, scratch, tile);
                    } else {
                        let dst = slots[i % 2];
                        tile_product(dst, l.n as isize, 1, rows, l.n, input, l.mat(), bias, l.act, scratch, tile);
                        input = Mat { ptr: dst, rows, cols: 0, rs: l.n as isize, cs: 1 };
                    }
                }
            }
        };
        if m * groups.len() == 1 {
            // Batch 1: each layer is a stream over its weights (gemv.rs), large ones split in
            // two slabs, one per core; the caller's thread takes slab 0 and the lingering
            // helper slab 1 of every layer, so each core's L2 keeps its own slabs across calls.
            let [xo, oo] = groups[0];
            // SAFETY: one row; the layers ping-pong between the first two widths of the buffer,
            // the rest is row_layer's scratch; offsets come from the views.
            unsafe {
                let slots = [bp.get(), bp.get().add(widest)];
                let scratch = bp.get().add(2 * widest);
                let (mut input, mut ics) = (xp.get().offset(xo) as *const T, xcs);
                let last = self.layers.len() - 1;
                for (i, l) in self.layers.iter().enumerate() {
                    let (dst, dcs) = if i == last { (op.get().offset(oo), ocs) } else { (slots[i % 2], 1) };
                    gemv::row_layer(dst, dcs, input, ics, l.mat(), &l.bias, l.act, par, scratch);
                    (input, ics) = (dst, dcs);
                }
            }
        } else if layer_split {
            // A batch too small for two row blocks of LAYER_SPLIT_ROWS: the threads share each
            // layer instead (a join between layers), by columns where the layer is wide, else
            // by rows. Measured (one core, f32): 256 x 784 x 512 as two column halves runs at
            // 165 GF/s, as two 128-row halves at 149 GF/s.
            let [xo, oo] = groups[0];
            let last = self.layers.len() - 1;
            // SAFETY (pointers of this block): offsets of the views' first rows, and the two
            // m x widest halves of the buffer (sized for them above).
            let mut input = Mat { ptr: unsafe { xp.get().offset(xo) }, rows: m, cols: 0, rs: xrs, cs: xcs };
            for (i, l) in self.layers.iter().enumerate() {
                input.cols = l.k;
                let (dst, drs, dcs) = if i == last {
                    (unsafe { op.get().offset(oo) }, ors, ocs)
                } else {
                    (unsafe { bp.get().add((i % 2) * m * widest) }, l.n as isize, 1)
                };
                let (rb, cb) = layer_tiles::<T>(m, l.k, l.n, l.act.needs_whole_rows());
                let ncb = l.n.div_ceil(cb);
                let ntiles = m.div_ceil(rb) * ncb;
                let (dp, inp, lm) = (SendPtr(dst), input, l.mat());
                let tile = |t: usize, scratch: &mut Vec<T>, tile: &mut Vec<T>| {
                    let (dp, inp, lm) = (dp, inp, lm); // whole Sync wrappers, not their fields
                    let (r0, c0) = ((t / ncb) * rb, (t % ncb) * cb);
                    let (rows, cols) = (rb.min(m - r0), cb.min(l.n - c0));
                    let bias: &[T] = if l.bias.is_empty() { &l.bias } else { &l.bias[c0..c0 + cols] };
                    // SAFETY: each tile writes its own rows and columns of the layer's output;
                    // offsets come from the views' shapes and strides and the buffer's size.
                    unsafe {
                        let a = Mat { ptr: inp.ptr.offset(r0 as isize * inp.rs), rows, ..inp };
                        let b = Mat { ptr: lm.ptr.offset(c0 as isize * lm.cs), cols, ..lm };
                        let d = dp.get().offset(r0 as isize * drs + c0 as isize * dcs);
                        tile_product(d, drs, dcs, rows, cols, a, b, bias, l.act, scratch, tile);
                    }
                };
                if parallel && ntiles > 1 {
                    par.for_each(ntiles, &|t| tile(t, &mut Vec::new(), &mut Vec::new()));
                } else {
                    let (mut scratch, mut t_buf) = (Vec::new(), Vec::new());
                    for t in 0..ntiles {
                        tile(t, &mut scratch, &mut t_buf);
                    }
                }
                input = Mat { ptr: dst, rows: m, cols: 0, rs: drs, cs: dcs };
            }
        } else if parallel && ntasks > 1 {
            par.for_each(ntasks, &|t| task(t, t, &mut Vec::new(), &mut Vec::new()));
        } else {
            let (mut scratch, mut tile) = (Vec::new(), Vec::new());
            for t in 0..ntasks {
                task(t, 0, &mut scratch, &mut tile);
            }
        }
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(buf);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{data, naive_matmul};
    use crate::threads;

    #[test]
    fn linear_matches_naive_with_bias_and_relu() {
        threads::set_num_threads(2);
        let pool = threads::current();
        for &(m, k, n) in &[(1, 5, 3), (7, 13, 9), (300, 40, 700), (33, 600, 900), (5, 0, 4)] {
            let x = data(m * k, 1);
            let w = data(k * n, 2);
            let b = data(n, 3);
            let want: Vec<f64> = naive_matmul(&x, &w, m, k, n).iter().enumerate().map(|(i, v)| (v + b[i % n]).max(0.0)).collect();
            for par in [Par::SEQ, pool.par()] {
                let mut out = vec![f64::NAN; m * n];
                linear(
                    &ArrayRef::from_slice(&x, &[m, k]),
                    &ArrayRef::from_slice(&w, &[k, n]),
                    WeightLayout::InOut,
                    Some(&ArrayRef::from_slice(&b, &[n])),
                    Activation::Relu,
                    &mut ArrayMut::from_slice(&mut out, &[m, n]),
                    par,
                )
                .unwrap();
                for (g, e) in out.iter().zip(&want) {
                    assert!((g - e).abs() <= 1e-12 * (k as f64 + 1.0), "{m}x{k}x{n}: {g} vs {e}");
                }
            }
        }
    }

    #[test]
    fn mlp_chains_layers_and_checks_sizes() {
        let (k, h, n) = (6, 5, 3);
        let w1 = data(k * h, 1);
        let w2 = data(h * n, 2);
        let l1 = Layer::new(&ArrayRef::from_slice(&w1, &[k, h]), WeightLayout::InOut, None, Activation::Relu, 0).unwrap();
        let l2 = Layer::new(&ArrayRef::from_slice(&w2, &[n, h]), WeightLayout::OutIn, None, Activation::Identity, 1).unwrap();
        let bad = Layer::new(&ArrayRef::from_slice(&w2, &[h, n]), WeightLayout::OutIn, None, Activation::Identity, 1).unwrap();
        let e = Mlp::new(vec![l1.clone(), bad]).unwrap_err().to_string();
        assert!(e.contains("layer 1 has 3 inputs but layer 0 has 5 outputs"), "{e}");
        let mlp = Mlp::new(vec![l1, l2]).unwrap();
        let x = data(4 * k, 3);
        let mut out = vec![0.0; 4 * n];
        mlp.forward(&ArrayRef::from_slice(&x, &[4, k]), &mut ArrayMut::from_slice(&mut out, &[4, n]), Par::SEQ).unwrap();
        let hid: Vec<f64> = naive_matmul(&x, &w1, 4, k, h).iter().map(|v| v.max(0.0)).collect();
        let w2t: Vec<f64> = (0..h * n).map(|i| w2[(i % n) * h + i / n]).collect();
        let want = naive_matmul(&hid, &w2t, 4, h, n);
        for (g, e) in out.iter().zip(&want) {
            assert!((g - e).abs() < 1e-12);
        }
    }
}
