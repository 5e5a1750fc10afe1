//! A wider search for fewer operations, where delta debugging stops.
//!
//! Delta debugging ends 1-minimal: no single operation can go. In a simulator that is often
//! not the smallest scenario, because an operation can matter only through the randomness it
//! uses up: a node draws every message's latency, loss and duplication from one stream per
//! sender (docs/ARCHITECTURE.md#randomness), so removing one transfer shifts the draws of every
//! later message that node sends, and the failure that rode on them disappears. The operations
//! left are then the failing one plus fillers that keep the stream where it was.
//!
//! This search tries what ddmin does not: the smallest lists first — each operation alone;
//! each alone again, moved a little earlier or later (`SHIFTS_MS`: its failure may hang on
//! where it falls against a fault or a timer, which the draws of the operations gone had
//! moved); each pair of the ones left; each of them with one operation from the whole run (a
//! different filler) — as they are and with their clients renumbered from 0 (every client
//! draws its link's latencies from a stream of its own, so a new number is a new draw). It
//! stops at the first list that fails, or when its budget of runs is spent. It never changes
//! what an operation asks.

use crate::node::time::NANOS_PER_MILLI;
use crate::workload::ScriptOp;

use super::ddmin::Probe;

/// How far a lone operation is moved, earlier and later, in milliseconds: dense near where it
/// was, sparser further out.
const SHIFTS_MS: &[u64] = &[1, 2, 3, 5, 8, 13, 21, 34, 55, 89];

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
    // Each one alone again, a little earlier or later.
    for a in current.iter().rev() {
        for &ms in SHIFTS_MS {
            let delta = ms * NANOS_PER_MILLI;
            for at in [a.at.checked_sub(delta), a.at.checked_add(delta)] {
                let Some(at) = at else { continue };
                let moved = ScriptOp { at, ..a.clone() };
                if let Some(found) = attempt(vec![&moved])? {
                    return Some(found);
                }
            }
        }
    }
    if n == 2 {
        return None; // a pair is no smaller
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
    fn a_lone_operation_that_fails_only_moved_is_found_near_where_it_was() {
        let ms = NANOS_PER_MILLI;
        let current = [op(0, 100 * ms), op(0, 200 * ms)];
        // Fails only when the operation lands in [205ms, 215ms).
        let found = fewer(&current, &[], 1000, |ops| {
            if ops.len() == 1 && (205 * ms..215 * ms).contains(&ops[0].at) {
                Probe::Fails
            } else {
                Probe::Passes
            }
        });
        assert_eq!(shape(&found.expect("found")), [(0, 205 * ms)]);
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
        // Each of the three alone came first (renumbered where that differs), then each alone
        // moved, then their pairs, then the filler.
        assert_eq!(
            tried[..4],
            [vec![(0, 90)], vec![(1, 50)], vec![(0, 50)], vec![(0, 10)]]
        );
        let moved = tried.iter().skip(4).take_while(|t| t.len() == 1).count();
        assert!(moved > 3 * SHIFTS_MS.len(), "{tried:?}");
        let rest = &tried[4 + moved..];
        assert_eq!(rest.len(), 5, "{rest:?}");
        assert!(rest.iter().all(|t| t.len() == 2), "{rest:?}");
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
