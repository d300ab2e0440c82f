//! The IVF algorithm (inverted file: lists of rows around k-means centers),
//! generic over how rows are coded. Pure: no pgrx.
//!
//! A build trains `lists` centers on a sample (`kmeans`), then puts each row
//! in the list of its nearest center, as a code of its residual (the row
//! minus that center) from which a distance to any query can be estimated
//! with a bound. A scan visits the lists whose centers are nearest the query
//! (`probes` of them), estimates every row's distance from its code, and
//! measures exactly only the rows whose bound says they could be among the
//! nearest: in order of their lower bounds, each measured one handed out
//! once no row left can be nearer (`Rerank`).

pub mod kmeans;

pub use kmeans::{Geometry, Rows};

use crate::quant::{CodeMetric, Prepared, Quantizer, ScalarQuantizer};

/// Bits per dimension of the residual codes: 8 keeps the bound tight enough
/// that a query measures about as many rows as it returns.
pub const CODE_BITS: u8 = 8;

/// An index trains its centers once it holds this many rows per list; with
/// fewer it keeps them whole, pending, and a scan measures every one.
pub const TRAIN_ROWS_PER_LIST: u64 = 16;

/// Rows k-means trains on: 50 per list, at least 10,000 (pgvector's sample).
pub fn sample_rows(lists: usize) -> usize {
    (50 * lists).max(10_000)
}

/// A uniform sample of a stream of rows whose length is not known in
/// advance (Vitter's algorithm R), reproducible: the i-th row offered takes
/// the slot `offer` returns, or none.
pub struct Reservoir {
    capacity: usize,
    seen: u64,
    random: kmeans::Random,
}

impl Reservoir {
    pub fn new(capacity: usize) -> Self {
        Reservoir {
            capacity,
            seen: 0,
            random: kmeans::Random::new(0x5eed),
        }
    }

    /// The slot the next row takes (the next free one while there is room),
    /// or None when it stays out.
    pub fn offer(&mut self) -> Option<usize> {
        let i = self.seen;
        self.seen += 1;
        if (i as usize) < self.capacity {
            return Some(i as usize);
        }
        let j = self.random.next() % (i + 1);
        ((j as usize) < self.capacity).then_some(j as usize)
    }

    /// Rows offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Whether every row offered is in the sample.
    pub fn holds_all(&self) -> bool {
        self.seen as usize <= self.capacity
    }
}

/// The metric an index answers in, and so how it trains, assigns and probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvfMetric {
    L2,
    /// Over unit vectors (the index normalizes rows and queries).
    Cosine,
    InnerProduct,
    /// Over bit strings, held as 0.0 and 1.0.
    Hamming,
}

impl IvfMetric {
    /// How k-means trains the centers. Inner product trains and assigns by
    /// L2: rows then sit close to their center, so q · x is close to q · c
    /// (what probing ranks by) and residuals are small (what codes need).
    pub fn training(self) -> Geometry {
        match self {
            IvfMetric::Cosine => Geometry::Spherical,
            _ => Geometry::Euclidean,
        }
    }

    /// How a query ranks the lists: by -dot with the center for cosine and
    /// inner product, by L2 otherwise (for bits, over binarized centers:
    /// their Hamming distance).
    pub fn probing(self) -> Geometry {
        match self {
            IvfMetric::Cosine | IvfMetric::InnerProduct => Geometry::Spherical,
            _ => Geometry::Euclidean,
        }
    }

    pub fn code_metric(self) -> CodeMetric {
        match self {
            IvfMetric::L2 | IvfMetric::Hamming => CodeMetric::L2Squared,
            IvfMetric::Cosine | IvfMetric::InnerProduct => CodeMetric::NegativeDot,
        }
    }

    /// The SQL operator's value that a distance in the codes' units (L2
    /// squared, -dot over unit vectors for cosine, -dot, bits that differ)
    /// stands for.
    pub fn operator_value(self, distance: f32) -> f64 {
        let d = distance as f64;
        match self {
            IvfMetric::L2 => d.max(0.0).sqrt(),
            IvfMetric::Cosine => 1.0 + d,
            IvfMetric::InnerProduct | IvfMetric::Hamming => d,
        }
    }

    /// A value the operator's cannot be below, from a lower bound in the
    /// codes' units: lowered by more than the operator's own rounding (it
    /// sums in another order, over the rows as stored), so the executor,
    /// which checks each bound against the row, never finds one above.
    pub fn operator_bound(self, bound: f32) -> f64 {
        let value = self.operator_value(bound);
        value - 1e-5 * value.abs() - 1e-6
    }
}

/// How a list's entries code their rows.
#[derive(Debug, Clone, PartialEq)]
pub enum ListCodes {
    /// Residual codes of dense vectors, with bounds.
    Residual(ResidualCodes),
    /// A bit string's bits themselves, packed: the distance is exact.
    Bits { dimensions: usize },
}

impl ListCodes {
    /// The codes of a trained index: residual codes learnt from `residuals`
    /// (rows minus their centers), or for bits, the bits.
    pub fn train(metric: IvfMetric, residuals: Rows) -> ListCodes {
        match metric {
            IvfMetric::Hamming => ListCodes::Bits {
                dimensions: residuals.dimensions,
            },
            _ => ListCodes::Residual(ResidualCodes::train(
                residuals,
                metric.code_metric(),
                CODE_BITS,
            )),
        }
    }

    pub fn stored_bytes(&self) -> usize {
        match self {
            ListCodes::Residual(codes) => codes.stored_bytes(),
            ListCodes::Bits { dimensions } => dimensions.div_ceil(8),
        }
    }

    /// Bits per dimension of the codes (0: the bits themselves).
    pub fn bits(&self) -> u8 {
        match self {
            ListCodes::Residual(codes) => codes.quantizer.bits(),
            ListCodes::Bits { .. } => 0,
        }
    }

    /// Appends the stored code of `row`, a member of the list centered at `center`.
    pub fn encode(&self, row: &[f32], center: &[f32], out: &mut Vec<u8>) {
        match self {
            ListCodes::Residual(codes) => codes.encode(row, center, out),
            ListCodes::Bits { .. } => pack_bits(row, out),
        }
    }

    /// The query made ready for the entries of the list centered at `center`.
    pub fn prepare(&self, query: &[f32], center: &[f32]) -> ListQuery {
        match self {
            ListCodes::Residual(codes) => codes.prepare(query, center),
            ListCodes::Bits { .. } => {
                let mut bits = Vec::new();
                pack_bits(query, &mut bits);
                ListQuery::Bits(bits)
            }
        }
    }
}

/// 0.0 and 1.0 values as bits, first value in the lowest bit of the first byte.
pub fn pack_bits(values: &[f32], out: &mut Vec<u8>) {
    for chunk in values.chunks(8) {
        let byte = chunk
            .iter()
            .enumerate()
            .fold(0u8, |b, (i, &x)| if x >= 0.5 { b | (1 << i) } else { b });
        out.push(byte);
    }
}

/// Centers of bit strings, their means rounded to bits (as 0.0 and 1.0):
/// what a list of bits is centered at is a bit string too, stored as one.
pub fn binarize(centers: &mut [f32]) {
    for x in centers {
        *x = if *x >= 0.5 { 1.0 } else { 0.0 };
    }
}

/// The entries of one list, for a query.
pub enum ListQuery {
    /// The query's offset from the list's center prepared once, and what
    /// every estimate of the list is offset by (see `ResidualCodes::prepare`).
    Residual { prepared: Prepared, offset: f32 },
    /// The query's bits.
    Bits(Vec<u8>),
}

/// The residual codes of an index: a scalar quantizer trained on residuals.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualCodes {
    pub quantizer: Quantizer,
    pub metric: CodeMetric,
}

impl ResidualCodes {
    /// Learns the codes from `residuals` (rows minus their centers).
    pub fn train(residuals: Rows, metric: CodeMetric, bits: u8) -> Self {
        let sample = (0..residuals.len()).map(|i| residuals.row(i));
        let quantizer = Quantizer::Scalar(ScalarQuantizer::train(
            sample,
            residuals.dimensions,
            bits,
            0.001,
        ));
        ResidualCodes { quantizer, metric }
    }

    /// Bytes of one stored code (the code and its residual norm).
    pub fn stored_bytes(&self) -> usize {
        self.quantizer.stored_bytes()
    }

    /// Appends the stored code of `row`, a member of the list centered at `center`.
    pub fn encode(&self, row: &[f32], center: &[f32], out: &mut Vec<u8>) {
        let residual = residual(row, center);
        self.quantizer.encode_stored(&residual, self.metric, out);
    }

    /// The query made ready for the codes of the list centered at `center`.
    pub fn prepare(&self, query: &[f32], center: &[f32]) -> ListQuery {
        // -dot is not shift invariant: q · x = q · (x - c) + q · c, and the
        // constant q · c is added to each estimate instead (`list_offset`).
        let target = if self.metric == CodeMetric::NegativeDot {
            query.to_vec()
        } else {
            residual(query, center)
        };
        ListQuery::Residual {
            prepared: self.quantizer.prepare(&target, self.metric),
            offset: list_offset(self.metric, query, center),
        }
    }
}

impl ListQuery {
    /// The estimate of a row's distance (in the codes' units), and a
    /// distance it cannot be below; for bits, the exact distance twice.
    pub fn estimate(&self, stored: &[u8]) -> (f32, f32) {
        match self {
            ListQuery::Residual { prepared, offset } => {
                let estimate = prepared.estimate(stored);
                let bound = prepared.lower_bound_stored(stored, estimate);
                (estimate + offset, bound + offset)
            }
            ListQuery::Bits(query) => {
                let d = crate::kernels::bits::hamming(query, stored) as f32;
                (d, d)
            }
        }
    }

    /// Whether estimates are the exact distances.
    pub fn is_exact(&self) -> bool {
        matches!(self, ListQuery::Bits(_))
    }
}

pub fn residual(row: &[f32], center: &[f32]) -> Vec<f32> {
    row.iter().zip(center).map(|(x, c)| x - c).collect()
}

/// What a list's estimates are offset by for a query: 0 for L2 and L1,
/// whose residual codes measure q - c against x - c; -(q · c) for -dot.
pub fn list_offset(metric: CodeMetric, query: &[f32], center: &[f32]) -> f32 {
    match metric {
        CodeMetric::NegativeDot => -crate::kernels::dot(query, center),
        _ => 0.0,
    }
}

/// A row found from its code: its id, its estimated distance and the
/// distance it cannot be below, in the code metric's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimated<Id> {
    pub id: Id,
    pub estimate: f32,
    pub bound: f32,
}

/// The rerank of a scan: rows found from their codes go out in exact order,
/// each measured (`measure`, which may find it gone: None) only when its
/// bound is below every exact distance held back, and handed out once no
/// row left to measure has a bound below it.
pub struct Rerank<Id> {
    /// Found, by descending bound (the next to measure last).
    pending: Vec<Estimated<Id>>,
    /// Measured, by descending exact distance (the next to hand out last).
    measured: Vec<(f32, Id)>,
    pub measured_count: usize,
}

impl<Id: Copy> Rerank<Id> {
    pub fn new(mut found: Vec<Estimated<Id>>) -> Self {
        found.sort_unstable_by(|a, b| b.bound.total_cmp(&a.bound));
        Rerank {
            pending: found,
            measured: Vec::new(),
            measured_count: 0,
        }
    }

    /// Adds rows found later (the next probed lists): they join the order
    /// from here on; rows handed out already stay out.
    pub fn extend(&mut self, more: Vec<Estimated<Id>>) {
        self.pending.extend(more);
        self.pending
            .sort_unstable_by(|a, b| b.bound.total_cmp(&a.bound));
    }

    pub fn is_done(&self) -> bool {
        self.pending.is_empty() && self.measured.is_empty()
    }

    /// The next row in exact order, with its exact distance; None when
    /// every found row is out.
    pub fn next(&mut self, mut measure: impl FnMut(Id) -> Option<f32>) -> Option<(Id, f32)> {
        loop {
            let best_measured = self.measured.last().map(|m| m.0);
            match (self.pending.last(), best_measured) {
                (Some(next), Some(best)) if next.bound >= best => {}
                (Some(_), _) => {
                    let next = self.pending.pop().expect("checked above");
                    self.measured_count += 1;
                    if let Some(exact) = measure(next.id) {
                        let at = self.measured.partition_point(|m| m.0 > exact);
                        self.measured.insert(at, (exact, next.id));
                    }
                    continue;
                }
                (None, None) => return None,
                (None, Some(_)) => {}
            }
            return self.measured.pop().map(|(d, id)| (id, d));
        }
    }
}

#[cfg(test)]
mod tests;
