//! Index options (`WITH (lists)`) and the `ivfflat.*` settings, with
//! pgvector's names, defaults and bounds.

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;
use std::sync::atomic::{AtomicU32, Ordering};

pub const DEFAULT_LISTS: i32 = 100;
pub const MAX_LISTS: i32 = 32768;

pub static PROBES: GucSetting<i32> = GucSetting::<i32>::new(1);
pub static MAX_PROBES: GucSetting<i32> = GucSetting::<i32>::new(MAX_LISTS);

/// Whether a scan goes on to more lists once its probes are used up (for a
/// WHERE filter that rejected rows), pgvector's names and default.
#[derive(pgrx::PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum IterativeScan {
    #[name = c"off"]
    Off,
    #[name = c"relaxed_order"]
    RelaxedOrder,
}

pub static ITERATIVE_SCAN: GucSetting<IterativeScan> =
    GucSetting::<IterativeScan>::new(IterativeScan::Off);

static RELOPT_KIND: AtomicU32 = AtomicU32::new(0);

/// The options as `build_reloptions` lays them out.
#[repr(C)]
struct Options {
    vl_len: i32,
    lists: i32,
}

/// Called once from _PG_init.
pub fn init() {
    GucRegistry::define_int_guc(
        c"ivfflat.probes",
        c"Sets the number of probes",
        c"Valid range is 1..lists.",
        &PROBES,
        1,
        MAX_LISTS,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"ivfflat.iterative_scan",
        c"Sets the mode for iterative scans",
        c"off: the probes alone; relaxed_order: more lists while the executor asks for rows, \
          each list's rows in order.",
        &ITERATIVE_SCAN,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"ivfflat.max_probes",
        c"Sets the max number of probes for iterative scans",
        c"",
        &MAX_PROBES,
        1,
        MAX_LISTS,
        GucContext::Userset,
        GucFlags::default(),
    );
    // SAFETY: called from _PG_init, in the postmaster or a backend's startup.
    unsafe {
        pg_sys::MarkGUCPrefixReserved(c"ivfflat".as_ptr());
        let kind = pg_sys::add_reloption_kind();
        RELOPT_KIND.store(kind, Ordering::Relaxed);
        pg_sys::add_int_reloption(
            kind,
            c"lists".as_ptr(),
            c"Number of inverted lists".as_ptr(),
            DEFAULT_LISTS,
            1,
            MAX_LISTS,
            pg_sys::AccessExclusiveLock as i32,
        );
    }
}

/// amoptions: parses and validates `WITH (...)`.
///
/// # Safety
/// Postgres calls it as the access method's amoptions, with a reloptions
/// datum (text[] or null), after `init` registered the options.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(
    reloptions: pg_sys::Datum,
    validate: bool,
) -> *mut pg_sys::bytea {
    let table = [pg_sys::relopt_parse_elt {
        optname: c"lists".as_ptr(),
        opttype: pg_sys::relopt_type::RELOPT_TYPE_INT,
        offset: std::mem::offset_of!(Options, lists) as i32,
    }];
    // SAFETY: `reloptions` is what Postgres passed; `table` names the
    // options `init` registered, at their offsets in Options (#[repr(C)],
    // an int32 varlena header first), whose size is given.
    unsafe {
        crate::am::callbacks::parse_options(
            reloptions,
            validate,
            RELOPT_KIND.load(Ordering::Relaxed),
            std::mem::size_of::<Options>(),
            &table,
        )
    }
}

/// The index's `lists`, the default where not set.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn lists(index: pg_sys::Relation) -> u32 {
    // SAFETY: an open relation's rd_options is null or the struct amoptions
    // built, of size_of::<Options>() bytes, aligned as palloc aligns.
    let stored = unsafe {
        let options = (*index).rd_options.cast::<Options>();
        (!options.is_null()).then(|| (*options).lists)
    };
    stored.unwrap_or(DEFAULT_LISTS).clamp(1, MAX_LISTS) as u32
}

/// Lists a scan probes first.
pub fn probes() -> usize {
    PROBES.get().max(1) as usize
}

/// Lists an iterative scan probes at most (at least `probes`).
pub fn max_probes() -> usize {
    (MAX_PROBES.get().max(1) as usize).max(probes())
}
