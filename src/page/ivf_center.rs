//! Center tuples of an IVF index: a list's center, where its pages start,
//! and the page inserts add to. Center pages hold them in list order, so a
//! list's number is its center's position.

use super::element::{stored_vector, vector_bytes, ElementWidth, StoredVector};
use super::{FormatError, INVALID_BLOCK};
use zerocopy::byteorder::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A center tuple's first byte.
pub const CENTER_KIND: u8 = 4;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct CenterLayout {
    kind: u8,
    reserved: [u8; 3],
    /// The list's first page, and the page inserts try first (one with
    /// room: the last, or one VACUUM found room on).
    head: U32,
    insert: U32,
    reserved2: U32,
}

const CENTER_HEADER_SIZE: usize = std::mem::size_of::<CenterLayout>();
const _: () = assert!(CENTER_HEADER_SIZE.is_multiple_of(8));

/// A list's pages, as its center tuple says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPages {
    pub head: u32,
    pub insert: u32,
}

impl ListPages {
    pub const EMPTY: ListPages = ListPages {
        head: INVALID_BLOCK,
        insert: INVALID_BLOCK,
    };
}

/// Bytes of a center tuple of `dimensions` at `width`.
pub fn center_size(dimensions: usize, width: ElementWidth) -> usize {
    CENTER_HEADER_SIZE + width.vector_bytes(dimensions)
}

/// A center tuple: its pages, and the center stored at `width`.
pub fn encode_center(pages: ListPages, center: &[f32], width: ElementWidth) -> Vec<u8> {
    let header = CenterLayout {
        kind: CENTER_KIND,
        reserved: [0; 3],
        head: U32::new(pages.head),
        insert: U32::new(pages.insert),
        reserved2: U32::new(0),
    };
    let mut tuple = header.as_bytes().to_vec();
    tuple.extend_from_slice(&vector_bytes(width, center));
    tuple
}

fn layout(tuple: &[u8]) -> Result<&CenterLayout, FormatError> {
    let (layout, _) = CenterLayout::ref_from_prefix(tuple).map_err(|_| FormatError::TooShort {
        needed: CENTER_HEADER_SIZE,
        found: tuple.len(),
    })?;
    if layout.kind != CENTER_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: CENTER_KIND,
            found: layout.kind,
        });
    }
    Ok(layout)
}

/// The list's pages and its center, read in place (the tuple must be
/// 4-byte aligned, as tuples on pages are).
pub fn decode_center(
    tuple: &[u8],
    dimensions: usize,
    width: ElementWidth,
) -> Result<(ListPages, StoredVector<'_>), FormatError> {
    let pages = center_pages(tuple)?;
    let center = stored_vector(&tuple[CENTER_HEADER_SIZE..], width, dimensions)
        .ok_or(FormatError::BadField("center"))?;
    Ok((pages, center))
}

/// The list's pages alone.
pub fn center_pages(tuple: &[u8]) -> Result<ListPages, FormatError> {
    let layout = layout(tuple)?;
    Ok(ListPages {
        head: layout.head.get(),
        insert: layout.insert.get(),
    })
}

/// Rewrites the list's pages in place.
pub fn set_list_pages(tuple: &mut [u8], pages: ListPages) -> Result<(), FormatError> {
    layout(tuple)?;
    let (layout, _) = CenterLayout::mut_from_prefix(tuple).expect("checked above");
    layout.head.set(pages.head);
    layout.insert.set(pages.insert);
    Ok(())
}
