//! pgrx: the indexes' pages, through the buffer manager: buffer and lock
//! guards, WAL, the meta page, placing new tuples, walking every page, and the
//! stores the algorithms run over (the graph, the quantizer, the filter
//! directory, an IVF index's lists). Every page read and write goes through here.
//!
//! A `pg_sys::Relation` argument is always an open relation, valid for the
//! whole call: one Postgres passed to an access method callback, or one the
//! caller opened and keeps open. The functions that take one stay safe, with
//! `#[allow(clippy::not_unsafe_ptr_arg_deref)]`: the handle reaches nearly
//! every function from the callbacks, and marking each `unsafe` would only
//! repeat that rule at every call.

pub mod buffer;
pub mod built;
pub mod chain;
pub mod cleanup;
pub mod filters;
pub mod graph;
pub mod ivf;
pub mod lock;
pub mod meta;
pub mod place;
pub mod port;
pub mod quantizer;
pub mod walk;
pub mod xlog;
