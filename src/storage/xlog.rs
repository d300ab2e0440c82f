//! Page changes: WAL-logged through GenericXLog after the build, or written
//! in place during the build, which logs the finished index once at its end.

use super::buffer::LockedBuffer;
use pgrx::pg_sys;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Logging {
    /// Each change is one GenericXLog record.
    Wal,
    /// Pages are changed in place; the caller logs the whole relation later.
    Build,
}

/// One atomic change of up to a few pages. Register each locked buffer, edit
/// the page that `register` returns, then `commit`. Dropped uncommitted (an
/// ERROR unwinding), it aborts and leaves the pages as they were (in WAL mode).
pub struct PageWrite {
    rel: pg_sys::Relation,
    state: *mut pg_sys::GenericXLogState,
    registered: Vec<pg_sys::Buffer>,
    committed: bool,
}

impl PageWrite {
    // `rel` is an open relation: see `storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn start(rel: pg_sys::Relation, logging: Logging) -> Self {
        let state = match logging {
            // SAFETY: rel is an open index relation.
            Logging::Wal => unsafe { pg_sys::GenericXLogStart(rel) },
            Logging::Build => std::ptr::null_mut(),
        };
        PageWrite {
            rel,
            state,
            registered: Vec::new(),
            committed: false,
        }
    }

    /// The page to edit: GenericXLog's working copy, or the buffer's page.
    /// `new_page` asks for a full-page image rather than a delta.
    pub fn register(&mut self, buffer: &LockedBuffer, new_page: bool) -> pg_sys::Page {
        self.registered.push(buffer.buffer());
        if self.state.is_null() {
            return buffer.page();
        }
        let flags = if new_page {
            pg_sys::GENERIC_XLOG_FULL_IMAGE as i32
        } else {
            0
        };
        // SAFETY: the buffer is exclusively locked by the caller for the life of this write.
        unsafe { pg_sys::GenericXLogRegisterBuffer(self.state, buffer.buffer(), flags) }
    }

    pub fn commit(mut self) {
        // SAFETY: every registered buffer is still exclusively locked.
        unsafe {
            if self.state.is_null() {
                for &buffer in &self.registered {
                    pg_sys::MarkBufferDirty(buffer);
                }
            } else {
                pg_sys::GenericXLogFinish(self.state);
            }
        }
        self.committed = true;
    }

    pub fn relation(&self) -> pg_sys::Relation {
        self.rel
    }
}

impl Drop for PageWrite {
    fn drop(&mut self) {
        if !self.committed && !self.state.is_null() {
            // SAFETY: started and neither finished nor aborted.
            unsafe { pg_sys::GenericXLogAbort(self.state) };
        }
    }
}
