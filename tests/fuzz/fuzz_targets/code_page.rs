//! The quantizer kept on the code pages (`quant::Quantizer`), and
//! codes read from neighbor lists: any bytes, no panic; a quantizer that
//! decodes encodes back to itself; estimates of any stored code of the right
//! size are computed without panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::quant::{CodeMetric, Quantizer};

fuzz_target!(|data: &[u8]| {
    let Ok(quantizer) = Quantizer::from_bytes(data) else {
        return;
    };
    assert_eq!(
        Quantizer::from_bytes(&quantizer.to_bytes()),
        Ok(quantizer.clone())
    );
    let d = quantizer.dimensions();
    // Work per input stays small: the walk below is linear in d, with a bounded count of codes.
    let query: Vec<f32> = (0..d)
        .map(|i| data[i % data.len()] as f32 - 128.0)
        .collect();
    let stored = quantizer.stored_bytes();
    for metric in [
        CodeMetric::L2Squared,
        CodeMetric::NegativeDot,
        CodeMetric::L1,
    ] {
        if metric == CodeMetric::L1 && quantizer.bits() == 1 {
            continue;
        }
        let prepared = quantizer.prepare(&query, metric);
        for code in data.chunks_exact(stored).take(4) {
            let estimate = prepared.estimate(code);
            let _ = prepared.lower_bound_stored(code, estimate);
        }
        let mut code = Vec::new();
        quantizer.encode_stored(&query, metric, &mut code);
        assert_eq!(code.len(), stored);
        let estimate = prepared.estimate(&code);
        let _ = prepared.lower_bound_stored(&code, estimate);
    }
});
