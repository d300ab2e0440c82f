//! The special space every page of ours ends with: what kind of page it is,
//! our page id, and the next page of a chain. And how pages of pgvector's
//! indexes, which keep their page id in the same place, are told apart.

use super::INVALID_BLOCK;
use zerocopy::byteorder::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// In each page's special space, for tools such as pg_filedump.
pub const PAGE_ID: u16 = 0xFF97;

/// The kinds of page, by the byte each carries: one table for every index.
pub const PAGE_KIND_META: u8 = 1;
/// Elements, neighbor tuples and part tuples of a graph.
pub const PAGE_KIND_GRAPH: u8 = 2;
/// Pages right after the meta page that hold the quantizer of neighbor codes.
pub const PAGE_KIND_CODES: u8 = 3;
/// Pages of the filter directory, chained through their special space.
pub const PAGE_KIND_FILTERS: u8 = 4;
/// An IVF index's center pages.
pub const PAGE_KIND_CENTERS: u8 = 5;
/// Pages of an IVF index's lists, each list's chained through their
/// special space.
pub const PAGE_KIND_LIST: u8 = 6;
/// Pages of an untrained IVF index's pending rows, chained likewise. After
/// training they are retired, never reused as pending pages, so a scan
/// that meets a page of another kind on the chain knows it was trained.
pub const PAGE_KIND_PENDING: u8 = 7;

/// Other indexes' page ids, kept where ours is (pgvector's HNSW_PAGE_ID and
/// IVFFLAT_PAGE_ID), so an index pgvector built is told apart from a
/// corrupt one.
const FOREIGN_PAGE_IDS: [(u16, &str); 2] =
    [(0xFF90, "pgvector's hnsw"), (0xFF84, "pgvector's ivfflat")];

#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Special {
    /// The next page of a chain (filter directory pages), else INVALID_BLOCK.
    next: U32,
    kind: u8,
    reserved: u8,
    page_id: U16,
}

pub const SPECIAL_SIZE: usize = std::mem::size_of::<Special>();

/// The special space of a new page of `kind`.
pub fn encode_special(kind: u8) -> [u8; SPECIAL_SIZE] {
    let special = Special {
        next: U32::new(INVALID_BLOCK),
        kind,
        reserved: 0,
        page_id: U16::new(PAGE_ID),
    };
    special
        .as_bytes()
        .try_into()
        .expect("the special space's size")
}

/// The next page of a chain (filter directory pages), or INVALID_BLOCK
/// (also for a special space too short to hold one).
pub fn special_next(special: &[u8]) -> u32 {
    // The next block comes first: four bytes are enough to read it.
    U32::read_from_prefix(special).map_or(INVALID_BLOCK, |(next, _)| next.get())
}

pub fn set_special_next(special: &mut [u8], next: u32) {
    let (special, _) = Special::mut_from_prefix(special).expect("a special space");
    special.next.set(next);
}

/// The page's kind, if the special space carries our page id.
pub fn special_kind(special: &[u8]) -> Option<u8> {
    let (special, _) = Special::ref_from_prefix(special).ok()?;
    (special.page_id.get() == PAGE_ID).then_some(special.kind)
}

/// Whose index a page is, when it is pgvector's.
pub fn foreign_index(special: &[u8]) -> Option<&'static str> {
    let (special, _) = Special::ref_from_prefix(special).ok()?;
    let id = special.page_id.get();
    FOREIGN_PAGE_IDS
        .iter()
        .find(|(foreign, _)| *foreign == id)
        .map(|(_, whose)| *whose)
}
