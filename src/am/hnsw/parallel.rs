//! Parallel index build. The leader and its workers scan the table together
//! (a parallel table scan) and insert every row into one graph in dynamic
//! shared memory (`hnsw::shared`); the leader then writes that graph to pages
//! as the serial build writes its own. The graph must fit
//! maintenance_work_mem: a table that looks larger, or a graph that outgrows
//! its memory, is built by the serial build, which can spill to disk.

use super::level_for_tid;
use super::write::{insert_progress, write_graph};
use super::IndexSpec;
use crate::am::{check_for_interrupts, heap_tid};
use crate::hnsw::memory::{reconnect_unreachable_nodes, BuiltGraph, Inserted};
use crate::hnsw::shared::{SharedGraph, SharedLayout};
use crate::page::{self, HeapTid};
use crate::storage::port;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicU64, Ordering};

const KEY_SHARED: u64 = 0x5155_4956_4552_0001;
const KEY_SCAN: u64 = 0x5155_4956_4552_0002;
const KEY_GRAPH: u64 = 0x5155_4956_4552_0003;

/// What the leader tells its workers, and what they report back.
#[repr(C)]
struct ParallelShared {
    heap: pg_sys::Oid,
    index: pg_sys::Oid,
    concurrent: bool,
    layout: SharedLayout,
    heap_tuples: AtomicU64,
    index_tuples: AtomicU64,
}

/// Rows and index entries a build found.
pub struct BuildCounts {
    pub heap_tuples: f64,
    pub index_tuples: f64,
}

/// Rows below which a build stays in one process: under a second of work.
const MIN_ROWS_FOR_WORKERS: f64 = 5_000.0;

/// Processes to build with besides the leader: the table's parallel_workers
/// option if set, else max_parallel_maintenance_workers for a table of at
/// least MIN_ROWS_FOR_WORKERS rows. None for a temporary table (workers
/// cannot read it) or an index whose expressions or predicate workers may
/// not evaluate. Postgres asks only btree builds to go parallel (before 17),
/// so the index asks itself; and it counts rows, not pages as Postgres does,
/// since a build's work is per row and vectors past ~500 dimensions live in
/// TOAST, outside the table's pages.
pub fn workers_for(heap: pg_sys::Relation, index_info: *mut pg_sys::IndexInfo, rows: f64) -> i32 {
    // SAFETY: open relations; plain GUC variables.
    unsafe {
        let most = pg_sys::max_parallel_maintenance_workers;
        if pg_sys::Mode != pg_sys::ProcessingMode::NormalProcessing
            || most == 0
            || pg_sys::IsInParallelMode()
        {
            return 0;
        }
        if (*(*heap).rd_rel).relpersistence == pg_sys::RELPERSISTENCE_TEMP as std::ffi::c_char {
            return 0;
        }
        if !expressions_parallel_safe(index_info) {
            return 0;
        }
        let options = (*heap).rd_options.cast::<pg_sys::StdRdOptions>();
        let table_setting = if options.is_null() {
            -1
        } else {
            (*options).parallel_workers
        };
        if table_setting >= 0 {
            table_setting.min(most)
        } else if rows >= MIN_ROWS_FOR_WORKERS {
            most
        } else {
            0
        }
    }
}

/// Whether workers may evaluate the index's expressions and predicate, such
/// as `(embedding::halfvec(3072))`. PostgreSQL's plan_create_index_workers
/// asks the same, but also sizes by pages, which undercounts vectors kept
/// in TOAST; this takes its safety test alone, with the same dummy planner
/// state (zeroed, so that every function is looked at).
///
/// # Safety
/// `index_info` must be the IndexInfo Postgres passed to ambuild.
unsafe fn expressions_parallel_safe(index_info: *mut pg_sys::IndexInfo) -> bool {
    // SAFETY: the caller's IndexInfo is valid; the planner structs are zeroed
    // pallocs with their node tags, as plan_create_index_workers makes them.
    unsafe {
        let (expressions, predicate) = ((*index_info).ii_Expressions, (*index_info).ii_Predicate);
        if expressions.is_null() && predicate.is_null() {
            return true;
        }
        let glob = pg_sys::palloc0(std::mem::size_of::<pg_sys::PlannerGlobal>())
            .cast::<pg_sys::PlannerGlobal>();
        (*glob).type_ = pg_sys::NodeTag::T_PlannerGlobal;
        let root = pg_sys::palloc0(std::mem::size_of::<pg_sys::PlannerInfo>())
            .cast::<pg_sys::PlannerInfo>();
        (*root).type_ = pg_sys::NodeTag::T_PlannerInfo;
        (*root).glob = glob;
        pg_sys::is_parallel_safe(root, expressions.cast())
            && pg_sys::is_parallel_safe(root, predicate.cast())
    }
}

/// Rows the table likely holds: its statistics scaled to its size now, or,
/// never analyzed, as many rows of bare vectors as its pages hold.
pub fn estimate_rows(heap: pg_sys::Relation, dimensions: usize) -> f64 {
    // SAFETY: an open relation.
    unsafe {
        let blocks =
            pg_sys::RelationGetNumberOfBlocksInFork(heap, pg_sys::ForkNumber::MAIN_FORKNUM) as f64;
        let rel = &*(*heap).rd_rel;
        if rel.reltuples >= 0.0 && rel.relpages > 0 {
            return rel.reltuples as f64 / rel.relpages as f64 * blocks;
        }
        // A tuple header, the vector (8 bytes of header, 4 per element), a line pointer.
        let row_bytes = 24 + (8 + 4 * dimensions).div_ceil(8) * 8 + 4;
        blocks * ((pg_sys::BLCKSZ as usize - 24) / row_bytes) as f64
    }
}

/// The library the index's access method comes from ("$libdir/quiver"),
/// which workers load to find their entry point.
fn library_of(index: pg_sys::Relation) -> CString {
    // SAFETY: a syscache lookup of the handler function, released below.
    unsafe {
        let handler = (*index).rd_amhandler;
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            pg_sys::Datum::from(handler),
        );
        if tuple.is_null() {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("cache lookup failed for function {handler:?}")
            );
        }
        let mut isnull = false;
        let probin = pg_sys::SysCacheGetAttr(
            pg_sys::SysCacheIdentifier::PROCOID as i32,
            tuple,
            pg_sys::Anum_pg_proc_probin as pg_sys::AttrNumber,
            &mut isnull,
        );
        let library = if isnull {
            c"$libdir/quiver".to_owned()
        } else {
            CStr::from_ptr(pg_sys::text_to_cstring(probin.cast_mut_ptr())).to_owned()
        };
        pg_sys::ReleaseSysCache(tuple);
        library
    }
}

/// Builds the index with `workers` parallel workers and writes it; None when
/// it could not (no shared memory, or the graph outgrew it): the caller then
/// builds serially, the index still empty.
pub fn build(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    spec: &IndexSpec,
    workers: i32,
    rows: f64,
) -> Option<BuildCounts> {
    // SAFETY: a plain GUC variable, in kilobytes.
    let memory_limit = unsafe { pg_sys::maintenance_work_mem } as usize * 1024;
    // Room for a tenth more rows than estimated: tables grow, and statistics lag.
    let wanted = (rows * 1.1) as usize + 1000;
    let layout = SharedLayout::for_nodes(
        spec.params,
        spec.column.dimensions,
        page::HEAP_TIDS,
        wanted,
        usize::MAX,
    );
    if layout.bytes > memory_limit {
        ereport!(
            DEBUG1,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            format!("hnsw graph of about {rows:.0} rows needs {} kB, more than maintenance_work_mem: building serially", layout.bytes / 1024)
        );
        return None;
    }
    // SAFETY: the calls of a parallel index build, in nbtree's order; every
    // pointer comes from the context created here, alive until destroyed.
    unsafe {
        let concurrent = (*index_info).ii_Concurrent;
        pg_sys::EnterParallelMode();
        let library = library_of(index);
        let context = pg_sys::CreateParallelContext(
            library.as_ptr(),
            c"quiver_parallel_build_main".as_ptr(),
            workers,
        );
        let snapshot = if concurrent {
            pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot())
        } else {
            &raw mut pg_sys::SnapshotAnyData
        };
        let scan_bytes = pg_sys::table_parallelscan_estimate(heap, snapshot);
        let estimator = &mut (*context).estimator;
        port::shm_toc_estimate_chunk(estimator, std::mem::size_of::<ParallelShared>());
        port::shm_toc_estimate_chunk(estimator, scan_bytes);
        port::shm_toc_estimate_chunk(estimator, layout.bytes);
        port::shm_toc_estimate_keys(estimator, 3);
        pg_sys::InitializeParallelDSM(context);
        let finish = |context: *mut pg_sys::ParallelContext| {
            if concurrent {
                pg_sys::UnregisterSnapshot(snapshot);
            }
            pg_sys::DestroyParallelContext(context);
            pg_sys::ExitParallelMode();
        };
        if (*context).seg.is_null() {
            finish(context);
            return None;
        }
        let toc = (*context).toc;
        let shared = pg_sys::shm_toc_allocate(toc, std::mem::size_of::<ParallelShared>())
            .cast::<ParallelShared>();
        shared.write(ParallelShared {
            heap: (*heap).rd_id,
            index: (*index).rd_id,
            concurrent,
            layout,
            heap_tuples: AtomicU64::new(0),
            index_tuples: AtomicU64::new(0),
        });
        let scan =
            pg_sys::shm_toc_allocate(toc, scan_bytes).cast::<pg_sys::ParallelTableScanDescData>();
        pg_sys::table_parallelscan_initialize(heap, scan, snapshot);
        let graph_memory = pg_sys::shm_toc_allocate(toc, layout.bytes).cast::<u8>();
        SharedGraph::initialize(graph_memory, &layout);
        pg_sys::shm_toc_insert(toc, KEY_SHARED, shared.cast());
        pg_sys::shm_toc_insert(toc, KEY_SCAN, scan.cast());
        pg_sys::shm_toc_insert(toc, KEY_GRAPH, graph_memory.cast());
        pg_sys::LaunchParallelWorkers(context);
        ereport!(
            DEBUG1,
            PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            format!(
                "hnsw build with {} parallel workers launched of {workers} planned",
                (*context).nworkers_launched
            )
        );
        // The leader takes part too; with no worker launched it inserts every row.
        let started = std::time::Instant::now();
        participate(heap, index, index_info, &*shared, scan, graph_memory, true);
        pg_sys::WaitForParallelWorkersToFinish(context);
        let inserted = started.elapsed();

        let mut graph = SharedGraph::attach(graph_memory, layout, spec.column.distance());
        let counts = if graph.is_full() {
            ereport!(
                NOTICE,
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                format!("hnsw graph outgrew the {} kB of shared memory planned for about {rows:.0} rows", layout.bytes / 1024),
                "The index is built again without parallel workers. ANALYZE the table first so its size is known."
            );
            None
        } else {
            reconnect_unreachable_nodes(&mut graph, check_for_interrupts);
            let heap_tids: Vec<Vec<HeapTid>> = (0..graph.len() as u32)
                .map(|node| {
                    graph
                        .rows(node)
                        .into_iter()
                        .map(HeapTid::from_u64)
                        .collect()
                })
                .collect();
            write_graph(index, spec, &mut graph, &heap_tids, &[]);
            ereport!(
                DEBUG2,
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                format!(
                    "hnsw parallel build: inserts {inserted:?}, then written by {:?}",
                    started.elapsed()
                )
            );
            Some(BuildCounts {
                heap_tuples: (*shared).heap_tuples.load(Ordering::Relaxed) as f64,
                index_tuples: (*shared).index_tuples.load(Ordering::Relaxed) as f64,
            })
        };
        finish(context);
        counts
    }
}

/// A worker's entry point, found by name in the library.
///
/// # Safety
/// Called by Postgres' parallel worker startup with the build's segment.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn quiver_parallel_build_main(
    _segment: *mut pg_sys::dsm_segment,
    toc: *mut pg_sys::shm_toc,
) {
    // SAFETY: the leader put these keys in the table of contents.
    unsafe {
        let shared = &*pg_sys::shm_toc_lookup(toc, KEY_SHARED, false).cast::<ParallelShared>();
        let scan = pg_sys::shm_toc_lookup(toc, KEY_SCAN, false)
            .cast::<pg_sys::ParallelTableScanDescData>();
        let graph_memory = pg_sys::shm_toc_lookup(toc, KEY_GRAPH, false).cast::<u8>();
        // The leader's locks, as nbtree's workers take them.
        let (heap_lock, index_lock) = if shared.concurrent {
            (pg_sys::ShareUpdateExclusiveLock, pg_sys::RowExclusiveLock)
        } else {
            (pg_sys::ShareLock, pg_sys::AccessExclusiveLock)
        };
        let heap = pg_sys::table_open(shared.heap, heap_lock as pg_sys::LOCKMODE);
        let index = pg_sys::index_open(shared.index, index_lock as pg_sys::LOCKMODE);
        let index_info = pg_sys::BuildIndexInfo(index);
        (*index_info).ii_Concurrent = shared.concurrent;
        participate(heap, index, index_info, shared, scan, graph_memory, false);
        pg_sys::index_close(index, index_lock as pg_sys::LOCKMODE);
        pg_sys::table_close(heap, heap_lock as pg_sys::LOCKMODE);
    }
}

struct Participant<'a> {
    spec: IndexSpec,
    graph: SharedGraph,
    shared: &'a ParallelShared,
    /// Whether this is the leader, which reports progress.
    leader: bool,
    row_context: PgMemoryContexts,
}

/// Scans this process's share of the table into the shared graph.
///
/// # Safety
/// Open relations; `scan` and `graph_memory` are the build's shared ones.
unsafe fn participate(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    shared: &ParallelShared,
    scan: *mut pg_sys::ParallelTableScanDescData,
    graph_memory: *mut u8,
    leader: bool,
) {
    let spec = IndexSpec::of(index);
    let mut participant = Participant {
        spec,
        // SAFETY: the leader initialized the graph before any worker started.
        graph: unsafe { SharedGraph::attach(graph_memory, shared.layout, spec.column.distance()) },
        shared,
        leader,
        row_context: PgMemoryContexts::new("quiver hnsw parallel build row"),
    };
    // SAFETY: table_index_build_scan over a parallel scan, which it ends.
    let heap_tuples = unsafe {
        let table_scan = pg_sys::table_beginscan_parallel(heap, scan);
        crate::am::callbacks::build_scan(
            heap,
            index,
            index_info,
            Some(parallel_callback),
            &mut participant,
            leader,
            table_scan,
        )
    };
    shared
        .heap_tuples
        .fetch_add(heap_tuples as u64, Ordering::Relaxed);
}

/// # Safety
/// Only `table_index_build_scan` calls it, for `participate`, whose
/// `state` is a Participant; a value and null flag for the one column.
#[pg_guard]
unsafe extern "C-unwind" fn parallel_callback(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _tuple_is_alive: bool,
    state: *mut std::ffi::c_void,
) {
    // SAFETY: `state` is the Participant passed to the scan; one column.
    let participant = unsafe { &mut *state.cast::<Participant>() };
    // SAFETY: as above: the column's null flag.
    if unsafe { *isnull } || participant.graph.is_full() {
        return;
    }
    check_for_interrupts();
    // SAFETY: as above: the column's value, not null.
    let datum = unsafe { *values };
    // SAFETY: the scan passes the TID of the heap tuple it indexes.
    let tid = unsafe { heap_tid(tid) };
    let Participant {
        spec,
        graph,
        shared,
        leader,
        row_context,
    } = participant;
    let row = |_: &mut PgMemoryContexts| {
        // SAFETY: the indexed column is a non-null vector.
        let Some(vector) = (unsafe { spec.column.prepare(datum) }) else {
            return;
        };
        let level = level_for_tid(&spec.params, tid, 0);
        if let Ok(Inserted::New(_) | Inserted::Duplicate(_)) =
            graph.insert(&vector, level, tid.to_u64(), check_for_interrupts)
        {
            let done = shared.index_tuples.fetch_add(1, Ordering::Relaxed) + 1;
            if *leader {
                insert_progress(done as f64);
            }
        }
    };
    // SAFETY: the row context is the participant's own, valid until it ends;
    // nothing allocated in it outlives the row (the shared graph copies the
    // vector).
    unsafe { row_context.switch_to(row) };
    // SAFETY: as above: the row's allocations are no longer used.
    unsafe { row_context.reset() };
}
