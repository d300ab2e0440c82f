//! The `sparsevec` type: pgvector's layout
//! `int32 varlena header | int32 dim | int32 nnz | int32 unused (0) | int32 indices[nnz] | float4 values[nnz]`,
//! its SQL functions, and the ERRORs for `sparse::SparseError`.

use super::dense;
use super::errors::{check_expected_dim, literal_error, overflow};
use super::sparse::{self, Side, Sparse, SparseError};
use super::varlena::{DenseArg, DenseOut, Element, HalfvecArg, HalfvecOut, VectorArg, VectorOut};
use super::wire::{self, WireError};
use crate::kernels;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::{AnyArray, Datum, Internal};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode::*;
use std::ffi::{CStr, CString};

const TYPE_NAME: &str = "sparsevec";

#[repr(C)]
struct Header {
    vl_len: u32,
    dim: i32,
    nnz: i32,
    unused: i32,
}

const HEADER_SIZE: usize = std::mem::size_of::<Header>();

/// A detoasted `sparsevec` argument.
pub struct SparsevecArg {
    header: *const Header,
}

impl SparsevecArg {
    pub fn dim(&self) -> i32 {
        // SAFETY: a detoasted sparsevec.
        unsafe { (*self.header).dim }
    }

    fn nnz(&self) -> usize {
        // SAFETY: a detoasted sparsevec.
        unsafe { (*self.header).nnz as usize }
    }

    pub fn indices(&self) -> &[i32] {
        // SAFETY: nnz indices follow the header.
        unsafe {
            std::slice::from_raw_parts(self.header.cast::<u8>().add(HEADER_SIZE).cast(), self.nnz())
        }
    }

    pub fn values(&self) -> &[f32] {
        // SAFETY: nnz values follow the indices.
        unsafe {
            std::slice::from_raw_parts(
                self.header
                    .cast::<u8>()
                    .add(HEADER_SIZE + 4 * self.nnz())
                    .cast(),
                self.nnz(),
            )
        }
    }

    fn side(&self) -> Side<'_> {
        (self.indices(), self.values())
    }
}

impl SparsevecArg {
    /// Reads a `sparsevec` datum, detoasting it if needed.
    ///
    /// # Safety
    /// `datum` must be a non-null `sparsevec` datum.
    pub unsafe fn from_datum_unchecked(datum: pg_sys::Datum) -> Self {
        SparsevecArg {
            // SAFETY: the caller's promise: a non-null varlena, which
            // pg_detoast_datum returns in place or as a palloc'd copy.
            header: unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) }.cast(),
        }
    }
}

impl FromDatum for SparsevecArg {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        // SAFETY: FromDatum's contract: a datum of this type, here not null.
        (!is_null).then(|| unsafe { Self::from_datum_unchecked(datum) })
    }
}

// SAFETY: unbox_arg_unchecked reads the argument with FromDatum, which
// detoasts a datum of this type (as the hand-written SQL declares the
// argument) and never reads a null one: it panics instead.
unsafe impl<'fcx> ArgAbi<'fcx> for SparsevecArg {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: the caller's promise: the argument's datum is of this type.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

// SAFETY: box_into returns, never as the SQL null, a by-reference datum of
// the function's result type (the argument's, as the hand-written SQL
// declares): the detoasted argument, which lives in the caller's memory or
// the call's memory context.
unsafe impl BoxRet for SparsevecArg {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: the caller returns this datum, of its result type, which
        // lives at least as long as the call's memory context.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.header)) }
    }
}

/// A new `sparsevec`, built from checked parts.
pub struct SparsevecOut {
    header: *mut Header,
}

impl SparsevecOut {
    fn new(dim: i32, indices: &[i32], values: &[f32]) -> Self {
        let nnz = indices.len();
        let size = HEADER_SIZE + 8 * nnz;
        // SAFETY: palloc0 returns zeroed, aligned memory or raises an ERROR; the
        // indices and values go right after the header.
        unsafe {
            let header = pg_sys::palloc0(size).cast::<Header>();
            pgrx::varlena::set_varsize_4b(header.cast(), size as i32);
            (*header).dim = dim;
            (*header).nnz = nnz as i32;
            let base = header.cast::<u8>().add(HEADER_SIZE);
            std::ptr::copy_nonoverlapping(indices.as_ptr(), base.cast(), nnz);
            std::ptr::copy_nonoverlapping(values.as_ptr(), base.add(4 * nnz).cast(), nnz);
            SparsevecOut { header }
        }
    }

    fn from_sparse(sparse: &Sparse) -> Self {
        Self::new(sparse.dim, &sparse.indices, &sparse.values)
    }
}

// SAFETY: box_into returns, never as the SQL null, a by-reference datum of
// the function's result type (`sparsevec`, as the hand-written SQL
// declares): a complete value, palloc'd in the call's memory context (`new`).
unsafe impl BoxRet for SparsevecOut {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: the caller returns this datum, of its result type, which
        // lives at least as long as the call's memory context.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.header)) }
    }
}

pgrx::impl_sql_translatable!(SparsevecArg, "sparsevec");
pgrx::impl_sql_translatable!(SparsevecOut, "sparsevec");

fn sparse_error(error: SparseError, text: &str) -> ! {
    use SparseError::*;
    let syntax = || format!("invalid input syntax for type sparsevec: \"{text}\"");
    let (code, message, detail) = match error {
        Malformed(detail) => (ERRCODE_INVALID_TEXT_REPRESENTATION, syntax(), detail),
        Element(e) => literal_error(e, text, TYPE_NAME),
        TooManyElements => (
            ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "sparsevec cannot have more than {} non-zero elements",
                sparse::MAX_NNZ
            ),
            None,
        ),
        NegativeElementCount => (
            ERRCODE_DATA_EXCEPTION,
            "sparsevec cannot have negative number of elements".into(),
            None,
        ),
        MoreElementsThanDimensions => (
            ERRCODE_DATA_EXCEPTION,
            "sparsevec cannot have more elements than dimensions".into(),
            None,
        ),
        EmptyDimensions => (
            ERRCODE_DATA_EXCEPTION,
            "sparsevec must have at least 1 dimension".into(),
            None,
        ),
        TooManyDimensions => (
            ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "sparsevec cannot have more than {} dimensions",
                sparse::MAX_DIM
            ),
            None,
        ),
        IndexOutOfBounds => (
            ERRCODE_DATA_EXCEPTION,
            "sparsevec index out of bounds".into(),
            None,
        ),
        NotAscending => (
            ERRCODE_DATA_EXCEPTION,
            "sparsevec indices must be in ascending order".into(),
            None,
        ),
        Duplicate => (
            ERRCODE_DATA_EXCEPTION,
            "sparsevec indices must not contain duplicates".into(),
            None,
        ),
        ZeroInBinary => (
            ERRCODE_DATA_EXCEPTION,
            "binary representation of sparsevec cannot contain zero values".into(),
            None,
        ),
    };
    match detail {
        Some(detail) => {
            ereport!(ERROR, code, message, detail);
        }
        None => {
            ereport!(ERROR, code, message);
        }
    }
}

fn or_error<T>(result: Result<T, SparseError>) -> T {
    result.unwrap_or_else(|e| sparse_error(e, ""))
}

// ---- I/O -------------------------------------------------------------------

#[pg_extern(sql = false)]
fn sparsevec_in(input: &CStr, _typioparam: pg_sys::Oid, typmod: i32) -> SparsevecOut {
    let text = input.to_string_lossy();
    let sparse = sparse::parse(&text).unwrap_or_else(|e| sparse_error(e, &text));
    check_expected_dim(typmod, sparse.dim as usize);
    SparsevecOut::from_sparse(&sparse)
}

#[pg_extern(sql = false)]
fn sparsevec_out(value: SparsevecArg) -> CString {
    CString::new(sparse::format(value.indices(), value.values(), value.dim()))
        .expect("no NUL in numbers")
}

#[pg_extern(sql = false)]
fn sparsevec_typmod_in(modifiers: AnyArray) -> i32 {
    // SAFETY: Postgres passes the type modifiers as a cstring[].
    let modifiers = unsafe { dense::integer_typmods(modifiers) };
    wire::typmod(&modifiers, sparse::MAX_DIM).unwrap_or_else(|e| {
        ereport!(
            ERROR,
            ERRCODE_INVALID_PARAMETER_VALUE,
            e.message(TYPE_NAME, sparse::MAX_DIM)
        );
    })
}

/// Binary input: int32 dim, int32 nnz, int32 unused, nnz 0-based indices, nnz
/// float4s (decoded by `wire::decode_sparse`).
#[pg_extern(sql = false)]
fn sparsevec_recv(mut buf: Internal, _typioparam: pg_sys::Oid, typmod: i32) -> SparsevecOut {
    // SAFETY: Postgres passes a StringInfo for the receive function's first argument.
    let buf: *mut pg_sys::StringInfoData = unsafe { buf.get_mut::<pg_sys::StringInfoData>() }
        .expect("a receive function gets a message buffer");
    // SAFETY: buf is a valid StringInfo.
    let bytes = unsafe { dense::unread_bytes(buf) };
    let value = wire::decode_sparse(bytes, typmod).unwrap_or_else(|e| match e {
        WireError::InsufficientData => dense::insufficient_data(),
        WireError::Sparse(e) => sparse_error(e, ""),
        WireError::ExpectedDimensions { typmod, dim } => {
            check_expected_dim(typmod, dim);
            unreachable!("check_expected_dim raised an ERROR")
        }
        WireError::Unused(unused) => {
            ereport!(ERROR, ERRCODE_DATA_EXCEPTION, format!("expected unused to be 0, not {unused}"));
        }
        WireError::Length { count, remaining } => {
            ereport!(
                ERROR,
                ERRCODE_INVALID_BINARY_REPRESENTATION,
                format!("binary sparsevec header says {count} elements, but {remaining} bytes of elements follow")
            );
        }
        WireError::Element(e) => literal_error(e, "", TYPE_NAME),
        WireError::Empty | WireError::TooManyDimensions => unreachable!("sparse dimensions fail as SparseError"),
    });
    // The whole message is the value, as when pq_getmsgint read it.
    // SAFETY: buf is a valid StringInfo.
    unsafe { (*buf).cursor = (*buf).len };
    SparsevecOut::from_sparse(&value)
}

#[pg_extern(sql = false)]
fn sparsevec_send(value: SparsevecArg) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(12 + 8 * value.nnz());
    for x in [value.dim(), value.nnz() as i32, 0] {
        bytes.extend_from_slice(&x.to_be_bytes());
    }
    for &index in value.indices() {
        bytes.extend_from_slice(&index.to_be_bytes());
    }
    for &x in value.values() {
        bytes.extend_from_slice(&x.to_be_bytes());
    }
    bytes
}

// ---- casts -----------------------------------------------------------------

#[pg_extern(sql = false)]
fn sparsevec(value: SparsevecArg, typmod: i32, _explicit: bool) -> SparsevecArg {
    check_expected_dim(typmod, value.dim() as usize);
    value
}

fn from_dense<E: Element>(value: DenseArg<E>, typmod: i32) -> SparsevecOut {
    check_expected_dim(typmod, value.dim());
    let widened: Vec<f32> = value.as_slice().iter().map(|x| x.to_f32()).collect();
    let sparse = sparse::from_dense(&widened);
    or_error(sparse::check_nnz(
        sparse.indices.len() as i64,
        sparse.dim as i64,
    ));
    SparsevecOut::from_sparse(&sparse)
}

fn to_dense<E: Element>(value: SparsevecArg, typmod: i32) -> DenseOut<E> {
    let dim = value.dim() as usize;
    super::errors::check_dim(dim, E::TYPE_NAME);
    check_expected_dim(typmod, dim);
    let mut out = DenseOut::<E>::zeroed(dim);
    let elements = out.as_mut_slice();
    for (&index, &x) in value.indices().iter().zip(value.values()) {
        elements[index as usize] = dense::narrow(x);
    }
    out
}

#[pg_extern(sql = false)]
fn vector_to_sparsevec(value: VectorArg, typmod: i32, _explicit: bool) -> SparsevecOut {
    from_dense(value, typmod)
}

#[pg_extern(sql = false)]
fn halfvec_to_sparsevec(value: HalfvecArg, typmod: i32, _explicit: bool) -> SparsevecOut {
    from_dense(value, typmod)
}

#[pg_extern(sql = false)]
fn sparsevec_to_vector(value: SparsevecArg, typmod: i32, _explicit: bool) -> VectorOut {
    to_dense(value, typmod)
}

#[pg_extern(sql = false)]
fn sparsevec_to_halfvec(value: SparsevecArg, typmod: i32, _explicit: bool) -> HalfvecOut {
    to_dense(value, typmod)
}

#[pg_extern(sql = false)]
fn array_to_sparsevec(array: AnyArray, typmod: i32, _explicit: bool) -> SparsevecOut {
    // The checks and conversions of an array to vector, with sparsevec's
    // limits and names, then the non-zeros.
    let values = dense::array_values(array, |count| {
        or_error(sparse::check_dim(count as i64));
        check_expected_dim(typmod, count);
    });
    let sparse = sparse::from_dense(&values);
    for &x in &sparse.values {
        super::errors::check_element(x, "sparsevec");
    }
    or_error(sparse::check_nnz(
        sparse.indices.len() as i64,
        sparse.dim as i64,
    ));
    SparsevecOut::from_sparse(&sparse)
}

// ---- distances and functions ---------------------------------------------------

fn same_dims(a: &SparsevecArg, b: &SparsevecArg) {
    super::errors::check_same_dims(a.dim() as usize, b.dim() as usize, TYPE_NAME);
}

#[pg_extern(sql = false)]
fn sparsevec_l2_distance(a: SparsevecArg, b: SparsevecArg) -> f64 {
    same_dims(&a, &b);
    (sparse::l2_squared(a.side(), b.side()) as f64).sqrt()
}

#[pg_extern(sql = false)]
fn sparsevec_l2_squared_distance(a: SparsevecArg, b: SparsevecArg) -> f64 {
    same_dims(&a, &b);
    sparse::l2_squared(a.side(), b.side()) as f64
}

#[pg_extern(sql = false)]
fn sparsevec_inner_product(a: SparsevecArg, b: SparsevecArg) -> f64 {
    same_dims(&a, &b);
    sparse::dot(a.side(), b.side()) as f64
}

#[pg_extern(sql = false)]
fn sparsevec_negative_inner_product(a: SparsevecArg, b: SparsevecArg) -> f64 {
    -sparsevec_inner_product(a, b)
}

#[pg_extern(sql = false)]
fn sparsevec_cosine_distance(a: SparsevecArg, b: SparsevecArg) -> f64 {
    same_dims(&a, &b);
    let (ab, aa, bb) = sparse::cosine_parts(a.side(), b.side());
    kernels::cosine_from_parts(ab, aa, bb)
}

#[pg_extern(sql = false)]
fn sparsevec_l1_distance(a: SparsevecArg, b: SparsevecArg) -> f64 {
    same_dims(&a, &b);
    sparse::l1(a.side(), b.side()) as f64
}

#[pg_extern(sql = false)]
fn sparsevec_l2_norm(value: SparsevecArg) -> f64 {
    sparse::norm(value.values())
}

#[pg_extern(sql = false)]
fn sparsevec_l2_normalize(value: SparsevecArg) -> SparsevecOut {
    let norm = sparse::norm(value.values());
    if norm == 0.0 {
        return SparsevecOut::new(value.dim(), value.indices(), value.values());
    }
    let mut normalized = Sparse {
        dim: value.dim(),
        ..Default::default()
    };
    for (&index, &x) in value.indices().iter().zip(value.values()) {
        let y = (x as f64 / norm) as f32;
        if y.is_infinite() {
            overflow();
        }
        // A value can vanish next to a far larger one; it is no longer stored.
        if y != 0.0 {
            normalized.indices.push(index);
            normalized.values.push(y);
        }
    }
    SparsevecOut::from_sparse(&normalized)
}

// ---- comparison (btree) --------------------------------------------------------

fn compare(a: &SparsevecArg, b: &SparsevecArg) -> std::cmp::Ordering {
    sparse::compare(a.side(), a.dim(), b.side(), b.dim())
}

#[pg_extern(sql = false)]
fn sparsevec_cmp(a: SparsevecArg, b: SparsevecArg) -> i32 {
    compare(&a, &b) as i32
}

#[pg_extern(sql = false)]
fn sparsevec_lt(a: SparsevecArg, b: SparsevecArg) -> bool {
    compare(&a, &b).is_lt()
}

#[pg_extern(sql = false)]
fn sparsevec_le(a: SparsevecArg, b: SparsevecArg) -> bool {
    compare(&a, &b).is_le()
}

#[pg_extern(sql = false)]
fn sparsevec_eq(a: SparsevecArg, b: SparsevecArg) -> bool {
    compare(&a, &b).is_eq()
}

#[pg_extern(sql = false)]
fn sparsevec_ne(a: SparsevecArg, b: SparsevecArg) -> bool {
    compare(&a, &b).is_ne()
}

#[pg_extern(sql = false)]
fn sparsevec_ge(a: SparsevecArg, b: SparsevecArg) -> bool {
    compare(&a, &b).is_ge()
}

#[pg_extern(sql = false)]
fn sparsevec_gt(a: SparsevecArg, b: SparsevecArg) -> bool {
    compare(&a, &b).is_gt()
}
