//! pgvector's C symbol names. pgvector's extension script names each C
//! function by its symbol in `$libdir/vector`, mostly its SQL name
//! (`vector_in`, `l2_distance`, `hnswhandler`). A database pgvector created
//! keeps those names in its catalog; when Quiver is installed as `vector` over
//! pgvector's files, each must find Quiver's implementation of the same SQL
//! function, exported as that name with `_wrapper` (the names and arguments
//! match those of pgvector 0.8.5's scripts, every version's upgrade included).
//! The few that only pgvector's own index code calls raise an ERROR.

use pgrx::pg_sys;
use pgrx::prelude::*;

/// The version-1 calling convention, which all of them use.
static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

/// `pgvector_name => quiver_symbol, pg_finfo_pgvector_name;`: exports
/// `pgvector_name`, and its calling-convention record, calling `quiver_symbol`.
macro_rules! alias {
    ($($pgvector:ident => $quiver:ident, $finfo:ident;)*) => {
        $(
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $pgvector(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
                extern "C-unwind" {
                    fn $quiver(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum;
                }
                // SAFETY: the same SQL signature as Quiver's function, so the same arguments.
                unsafe { $quiver(fcinfo) }
            }
            #[no_mangle]
            pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
                &V1
            }
        )*
    };
}

alias! {
    array_to_halfvec => array_to_halfvec_wrapper, pg_finfo_array_to_halfvec;
    array_to_sparsevec => array_to_sparsevec_wrapper, pg_finfo_array_to_sparsevec;
    array_to_vector => array_to_vector_wrapper, pg_finfo_array_to_vector;
    binary_quantize => binary_quantize_wrapper, pg_finfo_binary_quantize;
    cosine_distance => cosine_distance_fast, pg_finfo_cosine_distance;
    halfvec => halfvec_wrapper, pg_finfo_halfvec;
    halfvec_accum => halfvec_accum_wrapper, pg_finfo_halfvec_accum;
    halfvec_add => halfvec_add_wrapper, pg_finfo_halfvec_add;
    halfvec_avg => halfvec_avg_wrapper, pg_finfo_halfvec_avg;
    halfvec_binary_quantize => halfvec_binary_quantize_wrapper, pg_finfo_halfvec_binary_quantize;
    halfvec_cmp => halfvec_cmp_wrapper, pg_finfo_halfvec_cmp;
    halfvec_concat => halfvec_concat_wrapper, pg_finfo_halfvec_concat;
    halfvec_cosine_distance => halfvec_cosine_distance_fast, pg_finfo_halfvec_cosine_distance;
    halfvec_eq => halfvec_eq_wrapper, pg_finfo_halfvec_eq;
    halfvec_ge => halfvec_ge_wrapper, pg_finfo_halfvec_ge;
    halfvec_gt => halfvec_gt_wrapper, pg_finfo_halfvec_gt;
    halfvec_in => halfvec_in_wrapper, pg_finfo_halfvec_in;
    halfvec_inner_product => halfvec_inner_product_fast, pg_finfo_halfvec_inner_product;
    halfvec_l1_distance => halfvec_l1_distance_fast, pg_finfo_halfvec_l1_distance;
    halfvec_l2_distance => halfvec_l2_distance_fast, pg_finfo_halfvec_l2_distance;
    halfvec_l2_norm => halfvec_l2_norm_wrapper, pg_finfo_halfvec_l2_norm;
    halfvec_l2_normalize => halfvec_l2_normalize_wrapper, pg_finfo_halfvec_l2_normalize;
    halfvec_l2_squared_distance => halfvec_l2_squared_distance_fast, pg_finfo_halfvec_l2_squared_distance;
    halfvec_le => halfvec_le_wrapper, pg_finfo_halfvec_le;
    halfvec_lt => halfvec_lt_wrapper, pg_finfo_halfvec_lt;
    halfvec_mul => halfvec_mul_wrapper, pg_finfo_halfvec_mul;
    halfvec_ne => halfvec_ne_wrapper, pg_finfo_halfvec_ne;
    halfvec_negative_inner_product => halfvec_negative_inner_product_fast, pg_finfo_halfvec_negative_inner_product;
    halfvec_out => halfvec_out_wrapper, pg_finfo_halfvec_out;
    halfvec_recv => halfvec_recv_wrapper, pg_finfo_halfvec_recv;
    halfvec_send => halfvec_send_wrapper, pg_finfo_halfvec_send;
    halfvec_sub => halfvec_sub_wrapper, pg_finfo_halfvec_sub;
    halfvec_subvector => halfvec_subvector_wrapper, pg_finfo_halfvec_subvector;
    halfvec_to_float4 => halfvec_to_float4_wrapper, pg_finfo_halfvec_to_float4;
    halfvec_to_sparsevec => halfvec_to_sparsevec_wrapper, pg_finfo_halfvec_to_sparsevec;
    halfvec_to_vector => halfvec_to_vector_wrapper, pg_finfo_halfvec_to_vector;
    halfvec_typmod_in => halfvec_typmod_in_wrapper, pg_finfo_halfvec_typmod_in;
    halfvec_vector_dims => halfvec_vector_dims_wrapper, pg_finfo_halfvec_vector_dims;
    hamming_distance => hamming_distance_wrapper, pg_finfo_hamming_distance;
    inner_product => inner_product_fast, pg_finfo_inner_product;
    jaccard_distance => jaccard_distance_wrapper, pg_finfo_jaccard_distance;
    l1_distance => l1_distance_fast, pg_finfo_l1_distance;
    l2_distance => l2_distance_fast, pg_finfo_l2_distance;
    l2_normalize => l2_normalize_wrapper, pg_finfo_l2_normalize;
    sparsevec => sparsevec_wrapper, pg_finfo_sparsevec;
    sparsevec_cmp => sparsevec_cmp_wrapper, pg_finfo_sparsevec_cmp;
    sparsevec_cosine_distance => sparsevec_cosine_distance_wrapper, pg_finfo_sparsevec_cosine_distance;
    sparsevec_eq => sparsevec_eq_wrapper, pg_finfo_sparsevec_eq;
    sparsevec_ge => sparsevec_ge_wrapper, pg_finfo_sparsevec_ge;
    sparsevec_gt => sparsevec_gt_wrapper, pg_finfo_sparsevec_gt;
    sparsevec_in => sparsevec_in_wrapper, pg_finfo_sparsevec_in;
    sparsevec_inner_product => sparsevec_inner_product_wrapper, pg_finfo_sparsevec_inner_product;
    sparsevec_l1_distance => sparsevec_l1_distance_wrapper, pg_finfo_sparsevec_l1_distance;
    sparsevec_l2_distance => sparsevec_l2_distance_wrapper, pg_finfo_sparsevec_l2_distance;
    sparsevec_l2_norm => sparsevec_l2_norm_wrapper, pg_finfo_sparsevec_l2_norm;
    sparsevec_l2_normalize => sparsevec_l2_normalize_wrapper, pg_finfo_sparsevec_l2_normalize;
    sparsevec_l2_squared_distance => sparsevec_l2_squared_distance_wrapper, pg_finfo_sparsevec_l2_squared_distance;
    sparsevec_le => sparsevec_le_wrapper, pg_finfo_sparsevec_le;
    sparsevec_lt => sparsevec_lt_wrapper, pg_finfo_sparsevec_lt;
    sparsevec_ne => sparsevec_ne_wrapper, pg_finfo_sparsevec_ne;
    sparsevec_negative_inner_product => sparsevec_negative_inner_product_wrapper, pg_finfo_sparsevec_negative_inner_product;
    sparsevec_out => sparsevec_out_wrapper, pg_finfo_sparsevec_out;
    sparsevec_recv => sparsevec_recv_wrapper, pg_finfo_sparsevec_recv;
    sparsevec_send => sparsevec_send_wrapper, pg_finfo_sparsevec_send;
    sparsevec_to_halfvec => sparsevec_to_halfvec_wrapper, pg_finfo_sparsevec_to_halfvec;
    sparsevec_to_vector => sparsevec_to_vector_wrapper, pg_finfo_sparsevec_to_vector;
    sparsevec_typmod_in => sparsevec_typmod_in_wrapper, pg_finfo_sparsevec_typmod_in;
    subvector => subvector_wrapper, pg_finfo_subvector;
    vector => vector_wrapper, pg_finfo_vector;
    vector_accum => vector_accum_wrapper, pg_finfo_vector_accum;
    vector_add => vector_add_wrapper, pg_finfo_vector_add;
    vector_avg => vector_avg_wrapper, pg_finfo_vector_avg;
    vector_cmp => vector_cmp_wrapper, pg_finfo_vector_cmp;
    vector_combine => vector_combine_wrapper, pg_finfo_vector_combine;
    vector_concat => vector_concat_wrapper, pg_finfo_vector_concat;
    vector_dims => vector_dims_wrapper, pg_finfo_vector_dims;
    vector_eq => vector_eq_wrapper, pg_finfo_vector_eq;
    vector_ge => vector_ge_wrapper, pg_finfo_vector_ge;
    vector_gt => vector_gt_wrapper, pg_finfo_vector_gt;
    vector_in => vector_in_wrapper, pg_finfo_vector_in;
    vector_l2_squared_distance => vector_l2_squared_distance_fast, pg_finfo_vector_l2_squared_distance;
    vector_le => vector_le_wrapper, pg_finfo_vector_le;
    vector_lt => vector_lt_wrapper, pg_finfo_vector_lt;
    vector_mul => vector_mul_wrapper, pg_finfo_vector_mul;
    vector_ne => vector_ne_wrapper, pg_finfo_vector_ne;
    vector_negative_inner_product => vector_negative_inner_product_fast, pg_finfo_vector_negative_inner_product;
    vector_norm => vector_norm_wrapper, pg_finfo_vector_norm;
    vector_out => vector_out_wrapper, pg_finfo_vector_out;
    vector_recv => vector_recv_wrapper, pg_finfo_vector_recv;
    vector_send => vector_send_wrapper, pg_finfo_vector_send;
    vector_sub => vector_sub_wrapper, pg_finfo_vector_sub;
    vector_to_float4 => vector_to_float4_wrapper, pg_finfo_vector_to_float4;
    vector_to_halfvec => vector_to_halfvec_wrapper, pg_finfo_vector_to_halfvec;
    vector_to_sparsevec => vector_to_sparsevec_wrapper, pg_finfo_vector_to_sparsevec;
    vector_typmod_in => vector_typmod_in_wrapper, pg_finfo_vector_typmod_in;
    hnswhandler => hnsw_handler_wrapper, pg_finfo_hnswhandler;
    ivfflathandler => ivfflat_handler_wrapper, pg_finfo_ivfflathandler;
    halfvec_spherical_distance => halfvec_spherical_distance_wrapper, pg_finfo_halfvec_spherical_distance;
    hnsw_bit_support => pgvector_only_wrapper, pg_finfo_hnsw_bit_support;
    hnsw_halfvec_support => pgvector_only_wrapper, pg_finfo_hnsw_halfvec_support;
    hnsw_sparsevec_support => pgvector_only_wrapper, pg_finfo_hnsw_sparsevec_support;
    ivfflat_bit_support => pgvector_only_wrapper, pg_finfo_ivfflat_bit_support;
    ivfflat_halfvec_support => pgvector_only_wrapper, pg_finfo_ivfflat_halfvec_support;
    vector_spherical_distance => vector_spherical_distance_wrapper, pg_finfo_vector_spherical_distance;
}

/// For the support functions of pgvector's index code, which Quiver's never calls.
#[pg_extern(sql = false)]
fn pgvector_only(_fcinfo: pg_sys::FunctionCallInfo) -> pgrx::Internal {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        "this function belongs to pgvector's index code, which Quiver replaces",
        "REINDEX the index that called it, and drop ivfflat indexes."
    );
}
