//! A layer-0 search that can go on after its first `ef` results: what an
//! index scan needs when a WHERE filter rejects many of them.
//!
//! It is SEARCH-LAYER (Algorithm 2) with nothing thrown away: the `ef`
//! nearest found so far form the window; nodes pushed out of it wait in an
//! overflow heap. Each batch expands the frontier until its nearest node is
//! farther than the window's farthest, then hands out the window, nearest
//! first, and refills it from the overflow. The first batch is exactly the
//! classic search.
//!
//! A batch is empty only when the search is over: every node it measured has
//! been handed out (or, in strict order, skipped) and nothing is left to
//! expand, or the budget closed it and what it had measured is handed out.

use super::{greedy_descent, Graph, SearchScratch};
use crate::search::{Candidate, IdSet, VisitedSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How results of later batches are ordered against earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Each batch is sorted; a later batch may hold a node nearer than the
    /// last one handed out.
    Relaxed,
    /// Results come out in non-decreasing distance. While the walk can still
    /// find nodes, each batch hands out only the nearer half of its window,
    /// so that a nearer node the next step finds can still go first; the
    /// rare node found nearer than one already handed out is skipped, and the
    /// search goes on to the next batch, so skipping never ends it early.
    Strict,
}

/// How far later batches may walk: pgvector's `hnsw.max_scan_tuples` and
/// `hnsw.scan_mem_multiplier`. Past either bound the search stops measuring
/// new nodes and hands out the ones it has measured, nearest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most nodes whose distance the search measures.
    pub max_visited: usize,
    /// Most bytes the search state may hold (see `memory_bytes`).
    pub max_memory_bytes: usize,
}

impl Budget {
    pub const UNLIMITED: Budget = Budget {
        max_visited: usize::MAX,
        max_memory_bytes: usize::MAX,
    };
}

pub struct IterativeSearch<Id, V = IdSet<Id>> {
    frontier: BinaryHeap<Reverse<Candidate<Id>>>,
    window: BinaryHeap<Candidate<Id>>,
    overflow: BinaryHeap<Reverse<Candidate<Id>>>,
    visited: V,
    /// Nodes whose distance was measured: what the budget counts, as
    /// pgvector's hnsw.max_scan_tuples does.
    pub visited_count: usize,
    /// Nodes handed out in batches.
    pub returned_count: usize,
    /// Nodes strict order dropped because a nearer one was found after a
    /// farther one had been handed out.
    pub skipped_count: usize,
    last_returned: f32,
    neighbors: Vec<Id>,
    fresh: Vec<Id>,
    distances: Vec<f32>,
}

impl<Id: Copy + Ord + std::hash::Hash, V: VisitedSet<Id>> Default for IterativeSearch<Id, V> {
    fn default() -> Self {
        IterativeSearch {
            frontier: BinaryHeap::new(),
            window: BinaryHeap::new(),
            overflow: BinaryHeap::new(),
            visited: V::default(),
            visited_count: 0,
            returned_count: 0,
            skipped_count: 0,
            last_returned: f32::NEG_INFINITY,
            neighbors: Vec::new(),
            fresh: Vec::new(),
            distances: Vec::new(),
        }
    }
}

impl<Id: Copy + Ord + std::hash::Hash + std::fmt::Debug, V: VisitedSet<Id>> IterativeSearch<Id, V> {
    /// Starts over from `entries` (layer-0 nodes, with their distances).
    pub fn start(&mut self, entries: &[Candidate<Id>]) {
        self.frontier.clear();
        self.window.clear();
        self.overflow.clear();
        self.visited.clear();
        self.visited_count = 0;
        self.returned_count = 0;
        self.skipped_count = 0;
        self.last_returned = f32::NEG_INFINITY;
        for &entry in entries {
            if self.visited.insert(entry.id) {
                self.visited_count += 1;
                self.frontier.push(Reverse(entry));
                self.window.push(entry);
            }
        }
    }

    /// Starts over as an index scan does: descends greedily from the entry
    /// point to layer 1, then searches layer 0 from the node reached and from
    /// the entry point itself, which, far, is expanded only once the nearer
    /// part runs out (anchors lead from it to every node).
    pub fn start_from_top<G: Graph<Id = Id>, D: VisitedSet<Id>>(
        &mut self,
        graph: &mut G,
        entry: Id,
        entry_level: usize,
        descent: &mut SearchScratch<Id, D>,
        check_interrupts: impl FnMut(),
    ) {
        let top = Candidate {
            distance: graph.distance(entry),
            id: entry,
        };
        let nearest = greedy_descent(graph, top, entry_level, 1, descent, check_interrupts);
        self.start(&[nearest, top]);
    }

    /// Bytes the search state holds, roughly: for the scan's memory bound.
    pub fn memory_bytes(&self) -> usize {
        let candidate = std::mem::size_of::<Candidate<Id>>();
        (self.frontier.len() + self.window.len() + self.overflow.len()) * candidate
            + self.visited_count * (std::mem::size_of::<Id>() + 8)
    }

    /// The smallest distance among the nodes found and not handed out, or
    /// waiting to be expanded: later batches come from these and their
    /// neighbors.
    pub fn nearest_left(&self) -> Option<f32> {
        let frontier = self.frontier.peek().map(|c| c.0.distance);
        let overflow = self.overflow.peek().map(|c| c.0.distance);
        let window = self.window.iter().map(|c| c.distance).reduce(f32::min);
        [frontier, overflow, window]
            .into_iter()
            .flatten()
            .reduce(f32::min)
    }

    /// Whether anything is left to expand or hand out.
    pub fn is_exhausted(&self) -> bool {
        self.frontier.is_empty() && self.window.is_empty() && self.overflow.is_empty()
    }

    fn add(&mut self, candidate: Candidate<Id>, ef: usize) {
        let far = self.window.peek().map_or(f32::INFINITY, |c| c.distance);
        if self.window.len() < ef || candidate.distance < far {
            self.frontier.push(Reverse(candidate));
            self.window.push(candidate);
            if self.window.len() > ef {
                let out = self.window.pop().expect("window holds more than ef");
                self.overflow.push(Reverse(out));
            }
        } else {
            // Not among the ef nearest now, but a later batch may want it.
            self.frontier.push(Reverse(candidate));
            self.overflow.push(Reverse(candidate));
        }
    }

    /// Moves nodes between window and overflow so that the window holds the
    /// `ef` nearest not yet handed out. Every overflow node is at least as
    /// far as every window node, before and after.
    fn fill_window(&mut self, ef: usize) {
        while self.window.len() < ef {
            match self.overflow.pop() {
                Some(Reverse(c)) => self.window.push(c),
                None => break,
            }
        }
        while self.window.len() > ef {
            let out = self.window.pop().expect("window holds more than ef");
            self.overflow.push(Reverse(out));
        }
    }

    /// SEARCH-LAYER's loop: expands the nearest frontier node until it is
    /// farther than the window's farthest. Returns false if the budget
    /// closed the walk, which then expands nothing more.
    fn expand<G: Graph<Id = Id>>(
        &mut self,
        graph: &mut G,
        layer: usize,
        ef: usize,
        budget: Budget,
        check_interrupts: &mut impl FnMut(),
    ) -> bool {
        while let Some(&Reverse(nearest)) = self.frontier.peek() {
            let far = self.window.peek().map_or(f32::INFINITY, |c| c.distance);
            if nearest.distance > far && self.window.len() >= ef {
                break;
            }
            if self.visited_count >= budget.max_visited
                || self.memory_bytes() > budget.max_memory_bytes
            {
                self.frontier.clear();
                return false;
            }
            self.frontier.pop();
            check_interrupts();
            graph.neighbors(nearest.id, layer, &mut self.neighbors);
            self.fresh.clear();
            for &id in &self.neighbors {
                if self.visited.insert(id) {
                    self.fresh.push(id);
                }
            }
            self.visited_count += self.fresh.len();
            let mut distances = std::mem::take(&mut self.distances);
            graph.distances(&self.fresh, &mut distances);
            // Slicing panics, as indexing did, if a distance is missing.
            for (i, &distance) in distances[..self.fresh.len()].iter().enumerate() {
                let candidate = Candidate {
                    distance,
                    id: self.fresh[i],
                };
                self.add(candidate, ef);
            }
            self.distances = distances;
        }
        true
    }

    /// The next batch: up to `ef` nodes, nearest first; empty only when the
    /// search is over. `budget` bounds the walk of this and later batches
    /// (the first batch of a scan is the classic search: pass UNLIMITED).
    pub fn next_batch<G: Graph<Id = Id>>(
        &mut self,
        graph: &mut G,
        layer: usize,
        ef: usize,
        order: Order,
        budget: Budget,
        mut check_interrupts: impl FnMut(),
    ) -> Vec<Candidate<Id>> {
        loop {
            self.fill_window(ef);
            let open = self.expand(graph, layer, ef, budget, &mut check_interrupts)
                && !self.frontier.is_empty();
            let mut batch: Vec<Candidate<Id>> = self.window.drain().collect();
            batch.sort_unstable();
            if order == Order::Strict {
                // Hand out the nearer half only while the walk may still find
                // nodes: the farther half waits, so that a nearer node the
                // next step finds can still go before it. Once nothing is
                // left to find, the order of what remains is final.
                if open && batch.len() > 1 {
                    let keep = batch.split_off(batch.len().div_ceil(2));
                    self.window.extend(keep);
                }
                let last = self.last_returned;
                let before = batch.len();
                batch.retain(|c| c.distance >= last);
                self.skipped_count += before - batch.len();
            }
            if let Some(c) = batch.last() {
                self.last_returned = self.last_returned.max(c.distance);
            }
            self.returned_count += batch.len();
            // A strict batch whose nodes were all skipped is not the end.
            if !batch.is_empty() || self.is_exhausted() {
                return batch;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::memory::{BuiltGraph, MemoryGraph};
    use crate::hnsw::{greedy_descent, search_layer, Graph, Params, SearchScratch};
    use crate::search::DenseVisited;
    use rand::{Rng, SeedableRng};

    fn graph(count: usize) -> (MemoryGraph, Vec<Vec<f32>>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let params = Params {
            m: 8,
            ef_construction: 32,
        };
        let mut g = MemoryGraph::new(params, 8, crate::kernels::scalar::l2_squared);
        let points: Vec<Vec<f32>> = (0..count)
            .map(|_| (0..8).map(|_| rng.gen_range(-1.0..1.0)).collect())
            .collect();
        for p in &points {
            g.insert(p, params.level_for(rng.gen::<f64>()), |_| false, || {});
        }
        (g, points)
    }

    fn layer0_entry(g: &mut MemoryGraph, query: &[f32]) -> Candidate<u32> {
        g.set_query(query);
        let (entry, level) = g.entry().unwrap();
        let start = Candidate {
            distance: g.distance(entry),
            id: entry,
        };
        let mut scratch: SearchScratch<u32, DenseVisited> = SearchScratch::default();
        greedy_descent(g, start, level, 1, &mut scratch, || {})
    }

    /// What an index scan makes of the batches: hands out nodes until `k`
    /// of them pass the executor's filter, or a batch comes back empty.
    fn scan(
        g: &mut MemoryGraph,
        query: &[f32],
        ef: usize,
        order: Order,
        k: usize,
        filter: impl Fn(u32) -> bool,
    ) -> Vec<Candidate<u32>> {
        g.set_query(query);
        let (entry, level) = g.entry().unwrap();
        let mut search: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
        let mut descent: SearchScratch<u32, DenseVisited> = SearchScratch::default();
        search.start_from_top(g, entry, level, &mut descent, || {});
        let mut rows = Vec::new();
        loop {
            let batch = search.next_batch(g, 0, ef, order, Budget::UNLIMITED, || {});
            if batch.is_empty() {
                return rows;
            }
            for c in batch.into_iter().filter(|c| filter(c.id)) {
                rows.push(c);
                if rows.len() == k {
                    return rows;
                }
            }
        }
    }

    fn held_out_queries(count: usize) -> Vec<Vec<f32>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        (0..count)
            .map(|_| (0..8).map(|_| rng.gen_range(-1.0..1.0)).collect())
            .collect()
    }

    #[test]
    fn every_scan_returns_k_rows_at_any_ef_and_filter() {
        // Strict order used to end a scan at a batch whose nodes it had all
        // skipped (found nearer than one already handed out): at ef 1, most
        // of these scans stopped after one or two rows.
        let (mut g, _) = graph(3000);
        for (modulo, matching) in [(1u32, "all"), (10, "10%"), (100, "1%")] {
            for ef in [1, 5, 10, 40] {
                for order in [Order::Strict, Order::Relaxed] {
                    for (i, q) in held_out_queries(100).iter().enumerate() {
                        let rows = scan(&mut g, q, ef, order, 10, |id| id % modulo == 7 % modulo);
                        assert_eq!(
                            rows.len(),
                            10,
                            "{matching} of rows, ef {ef}, {order:?}, query {i}"
                        );
                        if order == Order::Strict {
                            assert!(
                                rows.windows(2).all(|w| w[0].distance <= w[1].distance),
                                "query {i} out of order"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_scan_returns_every_matching_row_when_fewer_than_k_match() {
        let (mut g, points) = graph(3000);
        let mut skipped = 0;
        for ef in [1, 10, 40] {
            for (i, q) in held_out_queries(50)
                .iter()
                .chain(points.iter().step_by(100))
                .enumerate()
            {
                // 6 rows match: ids 7, 507, ..., 2507.
                let rows = scan(&mut g, q, ef, Order::Strict, 10, |id| id % 500 == 7);
                skipped += 6 - rows.len();
                assert!(
                    rows.windows(2).all(|w| w[0].distance <= w[1].distance),
                    "query {i} out of order"
                );
            }
        }
        assert_eq!(skipped, 0);
    }

    #[test]
    fn first_batch_is_the_classic_search() {
        let (mut g, points) = graph(1500);
        for q in points.iter().step_by(150) {
            let entry = layer0_entry(&mut g, q);
            let mut scratch: SearchScratch<u32, DenseVisited> = SearchScratch::default();
            let classic = search_layer(&mut g, &[entry], 40, 0, &mut scratch, || {});
            let mut search: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
            search.start(&[entry]);
            let batch = search.next_batch(&mut g, 0, 40, Order::Relaxed, Budget::UNLIMITED, || {});
            assert_eq!(batch, classic);
            // Strict order hands out the nearer half of the same.
            let mut strict: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
            strict.start(&[entry]);
            let half = strict.next_batch(&mut g, 0, 40, Order::Strict, Budget::UNLIMITED, || {});
            assert_eq!(half, classic[..20]);
        }
    }

    #[test]
    fn unlimited_search_reaches_every_node_once() {
        let (mut g, points) = graph(1000);
        let entry = layer0_entry(&mut g, &points[3]);
        // Anchors lead from the entry point to every node, as scans start.
        let (top, _) = g.entry().unwrap();
        let top = Candidate {
            distance: g.distance(top),
            id: top,
        };
        let mut search: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
        search.start(&[entry, top]);
        let mut seen = std::collections::HashSet::new();
        loop {
            let batch = search.next_batch(&mut g, 0, 20, Order::Relaxed, Budget::UNLIMITED, || {});
            if batch.is_empty() {
                break;
            }
            for c in batch {
                assert!(seen.insert(c.id), "node {} returned twice", c.id);
            }
        }
        assert_eq!(seen.len(), 1000, "every node is reached");
        assert!(search.is_exhausted());
    }

    #[test]
    fn a_batch_holds_at_most_ef_whatever_the_entries() {
        let (mut g, points) = graph(200);
        let entry = layer0_entry(&mut g, &points[5]);
        let (top, _) = g.entry().unwrap();
        let top = Candidate {
            distance: g.distance(top),
            id: top,
        };
        let mut search: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
        search.start(&[entry, top]);
        let batch = search.next_batch(&mut g, 0, 1, Order::Relaxed, Budget::UNLIMITED, || {});
        assert_eq!(batch.iter().map(|c| c.id).collect::<Vec<_>>(), vec![5]);
    }

    #[test]
    fn strict_order_never_goes_back() {
        let (mut g, points) = graph(1000);
        let entry = layer0_entry(&mut g, &points[9]);
        let mut search: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
        search.start(&[entry]);
        let mut last = f32::NEG_INFINITY;
        let mut returned = std::collections::HashSet::new();
        for _ in 0..100 {
            for c in search.next_batch(&mut g, 0, 10, Order::Strict, Budget::UNLIMITED, || {}) {
                assert!(c.distance >= last, "{} after {last}", c.distance);
                last = c.distance;
                returned.insert(c.id);
            }
            if returned.len() >= 150 {
                break;
            }
        }
        assert!(
            returned.len() >= 150,
            "strict order returned only {}",
            returned.len()
        );
        // What it returned is nearly the true 150 nearest: few were skipped.
        let mut all: Vec<Candidate<u32>> = (0..1000u32)
            .map(|id| Candidate {
                distance: crate::kernels::scalar::l2_squared(&points[9], g.vector(id)),
                id,
            })
            .collect();
        all.sort_unstable();
        let found = all[..150]
            .iter()
            .filter(|c| returned.contains(&c.id))
            .count();
        assert!(found >= 140, "{found} of the 150 nearest");
    }

    #[test]
    fn budget_closes_the_walk_and_hands_out_what_was_measured() {
        let (mut g, points) = graph(1000);
        let entry = layer0_entry(&mut g, &points[0]);
        for order in [Order::Relaxed, Order::Strict] {
            let mut search: IterativeSearch<u32, DenseVisited> = IterativeSearch::default();
            search.start(&[entry]);
            let budget = Budget {
                max_visited: 95,
                max_memory_bytes: usize::MAX,
            };
            let mut total = 0;
            let mut last = f32::NEG_INFINITY;
            loop {
                let batch = search.next_batch(&mut g, 0, 10, order, budget, || {});
                if batch.is_empty() {
                    break;
                }
                if order == Order::Strict {
                    assert!(batch[0].distance >= last);
                    last = batch.last().unwrap().distance;
                }
                total += batch.len();
            }
            // One expansion may pass the bound by a neighbor list (2m = 16).
            assert!(
                (95..95 + 16).contains(&search.visited_count),
                "{}",
                search.visited_count
            );
            assert_eq!(
                total + search.skipped_count,
                search.visited_count,
                "{order:?}"
            );
            assert!(search.is_exhausted());
        }
    }
}
