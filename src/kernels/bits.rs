//! Distances between bit strings (`bit(n)`), eight bytes at a time. Pure.

fn words(a: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let chunks = a.chunks_exact(8);
    let tail = chunks.remainder();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    chunks
        .map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")))
        .chain((!tail.is_empty()).then(|| u64::from_ne_bytes(last)))
}

/// Bits that differ.
pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    words(a)
        .zip(words(b))
        .map(|(x, y)| (x ^ y).count_ones() as u64)
        .sum()
}

/// 1 - |a ∧ b| / |a ∨ b|; 1 when no bit is set in both, as pgvector.
pub fn jaccard(a: &[u8], b: &[u8]) -> f64 {
    let (mut both, mut either) = (0u64, 0u64);
    for (x, y) in words(a).zip(words(b)) {
        both += (x & y).count_ones() as u64;
        either += (x | y).count_ones() as u64;
    }
    if both == 0 {
        1.0
    } else {
        1.0 - both as f64 / either as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn bit(a: &[u8], i: usize) -> bool {
        a[i / 8] & (0x80 >> (i % 8)) != 0
    }

    #[test]
    fn match_bit_by_bit_counts() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for bytes in [1, 3, 7, 8, 9, 16, 17, 100, 8000] {
            let a: Vec<u8> = (0..bytes).map(|_| rng.gen()).collect();
            let b: Vec<u8> = (0..bytes).map(|_| rng.gen()).collect();
            let bits = 8 * bytes;
            let differ = (0..bits).filter(|&i| bit(&a, i) != bit(&b, i)).count() as u64;
            let both = (0..bits).filter(|&i| bit(&a, i) && bit(&b, i)).count() as f64;
            let either = (0..bits).filter(|&i| bit(&a, i) || bit(&b, i)).count() as f64;
            assert_eq!(hamming(&a, &b), differ);
            assert!((jaccard(&a, &b) - (1.0 - both / either)).abs() < 1e-12);
        }
        assert_eq!(jaccard(&[0b1010_0000], &[0b0101_0000]), 1.0);
        assert_eq!(jaccard(&[0], &[0]), 1.0);
        assert_eq!(jaccard(&[0xff], &[0xff]), 0.0);
        assert_eq!(hamming(&[0xff, 0], &[0, 0xff]), 16);
    }
}
