//! Tensor contraction: `einsum` and `tensordot`, planned onto batched matrix products.
//!
//! [`parse`] reads NumPy's subscript grammar and checks the operands' shapes against it, [`plan`]
//! chooses the order of pairwise contractions (greedy or optimal, within a memory limit), and
//! [`exec`] runs each pairwise step as one batched matrix product on strided views, copying an
//! operand only when no stride arrangement can address it as matrices.

pub mod exec;
pub mod parse;
pub mod plan;
mod quadratic;

pub use exec::execute;
pub use parse::{parse, Parsed};
pub use plan::{cached_plan, plan, Optimize, Plan};
