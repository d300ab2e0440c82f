//! What VACUUM changes on graph pages: dead heap TIDs taken out of their
//! elements (an element left without any is marked deleted), the survey of
//! deleted and live elements its repair starts from, and the tuples it
//! frees. The graph's repair itself (`hnsw::repair`) runs over `PageGraph`.

use super::buffer::{corrupted, item, item_of_kind, Lock};
use super::port;
use super::walk::for_each_element_page;
use super::xlog::{Logging, PageWrite};
use crate::page::{self, ElementHeader, HeapTid, Meta, NodeId};
use crate::search::IdMap;
use pgrx::pg_sys;

/// What `remove_heap_tids` did: heap TIDs taken out, and those left.
#[derive(Debug, Default, Clone, Copy)]
pub struct Removed {
    pub removed: f64,
    pub live: f64,
}

/// Takes out of every element the heap TIDs `dead` says are gone, each page
/// changed in one WAL record; an element left without any is marked deleted
/// (scans skip it, inserts no longer link to it). Deleted elements are left
/// as they are.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn remove_heap_tids(
    rel: pg_sys::Relation,
    first_graph_block: u32,
    mut dead: impl FnMut(HeapTid) -> bool,
) -> Removed {
    let mut counts = Removed::default();
    for_each_element_page(rel, first_graph_block, Lock::Exclusive, |buffer| {
        let block = buffer.block();
        let mut write = PageWrite::start(rel, Logging::Wal);
        let page = write.register(buffer, false);
        let mut changed = false;
        // SAFETY: `page` is exclusively locked (GenericXLog's copy of it).
        for offset in 1..=unsafe { port::max_offset(page) } {
            // SAFETY: as above.
            let Some(tuple) =
                (unsafe { item_of_kind(rel, page, block, offset, page::ELEMENT_KIND) })
            else {
                continue;
            };
            let mut header =
                ElementHeader::decode(tuple).unwrap_or_else(|e| corrupted(rel, block, offset, e));
            if header.deleted {
                continue;
            }
            let before = header.heap_tids.len();
            header.heap_tids.retain(|&tid| !dead(tid));
            let removed = before - header.heap_tids.len();
            if removed > 0 {
                header.deleted = header.heap_tids.is_empty();
                header.encode_into(tuple);
                changed = true;
                counts.removed += removed as f64;
            }
            counts.live += header.heap_tids.len() as f64;
        }
        if changed {
            write.commit();
        }
    });
    counts
}

/// The elements of the graph as VACUUM's repair finds them.
#[derive(Debug, Default)]
pub struct Survey {
    /// Deleted elements and their levels.
    pub removed: Vec<(NodeId, usize)>,
    /// Each deleted element's neighbor tuple and parts, freed after it.
    pub pieces: IdMap<NodeId, Vec<NodeId>>,
    /// Live elements and their levels, and the heap rows they stand for.
    pub live: Vec<(NodeId, usize)>,
    pub live_tuples: u64,
}

/// Reads every element, and records every graph page's free space in the
/// free space map: the map is not WAL-logged, so what a VACUUM before a
/// crash recorded may be lost, and the space it freed with it.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn survey(rel: pg_sys::Relation, meta: &Meta) -> Survey {
    let mut survey = Survey::default();
    for_each_element_page(rel, meta.first_graph_block(), Lock::Share, |buffer| {
        let (page, block) = (buffer.page(), buffer.block());
        // SAFETY: pinned and share-locked while it is read.
        unsafe {
            pg_sys::RecordPageWithFreeSpace(rel, block, pg_sys::PageGetFreeSpace(page));
            for offset in 1..=port::max_offset(page) {
                let Some(tuple) = item_of_kind(rel, page, block, offset, page::ELEMENT_KIND) else {
                    continue;
                };
                let header = ElementHeader::decode(tuple)
                    .unwrap_or_else(|e| corrupted(rel, block, offset, e));
                let id = NodeId::new(block, offset);
                if header.deleted {
                    survey.removed.push((id, header.level as usize));
                    let mut own = vec![header.neighbors];
                    own.extend(
                        page::element_parts(tuple)
                            .unwrap_or_else(|e| corrupted(rel, block, offset, e)),
                    );
                    survey.pieces.insert(id, own);
                } else {
                    survey.live.push((id, header.level as usize));
                    survey.live_tuples += header.heap_tids.len() as u64;
                }
            }
        }
    });
    // SAFETY: an open index. Inserts search the map from its upper levels,
    // which only this updates.
    unsafe { pg_sys::IndexFreeSpaceMapVacuum(rel) };
    survey
}

/// Frees the tuples at `offsets` of `block`, in one WAL record, and records
/// the page's free space. Line pointers become unused rather than removed,
/// so that no other tuple's offset, which node ids hold, changes. The caller
/// makes sure nothing can reach them any longer (`hnsw::repair`'s order and
/// the locks).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn free_tuples(rel: pg_sys::Relation, logging: Logging, block: u32, offsets: &[u16]) {
    let buffer = super::buffer::LockedBuffer::read(rel, block, Lock::Exclusive);
    let mut write = PageWrite::start(rel, logging);
    let page = write.register(&buffer, false);
    // SAFETY: exclusively locked; `page` is the page to edit, and each offset
    // names a tuple on it (`item` raises an ERROR for one that does not).
    let free = unsafe {
        for &offset in offsets {
            item(rel, page, block, offset);
            pg_sys::PageIndexTupleDeleteNoCompact(page, offset);
        }
        pg_sys::PageGetFreeSpace(page)
    };
    write.commit();
    drop(buffer);
    // SAFETY: an open index; the free space map is only a hint.
    unsafe { pg_sys::RecordPageWithFreeSpace(rel, block, free) };
}

/// Makes the free space map's upper levels tell of what `free_tuples`
/// recorded, so that inserts find the space before VACUUM ends (which a
/// crash may never let it reach).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn publish_free_space(rel: pg_sys::Relation) {
    // SAFETY: an open index.
    unsafe { pg_sys::IndexFreeSpaceMapVacuum(rel) };
}
