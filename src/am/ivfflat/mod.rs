//! pgvector's other index, `ivfflat`, which Quiver does not have, as an access
//! method that says so. Creating one (a dump, a migration) is an ERROR that
//! says to use hnsw. An ivfflat index pgvector built, in a database whose
//! pgvector files were replaced by Quiver's, stays openable, so that it can
//! be dropped: the planner never picks it (it costs as much as a plan can),
//! and an insert into its table is an ERROR that says to drop it.

use crate::storage::buffer::relation_name;
use pgrx::pg_sys;
use pgrx::prelude::*;

const USE_HNSW: &str = "Create the index USING hnsw with the same operator class, e.g. CREATE INDEX ON items USING hnsw \
                        (embedding vector_l2_ops); an hnsw index needs no training rows and takes no lists.";

#[pg_extern(sql = false)]
fn ivfflat_handler(_fcinfo: pg_sys::FunctionCallInfo) -> PgBox<pg_sys::IndexAmRoutine> {
    // SAFETY: allocates a zeroed node of the right tag in the current context.
    let mut am =
        unsafe { PgBox::<pg_sys::IndexAmRoutine>::alloc_node(pg_sys::NodeTag::T_IndexAmRoutine) };
    am.amsupport = 5;
    am.amcanorderbyop = true;
    am.amoptionalkey = true;
    am.amkeytype = pg_sys::InvalidOid;
    am.ambuild = Some(refuse_build);
    am.ambuildempty = Some(refuse_build_empty);
    am.aminsert = Some(refuse_insert);
    am.ambulkdelete = Some(nothing_to_delete);
    am.amvacuumcleanup = Some(nothing_to_clean);
    am.amcostestimate = Some(never_chosen);
    am.amoptions = Some(any_options);
    am.amvalidate = Some(valid);
    am.ambeginscan = Some(refuse_scan);
    am.amrescan = Some(no_rescan);
    am.amgettuple = Some(no_tuple);
    am.amendscan = Some(end_scan);
    am.into_pg_boxed()
}

fn dropped_first(index: pg_sys::Relation) -> ! {
    let name = relation_name(index);
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("index \"{name}\" is pgvector's ivfflat, which Quiver does not have"),
        format!("DROP INDEX \"{name}\", then create an hnsw index with the same operator class in its place.")
    );
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn refuse_build(
    _heap: pg_sys::Relation,
    _index: pg_sys::Relation,
    _info: *mut pg_sys::IndexInfo,
) -> *mut pg_sys::IndexBuildResult {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        "Quiver has no ivfflat index; use hnsw",
        USE_HNSW
    );
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn refuse_build_empty(_index: pg_sys::Relation) {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        "Quiver has no ivfflat index; use hnsw",
        USE_HNSW
    );
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
// Postgres' aminsert signature.
#[allow(clippy::too_many_arguments)]
#[pg_guard]
unsafe extern "C-unwind" fn refuse_insert(
    index: pg_sys::Relation,
    _values: *mut pg_sys::Datum,
    _isnull: *mut bool,
    _tid: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _index_info: *mut pg_sys::IndexInfo,
) -> bool {
    dropped_first(index)
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn nothing_to_delete(
    _info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    _callback: pg_sys::IndexBulkDeleteCallback,
    _callback_state: *mut std::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    stats
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn nothing_to_clean(
    _info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    stats
}

/// As dear as a plan can be, so that any other plan wins.
///
/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn never_chosen(
    _root: *mut pg_sys::PlannerInfo,
    _path: *mut pg_sys::IndexPath,
    _loop_count: f64,
    startup_cost: *mut pg_sys::Cost,
    total_cost: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    pages: *mut f64,
) {
    // SAFETY: the planner passes valid out-parameters.
    unsafe {
        *startup_cost = f64::MAX / 4.0;
        *total_cost = f64::MAX / 4.0;
        *selectivity = 1.0;
        *correlation = 0.0;
        *pages = 1.0;
    }
}

/// `lists` and whatever else pgvector took: nothing is built from them.
///
/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn any_options(
    _reloptions: pg_sys::Datum,
    _validate: bool,
) -> *mut pg_sys::bytea {
    std::ptr::null_mut()
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn valid(_opclass: pg_sys::Oid) -> bool {
    true
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn refuse_scan(
    index: pg_sys::Relation,
    _nkeys: std::ffi::c_int,
    _norderbys: std::ffi::c_int,
) -> pg_sys::IndexScanDesc {
    dropped_first(index)
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn no_rescan(
    _scan: pg_sys::IndexScanDesc,
    _keys: pg_sys::ScanKey,
    _nkeys: std::ffi::c_int,
    _orderbys: pg_sys::ScanKey,
    _norderbys: std::ffi::c_int,
) {
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn no_tuple(
    _scan: pg_sys::IndexScanDesc,
    _direction: pg_sys::ScanDirection::Type,
) -> bool {
    false
}

/// # Safety
/// Postgres calls it as a callback of the ivfflat access method, with that
/// callback's arguments.
#[pg_guard]
unsafe extern "C-unwind" fn end_scan(_scan: pg_sys::IndexScanDesc) {}
