use super::*;

#[test]
fn filter_entries_round_trip_and_reject_garbage() {
    let element = NodeId::new(7, 3);
    let values = [0, 0, 0, 0, 0, 0, 12, 0, 1, 2, 3, 4];
    let entry = encode_filter_entry(element, &values);
    let (decoded, stored) = decode_filter_entry(&entry).unwrap();
    assert_eq!(decoded, element);
    assert!(same_filter_values(stored, &values));
    assert!(!same_filter_values(
        stored,
        &[0, 0, 0, 0, 0, 0, 12, 0, 1, 2, 3, 5]
    ));
    assert!(decode_filter_entry(&entry[..FILTER_TUPLE_HEADER]).is_err());
    assert!(decode_filter_entry(&encode_filter_entry(NodeId::NONE, &values)).is_err());
    let mut special = encode_special(PAGE_KIND_FILTERS);
    assert_eq!(special_next(&special), INVALID_BLOCK);
    set_special_next(&mut special, 42);
    assert_eq!(
        (special_next(&special), special_kind(&special)),
        (42, Some(PAGE_KIND_FILTERS))
    );
}

#[test]
fn short_special_spaces_read_as_foreign() {
    // Found by fuzzing: special_kind indexed its kind byte before checking the length.
    for len in 0..SPECIAL_SIZE {
        assert_eq!(special_kind(&encode_special(PAGE_KIND_GRAPH)[..len]), None);
        assert_eq!(
            special_next(&encode_special(PAGE_KIND_GRAPH)[..len]),
            INVALID_BLOCK
        );
    }
    assert_eq!(special_next(&[7, 0, 0]), INVALID_BLOCK);
    assert_eq!(special_next(&[7, 0, 0, 0]), 7);
}

#[test]
fn a_tuple_of_another_kind_has_no_parts() {
    // Found by fuzzing (element_tuple): a neighbor tuple whose byte 2 has the
    // wide bit set read as a wide element without parts.
    let shape = ListShape::plain(8);
    let tuple = new_neighbor_tuple(0, shape);
    assert_eq!(tuple[2] & WIDE_FLAG, WIDE_FLAG, "16 slots: the wide bit");
    assert_eq!(element_body(&tuple, 3), None);
    let mut other = vec![0xF1u8; ELEMENT_HEADER_SIZE + 16];
    other[0] = NEIGHBOR_KIND;
    assert_eq!(element_body(&other, 3), None);
}

#[test]
fn meta_pages_with_impossible_quantizer_blocks_are_rejected() {
    // Found by fuzzing (meta_page): first_graph_block overflowed, and
    // without overflow checks wrapped to the meta page itself.
    let meta = Meta::decode(
        &Meta {
            quantizer_blocks: 3,
            ..Meta::decode(&seed_meta()).unwrap()
        }
        .encode(),
    )
    .unwrap();
    assert_eq!(meta.first_graph_block(), 4);
    for blocks in [u32::MAX, u32::MAX - 1] {
        let mut bytes = meta.encode();
        bytes[52..56].copy_from_slice(&blocks.to_le_bytes());
        assert_eq!(
            Meta::decode(&bytes),
            Err(FormatError::BadField("quantizer blocks"))
        );
    }
    let mut bytes = meta.encode();
    bytes[52..56].copy_from_slice(&(u32::MAX - 2).to_le_bytes());
    assert_eq!(
        Meta::decode(&bytes).unwrap().first_graph_block(),
        u32::MAX - 1
    );
}

fn seed_meta() -> [u8; META_SIZE] {
    Meta {
        dimensions: 3,
        m: 16,
        ef_construction: 64,
        metric: Metric::L2,
        entry: NodeId::NONE,
        entry_level: 0,
        insert_block: 1,
        element_count: 0,
        walk_first_batch_visits: 0,
        walk_visits_per_row_milli: 0,
        code_bits: 0,
        code_bytes: 0,
        quantizer_blocks: 0,
        quantizer_bytes: 0,
        filter_head: 0,
        filter_insert_block: 0,
        filter_directory: false,
    }
    .encode()
}

#[test]
fn node_ids_pack_block_and_offset() {
    let id = NodeId::new(0xDEAD_BEEF, 0x1234);
    assert_eq!((id.block(), id.offset()), (0xDEAD_BEEF, 0x1234));
    assert!(NodeId::NONE.is_none());
    assert!(!NodeId::new(0, 1).is_none());
    assert!(NodeId::new(1, 1) > NodeId::new(0, 9));
}

#[test]
fn pgvector_pages_are_recognised() {
    let mut special = [0u8; SPECIAL_SIZE];
    special[6..8].copy_from_slice(&0xFF90u16.to_le_bytes());
    assert_eq!(foreign_index(&special), Some("pgvector's hnsw"));
    assert_eq!(special_kind(&special), None);
    special[6..8].copy_from_slice(&0xFF84u16.to_le_bytes());
    assert_eq!(foreign_index(&special), Some("pgvector's ivfflat"));
    assert_eq!(foreign_index(&encode_special(PAGE_KIND_META)), None);
    assert_eq!(foreign_index(&special[..4]), None);
}

#[test]
fn meta_round_trips_and_rejects_foreign_pages() {
    let meta = Meta {
        dimensions: 784,
        m: 16,
        ef_construction: 64,
        metric: Metric::Cosine,
        entry: NodeId::new(7, 3),
        entry_level: 4,
        insert_block: 9,
        element_count: 123_456,
        walk_first_batch_visits: 877,
        walk_visits_per_row_milli: 13_400,
        code_bits: 1,
        code_bytes: 136,
        quantizer_blocks: 2,
        quantizer_bytes: 9_000,
        filter_head: 11,
        filter_insert_block: 12,
        filter_directory: true,
    };
    let bytes = meta.encode();
    assert_eq!(Meta::decode(&bytes), Ok(meta));
    assert_eq!(
        meta.list_shape(),
        ListShape {
            m: 16,
            code_bytes: 136
        }
    );
    // Version 2 wrote no codes: its meta reads with none.
    let mut version_2 = Meta {
        code_bits: 0,
        code_bytes: 0,
        quantizer_blocks: 0,
        quantizer_bytes: 0,
        ..meta
    }
    .encode();
    version_2[4] = 2;
    assert_eq!(
        Meta::decode(&version_2).map(|m| m.list_shape()),
        Ok(ListShape::plain(16))
    );
    // Before version 7 no index had a filter directory.
    let version_6 = Meta {
        filter_head: 0,
        filter_insert_block: 0,
        filter_directory: false,
        ..meta
    };
    let mut version_6_bytes = version_6.encode();
    version_6_bytes[4] = 6;
    assert_eq!(Meta::decode(&version_6_bytes), Ok(version_6));
    let mut old = bytes;
    old[4] = 1;
    assert_eq!(Meta::decode(&old), Err(FormatError::UnsupportedVersion(1)));
    let mut bad_codes = bytes;
    bad_codes[48] = 3;
    assert_eq!(
        Meta::decode(&bad_codes),
        Err(FormatError::BadField("neighbor codes"))
    );
    let mut wrong = bytes;
    wrong[0] ^= 1;
    assert_eq!(Meta::decode(&wrong), Err(FormatError::BadMagic));
    let mut future = bytes;
    future[4] = 9;
    assert_eq!(
        Meta::decode(&future),
        Err(FormatError::UnsupportedVersion(9))
    );
    let mut bad_metric = bytes;
    bad_metric[16] = 9;
    assert_eq!(
        Meta::decode(&bad_metric),
        Err(FormatError::BadField("metric"))
    );
    assert!(matches!(
        Meta::decode(&bytes[..10]),
        Err(FormatError::TooShort { .. })
    ));
}

#[test]
fn filter_values_follow_the_body_and_survive_header_rewrites() {
    let header = ElementHeader {
        level: 0,
        deleted: false,
        width: ElementWidth::Float4,
        heap_tids: vec![HeapTid::new(1, 2)],
        neighbors: NodeId::new(5, 6),
        dimensions: 3,
        anchor: NodeId::NONE,
        wide: false,
    };
    let plain = encode_element(&header, &[1.0, 2.0, 3.0]);
    assert_eq!(element_filter(&plain), Ok(None));
    // 3 floats end at 84 bytes: the values start 8-aligned, at 88.
    let mut tuple = plain.clone();
    append_filter(&mut tuple, &[7, 8, 9]);
    assert_eq!(tuple.len(), with_filter_size(plain.len(), 3));
    assert_eq!(tuple.len(), 91);
    assert_eq!(element_filter(&tuple), Ok(Some(&[7u8, 8, 9][..])));
    assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
    // VACUUM marks the element deleted by rewriting its header in place.
    let deleted = ElementHeader {
        deleted: true,
        ..header.clone()
    };
    deleted.encode_into(&mut tuple);
    assert_eq!(element_filter(&tuple), Ok(Some(&[7u8, 8, 9][..])));
    assert!(ElementHeader::decode(&tuple).unwrap().deleted);
    // The flag without the bytes is corruption.
    assert_eq!(
        ElementHeader::decode(&tuple[..88]),
        Err(FormatError::BadField("filter values"))
    );
    assert_eq!(with_filter_size(84, 0), 84);
    append_filter(&mut tuple, &[]);
    assert_eq!(tuple.len(), 91);

    // After a wide element's part ids alike.
    let wide = ElementHeader {
        wide: true,
        dimensions: 5000,
        ..header
    };
    let mut tuple = encode_wide_element(&wide, &[NodeId::new(9, 1), NodeId::new(9, 2)]);
    append_filter(&mut tuple, &[1, 2]);
    assert_eq!(element_filter(&tuple), Ok(Some(&[1u8, 2][..])));
    assert_eq!(
        element_parts(&tuple),
        Ok(vec![NodeId::new(9, 1), NodeId::new(9, 2)])
    );
}

#[test]
fn element_round_trips_with_its_vector() {
    let header = ElementHeader {
        level: 3,
        deleted: false,
        width: ElementWidth::Float4,
        heap_tids: vec![HeapTid::new(1, 2), HeapTid::new(3, 4)],
        neighbors: NodeId::new(5, 6),
        dimensions: 3,
        anchor: NodeId::new(7, 8),
        wide: false,
    };
    let mut tuple = encode_element(&header, &[1.0, -2.5, 3.25]);
    assert_eq!(tuple.len(), element_size(3, ElementWidth::Float4));
    assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
    assert_eq!(element_neighbors(&tuple), Ok(NodeId::new(5, 6)));
    assert_eq!(element_anchor(&tuple), Ok(NodeId::new(7, 8)));
    assert!(element_is_live(&tuple));
    set_element_anchor(&mut tuple, NodeId::new(9, 1)).unwrap();
    assert_eq!(
        ElementHeader::decode(&tuple).map(|h| h.anchor),
        Ok(NodeId::new(9, 1))
    );
    assert_eq!(
        ElementHeader::decode(&tuple).map(|h| h.heap_tids),
        Ok(header.heap_tids.clone())
    );
    // Copy into 8-aligned storage, as a page would hold it.
    let mut aligned = vec![0u64; tuple.len().div_ceil(8)];
    // SAFETY: `aligned` holds at least tuple.len() bytes, any of which is
    // a valid u8, and is used only through `bytes` from here on.
    let bytes: &mut [u8] =
        unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast(), tuple.len()) };
    bytes.copy_from_slice(&tuple);
    assert_eq!(
        element_vector(bytes, 3),
        Some(StoredVector::Float4(&[1.0f32, -2.5, 3.25][..]))
    );
    assert_eq!(element_vector(&bytes[..tuple.len() - 1], 3), None);
    assert_eq!(ELEMENT_HEADER_SIZE % 8, 0);

    // The same at float16: half the bytes, the flag set, deletion apart.
    let half = ElementHeader {
        width: ElementWidth::Float2,
        ..header.clone()
    };
    let tuple = encode_element(&half, &[1.0, -2.5, 3.25]);
    assert_eq!(tuple.len(), ELEMENT_HEADER_SIZE + 6);
    assert_eq!(ElementHeader::decode(&tuple), Ok(half.clone()));
    assert!(element_is_live(&tuple));
    let mut aligned = vec![0u64; tuple.len().div_ceil(8)];
    // SAFETY: `aligned` holds at least tuple.len() bytes, any of which is
    // a valid u8, and is used only through `bytes` from here on.
    let bytes: &mut [u8] =
        unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast(), tuple.len()) };
    bytes.copy_from_slice(&tuple);
    let mut widened = Vec::new();
    element_vector(bytes, 3)
        .expect("readable")
        .extend_into(&mut widened);
    assert_eq!(widened, vec![1.0f32, -2.5, 3.25]);
    let deleted = encode_element(
        &ElementHeader {
            deleted: true,
            ..half
        },
        &[1.0, -2.5, 3.25],
    );
    assert!(!element_is_live(&deleted));
    assert_eq!(
        ElementHeader::decode(&deleted).map(|h| (h.deleted, h.width)),
        Ok((true, ElementWidth::Float2))
    );

    // Bits: packed, high bit first, read back as 0.0 and 1.0.
    let bits = ElementHeader {
        width: ElementWidth::Bit,
        dimensions: 10,
        ..header.clone()
    };
    let pattern = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    let tuple = encode_element(&bits, &pattern);
    assert_eq!(tuple.len(), ELEMENT_HEADER_SIZE + 2);
    assert_eq!(&tuple[ELEMENT_HEADER_SIZE..], &[0b1011_0000, 0b0100_0000]);
    assert_eq!(ElementHeader::decode(&tuple), Ok(bits));
    let mut widened = Vec::new();
    element_vector(&tuple, 10)
        .expect("readable")
        .extend_into(&mut widened);
    assert_eq!(widened, pattern);

    // Sparse: as long as the element says, whatever the index's dimensions.
    let sparse = ElementHeader {
        width: ElementWidth::Sparse,
        dimensions: 3,
        ..header.clone()
    };
    let tuple = encode_element(&sparse, &[f32::from_bits(1), f32::from_bits(7), 2.5]);
    assert_eq!(tuple.len(), ELEMENT_HEADER_SIZE + 12);
    assert_eq!(ElementHeader::decode(&tuple), Ok(sparse));
    let mut aligned = vec![0u64; tuple.len().div_ceil(8)];
    // SAFETY: `aligned` holds at least tuple.len() bytes, any of which is
    // a valid u8, and is used only through `bytes` from here on.
    let bytes: &mut [u8] =
        unsafe { std::slice::from_raw_parts_mut(aligned.as_mut_ptr().cast(), tuple.len()) };
    bytes.copy_from_slice(&tuple);
    match element_vector(bytes, 2001) {
        Some(StoredVector::Float4(v)) => assert_eq!(
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            [1, 7, 2.5f32.to_bits()]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wide_vectors_travel_in_parts() {
    // Pages of 8 kB: a part carries nearly a page.
    let footprint = |len: usize| ((len + 7) & !7) + 4;
    let piece = part_capacity(8160, footprint);
    assert_eq!(piece, 8144);
    assert!(
        footprint(PART_HEADER_SIZE + piece) <= 8160
            && footprint(PART_HEADER_SIZE + piece + 8) > 8160
    );

    // A 16,000-dimension float4 vector: 8 parts, the last shorter.
    let vector: Vec<f32> = (0..16_000).map(|i| (i % 1000) as f32 * 0.5 - 3.0).collect();
    let bytes = vector_bytes(ElementWidth::Float4, &vector);
    let parts = encode_parts(&bytes, piece);
    assert_eq!(parts.len(), 8);
    assert_eq!(parts[7].len(), PART_HEADER_SIZE + 64_000 - 7 * piece);
    assert!(parts
        .iter()
        .enumerate()
        .all(|(i, p)| part_position(p) == Some(i)));
    assert_eq!(
        part_piece(&parts[2], 3),
        Err(FormatError::BadField("part position"))
    );
    assert!(matches!(
        part_piece(&parts[2][..20], 2),
        Err(FormatError::TooShort { .. })
    ));
    assert!(matches!(
        part_piece(&bytes[..40], 0),
        Err(FormatError::WrongTupleKind { .. })
    ));

    // The element holds the header and the parts' ids.
    let ids: Vec<NodeId> = (0..8).map(|i| NodeId::new(100 + i, 1)).collect();
    let header = ElementHeader {
        level: 1,
        deleted: false,
        width: ElementWidth::Float4,
        heap_tids: vec![HeapTid::new(1, 2)],
        neighbors: NodeId::new(5, 6),
        dimensions: 16_000,
        anchor: NodeId::NONE,
        wide: true,
    };
    let tuple = encode_wide_element(&header, &ids);
    assert_eq!(tuple.len(), wide_element_size(8));
    assert_eq!(ElementHeader::decode(&tuple), Ok(header.clone()));
    assert!(element_is_wide(&tuple) && element_is_live(&tuple));
    assert_eq!(element_vector(&tuple, 16_000), None);
    assert_eq!(element_parts(&tuple), Ok(ids.clone()));
    let Some(ElementBody::Parts(found, ElementWidth::Float4, 16_000)) =
        element_body(&tuple, 16_000)
    else {
        panic!("not wide")
    };
    assert_eq!(found, ids);
    // Marking it deleted keeps it wide.
    let mut deleted = tuple.clone();
    ElementHeader {
        deleted: true,
        ..header.clone()
    }
    .encode_into(&mut deleted);
    assert_eq!(element_parts(&deleted), Ok(ids.clone()));
    // A part count of 0 or past MAX_PARTS, or ids cut short, is corrupt.
    let mut no_parts = tuple.clone();
    no_parts[ELEMENT_HEADER_SIZE] = 0;
    assert_eq!(
        ElementHeader::decode(&no_parts),
        Err(FormatError::BadField("part count"))
    );
    assert!(matches!(
        ElementHeader::decode(&tuple[..tuple.len() - 8]),
        Err(FormatError::TooShort { .. })
    ));
    assert!(element_parts(&tuple[..tuple.len() - 8]).is_err());
    assert_eq!(
        element_parts(&encode_element(
            &ElementHeader {
                wide: false,
                dimensions: 1,
                ..header.clone()
            },
            &[1.0]
        )),
        Ok(vec![])
    );

    // Copied together, the pieces read back as the vector, at either width.
    let mut gathered = Gathered::default();
    for (i, part) in parts.iter().enumerate() {
        gathered.push(part_piece(part, i).unwrap());
    }
    assert!(
        stored_vector(gathered.bytes(), ElementWidth::Float4, 16_000)
            == Some(StoredVector::Float4(&vector[..]))
    );
    let halves = vector_bytes(ElementWidth::Float2, &vector);
    gathered.clear();
    for (i, part) in encode_parts(&halves, piece).iter().enumerate() {
        gathered.push(part_piece(part, i).unwrap());
    }
    let mut widened = Vec::new();
    stored_vector(gathered.bytes(), ElementWidth::Float2, 16_000)
        .unwrap()
        .extend_into(&mut widened);
    assert!(widened == vector, "these values are exact in float16");
    assert_eq!(
        stored_vector(&gathered.bytes()[..100], ElementWidth::Float2, 16_000),
        None
    );
}

#[test]
fn items_pack_in_order() {
    let footprint = |len: usize| len + 4;
    let (pages, ids) = pack_in_order(&[96, 60, 30, 96, 10], 100, footprint, 7);
    assert_eq!(pages, vec![vec![0], vec![1, 2], vec![3], vec![4]]);
    assert_eq!(
        ids,
        vec![
            NodeId::new(7, 1),
            NodeId::new(8, 1),
            NodeId::new(8, 2),
            NodeId::new(9, 1),
            NodeId::new(10, 1)
        ]
    );
    assert_eq!(pack_in_order(&[], 100, footprint, 7), (vec![], vec![]));
}

#[test]
fn element_decode_rejects_corruption() {
    let header = ElementHeader {
        level: 0,
        deleted: true,
        width: ElementWidth::Float4,
        heap_tids: vec![],
        neighbors: NodeId::NONE,
        dimensions: 2,
        anchor: NodeId::NONE,
        wide: false,
    };
    let tuple = encode_element(&header, &[0.0, 0.0]);
    assert!(!element_is_live(&tuple));
    let mut wrong_kind = tuple.clone();
    wrong_kind[0] = NEIGHBOR_KIND;
    assert!(matches!(
        ElementHeader::decode(&wrong_kind),
        Err(FormatError::WrongTupleKind { .. })
    ));
    let mut too_many = tuple.clone();
    too_many[3] = HEAP_TIDS as u8 + 1;
    assert_eq!(
        ElementHeader::decode(&too_many),
        Err(FormatError::BadField("heap TID count"))
    );
    assert!(matches!(
        ElementHeader::decode(&tuple[..tuple.len() - 1]),
        Err(FormatError::TooShort { .. })
    ));
    let mut unknown_flag = tuple.clone();
    unknown_flag[2] |= 0x80;
    assert_eq!(
        ElementHeader::decode(&unknown_flag),
        Err(FormatError::BadField("element flags"))
    );
    let mut two_widths = tuple.clone();
    two_widths[2] |= SPARSE_FLAG | BIT_FLAG;
    assert_eq!(
        ElementHeader::decode(&two_widths),
        Err(FormatError::BadField("element flags"))
    );
}

#[test]
fn neighbor_layers_are_independent_slot_ranges() {
    for code_bytes in [0, 5] {
        let shape = ListShape { m: 4, code_bytes };
        let mut tuple = new_neighbor_tuple(2, shape);
        assert_eq!(tuple.len(), 8 + 8 * (6 + code_bytes) + 2 * 4 * 6);
        let layer0: Vec<NodeId> = (1..=8).map(|i| NodeId::new(i, 1)).collect();
        let codes0: Vec<u8> = (0..8 * code_bytes as u8).collect();
        let layer2 = vec![NodeId::new(100, 7)];
        write_layer(&mut tuple, shape, 0, &layer0, &codes0).unwrap();
        write_layer(&mut tuple, shape, 2, &layer2, &[]).unwrap();
        let mut out = Vec::new();
        read_layer(&tuple, shape, 0, &mut out).unwrap();
        assert_eq!(out, layer0);
        let (mut ids, mut codes) = (Vec::new(), Vec::new());
        read_layer_codes(&tuple, shape, &mut ids, &mut codes).unwrap();
        assert_eq!((ids, codes), (layer0.clone(), codes0.clone()));
        out.clear();
        read_layer(&tuple, shape, 1, &mut out).unwrap();
        assert!(out.is_empty());
        read_layer(&tuple, shape, 2, &mut out).unwrap();
        assert_eq!(out, layer2);
        // Shrinking a layer clears the slots it no longer uses.
        write_layer(
            &mut tuple,
            shape,
            0,
            &layer0[..3],
            &codes0[..3 * code_bytes],
        )
        .unwrap();
        out.clear();
        read_layer(&tuple, shape, 0, &mut out).unwrap();
        assert_eq!(out, &layer0[..3]);
        assert!(tuple[8 + 3 * (6 + code_bytes)..8 + 8 * (6 + code_bytes)]
            .iter()
            .all(|&b| b == 0));
        assert!(
            read_layer(&tuple, shape, 3, &mut out).is_err(),
            "layer above the node's level"
        );
        assert!(
            write_layer(&mut tuple, shape, 1, &layer0, &[]).is_err(),
            "more than m neighbors"
        );
        assert!(
            read_layer(&tuple, ListShape { m: 5, code_bytes }, 0, &mut out).is_err(),
            "m disagrees with the slot count"
        );
        assert!(
            read_layer(
                &tuple,
                ListShape {
                    m: 4,
                    code_bytes: code_bytes + 1
                },
                0,
                &mut out
            )
            .is_err(),
            "code size disagrees"
        );
        if code_bytes > 0 {
            assert!(
                write_layer(&mut tuple, shape, 0, &layer0, &codes0[1..]).is_err(),
                "a code per neighbor"
            );
        }
    }
}

#[test]
fn special_space_identifies_our_pages() {
    let s = encode_special(PAGE_KIND_GRAPH);
    assert_eq!(special_kind(&s), Some(PAGE_KIND_GRAPH));
    assert_eq!(special_kind(&[0u8; SPECIAL_SIZE]), None);
}

#[test]
fn plan_keeps_a_node_on_one_page_and_fills_pages() {
    let footprint = |len: usize| len.div_ceil(8) * 8 + 4;
    // Each node takes 100 + 60 bytes; 1000 bytes hold 6 nodes.
    let sizes = vec![(96, 56); 20];
    let order: Vec<u32> = (0..20).rev().collect();
    let plan = plan_pages(&order, &sizes, 1000, footprint, 1);
    assert_eq!(plan.pages.len(), 4);
    assert_eq!(plan.pages[0].len(), 12);
    for node in 0..20 {
        let (e, n) = (plan.elements[node], plan.neighbors[node]);
        assert_eq!(e.block(), n.block(), "node {node} is split");
        let page = &plan.pages[(e.block() - 1) as usize];
        assert_eq!(
            page[e.offset() as usize - 1],
            PlannedItem::Element(node as u32)
        );
        assert_eq!(
            page[n.offset() as usize - 1],
            PlannedItem::Neighbors(node as u32)
        );
    }
    // Order is kept: the first node placed is node 19.
    assert_eq!(plan.pages[0][0], PlannedItem::Neighbors(19));
}

#[test]
fn plan_gives_oversized_elements_their_own_page() {
    let footprint = |len: usize| len.div_ceil(8) * 8 + 4;
    let sizes = vec![(900, 200), (900, 200), (10, 10)];
    let plan = plan_pages(&[0, 1, 2], &sizes, 1000, footprint, 1);
    for node in 0..2 {
        let e = plan.elements[node];
        assert_eq!(
            plan.pages[(e.block() - 1) as usize],
            vec![PlannedItem::Element(node as u32)]
        );
        assert_eq!(e.offset(), 1);
    }
    assert_eq!(
        plan.neighbors[0].block(),
        plan.neighbors[1].block(),
        "neighbor tuples share a page"
    );
    assert_eq!(plan.elements[2].block(), plan.neighbors[2].block());
    let total: usize = plan.pages.iter().map(|p| p.len()).sum();
    assert_eq!(total, 6);
}

#[test]
fn widening_is_exact_for_every_finite_half() {
    // Every float16 is exactly a float4: the blocks lose nothing.
    let all: Vec<half::f16> = (0..=u16::MAX)
        .map(half::f16::from_bits)
        .filter(|x| x.is_finite())
        .collect();
    let mut out = Vec::new();
    StoredVector::Float2(&all).extend_into(&mut out);
    for (x, y) in all.iter().zip(&out) {
        assert_eq!(x.to_f32().to_bits(), y.to_bits());
    }
}

/// Every tuple kind and the meta page, byte for byte as indexes on disk
/// hold them (written by the code of format 7 before its headers became
/// typed views): a change to a layout fails here, not in a user's index.
mod golden {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn formats_are_byte_for_byte_what_indexes_hold() {
        let meta = Meta {
            dimensions: 784,
            m: 16,
            ef_construction: 64,
            metric: Metric::Cosine,
            entry: NodeId::new(7, 3),
            entry_level: 2,
            insert_block: 9,
            element_count: 123_456,
            walk_first_batch_visits: 936,
            walk_visits_per_row_milli: 12_900,
            code_bits: 8,
            code_bytes: 788,
            quantizer_blocks: 2,
            quantizer_bytes: 6_280,
            filter_head: 40,
            filter_insert_block: 41,
            filter_directory: true,
        };
        assert_eq!(hex(&meta.encode()), "534856510700000010030000100040000302070000000300090000002800000040e2010000000000a80300006432000008011403020000008818000029000000");
        assert_eq!(Meta::decode(&meta.encode()), Ok(meta));
        let header = ElementHeader {
            level: 1,
            deleted: true,
            width: ElementWidth::Float2,
            heap_tids: vec![HeapTid::new(5, 1), HeapTid::new(0x0102_0304, 0x0506)],
            neighbors: NodeId::new(11, 4),
            dimensions: 3,
            anchor: NodeId::new(12, 2),
            wide: false,
        };
        let mut element = encode_element(&header, &[1.0, -2.5, 0.5]);
        append_filter(&mut element, &[9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(hex(&element), "010123020b000000040003000500000001000403020106050000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0000000200003c00c100380000090807060504030201");
        assert_eq!(ElementHeader::decode(&element), Ok(header.clone()));
        let bits = ElementHeader {
            width: ElementWidth::Bit,
            deleted: false,
            dimensions: 10,
            ..header.clone()
        };
        let bit_values = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        assert_eq!(hex(&encode_element(&bits, &bit_values)), "010104020b00000004000a000500000001000403020106050000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0000000200b0c0");
        let wide = ElementHeader {
            wide: true,
            width: ElementWidth::Float4,
            ..header.clone()
        };
        let parts = [NodeId::new(20, 1), NodeId::new(21, 2)];
        assert_eq!(hex(&encode_wide_element(&wide, &parts)), "010111020b000000040003000500000001000403020106050000000000000000000000000000000000000000000000000000000000000000000000000000000000000c0000000200020000000000000014000000010000001500000002000000");
        let pieces: Vec<String> = encode_parts(&[1, 2, 3, 4, 5], 3)
            .iter()
            .map(|p| hex(p))
            .collect();
        assert_eq!(pieces, ["0300000003000000010203", "03000100020000000405"]);
        let shape = ListShape {
            m: 2,
            code_bytes: 3,
        };
        let mut neighbors = new_neighbor_tuple(1, shape);
        let ids = [NodeId::new(1, 2), NodeId::new(3, 4)];
        write_layer(&mut neighbors, shape, 0, &ids, &[1, 2, 3, 4, 5, 6]).unwrap();
        write_layer(&mut neighbors, shape, 1, &[NodeId::new(5, 6)], &[]).unwrap();
        assert_eq!(hex(&neighbors), "0201060003000000010000000200010203030000000400040506000000000000000000000000000000000000050000000600000000000000");
        let entry = encode_filter_entry(NodeId::new(0x0a0b_0c0d, 0x0e0f), &[0; 16]);
        assert_eq!(hex(&entry), "0d0c0b0a0f0e00000000000000000000");
        assert_eq!(hex(&encode_special(PAGE_KIND_FILTERS)), "ffffffff040097ff");
    }
}
