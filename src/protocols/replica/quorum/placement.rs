//! Which nodes hold a key: every node, or the `n` successors of the key on a consistent-hash
//! ring (seed text 004 §1.5.1 「一致性哈希」's ring, with `n` replicas as in Dynamo).
//!
//! The hash is FNV-1a followed by a SplitMix64 finaliser: fixed by this file, the same on every
//! machine and run, and free of any `HashMap` order. Each node sits at [`TOKENS`] points of the
//! ring, the hashes of its index and the point's number (a node knows its peers by index, not
//! by name): virtual nodes, so that with five nodes the keys do not all fall on the same three.

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

/// How many points of the ring each node holds.
pub(crate) const TOKENS: u32 = 16;

/// Where each key's replicas are, the same on every node.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    /// Every node's points, ordered by position on the ring.
    tokens: Vec<(u64, NodeId)>,
    nodes: usize,
    placement: Placement,
    n: usize,
}

impl Ring {
    /// The placement of a cluster of `nodes` nodes with `n` replicas per key.
    pub(crate) fn new(placement: Placement, nodes: usize, n: usize) -> Ring {
        let mut tokens: Vec<(u64, NodeId)> = (0..nodes as u32)
            .flat_map(|i| {
                (0..TOKENS).map(move |t| (ring_hash(format!("node-{i}/{t}").as_bytes()), NodeId(i)))
            })
            .collect();
        tokens.sort_unstable();
        Ring {
            tokens,
            nodes,
            placement,
            n: n.min(nodes),
        }
    }

    /// The replicas of `key`: all nodes in cluster order, or the first `n` distinct nodes met
    /// walking clockwise from the key's hash (from the first point at or after it, wrapping).
    pub(crate) fn replicas(&self, key: &str) -> Vec<NodeId> {
        match self.placement {
            Placement::All => (0..self.nodes as u32).map(NodeId).collect(),
            Placement::Ring => {
                let h = ring_hash(key.as_bytes());
                let start = self.tokens.partition_point(|t| t.0 < h);
                let mut out: Vec<NodeId> = Vec::with_capacity(self.n);
                for i in 0..self.tokens.len() {
                    let node = self.tokens[(start + i) % self.tokens.len()].1;
                    if !out.contains(&node) {
                        out.push(node);
                        if out.len() == self.n {
                            break;
                        }
                    }
                }
                out
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
            // The replicas are the distinct owners of the points met clockwise from the
            // key's hash, in that order.
            let h = ring_hash(key.as_bytes());
            let mut walk: Vec<NodeId> = ring
                .tokens
                .iter()
                .filter(|t| t.0 >= h)
                .map(|t| t.1)
                .collect();
            walk.extend(ring.tokens.iter().filter(|t| t.0 < h).map(|t| t.1));
            walk.dedup();
            let mut distinct = Vec::new();
            for n in walk {
                if !distinct.contains(&n) {
                    distinct.push(n);
                }
            }
            assert_eq!(reps, distinct[..3], "{key}");
            firsts.insert(reps[0]);
            // The same on every call: no map order, no randomness.
            assert_eq!(ring.replicas(&key), reps);
        }
        assert_eq!(firsts.len(), 5, "every node is some key's first replica");
        // Even four keys spread over all five nodes (each node has several points).
        let four: Vec<Vec<NodeId>> = (0..4).map(|k| ring.replicas(&format!("x{k}"))).collect();
        assert!(
            (0..5).all(|n| four.iter().any(|r| r.contains(&NodeId(n)))),
            "{four:?}"
        );
    }
}
