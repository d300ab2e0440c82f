//! pgrx: what Quiver adds to PostgreSQL's planner. A planner hook rewrites
//! similarity orderings to the distance the index serves (`similarity.rs`)
//! and, once a plan is made, moves conditions on filter columns into the
//! index scans that can check them (`filter_moves.rs`); the distance
//! functions' support function tells the planner what a call costs
//! (`support.rs`).

mod filter_moves;
mod similarity;
mod support;

use crate::search::cost::COST_PER_MICROSECOND;
use pgrx::pg_sys;

pub use similarity::init;

/// Microseconds of work as planner cost, on the scale of pages read.
pub fn microseconds_to_cost(microseconds: f64) -> f64 {
    // SAFETY: a plain GUC variable.
    microseconds * COST_PER_MICROSECOND * unsafe { pg_sys::seq_page_cost }
}
