//! Element tuples, wide elements' part tuples and packed sparse vectors
//! (`page`, `kernels::sparse`): every reader, on any bytes, without panic;
//! a header that decodes encodes back to the bytes it came from.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::kernels::sparse;
use quiver_fuzz::page::{self, ElementBody, StoredVector};
use quiver_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    // The dimensions the index's meta page would say.
    let dimensions = (input.u8() as usize) << 2 | (input.u8() as usize & 3);
    let tuple = input.rest();
    // Tuples sit 4-byte aligned on pages: read from an aligned copy.
    let mut aligned = page::Gathered::default();
    aligned.push(tuple);
    let tuple = aligned.bytes();

    if let Ok(header) = page::ElementHeader::decode(tuple) {
        let mut again = tuple[..page::ELEMENT_HEADER_SIZE].to_vec();
        header.encode_into(&mut again);
        // Only the unused heap TID slots may differ: decode ignores them, encode clears them.
        let used = 12 + header.heap_tids.len() * 6;
        assert_eq!(&again[..used], &tuple[..used]);
        // Header bytes alone may be too short for the vector; decoded, they give the same header.
        assert!(page::ElementHeader::decode(&again[..]).map_or(true, |h| h == header));
        assert!(page::element_filter(tuple).is_ok());
        assert_eq!(page::element_neighbors(tuple), Ok(header.neighbors));
        assert_eq!(page::element_anchor(tuple), Ok(header.anchor));
    } else {
        let _ = page::element_filter(tuple);
        let _ = page::element_neighbors(tuple);
        let _ = page::element_anchor(tuple);
    }
    let _ = page::element_is_live(tuple);
    let _ = page::element_is_wide(tuple);
    let _ = page::element_parts(tuple);
    let _ = page::set_element_anchor(&mut tuple.to_vec(), page::NodeId::new(1, 1));
    let mut out = Vec::new();
    match page::element_body(tuple, dimensions) {
        Some(ElementBody::Inline(vector)) => {
            vector.extend_into(&mut out);
            let _ = vector.all_finite();
            if let StoredVector::Float4(floats) = vector {
                // A sparse element's packed vector, measured against itself and an empty one.
                if sparse::unpack(floats).is_some() {
                    let trimmed = sparse::trimmed(floats);
                    let _ = sparse::packed_l2_squared(trimmed, floats);
                    let _ = sparse::packed_negative_dot(floats, &[0.0]);
                    let _ = sparse::packed_l1(floats, &[]);
                }
            }
        }
        Some(ElementBody::Parts(ids, width, dims)) => {
            assert!(!ids.is_empty() && ids.len() <= page::MAX_PARTS);
            let _ = page::stored_vector(tuple, width, dims);
        }
        None => {}
    }
    if let Some(position) = page::part_position(tuple) {
        let _ = page::part_piece(tuple, position);
    }
    let _ = page::part_piece(tuple, 0);
});
