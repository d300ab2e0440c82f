//! Quiver: vector similarity search for PostgreSQL, with pgvector's SQL surface.

pub mod am;
mod compat;
pub mod hnsw;
pub mod ivf;
pub mod kernels;
pub mod page;
mod planner;
pub mod quant;
pub mod search;
pub mod storage;
pub mod types;

pgrx::pg_module_magic!(name, version);

// Every SQL object is declared by hand, in dependency order, so the extension
// script is exactly what a pgvector user would read; the Rust functions only
// export their C symbols (`#[pg_extern(sql = false)]`).
pgrx::extension_sql_file!("../sql/vector.sql", name = "vector", bootstrap);
pgrx::extension_sql_file!(
    "../sql/halfvec.sql",
    name = "halfvec",
    requires = ["vector"]
);
pgrx::extension_sql_file!("../sql/bit.sql", name = "bit", requires = ["halfvec"]);
pgrx::extension_sql_file!(
    "../sql/sparsevec.sql",
    name = "sparsevec",
    requires = ["bit"]
);
pgrx::extension_sql_file!("../sql/hnsw.sql", name = "hnsw", requires = ["sparsevec"]);
pgrx::extension_sql_file!(
    "../sql/hnsw_filters.sql",
    name = "hnsw_filters",
    requires = ["hnsw"]
);
pgrx::extension_sql_file!(
    "../sql/comments.sql",
    name = "comments",
    requires = ["hnsw_filters"],
    finalize
);

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // pgrx puts a Rust backtrace into the DETAIL of every ERROR raised from
    // Rust when the server's environment has RUST_BACKTRACE set; a user's
    // error must read the same whatever the environment. RUST_LIB_BACKTRACE
    // rules std's backtrace capture and leaves panic messages alone. The
    // backend is single-threaded here, so changing the environment is safe.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    am::hnsw::options::init();
    am::ivfflat::options::init();
    planner::init();
}

#[cfg(any(test, feature = "pg_test"))]
mod pg_tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
