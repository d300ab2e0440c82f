//! Keeping every node findable after nodes are cut out. Inserts keep every
//! node anchored (see `add_link`); VACUUM cuts deleted nodes out, which takes
//! the anchors and links through them along, so it anchors again what the
//! entry still reaches and links back whatever it no longer does.

use super::*;

/// Marks in `reached` every node reachable from `start` over layer-0 links
/// (layer 0 holds every node, and every search ends there).
pub fn mark_reachable<G: Graph>(
    graph: &mut G,
    start: &[G::Id],
    reached: &mut IdSet<G::Id>,
    mut check_interrupts: impl FnMut(),
) {
    let mut stack: Vec<G::Id> = start
        .iter()
        .copied()
        .filter(|&id| reached.insert(id))
        .collect();
    let mut neighbors = Vec::new();
    while let Some(node) = stack.pop() {
        check_interrupts();
        graph.neighbors(node, 0, &mut neighbors);
        stack.extend(neighbors.iter().copied().filter(|&id| reached.insert(id)));
    }
}

/// Rounds of relinking: a link added for one node can prune another's last
/// incoming link, which the next round finds.
const ROUNDS: usize = 3;

/// Links every node of `nodes` that the entry does not reach back into the
/// graph: it becomes a neighbor of the nodes an insert of it would choose
/// (see `link_back`). Anchors are restored on the way (`restore_anchors`).
/// Returns how many were relinked. Each change runs inside `exclusive`,
/// which keeps inserts out meanwhile; the reachability passes only read.
pub fn reconnect_unreachable<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    entry: G::Id,
    entry_level: usize,
    nodes: &[G::Id],
    check_interrupts: impl FnMut(),
    exclusive: impl FnMut(&mut dyn FnMut()),
) -> usize {
    relink_unreachable(
        graph,
        params,
        (entry, entry_level),
        nodes,
        check_interrupts,
        exclusive,
        |graph, orphan, targets| link_back(graph, params, orphan, 0, targets),
    )
}

/// `reconnect_unreachable`, with `link` making the links: it links the
/// orphan back from the targets found for it, all of them reached.
fn relink_unreachable<G: GraphMut>(
    graph: &mut G,
    params: &Params,
    entry: (G::Id, usize),
    nodes: &[G::Id],
    mut check_interrupts: impl FnMut(),
    mut exclusive: impl FnMut(&mut dyn FnMut()),
    mut link: impl FnMut(&mut G, G::Id, &[Candidate<G::Id>]),
) -> usize {
    let mut scratch: SearchScratch<G::Id> = SearchScratch::default();
    let mut relinked = 0;
    for round in 0..=ROUNDS {
        let mut reached = restore_anchors(graph, entry.0, &mut check_interrupts, &mut exclusive);
        let orphans: Vec<G::Id> = nodes
            .iter()
            .copied()
            .filter(|id| !reached.contains(id))
            .collect();
        if orphans.is_empty() || round == ROUNDS {
            break;
        }
        for orphan in orphans {
            if reached.contains(&orphan) {
                continue; // reached through a node relinked before it
            }
            let mut linked = false;
            exclusive(&mut || {
                graph.set_query_to(orphan);
                let start = Candidate {
                    distance: graph.distance(entry.0),
                    id: entry.0,
                };
                let chosen = find_neighbors(
                    &mut *graph,
                    params,
                    start,
                    entry.1,
                    0,
                    &mut scratch,
                    &mut check_interrupts,
                );
                let targets: Vec<Candidate<G::Id>> = chosen[0]
                    .iter()
                    .copied()
                    .filter(|c| c.id != orphan && reached.contains(&c.id))
                    .collect();
                if !targets.is_empty() {
                    // Its anchor, if any, is not reached: it must take one that is.
                    graph.set_anchor(orphan, None);
                    link(&mut *graph, orphan, &targets);
                    linked = true;
                }
            });
            if linked {
                relinked += 1;
                mark_reachable(graph, &[orphan], &mut reached, &mut check_interrupts);
            }
        }
    }
    relinked
}

/// Makes anchors (see `add_link`) lead from `entry` to every node it
/// reaches over layer-0 links: anchors already on such a path stay; every
/// other node reached is anchored to the node that reached it first,
/// breadth first. VACUUM needs this after cutting nodes out, as they took
/// the paths through them along. Returns the nodes reached. Each change runs
/// inside `exclusive`; inserts between changes keep their own nodes anchored.
pub fn restore_anchors<G: GraphMut>(
    graph: &mut G,
    entry: G::Id,
    mut check_interrupts: impl FnMut(),
    mut exclusive: impl FnMut(&mut dyn FnMut()),
) -> IdSet<G::Id> {
    let mut anchors: IdMap<G::Id, Option<G::Id>> = IdMap::default();
    let mut anchor_of =
        |graph: &mut G, id: G::Id| *anchors.entry(id).or_insert_with(|| graph.anchor(id));
    let mut reached: IdSet<G::Id> = [entry].into_iter().collect();
    let mut order = vec![entry];
    let mut list = Vec::new();
    // Through anchors first, breadth first over every link for the rest.
    for through_anchors in [true, false] {
        let mut next = 0;
        while let Some(&node) = order.get(next) {
            next += 1;
            check_interrupts();
            graph.neighbors(node, 0, &mut list);
            for &id in &list {
                if reached.contains(&id) {
                    continue;
                }
                let mut anchored = anchor_of(graph, id) == Some(node);
                if !anchored && !through_anchors {
                    // The list may have changed since it was read.
                    exclusive(&mut || {
                        if lists(&mut *graph, node, id) {
                            graph.set_anchor(id, Some(node));
                            anchored = true;
                        }
                    });
                }
                if anchored {
                    reached.insert(id);
                    order.push(id);
                }
            }
        }
    }
    reached
}

/// A graph with some nodes cut out: searches neither visit nor return them.
/// VACUUM repairs the graph through this view before it frees those nodes.
pub struct WithoutRemoved<G: Graph> {
    pub graph: G,
    /// Shrinks as nodes are freed: a freed node's id may name a new node.
    pub removed: IdSet<G::Id>,
    /// Whether lists are read, and so written back, without the removed
    /// nodes; when false only anchors on removed nodes are hidden.
    pub hide_links: bool,
}

impl<G: Graph> Graph for WithoutRemoved<G> {
    type Id = G::Id;

    fn distance(&mut self, node: G::Id) -> f32 {
        self.graph.distance(node)
    }

    fn neighbors(&mut self, node: G::Id, layer: usize, out: &mut Vec<G::Id>) {
        self.graph.neighbors(node, layer, out);
        if self.hide_links {
            out.retain(|id| !self.removed.contains(id));
        }
    }

    fn distances(&mut self, nodes: &[G::Id], out: &mut Vec<f32>) {
        self.graph.distances(nodes, out)
    }

    fn is_deleted(&mut self, node: G::Id) -> bool {
        self.removed.contains(&node) || self.graph.is_deleted(node)
    }
}

impl<G: GraphMut> GraphMut for WithoutRemoved<G> {
    fn distance_between(&mut self, a: G::Id, b: G::Id) -> f32 {
        self.graph.distance_between(a, b)
    }

    fn set_query_to(&mut self, node: G::Id) {
        self.graph.set_query_to(node)
    }

    fn set_neighbors(&mut self, node: G::Id, layer: usize, neighbors: &[G::Id]) {
        self.graph.set_neighbors(node, layer, neighbors)
    }

    fn set_neighbors_with_distances(
        &mut self,
        node: G::Id,
        layer: usize,
        neighbors: &[Candidate<G::Id>],
    ) {
        self.graph
            .set_neighbors_with_distances(node, layer, neighbors)
    }

    /// A removed anchor is none.
    fn anchor(&mut self, node: G::Id) -> Option<G::Id> {
        self.graph
            .anchor(node)
            .filter(|a| !self.removed.contains(a))
    }

    fn set_anchor(&mut self, node: G::Id, anchor: Option<G::Id>) {
        self.graph.set_anchor(node, anchor)
    }
}

/// What VACUUM hands `remove_nodes`, besides the graph: the nodes it
/// removes and those that remain, each with its level, and its part in
/// each step.
pub struct Removing<'a, Id, CheckInterrupts, Exclusive, MoveEntry, Free> {
    pub removed: &'a [(Id, usize)],
    pub live: &'a [(Id, usize)],
    pub entry: (Id, usize),
    pub check_interrupts: CheckInterrupts,
    /// Runs one change with inserts kept out.
    pub exclusive: Exclusive,
    /// Writes the new entry point and returns the one the index names then.
    pub move_entry: MoveEntry,
    /// Frees removed nodes that no node links to any longer, so that their
    /// space is reused even if the rest of the removal does not finish.
    pub free: Free,
}

/// Cuts the removed nodes out of the graph, so their space can be freed:
/// every remaining node that linked to a removed one gets its lists
/// rebuilt from its remaining neighbors and a fresh search, as an insert of
/// it would choose. Each change runs inside `exclusive`, so inserts can go
/// on between them.
///
/// Each change is its own WAL record on pages, so a crash may stop this
/// between any two, and every remaining node must be reachable then. So
/// first the entry point moves off a removed node, keeping the old one in
/// its list; then every remaining node is anchored over remaining nodes
/// alone, and the few reached only through removed ones are linked in;
/// only then are links to removed nodes cut, which never drops a link that
/// anchors.
///
/// The lists are rebuilt in an order that frees removed nodes on the way;
/// those no node links to, e.g. as a removal stopped by a crash left them,
/// at once. Returns the entry point and its level (None when nothing
/// remains), with what each step did. Removed nodes not handed to `free`
/// are left to the caller.
pub fn remove_nodes<G: GraphMut>(
    mut graph: G,
    params: &Params,
    mut removing: Removing<
        '_,
        G::Id,
        impl FnMut(),
        impl FnMut(&mut dyn FnMut()),
        impl FnMut((G::Id, usize)) -> (G::Id, usize),
        impl FnMut(&[G::Id]),
    >,
) -> Removal<G::Id> {
    let started = std::time::Instant::now();
    let mut done = Removal::default();
    let (entry, live) = (removing.entry, removing.live);
    let removed: IdSet<G::Id> = removing.removed.iter().map(|(id, _)| *id).collect();
    let new_entry = if removed.contains(&entry.0) {
        match live.iter().max_by_key(|(_, level)| *level) {
            Some(&top) => top,
            None => return done,
        }
    } else {
        entry
    };
    let check_interrupts = &mut removing.check_interrupts;
    let exclusive = &mut removing.exclusive;
    let mut root = entry;
    if new_entry != entry {
        exclusive(&mut || {
            // The old entry still leads to every node: the new one keeps it
            // (anchors it) until every node is anchored without it.
            graph.set_anchor(entry.0, Some(new_entry.0));
            let distance = graph.distance_between(new_entry.0, entry.0);
            if add_link(&mut graph, params, new_entry.0, 0, entry.0, distance) {
                root = (removing.move_entry)(new_entry);
            }
        });
    }
    let mut view = WithoutRemoved {
        graph,
        removed,
        hide_links: true,
    };
    let nodes: Vec<G::Id> = live.iter().map(|(id, _)| *id).collect();
    // Links to the orphans are made in the full lists: dropping a removed
    // node from one could cut the way to another orphan.
    done.linked_before = relink_unreachable(
        &mut view,
        params,
        root,
        &nodes,
        &mut *check_interrupts,
        &mut *exclusive,
        |view, orphan, targets| {
            view.hide_links = false;
            link_back(&mut *view, params, orphan, 0, targets);
            view.hide_links = true;
        },
    );
    done.anchoring = started.elapsed();

    // No remaining node needs a removed one to be reached now. Removed nodes
    // drop their links to each other, so that a walk through one not yet
    // cut out never meets a freed one.
    let mut list = Vec::new();
    for &(node, level) in removing.removed {
        check_interrupts();
        for layer in 0..=level {
            view.graph.neighbors(node, layer, &mut list);
            if list.iter().any(|id| view.removed.contains(id)) {
                exclusive(&mut || {
                    view.graph.neighbors(node, layer, &mut list);
                    list.retain(|id| !view.removed.contains(id));
                    view.graph.set_neighbors(node, layer, &list);
                });
            }
        }
    }
    let order = cutting_order(&mut view, live, removing.removed, check_interrupts);
    // Nodes are freed in batches: each waits for the scans under way.
    let free_batch = (removing.removed.len() / 16).max(64);
    let mut freed = 0;
    let mut free_up_to = |view: &mut WithoutRemoved<G>, rank: usize, at_least: usize| {
        let batch: Vec<G::Id> = order.by_rank[freed..rank]
            .iter()
            .copied()
            .filter(|&id| id != root.0 && id != entry.0)
            .collect();
        if rank - freed < at_least || batch.is_empty() {
            return;
        }
        (removing.free)(&batch);
        view.graph.forget(&batch);
        for id in &batch {
            view.removed.remove(id);
        }
        done.freed += batch.len();
        freed = rank;
    };
    let mut scratch: SearchScratch<G::Id> = SearchScratch::default();
    for (position, &(node, level, rank)) in order.to_rebuild.iter().enumerate() {
        check_interrupts();
        // Every removed node ranked before this one's has no remaining node
        // left that links to it: the nodes that did are rebuilt. The first
        // batch goes at once: what a removal stopped by a crash had cut.
        free_up_to(&mut view, rank, if position == 0 { 1 } else { free_batch });
        exclusive(&mut || {
            // Lists gain no removed nodes, but may have lost them since.
            if touches_removed(&mut view, node, level, &mut list) {
                rebuild_lists(
                    &mut view,
                    params,
                    node,
                    level,
                    new_entry,
                    &mut scratch,
                    &mut *check_interrupts,
                );
                done.rebuilt += 1;
            }
        });
    }
    free_up_to(&mut view, order.by_rank.len(), 1);
    done.cutting = started.elapsed() - done.anchoring;
    // What inserts meanwhile, or a move of the entry point that found no
    // room (the caller moves it then), left unreachable.
    let entry = if root == entry { new_entry } else { root };
    done.linked_after = reconnect_unreachable(
        &mut view,
        params,
        entry.0,
        entry.1,
        &nodes,
        check_interrupts,
        exclusive,
    );
    done.relinking = started.elapsed() - done.anchoring - done.cutting;
    done.entry = Some(entry);
    done
}

fn touches_removed<G: Graph>(
    view: &mut WithoutRemoved<G>,
    node: G::Id,
    level: usize,
    list: &mut Vec<G::Id>,
) -> bool {
    (0..=level).any(|layer| {
        view.graph.neighbors(node, layer, list);
        list.iter().any(|id| view.removed.contains(id))
    })
}

/// The removed nodes ranked (those no remaining node links to first, the
/// others by id), and the remaining nodes that link to them, each with its
/// level and the lowest rank it links to, in that order: once every node
/// before the first of rank `r` is rebuilt, no node links to a removed node
/// ranked below `r`.
struct CuttingOrder<Id> {
    by_rank: Vec<Id>,
    to_rebuild: Vec<(Id, usize, usize)>,
}

fn cutting_order<G: Graph>(
    view: &mut WithoutRemoved<G>,
    live: &[(G::Id, usize)],
    removed: &[(G::Id, usize)],
    check_interrupts: &mut impl FnMut(),
) -> CuttingOrder<G::Id> {
    if removed.is_empty() {
        // Nothing to rebuild: no need to read every list.
        return CuttingOrder {
            by_rank: Vec::new(),
            to_rebuild: Vec::new(),
        };
    }
    let mut linked_to: IdSet<G::Id> = IdSet::default();
    // Each remaining node that links to removed ones, with the lowest id of those.
    let mut touching: Vec<(G::Id, usize, G::Id)> = Vec::new();
    let mut list = Vec::new();
    for &(node, level) in live {
        check_interrupts();
        let mut lowest = None;
        for layer in 0..=level {
            view.graph.neighbors(node, layer, &mut list);
            for &id in list.iter().filter(|id| view.removed.contains(id)) {
                linked_to.insert(id);
                lowest = Some(lowest.map_or(id, |low: G::Id| low.min(id)));
            }
        }
        if let Some(lowest) = lowest {
            touching.push((node, level, lowest));
        }
    }
    let mut by_rank: Vec<G::Id> = removed.iter().map(|(id, _)| *id).collect();
    // Ranked by how many nodes link to them instead, the lists were rebuilt
    // in another order and recall after it fell by 0.005 on average (the
    // tenth-removed unit test, eight seeds).
    by_rank.sort_unstable_by_key(|id| (linked_to.contains(id), *id));
    let rank_of: IdMap<G::Id, usize> = by_rank
        .iter()
        .enumerate()
        .map(|(rank, &id)| (id, rank))
        .collect();
    // Among the removed nodes linked to, rank follows id.
    let mut to_rebuild: Vec<(G::Id, usize, usize)> = touching
        .into_iter()
        .map(|(node, level, lowest)| (node, level, rank_of[&lowest]))
        .collect();
    to_rebuild.sort_by_key(|&(_, _, rank)| rank);
    CuttingOrder {
        by_rank,
        to_rebuild,
    }
}

/// What `remove_nodes` did, for VACUUM's report.
pub struct Removal<Id> {
    pub entry: Option<(Id, usize)>,
    /// Nodes reached only through removed ones, linked in before the cut.
    pub linked_before: usize,
    /// Nodes whose lists were rebuilt without the removed ones.
    pub rebuilt: usize,
    /// Removed nodes handed to `free` on the way.
    pub freed: usize,
    /// Nodes left unreachable by inserts meanwhile, linked in at the end.
    pub linked_after: usize,
    pub anchoring: std::time::Duration,
    pub cutting: std::time::Duration,
    pub relinking: std::time::Duration,
}

impl<Id> Default for Removal<Id> {
    fn default() -> Self {
        Removal {
            entry: None,
            linked_before: 0,
            rebuilt: 0,
            freed: 0,
            linked_after: 0,
            anchoring: Default::default(),
            cutting: Default::default(),
            relinking: Default::default(),
        }
    }
}

/// Rebuilds `node`'s lists from its remaining neighbors, those of the
/// removed nodes it linked to, and a fresh search, as an insert of it would
/// choose them, and links it back from them.
fn rebuild_lists<G: GraphMut>(
    view: &mut WithoutRemoved<G>,
    params: &Params,
    node: G::Id,
    level: usize,
    entry: (G::Id, usize),
    scratch: &mut SearchScratch<G::Id>,
    check_interrupts: &mut impl FnMut(),
) {
    view.set_query_to(node);
    let start = Candidate {
        distance: view.distance(entry.0),
        id: entry.0,
    };
    let found = find_neighbors(
        &mut *view,
        params,
        start,
        entry.1,
        level,
        scratch,
        check_interrupts,
    );
    let mut merged = Vec::new();
    let (mut old, mut beyond) = (Vec::new(), Vec::new());
    for layer in 0..=level {
        view.neighbors_with_distances(node, layer, &mut merged);
        // The neighbors of the removed nodes this one linked to: they may
        // have no other way in (as FreshDiskANN's delete repair does).
        view.graph.neighbors(node, layer, &mut old);
        old.retain(|id| view.removed.contains(id));
        for &removed in &old {
            view.neighbors(removed, layer, &mut beyond);
            for &id in &beyond {
                if id != node && !merged.iter().any(|m| m.id == id) {
                    let distance = view.distance_between(node, id);
                    merged.push(Candidate { distance, id });
                }
            }
        }
        if let Some(fresh) = found.get(layer) {
            for c in fresh {
                if c.id != node && !merged.iter().any(|m| m.id == c.id) {
                    merged.push(*c);
                }
            }
        }
        merged.sort_unstable();
        let mut chosen = select_neighbors(&mut *view, &merged, params.max_neighbors(layer));
        if layer == 0 {
            // Every other list may change before this change is followed
            // by the next: the nodes this one anchors stay.
            keep_anchored(
                &mut *view,
                node,
                &merged,
                &mut chosen,
                params.max_neighbors(0),
            );
        }
        view.set_neighbors_with_distances(node, layer, &chosen);
        // Links back, as an insert adds them: the removed nodes took
        // incoming links with them.
        link_back(&mut *view, params, node, layer, &chosen);
    }
}
