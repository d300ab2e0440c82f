//! The HNSW graph over index pages: `hnsw::Graph` for scans and
//! `hnsw::GraphMut` for inserts and VACUUM, read in place from pinned pages.

use super::buffer::{corrupted, item, item_hint, item_of_kind, prefetch};
use super::buffer::{Lock, LockedBuffer, PinCache};
use super::port;
use super::quantizer::{self, IndexCodes};
use super::xlog::{Logging, PageWrite};
use crate::hnsw::{Graph, GraphMut};
use crate::page::{self, ElementHeader, FormatError, ListShape, Meta, NodeId};
use crate::quant::Prepared;
use crate::search::{Candidate, IdMap, IdSet};
use pgrx::pg_sys;
use std::rc::Rc;

pub type Distance = fn(&[f32], &[f32]) -> f32;

/// `distance` from a float4 vector to a stored one, at the width it is
/// stored: a float16 vector is widened first (into a buffer reused, in
/// cache), so that any distance works, cosine over raw values included; bits
/// become 0.0 and 1.0.
pub fn measure(distance: Distance, from: &[f32], stored: page::StoredVector) -> f32 {
    thread_local! {
        static WIDENED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    match stored {
        page::StoredVector::Float4(vector) => distance(from, vector),
        widen => WIDENED.with_borrow_mut(|widened| {
            widened.clear();
            widen.extend_into(widened);
            distance(from, widened)
        }),
    }
}

pub struct PageGraph {
    rel: pg_sys::Relation,
    shape: ListShape,
    codes: Option<Rc<IndexCodes>>,
    /// A scan that walks over codes: the query prepared for them, the last
    /// layer-0 list read with its codes, and each estimated node's lower
    /// bound (for the exact rerank).
    estimating: Option<Prepared>,
    list: Vec<NodeId>,
    list_codes: Vec<u8>,
    list_is_coded: bool,
    lower_bounds: IdMap<NodeId, f32>,
    /// How much the estimates so far exceeded their lower bounds, summed, and
    /// how many there were.
    estimate_slack: (f64, u64),
    dimensions: usize,
    distance: Distance,
    query: Vec<f32>,
    pins: PinCache,
    logging: Logging,
    /// The vector `distance_between` measures from, and whose it is: the
    /// heuristic and list reads measure from one node to many in a row.
    other: Vec<f32>,
    other_id: NodeId,
    /// Scratch of `distances`: positions sorted by block, and buffers.
    order: Vec<u64>,
    buffers: Vec<pg_sys::Buffer>,
    /// Deleted or freed elements met while measuring distances: every node
    /// an insert may link to was measured first, so `is_deleted` reads no page.
    deleted: IdSet<NodeId>,
    /// A wide element's vector, copied together from its parts.
    gathered: page::Gathered,
}

/// Bytes of each element the prefetch asks for ahead of the distance
/// computation; the hardware prefetcher follows longer vectors.
const PREFETCH_BYTES: usize = 512;

impl PageGraph {
    /// `release_pins_on_drop`: see `PinCache`; false for scans.
    pub fn new(
        rel: pg_sys::Relation,
        meta: &Meta,
        distance: Distance,
        logging: Logging,
        release_pins_on_drop: bool,
    ) -> Self {
        PageGraph {
            rel,
            shape: meta.list_shape(),
            codes: quantizer::load(rel, meta),
            estimating: None,
            list: Vec::new(),
            list_codes: Vec::new(),
            list_is_coded: false,
            lower_bounds: IdMap::default(),
            estimate_slack: (0.0, 0),
            dimensions: meta.dimensions as usize,
            distance,
            query: Vec::new(),
            pins: PinCache::new(rel, page::PAGE_KIND_GRAPH, release_pins_on_drop),
            logging,
            other: Vec::new(),
            other_id: NodeId::NONE,
            order: Vec::new(),
            buffers: Vec::new(),
            deleted: IdSet::default(),
            gathered: page::Gathered::default(),
        }
    }

    pub fn set_query(&mut self, query: &[f32]) {
        self.query.clear();
        self.query.extend_from_slice(query);
        self.estimating = None;
        self.list_is_coded = false;
    }

    /// The index's neighbor codes, if it has them.
    pub fn codes(&self) -> Option<&Rc<IndexCodes>> {
        self.codes.as_ref()
    }

    /// Makes the walk estimate layer-0 distances from the codes in the
    /// neighbor lists (after `set_query`); the scan measures what it hands
    /// out with `measure`. False if the index has no codes.
    pub fn estimate_from_codes(&mut self) -> bool {
        self.estimating = self.codes.as_ref().map(|codes| codes.prepare(&self.query));
        self.lower_bounds.clear();
        self.estimate_slack = (0.0, 0);
        // A walk estimates some thousand nodes: grow the map once, not as it fills.
        self.lower_bounds.reserve(4096);
        self.estimating.is_some()
    }

    /// How much an estimate of this scan exceeds its lower bound, on
    /// average: a node estimated at e is seldom nearer than e minus this.
    pub fn estimate_slack(&self) -> f32 {
        let (sum, count) = self.estimate_slack;
        if count == 0 {
            0.0
        } else {
            (sum / count as f64) as f32
        }
    }

    /// A distance the exact one is (almost surely, for 1-bit codes) not
    /// below, for a node the walk estimated; a measured node's own distance.
    pub fn lower_bound(&self, id: NodeId, distance: f32) -> f32 {
        self.lower_bounds.get(&id).copied().unwrap_or(distance)
    }

    /// The stored codes of `ids`, in order: copied from `owner`'s layer-0
    /// list where it has them, else encoded from the elements' vectors.
    /// Empty when the index has no codes.
    pub fn codes_for(&mut self, owner: Option<NodeId>, ids: &[NodeId]) -> Vec<u8> {
        let Some(codes) = self.codes.clone() else {
            return Vec::new();
        };
        let stored = codes.stored_bytes();
        let (mut known, mut known_codes) = (Vec::new(), Vec::new());
        if let Some(owner) = owner {
            self.read_list(owner, 0, &mut known, Some(&mut known_codes));
        }
        let mut out = Vec::with_capacity(ids.len() * stored);
        let mut vector = Vec::new();
        for &id in ids {
            match known.iter().position(|&k| k == id) {
                Some(i) => out.extend_from_slice(&known_codes[i * stored..(i + 1) * stored]),
                None => {
                    self.read_vector(id, &mut vector);
                    codes.encode(&vector, &mut out);
                }
            }
        }
        out
    }

    pub fn release_pins(&mut self) {
        self.pins.release_all();
    }

    /// Runs `f` on the bytes of the element at `id`, under a share lock;
    /// None if VACUUM has freed it (see `item_of_kind`).
    fn with_element<R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&[u8]) -> Result<R, FormatError>,
    ) -> Option<R> {
        let rel = self.rel;
        let (block, offset) = (id.block(), id.offset());
        self.pins.with_page(block, Lock::Share, |page| {
            // SAFETY: the page is pinned and share-locked while `f` runs.
            let tuple = unsafe { item_of_kind(rel, page, block, offset, page::ELEMENT_KIND) }?;
            Some(f(tuple).unwrap_or_else(|e| corrupted(rel, block, offset, e)))
        })
    }

    /// `with_element` where the element must exist: inserts and VACUUM hold
    /// the insert lock, so no element they reach is freed under them.
    fn with_tuple<R>(&mut self, id: NodeId, f: impl FnOnce(&[u8]) -> Result<R, FormatError>) -> R {
        let rel = self.rel;
        self.with_element(id, f)
            .unwrap_or_else(|| corrupted(rel, id.block(), id.offset(), "not an element"))
    }

    /// The elements on `block`, in offset order, into `out`; none when the
    /// page holds no graph tuples (a new page, the meta page, code pages, the
    /// filter directory). A page of another kind than ours is corruption.
    pub fn elements_on(&mut self, block: u32, out: &mut Vec<NodeId>) {
        out.clear();
        let buffer = LockedBuffer::read(self.rel, block, Lock::Share);
        let page = buffer.page();
        // SAFETY: the page is pinned and share-locked until `buffer` drops.
        unsafe {
            if port::is_new(page) {
                return;
            }
            match super::buffer::page_kind(page) {
                Some(page::PAGE_KIND_GRAPH) => {}
                Some(_) => return,
                None => super::buffer::check_page(self.rel, page, block, page::PAGE_KIND_GRAPH),
            }
            for offset in 1..=port::max_offset(page) {
                if item_of_kind(self.rel, page, block, offset, page::ELEMENT_KIND).is_some() {
                    out.push(NodeId::new(block, offset));
                }
            }
        }
    }

    /// The element's header; None if it has been freed.
    pub fn read_header(&mut self, id: NodeId) -> Option<ElementHeader> {
        self.with_element(id, ElementHeader::decode)
    }

    /// The element's header, and its filter values copied into `filter`
    /// (cleared when it has none); None if it has been freed.
    pub fn read_header_and_filter(
        &mut self,
        id: NodeId,
        filter: &mut Vec<u8>,
    ) -> Option<ElementHeader> {
        self.with_element(id, |tuple| {
            let header = ElementHeader::decode(tuple)?;
            filter.clear();
            filter.extend_from_slice(page::element_filter(tuple)?.unwrap_or_default());
            Ok(header)
        })
    }

    /// Copies the element's vector into `out`.
    pub fn read_vector(&mut self, id: NodeId, out: &mut Vec<f32>) {
        let rel = self.rel;
        self.with_vector(id, |vector, _| {
            out.clear();
            vector.extend_into(out);
        })
        .unwrap_or_else(|| corrupted(rel, id.block(), id.offset(), "not an element"))
    }

    /// Runs `f` on the element's vector and whether the element is live: read
    /// in place, or copied together from its parts when it is wide. None if
    /// VACUUM has freed it.
    fn with_vector<R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(page::StoredVector, bool) -> R,
    ) -> Option<R> {
        let (rel, dimensions) = (self.rel, self.dimensions);
        let mut f = Some(f);
        let read = self.with_element(id, |tuple| {
            let live = page::element_is_live(tuple);
            match page::element_body(tuple, dimensions).ok_or(FormatError::BadField("vector"))? {
                page::ElementBody::Inline(vector) => {
                    Ok(Ok(f.take().expect("called once")(vector, live)))
                }
                page::ElementBody::Parts(parts, width, dimensions) => {
                    Ok(Err((parts, width, dimensions, live)))
                }
            }
        })?;
        let (parts, width, dimensions, live) = match read {
            Ok(result) => return Some(result),
            Err(wide) => wide,
        };
        let mut gathered = std::mem::take(&mut self.gathered);
        gathered.clear();
        let whole = parts.iter().enumerate().all(|(position, &part)| {
            // SAFETY: the part's page is pinned and share-locked while it is copied.
            self.pins
                .with_page(part.block(), Lock::Share, |page| unsafe {
                    copy_part(rel, page, part, position, &mut gathered)
                })
        });
        let result = whole.then(|| {
            let vector =
                page::stored_vector(gathered.bytes(), width, dimensions).unwrap_or_else(|| {
                    corrupted(
                        rel,
                        id.block(),
                        id.offset(),
                        "parts hold less than the vector",
                    )
                });
            f.take().expect("called once")(vector, live)
        });
        self.gathered = gathered;
        result
    }

    /// Distance from `vector` to the element at `id`, computed in place;
    /// infinite if the element has been freed.
    fn distance_from(&mut self, vector_is_query: bool, id: NodeId) -> f32 {
        let distance = self.distance;
        let from = if vector_is_query {
            std::mem::take(&mut self.query)
        } else {
            std::mem::take(&mut self.other)
        };
        let measured =
            self.with_vector(id, |vector, live| (measure(distance, &from, vector), live));
        let (d, live) = measured.unwrap_or((f32::INFINITY, false));
        if !live {
            self.deleted.insert(id);
        }
        if vector_is_query {
            self.query = from;
        } else {
            self.other = from;
        }
        d
    }

    /// Adds a heap TID to an element that has room for it; false if it has none.
    pub fn add_heap_tid(&mut self, id: NodeId, tid: page::HeapTid) -> bool {
        self.change_element(id, |header| {
            if header.deleted
                || header.heap_tids.is_empty()
                || header.heap_tids.len() >= page::HEAP_TIDS
            {
                return false;
            }
            header.heap_tids.push(tid);
            true
        })
    }

    /// Writes `node`'s list on `layer`, WAL-logged; with `expected`, only if
    /// the list still is that (else false).
    fn write_neighbors(
        &mut self,
        node: NodeId,
        layer: usize,
        neighbors: &[NodeId],
        expected: Option<&[NodeId]>,
    ) -> bool {
        // Codes are found (reading other pages) before the list's page is locked.
        let codes = if layer == 0 {
            self.codes_for(Some(node), neighbors)
        } else {
            Vec::new()
        };
        let (rel, shape, logging) = (self.rel, self.shape, self.logging);
        let at = self.with_tuple(node, page::element_neighbors);
        let buffer = LockedBuffer::read(rel, at.block(), Lock::Exclusive);
        if let Some(expected) = expected {
            let mut current = Vec::new();
            // SAFETY: exclusively locked.
            let tuple = unsafe { item(rel, buffer.page(), at.block(), at.offset()) };
            page::read_layer(tuple, shape, layer, &mut current)
                .unwrap_or_else(|e| corrupted(rel, at.block(), at.offset(), e));
            if current != expected {
                return false;
            }
        }
        let mut write = PageWrite::start(rel, logging);
        let page = write.register(&buffer, false);
        // SAFETY: exclusively locked; `page` is the page to edit.
        let tuple = unsafe { item(rel, page, at.block(), at.offset()) };
        page::write_layer(tuple, shape, layer, neighbors, &codes)
            .unwrap_or_else(|e| corrupted(rel, at.block(), at.offset(), e));
        write.commit();
        true
    }

    /// Rewrites the element's header as `change` edits it, WAL-logged; false
    /// (and nothing written) when `change` returns false.
    fn change_element(
        &mut self,
        id: NodeId,
        change: impl FnOnce(&mut ElementHeader) -> bool,
    ) -> bool {
        let (rel, logging) = (self.rel, self.logging);
        let buffer = LockedBuffer::read(rel, id.block(), Lock::Exclusive);
        let mut write = PageWrite::start(rel, logging);
        let page = write.register(&buffer, false);
        // SAFETY: exclusively locked; `page` is the page to edit.
        let tuple = unsafe { item_of_kind(rel, page, id.block(), id.offset(), page::ELEMENT_KIND) }
            .unwrap_or_else(|| corrupted(rel, id.block(), id.offset(), "not an element"));
        let mut header = ElementHeader::decode(tuple)
            .unwrap_or_else(|e| corrupted(rel, id.block(), id.offset(), e));
        if !change(&mut header) {
            return false;
        }
        header.encode_into(tuple);
        write.commit();
        true
    }
}

impl Graph for PageGraph {
    type Id = NodeId;

    /// Known for the nodes this graph measured distances to (see `deleted`);
    /// a freed element is as good as deleted.
    fn is_deleted(&mut self, id: NodeId) -> bool {
        self.deleted.contains(&id)
    }

    fn distance(&mut self, node: NodeId) -> f32 {
        self.distance_from(true, node)
    }

    /// Exact distances, except in a scan over codes (`estimate_from_codes`)
    /// for the nodes of the layer-0 list just read: estimates from its codes.
    fn distances(&mut self, nodes: &[NodeId], out: &mut Vec<f32>) {
        if self.list_is_coded {
            if let Some(prepared) = &self.estimating {
                let stored = self.shape.code_bytes;
                out.clear();
                let mut at = 0;
                for &node in nodes {
                    // `nodes` are some of the list's, in its order.
                    match self.list[at..].iter().position(|&n| n == node) {
                        Some(i) => {
                            at += i;
                            let code = &self.list_codes[at * stored..(at + 1) * stored];
                            let estimate = prepared.estimate(code);
                            let bound = prepared.lower_bound_stored(code, estimate);
                            self.estimate_slack.0 += (estimate - bound) as f64;
                            self.estimate_slack.1 += 1;
                            self.lower_bounds.insert(node, bound);
                            out.push(estimate);
                        }
                        None => {
                            out.clear();
                            break;
                        }
                    }
                }
                if out.len() == nodes.len() {
                    return;
                }
            }
        }
        self.measure(nodes, out);
    }

    fn neighbors(&mut self, node: NodeId, layer: usize, out: &mut Vec<NodeId>) {
        out.clear();
        self.list_is_coded = false;
        if layer == 0 && self.estimating.is_some() {
            let (mut list, mut list_codes) = (
                std::mem::take(&mut self.list),
                std::mem::take(&mut self.list_codes),
            );
            list.clear();
            list_codes.clear();
            self.read_list(node, 0, &mut list, Some(&mut list_codes));
            out.extend_from_slice(&list);
            (self.list, self.list_codes) = (list, list_codes);
            self.list_is_coded = true;
        } else {
            self.read_list(node, layer, out, None);
        }
    }
}

impl PageGraph {
    /// Exact distances: pins every node's page and prefetches its line
    /// pointer, then its tuple, so the memory loads of the whole batch
    /// overlap; then measures each under a share lock, one lock per page.
    pub fn measure(&mut self, nodes: &[NodeId], out: &mut Vec<f32>) {
        out.clear();
        out.resize(nodes.len(), 0.0);
        self.buffers.clear();
        for node in nodes {
            match self.pins.pin(node.block()) {
                Some(buffer) => self.buffers.push(buffer),
                None => {
                    // The pin cache is full: no batching.
                    for (d, &node) in out.iter_mut().zip(nodes) {
                        *d = self.distance(node);
                    }
                    return;
                }
            }
        }
        // SAFETY: every page is pinned; the hints are only used as prefetch addresses.
        unsafe {
            for (node, &buffer) in nodes.iter().zip(&self.buffers) {
                let page = pg_sys::BufferGetPage(buffer);
                prefetch(port::item_id(page, node.offset()).cast());
            }
            for (node, &buffer) in nodes.iter().zip(&self.buffers) {
                if let Some((start, len)) = item_hint(pg_sys::BufferGetPage(buffer), node.offset())
                {
                    for line in (0..len.min(PREFETCH_BYTES)).step_by(64) {
                        prefetch(start.add(line));
                    }
                }
            }
        }
        // Positions sorted by block, packed as block << 8 | position (a
        // neighbor list holds at most 2 * MAX_M = 200 nodes).
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(
            nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.block() as u64) << 8 | i as u64),
        );
        order.sort_unstable();
        let (rel, dimensions, distance) = (self.rel, self.dimensions, self.distance);
        let query = std::mem::take(&mut self.query);
        let deleted = &mut self.deleted;
        // Wide elements, measured after the batch: their parts are on other pages.
        let mut wide = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let block = (order[start] >> 8) as u32;
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&packed| (packed >> 8) as u32 == block)
                    .count();
            self.pins.with_page(block, Lock::Share, |page| {
                for &packed in &order[start..end] {
                    let i = (packed & 0xFF) as usize;
                    let offset = nodes[i].offset();
                    // SAFETY: pinned and share-locked.
                    let tuple =
                        unsafe { item_of_kind(rel, page, block, offset, page::ELEMENT_KIND) };
                    if !tuple.as_deref().is_some_and(page::element_is_live) {
                        deleted.insert(nodes[i]);
                    }
                    out[i] = match tuple {
                        Some(tuple) => match page::element_vector(tuple, dimensions) {
                            Some(vector) => measure(distance, &query, vector),
                            None if page::element_is_wide(tuple) => {
                                wide.push(i);
                                f32::INFINITY
                            }
                            None => corrupted(
                                rel,
                                block,
                                offset,
                                "element's flags or length do not fit a vector",
                            ),
                        },
                        None => f32::INFINITY,
                    };
                }
            });
            start = end;
        }
        self.query = query;
        self.order = order;
        for i in wide {
            out[i] = self.distance_from(true, nodes[i]);
        }
    }

    /// Appends `node`'s neighbors on `layer` to `out`, and on layer 0 their
    /// codes to `codes` when given (the index must have codes).
    fn read_list(
        &mut self,
        node: NodeId,
        layer: usize,
        out: &mut Vec<NodeId>,
        mut codes: Option<&mut Vec<u8>>,
    ) {
        let (rel, shape, block, first) = (self.rel, self.shape, node.block(), out.len());
        // The neighbor tuple is usually on the element's page: one lock for both.
        // A freed element has no neighbors, nor has one on a layer below the
        // one asked for: on a standby, whose scans VACUUM's replay does not
        // wait for, a new element can take a freed one's place mid-descent.
        let mut read_layer = |page, at: NodeId, out: &mut Vec<NodeId>| {
            // SAFETY: the caller holds `page` pinned and share-locked.
            let found =
                unsafe { item_of_kind(rel, page, at.block(), at.offset(), page::NEIGHBOR_KIND) };
            if let Some(neighbors) = found {
                if neighbors
                    .get(1)
                    .is_some_and(|&level| (level as usize) < layer)
                {
                    return;
                }
                let read = match codes.as_deref_mut() {
                    Some(codes) => page::read_layer_codes(neighbors, shape, out, codes),
                    None => page::read_layer(neighbors, shape, layer, out),
                };
                read.unwrap_or_else(|e| corrupted(rel, at.block(), at.offset(), e));
                // A node never lists itself; one that does is a corrupted
                // list (a walk would still end, but on a wrong graph).
                if out[first..].contains(&node) {
                    corrupted(
                        rel,
                        at.block(),
                        at.offset(),
                        "a node lists itself as its neighbor",
                    );
                }
            }
        };
        let elsewhere = self.pins.with_page(block, Lock::Share, |page| {
            // SAFETY: pinned and share-locked.
            let tuple =
                unsafe { item_of_kind(rel, page, block, node.offset(), page::ELEMENT_KIND) }?;
            let at = page::element_neighbors(tuple)
                .unwrap_or_else(|e| corrupted(rel, block, node.offset(), e));
            if at.block() != block {
                return Some(at);
            }
            read_layer(page, at, out);
            None
        });
        if let Some(at) = elsewhere {
            self.pins
                .with_page(at.block(), Lock::Share, |page| read_layer(page, at, out));
        }
    }
}

impl GraphMut for PageGraph {
    fn replace_neighbors(
        &mut self,
        node: NodeId,
        layer: usize,
        expected: &[Candidate<NodeId>],
        neighbors: &[Candidate<NodeId>],
    ) -> bool {
        let expected: Vec<NodeId> = expected.iter().map(|c| c.id).collect();
        let ids: Vec<NodeId> = neighbors.iter().map(|c| c.id).collect();
        self.write_neighbors(node, layer, &ids, Some(&expected))
    }

    fn anchor(&mut self, node: NodeId) -> Option<NodeId> {
        self.with_element(node, page::element_anchor)
            .filter(|a| !a.is_none())
    }

    fn set_anchor(&mut self, node: NodeId, anchor: Option<NodeId>) {
        let anchor = anchor.unwrap_or(NodeId::NONE);
        self.change_element(node, |header| {
            std::mem::replace(&mut header.anchor, anchor) != anchor
        });
    }

    fn forget(&mut self, nodes: &[NodeId]) {
        for id in nodes {
            self.deleted.remove(id);
            if self.other_id == *id {
                self.other_id = NodeId::NONE;
            }
        }
    }

    fn distance_between(&mut self, a: NodeId, b: NodeId) -> f32 {
        if self.other_id != a {
            // Elements never change their vector; one freed while a graph
            // that repairs is in use is forgotten (`forget`).
            let mut other = std::mem::take(&mut self.other);
            self.read_vector(a, &mut other);
            self.other = other;
            self.other_id = a;
        }
        self.distance_from(false, b)
    }

    fn set_query_to(&mut self, node: NodeId) {
        let mut query = std::mem::take(&mut self.query);
        self.read_vector(node, &mut query);
        self.query = query;
    }

    fn set_neighbors(&mut self, node: NodeId, layer: usize, neighbors: &[NodeId]) {
        self.write_neighbors(node, layer, neighbors, None);
    }
}

/// Copies the piece of a wide vector that part `position` holds onto `out`;
/// false if the part has been freed (a standby's scan may meet an element
/// VACUUM's replay freed, see `item_of_kind`).
///
/// # Safety
/// `page` must be the part's page, pinned and locked.
unsafe fn copy_part(
    rel: pg_sys::Relation,
    page: pg_sys::Page,
    part: NodeId,
    position: usize,
    out: &mut page::Gathered,
) -> bool {
    let (block, offset) = (part.block(), part.offset());
    // SAFETY: as the caller promises.
    let Some(tuple) = (unsafe { item_of_kind(rel, page, block, offset, page::PART_KIND) }) else {
        return false;
    };
    let piece =
        page::part_piece(tuple, position).unwrap_or_else(|e| corrupted(rel, block, offset, e));
    out.push(piece);
    true
}
