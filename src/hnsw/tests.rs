use super::memory::{BuiltGraph, Inserted, MemoryGraph};
use super::*;
use crate::kernels;
use rand::{Rng, SeedableRng};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

fn l2(a: &[f32], b: &[f32]) -> f32 {
    kernels::scalar::l2_squared(a, b)
}

/// Points around a few centers, like real embeddings are.
fn clustered(rng: &mut rand::rngs::StdRng, count: usize, dim: usize) -> Vec<Vec<f32>> {
    let centers: Vec<Vec<f32>> = (0..20)
        .map(|_| (0..dim).map(|_| rng.gen_range(-10.0..10.0)).collect())
        .collect();
    (0..count)
        .map(|_| {
            let c = &centers[rng.gen_range(0..centers.len())];
            c.iter().map(|x| x + rng.gen_range(-3.0..3.0)).collect()
        })
        .collect()
}

fn build(points: &[Vec<f32>], params: Params, seed: u64) -> MemoryGraph {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut graph = MemoryGraph::new(params, points[0].len(), l2);
    for p in points {
        let level = params.level_for(rng.gen::<f64>());
        graph.insert(p, level, |_| false, || {});
    }
    graph
}

fn exact_top_k(points: &[Vec<f32>], query: &[f32], k: usize) -> Vec<u32> {
    let mut all: Vec<Candidate<u32>> = points
        .iter()
        .enumerate()
        .map(|(i, p)| Candidate {
            distance: l2(query, p),
            id: i as u32,
        })
        .collect();
    all.sort_unstable();
    all.iter().take(k).map(|c| c.id).collect()
}

fn recall_at_10(
    graph: &mut MemoryGraph,
    points: &[Vec<f32>],
    queries: &[Vec<f32>],
    ef: usize,
) -> f64 {
    let mut hits = 0;
    for q in queries {
        let truth = exact_top_k(points, q, 10);
        let found: Vec<u32> = graph.search(q, ef).iter().take(10).map(|c| c.id).collect();
        hits += found.iter().filter(|id| truth.contains(id)).count();
    }
    hits as f64 / (10 * queries.len()) as f64
}

fn uniform(rng: &mut rand::rngs::StdRng, count: usize, dim: usize) -> Vec<Vec<f32>> {
    (0..count)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect()
}

#[test]
fn recall_against_brute_force_is_high_and_grows_with_ef() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let points = uniform(&mut rng, 3000, 24);
    let queries = uniform(&mut rng, 100, 24);
    let params = Params {
        m: 16,
        ef_construction: 64,
    };
    let mut graph = build(&points, params, 5);
    let low = recall_at_10(&mut graph, &points, &queries, 10);
    let high = recall_at_10(&mut graph, &points, &queries, 100);
    eprintln!("recall@10: ef=10 {low:.3}, ef=100 {high:.3}");
    assert!(high >= 0.98, "recall at ef=100 is {high}");
    assert!(high > low, "recall should grow with ef: {low} -> {high}");
}

#[test]
fn search_returns_sorted_distinct_results() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let points = clustered(&mut rng, 500, 8);
    let mut graph = build(
        &points,
        Params {
            m: 8,
            ef_construction: 32,
        },
        1,
    );
    let found = graph.search(&points[7], 50);
    assert_eq!(found.len(), 50);
    assert_eq!(found[0].id, 7, "a stored vector finds itself first");
    assert!(found.windows(2).all(|w| w[0].distance <= w[1].distance));
    let distinct: std::collections::HashSet<u32> = found.iter().map(|c| c.id).collect();
    assert_eq!(distinct.len(), found.len());
}

#[test]
fn degrees_stay_within_bounds_and_links_are_valid() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let points = clustered(&mut rng, 2000, 6);
    let params = Params {
        m: 4,
        ef_construction: 16,
    };
    let graph = build(&points, params, 2);
    let (entry, entry_level) = graph.entry().unwrap();
    assert_eq!(graph.level(entry), entry_level);
    for node in 0..graph.len() as u32 {
        assert!(graph.level(node) <= entry_level);
        for layer in 0..=graph.level(node) {
            let list: Vec<u32> = graph.layer_neighbors(node, layer).collect();
            assert!(
                list.len() <= params.max_neighbors(layer),
                "node {node} layer {layer}: {}",
                list.len()
            );
            for &n in &list {
                assert_ne!(n, node, "no self links");
                assert!(
                    graph.level(n) >= layer,
                    "a neighbor on layer {layer} must reach that layer"
                );
            }
            if graph.len() > 1 && layer == 0 {
                assert!(!list.is_empty(), "node {node} is isolated on layer 0");
            }
        }
    }
}

/// A tiny store of 1-D points for checking the heuristic by hand.
struct Line(Vec<f32>);

impl Graph for Line {
    type Id = u32;
    fn distance(&mut self, node: u32) -> f32 {
        self.0[node as usize].abs()
    }
    fn neighbors(&mut self, _: u32, _: usize, out: &mut Vec<u32>) {
        out.clear();
    }
}

impl GraphMut for Line {
    fn distance_between(&mut self, a: u32, b: u32) -> f32 {
        (self.0[a as usize] - self.0[b as usize]).abs()
    }
    fn set_query_to(&mut self, _: u32) {}
    fn set_neighbors(&mut self, _: u32, _: usize, _: &[u32]) {}
    fn anchor(&mut self, _: u32) -> Option<u32> {
        None
    }
    fn set_anchor(&mut self, _: u32, _: Option<u32>) {}
}

#[test]
fn heuristic_prefers_neighbors_in_different_directions() {
    // Base at 0; candidates at 1, -1.5, 2, 3. From 0, the point 2 lies behind 1,
    // and 3 behind both, so with room for two the heuristic takes 1 and -1.5.
    let mut line = Line(vec![1.0, -1.5, 2.0, 3.0]);
    let candidates: Vec<Candidate<u32>> = (0..4)
        .map(|id| Candidate {
            distance: line.distance(id),
            id,
        })
        .collect();
    let mut sorted = candidates.clone();
    sorted.sort_unstable();
    let two: Vec<u32> = select_neighbors(&mut line, &sorted, 2)
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(two, vec![0, 1]);
    // With room for three, the nearest pruned candidate (2) fills the free slot.
    let three: Vec<u32> = select_neighbors(&mut line, &sorted, 3)
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(three, vec![0, 1, 2]);
}

#[test]
fn level_distribution_follows_ml() {
    let params = Params {
        m: 16,
        ef_construction: 64,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let n = 200_000;
    let above_zero = (0..n)
        .filter(|_| params.level_for(rng.gen::<f64>()) >= 1)
        .count();
    let fraction = above_zero as f64 / n as f64;
    // P(level >= 1) = exp(-1 / mL) = 1 / m.
    assert!(
        (fraction - 1.0 / 16.0).abs() < 0.005,
        "fraction above layer 0: {fraction}"
    );
    assert_eq!(params.level_for(1.0), 0);
    assert_eq!(params.level_for(0.0), MAX_LEVEL);
}

#[test]
fn equal_vectors_can_share_a_node() {
    let params = Params {
        m: 4,
        ef_construction: 16,
    };
    let mut graph = MemoryGraph::new(params, 2, l2);
    assert_eq!(
        graph.insert(&[1.0, 2.0], 0, |_| true, || {}),
        Inserted::New(0)
    );
    assert_eq!(
        graph.insert(&[3.0, 2.0], 0, |_| true, || {}),
        Inserted::New(1)
    );
    assert_eq!(
        graph.insert(&[1.0, 2.0], 0, |_| true, || {}),
        Inserted::Duplicate(0)
    );
    assert_eq!(
        graph.insert(&[1.0, 2.0], 0, |_| false, || {}),
        Inserted::New(2)
    );
    // Node 0 is full: the other equal node takes it.
    assert_eq!(
        graph.insert(&[1.0, 2.0], 0, |node| node == 2, || {}),
        Inserted::Duplicate(2)
    );
    assert_eq!(graph.len(), 3);
}

#[test]
fn add_link_prunes_a_full_list_to_the_maximum() {
    let params = Params {
        m: 2,
        ef_construction: 8,
    };
    let mut graph = MemoryGraph::new(params, 1, l2);
    for x in [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, -1.0, -2.0] {
        graph.insert(&[x], 0, |_| false, || {});
    }
    for node in 0..graph.len() as u32 {
        assert!(graph.layer_neighbors(node, 0).count() <= 4);
    }
    // The point at 0 keeps a neighbor on each side.
    let around_zero: Vec<f32> = graph
        .layer_neighbors(0, 0)
        .map(|n| graph.vector(n)[0])
        .collect();
    assert!(
        around_zero.iter().any(|&x| x > 0.0) && around_zero.iter().any(|&x| x < 0.0),
        "{around_zero:?}"
    );
}

fn unreachable_nodes(graph: &mut MemoryGraph) -> Vec<u32> {
    let (entry, _) = graph.entry().expect("a graph with nodes");
    let mut reached = IdSet::default();
    repair::mark_reachable(graph, &[entry], &mut reached, || {});
    (0..graph.len() as u32)
        .filter(|id| !reached.contains(id))
        .collect()
}

#[test]
fn orphaned_nodes_are_linked_back_and_found_again() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let points = clustered(&mut rng, 2000, 16);
    let params = Params {
        m: 8,
        ef_construction: 40,
    };
    let mut graph = build(&points, params, 3);
    let (entry, _) = graph.entry().unwrap();
    // Cut every link into 60 nodes, as pruning can do to a few.
    let orphans: Vec<u32> = (0..2000).step_by(33).filter(|&id| id != entry).collect();
    for node in 0..graph.len() as u32 {
        for layer in 0..=graph.level(node) {
            let kept: Vec<u32> = graph
                .layer_neighbors(node, layer)
                .filter(|id| !orphans.contains(id))
                .collect();
            graph.set_neighbors(node, layer, &kept);
        }
    }
    let lost = unreachable_nodes(&mut graph);
    assert!(
        orphans.iter().all(|id| lost.contains(id)),
        "cut nodes are unreachable"
    );

    let relinked = graph.reconnect_unreachable(|| {});
    assert!(relinked > 0 && relinked <= lost.len());
    assert_eq!(unreachable_nodes(&mut graph), Vec::<u32>::new());
    assert_eq!(
        unanchored_nodes(&mut graph, 0..2000),
        Vec::<u32>::new(),
        "anchors restored"
    );
    for &id in &orphans {
        let found = graph.search(&points[id as usize], 40);
        assert!(
            found.iter().take(10).any(|c| c.id == id),
            "node {id} is found by its own vector"
        );
    }
}

/// Nodes the entry point does not reach through anchors, i.e. over links
/// from a node to the nodes it anchors, which pruning keeps.
fn unanchored_nodes(graph: &mut MemoryGraph, nodes: impl Iterator<Item = u32>) -> Vec<u32> {
    let (entry, _) = graph.entry().expect("a graph with nodes");
    let mut reached: IdSet<u32> = [entry].into_iter().collect();
    let mut stack = vec![entry];
    while let Some(node) = stack.pop() {
        let anchored: Vec<u32> = graph
            .layer_neighbors(node, 0)
            .filter(|&c| graph.anchor_of(c) == Some(node))
            .collect();
        stack.extend(anchored.into_iter().filter(|&c| reached.insert(c)));
    }
    nodes.filter(|id| !reached.contains(id)).collect()
}

#[test]
fn a_tightly_pruned_graph_keeps_every_node_anchored_while_it_grows() {
    // m = 2 on near-duplicate points prunes hard; without anchors some nodes
    // lost every incoming link while the graph grew. Lists of 4 also fill
    // up with nodes they anchor, which the fallbacks of `link_back` handle.
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    for (centers, spread) in [(30, 0.01), (3, 0.001), (200, 0.05)] {
        let centers = uniform(&mut rng, centers, 8);
        let params = Params {
            m: 2,
            ef_construction: 8,
        };
        let mut graph = MemoryGraph::new(params, 8, l2);
        for i in 0..3000 {
            let point: Vec<f32> = centers[i % centers.len()]
                .iter()
                .map(|x| x + rng.gen_range(-spread..spread))
                .collect();
            graph.insert(&point, params.level_for(rng.gen::<f64>()), |_| false, || {});
            if i % 500 == 499 || i < 20 {
                let count = graph.len() as u32;
                assert_eq!(
                    unanchored_nodes(&mut graph, 0..count),
                    Vec::<u32>::new(),
                    "after {} inserts",
                    i + 1
                );
            }
        }
        assert_eq!(unreachable_nodes(&mut graph), Vec::<u32>::new());
        assert_eq!(graph.reconnect_unreachable(|| {}), 0);
    }
}

#[test]
fn removing_half_the_nodes_keeps_recall_and_cuts_every_link_to_them() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(31);
    // Queries from the same clusters as the points.
    let mut points = clustered(&mut rng, 3100, 16);
    let queries = points.split_off(3000);
    let params = Params {
        m: 8,
        ef_construction: 48,
    };
    let mut graph = build(&points, params, 9);
    let (old_entry, _) = graph.entry().unwrap();
    let mut removed: IdSet<u32> = (0..3000).filter(|id| id % 2 == 0).collect();
    removed.insert(old_entry);
    graph.remove(&removed);

    let (entry, _) = graph.entry().expect("half the nodes remain");
    assert!(
        !removed.contains(&entry),
        "the entry point moved off a removed node"
    );
    for node in (0..3000u32).filter(|id| !removed.contains(id)) {
        for layer in 0..=graph.level(node) {
            assert!(
                graph
                    .layer_neighbors(node, layer)
                    .all(|id| !removed.contains(&id)),
                "node {node} links to a removed node"
            );
        }
    }
    let mut reached = IdSet::default();
    repair::mark_reachable(&mut graph, &[entry], &mut reached, || {});
    assert!(
        (0..3000u32)
            .filter(|id| !removed.contains(id))
            .all(|id| reached.contains(&id)),
        "every remaining node is reachable"
    );
    let unanchored = unanchored_nodes(&mut graph, (0..3000u32).filter(|id| !removed.contains(id)));
    assert_eq!(
        unanchored,
        Vec::<u32>::new(),
        "anchors lead to every remaining node"
    );

    // Recall against brute force over the remaining points.
    let remaining: Vec<u32> = (0..3000u32).filter(|id| !removed.contains(id)).collect();
    let mut hits = 0;
    for q in &queries {
        let mut truth: Vec<Candidate<u32>> = remaining
            .iter()
            .map(|&id| Candidate {
                distance: l2(q, &points[id as usize]),
                id,
            })
            .collect();
        truth.sort_unstable();
        let truth: Vec<u32> = truth.iter().take(10).map(|c| c.id).collect();
        let found = graph.search(q, 10);
        assert!(found.iter().all(|c| !removed.contains(&c.id)));
        hits += found
            .iter()
            .take(10)
            .filter(|c| truth.contains(&c.id))
            .count();
    }
    let recall = hits as f64 / 1000.0;
    // Against a graph built from the remaining points alone.
    let remaining_points: Vec<Vec<f32>> = remaining
        .iter()
        .map(|&id| points[id as usize].clone())
        .collect();
    let fresh = recall_at_10(
        &mut build(&remaining_points, params, 9),
        &remaining_points,
        &queries,
        10,
    );
    assert!(
        recall >= fresh - 0.05,
        "recall@10 after removing half: {recall}, of a fresh build: {fresh}"
    );

    // Refilled: anchors that VACUUM moved do not freeze the lists new nodes need.
    let mut level_rng = rand::rngs::StdRng::seed_from_u64(10);
    let mut vectors: Vec<Vec<f32>> = points.clone();
    for &id in removed.iter() {
        graph.insert(
            &points[id as usize],
            params.level_for(level_rng.gen::<f64>()),
            |_| false,
            || {},
        );
        vectors.push(points[id as usize].clone());
    }
    let stored: Vec<u32> = (0..vectors.len() as u32)
        .filter(|id| !removed.contains(id))
        .collect();
    let mut hits = 0;
    for q in &queries {
        let mut truth: Vec<Candidate<u32>> = stored
            .iter()
            .map(|&id| Candidate {
                distance: l2(q, &vectors[id as usize]),
                id,
            })
            .collect();
        truth.sort_unstable();
        let found = graph.search(q, 10);
        hits += found
            .iter()
            .take(10)
            .filter(|c| truth[..10].iter().any(|t| t.id == c.id))
            .count();
    }
    let recall = hits as f64 / 1000.0;
    let fresh = recall_at_10(&mut build(&points, params, 9), &points, &queries, 10);
    assert!(
        recall >= fresh - 0.05,
        "recall@10 after refilling: {recall}, of a fresh build: {fresh}"
    );
}

#[test]
fn removing_every_node_leaves_no_entry() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let points = uniform(&mut rng, 50, 4);
    let mut graph = build(
        &points,
        Params {
            m: 4,
            ef_construction: 8,
        },
        1,
    );
    graph.remove(&(0..50).collect());
    assert_eq!(graph.entry(), None);
}

#[test]
fn inserts_leave_no_node_unreachable() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let points = uniform(&mut rng, 6000, 12);
    let mut graph = build(
        &points,
        Params {
            m: 4,
            ef_construction: 16,
        },
        7,
    );
    assert_eq!(unreachable_nodes(&mut graph), Vec::<u32>::new());
    assert_eq!(unanchored_nodes(&mut graph, 0..6000), Vec::<u32>::new());
}

/// A store where another insert adds a link to a list between an insert's
/// reading and writing it, once.
struct Racing {
    graph: MemoryGraph,
    race: Option<(u32, u32)>,
}

impl Graph for Racing {
    type Id = u32;
    fn distance(&mut self, node: u32) -> f32 {
        self.graph.distance(node)
    }
    fn neighbors(&mut self, node: u32, layer: usize, out: &mut Vec<u32>) {
        self.graph.neighbors(node, layer, out)
    }
}

impl GraphMut for Racing {
    fn distance_between(&mut self, a: u32, b: u32) -> f32 {
        self.graph.distance_between(a, b)
    }
    fn set_query_to(&mut self, node: u32) {
        self.graph.set_query_to(node)
    }
    fn set_neighbors(&mut self, node: u32, layer: usize, neighbors: &[u32]) {
        self.graph.set_neighbors(node, layer, neighbors)
    }
    fn neighbors_with_distances(&mut self, node: u32, layer: usize, out: &mut Vec<Candidate<u32>>) {
        self.graph.neighbors_with_distances(node, layer, out)
    }
    fn replace_neighbors(
        &mut self,
        node: u32,
        layer: usize,
        expected: &[Candidate<u32>],
        neighbors: &[Candidate<u32>],
    ) -> bool {
        if let Some((list, new)) = self.race.take() {
            let params = self.graph.params;
            let distance = self.graph.distance_between(list, new);
            add_link(&mut self.graph, &params, list, layer, new, distance);
        }
        let current: Vec<u32> = self.graph.layer_neighbors(node, layer).collect();
        if !current.iter().copied().eq(expected.iter().map(|c| c.id)) {
            return false;
        }
        self.graph
            .set_neighbors_with_distances(node, layer, neighbors);
        true
    }
    fn anchor(&mut self, node: u32) -> Option<u32> {
        self.graph.anchor_of(node)
    }
    fn set_anchor(&mut self, node: u32, anchor: Option<u32>) {
        self.graph.set_anchor(node, anchor)
    }
}

#[test]
fn a_list_changed_meanwhile_is_read_again_and_neither_link_is_lost() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let points = uniform(&mut rng, 300, 6);
    let params = Params {
        m: 8,
        ef_construction: 32,
    };
    let mut graph = build(&points, params, 2);
    // A list with room for two more links, and two nodes it does not link to.
    let node = 7;
    let kept: Vec<u32> = graph.layer_neighbors(node, 0).take(4).collect();
    graph.set_neighbors(node, 0, &kept);
    let mut others =
        (0..300u32).filter(|&o| o != node && !graph.layer_neighbors(node, 0).any(|n| n == o));
    let (ours, theirs) = (others.next().unwrap(), others.next().unwrap());
    let mut racing = Racing {
        graph,
        race: Some((node, theirs)),
    };
    let distance = racing.distance_between(node, ours);
    assert!(add_link(&mut racing, &params, node, 0, ours, distance));
    assert!(racing.race.is_none(), "the other insert ran");
    let list: Vec<u32> = racing.graph.layer_neighbors(node, 0).collect();
    assert!(
        list.contains(&ours) && list.contains(&theirs),
        "both links are kept: {list:?}"
    );
}

thread_local! {
    static DISTANCE_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn counted_l2(a: &[f32], b: &[f32]) -> f32 {
    DISTANCE_CALLS.with(|calls| calls.set(calls.get() + 1));
    l2(a, b)
}

#[test]
fn remembered_verdicts_build_the_same_graph_with_fewer_distances() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let points = clustered(&mut rng, 3000, 16);
    let params = Params {
        m: 6,
        ef_construction: 40,
    };
    let mut built = Vec::new();
    for keep in [false, true] {
        let mut levels = rand::rngs::StdRng::seed_from_u64(5);
        let mut graph = MemoryGraph::new(params, 16, counted_l2);
        graph.keep_verdicts = keep;
        DISTANCE_CALLS.with(|calls| calls.set(0));
        for p in &points {
            graph.insert(p, params.level_for(levels.gen::<f64>()), |_| false, || {});
        }
        let calls = DISTANCE_CALLS.with(|calls| calls.get());
        let lists: Vec<Vec<Vec<u32>>> = (0..graph.len() as u32)
            .map(|n| {
                (0..=graph.level(n))
                    .map(|layer| graph.layer_neighbors(n, layer).collect())
                    .collect()
            })
            .collect();
        let anchors: Vec<Option<u32>> = (0..graph.len() as u32)
            .map(|n| graph.anchor_of(n))
            .collect();
        built.push((calls, lists, anchors));
    }
    let (full, cached) = (&built[0], &built[1]);
    assert!(full.1 == cached.1, "the verdicts changed a neighbor list");
    assert!(full.2 == cached.2, "the verdicts changed an anchor");
    eprintln!("distances: {} without verdicts, {} with", full.0, cached.0);
    assert!(
        cached.0 * 10 < full.0 * 7,
        "{} distances with verdicts, {} without",
        cached.0,
        full.0
    );
}

/// A store that checks, before and after each write (each is one WAL
/// record on pages, so a crash can fall between any two), that every node
/// of `must_reach` is reachable from the entry point over layer-0 links.
/// Records each state that fails, as a crash there would leave it.
struct CrashProbe {
    graph: Rc<RefCell<MemoryGraph>>,
    entry: Rc<Cell<u32>>,
    must_reach: Vec<u32>,
    writes: usize,
    /// (write number, nodes unreachable then)
    broken: Vec<(usize, Vec<u32>)>,
}

impl CrashProbe {
    fn probe(&mut self) {
        let mut reached = IdSet::default();
        repair::mark_reachable(
            &mut *self.graph.borrow_mut(),
            &[self.entry.get()],
            &mut reached,
            || {},
        );
        let lost: Vec<u32> = self
            .must_reach
            .iter()
            .copied()
            .filter(|id| !reached.contains(id))
            .collect();
        if !lost.is_empty() {
            self.broken.push((self.writes, lost));
        }
    }

    fn write(&mut self, change: impl FnOnce(&mut MemoryGraph)) {
        self.probe();
        change(&mut self.graph.borrow_mut());
        self.writes += 1;
        self.probe();
    }
}

impl Graph for CrashProbe {
    type Id = u32;
    fn distance(&mut self, node: u32) -> f32 {
        self.graph.borrow_mut().distance(node)
    }
    fn neighbors(&mut self, node: u32, layer: usize, out: &mut Vec<u32>) {
        self.graph.borrow_mut().neighbors(node, layer, out)
    }
}

impl GraphMut for CrashProbe {
    fn distance_between(&mut self, a: u32, b: u32) -> f32 {
        self.graph.borrow_mut().distance_between(a, b)
    }
    fn set_query_to(&mut self, node: u32) {
        self.graph.borrow_mut().set_query_to(node)
    }
    fn set_neighbors(&mut self, node: u32, layer: usize, neighbors: &[u32]) {
        self.write(|g| g.set_neighbors(node, layer, neighbors))
    }
    fn neighbors_with_distances(&mut self, node: u32, layer: usize, out: &mut Vec<Candidate<u32>>) {
        self.graph
            .borrow_mut()
            .neighbors_with_distances(node, layer, out)
    }
    fn set_neighbors_with_distances(
        &mut self,
        node: u32,
        layer: usize,
        neighbors: &[Candidate<u32>],
    ) {
        self.write(|g| g.set_neighbors_with_distances(node, layer, neighbors))
    }
    fn anchor(&mut self, node: u32) -> Option<u32> {
        self.graph.borrow().anchor_of(node)
    }
    fn set_anchor(&mut self, node: u32, anchor: Option<u32>) {
        self.write(|g| g.set_anchor(node, anchor))
    }
}

/// Why freeing `batch` now would be wrong: a node not freed links to one
/// of them, a remaining node is anchored on one, or one is the entry point.
fn still_used(
    graph: &mut MemoryGraph,
    batch: &IdSet<u32>,
    freed: &IdSet<u32>,
    live: &IdSet<u32>,
    entry: u32,
) -> Option<String> {
    if batch.contains(&entry) {
        return Some(format!("the entry point {entry}"));
    }
    let mut list = Vec::new();
    for node in (0..graph.len() as u32).filter(|id| !freed.contains(id) && !batch.contains(id)) {
        for layer in 0..=graph.level(node) {
            graph.neighbors(node, layer, &mut list);
            if let Some(id) = list.iter().find(|id| batch.contains(id)) {
                return Some(format!("{node} links to {id} on layer {layer}"));
            }
        }
        if live.contains(&node)
            && node != entry
            && graph.anchor_of(node).is_some_and(|a| batch.contains(&a))
        {
            return Some(format!("{node} is anchored on one"));
        }
    }
    None
}

/// VACUUM cuts deleted nodes out one WAL record at a time; after a crash
/// between any two records every remaining node must still be reachable
/// (the soak test found 1-2 unreachable after some crashes). Also when the
/// entry point itself is removed. Nodes are freed on the way, each only
/// once nothing leads to it.
#[test]
fn every_prefix_of_a_removal_keeps_every_remaining_node_reachable() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(41);
    let points = clustered(&mut rng, 1200, 8);
    for (case, remove_entry) in [(0u64, false), (1, true), (2, false), (3, true)] {
        let params = Params {
            m: 3,
            ef_construction: 24,
        };
        let mut graph = build(&points, params, 100 + case);
        let (entry, entry_level) = graph.entry().unwrap();
        let mut removed: IdSet<u32> = (0..1200u32).filter(|_| rng.gen_bool(0.2)).collect();
        if remove_entry {
            removed.insert(entry);
        } else {
            removed.remove(&entry);
        }
        let (gone, live): (Vec<_>, Vec<_>) = (0..1200u32)
            .map(|id| (id, graph.level(id)))
            .partition(|(id, _)| removed.contains(id));
        let live_set: IdSet<u32> = live.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            unreachable_nodes(&mut graph),
            Vec::<u32>::new(),
            "case {case}: reachable before"
        );
        let current = Rc::new(Cell::new(entry));
        let shared = Rc::new(RefCell::new(graph));
        let mut probe = CrashProbe {
            graph: shared.clone(),
            entry: current.clone(),
            must_reach: live.iter().map(|(id, _)| *id).collect(),
            writes: 0,
            broken: Vec::new(),
        };
        let (moved, at_free) = (current.clone(), current.clone());
        let freed: RefCell<IdSet<u32>> = RefCell::default();
        let (mut batches, mut misuse) = (0, Vec::new());
        let removing = repair::Removing {
            removed: &gone,
            live: &live,
            entry: (entry, entry_level),
            check_interrupts: || {},
            exclusive: |change: &mut dyn FnMut()| change(),
            move_entry: |to: (u32, usize)| {
                moved.set(to.0);
                to
            },
            free: |batch: &[u32]| {
                let batch: IdSet<u32> = batch.iter().copied().collect();
                batches += 1;
                let wrong = still_used(
                    &mut shared.borrow_mut(),
                    &batch,
                    &freed.borrow(),
                    &live_set,
                    at_free.get(),
                );
                misuse.extend(wrong.map(|w| format!("{w} (entry {})", at_free.get())));
                freed.borrow_mut().extend(batch);
            },
        };
        let removal = repair::remove_nodes(&mut probe, &params, removing);
        let (writes, broken) = (probe.writes, std::mem::take(&mut probe.broken));
        current.set(removal.entry.unwrap().0);
        probe.probe();
        assert!(
            probe.broken.is_empty(),
            "case {case}: unreachable once done: {:?}",
            probe.broken
        );
        assert!(writes > 100, "case {case}: {writes} writes");
        assert!(
            broken.is_empty(),
            "case {case}: after {} of {writes} writes a crash leaves remaining nodes unreachable, e.g. after write {}: {:?}",
            broken.len(),
            broken[0].0,
            &broken[0].1[..broken[0].1.len().min(5)]
        );
        assert!(
            misuse.is_empty(),
            "case {case}: freed while in use: {misuse:?}"
        );
        // The rest is freed by the caller, once the entry point has moved.
        let rest: IdSet<u32> = removed
            .iter()
            .copied()
            .filter(|id| !freed.borrow().contains(id))
            .collect();
        let wrong = still_used(
            &mut shared.borrow_mut(),
            &rest,
            &freed.borrow(),
            &live_set,
            current.get(),
        );
        assert_eq!(wrong, None, "case {case}: the rest still in use");
        assert!(
            batches >= 3 && removal.freed * 2 > removed.len(),
            "case {case}: {} of {} freed in {batches} batches on the way",
            removal.freed,
            removed.len()
        );
    }
}

/// A removal stopped by a crash left its cut lists; the next one frees the
/// nodes that no node links to any longer before it rebuilds a list.
#[test]
fn a_removal_frees_first_what_an_earlier_one_cut() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(47);
    let points = clustered(&mut rng, 1000, 8);
    let params = Params {
        m: 4,
        ef_construction: 32,
    };
    let mut graph = build(&points, params, 5);
    let (entry, _) = graph.entry().unwrap();
    let removed: IdSet<u32> = (0..1000u32)
        .filter(|&id| id != entry && rng.gen_bool(0.1))
        .collect();
    let (gone, live): (Vec<_>, Vec<_>) = (0..1000u32)
        .map(|id| (id, graph.level(id)))
        .partition(|(id, _)| removed.contains(id));
    // The earlier removal: every list cut, nothing freed.
    let mut list = Vec::new();
    for &(node, level) in &live {
        for layer in 0..=level {
            graph.neighbors(node, layer, &mut list);
            list.retain(|id| !removed.contains(id));
            graph.set_neighbors(node, layer, &list);
        }
    }
    let mut first_batch = None;
    let removing = repair::Removing {
        removed: &gone,
        live: &live,
        entry: graph.entry().unwrap(),
        check_interrupts: || {},
        exclusive: |change: &mut dyn FnMut()| change(),
        move_entry: |to| to,
        free: |batch: &[u32]| {
            first_batch.get_or_insert(batch.len());
        },
    };
    let removal = repair::remove_nodes(&mut graph, &params, removing);
    assert_eq!(removal.rebuilt, 0);
    assert_eq!(first_batch, Some(removed.len()));
}

/// A VACUUM usually removes a tenth of the nodes, and most lists then lose
/// one or two neighbors, which are refilled without a search: recall must
/// stay that of a graph built from the remaining points.
#[test]
fn removing_a_tenth_of_the_nodes_keeps_recall() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(43);
    let mut points = clustered(&mut rng, 4200, 16);
    let queries = points.split_off(4000);
    let params = Params {
        m: 8,
        ef_construction: 48,
    };
    let mut graph = build(&points, params, 11);
    let removed: IdSet<u32> = (0..4000u32).filter(|_| rng.gen_bool(0.1)).collect();
    graph.remove(&removed);
    let remaining: Vec<u32> = (0..4000u32).filter(|id| !removed.contains(id)).collect();
    let mut hits = 0;
    for q in &queries {
        let mut truth: Vec<Candidate<u32>> = remaining
            .iter()
            .map(|&id| Candidate {
                distance: l2(q, &points[id as usize]),
                id,
            })
            .collect();
        truth.sort_unstable();
        let found = graph.search(q, 10);
        hits += found
            .iter()
            .take(10)
            .filter(|c| truth[..10].iter().any(|t| t.id == c.id))
            .count();
    }
    let recall = hits as f64 / (10 * queries.len()) as f64;
    let remaining_points: Vec<Vec<f32>> = remaining
        .iter()
        .map(|&id| points[id as usize].clone())
        .collect();
    let fresh = recall_at_10(
        &mut build(&remaining_points, params, 11),
        &remaining_points,
        &queries,
        10,
    );
    assert!(
        recall >= fresh - 0.02,
        "recall@10 after removing a tenth: {recall}, of a fresh build: {fresh}"
    );
}
