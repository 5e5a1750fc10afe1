//! What a lieutenant heard, and the decision OM(m) draws from it (Lamport, Shostak and Pease,
//! "The Byzantine Generals Problem", 1982, §3).
//!
//! Every order a lieutenant receives is filed under its path: `[A]` from the commander A,
//! `[A, B]` from B relaying A's order, and so on. The path names one sub-round of the
//! recursion: OM(m − k) run by the path's last general, where k + 1 is the path's length.
//! In the sub-round of path p, lieutenant i's value is the majority of what it received on p
//! itself and of its value in each sub-round one deeper (p followed by each other general not
//! on p): OM(0) at the bottom, where the value is just what was received. A missing order is
//! RETREAT, and so is a tie.

use std::collections::BTreeMap;

use super::Order;
use crate::node::NodeId;

/// The paper's `majority(v1, …, vn−1)`: the value most of them hold, RETREAT when neither
/// has more than half (the text's 「众数」, the mode, differs only on ties).
///
/// ```
/// use sim::protocols::byzantine::{Order::*, majority};
/// assert_eq!(majority(&[Attack, Attack, Retreat]), Attack);
/// assert_eq!(majority(&[Attack, Retreat]), Retreat, "a tie retreats");
/// ```
pub fn majority(votes: &[Order]) -> Order {
    let attack = votes.iter().filter(|&&v| v == Order::Attack).count();
    if 2 * attack > votes.len() {
        Order::Attack
    } else {
        Order::Retreat
    }
}

/// The orders one lieutenant received, by path.
#[derive(Debug, Default)]
pub(super) struct Heard {
    by_path: BTreeMap<Vec<NodeId>, Order>,
}

impl Heard {
    /// Files an order; the first one on a path counts (a duplicate changes nothing).
    /// Returns whether it was new.
    pub(super) fn file(&mut self, path: Vec<NodeId>, order: Order) -> bool {
        match self.by_path.entry(path) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(order);
                true
            }
            std::collections::btree_map::Entry::Occupied(_) => false,
        }
    }

    /// What arrived on `path`, if anything.
    pub(super) fn get(&self, path: &[NodeId]) -> Option<Order> {
        self.by_path.get(path).copied()
    }

    /// How many orders were filed.
    pub(super) fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Lieutenant `me`'s value in the sub-round of `path`, among `generals` (in cluster
    /// order), when the algorithm is OM(`m`).
    pub(super) fn value(
        &self,
        me: NodeId,
        path: &mut Vec<NodeId>,
        generals: &[NodeId],
        m: u32,
    ) -> Order {
        let received = self.get(path).unwrap_or_default();
        if path.len() > m as usize {
            return received;
        }
        let mut votes = vec![received];
        for &j in generals {
            if j == me || path.contains(&j) {
                continue;
            }
            path.push(j);
            votes.push(self.value(me, path, generals, m));
            path.pop();
        }
        majority(&votes)
    }

    /// Lieutenant `me`'s decision under OM(`m`) with `commander`, and its votes: the commander's
    /// order as received, then each other lieutenant's value (what the decision is the majority
    /// of).
    pub(super) fn decide(
        &self,
        me: NodeId,
        commander: NodeId,
        generals: &[NodeId],
        m: u32,
    ) -> (Order, Vec<(NodeId, Order)>) {
        let mut path = vec![commander];
        let mut votes = vec![(commander, self.get(&path).unwrap_or_default())];
        if m > 0 {
            for &j in generals {
                if j == me || j == commander {
                    continue;
                }
                path.push(j);
                votes.push((j, self.value(me, &mut path, generals, m)));
                path.pop();
            }
        }
        let order = majority(&votes.iter().map(|&(_, v)| v).collect::<Vec<_>>());
        (order, votes)
    }
}

#[cfg(test)]
mod tests {
    use super::Order::{Attack, Retreat};
    use super::*;

    const A: NodeId = NodeId(0);
    const B: NodeId = NodeId(1);
    const C: NodeId = NodeId(2);
    const D: NodeId = NodeId(3);

    #[test]
    fn om1_takes_the_majority_of_the_commanders_order_and_the_relays() {
        // The paper's Fig. 3: lieutenant D traitor tells B "retreat"; B still attacks.
        let all = [A, B, C, D];
        let mut h = Heard::default();
        h.file(vec![A], Attack);
        h.file(vec![A, C], Attack);
        h.file(vec![A, D], Retreat);
        let (order, votes) = h.decide(B, A, &all, 1);
        assert_eq!(order, Attack);
        assert_eq!(votes, [(A, Attack), (C, Attack), (D, Retreat)]);
    }

    #[test]
    fn a_missing_order_counts_as_retreat_and_a_tie_retreats() {
        let all = [A, B, C];
        let mut h = Heard::default();
        h.file(vec![A], Attack);
        // C's relay never came: attack against retreat, a tie.
        assert_eq!(
            h.decide(B, A, &all, 1),
            (Retreat, vec![(A, Attack), (C, Retreat)])
        );
        // OM(0): the commander's order alone.
        assert_eq!(h.decide(B, A, &all, 0).0, Attack);
    }

    #[test]
    fn the_first_order_on_a_path_counts() {
        let mut h = Heard::default();
        assert!(h.file(vec![A], Attack));
        assert!(!h.file(vec![A], Retreat));
        assert_eq!(h.get(&[A]), Some(Attack));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn om2_recurses_one_sub_round_deeper_per_relay() {
        // Seven generals, OM(2), from lieutenant B's side. Commander A said attack to B;
        // in C's sub-round, C relayed attack, and D, E, F, G each said C told them attack
        // except G, who lies: the sub-round still comes to attack.
        let all: Vec<NodeId> = (0..7).map(NodeId).collect();
        let mut h = Heard::default();
        h.file(vec![A], Attack);
        for j in 2..7 {
            h.file(vec![A, NodeId(j)], Attack);
            for k in 2..7 {
                if k != j {
                    let lie = k == 6;
                    h.file(
                        vec![A, NodeId(j), NodeId(k)],
                        if lie { Retreat } else { Attack },
                    );
                }
            }
        }
        let (order, votes) = h.decide(B, A, &all, 2);
        assert_eq!(order, Attack);
        assert!(votes.iter().all(|&(_, v)| v == Attack), "{votes:?}");
        // Without the deeper round, the same first relays decide alike.
        assert_eq!(h.decide(B, A, &all, 1).0, Attack);
    }
}
