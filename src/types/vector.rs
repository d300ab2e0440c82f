//! The SQL functions of `vector` and `halfvec`, exported under the C names
//! their SQL declarations use (`sql/vector.sql`, `sql/halfvec.sql`). Each is a
//! one-line call of the shared logic in `dense.rs` for its element type.

use super::dense;
use super::varlena::{HalfvecArg, HalfvecOut, VectorArg, VectorOut};
use pgrx::datum::{AnyArray, Internal};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::{CStr, CString};

macro_rules! dense_functions {
    ($arg:ty, $out:ty;
     input: $input:ident, output: $output:ident, typmod_in: $typmod_in:ident,
     receive: $receive:ident, send: $send:ident, cast: $cast:ident, from_array: $from_array:ident,
     to_float4: $to_float4:ident, l2_distance: $l2:ident, l2_squared_distance: $l2_squared:ident,
     inner_product: $ip:ident, negative_inner_product: $neg_ip:ident,
     spherical_distance: $spherical:ident, cosine_distance: $cosine:ident,
     l1_distance: $l1:ident, dims: $dims:ident, norm: $norm:ident, l2_normalize: $normalize:ident,
     subvector: $subvector:ident, binary_quantize: $quantize:ident,
     add: $add:ident, sub: $sub:ident, mul: $mul:ident, concat: $concat:ident,
     cmp: $cmp:ident, lt: $lt:ident, le: $le:ident, eq: $eq:ident, ne: $ne:ident, ge: $ge:ident, gt: $gt:ident,
     accumulate: $accum:ident, average: $avg:ident) => {
        #[pg_extern(sql = false)]
        fn $input(input: &CStr, _typioparam: pg_sys::Oid, typmod: i32) -> $out {
            dense::input(input, typmod)
        }
        #[pg_extern(sql = false)]
        fn $output(value: $arg) -> CString {
            dense::output(value)
        }
        #[pg_extern(sql = false)]
        fn $typmod_in(modifiers: AnyArray) -> i32 {
            dense::typmod_in::<<$arg as dense::Typed>::Element>(modifiers)
        }
        #[pg_extern(sql = false)]
        fn $receive(buf: Internal, _typioparam: pg_sys::Oid, typmod: i32) -> $out {
            dense::receive(buf, typmod)
        }
        #[pg_extern(sql = false)]
        fn $send(value: $arg) -> Vec<u8> {
            dense::send(value)
        }
        /// Cast to `type(n)`: enforces the declared dimensions.
        #[pg_extern(sql = false)]
        fn $cast(value: $arg, typmod: i32, _explicit: bool) -> $arg {
            dense::with_typmod(value, typmod)
        }
        #[pg_extern(sql = false)]
        fn $from_array(array: AnyArray, typmod: i32, _explicit: bool) -> $out {
            dense::from_array(array, typmod)
        }
        #[pg_extern(sql = false)]
        fn $to_float4(value: $arg, _typmod: i32, _explicit: bool) -> Vec<f32> {
            dense::to_f32s(&value)
        }
        #[pg_extern(sql = false)]
        fn $l2(a: $arg, b: $arg) -> f64 {
            dense::l2_distance(a, b)
        }
        #[pg_extern(sql = false)]
        fn $l2_squared(a: $arg, b: $arg) -> f64 {
            dense::l2_squared_distance(a, b)
        }
        #[pg_extern(sql = false)]
        fn $ip(a: $arg, b: $arg) -> f64 {
            dense::inner_product(a, b)
        }
        #[pg_extern(sql = false)]
        fn $neg_ip(a: $arg, b: $arg) -> f64 {
            dense::negative_inner_product(a, b)
        }
        #[pg_extern(sql = false)]
        fn $spherical(a: $arg, b: $arg) -> f64 {
            dense::spherical_distance(a, b)
        }
        #[pg_extern(sql = false)]
        fn $cosine(a: $arg, b: $arg) -> f64 {
            dense::cosine_distance(a, b)
        }
        #[pg_extern(sql = false)]
        fn $l1(a: $arg, b: $arg) -> f64 {
            dense::l1_distance(a, b)
        }
        #[pg_extern(sql = false)]
        fn $dims(value: $arg) -> i32 {
            value.dim() as i32
        }
        #[pg_extern(sql = false)]
        fn $norm(value: $arg) -> f64 {
            dense::norm(value)
        }
        #[pg_extern(sql = false)]
        fn $normalize(value: $arg) -> $out {
            dense::l2_normalize(value)
        }
        /// Elements `start .. start + count` (1-based), clipped to the value's extent.
        #[pg_extern(sql = false)]
        fn $subvector(value: $arg, start: i32, count: i32) -> $out {
            dense::subvector(value, start, count)
        }
        #[pg_extern(sql = false)]
        fn $quantize(value: $arg) -> super::bit::BitOut {
            dense::binary_quantize(value)
        }
        #[pg_extern(sql = false)]
        fn $add(a: $arg, b: $arg) -> $out {
            dense::add(a, b)
        }
        #[pg_extern(sql = false)]
        fn $sub(a: $arg, b: $arg) -> $out {
            dense::sub(a, b)
        }
        #[pg_extern(sql = false)]
        fn $mul(a: $arg, b: $arg) -> $out {
            dense::mul(a, b)
        }
        #[pg_extern(sql = false)]
        fn $concat(a: $arg, b: $arg) -> $out {
            dense::concat(a, b)
        }
        #[pg_extern(sql = false)]
        fn $cmp(a: $arg, b: $arg) -> i32 {
            dense::compare(&a, &b) as i32
        }
        #[pg_extern(sql = false)]
        fn $lt(a: $arg, b: $arg) -> bool {
            dense::compare(&a, &b).is_lt()
        }
        #[pg_extern(sql = false)]
        fn $le(a: $arg, b: $arg) -> bool {
            dense::compare(&a, &b).is_le()
        }
        #[pg_extern(sql = false)]
        fn $eq(a: $arg, b: $arg) -> bool {
            dense::compare(&a, &b).is_eq()
        }
        #[pg_extern(sql = false)]
        fn $ne(a: $arg, b: $arg) -> bool {
            dense::compare(&a, &b).is_ne()
        }
        #[pg_extern(sql = false)]
        fn $ge(a: $arg, b: $arg) -> bool {
            dense::compare(&a, &b).is_ge()
        }
        #[pg_extern(sql = false)]
        fn $gt(a: $arg, b: $arg) -> bool {
            dense::compare(&a, &b).is_gt()
        }
        #[pg_extern(sql = false)]
        fn $accum(state: AnyArray, value: $arg) -> Vec<f64> {
            dense::accumulate(state, value, stringify!($accum))
        }
        #[pg_extern(sql = false)]
        fn $avg(state: AnyArray) -> Option<$out> {
            dense::average(state, stringify!($avg))
        }
    };
}

dense_functions! {
    VectorArg, VectorOut;
    input: vector_in, output: vector_out, typmod_in: vector_typmod_in,
    receive: vector_recv, send: vector_send, cast: vector, from_array: array_to_vector,
    to_float4: vector_to_float4, l2_distance: l2_distance, l2_squared_distance: vector_l2_squared_distance,
    inner_product: inner_product, negative_inner_product: vector_negative_inner_product,
    spherical_distance: vector_spherical_distance,
    cosine_distance: cosine_distance, l1_distance: l1_distance, dims: vector_dims, norm: vector_norm,
    l2_normalize: l2_normalize, subvector: subvector, binary_quantize: binary_quantize,
    add: vector_add, sub: vector_sub, mul: vector_mul, concat: vector_concat,
    cmp: vector_cmp, lt: vector_lt, le: vector_le, eq: vector_eq, ne: vector_ne, ge: vector_ge, gt: vector_gt,
    accumulate: vector_accum, average: vector_avg
}

dense_functions! {
    HalfvecArg, HalfvecOut;
    input: halfvec_in, output: halfvec_out, typmod_in: halfvec_typmod_in,
    receive: halfvec_recv, send: halfvec_send, cast: halfvec, from_array: array_to_halfvec,
    to_float4: halfvec_to_float4, l2_distance: halfvec_l2_distance, l2_squared_distance: halfvec_l2_squared_distance,
    inner_product: halfvec_inner_product, negative_inner_product: halfvec_negative_inner_product,
    spherical_distance: halfvec_spherical_distance,
    cosine_distance: halfvec_cosine_distance, l1_distance: halfvec_l1_distance, dims: halfvec_vector_dims,
    norm: halfvec_l2_norm, l2_normalize: halfvec_l2_normalize, subvector: halfvec_subvector,
    binary_quantize: halfvec_binary_quantize,
    add: halfvec_add, sub: halfvec_sub, mul: halfvec_mul, concat: halfvec_concat,
    cmp: halfvec_cmp, lt: halfvec_lt, le: halfvec_le, eq: halfvec_eq, ne: halfvec_ne, ge: halfvec_ge, gt: halfvec_gt,
    accumulate: halfvec_accum, average: halfvec_avg
}

/// The avg state of both types is the same float8[].
#[pg_extern(sql = false)]
fn vector_combine(a: AnyArray, b: AnyArray) -> Vec<f64> {
    dense::combine(a, b)
}

#[pg_extern(sql = false)]
fn halfvec_to_vector(value: HalfvecArg, typmod: i32, _explicit: bool) -> VectorOut {
    dense::convert(value, typmod)
}

#[pg_extern(sql = false)]
fn vector_to_halfvec(value: VectorArg, typmod: i32, _explicit: bool) -> HalfvecOut {
    dense::convert(value, typmod)
}
