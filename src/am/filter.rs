//! Filter columns: the key columns after the vector in
//! `CREATE INDEX ... USING hnsw (embedding vector_l2_ops, tenant_id, labels)`.
//! Each element keeps its row's values of them in PostgreSQL's index tuple
//! format (`page::append_filter`), and a scan checks the query's conditions
//! on them (its scan keys) before it hands a row out, so a row the `WHERE`
//! rejects costs no heap fetch. The walk still goes through such elements.

use pgrx::pg_sys;
use pgrx::prelude::*;

/// Most bytes of filter values one element carries (index tuple header
/// included): with the vector and its neighbor list they share a page.
pub const MAX_FILTER_BYTES: usize = 1024;

/// The filter columns' tuple descriptor: the index's columns after the first.
/// The descriptor lives in the memory context current when it was made.
#[derive(Clone, Copy)]
pub struct FilterColumns {
    desc: pg_sys::TupleDesc,
    count: usize,
}

impl FilterColumns {
    /// None for an index on the vector alone.
    pub fn of(index: pg_sys::Relation) -> Option<FilterColumns> {
        // SAFETY: an open index has rd_index and rd_att with indnkeyatts key columns.
        unsafe {
            let columns = (*(*index).rd_index).indnkeyatts as usize;
            if columns <= 1 {
                return None;
            }
            let count = columns - 1;
            let desc = pg_sys::CreateTemplateTupleDesc(count as i32);
            for column in 0..count {
                pg_sys::TupleDescCopyEntry(desc, (column + 1) as i16, (*index).rd_att, (column + 2) as i16);
            }
            Some(FilterColumns { desc, count })
        }
    }

    /// The filter values of a row whose index columns are `values` and
    /// `isnull` (the vector first), as an element stores them.
    ///
    /// # Safety
    /// `values` and `isnull` hold one entry per key column of the index.
    pub unsafe fn form(&self, values: *const pg_sys::Datum, isnull: *const bool) -> Vec<u8> {
        // SAFETY: the caller's promise; index_form_tuple detoasts and copies.
        unsafe {
            let tuple = pg_sys::index_form_tuple(self.desc, values.add(1).cast_mut(), isnull.add(1).cast_mut());
            let size = ((*tuple).t_info as u32 & pg_sys::INDEX_SIZE_MASK) as usize;
            if size > MAX_FILTER_BYTES {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                    format!("filter values of {size} bytes exceed the {MAX_FILTER_BYTES} an hnsw index keeps per row"),
                    "Keep long text or large arrays out of the index's filter columns; filter on them in WHERE alone."
                );
            }
            let bytes = std::slice::from_raw_parts(tuple.cast::<u8>(), size).to_vec();
            pg_sys::pfree(tuple.cast());
            bytes
        }
    }
}

/// What one scan key asks of its column.
enum Test {
    /// `column <operator> argument`.
    Compare(pg_sys::Datum),
    /// `column <operator> ANY (array)`: the array's non-null elements.
    AnyOf(Vec<pg_sys::Datum>),
    IsNull,
    IsNotNull,
}

struct Key {
    column: usize,
    /// The operator's function, in the scan's key array.
    function: *mut pg_sys::FmgrInfo,
    collation: pg_sys::Oid,
    test: Test,
}

/// The conditions of one scan on the filter columns.
pub struct ScanFilter {
    columns: FilterColumns,
    keys: Vec<Key>,
    /// A condition no row meets (a comparison with NULL).
    never: bool,
    values: Vec<pg_sys::Datum>,
    nulls: Vec<bool>,
    /// An element's filter values, copied 8-byte aligned for deforming.
    aligned: Vec<u64>,
}

impl ScanFilter {
    /// The scan's keys on `columns`, which must stay where they are while
    /// the scan runs (`keyData` of the scan descriptor). None when there are none.
    ///
    /// # Safety
    /// `keys` points at `count` initialized scan keys of the index `columns` belong to.
    pub unsafe fn new(columns: Option<FilterColumns>, keys: pg_sys::ScanKey, count: usize) -> Option<ScanFilter> {
        if count == 0 {
            return None;
        }
        let columns = columns?;
        let mut filter = ScanFilter {
            keys: Vec::with_capacity(count),
            never: false,
            values: vec![pg_sys::Datum::from(0usize); columns.count],
            nulls: vec![false; columns.count],
            aligned: Vec::new(),
            columns,
        };
        for i in 0..count {
            // SAFETY: the caller's promise.
            let key = unsafe { &mut *keys.add(i) };
            let flags = key.sk_flags as u32;
            if key.sk_attno < 2 || key.sk_attno as usize > filter.columns.count + 1 {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!("hnsw cannot check a condition on index column {}", key.sk_attno)
                );
            }
            let test = if flags & pg_sys::SK_ISNULL != 0 {
                if flags & pg_sys::SK_SEARCHNULL != 0 {
                    Test::IsNull
                } else if flags & pg_sys::SK_SEARCHNOTNULL != 0 {
                    Test::IsNotNull
                } else {
                    // `column < NULL` is never true.
                    filter.never = true;
                    continue;
                }
            } else if flags & pg_sys::SK_SEARCHARRAY != 0 {
                // SAFETY: an array argument of a ScalarArrayOpExpr key.
                Test::AnyOf(unsafe { array_elements(key.sk_argument) })
            } else {
                Test::Compare(key.sk_argument)
            };
            filter.keys.push(Key {
                column: key.sk_attno as usize - 2,
                function: &mut key.sk_func,
                collation: key.sk_collation,
                test,
            });
        }
        Some(filter)
    }

    /// Whether an element with these filter values (empty: it has none)
    /// meets every condition.
    pub fn matches(&mut self, stored: &[u8]) -> bool {
        if self.never || stored.is_empty() {
            return false;
        }
        self.aligned.clear();
        self.aligned.resize(stored.len().div_ceil(8), 0);
        // SAFETY: `aligned` has room for `stored`; the bytes are an index
        // tuple of the filter columns (the element's own, written by `form`).
        unsafe {
            std::ptr::copy_nonoverlapping(stored.as_ptr(), self.aligned.as_mut_ptr().cast::<u8>(), stored.len());
            pg_sys::index_deform_tuple(
                self.aligned.as_mut_ptr().cast(),
                self.columns.desc,
                self.values.as_mut_ptr(),
                self.nulls.as_mut_ptr(),
            );
        }
        self.keys.iter().all(|key| {
            let (value, null) = (self.values[key.column], self.nulls[key.column]);
            // SAFETY: the key's function takes the column's type and the argument's.
            let holds = |argument| unsafe {
                pg_sys::FunctionCall2Coll(key.function, key.collation, value, argument).value() != 0
            };
            match &key.test {
                Test::IsNull => null,
                Test::IsNotNull => !null,
                // The operators are strict: NULL meets no comparison.
                Test::Compare(argument) => !null && holds(*argument),
                Test::AnyOf(elements) => !null && elements.iter().any(|&element| holds(element)),
            }
        })
    }
}

/// The non-null elements of an array datum.
///
/// # Safety
/// `datum` is a non-null array.
unsafe fn array_elements(datum: pg_sys::Datum) -> Vec<pg_sys::Datum> {
    // SAFETY: the caller's promise; the detoasted array lives in the scan's context.
    unsafe {
        let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast::<pg_sys::ArrayType>();
        let element_type = (*array).elemtype;
        let (mut length, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(element_type, &mut length, &mut by_value, &mut align);
        let (mut elements, mut nulls, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        pg_sys::deconstruct_array(array, element_type, length as i32, by_value, align, &mut elements, &mut nulls, &mut count);
        (0..count as usize).filter(|&i| !*nulls.add(i)).map(|i| *elements.add(i)).collect()
    }
}
