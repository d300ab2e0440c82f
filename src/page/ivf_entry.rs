//! The rows of an IVF index's lists. A list entry is a heap TID and the
//! row's stored code (its residual from the list's center, or its bits);
//! a pending row, in an index not trained yet, carries its whole vector.
//! Either may be followed by filter values, 8-byte aligned.

use super::element::{filter_offset, stored_vector, vector_bytes, ElementWidth, StoredVector};
use super::ids::HeapTid;
use super::ivf_meta::{RowHeader, ROW_HEADER_SIZE};
use super::FormatError;
use zerocopy::{FromBytes, IntoBytes};

/// A list entry's first byte.
pub const ENTRY_KIND: u8 = 5;
/// A pending row's first byte.
pub const PENDING_KIND: u8 = 6;
/// The row carries filter values after its code or vector.
const FILTER_FLAG: u8 = 1;

fn encode(kind: u8, tid: HeapTid, body: &[u8], filter: &[u8]) -> Vec<u8> {
    let mut header = RowHeader::new(kind, tid);
    if !filter.is_empty() {
        header.flags |= FILTER_FLAG;
    }
    let mut tuple = header.as_bytes().to_vec();
    tuple.extend_from_slice(body);
    if !filter.is_empty() {
        tuple.resize(filter_offset(tuple.len()), 0);
        tuple.extend_from_slice(filter);
    }
    tuple
}

/// A list entry: the row's TID, its stored code, and its filter values.
pub fn encode_entry(tid: HeapTid, code: &[u8], filter: &[u8]) -> Vec<u8> {
    encode(ENTRY_KIND, tid, code, filter)
}

/// A pending row: its TID, its vector stored at `width`, and its filter values.
pub fn encode_pending(tid: HeapTid, vector: &[f32], width: ElementWidth, filter: &[u8]) -> Vec<u8> {
    encode(PENDING_KIND, tid, &vector_bytes(width, vector), filter)
}

/// Bytes of a list entry with a code of `code_bytes` and `filter_len` bytes of filter values.
pub fn entry_size(code_bytes: usize, filter_len: usize) -> usize {
    super::with_filter_size(ROW_HEADER_SIZE + code_bytes, filter_len)
}

fn header(tuple: &[u8], kind: u8) -> Result<RowHeader, FormatError> {
    let (header, _) = RowHeader::read_from_prefix(tuple).map_err(|_| FormatError::TooShort {
        needed: ROW_HEADER_SIZE,
        found: tuple.len(),
    })?;
    if header.kind != kind {
        return Err(FormatError::WrongTupleKind {
            expected: kind,
            found: header.kind,
        });
    }
    if header.flags & !FILTER_FLAG != 0 {
        return Err(FormatError::BadField("row flags"));
    }
    Ok(header)
}

/// The filter values after a body of `body_len` bytes, if the row has them.
fn filter_of(
    tuple: &[u8],
    header: RowHeader,
    body_len: usize,
) -> Result<Option<&[u8]>, FormatError> {
    if header.flags & FILTER_FLAG == 0 {
        return Ok(None);
    }
    let at = filter_offset(ROW_HEADER_SIZE + body_len);
    match tuple.get(at..) {
        Some(values) if !values.is_empty() => Ok(Some(values)),
        _ => Err(FormatError::BadField("filter values")),
    }
}

/// A list entry read in place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListEntry<'a> {
    pub tid: HeapTid,
    pub code: &'a [u8],
    pub filter: Option<&'a [u8]>,
}

/// A pending row read in place; its vector is 4-byte aligned, as tuples on
/// pages are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendingRow<'a> {
    pub tid: HeapTid,
    pub vector: StoredVector<'a>,
    pub filter: Option<&'a [u8]>,
}

/// Reads a list entry whose code is `code_bytes` long.
pub fn decode_entry(tuple: &[u8], code_bytes: usize) -> Result<ListEntry<'_>, FormatError> {
    let header = header(tuple, ENTRY_KIND)?;
    let code = tuple
        .get(ROW_HEADER_SIZE..ROW_HEADER_SIZE + code_bytes)
        .ok_or(FormatError::TooShort {
            needed: ROW_HEADER_SIZE + code_bytes,
            found: tuple.len(),
        })?;
    Ok(ListEntry {
        tid: header.tid.into(),
        code,
        filter: filter_of(tuple, header, code_bytes)?,
    })
}

/// The heap row a pending row names.
pub fn pending_tid(tuple: &[u8]) -> Result<HeapTid, FormatError> {
    Ok(header(tuple, PENDING_KIND)?.tid.into())
}

/// Reads a pending row of a `dimensions`-long vector stored as `width`.
pub fn decode_pending(
    tuple: &[u8],
    dimensions: usize,
    width: ElementWidth,
) -> Result<PendingRow<'_>, FormatError> {
    let header = header(tuple, PENDING_KIND)?;
    let vector = stored_vector(&tuple[ROW_HEADER_SIZE..], width, dimensions)
        .ok_or(FormatError::BadField("pending row's vector"))?;
    let filter = filter_of(tuple, header, width.vector_bytes(dimensions))?;
    Ok(PendingRow {
        tid: header.tid.into(),
        vector,
        filter,
    })
}
