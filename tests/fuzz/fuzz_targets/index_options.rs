//! The stored index options (`am::hnsw::options::stored`): any bytes, no panic;
//! encoded options read back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::am::hnsw::options::stored;

fuzz_target!(|data: &[u8]| {
    let defaults = (16, 64, false);
    let (m, ef, codes) = stored::decode(Some(data), defaults);
    if data.len() >= stored::SIZE {
        let encoded = stored::encode(m as i32, ef as i32, codes);
        assert_eq!(stored::decode(Some(&encoded), defaults), (m, ef, codes));
    }
    assert_eq!(stored::decode(None, defaults), defaults);
});
