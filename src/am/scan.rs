//! ambeginscan, amrescan, amgettuple, amendscan: an ordered scan returns heap
//! TIDs by increasing distance, from the `hnsw.ef_search` nearest nodes.

use super::{check_for_interrupts, options, set_item_pointer, IndexSpec};
use crate::hnsw::{self, Candidate, SearchScratch};
use crate::page::{HeapTid, NodeId};
use crate::storage::graph::{read_meta, PageGraph};
use crate::storage::xlog::Logging;
use crate::types::VectorArg;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

struct ScanState {
    spec: IndexSpec,
    /// The prepared query, or None when it is NULL: no rows.
    query: Option<Vec<f32>>,
    graph: Option<PageGraph>,
    searched: bool,
    results: std::vec::IntoIter<Candidate<NodeId>>,
    /// Heap TIDs of the current element still to return, last first.
    pending: Vec<HeapTid>,
    scratch: SearchScratch<NodeId>,
}

thread_local! {
    /// The last finished scan's scratch space, so the next scan starts with
    /// grown hash tables and heaps instead of growing them again.
    static SPARE_SCRATCH: std::cell::Cell<Option<SearchScratch<NodeId>>> = const { std::cell::Cell::new(None) };
}

fn state<'a>(scan: pg_sys::IndexScanDesc) -> &'a mut ScanState {
    // SAFETY: ambeginscan stored a ScanState in opaque; it lives as long as the scan's memory context.
    unsafe { &mut *(*scan).opaque.cast::<ScanState>() }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn ambeginscan(
    index: pg_sys::Relation,
    nkeys: std::ffi::c_int,
    norderbys: std::ffi::c_int,
) -> pg_sys::IndexScanDesc {
    let scan = unsafe { pg_sys::RelationGetIndexScan(index, nkeys, norderbys) };
    let state = ScanState {
        spec: IndexSpec::of(index),
        query: None,
        graph: None,
        searched: false,
        results: Vec::new().into_iter(),
        pending: Vec::new(),
        scratch: SPARE_SCRATCH.take().unwrap_or_default(),
    };
    // Freed with the scan's memory context, also after an ERROR. Its pins are
    // released by amendscan, or by the resource owner at abort.
    let state = PgMemoryContexts::CurrentMemoryContext.leak_and_drop_on_delete(state);
    unsafe { (*scan).opaque = state.cast() };
    scan
}

#[pg_guard]
pub unsafe extern "C-unwind" fn amrescan(
    scan: pg_sys::IndexScanDesc,
    _keys: pg_sys::ScanKey,
    _nkeys: std::ffi::c_int,
    orderbys: pg_sys::ScanKey,
    norderbys: std::ffi::c_int,
) {
    let state = state(scan);
    state.searched = false;
    state.results = Vec::new().into_iter();
    state.pending.clear();
    state.query = None;
    if !orderbys.is_null() && norderbys > 0 {
        // SAFETY: Postgres passes norderbys keys; keep them, as the executor reads orderByData.
        unsafe {
            std::ptr::copy(orderbys, (*scan).orderByData, norderbys as usize);
            let key = &*orderbys;
            if key.sk_flags & pg_sys::SK_ISNULL as i32 == 0 {
                let vector = VectorArg::from_datum_unchecked(key.sk_argument);
                if vector.dim() != state.spec.dimensions {
                    ereport!(
                        ERROR,
                        PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                        format!("different vector dimensions {} and {}", state.spec.dimensions, vector.dim())
                    );
                }
                // A zero query under cosine is equally far from everything (NaN):
                // any rows answer it, so search with the zero vector, where all tie.
                state.query = Some(state.spec.prepare(&vector).unwrap_or_else(|| vec![0.0; vector.dim()]));
            }
        }
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(scan: pg_sys::IndexScanDesc, _direction: pg_sys::ScanDirection::Type) -> bool {
    // SAFETY: scan is ours.
    if unsafe { (*scan).numberOfOrderBys } == 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "cannot scan hnsw index without order",
            "Use the index in ORDER BY embedding <-> query LIMIT k."
        );
    }
    let index = unsafe { (*scan).indexRelation };
    let state = state(scan);
    if !state.searched {
        state.searched = true;
        state.results = search(index, state).into_iter();
    }
    loop {
        if let Some(tid) = state.pending.pop() {
            // SAFETY: scan is ours; the distances are exact, so no recheck.
            unsafe {
                set_item_pointer(&mut (*scan).xs_heaptid, tid);
                (*scan).xs_recheck = false;
                (*scan).xs_recheckorderby = false;
            }
            return true;
        }
        let Some(next) = state.results.next() else { return false };
        let graph = state.graph.as_mut().expect("a search made the graph");
        let header = graph.read_header(next.id);
        if !header.deleted {
            state.pending.extend(header.heap_tids.iter().rev());
        }
    }
}

/// The ef_search nearest nodes to the query, nearest first.
fn search(index: pg_sys::Relation, state: &mut ScanState) -> Vec<Candidate<NodeId>> {
    let Some(query) = state.query.as_ref() else { return Vec::new() };
    let meta = read_meta(index);
    if meta.entry.is_none() {
        return Vec::new();
    }
    let graph = state
        .graph
        .get_or_insert_with(|| PageGraph::new(index, &meta, state.spec.distance(), Logging::Wal, false));
    graph.set_query(query);
    let entry = Candidate { distance: hnsw::Graph::distance(graph, meta.entry), id: meta.entry };
    let scratch = &mut state.scratch;
    let nearest = hnsw::greedy_descent(graph, entry, meta.entry_level as usize, 1, scratch, check_for_interrupts);
    hnsw::search_layer(graph, &[nearest], options::ef_search(), 0, scratch, check_for_interrupts)
}

#[pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    let state = state(scan);
    if let Some(graph) = state.graph.as_mut() {
        graph.release_pins();
    }
    SPARE_SCRATCH.set(Some(std::mem::take(&mut state.scratch)));
}
