//! An HNSW graph held in memory: the index build grows it before writing it
//! to pages, and the unit tests check the algorithm on it against brute force.

use super::*;

pub type Distance = fn(&[f32], &[f32]) -> f32;

const NO_ANCHOR: u32 = u32::MAX;

pub struct MemoryGraph {
    pub params: Params,
    dim: usize,
    distance: Distance,
    /// Node i's vector is `vectors[i * dim..(i + 1) * dim]`.
    vectors: Vec<f32>,
    /// Per node, per layer (0 ..= the node's level), its neighbors and their
    /// distances to it, kept so that pruning a full list needs no recomputing.
    neighbors: Vec<Vec<Vec<Candidate<u32>>>>,
    /// Per node and layer, the heuristic's verdicts on that list (see
    /// `select_neighbors_with`), or empty when not known: most of a build's
    /// distances are the heuristic's, re-run each time a full list takes a node.
    verdicts: Vec<Vec<Vec<bool>>>,
    /// Whether `verdicts` are kept; off only to test that they change nothing.
    pub keep_verdicts: bool,
    /// Per node, its anchor (see `add_link`), or NO_ANCHOR.
    anchors: Vec<u32>,
    /// The node on the highest layer, and that layer.
    entry: Option<(u32, usize)>,
    /// The vector `Graph::distance` measures from.
    query: Vec<f32>,
    scratch: SearchScratch<u32, DenseVisited>,
    memory_bytes: usize,
}

/// What inserting a vector did.
#[derive(Debug, PartialEq)]
pub enum Inserted {
    New(u32),
    /// The vector equals that node's, which may take one more heap row.
    Duplicate(u32),
}

impl MemoryGraph {
    pub fn new(params: Params, dim: usize, distance: Distance) -> Self {
        MemoryGraph {
            params,
            dim,
            distance,
            vectors: Vec::new(),
            neighbors: Vec::new(),
            verdicts: Vec::new(),
            keep_verdicts: true,
            anchors: Vec::new(),
            entry: None,
            query: Vec::new(),
            scratch: SearchScratch::default(),
            memory_bytes: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.neighbors.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Roughly what the graph occupies, for the build's memory limit.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }

    /// Inserts `vector` with top layer `level` (Algorithm 1). When an equal
    /// vector is already stored and `can_share(node)` allows it, nothing is
    /// added and that node is returned instead.
    pub fn insert(
        &mut self,
        vector: &[f32],
        level: usize,
        can_share: impl Fn(u32) -> bool,
        check_interrupts: impl FnMut(),
    ) -> Inserted {
        assert_eq!(
            vector.len(),
            self.dim,
            "vector length differs from the graph's"
        );
        self.query.clear();
        self.query.extend_from_slice(vector);
        let params = self.params;
        let mut old_entry = None;
        let mut per_layer = match self.entry {
            None => Vec::new(),
            Some((entry, entry_level)) => {
                let entry = Candidate {
                    distance: self.distance(entry),
                    id: entry,
                };
                let mut scratch = std::mem::take(&mut self.scratch);
                let found = find_neighbors(
                    self,
                    &params,
                    entry,
                    entry_level,
                    level,
                    &mut scratch,
                    check_interrupts,
                );
                self.scratch = scratch;
                old_entry = (level > entry_level).then_some(entry);
                found
            }
        };
        // Any equal vector among the neighbors may take it: the nearest alone may be full.
        let equal = per_layer
            .first()
            .into_iter()
            .flatten()
            .take_while(|c| c.distance == 0.0);
        if let Some(equal) = equal
            .into_iter()
            .find(|c| self.vector(c.id) == vector && can_share(c.id))
        {
            return Inserted::Duplicate(equal.id);
        }

        if let Some(old_entry) = old_entry {
            include_old_entry(&mut per_layer[0], &params, old_entry);
        }
        let id = self.len() as u32;
        self.vectors.extend_from_slice(vector);
        self.neighbors.push(vec![Vec::new(); level + 1]);
        self.verdicts.push(vec![Vec::new(); level + 1]);
        // The nearest neighbor anchors it, as on pages (see `link_back`).
        self.anchors.push(
            per_layer
                .first()
                .and_then(|layer0| layer0.first())
                .map_or(NO_ANCHOR, |c| c.id),
        );
        self.memory_bytes += self.dim * 4 + 28 + (level + 1) * 48 + (level + 2) * params.m * 9;
        for (layer, chosen) in per_layer.iter().enumerate() {
            self.neighbors[id as usize][layer] = chosen.clone();
        }
        link_new_node(self, &params, id, &per_layer, old_entry);
        if self
            .entry
            .is_none_or(|(_, entry_level)| level > entry_level)
        {
            self.entry = Some((id, level));
        }
        Inserted::New(id)
    }

    /// Links nodes no search can reach back into the graph (see `repair`).
    pub fn reconnect_unreachable(&mut self, check_interrupts: impl FnMut()) -> usize {
        reconnect_unreachable_nodes(self, check_interrupts)
    }

    /// Cuts `removed` out of the graph (see `repair::remove_nodes`); they
    /// stay stored, but no remaining node links to them.
    pub fn remove(&mut self, removed: &IdSet<u32>) {
        let Some(entry) = self.entry else { return };
        let (gone, live): (Vec<_>, Vec<_>) = (0..self.len() as u32)
            .map(|id| (id, self.level(id)))
            .partition(|(id, _)| removed.contains(id));
        let params = self.params;
        let removing = super::repair::Removing {
            removed: &gone,
            live: &live,
            entry,
            check_interrupts: || {},
            exclusive: |change: &mut dyn FnMut()| change(),
            move_entry: |to| to,
            free: |_: &[u32]| {},
        };
        self.entry = super::repair::remove_nodes(&mut *self, &params, removing).entry;
    }

    /// Sets the vector `Graph::distance` measures from.
    pub fn set_query(&mut self, query: &[f32]) {
        self.query.clear();
        self.query.extend_from_slice(query);
    }

    /// The `ef` nearest stored nodes to `query`, nearest first.
    pub fn search(&mut self, query: &[f32], ef: usize) -> Vec<Candidate<u32>> {
        let Some((entry, entry_level)) = self.entry else {
            return Vec::new();
        };
        self.query.clear();
        self.query.extend_from_slice(query);
        let mut scratch = std::mem::take(&mut self.scratch);
        let start = Candidate {
            distance: self.distance(entry),
            id: entry,
        };
        let nearest = greedy_descent(self, start, entry_level, 1, &mut scratch, || {});
        let found = search_layer(self, &[nearest], ef, 0, &mut scratch, || {});
        self.scratch = scratch;
        found
    }
}

/// What writing a finished graph to pages reads from it; the serial build's
/// graph and the parallel build's shared one both offer it.
pub trait BuiltGraph {
    fn params(&self) -> Params;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The node on the highest layer, and that layer.
    fn entry(&self) -> Option<(u32, usize)>;
    fn level(&self, node: u32) -> usize;
    fn vector(&self, node: u32) -> &[f32];
    fn anchor_of(&self, node: u32) -> Option<u32>;
    fn layer_neighbors(&self, node: u32, layer: usize) -> impl Iterator<Item = u32> + '_;
}

/// Links nodes no search can reach back into the graph (see `repair`).
pub fn reconnect_unreachable_nodes<G: GraphMut<Id = u32> + BuiltGraph>(
    graph: &mut G,
    check_interrupts: impl FnMut(),
) -> usize {
    let Some((entry, entry_level)) = graph.entry() else {
        return 0;
    };
    let nodes: Vec<u32> = (0..graph.len() as u32).collect();
    let params = graph.params();
    super::repair::reconnect_unreachable(
        graph,
        &params,
        entry,
        entry_level,
        &nodes,
        check_interrupts,
        |change| change(),
    )
}

impl BuiltGraph for MemoryGraph {
    fn params(&self) -> Params {
        self.params
    }

    fn len(&self) -> usize {
        self.neighbors.len()
    }

    fn entry(&self) -> Option<(u32, usize)> {
        self.entry
    }

    fn vector(&self, node: u32) -> &[f32] {
        let start = node as usize * self.dim;
        &self.vectors[start..start + self.dim]
    }

    fn level(&self, node: u32) -> usize {
        self.neighbors[node as usize].len() - 1
    }

    fn anchor_of(&self, node: u32) -> Option<u32> {
        Some(self.anchors[node as usize]).filter(|&a| a != NO_ANCHOR)
    }

    fn layer_neighbors(&self, node: u32, layer: usize) -> impl Iterator<Item = u32> + '_ {
        self.neighbors[node as usize][layer].iter().map(|c| c.id)
    }
}

impl Graph for MemoryGraph {
    type Id = u32;

    fn distance(&mut self, node: u32) -> f32 {
        let start = node as usize * self.dim;
        (self.distance)(&self.query, &self.vectors[start..start + self.dim])
    }

    fn neighbors(&mut self, node: u32, layer: usize, out: &mut Vec<u32>) {
        out.clear();
        if let Some(list) = self.neighbors[node as usize].get(layer) {
            out.extend(list.iter().map(|c| c.id));
        }
    }
}

impl GraphMut for MemoryGraph {
    fn distance_between(&mut self, a: u32, b: u32) -> f32 {
        (self.distance)(self.vector(a), self.vector(b))
    }

    fn set_query_to(&mut self, node: u32) {
        let start = node as usize * self.dim;
        self.query.clear();
        self.query
            .extend_from_slice(&self.vectors[start..start + self.dim]);
    }

    fn set_neighbors(&mut self, node: u32, layer: usize, neighbors: &[u32]) {
        let with_distances: Vec<Candidate<u32>> = neighbors
            .iter()
            .map(|&id| Candidate {
                distance: self.distance_between(node, id),
                id,
            })
            .collect();
        self.neighbors[node as usize][layer] = with_distances;
        self.verdicts[node as usize][layer].clear();
    }

    fn neighbors_with_distances(&mut self, node: u32, layer: usize, out: &mut Vec<Candidate<u32>>) {
        out.clear();
        out.extend_from_slice(&self.neighbors[node as usize][layer]);
    }

    fn set_neighbors_with_distances(
        &mut self,
        node: u32,
        layer: usize,
        neighbors: &[Candidate<u32>],
    ) {
        let list = &mut self.neighbors[node as usize][layer];
        list.clear();
        list.extend_from_slice(neighbors);
        self.verdicts[node as usize][layer].clear();
    }

    fn neighbor_verdicts(&mut self, node: u32, layer: usize, out: &mut Vec<bool>) {
        out.clear();
        out.extend_from_slice(&self.verdicts[node as usize][layer]);
    }

    fn set_neighbor_verdicts(&mut self, node: u32, layer: usize, verdicts: &[bool]) {
        if self.keep_verdicts && verdicts.len() == self.neighbors[node as usize][layer].len() {
            let kept = &mut self.verdicts[node as usize][layer];
            kept.clear();
            kept.extend_from_slice(verdicts);
        }
    }

    fn anchor(&mut self, node: u32) -> Option<u32> {
        self.anchor_of(node)
    }

    fn set_anchor(&mut self, node: u32, anchor: Option<u32>) {
        self.anchors[node as usize] = anchor.unwrap_or(NO_ANCHOR);
    }
}
