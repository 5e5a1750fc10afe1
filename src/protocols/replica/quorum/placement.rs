//! Which nodes hold a key: every node, or the `n` successors of the key on a consistent-hash
//! ring (seed text 004 §1.5.1 「一致性哈希」's ring, with `n` replicas as in Dynamo).
//!
//! The hash is FNV-1a followed by a SplitMix64 finaliser: fixed by this file, the same on every
//! machine and run, and free of any `HashMap` order. Each node sits at the hash of its index
//! (a node knows its peers by index, not by name), once: no virtual nodes, so with few nodes
//! the arcs are uneven — enough to show placement, not to balance load.

use crate::node::NodeId;

use super::config::Placement;

/// FNV-1a over `bytes`, then SplitMix64's finaliser to spread nearby inputs over the ring.
pub(crate) fn ring_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Where each key's replicas are, the same on every node.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    /// Every node, ordered by its position on the ring (all the same with `Placement::All`).
    tokens: Vec<(u64, NodeId)>,
    placement: Placement,
    n: usize,
}

impl Ring {
    /// The placement of a cluster of `nodes` nodes with `n` replicas per key.
    pub(crate) fn new(placement: Placement, nodes: usize, n: usize) -> Ring {
        let mut tokens: Vec<(u64, NodeId)> = (0..nodes as u32)
            .map(|i| (ring_hash(format!("node-{i}").as_bytes()), NodeId(i)))
            .collect();
        tokens.sort_unstable();
        Ring {
            tokens,
            placement,
            n: n.min(nodes),
        }
    }

    /// The replicas of `key`: all nodes in cluster order, or the `n` nodes met walking
    /// clockwise from the key's hash (the first at or after it, wrapping around).
    pub(crate) fn replicas(&self, key: &str) -> Vec<NodeId> {
        match self.placement {
            Placement::All => {
                let mut all: Vec<NodeId> = self.tokens.iter().map(|t| t.1).collect();
                all.sort_unstable();
                all
            }
            Placement::Ring => {
                let h = ring_hash(key.as_bytes());
                let start = self.tokens.partition_point(|t| t.0 < h);
                (0..self.n)
                    .map(|i| self.tokens[(start + i) % self.tokens.len()].1)
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_X: u64 = 3_204_358_148_266_727_566;

    #[test]
    fn the_hash_is_fixed_by_this_file() {
        // Pinned: a change would move every ring placement, and every trace with it.
        assert_eq!(ring_hash(b""), ring_hash(b""));
        assert_ne!(ring_hash(b"x0"), ring_hash(b"x1"));
        assert_eq!(ring_hash(b"x"), PINNED_X);
    }

    #[test]
    fn all_placement_is_every_node_in_cluster_order() {
        let ring = Ring::new(Placement::All, 5, 5);
        assert_eq!(
            ring.replicas("anything"),
            (0..5).map(NodeId).collect::<Vec<_>>()
        );
    }

    #[test]
    fn ring_placement_takes_the_n_successors_of_the_keys_hash() {
        let ring = Ring::new(Placement::Ring, 5, 3);
        let mut firsts = std::collections::BTreeSet::new();
        for k in 0..200 {
            let key = format!("k{k}");
            let reps = ring.replicas(&key);
            assert_eq!(reps.len(), 3);
            let distinct: std::collections::BTreeSet<_> = reps.iter().collect();
            assert_eq!(distinct.len(), 3, "{key}: {reps:?}");
            // The first replica is the first token at or after the key's hash, wrapping.
            let h = ring_hash(key.as_bytes());
            let first = ring
                .tokens
                .iter()
                .find(|t| t.0 >= h)
                .unwrap_or(&ring.tokens[0])
                .1;
            assert_eq!(reps[0], first, "{key}");
            // The others follow it in ring order.
            let pos = ring.tokens.iter().position(|t| t.1 == first).unwrap();
            assert_eq!(reps[1], ring.tokens[(pos + 1) % 5].1);
            assert_eq!(reps[2], ring.tokens[(pos + 2) % 5].1);
            firsts.insert(reps[0]);
            // The same on every call: no map order, no randomness.
            assert_eq!(ring.replicas(&key), reps);
        }
        assert_eq!(firsts.len(), 5, "every node is some key's first replica");
    }
}
