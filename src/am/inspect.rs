//! `quiver_check_index(regclass)` and `quiver_index_stats(regclass)`, for
//! either index type: the table's privileges and locks, then each access
//! method's own reading of its pages.

use super::{hnsw, ivfflat};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// At most this many problems are listed; a broken index can have millions.
pub const MAX_PROBLEMS: usize = 100;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IndexKind {
    Hnsw,
    Ivfflat,
}

/// Reads every page of the index and reports what is structurally wrong,
/// one line per problem (an empty array when the index is sound). For users
/// who suspect an index, and for tests.
#[pg_extern(sql = false)]
fn quiver_check_index(index_oid: pg_sys::Oid) -> Vec<String> {
    // The table first, as PostgreSQL locks them, and against VACUUM: it
    // would free heap TIDs that the comparison with rows still holds.
    // SAFETY: IndexGetRelation only reads the catalog; missing_ok.
    // A standby takes no such lock (its VACUUM is replayed): it compares no rows.
    let heap_oid = unsafe { pg_sys::IndexGetRelation(index_oid, true) };
    // SAFETY: reads shared state; callable in any backend.
    let on_standby = unsafe { pg_sys::RecoveryInProgress() };
    if heap_oid != pg_sys::InvalidOid {
        let mode = if on_standby {
            pg_sys::AccessShareLock
        } else {
            pg_sys::ShareUpdateExclusiveLock
        };
        // SAFETY: LockRelationOid locks any relation oid, even a dropped
        // one's; this is the table's, from IndexGetRelation.
        unsafe { pg_sys::LockRelationOid(heap_oid, mode as i32) };
    }
    with_index(index_oid, |index, kind| {
        let mut problems = Vec::new();
        // A corruption that stops the check (a loop in a chain, a page that
        // cannot be read as ours) is reported as the last problem found.
        let stopped = PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
            match kind {
                IndexKind::Hnsw => hnsw::check::check(index, !on_standby, &mut problems),
                IndexKind::Ivfflat => ivfflat::check::check(index, &mut problems),
            }
            None
        }))
        .catch_when(
            PgSqlErrorCode::ERRCODE_INDEX_CORRUPTED,
            |caught| match caught {
                pg_sys::panic::CaughtError::PostgresError(report)
                | pg_sys::panic::CaughtError::ErrorReport(report)
                | pg_sys::panic::CaughtError::RustPanic {
                    ereport: report, ..
                } => Some(report.message().to_string()),
            },
        )
        .execute();
        problems.extend(stopped);
        problems
    })
}

/// Runs `f` on the index `index_oid`, open under AccessShareLock; an ERROR
/// if it is not an index of Quiver's, or if the user may not read its table.
pub fn with_index<R>(
    index_oid: pg_sys::Oid,
    f: impl FnOnce(pg_sys::Relation, IndexKind) -> R,
) -> R {
    // The index holds its table's vectors and filter values: reading it takes
    // what reading the table takes (SELECT, or owning it). Checked before the
    // lock, so that a user without rights cannot queue behind DDL; an OID
    // that is no index is left to index_open's ERROR.
    // SAFETY: catalog lookups; no lock is needed to read privileges.
    unsafe {
        let heap = pg_sys::IndexGetRelation(index_oid, true);
        let user = pg_sys::GetUserId();
        #[cfg(feature = "pg15")]
        let owns = |heap| pg_sys::pg_class_ownercheck(heap, user);
        #[cfg(not(feature = "pg15"))]
        let owns = |heap| pg_sys::object_ownercheck(pg_sys::RelationRelationId, heap, user);
        if heap != pg_sys::InvalidOid
            && pg_sys::pg_class_aclcheck(heap, user, pg_sys::ACL_SELECT as pg_sys::AclMode)
                != pg_sys::AclResult::ACLCHECK_OK
            && !owns(heap)
        {
            let name = |oid| {
                let name = pg_sys::get_rel_name(oid);
                if name.is_null() {
                    String::new()
                } else {
                    std::ffi::CStr::from_ptr(name)
                        .to_string_lossy()
                        .into_owned()
                }
            };
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("permission denied for index \"{}\"", name(index_oid)),
                format!(
                    "Reading the index takes SELECT privilege on its table \"{}\".",
                    name(heap)
                )
            );
        }
    }
    // SAFETY: index_open raises an ERROR for a missing relation; AccessShareLock
    // keeps it from being dropped while we read it.
    let index = unsafe { pg_sys::index_open(index_oid, pg_sys::AccessShareLock as i32) };
    // SAFETY: an open index names its access method's handler function.
    let handler = unsafe {
        let handler = (*index).rd_amhandler;
        if handler == pg_sys::InvalidOid {
            Vec::new()
        } else {
            std::ffi::CStr::from_ptr(pg_sys::get_func_name(handler))
                .to_bytes()
                .to_vec()
        }
    };
    let kind = match handler.as_slice() {
        b"hnsw_handler" => IndexKind::Hnsw,
        b"ivfflat_handler" => IndexKind::Ivfflat,
        _ => {
            let name = crate::storage::buffer::relation_name(index);
            // SAFETY: opened above with this lock, and not used after.
            unsafe { pg_sys::index_close(index, pg_sys::AccessShareLock as i32) };
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!("\"{name}\" is not an hnsw or ivfflat index")
            );
        }
    };
    let result = f(index, kind);
    // SAFETY: opened above with this lock; `f` has returned and kept nothing of it.
    unsafe { pg_sys::index_close(index, pg_sys::AccessShareLock as i32) };
    result
}

/// What `quiver_index_stats` reports; columns of the other index type are NULL.
pub struct IndexStats {
    pub indexed_type: String,
    pub dimensions: i32,
    pub metric: String,
    pub m: Option<i32>,
    pub ef_construction: Option<i32>,
    /// hnsw: live elements; ivfflat: rows in the lists (or pending).
    pub elements: i64,
    pub heap_tuples: i64,
    pub deleted_elements: Option<i64>,
    pub elements_per_layer: Option<Vec<i64>>,
    pub average_degree: Option<f64>,
    pub wide_elements: Option<i64>,
    pub neighbor_codes: Option<String>,
    pub pages: i64,
    pub access_method: String,
    pub lists: Option<i32>,
    pub trained: Option<bool>,
    pub list_sizes: Option<Vec<i64>>,
}

pub fn metric_name(metric: crate::page::Metric) -> &'static str {
    use crate::page::Metric;
    match metric {
        Metric::L2 => "l2",
        Metric::InnerProduct => "inner product",
        Metric::Cosine => "cosine",
        Metric::L1 => "l1",
        Metric::Hamming => "hamming",
        Metric::Jaccard => "jaccard",
    }
}

/// What an index holds, read from its pages: one row.
// pgrx reads the result columns from this signature: an alias would hide them.
#[allow(clippy::type_complexity)]
#[pg_extern(sql = false)]
fn quiver_index_stats(
    index_oid: pg_sys::Oid,
) -> TableIterator<
    'static,
    (
        name!(indexed_type, String),
        name!(dimensions, i32),
        name!(metric, String),
        name!(m, Option<i32>),
        name!(ef_construction, Option<i32>),
        name!(elements, i64),
        name!(heap_tuples, i64),
        name!(deleted_elements, Option<i64>),
        name!(elements_per_layer, Option<Vec<i64>>),
        name!(average_degree, Option<f64>),
        name!(wide_elements, Option<i64>),
        name!(neighbor_codes, Option<String>),
        name!(pages, i64),
        name!(size_bytes, i64),
        name!(access_method, String),
        name!(lists, Option<i32>),
        name!(trained, Option<bool>),
        name!(list_sizes, Option<Vec<i64>>),
    ),
> {
    let s = with_index(index_oid, |index, kind| match kind {
        IndexKind::Hnsw => hnsw::stats::stats(index),
        IndexKind::Ivfflat => ivfflat::check::stats(index),
    });
    TableIterator::once((
        s.indexed_type,
        s.dimensions,
        s.metric,
        s.m,
        s.ef_construction,
        s.elements,
        s.heap_tuples,
        s.deleted_elements,
        s.elements_per_layer,
        s.average_degree,
        s.wide_elements,
        s.neighbor_codes,
        s.pages,
        s.pages * pg_sys::BLCKSZ as i64,
        s.access_method,
        s.lists,
        s.trained,
        s.list_sizes,
    ))
}
