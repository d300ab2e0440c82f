//! What every access method's callbacks do alike: the handler's common
//! capabilities, the spec kept in the relcache, the build's table scan and
//! its logging, VACUUM's stats, a scan's keys and query, and the options
//! parser. Each index type's callbacks call these and add their own.

use super::column::Column;
use super::filter::{FilterColumns, ScanFilter};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// A routine with what both index types can do: ordered scans by an
/// operator, the vector then filter columns, array and null conditions,
/// parallel VACUUM. The caller sets amsupport and the callbacks.
pub fn new_routine(amsupport: u16) -> PgBox<pg_sys::IndexAmRoutine, pgrx::AllocatedByRust> {
    // SAFETY: allocates a zeroed node of the right tag in the current context.
    let mut am =
        unsafe { PgBox::<pg_sys::IndexAmRoutine>::alloc_node(pg_sys::NodeTag::T_IndexAmRoutine) };
    am.amstrategies = 0;
    am.amsupport = amsupport;
    am.amoptsprocnum = 0;
    am.amcanorder = false;
    am.amcanorderbyop = true;
    am.amcanbackward = false;
    am.amcanunique = false;
    // The vector, then filter columns the scan checks (`filter`).
    am.amcanmulticol = true;
    am.amoptionalkey = true;
    am.amsearcharray = true;
    am.amsearchnulls = true;
    am.amstorage = false;
    am.amclusterable = false;
    am.ampredlocks = false;
    am.amcanparallel = false;
    am.amcaninclude = false;
    am.amusemaintenanceworkmem = false;
    #[cfg(feature = "pg16")]
    {
        am.amsummarizing = false;
    }
    am.amparallelvacuumoptions = pg_sys::VACUUM_OPTION_PARALLEL_BULKDEL as u8;
    am.amkeytype = pg_sys::InvalidOid;
    am.amcanreturn = None;
    am.amproperty = None;
    am.amadjustmembers = None;
    am.amgetbitmap = None;
    am.ammarkpos = None;
    am.amrestrpos = None;
    am.amestimateparallelscan = None;
    am.aminitparallelscan = None;
    am.amparallelrescan = None;
    am
}

/// The index's spec, made by `make` once per relcache entry: kept in
/// rd_amcache, which Postgres frees when the index's relcache entry is
/// rebuilt (for example after ALTER INDEX ... SET), so a changed index is
/// read again. `T` is the access method's own spec type, the only thing it
/// keeps there.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn cached_spec<T: Copy>(index: pg_sys::Relation, make: impl FnOnce() -> T) -> T {
    // SAFETY: `index` is open. rd_amcache belongs to the index's access
    // method: null, or the T the same access method put there (each calls
    // this with its one spec type). rd_indexcxt lives as long as the
    // relcache entry, and MemoryContextAlloc's MAXALIGN suits T (plain Copy
    // data, no Drop).
    unsafe {
        if (*index).rd_amcache.is_null() {
            let spec = make();
            let slot = pg_sys::MemoryContextAlloc((*index).rd_indexcxt, std::mem::size_of::<T>())
                .cast::<T>();
            slot.write(spec);
            (*index).rd_amcache = slot.cast();
        }
        *(*index).rd_amcache.cast::<T>()
    }
}

/// A build starts on an empty index.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn refuse_nonempty(index: pg_sys::Relation) {
    // SAFETY: Postgres passes open relations.
    if unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) }
        != 0
    {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            "index already contains data"
        );
    }
}

/// Runs the table AM's build scan over `heap` (or a parallel `table_scan`
/// of it), calling `callback` with `state`, reporting progress if
/// `progress`; returns the heap tuples it saw.
///
/// # Safety
/// `heap` and `index` are open and `index_info` is the index's; `callback`
/// must take `state` as the type `S` it is; `table_scan` is null or a
/// parallel scan of `heap`.
pub unsafe fn build_scan<S>(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    callback: pg_sys::IndexBuildCallback,
    state: &mut S,
    progress: bool,
    table_scan: pg_sys::TableScanDesc,
) -> f64 {
    // table_index_build_scan is a static inline function: call the table AM directly.
    // SAFETY: the caller's promises; `state` outlives the scan, which calls
    // back `callback` with it, and nothing else uses it meanwhile; a null
    // scan makes the table AM start its own.
    unsafe {
        let scan = (*(*heap).rd_tableam)
            .index_build_range_scan
            .expect("table AM can scan for index builds");
        scan(
            heap,
            index,
            index_info,
            true,
            false,
            progress,
            0,
            pg_sys::InvalidBlockNumber,
            callback,
            (state as *mut S).cast(),
            table_scan,
        )
    }
}

/// A build writes its pages without WAL: they are all logged now, once,
/// when the relation needs WAL at all. Returns the build's result.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn finish_build(
    index: pg_sys::Relation,
    heap_tuples: f64,
    index_tuples: f64,
) -> *mut pg_sys::IndexBuildResult {
    // SAFETY: index is open; its pages are written and unlocked.
    unsafe {
        if (*(*index).rd_rel).relpersistence == pg_sys::RELPERSISTENCE_PERMANENT as std::ffi::c_char
        {
            let blocks =
                pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
            pg_sys::log_newpage_range(index, pg_sys::ForkNumber::MAIN_FORKNUM, 0, blocks, true);
        }
        let mut result = PgBox::<pg_sys::IndexBuildResult>::alloc0();
        result.heap_tuples = heap_tuples;
        result.index_tuples = index_tuples;
        result.into_pg()
    }
}

/// VACUUM's stats so far, or new ones.
pub fn vacuum_stats(
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: a zeroed struct palloc'd in the current context, which
        // outlives the VACUUM pass that gets it back.
        unsafe { PgBox::<pg_sys::IndexBulkDeleteResult>::alloc0().into_pg() }
    } else {
        stats
    }
}

/// A scan's keys on filter columns, kept in the scan's `keyData` (where the
/// filter calls their functions for as long as the scan runs), as a filter
/// made in `context`.
///
/// # Safety
/// `scan` is a scan of the index `columns` belong to; `keys` points at
/// `nkeys` scan keys, as amrescan gets them.
pub unsafe fn scan_filter(
    scan: pg_sys::IndexScanDesc,
    keys: pg_sys::ScanKey,
    nkeys: std::ffi::c_int,
    columns: Option<FilterColumns>,
    context: pg_sys::MemoryContext,
) -> Option<ScanFilter> {
    // SAFETY: the caller's promises.
    unsafe {
        if !keys.is_null() && nkeys > 0 {
            std::ptr::copy(keys, (*scan).keyData, nkeys as usize);
        }
        let (key_data, count) = ((*scan).keyData, (*scan).numberOfKeys as usize);
        PgMemoryContexts::For(context).switch_to(|_| ScanFilter::new(columns, key_data, count))
    }
}

/// The query of a scan's ORDER BY, kept in its `orderByData` (the executor
/// reads it): its values, checked against the column's dimensions; None
/// when it is NULL or there is no ordering.
///
/// # Safety
/// `scan` is ours; `orderbys` points at `norderbys` keys, as amrescan gets
/// them, whose argument is of the column's type.
pub unsafe fn order_by_query(
    scan: pg_sys::IndexScanDesc,
    orderbys: pg_sys::ScanKey,
    norderbys: std::ffi::c_int,
    column: &Column,
) -> Option<Vec<f32>> {
    if orderbys.is_null() || norderbys <= 0 {
        return None;
    }
    // SAFETY: the caller's promises.
    unsafe {
        std::ptr::copy(orderbys, (*scan).orderByData, norderbys as usize);
        let key = &*orderbys;
        if key.sk_flags & pg_sys::SK_ISNULL as i32 != 0 {
            return None;
        }
        let query = column.values_of(key.sk_argument);
        if query.len() != column.dimensions {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                format!(
                    "different {} dimensions {} and {}",
                    column.indexed_type.name(),
                    column.dimensions,
                    query.len()
                )
            );
        }
        Some(query)
    }
}

/// Without an ordering the index cannot answer: a path that would use it
/// so is made never chosen. Whether it was.
///
/// # Safety
/// The planner's path and output pointers, as amcostestimate gets them.
pub unsafe fn refuse_unordered(
    path: *mut pg_sys::IndexPath,
    startup_cost: *mut pg_sys::Cost,
    total_cost: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    pages: *mut f64,
) -> bool {
    // SAFETY: the caller's promises.
    unsafe {
        if !(*path).indexorderbys.is_null() {
            return false;
        }
        *startup_cost = f64::INFINITY;
        *total_cost = f64::INFINITY;
        *selectivity = 0.0;
        *pages = 0.0;
        true
    }
}

/// amoptions' work: parses `reloptions` into the options struct of `size`
/// bytes that `table` describes.
///
/// # Safety
/// `reloptions` is what Postgres passed amoptions; `table` names options of
/// `kind`, registered, at their offsets in a #[repr(C)] struct of `size`
/// bytes with an int32 varlena header first.
pub unsafe fn parse_options(
    reloptions: pg_sys::Datum,
    validate: bool,
    kind: pg_sys::relopt_kind::Type,
    size: usize,
    table: &[pg_sys::relopt_parse_elt],
) -> *mut pg_sys::bytea {
    // SAFETY: the caller's promises.
    unsafe {
        pg_sys::build_reloptions(
            reloptions,
            validate,
            kind,
            size,
            table.as_ptr(),
            table.len() as i32,
        )
        .cast()
    }
}
