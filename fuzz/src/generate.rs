//! Small valid scenarios from the fuzzer's bytes (structure-aware, through `arbitrary`): a
//! protocol from the registry, two to five nodes, under three seconds of virtual time, a few
//! scripted faults, perhaps a nemesis and clients. Rendered as the TOML a user would write, so
//! a run goes through the whole path of `sim run`: parse, check, run, judge, report.
//!
//! Values are drawn inside the ranges the scenario checker accepts, so almost every input is a
//! run rather than a parse error; the few that are refused (a protocol that wants other
//! settings) still exercise the checker.

use std::fmt::Write as _;

use arbitrary::Arbitrary;

/// One generated scenario.
#[derive(Arbitrary, Debug)]
pub struct Generated {
    protocol: u8,
    nodes: u8,
    duration_ms: u16,
    seed: u64,
    latency: Latency,
    loss_pct: u8,
    duplicate_pct: u8,
    reorder: bool,
    faults: Vec<Fault>,
    nemesis: Option<Nemesis>,
    workload: Option<Workload>,
    drift_ppm: Vec<i16>,
}

#[derive(Arbitrary, Debug)]
enum Latency {
    Constant(u8),
    Uniform(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Fault {
    at_ms: u16,
    lasting_ms: Option<u16>,
    action: Action,
}

#[derive(Arbitrary, Debug)]
enum Action {
    Crash(u8),
    Restart(u8),
    Pause(u8),
    Resume(u8),
    Partition(u8),
    Cut(u8, u8),
    Heal,
    ClockJump(u8, i16),
    ClockDrift(u8, i16),
}

#[derive(Arbitrary, Debug)]
struct Nemesis {
    swarm: bool,
    partition: Option<(u16, u16)>,
    crash: Option<(u16, u16)>,
    pause: Option<(u16, u16)>,
    clock_jump: Option<(u16, i16)>,
}

#[derive(Arbitrary, Debug)]
struct Workload {
    clients: u8,
    rate: u8,
    keys: u8,
    timeout_ms: u16,
}

/// Targets a fault may name: a node by index, or a word the scenario checker knows.
fn target(t: u8, nodes: usize) -> String {
    match t % 8 {
        0 => "\"leader\"".into(),
        1 => "\"random\"".into(),
        _ => format!("\"n{}\"", usize::from(t) % nodes + 1),
    }
}

const SHAPES: [&str; 5] = ["halves", "majority-minority", "ring", "isolate", "bridge"];

impl Generated {
    /// The scenario file, for `protocols` (the registry's names, in its order).
    pub fn render(&self, protocols: &[&str]) -> String {
        let protocol = protocols[usize::from(self.protocol) % protocols.len()];
        let nodes = 2 + usize::from(self.nodes % 4);
        let duration = 100 + u64::from(self.duration_ms % 2_900);
        let mut s = String::new();
        let _ = writeln!(s, "name = \"generated\"\nseed = {}", self.seed);
        let _ = writeln!(s, "duration = \"{duration}ms\"");
        let _ = writeln!(s, "[cluster]\nnodes = {nodes}\nprotocol = \"{protocol}\"");
        let latency = match self.latency {
            Latency::Constant(ms) => format!("\"{}ms\"", ms % 50),
            Latency::Uniform(a, b) => {
                let (lo, hi) = ((a % 50).min(b % 50), (a % 50).max(b % 50));
                format!("{{ dist = \"uniform\", min = \"{lo}ms\", max = \"{hi}ms\" }}")
            }
        };
        let _ = writeln!(
            s,
            "[network]\nlatency = {latency}\nloss = {}\nduplicate = {}\nreorder = {}",
            f64::from(self.loss_pct % 51) / 100.0,
            f64::from(self.duplicate_pct % 51) / 100.0,
            self.reorder
        );
        for (i, drift) in self.drift_ppm.iter().take(nodes).enumerate() {
            let _ = writeln!(
                s,
                "[clocks.n{}]\ndrift_ppm = {}",
                i + 1,
                i64::from(*drift) % 50_000
            );
        }
        for f in self.faults.iter().take(4) {
            let at = u64::from(f.at_ms) % duration;
            let _ = write!(s, "[[faults]]\nat = \"{at}ms\"\n");
            let undoable = matches!(
                f.action,
                Action::Crash(_) | Action::Pause(_) | Action::Partition(_) | Action::Cut(..)
            );
            if let (true, Some(l)) = (undoable, f.lasting_ms) {
                let _ = writeln!(s, "for = \"{}ms\"", 1 + u64::from(l) % 2_000);
            }
            let line = match f.action {
                Action::Crash(t) => format!("crash = {}", target(t, nodes)),
                Action::Restart(t) => format!("restart = {}", target(t, nodes)),
                Action::Pause(t) => format!("pause = {}", target(t, nodes)),
                Action::Resume(t) => format!("resume = {}", target(t, nodes)),
                Action::Partition(k) => {
                    format!("partition = \"{}\"", SHAPES[usize::from(k) % 3])
                }
                Action::Cut(a, b) => {
                    format!(
                        "cut = {{ from = {}, to = {} }}",
                        target(a, nodes),
                        target(b, nodes)
                    )
                }
                Action::Heal => "heal = true".to_string(),
                Action::ClockJump(t, by) => format!(
                    "clock_jump = {}\nby = \"{}ms\"",
                    target(t, nodes),
                    i64::from(by) % 1_000
                ),
                Action::ClockDrift(t, ppm) => format!(
                    "clock_drift = {}\nppm = {}",
                    target(t, nodes),
                    i64::from(ppm) % 100_000
                ),
            };
            let _ = writeln!(s, "{line}");
        }
        if let Some(n) = &self.nemesis {
            let range = |(a, b): (u16, u16)| {
                let lo = 1 + u64::from(a) % 1_000;
                format!("[\"{lo}ms\", \"{}ms\"]", lo + u64::from(b) % 1_000)
            };
            let _ = writeln!(s, "[nemesis]");
            if n.swarm {
                let _ = writeln!(s, "mode = \"swarm\"");
            }
            if let Some(p) = n.partition {
                let _ = writeln!(
                    s,
                    "partition = {{ every = {}, last = {} }}",
                    range(p),
                    range(p)
                );
            }
            if let Some(c) = n.crash {
                let _ = writeln!(s, "crash = {{ every = {}, last = {} }}", range(c), range(c));
            }
            if let Some(p) = n.pause {
                let _ = writeln!(s, "pause = {{ every = {}, last = {} }}", range(p), range(p));
            }
            if let Some((every, by)) = n.clock_jump {
                let by = i64::from(by) % 500;
                let (lo, hi) = (by.min(-by), by.max(-by));
                let _ = writeln!(
                    s,
                    "clock_jump = {{ every = {}, by = [\"{lo}ms\", \"{hi}ms\"] }}",
                    range((every, every))
                );
            }
        }
        if let Some(w) = &self.workload {
            let _ = writeln!(
                s,
                "[workload]\nclients = {}\nrate = \"{}/s\"\ntimeout = \"{}ms\"",
                1 + w.clients % 4,
                1 + w.rate % 50,
                10 + u64::from(w.timeout_ms) % 1_000
            );
            if matches!(protocol, "raft" | "quorum" | "vector-clock") {
                let _ = writeln!(s, "keys = {}", 1 + w.keys % 5);
            }
        }
        s
    }
}
