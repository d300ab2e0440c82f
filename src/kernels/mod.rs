//! Distance kernels over f32 slices. Pure: no pgrx.
//!
//! The best implementation for this CPU (AVX-512, AVX2+FMA, or scalar) is
//! picked once, on first use, and cached as plain function pointers so a hot
//! loop can copy the table once and call through it.

pub mod bits;
pub mod half;
pub mod scalar;
pub mod sparse;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::sync::OnceLock;

type Pair = fn(&[f32], &[f32]) -> f32;
type Triple = fn(&[f32], &[f32]) -> (f32, f32, f32);

/// One implementation of every kernel, all for the same instruction set.
#[derive(Clone, Copy)]
pub struct Kernels {
    pub name: &'static str,
    pub l2_squared: Pair,
    pub dot: Pair,
    /// -dot: what inner product and cosine indexes order by.
    pub negative_dot: Pair,
    pub l1: Pair,
    pub cosine_parts: Triple,
}

pub const SCALAR: Kernels = Kernels {
    name: "scalar",
    l2_squared: scalar::l2_squared,
    dot: scalar::dot,
    negative_dot: |a, b| -scalar::dot(a, b),
    l1: scalar::l1,
    cosine_parts: scalar::cosine_parts,
};

// Safe wrappers: only reachable through AVX2 and AVX512, private tables that
// `supported` hands out only after detection.
#[cfg(target_arch = "x86_64")]
mod checked {
    use super::x86;
    macro_rules! wrap {
        ($name:ident, $inner:path, $ret:ty) => {
            pub fn $name(a: &[f32], b: &[f32]) -> $ret {
                // SAFETY: this wrapper is only reachable through its private
                // table, which `supported` returns only when the CPU has the
                // feature; the kernel needs nothing of the slices.
                unsafe { $inner(a, b) }
            }
        };
    }
    wrap!(l2_squared_avx2, x86::l2_squared_avx2, f32);
    wrap!(dot_avx2, x86::dot_avx2, f32);
    pub fn negative_dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        -dot_avx2(a, b)
    }
    wrap!(l1_avx2, x86::l1_avx2, f32);
    wrap!(cosine_parts_avx2, x86::cosine_parts_avx2, (f32, f32, f32));
    wrap!(l2_squared_avx512, x86::l2_squared_avx512, f32);
    wrap!(dot_avx512, x86::dot_avx512, f32);
    pub fn negative_dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        -dot_avx512(a, b)
    }
    wrap!(l1_avx512, x86::l1_avx512, f32);
    wrap!(
        cosine_parts_avx512,
        x86::cosine_parts_avx512,
        (f32, f32, f32)
    );
}

#[cfg(target_arch = "x86_64")]
const AVX2: Kernels = Kernels {
    name: "avx2+fma",
    l2_squared: checked::l2_squared_avx2,
    dot: checked::dot_avx2,
    negative_dot: checked::negative_dot_avx2,
    l1: checked::l1_avx2,
    cosine_parts: checked::cosine_parts_avx2,
};

#[cfg(target_arch = "x86_64")]
const AVX512: Kernels = Kernels {
    name: "avx512f",
    l2_squared: checked::l2_squared_avx512,
    dot: checked::dot_avx512,
    negative_dot: checked::negative_dot_avx512,
    l1: checked::l1_avx512,
    cosine_parts: checked::cosine_parts_avx512,
};

/// Every kernel table this CPU can run, best last.
pub fn supported() -> Vec<Kernels> {
    #[allow(unused_mut)]
    let mut tables = vec![SCALAR];
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            tables.push(AVX2);
        }
        if is_x86_feature_detected!("avx512f") {
            tables.push(AVX512);
        }
    }
    tables
}

/// The fastest kernels this CPU supports.
pub fn best() -> &'static Kernels {
    static BEST: OnceLock<Kernels> = OnceLock::new();
    BEST.get_or_init(|| *supported().last().expect("scalar is always supported"))
}

pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    (best().l2_squared)(a, b)
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    (best().dot)(a, b)
}

pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    (best().l1)(a, b)
}

/// 1 - cos(a, b), clamped to [0, 2]; NaN when either vector is zero, as in pgvector.
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    let (ab, aa, bb) = (best().cosine_parts)(a, b);
    cosine_from_parts(ab, aa, bb)
}

/// -cos(a, b), for vectors of any length: orders like 1 - cos. The index
/// uses it where it keeps vectors as they came rather than normalized
/// (halfvec, whose normalized values float16 would round).
/// A zero vector (a zero query: the index stores none) ties with everything.
pub fn negative_cosine(a: &[f32], b: &[f32]) -> f32 {
    let (ab, aa, bb) = (best().cosine_parts)(a, b);
    let norms = (aa as f64 * bb as f64).sqrt();
    if norms == 0.0 {
        return 0.0;
    }
    (-(ab as f64) / norms) as f32
}

/// Jaccard distance between bit strings held as 0.0 / 1.0 (how the index
/// holds bits in memory): 1 - |a ∧ b| / |a ∨ b|, and 1 when no bit is in both.
pub fn jaccard_of_indicators(a: &[f32], b: &[f32]) -> f32 {
    let (both, a_count, b_count) = (best().cosine_parts)(a, b);
    if both == 0.0 {
        1.0
    } else {
        1.0 - both / (a_count + b_count - both)
    }
}

/// 1 - cos from (a·b, a·a, b·b): NaN for a zero vector, as in pgvector.
pub fn cosine_from_parts(ab: f32, aa: f32, bb: f32) -> f64 {
    let similarity = ab as f64 / (aa as f64 * bb as f64).sqrt();
    if similarity.is_nan() {
        return f64::NAN;
    }
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// Asks the CPU to start loading the cache line at `address`; only a hint,
/// it never faults, whatever the address.
#[inline(always)]
pub fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch does not access memory architecturally.
    unsafe {
        std::arch::x86_64::_mm_prefetch(address.cast(), std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Euclidean norm, accumulated in f64 (as pgvector's `vector_norm`).
pub fn norm(a: &[f32]) -> f64 {
    a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_pair(rng: &mut rand::rngs::StdRng, n: usize) -> (Vec<f32>, Vec<f32>) {
        let a = (0..n).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
        let b = (0..n).map(|_| rng.gen_range(-2.0f32..2.0)).collect();
        (a, b)
    }

    /// Tolerance for a sum of `n` terms of magnitude up to `scale`, summed in another order.
    fn close(x: f32, y: f32, n: usize, scale: f32) -> bool {
        (x - y).abs() <= 1e-6 * n as f32 * scale + 1e-6
    }

    #[test]
    fn jaccard_of_indicators_matches_the_bit_kernel() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        for bytes in [1usize, 5, 48] {
            let a: Vec<u8> = (0..bytes).map(|_| rng.gen()).collect();
            let b: Vec<u8> = (0..bytes).map(|_| rng.gen()).collect();
            let spread = |x: &[u8]| -> Vec<f32> {
                (0..8 * bytes)
                    .map(|i| ((x[i / 8] >> (7 - i % 8)) & 1) as f32)
                    .collect()
            };
            let expected = bits::jaccard(&a, &b) as f32;
            assert!((jaccard_of_indicators(&spread(&a), &spread(&b)) - expected).abs() < 1e-6);
            assert_eq!(l1(&spread(&a), &spread(&b)), bits::hamming(&a, &b) as f32);
        }
        assert_eq!(jaccard_of_indicators(&[0.0, 0.0], &[0.0, 0.0]), 1.0);
    }

    #[test]
    fn every_simd_kernel_matches_scalar_on_lengths_1_to_67() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let tables = supported();
        for table in &tables {
            for n in 1..=67 {
                for _ in 0..20 {
                    let (a, b) = random_pair(&mut rng, n);
                    let check = |what: &str, got: f32, want: f32, scale: f32| {
                        assert!(
                            close(got, want, n, scale),
                            "{} {what} n={n}: {got} vs {want}",
                            table.name
                        );
                    };
                    check(
                        "l2",
                        (table.l2_squared)(&a, &b),
                        scalar::l2_squared(&a, &b),
                        16.0,
                    );
                    check("dot", (table.dot)(&a, &b), scalar::dot(&a, &b), 4.0);
                    check(
                        "-dot",
                        (table.negative_dot)(&a, &b),
                        -scalar::dot(&a, &b),
                        4.0,
                    );
                    check("l1", (table.l1)(&a, &b), scalar::l1(&a, &b), 4.0);
                    let got = (table.cosine_parts)(&a, &b);
                    let want = scalar::cosine_parts(&a, &b);
                    check("cos.ab", got.0, want.0, 4.0);
                    check("cos.aa", got.1, want.1, 4.0);
                    check("cos.bb", got.2, want.2, 4.0);
                }
            }
        }
        eprintln!(
            "kernel tables tested: {:?}",
            tables.iter().map(|t| t.name).collect::<Vec<_>>()
        );
    }

    #[test]
    fn kernels_do_not_read_past_the_slice_end() {
        // Slices that end exactly where a differing value starts: any
        // over-read of the tail would change the result.
        for table in supported() {
            for n in 1..=40 {
                let mut a = vec![1.0f32; n + 16];
                let b = vec![0.0f32; n + 16];
                for x in &mut a[n..] {
                    *x = 1000.0;
                }
                assert_eq!(
                    (table.l2_squared)(&a[..n], &b[..n]),
                    n as f32,
                    "{} n={n}",
                    table.name
                );
                assert_eq!(
                    (table.l1)(&a[..n], &b[..n]),
                    n as f32,
                    "{} n={n}",
                    table.name
                );
                assert_eq!(
                    (table.dot)(&a[..n], &a[..n]),
                    n as f32,
                    "{} n={n}",
                    table.name
                );
            }
        }
    }

    #[test]
    fn known_values() {
        let a = [1.0f32, 2.0, 3.0];
        let b = [3.0f32, 2.0, 1.0];
        assert_eq!(l2_squared(&a, &b), 8.0);
        assert_eq!(dot(&a, &b), 10.0);
        assert_eq!(l1(&a, &b), 4.0);
        assert!((cosine_distance(&a, &b) - (1.0 - 10.0 / 14.0)).abs() < 1e-7);
        assert_eq!(cosine_distance(&a, &a), 0.0);
        assert!(cosine_distance(&a, &[0.0, 0.0, 0.0]).is_nan());
        assert_eq!(cosine_distance(&[1.0, 0.0], &[-1.0, 0.0]), 2.0);
        assert!((norm(&[3.0, 4.0]) - 5.0).abs() < 1e-12);
    }

    /// Metric properties of every kernel (each instruction set, float16, sparse
    /// and bits) on finite values of moderate range, as input checks let in.
    mod properties {
        use super::super::half as kh;
        use super::super::*;
        use ::half::f16;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            ProptestConfig {
                cases: 256,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        /// Three vectors of one length, over the lengths SIMD tails and blocks fall on.
        fn triple(
            max_len: usize,
            range: f32,
        ) -> impl Strategy<Value = (Vec<f32>, Vec<f32>, Vec<f32>)> {
            (1..max_len).prop_flat_map(move |n| {
                let v = move || proptest::collection::vec(-range..range, n);
                (v(), v(), v())
            })
        }

        /// f32 rounding of a sum of `n` terms whose magnitudes add up to `scale`.
        fn slack(n: usize, scale: f64) -> f64 {
            2.0 * (n as f64 + 2.0) * f32::EPSILON as f64 * scale + 1e-30
        }

        fn f64_sum(a: &[f32], b: &[f32], term: impl Fn(f64, f64) -> f64) -> f64 {
            a.iter()
                .zip(b)
                .map(|(&x, &y)| term(x as f64, y as f64))
                .sum()
        }

        fn check_metric(
            name: &str,
            d: impl Fn(&[f32], &[f32]) -> f64,
            (a, b, c): (&[f32], &[f32], &[f32]),
            tolerance: f64,
        ) -> Result<(), TestCaseError> {
            prop_assert_eq!(
                d(a, b).to_bits(),
                d(b, a).to_bits(),
                "{}: not symmetric",
                name
            );
            prop_assert_eq!(d(a, a), 0.0, "{}: distance to itself", name);
            let (ab, bc, ac) = (d(a, b), d(b, c), d(a, c));
            prop_assert!(
                ac <= ab + bc + tolerance,
                "{}: triangle {} > {} + {}",
                name,
                ac,
                ab,
                bc
            );
            Ok(())
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn dense_kernels_are_metrics_and_match_f64((a, b, c) in triple(300, 1e3)) {
                let n = a.len();
                let l2_scale = f64_sum(&a, &b, |x, y| (x - y) * (x - y)) + f64_sum(&b, &c, |x, y| (x - y) * (x - y)) + f64_sum(&a, &c, |x, y| (x - y) * (x - y));
                let l1_scale = f64_sum(&a, &b, |x, y| (x - y).abs()) + f64_sum(&b, &c, |x, y| (x - y).abs()) + f64_sum(&a, &c, |x, y| (x - y).abs());
                for k in supported() {
                    // L2 is a metric on the square root of the squared distance; the
                    // rounding of a squared sum shows as at most half as much on its root.
                    let l2 = |x: &[f32], y: &[f32]| ((k.l2_squared)(x, y) as f64).sqrt();
                    check_metric(k.name, l2, (&a, &b, &c), slack(n, l2_scale).sqrt() * 2.0)?;
                    let l1 = |x: &[f32], y: &[f32]| (k.l1)(x, y) as f64;
                    check_metric(k.name, l1, (&a, &b, &c), slack(n, l1_scale))?;
                    prop_assert_eq!((k.dot)(&a, &b).to_bits(), (k.dot)(&b, &a).to_bits());
                    prop_assert_eq!((k.negative_dot)(&a, &b), -(k.dot)(&a, &b));
                    let (ab, aa, bb) = (k.cosine_parts)(&a, &b);
                    let (ba, bb2, aa2) = (k.cosine_parts)(&b, &a);
                    prop_assert_eq!((ab.to_bits(), aa.to_bits(), bb.to_bits()), (ba.to_bits(), aa2.to_bits(), bb2.to_bits()));
                    // Against sums in f64, within the rounding of n terms.
                    let want = f64_sum(&a, &b, |x, y| x * y);
                    prop_assert!(((k.dot)(&a, &b) as f64 - want).abs() <= slack(n, f64_sum(&a, &b, |x, y| (x * y).abs())), "{} dot", k.name);
                    let want = f64_sum(&a, &b, |x, y| (x - y) * (x - y));
                    prop_assert!(((k.l2_squared)(&a, &b) as f64 - want).abs() <= slack(n, want), "{} l2", k.name);
                    let want = f64_sum(&a, &b, |x, y| (x - y).abs());
                    prop_assert!(((k.l1)(&a, &b) as f64 - want).abs() <= slack(n, want), "{} l1", k.name);
                    let (aa, _, _) = (k.cosine_parts)(&a, &a);
                    if aa > 0.0 {
                        let self_cosine = cosine_from_parts(aa, aa, aa);
                        prop_assert!(self_cosine.abs() <= 1e-6, "{} cosine to itself {}", k.name, self_cosine);
                    }
                    let cosine = cosine_from_parts(ab, aa, bb);
                    prop_assert!(cosine.is_nan() || (0.0..=2.0).contains(&cosine));
                }
            }

            #[test]
            fn half_kernels_are_metrics((a, b, c) in triple(600, 6e4)) {
                let h = |v: &[f32]| v.iter().map(|&x| f16::from_f32(x)).collect::<Vec<f16>>();
                let (ha, hb, hc) = (h(&a), h(&b), h(&c));
                let w = |v: &[f16]| v.iter().map(|x| x.to_f32()).collect::<Vec<f32>>();
                let (wa, wb, wc) = (w(&ha), w(&hb), w(&hc));
                let n = a.len();
                let l2_scale = f64_sum(&wa, &wb, |x, y| (x - y) * (x - y)) + f64_sum(&wb, &wc, |x, y| (x - y) * (x - y));
                let l1_scale = f64_sum(&wa, &wb, |x, y| (x - y).abs()) + f64_sum(&wb, &wc, |x, y| (x - y).abs());
                prop_assert_eq!(kh::l2_squared(&ha, &hb).to_bits(), kh::l2_squared(&hb, &ha).to_bits());
                prop_assert_eq!(kh::l1(&ha, &hb).to_bits(), kh::l1(&hb, &ha).to_bits());
                prop_assert_eq!(kh::dot(&ha, &hb).to_bits(), kh::dot(&hb, &ha).to_bits());
                prop_assert_eq!((kh::l2_squared(&ha, &ha), kh::l1(&ha, &ha)), (0.0, 0.0));
                let l2 = |x: &[f16], y: &[f16]| (kh::l2_squared(x, y) as f64).sqrt();
                prop_assert!(l2(&ha, &hc) <= l2(&ha, &hb) + l2(&hb, &hc) + 2.0 * slack(n, l2_scale).sqrt());
                let l1 = |x: &[f16], y: &[f16]| kh::l1(x, y) as f64;
                prop_assert!(l1(&ha, &hc) <= l1(&ha, &hb) + l1(&hb, &hc) + slack(n, l1_scale));
                let (ab, aa, bb) = kh::cosine_parts(&ha, &hb);
                let (ba, bb2, aa2) = kh::cosine_parts(&hb, &ha);
                prop_assert_eq!((ab, aa, bb), (ba, aa2, bb2));
            }

            #[test]
            fn sparse_kernels_are_metrics((a, b, c) in triple(80, 1e3), zeros in proptest::collection::vec(any::<bool>(), 80)) {
                // Sparse vectors: the dense ones with some elements zeroed.
                let sparse = |v: &[f32], shift: usize| -> (Vec<i32>, Vec<f32>) {
                    let kept: Vec<usize> = (0..v.len()).filter(|&i| !zeros[(i + shift) % zeros.len()]).collect();
                    (kept.iter().map(|&i| i as i32).collect(), kept.iter().map(|&i| v[i]).collect())
                };
                let (sa, sb, sc) = (sparse(&a, 0), sparse(&b, 1), sparse(&c, 2));
                let l2 = |x: &[f32], y: &[f32]| {
                    let (x, y) = (sparse::unpack(x).expect("packed"), sparse::unpack(y).expect("packed"));
                    (sparse::l2_squared(x, y) as f64).sqrt()
                };
                let l1 = |x: &[f32], y: &[f32]| sparse::l1(sparse::unpack(x).expect("packed"), sparse::unpack(y).expect("packed")) as f64;
                let pack = |s: &(Vec<i32>, Vec<f32>)| { let mut out = Vec::new(); sparse::pack(&s.0, &s.1, 0, &mut out); out };
                let (pa, pb, pc) = (pack(&sa), pack(&sb), pack(&sc));
                let n = a.len();
                let scale = 2.0 * n as f64 * 4e6;
                check_metric("sparse l2", l2, (&pa, &pb, &pc), slack(n, scale).sqrt() * 2.0)?;
                check_metric("sparse l1", l1, (&pa, &pb, &pc), slack(n, scale))?;
                let (x, y) = (sparse::unpack(&pa).expect("packed"), sparse::unpack(&pb).expect("packed"));
                prop_assert_eq!(sparse::dot(x, y), sparse::dot(y, x));
                prop_assert_eq!(sparse::unpack(&pa), Some((&sa.0[..], &sa.1[..])));
            }

            #[test]
            fn bit_kernels_are_metrics(bytes in (1usize..40).prop_flat_map(|n| proptest::collection::vec(proptest::collection::vec(any::<u8>(), n), 3))) {
                let (a, b, c) = (&bytes[0], &bytes[1], &bytes[2]);
                prop_assert_eq!(bits::hamming(a, b), bits::hamming(b, a));
                prop_assert_eq!(bits::hamming(a, a), 0);
                prop_assert!(bits::hamming(a, c) <= bits::hamming(a, b) + bits::hamming(b, c));
                prop_assert_eq!(bits::jaccard(a, b), bits::jaccard(b, a));
                // Jaccard distance is 1 between strings with no bit set in both, the empty one with itself too (pgvector's choice).
                prop_assert_eq!(bits::jaccard(a, a), if a.iter().all(|&x| x == 0) { 1.0 } else { 0.0 });
                prop_assert!(bits::jaccard(a, c) <= bits::jaccard(a, b) + bits::jaccard(b, c) + 1e-12);
            }
        }
    }
}
