//! amcostestimate: the index serves `ORDER BY column <op> constant` only, and
//! costs what a search visits, so the planner picks it for nearest-neighbour
//! queries and never for anything else.

use super::options::{self, IterativeScan};
use pgrx::pg_sys;
use pgrx::prelude::*;

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
    unsafe {
        *correlation = 0.0;
        if (*path).indexorderbys.is_null() {
            // Without an ordering the index cannot answer: make it never chosen.
            *startup_cost = f64::INFINITY;
            *total_cost = f64::INFINITY;
            *selectivity = 0.0;
            *pages = 0.0;
            return;
        }
        let mut costs = pg_sys::GenericCosts::default();
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);

        let info = (*path).indexinfo;
        let tuples = (*info).tuples.max(1.0);
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as i32);
        let (m, _) = options::index_options(index);
        pg_sys::index_close(index, pg_sys::NoLock as i32);

        // A search descends the upper layers, then expands about ef_search
        // nodes of layer 0, measuring up to 2m neighbors of each.
        let layers = (tuples.ln() / (m as f64).ln()).max(1.0);
        let table_pages = (*(*info).rel).pages as f64;
        // Visiting `visited` nodes: each may sit on its own page. A sequential
        // scan is not charged for the TOAST pages its vectors occupy, so count
        // no more index pages than the table has, at the sequential rate.
        let search_cost = |visited: f64| {
            let index_pages = (costs.numIndexPages * visited / tuples).min(visited).min(table_pages.max(1.0));
            let cpu = visited * (pg_sys::cpu_index_tuple_cost + pg_sys::cpu_operator_cost);
            (cpu + index_pages * pg_sys::seq_page_cost, index_pages)
        };
        let first_batch = ((options::ef_search() as f64 + layers) * 2.0 * m as f64).min(tuples);
        let (first_cost, first_pages) = search_cost(first_batch);
        // The first batch is all done before its first row comes back. Past
        // it, an iterative scan visits more of the graph for as long as the
        // executor wants rows: under LIMIT k with a WHERE filter of
        // selectivity s, the planner charges about k / s rows' worth of that,
        // so a very selective filter makes another plan cheaper.
        let most = if options::ITERATIVE_SCAN.get() == IterativeScan::Off {
            first_batch
        } else {
            (options::MAX_SCAN_TUPLES.get() as f64).min(tuples).max(first_batch)
        };
        let (all_cost, _) = search_cost(most);
        *startup_cost = first_cost;
        *total_cost = all_cost.max(first_cost);
        *selectivity = costs.indexSelectivity;
        *pages = first_pages;
    }
}
