//! The pure modules of Quiver, compiled without pgrx for the fuzz targets.
//! The module tree mirrors the extension's, so their `crate::` and `super::`
//! paths resolve as they do there.
#![allow(dead_code)]

#[path = "../../../src/kernels/mod.rs"]
pub mod kernels;

#[path = "../../../src/page/mod.rs"]
pub mod page;

#[path = "../../../src/quant/mod.rs"]
pub mod quant;

#[path = "../../../src/types"]
pub mod types {
    pub mod literal;
    pub mod sparse;
    pub mod wire;
}

#[path = "../../../src/am"]
pub mod am {
    pub mod hnsw {
        pub mod options {
            pub mod stored;
        }
    }
}

/// Reads fuzz input front to back; past its end, zeros.
pub struct Input<'a> {
    pub bytes: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    pub fn u8(&mut self) -> u8 {
        let (&first, rest) = self.bytes.split_first().unwrap_or((&0, &[]));
        self.bytes = rest;
        first
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn rest(self) -> &'a [u8] {
        self.bytes
    }
}
