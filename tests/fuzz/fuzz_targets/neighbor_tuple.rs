//! Neighbor tuples, with and without codes (`page::read_layer`,
//! `read_layer_codes`, `write_layer`): any bytes under any list shape, no
//! panic; what is written reads back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::page::{self, ListShape, NodeId};
use quiver_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let shape = ListShape {
        m: input.u8() as usize % 40,
        code_bytes: input.u8() as usize % 24,
    };
    let tuple = input.rest();
    let (mut ids, mut codes) = (Vec::new(), Vec::new());
    let readable = page::read_layer_codes(tuple, shape, &mut ids, &mut codes).is_ok();
    assert_eq!(codes.len(), ids.len() * shape.code_bytes);
    assert!(ids.len() <= 2 * shape.m && ids.iter().all(|id| !id.is_none()));
    for layer in 0..4 {
        let mut ids = Vec::new();
        if page::read_layer(tuple, shape, layer, &mut ids).is_ok() {
            assert!(readable);
            assert!(ids.len() <= shape.layer_slots(layer));
        }
    }
    if !readable {
        return;
    }
    // Rewrite layer 0 with what it held, minus one, and read it back.
    let mut copy = tuple.to_vec();
    let keep = ids.len().saturating_sub(1);
    page::write_layer(
        &mut copy,
        shape,
        0,
        &ids[..keep],
        &codes[..keep * shape.code_bytes],
    )
    .expect("a readable tuple is writable");
    let (mut again, mut again_codes) = (Vec::new(), Vec::new());
    page::read_layer_codes(&copy, shape, &mut again, &mut again_codes).expect("still readable");
    assert_eq!(again, ids[..keep]);
    assert_eq!(again_codes, codes[..keep * shape.code_bytes]);
    assert!(page::write_layer(
        &mut copy,
        shape,
        0,
        &vec![NodeId::new(1, 1); 2 * shape.m + 1],
        &[]
    )
    .is_err());
});
