//! A walk over codes with an exact rerank, in memory: the prototype that
//! decides how the index should lay out codes before its pages change.
//!
//! The walk is the usual HNSW search with every distance estimated from a
//! code (`quant`); only what it found is measured exactly. Each
//! search counts its work (estimates, exact distances, nodes expanded), and
//! `Touched` turns the counts into the page accesses and bytes each layout
//! would cost.

use quiver::hnsw::memory::{BuiltGraph, MemoryGraph};
use quiver::hnsw::{greedy_descent, search_layer, Graph, SearchScratch};
use quiver::quant::{CodeMetric, Prepared, Quantizer, RaBitQ, ScalarQuantizer};
use quiver::search::{Candidate, DenseVisited};

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WalkCounts {
    /// Distances estimated from codes.
    pub estimates: u64,
    /// Distances measured on whole vectors.
    pub exact: u64,
    /// Neighbor lists read.
    pub expansions: u64,
}

impl std::ops::AddAssign for WalkCounts {
    fn add_assign(&mut self, other: WalkCounts) {
        self.estimates += other.estimates;
        self.exact += other.exact;
        self.expansions += other.expansions;
    }
}

/// Codes of every node of a memory graph, in node order.
pub struct NodeCodes {
    pub quantizer: Quantizer,
    pub metric: CodeMetric,
    codes: Vec<u8>,
    residuals: Vec<f32>,
}

impl NodeCodes {
    /// Codes of the graph's vectors, learned from up to `sample` of them:
    /// 1-bit RaBitQ-style codes for `bits` = 1, else scalar codes.
    pub fn encode(
        graph: &MemoryGraph,
        metric: CodeMetric,
        bits: u8,
        trim: f64,
        sample: usize,
    ) -> NodeCodes {
        let count = graph.len() as u32;
        let stride = (count as usize / sample.max(1)).max(1);
        let sampled = (0..count).step_by(stride).map(|node| graph.vector(node));
        let quantizer = match bits {
            1 => Quantizer::RaBitQ(RaBitQ::train(sampled, graph.dim(), 1)),
            _ => Quantizer::Scalar(ScalarQuantizer::train(sampled, graph.dim(), bits, trim)),
        };
        let mut codes = Vec::with_capacity(count as usize * quantizer.code_bytes());
        let residuals = (0..count)
            .map(|node| quantizer.encode(graph.vector(node), metric, &mut codes))
            .collect();
        NodeCodes {
            quantizer,
            metric,
            codes,
            residuals,
        }
    }

    pub fn code(&self, node: u32) -> &[u8] {
        let bytes = self.quantizer.code_bytes();
        &self.codes[node as usize * bytes..(node as usize + 1) * bytes]
    }

    /// Bytes stored per node: the code, and for scalar codes the residual.
    pub fn stored_bytes(&self) -> usize {
        self.quantizer.code_bytes()
            + if matches!(self.quantizer, Quantizer::Scalar(_)) {
                4
            } else {
                0
            }
    }

    pub fn residual(&self, node: u32) -> f32 {
        self.residuals[node as usize]
    }
}

/// How many of what the walk found get an exact distance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RerankRule {
    /// The nearest `n` by estimate.
    Nearest(usize),
    /// Those whose lower bound (estimate minus error bound) is below the
    /// k-th exact distance measured so far: the same answer as measuring
    /// all, with fewer measurements.
    Bounded,
}

/// The graph as the walk sees it: neighbors from the memory graph, distances
/// estimated from codes, or exact when `codes` is None; counting both.
struct CountingGraph<'a> {
    graph: &'a mut MemoryGraph,
    codes: Option<(&'a NodeCodes, Prepared)>,
    counts: WalkCounts,
}

impl Graph for CountingGraph<'_> {
    type Id = u32;

    fn distance(&mut self, node: u32) -> f32 {
        match &self.codes {
            Some((codes, query)) => {
                self.counts.estimates += 1;
                query.estimate(codes.code(node))
            }
            None => {
                self.counts.exact += 1;
                self.graph.distance(node)
            }
        }
    }

    fn neighbors(&mut self, node: u32, layer: usize, out: &mut Vec<u32>) {
        self.counts.expansions += 1;
        self.graph.neighbors(node, layer, out)
    }
}

/// The `k` nearest nodes to `query` found by a walk with beam `ef`: over
/// exact distances when `codes` is None, else over code estimates followed by
/// `rerank`. Returns them nearest first, with exact distances, and the work done.
pub fn search_counted(
    graph: &mut MemoryGraph,
    codes: Option<&NodeCodes>,
    query: &[f32],
    ef: usize,
    k: usize,
    rerank: RerankRule,
    scratch: &mut SearchScratch<u32, DenseVisited>,
) -> (Vec<Candidate<u32>>, WalkCounts) {
    let Some((entry, entry_level)) = graph.entry() else {
        return (Vec::new(), WalkCounts::default());
    };
    graph.set_query(query);
    let prepared = codes.map(|c| (c, c.quantizer.prepare(query, c.metric)));
    let mut walk = CountingGraph {
        graph,
        codes: prepared,
        counts: WalkCounts::default(),
    };
    let start = Candidate {
        distance: walk.distance(entry),
        id: entry,
    };
    let nearest = greedy_descent(&mut walk, start, entry_level, 1, scratch, || {});
    let found = search_layer(&mut walk, &[nearest], ef.max(k), 0, scratch, || {});
    let CountingGraph {
        graph,
        codes: prepared,
        mut counts,
    } = walk;
    let Some((codes, prepared)) = prepared else {
        return (found.into_iter().take(k).collect(), counts);
    };
    let mut measured: Vec<Candidate<u32>> = Vec::new();
    let mut measure = |c: &Candidate<u32>, measured: &mut Vec<Candidate<u32>>| {
        counts.exact += 1;
        measured.push(Candidate {
            distance: graph.distance(c.id),
            id: c.id,
        });
    };
    match rerank {
        RerankRule::Nearest(n) => found
            .iter()
            .take(n.max(k))
            .for_each(|c| measure(c, &mut measured)),
        RerankRule::Bounded => {
            // `measured` is kept sorted and cut to k, so its last is the k-th.
            for c in &found {
                let kth = if measured.len() >= k {
                    measured[k - 1].distance
                } else {
                    f32::INFINITY
                };
                if prepared.lower_bound(codes.code(c.id), c.distance, codes.residual(c.id)) < kth {
                    measure(c, &mut measured);
                    measured.sort_unstable();
                    measured.truncate(k);
                }
            }
        }
    }
    measured.sort_unstable();
    measured.truncate(k);
    (measured, counts)
}

/// Page accesses and bytes a search's counts cost in each layout, given the
/// bytes of a vector and of a code with its residual.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Touched {
    pub page_accesses: f64,
    pub bytes: f64,
}

impl Touched {
    /// Today's index: every measured node's element is read whole, and every
    /// expanded node's neighbor tuple.
    pub fn vectors_in_elements(
        counts: &WalkCounts,
        vector_bytes: usize,
        list_bytes: usize,
    ) -> Touched {
        Touched {
            page_accesses: (counts.exact + counts.expansions) as f64,
            bytes: (counts.exact * vector_bytes as u64 + counts.expansions * list_bytes as u64)
                as f64,
        }
    }

    /// Codes beside the vector in each element: an estimate still reads the
    /// element's page, but a few cache lines of it.
    pub fn codes_in_elements(
        counts: &WalkCounts,
        vector_bytes: usize,
        code_bytes: usize,
        list_bytes: usize,
    ) -> Touched {
        Touched {
            page_accesses: (counts.estimates + counts.exact + counts.expansions) as f64,
            bytes: (counts.estimates * code_bytes as u64
                + counts.exact * vector_bytes as u64
                + counts.expansions * list_bytes as u64) as f64,
        }
    }

    /// Each neighbor list carries its neighbors' codes: an expansion reads
    /// one tuple, and estimates touch no other page.
    pub fn codes_in_lists(
        counts: &WalkCounts,
        vector_bytes: usize,
        code_bytes: usize,
        list_bytes: usize,
    ) -> Touched {
        Touched {
            page_accesses: (counts.exact + counts.expansions) as f64,
            bytes: (counts.estimates * code_bytes as u64
                + counts.exact * vector_bytes as u64
                + counts.expansions * list_bytes as u64) as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quiver::hnsw::Params;
    use quiver::kernels::scalar;
    use rand::{Rng, SeedableRng};

    /// Points around 40 centers in 32 dimensions, spread mostly along a few
    /// of them: the low intrinsic dimension real embeddings have.
    fn clustered(rng: &mut rand::rngs::StdRng, count: usize) -> Vec<Vec<f32>> {
        let centers: Vec<Vec<f32>> = (0..40)
            .map(|_| (0..32).map(|_| rng.gen_range(-4.0f32..4.0)).collect())
            .collect();
        (0..count)
            .map(|i| {
                let spread = |d: usize| 1.0 / (1.0 + d as f32 / 2.0);
                centers[i % 40]
                    .iter()
                    .enumerate()
                    .map(|(d, c)| c + rng.gen_range(-1.0f32..1.0) * spread(d))
                    .collect()
            })
            .collect()
    }

    fn recall(found: &[Candidate<u32>], truth: &[u32]) -> f64 {
        found.iter().filter(|c| truth.contains(&c.id)).count() as f64 / truth.len() as f64
    }

    #[test]
    fn reranked_code_walks_keep_recall_with_few_exact_distances() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut data = clustered(&mut rng, 3050);
        let queries = data.split_off(3000);
        let params = Params {
            m: 8,
            ef_construction: 40,
        };
        let mut graph = MemoryGraph::new(params, 32, scalar::l2_squared);
        for v in &data {
            let level = params.level_for(rng.gen_range(0.0..1.0));
            graph.insert(v, level, |_| false, || {});
        }
        let codes8 = NodeCodes::encode(&graph, CodeMetric::L2Squared, 8, 0.0, 1000);
        let codes4 = NodeCodes::encode(&graph, CodeMetric::L2Squared, 4, 0.001, 1000);
        let mut scratch = SearchScratch::default();
        let (k, ef) = (10, 40);
        let mut totals = [0.0f64; 4];
        let mut exact_counts = [0u64; 4];
        for query in &queries {
            let mut all: Vec<(f32, u32)> = data
                .iter()
                .enumerate()
                .map(|(i, v)| (scalar::l2_squared(query, v), i as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            let truth: Vec<u32> = all.iter().take(k).map(|p| p.1).collect();
            let runs = [
                search_counted(
                    &mut graph,
                    None,
                    query,
                    ef,
                    k,
                    RerankRule::Bounded,
                    &mut scratch,
                ),
                search_counted(
                    &mut graph,
                    Some(&codes8),
                    query,
                    ef,
                    k,
                    RerankRule::Nearest(ef),
                    &mut scratch,
                ),
                search_counted(
                    &mut graph,
                    Some(&codes8),
                    query,
                    ef,
                    k,
                    RerankRule::Bounded,
                    &mut scratch,
                ),
                search_counted(
                    &mut graph,
                    Some(&codes4),
                    query,
                    ef,
                    k,
                    RerankRule::Nearest(ef),
                    &mut scratch,
                ),
            ];
            for (i, (found, counts)) in runs.iter().enumerate() {
                assert_eq!(found.len(), k);
                assert!(
                    found.windows(2).all(|w| w[0] <= w[1]),
                    "sorted by exact distance"
                );
                totals[i] += recall(found, &truth);
                exact_counts[i] += counts.exact;
            }
            // The bound only skips what could not have entered the answer.
            assert_eq!(runs[1].0, runs[2].0);
            assert_eq!(runs[1].1.estimates, runs[2].1.estimates);
        }
        let n = queries.len() as f64;
        let [exact_walk, sq8, sq8_bounded, sq4] = totals.map(|t| t / n);
        assert!(exact_walk > 0.9, "exact walk recall {exact_walk}");
        assert!(
            sq8 >= exact_walk - 0.01 && sq8_bounded == sq8,
            "8-bit {sq8} / {sq8_bounded} vs {exact_walk}"
        );
        assert!(sq4 >= exact_walk - 0.05, "4-bit {sq4} vs {exact_walk}");
        // The code walks measure whole vectors only to rerank.
        assert!(
            exact_counts[1] == ef as u64 * queries.len() as u64,
            "{exact_counts:?}"
        );
        assert!(
            exact_counts[2] < exact_counts[1] && exact_counts[0] > 2 * exact_counts[1],
            "{exact_counts:?}"
        );
    }

    #[test]
    fn layouts_charge_what_they_read() {
        let counts = WalkCounts {
            estimates: 100,
            exact: 10,
            expansions: 20,
        };
        let today = Touched::vectors_in_elements(
            &WalkCounts {
                estimates: 0,
                exact: 110,
                expansions: 20,
            },
            200,
            100,
        );
        assert_eq!(
            today,
            Touched {
                page_accesses: 130.0,
                bytes: 110.0 * 200.0 + 2000.0
            }
        );
        let in_elements = Touched::codes_in_elements(&counts, 200, 30, 100);
        assert_eq!(
            in_elements,
            Touched {
                page_accesses: 130.0,
                bytes: 3000.0 + 2000.0 + 2000.0
            }
        );
        let in_lists = Touched::codes_in_lists(&counts, 200, 30, 100);
        assert_eq!(in_lists.page_accesses, 30.0);
    }
}
