//! ambulkdelete and amvacuumcleanup: VACUUM removes the entries of deleted
//! rows from every list (or from the pending rows of an untrained index),
//! page by page, each page in one WAL record; inserts then fill the room it
//! freed, from each list's first page with room.

use super::IndexSpec;
use crate::am::callbacks::vacuum_stats;
use crate::am::set_item_pointer;
use crate::page::{HeapTid, IvfMeta};
use crate::storage::ivf::{count_rows, load_trained, remove_entries, remove_pending};
use crate::storage::meta::{read_ivf_meta, update_meta};
use crate::storage::walk::block_count;
use crate::storage::xlog::Logging;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// # Safety
/// Postgres calls it as the access method's ambulkdelete, with VACUUM's
/// info, its stats so far (or null) and the callback that tells dead rows.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambulkdelete(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    callback: pg_sys::IndexBulkDeleteCallback,
    callback_state: *mut std::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: VACUUM passes its info with the open index.
    let index = unsafe { (*info).index };
    let stats = vacuum_stats(stats);
    let callback = callback.expect("VACUUM passes a callback");
    let mut tid = pg_sys::ItemPointerData::default();
    let mut keep = |heap: HeapTid| {
        set_item_pointer(&mut tid, heap);
        // SAFETY: the callback VACUUM passed, with its state and a valid TID.
        !unsafe { callback(&mut tid, callback_state) }
    };
    let spec = IndexSpec::cached(index);
    let (mut kept, mut removed) = remove_pending(index, Logging::Wal, &mut keep);
    // Trained now, or all along: the lists.
    let meta = read_ivf_meta(index);
    if meta.trained {
        let trained = load_trained(index, &meta, spec.metric, spec.column.width);
        for list in 0..trained.lists() {
            pgrx::check_for_interrupts!();
            let (k, r) = remove_entries(index, &trained, list, Logging::Wal, &mut keep);
            kept += k;
            removed += r;
        }
    }
    // SAFETY: a valid stats struct, ours or VACUUM's.
    unsafe {
        (*stats).num_index_tuples = kept as f64;
        (*stats).tuples_removed += removed as f64;
        (*stats).estimated_count = false;
    }
    stats
}

/// # Safety
/// Postgres calls it as the access method's amvacuumcleanup, with VACUUM's
/// info and the stats of its bulk deletes (null when there were none).
#[pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: VACUUM passes its info with the open index.
    let (index, analyze_only) = unsafe { ((*info).index, (*info).analyze_only) };
    if analyze_only {
        return stats;
    }
    let spec = IndexSpec::cached(index);
    let stats = if stats.is_null() {
        // No rows were deleted: count them, for the planner.
        let stats = vacuum_stats(stats);
        // SAFETY: just allocated.
        unsafe {
            (*stats).num_index_tuples = count_rows(index, spec.metric, spec.column.width) as f64;
        }
        stats
    } else {
        stats
    };
    // SAFETY: a valid stats struct.
    let rows = unsafe {
        (*stats).num_pages = block_count(index);
        (*stats).num_index_tuples as u64
    };
    if read_ivf_meta(index).rows != rows {
        update_meta(index, Logging::Wal, |meta: &mut IvfMeta| meta.rows = rows);
    }
    stats
}
