//! Filter columns: the key columns after the vector in
//! `CREATE INDEX ... USING hnsw (embedding vector_l2_ops, tenant_id, labels)`.
//! Each element keeps its row's values of them in PostgreSQL's index tuple
//! format (`page::append_filter`), and a scan checks the query's conditions
//! on them (its scan keys) before it hands a row out, so a row the `WHERE`
//! rejects costs no heap fetch. The walk still goes through such elements.

use crate::page::filter_values::{self, ArrayTest, Comparison, Value, ValueKind};
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
    // `index` is an open relation: see `storage`.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
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
                pg_sys::TupleDescCopyEntry(
                    desc,
                    (column + 1) as i16,
                    (*index).rd_att,
                    (column + 2) as i16,
                );
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
            let tuple = pg_sys::index_form_tuple(
                self.desc,
                values.add(1).cast_mut(),
                isnull.add(1).cast_mut(),
            );
            let size = ((*tuple).t_info as u32 & pg_sys::INDEX_SIZE_MASK) as usize;
            if size > MAX_FILTER_BYTES {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                    format!("filter values of {size} bytes exceed the {MAX_FILTER_BYTES} an index keeps per row"),
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
    /// Whether `ScanFilter::native` has the same test, done in place on a
    /// tuple without nulls.
    native: bool,
}

/// A key checked in place (`filter_values`).
enum NativeTest {
    /// The integer of `size` bytes at `offset` is in low..=high.
    IntRange {
        offset: usize,
        size: usize,
        low: i64,
        high: i64,
    },
    /// The value at `offset` of the tuple's data compares so with any of
    /// the arguments.
    Compare {
        offset: usize,
        kind: ValueKind,
        comparison: Comparison,
        arguments: Vec<Value>,
    },
    /// IS NULL or IS NOT NULL on a tuple without nulls.
    Constant(bool),
    /// `&&`, `@>` or `<@` on an integer array column that starts (the
    /// previous column ends) at `cursor`.
    Array {
        cursor: usize,
        align: usize,
        kind: ValueKind,
        test: ArrayTest,
        arguments: Vec<Value>,
        argument_has_null: bool,
    },
}

impl NativeTest {
    /// None when the value is not one to read in place (a compressed
    /// array, or one with nulls): the function decides.
    fn holds(&self, data: &[u8]) -> Option<bool> {
        match self {
            NativeTest::IntRange {
                offset,
                size,
                low,
                high,
            } => {
                let value = filter_values::read_int(data.get(*offset..)?, *size)?;
                Some(*low <= value && value <= *high)
            }
            NativeTest::Constant(result) => Some(*result),
            NativeTest::Compare {
                offset,
                kind,
                comparison,
                arguments,
            } => {
                let value = data.get(*offset..).and_then(|b| Value::read(*kind, b))?;
                Some(
                    arguments
                        .iter()
                        .any(|&argument| filter_values::compare(*comparison, value, argument)),
                )
            }
            NativeTest::Array {
                cursor,
                align,
                kind,
                test,
                arguments,
                argument_has_null,
            } => {
                let elements = filter_values::array_elements(
                    filter_values::varlena_at(data, *cursor, *align)?,
                    *kind,
                )?;
                Some(filter_values::array_holds(
                    *test,
                    elements,
                    *kind,
                    arguments,
                    *argument_has_null,
                ))
            }
        }
    }
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
    /// The keys' tests done in place, in key order.
    native: Vec<NativeTest>,
}

impl ScanFilter {
    /// The scan's keys on `columns`, which must stay where they are while
    /// the scan runs (`keyData` of the scan descriptor). None when there are none.
    ///
    /// # Safety
    /// `keys` points at `count` initialized scan keys of the index `columns` belong to.
    pub unsafe fn new(
        columns: Option<FilterColumns>,
        keys: pg_sys::ScanKey,
        count: usize,
    ) -> Option<ScanFilter> {
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
            native: Vec::new(),
            columns,
        };
        // SAFETY: the descriptor has `count` attributes.
        let offsets = unsafe { fixed_offsets(columns) };
        for i in 0..count {
            // SAFETY: the caller's promise.
            let key = unsafe { &mut *keys.add(i) };
            let flags = key.sk_flags as u32;
            if key.sk_attno < 2 || key.sk_attno as usize > filter.columns.count + 1 {
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                    format!(
                        "the index cannot check a condition on its column {}",
                        key.sk_attno
                    )
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
            let column = key.sk_attno as usize - 2;
            // SAFETY: the key's function is initialized; the column is the descriptor's.
            let native = unsafe {
                native_test(
                    &test,
                    &key.sk_func,
                    offsets[column],
                    filter.columns.type_of(column),
                )
            };
            let has_native = native.is_some();
            filter.native.extend(native);
            filter.keys.push(Key {
                column,
                function: &mut key.sk_func,
                collation: key.sk_collation,
                test,
                native: has_native,
            });
        }
        Some(filter)
    }

    /// Whether an element with these filter values (empty: it has none)
    /// meets every condition.
    pub fn matches(&mut self, stored: &[u8]) -> bool {
        if self.never || stored.len() < INDEX_TUPLE_HEADER {
            return false;
        }
        let no_nulls =
            u16::from_ne_bytes([stored[6], stored[7]]) as u32 & pg_sys::INDEX_NULL_MASK == 0;
        // Whether every key with a native test was decided by it.
        let mut decided = no_nulls;
        if no_nulls {
            let data = &stored[INDEX_TUPLE_HEADER..];
            for test in &self.native {
                match test.holds(data) {
                    Some(false) => return false,
                    Some(true) => {}
                    None => decided = false,
                }
            }
            if decided && self.native.len() == self.keys.len() {
                return true;
            }
        }
        // Values in a filter directory page are aligned already; an
        // element's, after its vector, are copied.
        let tuple = if stored.as_ptr().align_offset(8) == 0 {
            stored.as_ptr()
        } else {
            self.aligned.clear();
            self.aligned.resize(stored.len().div_ceil(8), 0);
            // SAFETY: `aligned` has room for `stored`.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    stored.as_ptr(),
                    self.aligned.as_mut_ptr().cast::<u8>(),
                    stored.len(),
                )
            };
            self.aligned.as_ptr().cast::<u8>()
        };
        // SAFETY: the bytes are an index tuple of the filter columns (an
        // element's own, written by `form`), 8-byte aligned.
        unsafe {
            pg_sys::index_deform_tuple(
                tuple.cast_mut().cast(),
                self.columns.desc,
                self.values.as_mut_ptr(),
                self.nulls.as_mut_ptr(),
            );
        }
        // Keys checked in place above need no second check.
        self.keys
            .iter()
            .filter(|k| !(decided && k.native))
            .all(|key| {
                let (value, null) = (self.values[key.column], self.nulls[key.column]);
                // SAFETY: the key's function takes the column's type and the argument's.
                let holds = |argument| unsafe {
                    pg_sys::FunctionCall2Coll(key.function, key.collation, value, argument).value()
                        != 0
                };
                match &key.test {
                    Test::IsNull => null,
                    Test::IsNotNull => !null,
                    // The operators are strict: NULL meets no comparison.
                    Test::Compare(argument) => !null && holds(*argument),
                    Test::AnyOf(elements) => {
                        !null && elements.iter().any(|&element| holds(element))
                    }
                }
            })
    }
}

/// An array test done in place, for arrays of int2, int4 and int8.
///
/// # Safety
/// For `Test::Compare`, the argument is a non-null array of the column's type.
unsafe fn native_array_test(
    test: &Test,
    array_test: ArrayTest,
    cursor: usize,
    type_id: pg_sys::Oid,
    length: i16,
) -> Option<NativeTest> {
    let Test::Compare(argument) = test else {
        return None;
    };
    // SAFETY: a catalog lookup of the column's type.
    let element_type = unsafe { pg_sys::get_element_type(type_id) };
    let kind = match element_type {
        pg_sys::INT2OID => ValueKind::Int16,
        pg_sys::INT4OID => ValueKind::Int32,
        pg_sys::INT8OID => ValueKind::Int64,
        _ => return None,
    };
    // SAFETY: the caller's promise.
    let (elements, argument_has_null) = unsafe { array_values(*argument) };
    let align = if kind == ValueKind::Int64 { 8 } else { 4 };
    let arguments = elements
        .iter()
        .map(|e| Value::from_datum(kind, e.value() as u64))
        .collect();
    (length == -1).then_some(NativeTest::Array {
        cursor,
        align,
        kind,
        test: array_test,
        arguments,
        argument_has_null,
    })
}

/// The non-null elements of an array datum.
///
/// # Safety
/// `datum` is a non-null array.
unsafe fn array_elements(datum: pg_sys::Datum) -> Vec<pg_sys::Datum> {
    // SAFETY: the caller's promise, which `array_values` needs.
    unsafe { array_values(datum) }.0
}

/// The non-null elements of an array datum, and whether it had nulls.
///
/// # Safety
/// `datum` is a non-null array.
unsafe fn array_values(datum: pg_sys::Datum) -> (Vec<pg_sys::Datum>, bool) {
    // SAFETY: the caller's promise; the detoasted array lives in the scan's context.
    unsafe {
        let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast::<pg_sys::ArrayType>();
        let element_type = (*array).elemtype;
        let (mut length, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(element_type, &mut length, &mut by_value, &mut align);
        let (mut elements, mut nulls, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        pg_sys::deconstruct_array(
            array,
            element_type,
            length as i32,
            by_value,
            align,
            &mut elements,
            &mut nulls,
            &mut count,
        );
        let has_null = (0..count as usize).any(|i| *nulls.add(i));
        (
            (0..count as usize)
                .filter(|&i| !*nulls.add(i))
                .map(|i| *elements.add(i))
                .collect(),
            has_null,
        )
    }
}

/// An index tuple's header (item pointer and t_info); in a tuple without
/// nulls the data follows at once (MAXALIGN of it is itself).
const INDEX_TUPLE_HEADER: usize = 8;

/// Where each filter column's value starts in a tuple without nulls, when fixed.
///
/// # Safety
/// `columns.desc` is a valid descriptor of `columns.count` attributes.
unsafe fn fixed_offsets(columns: FilterColumns) -> Vec<Option<usize>> {
    let shapes: Vec<(i16, usize)> = (0..columns.count)
        .map(|i| {
            // SAFETY: the caller's promise.
            let attribute = unsafe { &*(*columns.desc).attrs.as_ptr().add(i) };
            let align = match attribute.attalign as u8 {
                b'c' => 1,
                b's' => 2,
                b'i' => 4,
                _ => 8,
            };
            (attribute.attlen, align)
        })
        .collect();
    filter_values::fixed_offsets(&shapes)
}

impl FilterColumns {
    fn type_of(&self, column: usize) -> (pg_sys::Oid, i16) {
        // SAFETY: column < count, the descriptor's attributes.
        let attribute = unsafe { &*(*self.desc).attrs.as_ptr().add(column) };
        (attribute.atttypid, attribute.attlen)
    }
}

/// The key's test done in place, when its function is a built-in
/// comparison of fixed-width values (known by name: functions with oids
/// below FirstNormalObjectId are the system's own) on a column at a fixed place.
///
/// # Safety
/// `function` is the key's initialized FmgrInfo.
unsafe fn native_test(
    test: &Test,
    function: &pg_sys::FmgrInfo,
    offset: Option<usize>,
    (type_id, length): (pg_sys::Oid, i16),
) -> Option<NativeTest> {
    match test {
        Test::IsNull => return Some(NativeTest::Constant(false)),
        Test::IsNotNull => return Some(NativeTest::Constant(true)),
        Test::Compare(_) | Test::AnyOf(_) => {}
    }
    let offset = offset?;
    if function.fn_oid.to_u32() >= pg_sys::FirstNormalObjectId {
        return None;
    }
    // SAFETY: a catalog lookup of a function that exists (the scan key calls it).
    let name = unsafe {
        let name = pg_sys::get_func_name(function.fn_oid);
        if name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(name).to_str().ok()?.to_owned()
    };
    if let Some(array_test) = filter_values::builtin_array_test(&name) {
        // SAFETY: as above; the argument of an array operator is an array.
        return unsafe { native_array_test(test, array_test, offset, type_id, length) };
    }
    let (kind, argument_kind, comparison) = filter_values::builtin_comparison(&name)?;
    // The function takes the column's type as its left argument.
    let expected = match kind {
        ValueKind::Int16 => [pg_sys::INT2OID].as_slice(),
        ValueKind::Int32 => &[pg_sys::INT4OID, pg_sys::DATEOID],
        ValueKind::Int64 => &[
            pg_sys::INT8OID,
            pg_sys::TIMESTAMPOID,
            pg_sys::TIMESTAMPTZOID,
        ],
        ValueKind::Float32 => &[pg_sys::FLOAT4OID],
        ValueKind::Float64 => &[pg_sys::FLOAT8OID],
        ValueKind::Bool => &[pg_sys::BOOLOID],
    };
    if !expected.contains(&type_id) || length as usize != kind.size() {
        return None;
    }
    let arguments = match test {
        Test::Compare(argument) => {
            match Value::from_datum(argument_kind, argument.value() as u64) {
                Value::Int(argument) => {
                    let (low, high) = filter_values::int_range(comparison, argument);
                    return Some(NativeTest::IntRange {
                        offset,
                        size: kind.size(),
                        low,
                        high,
                    });
                }
                argument => vec![argument],
            }
        }
        Test::AnyOf(elements) => elements
            .iter()
            .map(|e| Value::from_datum(argument_kind, e.value() as u64))
            .collect(),
        Test::IsNull | Test::IsNotNull => return None,
    };
    Some(NativeTest::Compare {
        offset,
        kind,
        comparison,
        arguments,
    })
}
