//! The HNSW graph algorithm (Malkov & Yashunin), generic over where the graph
//! lives. Pure: no pgrx. The build uses the in-memory store in `memory.rs`;
//! index inserts and scans use the page store in `storage/`.

pub mod cost;
pub mod iterative;
pub mod memory;
pub mod repair;
pub mod shared;

use crate::search::{Candidate, DenseVisited, IdMap, IdSet, VisitedSet};
use std::collections::BinaryHeap;
use std::hash::Hash;

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

/// Where a graph is read from. Distances are to the query vector the store was
/// set up with, so a store over pages can compute them in place.
pub trait Graph {
    type Id: Copy + Eq + Ord + Hash + std::fmt::Debug;

    /// Distance from the current query to `node`.
    fn distance(&mut self, node: Self::Id) -> f32;

    /// Replaces `out` with the neighbors of `node` on `layer`.
    fn neighbors(&mut self, node: Self::Id, layer: usize, out: &mut Vec<Self::Id>);

    /// Distances from the query to each of `nodes`, in order, into `out`. A
    /// store may batch the work, e.g. to overlap memory latency.
    fn distances(&mut self, nodes: &[Self::Id], out: &mut Vec<f32>) {
        out.clear();
        for &node in nodes {
            let d = self.distance(node);
            out.push(d);
        }
    }

    /// Whether `node` is deleted and waits for VACUUM to cut it out: searches
    /// pass through it, but inserts must not link to it. Asked only of nodes
    /// whose distance the store measured.
    fn is_deleted(&mut self, _node: Self::Id) -> bool {
        false
    }
}

/// A graph that can also be changed, as an insert needs.
pub trait GraphMut: Graph {
    /// Distance between two stored nodes.
    fn distance_between(&mut self, a: Self::Id, b: Self::Id) -> f32;

    /// Makes a stored node's vector the query `Graph::distance` measures from.
    fn set_query_to(&mut self, node: Self::Id);

    fn set_neighbors(&mut self, node: Self::Id, layer: usize, neighbors: &[Self::Id]);

    /// The neighbors of `node` on `layer` with their distances to it. Stores
    /// that keep those distances override this to skip computing them.
    fn neighbors_with_distances(
        &mut self,
        node: Self::Id,
        layer: usize,
        out: &mut Vec<Candidate<Self::Id>>,
    ) {
        let mut ids = Vec::new();
        self.neighbors(node, layer, &mut ids);
        out.clear();
        for id in ids {
            let distance = self.distance_between(node, id);
            out.push(Candidate { distance, id });
        }
    }

    /// Like `set_neighbors`, for stores that keep the distances.
    fn set_neighbors_with_distances(
        &mut self,
        node: Self::Id,
        layer: usize,
        neighbors: &[Candidate<Self::Id>],
    ) {
        let ids: Vec<Self::Id> = neighbors.iter().map(|c| c.id).collect();
        self.set_neighbors(node, layer, &ids);
    }

    /// Sets `node`'s list on `layer` to `neighbors` if it still is
    /// `expected`, and says whether it did: inserts may change lists at once,
    /// and a change made meanwhile must not be lost.
    fn replace_neighbors(
        &mut self,
        node: Self::Id,
        layer: usize,
        expected: &[Candidate<Self::Id>],
        neighbors: &[Candidate<Self::Id>],
    ) -> bool {
        let _ = expected;
        self.set_neighbors_with_distances(node, layer, neighbors);
        true
    }

    /// The heuristic's verdict on each of `node`'s neighbors on `layer` when
    /// it last chose that list (see `select_neighbors_with`), into `out`;
    /// empty when the store does not keep them or the list changed since.
    fn neighbor_verdicts(&mut self, node: Self::Id, layer: usize, out: &mut Vec<bool>) {
        let _ = (node, layer);
        out.clear();
    }

    /// Keeps the verdicts for the list just written on `layer`, for stores that can.
    fn set_neighbor_verdicts(&mut self, node: Self::Id, layer: usize, verdicts: &[bool]) {
        let _ = (node, layer, verdicts);
    }

    /// The node whose layer-0 list holds `node`'s protected incoming link:
    /// pruning that list keeps `node` (see `add_link`).
    fn anchor(&mut self, node: Self::Id) -> Option<Self::Id>;

    fn set_anchor(&mut self, node: Self::Id, anchor: Option<Self::Id>);

    /// Forgets what the store keeps of `nodes`, just freed: from now on
    /// their ids may name new nodes.
    fn forget(&mut self, nodes: &[Self::Id]) {
        let _ = nodes;
    }
}

/// A borrowed graph is a graph, so algorithms can take either.
impl<G: Graph> Graph for &mut G {
    type Id = G::Id;
    fn distance(&mut self, node: G::Id) -> f32 {
        (**self).distance(node)
    }
    fn neighbors(&mut self, node: G::Id, layer: usize, out: &mut Vec<G::Id>) {
        (**self).neighbors(node, layer, out)
    }
    fn distances(&mut self, nodes: &[G::Id], out: &mut Vec<f32>) {
        (**self).distances(nodes, out)
    }
    fn is_deleted(&mut self, node: G::Id) -> bool {
        (**self).is_deleted(node)
    }
}

impl<G: GraphMut> GraphMut for &mut G {
    fn distance_between(&mut self, a: G::Id, b: G::Id) -> f32 {
        (**self).distance_between(a, b)
    }
    fn set_query_to(&mut self, node: G::Id) {
        (**self).set_query_to(node)
    }
    fn set_neighbors(&mut self, node: G::Id, layer: usize, neighbors: &[G::Id]) {
        (**self).set_neighbors(node, layer, neighbors)
    }
    fn neighbors_with_distances(
        &mut self,
        node: G::Id,
        layer: usize,
        out: &mut Vec<Candidate<G::Id>>,
    ) {
        (**self).neighbors_with_distances(node, layer, out)
    }
    fn set_neighbors_with_distances(
        &mut self,
        node: G::Id,
        layer: usize,
        neighbors: &[Candidate<G::Id>],
    ) {
        (**self).set_neighbors_with_distances(node, layer, neighbors)
    }
    fn replace_neighbors(
        &mut self,
        node: G::Id,
        layer: usize,
        expected: &[Candidate<G::Id>],
        neighbors: &[Candidate<G::Id>],
    ) -> bool {
        (**self).replace_neighbors(node, layer, expected, neighbors)
    }
    fn neighbor_verdicts(&mut self, node: G::Id, layer: usize, out: &mut Vec<bool>) {
        (**self).neighbor_verdicts(node, layer, out)
    }
    fn set_neighbor_verdicts(&mut self, node: G::Id, layer: usize, verdicts: &[bool]) {
        (**self).set_neighbor_verdicts(node, layer, verdicts)
    }
    fn anchor(&mut self, node: G::Id) -> Option<G::Id> {
        (**self).anchor(node)
    }
    fn set_anchor(&mut self, node: G::Id, anchor: Option<G::Id>) {
        (**self).set_anchor(node, anchor)
    }

    fn forget(&mut self, nodes: &[G::Id]) {
        (**self).forget(nodes)
    }
}

/// Scratch space reused across searches: the visited set and both heaps.
pub struct SearchScratch<Id, V = IdSet<Id>> {
    pub visited: V,
    candidates: BinaryHeap<std::cmp::Reverse<Candidate<Id>>>,
    results: BinaryHeap<Candidate<Id>>,
    neighbors: Vec<Id>,
    fresh: Vec<Id>,
    distances: Vec<f32>,
}

impl<Id: Copy + Eq + Ord + Hash, V: Default> Default for SearchScratch<Id, V> {
    fn default() -> Self {
        SearchScratch {
            visited: V::default(),
            candidates: BinaryHeap::new(),
            results: BinaryHeap::new(),
            neighbors: Vec::new(),
            fresh: Vec::new(),
            distances: Vec::new(),
        }
    }
}

/// SEARCH-LAYER (Algorithm 2): the `ef` nearest nodes to the query on `layer`
/// reachable from `entries`, nearest first.
pub fn search_layer<G: Graph, V: VisitedSet<G::Id>>(
    graph: &mut G,
    entries: &[Candidate<G::Id>],
    ef: usize,
    layer: usize,
    scratch: &mut SearchScratch<G::Id, V>,
    mut check_interrupts: impl FnMut(),
) -> Vec<Candidate<G::Id>> {
    let SearchScratch {
        visited,
        candidates,
        results,
        neighbors,
        fresh,
        distances,
    } = scratch;
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
        fresh.clear();
        fresh.extend(neighbors.iter().copied().filter(|&id| visited.insert(id)));
        graph.distances(fresh, distances);
        for (&id, &distance) in fresh.iter().zip(distances.iter()) {
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
pub fn greedy_descent<G: Graph, V: VisitedSet<G::Id>>(
    graph: &mut G,
    entry: Candidate<G::Id>,
    from_layer: usize,
    down_to_layer: usize,
    scratch: &mut SearchScratch<G::Id, V>,
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
    select_neighbors_with(graph, candidates, &[], max).0
}

/// `select_neighbors`, reusing what it decided when it last chose a list
/// (pgvector's "closer" cache): `verdicts[i]` says whether candidate i was
/// taken as diverse then. Either every candidate but one new one has a
/// verdict, or `verdicts` is empty and all are checked in full. The answer is
/// the same as checking all: a candidate taken before stays diverse unless a
/// newly taken one is nearer to it than the base is, and one pruned before
/// can only become diverse once a candidate taken before is no longer taken.
/// Returns the list and, when the heuristic ran, each entry's verdict (false:
/// filled in from the pruned).
pub fn select_neighbors_with<G: GraphMut>(
    graph: &mut G,
    candidates: &[Candidate<G::Id>],
    verdicts: &[Option<bool>],
    max: usize,
) -> (Vec<Candidate<G::Id>>, Option<Vec<bool>>) {
    if candidates.len() <= max {
        return (candidates.to_vec(), None);
    }
    debug_assert!(verdicts.is_empty() || verdicts.len() == candidates.len());
    let mut selected: Vec<Candidate<G::Id>> = Vec::with_capacity(max);
    // Taken now but not before: what a candidate taken before must beat.
    let mut added: Vec<Candidate<G::Id>> = Vec::new();
    let mut dropped_any = false;
    let mut pruned = Vec::new();
    for (i, &candidate) in candidates.iter().enumerate() {
        if selected.len() >= max {
            break;
        }
        let mut diverse_from = |taken: &[Candidate<G::Id>]| {
            taken
                .iter()
                .all(|chosen| graph.distance_between(candidate.id, chosen.id) > candidate.distance)
        };
        let before = verdicts.get(i).copied().flatten();
        let diverse = match before {
            Some(true) => {
                let still = diverse_from(&added);
                dropped_any |= !still;
                still
            }
            Some(false) => dropped_any && diverse_from(&selected),
            None => diverse_from(&selected),
        };
        if diverse {
            if before != Some(true) {
                added.push(candidate);
            }
            selected.push(candidate);
        } else {
            pruned.push(candidate);
        }
    }
    // Both lists are nearest first: merge in the nearest pruned ones.
    pruned.truncate(max - selected.len());
    let mut merged = Vec::with_capacity(selected.len() + pruned.len());
    let mut taken = Vec::with_capacity(selected.len() + pruned.len());
    let (mut a, mut b) = (
        selected.into_iter().peekable(),
        pruned.into_iter().peekable(),
    );
    loop {
        let from_selected = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x <= y,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        merged.push(if from_selected { a.next() } else { b.next() }.expect("peeked"));
        taken.push(from_selected);
    }
    (merged, Some(taken))
}

/// The first half of INSERT (Algorithm 1): the neighbors a new node at
/// `level` gets on each layer it shares with the graph, layer 0 first.
/// The graph's query must be the new node's vector.
pub fn find_neighbors<G: GraphMut, V: VisitedSet<G::Id>>(
    graph: &mut G,
    params: &Params,
    entry: Candidate<G::Id>,
    entry_level: usize,
    level: usize,
    scratch: &mut SearchScratch<G::Id, V>,
    mut check_interrupts: impl FnMut(),
) -> Vec<Vec<Candidate<G::Id>>> {
    let mut entries = vec![greedy_descent(
        graph,
        entry,
        entry_level,
        level + 1,
        scratch,
        &mut check_interrupts,
    )];
    let mut per_layer = vec![Vec::new(); level.min(entry_level) + 1];
    for layer in (0..=level.min(entry_level)).rev() {
        let found = search_layer(
            graph,
            &entries,
            params.ef_construction,
            layer,
            scratch,
            &mut check_interrupts,
        );
        per_layer[layer] = if found.iter().any(|c| graph.is_deleted(c.id)) {
            let live: Vec<Candidate<G::Id>> = found
                .iter()
                .copied()
                .filter(|c| !graph.is_deleted(c.id))
                .collect();
            select_neighbors(graph, &live, params.max_neighbors(layer))
        } else {
            select_neighbors(graph, &found, params.max_neighbors(layer))
        };
        entries = found;
    }
    per_layer
}

/// The second half of INSERT: adds `new` to the neighbors of `node` on
/// `layer`, shrinking the list with the heuristic when it is full.
/// `distance` is between `node` and `new`. Returns whether `new` was kept.
/// A list another insert changed meanwhile is read again and the change redone.
///
/// Pruning could drop a node's last incoming link, and then no search would
/// reach it. So on layer 0, where every search ends, each node has an anchor:
/// one node whose list keeps it whatever the pruning says. Anchors link every
/// node to the entry point (see `link_back`, `include_old_entry` and
/// `repair::restore_anchors`), so pruning never makes a node unreachable.
pub fn add_link<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    node: G::Id,
    layer: usize,
    new: G::Id,
    distance: f32,
) -> bool {
    let (mut old, mut candidates, mut verdicts) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        graph.neighbors_with_distances(node, layer, &mut old);
        if old.iter().any(|c| c.id == new) {
            return true;
        }
        graph.neighbor_verdicts(node, layer, &mut verdicts);
        candidates.clone_from(&old);
        let Some((kept, kept_verdicts)) = add_to_list(
            graph,
            params,
            node,
            layer,
            &mut candidates,
            &verdicts,
            Candidate { distance, id: new },
        ) else {
            return false;
        };
        if graph.replace_neighbors(node, layer, &old, &kept) {
            if let Some(kept_verdicts) = kept_verdicts {
                graph.set_neighbor_verdicts(node, layer, &kept_verdicts);
            }
            return kept.iter().any(|k| k.id == new);
        }
    }
}

/// A neighbor list, with the heuristic's verdicts on it when it alone chose it.
type ListWithVerdicts<Id> = (Vec<Candidate<Id>>, Option<Vec<bool>>);

/// `node`'s list on `layer`, `candidates`, with `new` added and pruned to
/// the maximum, keeping the nodes `node` anchors; None when they fill it.
/// `verdicts` are the heuristic's for `candidates` (see
/// `select_neighbors_with`), or empty; the new list's come back when the
/// heuristic alone chose it.
fn add_to_list<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    node: G::Id,
    layer: usize,
    candidates: &mut Vec<Candidate<G::Id>>,
    verdicts: &[bool],
    new: Candidate<G::Id>,
) -> Option<ListWithVerdicts<G::Id>> {
    // Lists are kept nearest first, so the new link goes in its place.
    let at = candidates.partition_point(|c| *c < new);
    candidates.insert(at, new);
    let max = params.max_neighbors(layer);
    if candidates.len() <= max {
        return Some((candidates.clone(), None));
    }
    let mut known: Vec<Option<bool>> = Vec::new();
    if candidates.windows(2).any(|w| w[0] > w[1]) {
        candidates.sort_unstable();
    } else if verdicts.len() + 1 == candidates.len() {
        known.extend(verdicts.iter().map(|&v| Some(v)));
        known.insert(at, None);
    }
    let (mut kept, mut kept_verdicts) = select_neighbors_with(graph, candidates, &known, max);
    if layer != 0 {
        return Some((kept, kept_verdicts));
    }
    match keep_anchored(graph, node, candidates, &mut kept, max) {
        Kept::AsChosen => {}
        // Not the heuristic's choice any more: its verdicts no longer hold.
        Kept::Changed => kept_verdicts = None,
        Kept::NoRoom => return None,
    }
    Some((kept, kept_verdicts))
}

pub(crate) enum Kept {
    AsChosen,
    Changed,
    /// More nodes are anchored to it than a list holds.
    NoRoom,
}

/// Puts back into `kept`, a layer-0 list of at most `max` chosen from
/// `candidates`, each candidate `node` anchors: pruning must not drop the
/// one link that keeps a node reachable (see `add_link`). Usually one node
/// is dropped, rarely one `node` anchors: that one takes the place of the
/// furthest kept that `node` does not anchor.
pub(crate) fn keep_anchored<G: GraphMut>(
    graph: &mut G,
    node: G::Id,
    candidates: &[Candidate<G::Id>],
    kept: &mut Vec<Candidate<G::Id>>,
    max: usize,
) -> Kept {
    let dropped_protected: Vec<Candidate<G::Id>> = candidates
        .iter()
        .filter(|c| !kept.iter().any(|k| k.id == c.id))
        .filter(|c| graph.anchor(c.id) == Some(node))
        .copied()
        .collect();
    let mut result = Kept::AsChosen;
    for protected in dropped_protected {
        if kept.len() >= max {
            let Some(victim) = kept.iter().rposition(|k| graph.anchor(k.id) != Some(node)) else {
                return Kept::NoRoom;
            };
            kept.remove(victim);
        }
        insert_sorted(kept, protected);
        result = Kept::Changed;
    }
    result
}

/// Links `node` back from each of `chosen`, its neighbors on `layer`, as
/// INSERT does. On layer 0 it also keeps `node` anchored: one without a
/// valid anchor takes the nearest chosen neighbor that keeps it, or else
/// the nearest whose list is not full of nodes it anchors. The anchor
/// is set before the link is (re)made, so that concurrent pruning already
/// keeps it. When every chosen list is full of nodes it anchors, the nearest
/// hands its furthest to `node`, which anchors it, and takes `node` instead.
pub fn link_back<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    node: G::Id,
    layer: usize,
    chosen: &[Candidate<G::Id>],
) {
    let kept: Vec<bool> = chosen
        .iter()
        .map(|c| add_link(graph, params, c.id, layer, node, c.distance))
        .collect();
    if layer != 0 || chosen.is_empty() || graph.anchor(node).is_some_and(|a| lists(graph, a, node))
    {
        return;
    }
    // Those that kept it first: their lists need not change.
    let by_kept = chosen
        .iter()
        .zip(&kept)
        .filter(|(_, &k)| k)
        .chain(chosen.iter().zip(&kept).filter(|(_, &k)| !k));
    for (c, _) in by_kept {
        graph.set_anchor(node, Some(c.id));
        if add_link(graph, params, c.id, 0, node, c.distance) {
            return;
        }
    }
    let nearest = chosen[0];
    let mut list = Vec::new();
    graph.neighbors_with_distances(nearest.id, 0, &mut list);
    // Not a deleted one: VACUUM may be cutting those out, and `node` is
    // new to it, so a link from `node` would outlive the element.
    let Some(&handed) = list.iter().rev().find(|c| !graph.is_deleted(c.id)) else {
        return;
    };
    // `handed` joins `node`'s list (which other inserts may be adding to).
    let mut own = Vec::new();
    loop {
        graph.neighbors_with_distances(node, 0, &mut own);
        if own.iter().any(|c| c.id == handed.id) {
            break;
        }
        let mut changed = own.clone();
        if changed.len() >= params.max_neighbors(0) {
            let Some(victim) = changed
                .iter()
                .rposition(|e| graph.anchor(e.id) != Some(node))
            else {
                return;
            };
            changed.remove(victim);
        }
        let distance = graph.distance_between(node, handed.id);
        insert_sorted(
            &mut changed,
            Candidate {
                distance,
                id: handed.id,
            },
        );
        if graph.replace_neighbors(node, 0, &own, &changed) {
            break;
        }
    }
    // Now `handed` may leave the nearest's list, and `node` takes its place.
    graph.set_anchor(handed.id, Some(node));
    graph.set_anchor(node, Some(nearest.id));
    add_link(graph, params, nearest.id, 0, node, nearest.distance);
}

/// For a new node that becomes the entry point: its layer-0 list must hold
/// the old entry, which it then anchors, so that anchors still lead from the
/// entry point to every node. `layer0` is the list `find_neighbors` chose.
pub fn include_old_entry<Id: Copy + Ord>(
    layer0: &mut Vec<Candidate<Id>>,
    params: &Params,
    old_entry: Candidate<Id>,
) {
    if layer0.iter().any(|c| c.id == old_entry.id) {
        return;
    }
    if layer0.len() >= params.max_neighbors(0) {
        layer0.pop();
    }
    insert_sorted(layer0, old_entry);
}

/// The rest of INSERT once the new `node` is stored with the lists
/// `per_layer`: it anchors the `old_entry` it replaces as entry point (see
/// `include_old_entry`), and each chosen neighbor links back to it.
pub fn link_new_node<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    node: G::Id,
    per_layer: &[Vec<Candidate<G::Id>>],
    old_entry: Option<Candidate<G::Id>>,
) {
    if let Some(old_entry) = old_entry {
        graph.set_anchor(old_entry.id, Some(node));
    }
    for (layer, chosen) in per_layer.iter().enumerate() {
        link_back(graph, params, node, layer, chosen);
    }
}

fn insert_sorted<Id: Ord>(list: &mut Vec<Candidate<Id>>, candidate: Candidate<Id>) {
    let at = list.partition_point(|c| *c < candidate);
    list.insert(at, candidate);
}

/// Whether `node`'s layer-0 list holds `target`.
pub(crate) fn lists<G: Graph>(graph: &mut G, node: G::Id, target: G::Id) -> bool {
    let mut list = Vec::new();
    graph.neighbors(node, 0, &mut list);
    list.contains(&target)
}

#[cfg(test)]
mod tests;
