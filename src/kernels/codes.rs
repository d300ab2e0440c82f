//! Scalar codes of vectors: each dimension stored in 4 or 8 bits over a range
//! learned from a sample, and distances from an f32 query to a code. Pure: no pgrx.
//!
//! A graph walk over codes reads a few bytes per neighbor instead of its whole
//! vector; exact distances then rerank what the walk found. Each code keeps
//! how far its vector lies from what the code decodes to (the residual norm),
//! which bounds the estimate's error, so a caller can tell which estimates
//! could still beat an exact distance.

/// The distances the graph orders by (see `am::distance_for`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeMetric {
    L2Squared,
    /// -dot: inner product, and cosine over unit vectors.
    NegativeDot,
    L1,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScalarQuantizer {
    bits: u8,
    /// Per dimension: the value code 0 stands for, and the step between codes.
    offset: Vec<f32>,
    step: Vec<f32>,
}

/// A query made ready for estimating its distance to codes: the work that
/// depends on the query only, done once.
pub struct PreparedQuery {
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

    pub fn prepare(&self, query: &[f32], metric: CodeMetric) -> PreparedQuery {
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
        PreparedQuery {
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

/// Instruction sets the code sums come in, picked once per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeIsa {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// Every instruction set this CPU runs the code sums with, best last.
pub fn supported_isas() -> Vec<CodeIsa> {
    #[allow(unused_mut)]
    let mut isas = vec![CodeIsa::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            isas.push(CodeIsa::Avx2);
            if is_x86_feature_detected!("avx512f") {
                isas.push(CodeIsa::Avx512);
            }
        }
    }
    isas
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return best_isa() == CodeIsa::Avx512;
    #[cfg(not(target_arch = "x86_64"))]
    false
}

fn best_isa() -> CodeIsa {
    static BEST: std::sync::OnceLock<CodeIsa> = std::sync::OnceLock::new();
    *BEST.get_or_init(|| *supported_isas().last().expect("scalar is always supported"))
}

#[cfg(target_arch = "x86_64")]
use super::codes_x86::Term;

#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Term {
    WeightedSquare,
    Product,
    WeightedAbsolute,
}

impl PreparedQuery {
    /// The distance from the query to the vector `code` decodes to.
    pub fn estimate(&self, code: &[u8]) -> f32 {
        self.estimate_with(best_isa(), code)
    }

    /// `estimate` with the sums of `isa`, which must come from `supported_isas`
    /// (the SIMD sums need the CPU's support); private so that holds.
    fn estimate_with(&self, isa: CodeIsa, code: &[u8]) -> f32 {
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
            CodeIsa::Avx2 => unsafe {
                super::codes_x86::sum_avx2(term, bits, target, weight, code, one)
            },
            // SAFETY: as for Avx2; `supported_isas` lists Avx512 only when the
            // CPU also has AVX-512F.
            #[cfg(target_arch = "x86_64")]
            CodeIsa::Avx512 => unsafe {
                super::codes_x86::sum_avx512(term, bits, target, weight, code, one)
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

/// RaBitQ-style 1-bit codes (Gao & Long, SIGMOD 2024): the signs of the
/// vector's offset from the data's center after a random rotation, with two
/// factors (the offset's length, and how well the signs point along it) that
/// make the estimate of a distance unbiased. For high dimensions, where a
/// bit per dimension still tells neighbors apart. Not for L1, which a
/// rotation does not keep.
///
/// The rotation is four rounds of random sign flips, each followed by a
/// Walsh-Hadamard transform of the largest power-of-two block of
/// coordinates, the leading block and the trailing one in turn, so that
/// every coordinate mixes with every other: O(d log d) per vector, no
/// padding, and stored as a few bits per dimension instead of a d x d matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryQuantizer {
    center: Vec<f32>,
    /// ROUNDS x dimensions bits: bit set = negate that coordinate in that round.
    signs: Vec<u8>,
}

const ROUNDS: usize = 4;

/// A query made ready for 1-bit codes: rotated, with its sums.
pub struct BinaryQuery {
    metric: CodeMetric,
    dimensions: usize,
    /// Bytes of the bits of a code.
    bit_bytes: usize,
    /// For each 4 bits of a code, the sum of the rotated query over every
    /// pattern of them: an estimate adds one entry per nibble.
    nibble_sums: Vec<f32>,
    /// With AVX-512: the rotated query, zero-padded to 16 values per two
    /// bytes of bits, for masked adds instead of the tables.
    masked: Option<Vec<f32>>,
    sum: f32,
    squared_norm: f32,
    /// -dot: q · c.
    constant: f32,
}

/// Bytes of the factors after the bits: the offset's norm and the signs' alignment.
const BINARY_FACTOR_BYTES: usize = 8;
/// RaBitQ's confidence constant: the estimate errs by more than its bound
/// with small probability. The paper's 1.9 dropped true neighbors in the
/// index's rerank (recall@10 0.991 against 0.997 at ef_search 80 on MiniLM
/// embeddings); 4.0 keeps recall equal to the exact walk's.
const EPSILON: f32 = 4.0;

/// The unnormalized fast Walsh-Hadamard transform, in place; `v.len()` a power of two.
fn walsh_hadamard(v: &mut [f32]) {
    let mut half = 1;
    while half < v.len() {
        for block in v.chunks_exact_mut(2 * half) {
            let (a, b) = block.split_at_mut(half);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                let (s, t) = (*x + *y, *x - *y);
                *x = s;
                *y = t;
            }
        }
        half *= 2;
    }
}

/// SplitMix64: a fixed generator, so codes never depend on a crate's version.
fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn sign_bytes(dimensions: usize) -> usize {
    (ROUNDS * dimensions).div_ceil(8)
}

impl BinaryQuantizer {
    pub fn train<'a>(
        sample: impl Iterator<Item = &'a [f32]>,
        dimensions: usize,
        seed: u64,
    ) -> Self {
        let mut center = vec![0.0f64; dimensions];
        let mut count = 0usize;
        for row in sample {
            for (c, &x) in center.iter_mut().zip(row) {
                if x.is_finite() {
                    *c += x as f64;
                }
            }
            count += 1;
        }
        let center = center
            .iter()
            .map(|&c| (c / count.max(1) as f64) as f32)
            .collect();
        let mut state = seed;
        let signs = (0..sign_bytes(dimensions))
            .map(|_| split_mix(&mut state) as u8)
            .collect();
        BinaryQuantizer { center, signs }
    }

    pub fn dimensions(&self) -> usize {
        self.center.len()
    }

    pub fn code_bytes(&self) -> usize {
        self.dimensions().div_ceil(8) + BINARY_FACTOR_BYTES
    }

    /// The rotated vector, of the same length.
    fn rotate(&self, v: &[f32], out: &mut Vec<f32>) {
        let d = self.dimensions();
        out.clear();
        out.extend_from_slice(v);
        let block = 1usize << d.ilog2();
        let scale = (block as f32).sqrt().recip();
        for round in 0..ROUNDS {
            for (i, x) in out.iter_mut().enumerate() {
                let bit = round * d + i;
                if self.signs[bit / 8] >> (bit % 8) & 1 == 1 {
                    *x = -*x;
                }
            }
            let start = if round % 2 == 0 { 0 } else { d - block };
            walsh_hadamard(&mut out[start..start + block]);
            out[start..start + block]
                .iter_mut()
                .for_each(|x| *x *= scale);
        }
    }

    /// Appends the code of `vector`: its bits, then the two factors.
    pub fn encode(&self, vector: &[f32], out: &mut Vec<u8>) {
        let offset: Vec<f32> = vector
            .iter()
            .zip(&self.center)
            .map(|(x, c)| if x.is_finite() { x - c } else { 0.0 })
            .collect();
        let mut rotated = Vec::with_capacity(self.dimensions());
        self.rotate(&offset, &mut rotated);
        let p = rotated.len();
        let start = out.len();
        out.resize(start + p.div_ceil(8), 0);
        for (i, &x) in rotated.iter().enumerate() {
            if x > 0.0 {
                out[start + i / 8] |= 1 << (i % 8);
            }
        }
        let norm = rotated.iter().map(|&x| x * x).sum::<f32>().sqrt();
        // <x̄, r/|r|> with x̄ the signs over sqrt(p): 1 when r lies on a diagonal.
        let alignment = if norm > 0.0 {
            rotated.iter().map(|x| x.abs()).sum::<f32>() / ((p as f32).sqrt() * norm)
        } else {
            1.0
        };
        out.extend_from_slice(&norm.to_le_bytes());
        out.extend_from_slice(&alignment.to_le_bytes());
    }

    pub fn prepare(&self, query: &[f32], metric: CodeMetric) -> BinaryQuery {
        assert!(
            metric != CodeMetric::L1,
            "1-bit codes do not estimate L1 distances"
        );
        let mut rotated = Vec::new();
        let constant = if metric == CodeMetric::L2Squared {
            let offset: Vec<f32> = query.iter().zip(&self.center).map(|(x, c)| x - c).collect();
            self.rotate(&offset, &mut rotated);
            0.0
        } else {
            self.rotate(query, &mut rotated);
            super::dot(query, &self.center)
        };
        let (dimensions, bit_bytes) = (rotated.len(), rotated.len().div_ceil(8));
        let sum = rotated.iter().sum();
        let squared_norm = rotated.iter().map(|x| x * x).sum();
        // Whole bytes of bits: the code's bits past the last dimension are 0.
        rotated.resize(bit_bytes * 8, 0.0);
        let masked = has_avx512().then(|| {
            let mut padded = rotated.clone();
            padded.resize(bit_bytes.div_ceil(2) * 16, 0.0);
            padded
        });
        let mut nibble_sums = Vec::with_capacity(rotated.len() * 4);
        for four in rotated.chunks_exact(4) {
            nibble_sums.extend((0..16usize).map(|pattern| {
                (0..4)
                    .filter(|b| pattern >> b & 1 == 1)
                    .map(|b| four[b])
                    .sum::<f32>()
            }));
        }
        BinaryQuery {
            metric,
            dimensions,
            bit_bytes,
            nibble_sums,
            masked,
            sum,
            squared_norm,
            constant,
        }
    }
}

impl BinaryQuery {
    fn factors(&self, code: &[u8]) -> (f32, f32) {
        let at = self.bit_bytes;
        let norm = f32::from_le_bytes(code[at..at + 4].try_into().unwrap());
        let alignment = f32::from_le_bytes(code[at + 4..at + 8].try_into().unwrap());
        (norm, alignment)
    }

    /// The sum of the rotated query over the code's set bits, from the tables.
    fn positive_from_tables(&self, bits: &[u8]) -> f32 {
        // Two accumulators, one per nibble, so the additions overlap.
        let (mut low, mut high) = (0.0f32, 0.0f32);
        for (table, &byte) in self.nibble_sums.chunks_exact(32).zip(bits) {
            low += table[(byte & 0x0F) as usize];
            high += table[16 + (byte >> 4) as usize];
        }
        low + high
    }

    fn positive(&self, bits: &[u8]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if let Some(values) = &self.masked {
            // SAFETY: `masked` exists only when the CPU has AVX-512 (`prepare`
            // asks `has_avx512`), and holds bit_bytes.div_ceil(2) * 16 values,
            // where `bits` is the code's first bit_bytes bytes.
            return unsafe { super::codes_x86::masked_sum_avx512(values, bits) };
        }
        self.positive_from_tables(bits)
    }

    /// <r, q'> estimated as |r| <x̄, q'> / <x̄, r/|r|>.
    fn estimate_dot(&self, code: &[u8]) -> (f32, f32) {
        let positive = self.positive(&code[..self.bit_bytes]);
        let (norm, alignment) = self.factors(code);
        let signs_dot = (2.0 * positive - self.sum) / (self.dimensions as f32).sqrt();
        (norm * signs_dot / alignment.max(1e-6), norm)
    }

    pub fn estimate(&self, code: &[u8]) -> f32 {
        let (dot, norm) = self.estimate_dot(code);
        match self.metric {
            CodeMetric::NegativeDot => -(self.constant + dot),
            _ => norm * norm + self.squared_norm - 2.0 * dot,
        }
    }

    /// A distance the exact one is below only with small probability (see `EPSILON`).
    pub fn lower_bound(&self, code: &[u8], estimate: f32) -> f32 {
        let d = self.dimensions as f32;
        let (norm, alignment) = self.factors(code);
        let alignment = alignment.clamp(1e-6, 1.0);
        let error = norm
            * self.squared_norm.sqrt()
            * EPSILON
            * ((1.0 - alignment * alignment) / (alignment * alignment)).sqrt()
            / (d - 1.0).max(1.0).sqrt();
        match self.metric {
            CodeMetric::NegativeDot => estimate - error,
            _ => (estimate - 2.0 * error).max(0.0),
        }
    }
}

/// Either kind of code, as an index would choose by dimensions.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantizer {
    Scalar(ScalarQuantizer),
    Binary(BinaryQuantizer),
}

pub enum Prepared {
    Scalar(PreparedQuery),
    Binary(BinaryQuery),
}

impl Quantizer {
    pub fn code_bytes(&self) -> usize {
        match self {
            Quantizer::Scalar(q) => q.code_bytes(),
            Quantizer::Binary(q) => q.code_bytes(),
        }
    }

    /// Appends `vector`'s code; returns the residual scalar codes keep beside it (0 for 1-bit codes, which carry their factors).
    pub fn encode(&self, vector: &[f32], metric: CodeMetric, out: &mut Vec<u8>) -> f32 {
        match self {
            Quantizer::Scalar(q) => q.encode(vector, metric, out),
            Quantizer::Binary(q) => {
                q.encode(vector, out);
                0.0
            }
        }
    }

    pub fn prepare(&self, query: &[f32], metric: CodeMetric) -> Prepared {
        match self {
            Quantizer::Scalar(q) => Prepared::Scalar(q.prepare(query, metric)),
            Quantizer::Binary(q) => Prepared::Binary(q.prepare(query, metric)),
        }
    }
}

/// What a stored code cannot be decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadQuantizer(pub &'static str);

impl std::fmt::Display for BadQuantizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid quantizer: {}", self.0)
    }
}

const KIND_SCALAR: u8 = 1;
const KIND_BINARY: u8 = 2;
const QUANTIZER_HEADER: usize = 8;
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
            return Some(Quantizer::Binary(BinaryQuantizer::train(
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
        binary_fits
            .then(|| Quantizer::Binary(BinaryQuantizer::train(sample, dimensions, 0x5156_4853)))
    }

    pub fn dimensions(&self) -> usize {
        match self {
            Quantizer::Scalar(q) => q.dimensions(),
            Quantizer::Binary(q) => q.dimensions(),
        }
    }

    /// Bits per dimension of the codes.
    pub fn bits(&self) -> u8 {
        match self {
            Quantizer::Scalar(q) => q.bits(),
            Quantizer::Binary(_) => 1,
        }
    }

    /// Bytes of a stored code: the code, and for scalar codes the residual after it.
    pub fn stored_bytes(&self) -> usize {
        match self {
            Quantizer::Scalar(q) => q.code_bytes() + 4,
            Quantizer::Binary(q) => q.code_bytes(),
        }
    }

    /// Appends `vector`'s stored code (`stored_bytes` of them) to `out`.
    pub fn encode_stored(&self, vector: &[f32], metric: CodeMetric, out: &mut Vec<u8>) {
        let residual = self.encode(vector, metric, out);
        if matches!(self, Quantizer::Scalar(_)) {
            out.extend_from_slice(&residual.to_le_bytes());
        }
    }

    /// The quantizer as the index stores it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; QUANTIZER_HEADER];
        out[1] = self.bits();
        out[4..8].copy_from_slice(&(self.dimensions() as u32).to_le_bytes());
        let floats = |out: &mut Vec<u8>, values: &[f32]| {
            values
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()))
        };
        match self {
            Quantizer::Scalar(q) => {
                out[0] = KIND_SCALAR;
                floats(&mut out, &q.offset);
                floats(&mut out, &q.step);
            }
            Quantizer::Binary(q) => {
                out[0] = KIND_BINARY;
                floats(&mut out, &q.center);
                out.extend_from_slice(&q.signs);
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Quantizer, BadQuantizer> {
        if bytes.len() < QUANTIZER_HEADER {
            return Err(BadQuantizer("too short"));
        }
        let dimensions = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        if dimensions == 0 || dimensions > 1 << 16 {
            return Err(BadQuantizer("dimensions"));
        }
        let body = &bytes[QUANTIZER_HEADER..];
        let floats = |at: usize| -> Result<Vec<f32>, BadQuantizer> {
            let raw = body
                .get(at * 4..(at + dimensions) * 4)
                .ok_or(BadQuantizer("too short"))?;
            let values: Vec<f32> = raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            if values.iter().all(|v| v.is_finite()) {
                Ok(values)
            } else {
                Err(BadQuantizer("non-finite value"))
            }
        };
        match (bytes[0], bytes[1]) {
            (KIND_SCALAR, bits @ (4 | 8)) => {
                let (offset, step) = (floats(0)?, floats(dimensions)?);
                if step.iter().any(|&s| s <= 0.0) {
                    return Err(BadQuantizer("step"));
                }
                Ok(Quantizer::Scalar(ScalarQuantizer { bits, offset, step }))
            }
            (KIND_BINARY, 1) => {
                let center = floats(0)?;
                let signs = body
                    .get(dimensions * 4..dimensions * 4 + sign_bytes(dimensions))
                    .ok_or(BadQuantizer("too short"))?
                    .to_vec();
                Ok(Quantizer::Binary(BinaryQuantizer { center, signs }))
            }
            _ => Err(BadQuantizer("kind")),
        }
    }
}

impl Prepared {
    /// The estimate for a code, or for a stored code (`Quantizer::encode_stored`),
    /// whose residual after the code the sums never read.
    pub fn estimate(&self, code: &[u8]) -> f32 {
        match self {
            Prepared::Scalar(p) => p.estimate(code),
            Prepared::Binary(p) => p.estimate(code),
        }
    }

    pub fn lower_bound(&self, code: &[u8], estimate: f32, residual: f32) -> f32 {
        match self {
            Prepared::Scalar(p) => p.lower_bound(estimate, residual),
            Prepared::Binary(p) => p.lower_bound(code, estimate),
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
            Prepared::Binary(p) => p.lower_bound(stored, estimate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar;
    use rand::{Rng, SeedableRng};

    fn exact(metric: CodeMetric, a: &[f32], b: &[f32]) -> f32 {
        match metric {
            CodeMetric::L2Squared => scalar::l2_squared(a, b),
            CodeMetric::NegativeDot => -scalar::dot(a, b),
            CodeMetric::L1 => scalar::l1(a, b),
        }
    }

    fn rows(rng: &mut rand::rngs::StdRng, count: usize, dimensions: usize) -> Vec<Vec<f32>> {
        // Dimensions of different spread, as real embeddings have.
        (0..count)
            .map(|_| {
                (0..dimensions)
                    .map(|d| rng.gen_range(-1.0f32..1.0) * (1.0 + d as f32 % 5.0))
                    .collect()
            })
            .collect()
    }

    /// Found by the property test: a row equal to the query, among values
    /// around 433, got a bound of 9e-10 above its exact distance 0.
    #[test]
    fn a_row_equal_to_the_query_gets_a_bound_of_zero() {
        let mut training = vec![vec![-433.4641f32]; 20];
        training[0][0] = -829.6852;
        training[8][0] = -106.594215;
        let quantizer = ScalarQuantizer::train(training.iter().map(|r| r.as_slice()), 1, 8, 0.0);
        for metric in [CodeMetric::L2Squared, CodeMetric::L1] {
            let row = [-433.4641f32];
            let prepared = quantizer.prepare(&row, metric);
            let mut code = Vec::new();
            let residual = quantizer.encode(&row, metric, &mut code);
            assert_eq!(
                prepared.lower_bound(prepared.estimate(&code), residual),
                0.0,
                "{metric:?}"
            );
        }
    }

    #[test]
    fn estimates_equal_exact_distances_to_the_decoded_vector() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for dimensions in [1, 2, 3, 7, 16, 33, 50] {
            let data = rows(&mut rng, 200, dimensions);
            for bits in [4, 8] {
                let quantizer = ScalarQuantizer::train(
                    data.iter().map(|r| r.as_slice()),
                    dimensions,
                    bits,
                    0.01,
                );
                for metric in [
                    CodeMetric::L2Squared,
                    CodeMetric::NegativeDot,
                    CodeMetric::L1,
                ] {
                    let query = &data[0];
                    let prepared = quantizer.prepare(query, metric);
                    let (mut code, mut decoded) = (Vec::new(), Vec::new());
                    for row in &data[1..] {
                        code.clear();
                        quantizer.encode(row, metric, &mut code);
                        assert_eq!(code.len(), code_bytes(dimensions, bits));
                        quantizer.decode(&code, &mut decoded);
                        let (got, want) =
                            (prepared.estimate(&code), exact(metric, query, &decoded));
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "{metric:?} {bits} bits d={dimensions}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lower_bounds_never_exceed_exact_distances() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let data = rows(&mut rng, 500, 24);
        // Trimmed ranges make some values clamp: the residual must cover them.
        for (bits, trim) in [(4, 0.05), (8, 0.0), (8, 0.2)] {
            let quantizer =
                ScalarQuantizer::train(data.iter().take(100).map(|r| r.as_slice()), 24, bits, trim);
            for metric in [
                CodeMetric::L2Squared,
                CodeMetric::NegativeDot,
                CodeMetric::L1,
            ] {
                for query in data.iter().take(20) {
                    let prepared = quantizer.prepare(query, metric);
                    let mut code = Vec::new();
                    for row in &data {
                        code.clear();
                        let residual = quantizer.encode(row, metric, &mut code);
                        let bound = prepared.lower_bound(prepared.estimate(&code), residual);
                        let distance = exact(metric, query, row);
                        assert!(
                            bound <= distance,
                            "{metric:?} {bits} bits trim {trim}: bound {bound} > {distance}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn eight_bit_codes_are_close_and_order_like_exact_distances() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let data = rows(&mut rng, 300, 64);
        let quantizer = ScalarQuantizer::train(data.iter().map(|r| r.as_slice()), 64, 8, 0.0);
        let prepared = quantizer.prepare(&data[0], CodeMetric::L2Squared);
        let mut code = Vec::new();
        for row in &data[1..] {
            code.clear();
            quantizer.encode(row, CodeMetric::L2Squared, &mut code);
            let (estimate, distance) =
                (prepared.estimate(&code), scalar::l2_squared(&data[0], row));
            assert!(
                (estimate - distance).abs() <= 0.01 * distance,
                "{estimate} vs {distance}"
            );
        }
    }

    #[test]
    fn quantizers_of_extreme_ranges_read_back() {
        // Found writing the property tests: a dimension from -3e38 to 3e38 got an
        // infinite step, one spanning a single subnormal a step of 0, and
        // from_bytes rejected the quantizer an index had stored for them.
        for (low, high) in [
            (-3e38f32, 3e38f32),
            (-f32::MAX, f32::MAX),
            (0.0, f32::from_bits(1)),
            (-f32::from_bits(1), 0.0),
        ] {
            let rows = [vec![low, 1.0], vec![high, 2.0]];
            for bits in [4, 8] {
                let quantizer = Quantizer::Scalar(ScalarQuantizer::train(
                    rows.iter().map(|r| r.as_slice()),
                    2,
                    bits,
                    0.0,
                ));
                let Quantizer::Scalar(scalar) = &quantizer else {
                    unreachable!()
                };
                assert!(
                    scalar.step.iter().all(|&s| s.is_finite() && s > 0.0),
                    "{low} {high}: {:?}",
                    scalar.step
                );
                assert_eq!(
                    Quantizer::from_bytes(&quantizer.to_bytes()),
                    Ok(quantizer.clone()),
                    "{low} {high}"
                );
            }
        }
    }

    #[test]
    fn constant_and_non_finite_dimensions_do_not_break_codes() {
        let data = [vec![1.0f32, 5.0, f32::NAN], vec![1.0, 6.0, 2.0]];
        let quantizer = ScalarQuantizer::train(data.iter().map(|r| r.as_slice()), 3, 4, 0.0);
        let mut code = Vec::new();
        let residual = quantizer.encode(&[1.0, 5.5, 2.0], CodeMetric::L2Squared, &mut code);
        assert!(residual.is_finite());
        let estimate = quantizer
            .prepare(&[1.0, 5.5, 2.0], CodeMetric::L2Squared)
            .estimate(&code);
        assert!(estimate.is_finite() && estimate < 0.1, "{estimate}");
    }

    #[test]
    fn binary_codes_estimate_without_bias_and_mostly_within_their_bound() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let dimensions = 128;
        let data = rows(&mut rng, 400, dimensions);
        let quantizer = BinaryQuantizer::train(data.iter().map(|r| r.as_slice()), dimensions, 1);
        // The rotation is orthogonal: it keeps lengths.
        let mut rotated = Vec::new();
        quantizer.rotate(&data[0], &mut rotated);
        assert!(
            (scalar::dot(&rotated, &rotated) - scalar::dot(&data[0], &data[0])).abs()
                < 1e-2 * scalar::dot(&data[0], &data[0])
        );
        for metric in [CodeMetric::L2Squared, CodeMetric::NegativeDot] {
            let (mut signed_error, mut scale, mut outside, mut total) = (0.0f64, 0.0f64, 0, 0);
            for query in data.iter().take(20) {
                let prepared = quantizer.prepare(query, metric);
                for row in &data[20..] {
                    let mut code = Vec::new();
                    quantizer.encode(row, &mut code);
                    assert_eq!(code.len(), quantizer.code_bytes());
                    let estimate = prepared.estimate(&code);
                    let distance = exact(metric, query, row);
                    signed_error += (estimate - distance) as f64;
                    scale += distance.abs() as f64;
                    outside += (prepared.lower_bound(&code, estimate) > distance) as usize;
                    total += 1;
                }
            }
            assert!(
                signed_error.abs() < 0.02 * scale,
                "{metric:?}: bias {signed_error} of {scale}"
            );
            // A bound that holds with high probability, not always: about 3% fall below here.
            assert!(
                outside * 20 <= total,
                "{metric:?}: {outside} of {total} exact distances below the bound"
            );
        }
    }

    #[test]
    fn the_rotation_keeps_lengths_and_mixes_every_dimension() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(10);
        for dimensions in [1, 3, 50, 384, 784] {
            let quantizer = BinaryQuantizer::train(std::iter::empty(), dimensions, 7);
            let v: Vec<f32> = (0..dimensions)
                .map(|_| rng.gen_range(-1.0f32..1.0))
                .collect();
            let mut rotated = Vec::new();
            quantizer.rotate(&v, &mut rotated);
            let (before, after) = (scalar::dot(&v, &v), scalar::dot(&rotated, &rotated));
            assert!(
                (before - after).abs() <= 1e-4 * before,
                "d={dimensions}: {before} vs {after}"
            );
            // A unit vector on the first axis spreads over all of them.
            let mut axis = vec![0.0f32; dimensions];
            axis[0] = 1.0;
            quantizer.rotate(&axis, &mut rotated);
            let touched = rotated.iter().filter(|x| x.abs() > 1e-6).count();
            assert!(
                dimensions < 50 || touched > dimensions / 2,
                "d={dimensions}: {touched} coordinates"
            );
        }
    }

    #[test]
    fn binary_code_sums_agree_with_the_tables_on_every_length() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        for dimensions in (1..=70).chain([384, 784]) {
            let data = rows(&mut rng, 20, dimensions);
            let quantizer =
                BinaryQuantizer::train(data.iter().map(|r| r.as_slice()), dimensions, 3);
            let prepared = quantizer.prepare(&data[0], CodeMetric::L2Squared);
            for row in &data[1..] {
                let mut code = Vec::new();
                quantizer.encode(row, &mut code);
                let bits = &code[..dimensions.div_ceil(8)];
                let (got, want) = (prepared.positive(bits), prepared.positive_from_tables(bits));
                assert!(
                    (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                    "d={dimensions}: {got} vs {want}"
                );
            }
        }
        eprintln!("1-bit sums with AVX-512: {}", has_avx512());
    }

    #[test]
    fn stored_quantizers_round_trip_and_reject_damage() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for (dimensions, metric, max) in [
            (50, CodeMetric::NegativeDot, 200),
            (50, CodeMetric::L1, 40),
            (300, CodeMetric::L2Squared, 100),
        ] {
            let data = rows(&mut rng, 100, dimensions);
            let quantizer =
                Quantizer::choose(data.iter().map(|r| r.as_slice()), dimensions, metric, max)
                    .expect("a code fits");
            assert!(quantizer.stored_bytes() <= max);
            let bytes = quantizer.to_bytes();
            assert_eq!(Quantizer::from_bytes(&bytes), Ok(quantizer.clone()));
            assert!(Quantizer::from_bytes(&bytes[..bytes.len() - 1]).is_err());
            let mut wrong_kind = bytes.clone();
            wrong_kind[0] = 9;
            assert!(Quantizer::from_bytes(&wrong_kind).is_err());
            // A stored code's estimate and bound are those of its parts.
            let prepared = quantizer.prepare(&data[0], metric);
            let mut stored = Vec::new();
            quantizer.encode_stored(&data[1], metric, &mut stored);
            assert_eq!(stored.len(), quantizer.stored_bytes());
            let estimate = prepared.estimate(&stored);
            assert!(prepared.lower_bound_stored(&stored, estimate) <= estimate);
        }
        // 8 bits when they fit, 4 when only those do, 1-bit from 256 dimensions, none for L1 that fits nothing.
        let data = rows(&mut rng, 10, 300);
        let sample = || data.iter().map(|r| r.as_slice());
        assert_eq!(
            Quantizer::choose(sample(), 50, CodeMetric::L2Squared, 60).map(|q| q.bits()),
            Some(8)
        );
        assert_eq!(
            Quantizer::choose(sample(), 50, CodeMetric::L2Squared, 40).map(|q| q.bits()),
            Some(4)
        );
        assert_eq!(
            Quantizer::choose(sample(), 300, CodeMetric::L2Squared, 1000).map(|q| q.bits()),
            Some(1)
        );
        assert_eq!(
            Quantizer::choose(sample(), 300, CodeMetric::L1, 100).map(|q| q.bits()),
            None
        );
    }

    #[test]
    fn every_simd_code_sum_matches_scalar_on_lengths_1_to_70() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        let isas = supported_isas();
        for dimensions in 1..=70 {
            let data = rows(&mut rng, 30, dimensions);
            for bits in [4, 8] {
                let quantizer = ScalarQuantizer::train(
                    data.iter().map(|r| r.as_slice()),
                    dimensions,
                    bits,
                    0.0,
                );
                for metric in [
                    CodeMetric::L2Squared,
                    CodeMetric::NegativeDot,
                    CodeMetric::L1,
                ] {
                    let prepared = quantizer.prepare(&data[0], metric);
                    for row in &data[1..] {
                        let mut code = Vec::new();
                        quantizer.encode(row, metric, &mut code);
                        let want = prepared.estimate_with(CodeIsa::Scalar, &code);
                        // Bytes past the code's end that would change any sum read into.
                        let length = code.len();
                        code.extend_from_slice(&[0xFF; 32]);
                        for &isa in &isas {
                            let got = prepared.estimate_with(isa, &code[..length]);
                            assert!(
                                (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                                "{isa:?} {metric:?} {bits} bits d={dimensions}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
        eprintln!("code sums tested: {isas:?}");
    }

    /// Codes against their stated bounds on random data of any spread, and
    /// stored quantizers and codes (the index's code pages and neighbor
    /// lists) read from any bytes.
    mod properties {
        use super::super::*;
        use crate::kernels::scalar;
        use proptest::prelude::*;

        fn config(cases: u32) -> ProptestConfig {
            ProptestConfig {
                cases,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        fn exact(metric: CodeMetric, a: &[f32], b: &[f32]) -> f32 {
            match metric {
                CodeMetric::L2Squared => scalar::l2_squared(a, b),
                CodeMetric::NegativeDot => -scalar::dot(a, b),
                CodeMetric::L1 => scalar::l1(a, b),
            }
        }

        /// Rows of `dimensions` values; each dimension has its own center and
        /// spread, and `scale` sets the magnitude of them all.
        fn data(rows: usize) -> impl Strategy<Value = (usize, Vec<Vec<f32>>)> {
            (1usize..48, 0.01f32..1000.0).prop_flat_map(move |(dimensions, scale)| {
                let row = proptest::collection::vec(-1.0f32..1.0, dimensions);
                (Just(dimensions), proptest::collection::vec(row, rows)).prop_map(
                    move |(d, rows)| {
                        let rows = rows
                            .into_iter()
                            .map(|r| {
                                r.iter()
                                    .enumerate()
                                    .map(|(i, x)| {
                                        scale * (x * (1.0 + (i % 5) as f32) + (i % 3) as f32 - 1.0)
                                    })
                                    .collect()
                            })
                            .collect();
                        (d, rows)
                    },
                )
            })
        }

        proptest! {
            #![proptest_config(config(64))]

            /// Scalar codes' bound (`lower_bound`): the exact distance is never
            /// below it. By the triangle inequality it holds on the other side
            /// too, which is checked within the rounding of the sums.
            #[test]
            fn scalar_code_distances_are_within_their_bound(
                (dimensions, rows) in data(40), bits in prop::sample::select(vec![4u8, 8]), trim in prop::sample::select(vec![0.0, 0.01, 0.2]),
            ) {
                // Trained on half the rows: the others may fall outside the ranges and clamp.
                let quantizer = ScalarQuantizer::train(rows[..20].iter().map(|r| r.as_slice()), dimensions, bits, trim);
                for metric in [CodeMetric::L2Squared, CodeMetric::NegativeDot, CodeMetric::L1] {
                    for query in rows.iter().step_by(7) {
                        let prepared = quantizer.prepare(query, metric);
                        let query_norm = scalar::dot(query, query).sqrt();
                        for row in &rows {
                            let mut code = Vec::new();
                            let residual = quantizer.encode(row, metric, &mut code);
                            let estimate = prepared.estimate(&code);
                            let distance = exact(metric, query, row);
                            let bound = prepared.lower_bound(estimate, residual);
                            prop_assert!(bound <= distance, "{:?} {} bits: bound {} above exact {}", metric, bits, bound, distance);
                            // Magnitude of what the sums add, for their rounding.
                            let mut decoded = Vec::new();
                            quantizer.decode(&code, &mut decoded);
                            let size: f32 = query.iter().zip(&decoded).map(|(q, x)| q.abs() * x.abs() + q * q + x * x).sum::<f32>();
                            let rounding = 1e-5 * size + 1e-6;
                            match metric {
                                CodeMetric::L2Squared => prop_assert!(distance.sqrt() <= estimate.max(0.0).sqrt() + residual + rounding.sqrt()),
                                CodeMetric::NegativeDot => prop_assert!(distance <= estimate + query_norm * residual + rounding),
                                CodeMetric::L1 => prop_assert!(distance <= estimate + residual + rounding),
                            }
                        }
                    }
                }
            }
        }

        proptest! {
            #![proptest_config(config(24))]

            /// 1-bit codes' bound holds with high probability (`EPSILON`): about
            /// 3% of exact distances fall below it on real embeddings.
            #[test]
            fn binary_code_distances_are_mostly_within_their_bound(dimensions in 16usize..400, seed in any::<u64>()) {
                use rand::{Rng, SeedableRng};
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                let rows: Vec<Vec<f32>> = (0..120).map(|_| (0..dimensions).map(|d| rng.gen_range(-1.0f32..1.0) * (1.0 + (d % 5) as f32)).collect()).collect();
                let quantizer = BinaryQuantizer::train(rows.iter().map(|r| r.as_slice()), dimensions, seed);
                for metric in [CodeMetric::L2Squared, CodeMetric::NegativeDot] {
                    let (mut outside, mut total) = (0, 0);
                    for query in rows.iter().take(10) {
                        let prepared = quantizer.prepare(query, metric);
                        for row in &rows[10..] {
                            let mut code = Vec::new();
                            quantizer.encode(row, &mut code);
                            let estimate = prepared.estimate(&code);
                            prop_assert!(estimate.is_finite());
                            outside += (prepared.lower_bound(&code, estimate) > exact(metric, query, row)) as usize;
                            total += 1;
                        }
                    }
                    prop_assert!(outside * 10 <= total, "{:?} d={}: {} of {} below the bound", metric, dimensions, outside, total);
                }
            }
        }

        /// Any finite float4, the extremes of the range often.
        fn any_finite() -> impl Strategy<Value = f32> {
            use proptest::num::f32::{NORMAL, SUBNORMAL, ZERO};
            prop_oneof![3 => NORMAL | SUBNORMAL | ZERO, 1 => prop::sample::select(vec![f32::MAX, -f32::MAX, 3e38, -3e38, f32::from_bits(1), -f32::from_bits(1)])]
        }

        proptest! {
            #![proptest_config(config(256))]

            #[test]
            fn stored_quantizers_never_panic_and_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..400), header in (prop::sample::select(vec![0u8, 1, 2, 3]), prop::sample::select(vec![0u8, 1, 4, 8]), 0u32..40)) {
                // Random bytes, and random bytes under a header that is nearly right.
                let mut framed = vec![header.0, header.1, 0, 0];
                framed.extend_from_slice(&header.2.to_le_bytes());
                framed.extend_from_slice(&bytes);
                for b in [&bytes, &framed] {
                    let Ok(quantizer) = Quantizer::from_bytes(b) else { continue };
                    prop_assert_eq!(Quantizer::from_bytes(&quantizer.to_bytes()), Ok(quantizer.clone()));
                    // Codes read from a page are any bytes of the stored size.
                    let d = quantizer.dimensions();
                    let query: Vec<f32> = (0..d).map(|i| (i % 7) as f32 - 3.0).collect();
                    let stored: Vec<u8> = b.iter().copied().cycle().take(quantizer.stored_bytes()).collect();
                    for metric in [CodeMetric::L2Squared, CodeMetric::NegativeDot, CodeMetric::L1] {
                        if metric == CodeMetric::L1 && quantizer.bits() == 1 {
                            continue;
                        }
                        let prepared = quantizer.prepare(&query, metric);
                        let estimate = prepared.estimate(&stored);
                        let _ = prepared.lower_bound_stored(&stored, estimate);
                        let mut code = Vec::new();
                        quantizer.encode_stored(&query, metric, &mut code);
                        prop_assert_eq!(code.len(), quantizer.stored_bytes());
                    }
                }
            }

            #[test]
            fn quantizers_of_any_finite_values_read_back(rows in proptest::collection::vec(proptest::collection::vec(any_finite(), 3), 1..6), bits in prop::sample::select(vec![4u8, 8])) {
                // What an index stores from its rows, whatever their range, it must read back.
                let quantizer = Quantizer::Scalar(ScalarQuantizer::train(rows.iter().map(|r| r.as_slice()), 3, bits, 0.0));
                prop_assert_eq!(Quantizer::from_bytes(&quantizer.to_bytes()), Ok(quantizer.clone()));
                let prepared = quantizer.prepare(&rows[0], CodeMetric::L2Squared);
                for row in &rows {
                    let mut code = Vec::new();
                    let residual = quantizer.encode(row, CodeMetric::L2Squared, &mut code);
                    let _ = prepared.lower_bound(&code, prepared.estimate(&code), residual);
                }
            }

            #[test]
            fn trained_quantizers_round_trip((dimensions, rows) in data(8), kind in 0u8..3, seed in any::<u64>()) {
                let sample = rows.iter().map(|r| r.as_slice());
                let quantizer = match kind {
                    0 => Quantizer::Scalar(ScalarQuantizer::train(sample, dimensions, 4, 0.0)),
                    1 => Quantizer::Scalar(ScalarQuantizer::train(sample, dimensions, 8, 0.01)),
                    _ => Quantizer::Binary(BinaryQuantizer::train(sample, dimensions, seed)),
                };
                prop_assert_eq!(Quantizer::from_bytes(&quantizer.to_bytes()), Ok(quantizer.clone()));
                let bytes = quantizer.to_bytes();
                for cut in [0, 7, 8, bytes.len() - 1] {
                    prop_assert!(Quantizer::from_bytes(&bytes[..cut]).is_err());
                }
            }
        }
    }
}
