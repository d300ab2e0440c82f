//! ambulkdelete and amvacuumcleanup. Dead heap TIDs leave their elements; an
//! element left without any is marked deleted, so scans skip it. Repairing
//! the neighbor lists around deleted elements and reusing their space is
//! the next step (see issue "HNSW under real load").

use super::check_for_interrupts;
use crate::page::{self, ElementHeader};
use crate::storage::buffer::{check_page, corrupted, item, Lock, LockedBuffer};
use crate::storage::xlog::{Logging, PageWrite};
use pgrx::pg_sys;
use pgrx::prelude::*;

#[pg_guard]
pub unsafe extern "C-unwind" fn ambulkdelete(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    callback: pg_sys::IndexBulkDeleteCallback,
    callback_state: *mut std::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    let stats = if stats.is_null() { unsafe { PgBox::<pg_sys::IndexBulkDeleteResult>::alloc0().into_pg() } } else { stats };
    let index = unsafe { (*info).index };
    let callback = callback.expect("vacuum passes a callback");
    let blocks = unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) };
    let mut live = 0.0;
    for block in page::META_BLOCK + 1..blocks {
        check_for_interrupts();
        let buffer = LockedBuffer::read(index, block, Lock::Exclusive);
        // SAFETY: pinned and exclusively locked.
        if unsafe { pg_sys::PageIsNew(buffer.page()) } {
            continue;
        }
        unsafe { check_page(index, buffer.page(), block, page::PAGE_KIND_GRAPH) };
        let mut write = PageWrite::start(index, Logging::Wal);
        let page = write.register(&buffer, false);
        let mut changed = false;
        for offset in 1..=unsafe { pg_sys::PageGetMaxOffsetNumber(page) } {
            // SAFETY: `page` is locked (or GenericXLog's copy of it).
            let tuple = unsafe { item(index, page, block, offset) };
            if tuple[0] != page::ELEMENT_KIND {
                continue;
            }
            let mut header = ElementHeader::decode(tuple).unwrap_or_else(|e| corrupted(index, block, offset, e));
            if header.deleted {
                continue;
            }
            let before = header.heap_tids.len();
            header.heap_tids.retain(|&tid| {
                let mut pointer = pg_sys::ItemPointerData::default();
                super::set_item_pointer(&mut pointer, tid);
                // SAFETY: the callback vacuum passed, with its state.
                !unsafe { callback(&mut pointer, callback_state) }
            });
            let removed = before - header.heap_tids.len();
            if removed > 0 {
                header.deleted = header.heap_tids.is_empty();
                header.encode_into(tuple);
                changed = true;
                unsafe { (*stats).tuples_removed += removed as f64 };
            }
            live += header.heap_tids.len() as f64;
        }
        if changed {
            write.commit();
        }
    }
    unsafe {
        (*stats).num_index_tuples = live;
        (*stats).num_pages = blocks;
    }
    stats
}

#[pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    unsafe {
        if (*info).analyze_only || !stats.is_null() {
            return stats;
        }
        // No bulk delete ran (nothing to delete): report the size only.
        let stats = PgBox::<pg_sys::IndexBulkDeleteResult>::alloc0().into_pg();
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork((*info).index, pg_sys::ForkNumber::MAIN_FORKNUM);
        (*stats).num_index_tuples = (*info).num_heap_tuples;
        (*stats).estimated_count = true;
        stats
    }
}
