//! The access method handler: what `hnsw` can do and its callbacks.

use super::{build, cost, insert, options, scan, vacuum};
use pgrx::pg_sys;
use pgrx::prelude::*;

#[pg_extern(sql = false)]
fn hnsw_handler(_fcinfo: pg_sys::FunctionCallInfo) -> PgBox<pg_sys::IndexAmRoutine> {
    // SAFETY: allocates a zeroed node of the right tag in the current context.
    let mut am =
        unsafe { PgBox::<pg_sys::IndexAmRoutine>::alloc_node(pg_sys::NodeTag::T_IndexAmRoutine) };
    am.amstrategies = 0;
    am.amsupport = 3;
    am.amoptsprocnum = 0;
    am.amcanorder = false;
    am.amcanorderbyop = true;
    am.amcanbackward = false;
    am.amcanunique = false;
    // The vector, then filter columns the scan checks (`filter`).
    am.amcanmulticol = true;
    am.amoptionalkey = true;
    am.amsearcharray = true;
    am.amsearchnulls = true;
    am.amstorage = false;
    am.amclusterable = false;
    am.ampredlocks = false;
    am.amcanparallel = false;
    am.amcaninclude = false;
    am.amusemaintenanceworkmem = false;
    #[cfg(feature = "pg16")]
    {
        am.amsummarizing = false;
    }
    am.amparallelvacuumoptions = pg_sys::VACUUM_OPTION_PARALLEL_BULKDEL as u8;
    am.amkeytype = pg_sys::InvalidOid;

    am.ambuild = Some(build::ambuild);
    am.ambuildempty = Some(build::ambuildempty);
    am.aminsert = Some(insert::aminsert);
    am.ambulkdelete = Some(vacuum::ambulkdelete);
    am.amvacuumcleanup = Some(vacuum::amvacuumcleanup);
    am.amcanreturn = None;
    am.amcostestimate = Some(cost::amcostestimate);
    am.amoptions = Some(options::amoptions);
    am.amproperty = None;
    am.ambuildphasename = Some(build_phase_name);
    am.amvalidate = Some(validate);
    am.amadjustmembers = None;
    am.ambeginscan = Some(scan::ambeginscan);
    am.amrescan = Some(scan::amrescan);
    am.amgettuple = Some(scan::amgettuple);
    am.amgetbitmap = None;
    am.amendscan = Some(scan::amendscan);
    am.ammarkpos = None;
    am.amrestrpos = None;
    am.amestimateparallelscan = None;
    am.aminitparallelscan = None;
    am.amparallelrescan = None;
    am.into_pg_boxed()
}

/// # Safety
/// Postgres calls it as the access method's ambuildphasename.
#[pg_guard]
unsafe extern "C-unwind" fn build_phase_name(phase: i64) -> *mut std::ffi::c_char {
    match phase {
        2 => c"loading tuples".as_ptr().cast_mut(),
        _ => std::ptr::null_mut(),
    }
}

/// # Safety
/// Postgres calls it as the access method's amvalidate.
#[pg_guard]
unsafe extern "C-unwind" fn validate(_opclass: pg_sys::Oid) -> bool {
    true
}
