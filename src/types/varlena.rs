//! The on-disk `vector` value, laid out as pgvector's so dumps, binary COPY and
//! clients interoperate: `int32 varlena header | int16 dim | int16 unused (0) | float4[dim]`.

use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pg_sys;
use pgrx::prelude::*;

#[repr(C)]
struct VectorHeader {
    vl_len: u32,
    dim: i16,
    unused: i16,
}

const HEADER_SIZE: usize = std::mem::size_of::<VectorHeader>();

fn data_ptr(header: *const VectorHeader) -> *const f32 {
    // SAFETY: the elements start right after the fixed header.
    unsafe { header.cast::<u8>().add(HEADER_SIZE).cast() }
}

/// A detoasted `vector` argument: a read-only view of its elements.
pub struct VectorArg {
    header: *const VectorHeader,
}

impl VectorArg {
    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: `header` points to a detoasted, 4-byte aligned vector whose
        // `dim` elements follow the header; it lives for the current call.
        unsafe { std::slice::from_raw_parts(data_ptr(self.header), (*self.header).dim as usize) }
    }

    pub fn dim(&self) -> usize {
        // SAFETY: see as_slice.
        unsafe { (*self.header).dim as usize }
    }

    /// Reads the value of a `vector` datum, detoasting it if needed.
    ///
    /// # Safety
    /// `datum` must be a non-null `vector` datum.
    pub unsafe fn from_datum_unchecked(datum: pg_sys::Datum) -> Self {
        let header = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) };
        VectorArg { header: header.cast() }
    }
}

impl FromDatum for VectorArg {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
        if is_null {
            None
        } else {
            Some(unsafe { Self::from_datum_unchecked(datum) })
        }
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for VectorArg {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

/// A newly built `vector` in the current memory context, returned to Postgres.
pub struct VectorOut {
    header: *mut VectorHeader,
}

impl VectorOut {
    /// A zeroed vector of `dim` elements. Callers have checked `dim` against the limit.
    pub fn zeroed(dim: usize) -> Self {
        debug_assert!((1..=super::literal::MAX_DIM).contains(&dim));
        let size = HEADER_SIZE + dim * std::mem::size_of::<f32>();
        // SAFETY: palloc0 returns zeroed, maximally aligned memory or raises an ERROR.
        unsafe {
            let header = pg_sys::palloc0(size).cast::<VectorHeader>();
            pgrx::varlena::set_varsize_4b(header.cast(), size as i32);
            (*header).dim = dim as i16;
            VectorOut { header }
        }
    }

    pub fn from_slice(values: &[f32]) -> Self {
        let mut out = Self::zeroed(values.len());
        out.as_mut_slice().copy_from_slice(values);
        out
    }

    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: we own this freshly allocated vector.
        unsafe { std::slice::from_raw_parts_mut(data_ptr(self.header).cast_mut(), (*self.header).dim as usize) }
    }

    pub fn into_datum_raw(self) -> pg_sys::Datum {
        pg_sys::Datum::from(self.header)
    }
}

impl IntoDatum for VectorOut {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.into_datum_raw())
    }

    fn type_oid() -> pg_sys::Oid {
        // The type belongs to the extension; its OID is only known at run time
        // and nothing asks for it: every function's SQL is written by hand.
        pg_sys::InvalidOid
    }
}

unsafe impl BoxRet for VectorOut {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(self.into_datum_raw()) }
    }
}

pgrx::impl_sql_translatable!(VectorArg, "vector");
pgrx::impl_sql_translatable!(VectorOut, "vector");

unsafe impl BoxRet for VectorArg {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.header)) }
    }
}
