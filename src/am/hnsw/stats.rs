//! What `quiver_index_stats(regclass)` reports of an hnsw index, read from its
//! pages: its parameters, elements per layer, deleted elements, the average
//! number of neighbors on the bottom layer, size, and neighbor codes.

use super::IndexSpec;
use crate::am::inspect::{metric_name, IndexStats};
use crate::page::{self, ElementHeader};
use crate::storage::meta::read_meta;
use crate::storage::walk::{block_count, for_each_graph_tuple, GraphTuple};
use pgrx::pg_sys;

/// What an hnsw index holds.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn stats(index: pg_sys::Relation) -> IndexStats {
    {
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
        let metric = metric_name(meta.metric);
        let codes = match meta.code_bits {
            0 => "off".to_string(),
            bits => format!(
                "{bits} bit{} per dimension, {} bytes per neighbor",
                if bits == 1 { "" } else { "s" },
                meta.code_bytes
            ),
        };
        IndexStats {
            indexed_type: spec.column.indexed_type.name().to_string(),
            dimensions: meta.dimensions as i32,
            metric: metric.to_string(),
            m: Some(meta.m as i32),
            ef_construction: Some(meta.ef_construction as i32),
            elements,
            heap_tuples,
            deleted_elements: Some(deleted),
            elements_per_layer: Some(per_layer),
            average_degree: Some(if lists == 0 {
                0.0
            } else {
                links as f64 / lists as f64
            }),
            wide_elements: Some(wide),
            neighbor_codes: Some(codes),
            pages,
            access_method: "hnsw".into(),
            lists: None,
            trained: None,
            list_sizes: None,
        }
    }
}
