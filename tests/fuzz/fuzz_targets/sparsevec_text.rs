//! sparsevec text input (`types::sparse`): no panic; what parses is valid and
//! prints and parses back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::types::sparse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(value) = sparse::parse(&text) else {
        return;
    };
    assert!(sparse::check_dim(value.dim as i64).is_ok());
    assert_eq!(sparse::check_indices(&value.indices, value.dim), Ok(()));
    assert!(value.values.iter().all(|&x| x.is_finite() && x != 0.0));
    let printed = sparse::format(&value.indices, &value.values, value.dim);
    assert_eq!(sparse::parse(&printed), Ok(value));
});
