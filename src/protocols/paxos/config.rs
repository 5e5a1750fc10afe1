//! Paxos's `[protocol]` table: which nodes play which role, when each proposer begins, how a
//! proposer retries after it is preempted, and the switches that break the algorithm on purpose.
//!
//! `validate` refuses only settings that cannot run (a role naming no node or a node that does
//! not exist, a reversed backoff). The `broken` designs and `retry = "immediate"` are accepted
//! on purpose: lessons use them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{ConfigError, Duration, Nanos, NodeId};

/// `[protocol]` settings of `paxos`.
///
/// ```
/// use sim::protocols::paxos::{PaxosConfig, Retry};
/// let config: PaxosConfig = toml::from_str("proposers = [0, 1]\nretry = \"immediate\"").unwrap();
/// assert_eq!(config.proposers, Some(vec![0, 1]));
/// assert_eq!(config.retry, Retry::Immediate);
/// assert_eq!(config.acceptors, None, "every node accepts unless told otherwise");
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `paxos`.")]
pub struct PaxosConfig {
    /// The nodes that propose, as indices in `[cluster] nodes` (0: the first). Each proposes
    /// its own value, named after it ("A's value"), as a client would hand it one. Every node
    /// when left out.
    pub proposers: Option<Vec<u32>>,
    /// The nodes that accept (vote on) proposals, as indices; a majority of them chooses a
    /// value. Every node when left out.
    pub acceptors: Option<Vec<u32>>,
    /// The nodes that learn the chosen value, as indices. Every node when left out.
    pub learners: Option<Vec<u32>>,
    /// When each proposer begins its first ballot, one duration per proposer in the order of
    /// `proposers`; left out, every proposer begins at once.
    pub propose_at: Vec<Duration>,
    /// What a proposer does when it learns that a higher ballot preempted its own (a refusal
    /// from an acceptor, or its own node's acceptor promising another proposer's ballot).
    pub retry: Retry,
    /// With `retry = "backoff"`: the window `[initial, max]` a preempted proposer draws its
    /// wait from, uniformly between zero and the window; the window doubles with each
    /// preemption, up to the maximum.
    pub backoff: [Duration; 2],
    /// A ballot that has neither succeeded nor been refused after this long is started over
    /// with a higher one (its messages may have been lost, or its acceptors be down).
    pub retry_timeout: Duration,
    /// A deliberately broken design, for a lesson: `none` (the default) is Paxos.
    pub broken: Broken,
}

impl Default for PaxosConfig {
    fn default() -> Self {
        PaxosConfig {
            proposers: None,
            acceptors: None,
            learners: None,
            propose_at: Vec::new(),
            retry: Retry::Backoff,
            backoff: [Duration::from_millis(20), Duration::from_secs(1)],
            retry_timeout: Duration::from_millis(200),
            broken: Broken::None,
        }
    }
}

/// How a preempted proposer tries again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Retry {
    /// At once, with a higher ballot: two proposers can preempt each other forever (the
    /// duelling proposers' livelock).
    Immediate,
    /// After a random wait from a window that doubles with each preemption: one of the two
    /// soon finds the field clear long enough to get its ballot accepted.
    Backoff,
}

/// The broken designs a lesson can switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Broken {
    /// Paxos as it should be.
    None,
    /// The proposer proposes its own value even when a promise reports a value already
    /// accepted: a later ballot can choose a second value.
    IgnoreAccepted,
    /// The acceptor keeps its promise and its accepted value in memory only: a crash makes it
    /// forget what it promised and accepted.
    ForgetfulAcceptor,
}

impl PaxosConfig {
    /// The nodes of a role (`None`: every node), in cluster order without repeats.
    pub(crate) fn members(role: &Option<Vec<u32>>, cluster_size: usize) -> Vec<NodeId> {
        match role {
            None => (0..cluster_size as u32).map(NodeId).collect(),
            Some(list) => {
                let mut v: Vec<NodeId> = list.iter().map(|&i| NodeId(i)).collect();
                v.sort();
                v.dedup();
                v
            }
        }
    }

    /// When proposer `id` begins its first ballot.
    pub(crate) fn start_of(&self, id: NodeId, cluster_size: usize) -> Nanos {
        let proposers = Self::members(&self.proposers, cluster_size);
        let at = match &self.proposers {
            None => proposers.iter().position(|&p| p == id),
            Some(list) => list.iter().position(|&p| p == id.0),
        };
        at.and_then(|i| self.propose_at.get(i))
            .map_or(0, |d| d.nanos())
    }

    /// The backoff window after `preemptions` preemptions (≥ 1): the initial window doubled
    /// per earlier preemption, capped at the maximum.
    pub(crate) fn window(&self, preemptions: u32) -> Nanos {
        let [initial, max] = self.backoff;
        let doublings = preemptions.saturating_sub(1).min(32);
        initial
            .nanos()
            .saturating_mul(1u64 << doublings)
            .min(max.nanos())
    }
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &PaxosConfig, cluster_size: usize) -> Result<(), ConfigError> {
    for (field, role) in [
        ("proposers", &cfg.proposers),
        ("acceptors", &cfg.acceptors),
        ("learners", &cfg.learners),
    ] {
        let Some(list) = role else { continue };
        if list.is_empty() {
            return Err(ConfigError::new(
                field,
                format!("must name at least one node (leave {field} out for every node)"),
            ));
        }
        if let Some(bad) = list.iter().find(|&&i| i as usize >= cluster_size) {
            return Err(ConfigError::new(
                field,
                format!(
                    "must hold indices of nodes of [cluster] nodes, 0 to {} (got {bad})",
                    cluster_size - 1
                ),
            ));
        }
        let mut sorted = list.clone();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(ConfigError::new(
                field,
                format!("names node {} twice", w[0]),
            ));
        }
    }
    let proposers = PaxosConfig::members(&cfg.proposers, cluster_size).len();
    if !cfg.propose_at.is_empty() && cfg.propose_at.len() != proposers {
        return Err(ConfigError::new(
            "propose_at",
            format!(
                "must give one time per proposer ({proposers}), in the order of proposers (got {})",
                cfg.propose_at.len()
            ),
        ));
    }
    retrying(cfg.backoff, cfg.retry_timeout)
}

/// How a preempted or stalled proposer retries, as both Paxos designs configure it: a backoff
/// window `[initial, max]` that starts above zero and does not shrink, and a retry timeout
/// above zero.
pub(crate) fn retrying(backoff: [Duration; 2], retry_timeout: Duration) -> Result<(), ConfigError> {
    let [initial, max] = backoff;
    if initial.nanos() == 0 {
        return Err(ConfigError::new(
            "backoff",
            "the initial window must be greater than zero (got 0s)",
        ));
    }
    if initial > max {
        return Err(ConfigError::new(
            "backoff",
            format!("the initial window ({initial}) must not exceed the maximum ({max})"),
        ));
    }
    if retry_timeout.nanos() == 0 {
        return Err(ConfigError::new(
            "retry_timeout",
            "must be greater than zero (got 0s)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> PaxosConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_defaults_are_paxos_with_backoff_on_every_node() {
        let c = PaxosConfig::default();
        assert!(validate(&c, 3).is_ok());
        assert_eq!(PaxosConfig::members(&c.acceptors, 3).len(), 3);
        assert_eq!((c.retry, c.broken), (Retry::Backoff, Broken::None));
    }

    #[test]
    fn roles_must_name_existing_nodes_once() {
        let e = validate(&parse("proposers = [0, 3]"), 3).unwrap_err();
        assert_eq!(e.field, "proposers");
        assert!(e.message.contains("0 to 2 (got 3)"), "{}", e.message);
        let e = validate(&parse("acceptors = []"), 3).unwrap_err();
        assert!(e.message.contains("at least one node"), "{}", e.message);
        let e = validate(&parse("learners = [1, 1]"), 3).unwrap_err();
        assert!(e.message.contains("node 1 twice"), "{}", e.message);
    }

    #[test]
    fn one_start_per_proposer_in_their_order() {
        let c = parse("proposers = [2, 0]\npropose_at = [\"0ms\", \"300ms\"]");
        assert!(validate(&c, 3).is_ok());
        assert_eq!(c.start_of(NodeId(2), 3), 0);
        assert_eq!(c.start_of(NodeId(0), 3), 300_000_000);
        let e = validate(&parse("propose_at = [\"0ms\"]"), 3).unwrap_err();
        assert!(
            e.message.contains("one time per proposer (3)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_backoff_window_doubles_up_to_its_cap() {
        let c = parse("backoff = [\"10ms\", \"35ms\"]");
        let ms = 1_000_000;
        assert_eq!(
            [c.window(1), c.window(2), c.window(3), c.window(40)],
            [10 * ms, 20 * ms, 35 * ms, 35 * ms]
        );
        let e = validate(&parse("backoff = [\"1s\", \"10ms\"]"), 3).unwrap_err();
        assert_eq!(e.field, "backoff");
        assert!(toml::from_str::<PaxosConfig>("broken = \"sloppy\"").is_err());
    }
}
