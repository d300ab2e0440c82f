//! The `hnsw` access method: the graph of `crate::hnsw` on the pages of
//! `crate::storage`, one file per part of an index's life: its handler and
//! options, the build (in one process or with workers, `write.rs` putting the
//! built graph on pages), inserts, scans and their costs, VACUUM, and the
//! functions that check and describe an index.

mod build;
mod check;
pub mod cost;
mod handler;
mod insert;
pub mod options;
mod parallel;
mod scan;
mod stats;
mod vacuum;
mod write;

use crate::hnsw::Params;
use crate::page::HeapTid;

/// A node's top layer, drawn from a hash of its heap TID: random-looking,
/// yet the same on every run, so index contents are reproducible.
pub fn level_for_tid(params: &Params, tid: HeapTid, salt: u64) -> usize {
    let mut x = tid.to_u64();
    x ^= salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64 finalizer
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    // 53 random bits, in (0, 1]
    let uniform = ((x >> 11) + 1) as f64 / (1u64 << 53) as f64;
    params.level_for(uniform)
}
