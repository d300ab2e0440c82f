//! The typmod input of the vector types (`types::wire::typmod`): whatever
//! integers PostgreSQL parsed, no panic, and only one in range is accepted.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::types::{literal, sparse, wire};

fuzz_target!(|data: &[u8]| {
    let modifiers: Vec<i32> = data
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    for max in [literal::MAX_DIM as i64, sparse::MAX_DIM] {
        match wire::typmod(&modifiers, max) {
            Ok(dim) => assert!(modifiers == [dim] && dim >= 1 && dim as i64 <= max),
            Err(e) => assert!(!e.message("vector", max).is_empty()),
        }
    }
});
