//! SQL types. `literal` is pure; the rest is pgrx glue.

mod errors;
pub mod literal;
mod support;
mod varlena;
mod vector;

pub use varlena::{VectorArg, VectorOut};
