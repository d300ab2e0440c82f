//! Filter directory entries. An entry is an element's filter values, the
//! index tuple PostgreSQL formed of them, with the element's id written
//! where the tuple's item pointer goes (its first 6 bytes, which the values
//! never use).

use super::ids::{read_id, write_id, NodeId, ID_BYTES};
use super::FormatError;

/// Bytes of an index tuple's header: an item pointer and t_info.
pub const FILTER_TUPLE_HEADER: usize = 8;

/// The entry of `element`, whose filter values (an index tuple) are `filter`.
pub fn encode_filter_entry(element: NodeId, filter: &[u8]) -> Vec<u8> {
    let mut entry = filter.to_vec();
    if entry.len() >= ID_BYTES {
        write_id(element, &mut entry);
    }
    entry
}

/// The element an entry names, and its filter values (the entry itself:
/// the values are read past the item pointer).
pub fn decode_filter_entry(entry: &[u8]) -> Result<(NodeId, &[u8]), FormatError> {
    if entry.len() <= FILTER_TUPLE_HEADER {
        return Err(FormatError::TooShort {
            needed: FILTER_TUPLE_HEADER + 1,
            found: entry.len(),
        });
    }
    let element: NodeId = read_id(entry);
    if element.is_none() {
        return Err(FormatError::BadField("filter entry's element"));
    }
    Ok((element, entry))
}

/// Whether two index tuples of filter values hold the same values, whatever
/// their item pointers say.
pub fn same_filter_values(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.get(ID_BYTES..) == b.get(ID_BYTES..)
}
