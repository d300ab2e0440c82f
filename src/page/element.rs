//! Element tuples: a node of the graph, with the heap rows it stands for,
//! where its neighbor tuple is, and its vector (or, for a wide element, the
//! ids of the part tuples that hold it, `parts.rs`), then, in an index with
//! filter columns, the row's values of those columns.

use super::ids::{HeapTid, NodeId, StoredId};
use super::{FormatError, ELEMENT_KIND, HEAP_TIDS};
use zerocopy::byteorder::little_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

// A wide element's part ids (their tuples are parts.rs'): the element's
// size depends on their count.

/// What follows a wide element's header: how many parts there are.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct PartsHeader {
    pub(super) count: U16,
    reserved: [u8; 6],
}

/// Each part id takes 8 bytes (6 used), so ids stay 2-byte aligned.
#[derive(Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(super) struct PartId {
    pub(super) id: StoredId,
    reserved: [u8; 2],
}

pub(super) const PARTS_HEADER_SIZE: usize = std::mem::size_of::<PartsHeader>();
const PART_ID_BYTES: usize = std::mem::size_of::<PartId>();
/// More parts than a 16,000-dimension float4 vector needs on 8 kB pages,
/// with room for smaller pages.
pub const MAX_PARTS: usize = 64;

pub fn wide_element_size(parts: usize) -> usize {
    ELEMENT_HEADER_SIZE + PARTS_HEADER_SIZE + parts * PART_ID_BYTES
}

pub(super) fn part_count(tuple: &[u8]) -> Result<usize, FormatError> {
    let header = tuple
        .get(ELEMENT_HEADER_SIZE..)
        .and_then(|rest| PartsHeader::ref_from_prefix(rest).ok())
        .ok_or(FormatError::TooShort {
            needed: ELEMENT_HEADER_SIZE + PARTS_HEADER_SIZE,
            found: tuple.len(),
        })?
        .0;
    match header.count.get() as usize {
        0 => Err(FormatError::BadField("part count")),
        n if n > MAX_PARTS => Err(FormatError::BadField("part count")),
        n => Ok(n),
    }
}

/// The header as the page holds it; the vector follows it.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct ElementLayout {
    kind: u8,
    level: u8,
    flags: u8,
    heap_tid_count: u8,
    neighbors: StoredId,
    dimensions: U16,
    heap_tids: [StoredId; HEAP_TIDS],
    anchor: StoredId,
}

/// Offset of the vector in an element tuple; a multiple of 8, so vectors in
/// MAXALIGNed tuples are aligned for in-place reads.
pub const ELEMENT_HEADER_SIZE: usize = std::mem::size_of::<ElementLayout>();
const _: () = assert!(ELEMENT_HEADER_SIZE.is_multiple_of(8));

/// Flags of an element.
const DELETED_FLAG: u8 = 1;
const FLOAT2_FLAG: u8 = 2;
pub(super) const BIT_FLAG: u8 = 4;
pub(super) const SPARSE_FLAG: u8 = 8;
pub(super) const WIDE_FLAG: u8 = 16;
/// The element carries filter values after its vector (`append_filter`).
const FILTER_FLAG: u8 = 32;
const WIDTH_FLAGS: u8 = FLOAT2_FLAG | BIT_FLAG | SPARSE_FLAG;

/// The header of an element tuple of at least ELEMENT_HEADER_SIZE bytes.
fn layout(tuple: &[u8]) -> Option<&ElementLayout> {
    ElementLayout::ref_from_prefix(tuple)
        .ok()
        .map(|(layout, _)| layout)
}

fn layout_mut(tuple: &mut [u8]) -> Option<&mut ElementLayout> {
    ElementLayout::mut_from_prefix(tuple)
        .ok()
        .map(|(layout, _)| layout)
}

/// The header of an element, or why `tuple` is none.
fn element_layout(tuple: &[u8]) -> Result<&ElementLayout, FormatError> {
    let layout = layout(tuple).ok_or(FormatError::TooShort {
        needed: ELEMENT_HEADER_SIZE,
        found: tuple.len(),
    })?;
    if layout.kind != ELEMENT_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: ELEMENT_KIND,
            found: layout.kind,
        });
    }
    Ok(layout)
}

/// How an element stores its vector: float4, float16 (for halfvec columns:
/// half the bytes, and twice the dimensions on a page), or one bit per
/// dimension, high bit first (for bit columns; in memory, 0.0 or 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementWidth {
    Float4,
    Float2,
    Bit,
    /// Float4 slots of a packed sparse vector (`kernels::sparse::pack`), as
    /// many as the element's own dimension count says: elements differ in size.
    Sparse,
}

impl ElementWidth {
    pub fn vector_bytes(self, dimensions: usize) -> usize {
        match self {
            ElementWidth::Float4 | ElementWidth::Sparse => 4 * dimensions,
            ElementWidth::Float2 => 2 * dimensions,
            ElementWidth::Bit => dimensions.div_ceil(8),
        }
    }

    fn flag(self) -> u8 {
        match self {
            ElementWidth::Float4 => 0,
            ElementWidth::Float2 => FLOAT2_FLAG,
            ElementWidth::Bit => BIT_FLAG,
            ElementWidth::Sparse => SPARSE_FLAG,
        }
    }

    fn of_flags(flags: u8) -> ElementWidth {
        if flags & FLOAT2_FLAG != 0 {
            ElementWidth::Float2
        } else if flags & BIT_FLAG != 0 {
            ElementWidth::Bit
        } else if flags & SPARSE_FLAG != 0 {
            ElementWidth::Sparse
        } else {
            ElementWidth::Float4
        }
    }
}

/// An element's vector as stored, read in place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StoredVector<'a> {
    Float4(&'a [f32]),
    Float2(&'a [half::f16]),
    /// Packed bits and how many of them there are.
    Bit(&'a [u8], usize),
}

impl StoredVector<'_> {
    /// Appends the elements as float4 (exactly: every float16 is a float4).
    pub fn extend_into(&self, out: &mut Vec<f32>) {
        match self {
            StoredVector::Float4(v) => out.extend_from_slice(v),
            StoredVector::Float2(v) => {
                // F16C when the CPU has it (the half crate checks at run time).
                let start = out.len();
                out.resize(start + v.len(), 0.0);
                half::slice::HalfFloatSliceExt::convert_to_f32_slice(*v, &mut out[start..]);
            }
            StoredVector::Bit(bytes, bits) => out.extend((0..*bits).map(|i| {
                if bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                    1.0
                } else {
                    0.0
                }
            })),
        }
    }

    pub fn all_finite(&self) -> bool {
        match self {
            StoredVector::Float4(v) => v.iter().all(|x| x.is_finite()),
            StoredVector::Float2(v) => v.iter().all(|x| x.is_finite()),
            StoredVector::Bit(..) => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementHeader {
    pub level: u8,
    pub deleted: bool,
    pub width: ElementWidth,
    pub heap_tids: Vec<HeapTid>,
    /// Where the node's neighbor tuple is.
    pub neighbors: NodeId,
    pub dimensions: u16,
    /// The node whose layer-0 list holds this one's protected incoming link
    /// (see `hnsw::add_link`), or NONE.
    pub anchor: NodeId,
    /// The vector is too large for a page: the element holds the ids of the
    /// part tuples that hold it (`encode_wide_element`).
    pub wide: bool,
}

pub fn element_size(dimensions: usize, width: ElementWidth) -> usize {
    ELEMENT_HEADER_SIZE + width.vector_bytes(dimensions)
}

impl ElementHeader {
    /// Writes the header into the first ELEMENT_HEADER_SIZE bytes of `out`.
    pub fn encode_into(&self, out: &mut [u8]) {
        assert!(self.heap_tids.len() <= HEAP_TIDS);
        let layout = layout_mut(out).expect("room for an element's header");
        layout.kind = ELEMENT_KIND;
        layout.level = self.level;
        // The filter flag belongs to the bytes after the header, which a
        // header rewritten in place (VACUUM, a new heap TID) leaves as they are.
        layout.flags = if self.deleted { DELETED_FLAG } else { 0 }
            | if self.wide { WIDE_FLAG } else { 0 }
            | self.width.flag()
            | (layout.flags & FILTER_FLAG);
        layout.heap_tid_count = self.heap_tids.len() as u8;
        layout.neighbors = self.neighbors.into();
        layout.dimensions.set(self.dimensions);
        for (slot, stored) in layout.heap_tids.iter_mut().enumerate() {
            *stored = self
                .heap_tids
                .get(slot)
                .copied()
                .unwrap_or(HeapTid::NONE)
                .into();
        }
        layout.anchor = self.anchor.into();
    }

    pub fn decode(tuple: &[u8]) -> Result<ElementHeader, FormatError> {
        let layout = element_layout(tuple)?;
        let count = layout.heap_tid_count as usize;
        if count > HEAP_TIDS {
            return Err(FormatError::BadField("heap TID count"));
        }
        if layout.flags & !(DELETED_FLAG | WIDE_FLAG | FILTER_FLAG | WIDTH_FLAGS) != 0
            || (layout.flags & WIDTH_FLAGS).count_ones() > 1
        {
            return Err(FormatError::BadField("element flags"));
        }
        let width = ElementWidth::of_flags(layout.flags);
        let dimensions = layout.dimensions.get();
        let wide = layout.flags & WIDE_FLAG != 0;
        let size = if wide {
            wide_element_size(part_count(tuple)?)
        } else {
            element_size(dimensions as usize, width)
        };
        if tuple.len() < size {
            return Err(FormatError::TooShort {
                needed: size,
                found: tuple.len(),
            });
        }
        if layout.flags & FILTER_FLAG != 0 && tuple.len() <= filter_offset(size) {
            return Err(FormatError::BadField("filter values"));
        }
        Ok(ElementHeader {
            level: layout.level,
            deleted: layout.flags & DELETED_FLAG != 0,
            width,
            heap_tids: layout.heap_tids[..count]
                .iter()
                .map(|&id| id.into())
                .collect(),
            neighbors: layout.neighbors.into(),
            dimensions,
            anchor: layout.anchor.into(),
            wide,
        })
    }
}

/// The width an element's flags say its vector is stored at.
pub(super) fn element_width(tuple: &[u8]) -> ElementWidth {
    ElementWidth::of_flags(tuple[2])
}

/// A whole element tuple: header and vector, stored at the header's width.
pub fn encode_element(header: &ElementHeader, vector: &[f32]) -> Vec<u8> {
    debug_assert!(!header.wide);
    let mut out = vec![0u8; ELEMENT_HEADER_SIZE];
    header.encode_into(&mut out);
    out.extend_from_slice(&vector_bytes(header.width, vector));
    out
}

/// A vector's bytes as an element stores them, at `width`.
pub fn vector_bytes(width: ElementWidth, vector: &[f32]) -> Vec<u8> {
    let mut body = vec![0u8; width.vector_bytes(vector.len())];
    match width {
        ElementWidth::Float4 | ElementWidth::Sparse => {
            for (chunk, x) in body.chunks_exact_mut(4).zip(vector) {
                chunk.copy_from_slice(&x.to_ne_bytes());
            }
        }
        ElementWidth::Float2 => {
            for (chunk, x) in body.chunks_exact_mut(2).zip(vector) {
                chunk.copy_from_slice(&half::f16::from_f32(*x).to_ne_bytes());
            }
        }
        ElementWidth::Bit => {
            for (i, &x) in vector.iter().enumerate() {
                if x != 0.0 {
                    body[i / 8] |= 0x80 >> (i % 8);
                }
            }
        }
    }
    body
}

// ---- filter values ---------------------------------------------------------------
//
// An index with filter columns (`CREATE INDEX ... USING hnsw (embedding
// vector_l2_ops, tenant_id, labels)`) keeps each element's values of those
// columns after its vector (or its part ids), 8-byte aligned, in bytes the
// caller forms and reads (PostgreSQL's index tuple format, for the pgrx
// side). The element's flag says they are there.

/// Where filter values start after an element body of `body_len` bytes.
pub fn filter_offset(body_len: usize) -> usize {
    body_len.next_multiple_of(8)
}

/// Size of an element of `body_len` bytes with `filter_len` bytes of filter values.
pub fn with_filter_size(body_len: usize, filter_len: usize) -> usize {
    if filter_len == 0 {
        body_len
    } else {
        filter_offset(body_len) + filter_len
    }
}

/// Appends filter values to an encoded element (none: leaves it as it is).
pub fn append_filter(tuple: &mut Vec<u8>, filter: &[u8]) {
    if filter.is_empty() {
        return;
    }
    tuple[2] |= FILTER_FLAG;
    tuple.resize(filter_offset(tuple.len()), 0);
    tuple.extend_from_slice(filter);
}

/// Bytes of the element before its filter values: header and vector, or
/// header and part ids.
fn element_body_len(tuple: &[u8]) -> Result<usize, FormatError> {
    let header = ElementHeader::decode(tuple)?;
    Ok(if header.wide {
        wide_element_size(part_count(tuple)?)
    } else {
        element_size(header.dimensions as usize, header.width)
    })
}

/// The element's filter values; None when it has none.
pub fn element_filter(tuple: &[u8]) -> Result<Option<&[u8]>, FormatError> {
    let body_len = element_body_len(tuple)?;
    if tuple[2] & FILTER_FLAG == 0 {
        return Ok(None);
    }
    // `decode` checked that bytes follow the body.
    Ok(Some(&tuple[filter_offset(body_len)..]))
}

// ---- reading in place: the hot path of a walk ----------------------------------------

/// A vector read from stored bytes (an element's, or its parts' copied
/// together): None if they are too short or not 4-byte aligned.
pub fn stored_vector(
    bytes: &[u8],
    width: ElementWidth,
    dimensions: usize,
) -> Option<StoredVector<'_>> {
    let bytes = bytes.get(..width.vector_bytes(dimensions))?;
    match width {
        ElementWidth::Float4 | ElementWidth::Sparse => {
            // SAFETY: any bit pattern is a valid f32; align_to only yields an aligned middle.
            let (head, floats, tail) = unsafe { bytes.align_to::<f32>() };
            (head.is_empty() && tail.is_empty()).then_some(StoredVector::Float4(floats))
        }
        ElementWidth::Float2 => {
            // SAFETY: any bit pattern is a valid f16; align_to only yields an aligned middle.
            let (head, halves, tail) = unsafe { bytes.align_to::<half::f16>() };
            (head.is_empty() && tail.is_empty()).then_some(StoredVector::Float2(halves))
        }
        ElementWidth::Bit => Some(StoredVector::Bit(bytes, dimensions)),
    }
}

/// The element's vector, read in place, at the width its flag says (a
/// sparse element has its own length, and `dimensions` is not asked). The
/// tuple must be 4-byte aligned, as tuples on pages are; returns None
/// otherwise, if the tuple is short, or if the element is wide.
pub fn element_vector(tuple: &[u8], dimensions: usize) -> Option<StoredVector<'_>> {
    let layout = layout(tuple)?;
    if layout.flags & WIDE_FLAG != 0 || !flags_valid(layout) {
        return None;
    }
    let width = ElementWidth::of_flags(layout.flags);
    let dimensions = if width == ElementWidth::Sparse {
        layout.dimensions.get() as usize
    } else {
        dimensions
    };
    stored_vector(&tuple[ELEMENT_HEADER_SIZE..], width, dimensions)
}

/// Flags and TID count a build writes: checked on the hot path of a walk,
/// which does not decode the whole header, so that a damaged element is not
/// read at another width.
fn flags_valid(layout: &ElementLayout) -> bool {
    layout.flags & !(DELETED_FLAG | WIDE_FLAG | FILTER_FLAG | WIDTH_FLAGS) == 0
        && (layout.flags & WIDTH_FLAGS).count_ones() <= 1
        && layout.heap_tid_count as usize <= HEAP_TIDS
}

/// Where the element's neighbor tuple is, read without decoding the rest:
/// the hot path of a graph walk.
pub fn element_neighbors(tuple: &[u8]) -> Result<NodeId, FormatError> {
    Ok(element_layout(tuple)?.neighbors.into())
}

/// The element's anchor, read without decoding the rest.
pub fn element_anchor(tuple: &[u8]) -> Result<NodeId, FormatError> {
    Ok(element_layout(tuple)?.anchor.into())
}

/// Replaces the element's anchor in place.
pub fn set_element_anchor(tuple: &mut [u8], anchor: NodeId) -> Result<(), FormatError> {
    element_layout(tuple)?;
    layout_mut(tuple).expect("checked above").anchor = anchor.into();
    Ok(())
}

/// Whether the element's vector is in part tuples.
pub fn element_is_wide(tuple: &[u8]) -> bool {
    layout(tuple).is_some_and(|l| l.kind == ELEMENT_KIND && l.flags & WIDE_FLAG != 0)
}

/// Whether the element stands for a row: not deleted, and has heap TIDs.
pub fn element_is_live(tuple: &[u8]) -> bool {
    layout(tuple).is_some_and(|l| {
        l.kind == ELEMENT_KIND && l.flags & DELETED_FLAG == 0 && l.heap_tid_count > 0
    })
}
