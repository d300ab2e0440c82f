//! The filter directory of an index with filter columns: a chain of pages
//! of entries (the element's filter values, with its id), one per element.
//! When a query's conditions pass few rows, a scan checks them on every
//! entry, which are dense, instead of walking the graph through the many
//! elements that fail, and measures only the elements that pass.
//!
//! Inserts add an entry after the element; VACUUM removes the entries of
//! freed or changed elements, and inserts fill the room it leaves. Entries
//! are found by reading the whole chain, so their place does not matter.

use super::buffer::{corrupted, LockedBuffer};
use super::chain::{Anchor, Chain};
use super::meta::{change_meta, meta_of, read_meta, update_meta};
use super::xlog::{Logging, PageWrite};
use crate::page::{self, ListPages, Meta, NodeId};
use pgrx::pg_sys;

fn chain(rel: pg_sys::Relation) -> Chain {
    Chain {
        rel,
        kind: page::PAGE_KIND_FILTERS,
        name: "the filter directory",
    }
}

/// The directory's first page and insert hint live on the meta page.
struct MetaAnchor {
    rel: pg_sys::Relation,
    meta: Meta,
}

fn pages_of(meta: &Meta) -> ListPages {
    ListPages {
        head: meta.filter_head,
        insert: meta.filter_insert_block,
    }
}

impl Anchor for MetaAnchor {
    fn pages(&self) -> ListPages {
        pages_of(&self.meta)
    }

    fn lock(&self) -> (LockedBuffer, ListPages) {
        let buffer = LockedBuffer::read(self.rel, page::META_BLOCK, super::buffer::Lock::Exclusive);
        let meta = meta_of(self.rel, &buffer);
        (buffer, pages_of(&meta))
    }

    fn set(&self, write: &mut PageWrite, buffer: &LockedBuffer, pages: ListPages) {
        change_meta(write, buffer, |stored: &mut Meta| {
            stored.filter_head = pages.head;
            stored.filter_insert_block = pages.insert;
        });
    }
}

/// Adds the entry of `element`, whose filter values are `filter`. `meta` is
/// the caller's copy of the meta page, which may be stale: a head it lacks
/// is looked for again under the meta page's lock, and a page with room
/// along the chain from the page it names.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn add_entry(
    rel: pg_sys::Relation,
    meta: &Meta,
    element: NodeId,
    filter: &[u8],
    logging: Logging,
) {
    let entry = page::encode_filter_entry(element, filter);
    chain(rel).add(&MetaAnchor { rel, meta: *meta }, &entry, logging);
}

/// Calls `visit` with each entry's element and filter values, page by page
/// under a share lock, until it returns false; whether it saw them all.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn for_each_entry(
    rel: pg_sys::Relation,
    meta: &Meta,
    mut visit: impl FnMut(NodeId, &[u8]) -> bool,
) -> bool {
    chain(rel).for_each_tuple(meta.filter_head, |block, offset, entry| {
        let (element, filter) =
            page::decode_filter_entry(entry).unwrap_or_else(|e| corrupted(rel, block, offset, e));
        visit(element, filter)
    })
}

/// VACUUM: removes every entry `keep` rejects, a page at a time, and points
/// inserts at the first page with room.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn remove_entries(
    rel: pg_sys::Relation,
    logging: Logging,
    mut keep: impl FnMut(NodeId, &[u8]) -> bool,
) {
    let meta = read_meta(rel);
    let (first_with_room, _) = chain(rel).remove(
        meta.filter_head,
        logging,
        page::FILTER_TUPLE_HEADER + 64,
        |entry| {
            // A damaged entry is reported by the walk that reads it; VACUUM keeps it.
            match page::decode_filter_entry(entry) {
                Ok((element, filter)) => keep(element, filter),
                Err(_) => true,
            }
        },
    );
    if let Some(room) = first_with_room.filter(|&b| b != meta.filter_insert_block) {
        update_meta(rel, logging, |stored: &mut Meta| {
            stored.filter_insert_block = room
        });
    }
}

/// The pages of a new index's directory, from `first_block` on: each
/// page's entries (as indexes into `entries`), for `write_built` to write.
pub fn plan_built(
    entries: &[Vec<u8>],
    capacity: usize,
    footprint: impl Fn(usize) -> usize,
) -> Vec<Vec<usize>> {
    let lengths: Vec<usize> = entries.iter().map(Vec::len).collect();
    page::pack_in_order(&lengths, capacity, footprint, 0).0
}

/// Fills the new page `block` of a build's directory with `entries`, and
/// chains it to `next` (INVALID_BLOCK for the last).
///
/// # Safety
/// `page` is a new page, exclusively locked; the entries fit (`plan_built`).
// `page` is the caller's, under its promise.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub unsafe fn fill_built_page(
    rel: pg_sys::Relation,
    page: pg_sys::Page,
    entries: impl Iterator<Item = impl AsRef<[u8]>>,
    next: u32,
) {
    // SAFETY: the caller's promise.
    unsafe { chain(rel).fill_built_page(page, entries, next) }
}
