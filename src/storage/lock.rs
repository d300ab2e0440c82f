//! The index's heavyweight locks, taken on lock tags (block numbers no page
//! has), not on pages: the protocol that lets inserts, scans and VACUUM run
//! at once. Shared by every index type that walks a structure VACUUM edits.

use pgrx::pg_sys;

/// Heavyweight page locks (lock tags, not page reads). Inserts hold the
/// insert lock shared, and change each neighbor list only if no other did
/// meanwhile (`hnsw::GraphMut::replace_neighbors`); one that moves the entry
/// point holds it exclusively, and so does VACUUM for each change it makes to
/// the links, so that it works alone. Scans hold the scan lock shared
/// while they walk the graph; VACUUM takes it exclusively, and lets go at
/// once, before it frees nodes, to wait for the walks that may still start
/// from a freed entry point. An ERROR releases both with the transaction.
const INSERT_LOCK: u32 = 0;
const SCAN_LOCK: u32 = 1;

fn lock_page(index: pg_sys::Relation, tag: u32, mode: u32) {
    // SAFETY: a lock tag on an open index.
    unsafe { pg_sys::LockPage(index, tag, mode as i32) };
}

fn unlock_page(index: pg_sys::Relation, tag: u32, mode: u32) {
    // SAFETY: a lock tag this backend holds.
    unsafe { pg_sys::UnlockPage(index, tag, mode as i32) };
}

fn with_page_lock<R>(index: pg_sys::Relation, tag: u32, mode: u32, f: impl FnOnce() -> R) -> R {
    lock_page(index, tag, mode);
    let result = f();
    unlock_page(index, tag, mode);
    result
}

pub fn with_insert_lock<R>(index: pg_sys::Relation, f: impl FnOnce() -> R) -> R {
    with_page_lock(index, INSERT_LOCK, pg_sys::ExclusiveLock, f)
}

pub fn with_insert_lock_shared<R>(index: pg_sys::Relation, f: impl FnOnce() -> R) -> R {
    with_page_lock(index, INSERT_LOCK, pg_sys::ShareLock, f)
}

pub fn with_scan_lock<R>(index: pg_sys::Relation, f: impl FnOnce() -> R) -> R {
    with_page_lock(index, SCAN_LOCK, pg_sys::ShareLock, f)
}

/// The insert lock held across a series of short changes and let go once
/// it has been held for `HOLD`: VACUUM makes thousands of changes, and
/// taking the lock for each would queue it behind every waiting insert.
pub struct InsertLockBatch {
    index: pg_sys::Relation,
    since: Option<std::time::Instant>,
}

impl InsertLockBatch {
    const HOLD: std::time::Duration = std::time::Duration::from_millis(20);

    pub fn new(index: pg_sys::Relation) -> Self {
        InsertLockBatch { index, since: None }
    }

    pub fn run(&mut self, change: &mut dyn FnMut()) {
        if self.since.is_none() {
            lock_page(self.index, INSERT_LOCK, pg_sys::ExclusiveLock);
            self.since = Some(std::time::Instant::now());
        }
        change();
        if self
            .since
            .is_some_and(|since| since.elapsed() >= Self::HOLD)
        {
            self.release();
        }
    }

    /// Lets go of the lock (an ERROR also does, with the transaction).
    pub fn release(&mut self) {
        if self.since.take().is_some() {
            unlock_page(self.index, INSERT_LOCK, pg_sys::ExclusiveLock);
        }
    }
}

/// Waits for the graph walks of scans in progress to end.
pub fn wait_for_scans(index: pg_sys::Relation) {
    with_page_lock(index, SCAN_LOCK, pg_sys::ExclusiveLock, || ())
}
