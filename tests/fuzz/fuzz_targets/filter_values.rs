//! Filter values read in place (`page::filter_values`): varlena values and
//! arrays found in an index tuple's data, and fixed-width values, from any
//! bytes, without panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quiver_fuzz::page::filter_values::{self as fv, ArrayTest, Comparison, Value, ValueKind};
use quiver_fuzz::Input;

const KINDS: [ValueKind; 6] = [
    ValueKind::Int16,
    ValueKind::Int32,
    ValueKind::Int64,
    ValueKind::Float32,
    ValueKind::Float64,
    ValueKind::Bool,
];

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let kind = KINDS[input.u8() as usize % KINDS.len()];
    let cursor = input.u8() as usize;
    let align = input.u8() as usize % 9;
    let columns: Vec<(i16, usize)> = (0..input.u8() % 8)
        .map(|_| (input.u8() as i8 as i16, input.u8() as usize % 9))
        .collect();
    let tuple = input.rest();
    let offsets = fv::fixed_offsets(&columns);
    assert_eq!(offsets.len(), columns.len());
    for offset in offsets.into_iter().flatten() {
        if let Some(bytes) = tuple.get(offset..) {
            let _ = Value::read(kind, bytes);
            let _ = fv::read_int(bytes, kind.size());
        }
    }
    let Some(contents) = fv::varlena_at(tuple, cursor, align) else {
        return;
    };
    let Some((elements, count)) = fv::array_elements(contents, kind) else {
        return;
    };
    assert_eq!(elements.len(), count * kind.size());
    let arguments: Vec<Value> = elements
        .chunks_exact(kind.size())
        .take(3)
        .filter_map(|b| Value::read(kind, b))
        .collect();
    for test in [
        ArrayTest::Overlaps,
        ArrayTest::Contains,
        ArrayTest::ContainedIn,
    ] {
        let holds = fv::array_holds(test, (elements, count), kind, &arguments, false);
        if test == ArrayTest::Contains {
            // Every argument was taken from the array itself.
            assert!(holds);
        }
    }
    if let (Some(&a), Some(&b)) = (arguments.first(), arguments.last()) {
        let order = [Comparison::Less, Comparison::Equal, Comparison::Greater]
            .iter()
            .filter(|&&c| fv::compare(c, a, b))
            .count();
        assert_eq!(order, 1);
    }
});
