//! k-means for the lists of an IVF index: k-means++ seeding, then Lloyd's
//! iterations, over a sample of rows. Spherical for cosine and inner product
//! (centers renormalized after each step, nearest by the largest dot
//! product). Pure: no pgrx; the caller passes a check for interrupts and
//! sees progress through it.

use crate::kernels;

/// How rows are compared with centers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    /// Squared L2 distance; centers are means.
    Euclidean,
    /// Unit rows and centers, nearest by dot product; centers are normalized
    /// means (for cosine, and for inner product over normalized rows).
    Spherical,
}

/// Lloyd's iterations stop after this many, or once fewer than one row in
/// `STABLE` changes its center.
pub const MAX_ITERATIONS: usize = 12;
const STABLE: usize = 1000;

/// Rows of `dimensions` values, flat, row after row.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub values: &'a [f32],
    pub dimensions: usize,
}

impl<'a> Rows<'a> {
    pub fn new(values: &'a [f32], dimensions: usize) -> Self {
        assert!(dimensions > 0 && values.len().is_multiple_of(dimensions));
        Rows { values, dimensions }
    }
    pub fn len(&self) -> usize {
        self.values.len() / self.dimensions
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.values[i * self.dimensions..(i + 1) * self.dimensions]
    }
}

/// What the center closest to `row` is, and how far: a squared distance for
/// Euclidean, minus the dot product for spherical (smaller is nearer either way).
pub fn nearest(geometry: Geometry, centers: Rows, row: &[f32]) -> (usize, f32) {
    let k = kernels::best();
    let measure = match geometry {
        Geometry::Euclidean => k.l2_squared,
        Geometry::Spherical => k.negative_dot,
    };
    let mut best = (0, f32::INFINITY);
    for c in 0..centers.len() {
        let d = measure(row, centers.row(c));
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// A generator with a fixed sequence (SplitMix64), so that a build gives
/// the same lists every time and does not depend on a crate's version.
pub(super) struct Random(u64);

impl Random {
    pub(super) fn new(seed: u64) -> Self {
        Random(seed)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runs `work` on `threads` slices of `items` at once (scoped threads that
/// only compute: they touch nothing but the slices and what `work` reads),
/// each with the index of its slice's first item.
fn in_parallel<T: Send>(items: &mut [T], threads: usize, work: impl Fn(usize, &mut [T]) + Sync) {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return work(0, items);
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for (i, chunk) in items.chunks_mut(per).enumerate() {
            let work = &work;
            scope.spawn(move || work(i * per, chunk));
        }
    });
}

/// The nearest center of each row (as `nearest`), on `threads` threads.
pub fn nearest_all(
    geometry: Geometry,
    centers: Rows,
    rows: Rows,
    threads: usize,
) -> Vec<(usize, f32)> {
    let mut out = vec![(0, 0.0); rows.len()];
    in_parallel(&mut out, threads, |first, chunk| {
        for (i, slot) in chunk.iter_mut().enumerate() {
            *slot = nearest(geometry, centers, rows.row(first + i));
        }
    });
    out
}

/// Trains `lists` centers on `sample` (at least one row), on one thread.
pub fn train(
    geometry: Geometry,
    sample: Rows,
    lists: usize,
    seed: u64,
    interrupt: impl FnMut(),
) -> Vec<f32> {
    train_on(geometry, sample, lists, seed, 1, interrupt)
}

/// Trains `lists` centers on `sample` (at least one row), measuring on
/// `threads` threads; the same centers whatever their number. With fewer
/// rows than lists, the rows are the centers and the rest repeat them: every
/// list exists, some stay empty until rows come. `interrupt` is called
/// between steps, on the caller's thread, so a long training can be cancelled.
pub fn train_on(
    geometry: Geometry,
    sample: Rows,
    lists: usize,
    seed: u64,
    threads: usize,
    mut interrupt: impl FnMut(),
) -> Vec<f32> {
    let (n, d) = (sample.len(), sample.dimensions);
    assert!(n > 0 && lists > 0);
    let mut centers = Vec::with_capacity(lists * d);
    if n <= lists {
        for c in 0..lists {
            centers.extend_from_slice(sample.row(c % n));
        }
        return centers;
    }
    let mut random = Random(seed);
    seed_plus_plus(
        geometry,
        sample,
        lists,
        &mut random,
        &mut centers,
        threads,
        &mut interrupt,
    );
    let mut assigned = vec![usize::MAX; n];
    let mut sums = vec![0.0f64; lists * d];
    let mut counts = vec![0usize; lists];
    for _ in 0..MAX_ITERATIONS {
        interrupt();
        let mut changed = 0;
        let nearest = nearest_all(geometry, Rows::new(&centers, d), sample, threads);
        for (slot, &(c, _)) in assigned.iter_mut().zip(&nearest) {
            if *slot != c {
                *slot = c;
                changed += 1;
            }
        }
        sums.fill(0.0);
        counts.fill(0);
        for (i, &c) in assigned.iter().enumerate() {
            counts[c] += 1;
            for (s, &x) in sums[c * d..(c + 1) * d].iter_mut().zip(sample.row(i)) {
                *s += x as f64;
            }
        }
        for c in 0..lists {
            let center = &mut centers[c * d..(c + 1) * d];
            if counts[c] == 0 {
                // An empty list takes a random row, so no center is wasted.
                center.copy_from_slice(sample.row((random.next() % n as u64) as usize));
                continue;
            }
            for (x, &s) in center.iter_mut().zip(&sums[c * d..(c + 1) * d]) {
                *x = (s / counts[c] as f64) as f32;
            }
            if geometry == Geometry::Spherical {
                normalize(center);
            }
        }
        if changed * STABLE < n {
            break;
        }
    }
    centers
}

/// k-means++ (Arthur and Vassilvitskii): each next center drawn with
/// probability proportional to its distance to the nearest one so far.
fn seed_plus_plus(
    geometry: Geometry,
    sample: Rows,
    lists: usize,
    random: &mut Random,
    centers: &mut Vec<f32>,
    threads: usize,
    interrupt: &mut impl FnMut(),
) {
    let n = sample.len();
    let measure = |a: &[f32], b: &[f32]| match geometry {
        Geometry::Euclidean => kernels::l2_squared(a, b),
        // 1 - cos over unit vectors: half the squared distance between them.
        Geometry::Spherical => (1.0 - kernels::dot(a, b)).max(0.0),
    };
    centers.extend_from_slice(sample.row((random.next() % n as u64) as usize));
    let mut nearest: Vec<f32> = (0..n)
        .map(|i| measure(sample.row(i), &centers[..]))
        .collect();
    while centers.len() < lists * sample.dimensions {
        interrupt();
        let total: f64 = nearest.iter().map(|&x| x as f64).sum();
        let pick = if total > 0.0 {
            let mut target = random.unit() * total;
            nearest
                .iter()
                .position(|&x| {
                    target -= x as f64;
                    target < 0.0
                })
                .unwrap_or(n - 1)
        } else {
            // Every row sits on a center already.
            (random.next() % n as u64) as usize
        };
        let start = centers.len();
        centers.extend_from_slice(sample.row(pick));
        let center = &centers[start..];
        in_parallel(&mut nearest, threads, |first, chunk| {
            for (i, d) in chunk.iter_mut().enumerate() {
                *d = d.min(measure(sample.row(first + i), center));
            }
        });
    }
}

pub fn normalize(v: &mut [f32]) {
    let norm = kernels::norm(v);
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
    }
}

/// The lists nearest `query`, nearest first: `probes` of them (all, if
/// fewer), with their distances in `nearest`'s units.
pub fn probe_order(
    geometry: Geometry,
    centers: Rows,
    query: &[f32],
    probes: usize,
) -> Vec<(usize, f32)> {
    let k = kernels::best();
    let measure = match geometry {
        Geometry::Euclidean => k.l2_squared,
        Geometry::Spherical => k.negative_dot,
    };
    let mut all: Vec<(usize, f32)> = (0..centers.len())
        .map(|c| (c, measure(query, centers.row(c))))
        .collect();
    let probes = probes.min(all.len());
    if probes < all.len() {
        all.select_nth_unstable_by(probes, |a, b| a.1.total_cmp(&b.1));
        all.truncate(probes);
    }
    all.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points around `clusters` well separated centers.
    fn clustered(clusters: usize, per: usize, d: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut random = Random(seed);
        let mut values = Vec::new();
        let mut labels = Vec::new();
        let centers: Vec<Vec<f32>> = (0..clusters)
            .map(|_| (0..d).map(|_| (random.unit() * 100.0) as f32).collect())
            .collect();
        for i in 0..clusters * per {
            let c = i % clusters;
            labels.push(c);
            values.extend(centers[c].iter().map(|&x| x + (random.unit() - 0.5) as f32));
        }
        (values, labels)
    }

    #[test]
    fn separated_clusters_are_found_exactly() {
        let (values, labels) = clustered(8, 50, 6, 1);
        let rows = Rows::new(&values, 6);
        let centers = train(Geometry::Euclidean, rows, 8, 7, || {});
        // Rows of one cluster share their nearest center, and no two clusters do.
        let mut owner = std::collections::HashMap::new();
        for (i, label) in labels.iter().enumerate() {
            let (c, _) = nearest(Geometry::Euclidean, Rows::new(&centers, 6), rows.row(i));
            assert_eq!(*owner.entry(label).or_insert(c), c, "row {i}");
        }
        let distinct: std::collections::HashSet<_> = owner.values().collect();
        assert_eq!(distinct.len(), 8);
    }

    #[test]
    fn training_is_reproducible_and_interruptible() {
        let (values, _) = clustered(5, 40, 4, 3);
        let rows = Rows::new(&values, 4);
        assert_eq!(
            train(Geometry::Euclidean, rows, 5, 11, || {}),
            train(Geometry::Euclidean, rows, 5, 11, || {})
        );
        let mut calls = 0;
        train(Geometry::Euclidean, rows, 5, 11, || calls += 1);
        assert!(calls >= 5, "{calls} interrupt checks");
    }

    #[test]
    fn threads_give_the_same_centers() {
        let (values, _) = clustered(7, 60, 5, 9);
        let rows = Rows::new(&values, 5);
        let one = train(Geometry::Euclidean, rows, 7, 4, || {});
        assert_eq!(train_on(Geometry::Euclidean, rows, 7, 4, 3, || {}), one);
        let centers = Rows::new(&one, 5);
        let all = nearest_all(Geometry::Euclidean, centers, rows, 4);
        assert!(
            (0..rows.len()).all(|i| all[i] == nearest(Geometry::Euclidean, centers, rows.row(i)))
        );
    }

    #[test]
    fn fewer_rows_than_lists_fill_every_list() {
        let values = [1.0f32, 0.0, 0.0, 1.0];
        let centers = train(Geometry::Spherical, Rows::new(&values, 2), 5, 1, || {});
        assert_eq!(centers.len(), 10);
        assert_eq!(&centers[4..6], &[1.0, 0.0]);
    }

    #[test]
    fn spherical_centers_are_unit_and_probes_come_nearest_first() {
        let (mut values, _) = clustered(6, 30, 8, 5);
        for row in values.chunks_exact_mut(8) {
            normalize(row);
        }
        let rows = Rows::new(&values, 8);
        let centers = train(Geometry::Spherical, rows, 6, 2, || {});
        for c in centers.chunks_exact(8) {
            assert!((kernels::norm(c) - 1.0).abs() < 1e-5);
        }
        let order = probe_order(Geometry::Spherical, Rows::new(&centers, 8), rows.row(0), 3);
        assert_eq!(order.len(), 3);
        assert!(order.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(
            order[0].0,
            nearest(Geometry::Spherical, Rows::new(&centers, 8), rows.row(0)).0
        );
    }
}
