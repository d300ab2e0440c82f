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

use super::IndexSpec;
use crate::am::check_for_interrupts;
use crate::hnsw::cost::{self, WalkCost};
use crate::hnsw::repair;
use crate::page::{self, NodeId};
use crate::search::{IdMap, IdSet};
use crate::storage::cleanup::{free_tuples, publish_free_space, remove_heap_tids, survey, Survey};
use crate::storage::filters;
use crate::storage::graph::PageGraph;
use crate::storage::lock::{wait_for_scans, with_insert_lock, InsertLockBatch};
use crate::storage::meta::{read_meta, update_meta};
use crate::storage::walk::block_count;
use crate::storage::xlog::Logging;
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;

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
    let stats = crate::am::callbacks::vacuum_stats(stats);
    // SAFETY: VACUUM passes a valid IndexVacuumInfo with the open index.
    let index = unsafe { (*info).index };
    let callback = callback.expect("vacuum passes a callback");
    let first_graph_block = read_meta(index).first_graph_block();
    let counts = remove_heap_tids(index, first_graph_block, |tid| {
        let mut pointer = pg_sys::ItemPointerData::default();
        crate::am::set_item_pointer(&mut pointer, tid);
        // SAFETY: the callback vacuum passed, with its state.
        unsafe { callback(&mut pointer, callback_state) }
    });
    // SAFETY: as above, `info` is VACUUM's.
    repair_graph(index, Logging::Wal, unsafe { (*info).message_level });
    // SAFETY: as above, `stats` is VACUUM's or ours.
    unsafe {
        (*stats).tuples_removed += counts.removed;
        (*stats).num_index_tuples = counts.live;
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
    let Survey {
        removed,
        pieces,
        live,
        live_tuples,
    } = survey(index, &meta);
    if meta.entry.is_none() {
        return;
    }

    let graph = PageGraph::new(index, &meta, spec.column.distance(), logging, true);
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
            update_meta(index, logging, |stored: &mut crate::page::Meta| {
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
        update_meta(index, logging, |stored: &mut crate::page::Meta| {
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
        lock.run(&mut || free_tuples(index, logging, block, &offsets));
    }
    lock.release();
    publish_free_space(index);
}

/// Takes out of the filter directory the entries of freed elements, of
/// slots reused since by elements with other values, and repeats: each
/// live element keeps one entry with its own values.
fn remove_stale_entries(index: pg_sys::Relation, spec: &IndexSpec, logging: Logging) {
    let meta = read_meta(index);
    let mut graph = PageGraph::new(index, &meta, spec.column.distance(), logging, true);
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
    let mut graph = PageGraph::new(index, &meta, spec.column.distance(), logging, true);
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
        update_meta(index, logging, |stored: &mut crate::page::Meta| {
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
