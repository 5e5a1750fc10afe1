//! Sweeps: many seeds of one scenario, on many threads or many machines, with one answer.
//!
//! The rule it keeps: **the answer is a pure function of (scenario, seed range)**. Seeds run in
//! whatever order the worker threads pull them, but every result is a [`SeedResult`] that holds
//! only what the run computed (verdict, failing invariants, virtual times, trace hash), and the
//! [`Summary`] sorts them by seed before anything is printed. So the table on stdout is
//! byte-identical for any `--jobs`, for any `--shard` split once merged, and after any number
//! of interruptions and resumes. Wall-clock figures (seeds/s, events/s, elapsed) are printed
//! apart, on stderr, and never enter a result.
//!
//! - [`runner`]: the worker threads and the deterministic `--fail-fast` cut-off;
//! - [`results`]: one seed's result, its JSON line, and the summary table;
//! - `store`: the `--out` directory (`sweep.json`, `results.jsonl`) that makes a sweep resumable;
//! - `merge`: shard directories back into one sweep;
//! - `junit`: the JUnit XML that CI systems render;
//! - `progress`: the progress bar or periodic lines on stderr;
//! - [`shrink`]: one failing seed cut down to the smallest scenario that still fails.
//!
//! Layering: a sweep sits above the composition root ([`crate::run`]) and the report, and below
//! the command line; nothing it does reaches inside a run.

pub(crate) mod junit;
pub(crate) mod merge;
pub(crate) mod progress;
pub mod results;
pub mod runner;
pub mod shrink;
pub(crate) mod store;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use results::{Failure, SeedResult, Summary};

/// A half-open range of seeds, `start..end`, as Rust writes it (`1..1001` is 1,000 seeds).
///
/// ```
/// use sim::sweep::SeedRange;
/// let range: SeedRange = "1..=1000".parse().unwrap();
/// assert_eq!((range.start, range.end), (1, 1001), "half-open inside");
/// assert_eq!(range.to_string(), "1..1001");
/// assert!("5..5".parse::<SeedRange>().is_err(), "a range holds at least one seed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRange {
    /// The first seed of the range, included.
    pub start: u64,
    /// The seed after the last one: excluded, as in Rust's `start..end`.
    pub end: u64,
}

impl SeedRange {
    /// How many seeds the range holds (`end - start`).
    ///
    /// ```
    /// use sim::sweep::SeedRange;
    ///
    /// let range: SeedRange = "1..=1000".parse().unwrap();
    /// assert_eq!((range.start, range.end, range.len()), (1, 1001, 1000));
    /// assert!(range.contains(1000) && !range.contains(1001));
    /// ```
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when the range holds no seed (a parsed range never is: it needs at least one).
    ///
    /// ```
    /// use sim::sweep::SeedRange;
    /// assert!(!"7..8".parse::<SeedRange>().unwrap().is_empty());
    /// assert!(SeedRange { start: 3, end: 3 }.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The seeds of one shard (every seed when `shard` is `None`), in increasing order.
    ///
    /// ```
    /// use sim::sweep::{SeedRange, Shard};
    /// let range: SeedRange = "1..=10".parse().unwrap();
    /// let second_of_three: Vec<u64> = range.seeds(Some(Shard { index: 1, count: 3 })).collect();
    /// assert_eq!(second_of_three, [2, 5, 8]);
    /// assert_eq!(range.seeds(None).count(), 10);
    /// ```
    pub fn seeds(&self, shard: Option<Shard>) -> impl Iterator<Item = u64> + use<> {
        let Shard { index, count } = shard.unwrap_or(Shard::WHOLE);
        let start = self.start;
        (start..self.end).filter(move |seed| (seed - start) % count == index)
    }

    /// The number of seeds in one shard: those whose offset in the range is ≡ index mod count.
    ///
    /// ```
    /// use sim::sweep::{SeedRange, Shard};
    /// let range: SeedRange = "1..=10".parse().unwrap();
    /// let lens: Vec<u64> = (0..3).map(|index| range.shard_len(Some(Shard { index, count: 3 }))).collect();
    /// assert_eq!(lens, [4, 3, 3], "interleaved: 1,4,7,10 / 2,5,8 / 3,6,9");
    /// ```
    pub fn shard_len(&self, shard: Option<Shard>) -> u64 {
        let Shard { index, count } = shard.unwrap_or(Shard::WHOLE);
        let n = self.len();
        n / count + u64::from(index < n % count)
    }

    /// Whether `seed` lies in `start..end`.
    ///
    /// ```
    /// use sim::sweep::SeedRange;
    /// let range: SeedRange = "1..1001".parse().unwrap();
    /// assert!(range.contains(1) && range.contains(1000) && !range.contains(1001));
    /// ```
    pub fn contains(&self, seed: u64) -> bool {
        (self.start..self.end).contains(&seed)
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for SeedRange {
    type Err = String;

    /// `A..B` (half-open) or `A..=B` (inclusive); at least one seed.
    fn from_str(s: &str) -> Result<Self, String> {
        let expected =
            "expected a seed range A..B (half-open, like Rust: 1..1001 is 1,000 seeds) or A..=B";
        let (a, b, inclusive) = if let Some((a, b)) = s.split_once("..=") {
            (a, b, true)
        } else if let Some((a, b)) = s.split_once("..") {
            (a, b, false)
        } else {
            return Err(format!("`{s}`: {expected}"));
        };
        let number = |t: &str| {
            t.trim().parse::<u64>().map_err(|_| {
                format!("`{s}`: `{t}` is not a seed (a whole number 0..=18446744073709551615); {expected}")
            })
        };
        let (start, last) = (number(a)?, number(b)?);
        let end = if inclusive {
            last.checked_add(1)
                .ok_or_else(|| format!("`{s}`: the range is too large; {expected}"))?
        } else {
            last
        };
        if end <= start {
            return Err(format!(
                "`{s}`: the range holds no seed (its end must be above its start); {expected}"
            ));
        }
        Ok(SeedRange { start, end })
    }
}

/// `--shard I/N`: the I-th (0-based) of N interleaved parts of a seed range.
///
/// ```
/// use sim::sweep::Shard;
/// let shard: Shard = "2/8".parse().unwrap();
/// assert_eq!((shard.index, shard.count), (2, 8));
/// assert_eq!(shard.to_string(), "2/8");
/// assert!("8/8".parse::<Shard>().is_err(), "indexes run from 0 to count - 1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    /// Which part this is, 0-based: it runs the seeds whose offset in the range is ≡ `index` mod
    /// `count`.
    pub index: u64,
    /// Into how many interleaved parts the range is cut (at least 1).
    pub count: u64,
}

impl Shard {
    /// The whole range: one shard of one.
    ///
    /// ```
    /// use sim::sweep::{SeedRange, Shard};
    /// let range: SeedRange = "1..5".parse().unwrap();
    /// assert_eq!(range.shard_len(Some(Shard::WHOLE)), range.len());
    /// ```
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected I/N: shard I (counted from 0) of N, with 0 <= I < N, e.g. 0/4";
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: {expected}"))?;
        let parse = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{s}`: `{t}` is not a whole number; {expected}"))
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 {
            return Err(format!(
                "`{s}`: there must be at least one shard; {expected}"
            ));
        }
        if index >= count {
            return Err(format!(
                "`{s}`: shard {index} does not exist among {count} (they are 0..{count}); {expected}"
            ));
        }
        Ok(Shard { index, count })
    }
}

/// A stable fingerprint of a scenario file's bytes (64-bit FNV-1a, hex): it tells a resumed or
/// merged sweep that the scenario did not change under it. Not a defence against tampering.
pub(crate) fn scenario_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_half_open_like_rust_or_inclusive_with_equals() {
        let r: SeedRange = "1..1001".parse().unwrap();
        assert_eq!((r.start, r.end, r.len()), (1, 1001, 1000));
        let r: SeedRange = "1..=1000".parse().unwrap();
        assert_eq!((r.start, r.end), (1, 1001));
        assert_eq!(r.to_string(), "1..1001");
        let r: SeedRange = "0..=0".parse().unwrap();
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn bad_ranges_say_what_was_expected() {
        for bad in [
            "",
            "5",
            "5..5",
            "7..3",
            "a..b",
            "1...3",
            "-1..4",
            "0..=18446744073709551615",
        ] {
            let e = bad.parse::<SeedRange>().unwrap_err();
            assert!(e.contains("expected a seed range"), "{bad}: {e}");
        }
    }

    #[test]
    fn shards_interleave_and_cover_the_range_exactly_once() {
        let r: SeedRange = "10..21".parse().unwrap();
        let mut all = Vec::new();
        for index in 0..4 {
            let shard = Some(Shard { index, count: 4 });
            let seeds: Vec<u64> = r.seeds(shard).collect();
            assert_eq!(seeds.len() as u64, r.shard_len(shard));
            assert!(seeds.iter().all(|s| (s - 10) % 4 == index));
            all.extend(seeds);
        }
        all.sort_unstable();
        assert_eq!(all, (10..21).collect::<Vec<_>>());
        assert_eq!(
            r.seeds(Some(Shard { index: 1, count: 4 }))
                .collect::<Vec<_>>(),
            [11, 15, 19]
        );
        assert_eq!(r.shard_len(None), 11);
    }

    #[test]
    fn bad_shards_are_refused() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["4/4", "0/0", "1", "a/2", "-1/2", "1/-2"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("expected I/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_scenario_hash_is_fixed_fnv1a() {
        assert_eq!(scenario_hash(b""), "cbf29ce484222325");
        assert_eq!(scenario_hash(b"a"), "af63dc4c8601ec8c");
        assert_ne!(scenario_hash(b"seed = 1"), scenario_hash(b"seed = 2"));
    }
}
