//! The binary formats of vector, halfvec and sparsevec (`COPY ... BINARY`,
//! binary parameters) and the type modifiers' checks, decoded from bytes
//! without pgrx, so that they are fuzzed and property-tested on their own.
//! The receive and typmod_in functions (`dense.rs`, `sparsevec.rs`) hand
//! over the message's unread bytes or the parsed modifiers and map each
//! error to the message and SQLSTATE it had when they decoded it themselves.

use super::literal::{self, LiteralError};
use super::sparse::{self, Sparse, SparseError};

#[derive(Debug, PartialEq)]
pub enum WireError {
    /// The message ends inside the header (what `pq_getmsgint` reports).
    InsufficientData,
    /// A dense header with fewer than 1 dimension.
    Empty,
    /// A dense header with more than `literal::MAX_DIM` dimensions.
    TooManyDimensions,
    /// The value's dimensions differ from the column's `type(n)`.
    ExpectedDimensions { typmod: i32, dim: usize },
    /// The header's reserved field is not 0.
    Unused(i32),
    /// The header's count (dimensions, or sparse elements) does not match the bytes after it.
    Length { count: i64, remaining: usize },
    /// A NaN or infinite element.
    Element(LiteralError),
    /// What a sparse vector's own checks reject.
    Sparse(SparseError),
}

/// Reads the big-endian integer of `N` bytes at `*pos`, as `pq_getmsgint` does.
fn take<const N: usize>(bytes: &[u8], pos: &mut usize) -> Result<[u8; N], WireError> {
    let taken = bytes
        .get(*pos..*pos + N)
        .ok_or(WireError::InsufficientData)?;
    *pos += N;
    Ok(taken.try_into().expect("N bytes"))
}

fn check_expected_dim(typmod: i32, dim: usize) -> Result<(), WireError> {
    if typmod != -1 && typmod as usize != dim {
        return Err(WireError::ExpectedDimensions { typmod, dim });
    }
    Ok(())
}

/// A dense value's elements as bits (`wire_bytes` of 4 for float4, 2 for
/// float16): int16 dim, int16 unused (0), then dim big-endian elements,
/// which must be all the bytes left. `widen` reads an element's bits as
/// float4 for the finiteness check. Checks run in the order pgvector's do.
pub fn decode_dense(
    bytes: &[u8],
    wire_bytes: usize,
    typmod: i32,
    widen: impl Fn(u32) -> f32,
) -> Result<Vec<u32>, WireError> {
    debug_assert!(wire_bytes == 2 || wire_bytes == 4);
    let mut pos = 0;
    let dim = i16::from_be_bytes(take::<2>(bytes, &mut pos)?);
    let unused = i16::from_be_bytes(take::<2>(bytes, &mut pos)?);
    if dim < 1 {
        return Err(WireError::Empty);
    }
    let dim = dim as usize;
    if dim > literal::MAX_DIM {
        return Err(WireError::TooManyDimensions);
    }
    check_expected_dim(typmod, dim)?;
    if unused != 0 {
        return Err(WireError::Unused(unused as i32));
    }
    let remaining = bytes.len() - pos;
    if remaining != wire_bytes * dim {
        return Err(WireError::Length {
            count: dim as i64,
            remaining,
        });
    }
    bytes[pos..]
        .chunks_exact(wire_bytes)
        .map(|chunk| {
            let bits = chunk.iter().fold(0u32, |acc, &b| acc << 8 | b as u32);
            literal::check_element(widen(bits)).map_err(WireError::Element)?;
            Ok(bits)
        })
        .collect()
}

/// A sparse value: int32 dim, int32 nnz, int32 unused (0), nnz 0-based
/// indices, then nnz float4 values, which must be all the bytes left.
pub fn decode_sparse(bytes: &[u8], typmod: i32) -> Result<Sparse, WireError> {
    let mut pos = 0;
    let int = |pos: &mut usize| take::<4>(bytes, pos).map(i32::from_be_bytes);
    let dim = int(&mut pos)?;
    let nnz = int(&mut pos)?;
    let unused = int(&mut pos)?;
    sparse::check_dim(dim as i64).map_err(WireError::Sparse)?;
    sparse::check_nnz(nnz as i64, dim as i64).map_err(WireError::Sparse)?;
    check_expected_dim(typmod, dim as usize)?;
    if unused != 0 {
        return Err(WireError::Unused(unused));
    }
    let remaining = bytes.len() - pos;
    let nnz = nnz as usize;
    if remaining != 8 * nnz {
        return Err(WireError::Length {
            count: nnz as i64,
            remaining,
        });
    }
    let body = &bytes[pos..];
    let indices: Vec<i32> = body[..4 * nnz]
        .chunks_exact(4)
        .map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")))
        .collect();
    sparse::check_indices(&indices, dim).map_err(WireError::Sparse)?;
    let values: Vec<f32> = body[4 * nnz..]
        .chunks_exact(4)
        .map(|b| f32::from_be_bytes(b.try_into().expect("4 bytes")))
        .collect();
    for &x in &values {
        literal::check_element(x).map_err(WireError::Element)?;
        if x == 0.0 {
            return Err(WireError::Sparse(SparseError::ZeroInBinary));
        }
    }
    Ok(Sparse {
        dim,
        indices,
        values,
    })
}

/// The bytes `decode_dense` reads back (what the send functions write).
pub fn encode_dense(bits: &[u32], wire_bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + wire_bytes * bits.len());
    out.extend_from_slice(&(bits.len() as i16).to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for &b in bits {
        out.extend_from_slice(&b.to_be_bytes()[4 - wire_bytes..]);
    }
    out
}

/// The bytes `decode_sparse` reads back.
pub fn encode_sparse(value: &Sparse) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + 8 * value.indices.len());
    for x in [value.dim, value.indices.len() as i32, 0] {
        out.extend_from_slice(&x.to_be_bytes());
    }
    value
        .indices
        .iter()
        .for_each(|i| out.extend_from_slice(&i.to_be_bytes()));
    value
        .values
        .iter()
        .for_each(|x| out.extend_from_slice(&x.to_be_bytes()));
    out
}

/// What is wrong with a `type(n)` modifier; all are invalid parameter values.
#[derive(Debug, PartialEq)]
pub enum TypmodError {
    /// Not exactly one modifier.
    Count,
    BelowOne,
    AboveMax,
}

impl TypmodError {
    pub fn message(&self, type_name: &str, max_dim: i64) -> String {
        match self {
            TypmodError::Count => "invalid type modifier".into(),
            TypmodError::BelowOne => format!("dimensions for type {type_name} must be at least 1"),
            TypmodError::AboveMax => {
                format!("dimensions for type {type_name} cannot exceed {max_dim}")
            }
        }
    }
}

/// The dimensions of `type(n)`, from the integers PostgreSQL parsed out of
/// the modifier list (`ArrayGetIntegerTypmods`).
pub fn typmod(modifiers: &[i32], max_dim: i64) -> Result<i32, TypmodError> {
    let &[dim] = modifiers else {
        return Err(TypmodError::Count);
    };
    if dim < 1 {
        Err(TypmodError::BelowOne)
    } else if dim as i64 > max_dim {
        Err(TypmodError::AboveMax)
    } else {
        Ok(dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f16_widen(bits: u32) -> f32 {
        half::f16::from_bits(bits as u16).to_f32()
    }

    #[test]
    fn dense_errors_in_pgvectors_order() {
        let f = f32::to_bits;
        assert_eq!(
            decode_dense(&[], 4, -1, f32::from_bits),
            Err(WireError::InsufficientData)
        );
        assert_eq!(
            decode_dense(&[0, 1, 0], 4, -1, f32::from_bits),
            Err(WireError::InsufficientData)
        );
        assert_eq!(
            decode_dense(&[0, 0, 0, 0], 4, -1, f32::from_bits),
            Err(WireError::Empty)
        );
        assert_eq!(
            decode_dense(&[0xFF, 0xFF, 0, 0], 4, -1, f32::from_bits),
            Err(WireError::Empty)
        );
        assert_eq!(
            decode_dense(&encode_dense(&vec![0; 16001], 4), 4, -1, f32::from_bits),
            Err(WireError::TooManyDimensions)
        );
        // The declared dimensions are checked before the reserved field and the length.
        assert_eq!(
            decode_dense(&[0, 2, 0, 1], 4, 3, f32::from_bits),
            Err(WireError::ExpectedDimensions { typmod: 3, dim: 2 })
        );
        assert_eq!(
            decode_dense(&[0, 2, 0, 1], 4, -1, f32::from_bits),
            Err(WireError::Unused(1))
        );
        assert_eq!(
            decode_dense(&[0, 2, 0, 0, 1], 4, -1, f32::from_bits),
            Err(WireError::Length {
                count: 2,
                remaining: 1
            })
        );
        let ok = encode_dense(&[f(1.5), f(-2.0)], 4);
        assert_eq!(
            decode_dense(&ok, 4, 2, f32::from_bits),
            Ok(vec![f(1.5), f(-2.0)])
        );
        assert_eq!(
            decode_dense(&encode_dense(&[f(f32::NAN)], 4), 4, -1, f32::from_bits),
            Err(WireError::Element(LiteralError::NaN))
        );
        let inf = half::f16::INFINITY.to_bits() as u32;
        assert_eq!(
            decode_dense(&encode_dense(&[inf], 2), 2, -1, f16_widen),
            Err(WireError::Element(LiteralError::Infinite))
        );
    }

    #[test]
    fn sparse_errors_in_pgvectors_order() {
        let header = |dim: i32, nnz: i32, unused: i32| {
            [dim, nnz, unused]
                .iter()
                .flat_map(|x| x.to_be_bytes())
                .collect::<Vec<u8>>()
        };
        assert_eq!(
            decode_sparse(&header(3, 0, 0)[..11], -1),
            Err(WireError::InsufficientData)
        );
        assert_eq!(
            decode_sparse(&header(0, 0, 0), -1),
            Err(WireError::Sparse(SparseError::EmptyDimensions))
        );
        assert_eq!(
            decode_sparse(&header(3, -1, 0), -1),
            Err(WireError::Sparse(SparseError::NegativeElementCount))
        );
        assert_eq!(
            decode_sparse(&header(3, 4, 0), -1),
            Err(WireError::Sparse(SparseError::MoreElementsThanDimensions))
        );
        assert_eq!(
            decode_sparse(&header(3, 0, 0), 4),
            Err(WireError::ExpectedDimensions { typmod: 4, dim: 3 })
        );
        assert_eq!(
            decode_sparse(&header(3, 0, 7), -1),
            Err(WireError::Unused(7))
        );
        assert_eq!(
            decode_sparse(&header(3, 1, 0), -1),
            Err(WireError::Length {
                count: 1,
                remaining: 0
            })
        );
        let one = |index: i32, value: f32| Sparse {
            dim: 3,
            indices: vec![index],
            values: vec![value],
        };
        assert_eq!(
            decode_sparse(&encode_sparse(&one(3, 1.0)), -1),
            Err(WireError::Sparse(SparseError::IndexOutOfBounds))
        );
        assert_eq!(
            decode_sparse(&encode_sparse(&one(0, 0.0)), -1),
            Err(WireError::Sparse(SparseError::ZeroInBinary))
        );
        assert_eq!(
            decode_sparse(&encode_sparse(&one(0, f32::INFINITY)), -1),
            Err(WireError::Element(LiteralError::Infinite))
        );
        let two = Sparse {
            dim: 3,
            indices: vec![2, 0],
            values: vec![1.0, 2.0],
        };
        assert_eq!(
            decode_sparse(&encode_sparse(&two), -1),
            Err(WireError::Sparse(SparseError::NotAscending))
        );
        assert_eq!(
            decode_sparse(&encode_sparse(&one(1, -2.5)), 3),
            Ok(one(1, -2.5))
        );
    }

    #[test]
    fn typmods() {
        assert_eq!(typmod(&[], 16000), Err(TypmodError::Count));
        assert_eq!(typmod(&[3, 4], 16000), Err(TypmodError::Count));
        assert_eq!(typmod(&[0], 16000), Err(TypmodError::BelowOne));
        assert_eq!(typmod(&[i32::MIN], 16000), Err(TypmodError::BelowOne));
        assert_eq!(typmod(&[16001], 16000), Err(TypmodError::AboveMax));
        assert_eq!(typmod(&[16000], 16000), Ok(16000));
        assert_eq!(
            typmod(&[i32::MAX], 1_000_000_000),
            Err(TypmodError::AboveMax)
        );
        assert_eq!(
            TypmodError::AboveMax.message("halfvec", 16000),
            "dimensions for type halfvec cannot exceed 16000"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn dense_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), typmod in -2i32..20, half in any::<bool>()) {
            let _ = if half { decode_dense(&bytes, 2, typmod, f16_widen) } else { decode_dense(&bytes, 4, typmod, f32::from_bits) };
        }

        #[test]
        fn dense_header_with_random_tail_never_panics(dim in any::<i16>(), unused in -1i16..2, tail in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut bytes = [dim.to_be_bytes(), unused.to_be_bytes()].concat();
            bytes.extend_from_slice(&tail);
            let _ = decode_dense(&bytes, 4, -1, f32::from_bits);
            let _ = decode_dense(&bytes, 2, -1, f16_widen);
        }

        #[test]
        fn dense_round_trips(values in proptest::collection::vec(-1e30f32..1e30, 1..100)) {
            let bits: Vec<u32> = values.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(decode_dense(&encode_dense(&bits, 4), 4, values.len() as i32, f32::from_bits), Ok(bits));
            let halves: Vec<u32> = values.iter().map(|&x| half::f16::from_f32(x.clamp(-65504.0, 65504.0)).to_bits() as u32).collect();
            prop_assert_eq!(decode_dense(&encode_dense(&halves, 2), 2, -1, f16_widen), Ok(halves));
        }

        #[test]
        fn sparse_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..96), typmod in -2i32..20) {
            let _ = decode_sparse(&bytes, typmod);
        }

        #[test]
        fn sparse_header_with_random_tail_never_panics(dim in -2i32..40, nnz in -2i32..6, tail in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut bytes: Vec<u8> = [dim, nnz, 0].iter().flat_map(|x| x.to_be_bytes()).collect();
            bytes.extend_from_slice(&tail);
            let _ = decode_sparse(&bytes, -1);
        }

        #[test]
        fn sparse_round_trips(dim in 1i32..1000, picks in proptest::collection::btree_map(0i32..1000, -1e6f32..1e6, 0..40)) {
            let picks: Vec<(i32, f32)> = picks.into_iter().filter(|&(i, x)| i < dim && x != 0.0).collect();
            let value = Sparse { dim, indices: picks.iter().map(|p| p.0).collect(), values: picks.iter().map(|p| p.1).collect() };
            prop_assert_eq!(decode_sparse(&encode_sparse(&value), dim), Ok(value));
        }

        #[test]
        fn typmod_accepts_exactly_one_in_range(modifiers in proptest::collection::vec(any::<i32>(), 0..3), max in 1i64..2_000_000_000) {
            match typmod(&modifiers, max) {
                Ok(dim) => prop_assert!(modifiers == [dim] && dim >= 1 && dim as i64 <= max),
                Err(TypmodError::Count) => prop_assert!(modifiers.len() != 1),
                Err(_) => prop_assert!(modifiers.len() == 1 && (modifiers[0] < 1 || modifiers[0] as i64 > max)),
            }
        }
    }
}
