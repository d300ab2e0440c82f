use super::*;
use crate::kernels::scalar;
use rand::{Rng, SeedableRng};

/// Rows around `clusters` centers of different spread, unit length when `unit`.
fn data(
    rng: &mut rand::rngs::StdRng,
    rows: usize,
    clusters: usize,
    d: usize,
    unit: bool,
) -> Vec<f32> {
    let centers: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..d).map(|_| rng.gen_range(-3.0f32..3.0)).collect())
        .collect();
    let mut values = Vec::with_capacity(rows * d);
    for i in 0..rows {
        let c = &centers[i % clusters];
        let mut row: Vec<f32> = c.iter().map(|&x| x + rng.gen_range(-1.0f32..1.0)).collect();
        if unit {
            kmeans::normalize(&mut row);
        }
        values.extend(row);
    }
    values
}

fn exact(metric: CodeMetric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        CodeMetric::L2Squared => scalar::l2_squared(a, b),
        CodeMetric::NegativeDot => -scalar::dot(a, b),
        CodeMetric::L1 => scalar::l1(a, b),
    }
}

/// An in-memory IVF over `rows`: centers, each row's list, codes.
struct Built {
    centers: Vec<f32>,
    lists: Vec<Vec<(u32, Vec<u8>)>>,
    codes: ResidualCodes,
}

fn build(rows: Rows, lists: usize, geometry: Geometry, metric: CodeMetric) -> Built {
    let centers = kmeans::train(geometry, rows, lists, 9, || {});
    let d = rows.dimensions;
    let owner: Vec<usize> = (0..rows.len())
        .map(|i| kmeans::nearest(geometry, Rows::new(&centers, d), rows.row(i)).0)
        .collect();
    let residuals: Vec<f32> = (0..rows.len())
        .flat_map(|i| residual(rows.row(i), &centers[owner[i] * d..(owner[i] + 1) * d]))
        .collect();
    let codes = ResidualCodes::train(Rows::new(&residuals, d), metric, CODE_BITS);
    let mut members = vec![Vec::new(); lists];
    for (i, &c) in owner.iter().enumerate() {
        let mut code = Vec::new();
        codes.encode(rows.row(i), &centers[c * d..(c + 1) * d], &mut code);
        members[c].push((i as u32, code));
    }
    Built {
        centers,
        lists: members,
        codes,
    }
}

fn search(
    built: &Built,
    rows: Rows,
    query: &[f32],
    geometry: Geometry,
    metric: CodeMetric,
    probes: usize,
    k: usize,
) -> (Vec<u32>, usize) {
    let d = rows.dimensions;
    let mut found = Vec::new();
    for (list, _) in kmeans::probe_order(geometry, Rows::new(&built.centers, d), query, probes) {
        let center = &built.centers[list * d..(list + 1) * d];
        let prepared = built.codes.prepare(query, center);
        for (id, code) in &built.lists[list] {
            let (estimate, bound) = prepared.estimate(code);
            // The bound holds for every row.
            let truth = exact(metric, query, rows.row(*id as usize));
            assert!(
                bound <= truth + 1e-3 * truth.abs().max(1.0),
                "bound {bound} above exact {truth}"
            );
            found.push(Estimated {
                id: *id,
                estimate,
                bound,
            });
        }
    }
    let mut rerank = Rerank::new(found);
    let mut out = Vec::new();
    let mut last = f32::NEG_INFINITY;
    while out.len() < k {
        let Some((id, d)) = rerank.next(|id| Some(exact(metric, query, rows.row(id as usize))))
        else {
            break;
        };
        assert!(d >= last, "rerank out of order: {d} after {last}");
        last = d;
        out.push(id);
    }
    (out, rerank.measured_count)
}

fn brute(rows: Rows, query: &[f32], metric: CodeMetric, k: usize) -> Vec<u32> {
    let mut all: Vec<(f32, u32)> = (0..rows.len())
        .map(|i| (exact(metric, query, rows.row(i)), i as u32))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    all.into_iter().take(k).map(|(_, i)| i).collect()
}

#[test]
fn probing_every_list_gives_the_exact_answer_and_few_rows_are_measured() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for (geometry, metric, unit) in [
        (Geometry::Euclidean, CodeMetric::L2Squared, false),
        (Geometry::Spherical, CodeMetric::NegativeDot, true),
    ] {
        let values = data(&mut rng, 3000, 30, 24, unit);
        let rows = Rows::new(&values, 24);
        let built = build(rows, 20, geometry, metric);
        let mut measured = 0;
        for q in 0..20 {
            let query = rows
                .row(q * 7)
                .iter()
                .map(|x| x + 0.01)
                .collect::<Vec<f32>>();
            let (got, count) = search(&built, rows, &query, geometry, metric, 20, 10);
            let want = brute(rows, &query, metric, 10);
            // Ties aside, the same ten rows.
            let d = |id: u32| exact(metric, &query, rows.row(id as usize));
            assert!(
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| (d(*a) - d(*b)).abs() <= 1e-4 * d(*b).abs().max(1.0)),
                "{metric:?} query {q}: {got:?} vs {want:?}"
            );
            measured += count;
        }
        // 8-bit codes: a query measures a few times k, not the 3,000 rows.
        assert!(
            measured / 20 < 100,
            "{metric:?}: {} rows measured per query",
            measured / 20
        );
    }
}

#[test]
fn fewer_probes_trade_recall_for_work() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let values = data(&mut rng, 4000, 40, 16, false);
    let rows = Rows::new(&values, 16);
    let built = build(rows, 40, Geometry::Euclidean, CodeMetric::L2Squared);
    let recall = |probes: usize| {
        let mut hits = 0;
        for q in 0..30 {
            let query = rows.row(q * 11);
            let (got, _) = search(
                &built,
                rows,
                query,
                Geometry::Euclidean,
                CodeMetric::L2Squared,
                probes,
                10,
            );
            let want = brute(rows, query, CodeMetric::L2Squared, 10);
            hits += got.iter().filter(|g| want.contains(g)).count();
        }
        hits as f64 / 300.0
    };
    let (one, four, all) = (recall(1), recall(4), recall(40));
    assert!(one <= four && four <= all, "{one} {four} {all}");
    assert!(all > 0.99, "every list probed: {all}");
}

#[test]
fn rerank_skips_rows_gone_and_takes_later_rows_in() {
    let found = |ids: &[(u32, f32)]| {
        ids.iter()
            .map(|&(id, b)| Estimated {
                id,
                estimate: b,
                bound: b,
            })
            .collect()
    };
    let mut rerank = Rerank::new(found(&[(1, 1.0), (2, 2.0), (3, 3.0)]));
    // Row 2 is gone (its heap row is no longer visible).
    let exact = |id: u32| if id == 2 { None } else { Some(id as f32 + 0.5) };
    assert_eq!(rerank.next(exact), Some((1, 1.5)));
    rerank.extend(found(&[(4, 0.1)]));
    assert_eq!(rerank.next(exact), Some((3, 3.5)));
    assert_eq!(rerank.next(exact), Some((4, 4.5)));
    assert_eq!(rerank.next(exact), None);
    assert!(rerank.is_done());
}

#[test]
fn bit_codes_measure_hamming_exactly() {
    let codes = ListCodes::train(IvfMetric::Hamming, Rows::new(&[0.0; 10], 10));
    assert_eq!(codes.stored_bytes(), 2);
    assert_eq!(codes.bits(), 0);
    let row = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    let mut stored = Vec::new();
    codes.encode(&row, &[0.5; 10], &mut stored);
    assert_eq!(stored, vec![0b0000_1101, 0b0000_0011]);
    let query = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    let prepared = codes.prepare(&query, &[0.5; 10]);
    assert!(prepared.is_exact());
    assert_eq!(prepared.estimate(&stored), (2.0, 2.0));
    let mut centers = vec![0.2, 0.5, 0.7, 0.49];
    binarize(&mut centers);
    assert_eq!(centers, vec![0.0, 1.0, 1.0, 0.0]);
}

#[test]
fn operator_bounds_stay_below_the_operator_value() {
    for metric in [
        IvfMetric::L2,
        IvfMetric::Cosine,
        IvfMetric::InnerProduct,
        IvfMetric::Hamming,
    ] {
        for d in [-3.0f32, -1.0, -0.5, 0.0, 1e-7, 0.25, 4.0, 1e6] {
            if matches!(metric, IvfMetric::L2 | IvfMetric::Hamming) && d < 0.0 {
                continue;
            }
            let (value, bound) = (metric.operator_value(d), metric.operator_bound(d));
            assert!(bound < value, "{metric:?} {d}: {bound} vs {value}");
            // Barely: the bound stays useful.
            assert!(value - bound <= 1e-5 * value.abs() + 2e-6, "{metric:?} {d}");
        }
    }
    assert_eq!(IvfMetric::L2.operator_value(4.0), 2.0);
    assert_eq!(IvfMetric::Cosine.operator_value(-1.0), 0.0);
}

#[test]
fn residual_codes_bound_every_row_for_each_metric() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    for metric in [IvfMetric::L2, IvfMetric::Cosine, IvfMetric::InnerProduct] {
        let unit = metric == IvfMetric::Cosine;
        let values = data(&mut rng, 2000, 10, 16, unit);
        let rows = Rows::new(&values, 16);
        let centers = kmeans::train(metric.training(), rows, 10, 3, || {});
        let centers = Rows::new(&centers, 16);
        let owner: Vec<usize> = (0..rows.len())
            .map(|i| kmeans::nearest(metric.training(), centers, rows.row(i)).0)
            .collect();
        let residuals: Vec<f32> = (0..rows.len())
            .flat_map(|i| residual(rows.row(i), centers.row(owner[i])))
            .collect();
        let codes = ListCodes::train(metric, Rows::new(&residuals, 16));
        let exact_metric = if metric == IvfMetric::L2 {
            CodeMetric::L2Squared
        } else {
            CodeMetric::NegativeDot
        };
        for q in 0..10 {
            let query = rows.row(q * 13);
            for list in 0..10 {
                let prepared = codes.prepare(query, centers.row(list));
                for i in (0..rows.len()).filter(|&i| owner[i] == list) {
                    let mut stored = Vec::new();
                    codes.encode(rows.row(i), centers.row(list), &mut stored);
                    let (_, bound) = prepared.estimate(&stored);
                    let truth = exact(exact_metric, query, rows.row(i));
                    assert!(
                        metric.operator_bound(bound) <= metric.operator_value(truth),
                        "{metric:?}: bound {bound} above {truth}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_reservoir_keeps_a_uniform_sample() {
    let mut reservoir = Reservoir::new(100);
    let mut sample = vec![usize::MAX; 100];
    for row in 0..10_000 {
        if let Some(slot) = reservoir.offer() {
            sample[slot] = row;
        }
    }
    assert!(!reservoir.holds_all());
    assert_eq!(reservoir.seen(), 10_000);
    // Each decile of the stream is about a tenth of the sample.
    let mut deciles = [0; 10];
    sample.iter().for_each(|&row| deciles[row / 1000] += 1);
    assert!(
        deciles.iter().all(|&n| (2..=25).contains(&n)),
        "{deciles:?}"
    );
    let mut small = Reservoir::new(5);
    assert_eq!(
        (0..3).map(|_| small.offer()).collect::<Vec<_>>(),
        vec![Some(0), Some(1), Some(2)]
    );
    assert!(small.holds_all());
}
