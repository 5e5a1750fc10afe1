//! From the file's types to the world's: every value checked against what it means.
//!
//! The checks types cannot make live here — node names unique and not target words, the
//! protocol and invariants known (and a bound given to each that takes one, and only to
//! those), clock drifts in range, `[expect]` consistent with `[check]`. Each error points at
//! the value (or key) that is wrong. Faults and the nemesis are in `faults`.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::check;
use crate::node::{Duration, Nanos, ProtocolInvariant, format_duration};
use crate::protocols::ProtocolInfo;
use crate::world::clock::{MAX_DRIFT_PPM, MIN_DRIFT_PPM};
use crate::world::{
    ClockKnobs, Knob, LatencyKnobs, LinkKnobs, LinkModel, SwarmSpec, Target, Timing,
};

use super::error::ScenarioError;
use super::raw::{self, ScenarioFile};
use super::swarm::{self, At};
use super::values::{Dist, LatencySpec, Located, MAX_NODES, Nodes, TARGET_WORDS, TargetWord};
use super::{CheckSpec, Expect, ExpectedVerdict, Narration, Scenario, faults, locate, workload};

/// The file being converted: where errors point.
pub(super) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at a value's span.
    pub(super) fn error(&self, span: &Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at_offset(self.file, self.text, span.start, message)
    }

    /// An error at a key path, or its nearest existing parent, or 1:1.
    pub(super) fn error_at(&self, path: &[&str], message: impl Into<String>) -> ScenarioError {
        let offset = locate::deepest_span(self.text, path).map_or(0, |span| span.start);
        ScenarioError::at_offset(self.file, self.text, offset, message)
    }
}

/// The cluster's node names, for resolving targets.
pub(super) struct NodeSet<'a> {
    names: &'a [String],
}

impl NodeSet<'_> {
    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    pub(super) fn index(&self, name: &str) -> Option<u32> {
        self.names.iter().position(|n| n == name).map(|i| i as u32)
    }

    pub(super) fn name(&self, index: u32) -> &str {
        &self.names[index as usize]
    }

    /// "A, B, C", shortened for large clusters.
    pub(super) fn list(&self) -> String {
        const SHOWN: usize = 12;
        let mut s = self.names[..self.names.len().min(SHOWN)].join(", ");
        if self.names.len() > SHOWN {
            s += &format!(", … ({} in all)", self.names.len());
        }
        s
    }

    /// A target as the world takes it; an unknown node name is an error at its span.
    pub(super) fn target(
        &self,
        src: &Source<'_>,
        t: &Located<TargetWord>,
    ) -> Result<Target, ScenarioError> {
        Ok(match &t.value {
            TargetWord::Leader => Target::Leader,
            TargetWord::Random => Target::Random,
            TargetWord::RandomFollower => Target::RandomFollower,
            TargetWord::Minority => Target::Minority,
            TargetWord::Majority => Target::Majority,
            TargetWord::Node(name) => match self.index(name) {
                Some(i) => Target::Node(i),
                None => {
                    return Err(src.error(
                        &t.span,
                        format!(
                            "unknown node `{name}`; the nodes are {} (a target may also be {})",
                            self.list(),
                            TARGET_WORDS.join(", ")
                        ),
                    ));
                }
            },
        })
    }
}

pub(super) fn scenario(
    src: &Source<'_>,
    raw: ScenarioFile,
    protocols: &[ProtocolInfo],
) -> Result<Scenario, ScenarioError> {
    if raw.name.value.trim().is_empty() {
        return Err(src.error(&raw.name.span, "name must not be empty"));
    }
    let duration = raw.duration.value.nanos();
    if duration == 0 {
        return Err(src.error(
            &raw.duration.span,
            "duration must be more than zero, e.g. \"10s\"",
        ));
    }
    let (max_events, limits) =
        super::limits::convert(src, raw.max_events.as_ref(), raw.limits.as_ref())?;
    let nodes = nodes(src, &raw.cluster.nodes)?;
    let set = NodeSet { names: &nodes };
    let protocol = protocol(src, &raw.cluster.protocol, protocols)?;
    let swarm = swarm::is_on(&raw);
    let link = match &raw.network {
        Some(network) => link(src, network, swarm)?,
        None => fixed_link(LinkModel::default()),
    };
    let clocks = clocks(src, &raw.clocks, &set, swarm)?;
    let timing = timing(src, &raw)?;
    let faults = faults::scripted(src, &raw.faults, &set, duration, protocol)?;
    let nemesis = match &raw.nemesis {
        Some(n) if swarm && swarm::has_no_kind(src, n)? => None,
        Some(n) => Some(faults::nemesis(src, n, &set, duration)?),
        None => None,
    };
    let chances = swarm::chances(src, swarm, raw.nemesis.as_ref())?;
    let swarm = if swarm {
        let spec = SwarmSpec {
            link: link.clone(),
            clocks: clocks.clone(),
            chances,
        };
        swarm::check_draws(src, &raw, &spec, nemesis.as_ref())?;
        Some(spec)
    } else {
        None
    };
    let (workload, script) = match &raw.workload {
        Some(w) => {
            let (spec, script) = workload::workload(src, w, duration, protocol)?;
            (Some(spec), script)
        }
        None => (None, None),
    };
    let check = check(src, raw.check.as_ref(), workload.is_some(), protocol)?;
    let expect = match &raw.expect {
        Some(e) => Some(expect(src, e, &check, protocol, workload.is_some())?),
        None => None,
    };
    let narration = narration(src, raw.teaching.as_ref(), duration)?;
    let cites = cites(src, raw.teaching.as_ref())?;
    Ok(Scenario {
        file: src.file.to_string(),
        name: raw.name.value,
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(1),
        duration,
        max_events,
        limits,
        nodes,
        protocol: protocol.name.to_string(),
        link: link.low(),
        clocks: clocks.iter().map(ClockKnobs::low).collect(),
        timing,
        faults,
        nemesis,
        swarm,
        workload,
        script,
        check,
        expect,
        narration,
        cites,
        text: src.text.to_string(),
    })
}

/// `[teaching] narration`, checked (each line within the run, with some text) and put in time
/// order; lines at the same instant keep the order written.
fn narration(
    src: &Source<'_>,
    teaching: Option<&raw::Teaching>,
    duration: Nanos,
) -> Result<Vec<Narration>, ScenarioError> {
    let Some(teaching) = teaching else {
        return Ok(Vec::new());
    };
    let mut lines = Vec::with_capacity(teaching.narration.len());
    for line in &teaching.narration {
        let at = line.value.at.value.nanos();
        if at > duration {
            return Err(src.error(
                &line.value.at.span,
                format!(
                    "narration at {} is after the run ends (duration {}); expected a time up to the duration",
                    format_duration(at),
                    format_duration(duration)
                ),
            ));
        }
        if line.value.text.value.trim().is_empty() {
            return Err(src.error(
                &line.value.text.span,
                "narration text is empty; expected a sentence to tell the class",
            ));
        }
        lines.push(Narration {
            at,
            text: line.value.text.value.clone(),
        });
    }
    lines.sort_by_key(|l| l.at);
    Ok(lines)
}

/// `[teaching] cites`, each with some text and none twice.
fn cites(src: &Source<'_>, teaching: Option<&raw::Teaching>) -> Result<Vec<String>, ScenarioError> {
    let Some(teaching) = teaching else {
        return Ok(Vec::new());
    };
    let mut cites: Vec<String> = Vec::with_capacity(teaching.cites.len());
    for cite in &teaching.cites {
        let text = cite.value.trim();
        if text.is_empty() {
            return Err(src.error(
                &cite.span,
                "citation is empty; expected the source text and its section, e.g. \"seed text 004, 「分布式锁」\"",
            ));
        }
        if cites.iter().any(|c| c == text) {
            return Err(src.error(
                &cite.span,
                format!("`{text}` is cited twice; expected each source once"),
            ));
        }
        cites.push(text.to_string());
    }
    Ok(cites)
}

fn nodes(src: &Source<'_>, nodes: &Located<Nodes>) -> Result<Vec<String>, ScenarioError> {
    let too_many = || {
        src.error(
            &nodes.span,
            format!("a cluster has at most {MAX_NODES} nodes"),
        )
    };
    match &nodes.value {
        Nodes::Count(n) => {
            if *n < 1 {
                return Err(src.error(
                    &nodes.span,
                    format!("a cluster needs at least one node, not {n}; write a count such as 3 or names such as [\"A\", \"B\", \"C\"]"),
                ));
            }
            if *n as u64 > MAX_NODES as u64 {
                return Err(too_many());
            }
            Ok((1..=*n).map(|i| format!("n{i}")).collect())
        }
        Nodes::Names(names) => {
            if names.is_empty() {
                return Err(src.error(
                    &nodes.span,
                    "a cluster needs at least one node, and nodes = [] lists none; write names such as [\"A\", \"B\", \"C\"] or a count such as 3",
                ));
            }
            if names.len() > MAX_NODES {
                return Err(too_many());
            }
            let mut out: Vec<String> = Vec::with_capacity(names.len());
            for name in names {
                let name_str = &name.value.0;
                if let Some(problem) = node_name_problem(name_str) {
                    return Err(src.error(&name.span, problem));
                }
                if out.contains(name_str) {
                    return Err(src.error(
                        &name.span,
                        format!("node `{name_str}` is listed twice; node names must be unique"),
                    ));
                }
                out.push(name_str.clone());
            }
            Ok(out)
        }
    }
}

/// Why a string cannot name a node, if it cannot.
fn node_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a node name must not be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Some(format!(
            "node name `{name}` contains `{c}`; names use letters, digits, `_`, `.` and `-`"
        ));
    }
    if TARGET_WORDS.contains(&name) {
        return Some(format!(
            "`{name}` cannot name a node: it is a target word ({})",
            TARGET_WORDS.join(", ")
        ));
    }
    None
}

fn protocol<'p>(
    src: &Source<'_>,
    protocol: &Located<String>,
    catalog: &'p [ProtocolInfo],
) -> Result<&'p ProtocolInfo, ScenarioError> {
    let name = &protocol.value;
    if let Some(info) = catalog.iter().find(|p| p.name == name) {
        return Ok(info);
    }
    let known: Vec<&str> = catalog.iter().map(|p| p.name).collect();
    let message = if known.is_empty() {
        format!("unknown protocol `{name}`: no protocol is built into this sim")
    } else {
        format!(
            "unknown protocol `{name}`; the protocols are {}",
            known.join(", ")
        )
    };
    Err(src.error(&protocol.span, message))
}

fn link(src: &Source<'_>, network: &raw::Network, swarm: bool) -> Result<LinkKnobs, ScenarioError> {
    let default = LinkModel::default();
    let probability = |p: super::values::Probability| Ok(p.0);
    Ok(LinkKnobs {
        latency: match &network.latency {
            Some(written) => latency(src, written, swarm)?,
            None => fixed_link(default.clone()).latency,
        },
        loss: match &network.loss {
            Some(p) => swarm::located(src, swarm, p, probability)?,
            None => Knob::Set(default.loss),
        },
        duplicate: match &network.duplicate {
            Some(p) => swarm::located(src, swarm, p, probability)?,
            None => Knob::Set(default.duplicate),
        },
        reorder: match &network.reorder {
            Some(r) => swarm::located(src, swarm, r, Ok)?,
            None => Knob::Set(default.reorder),
        },
    })
}

/// A link as written with no ranges.
fn fixed_link(link: LinkModel) -> LinkKnobs {
    use crate::world::Latency;
    LinkKnobs {
        latency: match link.latency {
            Latency::Constant(v) => LatencyKnobs::Constant(Knob::Set(v)),
            Latency::Uniform { min, max } => LatencyKnobs::Uniform {
                min: Knob::Set(min),
                max: Knob::Set(max),
            },
            Latency::Normal { mean, stddev } => LatencyKnobs::Normal {
                mean: Knob::Set(mean),
                stddev: Knob::Set(stddev),
            },
            Latency::LogNormal { median, sigma } => LatencyKnobs::LogNormal {
                median: Knob::Set(median),
                sigma: Knob::Set(sigma),
            },
            Latency::Exponential { mean, min } => LatencyKnobs::Exponential {
                mean: Knob::Set(mean),
                min: Knob::Set(min),
            },
        },
        loss: Knob::Set(link.loss),
        duplicate: Knob::Set(link.duplicate),
        reorder: Knob::Set(link.reorder),
    }
}

fn latency(
    src: &Source<'_>,
    latency: &Located<LatencySpec>,
    swarm: bool,
) -> Result<LatencyKnobs, ScenarioError> {
    latency_at(src, latency, swarm, ["network", "latency"])
}

/// A distribution written as `network.latency` is, at the table and key `path` names.
fn latency_at(
    src: &Source<'_>,
    latency: &Located<LatencySpec>,
    swarm: bool,
    path: [&str; 2],
) -> Result<LatencyKnobs, ScenarioError> {
    let time = |key: &str, d: &super::values::OneOrRange<crate::node::Duration>| {
        let key_path = [path[0], path[1], key];
        let at = match key {
            "" => At::Span(&latency.span),
            _ => At::Key(&key_path),
        };
        swarm::knob(src, swarm, at, d, |d| Ok(d.nanos()))
    };
    let dist = match &latency.value {
        LatencySpec::Constant(d) => return Ok(LatencyKnobs::Constant(time("", d)?)),
        LatencySpec::Dist(dist) => dist,
    };
    Ok(match dist {
        Dist::Constant { value } => LatencyKnobs::Constant(time("value", value)?),
        Dist::Uniform { min, max } => {
            let (min, max) = (time("min", min)?, time("max", max)?);
            // With ranges, a seed that draws min above max swaps them (`world::swarm`).
            if let (Knob::Set(lo), Knob::Set(hi)) = (min, max)
                && lo > hi
            {
                return Err(src.error(
                    &latency.span,
                    format!(
                        "uniform {}: min = \"{}\" is above max = \"{}\"",
                        path[1],
                        format_duration(lo),
                        format_duration(hi)
                    ),
                ));
            }
            LatencyKnobs::Uniform { min, max }
        }
        Dist::Normal { mean, stddev } => LatencyKnobs::Normal {
            mean: time("mean", mean)?,
            stddev: time("stddev", stddev)?,
        },
        Dist::LogNormal { median, sigma } => {
            let sigma_path = [path[0], path[1], "sigma"];
            let at = At::Key(&sigma_path);
            let sigma = swarm::knob(src, swarm, at, sigma, |sigma: f64| {
                if sigma.is_finite() && sigma >= 0.0 {
                    Ok(sigma)
                } else {
                    Err(format!(
                        "lognormal latency: sigma must be a number ≥ 0, not {sigma}"
                    ))
                }
            })?;
            LatencyKnobs::LogNormal {
                median: time("median", median)?,
                sigma,
            }
        }
        Dist::Exponential { mean, min } => LatencyKnobs::Exponential {
            mean: time("mean", mean)?,
            min: match min {
                Some(m) => time("min", m)?,
                None => Knob::Set(0),
            },
        },
    })
}

/// `[storage]` and `[timing]`: one distribution each, never a swarm range (a range there is
/// refused at its key, as anywhere outside swarm mode).
fn timing(src: &Source<'_>, raw: &ScenarioFile) -> Result<Timing, ScenarioError> {
    let one = |written: Option<&Located<LatencySpec>>, path: [&str; 2]| {
        written
            .map(|w| latency_at(src, w, false, path).map(|k| k.low()))
            .transpose()
    };
    let storage = raw.storage.as_ref();
    let table = raw.timing.as_ref();
    let sync = one(storage.and_then(|s| s.sync.as_ref()), ["storage", "sync"])?;
    let lose_unsynced = match storage.and_then(|s| s.lose_unsynced.as_ref()) {
        Some(lose) if lose.value && sync.is_none() => {
            return Err(src.error(
                &lose.span,
                "lose_unsynced needs `sync` in [storage]: without a sync time every write is \
                 durable at once, so a crash has nothing unsynced to lose",
            ));
        }
        Some(lose) => lose.value,
        None => false,
    };
    Ok(Timing {
        sync,
        lose_unsynced,
        timer_jitter: one(
            table.and_then(|t| t.timer_jitter.as_ref()),
            ["timing", "timer_jitter"],
        )?,
        processing: one(
            table.and_then(|t| t.processing.as_ref()),
            ["timing", "processing"],
        )?,
    })
}

fn clocks(
    src: &Source<'_>,
    entries: &BTreeMap<String, raw::ClockEntry>,
    nodes: &NodeSet<'_>,
    swarm: bool,
) -> Result<Vec<ClockKnobs>, ScenarioError> {
    let mut clocks = vec![ClockKnobs::default(); nodes.len()];
    for (name, entry) in entries {
        let Some(index) = nodes.index(name) else {
            return Err(src.error_at(
                &["clocks", name],
                format!(
                    "unknown node `{name}` in [clocks]; the nodes are {}",
                    nodes.list()
                ),
            ));
        };
        let clock = &mut clocks[index as usize];
        if let Some(d) = &entry.drift_ppm {
            clock.drift_ppm = swarm::located(src, swarm, d, drift_in_range)?;
        }
        if let Some(o) = &entry.offset {
            clock.offset = swarm::located(src, swarm, o, |o| Ok(o.nanos()))?;
        }
    }
    Ok(clocks)
}

/// A drift in the range a clock accepts.
pub(super) fn drift_ppm(src: &Source<'_>, ppm: &Located<i64>) -> Result<i64, ScenarioError> {
    drift_in_range(ppm.value).map_err(|m| src.error(&ppm.span, m))
}

fn drift_in_range(ppm: i64) -> Result<i64, String> {
    if (MIN_DRIFT_PPM..=MAX_DRIFT_PPM).contains(&ppm) {
        Ok(ppm)
    } else {
        Err(format!(
            "a drift of {ppm} ppm is out of range: expected {MIN_DRIFT_PPM} to {MAX_DRIFT_PPM} \
             (a clock must move forward and at most double its speed)"
        ))
    }
}

fn check(
    src: &Source<'_>,
    raw: Option<&raw::Check>,
    has_clients: bool,
    protocol: &ProtocolInfo,
) -> Result<CheckSpec, ScenarioError> {
    let Some(raw) = raw else {
        return Ok(CheckSpec::default());
    };
    let own = (protocol.invariants)();
    let bounds = bounds(src, &raw.bounds, &own)?;
    let invariants = match &raw.invariants {
        Some(list) if list.is_empty() => {
            return Err(src.error_at(
                &["check", "invariants"],
                "invariants = [] checks nothing; list at least one, or remove the key to check the protocol's defaults",
            ));
        }
        Some(list) => Some(invariant_names(src, list, false, &own)?),
        None => None,
    };
    if let (Some(names), Some(list)) = (&invariants, &raw.invariants)
        && let Some(at) = names.iter().position(|n| n == check::HISTORY_DEFAULT)
        && has_clients
        && !protocol.linearizable
    {
        return Err(src.error(
            &list[at].span,
            format!(
                "linearizable judges histories of reads and writes, and {}'s clients run the {} \
                 workload: its own invariants judge them",
                protocol.name, protocol.workload_kind
            ),
        ));
    }
    if !has_clients
        && let (Some(names), Some(list)) = (&invariants, &raw.invariants)
        && let Some(at) = names.iter().position(|n| n == check::HISTORY_DEFAULT)
    {
        return Err(src.error(
            &list[at].span,
            "linearizable judges what clients saw, but this scenario has no clients: add a [workload] table",
        ));
    }
    if !has_clients
        && let Some((key, judges)) = HISTORY_BOUNDS
            .iter()
            .find(|(key, _)| bounds.contains_key(*key))
    {
        return Err(src.error_at(
            &["check", key],
            format!("{key} {judges}, but this scenario has no clients: add a [workload] table"),
        ));
    }
    Ok(CheckSpec { invariants, bounds })
}

/// The common bounds read from the clients' history, meaningless without clients, and what
/// each judges.
const HISTORY_BOUNDS: [(&str, &str); 2] = [
    (
        "median_read_within",
        "bounds how long the clients' reads took",
    ),
    (
        "answered_within",
        "judges whether the clients' operations were answered",
    ),
];

/// `[check]`'s keys other than `invariants`: each names an invariant of the protocol's
/// catalogue that takes a duration bound, and gives the bound that enables it.
fn bounds(
    src: &Source<'_>,
    written: &[(String, Located<toml::Value>)],
    own: &[ProtocolInvariant],
) -> Result<BTreeMap<String, Nanos>, ScenarioError> {
    let mut bounds = BTreeMap::new();
    for (key, value) in written {
        let at_key = |message: String| src.error_at(&["check", key], message);
        let Some(entry) = check::find(key, own) else {
            return Err(at_key(format!(
                "unknown key `{key}` in [check]; expected {}",
                check_keys(own)
            )));
        };
        let Some(bound) = entry.info.bound else {
            return Err(at_key(format!(
                "{key} takes no bound: list it in invariants instead; expected {}",
                check_keys(own)
            )));
        };
        let nanos = value
            .value
            .clone()
            .try_into::<Duration>()
            .map_err(|e| src.error(&value.span, e.message()))?
            .nanos();
        if nanos == 0 {
            return Err(src.error(
                &value.span,
                format!("{key} must be more than zero, e.g. \"{}\"", bound.example),
            ));
        }
        bounds.insert(key.clone(), nanos);
    }
    Ok(bounds)
}

/// The keys `[check]` takes in a scenario of this protocol (`invariants`, and the name of each
/// invariant that takes a bound), worded as serde words a list of fields: `` `a` or `b` ``,
/// `` one of `a`, `b`, `c` ``.
fn check_keys(own: &[ProtocolInvariant]) -> String {
    let mut keys = vec!["`invariants`".to_string()];
    for entry in check::catalog().iter().chain(own) {
        let key = format!("`{}`", entry.info.name);
        if entry.info.bound.is_some() && !keys.contains(&key) {
            keys.push(key);
        }
    }
    match keys.as_slice() {
        [a, b] => format!("{a} or {b}"),
        [one] => one.clone(),
        many => format!("one of {}", many.join(", ")),
    }
}

/// Invariant names from the catalogue (the common one and the protocol's `own`), each once. An
/// invariant that takes a bound is listed only in `[expect] violates`; `[check]` enables it
/// with its bound.
fn invariant_names(
    src: &Source<'_>,
    list: &[Located<String>],
    allow_bounded: bool,
    own: &[ProtocolInvariant],
) -> Result<Vec<String>, ScenarioError> {
    let known: Vec<&str> = check::catalog()
        .iter()
        .chain(own)
        .filter(|entry| allow_bounded || entry.info.bound.is_none())
        .map(|entry| entry.info.name)
        .collect();
    let mut names: Vec<String> = Vec::with_capacity(list.len());
    for name in list {
        let n = name.value.as_str();
        if !allow_bounded && let Some(bound) = check::find(n, own).and_then(|e| e.info.bound) {
            return Err(src.error(&name.span, check::takes_a_bound(n, &bound)));
        }
        if !known.contains(&n) {
            return Err(src.error(
                &name.span,
                format!(
                    "unknown invariant `{n}`; the invariants are {}",
                    known.join(", ")
                ),
            ));
        }
        if names.iter().any(|x| x == n) {
            return Err(src.error(&name.span, format!("invariant `{n}` is listed twice")));
        }
        names.push(n.to_string());
    }
    Ok(names)
}

fn expect(
    src: &Source<'_>,
    raw: &raw::Expect,
    check: &CheckSpec,
    protocol: &ProtocolInfo,
    has_clients: bool,
) -> Result<Expect, ScenarioError> {
    let verdict = match raw.verdict {
        raw::Verdict::Pass => ExpectedVerdict::Pass,
        raw::Verdict::Violation => ExpectedVerdict::Violation,
    };
    let Some(list) = &raw.violates else {
        return Ok(Expect {
            verdict,
            violates: Vec::new(),
        });
    };
    if verdict == ExpectedVerdict::Pass && !list.value.is_empty() {
        return Err(src.error(
            &list.span,
            "violates lists invariants, but verdict is \"pass\"; write verdict = \"violation\" or remove violates",
        ));
    }
    let own = (protocol.invariants)();
    let violates = invariant_names(src, &list.value, true, &own)?;
    for (name, located) in violates.iter().zip(&list.value) {
        let bounded = check::find(name, &own).is_some_and(|e| e.info.bound.is_some());
        let why_not = if bounded {
            (!check.bounds.contains_key(name)).then(|| format!("[check] sets no {name} bound"))
        } else {
            match &check.invariants {
                Some(listed) => (!listed.contains(name))
                    .then(|| format!("[check] invariants does not list `{name}`")),
                None => (!(protocol.default_invariants.contains(&name.as_str())
                    || has_clients && protocol.linearizable && name == check::HISTORY_DEFAULT))
                    .then(|| {
                        let defaults = match protocol.default_invariants {
                            [] => "none".to_string(),
                            names => names.join(", "),
                        };
                        format!(
                            "[check] lists no invariants, and {}'s defaults are {defaults}",
                            protocol.name
                        )
                    }),
            }
        };
        if let Some(how) = why_not {
            return Err(src.error(
                &located.span,
                format!("`{name}` is expected to be violated, but it is not checked: {how}"),
            ));
        }
    }
    Ok(Expect { verdict, violates })
}
