//! ambuild and ambuildempty. The build grows the graph in memory, up to
//! maintenance_work_mem, then writes it to pages; a graph that outgrows the
//! memory is written early and the rest of the rows are inserted on disk.
//! With parallel workers the graph grows in shared memory instead (see
//! `parallel`). Pages are written without WAL and the finished index is
//! logged once.

use super::parallel::{self, BuildCounts};
use super::write::{insert_progress, write_graph};
use super::IndexSpec;
use super::{insert, level_for_tid};
use crate::am::callbacks::{build_scan, finish_build, refuse_nonempty};
use crate::am::filter::FilterColumns;
use crate::am::{check_for_interrupts, heap_tid};
use crate::hnsw::memory::{Inserted, MemoryGraph};
use crate::page::{self, HeapTid, Meta};
use crate::storage::buffer::LockedBuffer;
use crate::storage::meta::{update_meta, write_meta_page};
use crate::storage::xlog::{Logging, PageWrite};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// Phase shown in pg_stat_progress_create_index.
const PHASE_LOADING: i64 = 2;

struct BuildState {
    spec: IndexSpec,
    graph: Option<MemoryGraph>,
    heap_tids: Vec<Vec<HeapTid>>,
    /// With filter columns: their descriptor, and each node's values.
    filter_columns: Option<FilterColumns>,
    filters: Vec<Vec<u8>>,
    /// Once the graph outgrew memory: the meta page, for inserting on disk.
    on_disk: Option<Meta>,
    memory_limit: usize,
    index_tuples: f64,
    row_context: PgMemoryContexts,
}

/// # Safety
/// Postgres calls it as the access method's ambuild, with open relations
/// and the index's IndexInfo.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuild(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
) -> *mut pg_sys::IndexBuildResult {
    refuse_nonempty(index);
    let spec = IndexSpec::of(index);
    // SAFETY: CREATE INDEX reports progress; `heap` is open, with its rd_rel.
    unsafe {
        pg_sys::pgstat_progress_update_param(
            pg_sys::PROGRESS_CREATEIDX_SUBPHASE as i32,
            PHASE_LOADING,
        );
        let total = (*(*heap).rd_rel).reltuples.max(0.0) as i64;
        pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_CREATEIDX_TUPLES_TOTAL as i32, total);
    }
    let rows = parallel::estimate_rows(heap, spec.column.dimensions);
    // Workers keep no filter values in their shared graph: an index with
    // filter columns is built by one process.
    let workers = if spec.column.filter_columns > 0 {
        0
    } else {
        parallel::workers_for(heap, index_info, rows)
    };
    let counts = (workers > 0)
        .then(|| parallel::build(heap, index, index_info, &spec, workers, rows))
        .flatten()
        .unwrap_or_else(|| serial_build(heap, index, index_info, spec));
    finish_build(index, counts.heap_tuples, counts.index_tuples)
}

/// Builds the index in this process alone.
fn serial_build(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    spec: IndexSpec,
) -> BuildCounts {
    let mut state = BuildState {
        spec,
        graph: Some(MemoryGraph::new(
            spec.params,
            spec.column.dimensions,
            spec.column.distance(),
        )),
        heap_tids: Vec::new(),
        filter_columns: FilterColumns::of(index),
        filters: Vec::new(),
        on_disk: None,
        // SAFETY: a plain GUC variable, in kilobytes; a backend has one thread.
        memory_limit: unsafe { pg_sys::maintenance_work_mem } as usize * 1024,
        index_tuples: 0.0,
        row_context: PgMemoryContexts::new("quiver hnsw build row"),
    };
    // SAFETY: build_callback takes the BuildState.
    let heap_tuples = unsafe {
        build_scan(
            heap,
            index,
            index_info,
            Some(build_callback),
            &mut state,
            true,
            std::ptr::null_mut(),
        )
    };
    match state.graph.take() {
        Some(mut graph) => {
            graph.reconnect_unreachable(check_for_interrupts);
            write_graph(index, &spec, &mut graph, &state.heap_tids, &state.filters);
        }
        None => {
            super::vacuum::repair_graph(index, Logging::Build, pg_sys::DEBUG2 as i32);
            update_meta(index, Logging::Build, |meta: &mut Meta| {
                meta.element_count = state.index_tuples as u64
            });
        }
    }
    BuildCounts {
        heap_tuples,
        index_tuples: state.index_tuples,
    }
}

/// # Safety
/// Only `table_index_build_scan` calls it, for `serial_build`, whose
/// `state` is a BuildState; a value and null flag per key column.
#[pg_guard]
unsafe extern "C-unwind" fn build_callback(
    index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _tuple_is_alive: bool,
    state: *mut std::ffi::c_void,
) {
    // SAFETY: `state` is the BuildState passed to the scan; a value and a
    // null flag per key column, the vector first.
    let state = unsafe { &mut *state.cast::<BuildState>() };
    // SAFETY: as above: the first key column's null flag.
    if unsafe { *isnull } {
        return;
    }
    check_for_interrupts();
    // SAFETY: as above: the first key column's value, not null.
    let datum = unsafe { *values };
    // SAFETY: the scan passes the TID of the heap tuple it indexes.
    let tid = unsafe { heap_tid(tid) };
    let mut row_context = std::mem::replace(
        &mut state.row_context,
        PgMemoryContexts::CurrentMemoryContext,
    );
    let row = |_: &mut PgMemoryContexts| {
        // SAFETY: as above.
        let filter = state
            .filter_columns
            .as_ref()
            .map(|columns| unsafe { columns.form(values, isnull) })
            .unwrap_or_default();
        state.add_row(index, datum, filter, tid)
    };
    // SAFETY: the row context is our own, created with the state and valid
    // until the build ends; nothing allocated in it outlives the row (the
    // graph keeps Rust copies of the vector and filter values).
    unsafe { row_context.switch_to(row) };
    // SAFETY: as above: the row's allocations are no longer used.
    unsafe { row_context.reset() };
    state.row_context = row_context;
}

impl BuildState {
    fn add_row(
        &mut self,
        index: pg_sys::Relation,
        datum: pg_sys::Datum,
        filter: Vec<u8>,
        tid: HeapTid,
    ) {
        // SAFETY: the indexed column is a non-null vector.
        let Some(vector) = (unsafe { self.spec.column.prepare(datum) }) else {
            return;
        };
        let level = level_for_tid(&self.spec.params, tid, 0);
        if let Some(meta) = self.on_disk.as_mut() {
            insert::insert_on_disk(
                index,
                &self.spec,
                meta,
                &vector,
                &filter,
                tid,
                level,
                Logging::Build,
            );
        } else {
            let graph = self
                .graph
                .as_mut()
                .expect("graph is in memory until it spills");
            let (heap_tids, filters) = (&mut self.heap_tids, &mut self.filters);
            // An equal vector joins a node with room, and with the same filter values.
            let joins = |node: u32| {
                heap_tids[node as usize].len() < page::HEAP_TIDS
                    && filters.get(node as usize).is_none_or(|f| *f == filter)
            };
            match graph.insert(&vector, level, joins, check_for_interrupts) {
                Inserted::New(_) => {
                    heap_tids.push(vec![tid]);
                    if self.filter_columns.is_some() {
                        filters.push(filter);
                    }
                }
                Inserted::Duplicate(node) => heap_tids[node as usize].push(tid),
            }
            if graph.memory_bytes() > self.memory_limit {
                self.spill(index);
            }
        }
        self.index_tuples += 1.0;
        insert_progress(self.index_tuples);
    }

    /// The graph no longer fits maintenance_work_mem: write it out and go on on disk.
    fn spill(&mut self, index: pg_sys::Relation) {
        let mut graph = self.graph.take().expect("spills once");
        ereport!(
            NOTICE,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            format!(
                "hnsw graph no longer fits into maintenance_work_mem after {} tuples",
                self.index_tuples as u64 + 1
            ),
            "Building will take significantly more time. Increase maintenance_work_mem to speed up builds."
        );
        graph.reconnect_unreachable(check_for_interrupts);
        self.on_disk = Some(write_graph(
            index,
            &self.spec,
            &mut graph,
            &self.heap_tids,
            &self.filters,
        ));
        self.heap_tids = Vec::new();
        self.filters = Vec::new();
    }
}

/// ambuildempty: the init fork of an index on an unlogged table, an empty
/// index that replaces the main fork after a crash.
///
/// # Safety
/// Postgres calls it as the access method's ambuildempty, with the open index.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuildempty(index: pg_sys::Relation) {
    let spec = IndexSpec::of(index);
    let meta = spec.empty_meta();
    {
        let buffer = LockedBuffer::extend(index, pg_sys::ForkNumber::INIT_FORKNUM);
        let mut write = PageWrite::start(index, Logging::Build);
        let page = write.register(&buffer, true);
        // SAFETY: a new page, exclusively locked.
        unsafe { write_meta_page(page, &meta) };
        write.commit();
    }
    // The init fork is always WAL-logged: GenericXLog would skip an unlogged relation.
    // SAFETY: `index` is open, and its init fork has the one page written above.
    unsafe { pg_sys::log_newpage_range(index, pg_sys::ForkNumber::INIT_FORKNUM, 0, 1, true) };
}
