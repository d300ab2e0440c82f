//! On-page formats of the indexes. Pure: byte layouts only, no pgrx; every
//! header is a typed view of its bytes (zerocopy), one file per kind:
//!
//! - `meta.rs`: block 0, what the index is and where its parts start;
//! - `element.rs`: a node, its heap TIDs, its vector and filter values;
//! - `parts.rs`: a vector too large for a page, in part tuples;
//! - `neighbors.rs`: a node's neighbor lists, one slot range per layer;
//! - `filter_entry.rs`: the filter directory's entries;
//! - `ivf_meta.rs`, `ivf_center.rs`, `ivf_entry.rs`: an IVF index's meta
//!   page, its centers, and the rows of its lists;
//! - `special.rs`: every page's special space: its kind and page id;
//! - `ids.rs`: node ids and heap TIDs, and the 6 bytes either takes;
//! - `plan.rs`: where a build puts the tuples it writes;
//! - `filter_values.rs`: conditions checked on filter values in place.
//!
//! A node's neighbor tuple sits on its element's page whenever both fit.
//! Formats carry `FORMAT_VERSION`; `page::tests` pins every layout byte for
//! byte.

mod element;
mod filter_entry;
pub mod filter_values;
mod ids;
mod ivf_center;
mod ivf_entry;
mod ivf_meta;
mod meta;
mod neighbors;
mod parts;
mod plan;
mod special;

pub use element::*;
pub use filter_entry::*;
pub use ids::{HeapTid, NodeId, ID_BYTES};
pub use ivf_center::*;
pub use ivf_entry::*;
pub use ivf_meta::{IvfMeta, IVF_FORMAT_VERSION, IVF_MAGIC, IVF_META_SIZE};
pub use meta::*;
pub use neighbors::*;
pub use parts::*;
pub use plan::*;
pub use special::*;

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
/// Heap rows one element can stand for (equal vectors share an element).
pub const HEAP_TIDS: usize = 9;
pub const INVALID_BLOCK: u32 = u32::MAX;

/// The kinds of tuple on graph pages, by their first byte.
pub const ELEMENT_KIND: u8 = 1;
pub const NEIGHBOR_KIND: u8 = 2;
/// A piece of a wide element's vector.
pub const PART_KIND: u8 = 3;
/// Every kind of tuple a graph page holds: a byte outside these is damage.
pub const TUPLE_KINDS: [u8; 3] = [ELEMENT_KIND, NEIGHBOR_KIND, PART_KIND];

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

#[cfg(test)]
mod ivf_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
