//! `sim list protocols|invariants|faults|lessons`
//!
//! `lessons` reads the catalogue (`scenarios/`): one heading per topic (its folder), then each
//! lesson with what it expects and the first sentence of its description — the one-line
//! explanation a teacher picks a lesson by.

use std::collections::BTreeMap;
use std::path::Path;

use clap::ValueEnum;

use crate::check;
use crate::node::InvariantInfo;
use crate::protocols;
use crate::report::text::wrap;
use crate::run::exit::ExitCode;
use crate::scenario::{ExpectedVerdict, Scenario};
use crate::world::fault;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum What {
    Protocols,
    Invariants,
    Faults,
    Lessons,
}

fn entry(name: &str, tag: &str, definition: &str) {
    outln!("{name}  {tag}");
    for line in wrap(definition, 88) {
        outln!("    {line}");
    }
}

pub(crate) fn list(what: What) -> i32 {
    match what {
        What::Protocols => {
            for p in protocols::catalog() {
                let invariants = if p.default_invariants.is_empty() {
                    String::new()
                } else {
                    format!("(checks by default: {})", p.default_invariants.join(", "))
                };
                entry(p.name, &invariants, p.summary);
            }
        }
        What::Invariants => {
            for i in check::catalog().iter().map(|e| e.info) {
                entry(
                    i.name,
                    &format!("({:?})", i.property).to_lowercase(),
                    i.definition,
                );
            }
            // A protocol's own invariants judge its own facts: only its scenarios may name them.
            // One a family shares (the same name and definition) is listed once, with them all.
            let mut own: Vec<(InvariantInfo, Vec<&str>)> = Vec::new();
            for p in protocols::catalog() {
                for i in (p.invariants)().into_iter().map(|e| e.info) {
                    match own
                        .iter_mut()
                        .find(|(o, _)| o.name == i.name && o.definition == i.definition)
                    {
                        Some((_, owners)) => owners.push(p.name),
                        None => own.push((i, vec![p.name])),
                    }
                }
            }
            for (i, owners) in own {
                let tag =
                    format!("({:?}, {} only)", i.property, owners.join(" and ")).to_lowercase();
                entry(i.name, &tag, i.definition);
            }
        }
        What::Faults => {
            for (name, definition) in fault::CATALOG {
                entry(name, "", definition);
            }
        }
        What::Lessons => return lessons(Path::new("scenarios")),
    }
    ExitCode::Held.code()
}

/// A lesson's path in the catalogue, and its scenario or why it does not load.
type Listed = (String, Result<Scenario, String>);

/// What each folder of the catalogue is about.
pub(crate) const TOPICS: [(&str, &str); 15] = [
    ("raft", "Raft: elections, replication, leases and reads"),
    ("failover", "Failure detection and master fail-over"),
    (
        "proxies",
        "Stateless proxies: single points of failure and message order",
    ),
    ("txn", "Distributed transactions: two-phase commit and TCC"),
    ("clocks", "Clocks: Lamport, vector clocks, last-writer-wins"),
    ("quorum", "Quorum reads and writes (R + W > N)"),
    (
        "paxos",
        "Consensus: single-decree Paxos, and a log by classic and Multi-Paxos",
    ),
    ("ids", "Unique ids: Snowflake generators and their clocks"),
    (
        "replication",
        "Write-ahead logs and master-slave replication",
    ),
    (
        "locks",
        "Distributed locks: expiry, GC pauses, fencing tokens, RedLock, ZooKeeper's recipe",
    ),
    (
        "messaging",
        "Reliable messaging: local message table, transactional messages",
    ),
    (
        "sessions",
        "Session guarantees and eventual convergence: replica reads, tokens, anti-entropy",
    ),
    (
        "overload",
        "Overload protection: bounded capacity, token bucket, circuit breaker",
    ),
    (
        "byzantine",
        "Byzantine generals: oral messages, traitors, N >= 3m + 1",
    ),
    (
        "bench",
        "Benchmarks (lessons too: their hashes guard the engine)",
    ),
];

/// Every lesson under `dir`, by topic. A file that does not parse is listed with its error and
/// makes the exit code 2, after the others are listed.
fn lessons(dir: &Path) -> i32 {
    let files = match super::lessons::scenario_files(dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::BadInput.code();
        }
    };
    let mut by_topic: BTreeMap<String, Vec<Listed>> = BTreeMap::new();
    for f in &files {
        let name = super::lessons::relative(f, dir);
        let topic = name.split_once('/').map_or("", |(t, _)| t).to_string();
        let scenario = Scenario::load(f).map_err(|e| e.to_string());
        by_topic.entry(topic).or_default().push((name, scenario));
    }
    // Known topics in teaching order, then any other folder alphabetically.
    let order = |t: &str| {
        TOPICS
            .iter()
            .position(|(k, _)| *k == t)
            .unwrap_or(TOPICS.len())
    };
    let mut topics: Vec<&String> = by_topic.keys().collect();
    topics.sort_by_key(|t| (order(t), t.as_str()));
    let mut bad = false;
    for topic in topics {
        let title = TOPICS
            .iter()
            .find(|(k, _)| k == topic)
            .map_or(topic.as_str(), |(_, title)| title);
        outln!("{title}");
        for (name, scenario) in &by_topic[topic] {
            let lesson = name.trim_end_matches(".toml");
            match scenario {
                Ok(s) => {
                    let expects = match &s.expect {
                        None => "(no [expect])".to_string(),
                        Some(e) => match e.verdict {
                            ExpectedVerdict::Pass => "expects pass".to_string(),
                            ExpectedVerdict::Violation if e.violates.is_empty() => {
                                "expects a violation".to_string()
                            }
                            ExpectedVerdict::Violation => {
                                format!("expects {} to fail", e.violates.join(", "))
                            }
                        },
                    };
                    outln!("  {lesson}  {expects}");
                    for line in wrap(first_sentence(&s.description), 86) {
                        outln!("      {line}");
                    }
                    if !s.cites.is_empty() {
                        outln!("      cites: {}", s.cites.join("; "));
                    }
                }
                Err(e) => {
                    bad = true;
                    outln!("  {lesson}  (does not load)");
                    eprintln!("sim: {e}");
                }
            }
        }
        outln!("");
    }
    if bad {
        ExitCode::BadInput.code()
    } else {
        ExitCode::Held.code()
    }
}

/// The description up to its first full stop followed by a space (or all of it).
pub(crate) fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let mut from = 0;
    while let Some(i) = text[from..].find(". ") {
        let end = from + i + 1;
        // "e.g. " and "i.e. " do not end a sentence.
        if text[..end].ends_with("e.g.") || text[..end].ends_with("i.e.") {
            from = end;
            continue;
        }
        return &text[..end];
    }
    text
}

#[cfg(test)]
mod tests {
    use super::first_sentence;

    #[test]
    fn the_first_sentence_ends_at_a_full_stop_not_at_an_abbreviation() {
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(
            first_sentence("Use a lease, e.g. 2s. Then more."),
            "Use a lease, e.g. 2s."
        );
        assert_eq!(first_sentence("  No stop at all "), "No stop at all");
    }
}
