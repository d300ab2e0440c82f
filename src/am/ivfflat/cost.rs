//! amcostestimate: the index serves `ORDER BY column <op> constant` only. A
//! scan ranks every center, reads the entries of `probes` lists (their share
//! of the index's pages and rows) and estimates each row from its code
//! before the first row comes back (the startup cost); each row handed out
//! then costs its heap fetch and the executor's recheck of its distance.
//! An untrained index measures every pending row.

use super::options::{self, IterativeScan};
use super::IndexSpec;
use crate::am::cost::heap_fetch_cost;
use crate::planner::microseconds_to_cost;
use crate::search::cost::{distance_call_microseconds, visit_microseconds, HANDOUT_MICROSECONDS};
use crate::storage::meta::read_ivf_meta;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Estimating one entry from its 8-bit code, and pushing it on the heap of
/// rows found: about a quarter of measuring a float4 vector.
fn entry_microseconds(dimensions: usize) -> f64 {
    0.05 + 0.0003 * dimensions as f64
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
    // SAFETY: the planner passes valid structs and output pointers, and
    // already locks the index, so NoLock opens it.
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
        let index_pages = ((*info).pages as f64).max(1.0);
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as i32);
        let spec = IndexSpec::cached(index);
        let meta = read_ivf_meta(index);
        pg_sys::index_close(index, pg_sys::NoLock as i32);
        let d = spec.column.dimensions;
        let lists = meta.lists.max(1) as f64;
        let (share, per_entry, centers) = if meta.trained {
            let probes = (options::probes() as f64).min(lists);
            (
                probes / lists,
                entry_microseconds(d),
                lists * visit_microseconds(d),
            )
        } else {
            (1.0, visit_microseconds(d), 0.0)
        };
        let entries = tuples * share;
        let read_pages = (index_pages * share).max(1.0);
        let sort = entries * entries.max(2.0).log2() * 0.005;
        let startup = microseconds_to_cost(centers + entries * per_entry + sort)
            + read_pages * pg_sys::seq_page_cost;
        // Conditions on filter columns pass a share of the entries; only
        // those are handed out and fetched.
        let passing = costs.indexSelectivity.clamp(1.0 / tuples, 1.0);
        let index_rows = (tuples * passing).max(1.0);
        let checks = pg_sys::list_length((*path).indexclauses) as f64 * pg_sys::cpu_operator_cost;
        let recheck = if meta.trained && meta.code_bits != 0 {
            distance_call_microseconds(d, 0)
        } else {
            0.0
        };
        let per_row = microseconds_to_cost(HANDOUT_MICROSECONDS + recheck)
            + heap_fetch_cost(root, path, index_rows)
            + checks / passing;
        // With iterative scans off, a scan ends after its probes.
        let off = options::ITERATIVE_SCAN.get() == IterativeScan::Off;
        let rows = if off {
            (entries * passing).min(index_rows)
        } else {
            index_rows
        };
        *startup_cost = startup;
        *total_cost = startup + rows.max(1.0) * per_row;
        *selectivity = costs.indexSelectivity;
        *pages = read_pages;
    }
}
