//! Writing a graph built in memory to an empty index: the meta page, the
//! quantizer of neighbor codes, the graph's pages in breadth-first order
//! (neighbors share pages), wide vectors' parts after them, then the filter
//! directory. Pages are written without WAL; the build logs the finished
//! index once.

use super::buffer::{add_item, init_page, item_footprint, page_capacity, LockedBuffer};
use super::filters;
use super::meta::write_meta_page;
use super::place::{needs_parts, piece_bytes};
use super::quantizer::{self, IndexCodes};
use super::xlog::{Logging, PageWrite};
use crate::hnsw::memory::BuiltGraph;
use crate::kernels;
use crate::page::{
    self, ElementHeader, ElementWidth, HeapTid, ListShape, Meta, NodeId, PlannedItem,
};
use pgrx::pg_sys;

/// What a build hands over to be written.
pub struct BuiltIndex<'a, G: BuiltGraph> {
    pub graph: &'a G,
    /// Each node's heap rows.
    pub heap_tids: &'a [Vec<HeapTid>],
    /// Each node's filter values (none without filter columns).
    pub filters: &'a [Vec<u8>],
    /// How elements store their vectors.
    pub width: ElementWidth,
    /// The neighbor codes' quantizer, when the index has them.
    pub codes: Option<&'a IndexCodes>,
}

/// Nodes in breadth-first order from the entry point on layer 0, so that
/// graph neighbors tend to share pages; nodes not reached come last.
fn breadth_first_order(graph: &impl BuiltGraph) -> Vec<u32> {
    let mut order = Vec::with_capacity(graph.len());
    let mut seen = vec![false; graph.len()];
    if let Some((entry, _)) = graph.entry() {
        seen[entry as usize] = true;
        order.push(entry);
        let mut next = 0;
        while next < order.len() {
            let node = order[next];
            next += 1;
            for n in graph.layer_neighbors(node, 0) {
                if !std::mem::replace(&mut seen[n as usize], true) {
                    order.push(n);
                }
            }
        }
    }
    order.extend((0..graph.len() as u32).filter(|&n| !seen[n as usize]));
    order
}

/// Writes `built` to an empty index, whose meta data `base` describes
/// (dimensions, parameters, metric, counts, the walk's cost); returns the
/// meta page as written, with the graph's entry and where everything went.
// `index` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn write_built<'a, G: BuiltGraph>(
    index: pg_sys::Relation,
    built: &BuiltIndex<'a, G>,
    base: Meta,
) -> Meta {
    let graph = built.graph;
    let (heap_tids, filters, width) = (built.heap_tids, built.filters, built.width);
    let index_codes = built.codes;
    // A packed sparse vector is stored without its padding.
    let stored = |vector: &'a [f32]| -> &'a [f32] {
        if width == ElementWidth::Sparse {
            kernels::sparse::trimmed(vector)
        } else {
            vector
        }
    };
    let quantizer_bytes = index_codes
        .map(|c| c.quantizer.to_bytes())
        .unwrap_or_default();
    let quantizer_blocks = quantizer::chunks(&quantizer_bytes).count() as u32;
    let shape = ListShape {
        m: base.m as usize,
        code_bytes: index_codes.map_or(0, |c| c.stored_bytes()),
    };
    // Every node's stored code, in node order.
    let mut node_codes = Vec::with_capacity(graph.len() * shape.code_bytes);
    if let Some(index_codes) = index_codes {
        for node in 0..graph.len() as u32 {
            index_codes.encode(graph.vector(node), &mut node_codes);
        }
    }
    let order = breadth_first_order(graph);
    // Wide vectors' parts go on pages after the graph's, in the graph's order.
    let (piece, mut part_lengths, mut part_owners) = (piece_bytes(), Vec::new(), Vec::new());
    let mut node_parts = vec![0..0; graph.len()];
    let filter_of = |node: u32| filters.get(node as usize).map_or(&[][..], |f| &f[..]);
    for &node in &order {
        let stored_len = stored(graph.vector(node)).len();
        if needs_parts(width, stored_len, filter_of(node).len()) {
            let start = part_lengths.len();
            let bytes = width.vector_bytes(stored_len);
            for (position, at) in (0..bytes).step_by(piece).enumerate() {
                part_lengths.push(page::PART_HEADER_SIZE + piece.min(bytes - at));
                part_owners.push((node, position));
            }
            node_parts[node as usize] = start..part_lengths.len();
        }
    }
    let element_len = |n: u32| {
        let body_len = match node_parts[n as usize].len() {
            0 => page::element_size(stored(graph.vector(n)).len(), width),
            parts => page::wide_element_size(parts),
        };
        page::with_filter_size(body_len, filter_of(n).len())
    };
    let sizes: Vec<(usize, usize)> = (0..graph.len() as u32)
        .map(|n| (element_len(n), shape.tuple_size(graph.level(n))))
        .collect();
    let first_graph_block = page::META_BLOCK + 1 + quantizer_blocks;
    let plan = page::plan_pages(
        &order,
        &sizes,
        page_capacity(),
        item_footprint,
        first_graph_block,
    );
    let (part_pages, part_ids) = page::pack_in_order(
        &part_lengths,
        page_capacity(),
        item_footprint,
        first_graph_block + plan.pages.len() as u32,
    );
    // The filter directory follows the parts: an entry per node with filter values.
    let entries: Vec<Vec<u8>> = (0..graph.len() as u32)
        .filter(|&n| !filter_of(n).is_empty())
        .map(|n| page::encode_filter_entry(plan.elements[n as usize], filter_of(n)))
        .collect();
    let directory_pages = filters::plan_built(&entries, page_capacity(), item_footprint);
    let first_directory_block = first_graph_block + (plan.pages.len() + part_pages.len()) as u32;
    let mut meta = Meta {
        code_bits: index_codes.map_or(0, |c| c.quantizer.bits()),
        code_bytes: shape.code_bytes as u16,
        quantizer_blocks,
        quantizer_bytes: quantizer_bytes.len() as u32,
        filter_head: if directory_pages.is_empty() {
            page::META_BLOCK
        } else {
            first_directory_block
        },
        // The last page, where the room is.
        filter_insert_block: match directory_pages.len() as u32 {
            0 => page::META_BLOCK,
            pages => first_directory_block + pages - 1,
        },
        ..base
    };
    if let Some((entry, level)) = graph.entry() {
        meta.entry = plan.elements[entry as usize];
        meta.entry_level = level as u8;
    }
    if !plan.pages.is_empty() {
        meta.insert_block = first_graph_block - 1 + plan.pages.len() as u32;
    }
    write_new_page(index, page::META_BLOCK, |page| {
        // SAFETY: a new page, exclusively locked.
        unsafe { write_meta_page(page, &meta) }
    });
    for (i, chunk) in quantizer::chunks(&quantizer_bytes).enumerate() {
        write_new_page(index, page::META_BLOCK + 1 + i as u32, |page| {
            // SAFETY: a new page, exclusively locked; a chunk fits a page.
            unsafe {
                init_page(page, page::PAGE_KIND_CODES);
                assert_eq!(
                    add_item(page, chunk),
                    Some(1),
                    "a quantizer chunk fills one page"
                );
            }
        });
    }

    let (mut neighbor_ids, mut neighbor_codes) = (Vec::new(), Vec::new());
    for (i, items) in plan.pages.iter().enumerate() {
        pgrx::check_for_interrupts!();
        let block = first_graph_block + i as u32;
        write_new_page(index, block, |page| {
            // SAFETY: a new page, exclusively locked.
            unsafe { init_page(page, page::PAGE_KIND_GRAPH) };
            for (position, item) in items.iter().enumerate() {
                let bytes = match *item {
                    PlannedItem::Element(node) => {
                        let header = ElementHeader {
                            level: graph.level(node) as u8,
                            deleted: false,
                            width,
                            heap_tids: heap_tids[node as usize].clone(),
                            neighbors: plan.neighbors[node as usize],
                            dimensions: stored(graph.vector(node)).len() as u16,
                            anchor: graph
                                .anchor_of(node)
                                .map_or(NodeId::NONE, |a| plan.elements[a as usize]),
                            wide: !node_parts[node as usize].is_empty(),
                        };
                        let mut tuple = if header.wide {
                            page::encode_wide_element(
                                &header,
                                &part_ids[node_parts[node as usize].clone()],
                            )
                        } else {
                            page::encode_element(&header, stored(graph.vector(node)))
                        };
                        page::append_filter(&mut tuple, filter_of(node));
                        tuple
                    }
                    PlannedItem::Neighbors(node) => {
                        let level = graph.level(node);
                        let mut tuple = page::new_neighbor_tuple(level, shape);
                        for layer in 0..=level {
                            neighbor_ids.clear();
                            neighbor_ids.extend(
                                graph
                                    .layer_neighbors(node, layer)
                                    .map(|n| plan.elements[n as usize]),
                            );
                            neighbor_codes.clear();
                            if layer == 0 {
                                let stored = shape.code_bytes;
                                for n in graph.layer_neighbors(node, 0) {
                                    neighbor_codes.extend_from_slice(
                                        &node_codes[n as usize * stored..(n as usize + 1) * stored],
                                    );
                                }
                            }
                            page::write_layer(
                                &mut tuple,
                                shape,
                                layer,
                                &neighbor_ids,
                                &neighbor_codes,
                            )
                            .expect("planned tuple has every layer");
                        }
                        tuple
                    }
                };
                // SAFETY: exclusively locked; the plan sized the page to fit.
                let offset = unsafe { add_item(page, &bytes) };
                assert_eq!(
                    offset,
                    Some(position as u16 + 1),
                    "page {block} holds what was planned"
                );
            }
        });
    }
    // The parts of one vector are encoded once, as its first part is written.
    let mut encoded: (Option<u32>, Vec<Vec<u8>>) = (None, Vec::new());
    for (i, items) in part_pages.iter().enumerate() {
        pgrx::check_for_interrupts!();
        let block = first_graph_block + plan.pages.len() as u32 + i as u32;
        write_new_page(index, block, |page| {
            // SAFETY: a new page, exclusively locked.
            unsafe { init_page(page, page::PAGE_KIND_GRAPH) };
            for &item in items {
                let (node, position) = part_owners[item];
                if encoded.0 != Some(node) {
                    let bytes = page::vector_bytes(width, stored(graph.vector(node)));
                    encoded = (Some(node), page::encode_parts(&bytes, piece));
                }
                // SAFETY: exclusively locked; the plan sized the page to fit.
                let offset = unsafe { add_item(page, &encoded.1[position]) };
                assert_eq!(
                    offset.map(|o| NodeId::new(block, o)),
                    Some(part_ids[item]),
                    "page {block} holds what was planned"
                );
            }
        });
    }
    for (i, items) in directory_pages.iter().enumerate() {
        pgrx::check_for_interrupts!();
        let block = first_directory_block + i as u32;
        let next = if i + 1 < directory_pages.len() {
            block + 1
        } else {
            page::INVALID_BLOCK
        };
        // SAFETY: a new page, exclusively locked; the plan sized it.
        write_new_page(index, block, |page| unsafe {
            filters::fill_built_page(index, page, items.iter().map(|&e| &entries[e]), next)
        });
    }
    meta
}

/// Extends the index by one page, which must become `block`, and fills it.
fn write_new_page(index: pg_sys::Relation, block: u32, fill: impl FnOnce(pg_sys::Page)) {
    let buffer = LockedBuffer::extend(index, pg_sys::ForkNumber::MAIN_FORKNUM);
    assert_eq!(buffer.block(), block, "index pages are written in order");
    let mut write = PageWrite::start(index, Logging::Build);
    fill(write.register(&buffer, true));
    write.commit();
}
