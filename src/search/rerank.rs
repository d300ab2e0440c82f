//! The exact rerank after a walk over codes: nodes come in with a lower
//! bound of their distance (the code's estimate minus its error bound) and go
//! out nearest first by exact distance, measured lazily. A node is handed out
//! once no node still unmeasured has a bound below its distance, so a scan
//! that stops after k rows measures about the nodes that could be among them.

use super::Candidate;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug)]
struct Bounded<Id> {
    bound: f32,
    id: Id,
}

impl<Id: Ord> PartialEq for Bounded<Id> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<Id: Ord> Eq for Bounded<Id> {}
impl<Id: Ord> PartialOrd for Bounded<Id> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<Id: Ord> Ord for Bounded<Id> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bound
            .total_cmp(&other.bound)
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// Nodes measured in one call of the measuring function: enough to batch
/// page reads, few enough not to measure far past what is needed.
const GROUP: usize = 8;

pub struct Rerank<Id> {
    pending: BinaryHeap<Reverse<Bounded<Id>>>,
    measured: BinaryHeap<Reverse<Candidate<Id>>>,
    last_returned: f32,
    /// Nodes measured exactly.
    pub measured_count: usize,
    /// Nodes strict order dropped: measured nearer than one already handed out.
    pub skipped_count: usize,
    group: Vec<Id>,
    distances: Vec<f32>,
}

impl<Id> Default for Rerank<Id> {
    fn default() -> Self {
        Rerank {
            pending: BinaryHeap::new(),
            measured: BinaryHeap::new(),
            last_returned: f32::NEG_INFINITY,
            measured_count: 0,
            skipped_count: 0,
            group: Vec::new(),
            distances: Vec::new(),
        }
    }
}

impl<Id: Copy + Ord> Rerank<Id> {
    pub fn clear(&mut self) {
        self.pending.clear();
        self.measured.clear();
        self.last_returned = f32::NEG_INFINITY;
        self.measured_count = 0;
        self.skipped_count = 0;
    }

    /// Nodes added and not handed out yet.
    pub fn remaining(&self) -> usize {
        self.pending.len() + self.measured.len()
    }

    /// A node the walk found, with a distance its exact one is not below.
    pub fn add(&mut self, id: Id, bound: f32) {
        self.pending.push(Reverse(Bounded { bound, id }));
    }

    /// The nearest node not handed out yet, measuring (with `measure`, which
    /// fills exact distances of the ids it is given) those whose bound says
    /// they could come first. None once every node added is handed out. In
    /// `strict` order a node measured nearer than one handed out is dropped.
    pub fn next(
        &mut self,
        strict: bool,
        measure: impl FnMut(&[Id], &mut Vec<f32>),
    ) -> Option<Candidate<Id>> {
        self.next_within(strict, f32::INFINITY, measure)
    }

    /// `next`, but only a node whose distance is at most `limit`: None when
    /// the nearest left is farther (it stays for a later call).
    pub fn next_within(
        &mut self,
        strict: bool,
        limit: f32,
        mut measure: impl FnMut(&[Id], &mut Vec<f32>),
    ) -> Option<Candidate<Id>> {
        loop {
            let best = self.measured.peek().map(|c| c.0.distance);
            let measure_more = match (self.pending.peek(), best) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(p), Some(best)) => p.0.bound < best,
            };
            if measure_more {
                let best = best.unwrap_or(f32::INFINITY);
                self.group.clear();
                while let Some(&Reverse(p)) = self.pending.peek() {
                    if self.group.len() == GROUP || (!self.group.is_empty() && p.bound >= best) {
                        break;
                    }
                    self.pending.pop();
                    self.group.push(p.id);
                }
                let mut distances = std::mem::take(&mut self.distances);
                measure(&self.group, &mut distances);
                self.measured_count += self.group.len();
                for (&id, &distance) in self.group.iter().zip(&distances) {
                    self.measured.push(Reverse(Candidate { distance, id }));
                }
                self.distances = distances;
                continue;
            }
            let Reverse(nearest) = self.measured.pop()?;
            if nearest.distance > limit {
                self.measured.push(Reverse(nearest));
                return None;
            }
            if strict && nearest.distance < self.last_returned {
                self.skipped_count += 1;
                continue;
            }
            self.last_returned = self.last_returned.max(nearest.distance);
            return Some(nearest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A measuring function that looks distances up in `exact`, by id.
    fn measuring(exact: &[f32]) -> impl FnMut(&[u32], &mut Vec<f32>) + '_ {
        |ids, out| {
            out.clear();
            out.extend(ids.iter().map(|&id| exact[id as usize]));
        }
    }

    #[test]
    fn hands_out_in_exact_order_and_measures_only_what_could_come_first() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let exact: Vec<f32> = (0..500).map(|_| rng.gen_range(0.0f32..100.0)).collect();
        for slack in [0.5f32, 5.0, 1000.0] {
            let mut rerank: Rerank<u32> = Rerank::default();
            for (id, &d) in exact.iter().enumerate() {
                rerank.add(id as u32, d - rng.gen_range(0.0..slack));
            }
            let mut out = Vec::new();
            let mut measure = measuring(&exact);
            for _ in 0..10 {
                out.push(rerank.next(true, &mut measure).expect("500 nodes"));
            }
            let mut sorted = exact.clone();
            sorted.sort_by(f32::total_cmp);
            assert_eq!(
                out.iter().map(|c| c.distance).collect::<Vec<_>>(),
                sorted[..10]
            );
            if slack < 1.0 {
                // Tight bounds: the 10 nearest and a group or two more.
                assert!(
                    rerank.measured_count <= 10 + 2 * GROUP,
                    "{} measured",
                    rerank.measured_count
                );
            }
            while rerank.next(true, &mut measure).is_some() {}
            assert_eq!(rerank.measured_count, 500);
            assert_eq!(rerank.skipped_count, 0);
        }
    }

    #[test]
    fn strict_order_drops_a_node_found_nearer_than_one_handed_out() {
        let exact = [1.0f32, 2.0, 0.5];
        let mut measure = measuring(&exact);
        for strict in [true, false] {
            let mut rerank: Rerank<u32> = Rerank::default();
            rerank.add(0, 1.0);
            rerank.add(1, 2.0);
            assert_eq!(rerank.next(strict, &mut measure).map(|c| c.id), Some(0));
            // Found later, by a later batch of the walk.
            rerank.add(2, 0.4);
            let rest: Vec<u32> = std::iter::from_fn(|| rerank.next(strict, &mut measure))
                .map(|c| c.id)
                .collect();
            assert_eq!(rest, if strict { vec![1] } else { vec![2, 1] });
            assert_eq!(rerank.skipped_count, strict as usize);
        }
    }

    #[test]
    fn a_limit_keeps_farther_nodes_for_later() {
        let exact = [1.0f32, 2.0, 3.0];
        let mut measure = measuring(&exact);
        let mut rerank: Rerank<u32> = Rerank::default();
        for id in 0..3 {
            rerank.add(id, exact[id as usize] - 0.5);
        }
        assert_eq!(
            rerank.next_within(true, 2.5, &mut measure).map(|c| c.id),
            Some(0)
        );
        assert_eq!(
            rerank.next_within(true, 2.5, &mut measure).map(|c| c.id),
            Some(1)
        );
        assert_eq!(rerank.next_within(true, 2.5, &mut measure), None);
        assert_eq!(rerank.remaining(), 1);
        assert_eq!(
            rerank
                .next_within(true, f32::INFINITY, &mut measure)
                .map(|c| c.id),
            Some(2)
        );
    }

    #[test]
    fn nan_bounds_still_get_measured() {
        let mut rerank: Rerank<u32> = Rerank::default();
        rerank.add(1, f32::NAN);
        rerank.add(2, 3.0);
        let got: Vec<u32> = std::iter::from_fn(|| {
            rerank.next(false, |ids: &[u32], out: &mut Vec<f32>| {
                out.clear();
                out.extend(ids.iter().map(|&id| id as f32));
            })
        })
        .map(|c| c.id)
        .collect();
        assert_eq!(got, vec![1, 2]);
    }
}
