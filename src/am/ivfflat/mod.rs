//! The `ivfflat` access method, pgvector's IVF index under its name: the
//! lists of `crate::ivf` on the pages of `crate::storage::ivf`, one file per
//! part of an index's life: its handler and options, training (at the build,
//! or by the insert that gives an untrained index enough rows), the build,
//! inserts, scans and their costs, VACUUM, and what `quiver_index_stats` and
//! `quiver_check_index` read of it.
//!
//! An ivfflat index that pgvector built, met in place (its files under a
//! database that now runs Quiver), is refused where its pages are read: the
//! page check tells pgvector's pages apart and says to REINDEX.

mod build;
pub mod check;
mod cost;
mod handler;
mod insert;
pub mod options;
mod scan;
mod train;
mod vacuum;

use crate::am::{Column, IndexedType};
use crate::ivf::IvfMetric;
use crate::page::{IvfMeta, Metric};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// pgvector's dimension limits for ivfflat: a center (and a pending row)
/// is one tuple on a page.
const MAX_VECTOR_DIMENSIONS: usize = 2000;
const MAX_HALFVEC_DIMENSIONS: usize = 4000;
const MAX_BIT_DIMENSIONS: usize = 64000;

/// An ivfflat index: its column, metric and lists.
#[derive(Clone, Copy)]
pub struct IndexSpec {
    pub column: Column,
    pub metric: IvfMetric,
    pub lists: u32,
}

impl IndexSpec {
    /// Reads and validates the spec of `index`; errors name what is wrong.
    pub fn of(index: pg_sys::Relation) -> IndexSpec {
        let column = Column::of(index);
        let metric = match (column.indexed_type, column.metric) {
            (IndexedType::Sparsevec, _) => unsupported("sparsevec"),
            (_, Metric::L2) => IvfMetric::L2,
            (_, Metric::Cosine) => IvfMetric::Cosine,
            (_, Metric::InnerProduct) => IvfMetric::InnerProduct,
            (IndexedType::Bit, Metric::Hamming) => IvfMetric::Hamming,
            (_, Metric::L1) => unsupported("L1 distance"),
            (_, _) => unsupported("Jaccard distance"),
        };
        let most = match column.indexed_type {
            IndexedType::Vector => MAX_VECTOR_DIMENSIONS,
            IndexedType::Halfvec => MAX_HALFVEC_DIMENSIONS,
            _ => MAX_BIT_DIMENSIONS,
        };
        if column.dimensions > most {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("column cannot have more than {most} dimensions for ivfflat index"),
                format!(
                    "The column has {} dimensions; an hnsw index takes up to 16000.",
                    column.dimensions
                )
            );
        }
        IndexSpec {
            column,
            metric,
            lists: options::lists(index),
        }
    }

    /// The spec, read once per relcache entry (as hnsw's `IndexSpec::cached`).
    // `index` is an open relation: see `crate::storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn cached(index: pg_sys::Relation) -> IndexSpec {
        crate::am::callbacks::cached_spec(index, || Self::of(index))
    }

    /// The meta data of this index with nothing in it yet.
    pub fn empty_meta(&self) -> IvfMeta {
        IvfMeta::empty(
            self.column.dimensions as u32,
            self.column.metric,
            self.lists,
        )
    }

    /// A row as the lists code it and as centers are trained on: unit
    /// length for cosine; None for a zero vector there, which the index
    /// leaves out (as pgvector's does: it has no direction).
    pub fn prepare(&self, values: &[f32]) -> Option<Vec<f32>> {
        crate::am::column::prepare_for(self.column.metric, values)
    }

    /// Rows an index needs before it trains its centers: fewer and it keeps
    /// them pending, whole, and a scan measures them all.
    pub fn rows_to_train(&self) -> u64 {
        crate::ivf::TRAIN_ROWS_PER_LIST * self.lists as u64
    }
}

fn unsupported(what: &str) -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("ivfflat does not support {what}"),
        "ivfflat indexes vector and halfvec with l2, ip and cosine, and bit with hamming; an hnsw index takes the others."
    );
}
