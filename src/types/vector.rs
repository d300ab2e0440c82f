//! SQL functions of the `vector` type. Their SQL declarations, with the
//! operators, casts, aggregates and operator classes, are in `sql/vector.sql`.

use super::errors::*;
use super::literal;
use super::varlena::{VectorArg, VectorOut};
use crate::kernels;
use pgrx::datum::{AnyArray, Internal};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::{CStr, CString};

// ---- I/O -------------------------------------------------------------------

#[pg_extern(sql = false)]
fn vector_in(input: &CStr, _typioparam: pg_sys::Oid, typmod: i32) -> VectorOut {
    let text = input.to_string_lossy();
    let values = literal::parse(&text).unwrap_or_else(|e| literal_error(e, &text));
    check_expected_dim(typmod, values.len());
    VectorOut::from_slice(&values)
}

#[pg_extern(sql = false)]
fn vector_out(vector: VectorArg) -> CString {
    CString::new(literal::format(vector.as_slice())).expect("formatted floats contain no NUL")
}

#[pg_extern(sql = false)]
fn vector_typmod_in(modifiers: AnyArray) -> i32 {
    let mut count = 0;
    // SAFETY: Postgres passes the type modifiers as a cstring[]; this parses and validates them.
    let values = unsafe { pg_sys::ArrayGetIntegerTypmods(modifiers.datum().cast_mut_ptr(), &mut count) };
    if count != 1 {
        ereport!(ERROR, PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, "invalid type modifier");
    }
    // SAFETY: count == 1, so one value was returned.
    let dim = unsafe { *values };
    if dim < 1 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "dimensions for type vector must be at least 1"
        );
    }
    if dim as usize > literal::MAX_DIM {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("dimensions for type vector cannot exceed {}", literal::MAX_DIM)
        );
    }
    dim
}

/// Binary input: int16 dim, int16 unused (must be 0), dim big-endian float4s.
#[pg_extern(sql = false)]
fn vector_recv(mut buf: Internal, _typioparam: pg_sys::Oid, typmod: i32) -> VectorOut {
    // SAFETY: Postgres passes a StringInfo for the receive function's first argument.
    let buf: *mut pg_sys::StringInfoData = unsafe { buf.get_mut::<pg_sys::StringInfoData>() }
        .expect("vector_recv needs a message buffer");
    // pq_getmsg* raise "insufficient data left in message" on a short message.
    let dim = unsafe { pg_sys::pq_getmsgint(buf, 2) } as u16 as i16;
    let unused = unsafe { pg_sys::pq_getmsgint(buf, 2) } as u16 as i16;
    if dim < 1 {
        empty_vector();
    }
    check_dim(dim as usize);
    check_expected_dim(typmod, dim as usize);
    if unused != 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
            format!("expected unused to be 0, not {unused}")
        );
    }
    // SAFETY: buf is a valid StringInfo (see above).
    let remaining = unsafe { (*buf).len - (*buf).cursor } as usize;
    if remaining != 4 * dim as usize {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
            format!("binary vector header says {dim} dimensions, but {remaining} bytes of elements follow")
        );
    }
    let mut out = VectorOut::zeroed(dim as usize);
    for x in out.as_mut_slice() {
        *x = unsafe { pg_sys::pq_getmsgfloat4(buf) };
        check_element(*x);
    }
    out
}

#[pg_extern(sql = false)]
fn vector_send(vector: VectorArg) -> Vec<u8> {
    let values = vector.as_slice();
    let mut bytes = Vec::with_capacity(4 + 4 * values.len());
    bytes.extend_from_slice(&(values.len() as i16).to_be_bytes());
    bytes.extend_from_slice(&0i16.to_be_bytes());
    for x in values {
        bytes.extend_from_slice(&x.to_be_bytes());
    }
    bytes
}

// ---- casts -----------------------------------------------------------------

/// Cast to `vector(n)`: enforces the declared dimensions.
#[pg_extern(sql = false)]
fn vector(vector: VectorArg, typmod: i32, _explicit: bool) -> VectorArg {
    check_expected_dim(typmod, vector.dim());
    vector
}

/// `integer[]`, `real[]`, `double precision[]` and `numeric[]` to vector.
#[pg_extern(sql = false)]
fn array_to_vector(array: AnyArray, typmod: i32, _explicit: bool) -> VectorOut {
    // SAFETY: the argument is an array datum; detoasting gives a flat ArrayType.
    let array = unsafe { pg_sys::pg_detoast_datum(array.datum().cast_mut_ptr()) }.cast::<pg_sys::ArrayType>();
    let (ndim, element_type) = unsafe { ((*array).ndim, (*array).elemtype) };
    if ndim > 1 {
        ereport!(ERROR, PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, "array must be 1-D");
    }
    let (mut len, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
    let (mut elements, mut nulls, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
    unsafe {
        pg_sys::get_typlenbyvalalign(element_type, &mut len, &mut by_value, &mut align);
        pg_sys::deconstruct_array(array, element_type, len.into(), by_value, align, &mut elements, &mut nulls, &mut count);
    }
    let count = count as usize;
    check_dim(count);
    check_expected_dim(typmod, count);
    // SAFETY: deconstruct_array returned `count` datums and null flags.
    let (elements, nulls) = unsafe {
        (std::slice::from_raw_parts(elements, count), std::slice::from_raw_parts(nulls, count))
    };
    if nulls.iter().any(|&null| null) {
        ereport!(ERROR, PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, "array must not contain nulls");
    }
    let mut out = VectorOut::zeroed(count);
    for (x, &datum) in out.as_mut_slice().iter_mut().zip(elements) {
        *x = match element_type {
            pg_sys::INT4OID => datum.value() as i32 as f32,
            pg_sys::FLOAT4OID => f32::from_bits(datum.value() as u32),
            pg_sys::FLOAT8OID => {
                // SAFETY: float8 is by value on 64-bit builds, the only ones pgrx supports.
                let wide = f64::from_bits(datum.value() as u64);
                let narrow = wide as f32;
                if narrow.is_infinite() && wide.is_finite() {
                    overflow();
                }
                narrow
            }
            pg_sys::NUMERICOID => {
                // numeric_float4 raises its own out-of-range error.
                unsafe { pgrx::direct_function_call::<f32>(pg_sys::numeric_float4, &[Some(datum)]) }
                    .expect("numeric_float4 of a non-null numeric is not null")
            }
            other => {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                    format!("unsupported array element type {}", other.to_u32())
                );
            }
        };
        check_element(*x);
    }
    out
}

#[pg_extern(sql = false)]
fn vector_to_float4(vector: VectorArg, _typmod: i32, _explicit: bool) -> Vec<f32> {
    vector.as_slice().to_vec()
}

// ---- distances ---------------------------------------------------------------

fn same_dims<'a>(a: &'a VectorArg, b: &'a VectorArg) -> (&'a [f32], &'a [f32]) {
    check_same_dims(a.dim(), b.dim());
    (a.as_slice(), b.as_slice())
}

#[pg_extern(sql = false)]
fn l2_distance(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = same_dims(&a, &b);
    (kernels::l2_squared(a, b) as f64).sqrt()
}

#[pg_extern(sql = false)]
fn vector_l2_squared_distance(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = same_dims(&a, &b);
    kernels::l2_squared(a, b) as f64
}

#[pg_extern(sql = false)]
fn inner_product(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = same_dims(&a, &b);
    kernels::dot(a, b) as f64
}

#[pg_extern(sql = false)]
fn vector_negative_inner_product(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = same_dims(&a, &b);
    -(kernels::dot(a, b) as f64)
}

#[pg_extern(sql = false)]
fn cosine_distance(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = same_dims(&a, &b);
    kernels::cosine_distance(a, b)
}

#[pg_extern(sql = false)]
fn l1_distance(a: VectorArg, b: VectorArg) -> f64 {
    let (a, b) = same_dims(&a, &b);
    kernels::l1(a, b) as f64
}

// ---- functions ---------------------------------------------------------------

#[pg_extern(sql = false)]
fn vector_dims(vector: VectorArg) -> i32 {
    vector.dim() as i32
}

#[pg_extern(sql = false)]
fn vector_norm(vector: VectorArg) -> f64 {
    kernels::norm(vector.as_slice())
}

#[pg_extern(sql = false)]
fn l2_normalize(vector: VectorArg) -> VectorOut {
    let values = vector.as_slice();
    let norm = kernels::norm(values);
    let mut out = VectorOut::from_slice(values);
    // A zero vector stays zero, as in pgvector.
    if norm > 0.0 {
        for x in out.as_mut_slice() {
            *x = (*x as f64 / norm) as f32;
            if x.is_infinite() {
                overflow();
            }
        }
    }
    out
}

/// Elements `start .. start + count` (1-based), clipped to the vector's extent.
#[pg_extern(sql = false)]
fn subvector(vector: VectorArg, start: i32, count: i32) -> VectorOut {
    let values = vector.as_slice();
    if count < 1 {
        empty_vector();
    }
    // i64 so that start + count cannot overflow.
    let first = (start as i64).max(1);
    let end = (start as i64 + count as i64).min(values.len() as i64 + 1);
    if end <= first {
        empty_vector();
    }
    VectorOut::from_slice(&values[(first - 1) as usize..(end - 1) as usize])
}

// ---- arithmetic ----------------------------------------------------------------

fn elementwise(a: VectorArg, b: VectorArg, op: impl Fn(f32, f32) -> f32) -> VectorOut {
    let (a, b) = same_dims(&a, &b);
    let mut out = VectorOut::zeroed(a.len());
    for ((r, &x), &y) in out.as_mut_slice().iter_mut().zip(a).zip(b) {
        *r = op(x, y);
        if r.is_infinite() {
            overflow();
        }
    }
    out
}

#[pg_extern(sql = false)]
fn vector_add(a: VectorArg, b: VectorArg) -> VectorOut {
    elementwise(a, b, |x, y| x + y)
}

#[pg_extern(sql = false)]
fn vector_sub(a: VectorArg, b: VectorArg) -> VectorOut {
    elementwise(a, b, |x, y| x - y)
}

#[pg_extern(sql = false)]
fn vector_mul(a: VectorArg, b: VectorArg) -> VectorOut {
    elementwise(a, b, |x, y| {
        let r = x * y;
        if r == 0.0 && x != 0.0 && y != 0.0 {
            underflow();
        }
        r
    })
}

#[pg_extern(sql = false)]
fn vector_concat(a: VectorArg, b: VectorArg) -> VectorOut {
    check_dim(a.dim() + b.dim());
    let mut out = VectorOut::zeroed(a.dim() + b.dim());
    let (head, tail) = out.as_mut_slice().split_at_mut(a.dim());
    head.copy_from_slice(a.as_slice());
    tail.copy_from_slice(b.as_slice());
    out
}

// ---- comparison (btree) --------------------------------------------------------

/// Element by element, then the shorter vector first: a total order for btree.
fn compare(a: &VectorArg, b: &VectorArg) -> std::cmp::Ordering {
    for (x, y) in a.as_slice().iter().zip(b.as_slice()) {
        // Elements are never NaN, so partial_cmp always answers.
        match x.partial_cmp(y) {
            Some(std::cmp::Ordering::Equal) | None => continue,
            Some(order) => return order,
        }
    }
    a.dim().cmp(&b.dim())
}

#[pg_extern(sql = false)]
fn vector_cmp(a: VectorArg, b: VectorArg) -> i32 {
    compare(&a, &b) as i32
}

#[pg_extern(sql = false)]
fn vector_lt(a: VectorArg, b: VectorArg) -> bool {
    compare(&a, &b).is_lt()
}

#[pg_extern(sql = false)]
fn vector_le(a: VectorArg, b: VectorArg) -> bool {
    compare(&a, &b).is_le()
}

#[pg_extern(sql = false)]
fn vector_eq(a: VectorArg, b: VectorArg) -> bool {
    compare(&a, &b).is_eq()
}

#[pg_extern(sql = false)]
fn vector_ne(a: VectorArg, b: VectorArg) -> bool {
    compare(&a, &b).is_ne()
}

#[pg_extern(sql = false)]
fn vector_ge(a: VectorArg, b: VectorArg) -> bool {
    compare(&a, &b).is_ge()
}

#[pg_extern(sql = false)]
fn vector_gt(a: VectorArg, b: VectorArg) -> bool {
    compare(&a, &b).is_gt()
}

// ---- aggregates ------------------------------------------------------------------
// avg's state is a float8[]: {count, sum_1, ..., sum_n}; its initial value is {0}.

#[pg_extern(sql = false)]
fn vector_accum(mut state: Vec<f64>, vector: VectorArg) -> Vec<f64> {
    let values = vector.as_slice();
    if state.len() == 1 {
        state.resize(1 + values.len(), 0.0);
    } else {
        check_expected_dim((state.len() - 1) as i32, values.len());
    }
    state[0] += 1.0;
    for (sum, &x) in state[1..].iter_mut().zip(values) {
        *sum += x as f64;
    }
    state
}

#[pg_extern(sql = false)]
fn vector_combine(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    if a[0] == 0.0 {
        return b;
    }
    if b[0] == 0.0 {
        return a;
    }
    check_expected_dim((a.len() - 1) as i32, b.len() - 1);
    a.iter().zip(&b).map(|(x, y)| x + y).collect()
}

#[pg_extern(sql = false)]
fn vector_avg(state: Vec<f64>) -> Option<VectorOut> {
    let count = state[0];
    if count == 0.0 {
        return None;
    }
    let mut out = VectorOut::zeroed(state.len() - 1);
    for (x, &sum) in out.as_mut_slice().iter_mut().zip(&state[1..]) {
        *x = (sum / count) as f32;
        if x.is_infinite() {
            overflow();
        }
    }
    Some(out)
}
