//! What scans of the graph cost, in microseconds of work on cached data:
//! the planner's cost model for the hnsw index, over the distance-call costs
//! of `search::cost`. Pure: `am/cost.rs` turns these into planner units.
//!
//! The constants were fitted on a 2-core AMD EPYC with PostgreSQL 15 and the
//! data in shared buffers (2026-11-25), on 100,000 GloVe vectors (50-d,
//! cosine) and 60,000 Fashion-MNIST images (784-d, L2, stored out of line in
//! TOAST); pg_test/planner.sh checks the plans they lead to.

use super::iterative::{Budget, IterativeSearch, Order};
use super::{GraphMut, SearchScratch};
use crate::search::cost::{visit_microseconds, HANDOUT_MICROSECONDS};

/// Most rows passing a query's conditions that a scan measures all of,
/// rather than walk the graph. A walk to the `ef_search` nearest of a share
/// p of `rows` measures about 2 * ef_search / p nodes (7,600 at 1% and ef
/// 40 on 60,000 sentence embeddings); measuring the p * rows that pass
/// costs as much at p * rows = sqrt(2 * ef_search * rows).
pub fn exact_filter_limit(ef_search: usize, rows: f64) -> f64 {
    (2.0 * ef_search as f64 * rows.max(0.0)).sqrt()
}

/// Whether a scan reading the filter directory should stop and walk
/// instead: more than `limit` of the `entries` have passed, or, after a
/// sample of at least `DIRECTORY_SAMPLE` of them, the share that passed so
/// far projects well past it. Reading to the limit alone cost a 10% filter
/// a quarter of the directory before it walked (0.4 ms at 60,000 rows).
pub fn directory_says_walk(read: usize, passing: usize, entries: f64, limit: f64) -> bool {
    let passing = passing as f64;
    passing > limit || (read >= DIRECTORY_SAMPLE && passing * entries > 1.25 * limit * read as f64)
}

pub const DIRECTORY_SAMPLE: usize = 1024;

/// What scans cost on one graph: measured on sample queries when the index is
/// built (see `measure_walk_cost`), stored in its meta page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WalkCost {
    /// Nodes a scan's first batch measures at ef_search = WALK_SAMPLE_EF.
    pub first_batch_visits: f64,
    /// Nodes measured per node handed out after the first batch.
    pub visits_per_row: f64,
}

impl WalkCost {
    /// For an index that has no measurement yet (built with fewer than
    /// MIN_NODES_TO_MEASURE nodes, or by a version that did not measure):
    /// between the easy and the hard data measured (first batch 411 and 936
    /// nodes, 3.0 and 12.9 per row).
    pub const UNMEASURED: WalkCost = WalkCost {
        first_batch_visits: 600.0,
        visits_per_row: 6.0,
    };

    /// As the meta page keeps it: whole nodes per first batch, thousandths
    /// of a node per row; (0, 0) for none.
    pub fn encode(walk: Option<WalkCost>) -> (u32, u32) {
        match walk {
            Some(w) => (
                w.first_batch_visits.round().max(1.0) as u32,
                (w.visits_per_row * 1000.0).round().max(1.0) as u32,
            ),
            None => (0, 0),
        }
    }

    pub fn decode(first_batch_visits: u32, visits_per_row_milli: u32) -> Option<WalkCost> {
        (first_batch_visits > 0 && visits_per_row_milli > 0).then(|| WalkCost {
            first_batch_visits: first_batch_visits as f64,
            visits_per_row: visits_per_row_milli as f64 / 1000.0,
        })
    }
}

/// A graph smaller than this is not measured: its scans reach most of it, and
/// it will grow. The build measures a larger one; VACUUM one that has none.
pub const MIN_NODES_TO_MEASURE: usize = 1000;

/// The sample nodes' positions among `nodes`: 50, spread evenly.
pub fn sample_positions(nodes: usize) -> impl Iterator<Item = usize> {
    (0..nodes).step_by(nodes.div_ceil(50).max(1))
}

pub const WALK_SAMPLE_EF: usize = 40;
/// Rows a sample scan hands out: what a LIMIT 10 under a 1% filter needs,
/// where the planner's choice between the index and a btree is closest.
const WALK_SAMPLE_ROWS: usize = 1000;

/// A scan's cost in microseconds: `startup` before its first row (measuring
/// `startup_visits` nodes), then `per_row` for every node handed out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScanCost {
    pub startup_visits: f64,
    pub startup: f64,
    pub per_row: f64,
}

/// The cost of a scan at `ef_search` on a graph of `nodes` nodes with `m`
/// neighbors per upper-layer node.
pub fn scan_cost(
    walk: WalkCost,
    dimensions: usize,
    m: usize,
    nodes: f64,
    ef_search: usize,
) -> ScanCost {
    let visit = visit_microseconds(dimensions);
    let layers = (nodes.max(1.0).ln() / (m.max(2) as f64).ln()).max(1.0);
    // The first batch grows with ef_search less than linearly (measured:
    // 936, 1,981 and 3,537 nodes at 40, 100 and 200 on GloVe; 411, 744 and
    // 1,174 on Fashion-MNIST): about as its 0.75th power.
    let first_batch =
        walk.first_batch_visits * (ef_search as f64 / WALK_SAMPLE_EF as f64).powf(0.75);
    let startup_visits = (first_batch + layers * m as f64).min(nodes.max(1.0));
    ScanCost {
        startup_visits,
        startup: startup_visits * visit,
        per_row: walk.visits_per_row * visit + HANDOUT_MICROSECONDS,
    }
}

/// Runs strict-order scans for stored nodes `samples` (their own vectors as
/// queries) and returns what they cost, or None with no sample.
pub fn measure_walk_cost<G: GraphMut>(
    graph: &mut G,
    entry: G::Id,
    entry_level: usize,
    samples: &[G::Id],
    mut check_interrupts: impl FnMut(),
) -> Option<WalkCost> {
    let mut descent: SearchScratch<G::Id> = SearchScratch::default();
    let mut search: IterativeSearch<G::Id> = IterativeSearch::default();
    let (mut first_visits, mut later_visits, mut later_rows) = (0usize, 0usize, 0usize);
    for &sample in samples {
        graph.set_query_to(sample);
        search.start_from_top(
            graph,
            entry,
            entry_level,
            &mut descent,
            &mut check_interrupts,
        );
        let handed = |s: &IterativeSearch<G::Id>| s.returned_count + s.skipped_count;
        search.next_batch(
            graph,
            0,
            WALK_SAMPLE_EF,
            Order::Strict,
            Budget::UNLIMITED,
            &mut check_interrupts,
        );
        let (visits, rows) = (search.visited_count, handed(&search));
        first_visits += visits;
        while handed(&search) < WALK_SAMPLE_ROWS {
            if search
                .next_batch(
                    graph,
                    0,
                    WALK_SAMPLE_EF,
                    Order::Strict,
                    Budget::UNLIMITED,
                    &mut check_interrupts,
                )
                .is_empty()
            {
                break;
            }
        }
        later_visits += search.visited_count - visits;
        later_rows += handed(&search) - rows;
    }
    (!samples.is_empty()).then(|| WalkCost {
        first_batch_visits: first_visits as f64 / samples.len() as f64,
        // A graph the first batch covers whole has no later rows: nothing to
        // measure, and nothing left to cost.
        visits_per_row: if later_rows == 0 {
            1.0
        } else {
            later_visits as f64 / later_rows as f64
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::cost::distance_call_microseconds;

    #[test]
    fn directory_reading_stops_early_for_wide_filters_only() {
        let (entries, limit) = (60_000.0, exact_filter_limit(40, 60_000.0));
        assert!((2190.0..2191.0).contains(&limit));
        // 10% passing: clear after the first sample.
        assert!(directory_says_walk(1024, 102, entries, limit));
        // 1% passing: read on to the end.
        assert!(!directory_says_walk(1024, 10, entries, limit));
        assert!(!directory_says_walk(60_000, 600, entries, limit));
        // Too small a sample decides nothing; past the limit always walks.
        assert!(!directory_says_walk(100, 50, entries, limit));
        assert!(directory_says_walk(59_000, 2191, entries, limit));
    }
    use crate::hnsw::memory::{BuiltGraph, MemoryGraph};
    use crate::hnsw::Params;
    use rand::{Rng, SeedableRng};

    #[test]
    fn calibration_reproduces_what_was_measured() {
        // 500 queries, LIMIT 10, each plan's fastest of three runs. GloVe at
        // ef_search 40 and 100: 0.343 and 0.623 ms per query, of which about
        // 0.09 ms is the executor's own.
        let glove = WalkCost {
            first_batch_visits: 936.0,
            visits_per_row: 12.9,
        };
        for (ef, ms) in [(40, 0.343), (100, 0.623)] {
            let cost = scan_cost(glove, 50, 16, 100_000.0, ef);
            let predicted = cost.startup / 1000.0 + 0.09;
            assert!(
                (predicted / ms - 1.0).abs() < 0.15,
                "ef {ef}: {predicted} ms, measured {ms}"
            );
        }
        // A 1% filter: GloVe handed out 929 rows in 5.59 ms, Fashion-MNIST
        // 1,029 rows in 4.92 ms.
        let fmnist = WalkCost {
            first_batch_visits: 411.0,
            visits_per_row: 2.97,
        };
        for (walk, dimensions, nodes, rows, ms) in [
            (glove, 50, 1e5, 929.0, 5.59),
            (fmnist, 784, 6e4, 1029.0, 4.92),
        ] {
            let cost = scan_cost(walk, dimensions, 16, nodes, 40);
            let predicted = (cost.startup + rows * cost.per_row) / 1000.0;
            assert!(
                (predicted / ms - 1.0).abs() < 0.2,
                "{dimensions}-d: {predicted} ms, measured {ms}"
            );
        }
        assert!((distance_call_microseconds(50, 0) - 0.186).abs() < 0.02);
        assert!((distance_call_microseconds(784, 2) - 4.3).abs() < 0.4);
    }

    #[test]
    fn costs_grow_with_dimensions_ef_and_detoasting() {
        let walk = WalkCost::UNMEASURED;
        let small = scan_cost(walk, 50, 16, 1e5, 40);
        let wide = scan_cost(walk, 1536, 16, 1e5, 40);
        let deep = scan_cost(walk, 50, 16, 1e5, 200);
        assert!(wide.startup > small.startup && wide.per_row > small.per_row);
        assert!(deep.startup > small.startup && deep.per_row == small.per_row);
        assert!(distance_call_microseconds(384, 1) > distance_call_microseconds(384, 0));
        // A tiny graph costs at most a visit per node.
        let tiny = scan_cost(walk, 3, 16, 5.0, 40);
        assert!(tiny.startup <= 5.0 * visit_microseconds(3) + 1e-9);
    }

    #[test]
    fn walk_cost_round_trips_through_the_meta_page() {
        let walk = WalkCost {
            first_batch_visits: 936.4,
            visits_per_row: 12.9,
        };
        let (first, milli) = WalkCost::encode(Some(walk));
        assert_eq!((first, milli), (936, 12_900));
        assert_eq!(
            WalkCost::decode(first, milli),
            Some(WalkCost {
                first_batch_visits: 936.0,
                visits_per_row: 12.9
            })
        );
        assert_eq!(WalkCost::encode(None), (0, 0));
        assert_eq!(WalkCost::decode(0, 0), None);
        assert_eq!(sample_positions(100_000).count(), 50);
        assert_eq!(
            sample_positions(7).collect::<Vec<_>>(),
            (0..7).collect::<Vec<_>>()
        );
    }

    #[test]
    fn walk_cost_is_measured_on_the_graph() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let params = Params {
            m: 8,
            ef_construction: 32,
        };
        let mut g = MemoryGraph::new(params, 8, crate::kernels::scalar::l2_squared);
        for _ in 0..3000 {
            let p: Vec<f32> = (0..8).map(|_| rng.gen_range(-1.0..1.0)).collect();
            g.insert(&p, params.level_for(rng.gen::<f64>()), |_| false, || {});
        }
        let (entry, level) = g.entry().unwrap();
        let samples: Vec<u32> = (0..3000).step_by(150).collect();
        let walk = measure_walk_cost(&mut g, entry, level, &samples, || {}).unwrap();
        // A first batch of 40 measures more than 40 nodes, and fewer than the
        // graph; each later row costs at least the node itself.
        assert!(
            walk.first_batch_visits > 40.0 && walk.first_batch_visits < 3000.0,
            "{walk:?}"
        );
        assert!(
            walk.visits_per_row >= 1.0 && walk.visits_per_row < 2.0 * params.m as f64,
            "{walk:?}"
        );
        assert_eq!(measure_walk_cost(&mut g, entry, level, &[], || {}), None);
    }
}
