//! Bindings of the tensor contractions: `einsum`, `einsum_path` and `ContractExpression` (a plan
//! made once and run many times). Parsing, planning and execution live in the kernels crate.

use crate::convert::{float_array, into_result, view, view_mut, Float, FloatArray};
use numpy::PyUntypedArray;
use crate::errors::{run_detached, to_pyerr};
use ferrolinalg_kernels::einsum::{cached_plan, execute, plan as make_plan, Optimize, Plan};
use ferrolinalg_kernels::{threads, ArrayRef};
use numpy::prelude::*;
use numpy::PyArrayDyn;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PySequence, PyString, PyTuple};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_einsum, m)?)?;
    m.add_function(wrap_pyfunction!(_einsum_path, m)?)?;
    m.add_class::<ContractExpression>()?;
    Ok(())
}

/// `optimize=` as NumPy takes it: a bool, "greedy" / "optimal", `("greedy", memory_limit)` or
/// an explicit path `["einsum_path", (0, 1), ...]`. Returns the strategy and a limit if given.
fn parse_optimize(obj: Option<&Bound<'_, PyAny>>) -> PyResult<(Optimize, Option<usize>)> {
    let Some(obj) = obj else { return Ok((Optimize::Greedy, None)) };
    if obj.is_none() {
        return Ok((Optimize::Greedy, None));
    }
    if let Ok(flag) = obj.cast::<pyo3::types::PyBool>() {
        return Ok((if flag.is_true() { Optimize::Greedy } else { Optimize::None }, None));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok((strategy(&s.to_cow()?)?, None));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        if t.len() == 2 {
            if let (Ok(s), Ok(limit)) = (t.get_item(0)?.extract::<String>(), t.get_item(1)?.extract::<f64>()) {
                return Ok((strategy(&s)?, Some(limit.max(0.0) as usize)));
            }
        }
    }
    if let Ok(seq) = obj.cast::<PySequence>() {
        if seq.len()? >= 1 && seq.get_item(0)?.extract::<String>().is_ok_and(|s| s == "einsum_path") {
            let mut path = Vec::new();
            for k in 1..seq.len()? {
                path.push(seq.get_item(k)?.extract::<Vec<usize>>().map_err(|_| {
                    PyValueError::new_err(format!("einsum: path step {} is not a tuple of operand positions", k - 1))
                })?);
            }
            return Ok((Optimize::Path(path), None));
        }
    }
    Err(PyTypeError::new_err(format!(
        "einsum: optimize must be True, False, 'greedy', 'optimal', ('greedy', memory_limit) or an einsum_path list, not {}",
        obj.repr()?
    )))
}

fn strategy(s: &str) -> PyResult<Optimize> {
    match s {
        "greedy" | "auto" => Ok(Optimize::Greedy),
        "optimal" => Ok(Optimize::Optimal),
        _ => Err(PyValueError::new_err(format!("einsum: unknown optimize strategy {s:?} (use 'greedy' or 'optimal')"))),
    }
}

/// Operands converted to one float dtype (float32 only if all are).
enum Operands<'py> {
    F32(Vec<Bound<'py, PyArrayDyn<f32>>>),
    F64(Vec<Bound<'py, PyArrayDyn<f64>>>),
}

fn operands<'py>(ops: &Bound<'py, PyTuple>) -> PyResult<Operands<'py>> {
    let mut arrays = Vec::with_capacity(ops.len());
    for (i, x) in ops.iter().enumerate() {
        arrays.push(float_array(&x, &format!("operand {i}"))?);
    }
    if arrays.iter().all(|a| matches!(a, FloatArray::F32(_))) {
        return Ok(Operands::F32(
            arrays.into_iter().map(|a| if let FloatArray::F32(a) = a { a } else { unreachable!() }).collect(),
        ));
    }
    let mut out = Vec::with_capacity(arrays.len());
    for a in arrays {
        out.push(match a {
            FloatArray::F64(a) => a,
            FloatArray::F32(a) => a.call_method1("astype", ("float64",))?.cast_into::<PyArrayDyn<f64>>()?,
        });
    }
    Ok(Operands::F64(out))
}

/// Runs `plan` on typed operands: into `out` if given, else a new array. For a plan that is a
/// pure permutation or diagonal of its one operand (and no `out`), returns what Python needs to
/// make the view instead: `(array, axes)` for a transpose, `(array, shape, byte_strides)` else.
fn run_typed<'py, T: Float>(
    py: Python<'py>,
    plan: &Plan,
    arrays: &[Bound<'py, PyArrayDyn<T>>],
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let views: Vec<ArrayRef<'_, T>> = arrays.iter().map(|a| view(a)).collect();
    let shape = plan.parsed.output_shape();
    if plan.is_view && out.is_none() && !shape.is_empty() {
        let labels = &plan.parsed.inputs[0];
        let distinct = (1..labels.len()).all(|i| !labels[..i].contains(&labels[i]));
        if distinct {
            let axes: Vec<usize> =
                plan.parsed.output.iter().map(|l| labels.iter().position(|m| m == l).unwrap_or(0)).collect();
            return Ok((arrays[0].clone(), axes).into_pyobject(py)?.into_any());
        }
        let item = std::mem::size_of::<T>() as isize;
        let strides: Vec<isize> = plan
            .parsed
            .output
            .iter()
            .map(|l| labels.iter().zip(views[0].strides()).filter(|(m, _)| *m == l).map(|(_, s)| s * item).sum())
            .collect();
        return Ok((arrays[0].clone(), shape, strides).into_pyobject(py)?.into_any());
    }
    let pool = threads::current();
    let run = |r: &Bound<'py, PyArrayDyn<T>>| {
        let mut rv = view_mut(r);
        run_detached(py, || execute(plan, &views, &mut rv, pool.par()))
    };
    let inputs: Vec<&Bound<'py, PyUntypedArray>> = arrays.iter().map(|a| a.as_untyped()).collect();
    into_result(py, &shape, out, &inputs, run)
}

fn run<'py>(py: Python<'py>, plan: &Plan, ops: Operands<'py>, out: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    match ops {
        Operands::F32(a) => run_typed(py, plan, &a, out),
        Operands::F64(a) => run_typed(py, plan, &a, out),
    }
}

fn shapes_of(ops: &Operands<'_>) -> Vec<Vec<usize>> {
    match ops {
        Operands::F32(a) => a.iter().map(|x| x.shape().to_vec()).collect(),
        Operands::F64(a) => a.iter().map(|x| x.shape().to_vec()).collect(),
    }
}

fn plan_for(py: Python<'_>, subscripts: &str, shapes: &[Vec<usize>], optimize: Option<&Bound<'_, PyAny>>, memory_limit: Option<f64>) -> PyResult<Plan> {
    let (opt, limit) = parse_optimize(optimize)?;
    let limit = memory_limit.map(|m| m.max(0.0) as usize).or(limit);
    let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    make_plan(subscripts, &refs, &opt, limit).map_err(|e| to_pyerr(py, e))
}

/// einsum on operands given as a tuple; see `ferrolinalg.einsum`.
#[pyfunction]
#[pyo3(signature = (subscripts, operands, optimize=None, out=None, memory_limit=None))]
fn _einsum<'py>(
    py: Python<'py>,
    subscripts: &str,
    operands: &Bound<'py, PyTuple>,
    optimize: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    memory_limit: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let ops = self::operands(operands)?;
    let (opt, limit) = parse_optimize(optimize)?;
    let limit = memory_limit.map(|m| m.max(0.0) as usize).or(limit);
    let shapes = shapes_of(&ops);
    let refs: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
    let plan = cached_plan(subscripts, &refs, &opt, limit).map_err(|e| to_pyerr(py, e))?;
    run(py, &plan, ops, out.filter(|o| !o.is_none()))
}

/// The path as NumPy's `einsum_path` gives it: `["einsum_path", (i, j), ...]`.
fn path_list<'py>(py: Python<'py>, plan: &Plan) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::new(py, ["einsum_path"])?;
    for step in &plan.path {
        list.append(PyTuple::new(py, step)?)?;
    }
    Ok(list)
}

/// `(path, report)` for operands of the given shapes; see `ferrolinalg.einsum_path`.
#[pyfunction]
#[pyo3(signature = (subscripts, shapes, optimize=None, memory_limit=None))]
fn _einsum_path<'py>(
    py: Python<'py>,
    subscripts: &str,
    shapes: Vec<Vec<usize>>,
    optimize: Option<&Bound<'py, PyAny>>,
    memory_limit: Option<f64>,
) -> PyResult<(Bound<'py, PyList>, String, usize)> {
    let plan = plan_for(py, subscripts, &shapes, optimize, memory_limit)?;
    Ok((path_list(py, &plan)?, plan.report(), plan.largest_intermediate))
}

/// A contraction parsed, planned and shape-checked once: calling it runs the plan on operands of
/// the shapes it was made for, with no parsing or planning per call.
#[pyclass(module = "ferrolinalg._core", frozen)]
pub struct ContractExpression {
    plan: Plan,
}

#[pymethods]
impl ContractExpression {
    #[new]
    #[pyo3(signature = (subscripts, shapes, optimize=None, memory_limit=None))]
    fn new(
        py: Python<'_>,
        subscripts: &str,
        shapes: Vec<Vec<usize>>,
        optimize: Option<&Bound<'_, PyAny>>,
        memory_limit: Option<f64>,
    ) -> PyResult<Self> {
        Ok(Self { plan: plan_for(py, subscripts, &shapes, optimize, memory_limit)? })
    }

    /// Runs the contraction on `operands` (their shapes must be the planned ones).
    #[pyo3(signature = (*operands, out=None))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        operands: &Bound<'py, PyTuple>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ops = self::operands(operands)?;
        if operands.len() != self.plan.shapes.len() {
            return Err(PyValueError::new_err(format!(
                "einsum: the expression {:?} takes {} operands but {} were given",
                self.plan.subscripts,
                self.plan.shapes.len(),
                operands.len()
            )));
        }
        let got = shapes_of(&ops);
        if got != self.plan.shapes {
            let text: Vec<String> = got.iter().map(|s| ferrolinalg_kernels::error::fmt_shape(s)).collect();
            return Err(PyValueError::new_err(format!(
                "einsum: the expression {:?} was planned for operands of shapes {} but got {}",
                self.plan.subscripts,
                self.plan.shapes_text(),
                text.join(", ")
            )));
        }
        let r = run(py, &self.plan, ops, out.filter(|o| !o.is_none()))?;
        // a view plan: the Python-side wrapper is not in this path, so make the view here
        if let Ok(t) = r.cast::<PyTuple>() {
            let arr = t.get_item(0)?;
            return if t.len() == 2 {
                arr.call_method1("transpose", (t.get_item(1)?,))
            } else {
                py.import("numpy.lib.stride_tricks")?.getattr("as_strided")?.call1((arr, t.get_item(1)?, t.get_item(2)?))
            };
        }
        Ok(r)
    }

    /// The contraction path, as `["einsum_path", (i, j), ...]`.
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        path_list(py, &self.plan)
    }

    /// Elements of the largest intermediate the path makes.
    #[getter]
    fn largest_intermediate(&self) -> usize {
        self.plan.largest_intermediate
    }

    /// The path's flop count (NumPy's count).
    #[getter]
    fn flops(&self) -> f64 {
        self.plan.opt_flops
    }

    #[getter]
    fn subscripts(&self) -> &str {
        &self.plan.subscripts
    }

    #[getter]
    fn shapes(&self) -> Vec<Vec<usize>> {
        self.plan.shapes.clone()
    }

    /// NumPy's `einsum_path` report for this plan.
    fn report(&self) -> String {
        self.plan.report()
    }

    fn __repr__(&self) -> String {
        format!("ContractExpression({:?}, shapes=[{}])", self.plan.subscripts, self.plan.shapes_text())
    }
}
