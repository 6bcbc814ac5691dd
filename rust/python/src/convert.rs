//! NumPy arrays in, strided views out, without copying whenever the array's memory allows.
//!
//! float32 and float64 arrays that are aligned and in native byte order are borrowed as they are,
//! whatever their strides. Anything else (integers, bools, float16, lists, unaligned or
//! byte-swapped arrays) goes through `ferrolinalg._convert.as_float_array`, which converts as
//! NumPy's linalg does and raises `TypeError` for what we cannot compute in (complex, objects).

use ferrolinalg_kernels::strided::Strides;
use ferrolinalg_kernels::{ArrayMut, ArrayRef, Real};
use numpy::npyffi;
use numpy::prelude::*;
use numpy::{Element, PyArrayDyn, PyUntypedArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::ffi::c_int;

/// The float types the kernels take, as NumPy elements.
pub trait Float: Real + Element {}
impl Float for f32 {}
impl Float for f64 {}

/// An input array of one of the two float dtypes.
pub enum FloatArray<'py> {
    F32(Bound<'py, PyArrayDyn<f32>>),
    F64(Bound<'py, PyArrayDyn<f64>>),
}

/// The float type of an ndarray we can borrow as it is: float32 or float64 in native byte order,
/// aligned. Read straight from the array's descriptor: rust-numpy's type check goes through
/// `PyArray_EquivTypes`, whose cast lookup showed up in the profile of small products.
fn borrowable_float(obj: &Bound<'_, PyAny>) -> Option<c_int> {
    let py = obj.py();
    // SAFETY: the descriptor and flags are read only after PyArray_Check says `obj` is an array.
    unsafe {
        if npyffi::PyArray_Check(py, obj.as_ptr()) == 0 {
            return None;
        }
        let arr = &(*(obj.as_ptr() as *mut npyffi::PyArrayObject)).fields;
        if arr.flags & npyffi::NPY_ARRAY_ALIGNED == 0 {
            return None;
        }
        let descr = &(*arr.descr).fields;
        let native = matches!(descr.byteorder as u8, b'=' | b'|') || (descr.byteorder as u8 == b'<') == cfg!(target_endian = "little");
        (native && (descr.type_num == NPY_FLOAT || descr.type_num == NPY_DOUBLE)).then_some(descr.type_num)
    }
}

const NPY_FLOAT: c_int = npyffi::NPY_TYPES::NPY_FLOAT as c_int;
const NPY_DOUBLE: c_int = npyffi::NPY_TYPES::NPY_DOUBLE as c_int;

/// Accepts any array-like as float32 or float64; `name` is the argument's name for messages.
pub fn float_array<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<FloatArray<'py>> {
    match borrowable_float(obj) {
        // SAFETY: the descriptor says exactly this element type.
        Some(NPY_DOUBLE) => return Ok(FloatArray::F64(unsafe { obj.cast_unchecked::<PyArrayDyn<f64>>() }.clone())),
        Some(NPY_FLOAT) => return Ok(FloatArray::F32(unsafe { obj.cast_unchecked::<PyArrayDyn<f32>>() }.clone())),
        _ => {}
    }
    let py = obj.py();
    let converted = py.import("ferrolinalg._convert")?.getattr("as_float_array")?.call1((obj, name))?;
    if let Ok(arr) = converted.cast::<PyArrayDyn<f64>>() {
        Ok(FloatArray::F64(arr.clone()))
    } else if let Ok(arr) = converted.cast::<PyArrayDyn<f32>>() {
        Ok(FloatArray::F32(arr.clone()))
    } else {
        Err(PyTypeError::new_err(format!("{name}: could not convert to float32 or float64")))
    }
}

/// Two operands in one dtype: float32 if both are, else float64 (as NumPy promotes).
pub enum FloatPair<'py> {
    F32(Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArrayDyn<f32>>),
    F64(Bound<'py, PyArrayDyn<f64>>, Bound<'py, PyArrayDyn<f64>>),
}

pub fn float_pair<'py>(a: &Bound<'py, PyAny>, b: &Bound<'py, PyAny>) -> PyResult<FloatPair<'py>> {
    Ok(match (float_array(a, "x1")?, float_array(b, "x2")?) {
        (FloatArray::F32(a), FloatArray::F32(b)) => FloatPair::F32(a, b),
        (FloatArray::F64(a), FloatArray::F64(b)) => FloatPair::F64(a, b),
        (FloatArray::F32(a), FloatArray::F64(b)) => FloatPair::F64(to_f64(&a)?, b),
        (FloatArray::F64(a), FloatArray::F32(b)) => FloatPair::F64(a, to_f64(&b)?),
    })
}

fn to_f64<'py>(arr: &Bound<'py, PyArrayDyn<f32>>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    Ok(arr.call_method1("astype", ("float64",))?.cast_into::<PyArrayDyn<f64>>()?)
}

/// Element strides of an array whose byte strides are multiples of the item size (always true of
/// aligned arrays of a native float dtype).
fn element_strides<T>(byte_strides: &[isize]) -> Strides {
    let size = std::mem::size_of::<T>() as isize;
    byte_strides.iter().map(|s| s / size).collect()
}

/// Borrows an array as a read-only view.
pub fn view<'a, T: Float>(arr: &'a Bound<'_, PyArrayDyn<T>>) -> ArrayRef<'a, T> {
    let strides = element_strides::<T>(arr.strides());
    // SAFETY: NumPy guarantees every index within the shape addresses an element of the array,
    // which `arr` keeps alive for 'a. The kernels never write through this view.
    unsafe { ArrayRef::from_raw(arr.data(), arr.shape(), &strides) }
}

/// Borrows an array for writing. The caller must have made sure it is writeable and that nothing
/// else reads or writes it during the call.
pub fn view_mut<'a, T: Float>(arr: &'a Bound<'_, PyArrayDyn<T>>) -> ArrayMut<'a, T> {
    let strides = element_strides::<T>(arr.strides());
    // SAFETY: as for `view`; exclusivity is the caller's promise (a fresh array, or an `out=`
    // checked by `out_array`).
    unsafe { ArrayMut::from_raw(arr.data(), arr.shape(), &strides) }
}

/// A view with its borrow's lifetime removed, for work that may outlive the caller's frame
/// ([`crate::errors::run_interruptible`]).
///
/// # Safety
/// The array the view was taken from must stay alive (held in `run_interruptible`'s `keep`) for
/// as long as the returned view is used.
pub unsafe fn unbound<T>(v: &ArrayRef<'_, T>) -> ArrayRef<'static, T> {
    ArrayRef::from_raw(v.ptr(), v.shape(), v.strides())
}

/// [`unbound`] for a writable view; the same promise, and the exclusivity of [`view_mut`].
///
/// # Safety
/// As [`unbound`].
pub unsafe fn unbound_mut<T>(v: &ArrayMut<'_, T>) -> ArrayMut<'static, T> {
    ArrayMut::from_raw(v.ptr(), v.shape(), v.strides())
}

/// A new, uninitialised C-order array; the kernel writing it must fill every element. Large ones
/// come from the cache of recently freed blocks (`buffers`). A size NumPy cannot allocate gives
/// its `MemoryError` (or `ValueError` for a size past the address space), not a panic.
pub fn new_array<'py, T: Float>(py: Python<'py>, shape: &[usize]) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let dims: smallvec::SmallVec<[npyffi::npy_intp; 6]> = shape.iter().map(|&d| d as npyffi::npy_intp).collect();
    let bytes = shape.iter().fold(std::mem::size_of::<T>(), |acc, &d| acc.saturating_mul(d));
    crate::buffers::with_cached_allocator(py, bytes, || {
        // SAFETY: PyArray_NewFromDescr with a valid type object, a dtype reference it steals,
        // `dims.len()` dimensions, default strides and no data: NumPy allocates (uninitialised);
        // the array is handed to a kernel that writes every element before Python sees it.
        unsafe {
            let ptr = npyffi::PY_ARRAY_API.PyArray_NewFromDescr(
                py,
                npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
                T::get_dtype(py).into_dtype_ptr(),
                dims.len() as c_int,
                dims.as_ptr() as *mut npyffi::npy_intp,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            );
            Ok(Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked())
        }
    })
}

/// Checks an `out=` argument: an ndarray of exactly dtype `T`, writeable and aligned.
pub fn out_array<'py, T: Float>(out: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let Ok(arr) = out.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "out must be a numpy.ndarray, not {}",
            out.get_type().name()?
        )));
    };
    let Ok(typed) = arr.cast::<PyArrayDyn<T>>() else {
        return Err(PyTypeError::new_err(format!(
            "out has dtype {} but the result has dtype {}",
            arr.dtype(),
            T::NAME
        )));
    };
    // SAFETY: reading the flags of a live array object.
    let flags = unsafe { (*arr.as_array_ptr()).fields.flags };
    if flags & npyffi::NPY_ARRAY_WRITEABLE == 0 {
        return Err(PyValueError::new_err("out is read-only"));
    }
    if !arr.is_aligned() {
        return Err(PyValueError::new_err("out is not aligned to its dtype"));
    }
    Ok(typed.clone())
}

/// The byte range `[lo, hi)` an array's elements span.
fn extent(arr: &Bound<'_, PyUntypedArray>) -> (usize, usize) {
    // SAFETY: reading the data pointer of a live array object (not dereferencing it).
    let base = unsafe { (*arr.as_array_ptr()).fields.data } as isize;
    if arr.shape().contains(&0) {
        return (base as usize, base as usize);
    }
    let itemsize = arr.dtype().itemsize() as isize;
    let (mut lo, mut hi) = (base, base + itemsize);
    for (&n, &s) in arr.shape().iter().zip(arr.strides()) {
        let reach = (n as isize - 1) * s;
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    (lo as usize, hi as usize)
}

/// Whether two arrays' memory may overlap (by their extents, as `numpy.may_share_memory`).
pub fn may_overlap(a: &Bound<'_, PyUntypedArray>, b: &Bound<'_, PyUntypedArray>) -> bool {
    let (alo, ahi) = extent(a);
    let (blo, bhi) = extent(b);
    alo < bhi && blo < ahi
}

/// The result of a call that takes `out=`: `run` fills either a new C-order array of `shape`
/// (returned as [`scalar_or_array`] returns it) or the caller's `out` (checked by [`out_array`]
/// and against `shape`) in place. An `out` that may share memory with one of `inputs` gets the
/// result as if computed first and then copied in, as NumPy does.
pub fn into_result<'py, T: Float>(
    py: Python<'py>,
    shape: &[usize],
    out: Option<&Bound<'py, PyAny>>,
    inputs: &[&Bound<'py, PyUntypedArray>],
    run: impl Fn(&Bound<'py, PyArrayDyn<T>>) -> PyResult<()>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(out) = out else {
        let result = new_array::<T>(py, shape)?;
        run(&result)?;
        return scalar_or_array(result);
    };
    let out_arr = out_array::<T>(out)?;
    if out_arr.shape() != shape {
        let e = ferrolinalg_kernels::Error::OutShape { expected: shape.to_vec(), got: out_arr.shape().to_vec() };
        return Err(crate::errors::to_pyerr(py, e));
    }
    if inputs.iter().any(|a| may_overlap(out_arr.as_untyped(), a)) {
        let result = new_array::<T>(py, shape)?;
        run(&result)?;
        out_arr.call_method1("__setitem__", ((), result))?;
    } else {
        run(&out_arr)?;
    }
    Ok(out_arr.into_any())
}

/// The result of a call: a NumPy scalar for a 0-d result (as NumPy returns), else the array.
pub fn scalar_or_array<'py, T: Float>(arr: Bound<'py, PyArrayDyn<T>>) -> PyResult<Bound<'py, PyAny>> {
    if arr.ndim() == 0 {
        arr.as_any().get_item(())
    } else {
        Ok(arr.into_any())
    }
}
