//! `[workload]`: checked into the workload's own [`WorkloadSpec`], every error at the value
//! that is wrong.

use crate::node::Nanos;
use crate::workload::{Mix, WorkloadSpec};

use super::convert::Source;
use super::error::ScenarioError;
use super::raw;
use super::values::Located;

/// The most clients a scenario may have.
pub(super) const MAX_CLIENTS: i64 = 10_000;
/// The most keys a workload may use.
pub(super) const MAX_KEYS: i64 = 1_000_000;

const DEFAULT_KEYS: u32 = 4;
const DEFAULT_TIMEOUT: Nanos = 1_000_000_000;
const DEFAULT_RETRY: Nanos = 100_000_000;

pub(super) fn workload(
    src: &Source<'_>,
    raw: &Located<raw::Workload>,
    duration: Nanos,
) -> Result<WorkloadSpec, ScenarioError> {
    let w = &raw.value;
    let clients = count(src, &w.clients, "clients", MAX_CLIENTS, "3")?;
    let keys = match &w.keys {
        Some(k) => count(src, k, "keys", MAX_KEYS, "4")?,
        None => DEFAULT_KEYS,
    };
    let mix = match &w.mix {
        Some(m) => mix(src, m)?,
        None => Mix::default(),
    };
    let timeout = positive(src, w.timeout.as_ref(), "timeout", DEFAULT_TIMEOUT, "500ms")?;
    let retry = positive(src, w.retry.as_ref(), "retry", DEFAULT_RETRY, "50ms")?;
    let start = w.start.as_ref().map_or(0, |s| s.value.nanos());
    if start >= duration {
        let span = w.start.as_ref().map(|s| &s.span).unwrap_or(&raw.span);
        return Err(src.error(
            span,
            "start must be before the end of the run (duration): clients would never begin",
        ));
    }
    let stop = match &w.stop {
        None => duration,
        Some(s) if s.value.nanos() <= start => {
            return Err(src.error(
                &s.span,
                "stop must be after start: no operation would ever begin",
            ));
        }
        Some(s) if s.value.nanos() > duration => {
            return Err(src.error(
                &s.span,
                "stop must be at most the run's duration; leave it out to run to the end",
            ));
        }
        Some(s) => s.value.nanos(),
    };
    // A rate is checked positive and at most a million per second when parsed.
    let think_mean = (1e9 / w.rate.value.0).round().max(1.0) as Nanos;
    Ok(WorkloadSpec {
        clients,
        think_mean,
        mix,
        keys,
        timeout,
        retry,
        start,
        stop,
    })
}

/// A count from 1 to `max`.
fn count(
    src: &Source<'_>,
    n: &Located<i64>,
    name: &str,
    max: i64,
    example: &str,
) -> Result<u32, ScenarioError> {
    if n.value < 1 {
        return Err(src.error(
            &n.span,
            format!(
                "{name} must be at least 1, not {}; e.g. {name} = {example}",
                n.value
            ),
        ));
    }
    if n.value > max {
        return Err(src.error(
            &n.span,
            format!("{name} must be at most {max}, not {}", n.value),
        ));
    }
    Ok(n.value as u32)
}

/// A duration more than zero, or the default when absent.
fn positive(
    src: &Source<'_>,
    d: Option<&Located<crate::node::Duration>>,
    name: &str,
    default: Nanos,
    example: &str,
) -> Result<Nanos, ScenarioError> {
    match d {
        None => Ok(default),
        Some(d) if d.value.nanos() == 0 => Err(src.error(
            &d.span,
            format!("{name} must be more than zero, e.g. {name} = \"{example}\""),
        )),
        Some(d) => Ok(d.value.nanos()),
    }
}

fn mix(src: &Source<'_>, m: &Located<raw::Mix>) -> Result<Mix, ScenarioError> {
    let weight = |w: &Option<Located<f64>>, name: &str| -> Result<f64, ScenarioError> {
        match w {
            None => Ok(0.0),
            Some(w) if w.value.is_finite() && w.value >= 0.0 => Ok(w.value),
            Some(w) => Err(src.error(
                &w.span,
                format!("the weight of {name} must be a number ≥ 0, not {}", w.value),
            )),
        }
    };
    let mix = Mix {
        get: weight(&m.value.get, "get")?,
        put: weight(&m.value.put, "put")?,
        append: weight(&m.value.append, "append")?,
        cas: weight(&m.value.cas, "cas")?,
    };
    if !(mix.total() > 0.0 && mix.total().is_finite()) {
        return Err(src.error(
            &m.span,
            "mix must give at least one of get, put, append, cas a weight above zero, e.g. mix = { get = 0.5, put = 0.5 }",
        ));
    }
    Ok(mix)
}
