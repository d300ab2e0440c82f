//! ambeginscan, amrescan, amgettuple, amendscan. A scan ranks the lists by
//! their centers' distance to the query, reads the entries of the nearest
//! `ivfflat.probes` and hands out their rows in order of the lowest distance
//! each row's code allows, with that bound as its ORDER BY value and a
//! recheck: the executor measures each row from the table and keeps it back
//! until no row the index still holds can be nearer (its reorder queue), so
//! rows come out in exact order while only the few whose bound is low are
//! measured. Bit codes are the bits: exact, no recheck. With
//! `ivfflat.iterative_scan = relaxed_order` a scan goes on to further lists,
//! `probes` at a time up to `ivfflat.max_probes`, while the executor asks
//! for rows. An untrained index measures its pending rows exactly.
//!
//! Conditions on filter columns are checked on each entry's stored values
//! as the list is read: rows that fail never reach the executor.

use super::options::{self, IterativeScan};
use super::IndexSpec;
use crate::am::callbacks::{order_by_query, scan_filter};
use crate::am::filter::{FilterColumns, ScanFilter};
use crate::am::{check_for_interrupts, set_item_pointer};
use crate::ivf::{kmeans, IvfMetric};
use crate::kernels;
use crate::page::HeapTid;
use crate::storage::ivf::{for_each_entry, for_each_pending, load_trained, Trained};
use crate::storage::meta::read_ivf_meta;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::rc::Rc;

/// A row found: its ORDER BY value for the executor (a bound, or exact).
#[derive(Clone, Copy)]
struct Found {
    value: f64,
    tid: HeapTid,
}

impl PartialEq for Found {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Found {}
impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Found {
    /// Reversed, so that BinaryHeap pops the nearest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .value
            .total_cmp(&self.value)
            .then(other.tid.cmp(&self.tid))
    }
}

struct ScanState {
    spec: IndexSpec,
    /// The query's values as given; None when it is NULL (pgvector then
    /// searches from the zero vector; every distance is NULL).
    query: Option<Vec<f32>>,
    /// The query as the lists are searched with it (unit for cosine).
    prepared: Vec<f32>,
    started: bool,
    /// Whether the values handed out are exact (bits, pending rows).
    exact: bool,
    found: BinaryHeap<Found>,
    trained: Option<Rc<Trained>>,
    /// The lists in the order they are probed, and how many were.
    order: Vec<usize>,
    probed: usize,
    filter: Option<ScanFilter>,
    filter_columns: Option<FilterColumns>,
    context: pg_sys::MemoryContext,
    counts: Counts,
}

/// What a scan did, for DEBUG1.
#[derive(Default)]
struct Counts {
    entries: usize,
    rejected: usize,
    handed_out: usize,
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
        prepared: Vec::new(),
        started: false,
        exact: false,
        found: BinaryHeap::new(),
        trained: None,
        order: Vec::new(),
        probed: 0,
        filter: None,
        filter_columns: FilterColumns::of(index),
        // SAFETY: a plain read of the current context, which holds the scan.
        context: unsafe { pg_sys::CurrentMemoryContext },
        counts: Counts::default(),
    };
    let state = PgMemoryContexts::CurrentMemoryContext.leak_and_drop_on_delete(state);
    // SAFETY: `scan` is the descriptor RelationGetIndexScan just made;
    // opaque is ours, and the ORDER BY values the executor reads with a
    // recheck are ours to allocate (as GiST does), in the scan's context.
    unsafe {
        (*scan).opaque = state.cast();
        if norderbys > 0 {
            let n = norderbys as usize;
            (*scan).xs_orderbyvals =
                pg_sys::palloc0(n * std::mem::size_of::<pg_sys::Datum>()).cast();
            (*scan).xs_orderbynulls = pg_sys::palloc(n).cast();
            std::ptr::write_bytes((*scan).xs_orderbynulls, 1, n);
        }
    }
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
    state.counts = Counts::default();
    // SAFETY: amrescan's keys, of this index, whose filter columns these are.
    state.filter = unsafe { scan_filter(scan, keys, nkeys, state.filter_columns, state.context) };
    state.started = false;
    state.found.clear();
    state.order.clear();
    state.probed = 0;
    state.prepared = vec![0.0; state.spec.column.dimensions];
    // SAFETY: amrescan's order-by keys, of the indexed column's type.
    state.query = unsafe { order_by_query(scan, orderbys, norderbys, &state.spec.column) };
    // A zero query under cosine is equally far from everything: the lists
    // are probed from the zero vector, where all tie.
    if let Some(prepared) = state.query.as_deref().and_then(|q| state.spec.prepare(q)) {
        state.prepared = prepared;
    }
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
            "cannot scan ivfflat index without order",
            "Use the index in ORDER BY embedding <-> query LIMIT k."
        );
    }
    // SAFETY: as above.
    let index = unsafe { (*scan).indexRelation };
    let state = state(scan);
    if !state.started {
        state.started = true;
        start(index, state);
    }
    loop {
        if let Some(found) = state.found.pop() {
            state.counts.handed_out += 1;
            let null = state.query.is_none();
            // SAFETY: scan is ours; ambeginscan allocated the ORDER BY
            // value and null flag of its one ordering.
            unsafe {
                set_item_pointer(&mut (*scan).xs_heaptid, found.tid);
                (*scan).xs_recheck = false;
                (*scan).xs_recheckorderby = !state.exact && !null;
                *(*scan).xs_orderbyvals = found.value.into_datum().expect("a float8 datum");
                *(*scan).xs_orderbynulls = null;
            }
            return true;
        }
        let iterative = options::ITERATIVE_SCAN.get() == IterativeScan::RelaxedOrder;
        if state.trained.is_none() || !iterative || state.probed >= state.order.len() {
            return false;
        }
        probe_next(index, state);
    }
}

/// The first batch: the pending rows of an untrained index, or the rows of
/// the nearest lists.
fn start(index: pg_sys::Relation, state: &mut ScanState) {
    let meta = read_ivf_meta(index);
    let spec = state.spec;
    if !meta.trained {
        state.exact = true;
        let distance = exact_distance(spec.metric);
        let (query, filter, found, counts) = (
            state.query.as_deref(),
            &mut state.filter,
            &mut state.found,
            &mut state.counts,
        );
        let mut values = Vec::with_capacity(spec.column.dimensions);
        let mut rows = Vec::new();
        for_each_pending(index, &meta, spec.column.width, None, |row| {
            counts.entries += 1;
            if let Some(filter) = filter.as_mut() {
                if !filter.matches(row.filter.unwrap_or(&[])) {
                    counts.rejected += 1;
                    return true;
                }
            }
            let value = match query {
                Some(query) => {
                    values.clear();
                    row.vector.extend_into(&mut values);
                    distance(query, &values)
                }
                None => 0.0,
            };
            rows.push(Found {
                value,
                tid: row.tid,
            });
            true
        });
        *found = BinaryHeap::from(rows);
        return;
    }
    let trained = load_trained(index, &meta, spec.metric, spec.column.width);
    state.exact = matches!(spec.metric, IvfMetric::Hamming);
    let iterative = options::ITERATIVE_SCAN.get() == IterativeScan::RelaxedOrder;
    let wanted = if iterative {
        options::max_probes()
    } else {
        options::probes()
    };
    state.order = kmeans::probe_order(
        spec.metric.probing(),
        trained.center_rows(),
        &state.prepared,
        wanted,
    )
    .into_iter()
    .map(|(list, _)| list)
    .collect();
    state.trained = Some(trained);
    probe_next(index, state);
}

/// Reads the next `probes` lists of the order into the found rows.
fn probe_next(index: pg_sys::Relation, state: &mut ScanState) {
    let trained = state.trained.clone().expect("a trained index");
    let end = (state.probed + options::probes()).min(state.order.len());
    let metric = state.spec.metric;
    let exact = state.exact;
    let mut rows = Vec::new();
    for &list in &state.order[state.probed..end] {
        check_for_interrupts();
        let query = trained.codes.prepare(&state.prepared, trained.center(list));
        let (filter, counts) = (&mut state.filter, &mut state.counts);
        for_each_entry(index, &trained, list, |entry| {
            counts.entries += 1;
            if let Some(filter) = filter.as_mut() {
                if !filter.matches(entry.filter.unwrap_or(&[])) {
                    counts.rejected += 1;
                    return true;
                }
            }
            let (_, bound) = query.estimate(entry.code);
            let value = if exact {
                metric.operator_value(bound)
            } else {
                metric.operator_bound(bound)
            };
            rows.push(Found {
                value,
                tid: entry.tid,
            });
            true
        });
    }
    state.probed = end;
    if state.found.is_empty() {
        state.found = BinaryHeap::from(rows);
    } else {
        state.found.extend(rows);
    }
}

/// The SQL operator's value between a query and a row, both as they came.
fn exact_distance(metric: IvfMetric) -> fn(&[f32], &[f32]) -> f64 {
    match metric {
        IvfMetric::L2 => |a, b| (kernels::l2_squared(a, b) as f64).sqrt(),
        IvfMetric::InnerProduct => |a, b| -(kernels::dot(a, b) as f64),
        IvfMetric::Cosine => kernels::cosine_distance,
        // Bits are held as 0.0 and 1.0: the L1 distance counts those that differ.
        IvfMetric::Hamming => |a, b| kernels::l1(a, b) as f64,
    }
}

/// What a finished scan did, at DEBUG1.
fn report(state: &ScanState) {
    // SAFETY: a plain check of the log settings.
    if !state.started || !unsafe { pg_sys::message_level_is_interesting(pg_sys::DEBUG1 as i32) } {
        return;
    }
    pgrx::debug1!(
        "ivfflat scan: {} lists probed, {} entries read, {} failed the index's conditions, {} rows handed out",
        state.probed,
        state.counts.entries,
        state.counts.rejected,
        state.counts.handed_out
    );
}

/// # Safety
/// Postgres calls it as the access method's amendscan, with a scan
/// `ambeginscan` made, once.
#[pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    report(state(scan));
}
