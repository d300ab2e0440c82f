//! Property tests of every on-page tuple: arbitrary bytes never panic a
//! decoder, and what is encoded decodes to itself.

use super::*;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn node_id() -> impl Strategy<Value = NodeId> {
    (any::<u32>(), 1u16..).prop_map(|(block, offset)| NodeId::new(block, offset))
}

fn width() -> impl Strategy<Value = ElementWidth> {
    prop::sample::select(vec![
        ElementWidth::Float4,
        ElementWidth::Float2,
        ElementWidth::Bit,
        ElementWidth::Sparse,
    ])
}

fn header(wide: bool) -> impl Strategy<Value = ElementHeader> {
    (
        any::<u8>(),
        any::<bool>(),
        width(),
        proptest::collection::vec(node_id(), 0..=HEAP_TIDS),
        any::<u64>(),
        0u16..300,
        any::<u64>(),
    )
        .prop_map(
            move |(level, deleted, width, heap_tids, neighbors, dimensions, anchor)| {
                ElementHeader {
                    level,
                    deleted,
                    width,
                    heap_tids: heap_tids
                        .into_iter()
                        .map(|id| HeapTid::from_u64(id.to_u64()))
                        .collect(),
                    neighbors: NodeId::from_u64(neighbors & 0xFFFF_FFFF_FFFF),
                    dimensions,
                    anchor: NodeId::from_u64(anchor & 0xFFFF_FFFF_FFFF),
                    wide,
                }
            },
        )
}

fn meta() -> impl Strategy<Value = Meta> {
    let metric = prop::sample::select(vec![
        Metric::L2,
        Metric::InnerProduct,
        Metric::Cosine,
        Metric::L1,
        Metric::Hamming,
        Metric::Jaccard,
    ]);
    let codes = prop_oneof![
        Just((0u8, 0u16)),
        (prop::sample::select(vec![1u8, 4, 8]), 1u16..)
    ];
    (
        (
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
            metric,
            any::<u64>(),
            any::<u8>(),
            any::<u32>(),
            any::<u64>(),
        ),
        (
            any::<u32>(),
            any::<u32>(),
            codes,
            0..u32::MAX - 1,
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
        ),
    )
        .prop_map(|(a, b)| Meta {
            dimensions: a.0,
            m: a.1,
            ef_construction: a.2,
            metric: a.3,
            entry: NodeId::from_u64(a.4 & 0xFFFF_FFFF_FFFF),
            entry_level: a.5,
            insert_block: a.6,
            element_count: a.7,
            walk_first_batch_visits: b.0,
            walk_visits_per_row_milli: b.1,
            code_bits: b.2 .0,
            code_bytes: b.2 .1,
            quantizer_blocks: b.3,
            quantizer_bytes: b.4,
            filter_head: b.5,
            filter_insert_block: b.6,
            filter_directory: b.7,
        })
}

/// A copy of `tuple` at a 4-byte aligned address, as tuples are on pages.
fn aligned(tuple: &[u8]) -> Gathered {
    let mut copy = Gathered::default();
    copy.push(tuple);
    copy
}

/// Every reader of element, part and filter entry bytes, on the same bytes.
fn read_every_way(tuple: &[u8], dimensions: usize) {
    let header = ElementHeader::decode(tuple);
    let _ = element_filter(tuple);
    let _ = element_neighbors(tuple);
    let _ = element_anchor(tuple);
    let _ = element_parts(tuple);
    let _ = element_is_wide(tuple);
    let _ = element_is_live(tuple);
    let copy = aligned(tuple);
    for dims in [
        dimensions,
        header.as_ref().map_or(0, |h| h.dimensions as usize),
    ] {
        if let Some(v) = element_vector(copy.bytes(), dims) {
            let mut out = Vec::new();
            v.extend_into(&mut out);
            let _ = v.all_finite();
        }
        let _ = element_body(copy.bytes(), dims);
    }
    let _ = set_element_anchor(&mut tuple.to_vec(), NodeId::new(1, 1));
    let _ = part_position(tuple);
    let _ = part_piece(tuple, part_position(tuple).unwrap_or(0));
    if let Ok((id, values)) = decode_filter_entry(tuple) {
        assert!(!id.is_none() && values.len() > FILTER_TUPLE_HEADER);
    }
    let _ = special_kind(tuple);
    let _ = foreign_index(tuple);
    let _ = special_next(tuple);
}

/// Every reader and writer of neighbor tuples, over shapes near the tuple's own.
fn read_neighbors_every_way(tuple: &[u8], shape: ListShape) {
    let (mut ids, mut codes) = (Vec::new(), Vec::new());
    for layer in 0..4 {
        let _ = read_layer(tuple, shape, layer, &mut ids);
    }
    let _ = read_layer_codes(tuple, shape, &mut ids, &mut codes);
    assert_eq!(codes.len() % shape.code_bytes.max(1), 0);
    let mut copy = tuple.to_vec();
    let some: Vec<NodeId> = (1..4).map(|i| NodeId::new(i, 1)).collect();
    for layer in 0..3 {
        let code_bytes = if layer == 0 { shape.code_bytes } else { 0 };
        let _ = write_layer(
            &mut copy,
            shape,
            layer,
            &some,
            &vec![7; some.len() * code_bytes],
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn meta_decode_never_panics(b in bytes(80)) {
        if let Ok(meta) = Meta::decode(&b) {
            prop_assert!(matches!(meta.code_bits, 0 | 1 | 4 | 8));
        }
    }

    #[test]
    fn meta_round_trips(meta in meta()) {
        prop_assert_eq!(Meta::decode(&meta.encode()), Ok(meta));
        // Damage anywhere is either rejected or read as some meta page: never a panic.
        let encoded = meta.encode();
        for cut in [0, 1, 8, 48, 63] {
            prop_assert!(Meta::decode(&encoded[..cut]).is_err());
        }
    }

    #[test]
    fn element_readers_never_panic_on_random_bytes(b in bytes(160), dimensions in 0usize..40) {
        read_every_way(&b, dimensions);
    }

    #[test]
    fn element_readers_never_panic_on_damaged_elements(
        header in header(false), values in proptest::collection::vec(-1e4f32..1e4, 300),
        filter in bytes(24), cut in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut tuple = encode_element(&header, &values[..header.dimensions as usize]);
        append_filter(&mut tuple, &filter);
        for (at, byte) in flips {
            let at = at.index(tuple.len());
            tuple[at] ^= byte;
        }
        let cut = cut.index(tuple.len() + 1);
        read_every_way(&tuple[..cut], header.dimensions as usize);
        read_every_way(&tuple, header.dimensions as usize);
    }

    #[test]
    fn elements_round_trip(header in header(false), values in proptest::collection::vec(-6e4f32..6e4, 300), filter in bytes(24)) {
        let dimensions = header.dimensions as usize;
        // Sparse elements hold a packed vector, as many float4 slots as their dimensions.
        let vector = &values[..dimensions];
        let mut tuple = encode_element(&header, vector);
        prop_assert_eq!(tuple.len(), element_size(dimensions, header.width));
        append_filter(&mut tuple, &filter);
        prop_assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
        prop_assert_eq!(element_filter(&tuple), Ok((!filter.is_empty()).then_some(&filter[..])));
        prop_assert_eq!(element_neighbors(&tuple), Ok(header.neighbors));
        prop_assert_eq!(element_anchor(&tuple), Ok(header.anchor));
        prop_assert_eq!(element_is_live(&tuple), !header.deleted && !header.heap_tids.is_empty());
        let copy = aligned(&tuple);
        let stored = element_vector(copy.bytes(), dimensions).expect("an aligned element's vector");
        let mut out = Vec::new();
        stored.extend_into(&mut out);
        let want: Vec<f32> = match header.width {
            ElementWidth::Float4 | ElementWidth::Sparse => vector.to_vec(),
            ElementWidth::Float2 => vector.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect(),
            ElementWidth::Bit => vector.iter().map(|&x| if x != 0.0 { 1.0 } else { 0.0 }).collect(),
        };
        prop_assert_eq!(out, want);
        // A header rewritten in place keeps the filter values.
        let mut rewritten = header.clone();
        rewritten.deleted = !header.deleted;
        rewritten.encode_into(&mut tuple);
        prop_assert_eq!(element_filter(&tuple), Ok((!filter.is_empty()).then_some(&filter[..])));
    }

    #[test]
    fn wide_elements_and_parts_round_trip(header in header(true), parts in proptest::collection::vec(node_id(), 1..=MAX_PARTS), stored in bytes(3000), piece in 1usize..700) {
        let tuple = encode_wide_element(&header, &parts);
        prop_assert_eq!(ElementHeader::decode(&tuple), Ok(header));
        prop_assert_eq!(element_parts(&tuple), Ok(parts.clone()));
        prop_assert!(matches!(element_body(&tuple, 5), Some(ElementBody::Parts(ids, _, 5)) if ids == parts));
        let mut gathered = Gathered::default();
        for (position, part) in encode_parts(&stored, piece).iter().enumerate() {
            prop_assert_eq!(part_position(part), Some(position));
            gathered.push(part_piece(part, position).expect("a part's piece"));
            prop_assert!(part_piece(part, position + 1).is_err());
            prop_assert!(part_piece(&part[..part.len() - 1], position).is_err() || part.len() == PART_HEADER_SIZE);
        }
        prop_assert_eq!(gathered.bytes(), &stored[..]);
    }

    #[test]
    fn filter_entries_round_trip(element in node_id(), filter in proptest::collection::vec(any::<u8>(), FILTER_TUPLE_HEADER + 1..64)) {
        let entry = encode_filter_entry(element, &filter);
        let (decoded, values) = decode_filter_entry(&entry).expect("an entry");
        prop_assert_eq!(decoded, element);
        prop_assert!(same_filter_values(values, &filter));
    }

    #[test]
    fn neighbor_readers_never_panic_on_random_bytes(b in bytes(200), m in 0usize..8, code_bytes in 0usize..6) {
        read_neighbors_every_way(&b, ListShape { m, code_bytes });
    }

    #[test]
    fn neighbor_readers_never_panic_on_damaged_tuples(
        level in 0usize..4, m in 1usize..8, code_bytes in 0usize..6, cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4), other_m in 0usize..8,
    ) {
        let shape = ListShape { m, code_bytes };
        let mut tuple = new_neighbor_tuple(level, shape);
        for (at, byte) in flips {
            let at = at.index(tuple.len());
            tuple[at] ^= byte;
        }
        let cut = cut.index(tuple.len() + 1);
        for shape in [shape, ListShape { m: other_m, code_bytes }, ListShape { m, code_bytes: code_bytes + 1 }] {
            read_neighbors_every_way(&tuple[..cut], shape);
            read_neighbors_every_way(&tuple, shape);
        }
    }

    #[test]
    fn neighbor_layers_round_trip(level in 0usize..4, m in 1usize..10, code_bytes in 0usize..9, seed in any::<u32>()) {
        let shape = ListShape { m, code_bytes };
        let mut tuple = new_neighbor_tuple(level, shape);
        prop_assert_eq!(tuple.len(), shape.tuple_size(level));
        let mut written = Vec::new();
        for layer in 0..=level {
            let count = (seed as usize + layer) % (shape.layer_slots(layer) + 1);
            let ids: Vec<NodeId> = (0..count).map(|i| NodeId::new(seed ^ i as u32, 1 + (i + layer) as u16)).collect();
            let code_bytes = if layer == 0 { code_bytes } else { 0 };
            let codes: Vec<u8> = (0..count * code_bytes).map(|i| (i as u32 ^ seed) as u8).collect();
            write_layer(&mut tuple, shape, layer, &ids, &codes).expect("ids fit their layer");
            written.push((ids, codes));
        }
        for (layer, (ids, codes)) in written.iter().enumerate() {
            let mut read = Vec::new();
            read_layer(&tuple, shape, layer, &mut read).expect("a layer of the node");
            prop_assert_eq!(&read, ids);
            if layer == 0 {
                let (mut read, mut read_codes) = (Vec::new(), Vec::new());
                read_layer_codes(&tuple, shape, &mut read, &mut read_codes).expect("layer 0");
                prop_assert_eq!(&read, ids);
                prop_assert_eq!(&read_codes, codes);
            }
        }
        prop_assert!(read_layer(&tuple, shape, level + 1, &mut Vec::new()).is_err());
        let (wider, longer_codes) = (ListShape { m: m + 1, code_bytes }, ListShape { m, code_bytes: code_bytes + 1 });
        prop_assert!(read_layer(&tuple, wider, 0, &mut Vec::new()).is_err());
        prop_assert!(read_layer(&tuple, longer_codes, 0, &mut Vec::new()).is_err());
    }
}
