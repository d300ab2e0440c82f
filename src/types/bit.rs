//! pgvector's functions on PostgreSQL's own `bit(n)`: Hamming and Jaccard
//! distances, and the result of `binary_quantize`.

use crate::kernels::bits;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// A VarBit: `int32 varlena header | int32 bit length | bits, high bit first`.
#[repr(C)]
struct Header {
    vl_len: u32,
    bit_len: i32,
}

const HEADER_SIZE: usize = std::mem::size_of::<Header>();

/// A detoasted `bit` argument.
pub struct BitArg {
    header: *const Header,
}

impl BitArg {
    pub fn len(&self) -> usize {
        // SAFETY: a detoasted VarBit.
        unsafe { (*self.header).bit_len as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: a VarBit holds ceil(bit_len / 8) bytes after its header; bits
        // past bit_len in the last byte are zero, as varbit.c keeps them.
        unsafe {
            std::slice::from_raw_parts(
                self.header.cast::<u8>().add(HEADER_SIZE),
                self.len().div_ceil(8),
            )
        }
    }
}

impl BitArg {
    /// Reads a `bit` datum, detoasting it if needed.
    ///
    /// # Safety
    /// `datum` must be a non-null `bit` datum.
    pub unsafe fn from_datum_unchecked(datum: pg_sys::Datum) -> Self {
        BitArg {
            // SAFETY: the caller's promise: a non-null varlena, which
            // pg_detoast_datum returns in place or as a palloc'd copy.
            header: unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) }.cast(),
        }
    }
}

impl FromDatum for BitArg {
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
unsafe impl<'fcx> ArgAbi<'fcx> for BitArg {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: the caller's promise: the argument's datum is of this type.
        unsafe { arg.unbox_arg_using_from_datum() }
            .unwrap_or_else(|| panic!("argument {index} must not be null"))
    }
}

/// A new `bit(n)` value, all zeros.
pub struct BitOut {
    header: *mut Header,
}

impl BitOut {
    pub fn zeroed(bit_len: usize) -> Self {
        let size = HEADER_SIZE + bit_len.div_ceil(8);
        // SAFETY: palloc0 returns zeroed memory or raises an ERROR.
        unsafe {
            let header = pg_sys::palloc0(size).cast::<Header>();
            pgrx::varlena::set_varsize_4b(header.cast(), size as i32);
            (*header).bit_len = bit_len as i32;
            BitOut { header }
        }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: we own this freshly allocated value.
        unsafe {
            let len = (*self.header).bit_len as usize;
            std::slice::from_raw_parts_mut(
                self.header.cast::<u8>().add(HEADER_SIZE),
                len.div_ceil(8),
            )
        }
    }
}

// SAFETY: box_into returns, never as the SQL null, a by-reference datum of
// the function's result type (`bit`, as the hand-written SQL declares): a
// complete VarBit, palloc'd in the call's memory context (`zeroed`).
unsafe impl BoxRet for BitOut {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        // SAFETY: the caller returns this datum, of its result type, which
        // lives at least as long as the call's memory context.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.header)) }
    }
}

pgrx::impl_sql_translatable!(BitArg, "bit");
pgrx::impl_sql_translatable!(BitOut, "bit");

fn same_lengths<'a>(a: &'a BitArg, b: &'a BitArg) -> (&'a [u8], &'a [u8]) {
    if a.len() != b.len() {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            format!("different bit lengths {} and {}", a.len(), b.len())
        );
    }
    (a.bytes(), b.bytes())
}

#[pg_extern(sql = false)]
fn hamming_distance(a: BitArg, b: BitArg) -> f64 {
    let (a, b) = same_lengths(&a, &b);
    bits::hamming(a, b) as f64
}

#[pg_extern(sql = false)]
fn jaccard_distance(a: BitArg, b: BitArg) -> f64 {
    let (a, b) = same_lengths(&a, &b);
    bits::jaccard(a, b)
}
