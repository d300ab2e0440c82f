//! What the serial and the parallel build share: the graph built in memory
//! measured for the planner's costs, its neighbor codes trained, and handed to
//! `storage::built` to be written; and the build's progress.

use super::cost::report_walk;
use super::IndexSpec;
use crate::am::check_for_interrupts;
use crate::hnsw::cost::{self, WalkCost};
use crate::hnsw::memory::BuiltGraph;
use crate::hnsw::GraphMut;
use crate::page::{HeapTid, Meta};
use crate::quant::Quantizer;
use crate::storage::built::{write_built, BuiltIndex};
use crate::storage::quantizer::{self, IndexCodes};
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Reports rows inserted so far to pg_stat_progress_create_index.
pub(super) fn insert_progress(index_tuples: f64) {
    // SAFETY: reporting progress is always allowed.
    unsafe {
        pg_sys::pgstat_progress_update_param(
            pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE as i32,
            index_tuples as i64,
        )
    };
}

/// Sample scans for the planner's cost model (`hnsw::cost`), from nodes
/// spread over the build order; some tens of milliseconds.
fn measure_walk<G: GraphMut<Id = u32> + BuiltGraph>(graph: &mut G) -> Option<WalkCost> {
    let (entry, level) = graph
        .entry()
        .filter(|_| graph.len() >= cost::MIN_NODES_TO_MEASURE)?;
    let samples: Vec<u32> = cost::sample_positions(graph.len())
        .map(|n| n as u32)
        .collect();
    let walk = cost::measure_walk_cost(graph, entry, level, &samples, check_for_interrupts)?;
    report_walk("build", &walk);
    Some(walk)
}

/// Rows the quantizer of neighbor codes learns from, spread over the graph.
const QUANTIZER_SAMPLE: usize = 20_000;
/// Bytes a layer-0 list with its codes may take: with the element and the
/// upper layers it still shares a page at 384 dimensions and m = 16.
const MAX_CODED_LIST_BYTES: usize = 4800;

/// The quantizer of the index's neighbor codes, learned from the graph; None
/// when the index has none (not asked for, or no rows to learn from).
fn train_codes(spec: &IndexSpec, graph: &impl BuiltGraph) -> Option<IndexCodes> {
    if !spec.neighbor_codes {
        return None;
    }
    if graph.len() == 0 {
        ereport!(
            NOTICE,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            "hnsw index built without neighbor codes: the table is empty",
            "The codes are learned from the rows at build time: REINDEX once the table holds data."
        );
        return None;
    }
    let stride = graph.len().div_ceil(QUANTIZER_SAMPLE).max(1);
    let sample = (0..graph.len() as u32)
        .step_by(stride)
        .map(|node| graph.vector(node));
    let slot_bytes = MAX_CODED_LIST_BYTES / (2 * spec.params.m);
    let metric = quantizer::code_metric(spec.column.metric);
    match Quantizer::choose(
        sample,
        spec.column.dimensions,
        metric,
        slot_bytes.saturating_sub(6),
    ) {
        Some(quantizer) => Some(IndexCodes { quantizer, metric }),
        None => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "neighbor codes of {} dimensions do not fit neighbor lists of m = {}",
                    spec.column.dimensions, spec.params.m
                ),
                "Use a smaller m, or build the index without neighbor_codes."
            );
        }
    }
}

/// Writes the meta page, the quantizer of neighbor codes and the in-memory
/// graph to an empty index, without WAL (`storage::built`). `filters` holds
/// each node's filter values (none without filter columns). Returns the
/// meta page's contents.
pub fn write_graph<G: GraphMut<Id = u32> + BuiltGraph>(
    index: pg_sys::Relation,
    spec: &IndexSpec,
    graph: &mut G,
    heap_tids: &[Vec<HeapTid>],
    filters: &[Vec<u8>],
) -> Meta {
    let (walk_first_batch_visits, walk_visits_per_row_milli) =
        WalkCost::encode(measure_walk(graph));
    let codes = train_codes(spec, &*graph);
    let meta = Meta {
        element_count: heap_tids.iter().map(|t| t.len() as u64).sum(),
        walk_first_batch_visits,
        walk_visits_per_row_milli,
        ..spec.empty_meta()
    };
    let built = BuiltIndex {
        graph: &*graph,
        heap_tids,
        filters,
        width: spec.column.width,
        codes: codes.as_ref(),
    };
    write_built(index, &built, meta)
}
