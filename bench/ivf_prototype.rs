//! Measures IVF lists over codes with an exact rerank (`ivf`) in memory, on
//! real data, before any page holds them: for each code (8-bit and 4-bit
//! scalar codes of residuals, whose bounds are certain, and RaBitQ 1-bit,
//! whose bound holds with high probability), at each number of probes:
//! recall@10 against brute force (mean and worst query), rows estimated and
//! rows measured exactly per query, and the bytes of codes a query reads.
//! Also the time to train the centers and code every row. Run by
//! `bench/ivf_prototype.sh`.
//!
//!   ivf_prototype BASE QUERIES DIMENSIONS l2|cosine LISTS [PROBES ...]
//!
//! BASE and QUERIES are little-endian float32 rows (tests/lib/datasets.py --raw).

use quiver::ivf::{self, kmeans, Estimated, Geometry, Rerank, ResidualCodes, Rows};
use quiver::kernels;
use quiver::quant::{CodeMetric, Quantizer, RaBitQ};
use std::time::Instant;

#[path = "prototype_data.rs"]
#[allow(dead_code)] // the graph builder is the other prototypes'
mod prototype_data;
use prototype_data::read_rows;

const K: usize = 10;
/// Rows the centers are trained on: as pgvector's ivfflat, 50 per list, and
/// at least this many.
const MIN_SAMPLE: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, queries, dimensions, metric) = (
        &args[1],
        &args[2],
        args[3].parse::<usize>().unwrap(),
        args[4].as_str(),
    );
    let lists: usize = args[5].parse().unwrap();
    let probes: Vec<usize> = args[6..].iter().map(|a| a.parse().unwrap()).collect();
    let cosine = metric == "cosine";
    let (geometry, code_metric, distance) = if cosine {
        (
            Geometry::Spherical,
            CodeMetric::NegativeDot,
            kernels::best().negative_dot,
        )
    } else {
        (
            Geometry::Euclidean,
            CodeMetric::L2Squared,
            kernels::best().l2_squared,
        )
    };
    let data = read_rows(base, dimensions, cosine);
    let queries = read_rows(queries, dimensions, cosine);
    let queries = &queries[..queries.len().min(500)];
    let flat: Vec<f32> = data.iter().flatten().copied().collect();
    let rows = Rows::new(&flat, dimensions);

    // Training and assignment, timed as a build would run them.
    let started = Instant::now();
    let sample_size = (50 * lists).max(MIN_SAMPLE).min(rows.len());
    let stride = rows.len() / sample_size;
    let sample: Vec<f32> = (0..sample_size)
        .flat_map(|i| rows.row(i * stride).to_vec())
        .collect();
    let centers = kmeans::train(geometry, Rows::new(&sample, dimensions), lists, 7, || {});
    let trained = started.elapsed().as_secs_f64();
    let centers = Rows::new(&centers, dimensions);
    let owner: Vec<usize> = (0..rows.len())
        .map(|i| kmeans::nearest(geometry, centers, rows.row(i)).0)
        .collect();
    let assigned = started.elapsed().as_secs_f64() - trained;
    let residuals: Vec<f32> = (0..sample_size)
        .flat_map(|i| ivf::residual(rows.row(i * stride), centers.row(owner[i * stride])))
        .collect();
    let residual_rows = Rows::new(&residuals, dimensions);
    let mut sizes = vec![0usize; lists];
    owner.iter().for_each(|&c| sizes[c] += 1);
    sizes.sort_unstable();
    println!(
        "{} rows x {dimensions}, {lists} lists (sample {sample_size}): trained in {trained:.2} s, assigned in {assigned:.2} s; rows per list min {} median {} max {}",
        rows.len(),
        sizes[0],
        sizes[lists / 2],
        sizes[lists - 1]
    );

    let truth: Vec<Vec<u32>> = queries
        .iter()
        .map(|q| {
            let mut all: Vec<(f32, u32)> = data
                .iter()
                .enumerate()
                .map(|(i, v)| (distance(q, v), i as u32))
                .collect();
            all.select_nth_unstable_by(K, |a, b| a.0.total_cmp(&b.0));
            all.truncate(K);
            all.into_iter().map(|p| p.1).collect()
        })
        .collect();

    let variants: Vec<(&str, ResidualCodes)> = vec![
        (
            "8-bit scalar",
            ResidualCodes::train(residual_rows, code_metric, 8),
        ),
        (
            "4-bit scalar",
            ResidualCodes::train(residual_rows, code_metric, 4),
        ),
        (
            "RaBitQ 1-bit",
            ResidualCodes {
                quantizer: Quantizer::RaBitQ(RaBitQ::train(
                    (0..residual_rows.len()).map(|i| residual_rows.row(i)),
                    dimensions,
                    5,
                )),
                metric: code_metric,
            },
        ),
    ];
    println!();
    println!("| codes | bytes/row | probes | recall@10 | worst | rows estimated | rows measured | KB of codes read | bound broken |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, codes) in &variants {
        if code_metric == CodeMetric::L1 && matches!(codes.quantizer, Quantizer::RaBitQ(_)) {
            continue;
        }
        let started = Instant::now();
        let mut lists_of: Vec<Vec<(u32, Vec<u8>)>> = vec![Vec::new(); lists];
        for (i, &c) in owner.iter().enumerate() {
            let mut code = Vec::with_capacity(codes.stored_bytes());
            codes.encode(rows.row(i), centers.row(c), &mut code);
            lists_of[c].push((i as u32, code));
        }
        let coded = started.elapsed().as_secs_f64();
        eprintln!("{name}: coded {} rows in {coded:.2} s", rows.len());
        for &p in &probes {
            let (mut recall_sum, mut worst, mut estimated, mut measured, mut broken) =
                (0.0, 1.0f64, 0usize, 0usize, 0usize);
            for (q, query) in queries.iter().enumerate() {
                let mut found = Vec::new();
                for (list, _) in kmeans::probe_order(geometry, centers, query, p) {
                    let center = centers.row(list);
                    let prepared = codes.prepare(query, center);
                    for (id, code) in &lists_of[list] {
                        let (estimate, bound) = prepared.estimate(code);
                        found.push(Estimated {
                            id: *id,
                            estimate,
                            bound,
                        });
                    }
                }
                estimated += found.len();
                let mut rerank = Rerank::new(found.clone());
                let mut got = Vec::new();
                while got.len() < K {
                    match rerank.next(|id| Some(distance(query, &data[id as usize]))) {
                        Some((id, _)) => got.push(id),
                        None => break,
                    }
                }
                measured += rerank.measured_count;
                broken += found
                    .iter()
                    .filter(|e| e.bound > distance(query, &data[e.id as usize]) + 1e-5)
                    .count();
                let hits = got.iter().filter(|g| truth[q].contains(g)).count() as f64 / K as f64;
                recall_sum += hits;
                worst = worst.min(hits);
            }
            let n = queries.len() as f64;
            println!(
                "| {name} | {} | {p} | {:.3} | {:.1} | {:.0} | {:.1} | {:.0} | {} |",
                codes.stored_bytes() + 6,
                recall_sum / n,
                worst,
                estimated as f64 / n,
                measured as f64 / n,
                estimated as f64 * (codes.stored_bytes() + 6) as f64 / n / 1024.0,
                broken
            );
        }
    }
}
