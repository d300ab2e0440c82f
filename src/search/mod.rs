//! Search primitives any index's scan shares, over any node id: a
//! candidate and its distance, id hashing and visited sets, the rerank that
//! measures estimated candidates exactly, and what distance calls cost the
//! planner. Pure: no pgrx.

pub mod cost;
pub mod rerank;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A node and its distance to the query; ordered by distance, then newest
/// (highest id) first, so results are deterministic, and of equal vectors
/// the newest, the one likely to have room for another heap row, comes first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate<Id> {
    pub distance: f32,
    pub id: Id,
}

impl<Id: Ord> Eq for Candidate<Id> {}

impl<Id: Ord> PartialOrd for Candidate<Id> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<Id: Ord> Ord for Candidate<Id> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// A fast hasher for node ids, which are already well spread integers.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    /// The multiply-xor steps only carry entropy upward, while hash tables
    /// take buckets from the low bits: a node id is `block << 16 | offset`,
    /// whose low bits barely vary. So mix the high bits down (murmur3's fmix64).
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub type IdSet<Id> = HashSet<Id, BuildHasherDefault<IdHasher>>;
pub type IdMap<Id, V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;

/// The set of nodes a search has seen.
pub trait VisitedSet<Id>: Default {
    fn clear(&mut self);
    /// Marks `id`; true if it was not marked yet.
    fn insert(&mut self, id: Id) -> bool;
}

impl<Id: Hash + Eq> VisitedSet<Id> for IdSet<Id> {
    fn clear(&mut self) {
        HashSet::clear(self)
    }
    fn insert(&mut self, id: Id) -> bool {
        HashSet::insert(self, id)
    }
}

/// For dense ids 0..n: one mark per node; clearing bumps the epoch.
#[derive(Default)]
pub struct DenseVisited {
    marks: Vec<u32>,
    epoch: u32,
}

impl VisitedSet<u32> for DenseVisited {
    fn clear(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.fill(0);
            self.epoch = 1;
        }
    }
    fn insert(&mut self, id: u32) -> bool {
        let i = id as usize;
        if i >= self.marks.len() {
            self.marks.resize((i + 1).next_power_of_two(), 0);
        }
        let fresh = self.marks[i] != self.epoch;
        self.marks[i] = self.epoch;
        fresh
    }
}

#[cfg(test)]
mod hasher_tests {
    use super::IdHasher;
    use std::hash::Hasher;

    #[test]
    fn node_ids_spread_over_the_low_bits() {
        // Ids as pages produce them: few offsets per block.
        let mut buckets = std::collections::HashSet::new();
        for block in 0..4096u64 {
            for offset in 1..=2u64 {
                let mut h = IdHasher::default();
                h.write_u64(block << 16 | offset);
                buckets.insert(h.finish() & 0xFFF);
            }
        }
        // 8192 ids into 4096 buckets: a good hash fills most of them.
        assert!(
            buckets.len() > 3000,
            "{} of 4096 low-bit buckets used",
            buckets.len()
        );
    }
}
