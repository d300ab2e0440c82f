//! Filters checked inside the walk, the way ACORN (Patel et al., SIGMOD
//! 2024) does it: a design prototype, measured in memory
//! (`bench/filter_prototype.rs`) before a page format carries what it needs.
//!
//! Today's scan walks every node by distance and hands out the ones whose
//! filter values pass: under a 1% filter it measures about 7 nodes for each
//! one it hands out, and hands out about 100 for each row returned. Here the
//! walk measures only nodes that pass, and reaches past the ones that fail
//! through their own neighbor lists (two hops), which is cheap only if a
//! neighbor list says which of its nodes pass without reading them: filter
//! values, or a signature of them, beside each id in the list.

use quiver::hnsw::Graph;
use quiver::search::{Candidate, VisitedSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The work of one search, in the units pages cost.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct WalkWork {
    /// Distances computed: each reads the node's element.
    pub measured: u64,
    /// Neighbor lists read.
    pub lists_read: u64,
}

impl std::ops::AddAssign for WalkWork {
    fn add_assign(&mut self, other: WalkWork) {
        self.measured += other.measured;
        self.lists_read += other.lists_read;
    }
}

/// A graph that counts the work asked of it.
pub struct Counting<'a, G> {
    pub graph: &'a mut G,
    pub work: WalkWork,
}

impl<G: Graph> Graph for Counting<'_, G> {
    type Id = G::Id;

    fn distance(&mut self, node: G::Id) -> f32 {
        self.work.measured += 1;
        self.graph.distance(node)
    }

    fn neighbors(&mut self, node: G::Id, layer: usize, out: &mut Vec<G::Id>) {
        self.work.lists_read += 1;
        self.graph.neighbors(node, layer, out)
    }
}

/// Reusable state of `search_passing`.
pub struct PassingScratch<Id, V> {
    visited: V,
    /// Failing nodes whose lists were read for their neighbors.
    reached_through: V,
    candidates: BinaryHeap<Reverse<Candidate<Id>>>,
    /// Failing nodes not gone through yet, at the distance of the node
    /// whose list named them: where the walk goes on when nothing that
    /// passes is left in reach.
    detours: BinaryHeap<Reverse<Candidate<Id>>>,
    results: BinaryHeap<Candidate<Id>>,
    neighbors: Vec<Id>,
    second: Vec<Id>,
    failing: Vec<Id>,
    chosen: Vec<Id>,
}

impl<Id: Ord, V: Default> Default for PassingScratch<Id, V> {
    fn default() -> Self {
        PassingScratch {
            visited: V::default(),
            reached_through: V::default(),
            candidates: BinaryHeap::new(),
            detours: BinaryHeap::new(),
            results: BinaryHeap::new(),
            neighbors: Vec::new(),
            second: Vec::new(),
            failing: Vec::new(),
            chosen: Vec::new(),
        }
    }
}

/// The `ef` nearest nodes to the query on layer 0 among those that pass,
/// nearest first, from `entries`. Expanding a node takes its neighbors that
/// pass; while fewer than `wanted` do, it takes those that pass from the
/// lists of the ones that fail, one list after another. Until a node that
/// passes is found, the walk goes through the others as an unfiltered one
/// does (measuring them), so it gets from the entry point to where they are.
/// When no node that passes is left to expand and fewer than `ef` were
/// found, it goes on through failing nodes it has not gone through, nearest
/// parent first, without measuring them, until it finds more that pass.
/// It reads at most `max_lists` neighbor lists (as hnsw.max_scan_tuples
/// bounds a scan).
#[allow(clippy::too_many_arguments)]
pub fn search_passing<G: Graph, V: VisitedSet<G::Id>>(
    graph: &mut G,
    entries: &[Candidate<G::Id>],
    ef: usize,
    wanted: usize,
    max_lists: usize,
    mut passes: impl FnMut(G::Id) -> bool,
    scratch: &mut PassingScratch<G::Id, V>,
) -> Vec<Candidate<G::Id>> {
    let PassingScratch {
        visited,
        reached_through,
        candidates,
        detours,
        results,
        neighbors,
        second,
        failing,
        chosen,
    } = scratch;
    visited.clear();
    reached_through.clear();
    candidates.clear();
    detours.clear();
    results.clear();
    for &entry in entries {
        if visited.insert(entry.id) {
            candidates.push(Reverse(entry));
            if passes(entry.id) {
                results.push(entry);
            }
        }
    }
    let mut lists = 0;
    loop {
        if lists >= max_lists {
            break;
        }
        let nearest = match candidates.pop() {
            Some(Reverse(nearest)) => nearest,
            None if results.len() < ef => {
                // Nothing that passes in reach: go through a failing node.
                let Some(Reverse(detour)) = detours.pop() else {
                    break;
                };
                if !reached_through.insert(detour.id) {
                    continue;
                }
                detour
            }
            None => break,
        };
        let furthest = results.peek().map_or(f32::INFINITY, |c| c.distance);
        if results.len() >= ef && nearest.distance > furthest {
            break;
        }
        graph.neighbors(nearest.id, 0, neighbors);
        lists += 1;
        chosen.clear();
        failing.clear();
        let mut passing = 0;
        for &id in neighbors.iter() {
            if passes(id) {
                passing += 1;
                if visited.insert(id) {
                    chosen.push(id);
                }
            } else {
                failing.push(id);
            }
        }
        for (i, &through) in failing.iter().enumerate() {
            if passing >= wanted {
                // The rest may still lead on, later.
                detours.extend(failing[i..].iter().map(|&id| {
                    Reverse(Candidate {
                        distance: nearest.distance,
                        id,
                    })
                }));
                break;
            }
            if !reached_through.insert(through) {
                continue;
            }
            graph.neighbors(through, 0, second);
            lists += 1;
            for &id in second.iter() {
                if passes(id) {
                    passing += 1;
                    if visited.insert(id) {
                        chosen.push(id);
                    }
                } else {
                    detours.push(Reverse(Candidate {
                        distance: nearest.distance,
                        id,
                    }));
                }
            }
        }
        // Nothing that passes found yet: walk on through the nodes that fail.
        let navigating = results.is_empty() && chosen.is_empty();
        if navigating {
            chosen.extend(failing.iter().copied().filter(|&id| visited.insert(id)));
        }
        for &id in chosen.iter() {
            let candidate = Candidate {
                distance: graph.distance(id),
                id,
            };
            let furthest = results.peek().map_or(f32::INFINITY, |c| c.distance);
            if results.len() < ef || candidate.distance < furthest {
                candidates.push(Reverse(candidate));
                if !navigating {
                    results.push(candidate);
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
    }
    let mut found: Vec<_> = results.drain().collect();
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use quiver::hnsw::memory::{BuiltGraph, MemoryGraph};
    use quiver::hnsw::{greedy_descent, Params, SearchScratch};
    use quiver::kernels;
    use quiver::search::IdSet;
    use rand::{Rng, SeedableRng};

    fn nearest_passing(
        data: &[Vec<f32>],
        query: &[f32],
        k: usize,
        passes: impl Fn(u32) -> bool,
    ) -> Vec<u32> {
        let mut all: Vec<(f32, u32)> = (0..data.len() as u32)
            .filter(|&i| passes(i))
            .map(|i| (kernels::scalar::l2_squared(query, &data[i as usize]), i))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        all.into_iter().take(k).map(|p| p.1).collect()
    }

    #[test]
    fn finds_the_nearest_passing_nodes_measuring_only_those() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let dim = 8;
        let data: Vec<Vec<f32>> = (0..4000)
            .map(|_| (0..dim).map(|_| rng.gen::<f32>()).collect())
            .collect();
        let params = Params {
            m: 16,
            ef_construction: 64,
        };
        let mut graph = MemoryGraph::new(params, dim, kernels::scalar::l2_squared);
        for v in &data {
            graph.insert(v, params.level_for(rng.gen::<f64>()), |_| false, || {});
        }
        let (entry, level) = graph.entry().expect("built");
        let mut descent: SearchScratch<u32, IdSet<u32>> = SearchScratch::default();
        let mut scratch: PassingScratch<u32, IdSet<u32>> = PassingScratch::default();
        for (modulus, least_recall) in [(10u32, 0.95), (30, 0.9)] {
            let passes = |id: u32| id % modulus == 3;
            let (mut hits, mut measured) = (0, 0);
            for _ in 0..50 {
                let query: Vec<f32> = (0..dim).map(|_| rng.gen::<f32>()).collect();
                graph.set_query(&query);
                let top = Candidate {
                    distance: Graph::distance(&mut graph, entry),
                    id: entry,
                };
                let start = greedy_descent(&mut graph, top, level, 1, &mut descent, || {});
                let mut counting = Counting {
                    graph: &mut graph,
                    work: WalkWork::default(),
                };
                let found = search_passing(
                    &mut counting,
                    &[start],
                    40,
                    32,
                    usize::MAX,
                    passes,
                    &mut scratch,
                );
                measured += counting.work.measured;
                assert!(
                    found.iter().all(|c| passes(c.id)),
                    "only nodes that pass are returned"
                );
                assert!(found.windows(2).all(|w| w[0].distance <= w[1].distance));
                let truth = nearest_passing(&data, &query, 10, passes);
                hits += found
                    .iter()
                    .take(10)
                    .filter(|c| truth.contains(&c.id))
                    .count();
            }
            let recall = hits as f64 / 500.0;
            assert!(recall >= least_recall, "1/{modulus} pass: recall {recall}");
            eprintln!(
                "1/{modulus} pass: recall {recall}, {} measured per query",
                measured / 50
            );
            // Far fewer distances than the nodes the filter would have the
            // unfiltered walk go through (ef * modulus of them at least).
            assert!(
                measured / 50 < (40 * modulus as u64),
                "1/{modulus}: {} measured per query",
                measured / 50
            );
        }
    }
}
