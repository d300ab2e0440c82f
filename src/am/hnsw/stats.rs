//! `quiver_index_stats(regclass)`: what an hnsw index holds, read from its
//! pages: its parameters, elements per layer, deleted elements, the average
//! number of neighbors on the bottom layer, size, and neighbor codes.

use super::check::with_hnsw_index;
use super::IndexSpec;
use crate::page::{self, ElementHeader, Metric};
use crate::storage::meta::read_meta;
use crate::storage::walk::{block_count, for_each_graph_tuple, GraphTuple};
use pgrx::prelude::*;

// pgrx reads the result columns from this signature: an alias would hide them.
#[allow(clippy::type_complexity)]
#[pg_extern(sql = false)]
fn quiver_index_stats(
    index_oid: pg_sys::Oid,
) -> TableIterator<
    'static,
    (
        name!(indexed_type, String),
        name!(dimensions, i32),
        name!(metric, String),
        name!(m, i32),
        name!(ef_construction, i32),
        name!(elements, i64),
        name!(heap_tuples, i64),
        name!(deleted_elements, i64),
        name!(elements_per_layer, Vec<i64>),
        name!(average_degree, f64),
        name!(wide_elements, i64),
        name!(neighbor_codes, String),
        name!(pages, i64),
        name!(size_bytes, i64),
    ),
> {
    let row = with_hnsw_index(index_oid, |index| {
        let spec = IndexSpec::cached(index);
        let meta = read_meta(index);
        let shape = meta.list_shape();
        let (mut elements, mut heap_tuples, mut deleted, mut wide) = (0i64, 0i64, 0i64, 0i64);
        let mut per_layer: Vec<i64> = Vec::new();
        let (mut lists, mut links) = (0i64, 0i64);
        let mut ids = Vec::new();
        for_each_graph_tuple(
            index,
            &meta,
            |id, tuple| match tuple {
                GraphTuple::Element(tuple) => {
                    let header = ElementHeader::decode(tuple).unwrap_or_else(|e| {
                        crate::storage::buffer::corrupted(index, id.block(), id.offset(), e)
                    });
                    if header.deleted || header.heap_tids.is_empty() {
                        deleted += 1;
                        return;
                    }
                    elements += 1;
                    heap_tuples += header.heap_tids.len() as i64;
                    wide += header.wide as i64;
                    let level = header.level as usize;
                    if per_layer.len() <= level {
                        per_layer.resize(level + 1, 0);
                    }
                    per_layer[..=level].iter_mut().for_each(|count| *count += 1);
                }
                GraphTuple::Neighbors(tuple) => {
                    ids.clear();
                    if page::read_layer(tuple, shape, 0, &mut ids).is_ok() {
                        lists += 1;
                        links += ids.len() as i64;
                    }
                }
                _ => {}
            },
            |_| {},
        );
        let pages = block_count(index) as i64;
        let metric = match meta.metric {
            Metric::L2 => "l2",
            Metric::InnerProduct => "inner product",
            Metric::Cosine => "cosine",
            Metric::L1 => "l1",
            Metric::Hamming => "hamming",
            Metric::Jaccard => "jaccard",
        };
        let codes = match meta.code_bits {
            0 => "off".to_string(),
            bits => format!(
                "{bits} bit{} per dimension, {} bytes per neighbor",
                if bits == 1 { "" } else { "s" },
                meta.code_bytes
            ),
        };
        (
            spec.column.indexed_type.name().to_string(),
            meta.dimensions as i32,
            metric.to_string(),
            meta.m as i32,
            meta.ef_construction as i32,
            elements,
            heap_tuples,
            deleted,
            per_layer,
            if lists == 0 {
                0.0
            } else {
                links as f64 / lists as f64
            },
            wide,
            codes,
            pages,
            pages * pg_sys::BLCKSZ as i64,
        )
    });
    TableIterator::once(row)
}
