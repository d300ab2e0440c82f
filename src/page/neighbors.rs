//! Neighbor tuples: a node's neighbor lists, one fixed range of slots per
//! layer, so that a list is rewritten in place. With neighbor codes, each
//! layer-0 slot holds the neighbor's code after its id.

use super::ids::{read_id, write_id, NodeId, ID_BYTES};
use super::{FormatError, NEIGHBOR_KIND};
use zerocopy::byteorder::little_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct NeighborHeader {
    kind: u8,
    /// The node's highest layer.
    level: u8,
    slots: U16,
    code_bytes: U16,
    reserved: [u8; 2],
}

const NEIGHBOR_HEADER_SIZE: usize = std::mem::size_of::<NeighborHeader>();

/// The layout of an index's neighbor tuples: `m`, and the bytes of the code
/// stored after each layer-0 neighbor id (0 without neighbor codes). Layer 0
/// has 2m slots of id + code, each layer above m slots of ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListShape {
    pub m: usize,
    pub code_bytes: usize,
}

impl ListShape {
    pub fn plain(m: usize) -> ListShape {
        ListShape { m, code_bytes: 0 }
    }

    fn slot_at(&self, layer: usize, slot: usize) -> usize {
        if layer == 0 {
            NEIGHBOR_HEADER_SIZE + slot * (ID_BYTES + self.code_bytes)
        } else {
            NEIGHBOR_HEADER_SIZE
                + 2 * self.m * (ID_BYTES + self.code_bytes)
                + ((layer - 1) * self.m + slot) * ID_BYTES
        }
    }

    pub fn tuple_size(&self, level: usize) -> usize {
        self.slot_at(level + 1, 0)
    }

    /// Slots of `layer`: 2m on layer 0, m above.
    pub fn layer_slots(&self, layer: usize) -> usize {
        if layer == 0 {
            2 * self.m
        } else {
            self.m
        }
    }
}

/// Slots for layer 0 (2m) and m for each layer above, up to `level`.
pub fn neighbor_slots(level: usize, m: usize) -> usize {
    (level + 2) * m
}

/// An empty neighbor tuple for a node on layers 0..=level.
pub fn new_neighbor_tuple(level: usize, shape: ListShape) -> Vec<u8> {
    let mut tuple = vec![0u8; shape.tuple_size(level)];
    let header = NeighborHeader {
        kind: NEIGHBOR_KIND,
        level: level as u8,
        slots: U16::new(neighbor_slots(level, shape.m) as u16),
        code_bytes: U16::new(shape.code_bytes as u16),
        reserved: [0; 2],
    };
    tuple[..NEIGHBOR_HEADER_SIZE].copy_from_slice(header.as_bytes());
    tuple
}

fn check_neighbor_tuple(tuple: &[u8], shape: ListShape, layer: usize) -> Result<(), FormatError> {
    let (header, _) =
        NeighborHeader::ref_from_prefix(tuple).map_err(|_| FormatError::TooShort {
            needed: NEIGHBOR_HEADER_SIZE,
            found: tuple.len(),
        })?;
    if header.kind != NEIGHBOR_KIND {
        return Err(FormatError::WrongTupleKind {
            expected: NEIGHBOR_KIND,
            found: header.kind,
        });
    }
    let level = header.level as usize;
    if header.slots.get() as usize != neighbor_slots(level, shape.m)
        || tuple.len() < shape.tuple_size(level)
    {
        return Err(FormatError::BadField("neighbor slot count"));
    }
    if header.code_bytes.get() as usize != shape.code_bytes {
        return Err(FormatError::BadField("neighbor code size"));
    }
    if layer > level {
        return Err(FormatError::BadField("layer above the node's level"));
    }
    Ok(())
}

/// Appends the neighbors of `layer` to `out`.
pub fn read_layer(
    tuple: &[u8],
    shape: ListShape,
    layer: usize,
    out: &mut Vec<NodeId>,
) -> Result<(), FormatError> {
    check_neighbor_tuple(tuple, shape, layer)?;
    for slot in 0..shape.layer_slots(layer) {
        let id: NodeId = read_id(&tuple[shape.slot_at(layer, slot)..]);
        if id.is_none() {
            break;
        }
        out.push(id);
    }
    Ok(())
}

/// Appends the layer-0 neighbors to `ids` and their codes to `codes`.
pub fn read_layer_codes(
    tuple: &[u8],
    shape: ListShape,
    ids: &mut Vec<NodeId>,
    codes: &mut Vec<u8>,
) -> Result<(), FormatError> {
    check_neighbor_tuple(tuple, shape, 0)?;
    for slot in 0..shape.layer_slots(0) {
        let at = shape.slot_at(0, slot);
        let id: NodeId = read_id(&tuple[at..]);
        if id.is_none() {
            break;
        }
        ids.push(id);
        codes.extend_from_slice(&tuple[at + ID_BYTES..at + ID_BYTES + shape.code_bytes]);
    }
    Ok(())
}

/// Replaces the neighbors of `layer`, with their codes on layer 0 when the
/// shape has codes (`codes` holds one per id, in order); unused slots are cleared.
pub fn write_layer(
    tuple: &mut [u8],
    shape: ListShape,
    layer: usize,
    ids: &[NodeId],
    codes: &[u8],
) -> Result<(), FormatError> {
    check_neighbor_tuple(tuple, shape, layer)?;
    if ids.len() > shape.layer_slots(layer) {
        return Err(FormatError::BadField("too many neighbors for the layer"));
    }
    let code_bytes = if layer == 0 { shape.code_bytes } else { 0 };
    if codes.len() != ids.len() * code_bytes {
        return Err(FormatError::BadField("neighbor codes"));
    }
    for slot in 0..shape.layer_slots(layer) {
        let at = shape.slot_at(layer, slot);
        write_id(
            ids.get(slot).copied().unwrap_or(NodeId::NONE),
            &mut tuple[at..],
        );
        let code = &mut tuple[at + ID_BYTES..at + ID_BYTES + code_bytes];
        match codes.get(slot * code_bytes..(slot + 1) * code_bytes) {
            Some(given) if slot < ids.len() => code.copy_from_slice(given),
            _ => code.fill(0),
        }
    }
    Ok(())
}
