//! The one walk over an index's pages, block after block: VACUUM's passes,
//! `quiver_check_index`, `quiver_index_stats` and a scan with a NULL query
//! all read the index through it.

use super::buffer::{check_page, item, page_kind, Lock, LockedBuffer};
use super::port;
use crate::page::{self, Meta, NodeId};
use pgrx::pg_sys;

// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn block_count(rel: pg_sys::Relation) -> u32 {
    // SAFETY: an open relation (see `storage`).
    unsafe { pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM) }
}

/// Runs `visit` on every page from `first` to the end of the index, each
/// pinned and locked with `lock` while it runs, with the page's kind (None
/// for a page that is not ours); new (all-zero) pages are passed over.
/// Checks for interrupts between pages.
pub fn for_each_page(
    rel: pg_sys::Relation,
    first: u32,
    lock: Lock,
    mut visit: impl FnMut(&LockedBuffer, Option<u8>),
) {
    for block in first..block_count(rel) {
        pgrx::check_for_interrupts!();
        let buffer = LockedBuffer::read(rel, block, lock);
        // SAFETY: pinned and locked until `buffer` drops.
        let kind = unsafe {
            if port::is_new(buffer.page()) {
                continue;
            }
            page_kind(buffer.page())
        };
        visit(&buffer, kind);
    }
}

/// Runs `f` on the bytes of the tuple at `id`, its page share-locked while
/// it runs; an ERROR if no tuple is there.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn with_tuple<R>(rel: pg_sys::Relation, id: NodeId, f: impl FnOnce(&[u8]) -> R) -> R {
    let buffer = LockedBuffer::read(rel, id.block(), Lock::Share);
    // SAFETY: pinned and share-locked until `buffer` drops, after `f`.
    f(unsafe { item(rel, buffer.page(), id.block(), id.offset()) })
}

/// A tuple on a graph page, by its kind.
#[derive(Debug, Clone, Copy)]
pub enum GraphTuple<'a> {
    Element(&'a [u8]),
    Neighbors(&'a [u8]),
    Part(&'a [u8]),
    /// A kind no graph page holds: damage.
    Unknown(&'a [u8]),
}

impl<'a> GraphTuple<'a> {
    fn of(tuple: &'a [u8]) -> GraphTuple<'a> {
        match tuple.first() {
            Some(&page::ELEMENT_KIND) => GraphTuple::Element(tuple),
            Some(&page::NEIGHBOR_KIND) => GraphTuple::Neighbors(tuple),
            Some(&page::PART_KIND) => GraphTuple::Part(tuple),
            _ => GraphTuple::Unknown(tuple),
        }
    }
}

/// Runs `visit` on every tuple in use on the index's graph pages, each page
/// share-locked while its tuples are visited. The filter directory's pages
/// are passed over (its chain is read through `filters`); `other` gets the
/// blocks of pages that are neither, which only damage makes.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn for_each_graph_tuple(
    rel: pg_sys::Relation,
    meta: &Meta,
    mut visit: impl FnMut(NodeId, GraphTuple),
    mut other: impl FnMut(u32),
) {
    for_each_page(
        rel,
        meta.first_graph_block(),
        Lock::Share,
        |buffer, kind| {
            match kind {
                Some(page::PAGE_KIND_GRAPH) => {}
                Some(page::PAGE_KIND_FILTERS) => return,
                _ => return other(buffer.block()),
            }
            let (page, block) = (buffer.page(), buffer.block());
            // SAFETY: pinned and share-locked while its tuples are read.
            for offset in 1..=unsafe { port::max_offset(page) } {
                // SAFETY: as above; `offset` is within the page's line pointers.
                let (_, flags, _) = unsafe { port::line_pointer(page, offset) };
                if flags == pg_sys::LP_NORMAL {
                    // SAFETY: as above.
                    let tuple = unsafe { item(rel, page, block, offset) };
                    visit(NodeId::new(block, offset), GraphTuple::of(tuple));
                }
            }
        },
    );
}

/// Runs `visit` on every graph page from `first` on, each locked with
/// `lock` (an exclusive lock lets `visit` rewrite tuples in place, under its
/// own WAL record of the page). Filter directory pages are passed over; a
/// page of another kind is an ERROR.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn for_each_element_page(
    rel: pg_sys::Relation,
    first: u32,
    lock: Lock,
    mut visit: impl FnMut(&LockedBuffer),
) {
    for_each_page(rel, first, lock, |buffer, kind| match kind {
        Some(page::PAGE_KIND_GRAPH) => visit(buffer),
        Some(page::PAGE_KIND_FILTERS) => {}
        // SAFETY: pinned and locked. Not a graph page: the ERROR says whose
        // page it is, or that it is damaged.
        _ => unsafe { check_page(rel, buffer.page(), buffer.block(), page::PAGE_KIND_GRAPH) },
    });
}
