//! The on-disk `vector` and `halfvec` values, laid out as pgvector's so dumps,
//! binary COPY and clients interoperate:
//! `int32 varlena header | int16 dim | int16 unused (0) | element[dim]`, with
//! float4 elements for `vector` and IEEE float16 for `halfvec`.

use crate::kernels;
use half::f16;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::marker::PhantomData;

/// An element type of a dense vector type.
pub trait Element: Copy + Default + PartialOrd + 'static {
    /// The SQL type's name, for error messages.
    const TYPE_NAME: &'static str;
    /// Bytes of one element in the binary protocol (big-endian).
    const WIRE_BYTES: usize;
    fn to_f32(self) -> f32;
    /// None when `x` is finite but outside the element type's range.
    fn from_f32(x: f32) -> Option<Self>;
    fn to_be_bytes(self, out: &mut Vec<u8>);
    fn from_bits_u32(bits: u32) -> Self;
    fn l2_squared(a: &[Self], b: &[Self]) -> f32;
    fn dot(a: &[Self], b: &[Self]) -> f32;
    fn l1(a: &[Self], b: &[Self]) -> f32;
    fn cosine_distance(a: &[Self], b: &[Self]) -> f64;
    fn norm(a: &[Self]) -> f64;
}

impl Element for f32 {
    const TYPE_NAME: &'static str = "vector";
    const WIRE_BYTES: usize = 4;
    fn to_f32(self) -> f32 {
        self
    }
    fn from_f32(x: f32) -> Option<Self> {
        Some(x)
    }
    fn to_be_bytes(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&f32::to_be_bytes(self));
    }
    fn from_bits_u32(bits: u32) -> Self {
        f32::from_bits(bits)
    }
    fn l2_squared(a: &[Self], b: &[Self]) -> f32 {
        kernels::l2_squared(a, b)
    }
    fn dot(a: &[Self], b: &[Self]) -> f32 {
        kernels::dot(a, b)
    }
    fn l1(a: &[Self], b: &[Self]) -> f32 {
        kernels::l1(a, b)
    }
    fn cosine_distance(a: &[Self], b: &[Self]) -> f64 {
        kernels::cosine_distance(a, b)
    }
    fn norm(a: &[Self]) -> f64 {
        kernels::norm(a)
    }
}

impl Element for f16 {
    const TYPE_NAME: &'static str = "halfvec";
    const WIRE_BYTES: usize = 2;
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    fn from_f32(x: f32) -> Option<Self> {
        let h = f16::from_f32(x);
        (!h.is_infinite() || x.is_infinite()).then_some(h)
    }
    fn to_be_bytes(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&f16::to_be_bytes(self));
    }
    fn from_bits_u32(bits: u32) -> Self {
        f16::from_bits(bits as u16)
    }
    fn l2_squared(a: &[Self], b: &[Self]) -> f32 {
        kernels::half::l2_squared(a, b)
    }
    fn dot(a: &[Self], b: &[Self]) -> f32 {
        kernels::half::dot(a, b)
    }
    fn l1(a: &[Self], b: &[Self]) -> f32 {
        kernels::half::l1(a, b)
    }
    fn cosine_distance(a: &[Self], b: &[Self]) -> f64 {
        let (ab, aa, bb) = kernels::half::cosine_parts(a, b);
        kernels::cosine_from_parts(ab, aa, bb)
    }
    fn norm(a: &[Self]) -> f64 {
        kernels::half::norm(a)
    }
}

#[repr(C)]
struct Header {
    vl_len: u32,
    dim: i16,
    unused: i16,
}

const HEADER_SIZE: usize = std::mem::size_of::<Header>();

fn data_ptr<E>(header: *const Header) -> *const E {
    // SAFETY: the elements start right after the fixed header.
    unsafe { header.cast::<u8>().add(HEADER_SIZE).cast() }
}

/// A detoasted argument: a read-only view of its elements.
pub struct DenseArg<E: Element> {
    header: *const Header,
    element: PhantomData<E>,
}

pub type VectorArg = DenseArg<f32>;
pub type HalfvecArg = DenseArg<f16>;

impl<E: Element> DenseArg<E> {
    pub fn as_slice(&self) -> &[E] {
        // SAFETY: `header` points to a detoasted, 4-byte aligned value whose
        // `dim` elements follow the header; it lives for the current call.
        unsafe { std::slice::from_raw_parts(data_ptr(self.header), (*self.header).dim as usize) }
    }

    pub fn dim(&self) -> usize {
        // SAFETY: see as_slice.
        unsafe { (*self.header).dim as usize }
    }

    /// The elements of a datum of this type stored plainly (a 4-byte header,
    /// neither compressed nor out of line, aligned, and as long as its
    /// dimensions say), read in place; None for any other, which
    /// `from_datum_unchecked` detoasts.
    ///
    /// # Safety
    /// `datum` must be a non-null datum of this type.
    pub unsafe fn plain<'a>(datum: pg_sys::Datum) -> Option<&'a [E]> {
        let header = datum.cast_mut_ptr::<Header>().cast_const();
        // SAFETY: a varlena's first byte says its kind; a 4-byte header
        // (low two bits 00 on little-endian machines) means its size and
        // data follow, uncompressed, in place.
        unsafe {
            let first = *header.cast::<u8>();
            if !cfg!(target_endian = "little") || first & 0x03 != 0 || header.align_offset(4) != 0 {
                return None;
            }
            let size = ((*header).vl_len >> 2) as usize;
            let dim = usize::try_from((*header).dim).ok()?;
            (size >= HEADER_SIZE + dim * std::mem::size_of::<E>())
                .then(|| std::slice::from_raw_parts(data_ptr(header), dim))
        }
    }

    /// Reads the value of a datum of this type, detoasting it if needed.
    ///
    /// # Safety
    /// `datum` must be a non-null datum of this type.
    pub unsafe fn from_datum_unchecked(datum: pg_sys::Datum) -> Self {
        // SAFETY: the caller's promise: a non-null varlena, which
        // pg_detoast_datum returns in place or as a palloc'd copy.
        let header = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) };
        DenseArg {
            header: header.cast(),
            element: PhantomData,
        }
    }
}

impl<E: Element> FromDatum for DenseArg<E> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null {
            None
        } else {
            // SAFETY: FromDatum's contract: a datum of this type, here not null.
            Some(unsafe { Self::from_datum_unchecked(datum) })
        }
    }
}

// SAFETY: unbox_arg_unchecked reads the argument with FromDatum, which
// detoasts a datum of this type (as the hand-written SQL declares the
// argument) and never reads a null one: it panics instead.
unsafe impl<'fcx, E: Element> ArgAbi<'fcx> for DenseArg<E> {
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
unsafe impl<E: Element> BoxRet for DenseArg<E> {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: the caller returns this datum, of its result type, which
        // lives at least as long as the call's memory context.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.header)) }
    }
}

/// A newly built value in the current memory context, returned to Postgres.
pub struct DenseOut<E: Element> {
    header: *mut Header,
    element: PhantomData<E>,
}

pub type VectorOut = DenseOut<f32>;
pub type HalfvecOut = DenseOut<f16>;

impl<E: Element> DenseOut<E> {
    /// A zeroed value of `dim` elements. Callers have checked `dim` against the limit.
    pub fn zeroed(dim: usize) -> Self {
        debug_assert!((1..=super::literal::MAX_DIM).contains(&dim));
        let size = HEADER_SIZE + dim * std::mem::size_of::<E>();
        // SAFETY: palloc0 returns zeroed, maximally aligned memory or raises an ERROR.
        unsafe {
            let header = pg_sys::palloc0(size).cast::<Header>();
            pgrx::varlena::set_varsize_4b(header.cast(), size as i32);
            (*header).dim = dim as i16;
            DenseOut {
                header,
                element: PhantomData,
            }
        }
    }

    pub fn from_slice(values: &[E]) -> Self {
        let mut out = Self::zeroed(values.len());
        out.as_mut_slice().copy_from_slice(values);
        out
    }

    pub fn as_mut_slice(&mut self) -> &mut [E] {
        // SAFETY: we own this freshly allocated value.
        unsafe {
            std::slice::from_raw_parts_mut(
                data_ptr::<E>(self.header).cast_mut(),
                (*self.header).dim as usize,
            )
        }
    }

    pub fn into_datum_raw(self) -> pg_sys::Datum {
        pg_sys::Datum::from(self.header)
    }
}

impl<E: Element> IntoDatum for DenseOut<E> {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.into_datum_raw())
    }

    fn type_oid() -> pg_sys::Oid {
        // The type belongs to the extension; its OID is only known at run time
        // and nothing asks for it: every function's SQL is written by hand.
        pg_sys::InvalidOid
    }
}

// SAFETY: box_into returns, never as the SQL null, a by-reference datum of
// the function's result type (`vector` or `halfvec`, as the hand-written SQL
// declares): a complete value, palloc'd in the call's memory context
// (`zeroed`).
unsafe impl<E: Element> BoxRet for DenseOut<E> {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: the caller returns this datum, of its result type, which
        // lives at least as long as the call's memory context.
        unsafe { fcinfo.return_raw_datum(self.into_datum_raw()) }
    }
}

pgrx::impl_sql_translatable!(VectorArg, "vector");
pgrx::impl_sql_translatable!(VectorOut, "vector");
pgrx::impl_sql_translatable!(HalfvecArg, "halfvec");
pgrx::impl_sql_translatable!(HalfvecOut, "halfvec");

#[cfg(test)]
mod tests {
    use super::*;

    /// A varlena of `dim` float4 elements with a 4-byte header, in 8-aligned memory.
    fn vector_bytes(dim: i16, values: &[f32]) -> Vec<u64> {
        let size = HEADER_SIZE + 4 * values.len();
        let mut memory = vec![0u64; size.div_ceil(8) + 1];
        // SAFETY: `memory` holds more than `size` bytes, any of which is a
        // valid u8, and is used only through `bytes` until it is returned.
        let bytes: &mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(memory.as_mut_ptr().cast(), size) };
        bytes[..4].copy_from_slice(&((size as u32) << 2).to_le_bytes());
        bytes[4..6].copy_from_slice(&dim.to_le_bytes());
        for (i, x) in values.iter().enumerate() {
            bytes[HEADER_SIZE + 4 * i..HEADER_SIZE + 4 * i + 4].copy_from_slice(&x.to_le_bytes());
        }
        memory
    }

    fn datum(memory: &[u64], offset: usize) -> pg_sys::Datum {
        // SAFETY: the callers' offsets are within `memory`.
        pg_sys::Datum::from(unsafe { memory.as_ptr().cast::<u8>().add(offset) } as usize)
    }

    #[test]
    fn plain_values_are_read_in_place_and_others_are_left_to_detoast() {
        // SAFETY (each `plain` below): the memory holds a value's header and
        // as many bytes as it says, and `plain` reads only the header until
        // it has checked the kind, alignment and size.
        let memory = vector_bytes(3, &[1.0, 2.0, 3.0]);
        assert_eq!(
            // SAFETY: as above.
            unsafe { VectorArg::plain(datum(&memory, 0)) },
            Some(&[1.0f32, 2.0, 3.0][..])
        );
        // More dimensions than the value holds: not read.
        let short = vector_bytes(4, &[1.0, 2.0, 3.0]);
        // SAFETY: as above.
        assert_eq!(unsafe { VectorArg::plain(datum(&short, 0)) }, None);
        // A 1-byte header (a short value in a heap tuple), or compressed (4-byte
        // header with the low bits 10): left to pg_detoast_datum.
        let mut one_byte = memory.clone();
        // SAFETY: the first byte of a non-empty Vec.
        unsafe { *one_byte.as_mut_ptr().cast::<u8>() |= 0x01 };
        // SAFETY: as above.
        assert_eq!(unsafe { VectorArg::plain(datum(&one_byte, 0)) }, None);
        let mut compressed = memory.clone();
        // SAFETY: the first byte of a non-empty Vec.
        unsafe { *compressed.as_mut_ptr().cast::<u8>() |= 0x02 };
        // SAFETY: as above.
        assert_eq!(unsafe { VectorArg::plain(datum(&compressed, 0)) }, None);
        // Not 4-byte aligned: left to the copy detoasting makes.
        let mut shifted = vec![0u64; memory.len() + 1];
        // SAFETY: `shifted` is 8 bytes longer than `memory`, so its bytes from
        // 2 on hold all of it; the two Vecs do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                memory.as_ptr().cast::<u8>(),
                shifted.as_mut_ptr().cast::<u8>().add(2),
                memory.len() * 8,
            );
        }
        // SAFETY: as above.
        assert_eq!(unsafe { VectorArg::plain(datum(&shifted, 2)) }, None);
    }
}
