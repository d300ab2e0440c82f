//! Measures the walk over codes with an exact rerank (`hnsw::coded`) in memory,
//! on real data, against today's walk over whole vectors: recall@10 against
//! brute force (mean and worst query), work per query, and what each page
//! layout would touch. Run by `bench/codes_prototype.sh`.
//!
//!   codes_prototype BASE QUERIES DIMENSIONS l2|cosine [EF ...]
//!
//! BASE and QUERIES are little-endian float32 rows (tests/lib/datasets.py --raw).

#[path = "coded.rs"]
mod coded;
use coded::{search_counted, NodeCodes, RerankRule, Touched, WalkCounts};
use quiver::hnsw::memory::BuiltGraph;
use quiver::hnsw::SearchScratch;
use quiver::kernels;
use quiver::quant::CodeMetric;

#[path = "prototype_data.rs"]
mod prototype_data;
use prototype_data::{build_graph, read_rows};

const K: usize = 10;

struct Variant {
    name: String,
    codes: Option<usize>,
    rerank: RerankRule,
    /// The walk's beam relative to ef (a code walk may widen it).
    beam: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, queries, dimensions, metric) = (
        &args[1],
        &args[2],
        args[3].parse::<usize>().unwrap(),
        args[4].as_str(),
    );
    let efs: Vec<usize> = args[5..].iter().map(|a| a.parse().unwrap()).collect();
    let cosine = metric == "cosine";
    let (distance, code_metric) = if cosine {
        (kernels::best().negative_dot, CodeMetric::NegativeDot)
    } else {
        (kernels::best().l2_squared, CodeMetric::L2Squared)
    };
    let data = read_rows(base, dimensions, cosine);
    let queries = read_rows(queries, dimensions, cosine);

    let mut graph = build_graph(&data, dimensions, distance);
    let params = graph.params();

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

    let codes = [
        NodeCodes::encode(&graph, code_metric, 8, 0.0, 20_000),
        NodeCodes::encode(&graph, code_metric, 4, 0.001, 20_000),
        NodeCodes::encode(&graph, code_metric, 1, 0.0, 20_000),
    ];
    let variants = [
        Variant {
            name: "whole vectors (today)".into(),
            codes: None,
            rerank: RerankRule::Bounded,
            beam: 1.0,
        },
        Variant {
            name: "8-bit, rerank ef".into(),
            codes: Some(0),
            rerank: RerankRule::Nearest(usize::MAX),
            beam: 1.0,
        },
        Variant {
            name: "8-bit, rerank bounded".into(),
            codes: Some(0),
            rerank: RerankRule::Bounded,
            beam: 1.0,
        },
        Variant {
            name: "4-bit, rerank ef".into(),
            codes: Some(1),
            rerank: RerankRule::Nearest(usize::MAX),
            beam: 1.0,
        },
        Variant {
            name: "4-bit, rerank bounded".into(),
            codes: Some(1),
            rerank: RerankRule::Bounded,
            beam: 1.0,
        },
        Variant {
            name: "4-bit, beam 1.5 ef, bounded".into(),
            codes: Some(1),
            rerank: RerankRule::Bounded,
            beam: 1.5,
        },
        Variant {
            name: "1-bit, rerank ef".into(),
            codes: Some(2),
            rerank: RerankRule::Nearest(usize::MAX),
            beam: 1.0,
        },
        Variant {
            name: "1-bit, rerank bounded".into(),
            codes: Some(2),
            rerank: RerankRule::Bounded,
            beam: 1.0,
        },
        Variant {
            name: "1-bit, beam 2 ef, rerank bounded".into(),
            codes: Some(2),
            rerank: RerankRule::Bounded,
            beam: 2.0,
        },
    ];
    // Index bytes per node, layer 0 (the upper layers add about 1/(m-1) of it):
    // today an element (72-byte header and the vector) and a list of 2m
    // 6-byte ids, each tuple with its 4-byte line pointer.
    let today = 72 + dimensions * 4 + 4 + 2 + 2 * params.m * 6 + 4;
    println!("| codes | code + residual bytes | bytes per node: today / codes in elements / codes in lists |");
    println!("|---|---|---|");
    for (name, c) in ["8-bit", "4-bit", "1-bit"].iter().zip(&codes) {
        let code = c.stored_bytes();
        println!(
            "| {name} | {code} | {today} / {} / {} |",
            today + code,
            today + code + 2 * params.m * code
        );
    }
    println!();
    let vector_bytes = dimensions * 4;
    let list_bytes = 2 * params.m * 6;
    println!("| ef | walk | recall@10 mean / worst | estimates | exact | lists read | today: pages / KB | codes in elements: pages / KB | codes in lists: pages / KB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut scratch = SearchScratch::default();
    for &ef in &efs {
        for variant in &variants {
            let node_codes = variant.codes.map(|i| &codes[i]);
            let beam = (ef as f64 * variant.beam).round() as usize;
            let (mut total, mut worst, mut counts) = (0.0, 1.0f64, WalkCounts::default());
            for (query, truth) in queries.iter().zip(&truth) {
                let (found, work) = search_counted(
                    &mut graph,
                    node_codes,
                    query,
                    beam,
                    K,
                    variant.rerank,
                    &mut scratch,
                );
                let recall =
                    found.iter().filter(|c| truth.contains(&c.id)).count() as f64 / K as f64;
                total += recall;
                worst = worst.min(recall);
                counts += work;
            }
            let n = queries.len() as f64;
            let per = |x: u64| x as f64 / n;
            let code_bytes = node_codes.map_or(0, |c| c.stored_bytes());
            let layouts = match node_codes {
                None => {
                    let t = Touched::vectors_in_elements(&counts, vector_bytes, list_bytes);
                    [t, t, t]
                }
                Some(_) => [
                    Touched::vectors_in_elements(
                        &WalkCounts {
                            estimates: 0,
                            exact: counts.exact + counts.estimates,
                            ..counts
                        },
                        vector_bytes,
                        list_bytes,
                    ),
                    Touched::codes_in_elements(&counts, vector_bytes, code_bytes, list_bytes),
                    Touched::codes_in_lists(&counts, vector_bytes, code_bytes, list_bytes),
                ],
            };
            let cell =
                |t: &Touched| format!("{:.0} / {:.0}", t.page_accesses / n, t.bytes / n / 1024.0);
            println!(
                "| {ef} | {} | {:.4} / {:.1} | {:.0} | {:.0} | {:.0} | {} | {} | {} |",
                variant.name,
                total / n,
                worst,
                per(counts.estimates),
                per(counts.exact),
                per(counts.expansions),
                cell(&layouts[0]),
                if node_codes.is_some() {
                    cell(&layouts[1])
                } else {
                    "-".into()
                },
                if node_codes.is_some() {
                    cell(&layouts[2])
                } else {
                    "-".into()
                },
            );
        }
    }
}
