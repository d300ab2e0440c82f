//! Writes seed inputs for a fuzz target into its corpus directory: valid
//! encodings made by the formats' own encoders, so that fuzzing starts from
//! inputs past the magic numbers and length checks. Usage: seeds DIR TARGET.
use quiver_fuzz::page::{
    self, ElementHeader, ElementWidth, HeapTid, ListShape, Meta, Metric, NodeId,
};
use quiver_fuzz::quant::{CodeMetric, Quantizer};
use quiver_fuzz::types::{sparse, wire};
use std::path::Path;
// Linked for the coverage counters' symbols that the instrumented library refers to.
use libfuzzer_sys as _;

fn element(width: ElementWidth, dimensions: u16) -> Vec<u8> {
    let header = ElementHeader {
        level: 1,
        deleted: false,
        width,
        heap_tids: vec![HeapTid::new(3, 4), HeapTid::new(5, 6)],
        neighbors: NodeId::new(1, 2),
        dimensions,
        anchor: NodeId::NONE,
        wide: false,
    };
    let vector: Vec<f32> = (0..dimensions).map(|i| i as f32 - 2.5).collect();
    page::encode_element(&header, &vector)
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let rows: Vec<Vec<f32>> = (0..20)
        .map(|r| {
            (0..12)
                .map(|d| ((r * 7 + d * 3) % 11) as f32 - 5.0)
                .collect()
        })
        .collect();
    match target {
        "vector_text" => [
            "[1,2.5,-3e-07]",
            " [ 1e+06 , -0 ] ",
            "[3.4028235e+38,1e-45]",
        ]
        .map(|s| s.as_bytes().to_vec())
        .to_vec(),
        "sparsevec_text" => ["{1:1.5,3:2}/5", "{}/1", " { 2 : -1e-3 } / 1000000000 "]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        "binary_receive" => {
            let dense = wire::encode_dense(&[1.5f32.to_bits(), (-2.0f32).to_bits()], 4);
            let halves = wire::encode_dense(&[0x3C00, 0xC000, 0x0001], 2);
            let sparse = wire::encode_sparse(&sparse::Sparse {
                dim: 5,
                indices: vec![0, 3],
                values: vec![1.0, -2.0],
            });
            vec![
                [&[0u8, 0][..], &dense].concat(),
                [&[1u8, 0][..], &halves].concat(),
                [&[2u8, 0][..], &sparse].concat(),
            ]
        }
        "typmod" => vec![
            3i32.to_le_bytes().to_vec(),
            [16000i32.to_le_bytes(), 2i32.to_le_bytes()].concat(),
        ],
        "index_options" => {
            vec![quiver_fuzz::am::hnsw::options::stored::encode(16, 64, true).to_vec()]
        }
        "meta_page" => {
            let meta = Meta {
                dimensions: 3,
                m: 16,
                ef_construction: 64,
                metric: Metric::Cosine,
                entry: NodeId::new(1, 1),
                entry_level: 2,
                insert_block: 1,
                element_count: 10,
                walk_first_batch_visits: 0,
                walk_visits_per_row_milli: 0,
                code_bits: 8,
                code_bytes: 7,
                quantizer_blocks: 1,
                quantizer_bytes: 40,
                filter_head: 0,
                filter_insert_block: 0,
                filter_directory: false,
            };
            vec![
                meta.encode().to_vec(),
                [
                    &meta.encode()[..],
                    &page::encode_special(page::PAGE_KIND_META)[..],
                ]
                .concat(),
            ]
        }
        "element_tuple" => {
            let mut with_filter = element(ElementWidth::Float4, 3);
            page::append_filter(&mut with_filter, &[0, 0, 0, 0, 0, 0, 12, 0, 42, 0, 0, 0]);
            let mut wide_header =
                page::ElementHeader::decode(&element(ElementWidth::Float2, 4)).expect("an element");
            wide_header.wide = true;
            let wide =
                page::encode_wide_element(&wide_header, &[NodeId::new(9, 1), NodeId::new(10, 1)]);
            let mut sparse_packed = Vec::new();
            quiver_fuzz::kernels::sparse::pack(&[1, 4], &[0.5, -1.0], 5, &mut sparse_packed);
            let sparse_header = ElementHeader {
                dimensions: 5,
                ..page::ElementHeader::decode(&element(ElementWidth::Sparse, 0))
                    .expect("an element")
            };
            let sparse_element = page::encode_element(&sparse_header, &sparse_packed);
            let part = page::encode_parts(&[1, 2, 3, 4, 5, 6, 7, 8], 5).remove(0);
            // The first two bytes are the dimensions the target reads first.
            [
                element(ElementWidth::Float4, 3),
                element(ElementWidth::Float2, 5),
                element(ElementWidth::Bit, 13),
                with_filter,
                wide,
                sparse_element,
                part,
            ]
            .into_iter()
            .enumerate()
            .map(|(i, tuple)| {
                [
                    &[[0u8, 0, 1, 1, 3, 0, 1][i], [3u8, 1, 1, 3, 0, 1, 0][i]][..],
                    &tuple,
                ]
                .concat()
            })
            .collect()
        }
        "neighbor_tuple" => {
            let mut out = Vec::new();
            for (m, code_bytes, level) in [(4usize, 0usize, 0usize), (2, 3, 2), (16, 8, 1)] {
                let shape = ListShape { m, code_bytes };
                let mut tuple = page::new_neighbor_tuple(level, shape);
                let ids = [NodeId::new(1, 1), NodeId::new(2, 3)];
                page::write_layer(&mut tuple, shape, 0, &ids, &vec![5; 2 * code_bytes])
                    .expect("fits");
                if level > 0 {
                    page::write_layer(&mut tuple, shape, level, &ids[..1], &[]).expect("fits");
                }
                out.push([&[m as u8, code_bytes as u8][..], &tuple].concat());
            }
            out
        }
        "code_page" => {
            let sample = || rows.iter().map(|r| r.as_slice());
            let mut out = Vec::new();
            for quantizer in [
                Quantizer::choose(sample(), 12, CodeMetric::L2Squared, 20)
                    .expect("8-bit codes fit"),
                Quantizer::choose(sample(), 12, CodeMetric::L1, 10).expect("4-bit codes fit"),
                Quantizer::choose(sample(), 12, CodeMetric::NegativeDot, 10)
                    .expect("1-bit codes fit"),
            ] {
                let mut bytes = quantizer.to_bytes();
                for row in rows.iter().take(3) {
                    quantizer.encode_stored(row, CodeMetric::L2Squared, &mut bytes);
                }
                out.push(bytes);
            }
            out
        }
        "filter_entry" => vec![page::encode_filter_entry(
            NodeId::new(7, 3),
            &[0, 0, 0, 0, 0, 0, 12, 0, 1, 2, 3, 4],
        )],
        "filter_values" => {
            // kind Int32, cursor 0, align 4, no fixed columns, then an int4[] of 3 elements.
            let mut array = vec![0u8; 4];
            for x in [1i32, 0, 23, 3, 1] {
                array.extend_from_slice(&x.to_ne_bytes());
            }
            array.extend_from_slice(&[0; 4]);
            for x in [5i32, -1, 5] {
                array.extend_from_slice(&x.to_ne_bytes());
            }
            let length = array.len() as u32;
            array[..4].copy_from_slice(&(length << 2).to_ne_bytes());
            vec![
                [&[1u8, 0, 4, 0][..], &array].concat(),
                [
                    &[1u8, 0, 4, 2, 4, 4, 0xFF, 4][..],
                    &[0, 0, 0, 0, 9, 0, 0, 0],
                    &array,
                ]
                .concat(),
            ]
        }
        _ => Vec::new(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, target] = &args[..] else {
        eprintln!("usage: seeds DIR TARGET");
        std::process::exit(2);
    };
    for (i, seed) in seeds(target).into_iter().enumerate() {
        std::fs::write(Path::new(dir).join(format!("seed-{i}")), seed)
            .expect("the corpus directory is writable");
    }
}
