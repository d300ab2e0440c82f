//! ambeginscan, amrescan, amgettuple, amendscan: an ordered scan returns heap
//! TIDs by increasing distance: first the `hnsw.ef_search` nearest nodes, then,
//! with `hnsw.iterative_scan` on, further batches as long as the executor asks
//! for rows (a WHERE filter rejected some) and the scan's budget allows.

use super::options::{self, IterativeScan};
use super::IndexSpec;
use crate::am::callbacks::{order_by_query, scan_filter};
use crate::am::filter::{FilterColumns, ScanFilter};
use crate::am::{check_for_interrupts, set_item_pointer};
use crate::hnsw::cost;
use crate::hnsw::iterative::{Budget, IterativeSearch, Order};
use crate::hnsw::SearchScratch;
use crate::page::{HeapTid, NodeId};
use crate::search::rerank::Rerank;
use crate::search::Candidate;
use crate::storage::graph::PageGraph;
use crate::storage::lock::with_scan_lock;
use crate::storage::meta::read_meta;
use crate::storage::xlog::Logging;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

struct ScanState {
    spec: IndexSpec,
    /// The prepared query, or None when it is NULL: every distance is then
    /// NULL, which orders nothing, and the scan hands out every element the
    /// index holds in page order (pgvector returns them too; an ORDER BY
    /// never drops rows).
    query: Option<Vec<f32>>,
    /// With a NULL query: the next block to read, and the block count.
    unordered: Option<(u32, u32)>,
    graph: Option<PageGraph>,
    started: bool,
    /// The walk estimates distances from neighbor codes, and `scratch.rerank`
    /// measures what it finds.
    coded: bool,
    /// Strict order over codes: nodes of the first batch the rerank keeps
    /// back until the walk's next batch joins them, and the distance past
    /// which it hands out nothing before the walk goes on (see `amgettuple`).
    hold_back: usize,
    hand_out_limit: f32,
    batch: std::vec::IntoIter<Candidate<NodeId>>,
    /// Heap TIDs of the current element still to return, last first.
    pending: Vec<HeapTid>,
    /// The query's conditions on filter columns, and the values of the
    /// element being checked; elements that fail are passed over.
    filter: Option<ScanFilter>,
    filter_values: Vec<u8>,
    rejected_count: usize,
    /// The scan measured the elements the filter directory says pass,
    /// instead of walking: (entries read, elements passing).
    exact: Option<(usize, usize)>,
    /// The index's filter columns, read once per scan, not per rescan.
    filter_columns: Option<FilterColumns>,
    /// Where the scan's own allocations live (the filter's arrays).
    context: pg_sys::MemoryContext,
    scratch: Scratch,
}

/// Search state, reused by the next scan of this backend once one ends.
#[derive(Default)]
struct Scratch {
    descent: SearchScratch<NodeId>,
    search: IterativeSearch<NodeId>,
    rerank: Rerank<NodeId>,
}

thread_local! {
    /// The last finished scan's scratch space, so the next scan starts with
    /// grown hash tables and heaps instead of growing them again.
    static SPARE_SCRATCH: std::cell::Cell<Option<Scratch>> = const { std::cell::Cell::new(None) };
}

fn state<'a>(scan: pg_sys::IndexScanDesc) -> &'a mut ScanState {
    // SAFETY: ambeginscan stored a ScanState in opaque; it lives as long as the scan's memory context.
    unsafe { &mut *(*scan).opaque.cast::<ScanState>() }
}

/// # Safety
/// Postgres calls it as the access method's ambeginscan, with the open index.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambeginscan(
    index: pg_sys::Relation,
    nkeys: std::ffi::c_int,
    norderbys: std::ffi::c_int,
) -> pg_sys::IndexScanDesc {
    // SAFETY: Postgres passes the open index and its key and order-by counts.
    let scan = unsafe { pg_sys::RelationGetIndexScan(index, nkeys, norderbys) };
    let state = ScanState {
        spec: IndexSpec::cached(index),
        query: None,
        unordered: None,
        graph: None,
        started: false,
        coded: false,
        hold_back: 0,
        hand_out_limit: f32::INFINITY,
        batch: Vec::new().into_iter(),
        pending: Vec::new(),
        filter: None,
        filter_values: Vec::new(),
        rejected_count: 0,
        exact: None,
        filter_columns: FilterColumns::of(index),
        // SAFETY: a plain read of the current context, which holds the scan.
        context: unsafe { pg_sys::CurrentMemoryContext },
        scratch: SPARE_SCRATCH.take().unwrap_or_default(),
    };
    // Freed with the scan's memory context, also after an ERROR. Its pins are
    // released by amendscan, or by the resource owner at abort.
    let state = PgMemoryContexts::CurrentMemoryContext.leak_and_drop_on_delete(state);
    // SAFETY: `scan` is the descriptor RelationGetIndexScan just made; opaque is ours.
    unsafe { (*scan).opaque = state.cast() };
    scan
}

/// # Safety
/// Postgres calls it as the access method's amrescan, with a scan
/// `ambeginscan` made and its keys.
#[pg_guard]
pub unsafe extern "C-unwind" fn amrescan(
    scan: pg_sys::IndexScanDesc,
    keys: pg_sys::ScanKey,
    nkeys: std::ffi::c_int,
    orderbys: pg_sys::ScanKey,
    norderbys: std::ffi::c_int,
) {
    let state = state(scan);
    report(state);
    state.rejected_count = 0;
    // SAFETY: amrescan's keys, of this index, whose filter columns these are.
    state.filter = unsafe { scan_filter(scan, keys, nkeys, state.filter_columns, state.context) };
    state.started = false;
    state.exact = None;
    state.coded = false;
    state.hold_back = 0;
    state.hand_out_limit = f32::INFINITY;
    state.scratch.rerank.clear();
    state.batch = Vec::new().into_iter();
    state.pending.clear();
    state.unordered = None;
    // SAFETY: amrescan's order-by keys, of the indexed column's type.
    let query = unsafe { order_by_query(scan, orderbys, norderbys, &state.spec.column) };
    // A zero query under cosine is equally far from everything (NaN): any
    // rows answer it, so search with the zero vector, where all tie.
    state.query = query.map(|query| {
        state
            .spec
            .column
            .prepare_values(&query)
            .unwrap_or_else(|| vec![0.0; query.len()])
    });
}

/// # Safety
/// Postgres calls it as the access method's amgettuple, with a scan
/// `ambeginscan` made.
#[pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(
    scan: pg_sys::IndexScanDesc,
    _direction: pg_sys::ScanDirection::Type,
) -> bool {
    // SAFETY: scan is ours.
    if unsafe { (*scan).numberOfOrderBys } == 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "cannot scan hnsw index without order",
            "Use the index in ORDER BY embedding <-> query LIMIT k."
        );
    }
    // SAFETY: as above.
    let index = unsafe { (*scan).indexRelation };
    let state = state(scan);
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
        let next = if state.coded {
            let graph = state.graph.as_mut().expect("a search made the graph");
            let strict = options::ITERATIVE_SCAN.get() == IterativeScan::StrictOrder;
            let (rerank, limit) = (&mut state.scratch.rerank, state.hand_out_limit);
            (rerank.remaining() > state.hold_back)
                .then(|| rerank.next_within(strict, limit, |ids, out| graph.measure(ids, out)))
                .flatten()
        } else {
            state.batch.next()
        };
        if let Some(next) = next {
            let graph = state.graph.as_mut().expect("a search made the graph");
            let header = match state.filter.as_mut() {
                None => graph.read_header(next.id),
                Some(filter) => graph
                    .read_header_and_filter(next.id, &mut state.filter_values)
                    .filter(|h| {
                        h.deleted || filter.matches(&state.filter_values) || {
                            state.rejected_count += 1;
                            false
                        }
                    }),
            };
            if let Some(header) = header.filter(|h| !h.deleted) {
                state.pending.extend(header.heap_tids.iter().rev());
            }
            continue;
        }
        match with_scan_lock(index, || next_batch(index, state)) {
            Some(batch) if !batch.is_empty() => {
                if state.coded {
                    // The walk hands out its whole window (relaxed order), and
                    // its next batch may hold nodes nearer than this one's far
                    // half: in strict order that half waits for it, as the
                    // exact walk keeps its far half (`Order::Strict`).
                    // Later batches come while a filter rejects rows: there,
                    // estimates too coarse for the batches to follow the
                    // exact order made strict order skip most nodes, so a
                    // node goes out only once nothing the walk has left is
                    // likely (by its estimate and the typical error) nearer.
                    let strict = options::ITERATIVE_SCAN.get() == IterativeScan::StrictOrder;
                    let search = &state.scratch.search;
                    let graph = state.graph.as_ref().expect("a search made the graph");
                    let first = search.returned_count == batch.len();
                    state.hold_back = if strict && first && !search.is_exhausted() {
                        batch.len() / 2
                    } else {
                        0
                    };
                    state.hand_out_limit = match search.nearest_left() {
                        Some(nearest) if strict && !first => nearest - graph.estimate_slack(),
                        _ => f32::INFINITY,
                    };
                    for c in batch {
                        state
                            .scratch
                            .rerank
                            .add(c.id, graph.lower_bound(c.id, c.distance));
                    }
                } else {
                    state.batch = batch.into_iter();
                }
            }
            // The walk is over: what the rerank held back goes out now.
            _ if state.coded && state.scratch.rerank.remaining() > 0 => {
                state.hold_back = 0;
                state.hand_out_limit = f32::INFINITY;
            }
            _ => return false,
        }
    }
}

/// What a finished scan did, at DEBUG1: what the planner's cost model and
/// hnsw.max_scan_tuples are about.
fn report(state: &ScanState) {
    // SAFETY: a plain check of the log settings.
    if !state.started || !unsafe { pg_sys::message_level_is_interesting(pg_sys::DEBUG1 as i32) } {
        return;
    }
    let (search, rerank) = (&state.scratch.search, &state.scratch.rerank);
    if let Some((entries, passing)) = state.exact {
        pgrx::debug1!(
            "hnsw scan: {passing} of {entries} filter directory entries met the index's conditions and were measured, {} failed them at hand-out",
            state.rejected_count
        );
        return;
    }
    if state.coded {
        pgrx::debug1!(
            "hnsw scan: {} nodes estimated from codes, {} measured, {} skipped to keep strict order",
            search.visited_count,
            rerank.measured_count,
            search.skipped_count + rerank.skipped_count
        );
        return;
    }
    pgrx::debug1!(
        "hnsw scan: {} nodes measured, {} handed out, {} skipped to keep strict order, {} failed the index's conditions",
        search.visited_count,
        search.returned_count,
        search.skipped_count,
        state.rejected_count
    );
}

/// Times a scan reads the entry point again when it finds it freed.
const ENTRY_RETRIES: usize = 10;

/// The first batch (the ef_search nearest nodes), or, when iterative scans
/// are on and the budget allows, the next one. None when the scan is done.
fn next_batch(index: pg_sys::Relation, state: &mut ScanState) -> Option<Vec<Candidate<NodeId>>> {
    let mode = options::ITERATIVE_SCAN.get();
    // Off runs one batch: all of it, as the classic search returns it.
    let order = if mode == IterativeScan::StrictOrder {
        Order::Strict
    } else {
        Order::Relaxed
    };
    let ef = options::ef_search();
    if let Some((block, blocks)) = state.unordered.as_mut() {
        return next_page_of_elements(state.graph.as_mut()?, block, *blocks);
    }
    if !state.started {
        state.started = true;
        let mut meta = read_meta(index);
        let graph = state.graph.get_or_insert_with(|| {
            PageGraph::new(
                index,
                &meta,
                state.spec.column.distance(),
                Logging::Wal,
                false,
            )
        });
        let Some(query) = state.query.as_ref() else {
            // SAFETY: the index is open.
            let blocks = unsafe {
                pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM)
            };
            let (block, blocks) = state.unordered.insert((meta.first_graph_block(), blocks));
            return next_page_of_elements(graph, block, *blocks);
        };
        if meta.entry.is_none() {
            return None;
        }
        graph.set_query(query);
        if let (Some(filter), true) = (state.filter.as_mut(), meta.filter_directory) {
            let limit = cost::exact_filter_limit(ef, meta.element_count as f64);
            if let Some((entries, passing)) = passing_elements(index, &meta, filter, limit) {
                state.exact = Some((entries, passing.len()));
                return Some(measure_all(graph, passing));
            }
        }
        state.coded = graph.estimate_from_codes();
        // A standby replays VACUUM's frees without waiting for its scans (the
        // scan lock is not replayed): an entry point freed since the meta page
        // was read (or its slot taken by a new element) has been replaced
        // there first, so read it again.
        for _ in 0..ENTRY_RETRIES {
            if graph
                .read_header(meta.entry)
                .is_some_and(|h| h.level == meta.entry_level)
            {
                break;
            }
            meta = read_meta(index);
            if meta.entry.is_none() {
                return None;
            }
        }
        let ef = graph
            .codes()
            .filter(|_| state.coded)
            .map_or(ef, |codes| codes.beam(ef));
        // Over codes the rerank keeps the order: the walk hands it all it found.
        let order = if state.coded { Order::Relaxed } else { order };
        let Scratch {
            descent, search, ..
        } = &mut state.scratch;
        search.start_from_top(
            graph,
            meta.entry,
            meta.entry_level as usize,
            descent,
            check_for_interrupts,
        );
        // The first batch is the classic search: no budget but ef_search.
        return Some(search.next_batch(
            graph,
            0,
            ef,
            order,
            Budget::UNLIMITED,
            check_for_interrupts,
        ));
    }
    let search = &mut state.scratch.search;
    if mode == IterativeScan::Off || search.is_exhausted() || state.exact.is_some() {
        return None;
    }
    let graph = state.graph.as_mut()?;
    let ef = graph
        .codes()
        .filter(|_| state.coded)
        .map_or(ef, |codes| codes.beam(ef));
    let order = if state.coded { Order::Relaxed } else { order };
    let budget = Budget {
        max_visited: options::MAX_SCAN_TUPLES.get() as usize,
        max_memory_bytes: options::scan_memory_limit(),
    };
    Some(search.next_batch(graph, 0, ef, order, budget, check_for_interrupts))
}

/// The elements of the next page from `block` on that holds any, as
/// candidates at no distance (the query is NULL); None past the last page.
/// Elements inserted after the scan began may be missed, as by any scan.
fn next_page_of_elements(
    graph: &mut PageGraph,
    block: &mut u32,
    blocks: u32,
) -> Option<Vec<Candidate<NodeId>>> {
    let mut ids = Vec::new();
    while *block < blocks {
        check_for_interrupts();
        graph.elements_on(*block, &mut ids);
        *block += 1;
        if !ids.is_empty() {
            let candidates = ids.iter().map(|&id| Candidate {
                distance: f32::NAN,
                id,
            });
            return Some(candidates.collect());
        }
    }
    None
}

/// The elements the filter directory says meet the scan's conditions, with
/// the entries read; None once more than `limit` do.
fn passing_elements(
    index: pg_sys::Relation,
    meta: &crate::page::Meta,
    filter: &mut ScanFilter,
    limit: f64,
) -> Option<(usize, Vec<NodeId>)> {
    let (mut entries, mut passing) = (0, Vec::new());
    let total = meta.element_count.max(1) as f64;
    let complete = crate::storage::filters::for_each_entry(index, meta, |id, values| {
        entries += 1;
        // Only a row that passes, or the end of the sample, can tip it.
        if filter.matches(values) {
            passing.push(id);
        } else if entries != cost::DIRECTORY_SAMPLE {
            return true;
        }
        !cost::directory_says_walk(entries, passing.len(), total, limit)
    });
    complete.then_some((entries, passing))
}

/// All of `nodes`, measured, nearest first. Elements freed meanwhile (their
/// distance infinite) are passed over at hand-out, as the walk's are; a
/// distance that is infinite or NaN for a live element (a zero query under
/// cosine) keeps the row, at the end.
fn measure_all(graph: &mut PageGraph, mut nodes: Vec<NodeId>) -> Vec<Candidate<NodeId>> {
    // A VACUUM under way may leave an element two entries for a moment.
    nodes.sort_unstable();
    nodes.dedup();
    let mut found = Vec::with_capacity(nodes.len());
    let mut distances = Vec::new();
    // `measure` takes at most 256 nodes at a time.
    for chunk in nodes.chunks(128) {
        check_for_interrupts();
        graph.measure(chunk, &mut distances);
        found.extend(
            chunk
                .iter()
                .zip(&distances)
                .map(|(&id, &distance)| Candidate { distance, id }),
        );
    }
    found.sort_unstable_by(|a, b| a.distance.total_cmp(&b.distance).then(a.id.cmp(&b.id)));
    found
}

/// # Safety
/// Postgres calls it as the access method's amendscan, with a scan
/// `ambeginscan` made, once.
#[pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    let state = state(scan);
    report(state);
    if let Some(graph) = state.graph.as_mut() {
        graph.release_pins();
    }
    SPARE_SCRATCH.set(Some(std::mem::take(&mut state.scratch)));
}
