//! Buffer guards and page access. Guards unlock and unpin on drop, also when
//! an ERROR unwinds through Rust (that happens before the transaction aborts,
//! while the resource owner still tracks the pins).

use super::port;
use crate::page;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// A pinned and content-locked buffer.
pub struct LockedBuffer {
    buffer: pg_sys::Buffer,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Share,
    Exclusive,
}

impl Lock {
    fn mode(self) -> i32 {
        match self {
            Lock::Share => pg_sys::BUFFER_LOCK_SHARE as i32,
            Lock::Exclusive => pg_sys::BUFFER_LOCK_EXCLUSIVE as i32,
        }
    }
}

// `rel` is an open relation: see `storage` (why a Relation argument is not unsafe).
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn read_buffer(
    rel: pg_sys::Relation,
    fork: pg_sys::ForkNumber::Type,
    block: u32,
) -> pg_sys::Buffer {
    // SAFETY: rel is an open relation; ReadBufferExtended raises an ERROR for a bad block.
    unsafe {
        pg_sys::ReadBufferExtended(
            rel,
            fork,
            block,
            pg_sys::ReadBufferMode::RBM_NORMAL,
            std::ptr::null_mut(),
        )
    }
}

impl LockedBuffer {
    // `rel` is an open relation: see `storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn read(rel: pg_sys::Relation, block: u32, lock: Lock) -> Self {
        // An index always has its meta page: without it the file was
        // truncated, which PostgreSQL would report as a read error.
        if block == page::META_BLOCK
            // SAFETY: rel is an open relation; the call only reads its size.
            && unsafe {
                pg_sys::RelationGetNumberOfBlocksInFork(rel, pg_sys::ForkNumber::MAIN_FORKNUM)
            } == 0
        {
            corrupted(
                rel,
                block,
                0,
                "the index file is empty: it has no meta page",
            );
        }
        let buffer = read_buffer(rel, pg_sys::ForkNumber::MAIN_FORKNUM, block);
        // SAFETY: we hold a pin on buffer.
        unsafe { pg_sys::LockBuffer(buffer, lock.mode()) };
        LockedBuffer { buffer }
    }

    /// A new, exclusively locked page at the end of `fork`, not yet initialized.
    // `rel` is an open relation: see `storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn extend(rel: pg_sys::Relation, fork: pg_sys::ForkNumber::Type) -> Self {
        // SAFETY: extension is serialized by the relation extension lock, as Postgres requires.
        unsafe {
            pg_sys::LockRelationForExtension(rel, pg_sys::ExclusiveLock as i32);
            let buffer = read_buffer(rel, fork, pg_sys::InvalidBlockNumber); // P_NEW
            pg_sys::LockBuffer(buffer, Lock::Exclusive.mode());
            pg_sys::UnlockRelationForExtension(rel, pg_sys::ExclusiveLock as i32);
            LockedBuffer { buffer }
        }
    }

    pub fn buffer(&self) -> pg_sys::Buffer {
        self.buffer
    }

    pub fn page(&self) -> pg_sys::Page {
        // SAFETY: the buffer is pinned.
        unsafe { pg_sys::BufferGetPage(self.buffer) }
    }

    pub fn block(&self) -> u32 {
        // SAFETY: the buffer is pinned.
        unsafe { pg_sys::BufferGetBlockNumber(self.buffer) }
    }
}

impl Drop for LockedBuffer {
    fn drop(&mut self) {
        // SAFETY: we hold the lock and the pin taken in read()/extend().
        unsafe { pg_sys::UnlockReleaseBuffer(self.buffer) };
    }
}

/// Usable bytes of an empty page: all but the page header and our special space.
pub fn page_capacity() -> usize {
    // size_of PageHeaderData is SizeOfPageHeaderData: pd_linp is a zero-sized flexible array.
    pg_sys::BLCKSZ as usize
        - std::mem::size_of::<pg_sys::PageHeaderData>()
        - maxalign(page::SPECIAL_SIZE)
}

pub fn maxalign(len: usize) -> usize {
    (len + 7) & !7
}

/// Page bytes an item takes: its aligned data and its line pointer.
pub fn item_footprint(len: usize) -> usize {
    maxalign(len) + std::mem::size_of::<pg_sys::ItemIdData>()
}

/// Formats `page` as an empty page of ours.
///
/// # Safety
/// `page` must point to a writable BLCKSZ page.
pub unsafe fn init_page(page: pg_sys::Page, kind: u8) {
    // SAFETY: the caller gives a writable BLCKSZ page; PageInit puts the
    // special space of SPECIAL_SIZE bytes inside it, where we copy ours.
    unsafe {
        pg_sys::PageInit(page, pg_sys::BLCKSZ as usize, page::SPECIAL_SIZE);
        let special = port::special(page);
        std::ptr::copy_nonoverlapping(
            page::encode_special(kind).as_ptr(),
            special.cast(),
            page::SPECIAL_SIZE,
        );
    }
}

/// The kind of a page of ours, None for a page of anyone else's.
///
/// # Safety
/// `page` must point to a pinned, locked page.
pub unsafe fn page_kind(page: pg_sys::Page) -> Option<u8> {
    // SAFETY: the caller gives a pinned, locked BLCKSZ page, so its header
    // can be read; the special space is read only once checked to lie inside.
    unsafe {
        let special_offset = (*page.cast::<pg_sys::PageHeaderData>()).pd_special as usize;
        if special_offset + page::SPECIAL_SIZE > pg_sys::BLCKSZ as usize {
            return None;
        }
        page::special_kind(std::slice::from_raw_parts(
            page.cast::<u8>().add(special_offset),
            page::SPECIAL_SIZE,
        ))
    }
}

/// Checks a page's special space, so that a page of another index is never
/// read as ours.
///
/// # Safety
/// `page` must point to a pinned, locked page.
pub unsafe fn check_page(rel: pg_sys::Relation, page: pg_sys::Page, block: u32, kind: u8) {
    // SAFETY: as in `page_kind`: the caller's page is pinned and locked, and
    // the special space is read only once checked to lie inside it.
    let special = unsafe {
        let header = page.cast::<pg_sys::PageHeaderData>();
        let special_offset = (*header).pd_special as usize;
        if special_offset + page::SPECIAL_SIZE > pg_sys::BLCKSZ as usize {
            corrupted(rel, block, 0, "special space out of bounds");
        }
        std::slice::from_raw_parts(page.cast::<u8>().add(special_offset), page::SPECIAL_SIZE)
    };
    if page::special_kind(special) != Some(kind) {
        if let Some(whose) = page::foreign_index(special) {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "index \"{}\" was built by {whose}, whose pages Quiver does not read",
                    relation_name(rel)
                ),
                format!(
                    "REINDEX INDEX \"{}\" rebuilds it with Quiver.",
                    relation_name(rel)
                )
            );
        }
        corrupted(rel, block, 0, "page has the wrong page id or kind");
    }
}

/// The bytes of the item at `offset` on `page`.
///
/// # Safety
/// `page` must be pinned and locked for as long as the slice is used.
pub unsafe fn item<'a>(
    rel: pg_sys::Relation,
    page: pg_sys::Page,
    block: u32,
    offset: u16,
) -> &'a mut [u8] {
    // SAFETY: the caller's promise, which `slot` needs.
    unsafe { slot(rel, page, block, offset) }.unwrap_or_else(|| {
        corrupted(
            rel,
            block,
            offset,
            "line pointer out of range or not in use",
        )
    })
}

/// The tuple at `offset` if it is of `kind`; None when the slot is out of
/// range, unused, or holds another kind of tuple. VACUUM frees the nodes of
/// deleted rows and inserts reuse their slots, so a scan may find a node it
/// saw earlier gone; it skips it. A tuple of an unknown kind is still corrupt.
///
/// # Safety
/// `page` must be pinned and locked.
pub unsafe fn item_of_kind<'a>(
    rel: pg_sys::Relation,
    page: pg_sys::Page,
    block: u32,
    offset: u16,
    kind: u8,
) -> Option<&'a mut [u8]> {
    // SAFETY: the caller's promise, which `slot` needs.
    let tuple = unsafe { slot(rel, page, block, offset) }?;
    match tuple.first() {
        Some(&k) if k == kind => Some(tuple),
        Some(k) if page::TUPLE_KINDS.contains(k) => None,
        _ => corrupted(rel, block, offset, "unknown tuple kind"),
    }
}

/// The item at `offset`, or None when the offset is out of range or its line
/// pointer is not in use.
///
/// # Safety
/// As `item`.
#[inline]
unsafe fn slot<'a>(
    rel: pg_sys::Relation,
    page: pg_sys::Page,
    block: u32,
    offset: u16,
) -> Option<&'a mut [u8]> {
    // SAFETY: the caller's page is pinned and locked; `offset` is checked
    // against the line pointer array, and the item's bytes against the page.
    unsafe {
        if offset == 0 || offset > port::max_offset(page) {
            return None;
        }
        let (start, flags, len) = port::line_pointer(page, offset);
        if flags != pg_sys::LP_NORMAL {
            return None;
        }
        if start + len > pg_sys::BLCKSZ as usize {
            corrupted(rel, block, offset, "item extends past the page");
        }
        Some(std::slice::from_raw_parts_mut(
            page.cast::<u8>().add(start),
            len,
        ))
    }
}

/// Adds `bytes` to `page`, returning its offset, or None if it does not fit.
///
/// # Safety
/// `page` must be locked exclusively (or be a GenericXLog working copy).
pub unsafe fn add_item(page: pg_sys::Page, bytes: &[u8]) -> Option<u16> {
    // SAFETY: the caller holds the page exclusively; PageAddItemExtended
    // copies bytes.len() bytes from `bytes` and checks that they fit.
    let offset = unsafe {
        pg_sys::PageAddItemExtended(
            page,
            bytes.as_ptr() as pg_sys::Item,
            bytes.len(),
            pg_sys::InvalidOffsetNumber,
            0,
        )
    };
    (offset != pg_sys::InvalidOffsetNumber).then_some(offset)
}

/// # Safety
/// `page` must be pinned and locked.
pub unsafe fn free_space(page: pg_sys::Page) -> usize {
    // SAFETY: the caller's page is pinned and locked; this reads its header.
    unsafe { pg_sys::PageGetFreeSpace(page) }
}

// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn relation_name(rel: pg_sys::Relation) -> String {
    // SAFETY: rel is an open relation with a valid rd_rel.
    unsafe { std::ffi::CStr::from_ptr((*(*rel).rd_rel).relname.data.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

pub fn corrupted(
    rel: pg_sys::Relation,
    block: u32,
    offset: u16,
    what: impl std::fmt::Display,
) -> ! {
    let name = relation_name(rel);
    pgrx::pg_sys::panic::ErrorReport::new(
        PgSqlErrorCode::ERRCODE_INDEX_CORRUPTED,
        format!("index \"{name}\" is corrupted at block {block}, item {offset}: {what}"),
        function_name!(),
    )
    .set_hint(format!(
        "REINDEX INDEX \"{name}\" rebuilds it from the table."
    ))
    .report(PgLogLevel::ERROR);
    unreachable!("an ERROR does not return")
}

/// Pins held across the reads of one scan or insert, so that revisiting a
/// page costs no shared buffer table lookup. Bounded; beyond the bound,
/// pages are pinned per access.
pub struct PinCache {
    rel: pg_sys::Relation,
    /// The kind of page the cached blocks must be (`page::PAGE_KIND_*`).
    kind: u8,
    /// Each pinned block's buffer, and whether its page kind has been checked.
    pins: std::collections::HashMap<
        u32,
        (pg_sys::Buffer, bool),
        std::hash::BuildHasherDefault<crate::search::IdHasher>,
    >,
    /// The relation's length as last read: node ids are read from pages, so
    /// a block past it is corruption (not PostgreSQL's read error), unless
    /// the index has grown since.
    known_blocks: u32,
    /// Whether dropping the cache releases its pins. False for scans, whose
    /// state may be freed after an ERROR, when the resource owner has already
    /// released the pins; they call `release_all` from amendscan instead.
    release_on_drop: bool,
}

const MAX_CACHED_PINS: usize = 4096;

/// Raw LockBuffer, without pgrx's FFI guard (a setjmp per call), for the
/// hottest path: every page a search reads is locked and unlocked once. It
/// cannot raise an ERROR with what we pass: a valid, pinned buffer, one of
/// the three lock modes, and at most two LWLocks held by us at a time.
/// ReleaseBuffer likewise cannot raise one for a buffer this backend pinned,
/// and a scan releases hundreds at its end.
mod unguarded {
    extern "C-unwind" {
        pub fn LockBuffer(buffer: pgrx::pg_sys::Buffer, mode: std::ffi::c_int);
        pub fn ReleaseBuffer(buffer: pgrx::pg_sys::Buffer);
    }
}

fn lock_buffer(buffer: pg_sys::Buffer, mode: i32) {
    // SAFETY: see `unguarded`; the callers hold a pin on `buffer`.
    unsafe { unguarded::LockBuffer(buffer, mode) }
}

thread_local! {
    /// Where blocks of our indexes were last found in shared buffers. A later
    /// scan pins them with ReadRecentBuffer, which checks the guess, instead
    /// of a lookup in the shared buffer mapping table.
    static RECENT_BUFFERS: std::cell::RefCell<std::collections::HashMap<(u32, u32), pg_sys::Buffer,
        std::hash::BuildHasherDefault<crate::search::IdHasher>>> = Default::default();
}

const MAX_RECENT_BUFFERS: usize = 1 << 20;

#[cfg(feature = "pg15")]
fn file_of(rel: pg_sys::Relation) -> (pg_sys::RelFileNode, u32) {
    // SAFETY: rel is open.
    let node = unsafe { (*rel).rd_node };
    (node, node.relNode.to_u32())
}

#[cfg(feature = "pg16")]
fn file_of(rel: pg_sys::Relation) -> (pg_sys::RelFileLocator, u32) {
    // SAFETY: rel is open.
    let locator = unsafe { (*rel).rd_locator };
    (locator, locator.relNumber.to_u32())
}

/// Pins `block` of the main fork, trying where it was found last time first.
pub fn read_buffer_recent(rel: pg_sys::Relation, block: u32) -> pg_sys::Buffer {
    let (file, key) = file_of(rel);
    let guess = RECENT_BUFFERS.with_borrow(|recent| recent.get(&(key, block)).copied());
    if let Some(buffer) = guess {
        // SAFETY: ReadRecentBuffer checks that the buffer holds this block before pinning it.
        if unsafe {
            pg_sys::ReadRecentBuffer(file, pg_sys::ForkNumber::MAIN_FORKNUM, block, buffer)
        } {
            return buffer;
        }
    }
    let buffer = read_buffer(rel, pg_sys::ForkNumber::MAIN_FORKNUM, block);
    RECENT_BUFFERS.with_borrow_mut(|recent| {
        if recent.len() >= MAX_RECENT_BUFFERS {
            recent.clear();
        }
        recent.insert((key, block), buffer);
    });
    buffer
}

impl PinCache {
    /// A cache of pins on pages of `kind`.
    pub fn new(rel: pg_sys::Relation, kind: u8, release_on_drop: bool) -> Self {
        let mut pins: std::collections::HashMap<_, _, _> = Default::default();
        pins.reserve(512);
        PinCache {
            rel,
            kind,
            pins,
            known_blocks: 0,
            release_on_drop,
        }
    }

    /// Runs `f` on `block`'s page under a content lock. The first time a
    /// block is used its special space is checked: a node id read from a
    /// corrupted tuple must not make another kind of page read as this one.
    pub fn with_page<R>(&mut self, block: u32, lock: Lock, f: impl FnOnce(pg_sys::Page) -> R) -> R {
        let (buffer, checked) = match self.pins.get(&block) {
            Some(&pinned) => pinned,
            None => (self.pin_new(block), false),
        };
        struct Held {
            buffer: pg_sys::Buffer,
        }
        impl Drop for Held {
            fn drop(&mut self) {
                lock_buffer(self.buffer, pg_sys::BUFFER_LOCK_UNLOCK as i32);
            }
        }
        lock_buffer(buffer, lock.mode());
        let held = Held { buffer };
        // SAFETY: `buffer` is pinned (by this cache) and now locked.
        let page = unsafe { pg_sys::BufferGetPage(buffer) };
        if !checked {
            // SAFETY: pinned and locked.
            unsafe { check_page(self.rel, page, block, self.kind) };
            self.pins.insert(block, (buffer, true));
        }
        let result = f(page);
        drop(held);
        result
    }

    /// Pins `block`, without locking it. A full cache starts over (deep
    /// iterative scans touch more pages than it holds), so it never fails.
    pub fn pin(&mut self, block: u32) -> Option<pg_sys::Buffer> {
        match self.pins.get(&block) {
            Some(&(buffer, _)) => Some(buffer),
            None => Some(self.pin_new(block)),
        }
    }

    fn pin_new(&mut self, block: u32) -> pg_sys::Buffer {
        if self.pins.len() >= MAX_CACHED_PINS {
            self.release_all();
        }
        if block >= self.known_blocks {
            // SAFETY: an open relation.
            self.known_blocks = unsafe {
                pg_sys::RelationGetNumberOfBlocksInFork(self.rel, pg_sys::ForkNumber::MAIN_FORKNUM)
            };
            if block >= self.known_blocks {
                corrupted(
                    self.rel,
                    block,
                    0,
                    format!(
                        "a node id points past the end of the index ({} blocks)",
                        self.known_blocks
                    ),
                );
            }
        }
        let buffer = read_buffer_recent(self.rel, block);
        self.pins.insert(block, (buffer, false));
        buffer
    }

    pub fn release_all(&mut self) {
        for (_, (buffer, _)) in self.pins.drain() {
            // SAFETY: each cached buffer holds one pin of ours; see `unguarded`.
            unsafe { unguarded::ReleaseBuffer(buffer) };
        }
    }
}

impl Drop for PinCache {
    fn drop(&mut self) {
        if self.release_on_drop {
            self.release_all();
        }
    }
}

pub use crate::kernels::prefetch;

/// The most line pointers that fit on a page after its header.
const MAX_LINE_POINTERS: usize = (pg_sys::BLCKSZ as usize
    - std::mem::offset_of!(pg_sys::PageHeaderData, pd_linp))
    / std::mem::size_of::<pg_sys::ItemIdData>();

/// Where the item at `offset` probably is on a pinned but unlocked page, to
/// prefetch it: read without the content lock, so the answer is only a hint,
/// checked to lie within the page.
///
/// # Safety
/// `page` must be a pinned page.
pub unsafe fn item_hint(page: pg_sys::Page, offset: u16) -> Option<(*const u8, usize)> {
    // An offset read from a corrupted tuple may be any number: its line
    // pointer would lie past the page.
    if offset == 0 || offset as usize > MAX_LINE_POINTERS {
        return None;
    }
    // SAFETY: the caller's page is pinned, so its BLCKSZ bytes stay mapped;
    // the line pointer of an offset up to MAX_LINE_POINTERS lies inside them,
    // and a hint that would point past the page is not returned. Without the
    // lock another backend may be writing the word: one aligned volatile load
    // of it, as C's unlocked reads of pages, gives old or new bits, and only
    // a prefetch address comes of them.
    unsafe {
        let line_pointer = port::item_id(page, offset);
        let raw = std::ptr::read_volatile(line_pointer.cast::<u32>());
        // ItemIdData: lp_off:15, lp_flags:2, lp_len:15
        let (start, len) = ((raw & 0x7FFF) as usize, (raw >> 17) as usize);
        (start + len <= pg_sys::BLCKSZ as usize && len > 0)
            .then(|| (page.cast::<u8>().add(start).cast_const(), len))
    }
}
