//! What the in-memory prototypes share: the raw data sets they measure
//! (little-endian float32 rows, as tests/lib/datasets.py --raw writes them)
//! and the graph they build over them.

use quiver::hnsw::memory::MemoryGraph;
use quiver::hnsw::Params;
use quiver::kernels;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// The rows of `path`, each of `dimensions` floats; unit length if `normalize`.
pub fn read_rows(path: &str, dimensions: usize, normalize: bool) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(
        bytes.len() % (dimensions * 4),
        0,
        "{path} is not rows of {dimensions} float32"
    );
    bytes
        .chunks_exact(dimensions * 4)
        .map(|row| {
            let mut v: Vec<f32> = row
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            if normalize {
                let norm = kernels::norm(&v) as f32;
                v.iter_mut().for_each(|x| *x /= norm);
            }
            v
        })
        .collect()
}

/// The in-memory graph of `data` (m = 16, ef_construction = 64, levels from
/// a fixed seed), as an index build grows it.
pub fn build_graph(
    data: &[Vec<f32>],
    dimensions: usize,
    distance: fn(&[f32], &[f32]) -> f32,
) -> MemoryGraph {
    let params = Params {
        m: 16,
        ef_construction: 64,
    };
    let started = Instant::now();
    let mut graph = MemoryGraph::new(params, dimensions, distance);
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for v in data {
        graph.insert(v, params.level_for(rng.gen::<f64>()), |_| false, || {});
    }
    eprintln!(
        "built {} x {dimensions} in {:.1} s",
        data.len(),
        started.elapsed().as_secs_f64()
    );
    graph
}
