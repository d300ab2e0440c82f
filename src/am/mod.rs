//! pgrx: the index access methods, one folder each (`hnsw/`, `ivfflat/`),
//! over what they share: the description of the indexed column read from
//! the index (type, metric, dimensions, filter columns) and the filter
//! columns' values (`filter.rs`). Each callback is short and delegates to the
//! pure algorithms and to `storage/` (pages).

pub mod callbacks;
pub mod column;
pub mod cost;
pub mod filter;
pub mod hnsw;
pub mod inspect;
pub mod ivfflat;

pub use column::{Column, IndexedType};

use crate::page::HeapTid;
use pgrx::pg_sys;

/// A TID Postgres passed in, packed.
///
/// # Safety
/// `tid` must point to a valid ItemPointerData (as callbacks' TIDs do).
pub unsafe fn heap_tid(tid: pg_sys::ItemPointer) -> HeapTid {
    // SAFETY: the caller's promise.
    let (block, offset) = pgrx::itemptr::item_pointer_get_both(unsafe { *tid });
    HeapTid::new(block, offset)
}

pub fn set_item_pointer(target: &mut pg_sys::ItemPointerData, tid: HeapTid) {
    pgrx::itemptr::item_pointer_set_all(target, tid.block(), tid.offset());
}

pub fn check_for_interrupts() {
    pgrx::check_for_interrupts!();
}
