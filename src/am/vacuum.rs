//! ambulkdelete and amvacuumcleanup. VACUUM takes dead heap TIDs out of
//! their elements; an element left without any is deleted: scans skip it at
//! once and inserts no longer link to it. Then it is cut out of the graph
//! (`hnsw::repair::remove_nodes`), one change at a time under the insert
//! lock, so inserts go on in between, in an order that keeps every other
//! element reachable whichever change a crash stops it at. Its tuples are
//! freed, the element before its pieces, in batches as soon as no list
//! names it, so a VACUUM stopped half way keeps what it freed. The free
//! space map hands the space to later inserts, so the index does not grow
//! without bound under updates. Every VACUUM also links back nodes left
//! unreachable.

use super::{check_for_interrupts, wait_for_scans, with_insert_lock, IndexSpec, InsertLockBatch};
use crate::hnsw::cost::{self, WalkCost};
use crate::hnsw::repair;
use crate::page::{self, ElementHeader, NodeId};
use crate::search::{IdMap, IdSet};
use crate::storage::buffer::{
    check_page, corrupted, item, item_of_kind, page_kind, Lock, LockedBuffer,
};
use crate::storage::filters;
use crate::storage::graph::{read_meta, update_meta, PageGraph};
use crate::storage::port;
use crate::storage::xlog::{Logging, PageWrite};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

fn block_count(index: pg_sys::Relation) -> u32 {
    // SAFETY: an open index.
    unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) }
}

/// # Safety
/// Postgres calls it as the access method's ambulkdelete: its info with
/// the open index, earlier stats or null, and the callback and its state.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambulkdelete(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    callback: pg_sys::IndexBulkDeleteCallback,
    callback_state: *mut std::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    let stats = if stats.is_null() {
        // SAFETY: a zeroed struct palloc'd in the current context, which
        // outlives the VACUUM pass that gets it back.
        unsafe { PgBox::<pg_sys::IndexBulkDeleteResult>::alloc0().into_pg() }
    } else {
        stats
    };
    // SAFETY: VACUUM passes a valid IndexVacuumInfo with the open index.
    let index = unsafe { (*info).index };
    let callback = callback.expect("vacuum passes a callback");
    let mut live = 0.0;
    let first_graph_block = read_meta(index).first_graph_block();
    for block in first_graph_block..block_count(index) {
        check_for_interrupts();
        let buffer = LockedBuffer::read(index, block, Lock::Exclusive);
        // SAFETY: pinned and exclusively locked.
        if unsafe {
            port::is_new(buffer.page()) || page_kind(buffer.page()) == Some(page::PAGE_KIND_FILTERS)
        } {
            continue;
        }
        // SAFETY: as above.
        unsafe { check_page(index, buffer.page(), block, page::PAGE_KIND_GRAPH) };
        let mut write = PageWrite::start(index, Logging::Wal);
        let page = write.register(&buffer, false);
        let mut changed = false;
        // SAFETY: `page` is locked (or GenericXLog's copy of it).
        for offset in 1..=unsafe { port::max_offset(page) } {
            // SAFETY: `page` is locked (or GenericXLog's copy of it).
            let Some(tuple) =
                (unsafe { item_of_kind(index, page, block, offset, page::ELEMENT_KIND) })
            else {
                continue;
            };
            let mut header =
                ElementHeader::decode(tuple).unwrap_or_else(|e| corrupted(index, block, offset, e));
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
                // SAFETY: `stats` is VACUUM's struct or the one allocated above.
                unsafe { (*stats).tuples_removed += removed as f64 };
            }
            live += header.heap_tids.len() as f64;
        }
        if changed {
            write.commit();
        }
    }
    // SAFETY: as above, `info` is VACUUM's.
    repair_graph(index, Logging::Wal, unsafe { (*info).message_level });
    // SAFETY: as above, `stats` is VACUUM's or ours.
    unsafe {
        (*stats).num_index_tuples = live;
        (*stats).num_pages = block_count(index);
    }
    stats
}

/// Cuts the deleted elements out of the graph, frees their tuples, and links
/// unreachable elements back in. Also run after a build that continued on
/// disk. Inserts may run meanwhile. What it did is reported at the
/// `message_level` VACUUM passes (DEBUG2: `SET client_min_messages = debug2`
/// shows it).
pub fn repair_graph(index: pg_sys::Relation, logging: Logging, message_level: i32) {
    let spec = IndexSpec::cached(index);
    // Inserts that began before their neighbors were marked deleted may link
    // to them: wait for those. Later ones do not (`Graph::is_deleted`).
    let meta = with_insert_lock(index, || read_meta(index));
    let mut removed = Vec::new();
    // Each deleted element's neighbor tuple and parts, freed after it.
    let mut pieces: IdMap<NodeId, Vec<NodeId>> = IdMap::default();
    let mut live = Vec::new();
    let mut live_tuples = 0u64;
    for block in meta.first_graph_block()..block_count(index) {
        check_for_interrupts();
        let buffer = LockedBuffer::read(index, block, Lock::Share);
        let page = buffer.page();
        // SAFETY: pinned and share-locked.
        unsafe {
            if port::is_new(page) || page_kind(page) == Some(page::PAGE_KIND_FILTERS) {
                continue;
            }
            // The free space map is not WAL-logged: what a VACUUM before a
            // crash recorded may be lost, and the space it freed with it.
            pg_sys::RecordPageWithFreeSpace(index, block, pg_sys::PageGetFreeSpace(page));
            for offset in 1..=port::max_offset(page) {
                let Some(tuple) = item_of_kind(index, page, block, offset, page::ELEMENT_KIND)
                else {
                    continue;
                };
                let header = ElementHeader::decode(tuple)
                    .unwrap_or_else(|e| corrupted(index, block, offset, e));
                let id = NodeId::new(block, offset);
                if header.deleted {
                    removed.push((id, header.level as usize));
                    let mut own = vec![header.neighbors];
                    own.extend(
                        page::element_parts(tuple)
                            .unwrap_or_else(|e| corrupted(index, block, offset, e)),
                    );
                    pieces.insert(id, own);
                } else {
                    live.push((id, header.level as usize));
                    live_tuples += header.heap_tids.len() as u64;
                }
            }
        }
    }
    // SAFETY: an open index. See `free_elements`.
    unsafe { pg_sys::IndexFreeSpaceMapVacuum(index) };
    if meta.entry.is_none() {
        return;
    }

    let graph = PageGraph::new(index, &meta, spec.distance(), logging, true);
    let lock = RefCell::new(InsertLockBatch::new(index));
    let freed: RefCell<IdSet<NodeId>> = RefCell::default();
    let free = |nodes: &[NodeId]| {
        free_elements(index, logging, &mut lock.borrow_mut(), nodes, &pieces);
        freed.borrow_mut().extend(nodes.iter().copied());
    };
    let removing = repair::Removing {
        removed: &removed,
        live: &live,
        entry: (meta.entry, meta.entry_level as usize),
        check_interrupts: check_for_interrupts,
        exclusive: |change: &mut dyn FnMut()| lock.borrow_mut().run(change),
        // Runs inside `exclusive`, which holds the insert lock. An insert
        // may have raised the entry point meanwhile: that one stays.
        move_entry: |(id, level): (NodeId, usize)| {
            let mut now = (id, level);
            update_meta(index, logging, |stored| {
                if pieces.contains_key(&stored.entry) {
                    (stored.entry, stored.entry_level) = (id, level as u8);
                }
                now = (stored.entry, stored.entry_level as usize);
            });
            now
        },
        free,
    };
    let removal = repair::remove_nodes(graph, &spec.params, removing);
    lock.borrow_mut().release();
    let new_entry = removal.entry;
    // Ids of freed elements may name new ones by now.
    let pending: Vec<NodeId> = removed
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !freed.borrow().contains(id))
        .collect();
    if !removed.is_empty() || removal.linked_after > 0 {
        // SAFETY: an open index.
        let name = unsafe { std::ffi::CStr::from_ptr(pg_sys::get_rel_name((*index).rd_id)) }
            .to_string_lossy();
        let message = format!(
            "index \"{name}\": cut {} deleted elements out of the graph: {} nodes reached only through them linked in ({:.1} s), {} lists rebuilt and {} elements freed on the way ({:.1} s), {} nodes relinked after ({:.1} s)",
            removed.len(),
            removal.linked_before,
            removal.anchoring.as_secs_f64(),
            removal.rebuilt,
            removal.freed,
            removal.cutting.as_secs_f64(),
            removal.linked_after,
            removal.relinking.as_secs_f64()
        );
        pgrx::ereport!(
            PgLogLevel::from(message_level as isize),
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            message
        );
    }
    with_insert_lock(index, || {
        update_meta(index, logging, |stored| {
            // Inserts meanwhile may have raised the entry point. They do not
            // count elements (that would write this page each time).
            if pending.contains(&stored.entry) {
                (stored.entry, stored.entry_level) = match new_entry {
                    Some((id, level)) => (id, level as u8),
                    None => (NodeId::NONE, 0),
                };
            }
            stored.element_count = live_tuples;
        })
    });
    if WalkCost::decode(meta.walk_first_batch_visits, meta.walk_visits_per_row_milli).is_none() {
        measure_walk(index, &spec, logging, &live);
    }
    if !pending.is_empty() {
        free_elements(index, logging, &mut lock.borrow_mut(), &pending, &pieces);
    }
    // Also when nothing was deleted: a VACUUM stopped half way leaves the
    // entries of the elements it freed.
    remove_stale_entries(index, &spec, logging);
}

/// Frees deleted elements no node links to any longer, then their neighbor
/// tuples and parts. A crash between the two leaves pieces no element names
/// (space lost until a REINDEX), never an element whose pieces are freed,
/// which the next VACUUM would free again after an insert reused their
/// slots.
fn free_elements(
    index: pg_sys::Relation,
    logging: Logging,
    lock: &mut InsertLockBatch,
    nodes: &[NodeId],
    pieces: &IdMap<NodeId, Vec<NodeId>>,
) {
    let mut elements: BTreeMap<u32, Vec<u16>> = BTreeMap::new();
    let mut their_pieces: BTreeMap<u32, Vec<u16>> = BTreeMap::new();
    for id in nodes {
        elements.entry(id.block()).or_default().push(id.offset());
        for piece in &pieces[id] {
            their_pieces
                .entry(piece.block())
                .or_default()
                .push(piece.offset());
        }
    }
    // Scans that read the old entry point, or a list not yet rebuilt, may
    // still be on their way to these.
    lock.release();
    wait_for_scans(index);
    for (block, mut offsets) in elements.into_iter().chain(their_pieces) {
        check_for_interrupts();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        offsets.dedup();
        // No insert is under way that could still reach a freed node.
        let mut free = 0;
        lock.run(&mut || {
            let buffer = LockedBuffer::read(index, block, Lock::Exclusive);
            let mut write = PageWrite::start(index, logging);
            let page = write.register(&buffer, false);
            // SAFETY: exclusively locked; `page` is the page to edit. Line
            // pointers become unused rather than removed, so that no other
            // tuple's offset, which node ids hold, changes.
            free = unsafe {
                for &offset in &offsets {
                    item(index, page, block, offset);
                    pg_sys::PageIndexTupleDeleteNoCompact(page, offset);
                }
                pg_sys::PageGetFreeSpace(page)
            };
            write.commit();
        });
        // SAFETY: an open index; the free space map is only a hint.
        unsafe { pg_sys::RecordPageWithFreeSpace(index, block, free) };
    }
    lock.release();
    // Inserts search the map from its upper levels, which only this
    // updates: without it they would find the space after VACUUM's end,
    // which a crash may never reach.
    // SAFETY: an open index.
    unsafe { pg_sys::IndexFreeSpaceMapVacuum(index) };
}

/// Takes out of the filter directory the entries of freed elements, of
/// slots reused since by elements with other values, and repeats: each
/// live element keeps one entry with its own values.
fn remove_stale_entries(index: pg_sys::Relation, spec: &IndexSpec, logging: Logging) {
    let meta = read_meta(index);
    let mut graph = PageGraph::new(index, &meta, spec.distance(), logging, true);
    let mut seen: IdSet<NodeId> = IdSet::default();
    let mut values = Vec::new();
    filters::remove_entries(index, logging, |id, filter| {
        let current = graph.read_header_and_filter(id, &mut values);
        current.is_some_and(|h| !h.deleted)
            && page::same_filter_values(&values, filter)
            && seen.insert(id)
    });
}

/// For an index built with too few nodes to measure (or empty) that has
/// grown since: sample scans for the planner's cost model, as a build runs.
fn measure_walk(
    index: pg_sys::Relation,
    spec: &IndexSpec,
    logging: Logging,
    live: &[(NodeId, usize)],
) {
    if live.len() < cost::MIN_NODES_TO_MEASURE {
        return;
    }
    let meta = read_meta(index);
    if meta.entry.is_none() {
        return;
    }
    let samples: Vec<NodeId> = cost::sample_positions(live.len())
        .map(|i| live[i].0)
        .collect();
    let mut graph = PageGraph::new(index, &meta, spec.distance(), logging, true);
    let Some(walk) = cost::measure_walk_cost(
        &mut graph,
        meta.entry,
        meta.entry_level as usize,
        &samples,
        check_for_interrupts,
    ) else {
        return;
    };
    drop(graph);
    super::cost::report_walk("vacuum", &walk);
    let (first, milli) = WalkCost::encode(Some(walk));
    with_insert_lock(index, || {
        update_meta(index, logging, |stored| {
            stored.walk_first_batch_visits = first;
            stored.walk_visits_per_row_milli = milli;
        })
    });
}

/// # Safety
/// Postgres calls it as the access method's amvacuumcleanup: its info
/// with the open index, and the bulk delete's stats or null.
#[pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: VACUUM passes a valid IndexVacuumInfo with the open index, and
    // the bulk delete's stats or null; a new result is palloc'd, zeroed.
    unsafe {
        if (*info).analyze_only {
            return stats;
        }
        let index = (*info).index;
        if !stats.is_null() {
            pg_sys::IndexFreeSpaceMapVacuum(index);
            return stats;
        }
        // No bulk delete ran (nothing to delete): relink what inserts left
        // unreachable, and report the size.
        repair_graph(index, Logging::Wal, (*info).message_level);
        pg_sys::IndexFreeSpaceMapVacuum(index);
        let stats = PgBox::<pg_sys::IndexBulkDeleteResult>::alloc0().into_pg();
        (*stats).num_pages = block_count(index);
        (*stats).num_index_tuples = (*info).num_heap_tuples;
        (*stats).estimated_count = true;
        stats
    }
}
