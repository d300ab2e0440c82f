//! ivfflat's page formats: the meta page, centers, list entries and
//! pending rows, byte for byte and round trips.

use super::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The layouts as format 1 writes them: the meta page, a center, a list
/// entry and a pending row.
#[test]
fn ivf_golden_layouts() {
    let ivf = IvfMeta {
        trained: true,
        code_bits: 8,
        code_bytes: 7,
        first_quantizer_block: 1,
        quantizer_blocks: 1,
        quantizer_bytes: 40,
        first_center_block: 2,
        center_blocks: 1,
        rows: 5,
        generation: 1,
        ..IvfMeta::empty(3, Metric::L2, 4)
    };
    assert_eq!(hex(&ivf.encode()), "5649565101000000030000000101080004000000070000000100000001000000280000000200000001000000ffffffffffffffff000000000500000000000000010000000000000000000000");
    let center = encode_center(
        ListPages { head: 3, insert: 4 },
        &[1.0, 2.0],
        ElementWidth::Float4,
    );
    assert_eq!(
        hex(&center),
        "040000000300000004000000000000000000803f00000040"
    );
    assert_eq!(
        hex(&encode_entry(HeapTid::new(2, 5), &[7; 3], &[1])),
        "0501020000000500070707000000000001"
    );
    assert_eq!(
        hex(&encode_pending(
            HeapTid::new(2, 6),
            &[1.0],
            ElementWidth::Float4,
            &[]
        )),
        "06000200000006000000803f"
    );
}

#[test]
fn ivf_meta_round_trips_and_rejects_damage() {
    let meta = IvfMeta {
        trained: true,
        code_bits: 8,
        code_bytes: 388,
        first_quantizer_block: 1,
        quantizer_blocks: 1,
        quantizer_bytes: 3080,
        first_center_block: 2,
        center_blocks: 3,
        pending_rows: 0,
        rows: 60_000,
        generation: 2,
        ..IvfMeta::empty(384, Metric::Cosine, 245)
    };
    let bytes = meta.encode();
    assert_eq!(IvfMeta::decode(&bytes), Ok(meta));
    assert_eq!(
        IvfMeta::decode(&bytes[..10]),
        Err(FormatError::TooShort {
            needed: IVF_META_SIZE,
            found: 10
        })
    );
    let mut future = bytes;
    future[4] = 9;
    assert_eq!(
        IvfMeta::decode(&future),
        Err(FormatError::UnsupportedVersion(9))
    );
    // An hnsw meta page is no IVF one.
    let mut hnsw = Meta::empty(3, 16, 64, Metric::L2).encode().to_vec();
    hnsw.resize(IVF_META_SIZE, 0);
    assert_eq!(IvfMeta::decode(&hnsw), Err(FormatError::BadMagic));
    let mut no_lists = bytes;
    no_lists[16..20].copy_from_slice(&0u32.to_le_bytes());
    assert!(IvfMeta::decode(&no_lists).is_err());
}

#[test]
fn ivf_rows_round_trip_with_and_without_filter_values() {
    let tid = HeapTid::new(7, 3);
    let entry = encode_entry(tid, &[1, 2, 3, 4, 5], &[]);
    assert_eq!(entry.len(), entry_size(5, 0));
    assert_eq!(
        decode_entry(&entry, 5),
        Ok(ListEntry {
            tid,
            code: &[1u8, 2, 3, 4, 5][..],
            filter: None
        })
    );
    let filtered = encode_entry(tid, &[9; 5], &[1, 2, 3]);
    assert_eq!(filtered.len(), entry_size(5, 3));
    assert_eq!(
        decode_entry(&filtered, 5).unwrap().filter,
        Some(&[1u8, 2, 3][..])
    );
    assert!(
        decode_entry(&entry, 6).is_err(),
        "a code longer than the entry"
    );
    assert!(decode_entry(&entry[..4], 5).is_err());
    let pending = encode_pending(tid, &[1.0, -2.5], ElementWidth::Float4, &[]);
    let aligned = Gathered::default();
    let mut aligned = aligned;
    aligned.push(&pending);
    assert_eq!(
        decode_pending(aligned.bytes(), 2, ElementWidth::Float4),
        Ok(PendingRow {
            tid,
            vector: StoredVector::Float4(&[1.0, -2.5]),
            filter: None
        })
    );
    assert!(
        decode_entry(&pending, 8).is_err(),
        "a pending row is no list entry"
    );
    let mut bad_flags = entry.clone();
    bad_flags[1] = 0x80;
    assert!(decode_entry(&bad_flags, 5).is_err());
}

#[test]
fn centers_round_trip_and_change_their_pages_in_place() {
    let pages = ListPages {
        head: 10,
        insert: 12,
    };
    let tuple = encode_center(pages, &[0.5, 1.5, -1.0], ElementWidth::Float4);
    assert_eq!(tuple.len(), center_size(3, ElementWidth::Float4));
    let mut aligned = Gathered::default();
    aligned.push(&tuple);
    let (got, center) = decode_center(aligned.bytes(), 3, ElementWidth::Float4).unwrap();
    assert_eq!(
        (got, center),
        (pages, StoredVector::Float4(&[0.5, 1.5, -1.0]))
    );
    let mut tuple = tuple;
    set_list_pages(
        &mut tuple,
        ListPages {
            head: 10,
            insert: 20,
        },
    )
    .unwrap();
    let mut aligned = Gathered::default();
    aligned.push(&tuple);
    assert_eq!(
        decode_center(aligned.bytes(), 3, ElementWidth::Float4)
            .unwrap()
            .0
            .insert,
        20
    );
    assert!(decode_center(&tuple[..8], 3, ElementWidth::Float4).is_err());
    assert!(decode_center(
        &encode_entry(HeapTid::new(1, 1), &[0; 16], &[]),
        3,
        ElementWidth::Float4
    )
    .is_err());
}
