//! The meta page (`page::Meta`) and the special space of any page: no panic;
//! a meta page that decodes encodes to one that decodes the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::page;

fuzz_target!(|data: &[u8]| {
    let _ = page::special_kind(data);
    let _ = page::special_next(data);
    let _ = page::foreign_index(data);
    let Ok(meta) = page::Meta::decode(data) else {
        return;
    };
    assert_eq!(page::Meta::decode(&meta.encode()), Ok(meta));
    let shape = meta.list_shape();
    let _ = shape.tuple_size(meta.entry_level as usize);
    let _ = meta.first_graph_block();
});
