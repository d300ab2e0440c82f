//! Postgres' inline page macros (bufpage.h), in Rust. From PostgreSQL 16 on,
//! pgrx reaches them through C shims, and every call crosses its FFI guard
//! (a sigsetjmp): 5-10% of an insert's time, and a scan reads a line pointer
//! for every node it measures. The page layout they read has not changed
//! since PostgreSQL 8.3.

use pgrx::pg_sys;

/// #define SizeOfPageHeaderData (offsetof(PageHeaderData, pd_linp))
const SIZE_OF_PAGE_HEADER: usize = std::mem::offset_of!(pg_sys::PageHeaderData, pd_linp);

fn header(page: pg_sys::Page) -> *mut pg_sys::PageHeaderData {
    page.cast()
}

/// PageIsNew(page): ((PageHeader) page)->pd_upper == 0
///
/// # Safety
/// `page` points to a BLCKSZ page that stays pinned.
#[inline(always)]
pub unsafe fn is_new(page: pg_sys::Page) -> bool {
    // SAFETY: the caller's page is pinned and BLCKSZ long; this reads its header.
    unsafe { (*header(page)).pd_upper == 0 }
}

/// PageGetMaxOffsetNumber(page): pd_lower <= SizeOfPageHeaderData ? 0 :
/// (pd_lower - SizeOfPageHeaderData) / sizeof(ItemIdData)
///
/// # Safety
/// As `is_new`.
#[inline(always)]
pub unsafe fn max_offset(page: pg_sys::Page) -> u16 {
    // SAFETY: as in `is_new`.
    let lower = unsafe { (*header(page)).pd_lower } as usize;
    if lower <= SIZE_OF_PAGE_HEADER {
        0
    } else {
        ((lower - SIZE_OF_PAGE_HEADER) / std::mem::size_of::<pg_sys::ItemIdData>()) as u16
    }
}

/// PageGetItemId(page, offset): &((PageHeader) page)->pd_linp[offset - 1]
///
/// # Safety
/// As `is_new`, and `offset` is 1 ..= `max_offset(page)` (or the address is
/// only used as a prefetch hint).
#[inline(always)]
pub unsafe fn item_id(page: pg_sys::Page, offset: u16) -> pg_sys::ItemId {
    let at = SIZE_OF_PAGE_HEADER
        + (offset as usize).wrapping_sub(1) * std::mem::size_of::<pg_sys::ItemIdData>();
    page.cast::<u8>().wrapping_add(at).cast()
}

/// A line pointer's (lp_off, lp_flags, lp_len): bitfields of 15, 2 and 15
/// bits from the lowest, read as one word. pgrx's accessors assemble each
/// field bit by bit, which showed as 40% of a filter directory scan.
///
/// # Safety
/// As `item_id`, with `offset` in range.
#[inline(always)]
pub unsafe fn line_pointer(page: pg_sys::Page, offset: u16) -> (usize, u32, usize) {
    // SAFETY: the caller's `offset` is in range, so its line pointer lies in
    // the page's line pointer array.
    let raw = unsafe { item_id(page, offset).cast::<u32>().read_unaligned() };
    (
        (raw & 0x7FFF) as usize,
        (raw >> 15) & 3,
        (raw >> 17) as usize,
    )
}

/// PageGetItem(page, itemId): page + ItemIdGetOffset(itemId)
///
/// # Safety
/// As `is_new`; `item_id` is one of the page's line pointers, and its lp_off
/// lies inside the page (as on any page PageAddItem filled).
#[inline(always)]
pub unsafe fn item(page: pg_sys::Page, item_id: pg_sys::ItemId) -> *mut u8 {
    // SAFETY: the caller's line pointer is readable and its lp_off lies
    // inside the page, so the sum stays in the page.
    unsafe { page.cast::<u8>().add((*item_id).lp_off() as usize) }
}

/// PageGetContents(page): page + MAXALIGN(SizeOfPageHeaderData)
///
/// # Safety
/// As `is_new`.
#[inline(always)]
pub unsafe fn contents(page: pg_sys::Page) -> *mut u8 {
    let align = pg_sys::MAXIMUM_ALIGNOF as usize;
    // SAFETY: the caller's page is BLCKSZ long; the aligned header size is
    // far less, so the pointer stays in it.
    unsafe {
        page.cast::<u8>()
            .add(SIZE_OF_PAGE_HEADER.div_ceil(align) * align)
    }
}

/// PageGetSpecialPointer(page): page + ((PageHeader) page)->pd_special
///
/// # Safety
/// As `is_new`, and pd_special lies inside the page: it was formatted by
/// PageInit, or checked (`buffer::check_page`).
#[inline(always)]
pub unsafe fn special(page: pg_sys::Page) -> *mut u8 {
    // SAFETY: the caller's page is pinned, so its header can be read, and its
    // pd_special lies inside it.
    unsafe { page.cast::<u8>().add((*header(page)).pd_special as usize) }
}

/// #define shm_toc_estimate_chunk(e, sz) \
///     ((e)->space_for_chunks = add_size((e)->space_for_chunks, BUFFERALIGN((sz))))
pub fn shm_toc_estimate_chunk(estimator: &mut pg_sys::shm_toc_estimator, bytes: usize) {
    let aligned = bytes.div_ceil(pg_sys::ALIGNOF_BUFFER as usize) * pg_sys::ALIGNOF_BUFFER as usize;
    estimator.space_for_chunks = estimator
        .space_for_chunks
        .checked_add(aligned)
        .expect("shared memory size fits usize");
}

/// #define shm_toc_estimate_keys(e, cnt) \
///     ((e)->number_of_keys = add_size((e)->number_of_keys, cnt))
pub fn shm_toc_estimate_keys(estimator: &mut pg_sys::shm_toc_estimator, keys: usize) {
    estimator.number_of_keys += keys;
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_pointers_read_as_postgres_lays_them_out() {
        let mut page = vec![0u64; pgrx::pg_sys::BLCKSZ as usize / 8];
        let pointer: pgrx::pg_sys::Page = page.as_mut_ptr().cast();
        // SAFETY: a zeroed page-sized buffer; offset 2 is inside it.
        unsafe {
            let id = &mut *super::item_id(pointer, 2);
            id.set_lp_off(8000);
            id.set_lp_flags(pgrx::pg_sys::LP_NORMAL);
            id.set_lp_len(12345);
            assert_eq!(
                super::line_pointer(pointer, 2),
                (8000, pgrx::pg_sys::LP_NORMAL, 12345)
            );
            id.set_lp_flags(pgrx::pg_sys::LP_DEAD);
            id.set_lp_off(0x7FFF);
            assert_eq!(
                super::line_pointer(pointer, 2),
                (0x7FFF, pgrx::pg_sys::LP_DEAD, 12345)
            );
        }
    }
}
