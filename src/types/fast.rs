//! The distance operators' functions without pgrx's per-call wrapper, for
//! the common case. A sort or filter calls them once per row, and pgrx's
//! wrapper (a panic guard, argument boxing, and a guarded call to detoast
//! each argument) cost about a tenth of such a query. When both vectors are
//! stored plainly and have the same dimensions, the distance is computed in
//! place by code that cannot raise an ERROR or panic; anything else (a
//! toasted or compressed value, different dimensions) goes to the pgrx
//! function, which detoasts and reports errors as before.

use super::dense;
use super::varlena::{DenseArg, Element};
use half::f16;
use pgrx::pg_sys;

static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

/// The distance of two plain vectors of equal length, or the guarded call.
///
/// # Safety
/// `fcinfo` is a call of a STRICT function of two arguments of E's type,
/// and `guarded` the pgrx function of the same SQL function.
unsafe fn distance<E: Element>(
    fcinfo: pg_sys::FunctionCallInfo,
    of: fn(&[E], &[E]) -> f64,
    guarded: unsafe extern "C-unwind" fn(pg_sys::FunctionCallInfo) -> pg_sys::Datum,
) -> pg_sys::Datum {
    // SAFETY: as the caller promises; a STRICT function gets no NULLs.
    unsafe {
        let args = (*fcinfo).args.as_slice(2);
        if let (Some(a), Some(b)) = (
            DenseArg::<E>::plain(args[0].value),
            DenseArg::<E>::plain(args[1].value),
        ) {
            if a.len() == b.len() {
                (*fcinfo).isnull = false;
                return pg_sys::Datum::from(of(a, b).to_bits() as usize);
            }
        }
        guarded(fcinfo)
    }
}

/// `symbol(guarded, finfo, element, distance)`: exports `symbol`, taking the
/// fast path to `distance` and falling back to pgrx's `guarded`.
macro_rules! fast_distances {
    ($($symbol:ident($guarded:ident, $finfo:ident, $element:ty, $of:path);)*) => {
        $(
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $symbol(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
                extern "C-unwind" {
                    fn $guarded(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum;
                }
                // SAFETY: the SQL function is STRICT, of two arguments of this type.
                unsafe { distance::<$element>(fcinfo, $of, $guarded) }
            }
            #[no_mangle]
            pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
                &V1
            }
        )*
    };
}

fast_distances! {
    l2_distance_fast(l2_distance_wrapper, pg_finfo_l2_distance_fast, f32, dense::l2_of);
    vector_l2_squared_distance_fast(vector_l2_squared_distance_wrapper, pg_finfo_vector_l2_squared_distance_fast, f32, dense::l2_squared_of);
    inner_product_fast(inner_product_wrapper, pg_finfo_inner_product_fast, f32, dense::inner_product_of);
    vector_negative_inner_product_fast(vector_negative_inner_product_wrapper, pg_finfo_vector_negative_inner_product_fast, f32, dense::negative_inner_product_of);
    cosine_distance_fast(cosine_distance_wrapper, pg_finfo_cosine_distance_fast, f32, dense::cosine_of);
    l1_distance_fast(l1_distance_wrapper, pg_finfo_l1_distance_fast, f32, dense::l1_of);
    halfvec_l2_distance_fast(halfvec_l2_distance_wrapper, pg_finfo_halfvec_l2_distance_fast, f16, dense::l2_of);
    halfvec_l2_squared_distance_fast(halfvec_l2_squared_distance_wrapper, pg_finfo_halfvec_l2_squared_distance_fast, f16, dense::l2_squared_of);
    halfvec_inner_product_fast(halfvec_inner_product_wrapper, pg_finfo_halfvec_inner_product_fast, f16, dense::inner_product_of);
    halfvec_negative_inner_product_fast(halfvec_negative_inner_product_wrapper, pg_finfo_halfvec_negative_inner_product_fast, f16, dense::negative_inner_product_of);
    halfvec_cosine_distance_fast(halfvec_cosine_distance_wrapper, pg_finfo_halfvec_cosine_distance_fast, f16, dense::cosine_of);
    halfvec_l1_distance_fast(halfvec_l1_distance_wrapper, pg_finfo_halfvec_l1_distance_fast, f16, dense::l1_of);
}
