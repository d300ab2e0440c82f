//! Scalar codes: each dimension stored in 4 or 8 bits over a range learned
//! from a sample, and distances from an f32 query to a code. Each code keeps
//! how far its vector lies from what the code decodes to (the residual norm),
//! which bounds the estimate's error. The sums run on the best instruction
//! set the CPU has (`isa`), chosen here, never by the caller.

use super::isa::{best_isa, CodeIsa};
use super::CodeMetric;

#[derive(Clone, Debug, PartialEq)]
pub struct ScalarQuantizer {
    pub(super) bits: u8,
    /// Per dimension: the value code 0 stands for, and the step between codes.
    pub(super) offset: Vec<f32>,
    pub(super) step: Vec<f32>,
}

/// A query made ready for estimating its distance to codes: the work that
/// depends on the query only, done once.
pub struct ScalarQuery {
    metric: CodeMetric,
    bits: u8,
    /// L2 and L1: the query in code units, (q - offset) / step; -dot: q * step.
    target: Vec<f32>,
    /// L2: step²; L1: step; -dot: unused.
    weight: Vec<f32>,
    /// -dot: q · offset.
    constant: f32,
    /// -dot: |q|, which scales the residual into an error bound.
    query_norm: f32,
}

impl ScalarQuantizer {
    /// Learns each dimension's range from `sample` (rows of `dimensions`
    /// values), trimming the `trim` fraction of values at each end so a few
    /// outliers do not coarsen every code; values outside the range clamp and
    /// their error shows in the residual.
    pub fn train<'a>(
        sample: impl Iterator<Item = &'a [f32]>,
        dimensions: usize,
        bits: u8,
        trim: f64,
    ) -> Self {
        assert!(bits == 4 || bits == 8, "codes have 4 or 8 bits");
        let mut columns: Vec<Vec<f32>> = vec![Vec::new(); dimensions];
        for row in sample {
            for (column, &x) in columns.iter_mut().zip(row) {
                if x.is_finite() {
                    column.push(x);
                }
            }
        }
        let levels = ((1u32 << bits) - 1) as f32;
        let (mut offset, mut step) = (
            Vec::with_capacity(dimensions),
            Vec::with_capacity(dimensions),
        );
        for column in &mut columns {
            column.sort_unstable_by(f32::total_cmp);
            let (low, high) = match column.len() {
                0 => (0.0, 0.0),
                n => {
                    let cut = ((n as f64 * trim) as usize).min((n - 1) / 2);
                    (column[cut], column[n - 1 - cut])
                }
            };
            offset.push(low);
            // A constant dimension still gets a positive step: codes stay 0.
            // The stored quantizer must have finite positive steps, so a range
            // wider than float4's largest value (-3e38 to 3e38), or one so narrow
            // its step rounds to 0, gets its step from f64, clamped.
            let spread = (high - low) / levels;
            step.push(
                if high.partial_cmp(&low) != Some(std::cmp::Ordering::Greater) {
                    1.0
                } else if spread.is_finite() && spread > 0.0 {
                    spread
                } else {
                    ((high as f64 - low as f64) / levels as f64)
                        .clamp(f32::MIN_POSITIVE as f64, f32::MAX as f64) as f32
                },
            );
        }
        ScalarQuantizer { bits, offset, step }
    }

    pub fn dimensions(&self) -> usize {
        self.offset.len()
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Bytes of one code.
    pub fn code_bytes(&self) -> usize {
        code_bytes(self.dimensions(), self.bits)
    }

    /// Appends the code of `vector` to `out` and returns its residual: the
    /// L2 norm (L1 norm for `CodeMetric::L1`) of vector minus decoded code.
    pub fn encode(&self, vector: &[f32], metric: CodeMetric, out: &mut Vec<u8>) -> f32 {
        let levels = ((1u32 << self.bits) - 1) as f32;
        let start = out.len();
        out.resize(start + self.code_bytes(), 0);
        let code = &mut out[start..];
        let (mut squared, mut absolute) = (0.0f64, 0.0f64);
        for (i, &x) in vector.iter().enumerate() {
            let level = ((x - self.offset[i]) / self.step[i])
                .round()
                .clamp(0.0, levels);
            let level = if level.is_nan() { 0.0 } else { level };
            let error = (x - (self.offset[i] + level * self.step[i])) as f64;
            squared += error * error;
            absolute += error.abs();
            set_level(code, self.bits, i, level as u8);
        }
        // Rounded up a little so the bound holds despite float rounding.
        let residual = if metric == CodeMetric::L1 {
            absolute
        } else {
            squared.sqrt()
        };
        (residual * (1.0 + 1e-5) + 1e-7) as f32
    }

    /// The vector a code stands for.
    pub fn decode(&self, code: &[u8], out: &mut Vec<f32>) {
        out.clear();
        out.extend(
            (0..self.dimensions())
                .map(|i| self.offset[i] + level(code, self.bits, i) as f32 * self.step[i]),
        );
    }

    pub fn prepare(&self, query: &[f32], metric: CodeMetric) -> ScalarQuery {
        let dimensions = self.dimensions();
        let (mut target, mut weight) = (
            Vec::with_capacity(dimensions),
            Vec::with_capacity(dimensions),
        );
        let mut constant = 0.0f32;
        // Slicing `query` panics, as indexing did, when it is too short.
        let columns = self.offset.iter().zip(&self.step);
        for (&q, (&offset, &step)) in query[..dimensions].iter().zip(columns) {
            match metric {
                CodeMetric::L2Squared | CodeMetric::L1 => {
                    target.push((q - offset) / step);
                    weight.push(if metric == CodeMetric::L1 {
                        step
                    } else {
                        step * step
                    });
                }
                CodeMetric::NegativeDot => {
                    target.push(q * step);
                    constant += q * offset;
                }
            }
        }
        let query_norm = query.iter().map(|&x| x * x).sum::<f32>().sqrt();
        ScalarQuery {
            metric,
            bits: self.bits,
            target,
            weight,
            constant,
            query_norm,
        }
    }
}

pub fn code_bytes(dimensions: usize, bits: u8) -> usize {
    (dimensions * bits as usize).div_ceil(8)
}

/// 4-bit codes pack dimension 2j in the low nibble of byte j, 2j+1 in the high one.
fn level(code: &[u8], bits: u8, i: usize) -> u8 {
    if bits == 8 {
        code[i]
    } else {
        (code[i / 2] >> ((i % 2) * 4)) & 0x0F
    }
}

fn set_level(code: &mut [u8], bits: u8, i: usize, level: u8) {
    if bits == 8 {
        code[i] = level;
    } else {
        let shift = (i % 2) * 4;
        code[i / 2] = (code[i / 2] & !(0x0F << shift)) | (level << shift);
    }
}

#[cfg(target_arch = "x86_64")]
use super::x86::Term;

#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Term {
    WeightedSquare,
    Product,
    WeightedAbsolute,
}

impl ScalarQuery {
    /// The distance from the query to the vector `code` decodes to.
    pub fn estimate(&self, code: &[u8]) -> f32 {
        self.estimate_with(best_isa(), code)
    }

    /// `estimate` with the sums of `isa`, which must come from `supported_isas`
    /// (the SIMD sums need the CPU's support); private so that holds.
    pub(super) fn estimate_with(&self, isa: CodeIsa, code: &[u8]) -> f32 {
        let (target, weight, bits) = (&self.target, &self.weight, self.bits);
        let term = match self.metric {
            CodeMetric::L2Squared => Term::WeightedSquare,
            CodeMetric::NegativeDot => Term::Product,
            CodeMetric::L1 => Term::WeightedAbsolute,
        };
        let one = |i: usize| {
            let c = level(code, bits, i) as f32;
            match term {
                Term::WeightedSquare => weight[i] * (target[i] - c) * (target[i] - c),
                Term::Product => target[i] * c,
                Term::WeightedAbsolute => weight[i] * (target[i] - c).abs(),
            }
        };
        assert!(
            code.len() >= code_bytes(target.len(), bits),
            "code too short"
        );
        let sum = match isa {
            CodeIsa::Scalar => (0..target.len()).map(one).sum(),
            // SAFETY: `isa` comes from `supported_isas`, which lists Avx2 only
            // when the CPU has AVX2 and FMA. `bits` is 4 or 8 (`train` and
            // `Quantizer::decode` allow no other), the code holds code_bytes(n,
            // bits) bytes (asserted above), and L2 and L1 have a weight per
            // dimension (`prepare`); -dot, whose weights are empty, is Product.
            #[cfg(target_arch = "x86_64")]
            CodeIsa::Avx2 => unsafe { super::x86::sum_avx2(term, bits, target, weight, code, one) },
            // SAFETY: as for Avx2; `supported_isas` lists Avx512 only when the
            // CPU also has AVX-512F.
            #[cfg(target_arch = "x86_64")]
            CodeIsa::Avx512 => unsafe {
                super::x86::sum_avx512(term, bits, target, weight, code, one)
            },
        };
        match self.metric {
            CodeMetric::NegativeDot => -(self.constant + sum),
            _ => sum,
        }
    }

    /// A distance the exact one cannot be below, given the code's estimate
    /// and residual (from `encode`). The slack covers the f32 rounding of
    /// estimate and exact distance, which sum terms in another order.
    pub fn lower_bound(&self, estimate: f32, residual: f32) -> f32 {
        const SLACK: f32 = 1e-4;
        // Rounding of values' differences is relative to the values, not to
        // the difference: a vector equal to the query (distance 0) must not
        // get a bound above 0 (found by the property test).
        let absolute = 1e-6 * self.query_norm;
        match self.metric {
            // |q - x| >= |q - x̂| - |x - x̂|
            CodeMetric::L2Squared => {
                let d = (estimate.max(0.0).sqrt() * (1.0 - SLACK) - residual - absolute).max(0.0);
                d * d
            }
            // -q·x = -q·x̂ - q·(x - x̂) >= -q·x̂ - |q| |x - x̂|
            CodeMetric::NegativeDot => {
                estimate
                    - self.query_norm * residual
                    - SLACK * (estimate.abs() + self.query_norm * (1.0 + residual))
            }
            CodeMetric::L1 => (estimate * (1.0 - SLACK) - residual - 10.0 * absolute).max(0.0),
        }
    }
}
