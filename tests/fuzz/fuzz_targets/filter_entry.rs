//! Filter directory entries (`page::decode_filter_entry`): any bytes, no
//! panic; what decodes re-encodes to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::page;

fuzz_target!(|data: &[u8]| {
    let Ok((element, values)) = page::decode_filter_entry(data) else {
        return;
    };
    assert!(!element.is_none());
    assert_eq!(page::encode_filter_entry(element, values), data);
    assert!(page::same_filter_values(values, data));
    let mut special = page::encode_special(page::PAGE_KIND_FILTERS);
    page::set_special_next(&mut special, element.block());
    assert_eq!(page::special_next(&special), element.block());
});
