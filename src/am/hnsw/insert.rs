//! aminsert, and the on-disk insert that the build also uses once its graph
//! outgrows memory.

use super::level_for_tid;
use super::IndexSpec;
use crate::am::filter::FilterColumns;
use crate::am::{check_for_interrupts, heap_tid};
use crate::hnsw::{self, SearchScratch};
use crate::page::{ElementHeader, HeapTid, Meta, NodeId};
use crate::search::Candidate;
use crate::storage::filters;
use crate::storage::graph::PageGraph;
use crate::storage::lock::{with_insert_lock, with_insert_lock_shared};
use crate::storage::meta::{read_meta, update_meta};
use crate::storage::place::{add_node, NewLists};
use crate::storage::xlog::Logging;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// # Safety
/// Postgres calls it as the access method's aminsert: the open index, a
/// value and null flag per key column, and the heap tuple's TID.
// Postgres' aminsert signature.
#[allow(clippy::too_many_arguments)]
#[pg_guard]
pub unsafe extern "C-unwind" fn aminsert(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    tid: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _index_info: *mut pg_sys::IndexInfo,
) -> bool {
    // SAFETY: Postgres passes each key column's value and null flag; a row
    // without a vector is not indexed.
    if unsafe { *isnull } {
        return false;
    }
    // SAFETY: as above: the vector's value, not null.
    let datum = unsafe { *values };
    // SAFETY: Postgres passes the TID of the heap tuple to index.
    let tid = unsafe { heap_tid(tid) };
    let spec = IndexSpec::cached(index);
    let insert = |_: &mut PgMemoryContexts| {
        // SAFETY: a non-null vector datum.
        let Some(vector) = (unsafe { spec.column.prepare(datum) }) else {
            return;
        };
        // SAFETY: as above, a value per key column.
        let filter = FilterColumns::of(index)
            .map(|columns| unsafe { columns.form(values, isnull) })
            .unwrap_or_default();
        let level = level_for_tid(&spec.params, tid, 0);
        // Inserts run at once under the shared lock; one that moves the entry
        // point (rare: a new top layer, or the first node) runs alone.
        let inserted = with_insert_lock_shared(index, || {
            let mut meta = read_meta(index);
            let moves_entry = meta.entry.is_none() || level > meta.entry_level as usize;
            if !moves_entry {
                insert_on_disk(
                    index,
                    &spec,
                    &mut meta,
                    &vector,
                    &filter,
                    tid,
                    level,
                    Logging::Wal,
                );
            }
            !moves_entry
        });
        if !inserted {
            with_insert_lock(index, || {
                let mut meta = read_meta(index);
                insert_on_disk(
                    index,
                    &spec,
                    &mut meta,
                    &vector,
                    &filter,
                    tid,
                    level,
                    Logging::Wal,
                );
            });
        }
    };
    // SAFETY: the context is new (so valid) and deleted when dropped at the
    // end of this statement; nothing allocated in it outlives the closure,
    // which keeps the vector and filter values in Rust memory.
    unsafe { PgMemoryContexts::new("quiver hnsw insert").switch_to(insert) };
    false
}

/// Inserts a prepared vector into the graph on pages (INSERT, Algorithm 1):
/// finds its neighbors, writes its node, links the neighbors back, and moves
/// the entry point up if the node reaches a new top layer. A vector equal to
/// a stored one, with the same filter values, joins that element when it
/// has room for another heap TID.
#[allow(clippy::too_many_arguments)]
pub fn insert_on_disk(
    index: pg_sys::Relation,
    spec: &IndexSpec,
    meta: &mut Meta,
    vector: &[f32],
    filter: &[u8],
    tid: HeapTid,
    level: usize,
    logging: Logging,
) {
    let params = spec.params;
    let header = ElementHeader {
        level: level as u8,
        deleted: false,
        width: spec.column.width,
        heap_tids: vec![tid],
        neighbors: NodeId::NONE,
        dimensions: spec.column.stored(vector).len() as u16,
        anchor: NodeId::NONE,
        wide: false,
    };
    if meta.entry.is_none() {
        let id = add_node(
            index,
            meta,
            header,
            spec.column.stored(vector),
            filter,
            NewLists {
                level,
                layers: &[],
                codes: &[],
            },
            logging,
        );
        add_filter_entry(index, meta, id, filter, logging);
        let insert_block = meta.insert_block;
        update_meta(index, logging, |stored: &mut Meta| {
            stored.entry = id;
            stored.entry_level = level as u8;
            stored.insert_block = insert_block;
        });
        *meta = Meta {
            entry: id,
            entry_level: level as u8,
            ..*meta
        };
        return;
    }

    let mut graph = PageGraph::new(index, meta, spec.column.distance(), logging, true);
    graph.set_query(vector);
    let entry = Candidate {
        distance: hnsw::Graph::distance(&mut graph, meta.entry),
        id: meta.entry,
    };
    let mut scratch: SearchScratch<NodeId> = SearchScratch::default();
    let mut per_layer = hnsw::find_neighbors(
        &mut graph,
        &params,
        entry,
        meta.entry_level as usize,
        level,
        &mut scratch,
        check_for_interrupts,
    );

    // Any equal vector among the neighbors with room takes the row: the
    // nearest alone may be full already.
    let (mut stored, mut stored_filter) = (Vec::new(), Vec::new());
    for equal in per_layer
        .first()
        .into_iter()
        .flatten()
        .take_while(|c| c.distance == 0.0)
    {
        graph.read_vector(equal.id, &mut stored);
        if stored != spec.column.stored(vector) {
            continue;
        }
        let same_filter = graph
            .read_header_and_filter(equal.id, &mut stored_filter)
            .is_some()
            && stored_filter == filter;
        if same_filter && graph.add_heap_tid(equal.id, tid) {
            return;
        }
    }

    // A new entry point anchors the old one (see `hnsw::include_old_entry`);
    // one VACUUM is cutting out is left to it.
    let old_entry = (level > meta.entry_level as usize
        && !hnsw::Graph::is_deleted(&mut graph, meta.entry))
    .then_some(entry);
    if let Some(old_entry) = old_entry {
        hnsw::include_old_entry(&mut per_layer[0], &params, old_entry);
    }
    // The nearest neighbor anchors the node from the start (see `hnsw::link_back`).
    let header = ElementHeader {
        anchor: per_layer[0].first().map_or(NodeId::NONE, |c| c.id),
        ..header
    };
    let layers: Vec<Vec<NodeId>> = per_layer
        .iter()
        .map(|chosen| chosen.iter().map(|c| c.id).collect())
        .collect();
    let codes = layers
        .first()
        .map_or_else(Vec::new, |ids| graph.codes_for(None, ids));
    let read_insert_block = meta.insert_block;
    let lists = NewLists {
        level,
        layers: &layers,
        codes: &codes,
    };
    let id = add_node(
        index,
        meta,
        header,
        spec.column.stored(vector),
        filter,
        lists,
        logging,
    );
    hnsw::link_new_node(&mut graph, &params, id, &per_layer, old_entry);
    drop(graph);
    add_filter_entry(index, meta, id, filter, logging);

    // The meta page is written only when what it says changes: a write per
    // insert would make concurrent inserts queue on its lock and log it each
    // time. (`element_count` is kept by build and VACUUM.)
    let moves_entry = level > meta.entry_level as usize;
    if moves_entry || meta.insert_block != read_insert_block {
        let insert_block = meta.insert_block;
        let mut new_meta = *meta;
        update_meta(index, logging, |stored: &mut Meta| {
            if level > stored.entry_level as usize {
                stored.entry = id;
                stored.entry_level = level as u8;
            }
            stored.insert_block = insert_block;
            new_meta = *stored;
        });
        *meta = new_meta;
    }
}

/// The directory's entry of a new element with filter values, in an index
/// whose directory is complete (one built before it existed has none).
fn add_filter_entry(
    index: pg_sys::Relation,
    meta: &Meta,
    id: NodeId,
    filter: &[u8],
    logging: Logging,
) {
    if !filter.is_empty() && meta.filter_directory {
        filters::add_entry(index, meta, id, filter, logging);
    }
}
