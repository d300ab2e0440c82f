//! Addresses on pages: a node of an index and a row of its table, each a
//! block and a line pointer offset, and the 6 bytes either takes on a page.

use zerocopy::byteorder::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// A node's address in the index: block number and line pointer offset
/// (1-based; 0 is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u64);

/// A row's address in the table (its TID), packed as `NodeId` is; a type of
/// its own, so that a heap address never passes for an index one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeapTid(u64);

macro_rules! block_and_offset {
    ($name:ident) => {
        impl $name {
            pub const NONE: $name = $name(0);

            pub fn new(block: u32, offset: u16) -> $name {
                $name(((block as u64) << 16) | offset as u64)
            }
            pub fn block(self) -> u32 {
                (self.0 >> 16) as u32
            }
            pub fn offset(self) -> u16 {
                self.0 as u16
            }
            pub fn is_none(self) -> bool {
                self.offset() == 0
            }
            /// The packed value, for stores that keep ids as plain integers.
            pub fn to_u64(self) -> u64 {
                self.0
            }
            pub fn from_u64(packed: u64) -> $name {
                $name(packed)
            }
        }

        impl From<$name> for StoredId {
            fn from(id: $name) -> StoredId {
                StoredId {
                    block: U32::new(id.block()),
                    offset: U16::new(id.offset()),
                }
            }
        }

        impl From<StoredId> for $name {
            fn from(id: StoredId) -> $name {
                $name::new(id.block.get(), id.offset.get())
            }
        }
    };
}

block_and_offset!(NodeId);
block_and_offset!(HeapTid);

/// Either address as a page holds it: block, then offset, little-endian.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct StoredId {
    block: U32,
    offset: U16,
}

/// Bytes of a `StoredId`.
pub const ID_BYTES: usize = std::mem::size_of::<StoredId>();

/// Writes `id` at the start of `out`.
pub(super) fn write_id(id: impl Into<StoredId>, out: &mut [u8]) {
    out[..ID_BYTES].copy_from_slice(id.into().as_bytes());
}

/// The id at the start of `bytes`, which the caller made sure holds one.
pub(super) fn read_id<T: From<StoredId>>(bytes: &[u8]) -> T {
    let (id, _) = StoredId::read_from_prefix(bytes).expect("an id's 6 bytes");
    T::from(id)
}
