//! RaBitQ 1-bit codes (Gao & Long, SIGMOD 2024).

use super::isa::has_avx512;
use super::CodeMetric;

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
pub struct RaBitQ {
    pub(super) center: Vec<f32>,
    /// ROUNDS x dimensions bits: bit set = negate that coordinate in that round.
    pub(super) signs: Vec<u8>,
}

const ROUNDS: usize = 4;

/// A query made ready for 1-bit codes: rotated, with its sums.
pub struct RaBitQQuery {
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
pub(super) const BINARY_FACTOR_BYTES: usize = 8;
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

pub(super) fn sign_bytes(dimensions: usize) -> usize {
    (ROUNDS * dimensions).div_ceil(8)
}

impl RaBitQ {
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
        RaBitQ { center, signs }
    }

    pub fn dimensions(&self) -> usize {
        self.center.len()
    }

    pub fn code_bytes(&self) -> usize {
        self.dimensions().div_ceil(8) + BINARY_FACTOR_BYTES
    }

    /// The rotated vector, of the same length.
    pub(super) fn rotate(&self, v: &[f32], out: &mut Vec<f32>) {
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

    pub fn prepare(&self, query: &[f32], metric: CodeMetric) -> RaBitQQuery {
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
            crate::kernels::dot(query, &self.center)
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
        RaBitQQuery {
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

impl RaBitQQuery {
    pub(super) fn factors(&self, code: &[u8]) -> (f32, f32) {
        let at = self.bit_bytes;
        let norm = f32::from_le_bytes(code[at..at + 4].try_into().unwrap());
        let alignment = f32::from_le_bytes(code[at + 4..at + 8].try_into().unwrap());
        (norm, alignment)
    }

    /// The sum of the rotated query over the code's set bits, from the tables.
    pub(super) fn positive_from_tables(&self, bits: &[u8]) -> f32 {
        // Two accumulators, one per nibble, so the additions overlap.
        let (mut low, mut high) = (0.0f32, 0.0f32);
        for (table, &byte) in self.nibble_sums.chunks_exact(32).zip(bits) {
            low += table[(byte & 0x0F) as usize];
            high += table[16 + (byte >> 4) as usize];
        }
        low + high
    }

    pub(super) fn positive(&self, bits: &[u8]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if let Some(values) = &self.masked {
            // SAFETY: `masked` exists only when the CPU has AVX-512 (`prepare`
            // asks `has_avx512`), and holds bit_bytes.div_ceil(2) * 16 values,
            // where `bits` is the code's first bit_bytes bytes.
            return unsafe { super::x86::masked_sum_avx512(values, bits) };
        }
        self.positive_from_tables(bits)
    }

    /// <r, q'> estimated as |r| <x̄, q'> / <x̄, r/|r|>.
    pub(super) fn estimate_dot(&self, code: &[u8]) -> (f32, f32) {
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
