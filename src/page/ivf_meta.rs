//! The meta page of an IVF index (block 0): what the index is, whether its
//! centers are trained, and where the quantizer, the centers and the
//! pending rows (of an index not trained yet) are.

use super::ids::{HeapTid, StoredId};
use super::meta::Metric;
use super::{FormatError, INVALID_BLOCK};
use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub const IVF_MAGIC: u32 = 0x5156_4956; // "QVIV"
/// Version 1: lists of residual codes around trained centers, and a list of
/// pending rows with whole vectors while an index has too few to train on.
pub const IVF_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfMeta {
    pub dimensions: u32,
    pub metric: Metric,
    /// Lists asked for (`WITH (lists = ...)`); the trained index has as many.
    pub lists: u32,
    /// Whether the centers exist. An untrained index keeps every row in the
    /// pending list, with its whole vector.
    pub trained: bool,
    /// Bits per dimension of the residual codes (0: the code is the row's
    /// bits themselves, for bit columns), and the bytes each stored code takes.
    pub code_bits: u8,
    pub code_bytes: u16,
    /// The residual codes' quantizer: quantizer_blocks pages from
    /// first_quantizer_block on, holding quantizer_bytes.
    pub first_quantizer_block: u32,
    pub quantizer_blocks: u32,
    pub quantizer_bytes: u32,
    /// The center pages, center after center in list order.
    pub first_center_block: u32,
    pub center_blocks: u32,
    /// The pending list (INVALID_BLOCK for none), its last page (where
    /// inserts add), and how many rows it holds (what self-training counts).
    pub pending_head: u32,
    pub pending_tail: u32,
    pub pending_rows: u32,
    /// Rows as of the last build, training or VACUUM (for cost estimates).
    pub rows: u64,
    /// Bumped whenever the centers change, so that a backend's cache of them
    /// is read again.
    pub generation: u32,
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct IvfMetaLayout {
    magic: U32,
    version: U32,
    dimensions: U32,
    metric: u8,
    flags: u8,
    code_bits: u8,
    reserved: u8,
    lists: U32,
    code_bytes: U16,
    reserved2: U16,
    first_quantizer_block: U32,
    quantizer_blocks: U32,
    quantizer_bytes: U32,
    first_center_block: U32,
    center_blocks: U32,
    pending_head: U32,
    pending_tail: U32,
    pending_rows: U32,
    rows: U64,
    generation: U32,
    /// Room for fields a later version adds; zero now.
    reserved3: [u8; 8],
}

pub const IVF_META_SIZE: usize = std::mem::size_of::<IvfMetaLayout>();
const TRAINED: u8 = 1;

impl IvfMeta {
    /// An index with nothing in it yet: untrained, no pending rows.
    pub fn empty(dimensions: u32, metric: Metric, lists: u32) -> IvfMeta {
        IvfMeta {
            dimensions,
            metric,
            lists,
            trained: false,
            code_bits: 0,
            code_bytes: 0,
            first_quantizer_block: INVALID_BLOCK,
            quantizer_blocks: 0,
            quantizer_bytes: 0,
            first_center_block: INVALID_BLOCK,
            center_blocks: 0,
            pending_head: INVALID_BLOCK,
            pending_tail: INVALID_BLOCK,
            pending_rows: 0,
            rows: 0,
            generation: 0,
        }
    }

    pub fn encode(&self) -> [u8; IVF_META_SIZE] {
        let layout = IvfMetaLayout {
            magic: U32::new(IVF_MAGIC),
            version: U32::new(IVF_FORMAT_VERSION),
            dimensions: U32::new(self.dimensions),
            metric: self.metric as u8,
            flags: if self.trained { TRAINED } else { 0 },
            code_bits: self.code_bits,
            reserved: 0,
            lists: U32::new(self.lists),
            code_bytes: U16::new(self.code_bytes),
            reserved2: U16::new(0),
            first_quantizer_block: U32::new(self.first_quantizer_block),
            quantizer_blocks: U32::new(self.quantizer_blocks),
            quantizer_bytes: U32::new(self.quantizer_bytes),
            first_center_block: U32::new(self.first_center_block),
            center_blocks: U32::new(self.center_blocks),
            pending_head: U32::new(self.pending_head),
            pending_tail: U32::new(self.pending_tail),
            pending_rows: U32::new(self.pending_rows),
            rows: U64::new(self.rows),
            generation: U32::new(self.generation),
            reserved3: [0; 8],
        };
        layout.as_bytes().try_into().expect("the meta data's size")
    }

    pub fn decode(b: &[u8]) -> Result<IvfMeta, FormatError> {
        let (layout, _) = IvfMetaLayout::ref_from_prefix(b).map_err(|_| FormatError::TooShort {
            needed: IVF_META_SIZE,
            found: b.len(),
        })?;
        if layout.magic.get() != IVF_MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = layout.version.get();
        if version != IVF_FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let trained = layout.flags & TRAINED != 0;
        if layout.flags & !TRAINED != 0 || !matches!(layout.code_bits, 0 | 4 | 8) {
            return Err(FormatError::BadField("meta flags"));
        }
        let lists = layout.lists.get();
        if lists == 0 || trained && layout.center_blocks.get() == 0 {
            return Err(FormatError::BadField("lists"));
        }
        let quantizer_blocks = layout.quantizer_blocks.get();
        if quantizer_blocks >= INVALID_BLOCK - 1 {
            return Err(FormatError::BadField("quantizer blocks"));
        }
        Ok(IvfMeta {
            dimensions: layout.dimensions.get(),
            metric: Metric::from_u8(layout.metric).ok_or(FormatError::BadField("metric"))?,
            lists,
            trained,
            code_bits: layout.code_bits,
            code_bytes: layout.code_bytes.get(),
            first_quantizer_block: layout.first_quantizer_block.get(),
            quantizer_blocks,
            quantizer_bytes: layout.quantizer_bytes.get(),
            first_center_block: layout.first_center_block.get(),
            center_blocks: layout.center_blocks.get(),
            pending_head: layout.pending_head.get(),
            pending_tail: layout.pending_tail.get(),
            pending_rows: layout.pending_rows.get(),
            rows: layout.rows.get(),
            generation: layout.generation.get(),
        })
    }
}

/// The heap row an entry or pending row names, and its flags.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub(super) struct RowHeader {
    pub kind: u8,
    pub flags: u8,
    pub tid: StoredId,
}

pub(super) const ROW_HEADER_SIZE: usize = std::mem::size_of::<RowHeader>();

impl RowHeader {
    pub fn new(kind: u8, tid: HeapTid) -> Self {
        RowHeader {
            kind,
            flags: 0,
            tid: tid.into(),
        }
    }
}
