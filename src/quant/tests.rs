use super::isa::{has_avx512, supported_isas, CodeIsa};
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
            let quantizer =
                ScalarQuantizer::train(data.iter().map(|r| r.as_slice()), dimensions, bits, 0.01);
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
                    let (got, want) = (prepared.estimate(&code), exact(metric, query, &decoded));
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
        let (estimate, distance) = (prepared.estimate(&code), scalar::l2_squared(&data[0], row));
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
    let quantizer = RaBitQ::train(data.iter().map(|r| r.as_slice()), dimensions, 1);
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
        let quantizer = RaBitQ::train(std::iter::empty(), dimensions, 7);
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
        let quantizer = RaBitQ::train(data.iter().map(|r| r.as_slice()), dimensions, 3);
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
            let quantizer =
                ScalarQuantizer::train(data.iter().map(|r| r.as_slice()), dimensions, bits, 0.0);
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
            (Just(dimensions), proptest::collection::vec(row, rows)).prop_map(move |(d, rows)| {
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
            })
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
            let quantizer = RaBitQ::train(rows.iter().map(|r| r.as_slice()), dimensions, seed);
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
                _ => Quantizer::RaBitQ(RaBitQ::train(sample, dimensions, seed)),
            };
            prop_assert_eq!(Quantizer::from_bytes(&quantizer.to_bytes()), Ok(quantizer.clone()));
            let bytes = quantizer.to_bytes();
            for cut in [0, 7, 8, bytes.len() - 1] {
                prop_assert!(Quantizer::from_bytes(&bytes[..cut]).is_err());
            }
        }
    }
}
