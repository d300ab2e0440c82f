//! An IVF index on pages. Block 0 is the meta page (`IvfMeta`). A trained
//! index has the quantizer of its residual codes (pages of one chunk each,
//! as an hnsw index's neighbor codes), its lists (each a chain of pages of
//! entries: `chain.rs`) and its centers (center pages, one tuple per list,
//! in list order, each naming its list's first page and insert hint). An
//! index with too few rows to train on keeps them whole in the pending list,
//! a chain from the meta page that inserts append to; the backend that
//! trains it writes the trained structure on new pages, moves the rows
//! inserted meanwhile under the meta page's lock and switches the meta page
//! in one record. The pending pages are then retired, never read again.
//!
//! Centers never change once trained (a REINDEX makes a new file), so a
//! backend reads them once per index (`load_trained`).

use super::buffer::{
    add_item, check_page, corrupted, free_space, init_page, item, item_footprint, maxalign,
    page_capacity, Lock, LockedBuffer,
};
use super::chain::{Anchor, Chain};
use super::meta::{change_meta, meta_of, update_meta};
use super::port;
use super::quantizer::{chunks, read_quantizer};
use super::xlog::{Logging, PageWrite};
use crate::ivf::{IvfMetric, ListCodes, ResidualCodes, Rows};
use crate::page::{self, ElementWidth, HeapTid, IvfMeta, ListEntry, ListPages, PendingRow};
use pgrx::pg_sys;
use std::cell::RefCell;
use std::rc::Rc;

fn list_chain(rel: pg_sys::Relation) -> Chain {
    Chain {
        rel,
        kind: page::PAGE_KIND_LIST,
        name: "an IVF list",
    }
}

fn pending_chain(rel: pg_sys::Relation) -> Chain {
    Chain {
        rel,
        kind: page::PAGE_KIND_PENDING,
        name: "the pending list",
    }
}

/// What a backend keeps of a trained index: its codes, its centers and where
/// each list is.
pub struct Trained {
    pub codes: ListCodes,
    /// The centers, flat, widened to float4 (bits as 0.0 and 1.0).
    pub centers: Vec<f32>,
    pub dimensions: usize,
    /// Each list's center tuple: block and offset.
    places: Vec<(u32, u16)>,
    /// Each list's pages as this backend last saw them: the first page
    /// never changes; the insert hint moves as inserts go.
    pages: RefCell<Vec<ListPages>>,
}

impl Trained {
    pub fn lists(&self) -> usize {
        self.places.len()
    }

    pub fn center_rows(&self) -> Rows<'_> {
        Rows::new(&self.centers, self.dimensions)
    }

    pub fn center(&self, list: usize) -> &[f32] {
        self.center_rows().row(list)
    }

    fn head(&self, list: usize) -> u32 {
        self.pages.borrow()[list].head
    }
}

/// An index's oid, its file (relfilenode) and its generation.
type TrainedKey = (pg_sys::Oid, pg_sys::Oid, u32);

thread_local! {
    static LOADED: RefCell<Vec<(TrainedKey, Rc<Trained>)>> = const { RefCell::new(Vec::new()) };
}

const LOADED_INDEXES: usize = 8;

/// The trained state of the index `meta` describes (trained), read once
/// per backend and file. `width` is how the centers are stored.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn load_trained(
    rel: pg_sys::Relation,
    meta: &IvfMeta,
    metric: IvfMetric,
    width: ElementWidth,
) -> Rc<Trained> {
    // SAFETY: an open relation.
    let key = unsafe { ((*rel).rd_id, (*(*rel).rd_rel).relfilenode, meta.generation) };
    if let Some(found) = LOADED.with_borrow(|loaded| {
        loaded
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t.clone())
    }) {
        return found;
    }
    let dimensions = meta.dimensions as usize;
    let codes = if meta.code_bits == 0 {
        ListCodes::Bits { dimensions }
    } else {
        let quantizer = read_quantizer(
            rel,
            meta.first_quantizer_block,
            meta.quantizer_blocks,
            meta.quantizer_bytes,
        );
        ListCodes::Residual(ResidualCodes {
            quantizer,
            metric: metric.code_metric(),
        })
    };
    if codes.stored_bytes() != meta.code_bytes as usize || codes.bits() != meta.code_bits {
        corrupted(
            rel,
            page::META_BLOCK,
            0,
            "the quantizer does not match the meta page",
        );
    }
    let (mut centers, mut places, mut pages) = (Vec::new(), Vec::new(), Vec::new());
    let first = meta.first_center_block;
    for block in first..first.saturating_add(meta.center_blocks) {
        let buffer = LockedBuffer::read(rel, block, Lock::Share);
        let page = buffer.page();
        // SAFETY: pinned and share-locked while its tuples are read.
        unsafe {
            check_page(rel, page, block, page::PAGE_KIND_CENTERS);
            for offset in 1..=port::max_offset(page) {
                let tuple = item(rel, page, block, offset);
                let (list_pages, center) = page::decode_center(tuple, dimensions, width)
                    .unwrap_or_else(|e| corrupted(rel, block, offset, e));
                center.extend_into(&mut centers);
                places.push((block, offset));
                pages.push(list_pages);
            }
        }
    }
    if places.len() != meta.lists as usize {
        corrupted(
            rel,
            first,
            0,
            format!(
                "{} centers, where the meta page says {} lists",
                places.len(),
                meta.lists
            ),
        );
    }
    let trained = Rc::new(Trained {
        codes,
        centers,
        dimensions,
        places,
        pages: RefCell::new(pages),
    });
    LOADED.with_borrow_mut(|loaded| {
        if loaded.len() >= LOADED_INDEXES {
            loaded.remove(0);
        }
        loaded.push((key, trained.clone()));
    });
    trained
}

/// A list's first page and insert hint live in its center tuple.
struct CenterAnchor<'a> {
    rel: pg_sys::Relation,
    trained: &'a Trained,
    list: usize,
}

impl CenterAnchor<'_> {
    fn tuple<'p>(&self, page: pg_sys::Page) -> &'p mut [u8] {
        let (block, offset) = self.trained.places[self.list];
        // SAFETY: the caller holds the center page locked; the tuple is read
        // or written while it does.
        unsafe {
            check_page(self.rel, page, block, page::PAGE_KIND_CENTERS);
            item(self.rel, page, block, offset)
        }
    }
}

impl Anchor for CenterAnchor<'_> {
    fn pages(&self) -> ListPages {
        self.trained.pages.borrow()[self.list]
    }

    fn lock(&self) -> (LockedBuffer, ListPages) {
        let (block, offset) = self.trained.places[self.list];
        let buffer = LockedBuffer::read(self.rel, block, Lock::Exclusive);
        let pages = page::center_pages(self.tuple(buffer.page()))
            .unwrap_or_else(|e| corrupted(self.rel, block, offset, e));
        (buffer, pages)
    }

    fn set(&self, write: &mut PageWrite, buffer: &LockedBuffer, pages: ListPages) {
        let (block, offset) = self.trained.places[self.list];
        let tuple = self.tuple(write.register(buffer, false));
        page::set_list_pages(tuple, pages)
            .unwrap_or_else(|e| corrupted(self.rel, block, offset, e));
        self.trained.pages.borrow_mut()[self.list] = pages;
    }
}

/// Adds `entry` (a list entry) to `list`.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn add_entry(
    rel: pg_sys::Relation,
    trained: &Trained,
    list: usize,
    entry: &[u8],
    logging: Logging,
) {
    let anchor = CenterAnchor { rel, trained, list };
    let block = list_chain(rel).add(&anchor, entry, logging);
    // Later inserts of this backend start where this one found room.
    trained.pages.borrow_mut()[list].insert = block;
}

/// Calls `visit` with each entry of `list`, page by page under a share
/// lock, until it returns false; whether it saw them all.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn for_each_entry(
    rel: pg_sys::Relation,
    trained: &Trained,
    list: usize,
    mut visit: impl FnMut(ListEntry) -> bool,
) -> bool {
    let code_bytes = trained.codes.stored_bytes();
    list_chain(rel).for_each_tuple(trained.head(list), |block, offset, tuple| {
        visit(
            page::decode_entry(tuple, code_bytes)
                .unwrap_or_else(|e| corrupted(rel, block, offset, e)),
        )
    })
}

/// The pages of `list`, first to last: (block, entries).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn list_page_counts(rel: pg_sys::Relation, trained: &Trained, list: usize) -> Vec<(u32, u16)> {
    let mut pages = Vec::new();
    list_chain(rel).for_each_page(trained.head(list), Lock::Share, |block, buffer| {
        // SAFETY: pinned and share-locked.
        pages.push((block, unsafe { port::max_offset(buffer.page()) }));
        true
    });
    pages
}

/// VACUUM: removes the entries of `list` whose heap row `keep` rejects, and
/// points inserts at the list's first page with room. Returns (kept, removed).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn remove_entries(
    rel: pg_sys::Relation,
    trained: &Trained,
    list: usize,
    logging: Logging,
    mut keep: impl FnMut(HeapTid) -> bool,
) -> (usize, usize) {
    let code_bytes = trained.codes.stored_bytes();
    let mut kept = 0;
    let (first_with_room, removed) = list_chain(rel).remove(
        trained.head(list),
        logging,
        page::entry_size(code_bytes, 0),
        |tuple| {
            // A damaged entry is reported by the walk that reads it; VACUUM keeps it.
            let stays = match page::decode_entry(tuple, code_bytes) {
                Ok(entry) => keep(entry.tid),
                Err(_) => true,
            };
            kept += stays as usize;
            stays
        },
    );
    let anchor = CenterAnchor { rel, trained, list };
    if let Some(room) = first_with_room.filter(|&b| b != anchor.pages().insert) {
        let (buffer, now) = anchor.lock();
        let mut write = PageWrite::start(rel, logging);
        anchor.set(
            &mut write,
            &buffer,
            ListPages {
                insert: room,
                ..now
            },
        );
        write.commit();
    }
    (kept, removed)
}

/// Adds a pending row to an untrained index, under the meta page's lock;
/// returns how many rows are pending now, or None when the index was
/// trained meanwhile (the row then belongs in a list).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn add_pending(rel: pg_sys::Relation, row: &[u8], logging: Logging) -> Option<u32> {
    let meta_buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Exclusive);
    let meta: IvfMeta = meta_of(rel, &meta_buffer);
    if meta.trained {
        return None;
    }
    let mut write = PageWrite::start(rel, logging);
    // Kept until the write commits: it holds them registered.
    let (mut tail_buffer, mut new_buffer) = (None, None);
    let mut pages = (meta.pending_head, meta.pending_tail);
    let mut added = false;
    if pages.1 != page::INVALID_BLOCK {
        let tail = LockedBuffer::read(rel, pages.1, Lock::Exclusive);
        // SAFETY: pinned and exclusively locked.
        let room = unsafe {
            check_page(rel, tail.page(), pages.1, page::PAGE_KIND_PENDING);
            free_space(tail.page()) >= maxalign(row.len())
        };
        let page = write.register(&tail, false);
        if room {
            // SAFETY: the working copy of the locked tail page; there is room.
            unsafe { add_item(page, row).expect("the row fits") };
            added = true;
        }
        tail_buffer = Some((tail, page));
    }
    if !added {
        let buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
        let block = buffer.block();
        let page = write.register(&buffer, true);
        // SAFETY: a new page, exclusively locked.
        unsafe {
            init_page(page, page::PAGE_KIND_PENDING);
            add_item(page, row).expect("a row fits an empty page");
        }
        if let Some((_, tail_page)) = tail_buffer.as_ref() {
            // SAFETY: the working copy of the locked tail page, checked above.
            unsafe { super::chain::set_next_page(*tail_page, block) };
        } else {
            pages.0 = block;
        }
        pages.1 = block;
        new_buffer = Some(buffer);
    }
    let mut rows = 0;
    change_meta(&mut write, &meta_buffer, |stored: &mut IvfMeta| {
        stored.pending_head = pages.0;
        stored.pending_tail = pages.1;
        stored.pending_rows += 1;
        stored.rows += 1;
        rows = stored.pending_rows;
    });
    write.commit();
    drop((tail_buffer, new_buffer));
    Some(rows)
}

/// Where the pending list ended when it was read: its last page and that
/// page's last offset. Rows are only ever appended after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingEnd {
    pub block: u32,
    pub offset: u16,
}

/// Calls `visit` with each pending row from `from` on (the list's first
/// page, or past an end read before), page by page under a share lock,
/// until it returns false; returns where the list ends.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn for_each_pending(
    rel: pg_sys::Relation,
    meta: &IvfMeta,
    width: ElementWidth,
    after: Option<PendingEnd>,
    mut visit: impl FnMut(PendingRow) -> bool,
) -> PendingEnd {
    let dimensions = meta.dimensions as usize;
    let mut end = after.unwrap_or(PendingEnd {
        block: meta.pending_head,
        offset: 0,
    });
    let start = end;
    let mut go_on = true;
    pending_chain(rel).for_each_page(start.block, Lock::Share, |block, buffer| {
        let page = buffer.page();
        let first = if block == start.block {
            start.offset + 1
        } else {
            1
        };
        // SAFETY: pinned and share-locked while its rows are read.
        let last = unsafe { port::max_offset(page) };
        for offset in first..=last {
            // SAFETY: as above.
            let tuple = unsafe { item(rel, page, block, offset) };
            let row = page::decode_pending(tuple, dimensions, width)
                .unwrap_or_else(|e| corrupted(rel, block, offset, e));
            if !visit(row) {
                go_on = false;
                break;
            }
        }
        end = PendingEnd {
            block,
            offset: last.max(if block == start.block {
                start.offset
            } else {
                0
            }),
        };
        go_on
    });
    end
}

/// The heavyweight lock tag that keeps training and VACUUM's pass over the
/// pending list apart: the trainer reads the list up to an end and later
/// takes the rows past it, and VACUUM compacting pages would move them.
const TRAIN_LOCK: u32 = 2;

/// Runs `train` if no other backend is training the index; None if one is.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn try_training<R>(rel: pg_sys::Relation, train: impl FnOnce() -> R) -> Option<R> {
    // SAFETY: a lock tag on an open index; an ERROR releases it with the transaction.
    let got = unsafe { pg_sys::ConditionalLockPage(rel, TRAIN_LOCK, pg_sys::ExclusiveLock as i32) };
    if !got {
        return None;
    }
    let result = train();
    // SAFETY: taken above.
    unsafe { pg_sys::UnlockPage(rel, TRAIN_LOCK, pg_sys::ExclusiveLock as i32) };
    Some(result)
}

/// VACUUM: removes the pending rows `keep` rejects (waiting for a training
/// under way to end first). Returns (kept, removed).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn remove_pending(
    rel: pg_sys::Relation,
    logging: Logging,
    mut keep: impl FnMut(HeapTid) -> bool,
) -> (usize, usize) {
    // SAFETY: as in `try_training`, waiting.
    unsafe { pg_sys::LockPage(rel, TRAIN_LOCK, pg_sys::ExclusiveLock as i32) };
    let meta: IvfMeta = meta_of(rel, &LockedBuffer::read(rel, page::META_BLOCK, Lock::Share));
    let mut kept = 0;
    let removed = if meta.trained {
        0
    } else {
        let (_, removed) = pending_chain(rel).remove(meta.pending_head, logging, 0, |tuple| {
            let stays = match page::pending_tid(tuple) {
                Ok(tid) => keep(tid),
                Err(_) => true,
            };
            kept += stays as usize;
            stays
        });
        if removed > 0 {
            update_meta(rel, logging, |stored: &mut IvfMeta| {
                stored.pending_rows = stored.pending_rows.saturating_sub(removed as u32);
            });
        }
        removed
    };
    // SAFETY: taken above.
    unsafe { pg_sys::UnlockPage(rel, TRAIN_LOCK, pg_sys::ExclusiveLock as i32) };
    (kept, removed)
}

/// Appends a page to the index, formatted by `fill`, in its own write.
fn append_page(rel: pg_sys::Relation, logging: Logging, fill: impl FnOnce(pg_sys::Page)) -> u32 {
    let buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
    let mut write = PageWrite::start(rel, logging);
    fill(write.register(&buffer, true));
    write.commit();
    buffer.block()
}

/// Writes the quantizer's bytes on new pages; returns (first block, pages).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn write_quantizer(rel: pg_sys::Relation, logging: Logging, bytes: &[u8]) -> (u32, u32) {
    let mut first = page::INVALID_BLOCK;
    let mut count = 0;
    for chunk in chunks(bytes) {
        let block = append_page(rel, logging, |page| {
            // SAFETY: a new page, exclusively locked; a chunk fits a page.
            unsafe {
                init_page(page, page::PAGE_KIND_CODES);
                assert_eq!(add_item(page, chunk), Some(1), "a chunk fills one page");
            }
        });
        if count == 0 {
            first = block;
        }
        assert_eq!(
            block,
            first + count,
            "the quantizer's pages are consecutive"
        );
        count += 1;
    }
    (first, count)
}

/// Writes the center tuples (`centers` flat, each list's `pages`) on new
/// pages, in list order; returns (first block, pages).
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn write_centers(
    rel: pg_sys::Relation,
    logging: Logging,
    centers: Rows,
    pages: &[ListPages],
    width: ElementWidth,
) -> (u32, u32) {
    let tuples: Vec<Vec<u8>> = (0..centers.len())
        .map(|c| page::encode_center(pages[c], centers.row(c), width))
        .collect();
    let lengths: Vec<usize> = tuples.iter().map(Vec::len).collect();
    let (plan, _) = page::pack_in_order(&lengths, page_capacity(), item_footprint, 0);
    let mut first = page::INVALID_BLOCK;
    for (i, members) in plan.iter().enumerate() {
        pgrx::check_for_interrupts!();
        let block = append_page(rel, logging, |page| {
            // SAFETY: a new page, exclusively locked; the plan sized it.
            unsafe {
                init_page(page, page::PAGE_KIND_CENTERS);
                for &m in members {
                    add_item(page, &tuples[m]).expect("the plan sized the page to fit");
                }
            }
        });
        if i == 0 {
            first = block;
        }
        assert_eq!(block, first + i as u32, "the center pages are consecutive");
    }
    (first, plan.len() as u32)
}

/// Writes new lists, entry by entry in any order, a page at a time: each
/// list's entries wait in memory until they fill a page, which is then
/// appended and chained after the list's last one. Memory: a page per list.
pub struct ListWriter {
    rel: pg_sys::Relation,
    logging: Logging,
    lists: Vec<ListTail>,
}

#[derive(Default)]
struct ListTail {
    pages: Option<ListPages>,
    waiting: Vec<Vec<u8>>,
    footprint: usize,
}

impl ListWriter {
    // `rel` is an open relation: see `storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn new(rel: pg_sys::Relation, logging: Logging, lists: usize) -> Self {
        ListWriter {
            rel,
            logging,
            lists: (0..lists).map(|_| ListTail::default()).collect(),
        }
    }

    pub fn add(&mut self, list: usize, entry: Vec<u8>) {
        let need = item_footprint(entry.len());
        if self.lists[list].footprint + need > page_capacity() {
            self.flush(list);
        }
        let tail = &mut self.lists[list];
        tail.footprint += need;
        tail.waiting.push(entry);
    }

    /// Writes the waiting entries of `list` on a new page, chained after its last.
    fn flush(&mut self, list: usize) {
        let (rel, logging) = (self.rel, self.logging);
        let tail = &mut self.lists[list];
        let buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
        let block = buffer.block();
        let mut write = PageWrite::start(rel, logging);
        let page = write.register(&buffer, true);
        // SAFETY: a new page, exclusively locked; the entries fit (`add`).
        unsafe {
            init_page(page, page::PAGE_KIND_LIST);
            for entry in &tail.waiting {
                add_item(page, entry).expect("the entries fit the page");
            }
        }
        let previous = tail
            .pages
            .map(|p| LockedBuffer::read(rel, p.insert, Lock::Exclusive));
        if let Some(previous) = previous.as_ref() {
            let page = write.register(previous, false);
            // SAFETY: the working copy of the list's last page, locked; a list page.
            unsafe { super::chain::set_next_page(page, block) };
        }
        write.commit();
        drop(previous);
        tail.pages = Some(ListPages {
            head: tail.pages.map_or(block, |p| p.head),
            insert: block,
        });
        tail.waiting.clear();
        tail.footprint = 0;
    }

    /// Writes what still waits; every list gets a page, empty or not, so a
    /// list's first page never changes. Returns each list's pages.
    pub fn finish(mut self) -> Vec<ListPages> {
        for list in 0..self.lists.len() {
            pgrx::check_for_interrupts!();
            if !self.lists[list].waiting.is_empty() || self.lists[list].pages.is_none() {
                self.flush(list);
            }
        }
        self.lists
            .iter()
            .map(|t| t.pages.expect("flushed above"))
            .collect()
    }
}

/// The meta page's lock, held while a trainer moves the rows inserted since
/// it read the pending list, and then switches the index to trained.
pub struct MetaLock {
    buffer: LockedBuffer,
}

// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn lock_meta(rel: pg_sys::Relation) -> (MetaLock, IvfMeta) {
    let buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Exclusive);
    let meta = meta_of(rel, &buffer);
    (MetaLock { buffer }, meta)
}

impl MetaLock {
    /// Changes the meta page in one record, and lets go of it.
    pub fn change(
        self,
        rel: pg_sys::Relation,
        logging: Logging,
        change: impl FnOnce(&mut IvfMeta),
    ) {
        let mut write = PageWrite::start(rel, logging);
        change_meta(&mut write, &self.buffer, change);
        write.commit();
    }
}

/// Rows the index holds: its pending rows, or every list's entries.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn count_rows(rel: pg_sys::Relation, metric: IvfMetric, width: ElementWidth) -> u64 {
    let meta = super::meta::read_ivf_meta(rel);
    let mut rows = 0u64;
    if !meta.trained {
        for_each_pending(rel, &meta, width, None, |_| {
            rows += 1;
            true
        });
        return rows;
    }
    let trained = load_trained(rel, &meta, metric, width);
    for list in 0..trained.lists() {
        for (_, entries) in list_page_counts(rel, &trained, list) {
            rows += entries as u64;
        }
    }
    rows
}
