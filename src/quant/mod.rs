//! Quantized codes of vectors, and distances estimated from them, for any
//! index: scalar codes (4 or 8 bits per dimension, `scalar.rs`) and RaBitQ
//! 1-bit codes (`rabitq.rs`), chosen by dimensions (`Quantizer::choose`),
//! and the form an index stores a quantizer in (`stored.rs`). Pure: no pgrx.
//!
//! A walk over codes reads a few bytes per vector instead of the vector;
//! exact distances then rerank what it found. Every code's estimate has an
//! error bound, so a caller can tell which estimates could still beat an
//! exact distance. SIMD sums are dispatched inside (`isa.rs`).

mod isa;
mod rabitq;
mod scalar;
mod stored;
#[cfg(target_arch = "x86_64")]
mod x86;

use rabitq::BINARY_FACTOR_BYTES;
pub use rabitq::{RaBitQ, RaBitQQuery};
pub use scalar::{code_bytes, ScalarQuantizer, ScalarQuery};
pub use stored::BadQuantizer;

/// The distances an index orders by, as codes estimate them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeMetric {
    L2Squared,
    /// -dot: inner product, and cosine over unit vectors.
    NegativeDot,
    L1,
}

/// Either kind of code, as an index chooses by dimensions.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantizer {
    Scalar(ScalarQuantizer),
    RaBitQ(RaBitQ),
}

/// A query made ready for one quantizer's codes.
pub enum Prepared {
    Scalar(ScalarQuery),
    RaBitQ(RaBitQQuery),
}

impl Quantizer {
    pub fn code_bytes(&self) -> usize {
        match self {
            Quantizer::Scalar(q) => q.code_bytes(),
            Quantizer::RaBitQ(q) => q.code_bytes(),
        }
    }

    /// Appends `vector`'s code; returns the residual scalar codes keep beside
    /// it (0 for 1-bit codes, which carry their factors).
    pub fn encode(&self, vector: &[f32], metric: CodeMetric, out: &mut Vec<u8>) -> f32 {
        match self {
            Quantizer::Scalar(q) => q.encode(vector, metric, out),
            Quantizer::RaBitQ(q) => {
                q.encode(vector, out);
                0.0
            }
        }
    }

    pub fn prepare(&self, query: &[f32], metric: CodeMetric) -> Prepared {
        match self {
            Quantizer::Scalar(q) => Prepared::Scalar(q.prepare(query, metric)),
            Quantizer::RaBitQ(q) => Prepared::RaBitQ(q.prepare(query, metric)),
        }
    }
}

/// Neighbor lists of at least this many dimensions carry 1-bit codes: their
/// scalar codes would not fit a page, and 1 bit per dimension still ranks.
pub const BINARY_FROM_DIMENSIONS: usize = 256;

impl Quantizer {
    /// The codes an index keeps beside each neighbor id: 1-bit from
    /// `BINARY_FROM_DIMENSIONS` on (except for L1), else the most bits whose
    /// stored code takes at most `max_stored_bytes`; None if none fits.
    pub fn choose<'a>(
        sample: impl Iterator<Item = &'a [f32]> + Clone,
        dimensions: usize,
        metric: CodeMetric,
        max_stored_bytes: usize,
    ) -> Option<Quantizer> {
        let binary_fits = metric != CodeMetric::L1
            && dimensions.div_ceil(8) + BINARY_FACTOR_BYTES <= max_stored_bytes;
        if dimensions >= BINARY_FROM_DIMENSIONS && binary_fits {
            return Some(Quantizer::RaBitQ(RaBitQ::train(
                sample,
                dimensions,
                0x5156_4853,
            )));
        }
        for bits in [8u8, 4] {
            if code_bytes(dimensions, bits) + 4 <= max_stored_bytes {
                // A 1% trim: a few outliers do not coarsen every code.
                return Some(Quantizer::Scalar(ScalarQuantizer::train(
                    sample, dimensions, bits, 0.01,
                )));
            }
        }
        binary_fits.then(|| Quantizer::RaBitQ(RaBitQ::train(sample, dimensions, 0x5156_4853)))
    }

    pub fn dimensions(&self) -> usize {
        match self {
            Quantizer::Scalar(q) => q.dimensions(),
            Quantizer::RaBitQ(q) => q.dimensions(),
        }
    }

    /// Bits per dimension of the codes.
    pub fn bits(&self) -> u8 {
        match self {
            Quantizer::Scalar(q) => q.bits(),
            Quantizer::RaBitQ(_) => 1,
        }
    }

    /// Bytes of a stored code: the code, and for scalar codes the residual after it.
    pub fn stored_bytes(&self) -> usize {
        match self {
            Quantizer::Scalar(q) => q.code_bytes() + 4,
            Quantizer::RaBitQ(q) => q.code_bytes(),
        }
    }

    /// Appends `vector`'s stored code (`stored_bytes` of them) to `out`.
    pub fn encode_stored(&self, vector: &[f32], metric: CodeMetric, out: &mut Vec<u8>) {
        let residual = self.encode(vector, metric, out);
        if matches!(self, Quantizer::Scalar(_)) {
            out.extend_from_slice(&residual.to_le_bytes());
        }
    }
}

impl Prepared {
    /// The estimate for a code, or for a stored code (`Quantizer::encode_stored`),
    /// whose residual after the code the sums never read.
    pub fn estimate(&self, code: &[u8]) -> f32 {
        match self {
            Prepared::Scalar(p) => p.estimate(code),
            Prepared::RaBitQ(p) => p.estimate(code),
        }
    }

    pub fn lower_bound(&self, code: &[u8], estimate: f32, residual: f32) -> f32 {
        match self {
            Prepared::Scalar(p) => p.lower_bound(estimate, residual),
            Prepared::RaBitQ(p) => p.lower_bound(code, estimate),
        }
    }

    /// The lower bound for a stored code and its estimate.
    pub fn lower_bound_stored(&self, stored: &[u8], estimate: f32) -> f32 {
        match self {
            Prepared::Scalar(p) => {
                let at = stored.len() - 4;
                p.lower_bound(
                    estimate,
                    f32::from_le_bytes(stored[at..].try_into().unwrap()),
                )
            }
            Prepared::RaBitQ(p) => p.lower_bound(stored, estimate),
        }
    }
}

#[cfg(test)]
mod tests;
