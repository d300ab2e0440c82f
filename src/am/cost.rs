//! What every index type's amcostestimate charges alike: the rows the
//! executor takes from a scan, and the heap fetches that bring them.

use pgrx::pg_sys;

/// Rows the executor takes from the scan: the query's LIMIT over the share
/// of rows its filter passes, or all of them.
///
/// # Safety
/// `root` and `path` must be the planner's, as amcostestimate gets them.
pub unsafe fn rows_handed_out(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    tuples: f64,
) -> f64 {
    // SAFETY: the caller's planner structs are valid; this reads two fields.
    unsafe {
        let limit = (*root).limit_tuples;
        let passing = (*path).path.rows.max(1.0);
        if limit > 0.0 {
            (limit * tuples / passing).clamp(1.0, tuples)
        } else {
            tuples
        }
    }
}

/// The heap fetches of the rows a scan hands out, per row, on top of what
/// Postgres' own index costing charges for them. That spreads one read of
/// every heap page over all the index's rows, as if the scan ran to the
/// end; a scan that stops after `h` rows reads about `h` pages for them
/// (fewer once pages repeat). They are priced as a bitmap heap scan prices
/// the pages of as many rows, so that the index and a btree-plus-sort plan
/// pay the same for the same pages.
///
/// # Safety
/// As `rows_handed_out`.
pub unsafe fn heap_fetch_cost(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    tuples: f64,
) -> f64 {
    // SAFETY: the caller's planner structs are valid, and an index path's
    // indexinfo has its table's RelOptInfo; the cost GUCs are plain variables.
    unsafe {
        let rel = (*(*path).indexinfo).rel;
        let pages = ((*rel).pages as f64).max(1.0);
        let (random, sequential) = (pg_sys::random_page_cost, pg_sys::seq_page_cost);
        let handed_out = rows_handed_out(root, path, tuples);
        let fetched =
            pg_sys::index_pages_fetched(handed_out, pages as pg_sys::BlockNumber, 0.0, root);
        let per_page = if fetched >= 2.0 {
            random - (random - sequential) * (fetched / pages).min(1.0).sqrt()
        } else {
            random
        };
        let charged = pg_sys::index_pages_fetched(tuples, pages as pg_sys::BlockNumber, 0.0, root)
            * random
            / tuples;
        (fetched * per_page / handed_out - charged).max(0.0)
    }
}
