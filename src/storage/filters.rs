//! The filter directory of an index with filter columns: a chain of pages
//! of entries (the element's filter values, with its id), one per element.
//! When a query's conditions pass few rows, a scan checks them on every
//! entry, which are dense, instead of walking the graph through the many
//! elements that fail, and measures only the elements that pass.
//!
//! Inserts add an entry after the element; VACUUM removes the entries of
//! freed or changed elements, and inserts fill the room it leaves. Entries
//! are found by reading the whole chain, so their place does not matter.

use super::buffer::{
    add_item, check_page, corrupted, free_space, init_page, item, maxalign, Lock, LockedBuffer,
};
use super::meta::{change_meta, meta_of, read_meta, update_meta};
use super::port;
use super::xlog::{Logging, PageWrite};
use crate::page::{self, Meta, NodeId};
use pgrx::pg_sys;

fn has_directory(block: u32) -> bool {
    block != page::META_BLOCK && block != page::INVALID_BLOCK
}

/// # Safety
/// `page` must be pinned and locked, and checked (`check_page`).
unsafe fn next_page(page: pg_sys::Page) -> u32 {
    // SAFETY: the caller's page is pinned and locked, and was checked to be a
    // directory page (`check_page`), so its SPECIAL_SIZE bytes of special
    // space lie inside it.
    unsafe {
        page::special_next(std::slice::from_raw_parts(
            port::special(page),
            page::SPECIAL_SIZE,
        ))
    }
}

/// # Safety
/// `page` must be locked exclusively (or be a GenericXLog working copy), and
/// be a directory page: checked (`check_page`) or just formatted.
unsafe fn set_next_page(page: pg_sys::Page, next: u32) {
    // SAFETY: the caller's page is writable and a directory page, so its
    // SPECIAL_SIZE bytes of special space lie inside it.
    unsafe {
        page::set_special_next(
            std::slice::from_raw_parts_mut(port::special(page), page::SPECIAL_SIZE),
            next,
        )
    }
}

/// # Safety
/// As `set_next_page`; `entry` fits on the empty page.
unsafe fn start_page(page: pg_sys::Page, entry: &[u8]) {
    // SAFETY: the caller's page is writable, as `init_page` and `add_item` need.
    unsafe {
        init_page(page, page::PAGE_KIND_FILTERS);
        add_item(page, entry).expect("one entry fits an empty page");
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
    let mut meta = *meta;
    if !has_directory(meta.filter_head) {
        let meta_buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Exclusive);
        meta = meta_of(rel, &meta_buffer);
        if !has_directory(meta.filter_head) {
            // The first entry: its page and the meta page change together.
            let buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
            let block = buffer.block();
            let mut write = PageWrite::start(rel, logging);
            // SAFETY: a new page, exclusively locked.
            unsafe { start_page(write.register(&buffer, true), &entry) };
            change_meta(&mut write, &meta_buffer, |stored| {
                stored.filter_head = block;
                stored.filter_insert_block = block;
            });
            write.commit();
            return;
        }
    }
    let first_tried = if has_directory(meta.filter_insert_block) {
        meta.filter_insert_block
    } else {
        meta.filter_head
    };
    let mut block = first_tried;
    let mut guard = ChainGuard::new(rel);
    loop {
        guard.step(block);
        let buffer = LockedBuffer::read(rel, block, Lock::Exclusive);
        // SAFETY: pinned and exclusively locked.
        let (room, next) = unsafe {
            check_page(rel, buffer.page(), block, page::PAGE_KIND_FILTERS);
            (
                free_space(buffer.page()) >= maxalign(entry.len()),
                next_page(buffer.page()),
            )
        };
        let mut write = PageWrite::start(rel, logging);
        if room {
            // SAFETY: exclusively locked; there is room.
            unsafe { add_item(write.register(&buffer, false), &entry).expect("the entry fits") };
            write.commit();
        } else if has_directory(next) {
            block = next;
            continue;
        } else {
            // The last page is full: chain a new one.
            let new_buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
            // SAFETY: both exclusively locked; the new page is new.
            unsafe {
                set_next_page(write.register(&buffer, false), new_buffer.block());
                start_page(write.register(&new_buffer, true), &entry);
            }
            block = new_buffer.block();
            write.commit();
        }
        drop(buffer);
        if block != first_tried {
            // Later inserts start where there is room; the meta page is
            // written only when that changes.
            update_meta(rel, logging, |stored| stored.filter_insert_block = block);
        }
        return;
    }
}

/// A chain that leaves the relation, or is longer than the relation has
/// pages, is corrupt: an ERROR, not a scan that never ends. The relation's
/// size is read again only when a block seems past it (inserts extend it).
struct ChainGuard {
    rel: pg_sys::Relation,
    blocks: u32,
    /// Pages read so far: a chain that comes back to one loops. A page
    /// holds hundreds of entries, so one set insert per page costs nothing.
    seen: std::collections::HashSet<u32>,
}
impl ChainGuard {
    fn new(rel: pg_sys::Relation) -> Self {
        ChainGuard {
            rel,
            blocks: 0,
            seen: Default::default(),
        }
    }

    fn step(&mut self, block: u32) {
        if !self.seen.insert(block) {
            corrupted(
                self.rel,
                block,
                0,
                "the filter directory's chain of pages loops",
            );
        }
        if block >= self.blocks {
            // SAFETY: an open index.
            self.blocks = unsafe {
                pg_sys::RelationGetNumberOfBlocksInFork(self.rel, pg_sys::ForkNumber::MAIN_FORKNUM)
            };
            if block >= self.blocks {
                corrupted(
                    self.rel,
                    block,
                    0,
                    "the filter directory's chain of pages leaves the index",
                );
            }
        }
    }
}

/// Visits the directory's pages in chain order, each pinned and locked
/// with `lock`, until `visit` returns false; whether it saw them all.
fn for_each_page(
    rel: pg_sys::Relation,
    head: u32,
    lock: Lock,
    mut visit: impl FnMut(u32, &LockedBuffer) -> bool,
) -> bool {
    let (mut block, mut guard) = (head, ChainGuard::new(rel));
    while has_directory(block) {
        pgrx::check_for_interrupts!();
        guard.step(block);
        let buffer = LockedBuffer::read(rel, block, lock);
        // SAFETY: pinned and locked.
        let next = unsafe {
            check_page(rel, buffer.page(), block, page::PAGE_KIND_FILTERS);
            next_page(buffer.page())
        };
        if !visit(block, &buffer) {
            return false;
        }
        block = next;
    }
    true
}

/// The entries of a locked directory page: (offset, element, filter values).
///
/// # Safety
/// `page` stays pinned and locked while the entries are used.
unsafe fn entries<'a>(
    rel: pg_sys::Relation,
    page: pg_sys::Page,
    block: u32,
) -> impl Iterator<Item = (u16, NodeId, &'a [u8])> {
    // SAFETY: the caller's page is pinned and locked.
    (1..=unsafe { port::max_offset(page) }).map(move |offset| {
        // SAFETY: the caller's promise.
        let entry = unsafe { item(rel, page, block, offset) };
        let (element, filter) =
            page::decode_filter_entry(entry).unwrap_or_else(|e| corrupted(rel, block, offset, e));
        (offset, element, filter)
    })
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
    for_each_page(rel, meta.filter_head, Lock::Share, |block, buffer| {
        // SAFETY: pinned and share-locked while the entries are read.
        unsafe { entries(rel, buffer.page(), block) }
            .all(|(_, element, filter)| visit(element, filter))
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
    let mut first_with_room = None;
    let mut removed: Vec<u16> = Vec::new();
    for_each_page(rel, meta.filter_head, Lock::Exclusive, |block, buffer| {
        let mut write = PageWrite::start(rel, logging);
        let page = write.register(buffer, false);
        // SAFETY: exclusively locked; `page` is the page to edit. Nothing
        // refers to an entry's offset, so the page is compacted.
        unsafe {
            removed.clear();
            removed.extend(
                entries(rel, page, block)
                    .filter(|&(_, element, filter)| !keep(element, filter))
                    .map(|(o, _, _)| o),
            );
            if !removed.is_empty() {
                pg_sys::PageIndexMultiDelete(page, removed.as_mut_ptr(), removed.len() as i32);
                write.commit();
            }
            if first_with_room.is_none()
                && free_space(buffer.page()) >= maxalign(page::FILTER_TUPLE_HEADER + 64)
            {
                first_with_room = Some(block);
            }
        }
        true
    });
    if let Some(room) = first_with_room.filter(|&b| b != meta.filter_insert_block) {
        update_meta(rel, logging, |stored| stored.filter_insert_block = room);
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
pub unsafe fn fill_built_page(
    page: pg_sys::Page,
    entries: impl Iterator<Item = impl AsRef<[u8]>>,
    next: u32,
) {
    // SAFETY: the caller gives a new, exclusively locked page, and entries
    // that fit on it.
    unsafe {
        init_page(page, page::PAGE_KIND_FILTERS);
        set_next_page(page, next);
        for entry in entries {
            add_item(page, entry.as_ref()).expect("the plan sized the page to fit");
        }
    }
}
