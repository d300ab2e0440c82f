//! The `hnsw` access method: the graph of `crate::hnsw` on the pages of
//! `crate::storage`, one file per part of an index's life: its handler and
//! options, the build (in one process or with workers, `write.rs` putting the
//! built graph on pages), inserts, scans and their costs, VACUUM, and the
//! functions that check and describe an index.

mod build;
pub mod check;
pub mod cost;
mod handler;
mod insert;
pub mod options;
mod parallel;
mod scan;
pub mod stats;
mod vacuum;
mod write;

use crate::am::{Column, IndexedType};
use crate::hnsw::Params;
use crate::page::{ElementWidth, HeapTid, Meta, Metric};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// An hnsw index: its column, and the graph's options.
#[derive(Clone, Copy)]
pub struct IndexSpec {
    pub column: Column,
    pub params: Params,
    /// `WITH (neighbor_codes = on)`: codes of the layer-0 neighbors in each list.
    pub neighbor_codes: bool,
}

impl IndexSpec {
    /// Reads and validates the spec of `index`; errors name what is wrong.
    pub fn of(index: pg_sys::Relation) -> IndexSpec {
        let (m, ef_construction, neighbor_codes) = options::index_options(index);
        if ef_construction < 2 * m {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "ef_construction must be greater than or equal to 2 * m",
                format!(
                    "m = {m} needs ef_construction >= {}; it is {ef_construction}.",
                    2 * m
                )
            );
        }
        let mut column = Column::of(index);
        if matches!(
            column.indexed_type,
            IndexedType::Bit | IndexedType::Sparsevec
        ) && neighbor_codes
        {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "neighbor_codes is not supported for {}",
                    column.indexed_type.name()
                ),
                "Codes are for dense vectors; a bit string or a sparse vector is already compact."
            );
        }
        // Neighbor codes are of normalized vectors: under cosine, a halfvec
        // index with them stores its vectors normalized, as float4.
        if column.width == ElementWidth::Float2 && column.metric == Metric::Cosine && neighbor_codes
        {
            column.width = ElementWidth::Float4;
        }
        IndexSpec {
            column,
            params: Params { m, ef_construction },
            neighbor_codes,
        }
    }

    /// The spec, read once per relcache entry: kept in rd_amcache, which
    /// Postgres frees when the index's relcache entry is rebuilt (for example
    /// after ALTER INDEX ... SET), so a changed index is read again.
    // `index` is an open relation: see `crate::storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn cached(index: pg_sys::Relation) -> IndexSpec {
        crate::am::callbacks::cached_spec(index, || Self::of(index))
    }

    /// The meta data of this index with nothing in it yet.
    pub fn empty_meta(&self) -> Meta {
        Meta::empty(
            self.column.dimensions as u32,
            self.params.m as u16,
            self.params.ef_construction as u16,
            self.column.metric,
        )
    }
}

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
