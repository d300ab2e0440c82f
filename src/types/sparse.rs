//! The `sparsevec` value without pgrx: its text form `{1:1.5,3:2}/5`
//! (1-based indices in text, 0-based in storage), the checks pgvector makes
//! on its elements, and its distances and order. Unit-tested on its own; the
//! SQL glue (`sparsevec.rs`) maps `SparseError` to SQLSTATEs.

use super::literal::{self, LiteralError};

/// Most dimensions and most stored (non-zero) elements, as pgvector.
pub const MAX_DIM: i64 = 1_000_000_000;
pub const MAX_NNZ: usize = 16_000;

#[derive(Debug, PartialEq)]
pub enum SparseError {
    /// Not of the form `{i:x, ...}/dim`; the detail says what, if anything specific.
    Malformed(Option<&'static str>),
    /// An element's value: NaN, infinite or out of float4's range.
    Element(LiteralError),
    TooManyElements,
    NegativeElementCount,
    MoreElementsThanDimensions,
    EmptyDimensions,
    TooManyDimensions,
    IndexOutOfBounds,
    NotAscending,
    Duplicate,
    ZeroInBinary,
}

/// Indices (0-based, ascending, distinct, < dim) and their non-zero values.
#[derive(Debug, PartialEq, Clone, Default)]
pub struct Sparse {
    pub dim: i32,
    pub indices: Vec<i32>,
    pub values: Vec<f32>,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// The number at the start of `bytes[pos..]` as strtol reads it, clamped to i32.
fn read_integer(text: &str, pos: &mut usize) -> Option<i64> {
    let bytes = text.as_bytes();
    let start = *pos;
    if matches!(bytes.get(*pos), Some(b'+' | b'-')) {
        *pos += 1;
    }
    let digits = *pos;
    while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
        *pos += 1;
    }
    if *pos == digits {
        *pos = start;
        return None;
    }
    // Past i32 the value only has to stay out of range, as pgvector clamps it.
    let value = text[start..*pos]
        .parse::<i64>()
        .unwrap_or(if bytes[start] == b'-' {
            i64::MIN
        } else {
            i64::MAX
        });
    Some(value.clamp(i32::MIN as i64, i32::MAX as i64))
}

/// Parses `{index:value, ...}/dim`. Zero values are dropped; indices are
/// sorted; a repeated index is an error.
pub fn parse(text: &str) -> Result<Sparse, SparseError> {
    use SparseError::*;
    if text.bytes().filter(|&c| c == b',').count() + 1 > MAX_NNZ {
        return Err(TooManyElements);
    }
    let bytes = text.as_bytes();
    let mut pos = 0;
    let skip_space = |pos: &mut usize| {
        while *pos < bytes.len() && is_space(bytes[*pos]) {
            *pos += 1;
        }
    };
    skip_space(&mut pos);
    if bytes.get(pos) != Some(&b'{') {
        return Err(Malformed(Some("Vector contents must start with \"{\".")));
    }
    pos += 1;
    skip_space(&mut pos);
    let mut elements: Vec<(i64, f32)> = Vec::new();
    if bytes.get(pos) == Some(&b'}') {
        pos += 1;
    } else {
        loop {
            skip_space(&mut pos);
            let index = read_integer(text, &mut pos).ok_or(Malformed(None))?;
            skip_space(&mut pos);
            if bytes.get(pos) != Some(&b':') {
                return Err(Malformed(None));
            }
            pos += 1;
            skip_space(&mut pos);
            let start = pos;
            while pos < bytes.len()
                && !is_space(bytes[pos])
                && bytes[pos] != b','
                && bytes[pos] != b'}'
            {
                pos += 1;
            }
            let token = text
                .get(start..pos)
                .filter(|t| !t.is_empty())
                .ok_or(Malformed(None))?;
            let value = literal::parse_element(token).map_err(|e| match e {
                LiteralError::Malformed(_) => Malformed(None),
                other => Element(other),
            })?;
            // pgvector (strtof) rejects a value that underflows to zero, which
            // would otherwise vanish from the vector; vector keeps it as zero.
            if value == 0.0 && !literal::spells_zero(token) {
                return Err(Element(LiteralError::OutOfRange(token.to_string())));
            }
            if value != 0.0 {
                elements.push((index - 1, value));
            }
            skip_space(&mut pos);
            match bytes.get(pos) {
                Some(b',') => pos += 1,
                Some(b'}') => {
                    pos += 1;
                    break;
                }
                _ => return Err(Malformed(None)),
            }
        }
    }
    skip_space(&mut pos);
    if bytes.get(pos) != Some(&b'/') {
        return Err(Malformed(Some("Unexpected end of input.")));
    }
    pos += 1;
    skip_space(&mut pos);
    let dim = read_integer(text, &mut pos).ok_or(Malformed(None))?;
    skip_space(&mut pos);
    if pos != bytes.len() {
        return Err(Malformed(Some("Junk after closing.")));
    }
    check_dim(dim)?;
    elements.sort_by_key(|&(index, _)| index);
    let sparse = Sparse {
        dim: dim as i32,
        indices: elements
            .iter()
            .map(|&(index, _)| index.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
            .collect(),
        values: elements.iter().map(|&(_, value)| value).collect(),
    };
    check_indices(&sparse.indices, sparse.dim)?;
    Ok(sparse)
}

pub fn check_dim(dim: i64) -> Result<(), SparseError> {
    if dim < 1 {
        Err(SparseError::EmptyDimensions)
    } else if dim > MAX_DIM {
        Err(SparseError::TooManyDimensions)
    } else {
        Ok(())
    }
}

pub fn check_nnz(nnz: i64, dim: i64) -> Result<(), SparseError> {
    if nnz < 0 {
        Err(SparseError::NegativeElementCount)
    } else if nnz as usize > MAX_NNZ {
        Err(SparseError::TooManyElements)
    } else if nnz > dim {
        Err(SparseError::MoreElementsThanDimensions)
    } else {
        Ok(())
    }
}

/// Indices in bounds, ascending and distinct.
pub fn check_indices(indices: &[i32], dim: i32) -> Result<(), SparseError> {
    for (i, &index) in indices.iter().enumerate() {
        if index < 0 || index >= dim {
            return Err(SparseError::IndexOutOfBounds);
        }
        if i > 0 && index < indices[i - 1] {
            return Err(SparseError::NotAscending);
        }
        if i > 0 && index == indices[i - 1] {
            return Err(SparseError::Duplicate);
        }
    }
    Ok(())
}

/// `{1:1.5,3:2}/5`, as pgvector prints it.
pub fn format(indices: &[i32], values: &[f32], dim: i32) -> String {
    let mut out = String::with_capacity(indices.len() * 14 + 16);
    out.push('{');
    for (i, (&index, &value)) in indices.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&(index as i64 + 1).to_string());
        out.push(':');
        literal::write_float(&mut out, value);
    }
    out.push_str("}/");
    out.push_str(&dim.to_string());
    out
}

pub use crate::kernels::sparse::{cosine_parts, dot, l1, l2_squared, Side};

/// From +0, so that an empty vector's norm is 0, not -0 (`Iterator::sum`).
pub fn norm(values: &[f32]) -> f64 {
    values
        .iter()
        .fold(0.0, |sum, &x| sum + x as f64 * x as f64)
        .sqrt()
}

/// As dense vectors, element by element over the positions both have,
/// then the one with fewer dimensions first.
pub fn compare(a: Side, a_dim: i32, b: Side, b_dim: i32) -> std::cmp::Ordering {
    let common = a_dim.min(b_dim);
    for (index, x, y) in crate::kernels::sparse::merged_elements(a, b) {
        if index >= common {
            break;
        }
        match x.partial_cmp(&y) {
            Some(std::cmp::Ordering::Equal) | None => continue,
            Some(order) => return order,
        }
    }
    a_dim.cmp(&b_dim)
}

/// The non-zero elements of a dense vector.
pub fn from_dense(values: &[f32]) -> Sparse {
    let mut sparse = Sparse {
        dim: values.len() as i32,
        ..Default::default()
    };
    for (i, &x) in values.iter().enumerate() {
        if x != 0.0 {
            sparse.indices.push(i as i32);
            sparse.values.push(x);
        }
    }
    sparse
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn parses_sorts_and_drops_zeros() {
        let s = parse(" { 3:2, 1:1.5 ,5:0 } / 5 ").unwrap();
        assert_eq!(
            s,
            Sparse {
                dim: 5,
                indices: vec![0, 2],
                values: vec![1.5, 2.0]
            }
        );
        assert_eq!(format(&s.indices, &s.values, s.dim), "{1:1.5,3:2}/5");
        assert_eq!(
            parse("{}/3").unwrap(),
            Sparse {
                dim: 3,
                indices: vec![],
                values: vec![]
            }
        );
        assert_eq!(format(&[], &[], 3), "{}/3");
    }

    #[test]
    fn a_value_that_underflows_to_zero_is_out_of_range_not_dropped() {
        let out_of_range = |t: &str| Err(SparseError::Element(LiteralError::OutOfRange(t.into())));
        assert_eq!(parse("{1:1e-46,2:1}/2"), out_of_range("1e-46"));
        assert_eq!(parse("{1:-1e-300}/2"), out_of_range("-1e-300"));
        // Zero itself is dropped, as always; a subnormal float4 is kept.
        assert_eq!(
            parse("{1:0e5,2:-0.0}/2").unwrap().indices,
            Vec::<i32>::new()
        );
        assert_eq!(parse("{1:1e-45}/2").unwrap().values, vec![1e-45]);
    }

    #[test]
    fn rejects_what_pgvector_rejects() {
        use SparseError::*;
        assert_eq!(parse("{1:1,1:2}/3"), Err(Duplicate));
        assert_eq!(parse("{0:1}/3"), Err(IndexOutOfBounds));
        assert_eq!(parse("{4:1}/3"), Err(IndexOutOfBounds));
        assert_eq!(parse("{99999999999:1}/3"), Err(IndexOutOfBounds));
        assert_eq!(parse("{1:1}/0"), Err(EmptyDimensions));
        assert_eq!(parse("{1:1}/1000000001"), Err(TooManyDimensions));
        assert!(matches!(parse("[1,2]"), Err(Malformed(Some(_)))));
        assert!(matches!(parse("{1:1"), Err(Malformed(None))));
        assert!(matches!(parse("{1:1}"), Err(Malformed(Some(_)))));
        assert!(matches!(parse("{1:1}/3x"), Err(Malformed(Some(_)))));
        assert!(matches!(parse("{1 1}/3"), Err(Malformed(None))));
        assert!(matches!(parse("{a:1}/3"), Err(Malformed(None))));
        assert!(matches!(parse("{1:}/3"), Err(Malformed(None))));
        assert_eq!(parse("{1:nan}/3"), Err(Element(LiteralError::NaN)));
        assert_eq!(
            parse("{1:1e99}/3"),
            Err(Element(LiteralError::OutOfRange("1e99".into())))
        );
        let many = format!(
            "{{{}}}/20000",
            (1..=16001)
                .map(|i| format!("{i}:1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(parse(&many), Err(TooManyElements));
        assert_eq!(check_indices(&[2, 1], 3), Err(NotAscending));
        assert_eq!(check_nnz(4, 3), Err(MoreElementsThanDimensions));
        assert_eq!(check_nnz(-1, 3), Err(NegativeElementCount));
    }

    #[test]
    fn distances_and_order_match_the_dense_vectors() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for _ in 0..200 {
            let n = rng.gen_range(1..40);
            let dense = |rng: &mut rand::rngs::StdRng| -> Vec<f32> {
                (0..n)
                    .map(|_| {
                        if rng.gen_bool(0.3) {
                            rng.gen_range(-2i32..3) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect()
            };
            let (da, db) = (dense(&mut rng), dense(&mut rng));
            let (sa, sb) = (from_dense(&da), from_dense(&db));
            let (a, b) = (
                (&sa.indices[..], &sa.values[..]),
                (&sb.indices[..], &sb.values[..]),
            );
            use crate::kernels::scalar;
            assert_eq!(l2_squared(a, b), scalar::l2_squared(&da, &db));
            assert_eq!(dot(a, b), scalar::dot(&da, &db));
            assert_eq!(l1(a, b), scalar::l1(&da, &db));
            assert_eq!(cosine_parts(a, b), scalar::cosine_parts(&da, &db));
            let dense_order = da.partial_cmp(&db).unwrap();
            assert_eq!(compare(a, n, b, n), dense_order, "{da:?} {db:?}");
        }
        // Fewer dimensions first when the common part is equal.
        let short = from_dense(&[1.0, 0.0]);
        let long = from_dense(&[1.0, 0.0, 0.0]);
        let (s, l) = (
            (&short.indices[..], &short.values[..]),
            (&long.indices[..], &long.values[..]),
        );
        assert_eq!(compare(s, 2, l, 3), std::cmp::Ordering::Less);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            ProptestConfig {
                cases: 256,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        fn sparseish() -> impl Strategy<Value = String> {
            let pieces = prop::sample::select(vec![
                "{",
                "}",
                "/",
                ":",
                ",",
                " ",
                "1",
                "2",
                "-",
                "+",
                ".",
                "e",
                "0",
                "9",
                "nan",
                "inf",
                "1e39",
                "99999999999",
                "x",
            ]);
            proptest::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
        }

        /// A valid sparse vector: ascending distinct in-bounds indices, non-zero finite values.
        fn sparse_vector() -> impl Strategy<Value = Sparse> {
            (
                1i32..1_000_000_000,
                proptest::collection::btree_map(0i32..2000, -1e20f32..1e20, 0..30),
            )
                .prop_map(|(dim, elements)| {
                    let elements: Vec<(i32, f32)> = elements
                        .into_iter()
                        .filter(|&(i, x)| i < dim && x != 0.0)
                        .collect();
                    Sparse {
                        dim,
                        indices: elements.iter().map(|e| e.0).collect(),
                        values: elements.iter().map(|e| e.1).collect(),
                    }
                })
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn parse_never_panics_and_accepts_only_valid_vectors(text in prop_oneof![any::<String>(), sparseish()]) {
                if let Ok(s) = parse(&text) {
                    prop_assert!(check_dim(s.dim as i64).is_ok());
                    prop_assert_eq!(check_indices(&s.indices, s.dim), Ok(()));
                    prop_assert!(s.values.iter().all(|&x| x.is_finite() && x != 0.0));
                    prop_assert_eq!(s.indices.len(), s.values.len());
                }
            }

            #[test]
            fn sparse_text_round_trips(value in sparse_vector()) {
                let text = format(&value.indices, &value.values, value.dim);
                prop_assert_eq!(parse(&text), Ok(value), "{}", text);
            }

            #[test]
            fn element_order_in_text_does_not_matter(value in sparse_vector()) {
                let mut elements: Vec<String> = value.indices.iter().zip(&value.values).map(|(i, x)| format!("{}:{x}", i + 1)).collect();
                elements.reverse();
                prop_assert_eq!(parse(&format!("{{{}}}/{}", elements.join(","), value.dim)), Ok(value));
            }
        }
    }
}
