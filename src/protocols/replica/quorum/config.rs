//! The quorum store's `[protocol]` table: how many replicas hold a key and where, the read and
//! write quorums, how concurrent versions are resolved, and the switches that make each lesson.
//!
//! `validate` rejects only what cannot run (`1 <= r, w <= n <= nodes`, tags without
//! last-write-wins). Quorums that do not overlap (`r + w <= n`) are accepted on purpose: a
//! lesson uses them to show the stale read they allow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration};

/// Which nodes hold the replicas of a key.
///
/// ```
/// use sim::protocols::replica::quorum::{Placement, QuorumConfig};
/// let config: QuorumConfig = toml::from_str("placement = \"ring\"\nn = 3").unwrap();
/// assert_eq!((config.placement, config.n), (Placement::Ring, Some(3)));
/// assert_eq!(Placement::default(), Placement::All);
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(description = "Which nodes hold the replicas of a key.")]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Every node holds every key: `n` is the cluster size.
    #[default]
    All,
    /// A consistent-hash ring: each node sits at the hash of its index, a key at the hash of
    /// its name, and the key's replicas are the `n` nodes found walking clockwise from it.
    Ring,
}

/// How a replica orders the versions of a key it is sent.
///
/// ```
/// use sim::protocols::replica::quorum::{QuorumConfig, Resolve};
/// let config: QuorumConfig = toml::from_str("resolve = \"vector-clock\"").unwrap();
/// assert_eq!(config.resolve, Resolve::VectorClock);
/// assert_eq!(Resolve::default(), Resolve::Lww);
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(description = "How a replica orders the versions of a key it is sent.")]
#[serde(rename_all = "kebab-case")]
pub enum Resolve {
    /// Last write wins: each version carries a timestamp (the coordinator's wall clock, or a
    /// tag with `tags`) and the coordinator's index to break ties; a replica keeps the
    /// greatest and drops the rest without a word.
    #[default]
    Lww,
    /// Each version carries a vector clock (the put's context with the coordinator's entry
    /// increased); a replica drops only what a clock it holds covers and keeps concurrent
    /// versions side by side (siblings), which a get returns together.
    VectorClock,
}

/// `[protocol]` settings of `quorum`.
///
/// ```
/// use sim::protocols::replica::quorum::QuorumConfig;
/// // The textbook quorum of the w1-r3 lesson: a put waits for one ack, a get for three replies.
/// let config: QuorumConfig = toml::from_str("n = 5\nr = 3\nw = 1").unwrap();
/// assert_eq!((config.n, config.r, config.w), (Some(5), Some(3), Some(1)));
/// assert!(!config.write_back, "reads do not write back unless asked");
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(description = "`[protocol]` settings of `quorum`.")]
#[serde(deny_unknown_fields, default)]
pub struct QuorumConfig {
    /// How many replicas hold each key, at most the cluster size. Default: the cluster size.
    /// With `placement = "all"` it must be the cluster size.
    pub n: Option<u32>,
    /// How many replicas' answers a get waits for, from 1 to `n`. Default: a majority of `n`.
    pub r: Option<u32>,
    /// How many replicas' acknowledgements a put waits for, from 1 to `n`. Default: a majority
    /// of `n`.
    pub w: Option<u32>,
    /// "all" (default): every node holds every key; "ring": the `n` successors of the key's
    /// hash on a consistent-hash ring.
    pub placement: Placement,
    /// "lww" (default): last write wins by timestamp; "vector-clock": versions with vector
    /// clocks, concurrent ones kept as siblings.
    pub resolve: Resolve,
    /// After answering a get, the coordinator sends the newest version to every replica that
    /// answered with an older one (including replies that arrive after the answer, until the
    /// request times out).
    pub read_repair: bool,
    /// Before answering a get, the coordinator writes the version it returns to `w` replicas
    /// (ABD's second phase; skipped when `w` of the replies already hold it). A later get then
    /// cannot return an older value than one an earlier get returned.
    pub write_back: bool,
    /// With `resolve = "lww"`: a put first asks `r` replicas for the greatest timestamp they
    /// hold and writes one more, tie-broken by the coordinator's index (ABD's tagged versions),
    /// instead of reading its wall clock. With `write_back`, gets and puts are linearizable
    /// with any number of writers.
    pub tags: bool,
    /// How long a coordinator waits for its quorum. A get that misses it fails; a put that
    /// misses it is not answered (it may have taken effect where it was written, so the client
    /// times out and records it as unknown).
    pub request_timeout: Duration,
}

impl Default for QuorumConfig {
    fn default() -> Self {
        QuorumConfig {
            n: None,
            r: None,
            w: None,
            placement: Placement::All,
            resolve: Resolve::Lww,
            read_repair: false,
            write_back: false,
            tags: false,
            request_timeout: Duration::from_millis(500),
        }
    }
}

/// The quorum sizes a run uses, defaults filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sizes {
    pub n: u32,
    pub r: u32,
    pub w: u32,
}

impl QuorumConfig {
    /// `n`, `r` and `w` for a cluster of `nodes`, defaults filled in (unchecked).
    pub(crate) fn sizes(&self, nodes: usize) -> Sizes {
        let n = self.n.unwrap_or(nodes as u32);
        let majority = n / 2 + 1;
        Sizes {
            n,
            r: self.r.unwrap_or(majority),
            w: self.w.unwrap_or(majority),
        }
    }
}

/// Checks what the types cannot: `1 <= r, w <= n <= nodes`, and options that go together.
pub(crate) fn validate(cfg: &QuorumConfig, nodes: usize) -> Result<(), ConfigError> {
    let s = cfg.sizes(nodes);
    if s.n == 0 || s.n as usize > nodes {
        return Err(ConfigError::new(
            "n",
            format!(
                "the number of replicas of a key, from 1 to the cluster size {nodes} (got {})",
                s.n
            ),
        ));
    }
    if cfg.placement == Placement::All && s.n as usize != nodes {
        return Err(ConfigError::new(
            "n",
            format!(
                "placement = \"all\" keeps every key on every node, so n must be the cluster \
                 size {nodes} (got {}); use placement = \"ring\" for fewer replicas",
                s.n
            ),
        ));
    }
    for (field, v, what) in [
        ("r", s.r, "replies a get"),
        ("w", s.w, "acknowledgements a put"),
    ] {
        if v == 0 || v > s.n {
            return Err(ConfigError::new(
                field,
                format!("how many {what} waits for, from 1 to n = {} (got {v})", s.n),
            ));
        }
    }
    if cfg.tags && cfg.resolve != Resolve::Lww {
        return Err(ConfigError::new(
            "tags",
            "only with resolve = \"lww\": with \"vector-clock\" a put's context orders \
             versions (remove tags, or set resolve = \"lww\")",
        ));
    }
    if cfg.request_timeout.nanos() == 0 {
        return Err(ConfigError::new(
            "request_timeout",
            "must be greater than zero (got 0s)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(n: Option<u32>, r: Option<u32>, w: Option<u32>) -> QuorumConfig {
        QuorumConfig {
            n,
            r,
            w,
            ..QuorumConfig::default()
        }
    }

    #[test]
    fn defaults_are_majorities_of_the_whole_cluster() {
        assert_eq!(QuorumConfig::default().sizes(5), Sizes { n: 5, r: 3, w: 3 });
        assert_eq!(QuorumConfig::default().sizes(4), Sizes { n: 4, r: 3, w: 3 });
        assert_eq!(validate(&QuorumConfig::default(), 5), Ok(()));
        // Non-overlapping quorums run: a lesson shows what they allow.
        assert_eq!(validate(&cfg(None, Some(1), Some(1)), 5), Ok(()));
    }

    #[test]
    fn each_bad_size_names_its_key_and_the_range() {
        let e = validate(&cfg(None, Some(0), None), 5).unwrap_err();
        assert_eq!(e.field, "r");
        assert!(
            e.message.contains("from 1 to n = 5 (got 0)"),
            "{}",
            e.message
        );
        let e = validate(&cfg(None, None, Some(6)), 5).unwrap_err();
        assert_eq!(e.field, "w");
        assert!(e.message.contains("(got 6)"), "{}", e.message);
        let ring = |n, r, w| QuorumConfig {
            placement: Placement::Ring,
            ..cfg(n, r, w)
        };
        assert_eq!(
            validate(&ring(Some(6), None, None), 5).unwrap_err().field,
            "n"
        );
        assert_eq!(
            validate(&ring(Some(0), Some(1), Some(1)), 5)
                .unwrap_err()
                .field,
            "n"
        );
        assert_eq!(validate(&ring(Some(3), Some(2), Some(2)), 5), Ok(()));
        let e = validate(&ring(Some(3), Some(4), None), 5).unwrap_err();
        assert_eq!((e.field, e.message.contains("n = 3")), ("r", true));
        // Every key on every node: n can only be the cluster size.
        let e = validate(&cfg(Some(3), None, None), 5).unwrap_err();
        assert_eq!(e.field, "n");
        assert!(e.message.contains("placement = \"ring\""), "{}", e.message);
    }

    #[test]
    fn tags_need_last_write_wins_and_the_timeout_must_be_positive() {
        let tags = QuorumConfig {
            tags: true,
            resolve: Resolve::VectorClock,
            ..QuorumConfig::default()
        };
        assert_eq!(validate(&tags, 3).unwrap_err().field, "tags");
        let zero = QuorumConfig {
            request_timeout: Duration::ZERO,
            ..QuorumConfig::default()
        };
        assert_eq!(validate(&zero, 3).unwrap_err().field, "request_timeout");
    }
}
