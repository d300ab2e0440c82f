//! Distances between `halfvec` values. Elements are widened to float4 a
//! block at a time (the `half` crate uses F16C for that when the CPU has it)
//! and the block goes through the float4 kernel of the CPU's best
//! instruction set, so a halfvec distance costs a conversion pass more than a
//! vector distance, with no allocation. Pure: unit-tested against scalar.

use half::f16;
use half::slice::HalfFloatSliceExt;

/// Elements widened per step: 1 KB of floats on the stack per operand.
const BLOCK: usize = 256;

/// Calls `f` on each pair of widened blocks of `a` and `b` (equal lengths).
fn for_blocks(a: &[f16], b: &[f16], mut f: impl FnMut(&[f32], &[f32])) {
    debug_assert_eq!(a.len(), b.len());
    let (mut wide_a, mut wide_b) = ([0f32; BLOCK], [0f32; BLOCK]);
    for (block_a, block_b) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        let n = block_a.len();
        block_a.convert_to_f32_slice(&mut wide_a[..n]);
        block_b.convert_to_f32_slice(&mut wide_b[..n]);
        f(&wide_a[..n], &wide_b[..n]);
    }
}

fn sum_over_blocks(a: &[f16], b: &[f16], kernel: fn(&[f32], &[f32]) -> f32) -> f32 {
    let mut sum = 0.0;
    for_blocks(a, b, |x, y| sum += kernel(x, y));
    sum
}

pub fn l2_squared(a: &[f16], b: &[f16]) -> f32 {
    sum_over_blocks(a, b, super::best().l2_squared)
}

pub fn dot(a: &[f16], b: &[f16]) -> f32 {
    sum_over_blocks(a, b, super::best().dot)
}

pub fn l1(a: &[f16], b: &[f16]) -> f32 {
    sum_over_blocks(a, b, super::best().l1)
}

/// (a·b, a·a, b·b).
pub fn cosine_parts(a: &[f16], b: &[f16]) -> (f32, f32, f32) {
    let cosine_parts = super::best().cosine_parts;
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for_blocks(a, b, |x, y| {
        let (xy, xx, yy) = cosine_parts(x, y);
        ab += xy;
        aa += xx;
        bb += yy;
    });
    (ab, aa, bb)
}

pub fn norm(a: &[f16]) -> f64 {
    a.iter()
        .map(|&x| x.to_f64() * x.to_f64())
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::scalar;
    use rand::{Rng, SeedableRng};

    fn halves(rng: &mut rand::rngs::StdRng, n: usize) -> Vec<f16> {
        (0..n)
            .map(|_| f16::from_f32(rng.gen_range(-2.0f32..2.0)))
            .collect()
    }

    fn wide(a: &[f16]) -> Vec<f32> {
        a.iter().map(|x| x.to_f32()).collect()
    }

    #[test]
    fn every_kernel_matches_scalar_over_block_boundaries() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for n in [1, 2, 7, 8, 15, 16, 17, 255, 256, 257, 511, 513, 3072] {
            let (a, b) = (halves(&mut rng, n), halves(&mut rng, n));
            let (wa, wb) = (wide(&a), wide(&b));
            let tolerance = 1e-5 * n as f32 + 1e-5;
            assert!(
                (l2_squared(&a, &b) - scalar::l2_squared(&wa, &wb)).abs() <= tolerance * 4.0,
                "l2 at {n}"
            );
            assert!(
                (dot(&a, &b) - scalar::dot(&wa, &wb)).abs() <= tolerance * 4.0,
                "dot at {n}"
            );
            assert!(
                (l1(&a, &b) - scalar::l1(&wa, &wb)).abs() <= tolerance * 2.0,
                "l1 at {n}"
            );
            let (ab, aa, bb) = cosine_parts(&a, &b);
            let (sab, saa, sbb) = scalar::cosine_parts(&wa, &wb);
            assert!(
                (ab - sab).abs() <= tolerance * 4.0
                    && (aa - saa).abs() <= tolerance * 4.0
                    && (bb - sbb).abs() <= tolerance * 4.0
            );
            let expected_norm = wa.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            assert!((norm(&a) - expected_norm).abs() < 1e-9 * n as f64);
        }
    }
}
