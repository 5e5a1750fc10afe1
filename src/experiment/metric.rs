//! What a trial measures. Three metrics are defined for every protocol, from what any run
//! records: `election_downtime` from the nodes' role observations and the messages, and
//! `commit_latency` and `stale_read_rate` from the clients' history. A protocol may define
//! more of its own in the registry (`protocols::metrics`: `in_doubt_time` for the transaction
//! protocols); this layer knows them by name only.
//!
//! A metric that does not apply to a scenario's protocol is refused before any trial runs.

use crate::node::Nanos;
use crate::node::history::{Call, History, Outcome, Output, Value};
use crate::protocols::{ProtocolInfo, ProtocolMetric};

/// The unit of a metric's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A duration in nanoseconds, shown in milliseconds.
    Time,
    /// A share from 0 to 1.
    Ratio,
}

/// What a trial measures.
///
/// ```
/// use sim::experiment::{Metric, Unit};
/// assert_eq!(Metric::parse("election_downtime"), Some(Metric::ElectionDowntime));
/// assert_eq!(Metric::parse("in_doubt_time"), Some(Metric::Protocol("in_doubt_time")));
/// assert_eq!(Metric::StaleReadRate.unit(), Unit::Ratio);
/// assert_eq!(Metric::parse("speed"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// From the leader's crash (the `[nemesis]`'s) until a node first hears the next leader
    /// (a message the new leader sent once it led: its first heartbeat).
    ElectionDowntime,
    /// Per trial, the median time from a client's invocation of an operation to the
    /// acknowledged reply (committed and answered); operations that failed or timed out are
    /// left out.
    CommitLatency,
    /// Per trial, the share of the reads it can judge that returned a value older than the
    /// latest acknowledged write: a value some other write had certainly replaced — that write
    /// began after the value's own write completed, and completed before the read began.
    StaleReadRate,
    /// A metric a protocol defines in the registry, by name.
    Protocol(&'static str),
}

/// Every metric name, generic ones first, for error messages and `--help`.
pub fn names() -> Vec<&'static str> {
    let mut v = vec!["election_downtime", "commit_latency", "stale_read_rate"];
    for (_, m) in crate::protocols::metrics() {
        if !v.contains(&m.name) {
            v.push(m.name);
        }
    }
    v
}

impl Metric {
    /// The metric a name names.
    pub fn parse(name: &str) -> Option<Metric> {
        match name {
            "election_downtime" => Some(Metric::ElectionDowntime),
            "commit_latency" => Some(Metric::CommitLatency),
            "stale_read_rate" => Some(Metric::StaleReadRate),
            _ => crate::protocols::metrics()
                .into_iter()
                .find(|(_, m)| m.name == name)
                .map(|(_, m)| Metric::Protocol(m.name)),
        }
    }

    /// The metric's name, as files and the CSV spell it.
    ///
    /// ```
    /// use sim::experiment::Metric;
    /// assert_eq!(Metric::CommitLatency.name(), "commit_latency");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Metric::ElectionDowntime => "election_downtime",
            Metric::CommitLatency => "commit_latency",
            Metric::StaleReadRate => "stale_read_rate",
            Metric::Protocol(name) => name,
        }
    }

    /// The unit of its values.
    pub fn unit(self) -> Unit {
        match self {
            Metric::StaleReadRate => Unit::Ratio,
            _ => Unit::Time,
        }
    }

    /// Why a trial of this metric may measure nothing, for the table's note.
    pub(crate) fn missing(self) -> &'static str {
        match self {
            Metric::ElectionDowntime => "no new leader was heard within the run",
            Metric::CommitLatency => "no operation was acknowledged",
            Metric::StaleReadRate => "no read could be judged",
            Metric::Protocol(_) => "nothing to measure",
        }
    }

    /// The protocol metric this names, for a scenario running `protocol`.
    pub(crate) fn protocol_metric(self, protocol: &str) -> Option<ProtocolMetric> {
        let Metric::Protocol(name) = self else {
            return None;
        };
        crate::protocols::metrics()
            .into_iter()
            .find(|(ps, m)| m.name == name && ps.contains(&protocol))
            .map(|(_, m)| m)
    }

    /// Whether the metric can be measured on runs of `info`'s protocol, with clients or not
    /// and a leader-crash nemesis or not; the error says why not.
    pub(crate) fn applies(
        self,
        info: &ProtocolInfo,
        clients: bool,
        crash: bool,
    ) -> Result<(), String> {
        let name = self.name();
        let protocol = info.name;
        match self {
            Metric::ElectionDowntime if !elects(info) => Err(format!(
                "{name} times the election after a leader's crash; `{protocol}` elects no leader"
            )),
            Metric::ElectionDowntime if !crash => Err(format!(
                "{name} times the election after a leader's crash: add [nemesis] crash = \"leader\""
            )),
            Metric::CommitLatency | Metric::StaleReadRate if !clients => Err(format!(
                "{name} reads the clients' history; the scenario has no [workload]"
            )),
            Metric::StaleReadRate if !info.linearizable => Err(format!(
                "{name} judges reads of written values; `{protocol}`'s clients run `{}`, which \
                 has none",
                info.workload_kind
            )),
            Metric::Protocol(_) if self.protocol_metric(protocol).is_none() => {
                let defined: Vec<&str> = crate::protocols::metrics()
                    .into_iter()
                    .filter(|(_, m)| m.name == name)
                    .flat_map(|(ps, _)| ps)
                    .collect();
                Err(format!(
                    "{name} is defined for {}; the scenario runs `{protocol}`",
                    defined.join(", ")
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Whether a protocol elects leaders: the ones that check `election_safety` by default (it
/// judges the roles that lead, which the `leader` fault target resolves to).
pub(crate) fn elects(info: &ProtocolInfo) -> bool {
    info.default_invariants.contains(&"election_safety")
}

/// `commit_latency` of one history: (median latency, acknowledged operations).
///
/// ```
/// use sim::experiment::commit_latency;
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
/// let op = |invoke, complete, outcome| Operation { process: 0, key: Some("x".into()), call: Call::Write(Value::Int(1)), invoke, complete, outcome, node: None };
/// let h = History { ops: vec![
///     op(0, Some(10), Outcome::Ok(Output::Done)),
///     op(5, Some(35), Outcome::Ok(Output::Done)),
///     op(8, Some(90), Outcome::Ok(Output::Done)),
///     op(9, None, Outcome::Info),
/// ], time_unit: TimeUnit::Nanos, model: None };
/// assert_eq!(commit_latency(&h), (Some(30), 3), "timed-out operations are left out");
/// ```
pub fn commit_latency(history: &History) -> (Option<Nanos>, u64) {
    let mut v: Vec<Nanos> = history
        .ops
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Ok(_)))
        .filter_map(|o| o.complete.map(|c| c.saturating_sub(o.invoke)))
        .collect();
    v.sort_unstable();
    (super::quantile(&v, 0.5), v.len() as u64)
}

/// `stale_read_rate` of one history: (stale reads / judged reads, judged reads).
///
/// A read is judged when each value it returned is the initial value or was written by a write
/// or a compare-and-set of the history; it is stale when every value it returned had certainly
/// been replaced before it began: another acknowledged write of the key began after that
/// value's write completed (after time zero, for the initial value) and completed before the
/// read began. A value whose write never completed (it timed out, yet may have taken effect
/// any time) is never certainly replaced.
///
/// ```
/// use sim::experiment::stale_read_rate;
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
/// let op = |call, invoke, complete, out| Operation { process: 0, key: Some("x".into()), call, invoke, complete: Some(complete), outcome: Outcome::Ok(out), node: None };
/// let w = |v, i, c| op(Call::Write(Value::Int(v)), i, c, Output::Done);
/// let r = |v: Option<i64>, i, c| op(Call::Read, i, c, Output::Value(v.map(Value::Int)));
/// let h = History { ops: vec![
///     w(1, 0, 10), w(2, 20, 30),
///     r(Some(1), 40, 50),  // stale: 2 replaced 1 before the read began
///     r(Some(2), 40, 50),  // fresh
///     r(Some(1), 25, 50),  // not certainly stale: began while 2 was being written
///     r(None, 40, 50),     // stale: the initial value was replaced
/// ], time_unit: TimeUnit::Nanos, model: None };
/// assert_eq!(stale_read_rate(&h), (Some(0.5), 4));
/// ```
pub fn stale_read_rate(history: &History) -> (Option<f64>, u64) {
    // Per key: every write as (invoke, complete if acknowledged, value written).
    type Write<'a> = (Nanos, Option<Nanos>, &'a Value);
    let mut writes: std::collections::BTreeMap<&str, Vec<Write<'_>>> = Default::default();
    for o in &history.ops {
        let Some(key) = o.key.as_deref() else {
            continue;
        };
        let written = match &o.call {
            Call::Write(v) => Some(v),
            Call::Cas { to, .. } => Some(to),
            _ => None,
        };
        let Some(v) = written else { continue };
        let acknowledged = match &o.outcome {
            Outcome::Ok(Output::Cas(false)) | Outcome::Fail => continue,
            Outcome::Ok(_) => o.complete,
            Outcome::Info => None,
        };
        writes
            .entry(key)
            .or_default()
            .push((o.invoke, acknowledged, v));
    }
    let none = Vec::new();
    let (mut judged, mut stale) = (0u64, 0u64);
    for o in &history.ops {
        let (Some(key), Call::Read, Outcome::Ok(out)) = (o.key.as_deref(), &o.call, &o.outcome)
        else {
            continue;
        };
        let returned: Vec<Option<&Value>> = match out {
            Output::Value(v) => vec![v.as_ref()],
            Output::Siblings(vs) => vs.iter().map(Some).collect(),
            _ => continue,
        };
        let ws = writes.get(key).unwrap_or(&none);
        // When a value's write completed: `Some(None)` for the initial value (before
        // everything), `None` when no write of the history wrote it or one never completed.
        let done = |v: Option<&Value>| -> Option<Option<Nanos>> {
            let Some(v) = v else {
                return Some(None);
            };
            let mine: Vec<&Write<'_>> = ws.iter().filter(|w| w.2 == v).collect();
            if mine.is_empty() || mine.iter().any(|w| w.1.is_none()) {
                return None;
            }
            Some(mine.iter().filter_map(|w| w.1).max())
        };
        let replaced = |after: Option<Nanos>| {
            ws.iter().any(|&(invoke, complete, _)| {
                complete.is_some_and(|c| c < o.invoke) && after.is_none_or(|a| invoke > a)
            })
        };
        let mut attributable = true;
        let mut all_replaced = true;
        for v in returned {
            if v.is_some() && !ws.iter().any(|w| Some(w.2) == v) {
                attributable = false;
            }
            match done(v) {
                Some(after) => all_replaced &= replaced(after),
                None => all_replaced = false,
            }
        }
        if !attributable {
            continue;
        }
        judged += 1;
        stale += u64::from(all_replaced);
    }
    let rate = (judged > 0).then(|| stale as f64 / judged as f64);
    (rate, judged)
}
