//! On-page formats of the HNSW index. Pure: byte layouts only, no pgrx.
//!
//! Block 0 is the meta page. Every other page holds element tuples (a node:
//! its vector and heap TIDs) and neighbor tuples (a node's neighbor lists,
//! one fixed-size slot range per layer, so they are rewritten in place). A
//! node's neighbor tuple sits on its element's page whenever both fit. A
//! vector too large for a page is kept in part tuples, and its element holds
//! their ids instead (a wide element).
//! Every page's special space carries `PAGE_ID`; formats carry `FORMAT_VERSION`.

pub mod filter_values;

/// In each page's special space, for tools such as pg_filedump.
pub const PAGE_ID: u16 = 0xFF97;
pub const META_MAGIC: u32 = 0x5156_4853; // "QVHS"
/// Version 3 added neighbor codes (the meta page says whether an index has
/// them); version 2 indexes, which never do, read as version 3. Version 4
/// added float16 vectors in elements (a flag in each element says which);
/// older indexes, which have float4 ones only, read as version 4. Version 5
/// added wide elements, whose vector is stored in part tuples on other pages
/// (older indexes have none, and read as version 5). Version 6 added filter
/// values after an element's vector, for indexes with filter columns (a flag
/// in each element says it has them; older indexes have none). Version 7
/// added the filter directory: pages of (element, filter values) entries
/// that a scan reads whole when its conditions pass few rows (the meta page
/// says whether an index has a complete one; older indexes do not).
pub const FORMAT_VERSION: u32 = 7;
const OLDEST_READABLE_VERSION: u32 = 2;
pub const META_BLOCK: u32 = 0;
/// Heap rows one element can stand for (equal vectors share an element).
pub const HEAP_TIDS: usize = 9;
pub const INVALID_BLOCK: u32 = u32::MAX;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum FormatError {
    BadMagic,
    UnsupportedVersion(u32),
    WrongTupleKind { expected: u8, found: u8 },
    TooShort { needed: usize, found: usize },
    BadField(&'static str),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::BadMagic => write!(f, "meta page has the wrong magic number"),
            FormatError::UnsupportedVersion(v) => write!(f, "unsupported format version {v} (this build reads {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"),
            FormatError::WrongTupleKind { expected, found } => write!(f, "tuple kind {found}, expected {expected}"),
            FormatError::TooShort { needed, found } => write!(f, "tuple of {found} bytes, needs {needed}"),
            FormatError::BadField(name) => write!(f, "invalid {name}"),
        }
    }
}

/// A node's address: block number and line pointer offset (1-based; 0 is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u64);

impl NodeId {
    pub const NONE: NodeId = NodeId(0);

    pub fn new(block: u32, offset: u16) -> NodeId {
        NodeId(((block as u64) << 16) | offset as u64)
    }
    pub fn block(self) -> u32 {
        (self.0 >> 16) as u32
    }
    pub fn offset(self) -> u16 {
        self.0 as u16
    }
    pub fn is_none(self) -> bool {
        self.offset() == 0
    }
    /// The packed value, for stores that keep ids as plain integers.
    pub fn to_u64(self) -> u64 {
        self.0
    }
    pub fn from_u64(packed: u64) -> NodeId {
        NodeId(packed)
    }
    fn write(self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.block().to_le_bytes());
        out[4..6].copy_from_slice(&self.offset().to_le_bytes());
    }
    fn read(bytes: &[u8]) -> NodeId {
        NodeId::new(u32_at(bytes, 0), u16_at(bytes, 4))
    }
}

/// A heap row's TID packed like NodeId: block and offset.
pub type HeapTid = NodeId;

const ID_BYTES: usize = 6;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

// ---- special space ---------------------------------------------------------

pub const SPECIAL_SIZE: usize = 8;
pub const PAGE_KIND_META: u8 = 1;
pub const PAGE_KIND_GRAPH: u8 = 2;
/// Pages right after the meta page that hold the quantizer of neighbor codes.
pub const PAGE_KIND_CODES: u8 = 3;
/// Pages of the filter directory, chained through their special space.
pub const PAGE_KIND_FILTERS: u8 = 4;

/// The special space of every page: its kind and the page id.
pub fn encode_special(kind: u8) -> [u8; SPECIAL_SIZE] {
    let mut s = [0u8; SPECIAL_SIZE];
    s[0..4].copy_from_slice(&INVALID_BLOCK.to_le_bytes()); // reserved: next page in a chain
    s[4] = kind;
    s[6..8].copy_from_slice(&PAGE_ID.to_le_bytes());
    s
}

/// The next page of a chain (filter directory pages), or INVALID_BLOCK
/// (also for a special space too short to hold one).
pub fn special_next(special: &[u8]) -> u32 {
    special.get(..4).map_or(INVALID_BLOCK, |b| u32_at(b, 0))
}

pub fn set_special_next(special: &mut [u8], next: u32) {
    special[0..4].copy_from_slice(&next.to_le_bytes());
}

/// The page's kind, if the special space carries our page id.
pub fn special_kind(special: &[u8]) -> Option<u8> {
    // `then`, not `then_some`: the kind byte is read only once the length is known.
    (special.len() >= SPECIAL_SIZE && u16_at(special, 6) == PAGE_ID).then(|| special[4])
}

/// Whose index a page is, when it is pgvector's: its hnsw and ivfflat pages
/// carry their page id where ours does (pgvector's HNSW_PAGE_ID and
/// IVFFLAT_PAGE_ID), so an index pgvector built is told apart from a corrupt one.
pub fn foreign_index(special: &[u8]) -> Option<&'static str> {
    match special.get(6..8).map(|b| u16::from_le_bytes([b[0], b[1]])) {
        Some(0xFF90) => Some("pgvector's hnsw"),
        Some(0xFF84) => Some("pgvector's ivfflat"),
        _ => None,
    }
}

// ---- meta page ---------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    L2 = 1,
    InnerProduct = 2,
    Cosine = 3,
    L1 = 4,
    /// Over bit strings, stored packed (`ElementWidth::Bit`).
    Hamming = 5,
    Jaccard = 6,
}

impl Metric {
    fn from_u8(v: u8) -> Option<Metric> {
        [
            Metric::L2,
            Metric::InnerProduct,
            Metric::Cosine,
            Metric::L1,
            Metric::Hamming,
            Metric::Jaccard,
        ]
        .into_iter()
        .find(|m| *m as u8 == v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub dimensions: u32,
    pub m: u16,
    pub ef_construction: u16,
    pub metric: Metric,
    /// The node on the highest layer, or NONE for an empty graph.
    pub entry: NodeId,
    pub entry_level: u8,
    /// Where inserts look for free space first.
    pub insert_block: u32,
    /// Live elements, as of the last build or vacuum (for cost estimates).
    pub element_count: u64,
    /// What scans cost on this graph, measured at build (`hnsw::cost`):
    /// nodes a first batch measures, and thousandths of a node measured per
    /// later row. 0 when not measured; indexes written before these fields
    /// existed read 0 here (the bytes past their meta data are zero).
    pub walk_first_batch_visits: u32,
    pub walk_visits_per_row_milli: u32,
    /// Neighbor codes (`WITH (neighbor_codes = on)`): bits per dimension of
    /// the codes beside each layer-0 neighbor id, 0 for none; the bytes each
    /// takes; and where the quantizer is stored (blocks 1..=quantizer_blocks,
    /// quantizer_bytes of them).
    pub code_bits: u8,
    pub code_bytes: u16,
    pub quantizer_blocks: u32,
    pub quantizer_bytes: u32,
    /// The filter directory: its first page and the page inserts try first
    /// (META_BLOCK for none yet), and whether it has an entry for every
    /// element with filter values (indexes built before it existed do not).
    pub filter_head: u32,
    pub filter_insert_block: u32,
    pub filter_directory: bool,
}

pub const META_SIZE: usize = 64;

impl Meta {
    pub fn encode(&self) -> [u8; META_SIZE] {
        let mut b = [0u8; META_SIZE];
        b[0..4].copy_from_slice(&META_MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[8..12].copy_from_slice(&self.dimensions.to_le_bytes());
        b[12..14].copy_from_slice(&self.m.to_le_bytes());
        b[14..16].copy_from_slice(&self.ef_construction.to_le_bytes());
        b[16] = self.metric as u8;
        b[17] = self.entry_level;
        self.entry.write(&mut b[18..24]);
        b[24..28].copy_from_slice(&self.insert_block.to_le_bytes());
        b[32..40].copy_from_slice(&self.element_count.to_le_bytes());
        b[40..44].copy_from_slice(&self.walk_first_batch_visits.to_le_bytes());
        b[44..48].copy_from_slice(&self.walk_visits_per_row_milli.to_le_bytes());
        b[48] = self.code_bits;
        b[50..52].copy_from_slice(&self.code_bytes.to_le_bytes());
        b[52..56].copy_from_slice(&self.quantizer_blocks.to_le_bytes());
        b[56..60].copy_from_slice(&self.quantizer_bytes.to_le_bytes());
        b[49] = self.filter_directory as u8;
        b[28..32].copy_from_slice(&self.filter_head.to_le_bytes());
        b[60..64].copy_from_slice(&self.filter_insert_block.to_le_bytes());
        b
    }

    /// The first page of elements and neighbor tuples: after the meta page
    /// and the quantizer's pages.
    pub fn first_graph_block(&self) -> u32 {
        META_BLOCK + 1 + self.quantizer_blocks
    }

    /// The shape of this index's neighbor tuples.
    pub fn list_shape(&self) -> ListShape {
        ListShape {
            m: self.m as usize,
            code_bytes: self.code_bytes as usize,
        }
    }

    pub fn decode(b: &[u8]) -> Result<Meta, FormatError> {
        if b.len() < META_SIZE {
            return Err(FormatError::TooShort {
                needed: META_SIZE,
                found: b.len(),
            });
        }
        if u32_at(b, 0) != META_MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = u32_at(b, 4);
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let code_bits = b[48];
        let code_bytes = u16_at(b, 50);
        if !matches!(code_bits, 0 | 1 | 4 | 8) || (code_bits == 0) != (code_bytes == 0) {
            return Err(FormatError::BadField("neighbor codes"));
        }
        // The graph starts after the quantizer's pages, at a valid block number
        // (`first_graph_block` adds them without overflow).
        let quantizer_blocks = u32_at(b, 52);
        if quantizer_blocks >= INVALID_BLOCK - (META_BLOCK + 1) {
            return Err(FormatError::BadField("quantizer blocks"));
        }
        Ok(Meta {
            dimensions: u32_at(b, 8),
            m: u16_at(b, 12),
            ef_construction: u16_at(b, 14),
            metric: Metric::from_u8(b[16]).ok_or(FormatError::BadField("metric"))?,
            entry_level: b[17],
            entry: NodeId::read(&b[18..24]),
            insert_block: u32_at(b, 24),
            element_count: u64_at(b, 32),
            walk_first_batch_visits: u32_at(b, 40),
            walk_visits_per_row_milli: u32_at(b, 44),
            code_bits,
            code_bytes,
            quantizer_blocks,
            quantizer_bytes: u32_at(b, 56),
            filter_head: u32_at(b, 28),
            filter_insert_block: u32_at(b, 60),
            filter_directory: b[49] & 1 != 0,
        })
    }
}

// ---- element tuples ------------------------------------------------------------

pub const ELEMENT_KIND: u8 = 1;
pub const NEIGHBOR_KIND: u8 = 2;
/// A piece of a wide element's vector.
pub const PART_KIND: u8 = 3;
/// Where the anchor is in an element tuple, after the heap TIDs.
const ANCHOR_AT: usize = 12 + HEAP_TIDS * ID_BYTES;
/// Offset of the vector in an element tuple; a multiple of 8, so vectors in
/// MAXALIGNed tuples are aligned for in-place reads.
pub const ELEMENT_HEADER_SIZE: usize = ANCHOR_AT + ID_BYTES;

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

/// Flags in byte 2 of an element tuple.
const DELETED_FLAG: u8 = 1;
const FLOAT2_FLAG: u8 = 2;
const BIT_FLAG: u8 = 4;
const SPARSE_FLAG: u8 = 8;
const WIDE_FLAG: u8 = 16;
/// The element carries filter values after its vector (`append_filter`).
const FILTER_FLAG: u8 = 32;
const WIDTH_FLAGS: u8 = FLOAT2_FLAG | BIT_FLAG | SPARSE_FLAG;

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
        out[0] = ELEMENT_KIND;
        out[1] = self.level;
        let width_flag = match self.width {
            ElementWidth::Float4 => 0,
            ElementWidth::Float2 => FLOAT2_FLAG,
            ElementWidth::Bit => BIT_FLAG,
            ElementWidth::Sparse => SPARSE_FLAG,
        };
        // The filter flag belongs to the bytes after the header, which a
        // header rewritten in place (VACUUM, a new heap TID) leaves as they are.
        out[2] = if self.deleted { DELETED_FLAG } else { 0 }
            | if self.wide { WIDE_FLAG } else { 0 }
            | width_flag
            | (out[2] & FILTER_FLAG);
        out[3] = self.heap_tids.len() as u8;
        self.neighbors.write(&mut out[4..10]);
        out[10..12].copy_from_slice(&self.dimensions.to_le_bytes());
        for slot in 0..HEAP_TIDS {
            let tid = self.heap_tids.get(slot).copied().unwrap_or(NodeId::NONE);
            tid.write(&mut out[12 + slot * ID_BYTES..]);
        }
        self.anchor.write(&mut out[ANCHOR_AT..]);
    }

    pub fn decode(tuple: &[u8]) -> Result<ElementHeader, FormatError> {
        if tuple.len() < ELEMENT_HEADER_SIZE {
            return Err(FormatError::TooShort {
                needed: ELEMENT_HEADER_SIZE,
                found: tuple.len(),
            });
        }
        if tuple[0] != ELEMENT_KIND {
            return Err(FormatError::WrongTupleKind {
                expected: ELEMENT_KIND,
                found: tuple[0],
            });
        }
        let count = tuple[3] as usize;
        if count > HEAP_TIDS {
            return Err(FormatError::BadField("heap TID count"));
        }
        if tuple[2] & !(DELETED_FLAG | WIDE_FLAG | FILTER_FLAG | WIDTH_FLAGS) != 0
            || (tuple[2] & WIDTH_FLAGS).count_ones() > 1
        {
            return Err(FormatError::BadField("element flags"));
        }
        let width = element_width(tuple);
        let dimensions = u16_at(tuple, 10);
        let wide = tuple[2] & WIDE_FLAG != 0;
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
        if tuple[2] & FILTER_FLAG != 0 && tuple.len() <= filter_offset(size) {
            return Err(FormatError::BadField("filter values"));
        }
        Ok(ElementHeader {
            level: tuple[1],
            deleted: tuple[2] & DELETED_FLAG != 0,
            width,
            heap_tids: (0..count)
                .map(|i| NodeId::read(&tuple[12 + i * ID_BYTES..]))
                .collect(),
            neighbors: NodeId::read(&tuple[4..10]),
            dimensions,
            anchor: NodeId::read(&tuple[ANCHOR_AT..]),
            wide,
        })
    }
}

fn element_width(tuple: &[u8]) -> ElementWidth {
    if tuple[2] & FLOAT2_FLAG != 0 {
        ElementWidth::Float2
    } else if tuple[2] & BIT_FLAG != 0 {
        ElementWidth::Bit
    } else if tuple[2] & SPARSE_FLAG != 0 {
        ElementWidth::Sparse
    } else {
        ElementWidth::Float4
    }
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

// ---- filter directory entries -------------------------------------------------------
//
// An entry is the element's filter values, the index tuple `form` made, with
// the element's id written where the tuple's item pointer goes (its first 6
// bytes, which the values never use).

/// Bytes of an index tuple's header: an item pointer and t_info.
pub const FILTER_TUPLE_HEADER: usize = 8;

/// The entry of `element`, whose filter values (an index tuple) are `filter`.
pub fn encode_filter_entry(element: NodeId, filter: &[u8]) -> Vec<u8> {
    let mut entry = filter.to_vec();
    if entry.len() >= ID_BYTES {
        element.write(&mut entry[..ID_BYTES]);
    }
    entry
}

/// The element an entry names, and its filter values (the entry itself:
/// the values are read past the item pointer).
pub fn decode_filter_entry(entry: &[u8]) -> Result<(NodeId, &[u8]), FormatError> {
    if entry.len() <= FILTER_TUPLE_HEADER {
        return Err(FormatError::TooShort {
            needed: FILTER_TUPLE_HEADER + 1,
            found: entry.len(),
        });
    }
    let element = NodeId::read(entry);
    if element.is_none() {
        return Err(FormatError::BadField("filter entry's element"));
    }
    Ok((element, entry))
}

/// Whether two index tuples of filter values hold the same values, whatever
/// their item pointers say.
pub fn same_filter_values(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.get(ID_BYTES..) == b.get(ID_BYTES..)
}

// ---- wide elements ---------------------------------------------------------------
//
// A vector too large for a page (over about 2,000 float4 or 4,000 float16
// dimensions) is cut into part tuples, each on a page of its own or sharing
// one with others; its element keeps the header and the parts' ids, so it
// is small and sits beside its neighbor tuple like any other. A walk that
// measures it copies the parts together.

/// Bytes of a part tuple before its piece of the vector: kind, a zero byte,
/// the part's position in its vector (u16), and the piece's length (u32).
pub const PART_HEADER_SIZE: usize = 8;
/// Bytes before a wide element's part ids: their count (u16) and padding.
const PARTS_HEADER_SIZE: usize = 8;
/// Each part id takes 8 bytes (6 used), so ids stay 2-byte aligned.
const PART_ID_BYTES: usize = 8;
/// More parts than a 16,000-dimension float4 vector needs on 8 kB pages,
/// with room for smaller pages.
pub const MAX_PARTS: usize = 64;

pub fn wide_element_size(parts: usize) -> usize {
    ELEMENT_HEADER_SIZE + PARTS_HEADER_SIZE + parts * PART_ID_BYTES
}

fn part_count(tuple: &[u8]) -> Result<usize, FormatError> {
    let needed = ELEMENT_HEADER_SIZE + PARTS_HEADER_SIZE;
    if tuple.len() < needed {
        return Err(FormatError::TooShort {
            needed,
            found: tuple.len(),
        });
    }
    match u16_at(tuple, ELEMENT_HEADER_SIZE) as usize {
        0 => Err(FormatError::BadField("part count")),
        n if n > MAX_PARTS => Err(FormatError::BadField("part count")),
        n => Ok(n),
    }
}

/// A wide element: the header (whose `wide` must be set) and its parts' ids.
pub fn encode_wide_element(header: &ElementHeader, parts: &[NodeId]) -> Vec<u8> {
    assert!(header.wide && !parts.is_empty() && parts.len() <= MAX_PARTS);
    let mut out = vec![0u8; wide_element_size(parts.len())];
    header.encode_into(&mut out);
    out[ELEMENT_HEADER_SIZE..ELEMENT_HEADER_SIZE + 2]
        .copy_from_slice(&(parts.len() as u16).to_le_bytes());
    for (i, part) in parts.iter().enumerate() {
        part.write(&mut out[ELEMENT_HEADER_SIZE + PARTS_HEADER_SIZE + i * PART_ID_BYTES..]);
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
            let mut tuple = vec![0u8; PART_HEADER_SIZE + chunk.len()];
            tuple[0] = PART_KIND;
            tuple[2..4].copy_from_slice(&(position as u16).to_le_bytes());
            tuple[4..8].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
            tuple[PART_HEADER_SIZE..].copy_from_slice(chunk);
            tuple
        })
        .collect()
}

/// Which part of its vector a part tuple is.
pub fn part_position(tuple: &[u8]) -> Option<usize> {
    (tuple.len() >= PART_HEADER_SIZE && tuple[0] == PART_KIND).then(|| u16_at(tuple, 2) as usize)
}

/// The piece of the vector in a part tuple, which must be part `position`.
pub fn part_piece(tuple: &[u8], position: usize) -> Result<&[u8], FormatError> {
    if tuple.len() < PART_HEADER_SIZE {
        return Err(FormatError::TooShort {
            needed: PART_HEADER_SIZE,
            found: tuple.len(),
        });
    }
    if tuple[0] != PART_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: PART_KIND,
            found: tuple[0],
        });
    }
    if u16_at(tuple, 2) as usize != position {
        return Err(FormatError::BadField("part position"));
    }
    let length = u32_at(tuple, 4) as usize;
    tuple
        .get(PART_HEADER_SIZE..PART_HEADER_SIZE + length)
        .ok_or(FormatError::TooShort {
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
        // SAFETY: the words own at least `end` bytes; u8 has no alignment.
        let bytes: &mut [u8] = unsafe {
            std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.words.len() * 4)
        };
        bytes[self.len..end].copy_from_slice(piece);
        self.len = end;
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: as in `push`.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
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
    Ok(ids.chunks_exact(PART_ID_BYTES).map(NodeId::read).collect())
}

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
    let header = tuple.get(..ELEMENT_HEADER_SIZE)?;
    if header[2] & WIDE_FLAG != 0 || !element_flags_valid(header) {
        return None;
    }
    let width = element_width(header);
    let dimensions = if width == ElementWidth::Sparse {
        u16_at(tuple, 10) as usize
    } else {
        dimensions
    };
    stored_vector(&tuple[ELEMENT_HEADER_SIZE..], width, dimensions)
}

/// Flags and TID count a build writes: checked on the hot path of a walk,
/// which does not decode the whole header, so that a damaged element is not
/// read at another width.
fn element_flags_valid(header: &[u8]) -> bool {
    header[2] & !(DELETED_FLAG | WIDE_FLAG | FILTER_FLAG | WIDTH_FLAGS) == 0
        && (header[2] & WIDTH_FLAGS).count_ones() <= 1
        && header[3] as usize <= HEAP_TIDS
}

/// Where the element's neighbor tuple is, read without decoding the rest:
/// the hot path of a graph walk.
pub fn element_neighbors(tuple: &[u8]) -> Result<NodeId, FormatError> {
    if tuple.len() < ELEMENT_HEADER_SIZE {
        return Err(FormatError::TooShort {
            needed: ELEMENT_HEADER_SIZE,
            found: tuple.len(),
        });
    }
    if tuple[0] != ELEMENT_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: ELEMENT_KIND,
            found: tuple[0],
        });
    }
    Ok(NodeId::read(&tuple[4..10]))
}

/// The element's anchor, read without decoding the rest.
pub fn element_anchor(tuple: &[u8]) -> Result<NodeId, FormatError> {
    element_neighbors(tuple)?;
    Ok(NodeId::read(&tuple[ANCHOR_AT..]))
}

/// Replaces the element's anchor in place.
pub fn set_element_anchor(tuple: &mut [u8], anchor: NodeId) -> Result<(), FormatError> {
    element_neighbors(tuple)?;
    anchor.write(&mut tuple[ANCHOR_AT..]);
    Ok(())
}

/// Whether the element's vector is in part tuples.
pub fn element_is_wide(tuple: &[u8]) -> bool {
    tuple.len() >= ELEMENT_HEADER_SIZE && tuple[0] == ELEMENT_KIND && tuple[2] & WIDE_FLAG != 0
}

/// Number of heap TIDs and the deleted flag, read without decoding the rest.
pub fn element_is_live(tuple: &[u8]) -> bool {
    tuple.len() >= ELEMENT_HEADER_SIZE
        && tuple[0] == ELEMENT_KIND
        && tuple[2] & DELETED_FLAG == 0
        && tuple[3] > 0
}

// ---- neighbor tuples -------------------------------------------------------------

const NEIGHBOR_HEADER_SIZE: usize = 8;

/// The layout of an index's neighbor tuples: `m`, and the bytes of the code
/// stored after each layer-0 neighbor id (0 without neighbor codes). Layer 0
/// has 2m slots of id + code, each layer above m slots of ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListShape {
    pub m: usize,
    pub code_bytes: usize,
}

impl ListShape {
    pub fn plain(m: usize) -> ListShape {
        ListShape { m, code_bytes: 0 }
    }

    fn slot_at(&self, layer: usize, slot: usize) -> usize {
        if layer == 0 {
            NEIGHBOR_HEADER_SIZE + slot * (ID_BYTES + self.code_bytes)
        } else {
            NEIGHBOR_HEADER_SIZE
                + 2 * self.m * (ID_BYTES + self.code_bytes)
                + ((layer - 1) * self.m + slot) * ID_BYTES
        }
    }

    pub fn tuple_size(&self, level: usize) -> usize {
        self.slot_at(level + 1, 0)
    }

    /// Slots of `layer`: 2m on layer 0, m above.
    pub fn layer_slots(&self, layer: usize) -> usize {
        if layer == 0 {
            2 * self.m
        } else {
            self.m
        }
    }
}

/// Slots for layer 0 (2m) and m for each layer above, up to `level`.
pub fn neighbor_slots(level: usize, m: usize) -> usize {
    (level + 2) * m
}

/// An empty neighbor tuple for a node on layers 0..=level.
pub fn new_neighbor_tuple(level: usize, shape: ListShape) -> Vec<u8> {
    let mut t = vec![0u8; shape.tuple_size(level)];
    t[0] = NEIGHBOR_KIND;
    t[1] = level as u8;
    t[2..4].copy_from_slice(&(neighbor_slots(level, shape.m) as u16).to_le_bytes());
    t[4..6].copy_from_slice(&(shape.code_bytes as u16).to_le_bytes());
    t
}

fn check_neighbor_tuple(tuple: &[u8], shape: ListShape, layer: usize) -> Result<(), FormatError> {
    if tuple.len() < NEIGHBOR_HEADER_SIZE {
        return Err(FormatError::TooShort {
            needed: NEIGHBOR_HEADER_SIZE,
            found: tuple.len(),
        });
    }
    if tuple[0] != NEIGHBOR_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: NEIGHBOR_KIND,
            found: tuple[0],
        });
    }
    let level = tuple[1] as usize;
    let slots = u16_at(tuple, 2) as usize;
    if slots != neighbor_slots(level, shape.m) || tuple.len() < shape.tuple_size(level) {
        return Err(FormatError::BadField("neighbor slot count"));
    }
    if u16_at(tuple, 4) as usize != shape.code_bytes {
        return Err(FormatError::BadField("neighbor code size"));
    }
    if layer > level {
        return Err(FormatError::BadField("layer above the node's level"));
    }
    Ok(())
}

/// Appends the neighbors of `layer` to `out`.
pub fn read_layer(
    tuple: &[u8],
    shape: ListShape,
    layer: usize,
    out: &mut Vec<NodeId>,
) -> Result<(), FormatError> {
    check_neighbor_tuple(tuple, shape, layer)?;
    for slot in 0..shape.layer_slots(layer) {
        let id = NodeId::read(&tuple[shape.slot_at(layer, slot)..]);
        if id.is_none() {
            break;
        }
        out.push(id);
    }
    Ok(())
}

/// Appends the layer-0 neighbors to `ids` and their codes to `codes`.
pub fn read_layer_codes(
    tuple: &[u8],
    shape: ListShape,
    ids: &mut Vec<NodeId>,
    codes: &mut Vec<u8>,
) -> Result<(), FormatError> {
    check_neighbor_tuple(tuple, shape, 0)?;
    for slot in 0..shape.layer_slots(0) {
        let at = shape.slot_at(0, slot);
        let id = NodeId::read(&tuple[at..]);
        if id.is_none() {
            break;
        }
        ids.push(id);
        codes.extend_from_slice(&tuple[at + ID_BYTES..at + ID_BYTES + shape.code_bytes]);
    }
    Ok(())
}

/// Replaces the neighbors of `layer`, with their codes on layer 0 when the
/// shape has codes (`codes` holds one per id, in order); unused slots are cleared.
pub fn write_layer(
    tuple: &mut [u8],
    shape: ListShape,
    layer: usize,
    ids: &[NodeId],
    codes: &[u8],
) -> Result<(), FormatError> {
    check_neighbor_tuple(tuple, shape, layer)?;
    if ids.len() > shape.layer_slots(layer) {
        return Err(FormatError::BadField("too many neighbors for the layer"));
    }
    let code_bytes = if layer == 0 { shape.code_bytes } else { 0 };
    if codes.len() != ids.len() * code_bytes {
        return Err(FormatError::BadField("neighbor codes"));
    }
    for slot in 0..shape.layer_slots(layer) {
        let at = shape.slot_at(layer, slot);
        ids.get(slot)
            .copied()
            .unwrap_or(NodeId::NONE)
            .write(&mut tuple[at..]);
        let code = &mut tuple[at + ID_BYTES..at + ID_BYTES + code_bytes];
        match codes.get(slot * code_bytes..(slot + 1) * code_bytes) {
            Some(given) if slot < ids.len() => code.copy_from_slice(given),
            _ => code.fill(0),
        }
    }
    Ok(())
}

// ---- build layout -------------------------------------------------------------------

/// One item of a planned page: a node's element or neighbor tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedItem {
    Element(u32),
    Neighbors(u32),
}

/// Where the build puts every node: pages in block order, each a list of
/// items whose offsets are their positions + 1, and each node's addresses.
#[derive(Debug, Default)]
pub struct PagePlan {
    pub pages: Vec<Vec<PlannedItem>>,
    pub elements: Vec<NodeId>,
    pub neighbors: Vec<NodeId>,
}

/// Packs nodes into pages in the given order. `sizes[i]` is node i's
/// (element, neighbor tuple) length; `footprint` is what an item of a length
/// takes on a page (aligned data plus line pointer); `capacity` what an empty
/// page holds. A node's two tuples share a page when they fit one; otherwise
/// the element gets a page of its own.
pub fn plan_pages(
    order: &[u32],
    sizes: &[(usize, usize)],
    capacity: usize,
    footprint: impl Fn(usize) -> usize,
    first_block: u32,
) -> PagePlan {
    let mut plan = PagePlan {
        pages: Vec::new(),
        elements: vec![NodeId::NONE; sizes.len()],
        neighbors: vec![NodeId::NONE; sizes.len()],
    };
    // The page that shared items go to, and its free bytes.
    let mut open: Option<(usize, usize)> = None;
    let place = |plan: &mut PagePlan,
                 open: &mut Option<(usize, usize)>,
                 item: PlannedItem,
                 need: usize|
     -> NodeId {
        let page = match *open {
            Some((page, free)) if free >= need => page,
            _ => {
                plan.pages.push(Vec::new());
                *open = Some((plan.pages.len() - 1, capacity));
                plan.pages.len() - 1
            }
        };
        plan.pages[page].push(item);
        if let Some((_, free)) = open.as_mut() {
            *free -= need;
        }
        NodeId::new(first_block + page as u32, plan.pages[page].len() as u16)
    };
    for &node in order {
        let (element_len, neighbors_len) = sizes[node as usize];
        let (element, neighbors) = (footprint(element_len), footprint(neighbors_len));
        let n = node as usize;
        if element + neighbors <= capacity {
            let together = match open {
                Some((_, free)) if free >= element + neighbors => open,
                _ => None,
            };
            if together.is_none() {
                open = None;
            }
            plan.neighbors[n] = place(
                &mut plan,
                &mut open,
                PlannedItem::Neighbors(node),
                neighbors,
            );
            plan.elements[n] = place(&mut plan, &mut open, PlannedItem::Element(node), element);
        } else {
            plan.neighbors[n] = place(
                &mut plan,
                &mut open,
                PlannedItem::Neighbors(node),
                neighbors,
            );
            plan.pages.push(vec![PlannedItem::Element(node)]);
            plan.elements[n] = NodeId::new(first_block + plan.pages.len() as u32 - 1, 1);
        }
    }
    plan
}

/// Packs items into pages in the order given (the build's part tuples):
/// each page's items, as positions in `lengths`, and every item's id.
pub fn pack_in_order(
    lengths: &[usize],
    capacity: usize,
    footprint: impl Fn(usize) -> usize,
    first_block: u32,
) -> (Vec<Vec<usize>>, Vec<NodeId>) {
    let (mut pages, mut ids): (Vec<Vec<usize>>, Vec<NodeId>) =
        (Vec::new(), Vec::with_capacity(lengths.len()));
    let mut free = 0;
    for (i, &length) in lengths.iter().enumerate() {
        let need = footprint(length);
        if pages.is_empty() || need > free {
            pages.push(Vec::new());
            free = capacity;
        }
        free -= need;
        let block = first_block + pages.len() as u32 - 1;
        let page = pages.last_mut().expect("a page is open");
        page.push(i);
        ids.push(NodeId::new(block, page.len() as u16));
    }
    (pages, ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_entries_round_trip_and_reject_garbage() {
        let element = NodeId::new(7, 3);
        let values = [0, 0, 0, 0, 0, 0, 12, 0, 1, 2, 3, 4];
        let entry = encode_filter_entry(element, &values);
        let (decoded, stored) = decode_filter_entry(&entry).unwrap();
        assert_eq!(decoded, element);
        assert!(same_filter_values(stored, &values));
        assert!(!same_filter_values(
            stored,
            &[0, 0, 0, 0, 0, 0, 12, 0, 1, 2, 3, 5]
        ));
        assert!(decode_filter_entry(&entry[..FILTER_TUPLE_HEADER]).is_err());
        assert!(decode_filter_entry(&encode_filter_entry(NodeId::NONE, &values)).is_err());
        let mut special = encode_special(PAGE_KIND_FILTERS);
        assert_eq!(special_next(&special), INVALID_BLOCK);
        set_special_next(&mut special, 42);
        assert_eq!(
            (special_next(&special), special_kind(&special)),
            (42, Some(PAGE_KIND_FILTERS))
        );
    }

    #[test]
    fn short_special_spaces_read_as_foreign() {
        // Found by fuzzing: special_kind indexed its kind byte before checking the length.
        for len in 0..SPECIAL_SIZE {
            assert_eq!(special_kind(&encode_special(PAGE_KIND_GRAPH)[..len]), None);
            assert_eq!(
                special_next(&encode_special(PAGE_KIND_GRAPH)[..len]),
                INVALID_BLOCK
            );
        }
        assert_eq!(special_next(&[7, 0, 0]), INVALID_BLOCK);
        assert_eq!(special_next(&[7, 0, 0, 0]), 7);
    }

    #[test]
    fn a_tuple_of_another_kind_has_no_parts() {
        // Found by fuzzing (element_tuple): a neighbor tuple whose byte 2 has the
        // wide bit set read as a wide element without parts.
        let shape = ListShape::plain(8);
        let tuple = new_neighbor_tuple(0, shape);
        assert_eq!(tuple[2] & WIDE_FLAG, WIDE_FLAG, "16 slots: the wide bit");
        assert_eq!(element_body(&tuple, 3), None);
        let mut other = vec![0xF1u8; ELEMENT_HEADER_SIZE + 16];
        other[0] = NEIGHBOR_KIND;
        assert_eq!(element_body(&other, 3), None);
    }

    #[test]
    fn meta_pages_with_impossible_quantizer_blocks_are_rejected() {
        // Found by fuzzing (meta_page): first_graph_block overflowed, and
        // without overflow checks wrapped to the meta page itself.
        let meta = Meta::decode(
            &Meta {
                quantizer_blocks: 3,
                ..Meta::decode(&seed_meta()).unwrap()
            }
            .encode(),
        )
        .unwrap();
        assert_eq!(meta.first_graph_block(), 4);
        for blocks in [u32::MAX, u32::MAX - 1] {
            let mut bytes = meta.encode();
            bytes[52..56].copy_from_slice(&blocks.to_le_bytes());
            assert_eq!(
                Meta::decode(&bytes),
                Err(FormatError::BadField("quantizer blocks"))
            );
        }
        let mut bytes = meta.encode();
        bytes[52..56].copy_from_slice(&(u32::MAX - 2).to_le_bytes());
        assert_eq!(
            Meta::decode(&bytes).unwrap().first_graph_block(),
            u32::MAX - 1
        );
    }

    fn seed_meta() -> [u8; META_SIZE] {
        Meta {
            dimensions: 3,
            m: 16,
            ef_construction: 64,
            metric: Metric::L2,
            entry: NodeId::NONE,
            entry_level: 0,
            insert_block: 1,
            element_count: 0,
            walk_first_batch_visits: 0,
            walk_visits_per_row_milli: 0,
            code_bits: 0,
            code_bytes: 0,
            quantizer_blocks: 0,
            quantizer_bytes: 0,
            filter_head: 0,
            filter_insert_block: 0,
            filter_directory: false,
        }
        .encode()
    }

    #[test]
    fn node_ids_pack_block_and_offset() {
        let id = NodeId::new(0xDEAD_BEEF, 0x1234);
        assert_eq!((id.block(), id.offset()), (0xDEAD_BEEF, 0x1234));
        assert!(NodeId::NONE.is_none());
        assert!(!NodeId::new(0, 1).is_none());
        assert!(NodeId::new(1, 1) > NodeId::new(0, 9));
    }

    #[test]
    fn pgvector_pages_are_recognised() {
        let mut special = [0u8; SPECIAL_SIZE];
        special[6..8].copy_from_slice(&0xFF90u16.to_le_bytes());
        assert_eq!(foreign_index(&special), Some("pgvector's hnsw"));
        assert_eq!(special_kind(&special), None);
        special[6..8].copy_from_slice(&0xFF84u16.to_le_bytes());
        assert_eq!(foreign_index(&special), Some("pgvector's ivfflat"));
        assert_eq!(foreign_index(&encode_special(PAGE_KIND_META)), None);
        assert_eq!(foreign_index(&special[..4]), None);
    }

    #[test]
    fn meta_round_trips_and_rejects_foreign_pages() {
        let meta = Meta {
            dimensions: 784,
            m: 16,
            ef_construction: 64,
            metric: Metric::Cosine,
            entry: NodeId::new(7, 3),
            entry_level: 4,
            insert_block: 9,
            element_count: 123_456,
            walk_first_batch_visits: 877,
            walk_visits_per_row_milli: 13_400,
            code_bits: 1,
            code_bytes: 136,
            quantizer_blocks: 2,
            quantizer_bytes: 9_000,
            filter_head: 11,
            filter_insert_block: 12,
            filter_directory: true,
        };
        let bytes = meta.encode();
        assert_eq!(Meta::decode(&bytes), Ok(meta));
        assert_eq!(
            meta.list_shape(),
            ListShape {
                m: 16,
                code_bytes: 136
            }
        );
        // Version 2 wrote no codes: its meta reads with none.
        let mut version_2 = Meta {
            code_bits: 0,
            code_bytes: 0,
            quantizer_blocks: 0,
            quantizer_bytes: 0,
            ..meta
        }
        .encode();
        version_2[4] = 2;
        assert_eq!(
            Meta::decode(&version_2).map(|m| m.list_shape()),
            Ok(ListShape::plain(16))
        );
        // Before version 7 no index had a filter directory.
        let version_6 = Meta {
            filter_head: 0,
            filter_insert_block: 0,
            filter_directory: false,
            ..meta
        };
        let mut version_6_bytes = version_6.encode();
        version_6_bytes[4] = 6;
        assert_eq!(Meta::decode(&version_6_bytes), Ok(version_6));
        let mut old = bytes;
        old[4] = 1;
        assert_eq!(Meta::decode(&old), Err(FormatError::UnsupportedVersion(1)));
        let mut bad_codes = bytes;
        bad_codes[48] = 3;
        assert_eq!(
            Meta::decode(&bad_codes),
            Err(FormatError::BadField("neighbor codes"))
        );
        let mut wrong = bytes;
        wrong[0] ^= 1;
        assert_eq!(Meta::decode(&wrong), Err(FormatError::BadMagic));
        let mut future = bytes;
        future[4] = 9;
        assert_eq!(
            Meta::decode(&future),
            Err(FormatError::UnsupportedVersion(9))
        );
        let mut bad_metric = bytes;
        bad_metric[16] = 9;
        assert_eq!(
            Meta::decode(&bad_metric),
            Err(FormatError::BadField("metric"))
        );
        assert!(matches!(
            Meta::decode(&bytes[..10]),
            Err(FormatError::TooShort { .. })
        ));
    }

    #[test]
    fn filter_values_follow_the_body_and_survive_header_rewrites() {
        let header = ElementHeader {
            level: 0,
            deleted: false,
            width: ElementWidth::Float4,
            heap_tids: vec![NodeId::new(1, 2)],
            neighbors: NodeId::new(5, 6),
            dimensions: 3,
            anchor: NodeId::NONE,
            wide: false,
        };
        let plain = encode_element(&header, &[1.0, 2.0, 3.0]);
        assert_eq!(element_filter(&plain), Ok(None));
        // 3 floats end at 84 bytes: the values start 8-aligned, at 88.
        let mut tuple = plain.clone();
        append_filter(&mut tuple, &[7, 8, 9]);
        assert_eq!(tuple.len(), with_filter_size(plain.len(), 3));
        assert_eq!(tuple.len(), 91);
        assert_eq!(element_filter(&tuple), Ok(Some(&[7u8, 8, 9][..])));
        assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
        // VACUUM marks the element deleted by rewriting its header in place.
        let deleted = ElementHeader {
            deleted: true,
            ..header.clone()
        };
        deleted.encode_into(&mut tuple);
        assert_eq!(element_filter(&tuple), Ok(Some(&[7u8, 8, 9][..])));
        assert!(ElementHeader::decode(&tuple).unwrap().deleted);
        // The flag without the bytes is corruption.
        assert_eq!(
            ElementHeader::decode(&tuple[..88]),
            Err(FormatError::BadField("filter values"))
        );
        assert_eq!(with_filter_size(84, 0), 84);
        append_filter(&mut tuple, &[]);
        assert_eq!(tuple.len(), 91);

        // After a wide element's part ids alike.
        let wide = ElementHeader {
            wide: true,
            dimensions: 5000,
            ..header
        };
        let mut tuple = encode_wide_element(&wide, &[NodeId::new(9, 1), NodeId::new(9, 2)]);
        append_filter(&mut tuple, &[1, 2]);
        assert_eq!(element_filter(&tuple), Ok(Some(&[1u8, 2][..])));
        assert_eq!(
            element_parts(&tuple),
            Ok(vec![NodeId::new(9, 1), NodeId::new(9, 2)])
        );
    }

    #[test]
    fn element_round_trips_with_its_vector() {
        let header = ElementHeader {
            level: 3,
            deleted: false,
            width: ElementWidth::Float4,
            heap_tids: vec![NodeId::new(1, 2), NodeId::new(3, 4)],
            neighbors: NodeId::new(5, 6),
            dimensions: 3,
            anchor: NodeId::new(7, 8),
            wide: false,
        };
        let mut tuple = encode_element(&header, &[1.0, -2.5, 3.25]);
        assert_eq!(tuple.len(), element_size(3, ElementWidth::Float4));
        assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
        assert_eq!(element_neighbors(&tuple), Ok(NodeId::new(5, 6)));
        assert_eq!(element_anchor(&tuple), Ok(NodeId::new(7, 8)));
        assert!(element_is_live(&tuple));
        set_element_anchor(&mut tuple, NodeId::new(9, 1)).unwrap();
        assert_eq!(
            ElementHeader::decode(&tuple).map(|h| h.anchor),
            Ok(NodeId::new(9, 1))
        );
        assert_eq!(
            ElementHeader::decode(&tuple).map(|h| h.heap_tids),
            Ok(header.heap_tids.clone())
        );
        // Copy into 8-aligned storage, as a page would hold it.
        let mut aligned = vec![0u64; tuple.len().div_ceil(8)];
        // SAFETY: `aligned` holds at least tuple.len() bytes, any of which is
        // a valid u8, and is used only through `bytes` from here on.
        let bytes: &mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast(), tuple.len()) };
        bytes.copy_from_slice(&tuple);
        assert_eq!(
            element_vector(bytes, 3),
            Some(StoredVector::Float4(&[1.0f32, -2.5, 3.25][..]))
        );
        assert_eq!(element_vector(&bytes[..tuple.len() - 1], 3), None);
        assert_eq!(ELEMENT_HEADER_SIZE % 8, 0);

        // The same at float16: half the bytes, the flag set, deletion apart.
        let half = ElementHeader {
            width: ElementWidth::Float2,
            ..header.clone()
        };
        let tuple = encode_element(&half, &[1.0, -2.5, 3.25]);
        assert_eq!(tuple.len(), ELEMENT_HEADER_SIZE + 6);
        assert_eq!(ElementHeader::decode(&tuple), Ok(half.clone()));
        assert!(element_is_live(&tuple));
        let mut aligned = vec![0u64; tuple.len().div_ceil(8)];
        // SAFETY: `aligned` holds at least tuple.len() bytes, any of which is
        // a valid u8, and is used only through `bytes` from here on.
        let bytes: &mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast(), tuple.len()) };
        bytes.copy_from_slice(&tuple);
        let mut widened = Vec::new();
        element_vector(bytes, 3)
            .expect("readable")
            .extend_into(&mut widened);
        assert_eq!(widened, vec![1.0f32, -2.5, 3.25]);
        let deleted = encode_element(
            &ElementHeader {
                deleted: true,
                ..half
            },
            &[1.0, -2.5, 3.25],
        );
        assert!(!element_is_live(&deleted));
        assert_eq!(
            ElementHeader::decode(&deleted).map(|h| (h.deleted, h.width)),
            Ok((true, ElementWidth::Float2))
        );

        // Bits: packed, high bit first, read back as 0.0 and 1.0.
        let bits = ElementHeader {
            width: ElementWidth::Bit,
            dimensions: 10,
            ..header.clone()
        };
        let pattern = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        let tuple = encode_element(&bits, &pattern);
        assert_eq!(tuple.len(), ELEMENT_HEADER_SIZE + 2);
        assert_eq!(&tuple[ELEMENT_HEADER_SIZE..], &[0b1011_0000, 0b0100_0000]);
        assert_eq!(ElementHeader::decode(&tuple), Ok(bits));
        let mut widened = Vec::new();
        element_vector(&tuple, 10)
            .expect("readable")
            .extend_into(&mut widened);
        assert_eq!(widened, pattern);

        // Sparse: as long as the element says, whatever the index's dimensions.
        let sparse = ElementHeader {
            width: ElementWidth::Sparse,
            dimensions: 3,
            ..header.clone()
        };
        let tuple = encode_element(&sparse, &[f32::from_bits(1), f32::from_bits(7), 2.5]);
        assert_eq!(tuple.len(), ELEMENT_HEADER_SIZE + 12);
        assert_eq!(ElementHeader::decode(&tuple), Ok(sparse));
        let mut aligned = vec![0u64; tuple.len().div_ceil(8)];
        // SAFETY: `aligned` holds at least tuple.len() bytes, any of which is
        // a valid u8, and is used only through `bytes` from here on.
        let bytes: &mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast(), tuple.len()) };
        bytes.copy_from_slice(&tuple);
        match element_vector(bytes, 2001) {
            Some(StoredVector::Float4(v)) => assert_eq!(
                v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                [1, 7, 2.5f32.to_bits()]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wide_vectors_travel_in_parts() {
        // Pages of 8 kB: a part carries nearly a page.
        let footprint = |len: usize| ((len + 7) & !7) + 4;
        let piece = part_capacity(8160, footprint);
        assert_eq!(piece, 8144);
        assert!(
            footprint(PART_HEADER_SIZE + piece) <= 8160
                && footprint(PART_HEADER_SIZE + piece + 8) > 8160
        );

        // A 16,000-dimension float4 vector: 8 parts, the last shorter.
        let vector: Vec<f32> = (0..16_000).map(|i| (i % 1000) as f32 * 0.5 - 3.0).collect();
        let bytes = vector_bytes(ElementWidth::Float4, &vector);
        let parts = encode_parts(&bytes, piece);
        assert_eq!(parts.len(), 8);
        assert_eq!(parts[7].len(), PART_HEADER_SIZE + 64_000 - 7 * piece);
        assert!(parts
            .iter()
            .enumerate()
            .all(|(i, p)| part_position(p) == Some(i)));
        assert_eq!(
            part_piece(&parts[2], 3),
            Err(FormatError::BadField("part position"))
        );
        assert!(matches!(
            part_piece(&parts[2][..20], 2),
            Err(FormatError::TooShort { .. })
        ));
        assert!(matches!(
            part_piece(&bytes[..40], 0),
            Err(FormatError::WrongTupleKind { .. })
        ));

        // The element holds the header and the parts' ids.
        let ids: Vec<NodeId> = (0..8).map(|i| NodeId::new(100 + i, 1)).collect();
        let header = ElementHeader {
            level: 1,
            deleted: false,
            width: ElementWidth::Float4,
            heap_tids: vec![NodeId::new(1, 2)],
            neighbors: NodeId::new(5, 6),
            dimensions: 16_000,
            anchor: NodeId::NONE,
            wide: true,
        };
        let tuple = encode_wide_element(&header, &ids);
        assert_eq!(tuple.len(), wide_element_size(8));
        assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
        assert!(element_is_wide(&tuple) && element_is_live(&tuple));
        assert_eq!(element_vector(&tuple, 16_000), None);
        assert_eq!(element_parts(&tuple), Ok(ids.clone()));
        let Some(ElementBody::Parts(found, ElementWidth::Float4, 16_000)) =
            element_body(&tuple, 16_000)
        else {
            panic!("not wide")
        };
        assert_eq!(found, ids);
        // Marking it deleted keeps it wide.
        let mut deleted = tuple.clone();
        ElementHeader {
            deleted: true,
            ..header.clone()
        }
        .encode_into(&mut deleted);
        assert_eq!(element_parts(&deleted), Ok(ids.clone()));
        // A part count of 0 or past MAX_PARTS, or ids cut short, is corrupt.
        let mut no_parts = tuple.clone();
        no_parts[ELEMENT_HEADER_SIZE] = 0;
        assert_eq!(
            ElementHeader::decode(&no_parts),
            Err(FormatError::BadField("part count"))
        );
        assert!(matches!(
            ElementHeader::decode(&tuple[..tuple.len() - 8]),
            Err(FormatError::TooShort { .. })
        ));
        assert!(element_parts(&tuple[..tuple.len() - 8]).is_err());
        assert_eq!(
            element_parts(&encode_element(
                &ElementHeader {
                    wide: false,
                    dimensions: 1,
                    ..header.clone()
                },
                &[1.0]
            )),
            Ok(vec![])
        );

        // Copied together, the pieces read back as the vector, at either width.
        let mut gathered = Gathered::default();
        for (i, part) in parts.iter().enumerate() {
            gathered.push(part_piece(part, i).unwrap());
        }
        assert!(
            stored_vector(gathered.bytes(), ElementWidth::Float4, 16_000)
                == Some(StoredVector::Float4(&vector[..]))
        );
        let halves = vector_bytes(ElementWidth::Float2, &vector);
        gathered.clear();
        for (i, part) in encode_parts(&halves, piece).iter().enumerate() {
            gathered.push(part_piece(part, i).unwrap());
        }
        let mut widened = Vec::new();
        stored_vector(gathered.bytes(), ElementWidth::Float2, 16_000)
            .unwrap()
            .extend_into(&mut widened);
        assert!(widened == vector, "these values are exact in float16");
        assert_eq!(
            stored_vector(&gathered.bytes()[..100], ElementWidth::Float2, 16_000),
            None
        );
    }

    #[test]
    fn items_pack_in_order() {
        let footprint = |len: usize| len + 4;
        let (pages, ids) = pack_in_order(&[96, 60, 30, 96, 10], 100, footprint, 7);
        assert_eq!(pages, vec![vec![0], vec![1, 2], vec![3], vec![4]]);
        assert_eq!(
            ids,
            vec![
                NodeId::new(7, 1),
                NodeId::new(8, 1),
                NodeId::new(8, 2),
                NodeId::new(9, 1),
                NodeId::new(10, 1)
            ]
        );
        assert_eq!(pack_in_order(&[], 100, footprint, 7), (vec![], vec![]));
    }

    #[test]
    fn element_decode_rejects_corruption() {
        let header = ElementHeader {
            level: 0,
            deleted: true,
            width: ElementWidth::Float4,
            heap_tids: vec![],
            neighbors: NodeId::NONE,
            dimensions: 2,
            anchor: NodeId::NONE,
            wide: false,
        };
        let tuple = encode_element(&header, &[0.0, 0.0]);
        assert!(!element_is_live(&tuple));
        let mut wrong_kind = tuple.clone();
        wrong_kind[0] = NEIGHBOR_KIND;
        assert!(matches!(
            ElementHeader::decode(&wrong_kind),
            Err(FormatError::WrongTupleKind { .. })
        ));
        let mut too_many = tuple.clone();
        too_many[3] = HEAP_TIDS as u8 + 1;
        assert_eq!(
            ElementHeader::decode(&too_many),
            Err(FormatError::BadField("heap TID count"))
        );
        assert!(matches!(
            ElementHeader::decode(&tuple[..tuple.len() - 1]),
            Err(FormatError::TooShort { .. })
        ));
        let mut unknown_flag = tuple.clone();
        unknown_flag[2] |= 0x80;
        assert_eq!(
            ElementHeader::decode(&unknown_flag),
            Err(FormatError::BadField("element flags"))
        );
        let mut two_widths = tuple.clone();
        two_widths[2] |= SPARSE_FLAG | BIT_FLAG;
        assert_eq!(
            ElementHeader::decode(&two_widths),
            Err(FormatError::BadField("element flags"))
        );
    }

    #[test]
    fn neighbor_layers_are_independent_slot_ranges() {
        for code_bytes in [0, 5] {
            let shape = ListShape { m: 4, code_bytes };
            let mut tuple = new_neighbor_tuple(2, shape);
            assert_eq!(tuple.len(), 8 + 8 * (6 + code_bytes) + 2 * 4 * 6);
            let layer0: Vec<NodeId> = (1..=8).map(|i| NodeId::new(i, 1)).collect();
            let codes0: Vec<u8> = (0..8 * code_bytes as u8).collect();
            let layer2 = vec![NodeId::new(100, 7)];
            write_layer(&mut tuple, shape, 0, &layer0, &codes0).unwrap();
            write_layer(&mut tuple, shape, 2, &layer2, &[]).unwrap();
            let mut out = Vec::new();
            read_layer(&tuple, shape, 0, &mut out).unwrap();
            assert_eq!(out, layer0);
            let (mut ids, mut codes) = (Vec::new(), Vec::new());
            read_layer_codes(&tuple, shape, &mut ids, &mut codes).unwrap();
            assert_eq!((ids, codes), (layer0.clone(), codes0.clone()));
            out.clear();
            read_layer(&tuple, shape, 1, &mut out).unwrap();
            assert!(out.is_empty());
            read_layer(&tuple, shape, 2, &mut out).unwrap();
            assert_eq!(out, layer2);
            // Shrinking a layer clears the slots it no longer uses.
            write_layer(
                &mut tuple,
                shape,
                0,
                &layer0[..3],
                &codes0[..3 * code_bytes],
            )
            .unwrap();
            out.clear();
            read_layer(&tuple, shape, 0, &mut out).unwrap();
            assert_eq!(out, &layer0[..3]);
            assert!(tuple[8 + 3 * (6 + code_bytes)..8 + 8 * (6 + code_bytes)]
                .iter()
                .all(|&b| b == 0));
            assert!(
                read_layer(&tuple, shape, 3, &mut out).is_err(),
                "layer above the node's level"
            );
            assert!(
                write_layer(&mut tuple, shape, 1, &layer0, &[]).is_err(),
                "more than m neighbors"
            );
            assert!(
                read_layer(&tuple, ListShape { m: 5, code_bytes }, 0, &mut out).is_err(),
                "m disagrees with the slot count"
            );
            assert!(
                read_layer(
                    &tuple,
                    ListShape {
                        m: 4,
                        code_bytes: code_bytes + 1
                    },
                    0,
                    &mut out
                )
                .is_err(),
                "code size disagrees"
            );
            if code_bytes > 0 {
                assert!(
                    write_layer(&mut tuple, shape, 0, &layer0, &codes0[1..]).is_err(),
                    "a code per neighbor"
                );
            }
        }
    }

    #[test]
    fn special_space_identifies_our_pages() {
        let s = encode_special(PAGE_KIND_GRAPH);
        assert_eq!(special_kind(&s), Some(PAGE_KIND_GRAPH));
        assert_eq!(special_kind(&[0u8; SPECIAL_SIZE]), None);
    }

    #[test]
    fn plan_keeps_a_node_on_one_page_and_fills_pages() {
        let footprint = |len: usize| len.div_ceil(8) * 8 + 4;
        // Each node takes 100 + 60 bytes; 1000 bytes hold 6 nodes.
        let sizes = vec![(96, 56); 20];
        let order: Vec<u32> = (0..20).rev().collect();
        let plan = plan_pages(&order, &sizes, 1000, footprint, 1);
        assert_eq!(plan.pages.len(), 4);
        assert_eq!(plan.pages[0].len(), 12);
        for node in 0..20 {
            let (e, n) = (plan.elements[node], plan.neighbors[node]);
            assert_eq!(e.block(), n.block(), "node {node} is split");
            let page = &plan.pages[(e.block() - 1) as usize];
            assert_eq!(
                page[e.offset() as usize - 1],
                PlannedItem::Element(node as u32)
            );
            assert_eq!(
                page[n.offset() as usize - 1],
                PlannedItem::Neighbors(node as u32)
            );
        }
        // Order is kept: the first node placed is node 19.
        assert_eq!(plan.pages[0][0], PlannedItem::Neighbors(19));
    }

    #[test]
    fn plan_gives_oversized_elements_their_own_page() {
        let footprint = |len: usize| len.div_ceil(8) * 8 + 4;
        let sizes = vec![(900, 200), (900, 200), (10, 10)];
        let plan = plan_pages(&[0, 1, 2], &sizes, 1000, footprint, 1);
        for node in 0..2 {
            let e = plan.elements[node];
            assert_eq!(
                plan.pages[(e.block() - 1) as usize],
                vec![PlannedItem::Element(node as u32)]
            );
            assert_eq!(e.offset(), 1);
        }
        assert_eq!(
            plan.neighbors[0].block(),
            plan.neighbors[1].block(),
            "neighbor tuples share a page"
        );
        assert_eq!(plan.elements[2].block(), plan.neighbors[2].block());
        let total: usize = plan.pages.iter().map(|p| p.len()).sum();
        assert_eq!(total, 6);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            ProptestConfig {
                cases: 256,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(any::<u8>(), 0..max)
        }

        fn node_id() -> impl Strategy<Value = NodeId> {
            (any::<u32>(), 1u16..).prop_map(|(block, offset)| NodeId::new(block, offset))
        }

        fn width() -> impl Strategy<Value = ElementWidth> {
            prop::sample::select(vec![
                ElementWidth::Float4,
                ElementWidth::Float2,
                ElementWidth::Bit,
                ElementWidth::Sparse,
            ])
        }

        fn header(wide: bool) -> impl Strategy<Value = ElementHeader> {
            (
                any::<u8>(),
                any::<bool>(),
                width(),
                proptest::collection::vec(node_id(), 0..=HEAP_TIDS),
                any::<u64>(),
                0u16..300,
                any::<u64>(),
            )
                .prop_map(
                    move |(level, deleted, width, heap_tids, neighbors, dimensions, anchor)| {
                        ElementHeader {
                            level,
                            deleted,
                            width,
                            heap_tids,
                            neighbors: NodeId::from_u64(neighbors & 0xFFFF_FFFF_FFFF),
                            dimensions,
                            anchor: NodeId::from_u64(anchor & 0xFFFF_FFFF_FFFF),
                            wide,
                        }
                    },
                )
        }

        fn meta() -> impl Strategy<Value = Meta> {
            let metric = prop::sample::select(vec![
                Metric::L2,
                Metric::InnerProduct,
                Metric::Cosine,
                Metric::L1,
                Metric::Hamming,
                Metric::Jaccard,
            ]);
            let codes = prop_oneof![
                Just((0u8, 0u16)),
                (prop::sample::select(vec![1u8, 4, 8]), 1u16..)
            ];
            (
                (
                    any::<u32>(),
                    any::<u16>(),
                    any::<u16>(),
                    metric,
                    any::<u64>(),
                    any::<u8>(),
                    any::<u32>(),
                    any::<u64>(),
                ),
                (
                    any::<u32>(),
                    any::<u32>(),
                    codes,
                    0..u32::MAX - 1,
                    any::<u32>(),
                    any::<u32>(),
                    any::<u32>(),
                    any::<bool>(),
                ),
            )
                .prop_map(|(a, b)| Meta {
                    dimensions: a.0,
                    m: a.1,
                    ef_construction: a.2,
                    metric: a.3,
                    entry: NodeId::from_u64(a.4 & 0xFFFF_FFFF_FFFF),
                    entry_level: a.5,
                    insert_block: a.6,
                    element_count: a.7,
                    walk_first_batch_visits: b.0,
                    walk_visits_per_row_milli: b.1,
                    code_bits: b.2 .0,
                    code_bytes: b.2 .1,
                    quantizer_blocks: b.3,
                    quantizer_bytes: b.4,
                    filter_head: b.5,
                    filter_insert_block: b.6,
                    filter_directory: b.7,
                })
        }

        /// A copy of `tuple` at a 4-byte aligned address, as tuples are on pages.
        fn aligned(tuple: &[u8]) -> Gathered {
            let mut copy = Gathered::default();
            copy.push(tuple);
            copy
        }

        /// Every reader of element, part and filter entry bytes, on the same bytes.
        fn read_every_way(tuple: &[u8], dimensions: usize) {
            let header = ElementHeader::decode(tuple);
            let _ = element_filter(tuple);
            let _ = element_neighbors(tuple);
            let _ = element_anchor(tuple);
            let _ = element_parts(tuple);
            let _ = element_is_wide(tuple);
            let _ = element_is_live(tuple);
            let copy = aligned(tuple);
            for dims in [
                dimensions,
                header.as_ref().map_or(0, |h| h.dimensions as usize),
            ] {
                if let Some(v) = element_vector(copy.bytes(), dims) {
                    let mut out = Vec::new();
                    v.extend_into(&mut out);
                    let _ = v.all_finite();
                }
                let _ = element_body(copy.bytes(), dims);
            }
            let _ = set_element_anchor(&mut tuple.to_vec(), NodeId::new(1, 1));
            let _ = part_position(tuple);
            let _ = part_piece(tuple, part_position(tuple).unwrap_or(0));
            if let Ok((id, values)) = decode_filter_entry(tuple) {
                assert!(!id.is_none() && values.len() > FILTER_TUPLE_HEADER);
            }
            let _ = special_kind(tuple);
            let _ = foreign_index(tuple);
            let _ = special_next(tuple);
        }

        /// Every reader and writer of neighbor tuples, over shapes near the tuple's own.
        fn read_neighbors_every_way(tuple: &[u8], shape: ListShape) {
            let (mut ids, mut codes) = (Vec::new(), Vec::new());
            for layer in 0..4 {
                let _ = read_layer(tuple, shape, layer, &mut ids);
            }
            let _ = read_layer_codes(tuple, shape, &mut ids, &mut codes);
            assert_eq!(codes.len() % shape.code_bytes.max(1), 0);
            let mut copy = tuple.to_vec();
            let some: Vec<NodeId> = (1..4).map(|i| NodeId::new(i, 1)).collect();
            for layer in 0..3 {
                let code_bytes = if layer == 0 { shape.code_bytes } else { 0 };
                let _ = write_layer(
                    &mut copy,
                    shape,
                    layer,
                    &some,
                    &vec![7; some.len() * code_bytes],
                );
            }
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn meta_decode_never_panics(b in bytes(80)) {
                if let Ok(meta) = Meta::decode(&b) {
                    prop_assert!(matches!(meta.code_bits, 0 | 1 | 4 | 8));
                }
            }

            #[test]
            fn meta_round_trips(meta in meta()) {
                prop_assert_eq!(Meta::decode(&meta.encode()), Ok(meta));
                // Damage anywhere is either rejected or read as some meta page: never a panic.
                let encoded = meta.encode();
                for cut in [0, 1, 8, 48, 63] {
                    prop_assert!(Meta::decode(&encoded[..cut]).is_err());
                }
            }

            #[test]
            fn element_readers_never_panic_on_random_bytes(b in bytes(160), dimensions in 0usize..40) {
                read_every_way(&b, dimensions);
            }

            #[test]
            fn element_readers_never_panic_on_damaged_elements(
                header in header(false), values in proptest::collection::vec(-1e4f32..1e4, 300),
                filter in bytes(24), cut in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            ) {
                let mut tuple = encode_element(&header, &values[..header.dimensions as usize]);
                append_filter(&mut tuple, &filter);
                for (at, byte) in flips {
                    let at = at.index(tuple.len());
                    tuple[at] ^= byte;
                }
                let cut = cut.index(tuple.len() + 1);
                read_every_way(&tuple[..cut], header.dimensions as usize);
                read_every_way(&tuple, header.dimensions as usize);
            }

            #[test]
            fn elements_round_trip(header in header(false), values in proptest::collection::vec(-6e4f32..6e4, 300), filter in bytes(24)) {
                let dimensions = header.dimensions as usize;
                // Sparse elements hold a packed vector, as many float4 slots as their dimensions.
                let vector = &values[..dimensions];
                let mut tuple = encode_element(&header, vector);
                prop_assert_eq!(tuple.len(), element_size(dimensions, header.width));
                append_filter(&mut tuple, &filter);
                prop_assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
                prop_assert_eq!(element_filter(&tuple), Ok((!filter.is_empty()).then_some(&filter[..])));
                prop_assert_eq!(element_neighbors(&tuple), Ok(header.neighbors));
                prop_assert_eq!(element_anchor(&tuple), Ok(header.anchor));
                prop_assert_eq!(element_is_live(&tuple), !header.deleted && !header.heap_tids.is_empty());
                let copy = aligned(&tuple);
                let stored = element_vector(copy.bytes(), dimensions).expect("an aligned element's vector");
                let mut out = Vec::new();
                stored.extend_into(&mut out);
                let want: Vec<f32> = match header.width {
                    ElementWidth::Float4 | ElementWidth::Sparse => vector.to_vec(),
                    ElementWidth::Float2 => vector.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect(),
                    ElementWidth::Bit => vector.iter().map(|&x| if x != 0.0 { 1.0 } else { 0.0 }).collect(),
                };
                prop_assert_eq!(out, want);
                // A header rewritten in place keeps the filter values.
                let mut rewritten = header.clone();
                rewritten.deleted = !header.deleted;
                rewritten.encode_into(&mut tuple);
                prop_assert_eq!(element_filter(&tuple), Ok((!filter.is_empty()).then_some(&filter[..])));
            }

            #[test]
            fn wide_elements_and_parts_round_trip(header in header(true), parts in proptest::collection::vec(node_id(), 1..=MAX_PARTS), stored in bytes(3000), piece in 1usize..700) {
                let tuple = encode_wide_element(&header, &parts);
                prop_assert_eq!(ElementHeader::decode(&tuple), Ok(header));
                prop_assert_eq!(element_parts(&tuple), Ok(parts.clone()));
                prop_assert!(matches!(element_body(&tuple, 5), Some(ElementBody::Parts(ids, _, 5)) if ids == parts));
                let mut gathered = Gathered::default();
                for (position, part) in encode_parts(&stored, piece).iter().enumerate() {
                    prop_assert_eq!(part_position(part), Some(position));
                    gathered.push(part_piece(part, position).expect("a part's piece"));
                    prop_assert!(part_piece(part, position + 1).is_err());
                    prop_assert!(part_piece(&part[..part.len() - 1], position).is_err() || part.len() == PART_HEADER_SIZE);
                }
                prop_assert_eq!(gathered.bytes(), &stored[..]);
            }

            #[test]
            fn filter_entries_round_trip(element in node_id(), filter in proptest::collection::vec(any::<u8>(), FILTER_TUPLE_HEADER + 1..64)) {
                let entry = encode_filter_entry(element, &filter);
                let (decoded, values) = decode_filter_entry(&entry).expect("an entry");
                prop_assert_eq!(decoded, element);
                prop_assert!(same_filter_values(values, &filter));
            }

            #[test]
            fn neighbor_readers_never_panic_on_random_bytes(b in bytes(200), m in 0usize..8, code_bytes in 0usize..6) {
                read_neighbors_every_way(&b, ListShape { m, code_bytes });
            }

            #[test]
            fn neighbor_readers_never_panic_on_damaged_tuples(
                level in 0usize..4, m in 1usize..8, code_bytes in 0usize..6, cut in any::<prop::sample::Index>(),
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4), other_m in 0usize..8,
            ) {
                let shape = ListShape { m, code_bytes };
                let mut tuple = new_neighbor_tuple(level, shape);
                for (at, byte) in flips {
                    let at = at.index(tuple.len());
                    tuple[at] ^= byte;
                }
                let cut = cut.index(tuple.len() + 1);
                for shape in [shape, ListShape { m: other_m, code_bytes }, ListShape { m, code_bytes: code_bytes + 1 }] {
                    read_neighbors_every_way(&tuple[..cut], shape);
                    read_neighbors_every_way(&tuple, shape);
                }
            }

            #[test]
            fn neighbor_layers_round_trip(level in 0usize..4, m in 1usize..10, code_bytes in 0usize..9, seed in any::<u32>()) {
                let shape = ListShape { m, code_bytes };
                let mut tuple = new_neighbor_tuple(level, shape);
                prop_assert_eq!(tuple.len(), shape.tuple_size(level));
                let mut written = Vec::new();
                for layer in 0..=level {
                    let count = (seed as usize + layer) % (shape.layer_slots(layer) + 1);
                    let ids: Vec<NodeId> = (0..count).map(|i| NodeId::new(seed ^ i as u32, 1 + (i + layer) as u16)).collect();
                    let code_bytes = if layer == 0 { code_bytes } else { 0 };
                    let codes: Vec<u8> = (0..count * code_bytes).map(|i| (i as u32 ^ seed) as u8).collect();
                    write_layer(&mut tuple, shape, layer, &ids, &codes).expect("ids fit their layer");
                    written.push((ids, codes));
                }
                for (layer, (ids, codes)) in written.iter().enumerate() {
                    let mut read = Vec::new();
                    read_layer(&tuple, shape, layer, &mut read).expect("a layer of the node");
                    prop_assert_eq!(&read, ids);
                    if layer == 0 {
                        let (mut read, mut read_codes) = (Vec::new(), Vec::new());
                        read_layer_codes(&tuple, shape, &mut read, &mut read_codes).expect("layer 0");
                        prop_assert_eq!(&read, ids);
                        prop_assert_eq!(&read_codes, codes);
                    }
                }
                prop_assert!(read_layer(&tuple, shape, level + 1, &mut Vec::new()).is_err());
                let (wider, longer_codes) = (ListShape { m: m + 1, code_bytes }, ListShape { m, code_bytes: code_bytes + 1 });
                prop_assert!(read_layer(&tuple, wider, 0, &mut Vec::new()).is_err());
                prop_assert!(read_layer(&tuple, longer_codes, 0, &mut Vec::new()).is_err());
            }
        }
    }
}
/// Every tuple kind and the meta page, byte for byte as indexes on disk
/// hold them (written by the code of format 7 before its headers became
/// typed views): a change to a layout fails here, not in a user's index.
#[cfg(test)]
mod golden_tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn formats_are_byte_for_byte_what_indexes_hold() {
        let meta = Meta {
            dimensions: 784,
            m: 16,
            ef_construction: 64,
            metric: Metric::Cosine,
            entry: NodeId::new(7, 3),
            entry_level: 2,
            insert_block: 9,
            element_count: 123_456,
            walk_first_batch_visits: 936,
            walk_visits_per_row_milli: 12_900,
            code_bits: 8,
            code_bytes: 788,
            quantizer_blocks: 2,
            quantizer_bytes: 6_280,
            filter_head: 40,
            filter_insert_block: 41,
            filter_directory: true,
        };
        assert_eq!(hex(&meta.encode()), "534856510700000010030000100040000302070000000300090000002800000040e2010000000000a80300006432000008011403020000008818000029000000");
        assert_eq!(Meta::decode(&meta.encode()), Ok(meta));
        let header = ElementHeader {
            level: 1,
            deleted: true,
            width: ElementWidth::Float2,
            heap_tids: vec![HeapTid::new(5, 1), HeapTid::new(0x0102_0304, 0x0506)],
            neighbors: NodeId::new(11, 4),
            dimensions: 3,
            anchor: NodeId::new(12, 2),
            wide: false,
        };
        let mut element = encode_element(&header, &[1.0, -2.5, 0.5]);
        append_filter(&mut element, &[9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(hex(&element), "010123020b000000040003000500000001000403020106050000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0000000200003c00c100380000090807060504030201");
        assert_eq!(ElementHeader::decode(&element), Ok(header.clone()));
        let bits = ElementHeader {
            width: ElementWidth::Bit,
            deleted: false,
            dimensions: 10,
            ..header.clone()
        };
        let bit_values = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        assert_eq!(hex(&encode_element(&bits, &bit_values)), "010104020b00000004000a000500000001000403020106050000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0000000200b0c0");
        let wide = ElementHeader {
            wide: true,
            width: ElementWidth::Float4,
            ..header.clone()
        };
        let parts = [NodeId::new(20, 1), NodeId::new(21, 2)];
        assert_eq!(hex(&encode_wide_element(&wide, &parts)), "010111020b000000040003000500000001000403020106050000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0000000200020000000000000014000000010000001500000002000000");
        let pieces: Vec<String> = encode_parts(&[1, 2, 3, 4, 5], 3)
            .iter()
            .map(|p| hex(p))
            .collect();
        assert_eq!(pieces, ["0300000003000000010203", "03000100020000000405"]);
        let shape = ListShape {
            m: 2,
            code_bytes: 3,
        };
        let mut neighbors = new_neighbor_tuple(1, shape);
        let ids = [NodeId::new(1, 2), NodeId::new(3, 4)];
        write_layer(&mut neighbors, shape, 0, &ids, &[1, 2, 3, 4, 5, 6]).unwrap();
        write_layer(&mut neighbors, shape, 1, &[NodeId::new(5, 6)], &[]).unwrap();
        assert_eq!(hex(&neighbors), "0201060003000000010000000200010203030000000400040506000000000000000000000000000000000000050000000600000000000000");
        let entry = encode_filter_entry(NodeId::new(0x0a0b_0c0d, 0x0e0f), &[0; 16]);
        assert_eq!(hex(&entry), "0d0c0b0a0f0e00000000000000000000");
        assert_eq!(hex(&encode_special(PAGE_KIND_FILTERS)), "ffffffff040097ff");
    }
}
