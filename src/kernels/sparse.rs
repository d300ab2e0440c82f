//! Distances between sparse vectors: ascending index lists with their
//! values, walked together. And the packing that lets the index hold a
//! sparse vector where it holds dense ones: one float4 slice, `[nnz, nnz
//! indices, nnz values]`, with the count and the indices stored as the bit
//! patterns of float4s (an index below 2^31 is never a NaN pattern, so the
//! slice copies and compares exactly). Pure.

/// A sparse vector's indices (ascending) and values.
pub type Side<'a> = (&'a [i32], &'a [f32]);

/// Walks the union of two index lists in order: (index, value in a, value in
/// b), zero where one has no element.
fn merged<'a>(
    (ai, av): Side<'a>,
    (bi, bv): Side<'a>,
) -> impl Iterator<Item = (i32, f32, f32)> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (ai.get(i), bi.get(j)) {
            (Some(&x), Some(&y)) if x == y => (x, av[i], bv[j], 1, 1),
            (Some(&x), Some(&y)) if x < y => (x, av[i], 0.0, 1, 0),
            (Some(_), Some(&y)) => (y, 0.0, bv[j], 0, 1),
            (Some(&x), None) => (x, av[i], 0.0, 1, 0),
            (None, Some(&y)) => (y, 0.0, bv[j], 0, 1),
            (None, None) => return None,
        };
        i += next.3;
        j += next.4;
        Some((next.0, next.1, next.2))
    })
}

// Sums start from +0: `Iterator::sum` of floats starts from -0, which two
// empty vectors would give as their distance (pgvector gives 0).

pub fn l2_squared(a: Side, b: Side) -> f32 {
    merged(a, b).fold(0.0, |sum, (_, x, y)| sum + (x - y) * (x - y))
}

pub fn dot(a: Side, b: Side) -> f32 {
    merged(a, b).fold(0.0, |sum, (_, x, y)| sum + x * y)
}

pub fn l1(a: Side, b: Side) -> f32 {
    merged(a, b).fold(0.0, |sum, (_, x, y)| sum + (x - y).abs())
}

/// (a·b, a·a, b·b), for cosine.
pub fn cosine_parts(a: Side, b: Side) -> (f32, f32, f32) {
    merged(a, b).fold((0.0, 0.0, 0.0), |(ab, aa, bb), (_, x, y)| {
        (ab + x * y, aa + x * x, bb + y * y)
    })
}

/// Positions walked together, for ordering: (index, a's value, b's value).
pub fn merged_elements<'a>(a: Side<'a>, b: Side<'a>) -> impl Iterator<Item = (i32, f32, f32)> + 'a {
    merged(a, b)
}

/// Floats a packed sparse vector of `nnz` elements takes.
pub fn packed_len(nnz: usize) -> usize {
    1 + 2 * nnz
}

/// Packs into `out`, padded with zeros to `width` floats (the index's fixed
/// slot; the count says where the vector ends).
pub fn pack(indices: &[i32], values: &[f32], width: usize, out: &mut Vec<f32>) {
    debug_assert!(indices.iter().all(|&i| i >= 0));
    out.clear();
    out.push(f32::from_bits(indices.len() as u32));
    out.extend(indices.iter().map(|&i| f32::from_bits(i as u32)));
    out.extend_from_slice(values);
    out.resize(width.max(out.len()), 0.0);
}

/// The indices and values of a packed vector (padding ignored); None if the
/// slice is shorter than its count says.
pub fn unpack(packed: &[f32]) -> Option<Side<'_>> {
    let nnz = packed.first()?.to_bits() as usize;
    let body = packed.get(1..packed_len(nnz))?;
    let (indices, values) = body.split_at(nnz);
    // SAFETY: i32 and f32 have the same size and alignment, and any bits are an i32.
    let indices = unsafe { std::slice::from_raw_parts(indices.as_ptr().cast::<i32>(), nnz) };
    Some((indices, values))
}

/// The packed vector without its padding.
pub fn trimmed(packed: &[f32]) -> &[f32] {
    let nnz = packed.first().map_or(0, |x| x.to_bits() as usize);
    &packed[..packed_len(nnz).min(packed.len())]
}

/// Runs `f` on two packed vectors; one that does not unpack counts as empty
/// (the index checks what it stores).
fn with_both<R>(a: &[f32], b: &[f32], f: impl FnOnce(Side, Side) -> R) -> R {
    let empty: Side = (&[], &[]);
    f(unpack(a).unwrap_or(empty), unpack(b).unwrap_or(empty))
}

/// The distances the index orders packed vectors by (see `am::distance_for`).
pub fn packed_l2_squared(a: &[f32], b: &[f32]) -> f32 {
    with_both(a, b, l2_squared)
}

pub fn packed_negative_dot(a: &[f32], b: &[f32]) -> f32 {
    with_both(a, b, |x, y| -dot(x, y))
}

pub fn packed_l1(a: &[f32], b: &[f32]) -> f32 {
    with_both(a, b, l1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar;
    use rand::{Rng, SeedableRng};

    fn sparse_of(dense: &[f32]) -> (Vec<i32>, Vec<f32>) {
        let indices: Vec<i32> = (0..dense.len() as i32)
            .filter(|&i| dense[i as usize] != 0.0)
            .collect();
        let values = indices.iter().map(|&i| dense[i as usize]).collect();
        (indices, values)
    }

    #[test]
    fn distances_match_the_dense_vectors_packed_or_not() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        for _ in 0..300 {
            let n = rng.gen_range(1..60);
            let mut dense = || -> Vec<f32> {
                (0..n)
                    .map(|_| {
                        if rng.gen_bool(0.3) {
                            rng.gen_range(-3i32..4) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect()
            };
            let (da, db) = (dense(), dense());
            let ((ai, av), (bi, bv)) = (sparse_of(&da), sparse_of(&db));
            let (a, b) = ((&ai[..], &av[..]), (&bi[..], &bv[..]));
            assert_eq!(l2_squared(a, b), scalar::l2_squared(&da, &db));
            assert_eq!(dot(a, b), scalar::dot(&da, &db));
            assert_eq!(l1(a, b), scalar::l1(&da, &db));
            assert_eq!(cosine_parts(a, b), scalar::cosine_parts(&da, &db));
            let (mut pa, mut pb) = (Vec::new(), Vec::new());
            pack(&ai, &av, 121, &mut pa);
            pack(&bi, &bv, 0, &mut pb);
            assert_eq!(pa.len(), 121);
            assert_eq!(pb.len(), packed_len(bi.len()));
            assert_eq!(unpack(&pa), Some(a));
            assert_eq!(trimmed(&pa), &pb_of(&ai, &av)[..]);
            assert_eq!(packed_l2_squared(&pa, &pb), l2_squared(a, b));
            assert_eq!(packed_negative_dot(&pa, &pb), -dot(a, b));
            assert_eq!(packed_l1(&pa, &pb), l1(a, b));
        }
    }

    fn pb_of(indices: &[i32], values: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        pack(indices, values, 0, &mut out);
        out
    }

    #[test]
    fn packed_indices_are_exact_and_never_nan() {
        let indices = [0, 1, 16_777_217, 999_999_999];
        let mut packed = Vec::new();
        pack(&indices, &[1.0, 2.0, 3.0, 4.0], 0, &mut packed);
        assert!(packed.iter().all(|x| !x.is_nan()));
        assert_eq!(unpack(&packed).unwrap().0, &indices);
        // A copy compares equal, as duplicate detection needs.
        assert_eq!(packed.clone(), packed);
        assert_eq!(unpack(&packed[..3]), None);
    }
}
