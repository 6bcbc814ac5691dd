//! Bindings of the dense layers: `linear` and the `_Mlp` class behind `ferrolinalg.MLP`.

use crate::convert::{float_array, into_result, view, view_mut, Float, FloatArray};
use crate::errors::{run_detached, to_pyerr};
use ferrolinalg_kernels::activations::{ActFloat, Activation};
use ferrolinalg_kernels::dense::{self, Layer, Mlp, WeightLayout};
use ferrolinalg_kernels::{threads, Error};
use numpy::prelude::*;
use numpy::{PyArray1, PyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::OnceLock;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(linear, m)?)?;
    m.add_class::<NativeMlp>()?;
    Ok(())
}

/// float32 arrays stay, anything else becomes float64 (the mixed case of the promotion rule).
fn as_f64<'py>(a: FloatArray<'py>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    match a {
        FloatArray::F64(a) => Ok(a),
        FloatArray::F32(a) => Ok(a.call_method1("astype", ("float64",))?.cast_into::<PyArrayDyn<f64>>()?),
    }
}

/// `activation(x @ w + b)`, fused: the bias and activation are applied to each output tile as
/// the matrix product produces it. `x` is `(..., in)`; `w` is `(in, out)`, or `(out, in)` with
/// `weight_layout="out_in"` (PyTorch's layout, read without a copy); `b` is `(out,)` or None.
/// Activations: None, "relu", "leaky_relu" (with `slope`), "gelu", "gelu_tanh", "silu",
/// "sigmoid", "tanh", "softmax" (over the last axis). float32 stays float32; mixed -> float64.
#[pyfunction]
#[pyo3(signature = (x, w, b=None, activation=None, *, weight_layout="in_out", slope=0.01, out=None))]
#[allow(clippy::too_many_arguments)]
fn linear<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    w: &Bound<'py, PyAny>,
    b: Option<&Bound<'py, PyAny>>,
    activation: Option<&str>,
    weight_layout: &str,
    slope: f64,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let act = Activation::from_name(activation, slope).map_err(|e| to_pyerr(py, e))?;
    let layout = WeightLayout::from_name(weight_layout).map_err(|e| to_pyerr(py, e))?;
    let (xa, wa) = (float_array(x, "x")?, float_array(w, "w")?);
    let ba = b.map(|b| float_array(b, "b")).transpose()?;
    let all_f32 = matches!(xa, FloatArray::F32(_))
        && matches!(wa, FloatArray::F32(_))
        && matches!(ba, None | Some(FloatArray::F32(_)));
    if all_f32 {
        let f32_of = |a: FloatArray<'py>| match a {
            FloatArray::F32(a) => a,
            FloatArray::F64(_) => unreachable!("checked above"),
        };
        return linear_typed(py, &f32_of(xa), &f32_of(wa), ba.map(f32_of).as_ref(), act, layout, out);
    }
    let b64 = ba.map(as_f64).transpose()?;
    linear_typed(py, &as_f64(xa)?, &as_f64(wa)?, b64.as_ref(), act, layout, out)
}

fn linear_typed<'py, T: Float + ActFloat>(
    py: Python<'py>,
    x: &Bound<'py, PyArrayDyn<T>>,
    w: &Bound<'py, PyArrayDyn<T>>,
    b: Option<&Bound<'py, PyArrayDyn<T>>>,
    act: Activation,
    layout: WeightLayout,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (xv, wv) = (view(x), view(w));
    let bv = b.map(view);
    let shape = dense::linear_shape(xv.shape(), wv.shape(), layout).map_err(|e| to_pyerr(py, e))?;
    let pool = threads::current();
    let run = |r: &Bound<'py, PyArrayDyn<T>>| {
        let mut rv = view_mut(r);
        run_detached(py, || dense::linear(&xv, &wv, layout, bv.as_ref(), act, &mut rv, pool.par()))
    };
    let mut inputs = vec![x.as_untyped(), w.as_untyped()];
    inputs.extend(b.map(|b| b.as_untyped()));
    into_result(py, &shape, out, &inputs, run)
}

enum AnyMlp {
    /// A float32 network, and its float64 copy made on the first float64 input.
    F32(Mlp<f32>, OnceLock<Mlp<f64>>),
    F64(Mlp<f64>),
}

/// A stack of dense layers run in one native call (`ferrolinalg.MLP` wraps it). Immutable after
/// construction, so calls from several Python threads at once are safe; `forward` releases the
/// GIL.
#[pyclass(frozen, name = "_Mlp", module = "ferrolinalg._core")]
struct NativeMlp {
    inner: AnyMlp,
}

/// One layer's arrays as the constructor takes them.
type LayerSpec<'py> = (Bound<'py, PyAny>, Option<Bound<'py, PyAny>>, Option<String>, f64);

fn build<'py, T: Float + ActFloat>(
    py: Python<'py>,
    specs: &[(FloatArray<'py>, Option<FloatArray<'py>>, Activation)],
    layout: WeightLayout,
    convert: impl Fn(&FloatArray<'py>) -> PyResult<Bound<'py, PyArrayDyn<T>>>,
) -> PyResult<Mlp<T>> {
    let mut layers = Vec::with_capacity(specs.len());
    for (i, (w, b, act)) in specs.iter().enumerate() {
        let w = convert(w)?;
        let b = b.as_ref().map(&convert).transpose()?;
        let bv = b.as_ref().map(view);
        layers.push(Layer::new(&view(&w), layout, bv.as_ref(), *act, i).map_err(|e| to_pyerr(py, e))?);
    }
    Mlp::new(layers).map_err(|e| to_pyerr(py, e))
}

#[pymethods]
impl NativeMlp {
    /// `layers`: a list of `(w, b, activation, slope)` (b and activation may be None), with
    /// every `w` in `weight_layout`. float32 if every array is float32, else float64.
    #[new]
    #[pyo3(signature = (layers, weight_layout="in_out"))]
    fn new<'py>(py: Python<'py>, layers: Vec<LayerSpec<'py>>, weight_layout: &str) -> PyResult<Self> {
        let layout = WeightLayout::from_name(weight_layout).map_err(|e| to_pyerr(py, e))?;
        let mut specs = Vec::with_capacity(layers.len());
        for (i, (w, b, act, slope)) in layers.iter().enumerate() {
            let act = Activation::from_name(act.as_deref(), *slope)
                .map_err(|e| to_pyerr(py, Error::Value(format!("layer {i}: {e}"))))?;
            let w = float_array(w, &format!("layer {i} weight"))?;
            let b = b.as_ref().map(|b| float_array(b, &format!("layer {i} bias"))).transpose()?;
            specs.push((w, b, act));
        }
        let all_f32 = specs.iter().all(|(w, b, _)| {
            matches!(w, FloatArray::F32(_)) && matches!(b, None | Some(FloatArray::F32(_)))
        });
        let inner = if all_f32 {
            let mlp = build::<f32>(py, &specs, layout, |a| match a {
                FloatArray::F32(a) => Ok(a.clone()),
                FloatArray::F64(_) => unreachable!("all float32"),
            })?;
            AnyMlp::F32(mlp, OnceLock::new())
        } else {
            let mlp = build::<f64>(py, &specs, layout, |a| match a {
                FloatArray::F64(a) => Ok(a.clone()),
                FloatArray::F32(a) => Ok(a.call_method1("astype", ("float64",))?.cast_into::<PyArrayDyn<f64>>()?),
            })?;
            AnyMlp::F64(mlp)
        };
        Ok(NativeMlp { inner })
    }

    /// Runs every layer on `x` (shape `(..., in_features)`); the result has shape
    /// `(..., out_features)`, or is written into `out`.
    #[pyo3(signature = (x, out=None))]
    fn forward<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>, out: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        match (&self.inner, float_array(x, "x")?) {
            (AnyMlp::F32(m, _), FloatArray::F32(x)) => forward_typed(py, m, &x, out),
            (AnyMlp::F32(m, m64), FloatArray::F64(x)) => forward_typed(py, m64.get_or_init(|| m.cast()), &x, out),
            (AnyMlp::F64(m), x) => forward_typed(py, m, &as_f64(x)?, out),
        }
    }

    /// Raises ValueError naming the first layer whose weight or bias holds a NaN or inf.
    fn check_finite(&self, py: Python<'_>) -> PyResult<()> {
        match &self.inner {
            AnyMlp::F32(m, _) => m.check_finite(),
            AnyMlp::F64(m) => m.check_finite(),
        }
        .map_err(|e| to_pyerr(py, e))
    }

    /// "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        match &self.inner {
            AnyMlp::F32(..) => "float32",
            AnyMlp::F64(_) => "float64",
        }
    }

    /// `(in_features, out_features, activation name or None, slope, has_bias)` per layer.
    fn layer_info(&self) -> Vec<(usize, usize, Option<&'static str>, f64, bool)> {
        fn info<T: ActFloat>(m: &Mlp<T>) -> Vec<(usize, usize, Option<&'static str>, f64, bool)> {
            m.layers()
                .iter()
                .map(|l| {
                    let slope = if let Activation::LeakyRelu(s) = l.activation() { s } else { 0.01 };
                    (l.in_features(), l.out_features(), l.activation().name(), slope, !l.bias().is_empty())
                })
                .collect()
        }
        match &self.inner {
            AnyMlp::F32(m, _) => info(m),
            AnyMlp::F64(m) => info(m),
        }
    }

    /// Layer `i`'s weight (a copy, `(in, out)`) and bias (or None).
    fn layer_arrays<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyTuple>> {
        fn arrays<'py, T: Float + ActFloat>(py: Python<'py>, m: &Mlp<T>, i: usize) -> PyResult<Bound<'py, PyTuple>> {
            let l = m.layers().get(i).ok_or_else(|| pyo3::exceptions::PyIndexError::new_err(format!("no layer {i}")))?;
            let w = PyArray1::from_slice(py, l.weight()).reshape([l.in_features(), l.out_features()])?;
            let b = if l.bias().is_empty() { py.None().into_bound(py) } else { PyArray1::from_slice(py, l.bias()).into_any() };
            PyTuple::new(py, [w.into_any(), b])
        }
        match &self.inner {
            AnyMlp::F32(m, _) => arrays(py, m, i),
            AnyMlp::F64(m) => arrays(py, m, i),
        }
    }
}

fn forward_typed<'py, T: Float + ActFloat>(
    py: Python<'py>,
    m: &Mlp<T>,
    x: &Bound<'py, PyArrayDyn<T>>,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let xv = view(x);
    let shape = m.out_shape(xv.shape()).map_err(|e| to_pyerr(py, e))?;
    let pool = threads::current();
    let run = |r: &Bound<'py, PyArrayDyn<T>>| {
        let mut rv = view_mut(r);
        run_detached(py, || m.forward(&xv, &mut rv, pool.par()))
    };
    into_result(py, &shape, out, &[x.as_untyped()], run)
}
