//! The HNSW graph algorithm (Malkov & Yashunin), generic over where the graph
//! lives. Pure: no pgrx. The build uses the in-memory store in `memory.rs`;
//! index inserts and scans use the page store in `storage/`.

pub mod memory;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// Default and limits of the index options, as pgvector's.
pub const DEFAULT_M: usize = 16;
pub const MIN_M: usize = 2;
pub const MAX_M: usize = 100;
pub const DEFAULT_EF_CONSTRUCTION: usize = 64;
pub const MIN_EF_CONSTRUCTION: usize = 4;
pub const MAX_EF_CONSTRUCTION: usize = 1000;
pub const DEFAULT_EF_SEARCH: usize = 40;
pub const MIN_EF_SEARCH: usize = 1;
pub const MAX_EF_SEARCH: usize = 1000;
/// Highest layer a node may get; keeps its neighbor lists within one page.
pub const MAX_LEVEL: usize = 15;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Neighbors per node on layers above 0; layer 0 has twice as many.
    pub m: usize,
    pub ef_construction: usize,
}

impl Params {
    /// Most neighbors a node keeps on `layer`.
    pub fn max_neighbors(&self, layer: usize) -> usize {
        if layer == 0 {
            2 * self.m
        } else {
            self.m
        }
    }

    /// The level normalization mL = 1 / ln(m).
    pub fn ml(&self) -> f64 {
        1.0 / (self.m as f64).ln()
    }

    /// Draws a node's top layer from `uniform` in (0, 1]: floor(-ln(u) * mL), capped.
    pub fn level_for(&self, uniform: f64) -> usize {
        let u = uniform.clamp(f64::MIN_POSITIVE, 1.0);
        ((-u.ln() * self.ml()).floor() as usize).min(MAX_LEVEL)
    }
}

/// A node and its distance to the query; ordered by distance, then id, so
/// results are deterministic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate<Id> {
    pub distance: f32,
    pub id: Id,
}

impl<Id: Ord> Eq for Candidate<Id> {}

impl<Id: Ord> PartialOrd for Candidate<Id> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<Id: Ord> Ord for Candidate<Id> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance.total_cmp(&other.distance).then_with(|| self.id.cmp(&other.id))
    }
}

/// Where a graph is read from. Distances are to the query vector the store was
/// set up with, so a store over pages can compute them in place.
pub trait Graph {
    type Id: Copy + Eq + Ord + Hash + std::fmt::Debug;

    /// Distance from the current query to `node`.
    fn distance(&mut self, node: Self::Id) -> f32;

    /// Replaces `out` with the neighbors of `node` on `layer`.
    fn neighbors(&mut self, node: Self::Id, layer: usize, out: &mut Vec<Self::Id>);
}

/// A graph that can also be changed, as an insert needs.
pub trait GraphMut: Graph {
    /// Distance between two stored nodes.
    fn distance_between(&mut self, a: Self::Id, b: Self::Id) -> f32;

    fn set_neighbors(&mut self, node: Self::Id, layer: usize, neighbors: &[Self::Id]);
}

/// A fast hasher for node ids, which are already well spread integers.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub type IdSet<Id> = HashSet<Id, BuildHasherDefault<IdHasher>>;

/// Scratch space reused across searches: the visited set and both heaps.
pub struct SearchScratch<Id> {
    pub visited: IdSet<Id>,
    candidates: BinaryHeap<std::cmp::Reverse<Candidate<Id>>>,
    results: BinaryHeap<Candidate<Id>>,
    neighbors: Vec<Id>,
}

impl<Id: Copy + Eq + Ord + Hash> Default for SearchScratch<Id> {
    fn default() -> Self {
        SearchScratch {
            visited: IdSet::default(),
            candidates: BinaryHeap::new(),
            results: BinaryHeap::new(),
            neighbors: Vec::new(),
        }
    }
}

/// SEARCH-LAYER (Algorithm 2): the `ef` nearest nodes to the query on `layer`
/// reachable from `entries`, nearest first.
pub fn search_layer<G: Graph>(
    graph: &mut G,
    entries: &[Candidate<G::Id>],
    ef: usize,
    layer: usize,
    scratch: &mut SearchScratch<G::Id>,
    mut check_interrupts: impl FnMut(),
) -> Vec<Candidate<G::Id>> {
    let SearchScratch { visited, candidates, results, neighbors } = scratch;
    visited.clear();
    candidates.clear();
    results.clear();
    for &entry in entries {
        if visited.insert(entry.id) {
            candidates.push(std::cmp::Reverse(entry));
            results.push(entry);
        }
    }
    while results.len() > ef {
        results.pop();
    }
    while let Some(std::cmp::Reverse(nearest)) = candidates.pop() {
        let furthest = results.peek().map_or(f32::INFINITY, |c| c.distance);
        if nearest.distance > furthest && results.len() >= ef {
            break;
        }
        check_interrupts();
        graph.neighbors(nearest.id, layer, neighbors);
        for &id in neighbors.iter() {
            if !visited.insert(id) {
                continue;
            }
            let distance = graph.distance(id);
            let furthest = results.peek().map_or(f32::INFINITY, |c| c.distance);
            if results.len() < ef || distance < furthest {
                let candidate = Candidate { distance, id };
                candidates.push(std::cmp::Reverse(candidate));
                results.push(candidate);
                if results.len() > ef {
                    results.pop();
                }
            }
        }
    }
    let mut found: Vec<_> = results.drain().collect();
    found.sort_unstable();
    found
}

/// Greedy search (ef = 1) on layers `from_layer` down to `down_to_layer`,
/// inclusive: the nearest node found on each layer enters the next.
pub fn greedy_descent<G: Graph>(
    graph: &mut G,
    entry: Candidate<G::Id>,
    from_layer: usize,
    down_to_layer: usize,
    scratch: &mut SearchScratch<G::Id>,
    mut check_interrupts: impl FnMut(),
) -> Candidate<G::Id> {
    let mut nearest = entry;
    for layer in (down_to_layer..=from_layer).rev() {
        nearest = search_layer(graph, &[nearest], 1, layer, scratch, &mut check_interrupts)[0];
    }
    nearest
}

/// SELECT-NEIGHBORS-HEURISTIC (Algorithm 4), keeping pruned connections: a
/// candidate is taken when it is closer to the base than to every neighbor
/// already taken, so neighbors spread in different directions; free slots are
/// then filled with the nearest of the pruned. `candidates` is sorted nearest first.
pub fn select_neighbors<G: GraphMut>(
    graph: &mut G,
    candidates: &[Candidate<G::Id>],
    max: usize,
) -> Vec<Candidate<G::Id>> {
    if candidates.len() <= max {
        return candidates.to_vec();
    }
    let mut selected: Vec<Candidate<G::Id>> = Vec::with_capacity(max);
    let mut pruned = Vec::new();
    for &candidate in candidates {
        if selected.len() >= max {
            break;
        }
        let diverse = selected
            .iter()
            .all(|chosen| graph.distance_between(candidate.id, chosen.id) > candidate.distance);
        if diverse {
            selected.push(candidate);
        } else {
            pruned.push(candidate);
        }
    }
    for candidate in pruned {
        if selected.len() >= max {
            break;
        }
        selected.push(candidate);
    }
    selected.sort_unstable();
    selected
}

/// The first half of INSERT (Algorithm 1): the neighbors a new node at
/// `level` gets on each layer it shares with the graph, layer 0 first.
/// The graph's query must be the new node's vector.
pub fn find_neighbors<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    entry: Candidate<G::Id>,
    entry_level: usize,
    level: usize,
    scratch: &mut SearchScratch<G::Id>,
    mut check_interrupts: impl FnMut(),
) -> Vec<Vec<Candidate<G::Id>>> {
    let mut entries = vec![greedy_descent(graph, entry, entry_level, level + 1, scratch, &mut check_interrupts)];
    let mut per_layer = vec![Vec::new(); level.min(entry_level) + 1];
    for layer in (0..=level.min(entry_level)).rev() {
        let found = search_layer(graph, &entries, params.ef_construction, layer, scratch, &mut check_interrupts);
        per_layer[layer] = select_neighbors(graph, &found, params.max_neighbors(layer));
        entries = found;
    }
    per_layer
}

/// The second half of INSERT: adds `new` to the neighbors of `node` on
/// `layer`, shrinking the list with the heuristic when it is full.
/// `distance` is between `node` and `new`.
pub fn add_link<G: GraphMut>(graph: &mut G, params: &Params, node: G::Id, layer: usize, new: G::Id, distance: f32) {
    let mut current = Vec::new();
    graph.neighbors(node, layer, &mut current);
    if current.contains(&new) {
        return;
    }
    let max = params.max_neighbors(layer);
    if current.len() < max {
        current.push(new);
        graph.set_neighbors(node, layer, &current);
        return;
    }
    let mut candidates: Vec<Candidate<G::Id>> = current
        .iter()
        .map(|&id| Candidate { distance: graph.distance_between(node, id), id })
        .collect();
    candidates.push(Candidate { distance, id: new });
    candidates.sort_unstable();
    let kept: Vec<G::Id> = select_neighbors(graph, &candidates, max).iter().map(|c| c.id).collect();
    graph.set_neighbors(node, layer, &kept);
}

#[cfg(test)]
mod tests;
