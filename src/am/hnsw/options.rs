//! Index options (`WITH (m, ef_construction)`) and the `hnsw.*` settings.

use crate::hnsw;
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::pg_sys;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod stored;

pub static EF_SEARCH: GucSetting<i32> = GucSetting::<i32>::new(hnsw::DEFAULT_EF_SEARCH as i32);

/// Whether a scan goes on past its first ef_search candidates (pgvector's
/// names and meaning). Quiver's default is strict_order: a query that
/// filters with WHERE and asks for LIMIT k gets k rows when k rows match
/// (within max_scan_tuples), still in order of distance.
#[derive(pgrx::PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum IterativeScan {
    #[name = c"off"]
    Off,
    #[name = c"relaxed_order"]
    RelaxedOrder,
    #[name = c"strict_order"]
    StrictOrder,
}

pub static ITERATIVE_SCAN: GucSetting<IterativeScan> =
    GucSetting::<IterativeScan>::new(IterativeScan::StrictOrder);
pub static MAX_SCAN_TUPLES: GucSetting<i32> = GucSetting::<i32>::new(20_000);
pub static SCAN_MEM_MULTIPLIER: GucSetting<f64> = GucSetting::<f64>::new(1.0);

static RELOPT_KIND: AtomicU32 = AtomicU32::new(0);

/// The options as `build_reloptions` lays them out (read by `stored::decode`).
#[repr(C)]
#[allow(dead_code)] // PostgreSQL fills the fields in; Rust reads them as bytes.
struct Options {
    vl_len: i32,
    m: i32,
    ef_construction: i32,
    neighbor_codes: bool,
}

// `stored` reads the struct from its bytes at these places.
const _: () = assert!(
    std::mem::offset_of!(Options, m) == stored::M_AT
        && std::mem::offset_of!(Options, ef_construction) == stored::EF_CONSTRUCTION_AT
        && std::mem::offset_of!(Options, neighbor_codes) == stored::NEIGHBOR_CODES_AT
        && std::mem::size_of::<Options>() == stored::SIZE
);

/// Called once from _PG_init.
pub fn init() {
    GucRegistry::define_int_guc(
        c"hnsw.ef_search",
        c"Sets the size of the dynamic candidate list for search.",
        c"A larger value gives better recall at the cost of speed.",
        &EF_SEARCH,
        hnsw::MIN_EF_SEARCH as i32,
        hnsw::MAX_EF_SEARCH as i32,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"hnsw.iterative_scan",
        c"Whether a scan continues past its first ef_search candidates.",
        c"off: at most ef_search rows before filtering; relaxed_order: continue, each batch sorted; \
          strict_order: continue, rows in order of distance.",
        &ITERATIVE_SCAN,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"hnsw.max_scan_tuples",
        c"Sets the most index tuples an iterative scan returns.",
        c"",
        &MAX_SCAN_TUPLES,
        1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"hnsw.scan_mem_multiplier",
        c"Sets the memory an iterative scan may use, as a multiple of work_mem.",
        c"",
        &SCAN_MEM_MULTIPLIER,
        1.0,
        1000.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    // SAFETY: called from _PG_init, in the postmaster or a backend's startup.
    unsafe {
        pg_sys::MarkGUCPrefixReserved(c"hnsw".as_ptr());
        let kind = pg_sys::add_reloption_kind();
        RELOPT_KIND.store(kind, Ordering::Relaxed);
        pg_sys::add_int_reloption(
            kind,
            c"m".as_ptr(),
            c"Max number of connections".as_ptr(),
            hnsw::DEFAULT_M as i32,
            hnsw::MIN_M as i32,
            hnsw::MAX_M as i32,
            pg_sys::AccessExclusiveLock as i32,
        );
        pg_sys::add_int_reloption(
            kind,
            c"ef_construction".as_ptr(),
            c"Size of the dynamic candidate list for construction".as_ptr(),
            hnsw::DEFAULT_EF_CONSTRUCTION as i32,
            hnsw::MIN_EF_CONSTRUCTION as i32,
            hnsw::MAX_EF_CONSTRUCTION as i32,
            pg_sys::AccessExclusiveLock as i32,
        );
        pg_sys::add_bool_reloption(
            kind,
            c"neighbor_codes".as_ptr(),
            c"Store a compact code of each neighbor in the neighbor lists, for faster scans in a larger index".as_ptr(),
            false,
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
    let table = [
        pg_sys::relopt_parse_elt {
            optname: c"m".as_ptr(),
            opttype: pg_sys::relopt_type::RELOPT_TYPE_INT,
            offset: std::mem::offset_of!(Options, m) as i32,
        },
        pg_sys::relopt_parse_elt {
            optname: c"ef_construction".as_ptr(),
            opttype: pg_sys::relopt_type::RELOPT_TYPE_INT,
            offset: std::mem::offset_of!(Options, ef_construction) as i32,
        },
        pg_sys::relopt_parse_elt {
            optname: c"neighbor_codes".as_ptr(),
            opttype: pg_sys::relopt_type::RELOPT_TYPE_BOOL,
            offset: std::mem::offset_of!(Options, neighbor_codes) as i32,
        },
    ];
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

/// (m, ef_construction, neighbor_codes) of an index, defaults where not set.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn index_options(index: pg_sys::Relation) -> (usize, usize, bool) {
    // SAFETY: an open relation's rd_options is null or the struct amoptions
    // built, of size_of::<Options>() bytes.
    let options = unsafe { (*index).rd_options.cast::<u8>() };
    let bytes = (!options.is_null()).then(|| {
        // SAFETY: as above, not null; it lives as long as the relcache entry.
        unsafe { std::slice::from_raw_parts(options, std::mem::size_of::<Options>()) }
    });
    stored::decode(
        bytes,
        (hnsw::DEFAULT_M, hnsw::DEFAULT_EF_CONSTRUCTION, false),
    )
}

pub fn ef_search() -> usize {
    EF_SEARCH.get() as usize
}

/// Bytes an iterative scan may hold: work_mem times hnsw.scan_mem_multiplier.
pub fn scan_memory_limit() -> usize {
    // SAFETY: a plain GUC variable, in kilobytes.
    (unsafe { pg_sys::work_mem } as f64 * 1024.0 * SCAN_MEM_MULTIPLIER.get()) as usize
}
