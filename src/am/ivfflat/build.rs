//! ambuild and ambuildempty. A build reads the table once to sample it (a
//! uniform sample of `ivf::sample_rows` rows, within maintenance_work_mem),
//! trains on the sample, then puts every row in its list: from the sample
//! when it holds the whole table, else from a second read of the table.
//! Lists are written a page at a time as they fill. A table with too few
//! rows to train on gets an untrained index, its rows pending. Pages are
//! written without WAL and the finished index is logged once.

use super::train::{build_threads, set_trained, train, write_trained, Training};
use super::IndexSpec;
use crate::am::callbacks::{build_scan, finish_build, refuse_nonempty};
use crate::am::filter::FilterColumns;
use crate::am::{check_for_interrupts, heap_tid};
use crate::ivf::{Reservoir, Rows};
use crate::page::{self, HeapTid};
use crate::storage::buffer::LockedBuffer;
use crate::storage::ivf::{add_pending, ListWriter};
use crate::storage::meta::{update_meta, write_meta_page};
use crate::storage::xlog::{Logging, PageWrite};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// Phases shown in pg_stat_progress_create_index (pgvector's numbers; the
/// handler names them).
pub const PHASE_KMEANS: i64 = 2;
pub const PHASE_ASSIGN: i64 = 3;
pub const PHASE_LOAD: i64 = 4;

/// The sample: each row's values as they came (widened to float4), TID and
/// filter values, in reservoir slots.
struct SampleState {
    spec: IndexSpec,
    reservoir: Reservoir,
    values: Vec<f32>,
    tids: Vec<HeapTid>,
    filters: Vec<Vec<u8>>,
    filter_columns: Option<FilterColumns>,
    row_context: PgMemoryContexts,
}

/// The second read: every row into its list.
struct AssignState<'a> {
    spec: IndexSpec,
    training: &'a Training,
    writer: &'a mut ListWriter,
    filter_columns: Option<FilterColumns>,
    rows: u64,
    row_context: PgMemoryContexts,
    threads: usize,
    /// Rows read and not yet assigned: prepared values, TIDs, filter values.
    batch: (Vec<f32>, Vec<HeapTid>, Vec<Vec<u8>>),
}

/// Bytes of prepared values a batch gathers before its rows are assigned
/// to lists, all at once on the build's threads.
const BATCH_BYTES: usize = 16 << 20;

impl AssignState<'_> {
    fn batch_full(&self) -> bool {
        self.batch.0.len() * 4 >= BATCH_BYTES
    }

    /// Assigns the batch's rows and adds them to their lists.
    fn flush(&mut self) {
        let d = self.spec.column.dimensions;
        let (values, tids, filters) = &mut self.batch;
        if tids.is_empty() {
            return;
        }
        check_for_interrupts();
        let rows = Rows::new(values, d);
        let lists = self.training.lists_of(self.spec.metric, rows, self.threads);
        for (slot, list) in lists.into_iter().enumerate() {
            let filter = filters.get(slot).map_or(&[][..], |f| f.as_slice());
            let entry =
                self.training
                    .entry_in(&self.spec, list, rows.row(slot), tids[slot], filter);
            self.writer.add(list, entry);
        }
        self.rows += tids.len() as u64;
        tuples_done(self.rows);
        values.clear();
        tids.clear();
        filters.clear();
    }
}

fn set_phase(phase: i64) {
    // SAFETY: CREATE INDEX reports progress; a plain call.
    unsafe {
        pg_sys::pgstat_progress_update_param(pg_sys::PROGRESS_CREATEIDX_SUBPHASE as i32, phase)
    };
}

fn tuples_done(done: u64) {
    // SAFETY: as in `set_phase`.
    unsafe {
        pg_sys::pgstat_progress_update_param(
            pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE as i32,
            done as i64,
        )
    };
}

/// Runs `row` in the state's row context, reset after each row: nothing
/// allocated in it (detoasted vectors, filter values) outlives the row.
fn in_row_context<R>(context: &mut PgMemoryContexts, row: impl FnOnce() -> R) -> R {
    let mut own = std::mem::replace(context, PgMemoryContexts::CurrentMemoryContext);
    // SAFETY: the row context is the state's own, valid until the build
    // ends; the row keeps Rust copies of what it needs.
    let result = unsafe { own.switch_to(|_| row()) };
    // SAFETY: as above: the row's allocations are no longer used.
    unsafe { own.reset() };
    *context = own;
    result
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
    let d = spec.column.dimensions;
    let filter_columns = FilterColumns::of(index);
    // A sampled row: its values, TID, filter values and their vectors.
    let filter_bytes = if filter_columns.is_some() { 64 } else { 0 };
    let row_bytes = 4 * d + std::mem::size_of::<HeapTid>() + 24 + filter_bytes;
    // SAFETY: a plain GUC variable, in kilobytes.
    let memory = unsafe { pg_sys::maintenance_work_mem } as usize * 1024;
    let wanted = crate::ivf::sample_rows(spec.lists as usize);
    let capacity = wanted.min(memory / row_bytes);
    if capacity < spec.lists as usize {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "memory required is {} MB, maintenance_work_mem is {} MB",
                (spec.lists as usize * row_bytes).div_ceil(1 << 20),
                memory >> 20
            ),
            "Raise maintenance_work_mem, or create the index with fewer lists."
        );
    }
    write_empty_meta(index, &spec, pg_sys::ForkNumber::MAIN_FORKNUM);
    set_phase(PHASE_KMEANS);
    let mut sample = SampleState {
        spec,
        reservoir: Reservoir::new(capacity),
        values: Vec::new(),
        tids: Vec::new(),
        filters: Vec::new(),
        filter_columns,
        row_context: PgMemoryContexts::new("quiver ivfflat build row"),
    };
    // SAFETY: sample_callback takes a SampleState.
    let mut heap_tuples = unsafe {
        build_scan(
            heap,
            index,
            index_info,
            Some(sample_callback),
            &mut sample,
            true,
            std::ptr::null_mut(),
        )
    };
    let rows = sample.reservoir.seen();
    if rows < spec.rows_to_train() {
        // Too few rows to train on: they wait whole, as pending rows, and the
        // insert that brings enough trains the index.
        set_phase(PHASE_LOAD);
        for (slot, tid) in sample.tids.iter().enumerate() {
            let row = page::encode_pending(
                *tid,
                &sample.values[slot * d..(slot + 1) * d],
                spec.column.width,
                sample.filters.get(slot).map_or(&[][..], |f| f.as_slice()),
            );
            add_pending(index, &row, Logging::Build);
        }
        if rows > 0 {
            ereport!(
                NOTICE,
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                format!(
                    "ivfflat index created with little data: {rows} rows for {} lists",
                    spec.lists
                ),
                format!(
                    "Its rows are measured exactly until it holds {} rows, when it trains its lists itself.",
                    spec.rows_to_train()
                )
            );
        }
    } else {
        let prepared: Vec<f32> = (0..sample.tids.len())
            .flat_map(|slot| {
                spec.prepare(&sample.values[slot * d..(slot + 1) * d])
                    .expect("sampled rows can be prepared")
            })
            .collect();
        let threads = build_threads();
        let training = train(&spec, Rows::new(&prepared, d), threads);
        set_phase(PHASE_ASSIGN);
        let holds_all = sample.reservoir.holds_all();
        let filter_columns = sample.filter_columns.take();
        let written = write_trained(index, &spec, &training, Logging::Build, |writer| {
            if holds_all {
                // The sample is the table: no second read.
                let rows = Rows::new(&prepared, d);
                let lists = training.lists_of(spec.metric, rows, threads);
                for (slot, (tid, list)) in sample.tids.iter().zip(lists).enumerate() {
                    if slot % 1024 == 0 {
                        check_for_interrupts();
                        tuples_done(slot as u64);
                    }
                    let filter = sample.filters.get(slot).map_or(&[][..], |f| f.as_slice());
                    writer.add(
                        list,
                        training.entry_in(&spec, list, rows.row(slot), *tid, filter),
                    );
                }
            } else {
                drop(std::mem::take(&mut sample.values));
                let mut assign = AssignState {
                    spec,
                    training: &training,
                    writer,
                    filter_columns,
                    rows: 0,
                    row_context: PgMemoryContexts::new("quiver ivfflat build row"),
                    threads,
                    batch: Default::default(),
                };
                // SAFETY: assign_callback takes an AssignState.
                heap_tuples = unsafe {
                    build_scan(
                        heap,
                        index,
                        index_info,
                        Some(assign_callback),
                        &mut assign,
                        true,
                        std::ptr::null_mut(),
                    )
                };
                assign.flush();
            }
            set_phase(PHASE_LOAD);
        });
        update_meta(index, Logging::Build, |meta: &mut page::IvfMeta| {
            set_trained(meta, &training, &written, rows)
        });
    }
    finish_build(index, heap_tuples, rows as f64)
}

/// Values as they came, as prepared, and filter values.
type ReadRow = (Vec<f32>, Vec<f32>, Option<Vec<u8>>);

/// A row the build scan hands over: its values as they came, as prepared to
/// be indexed, and its filter values; None for a NULL vector or one with
/// nothing to index (a zero vector under cosine).
///
/// # Safety
/// `values` and `isnull` hold a value and null flag per key column, the
/// vector first, of the index `spec` describes.
unsafe fn read_row(
    spec: IndexSpec,
    columns: Option<FilterColumns>,
    context: &mut PgMemoryContexts,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
) -> Option<ReadRow> {
    // SAFETY: the caller's promise.
    if unsafe { *isnull } {
        return None;
    }
    check_for_interrupts();
    in_row_context(context, || {
        // SAFETY: the first key column's value, not null, of the indexed type.
        let values_of = unsafe { spec.column.values_of(*values) };
        check_dimensions(&spec, values_of.len());
        let prepared = spec.prepare(&values_of)?;
        // SAFETY: the caller's promise: a value and null flag per key column.
        let filter = columns.map(|c| unsafe { c.form(values, isnull) });
        Some((values_of, prepared, filter))
    })
}

/// # Safety
/// Only `build_scan` calls it, for `ambuild`, whose state is a
/// SampleState; a value and null flag per key column.
#[pg_guard]
unsafe extern "C-unwind" fn sample_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _tuple_is_alive: bool,
    state: *mut std::ffi::c_void,
) {
    // SAFETY: `state` is the SampleState passed to the scan; a value and a
    // null flag per key column, the vector first; the TID of the heap tuple.
    let (state, tid) = unsafe { (&mut *state.cast::<SampleState>(), heap_tid(tid)) };
    let d = state.spec.column.dimensions;
    // SAFETY: as above.
    let row = unsafe {
        read_row(
            state.spec,
            state.filter_columns,
            &mut state.row_context,
            values,
            isnull,
        )
    };
    let Some((row, _, filter)) = row else { return };
    let Some(slot) = state.reservoir.offer() else {
        return;
    };
    if slot == state.tids.len() {
        state.values.extend_from_slice(&row);
        state.tids.push(tid);
        state.filters.extend(filter);
    } else {
        state.values[slot * d..(slot + 1) * d].copy_from_slice(&row);
        state.tids[slot] = tid;
        if let Some(filter) = filter {
            state.filters[slot] = filter;
        }
    }
}

/// # Safety
/// Only `build_scan` calls it, for `ambuild`, whose state is an
/// AssignState; a value and null flag per key column.
#[pg_guard]
unsafe extern "C-unwind" fn assign_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _tuple_is_alive: bool,
    state: *mut std::ffi::c_void,
) {
    // SAFETY: `state` is the AssignState passed to the scan; a value and a
    // null flag per key column, the vector first; the TID of the heap tuple.
    let (state, tid) = unsafe { (&mut *state.cast::<AssignState>(), heap_tid(tid)) };
    // SAFETY: as above.
    let row = unsafe {
        read_row(
            state.spec,
            state.filter_columns,
            &mut state.row_context,
            values,
            isnull,
        )
    };
    if let Some((_, prepared, filter)) = row {
        state.batch.0.extend_from_slice(&prepared);
        state.batch.1.push(tid);
        state.batch.2.extend(filter);
        if state.batch_full() {
            state.flush();
        }
    }
}

pub fn check_dimensions(spec: &IndexSpec, found: usize) {
    if found != spec.column.dimensions {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!(
                "expected {} dimensions, not {found}",
                spec.column.dimensions
            )
        );
    }
}

/// The meta page of an index with nothing in it, at block 0 of `fork`.
fn write_empty_meta(index: pg_sys::Relation, spec: &IndexSpec, fork: pg_sys::ForkNumber::Type) {
    let buffer = LockedBuffer::extend(index, fork);
    let mut write = PageWrite::start(index, Logging::Build);
    let page = write.register(&buffer, true);
    // SAFETY: a new page, exclusively locked.
    unsafe { write_meta_page(page, &spec.empty_meta()) };
    write.commit();
}

/// ambuildempty: the init fork of an index on an unlogged table, an empty
/// index that replaces the main fork after a crash.
///
/// # Safety
/// Postgres calls it as the access method's ambuildempty, with the open index.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuildempty(index: pg_sys::Relation) {
    let spec = IndexSpec::of(index);
    write_empty_meta(index, &spec, pg_sys::ForkNumber::INIT_FORKNUM);
    // The init fork is always WAL-logged: GenericXLog would skip an unlogged relation.
    // SAFETY: `index` is open, and its init fork has the one page written above.
    unsafe { pg_sys::log_newpage_range(index, pg_sys::ForkNumber::INIT_FORKNUM, 0, 1, true) };
}
