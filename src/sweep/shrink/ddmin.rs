//! Zeller's delta debugging (ddmin): the smallest part of a list for which a test still fails.
//!
//! Split the list into n chunks; if one chunk alone fails, keep it; else if the list without one
//! chunk fails, keep that; else split finer (2n) — until the chunks are single items. The result
//! is 1-minimal: removing any one item makes the test pass. Zeller and Hildebrandt, "Simplifying
//! and Isolating Failure-Inducing Input", IEEE TSE 28(2), 2002. Items keep their order.

/// What one test of a candidate list said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The failure is still there: the candidate is kept.
    Fails,
    /// It is gone (or another one took its place).
    Passes,
    /// The budget of test runs is spent: stop and keep what is known to fail.
    Exhausted,
}

/// A 1-minimal sub-list of `items` on which `test` fails, assuming it fails on `items` itself.
/// The empty list is tried first. Stops early, with the smallest failing list found so far,
/// when `test` answers [`Probe::Exhausted`].
pub fn ddmin<T: Clone>(items: Vec<T>, mut test: impl FnMut(&[T]) -> Probe) -> Vec<T> {
    if items.is_empty() {
        return items;
    }
    match test(&[]) {
        Probe::Fails => return Vec::new(),
        Probe::Exhausted => return items,
        Probe::Passes => {}
    }
    let mut current = items;
    let mut n = 2usize;
    while current.len() >= 2 {
        let chunks = split(current.len(), n);
        match reduce(&current, &chunks, &mut test) {
            Step::Reduced(next, subset) => {
                // A chunk alone: start again from halves of it. A complement: one chunk fewer.
                n = if subset { 2 } else { (n - 1).max(2) };
                current = next;
            }
            Step::Exhausted => break,
            Step::Nothing if n >= current.len() => break,
            Step::Nothing => n = (2 * n).min(current.len()),
        }
    }
    current
}

enum Step<T> {
    /// A smaller failing list; `true` when it was one chunk alone.
    Reduced(Vec<T>, bool),
    Nothing,
    Exhausted,
}

/// Tries each chunk alone, then each complement.
fn reduce<T: Clone>(
    current: &[T],
    chunks: &[(usize, usize)],
    test: &mut impl FnMut(&[T]) -> Probe,
) -> Step<T> {
    for &(a, b) in chunks {
        let subset = current[a..b].to_vec();
        match test(&subset) {
            Probe::Fails => return Step::Reduced(subset, true),
            Probe::Exhausted => return Step::Exhausted,
            Probe::Passes => {}
        }
    }
    // With two chunks, each complement is the other chunk, already tested.
    if chunks.len() > 2 {
        for &(a, b) in chunks {
            let complement: Vec<T> = current[..a].iter().chain(&current[b..]).cloned().collect();
            match test(&complement) {
                Probe::Fails => return Step::Reduced(complement, false),
                Probe::Exhausted => return Step::Exhausted,
                Probe::Passes => {}
            }
        }
    }
    Step::Nothing
}

/// `n` contiguous, nearly equal chunks of `0..len`, as (start, end).
fn split(len: usize, n: usize) -> Vec<(usize, usize)> {
    let n = n.min(len).max(1);
    (0..n).map(|i| (i * len / n, (i + 1) * len / n)).collect()
}

/// The smallest value in `(0, high]`, in steps of `step`, for which `test` fails, by binary
/// search from `high` (known to fail) down: halve first, then bisect. Assumes failing is roughly
/// monotone in the value; where it is not, the answer still fails, it may just not be least.
pub fn shortest(high: u64, step: u64, mut test: impl FnMut(u64) -> Probe) -> u64 {
    let step = step.max(1);
    let (mut lo, mut hi) = (0u64, high);
    while hi - lo > step {
        let mid = lo + (hi - lo) / 2;
        let mid = (mid / step * step).max(lo + step).min(hi - 1);
        match test(mid) {
            Probe::Fails => hi = mid,
            Probe::Passes => lo = mid,
            Probe::Exhausted => break,
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when every item of `needed` is present.
    fn needs(needed: &'static [u32]) -> impl FnMut(&[u32]) -> Probe {
        move |c: &[u32]| {
            if needed.iter().all(|x| c.contains(x)) {
                Probe::Fails
            } else {
                Probe::Passes
            }
        }
    }

    #[test]
    fn ddmin_finds_the_two_items_that_together_fail() {
        let items: Vec<u32> = (0..100).collect();
        let mut runs = 0;
        let mut test = needs(&[17, 83]);
        let got = ddmin(items, |c| {
            runs += 1;
            test(c)
        });
        assert_eq!(got, [17, 83]);
        assert!(runs < 100, "{runs} runs");
    }

    #[test]
    fn ddmin_finds_one_item_and_keeps_the_order_of_several() {
        assert_eq!(ddmin((0..37).collect(), needs(&[5])), [5]);
        assert_eq!(ddmin((0..20).collect(), needs(&[19, 2, 11])), [2, 11, 19]);
    }

    #[test]
    fn ddmin_returns_the_empty_list_when_nothing_is_needed() {
        assert!(ddmin((0..8).collect(), needs(&[])).is_empty());
    }

    #[test]
    fn the_result_is_one_minimal_for_a_non_monotone_test() {
        // Fails when the sum of the kept items is a multiple of 7 and at least 21.
        let test = |c: &[u32]| {
            let sum: u32 = c.iter().sum();
            if sum >= 21 && sum.is_multiple_of(7) {
                Probe::Fails
            } else {
                Probe::Passes
            }
        };
        let items: Vec<u32> = (1..=13).collect(); // sum 91
        let got = ddmin(items, test);
        assert_eq!(test(&got), Probe::Fails);
        for i in 0..got.len() {
            let mut less = got.clone();
            less.remove(i);
            assert_eq!(test(&less), Probe::Passes, "{got:?} without {}", got[i]);
        }
    }

    #[test]
    fn an_exhausted_budget_keeps_the_smallest_failing_list_so_far() {
        let mut left = 3;
        let mut test = needs(&[1]);
        let got = ddmin((0..64).collect(), |c| {
            if left == 0 {
                return Probe::Exhausted;
            }
            left -= 1;
            test(c)
        });
        // Empty (passes), first half (fails), first quarter (fails): then the budget is gone.
        assert_eq!(got, (0..16).collect::<Vec<u32>>());
    }

    #[test]
    fn shortest_bisects_to_the_threshold_in_steps() {
        let mut runs = 0;
        let got = shortest(2000, 1, |d| {
            runs += 1;
            if d >= 731 {
                Probe::Fails
            } else {
                Probe::Passes
            }
        });
        assert_eq!(got, 731);
        assert!(runs <= 11, "{runs}");
        assert_eq!(
            shortest(2000, 100, |d| if d >= 731 {
                Probe::Fails
            } else {
                Probe::Passes
            }),
            800
        );
        // Fails everywhere: down to one step.
        assert_eq!(shortest(1000, 10, |_| Probe::Fails), 10);
    }
}
