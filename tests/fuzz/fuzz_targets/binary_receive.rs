//! Binary input of vector, halfvec and sparsevec (`types::wire`): no panic on
//! any message; what decodes encodes back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::types::wire;
use quiver_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let which = input.u8() % 3;
    // A typmod of -1 (none) most of the time, else a small declared dimension.
    let typmod = match input.u8() {
        0..=191 => -1,
        n => (n % 16) as i32,
    };
    let message = input.rest();
    match which {
        0 | 1 => {
            let (bytes, widen): (usize, fn(u32) -> f32) = if which == 0 {
                (4, f32::from_bits)
            } else {
                (2, |b| half::f16::from_bits(b as u16).to_f32())
            };
            if let Ok(bits) = wire::decode_dense(message, bytes, typmod, widen) {
                assert!(!bits.is_empty() && (typmod == -1 || typmod as usize == bits.len()));
                assert!(bits.iter().all(|&b| widen(b).is_finite()));
                assert_eq!(wire::encode_dense(&bits, bytes), message);
            }
        }
        _ => {
            if let Ok(value) = wire::decode_sparse(message, typmod) {
                assert!(value.values.iter().all(|&x| x.is_finite() && x != 0.0));
                assert_eq!(wire::encode_sparse(&value), message);
            }
        }
    }
});
