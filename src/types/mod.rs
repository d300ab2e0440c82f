//! SQL types. `literal`, `sparse` and `wire` are pure; the rest is pgrx glue.

mod bit;
mod dense;
mod errors;
mod fast;
pub mod literal;
pub mod sparse;
mod sparsevec;
mod varlena;
mod vector;
pub mod wire;

pub use bit::BitArg;
pub use sparsevec::SparsevecArg;
pub use varlena::{DenseArg, Element, HalfvecArg, VectorArg, VectorOut};
