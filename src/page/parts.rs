//! Wide elements and part tuples. A vector too large for a page (over about
//! 2,000 float4 or 4,000 float16 dimensions) is cut into part tuples, each on
//! a page of its own or sharing one with others; its element keeps the header
//! and the parts' ids, so it is small and sits beside its neighbor tuple like
//! any other. A walk that measures it copies the parts together.

use super::element::{
    element_is_wide, element_vector, element_width, part_count, wide_element_size, ElementHeader,
    ElementWidth, PartId, PartsHeader, StoredVector, ELEMENT_HEADER_SIZE, MAX_PARTS,
    PARTS_HEADER_SIZE, WIDE_FLAG,
};
use super::ids::NodeId;
use super::{FormatError, PART_KIND};
use zerocopy::byteorder::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A part tuple's header; its piece of the vector follows.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct PartLayout {
    kind: u8,
    reserved: u8,
    /// Which part of its vector this is.
    position: U16,
    /// Bytes of the piece.
    length: U32,
}

/// Bytes of a part tuple before its piece of the vector.
pub const PART_HEADER_SIZE: usize = std::mem::size_of::<PartLayout>();

/// A wide element: the header (whose `wide` must be set) and its parts' ids.
pub fn encode_wide_element(header: &ElementHeader, parts: &[NodeId]) -> Vec<u8> {
    assert!(header.wide && !parts.is_empty() && parts.len() <= MAX_PARTS);
    let mut out = vec![0u8; wide_element_size(parts.len())];
    header.encode_into(&mut out);
    let (list, ids) =
        PartsHeader::mut_from_prefix(&mut out[ELEMENT_HEADER_SIZE..]).expect("sized above");
    list.count.set(parts.len() as u16);
    let (ids, _) = <[PartId]>::mut_from_prefix_with_elems(ids, parts.len()).expect("sized above");
    for (stored, &part) in ids.iter_mut().zip(parts) {
        stored.id = part.into();
    }
    out
}

/// The largest piece of a vector a part tuple can carry on a page that holds
/// `capacity` bytes, each item taking `footprint(length)`.
pub fn part_capacity(capacity: usize, footprint: impl Fn(usize) -> usize) -> usize {
    let mut piece = capacity - PART_HEADER_SIZE;
    while piece > 0 && footprint(PART_HEADER_SIZE + piece) > capacity {
        piece -= 1;
    }
    piece
}

/// The part tuples of a vector's stored bytes, `piece` bytes at most each.
pub fn encode_parts(bytes: &[u8], piece: usize) -> Vec<Vec<u8>> {
    bytes
        .chunks(piece)
        .enumerate()
        .map(|(position, chunk)| {
            let header = PartLayout {
                kind: PART_KIND,
                reserved: 0,
                position: U16::new(position as u16),
                length: U32::new(chunk.len() as u32),
            };
            let mut tuple = header.as_bytes().to_vec();
            tuple.extend_from_slice(chunk);
            tuple
        })
        .collect()
}

/// Which part of its vector a part tuple is.
pub fn part_position(tuple: &[u8]) -> Option<usize> {
    let (header, _) = PartLayout::ref_from_prefix(tuple).ok()?;
    (header.kind == PART_KIND).then(|| header.position.get() as usize)
}

/// The piece of the vector in a part tuple, which must be part `position`.
pub fn part_piece(tuple: &[u8], position: usize) -> Result<&[u8], FormatError> {
    let (header, piece) =
        PartLayout::ref_from_prefix(tuple).map_err(|_| FormatError::TooShort {
            needed: PART_HEADER_SIZE,
            found: tuple.len(),
        })?;
    if header.kind != PART_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: PART_KIND,
            found: header.kind,
        });
    }
    if header.position.get() as usize != position {
        return Err(FormatError::BadField("part position"));
    }
    let length = header.length.get() as usize;
    piece.get(..length).ok_or(FormatError::TooShort {
        needed: PART_HEADER_SIZE + length,
        found: tuple.len(),
    })
}

/// A wide vector's pieces copied together, 4-byte aligned as
/// `stored_vector` needs; reused from one vector to the next.
#[derive(Debug, Default)]
pub struct Gathered {
    words: Vec<u32>,
    len: usize,
}

impl Gathered {
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn push(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if self.words.len() * 4 < end {
            self.words.resize(end.div_ceil(4), 0);
        }
        self.words.as_mut_bytes()[self.len..end].copy_from_slice(piece);
        self.len = end;
    }

    pub fn bytes(&self) -> &[u8] {
        &self.words.as_bytes()[..self.len]
    }
}

/// What an element holds: its vector, or where the parts of it are.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementBody<'a> {
    Inline(StoredVector<'a>),
    /// The part ids, the width and the dimensions of the vector they hold.
    Parts(Vec<NodeId>, ElementWidth, usize),
}

/// The element's vector in place, or its part ids when it is wide; None as
/// for `element_vector`.
pub fn element_body(tuple: &[u8], dimensions: usize) -> Option<ElementBody<'_>> {
    let flags = *tuple.get(2)?;
    if tuple.len() < ELEMENT_HEADER_SIZE || flags & WIDE_FLAG == 0 {
        return element_vector(tuple, dimensions).map(ElementBody::Inline);
    }
    // Parts of a wide element: at least one. A tuple of another kind whose
    // byte 2 has the wide bit set has none, and is no element at all.
    let parts = element_parts(tuple)
        .ok()
        .filter(|parts| !parts.is_empty())?;
    Some(ElementBody::Parts(parts, element_width(tuple), dimensions))
}

/// The ids of a wide element's parts, in order; none for other elements.
pub fn element_parts(tuple: &[u8]) -> Result<Vec<NodeId>, FormatError> {
    if !element_is_wide(tuple) {
        return Ok(Vec::new());
    }
    let count = part_count(tuple)?;
    let ids = tuple
        .get(ELEMENT_HEADER_SIZE + PARTS_HEADER_SIZE..wide_element_size(count))
        .ok_or(FormatError::TooShort {
            needed: wide_element_size(count),
            found: tuple.len(),
        })?;
    let (ids, _) = <[PartId]>::ref_from_prefix_with_elems(ids, count).expect("sized above");
    Ok(ids.iter().map(|part| part.id.into()).collect())
}
