//! `[workload]`: checked into the workload's own [`WorkloadSpec`] (and, for a scripted
//! workload, its [`ScriptOp`]s), every error at the value that is wrong.
//!
//! A workload either draws its operations (`clients` and `rate`, with `mix`, `keys`, `start`,
//! `stop`) or replays a `script`; a script with a drawing key is an error, not a key ignored.

use crate::node::Nanos;
use crate::protocols::ProtocolInfo;
use crate::workload::history::{Call, Value};
use crate::workload::kind::{KV_KEYS, keys_of};
use crate::workload::script::clients_needed;
use crate::workload::{Mix, ScriptOp, WorkloadSpec};

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

/// A checked `[workload]`, and its script when it has one, for a protocol whose clients run
/// the `[workload]` kind `protocol.workload_kind`.
pub(super) fn workload(
    src: &Source<'_>,
    raw: &Located<raw::Workload>,
    duration: Nanos,
    protocol: &ProtocolInfo,
) -> Result<(WorkloadSpec, Option<Vec<ScriptOp>>), ScenarioError> {
    check_kind(src, raw, protocol)?;
    check_keys(src, protocol)?;
    match &raw.value.script {
        Some(script) => scripted(src, raw, script, duration),
        None => drawn(src, raw, duration).map(|w| (w, None)),
    }
}

/// `kind`, when written, is the protocol's.
fn check_kind(
    src: &Source<'_>,
    raw: &Located<raw::Workload>,
    protocol: &ProtocolInfo,
) -> Result<(), ScenarioError> {
    match &raw.value.kind {
        Some(kind) if kind.value != protocol.workload_kind => Err(src.error(
            &kind.span,
            format!(
                "protocol {} serves the {} workload, not `{}`: write kind = \"{}\" or leave \
                 kind out",
                protocol.name, protocol.workload_kind, kind.value, protocol.workload_kind
            ),
        )),
        _ => Ok(()),
    }
}

/// Every key of `[workload]` is one the protocol's kind takes; the first unknown one in the
/// file is the error.
fn check_keys(src: &Source<'_>, protocol: &ProtocolInfo) -> Result<(), ScenarioError> {
    let allowed = keys_of(protocol.workload_kind, &(protocol.workload_schema)());
    let Ok(table) = toml::from_str::<toml::Table>(src.text) else {
        return Ok(()); // the first pass has read it; never reached
    };
    let Some(toml::Value::Table(workload)) = table.get("workload") else {
        return Ok(());
    };
    let first_unknown = workload
        .keys()
        .filter(|k| !allowed.iter().any(|a| a == *k))
        .filter_map(|k| Some((super::locate::deepest_span(src.text, &["workload", k])?, k)))
        .min_by_key(|(span, _)| span.start);
    match first_unknown {
        Some((span, key)) => {
            let why = if KV_KEYS.contains(&key.as_str()) {
                format!(
                    "`{key}` belongs to the kv workload, and {}'s clients run the {} workload",
                    protocol.name, protocol.workload_kind
                )
            } else {
                format!("unknown key `{key}` in [workload]")
            };
            Err(src.error(
                &span,
                format!(
                    "{why}; a {} workload takes {}",
                    protocol.workload_kind,
                    allowed.join(", ")
                ),
            ))
        }
        None => Ok(()),
    }
}

/// `missing key `clients` in [workload]`, at the start of the table's line, where toml points
/// for a missing key.
fn missing(src: &Source<'_>, raw: &Located<raw::Workload>, key: &str, what: &str) -> ScenarioError {
    let start =
        super::locate::deepest_span(src.text, &["workload"]).map_or(raw.span.start, |s| s.start);
    let line = src.text[..start].rfind('\n').map_or(0, |i| i + 1);
    src.error(
        &(line..line),
        format!("missing key `{key}` in [workload] ({what}; or give a `script`)"),
    )
}

fn drawn(
    src: &Source<'_>,
    raw: &Located<raw::Workload>,
    duration: Nanos,
) -> Result<WorkloadSpec, ScenarioError> {
    let w = &raw.value;
    let clients = w
        .clients
        .as_ref()
        .ok_or_else(|| missing(src, raw, "clients", "how many virtual clients, e.g. 3"))?;
    let rate = w.rate.as_ref().ok_or_else(|| {
        missing(
            src,
            raw,
            "rate",
            "per client, operations started per second, e.g. \"20/s\"",
        )
    })?;
    let clients = count(src, clients, "clients", MAX_CLIENTS, "3")?;
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
    let think_mean = (1e9 / rate.value.0).round().max(1.0) as Nanos;
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

/// A scripted workload: the script checked entry by entry, `clients` at least what it names.
fn scripted(
    src: &Source<'_>,
    raw: &Located<raw::Workload>,
    entries: &Located<Vec<Located<raw::ScriptEntry>>>,
    duration: Nanos,
) -> Result<(WorkloadSpec, Option<Vec<ScriptOp>>), ScenarioError> {
    let w = &raw.value;
    let drawing = [
        ("rate", w.rate.as_ref().map(|x| &x.span)),
        ("mix", w.mix.as_ref().map(|x| &x.span)),
        ("keys", w.keys.as_ref().map(|x| &x.span)),
        ("start", w.start.as_ref().map(|x| &x.span)),
        ("stop", w.stop.as_ref().map(|x| &x.span)),
    ];
    for (key, span) in drawing {
        if let Some(span) = span {
            return Err(src.error(
                span,
                format!(
                    "{key} has no meaning with a script: the script says which operations each client invokes and when; remove one or the other"
                ),
            ));
        }
    }
    if entries.value.is_empty() {
        return Err(src.error(
            &entries.span,
            "script lists no operation; give at least one, e.g. { client = 0, at = \"1s\", op = \"get\", key = \"k0\" }",
        ));
    }
    let max_client = match &w.clients {
        Some(c) => i64::from(count(src, c, "clients", MAX_CLIENTS, "3")?),
        None => MAX_CLIENTS,
    };
    let script = entries
        .value
        .iter()
        .map(|e| script_entry(src, e, max_client, duration))
        .collect::<Result<Vec<ScriptOp>, ScenarioError>>()?;
    let clients = match &w.clients {
        Some(c) => c.value as u32,
        None => clients_needed(&script),
    };
    let spec = WorkloadSpec {
        clients,
        // Unused: a scripted client draws neither think times nor operations.
        think_mean: 1,
        mix: Mix::default(),
        keys: 1,
        timeout: positive(src, w.timeout.as_ref(), "timeout", DEFAULT_TIMEOUT, "500ms")?,
        retry: positive(src, w.retry.as_ref(), "retry", DEFAULT_RETRY, "50ms")?,
        start: 0,
        stop: duration,
    };
    Ok((spec, Some(script)))
}

/// One script entry: a client in range, a time within the run, and exactly the values its
/// operation takes.
fn script_entry(
    src: &Source<'_>,
    entry: &Located<raw::ScriptEntry>,
    max_client: i64,
    duration: Nanos,
) -> Result<ScriptOp, ScenarioError> {
    let e = &entry.value;
    if !(0..max_client).contains(&e.client.value) {
        let limit = if max_client == MAX_CLIENTS {
            format!("at most {}", MAX_CLIENTS - 1)
        } else {
            format!("below clients = {max_client}")
        };
        return Err(src.error(
            &e.client.span,
            format!("client must be from 0, {limit}, not {}", e.client.value),
        ));
    }
    if e.at.value.nanos() >= duration {
        return Err(src.error(
            &e.at.span,
            "at must be before the end of the run (duration): the operation would never begin",
        ));
    }
    use raw::ScriptOpName as N;
    let name = match e.op.value {
        N::Get => "get",
        N::Put => "put",
        N::Append => "append",
        N::Cas => "cas",
        N::Transfer => "transfer",
        N::ReadAll => "read-all",
    };
    const ALL: [&str; 7] = ["key", "value", "expect", "new", "from", "to", "amount"];
    let needed: &[&str] = match e.op.value {
        N::Get => &["key"],
        N::Put | N::Append => &["key", "value"],
        N::Cas => &["key", "expect", "new"],
        N::Transfer => &["from", "to", "amount"],
        N::ReadAll => &[],
    };
    let span_of = |k: &str| match k {
        "key" => e.key.as_ref().map(|v| &v.span),
        "value" => e.value.as_ref().map(|v| &v.span),
        "expect" => e.expect.as_ref().map(|v| &v.span),
        "new" => e.new.as_ref().map(|v| &v.span),
        "from" => e.from.as_ref().map(|v| &v.span),
        "to" => e.to.as_ref().map(|v| &v.span),
        _ => e.amount.as_ref().map(|v| &v.span),
    };
    for k in ALL.iter().filter(|k| !needed.contains(k)) {
        if let Some(span) = span_of(k) {
            return Err(src.error(span, format!("a {name} takes no `{k}`")));
        }
    }
    for k in needed {
        if span_of(k).is_none() {
            let example = match *k {
                "key" => "\"k0\"",
                "from" => "0",
                "to" => "1",
                "amount" => "100",
                _ => "\"v1\"",
            };
            return Err(src.error(
                &entry.span,
                format!("a {name} needs `{k}`, e.g. {k} = {example}"),
            ));
        }
    }
    if let Some(key) = &e.key
        && key.value.is_empty()
    {
        return Err(src.error(&key.span, "key must not be empty, e.g. \"k0\""));
    }
    let text = |v: &Option<Located<String>>| {
        Value::Str(v.as_ref().map_or(String::new(), |v| v.value.clone()))
    };
    let account = |v: &Option<Located<i64>>, which: &str| -> Result<u32, ScenarioError> {
        let v = v.as_ref().expect("checked as needed");
        u32::try_from(v.value).map_err(|_| {
            src.error(
                &v.span,
                format!("{which} must be an account number from 0, not {}", v.value),
            )
        })
    };
    let call = match e.op.value {
        N::Get => Call::Read,
        N::Put => Call::Write(text(&e.value)),
        N::Append => Call::Append(text(&e.value)),
        N::Cas => Call::Cas {
            from: text(&e.expect),
            to: text(&e.new),
        },
        N::Transfer => {
            let (from, to) = (account(&e.from, "from")?, account(&e.to, "to")?);
            let amount = e.amount.as_ref().expect("checked as needed");
            if from == to {
                let span = &e.to.as_ref().expect("checked as needed").span;
                return Err(src.error(
                    span,
                    "a transfer moves money between two accounts: to must differ from from",
                ));
            }
            if amount.value < 1 {
                return Err(src.error(
                    &amount.span,
                    format!("amount must be at least 1, not {}", amount.value),
                ));
            }
            Call::Transfer {
                from,
                to,
                amount: amount.value as u64,
            }
        }
        N::ReadAll => Call::ReadAll,
    };
    Ok(ScriptOp {
        client: e.client.value as u32,
        at: e.at.value.nanos(),
        key: e.key.as_ref().map(|k| k.value.clone()),
        call,
    })
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;
    use crate::workload::history::{Call, Value};

    const BASE: &str = "name = \"w\"\nduration = \"10s\"\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\nprotocol = \"raft\"\n[workload]\n";

    fn parse(body: &str) -> Result<Scenario, crate::scenario::ScenarioError> {
        Scenario::parse("s.toml", &format!("{BASE}{body}"))
    }

    /// The error's line (1-based: line 7 is the first after `[workload]`), column and message.
    fn error(body: &str) -> (usize, usize, String) {
        let e = parse(body).expect_err("an error");
        (e.line, e.column, e.message)
    }

    #[test]
    fn a_script_reads_into_operations_and_clients_default_to_those_it_names() {
        let s = parse(
            "timeout = \"300ms\"\nscript = [\n  { client = 2, at = \"1.5s\", op = \"append\", key = \"k1\", value = \"x\" },\n  { client = 0, at = \"1ms\", op = \"get\", key = \"k0\" },\n]\n",
        )
        .expect("valid");
        let w = s.workload.as_ref().expect("a workload");
        assert_eq!((w.clients, w.timeout), (3, 300_000_000));
        let script = s.script.expect("a script");
        assert_eq!(script.len(), 2);
        assert_eq!((script[0].client, script[0].at), (2, 1_500_000_000));
        assert_eq!(script[0].key.as_deref(), Some("k1"));
        assert_eq!(script[0].call, Call::Append(Value::Str("x".into())));
        // `clients` may name more than the script uses: the others stay idle.
        let s = parse("clients = 4\n[[workload.script]]\nclient = 1\nat = \"1s\"\nop = \"cas\"\nkey = \"k0\"\nexpect = \"a\"\nnew = \"b\"\n")
            .expect("valid");
        assert_eq!(s.workload.map(|w| w.clients), Some(4));
    }

    #[test]
    fn script_errors_point_at_the_value_and_say_what_is_expected() {
        let entry = |fields: &str| format!("script = [ {{ {fields} }} ]\n");
        let (line, col, msg) = error(&entry(
            "client = 0, at = \"1s\", op = \"put\", key = \"k0\"",
        ));
        assert_eq!((line, col), (7, 12), "{msg}");
        assert!(msg.contains("a put needs `value`"), "{msg}");
        let (line, col, msg) = error(&entry(
            "client = 0, at = \"1s\", op = \"get\", key = \"k0\", value = \"v\"",
        ));
        assert_eq!((line, col), (7, 69), "{msg}");
        assert!(msg.contains("a get takes no `value`"), "{msg}");
        let (_, _, msg) = error(&entry(
            "client = 0, at = \"1s\", op = \"cas\", key = \"k0\", expect = \"a\"",
        ));
        assert!(msg.contains("a cas needs `new`"), "{msg}");
        let (line, col, msg) = error(&format!(
            "clients = 2\n{}",
            entry("client = 2, at = \"1s\", op = \"get\", key = \"k0\"")
        ));
        assert_eq!((line, col), (8, 23), "{msg}");
        assert!(
            msg.contains("client must be from 0, below clients = 2, not 2"),
            "{msg}"
        );
        let (_, col, msg) = error(&entry(
            "client = 0, at = \"10s\", op = \"get\", key = \"k0\"",
        ));
        assert_eq!(col, 31, "{msg}");
        assert!(
            msg.contains("at must be before the end of the run"),
            "{msg}"
        );
        let (_, _, msg) = error(&entry(
            "client = 0, at = \"1s\", op = \"read\", key = \"k0\"",
        ));
        assert!(msg.contains("read"), "{msg}");
        let (line, col, msg) = error(&format!(
            "rate = \"20/s\"\n{}",
            entry("client = 0, at = \"1s\", op = \"get\", key = \"k0\"")
        ));
        assert_eq!((line, col), (7, 8), "{msg}");
        assert!(msg.contains("rate has no meaning with a script"), "{msg}");
        let (_, _, msg) = error("script = []\n");
        assert!(msg.contains("script lists no operation"), "{msg}");
        // Without a script, `rate` is still required.
        let (line, col, msg) = error("clients = 2\n");
        assert_eq!((line, col), (6, 1), "{msg}");
        assert!(msg.contains("missing key `rate` in [workload]"), "{msg}");
    }
}
