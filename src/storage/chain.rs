//! Chains of pages of tuples that are found by reading the whole chain, so
//! that where a tuple sits does not matter: the filter directory of an hnsw
//! index, and the lists of an IVF index. Inserts add a tuple on the first
//! page with room from a hint along the chain, or chain a new page; VACUUM
//! removes tuples and points the hint at the first page with room, so
//! inserts fill what it freed. Where a chain's first page and hint are kept
//! (the meta page, a center tuple) is its anchor's business.

use super::buffer::{
    add_item, check_page, corrupted, free_space, init_page, item, maxalign, Lock, LockedBuffer,
};
use super::port;
use super::xlog::{Logging, PageWrite};
use crate::page::{self, ListPages};
use pgrx::pg_sys;

/// Where a chain's first page and insert hint are kept.
pub trait Anchor {
    /// The chain's pages as the caller last read them (maybe stale).
    fn pages(&self) -> ListPages;
    /// Locks the anchor's page exclusively; returns it and the pages it says now.
    fn lock(&self) -> (LockedBuffer, ListPages);
    /// Writes `pages` into the anchor, whose page `buffer` holds locked, as
    /// part of `write`.
    fn set(&self, write: &mut PageWrite, buffer: &LockedBuffer, pages: ListPages);
}

/// A chain: its relation, the kind of its pages, and what to call it in
/// messages.
#[derive(Clone, Copy)]
pub struct Chain {
    pub rel: pg_sys::Relation,
    pub kind: u8,
    pub name: &'static str,
}

fn exists(block: u32) -> bool {
    block != page::META_BLOCK && block != page::INVALID_BLOCK
}

/// # Safety
/// `page` must be pinned and locked, and checked (`check_page`).
unsafe fn next_page(page: pg_sys::Page) -> u32 {
    // SAFETY: the caller's page is pinned and locked, and was checked to be
    // a chain page (`check_page`), so its SPECIAL_SIZE bytes of special
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
/// be a chain page: checked (`check_page`) or just formatted.
pub(super) unsafe fn set_next_page(page: pg_sys::Page, next: u32) {
    // SAFETY: the caller's page is writable and a chain page, so its
    // SPECIAL_SIZE bytes of special space lie inside it.
    unsafe {
        page::set_special_next(
            std::slice::from_raw_parts_mut(port::special(page), page::SPECIAL_SIZE),
            next,
        )
    }
}

impl Chain {
    /// # Safety
    /// As `set_next_page`; `tuple` fits on the empty page.
    unsafe fn start_page(&self, page: pg_sys::Page, tuple: &[u8]) {
        // SAFETY: the caller's page is writable, as `init_page` and `add_item` need.
        unsafe {
            init_page(page, self.kind);
            add_item(page, tuple).expect("one tuple fits an empty page");
        }
    }

    /// Adds `tuple` to the chain on the first page with room from the
    /// anchor's hint on, or on a new page at its end; the chain's first page
    /// is made under the anchor's lock. Returns the page it went on.
    pub fn add(&self, anchor: &impl Anchor, tuple: &[u8], logging: Logging) -> u32 {
        let rel = self.rel;
        let mut pages = anchor.pages();
        if !exists(pages.head) {
            let (anchor_buffer, now) = anchor.lock();
            pages = now;
            if !exists(pages.head) {
                // The first tuple: its page and the anchor change together.
                let buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
                let block = buffer.block();
                let mut write = PageWrite::start(rel, logging);
                // SAFETY: a new page, exclusively locked.
                unsafe { self.start_page(write.register(&buffer, true), tuple) };
                anchor.set(
                    &mut write,
                    &anchor_buffer,
                    ListPages {
                        head: block,
                        insert: block,
                    },
                );
                write.commit();
                return block;
            }
        }
        let first_tried = if exists(pages.insert) {
            pages.insert
        } else {
            pages.head
        };
        let mut block = first_tried;
        let mut guard = ChainGuard::new(*self);
        loop {
            guard.step(block);
            let buffer = LockedBuffer::read(rel, block, Lock::Exclusive);
            // SAFETY: pinned and exclusively locked.
            let (room, next) = unsafe {
                check_page(rel, buffer.page(), block, self.kind);
                (
                    free_space(buffer.page()) >= maxalign(tuple.len()),
                    next_page(buffer.page()),
                )
            };
            let mut write = PageWrite::start(rel, logging);
            if room {
                // SAFETY: exclusively locked; there is room.
                unsafe { add_item(write.register(&buffer, false), tuple).expect("the tuple fits") };
                write.commit();
            } else if exists(next) {
                block = next;
                continue;
            } else {
                // The last page is full: chain a new one.
                let new_buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
                // SAFETY: both exclusively locked; the new page is new.
                unsafe {
                    set_next_page(write.register(&buffer, false), new_buffer.block());
                    self.start_page(write.register(&new_buffer, true), tuple);
                }
                block = new_buffer.block();
                write.commit();
            }
            drop(buffer);
            if block != first_tried {
                // Later inserts start where there is room; the anchor is
                // written only when that changes.
                let (anchor_buffer, now) = anchor.lock();
                let mut write = PageWrite::start(rel, logging);
                anchor.set(
                    &mut write,
                    &anchor_buffer,
                    ListPages {
                        insert: block,
                        ..now
                    },
                );
                write.commit();
            }
            return block;
        }
    }

    /// Visits the chain's pages from `head` in order, each pinned and locked
    /// with `lock`, until `visit` returns false; whether it saw them all.
    pub fn for_each_page(
        &self,
        head: u32,
        lock: Lock,
        mut visit: impl FnMut(u32, &LockedBuffer) -> bool,
    ) -> bool {
        let (mut block, mut guard) = (head, ChainGuard::new(*self));
        while exists(block) {
            pgrx::check_for_interrupts!();
            guard.step(block);
            let buffer = LockedBuffer::read(self.rel, block, lock);
            // SAFETY: pinned and locked.
            let next = unsafe {
                check_page(self.rel, buffer.page(), block, self.kind);
                next_page(buffer.page())
            };
            if !visit(block, &buffer) {
                return false;
            }
            block = next;
        }
        true
    }

    /// Calls `visit` with each tuple of the chain from `head` (and where it
    /// is), page by page under a share lock, until it returns false;
    /// whether it saw them all.
    pub fn for_each_tuple(
        &self,
        head: u32,
        mut visit: impl FnMut(u32, u16, &[u8]) -> bool,
    ) -> bool {
        let rel = self.rel;
        self.for_each_page(head, Lock::Share, |block, buffer| {
            let page = buffer.page();
            // SAFETY: pinned and share-locked while its tuples are read.
            (1..=unsafe { port::max_offset(page) }).all(|offset| {
                // SAFETY: as above.
                visit(block, offset, unsafe { item(rel, page, block, offset) })
            })
        })
    }

    /// VACUUM: removes every tuple `keep` rejects, a page at a time, each
    /// page in one WAL record and compacted (nothing refers to a tuple's
    /// place); returns the first page with room for a tuple of `room_for`
    /// bytes, for the anchor's hint, and how many tuples it removed.
    pub fn remove(
        &self,
        head: u32,
        logging: Logging,
        room_for: usize,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> (Option<u32>, usize) {
        let rel = self.rel;
        let (mut first_with_room, mut removed_count) = (None, 0);
        let mut removed: Vec<u16> = Vec::new();
        self.for_each_page(head, Lock::Exclusive, |block, buffer| {
            let mut write = PageWrite::start(rel, logging);
            let page = write.register(buffer, false);
            // SAFETY: exclusively locked; `page` is the page to edit.
            unsafe {
                removed.clear();
                removed.extend(
                    (1..=port::max_offset(page))
                        .filter(|&offset| !keep(item(rel, page, block, offset))),
                );
                removed_count += removed.len();
                if !removed.is_empty() {
                    pg_sys::PageIndexMultiDelete(page, removed.as_mut_ptr(), removed.len() as i32);
                    write.commit();
                }
                if first_with_room.is_none() && free_space(buffer.page()) >= maxalign(room_for) {
                    first_with_room = Some(block);
                }
            }
            true
        });
        (first_with_room, removed_count)
    }

    /// Fills the new page of a build's chain with `tuples`, and chains it to
    /// `next` (INVALID_BLOCK for the last).
    ///
    /// # Safety
    /// `page` is a new page, exclusively locked; the tuples fit (`page::pack_in_order`).
    pub unsafe fn fill_built_page(
        &self,
        page: pg_sys::Page,
        tuples: impl Iterator<Item = impl AsRef<[u8]>>,
        next: u32,
    ) {
        // SAFETY: the caller gives a new, exclusively locked page, and tuples
        // that fit on it.
        unsafe {
            init_page(page, self.kind);
            set_next_page(page, next);
            for tuple in tuples {
                add_item(page, tuple.as_ref()).expect("the plan sized the page to fit");
            }
        }
    }
}

/// A chain that leaves the relation, or is longer than the relation has
/// pages, is corrupt: an ERROR, not a scan that never ends. The relation's
/// size is read again only when a block seems past it (inserts extend it).
struct ChainGuard {
    chain: Chain,
    blocks: u32,
    /// Pages read so far: a chain that comes back to one loops. A page
    /// holds many tuples, so one set insert per page costs nothing.
    seen: std::collections::HashSet<u32>,
}

impl ChainGuard {
    fn new(chain: Chain) -> Self {
        ChainGuard {
            chain,
            blocks: 0,
            seen: Default::default(),
        }
    }

    fn step(&mut self, block: u32) {
        let (rel, name) = (self.chain.rel, self.chain.name);
        if !self.seen.insert(block) {
            corrupted(rel, block, 0, format!("{name}'s chain of pages loops"));
        }
        if block >= self.blocks {
            self.blocks = super::walk::block_count(rel);
            if block >= self.blocks {
                corrupted(
                    rel,
                    block,
                    0,
                    format!("{name}'s chain of pages leaves the index"),
                );
            }
        }
    }
}
