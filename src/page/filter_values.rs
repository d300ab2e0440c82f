//! Conditions on fixed-width filter values checked without PostgreSQL's
//! function calls. Pure: no pgrx.
//!
//! A scan that reads the filter directory checks every entry; deforming each
//! index tuple and calling the operator's function through fmgr costs about
//! 100 ns an entry. For the built-in comparisons of integers, floats,
//! booleans, dates and timestamps, the value is read at its fixed place in
//! the tuple and compared here, with the built-in functions' semantics.

use std::cmp::Ordering;

/// How a fixed-width value is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Bool,
}

impl ValueKind {
    pub fn size(self) -> usize {
        match self {
            ValueKind::Bool => 1,
            ValueKind::Int16 => 2,
            ValueKind::Int32 | ValueKind::Float32 => 4,
            ValueKind::Int64 | ValueKind::Float64 => 8,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Comparison {
    fn holds(self, order: Ordering) -> bool {
        match self {
            Comparison::Less => order == Ordering::Less,
            Comparison::LessOrEqual => order != Ordering::Greater,
            Comparison::Equal => order == Ordering::Equal,
            Comparison::GreaterOrEqual => order != Ordering::Less,
            Comparison::Greater => order == Ordering::Greater,
        }
    }
}

/// A value, widened: integers, dates and timestamps to i64, floats to f64.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Value {
    /// A value of `kind` from its bytes (native byte order, as PostgreSQL stores it).
    pub fn read(kind: ValueKind, bytes: &[u8]) -> Option<Value> {
        let b = bytes.get(..kind.size())?;
        Some(match kind {
            ValueKind::Bool => Value::Bool(b[0] != 0),
            ValueKind::Int16 => Value::Int(i16::from_ne_bytes([b[0], b[1]]) as i64),
            ValueKind::Int32 => Value::Int(i32::from_ne_bytes(b.try_into().ok()?) as i64),
            ValueKind::Int64 => Value::Int(i64::from_ne_bytes(b.try_into().ok()?)),
            ValueKind::Float32 => Value::Float(f32::from_ne_bytes(b.try_into().ok()?) as f64),
            ValueKind::Float64 => Value::Float(f64::from_ne_bytes(b.try_into().ok()?)),
        })
    }

    /// A value of `kind` from a by-value Datum's bits.
    pub fn from_datum(kind: ValueKind, datum: u64) -> Value {
        match kind {
            ValueKind::Bool => Value::Bool(datum & 0xFF != 0),
            ValueKind::Int16 => Value::Int(datum as i16 as i64),
            ValueKind::Int32 => Value::Int(datum as i32 as i64),
            ValueKind::Int64 => Value::Int(datum as i64),
            ValueKind::Float32 => Value::Float(f32::from_bits(datum as u32) as f64),
            ValueKind::Float64 => Value::Float(f64::from_bits(datum)),
        }
    }

    /// PostgreSQL's order: for floats NaN equals NaN and is above every
    /// other value, and -0 equals 0 (float8_cmp_internal).
    fn order(self, other: Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(&b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(&b)),
            (Value::Float(a), Value::Float(b)) => Some(match (a.is_nan(), b.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => a.partial_cmp(&b)?,
            }),
            _ => None,
        }
    }
}

/// A built-in comparison function, known by its name: the kinds of its two
/// arguments and what it tests. None for any other function.
pub fn builtin_comparison(name: &str) -> Option<(ValueKind, ValueKind, Comparison)> {
    use ValueKind::*;
    let (types, test) = name.split_at(name.len().checked_sub(2)?);
    let comparison = match test {
        "lt" => Comparison::Less,
        "le" => Comparison::LessOrEqual,
        "eq" => Comparison::Equal,
        "ge" => Comparison::GreaterOrEqual,
        "gt" => Comparison::Greater,
        _ => return None,
    };
    let (left, right) = match types {
        "int2" => (Int16, Int16),
        "int4" => (Int32, Int32),
        "int8" => (Int64, Int64),
        "int24" => (Int16, Int32),
        "int42" => (Int32, Int16),
        "int28" => (Int16, Int64),
        "int82" => (Int64, Int16),
        "int48" => (Int32, Int64),
        "int84" => (Int64, Int32),
        "float4" => (Float32, Float32),
        "float8" => (Float64, Float64),
        "float48" => (Float32, Float64),
        "float84" => (Float64, Float32),
        "date_" => (Int32, Int32),
        "timestamp_" | "timestamptz_" => (Int64, Int64),
        "bool" => (Bool, Bool),
        _ => return None,
    };
    Some((left, right, comparison))
}

/// The integers `value <comparison> argument` holds for, as an inclusive
/// range (empty when low > high): one check per row instead of a dispatch.
pub fn int_range(comparison: Comparison, argument: i64) -> (i64, i64) {
    match comparison {
        Comparison::Less => argument
            .checked_sub(1)
            .map_or((0, -1), |high| (i64::MIN, high)),
        Comparison::LessOrEqual => (i64::MIN, argument),
        Comparison::Equal => (argument, argument),
        Comparison::GreaterOrEqual => (argument, i64::MAX),
        Comparison::Greater => argument
            .checked_add(1)
            .map_or((0, -1), |low| (low, i64::MAX)),
    }
}

/// A native-order signed integer of 2, 4 or 8 bytes at the
/// start of `bytes`.
#[inline]
pub fn read_int(bytes: &[u8], size: usize) -> Option<i64> {
    Some(match size {
        2 => i16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?) as i64,
        4 => i32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?) as i64,
        _ => i64::from_ne_bytes(bytes.get(..8)?.try_into().ok()?),
    })
}

/// Whether `left <comparison> right` holds for the values.
pub fn compare(comparison: Comparison, left: Value, right: Value) -> bool {
    left.order(right)
        .is_some_and(|order| comparison.holds(order))
}

/// Where each column's value starts in the data of an index tuple without
/// nulls, given every column's (length, alignment), as far as that is fixed:
/// a fixed-width column's aligned start; for a column of variable length
/// (length -1), where the previous one ends (`varlena_at` finds the value
/// from there); None for every column after one of variable length.
pub fn fixed_offsets(columns: &[(i16, usize)]) -> Vec<Option<usize>> {
    let mut offsets = Vec::with_capacity(columns.len());
    let mut at = Some(0usize);
    for &(length, align) in columns {
        let start = if length > 0 {
            at.map(|a| a.next_multiple_of(align.max(1)))
        } else {
            at
        };
        offsets.push(start);
        at = start.filter(|_| length > 0).map(|s| s + length as usize);
    }
    offsets
}

/// The contents of an uncompressed varlena value whose column starts at
/// `cursor` (the previous column's end) with alignment `align`, in place:
/// PostgreSQL keeps short values with a 1-byte header, unaligned, and pads
/// before a 4-byte header with zero bytes (att_align_pointer). None for a
/// compressed or external value, or one that does not fit.
pub fn varlena_at(data: &[u8], cursor: usize, align: usize) -> Option<&[u8]> {
    let first = *data.get(cursor)?;
    let at = if first != 0 {
        cursor
    } else {
        cursor.next_multiple_of(align.max(1))
    };
    let first = *data.get(at)?;
    let (header, length) = if first & 1 == 1 {
        // 1-byte header; 0x01 alone marks an external pointer.
        if first == 1 {
            return None;
        }
        (1, (first >> 1) as usize)
    } else if first & 3 == 0 {
        (
            4,
            (u32::from_ne_bytes(data.get(at..at + 4)?.try_into().ok()?) >> 2) as usize,
        )
    } else {
        return None;
    };
    data.get(at + header..at + length.max(header))
}

/// What a built-in array operator tests, known by its function's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayTest {
    /// `stored && argument`
    Overlaps,
    /// `stored @> argument`
    Contains,
    /// `stored <@ argument`
    ContainedIn,
}

pub fn builtin_array_test(name: &str) -> Option<ArrayTest> {
    match name {
        "arrayoverlap" => Some(ArrayTest::Overlaps),
        "arraycontains" => Some(ArrayTest::Contains),
        "arraycontained" => Some(ArrayTest::ContainedIn),
        _ => None,
    }
}

/// The element bytes and count of an array without nulls, from its
/// contents after the varlena header (`varlena_at`): ndim, dataoffset (0
/// without a null bitmap), element type, then dims and lower bounds, then
/// the elements from a MAXALIGNed offset counted from the 4-byte header.
/// None for an array with nulls or elements not of `kind`'s size.
pub fn array_elements(contents: &[u8], kind: ValueKind) -> Option<(&[u8], usize)> {
    let int_at = |at: usize| -> Option<i32> {
        Some(i32::from_ne_bytes(
            contents.get(at..at + 4)?.try_into().ok()?,
        ))
    };
    let dimensions = usize::try_from(int_at(0)?).ok()?;
    if dimensions > 6 || int_at(4)? != 0 {
        return None;
    }
    let mut count = if dimensions == 0 { 0usize } else { 1 };
    for d in 0..dimensions {
        count = count.checked_mul(usize::try_from(int_at(12 + 4 * d)?).ok()?)?;
    }
    let data_offset = (16 + 8 * dimensions).next_multiple_of(8) - 4;
    let bytes =
        contents.get(data_offset..data_offset.checked_add(count.checked_mul(kind.size())?)?)?;
    Some((bytes, count))
}

/// The array test on a stored array's elements (`array_elements`) against
/// the argument's non-null elements, with the built-in functions'
/// semantics: nulls match nothing, and an argument with a null is
/// contained in no array.
pub fn array_holds(
    test: ArrayTest,
    stored: (&[u8], usize),
    kind: ValueKind,
    arguments: &[Value],
    argument_has_null: bool,
) -> bool {
    let (bytes, count) = stored;
    let mut elements = bytes
        .chunks_exact(kind.size())
        .take(count)
        .filter_map(|b| Value::read(kind, b));
    let equal = |a: Value, b: Value| compare(Comparison::Equal, a, b);
    match test {
        ArrayTest::Overlaps => elements.any(|e| arguments.iter().any(|&a| equal(e, a))),
        ArrayTest::ContainedIn => elements.all(|e| arguments.iter().any(|&a| equal(e, a))),
        ArrayTest::Contains => {
            let stored: Vec<Value> = elements.collect();
            !argument_has_null
                && arguments
                    .iter()
                    .all(|&a| stored.iter().any(|&e| equal(e, a)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_follow_postgres() {
        let (i, f) = (Value::Int, Value::Float);
        assert!(compare(Comparison::Less, i(-3), i(2)));
        assert!(!compare(Comparison::Greater, i(2), i(2)));
        assert!(compare(Comparison::GreaterOrEqual, i(2), i(2)));
        assert!(compare(Comparison::Equal, f(f64::NAN), f(f64::NAN)));
        assert!(compare(Comparison::Greater, f(f64::NAN), f(f64::INFINITY)));
        assert!(compare(Comparison::Equal, f(-0.0), f(0.0)));
        assert!(compare(
            Comparison::Less,
            Value::Bool(false),
            Value::Bool(true)
        ));
        // Different kinds never compare: the caller matched them by the function.
        assert!(!compare(Comparison::Equal, i(1), f(1.0)));
    }

    #[test]
    fn integer_comparisons_become_ranges() {
        for argument in [i64::MIN, -5, 0, 7, i64::MAX] {
            for comparison in [
                Comparison::Less,
                Comparison::LessOrEqual,
                Comparison::Equal,
                Comparison::GreaterOrEqual,
                Comparison::Greater,
            ] {
                let (low, high) = int_range(comparison, argument);
                for value in [
                    i64::MIN,
                    i64::MIN + 1,
                    -6,
                    -5,
                    -4,
                    -1,
                    0,
                    1,
                    6,
                    7,
                    8,
                    i64::MAX - 1,
                    i64::MAX,
                ] {
                    let expected = compare(comparison, Value::Int(value), Value::Int(argument));
                    assert_eq!(
                        low <= value && value <= high,
                        expected,
                        "{value} {comparison:?} {argument}"
                    );
                }
            }
        }
        assert_eq!(read_int(&(-3i16).to_ne_bytes(), 2), Some(-3));
        assert_eq!(read_int(&(-3i32).to_ne_bytes()[..3], 4), None);
    }

    #[test]
    fn values_read_from_bytes_and_datums_agree() {
        for (kind, datum, bytes) in [
            (
                ValueKind::Int16,
                (-5i16) as u16 as u64,
                (-5i16).to_ne_bytes().to_vec(),
            ),
            (
                ValueKind::Int32,
                (-70_000i32) as u32 as u64,
                (-70_000i32).to_ne_bytes().to_vec(),
            ),
            (
                ValueKind::Int64,
                (-1i64 << 40) as u64,
                (-1i64 << 40).to_ne_bytes().to_vec(),
            ),
            (
                ValueKind::Float32,
                1.5f32.to_bits() as u64,
                1.5f32.to_ne_bytes().to_vec(),
            ),
            (
                ValueKind::Float64,
                (-2.25f64).to_bits(),
                (-2.25f64).to_ne_bytes().to_vec(),
            ),
            (ValueKind::Bool, 1, vec![1]),
        ] {
            assert_eq!(
                Value::read(kind, &bytes),
                Some(Value::from_datum(kind, datum)),
                "{kind:?}"
            );
            assert_eq!(Value::read(kind, &bytes[..kind.size() - 1]), None);
        }
        // A float4 compares with a float8 after widening, as float48lt does.
        let widened = Value::from_datum(ValueKind::Float32, 0.1f32.to_bits() as u64);
        assert!(compare(
            Comparison::Equal,
            widened,
            Value::Float(0.1f32 as f64)
        ));
    }

    #[test]
    fn builtin_functions_are_known_by_name() {
        use ValueKind::*;
        assert_eq!(
            builtin_comparison("int48le"),
            Some((Int32, Int64, Comparison::LessOrEqual))
        );
        assert_eq!(
            builtin_comparison("timestamptz_gt"),
            Some((Int64, Int64, Comparison::Greater))
        );
        assert_eq!(
            builtin_comparison("date_eq"),
            Some((Int32, Int32, Comparison::Equal))
        );
        assert_eq!(
            builtin_comparison("booleq"),
            Some((Bool, Bool, Comparison::Equal))
        );
        assert_eq!(
            builtin_comparison("float84lt"),
            Some((Float64, Float32, Comparison::Less))
        );
        for other in [
            "texteq",
            "date_lt_timestamp",
            "int4ne",
            "uuid_eq",
            "lt",
            "",
            "arrayoverlap",
        ] {
            assert_eq!(builtin_comparison(other), None, "{other}");
        }
    }

    #[test]
    fn offsets_are_fixed_until_a_variable_column() {
        // bool, int8, int2, text, int4
        let columns = [(1, 1), (8, 8), (2, 2), (-1, 4), (4, 4)];
        assert_eq!(
            fixed_offsets(&columns),
            vec![Some(0), Some(8), Some(16), Some(18), None]
        );
    }

    /// An int4[] as PostgreSQL lays it out with a 4-byte header: the header,
    /// ndim, dataoffset, element type, dims, lower bounds, elements.
    fn int4_array(values: &[i32]) -> Vec<u8> {
        let mut a = Vec::new();
        let length = 24 + 4 * values.len();
        a.extend_from_slice(&((length as u32) << 2).to_ne_bytes());
        for field in [1i32, 0, 23, values.len() as i32, 1] {
            a.extend_from_slice(&field.to_ne_bytes());
        }
        for v in values {
            a.extend_from_slice(&v.to_ne_bytes());
        }
        a
    }

    #[test]
    fn arrays_are_read_in_place_with_either_header() {
        let long = int4_array(&[7, 9, 11]);
        // Behind a 2-byte column ending at 2: padding to 4, then the array.
        let mut data = vec![5, 0, 0, 0];
        data.extend_from_slice(&long);
        let contents = varlena_at(&data, 2, 4).unwrap();
        let (bytes, count) = array_elements(contents, ValueKind::Int32).unwrap();
        assert_eq!(count, 3);
        let args = |v: &[i64]| v.iter().map(|&x| Value::Int(x)).collect::<Vec<_>>();
        assert!(array_holds(
            ArrayTest::Overlaps,
            (bytes, count),
            ValueKind::Int32,
            &args(&[1, 9]),
            false
        ));
        assert!(!array_holds(
            ArrayTest::Overlaps,
            (bytes, count),
            ValueKind::Int32,
            &args(&[1, 2]),
            true
        ));
        assert!(array_holds(
            ArrayTest::Contains,
            (bytes, count),
            ValueKind::Int32,
            &args(&[11, 7]),
            false
        ));
        assert!(!array_holds(
            ArrayTest::Contains,
            (bytes, count),
            ValueKind::Int32,
            &args(&[11, 7]),
            true
        ));
        assert!(array_holds(
            ArrayTest::ContainedIn,
            (bytes, count),
            ValueKind::Int32,
            &args(&[7, 8, 9, 10, 11]),
            false
        ));
        assert!(!array_holds(
            ArrayTest::ContainedIn,
            (bytes, count),
            ValueKind::Int32,
            &args(&[7, 9]),
            false
        ));
        // The same array packed with a 1-byte header, unaligned, right after the column.
        let mut short = vec![5, 0];
        short.push(((long.len() - 3) as u8) << 1 | 1);
        short.extend_from_slice(&long[4..]);
        let contents = varlena_at(&short, 2, 4).unwrap();
        assert_eq!(array_elements(contents, ValueKind::Int32), Some((bytes, 3)));
        // With a null bitmap (dataoffset set), compressed, or cut short: not read in place.
        let mut with_nulls = long.clone();
        with_nulls[8] = 40;
        assert_eq!(
            array_elements(varlena_at(&with_nulls, 0, 4).unwrap(), ValueKind::Int32),
            None
        );
        let mut compressed = long.clone();
        compressed[0] |= 2;
        assert_eq!(varlena_at(&compressed, 0, 4), None);
        assert_eq!(varlena_at(&long[..10], 0, 4), None);
        assert_eq!(
            builtin_array_test("arraycontained"),
            Some(ArrayTest::ContainedIn)
        );
        assert_eq!(builtin_array_test("array_eq"), None);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            ProptestConfig {
                cases: 256,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        fn kind() -> impl Strategy<Value = ValueKind> {
            use ValueKind::*;
            prop::sample::select(vec![Int16, Int32, Int64, Float32, Float64, Bool])
        }

        fn comparison() -> impl Strategy<Value = Comparison> {
            use Comparison::*;
            prop::sample::select(vec![Less, LessOrEqual, Equal, GreaterOrEqual, Greater])
        }

        /// An array's contents after its 4-byte varlena header, as PostgreSQL
        /// lays out one without nulls, of `count` elements of `size` bytes.
        fn array_contents(dims: &[i32], elements: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&(dims.len() as i32).to_ne_bytes());
            out.extend_from_slice(&0i32.to_ne_bytes());
            out.extend_from_slice(&23u32.to_ne_bytes());
            dims.iter()
                .for_each(|d| out.extend_from_slice(&d.to_ne_bytes()));
            dims.iter()
                .for_each(|_| out.extend_from_slice(&1i32.to_ne_bytes()));
            out.resize((16 + 8 * dims.len()).next_multiple_of(8) - 4, 0);
            out.extend_from_slice(elements);
            out
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn readers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64), kind in kind(), cursor in 0usize..80, align in 0usize..9, size in 0usize..9) {
                let _ = Value::read(kind, &data);
                let _ = read_int(&data, size);
                if let Some(contents) = varlena_at(&data, cursor, align) {
                    // In place: a slice of the data past the cursor.
                    let start = contents.as_ptr() as usize - data.as_ptr() as usize;
                    prop_assert!(start > cursor && start + contents.len() <= data.len());
                    let _ = array_elements(contents, kind);
                }
                if let Some((bytes, count)) = array_elements(&data, kind) {
                    prop_assert_eq!(bytes.len(), count * kind.size());
                    for test in [ArrayTest::Overlaps, ArrayTest::Contains, ArrayTest::ContainedIn] {
                        let _ = array_holds(test, (bytes, count), kind, &[Value::Int(1), Value::Float(f64::NAN), Value::Bool(true)], false);
                    }
                }
            }

            #[test]
            fn fixed_offsets_are_aligned_and_in_order(columns in proptest::collection::vec((-2i16..12, 0usize..9), 0..12)) {
                let offsets = fixed_offsets(&columns);
                prop_assert_eq!(offsets.len(), columns.len());
                let mut end = 0;
                for (&(length, align), offset) in columns.iter().zip(&offsets) {
                    let Some(offset) = *offset else { break };
                    prop_assert!(offset >= end);
                    if length > 0 {
                        prop_assert_eq!(offset % align.max(1), 0);
                        end = offset + length as usize;
                    } else {
                        break;
                    }
                }
            }

            #[test]
            fn values_read_back_and_compare_as_integers_do(x in any::<i64>(), y in any::<i64>(), comparison in comparison()) {
                for (kind, bytes) in [
                    (ValueKind::Int16, (x as i16).to_ne_bytes().to_vec()),
                    (ValueKind::Int32, (x as i32).to_ne_bytes().to_vec()),
                    (ValueKind::Int64, x.to_ne_bytes().to_vec()),
                ] {
                    let read = Value::read(kind, &bytes);
                    let want = match kind { ValueKind::Int16 => x as i16 as i64, ValueKind::Int32 => x as i32 as i64, _ => x };
                    prop_assert_eq!(read, Some(Value::Int(want)));
                    prop_assert_eq!(read_int(&bytes, kind.size()), Some(want));
                    prop_assert_eq!(Value::from_datum(kind, want as u64), Value::Int(want));
                }
                let (low, high) = int_range(comparison, y);
                prop_assert_eq!(compare(comparison, Value::Int(x), Value::Int(y)), low <= x && x <= high);
                prop_assert_eq!(compare(comparison, Value::Int(y), Value::Int(y)), low <= y && y <= high);
            }

            #[test]
            fn float_order_is_total(x in any::<f64>(), y in any::<f64>()) {
                // One of <, =, > holds for any two floats, NaN included (PostgreSQL's order).
                let (a, b) = (Value::Float(x), Value::Float(y));
                let holds = |c| compare(c, a, b);
                let exactly_one = [Comparison::Less, Comparison::Equal, Comparison::Greater].iter().filter(|&&c| holds(c)).count();
                prop_assert_eq!(exactly_one, 1);
                prop_assert_eq!(holds(Comparison::LessOrEqual), !holds(Comparison::Greater));
                prop_assert_eq!(holds(Comparison::Less), compare(Comparison::Greater, b, a));
                let narrow = Value::read(ValueKind::Float32, &(x as f32).to_ne_bytes());
                prop_assert_eq!(narrow.map(|v| compare(Comparison::Equal, v, Value::Float(x as f32 as f64))), Some(true));
            }

            #[test]
            fn arrays_read_back_and_test_like_sets(dims in proptest::collection::vec(0i32..4, 0..3), elements in proptest::collection::vec(-3i32..3, 0..64), arguments in proptest::collection::vec(-3i32..3, 0..4)) {
                let count: usize = if dims.is_empty() { 0 } else { dims.iter().map(|&d| d as usize).product() };
                let stored: Vec<i32> = elements.iter().copied().cycle().take(count).collect();
                prop_assume!(stored.len() == count);
                let bytes: Vec<u8> = stored.iter().flat_map(|x| x.to_ne_bytes()).collect();
                let contents = array_contents(&dims, &bytes);
                prop_assert_eq!(array_elements(&contents, ValueKind::Int32), Some((&bytes[..], count)));
                if count > 0 {
                    prop_assert!(array_elements(&contents[..contents.len() - 1], ValueKind::Int32).is_none());
                }
                let args: Vec<Value> = arguments.iter().map(|&a| Value::Int(a as i64)).collect();
                let holds = |test| array_holds(test, (&bytes, count), ValueKind::Int32, &args, false);
                prop_assert_eq!(holds(ArrayTest::Overlaps), stored.iter().any(|s| arguments.contains(s)));
                prop_assert_eq!(holds(ArrayTest::Contains), arguments.iter().all(|a| stored.contains(a)));
                prop_assert_eq!(holds(ArrayTest::ContainedIn), stored.iter().all(|s| arguments.contains(s)));
                prop_assert!(!array_holds(ArrayTest::Contains, (&bytes, count), ValueKind::Int32, &args, true));
            }
        }
    }
}
