//! An HNSW graph in one block of memory that several processes insert into
//! at once: the graph of a parallel build, in dynamic shared memory.
//!
//! Node records are bump-allocated and never move. A node's vector and level
//! are written before any other node can reach it and never change, so
//! distances read them without locks. Each node has a spinlock over its
//! neighbor lists and rows; nobody holds two, so nothing deadlocks, and the
//! insert algorithm already redoes a list change when the list changed
//! meanwhile (`GraphMut::replace_neighbors`). Raising the entry point takes
//! one more lock for the whole insert, as pgvector does, so two new top
//! nodes cannot both believe they are the entry.

use super::memory::{BuiltGraph, Distance, Inserted};
use super::*;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const NO_ENTRY: u64 = u64::MAX;
const NO_ANCHOR: u32 = u32::MAX;
const HEADER_BYTES: usize = 64;
const NODE_FIXED_BYTES: usize = 16;
const LIST_HEADER_BYTES: usize = 16;

#[repr(C)]
struct Header {
    /// Node ids handed out.
    node_count: AtomicU32,
    entry_lock: AtomicU32,
    /// `id << 8 | level` of the entry point, or NO_ENTRY.
    entry: AtomicU64,
    /// Bytes of the node area handed out.
    used: AtomicU64,
    /// Set once an insert found no room; the graph is then incomplete.
    full: AtomicU32,
}

/// How a shared graph lays out its memory; every process attaching to it
/// must use the same.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharedLayout {
    pub params: Params,
    pub dim: usize,
    /// Rows an element holds: equal vectors share one node up to this many.
    pub rows_per_node: usize,
    pub bytes: usize,
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

impl SharedLayout {
    /// A layout about large enough for `nodes` nodes, and at most `limit` bytes.
    pub fn for_nodes(
        params: Params,
        dim: usize,
        rows_per_node: usize,
        nodes: usize,
        limit: usize,
    ) -> SharedLayout {
        let mut layout = SharedLayout {
            params,
            dim,
            rows_per_node,
            bytes: 0,
        };
        // Levels are geometric: a node has 1 / (m - 1) upper layers on average.
        let upper = layout.list_bytes(1) as f64 / (params.m as f64 - 1.0).max(1.0);
        let per_node = 8.0 + layout.node_bytes(0) as f64 + upper;
        let wanted = HEADER_BYTES as f64 + per_node * nodes as f64;
        layout.bytes = (wanted.ceil() as usize).min(limit);
        layout
    }

    /// Bytes one neighbor list of `layer` takes: a header, (id, distance)
    /// pairs and a verdict byte per slot.
    fn list_bytes(&self, layer: usize) -> usize {
        let slots = self.params.max_neighbors(layer);
        LIST_HEADER_BYTES + slots * 8 + align8(slots)
    }

    fn vector_at(&self) -> usize {
        NODE_FIXED_BYTES + self.rows_per_node * 8
    }

    fn layer_at(&self, layer: usize) -> usize {
        let first = self.vector_at() + align8(self.dim * 4);
        if layer == 0 {
            first
        } else {
            first + self.list_bytes(0) + (layer - 1) * self.list_bytes(1)
        }
    }

    fn node_bytes(&self, level: usize) -> usize {
        self.layer_at(level + 1)
    }

    /// Most nodes the memory can hold ids for.
    fn max_nodes(&self) -> usize {
        self.bytes.saturating_sub(HEADER_BYTES) / (8 + self.node_bytes(0))
    }

    fn node_area(&self) -> usize {
        HEADER_BYTES + self.max_nodes() * 8
    }
}

/// An insert found the memory full.
#[derive(Debug, PartialEq)]
pub struct Full;

/// One process's handle on a shared graph.
pub struct SharedGraph {
    layout: SharedLayout,
    base: *mut u8,
    distance: Distance,
    query: Vec<f32>,
    scratch: SearchScratch<u32, DenseVisited>,
    /// The list this process last wrote and its version then: verdicts are
    /// kept only for a list nobody changed since.
    written: Option<(u32, usize, u32)>,
}

// SAFETY: the memory is made for concurrent use (atomics and node locks).
unsafe impl Send for SharedGraph {}

struct SpinGuard<'a>(&'a AtomicU32);

impl<'a> SpinGuard<'a> {
    fn lock(lock: &'a AtomicU32) -> Self {
        let mut spins = 0u32;
        while lock
            .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                // The holder may be descheduled: with more processes than cores, spinning only delays it.
                std::thread::yield_now();
            }
        }
        SpinGuard(lock)
    }
}

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::Release);
    }
}

/// A neighbor list's header; the pairs and verdicts follow it.
#[repr(C)]
struct ListHeader {
    count: u32,
    version: u32,
    verdict_count: u32,
    _pad: u32,
}

impl SharedGraph {
    /// Prepares `layout.bytes` bytes at `base` for an empty graph.
    ///
    /// # Safety
    /// `base` is 8-aligned, writable for `layout.bytes` bytes, and nobody else uses it yet.
    pub unsafe fn initialize(base: *mut u8, layout: &SharedLayout) {
        assert!(layout.bytes >= HEADER_BYTES && (base as usize).is_multiple_of(8));
        // SAFETY: the caller's memory is writable and unused by others, and
        // the header fits it (asserted) at its 8-aligned start.
        unsafe {
            base.cast::<Header>().write(Header {
                node_count: AtomicU32::new(0),
                entry_lock: AtomicU32::new(0),
                entry: AtomicU64::new(NO_ENTRY),
                used: AtomicU64::new(0),
                full: AtomicU32::new(0),
            })
        };
    }

    /// A handle on the graph `initialize` prepared at `base`.
    ///
    /// # Safety
    /// `base` and `layout` are what `initialize` was given, and it has
    /// returned; the memory stays mapped and writable while the handle lives.
    /// Other handles may use it at once: its state is atomics and node locks.
    pub unsafe fn attach(base: *mut u8, layout: SharedLayout, distance: Distance) -> SharedGraph {
        SharedGraph {
            layout,
            base,
            distance,
            query: Vec::new(),
            scratch: SearchScratch::default(),
            written: None,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: `initialize` wrote it; its fields are atomics.
        unsafe { &*self.base.cast::<Header>() }
    }

    fn offset_slot(&self, node: u32) -> &AtomicU64 {
        // SAFETY: node < max_nodes, so within the offsets table.
        unsafe {
            &*self
                .base
                .add(HEADER_BYTES + node as usize * 8)
                .cast::<AtomicU64>()
        }
    }

    fn record(&self, node: u32) -> *mut u8 {
        // SAFETY: a node another node or the entry lists was published whole.
        unsafe {
            self.base
                .add(self.offset_slot(node).load(Ordering::Acquire) as usize)
        }
    }

    fn lock(&self, node: u32) -> SpinGuard<'_> {
        // SAFETY: every record starts with its lock.
        SpinGuard::lock(unsafe { &*self.record(node).cast::<AtomicU32>() })
    }

    fn anchor_slot(&self, node: u32) -> &AtomicU32 {
        // SAFETY: the anchor is an atomic at byte 8 of every record.
        unsafe { &*self.record(node).add(8).cast::<AtomicU32>() }
    }

    fn stored_level(&self, node: u32) -> usize {
        // SAFETY: written before the node was published, then never again.
        unsafe { self.record(node).add(4).cast::<u32>().read() as usize }
    }

    fn stored_vector(&self, node: u32) -> &[f32] {
        // SAFETY: as `stored_level`.
        unsafe {
            std::slice::from_raw_parts(
                self.record(node).add(self.layout.vector_at()).cast::<f32>(),
                self.layout.dim,
            )
        }
    }

    /// The list of `node` on `layer`, or None above its level. The caller
    /// holds the node's lock.
    fn list(
        &self,
        node: u32,
        layer: usize,
    ) -> Option<(*mut ListHeader, *mut Candidate<u32>, *mut bool)> {
        if layer > self.stored_level(node) {
            return None;
        }
        // SAFETY: the record holds every layer up to its level.
        unsafe {
            let at = self.record(node).add(self.layout.layer_at(layer));
            let slots = self.layout.params.max_neighbors(layer);
            let pairs = at.add(LIST_HEADER_BYTES);
            Some((at.cast(), pairs.cast(), pairs.add(slots * 8).cast()))
        }
    }

    /// Calls `read` with `node`'s list on `layer` (empty above its level),
    /// under the node's lock.
    fn with_list<R>(
        &self,
        node: u32,
        layer: usize,
        read: impl FnOnce(&[Candidate<u32>]) -> R,
    ) -> R {
        let _guard = self.lock(node);
        match self.list(node, layer) {
            Some((header, pairs, _)) => {
                // SAFETY: under the node's lock; count <= slots.
                read(unsafe { std::slice::from_raw_parts(pairs, (*header).count as usize) })
            }
            None => read(&[]),
        }
    }

    fn read_list(&self, node: u32, layer: usize, out: &mut Vec<Candidate<u32>>) {
        out.clear();
        self.with_list(node, layer, |pairs| out.extend_from_slice(pairs));
    }

    /// Writes a list under the node's lock (held by the caller); returns its new version.
    fn write_list(&self, node: u32, layer: usize, neighbors: &[Candidate<u32>]) -> u32 {
        let (header, pairs, _) = self
            .list(node, layer)
            .expect("a node's lists go up to its level");
        assert!(
            neighbors.len() <= self.layout.params.max_neighbors(layer),
            "a list holds at most its maximum"
        );
        // SAFETY: under the node's lock, within the list's slots.
        unsafe {
            std::ptr::copy_nonoverlapping(neighbors.as_ptr(), pairs, neighbors.len());
            (*header).count = neighbors.len() as u32;
            (*header).verdict_count = 0;
            (*header).version = (*header).version.wrapping_add(1);
            (*header).version
        }
    }

    pub fn is_full(&self) -> bool {
        self.header().full.load(Ordering::Relaxed) != 0
    }

    /// Adds `row` to `node` if it has room.
    fn add_row(&self, node: u32, row: u64) -> bool {
        let _guard = self.lock(node);
        // SAFETY: under the node's lock; rows follow the fixed fields.
        unsafe {
            let record = self.record(node);
            let count = record.add(12).cast::<u32>();
            if (*count as usize) >= self.layout.rows_per_node {
                return false;
            }
            record
                .add(NODE_FIXED_BYTES)
                .cast::<u64>()
                .add(*count as usize)
                .write(row);
            *count += 1;
        }
        true
    }

    /// The rows `node` holds.
    pub fn rows(&self, node: u32) -> Vec<u64> {
        let _guard = self.lock(node);
        // SAFETY: under the node's lock.
        unsafe {
            let record = self.record(node);
            let count = record.add(12).cast::<u32>().read() as usize;
            std::slice::from_raw_parts(record.add(NODE_FIXED_BYTES).cast::<u64>(), count).to_vec()
        }
    }

    /// Stores a new node; None when the memory is full.
    fn allocate(
        &self,
        vector: &[f32],
        level: usize,
        row: u64,
        per_layer: &[Vec<Candidate<u32>>],
    ) -> Option<u32> {
        let header = self.header();
        let bytes = self.layout.node_bytes(level);
        let area = self.layout.node_area();
        let offset = area + header.used.fetch_add(bytes as u64, Ordering::Relaxed) as usize;
        let id = header.node_count.fetch_add(1, Ordering::Relaxed);
        if offset + bytes > self.layout.bytes || id as usize >= self.layout.max_nodes() {
            header.full.store(1, Ordering::Relaxed);
            return None;
        }
        // SAFETY: these bytes were handed to this insert alone.
        unsafe {
            let record = self.base.add(offset);
            std::ptr::write_bytes(record, 0, bytes);
            record.add(4).cast::<u32>().write(level as u32);
            let anchor = per_layer
                .first()
                .and_then(|layer0| layer0.first())
                .map_or(NO_ANCHOR, |c| c.id);
            record.add(8).cast::<u32>().write(anchor);
            record.add(12).cast::<u32>().write(1);
            record.add(NODE_FIXED_BYTES).cast::<u64>().write(row);
            std::ptr::copy_nonoverlapping(
                vector.as_ptr(),
                record.add(self.layout.vector_at()).cast::<f32>(),
                vector.len(),
            );
        }
        self.offset_slot(id).store(offset as u64, Ordering::Release);
        for (layer, chosen) in per_layer.iter().enumerate() {
            let _guard = self.lock(id);
            self.write_list(id, layer, chosen);
        }
        Some(id)
    }

    /// Inserts `vector`, a table row's, with top layer `level` (Algorithm 1),
    /// or adds the row to a node with an equal vector that has room.
    pub fn insert(
        &mut self,
        vector: &[f32],
        level: usize,
        row: u64,
        check_interrupts: impl FnMut(),
    ) -> Result<Inserted, Full> {
        assert_eq!(
            vector.len(),
            self.layout.dim,
            "vector length differs from the graph's"
        );
        if self.is_full() {
            return Err(Full);
        }
        self.query.clear();
        self.query.extend_from_slice(vector);
        let params = self.layout.params;
        // SAFETY: as `header`; not borrowed from `self`, so the entry lock can
        // be held while the insert changes lists through `self`.
        let header = unsafe { &*self.base.cast::<Header>() };
        let raises = |entry: u64| entry == NO_ENTRY || level > (entry & 0xFF) as usize;
        let entry_guard = raises(header.entry.load(Ordering::Acquire))
            .then(|| SpinGuard::lock(&header.entry_lock));
        let entry = header.entry.load(Ordering::Acquire);
        let entry_guard = entry_guard.filter(|_| raises(entry));
        let (mut per_layer, mut old_entry) = (Vec::new(), None);
        if entry != NO_ENTRY {
            let (entry_id, entry_level) = ((entry >> 8) as u32, (entry & 0xFF) as usize);
            let start = Candidate {
                distance: self.distance(entry_id),
                id: entry_id,
            };
            let mut scratch = std::mem::take(&mut self.scratch);
            per_layer = find_neighbors(
                self,
                &params,
                start,
                entry_level,
                level,
                &mut scratch,
                check_interrupts,
            );
            self.scratch = scratch;
            old_entry = (level > entry_level).then_some(start);
        }
        let equal = per_layer
            .first()
            .into_iter()
            .flatten()
            .take_while(|c| c.distance == 0.0);
        let equal: Vec<u32> = equal.map(|c| c.id).collect();
        for node in equal {
            if self.stored_vector(node) == vector && self.add_row(node, row) {
                return Ok(Inserted::Duplicate(node));
            }
        }
        if let Some(old_entry) = old_entry {
            include_old_entry(&mut per_layer[0], &params, old_entry);
        }
        let id = self.allocate(vector, level, row, &per_layer).ok_or(Full)?;
        link_new_node(self, &params, id, &per_layer, old_entry);
        if entry_guard.is_some() {
            header
                .entry
                .store((id as u64) << 8 | level as u64, Ordering::Release);
        }
        Ok(Inserted::New(id))
    }
}

impl BuiltGraph for SharedGraph {
    fn params(&self) -> Params {
        self.layout.params
    }

    fn len(&self) -> usize {
        (self.header().node_count.load(Ordering::Acquire) as usize).min(self.layout.max_nodes())
    }

    fn entry(&self) -> Option<(u32, usize)> {
        let entry = self.header().entry.load(Ordering::Acquire);
        (entry != NO_ENTRY).then_some(((entry >> 8) as u32, (entry & 0xFF) as usize))
    }

    fn level(&self, node: u32) -> usize {
        self.stored_level(node)
    }

    fn vector(&self, node: u32) -> &[f32] {
        self.stored_vector(node)
    }

    fn anchor_of(&self, node: u32) -> Option<u32> {
        Some(self.anchor_slot(node).load(Ordering::Relaxed)).filter(|&a| a != NO_ANCHOR)
    }

    fn layer_neighbors(&self, node: u32, layer: usize) -> impl Iterator<Item = u32> + '_ {
        let mut list = Vec::new();
        self.read_list(node, layer, &mut list);
        list.into_iter().map(|c| c.id)
    }
}

impl Graph for SharedGraph {
    type Id = u32;

    fn distance(&mut self, node: u32) -> f32 {
        (self.distance)(&self.query, self.stored_vector(node))
    }

    fn neighbors(&mut self, node: u32, layer: usize, out: &mut Vec<u32>) {
        out.clear();
        self.with_list(node, layer, |pairs| out.extend(pairs.iter().map(|c| c.id)));
    }
}

impl GraphMut for SharedGraph {
    fn distance_between(&mut self, a: u32, b: u32) -> f32 {
        (self.distance)(self.stored_vector(a), self.stored_vector(b))
    }

    fn set_query_to(&mut self, node: u32) {
        self.query.clear();
        let vector = self.stored_vector(node).as_ptr();
        // SAFETY: the vector never changes; `query` is this handle's own.
        self.query
            .extend_from_slice(unsafe { std::slice::from_raw_parts(vector, self.layout.dim) });
    }

    fn set_neighbors(&mut self, node: u32, layer: usize, neighbors: &[u32]) {
        let with_distances: Vec<Candidate<u32>> = neighbors
            .iter()
            .map(|&id| Candidate {
                distance: self.distance_between(node, id),
                id,
            })
            .collect();
        self.set_neighbors_with_distances(node, layer, &with_distances);
    }

    fn neighbors_with_distances(&mut self, node: u32, layer: usize, out: &mut Vec<Candidate<u32>>) {
        self.read_list(node, layer, out);
    }

    fn set_neighbors_with_distances(
        &mut self,
        node: u32,
        layer: usize,
        neighbors: &[Candidate<u32>],
    ) {
        let version = {
            let _guard = self.lock(node);
            self.write_list(node, layer, neighbors)
        };
        self.written = Some((node, layer, version));
    }

    fn replace_neighbors(
        &mut self,
        node: u32,
        layer: usize,
        expected: &[Candidate<u32>],
        neighbors: &[Candidate<u32>],
    ) -> bool {
        let version = {
            let _guard = self.lock(node);
            let Some((header, pairs, _)) = self.list(node, layer) else {
                return false;
            };
            // SAFETY: under the node's lock.
            let current = unsafe { std::slice::from_raw_parts(pairs, (*header).count as usize) };
            if current != expected {
                return false;
            }
            self.write_list(node, layer, neighbors)
        };
        self.written = Some((node, layer, version));
        true
    }

    fn neighbor_verdicts(&mut self, node: u32, layer: usize, out: &mut Vec<bool>) {
        out.clear();
        let _guard = self.lock(node);
        if let Some((header, _, verdicts)) = self.list(node, layer) {
            // SAFETY: under the node's lock; verdict_count <= slots.
            unsafe {
                if (*header).verdict_count == (*header).count {
                    out.extend_from_slice(std::slice::from_raw_parts(
                        verdicts,
                        (*header).verdict_count as usize,
                    ));
                }
            }
        }
    }

    fn set_neighbor_verdicts(&mut self, node: u32, layer: usize, verdicts: &[bool]) {
        let _guard = self.lock(node);
        let Some((header, _, slots)) = self.list(node, layer) else {
            return;
        };
        // SAFETY: under the node's lock; the length is checked against the list.
        unsafe {
            let unchanged = self.written == Some((node, layer, (*header).version));
            if unchanged && verdicts.len() == (*header).count as usize {
                std::ptr::copy_nonoverlapping(verdicts.as_ptr(), slots, verdicts.len());
                (*header).verdict_count = verdicts.len() as u32;
            }
        }
    }

    fn anchor(&mut self, node: u32) -> Option<u32> {
        self.anchor_of(node)
    }

    fn set_anchor(&mut self, node: u32, anchor: Option<u32>) {
        self.anchor_slot(node)
            .store(anchor.unwrap_or(NO_ANCHOR), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::memory::reconnect_unreachable_nodes;

    fn l2(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    fn random_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        (0..n).map(|_| (0..dim).map(|_| next()).collect()).collect()
    }

    fn level_of(params: &Params, i: usize) -> usize {
        let mut x = i as u64 ^ 0x9E37_79B9_7F4A_7C15;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        params.level_for(((x >> 11) as f64 + 1.0) / (1u64 << 53) as f64)
    }

    /// Builds a shared graph of `vectors` with `threads` inserting at once.
    fn build(
        vectors: &[Vec<f32>],
        params: Params,
        threads: usize,
        bytes: usize,
    ) -> (Vec<u64>, SharedLayout, Vec<bool>) {
        let dim = vectors[0].len();
        // A fifth more room than the average: levels are drawn at random.
        let layout = SharedLayout::for_nodes(params, dim, 2, vectors.len() * 6 / 5, bytes);
        let mut memory = vec![0u64; layout.bytes.div_ceil(8)];
        let base = memory.as_mut_ptr().cast::<u8>() as usize;
        // SAFETY: `memory` is 8-aligned (u64s), at least layout.bytes long,
        // and no thread has it yet.
        unsafe { SharedGraph::initialize(base as *mut u8, &layout) };
        let outcomes: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        // SAFETY: initialized above; `memory` is not touched
                        // until every thread of the scope has ended.
                        let mut graph = unsafe { SharedGraph::attach(base as *mut u8, layout, l2) };
                        (t..vectors.len())
                            .step_by(threads)
                            .map(|i| {
                                graph
                                    .insert(&vectors[i], level_of(&params, i), i as u64, || {})
                                    .is_ok()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let per_thread: Vec<Vec<bool>> =
                handles.into_iter().map(|h| h.join().unwrap()).collect();
            (0..vectors.len())
                .map(|i| per_thread[i % threads][i / threads])
                .collect()
        });
        (memory, layout, outcomes)
    }

    #[test]
    fn threads_inserting_at_once_build_a_graph_that_finds_the_nearest() {
        let params = Params {
            m: 8,
            ef_construction: 64,
        };
        let vectors = random_vectors(3000, 16, 7);
        let (mut memory, layout, outcomes) = build(&vectors, params, 4, usize::MAX);
        assert!(outcomes.iter().all(|&ok| ok));
        // SAFETY: `build` initialized `memory` for `layout`; it outlives the handle.
        let mut graph = unsafe { SharedGraph::attach(memory.as_mut_ptr().cast(), layout, l2) };
        assert_eq!(graph.len(), 3000);
        // Every row is in exactly one node; lists are within bounds, without self links or repeats.
        let mut rows: Vec<u64> = (0..3000).flat_map(|n| graph.rows(n)).collect();
        rows.sort_unstable();
        assert_eq!(rows, (0..3000).collect::<Vec<u64>>());
        for node in 0..3000u32 {
            for layer in 0..=graph.level(node) {
                let list: Vec<u32> = graph.layer_neighbors(node, layer).collect();
                assert!(list.len() <= params.max_neighbors(layer));
                assert!(!list.contains(&node));
                let mut unique = list.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(unique.len(), list.len());
            }
        }
        assert_eq!(
            reconnect_unreachable_nodes(&mut graph, || {}),
            0,
            "anchors keep every node reachable"
        );
        // Recall@10 at ef 64 against brute force, query by query.
        let queries = random_vectors(50, 16, 99);
        let mut scratch: SearchScratch<u32, DenseVisited> = SearchScratch::default();
        let (entry, entry_level) = graph.entry().unwrap();
        let mut total = 0;
        for query in &queries {
            graph.query.clone_from(query);
            let start = Candidate {
                distance: graph.distance(entry),
                id: entry,
            };
            let nearest = greedy_descent(&mut graph, start, entry_level, 1, &mut scratch, || {});
            let found = search_layer(&mut graph, &[nearest], 64, 0, &mut scratch, || {});
            let mut exact: Vec<(f32, u32)> = vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (l2(query, v), i as u32))
                .collect();
            exact.sort_by(|a, b| a.0.total_cmp(&b.0));
            let truth: Vec<u32> = exact[..10].iter().map(|e| e.1).collect();
            let hits = found[..10]
                .iter()
                .filter(|c| truth.contains(&(graph.rows(c.id)[0] as u32)))
                .count();
            assert!(hits >= 8, "recall@10 of a query is {hits}/10");
            total += hits;
        }
        assert!(
            total as f64 / 500.0 > 0.97,
            "recall@10 {}",
            total as f64 / 500.0
        );
    }

    #[test]
    fn equal_vectors_share_a_node_up_to_its_rows() {
        let params = Params {
            m: 4,
            ef_construction: 16,
        };
        let vectors = vec![vec![1.0, 2.0]; 5];
        let (mut memory, layout, outcomes) = build(&vectors, params, 1, usize::MAX);
        assert!(outcomes.iter().all(|&ok| ok));
        // SAFETY: `build` initialized `memory` for `layout`; it outlives the handle.
        let graph = unsafe { SharedGraph::attach(memory.as_mut_ptr().cast(), layout, l2) };
        // Two rows per node: five equal rows take three nodes.
        assert_eq!(graph.len(), 3);
        assert_eq!((0..3).map(|n| graph.rows(n).len()).sum::<usize>(), 5);
    }

    #[test]
    fn a_full_memory_refuses_inserts_and_says_so() {
        let params = Params {
            m: 4,
            ef_construction: 16,
        };
        let vectors = random_vectors(200, 8, 3);
        let small = SharedLayout::for_nodes(params, 8, 2, 50, usize::MAX).bytes;
        let (mut memory, layout, outcomes) = build(&vectors, params, 2, small);
        assert!(outcomes.iter().any(|&ok| !ok));
        // SAFETY: `build` initialized `memory` for `layout`; it outlives the handle.
        let graph = unsafe { SharedGraph::attach(memory.as_mut_ptr().cast(), layout, l2) };
        assert!(graph.is_full());
        let stored = outcomes.iter().filter(|&&ok| ok).count();
        assert!(
            (40..100).contains(&stored),
            "{stored} of 200 stored in room for about 50"
        );
    }
}
