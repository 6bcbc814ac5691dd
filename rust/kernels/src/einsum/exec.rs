//! Running a plan: every pairwise step is one batched matrix product.
//!
//! An operand is seen as a labelled strided tensor (a label, size and stride per axis; a label
//! repeated in one operand is its diagonal, whose stride is the sum of the axes' strides; a size-1
//! axis broadcast against size `n` gets stride 0). For a pair `A`, `B`, with `keep` the labels
//! needed later (the output's and the other operands'), each label is
//! - summed in one operand only (in `A` alone and not kept): `A` is reduced over it first;
//! - batch (in both, kept), free-a (in `A` only), free-b (in `B` only), contracted (in both, not kept).
//!
//! The product is then `C[batch, fa, fb] = sum_k A[batch, fa, k] B[batch, k, fb]`: batch labels
//! keep their own strides (matmul takes any batch strides), and each of the groups fa, fb and k
//! must be addressable with a single stride in every operand holding it ("mergeable": the labels,
//! in some order, nest like the axes of a contiguous block). When a group is not, either
//! - the contracted group splits into an outer loop and a mergeable inner part:
//!   `C = sum_j A_j @ B_j` accumulated in place (no copy at all), or
//! - the operand is copied into a scratch buffer in the needed order (a transpose).
//!
//! Intermediates are laid out `[batch, fa, fb]`, so they are always mergeable; the last step writes
//! into the output when its layout allows, else into a scratch that is then copied over.
//! Anything that is not a product (one operand reduced, an elementwise product, the many-operand
//! step a memory limit can force) runs through one strided loop nest, [`direct`].

use super::parse::{labels_of, Label, LabelSet};
use super::plan::Plan;
use super::quadratic;
use crate::error::{fmt_shape, Error, Result};
use crate::gemm::{gemm_seq_with, Mat};
use crate::matmul::matmul;
use crate::scalar::Real;
use crate::strided::{ArrayMut, ArrayRef, Dims, SendPtr, Strides};
use crate::threads::Par;
use smallvec::SmallVec;

/// One axis of a labelled tensor view.
#[derive(Clone, Copy, Debug)]
struct Axis {
    label: Label,
    size: usize,
    stride: isize,
}

type Axes = SmallVec<[Axis; 8]>;
type Order = SmallVec<[Label; 8]>;

/// A labelled strided tensor: distinct labels, any strides.
#[derive(Clone, Debug)]
struct TView<T> {
    ptr: *mut T,
    axes: Axes,
}

impl<T> TView<T> {
    fn set(&self) -> LabelSet {
        self.axes.iter().fold(0, |s, a| s | (1u128 << a.label))
    }
    fn axis(&self, l: Label) -> Option<Axis> {
        self.axes.iter().copied().find(|a| a.label == l)
    }
    /// The stride of a label (0 if the tensor does not have it).
    fn stride(&self, l: Label) -> isize {
        self.axis(l).map_or(0, |a| a.stride)
    }
    fn len(&self) -> usize {
        self.axes.iter().map(|a| a.size).product()
    }
    /// The labels of `group` this tensor has (size > 1 only), by decreasing |stride|.
    fn stride_order(&self, group: LabelSet) -> Order {
        let mut axes: SmallVec<[Axis; 8]> =
            self.axes.iter().copied().filter(|a| a.size > 1 && group & (1u128 << a.label) != 0).collect();
        axes.sort_by(|x, y| y.stride.unsigned_abs().cmp(&x.stride.unsigned_abs()).then(x.label.cmp(&y.label)));
        axes.iter().map(|a| a.label).collect()
    }
    /// Whether the labels `order` (outermost first) can be addressed as one axis.
    fn mergeable(&self, order: &[Label]) -> bool {
        order.windows(2).all(|w| {
            let (o, i) = (self.axis(w[0]), self.axis(w[1]));
            match (o, i) {
                (Some(o), Some(i)) => o.stride == i.stride * i.size as isize,
                _ => false,
            }
        })
    }
    /// (size, stride) of `order` merged into one axis (the caller checked it is mergeable).
    fn merged(&self, order: &[Label]) -> (usize, isize) {
        let size = order.iter().map(|&l| self.axis(l).map_or(1, |a| a.size)).product();
        (size, order.last().map_or(0, |&l| self.stride(l)))
    }
}

/// The view of operand `t` of the plan on array `x`.
fn operand_view<T>(plan: &Plan, t: usize, x: &ArrayRef<T>) -> TView<T> {
    let mut axes = Axes::new();
    for (&l, (&d, &s)) in plan.parsed.inputs[t].iter().zip(x.shape().iter().zip(x.strides())) {
        if let Some(a) = axes.iter_mut().find(|a| a.label == l) {
            // a diagonal; a size-1 axis broadcast to the label's size contributes no stride
            // (cargo-fuzz finding: "ii,iZ" on a 1x1 and a 2x2 operand read out of bounds)
            a.stride += if d == 1 { 0 } else { s };
        } else {
            let size = plan.parsed.sizes[l as usize];
            axes.push(Axis { label: l, size, stride: if d == 1 { 0 } else { s } });
        }
    }
    TView { ptr: x.ptr() as *mut T, axes }
}

/// A new contiguous tensor with the labels `order` (outermost first).
fn alloc<T: Real>(order: &[Label], sizes: &[usize]) -> (TView<T>, Vec<T>) {
    let len = order.iter().fold(1usize, |acc, &l| acc.saturating_mul(sizes[l as usize]));
    let mut buf: Vec<T> = Vec::new();
    // a failed allocation must not abort the process: panic instead (the bindings turn it into
    // an exception); `execute` already refused intermediates larger than memory can address
    if buf.try_reserve_exact(len).is_err() {
        panic!("einsum: could not allocate a scratch tensor of {len} elements (memory_limit bounds them)");
    }
    let mut axes = Axes::new();
    let mut step = 1isize;
    for &l in order.iter().rev() {
        let size = sizes[l as usize];
        axes.push(Axis { label: l, size, stride: step });
        step *= size.max(1) as isize;
    }
    axes.reverse();
    let view = TView { ptr: buf.as_mut_ptr(), axes };
    // SAFETY: every element is written by the step that fills the buffer before it is read
    // (`direct`, `product`, `accumulate` all write every element of their target).
    unsafe { buf.set_len(len) };
    (view, buf)
}

/// Runs `plan` on `ops`, writing the result into `out` (the output's shape, any strides, not
/// overlapping an operand).
pub fn execute<T: Real>(plan: &Plan, ops: &[ArrayRef<T>], out: &mut ArrayMut<T>, par: Par) -> Result<()> {
    let shapes_ok = ops.len() == plan.shapes.len() && ops.iter().zip(&plan.shapes).all(|(x, s)| x.shape() == s.as_slice());
    if !shapes_ok {
        let got: Vec<String> = ops.iter().map(|x| fmt_shape(x.shape())).collect();
        return Err(Error::Value(format!(
            "einsum: the expression {:?} was planned for operands of shapes {} but got {}",
            plan.subscripts,
            plan.shapes_text(),
            got.join(", ")
        )));
    }
    let expected = plan.parsed.output_shape();
    if out.shape() != expected.as_slice() {
        return Err(Error::OutShape { expected, got: out.shape().to_vec() });
    }
    if out.is_empty() {
        return Ok(());
    }
    let sizes = &plan.parsed.sizes;
    let target = TView {
        ptr: out.ptr(),
        axes: plan
            .parsed
            .output
            .iter()
            .zip(out.strides())
            .map(|(&l, &s)| Axis { label: l, size: sizes[l as usize], stride: s })
            .collect(),
    };
    // an empty operand (a summed label of size 0): the sums are empty
    if ops.iter().any(|x| x.is_empty()) {
        direct::<T>(&[], &target, par);
        return Ok(());
    }
    let too_big = plan.largest_intermediate.checked_mul(core::mem::size_of::<T>()).is_none_or(|b| b > isize::MAX as usize);
    if too_big {
        return Err(Error::Value(format!(
            "einsum: the path's largest intermediate has {} elements, more than memory can hold; pass a memory_limit",
            plan.largest_intermediate
        )));
    }
    if let Some(form) = quadratic::detect(plan, ops) {
        quadratic_forms(plan, ops, &form, &target, par);
        return Ok(());
    }
    let output = plan.parsed.output_set();
    let limit = plan.memory_limit;
    // live operands, with the buffers of intermediates they own
    let mut live: Vec<(TView<T>, Option<Vec<T>>)> =
        ops.iter().enumerate().map(|(t, x)| (operand_view(plan, t, x), None)).collect();
    let nsteps = plan.path.len();
    for (k, step) in plan.path.iter().enumerate() {
        let mut desc = step.clone();
        desc.sort_unstable_by(|a, b| b.cmp(a));
        let taken: Vec<(TView<T>, Option<Vec<T>>)> = desc.iter().map(|&i| live.remove(i)).collect();
        let keep = live.iter().fold(output, |s, (v, _)| s | v.set());
        let last = k + 1 == nsteps;
        let views: Vec<&TView<T>> = taken.iter().rev().map(|(v, _)| v).collect();
        let made = if views.len() == 2 {
            let consumers: Vec<&TView<T>> = live.iter().map(|(v, _)| v).chain([&target]).collect();
            let into = if last { Dest::Target(&target) } else { Dest::New { consumers: &consumers } };
            pair(views[0], views[1], keep, into, sizes, limit, par)
        } else {
            let result = views.iter().fold(0, |s, v| s | v.set()) & keep;
            if last {
                direct(&views, &target, par);
                None
            } else {
                let order: Order = labels_of(result).collect();
                let (v, buf) = alloc::<T>(&order, sizes);
                direct(&views, &v, par);
                Some((v, buf))
            }
        };
        drop(taken);
        if let Some((v, buf)) = made {
            live.push((v, Some(buf)));
        }
    }
    Ok(())
}

/// Runs a quadratic form ([`quadratic`]) into the target.
fn quadratic_forms<T: Real>(plan: &Plan, ops: &[ArrayRef<T>], form: &quadratic::Form, target: &TView<T>, par: Par) {
    let (xv, wv) = (operand_view(plan, form.x, &ops[form.x]), operand_view(plan, form.w, &ops[form.w]));
    let i = plan.parsed.inputs[form.x][form.axis];
    let n = plan.parsed.sizes[i as usize];
    let rs = form.batch.last().map_or(0, |&(l, _)| xv.stride(l));
    let x = Mat { ptr: xv.ptr, rows: form.rows, cols: n, rs, cs: xv.stride(i) };
    let (w0, w1) = (wv.axes[0], wv.axes[1]);
    let w = Mat { ptr: wv.ptr, rows: w0.size, cols: w1.size, rs: w0.stride, cs: w1.stride };
    // the forms, laid out as x's rows: its batch labels, outermost first
    let order: Order = form.batch.iter().map(|&(l, _)| l).collect();
    let (sv, mut s) = alloc::<T>(&order, &plan.parsed.sizes);
    // SAFETY: the views address the operands' elements; `s` has `rows` elements.
    unsafe { quadratic::forms(x, w, &mut s, par) };
    direct(&[&sv], target, par);
}

/// Where a pairwise contraction writes.
enum Dest<'a, T> {
    /// The output, whose labels are exactly the kept ones.
    Target(&'a TView<T>),
    /// A new intermediate, laid out to suit the tensors that will read it (the operands still
    /// live and the output).
    New { consumers: &'a [&'a TView<T>] },
}

/// Whether an intermediate `[batch, fa, fb]` is better laid out `[batch, fb, fa]`: when the first
/// consumer holding labels of both groups runs faster through fa (its smallest fa stride is below
/// its smallest fb stride). Its next step then reads both in memory order; the product itself
/// takes either layout at the same speed (it only transposes its view). For `bi,ij,bj->b` the
/// product `ij,bi->bj` otherwise leaves `bj` column-major and the elementwise step reading it
/// against a row-major operand ran 4x slower.
fn fa_inner<T>(consumers: &[&TView<T>], fa: LabelSet, fb: LabelSet) -> bool {
    let min_stride = |x: &TView<T>, group: LabelSet| {
        x.axes.iter().filter(|a| a.size > 1 && group & (1u128 << a.label) != 0).map(|a| a.stride.unsigned_abs()).min()
    };
    consumers
        .iter()
        .find_map(|x| match (min_stride(x, fa), min_stride(x, fb)) {
            (Some(sa), Some(sb)) => Some(sa < sb),
            _ => None,
        })
        .unwrap_or(false)
}

/// Contracts `a` and `b` over the labels not in `keep`, into the output or into a new
/// intermediate, which is returned.
fn pair<T: Real>(
    a: &TView<T>,
    b: &TView<T>,
    keep: LabelSet,
    into: Dest<'_, T>,
    sizes: &[usize],
    limit: Option<usize>,
    par: Par,
) -> Option<(TView<T>, Vec<T>)> {
    let target = match into {
        Dest::Target(t) => Some(t),
        Dest::New { .. } => None,
    };
    let limit = limit.unwrap_or(usize::MAX);
    let (sa0, sb0) = (a.set(), b.set());
    // the reductions below make scratch tensors: within the memory limit, or no scratch at all
    let reduced_len = |x: &TView<T>, over: LabelSet| if over == 0 { 0 } else { group_len(x.set() & !over, sizes) };
    if reduced_len(a, sa0 & !sb0 & !keep).max(reduced_len(b, sb0 & !sa0 & !keep)) > limit {
        return finish_direct(&[a, b], (sa0 | sb0) & keep, target, sizes, par);
    }
    // labels summed in one operand only: reduce that operand first (a much smaller operand)
    let (a_red, b_red);
    let a = match sa0 & !sb0 & !keep {
        0 => a,
        only => {
            a_red = reduce(a, only, sizes, par);
            &a_red.0
        }
    };
    let b = match sb0 & !sa0 & !keep {
        0 => b,
        only => {
            b_red = reduce(b, only, sizes, par);
            &b_red.0
        }
    };
    let (sa, sb) = (a.set(), b.set());
    let big = |l: Label| sizes[l as usize] > 1;
    let filt = |s: LabelSet| labels_of(s).filter(|&l| big(l)).fold(0u128, |acc, l| acc | (1u128 << l));
    let batch = filt(sa & sb & keep);
    let con = filt(sa & sb & !keep);
    let fa = filt(sa & !sb);
    let fb = filt(sb & !sa);
    let result_set = (sa | sb) & keep;
    let (m_len, n_len, k_len) = (group_len(fa, sizes), group_len(fb, sizes), group_len(con, sizes));
    let c_len = group_len(batch, sizes) * m_len * n_len;

    // an elementwise or outer product, or a pure sum: no matrix product to speak of
    if con == 0 && (fa == 0 || fb == 0) || (m_len == 1 && n_len == 1 && k_len <= 4) {
        return finish_direct(&[a, b], result_set, target, sizes, par);
    }

    // free groups: in an order the result can follow (the target's when one is given)
    let choose = |x: &TView<T>, group: LabelSet| -> (Order, bool) {
        let own = x.stride_order(group);
        match target {
            None => (own.clone(), true),
            Some(t) => {
                let tord = t.stride_order(group);
                if t.mergeable(&tord) && (x.mergeable(&tord) || !x.mergeable(&own)) {
                    (tord, true)
                } else {
                    (own.clone(), t.mergeable(&own))
                }
            }
        }
    };
    let (fa_order, fa_t) = choose(a, fa);
    let (fb_order, fb_t) = choose(b, fb);
    let scratch_c = target.is_some() && !(fa_t && fb_t);
    // the contracted group: one order both operands can merge, or a loop over its outer labels
    let ka = a.stride_order(con);
    let kb = b.stride_order(con);
    let mut k_order = ka.clone();
    let mut loop_labels: Order = Order::new();
    if !(a.mergeable(&ka) && b.mergeable(&ka)) {
        if a.mergeable(&kb) && b.mergeable(&kb) {
            k_order = kb.clone();
        } else {
            // the longest inner run of a's order that both can merge
            let mut split = ka.len();
            for s in 0..ka.len() {
                if a.mergeable(&ka[s..]) && b.mergeable(&ka[s..]) {
                    split = s;
                    break;
                }
            }
            let inner: usize = ka[split..].iter().map(|&l| sizes[l as usize]).product();
            if inner >= 64 && split < ka.len() {
                loop_labels = ka[..split].iter().copied().collect();
                k_order = ka[split..].iter().copied().collect();
            }
        }
    }
    let a_ok = a.mergeable(&fa_order) && a.mergeable(&k_order);
    let b_ok = b.mergeable(&fb_order) && b.mergeable(&k_order);
    let copies = if a_ok { 0 } else { a.len() } + if b_ok { 0 } else { b.len() } + if scratch_c { c_len } else { 0 };
    if copies > limit {
        // the memory limit forbids a transposed copy: one loop nest, no scratch at all
        return finish_direct(&[a, b], result_set, target, sizes, par);
    }
    let batch_order: Order = match target {
        Some(t) => t.stride_order(batch),
        None => a.stride_order(batch),
    };
    // copy what cannot be addressed as matrices
    let (a_copy, b_copy);
    let a = if a_ok {
        a
    } else {
        let order: Order = batch_order.iter().chain(&loop_labels).chain(&fa_order).chain(&k_order).copied().collect();
        a_copy = copy_to(a, &order, sizes, par);
        &a_copy.0
    };
    let b = if b_ok {
        b
    } else {
        let order: Order = batch_order.iter().chain(&loop_labels).chain(&k_order).chain(&fb_order).copied().collect();
        b_copy = copy_to(b, &order, sizes, par);
        &b_copy.0
    };
    // where the product goes
    let full_order: Order = {
        // the result's labels: batch, fa, fb (size-1 labels first: they take no room)
        let mut o: Order = labels_of(result_set).filter(|&l| !big(l)).collect();
        o.extend(batch_order.iter().copied());
        match into {
            Dest::New { consumers } if fa_inner(consumers, fa, fb) => o.extend(fb_order.iter().chain(&fa_order).copied()),
            _ => o.extend(fa_order.iter().chain(&fb_order).copied()),
        }
        o
    };
    let (c, c_buf) = match target {
        Some(t) if !scratch_c => (t.clone(), None),
        _ => {
            let (v, buf) = alloc::<T>(&full_order, sizes);
            (v, Some(buf))
        }
    };
    if loop_labels.is_empty() {
        product(a, b, &c, &batch_order, &fa_order, &fb_order, &k_order, par);
    } else {
        accumulate(a, b, &c, &batch_order, &loop_labels, &fa_order, &fb_order, &k_order, par);
    }
    match (target, c_buf) {
        (Some(t), Some(_buf)) => {
            direct(&[&c], t, par); // scratch result copied into the target's layout
            None
        }
        (None, Some(buf)) => Some((c, buf)),
        _ => None,
    }
}

fn group_len(set: LabelSet, sizes: &[usize]) -> usize {
    labels_of(set).map(|l| sizes[l as usize]).product()
}

/// `direct` into the target, or into a new intermediate holding `result_set`.
fn finish_direct<T: Real>(
    ops: &[&TView<T>],
    result_set: LabelSet,
    target: Option<&TView<T>>,
    sizes: &[usize],
    par: Par,
) -> Option<(TView<T>, Vec<T>)> {
    match target {
        Some(t) => {
            direct(ops, t, par);
            None
        }
        None => {
            // the order of the largest operand's strides, so the loop nest reads it in order
            let mut order: Order = Order::new();
            for v in ops {
                for l in v.stride_order(result_set) {
                    if !order.contains(&l) {
                        order.push(l);
                    }
                }
            }
            let rest: Order = labels_of(result_set).filter(|l| !order.contains(l)).collect();
            order.extend(rest);
            let (v, buf) = alloc::<T>(&order, sizes);
            direct(ops, &v, par);
            Some((v, buf))
        }
    }
}

/// `x` summed over the labels `over`, as a new contiguous tensor (its labels in `x`'s order).
fn reduce<T: Real>(x: &TView<T>, over: LabelSet, sizes: &[usize], par: Par) -> (TView<T>, Vec<T>) {
    let order = x.stride_order(x.set() & !over);
    let mut order = order;
    order.extend(labels_of(x.set() & !over).filter(|&l| sizes[l as usize] <= 1));
    let (v, buf) = alloc::<T>(&order, sizes);
    direct(&[x], &v, par);
    (v, buf)
}

/// `x` copied into a new contiguous tensor with the labels `order` (plus its size-1 labels).
fn copy_to<T: Real>(x: &TView<T>, order: &[Label], sizes: &[usize], par: Par) -> (TView<T>, Vec<T>) {
    let (v, buf) = alloc::<T>(order, sizes);
    direct(&[x], &v, par);
    (v, buf)
}

/// A pair product's label groups merged into matrix dimensions: sizes `m x kk` by `kk x n`, each
/// operand's single stride per group, and the batch shape (from `c`).
struct Groups {
    m: usize,
    kk: usize,
    n: usize,
    a_ms: isize,
    a_ks: isize,
    b_ks: isize,
    b_ns: isize,
    c_ms: isize,
    c_ns: isize,
    bshape: Dims,
}

/// [`Groups`] for `c[batch, fa, fb] = a[batch, fa, k] @ b[batch, k, fb]` (the caller checked
/// that every group merges in every operand holding it).
#[allow(clippy::too_many_arguments)]
fn groups<T>(a: &TView<T>, b: &TView<T>, c: &TView<T>, batch: &[Label], fa: &[Label], fb: &[Label], k: &[Label]) -> Groups {
    let (m, a_ms) = a.merged(fa);
    let (kk, a_ks) = a.merged(k);
    let (_, b_ks) = b.merged(k);
    let (n, b_ns) = b.merged(fb);
    let (_, c_ms) = c.merged(fa);
    let (_, c_ns) = c.merged(fb);
    let bshape = batch.iter().map(|&l| c.axis(l).map_or(1, |x| x.size)).collect();
    Groups { m, kk, n, a_ms, a_ks, b_ks, b_ns, c_ms, c_ns, bshape }
}

/// The batched product `c[batch, fa, fb] = a[batch, fa, k] @ b[batch, k, fb]` through `matmul`.
#[allow(clippy::too_many_arguments)]
fn product<T: Real>(
    a: &TView<T>,
    b: &TView<T>,
    c: &TView<T>,
    batch: &[Label],
    fa: &[Label],
    fb: &[Label],
    k: &[Label],
    par: Par,
) {
    let Groups { m, kk, n, a_ms, a_ks, b_ks, b_ns, c_ms, c_ns, bshape } = groups(a, b, c, batch, fa, fb, k);
    let strides = |v: &TView<T>, tail: [isize; 2]| -> Strides { batch.iter().map(|&l| v.stride(l)).chain(tail).collect() };
    let shape = |r: usize, s: usize| -> Dims { bshape.iter().copied().chain([r, s]).collect() };
    // SAFETY: each view addresses only elements of its tensor (merged groups address exactly
    // the elements of the labels they stand for), which the caller keeps alive; `c` is a
    // distinct target (a fresh buffer or the output), not overlapping `a` or `b`.
    unsafe {
        let av = ArrayRef::from_raw(a.ptr, &shape(m, kk), &strides(a, [a_ms, a_ks]));
        let bv = ArrayRef::from_raw(b.ptr, &shape(kk, n), &strides(b, [b_ks, b_ns]));
        let mut cv = ArrayMut::from_raw(c.ptr, &shape(m, n), &strides(c, [c_ms, c_ns]));
        matmul(&av, &bv, &mut cv, par).expect("shapes of an einsum product agree by construction");
    }
}

/// Walks the multi-indices of `shape` (row-major) from flat position `start`, for `count`
/// positions, calling `f` with the offsets of each of the `strides` lists.
fn walk(shape: &[usize], strides: &[Strides], start: usize, count: usize, f: &mut dyn FnMut(&[isize])) {
    let nd = shape.len();
    let mut index: Dims = smallvec::smallvec![0; nd];
    let mut rest = start;
    for d in (0..nd).rev() {
        if shape[d] > 0 {
            index[d] = rest % shape[d];
            rest /= shape[d];
        }
    }
    let mut offs: SmallVec<[isize; 4]> =
        strides.iter().map(|s| index.iter().zip(s.iter()).map(|(&i, &st)| i as isize * st).sum()).collect();
    for c in 0..count {
        f(&offs);
        if c + 1 == count {
            break;
        }
        for d in (0..nd).rev() {
            index[d] += 1;
            for (o, s) in offs.iter_mut().zip(strides) {
                *o += s[d];
            }
            if index[d] < shape[d] {
                break;
            }
            for (o, s) in offs.iter_mut().zip(strides) {
                *o -= s[d] * shape[d] as isize;
            }
            index[d] = 0;
        }
    }
}

/// `c = sum over the loop labels of a_j @ b_j`: contracted labels that no order can merge in both
/// operands become an accumulation loop, so neither is copied. The loop is cut into a fixed number
/// of chunks (independent of the thread count, so results are too), each summed into its own
/// buffer (the first straight into `c`), then the buffers are added in order.
#[allow(clippy::too_many_arguments)]
fn accumulate<T: Real>(
    a: &TView<T>,
    b: &TView<T>,
    c: &TView<T>,
    batch: &[Label],
    loops: &[Label],
    fa: &[Label],
    fb: &[Label],
    k: &[Label],
    par: Par,
) {
    let Groups { m, kk, n, a_ms, a_ks, b_ks, b_ns, c_ms, c_ns, bshape } = groups(a, b, c, batch, fa, fb, k);
    let lshape: Dims = loops.iter().map(|&l| a.axis(l).map_or(1, |x| x.size)).collect();
    let nbatch: usize = bshape.iter().product();
    let nloop: usize = lshape.iter().product();
    let bstrides: [Strides; 3] = [a, b, c].map(|v| batch.iter().map(|&l| v.stride(l)).collect());
    let lstrides: [Strides; 2] = [a, b].map(|v| loops.iter().map(|&l| v.stride(l)).collect());
    const CHUNKS: usize = 8;
    // the chunking depends on the problem only, never on the thread count
    let chunks = if crate::gemm::worth_splitting::<T>(m * nbatch, n, kk * nloop) {
        CHUNKS.min(nloop)
    } else {
        1
    };
    // private accumulators, laid out [batch, m, n]
    let cell = m * n;
    let mut extra: Vec<T> = vec![T::ZERO; (chunks - 1) * nbatch * cell];
    let extra_ptr = SendPtr(extra.as_mut_ptr());
    let (ap, bp, cp) = (SendPtr(a.ptr), SendPtr(b.ptr), SendPtr(c.ptr));
    let per = nloop.div_ceil(chunks);
    let run = |chunk: usize| {
        let l0 = chunk * per;
        let l1 = (l0 + per).min(nloop);
        let mut scratch = Vec::new();
        let mut bi = 0usize;
        walk(&bshape, &bstrides, 0, nbatch, &mut |bo| {
            // SAFETY: offsets come from the tensors' own strides; chunk 0 writes `c`, others
            // their own disjoint part of `extra`; operands are only read.
            unsafe {
                let cmat = if chunk == 0 {
                    Mat { ptr: cp.get().offset(bo[2]), rows: m, cols: n, rs: c_ms, cs: c_ns }
                } else {
                    let base = extra_ptr.get().add(((chunk - 1) * nbatch + bi) * cell);
                    Mat { ptr: base, rows: m, cols: n, rs: n as isize, cs: 1 }
                };
                let mut first = true;
                walk(&lshape, &lstrides, l0, l1 - l0, &mut |lo| {
                    let am = Mat { ptr: ap.get().offset(bo[0] + lo[0]), rows: m, cols: kk, rs: a_ms, cs: a_ks };
                    let bm = Mat { ptr: bp.get().offset(bo[1] + lo[1]), rows: kk, cols: n, rs: b_ks, cs: b_ns };
                    gemm_seq_with(cmat, am, bm, !first, &mut scratch);
                    first = false;
                });
            }
            bi += 1;
        });
    };
    if chunks > 1 {
        par.for_each(chunks, &run);
        // SAFETY: `c` and `extra` are addressed within their layouts; all chunks are done.
        unsafe {
            let cm = Mat { ptr: c.ptr, rows: m, cols: n, rs: c_ms, cs: c_ns };
            let mut bi = 0usize;
            walk(&bshape, &bstrides, 0, nbatch, &mut |bo| {
                for chunk in 1..chunks {
                    let e = extra.as_ptr().add(((chunk - 1) * nbatch + bi) * cell);
                    for i in 0..m {
                        for j in 0..n {
                            *cm.ptr.offset(bo[2] + i as isize * c_ms + j as isize * c_ns) += *e.add(i * n + j);
                        }
                    }
                }
                bi += 1;
            });
        }
    } else {
        run(0);
    }
}

/// `target = sum over the labels not in target of the product of ops`, by one strided loop nest:
/// the target's positions are split across threads (each writes its own), the sum over the other
/// labels runs innermost. With no operands it fills the target with zeros.
fn direct<T: Real>(ops: &[&TView<T>], target: &TView<T>, par: Par) {
    let tset = target.set();
    let all = ops.iter().fold(0u128, |s, v| s | v.set());
    // target axes: iterate all but the last as rows, the last innermost
    let taxes: Axes = target.axes.iter().copied().filter(|a| a.size != 1).collect();
    let sum_labels: Order = {
        // the summed labels, by the first operand's strides (outermost first)
        let mut o: Order = Order::new();
        for v in ops {
            for l in v.stride_order(all & !tset) {
                if !o.contains(&l) {
                    o.push(l);
                }
            }
        }
        o
    };
    let size_of = |l: Label| ops.iter().find_map(|v| v.axis(l)).map_or(1, |a| a.size);
    let sshape: Dims = sum_labels.iter().map(|&l| size_of(l)).collect();
    let sstrides: Vec<Strides> = ops.iter().map(|v| sum_labels.iter().map(|&l| v.stride(l)).collect()).collect();
    let (row_axes, last) = match taxes.split_last() {
        Some((last, rows)) => (rows, Some(*last)),
        None => (&taxes[..], None),
    };
    let rshape: Dims = row_axes.iter().map(|a| a.size).collect();
    // strides over the row axes: target first, then each operand
    let mut rstrides: Vec<Strides> = vec![row_axes.iter().map(|a| a.stride).collect()];
    rstrides.extend(ops.iter().map(|v| row_axes.iter().map(|a| v.stride(a.label)).collect::<Strides>()));
    let (ilen, t_is) = last.map_or((1, 0), |a| (a.size, a.stride));
    let op_is: SmallVec<[isize; 4]> = ops.iter().map(|v| last.map_or(0, |a| v.stride(a.label))).collect();
    let nrows: usize = rshape.iter().product();
    let ptrs: SmallVec<[SendPtr<T>; 4]> = ops.iter().map(|v| SendPtr(v.ptr)).collect();
    let tp = SendPtr(target.ptr);
    let nops = ops.len();
    // sum outside the row when the first operand's row stride is its smallest: a reduction over
    // leading axes ('ij->j') then streams through memory instead of striding down columns
    let row_accumulate = nops > 0
        && ilen > 1
        && !sum_labels.is_empty()
        && sstrides[0].iter().zip(&sshape).all(|(s, &n)| n <= 1 || s.unsigned_abs() >= op_is[0].unsigned_abs());
    // with the sum innermost, its last label (the smallest stride) is a plain loop: a dot
    // product along contiguous memory where the strides allow
    let (sshape, sstrides, inner_sum) = if row_accumulate || sum_labels.is_empty() {
        (sshape, sstrides, None)
    } else {
        let d = sshape.len() - 1;
        let inner: (usize, SmallVec<[isize; 4]>) = (sshape[d], sstrides.iter().map(|s| s[d]).collect());
        let outer_strides: Vec<Strides> = sstrides.iter().map(|s| Strides::from_slice(&s[..d])).collect();
        (Dims::from_slice(&sshape[..d]), outer_strides, Some(inner))
    };
    let nsum: usize = sshape.iter().product();
    let run = |start: usize, count: usize| {
        let mut sum_offs: Vec<isize> = Vec::new();
        // the sum's offsets are the same for every target element: listed once per range
        // (operand-major within each position), unless the sum is too large to list
        let listed = !sshape.is_empty() && nsum <= 1 << 14;
        // one term of the sum: the product of the operands at `at[k] + so[k]`, summed along the
        // inner label if there is one
        let term = |at: &[*const T], so: &[isize]| -> T {
            // SAFETY: offsets within the operands, as everywhere in this function.
            unsafe {
                match &inner_sum {
                    None => {
                        let mut p = *at[0].offset(so[0]);
                        for k in 1..nops {
                            p *= *at[k].offset(so[k]);
                        }
                        p
                    }
                    Some((sn, ss)) => {
                        let sn = *sn;
                        if nops <= 2 && ss.iter().all(|&x| x == 1) {
                            let x = core::slice::from_raw_parts(at[0].offset(so[0]), sn);
                            let y = (nops == 2).then(|| core::slice::from_raw_parts(at[1].offset(so[1]), sn));
                            dot8(x, y)
                        } else {
                            let mut acc = T::ZERO;
                            for j in 0..sn as isize {
                                let mut p = *at[0].offset(so[0] + j * ss[0]);
                                for k in 1..nops {
                                    p *= *at[k].offset(so[k] + j * ss[k]);
                                }
                                acc += p;
                            }
                            acc
                        }
                    }
                }
            }
        };
        let zeros: SmallVec<[isize; 4]> = smallvec::smallvec![0; nops];
        if listed {
            walk(&sshape, &sstrides, 0, nsum, &mut |o| sum_offs.extend_from_slice(o));
        }
        let mut base: SmallVec<[*const T; 4]> = smallvec::smallvec![core::ptr::null(); nops];
        walk(&rshape, &rstrides, start, count, &mut |ro| {
            for k in 0..nops {
                // SAFETY: the row's offset lies within operand k (its own strides times
                // in-range indices).
                base[k] = unsafe { ptrs[k].get().offset(ro[k + 1]) as *const T };
            }
            // SAFETY (all blocks below): element offsets are in-range indices times the views'
            // strides; each target element is written by this range only; operands are read.
            let trow = unsafe { tp.get().offset(ro[0]) };
            if sum_labels.is_empty() {
                // an elementwise product (or a copy): one pass along the row
                if t_is == 1 && nops <= 2 && op_is.iter().all(|&s| s == 1) {
                    // contiguous rows: slices, which the compiler vectorises
                    // SAFETY: unit strides over `ilen` in-range elements.
                    unsafe {
                        let t = core::slice::from_raw_parts_mut(trow, ilen);
                        let x = |k: usize| core::slice::from_raw_parts(base[k], ilen);
                        match nops {
                            0 => t.fill(T::ZERO),
                            1 => t.copy_from_slice(x(0)),
                            _ => t.iter_mut().zip(x(0).iter().zip(x(1))).for_each(|(t, (&p, &q))| *t = p * q),
                        }
                    }
                    return;
                }
                // SAFETY (the loops below): `i < ilen` along the row, whose offsets the strides
                // of the views keep in range; `trow` is this task's row of the target.
                match nops {
                    0 => (0..ilen as isize).for_each(|i| unsafe { *trow.offset(i * t_is) = T::ZERO }),
                    1 => (0..ilen as isize).for_each(|i| unsafe { *trow.offset(i * t_is) = *base[0].offset(i * op_is[0]) }),
                    2 => (0..ilen as isize).for_each(|i| unsafe {
                        *trow.offset(i * t_is) = *base[0].offset(i * op_is[0]) * *base[1].offset(i * op_is[1])
                    }),
                    _ => (0..ilen as isize).for_each(|i| unsafe {
                        let mut p = *base[0].offset(i * op_is[0]);
                        for k in 1..nops {
                            p *= *base[k].offset(i * op_is[k]);
                        }
                        *trow.offset(i * t_is) = p;
                    }),
                }
                return;
            }
            if row_accumulate {
                // the summed labels outside, the row inside: each operand is read along its
                // small stride, the row of sums stays in cache
                // SAFETY: as above.
                unsafe {
                    (0..ilen as isize).for_each(|i| *trow.offset(i * t_is) = T::ZERO);
                    let unit = t_is == 1 && nops <= 2 && op_is.iter().all(|&x| x == 1);
                    let mut visit = |so: &[isize]| {
                        let at: SmallVec<[*const T; 4]> = (0..nops).map(|k| base[k].offset(so[k])).collect();
                        if unit {
                            let t = core::slice::from_raw_parts_mut(trow, ilen);
                            let x = core::slice::from_raw_parts(at[0], ilen);
                            if nops == 1 {
                                t.iter_mut().zip(x).for_each(|(t, &p)| *t += p);
                            } else {
                                let y = core::slice::from_raw_parts(at[1], ilen);
                                t.iter_mut().zip(x.iter().zip(y)).for_each(|(t, (&p, &q))| *t += p * q);
                            }
                            return;
                        }
                        for i in 0..ilen as isize {
                            let mut p = *at[0].offset(i * op_is[0]);
                            for k in 1..nops {
                                p *= *at[k].offset(i * op_is[k]);
                            }
                            *trow.offset(i * t_is) += p;
                        }
                    };
                    if listed {
                        sum_offs.chunks_exact(nops).for_each(&mut visit);
                    } else {
                        walk(&sshape, &sstrides, 0, nsum, &mut |so| visit(so));
                    }
                }
                return;
            }
            // SAFETY (this loop): as above: in-range offsets along the row, this task's target row.
            for i in 0..ilen as isize {
                let value = unsafe {
                    let at: SmallVec<[*const T; 4]> = (0..nops).map(|k| base[k].offset(i * op_is[k])).collect();
                    let mut acc = T::ZERO;
                    if sshape.is_empty() {
                        acc = term(&at, &zeros);
                    } else if listed {
                        for so in sum_offs.chunks_exact(nops) {
                            acc += term(&at, so);
                        }
                    } else {
                        walk(&sshape, &sstrides, 0, nsum, &mut |so| acc += term(&at, so));
                    }
                    acc
                };
                unsafe { *trow.offset(i * t_is) = value };
            }
        });
    };
    let work = ilen * nsum.max(1) * inner_sum.as_ref().map_or(1, |x| x.0) * ops.len().max(1);
    par.for_batch(nrows, work, &run);
}

/// `sum(x)` (with `y`: `sum(x * y)`) in eight running partial sums, which the compiler keeps in
/// vector registers; a fixed order, so the result does not depend on the thread count.
#[inline]
pub(super) fn dot8<T: Real>(x: &[T], y: Option<&[T]>) -> T {
    let mut acc = [T::ZERO; 8];
    let n8 = x.len() / 8 * 8;
    match y {
        None => {
            for c in x[..n8].chunks_exact(8) {
                for l in 0..8 {
                    acc[l] += c[l];
                }
            }
        }
        Some(y) => {
            for (c, d) in x[..n8].chunks_exact(8).zip(y[..n8].chunks_exact(8)) {
                for l in 0..8 {
                    acc[l] = c[l].mul_add(d[l], acc[l]);
                }
            }
        }
    }
    let mut tail = T::ZERO;
    for i in n8..x.len() {
        tail += y.map_or(x[i], |y| x[i] * y[i]);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::super::plan::{plan, Optimize};
    use super::*;
    use crate::strided::c_strides;
    use crate::testing::data;
    use crate::threads;

    /// einsum by definition: loops over every label.
    fn reference(subscripts: &str, shapes: &[&[usize]], datas: &[Vec<f64>]) -> Vec<f64> {
        let p = plan(subscripts, shapes, &Optimize::None, None).unwrap();
        let nl = p.parsed.sizes.len();
        let used: Vec<usize> = (0..nl).filter(|&l| p.parsed.inputs.iter().any(|t| t.contains(&(l as u8)))).collect();
        let oshape = p.parsed.output_shape();
        let mut out = vec![0.0; oshape.iter().product()];
        let ostr = c_strides(&oshape);
        let total: usize = used.iter().map(|&l| p.parsed.sizes[l]).product();
        let mut idx = vec![0usize; nl];
        for flat in 0..total {
            let mut r = flat;
            for &l in used.iter().rev() {
                idx[l] = r % p.parsed.sizes[l];
                r /= p.parsed.sizes[l];
            }
            let mut prod = 1.0;
            for (t, labels) in p.parsed.inputs.iter().enumerate() {
                let st = c_strides(shapes[t]);
                let off: isize = labels
                    .iter()
                    .enumerate()
                    .map(|(ax, &l)| if shapes[t][ax] == 1 { 0 } else { idx[l as usize] as isize * st[ax] })
                    .sum();
                prod *= datas[t][off as usize];
            }
            let o: isize = p.parsed.output.iter().enumerate().map(|(ax, &l)| idx[l as usize] as isize * ostr[ax]).sum();
            out[o as usize] += prod;
        }
        out
    }

    fn check(subscripts: &str, shapes: &[&[usize]]) {
        threads::set_num_threads(2);
        let pool = threads::current();
        let datas: Vec<Vec<f64>> = shapes.iter().enumerate().map(|(i, s)| data(s.iter().product(), i as u64 + 7)).collect();
        let want = reference(subscripts, shapes, &datas);
        for opt in [Optimize::None, Optimize::Greedy, Optimize::Optimal] {
            for limit in [None, Some(0)] {
                let p = plan(subscripts, shapes, &opt, limit).unwrap();
                let views: Vec<ArrayRef<f64>> = datas.iter().zip(shapes).map(|(d, s)| ArrayRef::from_slice(d, s)).collect();
                let oshape = p.parsed.output_shape();
                for par in [Par::SEQ, pool.par()] {
                    let mut out = vec![f64::NAN; oshape.iter().product()];
                    execute(&p, &views, &mut ArrayMut::from_slice(&mut out, &oshape), par).unwrap();
                    for (x, y) in out.iter().zip(&want) {
                        assert!((x - y).abs() <= 1e-10 * (1.0 + y.abs()), "{subscripts} {opt:?} {limit:?}: {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn corpus_matches_the_definition() {
        check("ij,jk->ik", &[&[3, 4], &[4, 5]]);
        check("ij,jk", &[&[70, 80], &[80, 90]]);
        check("ijk,kjl->il", &[&[6, 7, 80], &[80, 7, 5]]);
        check("ijk,kjl->il", &[&[6, 7, 8], &[8, 7, 5]]);
        check("bij,bjk->bik", &[&[3, 4, 5], &[3, 5, 6]]);
        check("bhqd,bhkd->bhqk", &[&[2, 3, 4, 5], &[2, 3, 6, 5]]);
        check("ij,ij->ij", &[&[3, 4], &[3, 4]]);
        check("ij,ij->", &[&[3, 4], &[3, 4]]);
        check("i,j->ij", &[&[3], &[4]]);
        check("ii->i", &[&[4, 4]]);
        check("ii", &[&[4, 4]]);
        check("iij,jk->ik", &[&[3, 3, 4], &[4, 2]]);
        check("ij,jk,kl->il", &[&[2, 3], &[3, 4], &[4, 5]]);
        check("ab,bc,cd,de->ae", &[&[5, 6], &[6, 7], &[7, 3], &[3, 8]]);
        check("bi,ij,bj->b", &[&[5, 6], &[6, 6], &[5, 6]]);
        check("...ij,...jk->...ik", &[&[2, 1, 3, 4], &[5, 4, 2]]);
        check("ijk,ikl->jl", &[&[2, 3, 4], &[2, 4, 5]]);
        check("abc,cde,ea->bd", &[&[2, 3, 4], &[4, 5, 6], &[6, 2]]);
        check(",ij->ij", &[&[], &[2, 3]]);
        check("ij,jk->ki", &[&[3, 4], &[4, 5]]);
        check("ikj,jlk->ilk", &[&[3, 4, 5], &[5, 6, 4]]);
        check("ij,jk", &[&[3, 1], &[4, 5]]);
    }
}
