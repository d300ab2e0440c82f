//! Measures filters checked inside the walk (`hnsw::filtered`) in memory, on
//! real data, against today's scan (an iterative walk over every node that
//! hands out the ones that pass): recall@10 against the exact filtered
//! answer (mean and worst query), rows returned, and the work per query
//! (distances measured, neighbor lists read). Run by `bench/filter_prototype.sh`.
//!
//!   filter_prototype BASE QUERIES DIMENSIONS l2|cosine
//!
//! BASE and QUERIES are little-endian float32 rows (tests/lib/datasets.py --raw).

#[path = "filtered.rs"]
mod filtered;
use filtered::{search_passing, Counting, PassingScratch, WalkWork};
use quiver::hnsw::iterative::{Budget, IterativeSearch, Order};
use quiver::hnsw::memory::BuiltGraph;
use quiver::hnsw::{greedy_descent, Graph, SearchScratch};
use quiver::kernels;
use quiver::search::{Candidate, IdSet};
use std::time::Instant;

#[path = "prototype_data.rs"]
mod prototype_data;
use prototype_data::{build_graph, read_rows};

const K: usize = 10;
const EF: usize = 40;

/// A label per node, independent of its vector: node passes a filter of
/// selectivity 1/n when its hash modulo n is 0.
fn label(node: u32, salt: u64) -> u64 {
    let mut x = node as u64 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[derive(Default)]
struct Tally {
    recall: f64,
    worst: f64,
    min_rows: usize,
    work: WalkWork,
    seconds: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, queries, dimensions, metric) = (
        &args[1],
        &args[2],
        args[3].parse::<usize>().unwrap(),
        args[4].as_str(),
    );
    let cosine = metric == "cosine";
    let distance = if cosine {
        kernels::best().negative_dot
    } else {
        kernels::best().l2_squared
    };
    let data = read_rows(base, dimensions, cosine);
    let queries: Vec<Vec<f32>> = read_rows(queries, dimensions, cosine)
        .into_iter()
        .take(300)
        .collect();

    let mut graph = build_graph(&data, dimensions, distance);
    let (entry, entry_level) = graph.entry().expect("built");

    println!("| filter | rows passing | walk | recall@10 mean / worst | fewest rows | measured | lists read | µs in memory |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut descent: SearchScratch<u32, IdSet<u32>> = SearchScratch::default();
    let mut passing_scratch: PassingScratch<u32, IdSet<u32>> = PassingScratch::default();
    let mut search: IterativeSearch<u32> = IterativeSearch::default();
    for (name, modulus) in [("10%", 10u64), ("5%", 20), ("1%", 100), ("0.1%", 1000)] {
        let passes = |node: u32| label(node, 7).is_multiple_of(modulus);
        let passing: Vec<u32> = (0..data.len() as u32).filter(|&n| passes(n)).collect();
        let truth: Vec<Vec<u32>> = queries
            .iter()
            .map(|q| {
                let mut all: Vec<(f32, u32)> = passing
                    .iter()
                    .map(|&n| (distance(q, &data[n as usize]), n))
                    .collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0));
                all.into_iter().take(K).map(|p| p.1).collect()
            })
            .collect();
        let walks: [(&str, usize, usize); 4] = [
            ("today: every node, passing ones handed out", 0, 0),
            ("two hops, ef 40", EF, 32),
            ("two hops, ef 80", 2 * EF, 32),
            ("two hops, ef 160", 4 * EF, 32),
        ];
        for (walk, ef, wanted) in walks {
            let mut tally = Tally {
                worst: 1.0,
                min_rows: usize::MAX,
                ..Tally::default()
            };
            for (query, truth) in queries.iter().zip(&truth) {
                graph.set_query(query);
                let started = Instant::now();
                let mut counting = Counting {
                    graph: &mut graph,
                    work: WalkWork::default(),
                };
                let found: Vec<u32> = if ef == 0 {
                    // As a scan does: batches in strict order until K pass,
                    // within hnsw.max_scan_tuples' default of 20,000 nodes.
                    search.start_from_top(&mut counting, entry, entry_level, &mut descent, || {});
                    let budget = Budget {
                        max_visited: 20_000,
                        max_memory_bytes: usize::MAX,
                    };
                    let mut found = Vec::new();
                    while found.len() < K {
                        let batch =
                            search.next_batch(&mut counting, 0, EF, Order::Strict, budget, || {});
                        if batch.is_empty() {
                            break;
                        }
                        found.extend(batch.iter().map(|c| c.id).filter(|&id| passes(id)));
                    }
                    found.truncate(K);
                    found
                } else {
                    let top = Candidate {
                        distance: counting.distance(entry),
                        id: entry,
                    };
                    let start =
                        greedy_descent(&mut counting, top, entry_level, 1, &mut descent, || {});
                    let found = search_passing(
                        &mut counting,
                        &[start],
                        ef,
                        wanted,
                        20_000,
                        passes,
                        &mut passing_scratch,
                    );
                    found.iter().take(K).map(|c| c.id).collect()
                };
                tally.seconds += started.elapsed().as_secs_f64();
                tally.work += counting.work;
                let recall = found.iter().filter(|id| truth.contains(id)).count() as f64
                    / truth.len().min(K) as f64;
                tally.recall += recall;
                tally.worst = tally.worst.min(recall);
                tally.min_rows = tally.min_rows.min(found.len());
            }
            let n = queries.len() as f64;
            println!(
                "| {name} | {} | {walk} | {:.3} / {:.1} | {} | {:.0} | {:.0} | {:.0} |",
                passing.len(),
                tally.recall / n,
                tally.worst,
                tally.min_rows,
                tally.work.measured as f64 / n,
                tally.work.lists_read as f64 / n,
                tally.seconds / n * 1e6
            );
        }
    }
}
