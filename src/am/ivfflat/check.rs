//! What `quiver_check_index` checks and `quiver_index_stats` reports of an
//! ivfflat index (see `am::inspect`): its meta page, quantizer and centers,
//! every list's chain of pages and entries (each heap row in one list at
//! most), or the pending rows of an untrained index.

use super::IndexSpec;
use crate::am::inspect::{metric_name, IndexStats, MAX_PROBLEMS};
use crate::page::{HeapTid, IvfMeta};
use crate::storage::ivf::{for_each_entry, for_each_pending, load_trained};
use crate::storage::meta::decode_meta;
use crate::storage::walk::block_count;
use pgrx::pg_sys;
use std::collections::HashMap;

/// The structural check, problems appended to `problems`. A corruption
/// that stops it is an ERROR the caller reports as the last problem.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn check(index: pg_sys::Relation, problems: &mut Vec<String>) {
    let mut report = |problem: String| {
        if problems.len() < MAX_PROBLEMS {
            problems.push(problem);
        }
    };
    if block_count(index) == 0 {
        return report("the index has no meta page".into());
    }
    let meta = match decode_meta::<IvfMeta>(index) {
        Ok(meta) => meta,
        Err(e) => return report(format!("meta page: {e}")),
    };
    let spec = IndexSpec::cached(index);
    if meta.dimensions as usize != spec.column.dimensions {
        report(format!(
            "the meta page says {} dimensions, the column has {}",
            meta.dimensions, spec.column.dimensions
        ));
        return;
    }
    if !meta.trained {
        let mut rows = 0u64;
        for_each_pending(index, &meta, spec.column.width, None, |_| {
            rows += 1;
            true
        });
        if rows != meta.pending_rows as u64 {
            report(format!(
                "the meta page says {} pending rows, the pending list holds {rows}",
                meta.pending_rows
            ));
        }
        return;
    }
    let trained = load_trained(index, &meta, spec.metric, spec.column.width);
    let mut seen: HashMap<HeapTid, usize> = HashMap::new();
    for list in 0..trained.lists() {
        pgrx::check_for_interrupts!();
        for_each_entry(index, &trained, list, |entry| {
            if let Some(other) = seen.insert(entry.tid, list) {
                report(format!(
                    "heap row ({},{}) is in list {other} and in list {list}",
                    entry.tid.block(),
                    entry.tid.offset()
                ));
            }
            true
        });
    }
}

/// What the index holds, read from its pages.
// `index` is an open relation: see `crate::storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn stats(index: pg_sys::Relation) -> IndexStats {
    let spec = IndexSpec::cached(index);
    let meta = crate::storage::meta::read_ivf_meta(index);
    let (rows, sizes) = if meta.trained {
        let trained = load_trained(index, &meta, spec.metric, spec.column.width);
        let sizes: Vec<i64> = (0..trained.lists())
            .map(|list| {
                let mut n = 0i64;
                for_each_entry(index, &trained, list, |_| {
                    n += 1;
                    true
                });
                n
            })
            .collect();
        (sizes.iter().sum(), Some(sizes))
    } else {
        let mut n = 0i64;
        for_each_pending(index, &meta, spec.column.width, None, |_| {
            n += 1;
            true
        });
        (n, None)
    };
    IndexStats {
        indexed_type: spec.column.indexed_type.name().to_string(),
        dimensions: meta.dimensions as i32,
        metric: metric_name(meta.metric).to_string(),
        m: None,
        ef_construction: None,
        elements: rows,
        heap_tuples: rows,
        deleted_elements: None,
        elements_per_layer: None,
        average_degree: None,
        wide_elements: None,
        neighbor_codes: None,
        pages: block_count(index) as i64,
        access_method: "ivfflat".into(),
        lists: Some(meta.lists as i32),
        trained: Some(meta.trained),
        list_sizes: sizes,
    }
}
