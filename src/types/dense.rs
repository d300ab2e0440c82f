//! What the SQL functions of `vector` and `halfvec` do, written once over the
//! element type; `vector.rs` and `halfvec.rs` export them under pgvector's
//! names. Arithmetic is done in float4 and narrowed back, as pgvector does.

use super::errors::*;
use super::literal;
use super::varlena::{DenseArg, DenseOut, Element};
use super::wire::{self, WireError};
use pgrx::datum::{AnyArray, Internal};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::{CStr, CString};

/// `x` as an element of E, or the type's out-of-range ERROR.
pub fn narrow<E: Element>(x: f32) -> E {
    E::from_f32(x).unwrap_or_else(|| {
        let mut text = String::new();
        literal::write_float(&mut text, x);
        out_of_range(&text, E::TYPE_NAME)
    })
}

/// A result of arithmetic as an element of E: overflow is an ERROR.
fn narrow_result<E: Element>(x: f32) -> E {
    if x.is_infinite() {
        overflow();
    }
    E::from_f32(x).unwrap_or_else(|| overflow())
}

fn from_f32s<E: Element>(values: &[f32]) -> DenseOut<E> {
    let mut out = DenseOut::<E>::zeroed(values.len());
    for (e, &x) in out.as_mut_slice().iter_mut().zip(values) {
        *e = narrow(x);
    }
    out
}

pub fn to_f32s<E: Element>(value: &DenseArg<E>) -> Vec<f32> {
    value.as_slice().iter().map(|x| x.to_f32()).collect()
}

// ---- I/O -------------------------------------------------------------------

pub fn input<E: Element>(input: &CStr, typmod: i32) -> DenseOut<E> {
    let text = input.to_string_lossy();
    let values = literal::parse(&text).unwrap_or_else(|e| literal_error(e, &text, E::TYPE_NAME));
    check_expected_dim(typmod, values.len());
    from_f32s(&values)
}

pub fn output<E: Element>(value: DenseArg<E>) -> CString {
    CString::new(literal::format(&to_f32s(&value))).expect("formatted floats contain no NUL")
}

/// The integers of a `type(n, ...)` modifier list, as Postgres parses them.
///
/// # Safety
/// `modifiers` must be the cstring[] Postgres passes a typmod_in function.
pub unsafe fn integer_typmods(modifiers: AnyArray) -> Vec<i32> {
    let mut count = 0;
    // SAFETY: a cstring[]; ArrayGetIntegerTypmods raises an ERROR on a non-integer.
    let values =
        unsafe { pg_sys::ArrayGetIntegerTypmods(modifiers.datum().cast_mut_ptr(), &mut count) };
    if count <= 0 || values.is_null() {
        return Vec::new();
    }
    // SAFETY: it returned `count` integers.
    unsafe { std::slice::from_raw_parts(values, count as usize) }.to_vec()
}

/// The bytes of a receive function's message not read yet.
///
/// # Safety
/// `buf` must be a valid StringInfo, which outlives the slice.
pub unsafe fn unread_bytes<'a>(buf: *const pg_sys::StringInfoData) -> &'a [u8] {
    // SAFETY: the caller's StringInfo is valid.
    let (data, len, cursor) = unsafe { ((*buf).data, (*buf).len, (*buf).cursor) };
    if data.is_null() || cursor >= len {
        return &[];
    }
    // SAFETY: data holds len bytes, of which the first cursor are read.
    unsafe {
        std::slice::from_raw_parts(
            data.add(cursor as usize).cast::<u8>(),
            (len - cursor) as usize,
        )
    }
}

/// What pq_getmsgint raises on a message that ends early.
pub fn insufficient_data() -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION,
        "insufficient data left in message"
    );
}

pub fn typmod_in<E: Element>(modifiers: AnyArray) -> i32 {
    // SAFETY: Postgres passes the type modifiers as a cstring[]; this parses them into integers.
    let modifiers = unsafe { integer_typmods(modifiers) };
    wire::typmod(&modifiers, literal::MAX_DIM as i64).unwrap_or_else(|e| {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            e.message(E::TYPE_NAME, literal::MAX_DIM as i64)
        );
    })
}

/// Binary input: int16 dim, int16 unused (must be 0), dim big-endian elements
/// (decoded by `wire::decode_dense`).
pub fn receive<E: Element>(mut buf: Internal, typmod: i32) -> DenseOut<E> {
    // SAFETY: Postgres passes a StringInfo for the receive function's first argument.
    let buf: *mut pg_sys::StringInfoData = unsafe { buf.get_mut::<pg_sys::StringInfoData>() }
        .expect("a receive function gets a message buffer");
    // SAFETY: buf is a valid StringInfo (see above).
    let bytes = unsafe { unread_bytes(buf) };
    let bits = wire::decode_dense(bytes, E::WIRE_BYTES, typmod, |bits| E::from_bits_u32(bits).to_f32()).unwrap_or_else(|e| match e {
        WireError::InsufficientData => insufficient_data(),
        WireError::Empty => empty_vector(E::TYPE_NAME),
        WireError::TooManyDimensions => too_many_dimensions(E::TYPE_NAME),
        WireError::ExpectedDimensions { typmod, dim } => {
            check_expected_dim(typmod, dim);
            unreachable!("check_expected_dim raised an ERROR")
        }
        WireError::Unused(unused) => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
                format!("expected unused to be 0, not {unused}")
            );
        }
        WireError::Length { count, remaining } => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
                format!("binary {} header says {count} dimensions, but {remaining} bytes of elements follow", E::TYPE_NAME)
            );
        }
        WireError::Element(e) => literal_error(e, "", E::TYPE_NAME),
        WireError::Sparse(e) => unreachable!("a dense header has no sparse checks: {e:?}"),
    });
    // The whole message is the value, as when pq_getmsgint read it.
    // SAFETY: buf is a valid StringInfo.
    unsafe { (*buf).cursor = (*buf).len };
    let mut out = DenseOut::<E>::zeroed(bits.len());
    for (x, &b) in out.as_mut_slice().iter_mut().zip(&bits) {
        *x = E::from_bits_u32(b);
    }
    out
}

pub fn send<E: Element>(value: DenseArg<E>) -> Vec<u8> {
    let values = value.as_slice();
    let mut bytes = Vec::with_capacity(4 + E::WIRE_BYTES * values.len());
    bytes.extend_from_slice(&(values.len() as i16).to_be_bytes());
    bytes.extend_from_slice(&0i16.to_be_bytes());
    for &x in values {
        x.to_be_bytes(&mut bytes);
    }
    bytes
}

// ---- casts -----------------------------------------------------------------

/// Cast to `type(n)`: enforces the declared dimensions.
pub fn with_typmod<E: Element>(value: DenseArg<E>, typmod: i32) -> DenseArg<E> {
    check_expected_dim(typmod, value.dim());
    value
}

/// Between vector and halfvec.
pub fn convert<A: Element, B: Element>(value: DenseArg<A>, typmod: i32) -> DenseOut<B> {
    check_expected_dim(typmod, value.dim());
    let mut out = DenseOut::<B>::zeroed(value.dim());
    for (b, a) in out.as_mut_slice().iter_mut().zip(value.as_slice()) {
        *b = narrow(a.to_f32());
    }
    out
}

/// The elements of an int4[], float4[], float8[] or numeric[] argument of an
/// array cast, each converted to float4 as C's cast does, after pgvector's
/// checks in its order: one dimension, no NULLs, then `check_count` on how
/// many there are. Whether each is finite is the caller's check, made after
/// its own conversion, as pgvector's.
pub fn array_values(array: AnyArray, check_count: impl FnOnce(usize)) -> Vec<f32> {
    // SAFETY: the argument is an array datum; detoasting gives a flat ArrayType.
    let array = unsafe { pg_sys::pg_detoast_datum(array.datum().cast_mut_ptr()) }
        .cast::<pg_sys::ArrayType>();
    // SAFETY: a flat ArrayType's header.
    let (ndim, element_type, has_nulls) =
        unsafe { ((*array).ndim, (*array).elemtype, (*array).dataoffset != 0) };
    if ndim > 1 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            "array must be 1-D"
        );
    }
    // SAFETY: as above; array_contains_nulls reads the NULL bitmap it has.
    if has_nulls && unsafe { pg_sys::array_contains_nulls(array) } {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "array must not contain nulls"
        );
    }
    let (mut len, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
    let (mut elements, mut count) = (std::ptr::null_mut(), 0);
    // SAFETY: a flat array of `element_type`, with no NULLs, so no null flags are asked for.
    unsafe {
        pg_sys::get_typlenbyvalalign(element_type, &mut len, &mut by_value, &mut align);
        pg_sys::deconstruct_array(
            array,
            element_type,
            len.into(),
            by_value,
            align,
            &mut elements,
            std::ptr::null_mut(),
            &mut count,
        );
    }
    let count = count as usize;
    check_count(count);
    // SAFETY: deconstruct_array returned `count` datums.
    let elements = unsafe { std::slice::from_raw_parts(elements, count) };
    let convert = |datum: &pg_sys::Datum| match element_type {
        pg_sys::INT4OID => datum.value() as i32 as f32,
        pg_sys::FLOAT4OID => f32::from_bits(datum.value() as u32),
        // float8 is by value on 64-bit builds, the only ones pgrx supports.
        // Past float4's range it becomes an infinity, which the caller rejects.
        pg_sys::FLOAT8OID => f64::from_bits(datum.value() as u64) as f32,
        pg_sys::NUMERICOID => {
            // numeric_float4 raises its own out-of-range error.
            // SAFETY: a non-null numeric datum of the array.
            unsafe { pgrx::direct_function_call::<f32>(pg_sys::numeric_float4, &[Some(*datum)]) }
                .expect("numeric_float4 of a non-null numeric is not null")
        }
        _ => {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
                "unsupported array type"
            );
        }
    };
    elements.iter().map(convert).collect()
}

/// `integer[]`, `real[]`, `double precision[]` and `numeric[]` to vector or halfvec.
pub fn from_array<E: Element>(array: AnyArray, typmod: i32) -> DenseOut<E> {
    let values = array_values(array, |count| {
        check_dim(count, E::TYPE_NAME);
        check_expected_dim(typmod, count);
    });
    // pgvector converts every element first (a finite value past float16's
    // range is out of range), then rejects NaN and infinities.
    let mut out = from_f32s::<E>(&values);
    for x in out.as_mut_slice() {
        check_element(x.to_f32(), E::TYPE_NAME);
    }
    out
}

// ---- distances ---------------------------------------------------------------

pub fn same_dims<'a, E: Element>(a: &'a DenseArg<E>, b: &'a DenseArg<E>) -> (&'a [E], &'a [E]) {
    check_same_dims(a.dim(), b.dim(), E::TYPE_NAME);
    (a.as_slice(), b.as_slice())
}

pub fn l2_distance<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    l2_of(a, b)
}

pub fn l2_squared_distance<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    l2_squared_of(a, b)
}

pub fn inner_product<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    inner_product_of(a, b)
}

pub fn negative_inner_product<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    negative_inner_product_of(a, b)
}

/// The angle between two unit vectors as a fraction of pi: what pgvector's
/// spherical k-means measures. The inner product is clamped to [-1, 1], so
/// rounding never makes it NaN; the vectors are not normalized here.
pub fn spherical_distance<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    inner_product_of(a, b).clamp(-1.0, 1.0).acos() / std::f64::consts::PI
}

pub fn cosine_distance<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    cosine_of(a, b)
}

pub fn l1_distance<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> f64 {
    let (a, b) = same_dims(&a, &b);
    l1_of(a, b)
}

// The same distances on elements of equal length, for `fast`.

pub fn l2_of<E: Element>(a: &[E], b: &[E]) -> f64 {
    (E::l2_squared(a, b) as f64).sqrt()
}

pub fn l2_squared_of<E: Element>(a: &[E], b: &[E]) -> f64 {
    E::l2_squared(a, b) as f64
}

pub fn inner_product_of<E: Element>(a: &[E], b: &[E]) -> f64 {
    E::dot(a, b) as f64
}

pub fn negative_inner_product_of<E: Element>(a: &[E], b: &[E]) -> f64 {
    -inner_product_of(a, b)
}

pub fn cosine_of<E: Element>(a: &[E], b: &[E]) -> f64 {
    E::cosine_distance(a, b)
}

pub fn l1_of<E: Element>(a: &[E], b: &[E]) -> f64 {
    E::l1(a, b) as f64
}

// ---- functions ---------------------------------------------------------------

pub fn norm<E: Element>(value: DenseArg<E>) -> f64 {
    E::norm(value.as_slice())
}

pub fn l2_normalize<E: Element>(value: DenseArg<E>) -> DenseOut<E> {
    let values = value.as_slice();
    let norm = E::norm(values);
    let mut out = DenseOut::<E>::from_slice(values);
    // A zero vector stays zero, as in pgvector.
    if norm > 0.0 {
        for x in out.as_mut_slice() {
            *x = narrow_result((x.to_f32() as f64 / norm) as f32);
        }
    }
    out
}

/// Elements `start .. start + count` (1-based), clipped to the value's extent.
pub fn subvector<E: Element>(value: DenseArg<E>, start: i32, count: i32) -> DenseOut<E> {
    let values = value.as_slice();
    if count < 1 {
        empty_vector(E::TYPE_NAME);
    }
    // i64 so that start + count cannot overflow.
    let first = (start as i64).max(1);
    let end = (start as i64 + count as i64).min(values.len() as i64 + 1);
    if end <= first {
        empty_vector(E::TYPE_NAME);
    }
    DenseOut::from_slice(&values[(first - 1) as usize..(end - 1) as usize])
}

/// `binary_quantize`: bit i is set where element i is positive.
pub fn binary_quantize<E: Element>(value: DenseArg<E>) -> super::bit::BitOut {
    let values = value.as_slice();
    let mut out = super::bit::BitOut::zeroed(values.len());
    for (byte, chunk) in out.bytes_mut().iter_mut().zip(values.chunks(8)) {
        for (j, x) in chunk.iter().enumerate() {
            *byte |= u8::from(x.to_f32() > 0.0) << (7 - j);
        }
    }
    out
}

// ---- arithmetic ----------------------------------------------------------------

fn elementwise<E: Element>(
    a: &DenseArg<E>,
    b: &DenseArg<E>,
    op: impl Fn(f32, f32) -> f32,
) -> DenseOut<E> {
    let (a, b) = same_dims(a, b);
    let mut out = DenseOut::<E>::zeroed(a.len());
    for ((r, &x), &y) in out.as_mut_slice().iter_mut().zip(a).zip(b) {
        *r = narrow_result(op(x.to_f32(), y.to_f32()));
    }
    out
}

pub fn add<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> DenseOut<E> {
    elementwise(&a, &b, |x, y| x + y)
}

pub fn sub<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> DenseOut<E> {
    elementwise(&a, &b, |x, y| x - y)
}

pub fn mul<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> DenseOut<E> {
    let mut product = elementwise(&a, &b, |x, y| x * y);
    // A product that became zero from non-zero factors underflowed.
    for ((x, y), r) in a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .zip(product.as_mut_slice())
    {
        if r.to_f32() == 0.0 && x.to_f32() != 0.0 && y.to_f32() != 0.0 {
            underflow();
        }
    }
    product
}

pub fn concat<E: Element>(a: DenseArg<E>, b: DenseArg<E>) -> DenseOut<E> {
    check_dim(a.dim() + b.dim(), E::TYPE_NAME);
    let mut out = DenseOut::<E>::zeroed(a.dim() + b.dim());
    let (head, tail) = out.as_mut_slice().split_at_mut(a.dim());
    head.copy_from_slice(a.as_slice());
    tail.copy_from_slice(b.as_slice());
    out
}

// ---- comparison (btree) --------------------------------------------------------

/// Element by element, then the shorter value first: a total order for btree.
pub fn compare<E: Element>(a: &DenseArg<E>, b: &DenseArg<E>) -> std::cmp::Ordering {
    for (x, y) in a.as_slice().iter().zip(b.as_slice()) {
        // Elements are never NaN, so partial_cmp always answers.
        match x.partial_cmp(y) {
            Some(std::cmp::Ordering::Equal) | None => continue,
            Some(order) => return order,
        }
    }
    a.dim().cmp(&b.dim())
}

// ---- aggregates ------------------------------------------------------------------
// avg's state is a float8[]: {count, sum_1, ..., sum_n}; its initial value is {0}.
// The support functions are callable by anyone, so a state is checked as
// pgvector checks it before it is read.

/// The values of an aggregate state, or pgvector's ERROR (XX000, named after
/// the function) for one that is not one-dimensional, holds NULLs or lacks
/// the count.
pub fn state_values(state: AnyArray, function: &str) -> Vec<f64> {
    // SAFETY: the argument is a float8[] datum (the SQL signature); detoasting
    // gives a flat ArrayType whose header and data are read in place.
    unsafe {
        let array =
            pg_sys::pg_detoast_datum(state.datum().cast_mut_ptr()).cast::<pg_sys::ArrayType>();
        let ndim = (*array).ndim;
        let dims = array
            .cast::<u8>()
            .add(std::mem::size_of::<pg_sys::ArrayType>())
            .cast::<i32>();
        let has_nulls = (*array).dataoffset != 0;
        if ndim != 1 || *dims < 1 || has_nulls || (*array).elemtype != pg_sys::FLOAT8OID {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("{function}: expected state array")
            );
        }
        let count = *dims as usize;
        // One dimension, no NULL bitmap: the data follows the header and the
        // dimension and lower bound, MAXALIGNed.
        let header = std::mem::size_of::<pg_sys::ArrayType>() + 2 * std::mem::size_of::<i32>();
        let data = array.cast::<u8>().add((header + 7) & !7).cast::<f64>();
        std::slice::from_raw_parts(data, count).to_vec()
    }
}

/// A sum that became infinite: float8's own overflow ERROR, as pgvector.
fn checked_sum(x: f64) -> f64 {
    if x.is_infinite() {
        overflow();
    }
    x
}

pub fn accumulate<E: Element>(state: AnyArray, value: DenseArg<E>, function: &str) -> Vec<f64> {
    let mut state = state_values(state, function);
    let values = value.as_slice();
    if state.len() == 1 {
        state.resize(1 + values.len(), 0.0);
    } else {
        check_expected_dim((state.len() - 1) as i32, values.len());
    }
    state[0] += 1.0;
    for (sum, &x) in state[1..].iter_mut().zip(values) {
        *sum = checked_sum(*sum + x.to_f32() as f64);
    }
    state
}

pub fn combine(a: AnyArray, b: AnyArray) -> Vec<f64> {
    let (a, b) = (
        state_values(a, "vector_combine"),
        state_values(b, "vector_combine"),
    );
    if a[0] == 0.0 {
        return b;
    }
    if b[0] == 0.0 {
        return a;
    }
    check_expected_dim((a.len() - 1) as i32, b.len() - 1);
    a.iter().zip(&b).map(|(x, y)| checked_sum(x + y)).collect()
}

pub fn average<E: Element>(state: AnyArray, function: &str) -> Option<DenseOut<E>> {
    let state = state_values(state, function);
    let count = state[0];
    if count == 0.0 {
        return None;
    }
    check_dim(state.len() - 1, E::TYPE_NAME);
    let mut out = DenseOut::<E>::zeroed(state.len() - 1);
    for (x, &sum) in out.as_mut_slice().iter_mut().zip(&state[1..]) {
        // As pgvector: a mean past float4 is an infinity, rejected; one past
        // the element type's range (float16) is out of range.
        let mean = (sum / count) as f32;
        *x = narrow(mean);
        check_element(mean, E::TYPE_NAME);
    }
    Some(out)
}

/// The element type of an argument type, for functions that take no value.
pub trait Typed {
    type Element: Element;
}

impl<E: Element> Typed for DenseArg<E> {
    type Element = E;
}
