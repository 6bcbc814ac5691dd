//! Typed errors of the kernels. Each variant carries the facts its message needs; the bindings
//! map every variant to a Python exception in one place (`rust/python/src/errors.rs`).

use core::fmt;

/// Formats a shape the way NumPy prints it: `(3, 4)`, `(5,)`, `()`.
pub fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Operand shapes that do not fit together; `what` names the operation and the rule broken.
    Shape { what: String, shapes: Vec<Vec<usize>> },
    /// An `out=` array whose shape is not the result's.
    OutShape { expected: Vec<usize>, got: Vec<usize> },
    /// An argument out of its domain (an axis out of range, an unknown `ord`).
    Value(String),
    /// A singular matrix or a solver that did not converge, at a batch index.
    LinAlg { what: String, batch_index: Option<usize> },
    /// Scratch memory the system would not give.
    Memory { bytes: usize },
}

pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { what, shapes } => {
                let shapes: Vec<String> = shapes.iter().map(|s| fmt_shape(s)).collect();
                write!(f, "{what}: shapes {}", shapes.join(" and "))
            }
            Error::OutShape { expected, got } => write!(
                f,
                "out has shape {} but the result has shape {}",
                fmt_shape(got),
                fmt_shape(expected)
            ),
            Error::Value(msg) => f.write_str(msg),
            Error::LinAlg { what, batch_index: Some(i) } => write!(f, "{what} (batch index {i})"),
            Error::LinAlg { what, batch_index: None } => f.write_str(what),
            Error::Memory { bytes } => write!(f, "could not allocate {bytes} bytes of scratch memory"),
        }
    }
}

impl std::error::Error for Error {}
