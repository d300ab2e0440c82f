//! pgrx: the HNSW graph on Postgres pages, through the buffer manager.

pub mod buffer;
pub mod codes;
pub mod filters;
pub mod graph;
pub mod port;
pub mod xlog;
