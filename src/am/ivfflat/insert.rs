//! aminsert: a row joins the list of its nearest center, as its code; in an
//! untrained index it joins the pending rows, whole, and the insert that
//! brings them to enough rows trains the index (`train::train_pending`).

use super::train::{assign, train_pending};
use super::IndexSpec;
use crate::am::filter::FilterColumns;
use crate::am::heap_tid;
use crate::page;
use crate::storage::buffer::page_capacity;
use crate::storage::ivf::{add_entry, add_pending, load_trained};
use crate::storage::meta::read_ivf_meta;
use crate::storage::xlog::Logging;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

/// # Safety
/// Postgres calls it as the access method's aminsert: the open index, a
/// value and null flag per key column, and the heap tuple's TID.
// Postgres' aminsert signature.
#[allow(clippy::too_many_arguments)]
#[pg_guard]
pub unsafe extern "C-unwind" fn aminsert(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    tid: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _index_info: *mut pg_sys::IndexInfo,
) -> bool {
    // SAFETY: Postgres passes each key column's value and null flag; a row
    // without a vector is not indexed.
    if unsafe { *isnull } {
        return false;
    }
    // SAFETY: as above: the vector's value, not null.
    let datum = unsafe { *values };
    // SAFETY: Postgres passes the TID of the heap tuple to index.
    let tid = unsafe { heap_tid(tid) };
    let spec = IndexSpec::cached(index);
    let insert = |_: &mut PgMemoryContexts| {
        // SAFETY: a non-null datum of the indexed type.
        let raw = unsafe { spec.column.values_of(datum) };
        super::build::check_dimensions(&spec, raw.len());
        let Some(prepared) = spec.prepare(&raw) else {
            return;
        };
        // SAFETY: as above, a value per key column.
        let filter = FilterColumns::of(index)
            .map(|columns| unsafe { columns.form(values, isnull) })
            .unwrap_or_default();
        loop {
            let meta = read_ivf_meta(index);
            if !meta.trained {
                let row = page::encode_pending(tid, &raw, spec.column.width, &filter);
                check_fits(&row);
                match add_pending(index, &row, Logging::Wal) {
                    Some(pending) => {
                        if pending as u64 >= spec.rows_to_train() {
                            train_pending(index, &spec);
                        }
                        return;
                    }
                    // Trained since the meta page was read: into a list.
                    None => continue,
                }
            }
            let trained = load_trained(index, &meta, spec.metric, spec.column.width);
            let list = assign(spec.metric, trained.center_rows(), &prepared);
            let mut code = Vec::with_capacity(trained.codes.stored_bytes());
            trained
                .codes
                .encode(&prepared, trained.center(list), &mut code);
            let entry = page::encode_entry(tid, &code, &filter);
            check_fits(&entry);
            add_entry(index, &trained, list, &entry, Logging::Wal);
            return;
        }
    };
    // Detoasted vectors and filter values are freed with the insert.
    // SAFETY: a context of our own, deleted when dropped.
    unsafe { PgMemoryContexts::new("quiver ivfflat insert").switch_to(insert) };
    false
}

/// A row must fit on a page of its list.
fn check_fits(tuple: &[u8]) {
    let most = page_capacity() - crate::storage::buffer::item_footprint(0);
    if tuple.len() > most {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "index row size {} exceeds ivfflat maximum, {most}",
                tuple.len()
            ),
            "Its filter values are too large for a page: index fewer or smaller filter columns."
        );
    }
}
