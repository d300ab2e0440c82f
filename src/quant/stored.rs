//! A quantizer as an index stores it: a header (kind, bits, dimensions),
//! then the kind's parameters as little-endian floats and bytes.

use super::rabitq::{sign_bytes, RaBitQ};
use super::scalar::ScalarQuantizer;
use super::Quantizer;

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

impl Quantizer {
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
            Quantizer::RaBitQ(q) => {
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
                Ok(Quantizer::RaBitQ(RaBitQ { center, signs }))
            }
            _ => Err(BadQuantizer("kind")),
        }
    }
}
