//! The meta page (block 0): what the index is, and where its graph, codes
//! and filter directory start.

use super::ids::{NodeId, StoredId};
use super::neighbors::ListShape;
use super::{FormatError, FORMAT_VERSION, INVALID_BLOCK, OLDEST_READABLE_VERSION};
use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub const META_MAGIC: u32 = 0x5156_4853; // "QVHS"
pub const META_BLOCK: u32 = 0;

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
    const ALL: [Metric; 6] = [
        Metric::L2,
        Metric::InnerProduct,
        Metric::Cosine,
        Metric::L1,
        Metric::Hamming,
        Metric::Jaccard,
    ];

    pub(super) fn from_u8(v: u8) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| *m as u8 == v)
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

/// The meta data as the page holds it. Fields came in over the format
/// versions wherever bytes were free, so they are not in a tidy order.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct MetaLayout {
    magic: U32,
    version: U32,
    dimensions: U32,
    m: U16,
    ef_construction: U16,
    metric: u8,
    entry_level: u8,
    entry: StoredId,
    insert_block: U32,
    filter_head: U32,
    element_count: U64,
    walk_first_batch_visits: U32,
    walk_visits_per_row_milli: U32,
    code_bits: u8,
    /// Bit 0: the filter directory is complete.
    filter_flags: u8,
    code_bytes: U16,
    quantizer_blocks: U32,
    quantizer_bytes: U32,
    filter_insert_block: U32,
}

pub const META_SIZE: usize = std::mem::size_of::<MetaLayout>();

impl Meta {
    /// An empty index's meta data: no graph, no codes, no page to insert
    /// into yet, and a filter directory that is complete (it has no entries
    /// because there are no elements).
    pub fn empty(dimensions: u32, m: u16, ef_construction: u16, metric: Metric) -> Meta {
        Meta {
            dimensions,
            m,
            ef_construction,
            metric,
            entry: NodeId::NONE,
            entry_level: 0,
            insert_block: INVALID_BLOCK,
            element_count: 0,
            walk_first_batch_visits: 0,
            walk_visits_per_row_milli: 0,
            code_bits: 0,
            code_bytes: 0,
            quantizer_blocks: 0,
            quantizer_bytes: 0,
            filter_head: META_BLOCK,
            filter_insert_block: META_BLOCK,
            filter_directory: true,
        }
    }

    pub fn encode(&self) -> [u8; META_SIZE] {
        let layout = MetaLayout {
            magic: U32::new(META_MAGIC),
            version: U32::new(FORMAT_VERSION),
            dimensions: U32::new(self.dimensions),
            m: U16::new(self.m),
            ef_construction: U16::new(self.ef_construction),
            metric: self.metric as u8,
            entry_level: self.entry_level,
            entry: self.entry.into(),
            insert_block: U32::new(self.insert_block),
            filter_head: U32::new(self.filter_head),
            element_count: U64::new(self.element_count),
            walk_first_batch_visits: U32::new(self.walk_first_batch_visits),
            walk_visits_per_row_milli: U32::new(self.walk_visits_per_row_milli),
            code_bits: self.code_bits,
            filter_flags: self.filter_directory as u8,
            code_bytes: U16::new(self.code_bytes),
            quantizer_blocks: U32::new(self.quantizer_blocks),
            quantizer_bytes: U32::new(self.quantizer_bytes),
            filter_insert_block: U32::new(self.filter_insert_block),
        };
        layout.as_bytes().try_into().expect("the meta data's size")
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
        let (layout, _) = MetaLayout::ref_from_prefix(b).map_err(|_| FormatError::TooShort {
            needed: META_SIZE,
            found: b.len(),
        })?;
        if layout.magic.get() != META_MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = layout.version.get();
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let (code_bits, code_bytes) = (layout.code_bits, layout.code_bytes.get());
        if !matches!(code_bits, 0 | 1 | 4 | 8) || (code_bits == 0) != (code_bytes == 0) {
            return Err(FormatError::BadField("neighbor codes"));
        }
        // The graph starts after the quantizer's pages, at a valid block number
        // (`first_graph_block` adds them without overflow).
        let quantizer_blocks = layout.quantizer_blocks.get();
        if quantizer_blocks >= INVALID_BLOCK - (META_BLOCK + 1) {
            return Err(FormatError::BadField("quantizer blocks"));
        }
        Ok(Meta {
            dimensions: layout.dimensions.get(),
            m: layout.m.get(),
            ef_construction: layout.ef_construction.get(),
            metric: Metric::from_u8(layout.metric).ok_or(FormatError::BadField("metric"))?,
            entry_level: layout.entry_level,
            entry: layout.entry.into(),
            insert_block: layout.insert_block.get(),
            element_count: layout.element_count.get(),
            walk_first_batch_visits: layout.walk_first_batch_visits.get(),
            walk_visits_per_row_milli: layout.walk_visits_per_row_milli.get(),
            code_bits,
            code_bytes,
            quantizer_blocks,
            quantizer_bytes: layout.quantizer_bytes.get(),
            filter_head: layout.filter_head.get(),
            filter_insert_block: layout.filter_insert_block.get(),
            filter_directory: layout.filter_flags & 1 != 0,
        })
    }
}
