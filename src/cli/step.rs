//! `sim step FILE [--seed N] [--until T]`: an interactive stepper over one run.
//!
//! Commands are read from standard input, one a line, so the same session works at a terminal
//! and from a script (`printf 'until role\nstate B\n' | sim step …`); the prompt is shown only
//! at a terminal, so a scripted session's output is the transcript alone. Events are told as
//! `sim replay` tells them (`report::narrate`), one line each.
//!
//! The rule it keeps: the run is the very run `sim run` makes for that seed — the events come
//! from its captured trace, and a node's state from a second copy of the world (`run::probe`)
//! advanced with the cursor — so the same file, seed and commands give the same output.
//!
//! Exit codes: 2 for a bad file or seed (before any prompt); otherwise 0 when the session ends
//! (`quit` or the end of input), whatever the run's verdict. A bad command is a one-line error
//! on stderr, and the session goes on.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use crate::check::Status;
use crate::node::{Duration, Nanos};
use crate::report::narrate::{Narrator, Told, instant};
use crate::run::RunReport;
use crate::run::exit::ExitCode;
use crate::run::probe::Probe;
use crate::run::registry::installed;
use crate::scenario::Scenario;

#[derive(Args, Debug)]
pub(crate) struct StepArgs {
    /// The scenario file (TOML).
    pub(crate) file: PathBuf,
    /// The seed to step through; the scenario's own seed when absent.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Run to this virtual time before the first command (as `until T` would).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) until: Option<Duration>,
}

fn parse_time(s: &str) -> Result<Duration, String> {
    s.parse()
}

const HELP: &str = "\
commands:
  n, next [K]        tell the next event (or the next K)
  until role         run to the next role change (a candidacy, an election won, a step down)
  until leader       run to the next time a node becomes leader
  until fault        run to the next fault (crash, partition, pause, clock jump)
  until drop         run to the next dropped message
  until violation    run to the first violation of an invariant
  until T            run to virtual time T (e.g. 2s, 150ms)
  state NODE         NODE's state as its protocol describes it
  nodes              every node: up or crashed, its last role and term
  inflight           the messages sent and not yet delivered or dropped
  where              the current virtual time and event
  help               this list
  quit, q            end the session (so does the end of input)";

pub(crate) fn step(args: StepArgs) -> i32 {
    let scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    let out = match super::replay::captured(&scenario, args.seed) {
        Ok(out) => out,
        Err(code) => return code,
    };
    let mut session = Session::new(&scenario, out.report, out.records.unwrap_or_default());
    outln!(
        "step        {} ({}) seed {}: {} events in {}; `help` lists the commands",
        session.report.scenario,
        session.report.file,
        session.report.seed,
        session.events.len(),
        instant(session.report.virtual_time)
    );
    if let Some(t) = args.until {
        session.until_time(t.nanos());
    }
    let terminal = std::io::stdin().is_terminal();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if terminal {
            out!("(sim) ");
        }
        let Some(Ok(line)) = lines.next() else {
            break;
        };
        if !session.command(line.trim()) {
            break;
        }
    }
    ExitCode::Held.code()
}

/// One event of the run: as told, and as recorded.
struct Event {
    told: Told,
    record: Value,
}

/// Which events `until` stops at.
#[derive(Clone, Copy)]
enum Stop {
    /// A node reports a role other than its last one (its first, a follower's, is no change).
    Role,
    /// A node becomes leader (or master).
    Leader,
    Fault,
    Drop,
}

/// A role observation: (node, role, term).
fn role_of(record: &Value) -> Option<(&str, &str, u64)> {
    if record.get("kind")?.as_str()? != "observe" || record.pointer("/obs/type")? != "role" {
        return None;
    }
    Some((
        record.get("node")?.as_str()?,
        record.pointer("/obs/role")?.as_str()?,
        record.pointer("/obs/term")?.as_u64()?,
    ))
}

impl Stop {
    /// Whether `record` is a stop, given each node's role before it.
    fn matches(self, record: &Value, roles: &BTreeMap<String, String>) -> bool {
        let kind = record.get("kind").and_then(Value::as_str).unwrap_or("");
        match self {
            Stop::Role => role_of(record).is_some_and(|(node, role, _)| match roles.get(node) {
                Some(before) => before != role,
                None => role != "follower",
            }),
            Stop::Leader => {
                role_of(record).is_some_and(|(_, role, _)| role == "leader" || role == "master")
            }
            Stop::Fault => kind == "fault",
            Stop::Drop => kind.contains("drop"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stop::Role => "role change",
            Stop::Leader => "new leader",
            Stop::Fault => "fault",
            Stop::Drop => "dropped message",
        }
    }
}

/// A stepping session: the run's events and how many of them have been told.
struct Session {
    scenario: Scenario,
    report: RunReport,
    events: Vec<Event>,
    /// Events told so far: the next one to tell is `events[shown]`.
    shown: usize,
    /// Built at the first `state`: most sessions never ask.
    probe: Option<Box<dyn Probe>>,
}

impl Session {
    fn new(scenario: &Scenario, report: RunReport, records: Vec<String>) -> Self {
        let mut narrator = Narrator::new(&scenario.protocol, &scenario.nodes);
        let events = records
            .iter()
            .filter_map(|line| {
                let told = narrator.tell(line)?;
                let record = serde_json::from_str(line).ok()?;
                Some(Event { told, record })
            })
            .collect();
        Session {
            scenario: scenario.clone(),
            report,
            events,
            shown: 0,
            probe: None,
        }
    }

    /// Runs one command; false when the session should end.
    fn command(&mut self, line: &str) -> bool {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["q" | "quit" | "exit"] => return false,
            ["help" | "h" | "?"] => outln!("{HELP}"),
            ["n" | "next"] => self.next(1),
            ["n" | "next", k] => match k.parse::<usize>() {
                Ok(k) if k > 0 => self.next(k),
                _ => error(&format!("next {k}: expected a count of events, such as 5")),
            },
            ["until", "role"] => self.until(Stop::Role),
            ["until", "leader"] => self.until(Stop::Leader),
            ["until", "fault"] => self.until(Stop::Fault),
            ["until", "drop"] => self.until(Stop::Drop),
            ["until", "violation"] => self.until_violation(),
            ["until", t] => match t.parse::<Duration>() {
                Ok(t) => self.until_time(t.nanos()),
                Err(e) => error(&format!(
                    "until {t}: expected role, leader, fault, drop, violation or a time such as 2s ({e})"
                )),
            },
            ["state", node] => self.state(node),
            ["nodes"] => self.nodes(),
            ["inflight"] => self.inflight(),
            ["where"] => self.where_(),
            _ => error(&format!(
                "unknown command `{line}`; `help` lists the commands"
            )),
        }
        true
    }

    fn tell(&self, i: usize) {
        let e = &self.events[i].told;
        outln!("{:>13}  {}", instant(e.at), e.text);
    }

    fn at_end(&self) -> bool {
        if self.shown < self.events.len() {
            return false;
        }
        outln!(
            "the run ends at {}: verdict {}, trace hash {}",
            instant(self.report.virtual_time),
            self.report.verdict.name(),
            self.report.trace_hash
        );
        true
    }

    fn next(&mut self, k: usize) {
        for _ in 0..k {
            if self.at_end() {
                return;
            }
            self.tell(self.shown);
            self.shown += 1;
        }
    }

    /// Tells event `to` after skipping the ones before it (saying how many).
    fn jump(&mut self, to: usize) {
        let skipped = to - self.shown;
        if skipped > 0 {
            let s = if skipped == 1 { "" } else { "s" };
            outln!("{:>13}  … {skipped} event{s}", "");
        }
        self.tell(to);
        self.shown = to + 1;
    }

    fn until(&mut self, stop: Stop) {
        let mut roles: BTreeMap<String, String> = BTreeMap::new();
        for e in &self.events[..self.shown] {
            if let Some((node, role, _)) = role_of(&e.record) {
                roles.insert(node.to_string(), role.to_string());
            }
        }
        let found = (self.shown..self.events.len()).find(|&i| {
            let record = &self.events[i].record;
            let stop = stop.matches(record, &roles);
            if let Some((node, role, _)) = role_of(record) {
                roles.insert(node.to_string(), role.to_string());
            }
            stop
        });
        match found {
            Some(i) => self.jump(i),
            None => error(&format!(
                "no {} ahead: the run ends at {} ({} events on)",
                stop.name(),
                instant(self.report.virtual_time),
                self.events.len() - self.shown
            )),
        }
    }

    /// To the last event at or before `t`.
    fn until_time(&mut self, t: Nanos) {
        let end = self.events.partition_point(|e| e.told.at <= t);
        if end <= self.shown {
            error(&format!(
                "{} is not ahead: the next event is at {}",
                instant(t),
                self.events
                    .get(self.shown)
                    .map_or("the end".to_string(), |e| instant(e.told.at))
            ));
            return;
        }
        self.jump(end - 1);
    }

    fn until_violation(&mut self) {
        let first = self
            .report
            .invariants
            .iter()
            .filter_map(|i| match &i.status {
                Status::Violated(v) => Some((v.at, i.name.clone(), v.message.clone())),
                _ => None,
            })
            .min_by_key(|(at, _, _)| *at);
        let Some((at, name, message)) = first else {
            error("no invariant is violated in this run");
            return;
        };
        let end = self.events.partition_point(|e| e.told.at <= at);
        if end > self.shown {
            self.jump(end - 1);
        }
        outln!("{:>13}  VIOLATION {name}: {message}", instant(at));
    }

    /// Where the cursor is: the time of the last event told (0 before any).
    fn now(&self) -> Nanos {
        self.shown
            .checked_sub(1)
            .map_or(0, |i| self.events[i].told.at)
    }

    fn state(&mut self, node: &str) {
        let Some(index) = self.scenario.nodes.iter().position(|n| n == node) else {
            error(&format!(
                "state {node}: no such node; the nodes are {}",
                self.scenario.nodes.join(", ")
            ));
            return;
        };
        if self.probe.is_none() {
            let seed = self.report.seed;
            match installed().probe(&self.scenario, seed) {
                Ok(p) => self.probe = Some(p),
                Err(e) => {
                    error(&format!("state {node}: {e}"));
                    return;
                }
            }
        }
        let now = self.now();
        let Some(probe) = self.probe.as_mut() else {
            return;
        };
        if self.shown > 0 {
            probe.advance_to(now);
        }
        match probe.describe(index) {
            None => outln!(
                "{node} at {}: crashed (only its disk survives)",
                instant(now)
            ),
            Some(lines) if lines.is_empty() => outln!(
                "{node} at {}: up; {} does not describe its state",
                instant(now),
                self.scenario.protocol
            ),
            Some(lines) => {
                outln!("{node} at {}:", instant(now));
                for line in lines {
                    outln!("  {line}");
                }
            }
        }
    }

    /// Every node: up or crashed, paused, and its last role and term, from the events told.
    fn nodes(&self) {
        let mut up: BTreeMap<&str, &str> = BTreeMap::new();
        let mut roles: BTreeMap<&str, String> = BTreeMap::new();
        for e in &self.events[..self.shown] {
            let r = &e.record;
            let node = r.get("node").and_then(Value::as_str).unwrap_or("");
            match r.get("kind").and_then(Value::as_str).unwrap_or("") {
                "start" => {
                    up.insert(node, "up");
                }
                "observe" => {
                    if let Some((node, role, term)) = role_of(r) {
                        roles.insert(node, format!("{role} in term {term}"));
                    }
                }
                "fault" => {
                    let state = match r.get("fault").and_then(Value::as_str) {
                        Some("crash") => "crashed",
                        Some("pause") => "paused",
                        Some("resume") => "up",
                        _ => continue,
                    };
                    for n in r
                        .get("nodes")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        up.insert(n, state);
                    }
                }
                _ => {}
            }
        }
        outln!("nodes at {}:", instant(self.now()));
        for n in &self.scenario.nodes {
            let state = up.get(n.as_str()).copied().unwrap_or("not started");
            match roles.get(n.as_str()) {
                Some(role) if state == "crashed" => {
                    outln!("  {n:<8} {state:<12} (last {role})")
                }
                Some(role) => outln!("  {n:<8} {state:<12} {role}"),
                None => outln!("  {n:<8} {state}"),
            }
        }
    }

    /// The messages sent and neither delivered nor dropped yet, oldest first.
    fn inflight(&self) {
        let mut flying: BTreeMap<(bool, u64), usize> = BTreeMap::new();
        for (i, e) in self.events[..self.shown].iter().enumerate() {
            let r = &e.record;
            let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
            let Some(id) = r.get("id").and_then(Value::as_u64) else {
                continue;
            };
            // Node-to-node messages and the clients' have ids of their own.
            let client = kind.starts_with("client") || kind == "request" || kind == "reply";
            match kind {
                "send" | "request" | "reply" => {
                    flying.insert((client, id), i);
                }
                _ if kind == "deliver" || kind.contains("drop") || kind.ends_with("deliver") => {
                    flying.remove(&(client, id));
                }
                _ => {}
            }
        }
        if flying.is_empty() {
            outln!("no message in flight at {}", instant(self.now()));
            return;
        }
        let mut sent: Vec<usize> = flying.into_values().collect();
        sent.sort_unstable();
        outln!("{} in flight at {}:", sent.len(), instant(self.now()));
        for i in sent {
            let e = &self.events[i].told;
            outln!("  since {}  {}", instant(e.at), e.text);
        }
    }

    fn where_(&self) {
        match self.shown.checked_sub(1) {
            None => outln!("at the start: no event told yet"),
            Some(i) => outln!(
                "at {}: event {} of {}",
                instant(self.events[i].told.at),
                i + 1,
                self.events.len()
            ),
        }
    }
}

fn error(message: &str) {
    eprintln!("sim step: {message}");
}
