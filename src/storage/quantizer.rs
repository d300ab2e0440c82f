//! Neighbor codes on pages: the quantizer an index's codes come from, stored
//! on the pages right after the meta page, and read once per backend.

use super::buffer::{check_page, corrupted, item, Lock, LockedBuffer};
use crate::page::{self, Meta, Metric};
use crate::quant::{CodeMetric, Prepared, Quantizer};
use pgrx::pg_sys;
use std::cell::RefCell;
use std::rc::Rc;

/// The codes of an index: its quantizer, and the distance they estimate.
#[derive(Debug, PartialEq)]
pub struct IndexCodes {
    pub quantizer: Quantizer,
    pub metric: CodeMetric,
}

pub fn code_metric(metric: Metric) -> CodeMetric {
    match metric {
        Metric::L2 => CodeMetric::L2Squared,
        // Vectors are normalized for cosine: -dot orders as the index does.
        Metric::InnerProduct | Metric::Cosine => CodeMetric::NegativeDot,
        Metric::L1 => CodeMetric::L1,
        // Bits are 0 or 1: their Hamming distance is their L1 distance. (The
        // index refuses neighbor codes on bits; this keeps the match whole.)
        Metric::Hamming | Metric::Jaccard => CodeMetric::L1,
    }
}

impl IndexCodes {
    pub fn stored_bytes(&self) -> usize {
        self.quantizer.stored_bytes()
    }

    /// Appends the stored code of `vector`.
    pub fn encode(&self, vector: &[f32], out: &mut Vec<u8>) {
        self.quantizer.encode_stored(vector, self.metric, out)
    }

    pub fn prepare(&self, query: &[f32]) -> Prepared {
        self.quantizer.prepare(query, self.metric)
    }

    /// How much wider than ef_search a walk over these codes searches: 1-bit
    /// codes rank too coarsely for the plain beam (see BENCHMARKS.md).
    pub fn beam(&self, ef: usize) -> usize {
        match self.quantizer.bits() {
            1 => ef * 2,
            4 => ef * 3 / 2,
            _ => ef,
        }
    }
}

/// Bytes of quantizer one page holds, as one item.
pub fn chunk_bytes() -> usize {
    super::buffer::page_capacity() - super::buffer::item_footprint(0) - 8
}

/// The quantizer's bytes split into what each of its pages holds.
pub fn chunks(bytes: &[u8]) -> std::slice::Chunks<'_, u8> {
    bytes.chunks(chunk_bytes())
}

/// The quantizer stored on `blocks` pages from `first`, `bytes` long.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn read_quantizer(rel: pg_sys::Relation, first: u32, blocks: u32, bytes: u32) -> Quantizer {
    let mut stored = Vec::with_capacity(bytes as usize);
    for block in first..first + blocks {
        let buffer = LockedBuffer::read(rel, block, Lock::Share);
        // SAFETY: pinned and share-locked while read.
        unsafe {
            check_page(rel, buffer.page(), block, page::PAGE_KIND_CODES);
            stored.extend_from_slice(item(rel, buffer.page(), block, 1));
        }
    }
    if stored.len() != bytes as usize {
        corrupted(
            rel,
            first,
            1,
            format!("quantizer of {} bytes, expected {bytes}", stored.len()),
        );
    }
    Quantizer::from_bytes(&stored).unwrap_or_else(|e| corrupted(rel, first, 1, e))
}

/// An index's oid, its file (relfilenode) and its quantizer's size.
type LoadedKey = (pg_sys::Oid, pg_sys::Oid, u32);

thread_local! {
    /// The codes of the last few indexes this backend used, by index, file and
    /// quantizer size: a REINDEX or TRUNCATE gives the index a new file.
    static LOADED: RefCell<Vec<(LoadedKey, Rc<IndexCodes>)>> = const { RefCell::new(Vec::new()) };
}

const LOADED_INDEXES: usize = 8;

/// The index's codes, or None when it has none.
// `rel` is an open relation: see `storage`.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn load(rel: pg_sys::Relation, meta: &Meta) -> Option<Rc<IndexCodes>> {
    if meta.code_bits == 0 {
        return None;
    }
    // SAFETY: an open relation.
    let key = unsafe {
        (
            (*rel).rd_id,
            (*(*rel).rd_rel).relfilenode,
            meta.quantizer_bytes,
        )
    };
    if let Some(found) = LOADED.with_borrow(|loaded| {
        loaded
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| c.clone())
    }) {
        return Some(found);
    }
    let quantizer = read_quantizer(
        rel,
        page::META_BLOCK + 1,
        meta.quantizer_blocks,
        meta.quantizer_bytes,
    );
    let codes = IndexCodes {
        quantizer,
        metric: code_metric(meta.metric),
    };
    if codes.stored_bytes() != meta.code_bytes as usize
        || codes.quantizer.bits() != meta.code_bits
        || codes.quantizer.dimensions() != meta.dimensions as usize
    {
        corrupted(
            rel,
            page::META_BLOCK,
            0,
            "the quantizer does not match the meta page",
        );
    }
    let codes = Rc::new(codes);
    LOADED.with_borrow_mut(|loaded| {
        if loaded.len() >= LOADED_INDEXES {
            loaded.remove(0);
        }
        loaded.push((key, codes.clone()));
    });
    Some(codes)
}
