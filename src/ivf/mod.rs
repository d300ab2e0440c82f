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

/// The codes of one list's rows, for a query: the query's offset from the
/// list's center prepared once, then every row's estimate and bound.
pub struct ListQuery {
    prepared: Prepared,
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
        // constant q · c is added to each estimate instead (`offset`).
        let target = if self.metric == CodeMetric::NegativeDot {
            query.to_vec()
        } else {
            residual(query, center)
        };
        ListQuery {
            prepared: self.quantizer.prepare(&target, self.metric),
        }
    }
}

impl ListQuery {
    /// The estimate of a row's distance (in the code metric's units), and a
    /// distance it cannot be below.
    pub fn estimate(&self, stored: &[u8], offset: f32) -> (f32, f32) {
        let estimate = self.prepared.estimate(stored);
        let bound = self.prepared.lower_bound_stored(stored, estimate);
        (estimate + offset, bound + offset)
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
