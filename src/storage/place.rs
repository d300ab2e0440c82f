//! Placing new tuples: a new node's element and neighbor tuple on a page
//! with room (the free space map's, the insert page, or a new one), a wide
//! vector's part tuples, each change WAL-logged.

use super::buffer::{add_item, corrupted, free_space, init_page, item_footprint, page_capacity};
use super::buffer::{Lock, LockedBuffer};
use super::port;
use super::xlog::{Logging, PageWrite};
use crate::page::{self, ElementHeader, Meta, NodeId};
use pgrx::pg_sys;

/// Whether a vector of `stored_len` values at `width`, with `filter_len`
/// bytes of filter values, is too large for an element on one page, and
/// goes to part tuples (`page::encode_parts`). Sparse elements never are:
/// their 1,000 non-zeros fit.
pub fn needs_parts(width: page::ElementWidth, stored_len: usize, filter_len: usize) -> bool {
    width != page::ElementWidth::Sparse
        && item_footprint(page::with_filter_size(
            page::element_size(stored_len, width),
            filter_len,
        )) > page_capacity()
}

/// The most bytes of a vector one part tuple carries: a page's worth, less
/// one free space map step (32 bytes), so that a page VACUUM emptied, whose
/// unused line pointer the map rounds its room down by, is found for a part.
pub fn piece_bytes() -> usize {
    page::part_capacity(page_capacity() - 32, item_footprint)
}

/// A new node's neighbor lists: its level, the ids on each of its layers
/// (fewer layers than `level + 1` leave the rest empty), and the codes of
/// layer 0's ids, one stored code each (none without neighbor codes).
pub struct NewLists<'a> {
    pub level: usize,
    pub layers: &'a [Vec<NodeId>],
    pub codes: &'a [u8],
}

impl NewLists<'_> {
    fn tuple(&self, meta: &Meta) -> Vec<u8> {
        let shape = meta.list_shape();
        let mut tuple = page::new_neighbor_tuple(self.level, shape);
        for (layer, ids) in self.layers.iter().enumerate() {
            let codes = if layer == 0 { self.codes } else { &[] };
            page::write_layer(&mut tuple, shape, layer, ids, codes)
                .expect("a new node has every layer up to its level");
        }
        tuple
    }
}

/// Adds a node to the index: its element tuple and its neighbor tuple, on the
/// page `meta.insert_block` if they fit, else on a new page (which becomes
/// `meta.insert_block`); a wide vector's parts first, each on a page with
/// room for it. `filter` holds the row's filter values (empty without filter
/// columns). Returns the element's id.
pub fn add_node(
    rel: pg_sys::Relation,
    meta: &mut Meta,
    mut header: ElementHeader,
    vector: &[f32],
    filter: &[u8],
    lists: NewLists,
    logging: Logging,
) -> NodeId {
    let neighbor_tuple = &lists.tuple(meta);
    header.wide = needs_parts(header.width, vector.len(), filter.len());
    let parts = if header.wide {
        add_parts(
            rel,
            meta,
            &page::vector_bytes(header.width, vector),
            logging,
        )
    } else {
        Vec::new()
    };
    let encode = |header: &ElementHeader| {
        let mut tuple = if header.wide {
            page::encode_wide_element(header, &parts)
        } else {
            page::encode_element(header, vector)
        };
        page::append_filter(&mut tuple, filter);
        tuple
    };
    // Sized without encoding: an inline element's vector is converted once, below.
    let body_len = if header.wide {
        page::wide_element_size(parts.len())
    } else {
        page::element_size(vector.len(), header.width)
    };
    let element_len = page::with_filter_size(body_len, filter.len());
    let needed = item_footprint(element_len) + item_footprint(neighbor_tuple.len());
    if needed > page_capacity() {
        return add_node_split(rel, meta, header, &encode, neighbor_tuple, logging);
    }
    let (offset, block) = add_to_page_with_room(rel, meta, needed, logging, |page, block| {
        // SAFETY: exclusively locked, and `needed` bytes are free on it.
        unsafe {
            // The neighbor tuple goes first so the element can point at it.
            let neighbors = add_item(page, neighbor_tuple)
                .unwrap_or_else(|| corrupted(rel, block, 0, "no room for neighbors"));
            header.neighbors = NodeId::new(block, neighbors);
            add_item(page, &encode(&header))
                .unwrap_or_else(|| corrupted(rel, block, 0, "no room for element"))
        }
    });
    meta.insert_block = block;
    NodeId::new(block, offset)
}

/// Writes the part tuples of a wide vector's stored bytes, each WAL-logged
/// on its own (a crash before the element is written leaves them unreachable,
/// space lost until a REINDEX, never a wrong answer). Returns their ids.
fn add_parts(rel: pg_sys::Relation, meta: &Meta, bytes: &[u8], logging: Logging) -> Vec<NodeId> {
    let parts = page::encode_parts(bytes, piece_bytes());
    if parts.len() > page::MAX_PARTS {
        corrupted(
            rel,
            0,
            0,
            format!(
                "a vector of {} bytes needs more than {} parts",
                bytes.len(),
                page::MAX_PARTS
            ),
        );
    }
    parts
        .iter()
        .map(|part| {
            let (offset, block) = add_to_page_with_room(
                rel,
                meta,
                item_footprint(part.len()),
                logging,
                |page, block| {
                    // SAFETY: exclusively locked, with room for the part.
                    unsafe { add_item(page, part) }
                        .unwrap_or_else(|| corrupted(rel, block, 0, "no room for a part"))
                },
            );
            NodeId::new(block, offset)
        })
        .collect()
}

/// Runs `fill` on a page with `needed` bytes free (`page_with_room`), the
/// change WAL-logged; returns what `fill` returns and the page's block.
fn add_to_page_with_room<R>(
    rel: pg_sys::Relation,
    meta: &Meta,
    needed: usize,
    logging: Logging,
    fill: impl FnOnce(pg_sys::Page, u32) -> R,
) -> (R, u32) {
    let (buffer, is_new) = page_with_room(rel, meta, needed);
    let block = buffer.block();
    let mut write = PageWrite::start(rel, logging);
    let page = write.register(&buffer, is_new);
    if is_new {
        // SAFETY: exclusively locked.
        unsafe { init_page(page, page::PAGE_KIND_GRAPH) };
    }
    let result = fill(page, block);
    write.commit();
    if is_new {
        // SAFETY: still exclusively locked; committed, so this is the page.
        remember_new_page(rel, block, unsafe { free_space(buffer.page()) });
    }
    (result, block)
}

/// Tells the free space map about the room left on a page an insert just
/// added. Concurrent inserts that find the insert page full each add one,
/// and only the last becomes the meta page's insert page: without this the
/// others' room would be found only after a VACUUM.
fn remember_new_page(rel: pg_sys::Relation, block: u32, free: usize) {
    // SAFETY: an open index; the map is only a hint, and not WAL-logged.
    unsafe {
        pg_sys::RecordPageWithFreeSpace(rel, block, free);
        // Searches start from the map's upper levels, which only this updates.
        pg_sys::FreeSpaceMapVacuumRange(rel, block, block + 1);
    }
}

/// The insert page if it has `needed` bytes free, else a page VACUUM freed
/// space on (from the free space map), else a new page.
fn page_with_room(rel: pg_sys::Relation, meta: &Meta, needed: usize) -> (LockedBuffer, bool) {
    let with_room = |block: u32| {
        let buffer = LockedBuffer::read(rel, block, Lock::Exclusive);
        // SAFETY: pinned and exclusively locked. Free space counts one line
        // pointer, which a reused unused one may not need.
        let free = unsafe {
            (!port::is_new(buffer.page())).then(|| free_space(buffer.page()) + item_footprint(0))
        };
        match free {
            Some(free) if free >= needed => Ok(buffer),
            _ => Err(free.unwrap_or(0)),
        }
    };
    if meta.insert_block != page::INVALID_BLOCK && meta.insert_block != page::META_BLOCK {
        if let Ok(buffer) = with_room(meta.insert_block) {
            return (buffer, false);
        }
    }
    // The map may be stale: a page that turns out full is corrected and the next tried.
    for _ in 0..8 {
        // SAFETY: an open index.
        let block = unsafe { pg_sys::GetPageWithFreeSpace(rel, needed) };
        if block == pg_sys::InvalidBlockNumber || block == page::META_BLOCK {
            break;
        }
        match with_room(block) {
            Ok(buffer) => return (buffer, false),
            // SAFETY: an open index; `block` is one of its pages, as read
            // from its free space map.
            Err(free) => unsafe {
                pg_sys::RecordPageWithFreeSpace(rel, block, free.saturating_sub(item_footprint(0)))
            },
        }
    }
    (
        LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM),
        true,
    )
}

/// For elements so large that element and neighbors do not share a page: the
/// element gets a page of its own.
fn add_node_split(
    rel: pg_sys::Relation,
    meta: &mut Meta,
    mut header: ElementHeader,
    encode: &dyn Fn(&ElementHeader) -> Vec<u8>,
    neighbor_tuple: &[u8],
    logging: Logging,
) -> NodeId {
    let element = encode(&header);
    if item_footprint(element.len()) > page_capacity() {
        corrupted(
            rel,
            0,
            0,
            format!(
                "an element of {} bytes does not fit on a page",
                element.len()
            ),
        );
    }
    let (neighbor_buffer, neighbor_is_new) =
        page_with_room(rel, meta, item_footprint(neighbor_tuple.len()));
    let element_buffer = LockedBuffer::extend(rel, pg_sys::ForkNumber::MAIN_FORKNUM);
    let mut write = PageWrite::start(rel, logging);
    let neighbor_page = write.register(&neighbor_buffer, neighbor_is_new);
    let element_page = write.register(&element_buffer, true);
    // SAFETY: both pages are exclusively locked and have room.
    unsafe {
        if neighbor_is_new {
            init_page(neighbor_page, page::PAGE_KIND_GRAPH);
        }
        init_page(element_page, page::PAGE_KIND_GRAPH);
        let neighbors = add_item(neighbor_page, neighbor_tuple)
            .unwrap_or_else(|| corrupted(rel, neighbor_buffer.block(), 0, "no room for neighbors"));
        header.neighbors = NodeId::new(neighbor_buffer.block(), neighbors);
        let element = encode(&header);
        let offset = add_item(element_page, &element)
            .unwrap_or_else(|| corrupted(rel, element_buffer.block(), 0, "no room for element"));
        write.commit();
        if neighbor_is_new {
            remember_new_page(
                rel,
                neighbor_buffer.block(),
                free_space(neighbor_buffer.page()),
            );
        }
        meta.insert_block = neighbor_buffer.block();
        NodeId::new(element_buffer.block(), offset)
    }
}
