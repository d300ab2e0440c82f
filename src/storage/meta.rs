//! The meta page: read, formatted, and changed under GenericXLog.

use super::buffer::{check_page, corrupted, init_page, Lock, LockedBuffer};
use super::port;
use super::xlog::{Logging, PageWrite};
use crate::page::{self, Meta};
use pgrx::pg_sys;

fn meta_bytes<'a>(page: pg_sys::Page) -> &'a mut [u8] {
    // SAFETY: the meta page's contents start right after the page header and
    // hold META_SIZE bytes (pd_lower covers them).
    unsafe { std::slice::from_raw_parts_mut(port::contents(page), page::META_SIZE) }
}

/// Formats `page` as the meta page holding `meta`.
///
/// # Safety
/// `page` must be a writable page (a new buffer, or a GenericXLog copy).
pub unsafe fn write_meta_page(page: pg_sys::Page, meta: &Meta) {
    // SAFETY: the caller gives a writable page; once formatted, its contents
    // have room for the META_SIZE bytes of meta data.
    unsafe {
        init_page(page, page::PAGE_KIND_META);
        meta_bytes(page).copy_from_slice(&meta.encode());
        cover_meta(page);
    }
}

/// GenericXLog and full-page images skip the hole between pd_lower and
/// pd_upper, so pd_lower must cover the meta data.
///
/// # Safety
/// `page` must be the meta page, writable.
unsafe fn cover_meta(page: pg_sys::Page) {
    // SAFETY: the caller gives the writable meta page, whose header we update.
    unsafe {
        let header = page.cast::<pg_sys::PageHeaderData>();
        let end = (port::contents(page) as usize - page as usize + page::META_SIZE) as u16;
        (*header).pd_lower = (*header).pd_lower.max(end);
    }
}

pub fn read_meta(rel: pg_sys::Relation) -> Meta {
    meta_of(rel, &LockedBuffer::read(rel, page::META_BLOCK, Lock::Share))
}

/// The meta data of the meta page, which `buffer` holds pinned and locked.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn meta_of(rel: pg_sys::Relation, buffer: &LockedBuffer) -> Meta {
    // SAFETY: pinned and locked.
    unsafe { check_page(rel, buffer.page(), page::META_BLOCK, page::PAGE_KIND_META) };
    Meta::decode(meta_bytes(buffer.page()))
        .unwrap_or_else(|e| corrupted(rel, page::META_BLOCK, 0, e))
}

/// The meta data, decoded without checking the page's kind: what
/// `quiver_check_index` reports when it fails, where everything else raises
/// `read_meta`'s ERROR.
pub fn decode_meta(rel: pg_sys::Relation) -> Result<Meta, page::FormatError> {
    let buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Share);
    Meta::decode(meta_bytes(buffer.page()))
}

/// Changes the meta page under an exclusive lock.
pub fn update_meta(rel: pg_sys::Relation, logging: Logging, change: impl FnOnce(&mut Meta)) {
    let buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Exclusive);
    let mut write = PageWrite::start(rel, logging);
    change_meta(&mut write, &buffer, change);
    write.commit();
}

/// Registers the meta page, which `buffer` holds exclusively locked, in
/// `write` and applies `change` to it, so that it changes atomically with
/// the other pages of the write.
pub fn change_meta(write: &mut PageWrite, buffer: &LockedBuffer, change: impl FnOnce(&mut Meta)) {
    let rel = write.relation();
    let page = write.register(buffer, false);
    // SAFETY: exclusively locked; `page` is the page to edit.
    unsafe { check_page(rel, page, page::META_BLOCK, page::PAGE_KIND_META) };
    let mut meta =
        Meta::decode(meta_bytes(page)).unwrap_or_else(|e| corrupted(rel, page::META_BLOCK, 0, e));
    change(&mut meta);
    meta_bytes(page).copy_from_slice(&meta.encode());
    // SAFETY: as above. An index written when the meta data was shorter has
    // pd_lower below its end, and WAL would not keep the bytes past it.
    unsafe { cover_meta(page) };
}
