//! A wider search for fewer operations, where delta debugging stops.
//!
//! Delta debugging ends 1-minimal: no single operation can go. In a simulator that is often
//! not the smallest scenario, because an operation can matter only through the randomness it
//! uses up: a node draws every message's latency, loss and duplication from one stream per
//! sender (docs/ARCHITECTURE.md#randomness), so removing one transfer shifts the draws of every
//! later message that node sends, and the failure that rode on them disappears. The operations
//! left are then the failing one plus fillers that keep the stream where it was.
//!
//! This search tries what ddmin does not: the smallest lists first — each operation alone, then
//! each pair of the ones left, then each of them with one operation from the whole run (a
//! different filler) — each one as it is and with its clients renumbered from 0 (every client
//! draws its link's latencies from a stream of its own, so a new number is a new draw). It
//! stops at the first list that fails, or when its budget of runs is spent; it never changes
//! an operation's time or call, so whatever it finds is still a part of the run it began from.

use crate::workload::ScriptOp;

use super::ddmin::Probe;

/// A failing list of fewer than `current.len()` operations (at most two), from `current` and
/// `pool`, tried in the order of the module doc, in at most `budget` calls of `test`; `None`
/// when none failed within it (or `test` answered [`Probe::Exhausted`]).
pub fn fewer(
    current: &[ScriptOp],
    pool: &[ScriptOp],
    budget: usize,
    mut test: impl FnMut(&[ScriptOp]) -> Probe,
) -> Option<Vec<ScriptOp>> {
    let n = current.len();
    if n < 2 {
        return None;
    }
    let mut left = budget;
    let mut attempt = |ops: Vec<&ScriptOp>| -> Option<Option<Vec<ScriptOp>>> {
        let mut ops: Vec<ScriptOp> = ops.into_iter().cloned().collect();
        ops.sort_by_key(|o| o.at);
        let renumbered = renumber(&ops);
        let forms = if renumbered == ops {
            vec![ops]
        } else {
            vec![ops, renumbered]
        };
        for form in forms {
            if left == 0 {
                return None;
            }
            left -= 1;
            match test(&form) {
                Probe::Fails => return Some(Some(form)),
                Probe::Passes => {}
                Probe::Exhausted => return None,
            }
        }
        Some(None)
    };
    // Each one alone, the last first: the operation that fails is most often the last.
    for a in current.iter().rev() {
        match attempt(vec![a])? {
            Some(found) => return Some(found),
            None => continue,
        }
    }
    if n == 2 {
        return None;
    }
    // Each pair of those left.
    for i in (0..n).rev() {
        for j in (0..i).rev() {
            if let Some(found) = attempt(vec![&current[j], &current[i]])? {
                return Some(found);
            }
        }
    }
    // Each of them with another filler from the run: the nearest in time first.
    for a in current.iter().rev() {
        let mut others: Vec<&ScriptOp> = pool.iter().filter(|p| !current.contains(p)).collect();
        others.sort_by_key(|p| (p.at.abs_diff(a.at), p.at));
        for p in others {
            if let Some(found) = attempt(vec![a, p])? {
                return Some(found);
            }
        }
    }
    None
}

/// The same operations with their clients numbered 0, 1, … in order of first appearance.
pub fn renumber(ops: &[ScriptOp]) -> Vec<ScriptOp> {
    let mut seen: Vec<u32> = Vec::new();
    ops.iter()
        .map(|o| {
            let i = match seen.iter().position(|&c| c == o.client) {
                Some(i) => i,
                None => {
                    seen.push(o.client);
                    seen.len() - 1
                }
            };
            ScriptOp {
                client: i as u32,
                ..o.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::history::Call;

    fn op(client: u32, at: u64) -> ScriptOp {
        ScriptOp {
            client,
            at,
            key: None,
            call: Call::ReadAll,
        }
    }

    /// The (client, at) of each operation.
    fn shape(ops: &[ScriptOp]) -> Vec<(u32, u64)> {
        ops.iter().map(|o| (o.client, o.at)).collect()
    }

    #[test]
    fn a_lone_operation_that_fails_only_renumbered_is_found() {
        // Fails with the operation at 30 alone, on client 0 (a fresh stream).
        let current = [op(2, 10), op(2, 20), op(2, 30)];
        let mut runs = 0;
        let found = fewer(&current, &[], 100, |ops| {
            runs += 1;
            if shape(ops) == [(0, 30)] {
                Probe::Fails
            } else {
                Probe::Passes
            }
        });
        assert_eq!(shape(&found.expect("found")), [(0, 30)]);
        assert_eq!(runs, 2, "as it is, then renumbered");
    }

    #[test]
    fn a_pair_with_a_filler_from_the_run_is_found_nearest_first() {
        let current = [op(0, 10), op(1, 50), op(0, 90)];
        let pool: Vec<ScriptOp> = (0..10).map(|i| op(3, i * 10 + 5)).collect();
        let mut tried = Vec::new();
        let found = fewer(&current, &pool, 1000, |ops| {
            tried.push(shape(ops));
            // The operation at 90 fails with any filler of client 3 before it.
            if ops.len() == 2 && ops[1].at == 90 && ops[0].client == 3 {
                Probe::Fails
            } else {
                Probe::Passes
            }
        });
        // Its nearest filler, 85, kept as it is (the renumbered form comes second).
        assert_eq!(shape(&found.expect("found")), [(3, 85), (0, 90)]);
        // Each of the three alone came first (renumbered where that differs), then their
        // pairs, then the filler.
        assert_eq!(
            tried[..4],
            [vec![(0, 90)], vec![(1, 50)], vec![(0, 50)], vec![(0, 10)]]
        );
        assert_eq!(tried.len(), 9, "{tried:?}");
        assert!(tried[4..8].iter().all(|t| t.len() == 2), "{tried:?}");
    }

    #[test]
    fn nothing_smaller_within_the_budget_is_none() {
        let current = [op(0, 10), op(0, 20), op(0, 30)];
        let pool: Vec<ScriptOp> = (0..50).map(|i| op(0, i)).collect();
        let mut runs = 0;
        let found = fewer(&current, &pool, 25, |_| {
            runs += 1;
            Probe::Passes
        });
        assert!(found.is_none());
        assert_eq!(runs, 25);
        // Fewer than two: nothing to search.
        assert!(fewer(&current[..1], &pool, 25, |_| Probe::Fails).is_none());
    }

    #[test]
    fn renumbering_keeps_the_order_of_first_appearance() {
        let ops = [op(5, 1), op(2, 2), op(5, 3)];
        assert_eq!(shape(&renumber(&ops)), [(0, 1), (1, 2), (0, 3)]);
    }
}
