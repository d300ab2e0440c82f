//! The meta page: read, formatted, and changed under GenericXLog. An hnsw
//! index's (`Meta`) and an IVF index's (`IvfMeta`) differ only in the data
//! after the page header, so one set of functions serves both (`MetaData`).

use super::buffer::{check_page, corrupted, init_page, Lock, LockedBuffer};
use super::port;
use super::xlog::{Logging, PageWrite};
use crate::page::{self, FormatError, IvfMeta, Meta};
use pgrx::pg_sys;

/// What a meta page holds.
pub trait MetaData: Sized {
    const SIZE: usize;
    fn encode_into(&self, out: &mut [u8]);
    fn decode_from(bytes: &[u8]) -> Result<Self, FormatError>;
}

impl MetaData for Meta {
    const SIZE: usize = page::META_SIZE;
    fn encode_into(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.encode());
    }
    fn decode_from(bytes: &[u8]) -> Result<Self, FormatError> {
        Meta::decode(bytes)
    }
}

impl MetaData for IvfMeta {
    const SIZE: usize = page::IVF_META_SIZE;
    fn encode_into(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.encode());
    }
    fn decode_from(bytes: &[u8]) -> Result<Self, FormatError> {
        IvfMeta::decode(bytes)
    }
}

fn meta_bytes<'a, M: MetaData>(page: pg_sys::Page) -> &'a mut [u8] {
    // SAFETY: the meta page's contents start right after the page header,
    // and a page has room for either kind of meta data there; callers hold
    // the page pinned and locked while they use the slice.
    unsafe { std::slice::from_raw_parts_mut(port::contents(page), M::SIZE) }
}

/// Formats `page` as the meta page holding `meta`.
///
/// # Safety
/// `page` must be a writable page (a new buffer, or a GenericXLog copy).
pub unsafe fn write_meta_page<M: MetaData>(page: pg_sys::Page, meta: &M) {
    // SAFETY: the caller gives a writable page; once formatted, its contents
    // have room for the meta data.
    unsafe {
        init_page(page, page::PAGE_KIND_META);
        meta.encode_into(meta_bytes::<M>(page));
        cover_meta::<M>(page);
    }
}

/// GenericXLog and full-page images skip the hole between pd_lower and
/// pd_upper, so pd_lower must cover the meta data.
///
/// # Safety
/// `page` must be the meta page, writable.
unsafe fn cover_meta<M: MetaData>(page: pg_sys::Page) {
    // SAFETY: the caller gives the writable meta page, whose header we update.
    unsafe {
        let header = page.cast::<pg_sys::PageHeaderData>();
        let end = (port::contents(page) as usize - page as usize + M::SIZE) as u16;
        (*header).pd_lower = (*header).pd_lower.max(end);
    }
}

pub fn read_meta(rel: pg_sys::Relation) -> Meta {
    read_meta_data(rel)
}

pub fn read_ivf_meta(rel: pg_sys::Relation) -> IvfMeta {
    read_meta_data(rel)
}

fn read_meta_data<M: MetaData>(rel: pg_sys::Relation) -> M {
    meta_of(rel, &LockedBuffer::read(rel, page::META_BLOCK, Lock::Share))
}

/// The meta data of the meta page, which `buffer` holds pinned and locked.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn meta_of<M: MetaData>(rel: pg_sys::Relation, buffer: &LockedBuffer) -> M {
    // SAFETY: pinned and locked.
    unsafe { check_page(rel, buffer.page(), page::META_BLOCK, page::PAGE_KIND_META) };
    M::decode_from(meta_bytes::<M>(buffer.page()))
        .unwrap_or_else(|e| corrupted(rel, page::META_BLOCK, 0, e))
}

/// The meta data, decoded without checking the page's kind: what
/// `quiver_check_index` reports when it fails, where everything else raises
/// `read_meta`'s ERROR.
pub fn decode_meta<M: MetaData>(rel: pg_sys::Relation) -> Result<M, FormatError> {
    let buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Share);
    M::decode_from(meta_bytes::<M>(buffer.page()))
}

/// Changes the meta page under an exclusive lock.
pub fn update_meta<M: MetaData>(
    rel: pg_sys::Relation,
    logging: Logging,
    change: impl FnOnce(&mut M),
) {
    let buffer = LockedBuffer::read(rel, page::META_BLOCK, Lock::Exclusive);
    let mut write = PageWrite::start(rel, logging);
    change_meta(&mut write, &buffer, change);
    write.commit();
}

/// Registers the meta page, which `buffer` holds exclusively locked, in
/// `write` and applies `change` to it, so that it changes atomically with
/// the other pages of the write.
pub fn change_meta<M: MetaData>(
    write: &mut PageWrite,
    buffer: &LockedBuffer,
    change: impl FnOnce(&mut M),
) {
    let rel = write.relation();
    let page = write.register(buffer, false);
    // SAFETY: exclusively locked; `page` is the page to edit.
    unsafe { check_page(rel, page, page::META_BLOCK, page::PAGE_KIND_META) };
    let mut meta = M::decode_from(meta_bytes::<M>(page))
        .unwrap_or_else(|e| corrupted(rel, page::META_BLOCK, 0, e));
    change(&mut meta);
    meta.encode_into(meta_bytes::<M>(page));
    // SAFETY: as above. An index written when the meta data was shorter has
    // pd_lower below its end, and WAL would not keep the bytes past it.
    unsafe { cover_meta::<M>(page) };
}
