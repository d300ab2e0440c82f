//! The access method handler: what `ivfflat` can do and its callbacks.

use super::build::{self, PHASE_ASSIGN, PHASE_KMEANS, PHASE_LOAD};
use super::{cost, insert, options, scan, vacuum};
use crate::am::callbacks::new_routine;
use pgrx::pg_sys;
use pgrx::prelude::*;

#[pg_extern(sql = false)]
fn ivfflat_handler(_fcinfo: pg_sys::FunctionCallInfo) -> PgBox<pg_sys::IndexAmRoutine> {
    let mut am = new_routine(5);
    am.ambuild = Some(build::ambuild);
    am.ambuildempty = Some(build::ambuildempty);
    am.aminsert = Some(insert::aminsert);
    am.ambulkdelete = Some(vacuum::ambulkdelete);
    am.amvacuumcleanup = Some(vacuum::amvacuumcleanup);
    am.amcostestimate = Some(cost::amcostestimate);
    am.amoptions = Some(options::amoptions);
    am.ambuildphasename = Some(build_phase_name);
    am.amvalidate = Some(validate);
    am.ambeginscan = Some(scan::ambeginscan);
    am.amrescan = Some(scan::amrescan);
    am.amgettuple = Some(scan::amgettuple);
    am.amendscan = Some(scan::amendscan);
    am.into_pg_boxed()
}

/// # Safety
/// Postgres calls it as the access method's ambuildphasename.
#[pg_guard]
unsafe extern "C-unwind" fn build_phase_name(phase: i64) -> *mut std::ffi::c_char {
    match phase {
        PHASE_KMEANS => c"performing k-means".as_ptr().cast_mut(),
        PHASE_ASSIGN => c"assigning tuples".as_ptr().cast_mut(),
        PHASE_LOAD => c"loading tuples".as_ptr().cast_mut(),
        _ => std::ptr::null_mut(),
    }
}

/// # Safety
/// Postgres calls it as the access method's amvalidate.
#[pg_guard]
unsafe extern "C-unwind" fn validate(_opclass: pg_sys::Oid) -> bool {
    true
}
