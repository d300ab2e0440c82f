//! amcostestimate: the index serves `ORDER BY column <op> constant` only, and
//! costs what a scan does (`hnsw::cost`), so that the planner picks it for
//! nearest-neighbour queries and, under a selective filter, weighs it fairly
//! against a btree and an exact sort.
//!
//! A scan measures its first batch before the first row comes back (the
//! startup cost), then goes on, a row at a time, for as long as the executor
//! asks. Under `WHERE filter ORDER BY ... LIMIT k`, with the filter passing a
//! share s of the rows, the executor takes about k / s rows from the index;
//! the planner gets that count itself from the LIMIT and the filter's
//! selectivity when the total cost is that of handing out every row. The cost
//! is not cut at hnsw.max_scan_tuples: past it a scan returns fewer rows than
//! asked, and a plan that would should look dear, not cheap.

use super::options::{self, IterativeScan};
use crate::am::cost::heap_fetch_cost;
use crate::hnsw::cost::{self, WalkCost};
use crate::planner::microseconds_to_cost;
use crate::search::cost::{exact_filter_microseconds, HANDOUT_MICROSECONDS};
use crate::storage::meta::read_meta;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// What sample scans measured, at DEBUG1.
pub fn report_walk(when: &str, walk: &WalkCost) {
    pgrx::debug1!(
        "hnsw {when}: a first batch measures {:.0} nodes, later rows {:.2} each",
        walk.first_batch_visits,
        walk.visits_per_row
    );
}

/// # Safety
/// Postgres calls it as the access method's amcostestimate, with the
/// planner's structs and valid output pointers.
#[pg_guard]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C-unwind" fn amcostestimate(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    loop_count: f64,
    startup_cost: *mut pg_sys::Cost,
    total_cost: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    pages: *mut f64,
) {
    // SAFETY: the planner passes valid structs and output pointers. The
    // planner already locks the index, so NoLock opens it; read_meta needs
    // nothing else of it.
    unsafe {
        *correlation = 0.0;
        if crate::am::callbacks::refuse_unordered(
            path,
            startup_cost,
            total_cost,
            selectivity,
            pages,
        ) {
            return;
        }
        let mut costs = pg_sys::GenericCosts::default();
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);

        let info = (*path).indexinfo;
        let tuples = (*info).tuples.max(1.0);
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as i32);
        let meta = read_meta(index);
        pg_sys::index_close(index, pg_sys::NoLock as i32);

        let walk = WalkCost::decode(meta.walk_first_batch_visits, meta.walk_visits_per_row_milli)
            .unwrap_or(WalkCost::UNMEASURED);
        let ef = options::ef_search();
        let scan = cost::scan_cost(walk, meta.dimensions as usize, meta.m as usize, tuples, ef);
        let startup = microseconds_to_cost(scan.startup);
        // Conditions on filter columns (index quals) pass a share of the
        // nodes: the walk goes through all of them, each costing a check,
        // and hands out (and the executor fetches) only that share.
        let passing = costs.indexSelectivity.clamp(1.0 / tuples, 1.0);
        let index_rows = (tuples * passing).max(1.0);
        let checks = pg_sys::list_length((*path).indexclauses) as f64 * pg_sys::cpu_operator_cost;
        let heap_fetch = heap_fetch_cost(root, path, index_rows);
        let exact = meta.filter_directory
            && checks > 0.0
            && index_rows <= cost::exact_filter_limit(ef, tuples);
        if exact {
            // The scan checks every directory entry and measures the rows
            // that pass before it hands out the nearest (`scan::passing_elements`).
            let entries = meta.element_count.max(1) as f64;
            let work = exact_filter_microseconds(entries, index_rows, meta.dimensions as usize);
            // Its pages: the directory (about 100 entries a page) and an
            // element's page per passing row, both read in block order, at
            // seq_page_cost. Calibrated on 60,000 rows at 1%: where a btree
            // and a sort take 0.5 ms on plain 384-d vectors the scan takes
            // 1.5 and must cost more (2,480 against 2,295); where a bitmap
            // scan and a sort of compressed 784-d vectors take 3.5 ms and a
            // sequential scan 6.2, it must cost less (2,730 against 3,728
            // and 4,242). Without the pages the first went wrong; with
            // element pages at random_page_cost, the second.
            let index_pages = ((*info).pages as f64).max(1.0);
            let element_pages = pg_sys::index_pages_fetched(
                index_rows,
                index_pages as pg_sys::BlockNumber,
                0.0,
                root,
            );
            let pages = ((entries / 100.0).ceil() + element_pages) * pg_sys::seq_page_cost;
            *startup_cost = microseconds_to_cost(work) + pages;
            *total_cost = *startup_cost
                + index_rows * (microseconds_to_cost(HANDOUT_MICROSECONDS) + heap_fetch);
        } else {
            let per_row = (microseconds_to_cost(scan.per_row) + checks) / passing + heap_fetch;
            // With iterative scans off, a scan ends after its first batch.
            let off = options::ITERATIVE_SCAN.get() == IterativeScan::Off;
            let rows = if off {
                (ef as f64 * passing).min(index_rows)
            } else {
                index_rows
            };
            *startup_cost = startup;
            *total_cost = startup + rows * per_row;
        }
        *selectivity = costs.indexSelectivity;
        // Index pages a first batch reads, for the planner's cache estimates.
        *pages = (costs.numIndexPages * scan.startup_visits / tuples)
            .clamp(1.0, costs.numIndexPages.max(1.0));
    }
}
