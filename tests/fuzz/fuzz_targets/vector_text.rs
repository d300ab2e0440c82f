//! vector and halfvec text input (`types::literal`): no panic; what parses
//! prints and parses back to the same bits, as float4 and as float16.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::types::literal;

fuzz_target!(|data: &[u8]| {
    // The input function reads its cstring lossily; a parse of any str must not panic.
    let text = String::from_utf8_lossy(data);
    let Ok(values) = literal::parse(&text) else {
        return;
    };
    assert!(!values.is_empty() && values.len() <= literal::MAX_DIM);
    assert!(values.iter().all(|x| x.is_finite()));
    let again = literal::parse(&literal::format(&values)).expect("printed vectors parse");
    assert!(again
        .iter()
        .map(|x| x.to_bits())
        .eq(values.iter().map(|x| x.to_bits())));
    // halfvec narrows each element (out of range is an ERROR), prints it widened.
    let halves: Vec<half::f16> = values
        .iter()
        .map(|&x| half::f16::from_f32(x))
        .filter(|h| h.is_finite())
        .collect();
    if !halves.is_empty() {
        let printed = literal::format(&halves.iter().map(|h| h.to_f32()).collect::<Vec<_>>());
        let back: Vec<half::f16> = literal::parse(&printed)
            .expect("printed halfvecs parse")
            .into_iter()
            .map(half::f16::from_f32)
            .collect();
        assert!(back
            .iter()
            .map(|h| h.to_bits())
            .eq(halves.iter().map(|h| h.to_bits())));
    }
});
