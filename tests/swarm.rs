//! Swarm mode through the `sim` binary: each seed draws its own world, prints it, runs it
//! deterministically, and the printed knobs pin that world when pasted into a fixed scenario.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use common::{Run, run, sim};

const SWARM: &str = "scenarios/raft/swarm.toml";

/// The knobs a run drew, in order.
fn knobs(r: &Run) -> Vec<(String, String)> {
    r.json["swarm"]
        .as_array()
        .expect("a swarm run lists its knobs")
        .iter()
        .map(|k| {
            (
                k["knob"].as_str().unwrap().to_string(),
                k["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-swarm-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_seed_prints_the_world_it_drew_and_runs_it_deterministically() {
    let out = sim(&["run", SWARM, "--seed", "7"]);
    let human = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{human}");
    assert!(human.contains("world drawn by seed 7 (swarm):"), "{human}");
    let a = run(SWARM, &["--seed", "7"]);
    let b = run(SWARM, &["--seed", "7"]);
    assert_eq!(a.json["trace_hash"], b.json["trace_hash"]);
    assert_eq!(knobs(&a), knobs(&b));
    let names: Vec<String> = knobs(&a).into_iter().map(|(n, _)| n).collect();
    for expected in [
        "network.latency.min",
        "network.latency.max",
        "network.loss",
        "network.duplicate",
        "clocks.A.offset",
        "clocks.E.drift_ppm",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for (name, value) in knobs(&a) {
        assert!(
            human.contains(&format!("    {name} = {value}\n")),
            "{name} = {value} not printed:\n{human}"
        );
    }
}

#[test]
fn summary_md_lists_the_knobs_as_toml() {
    let dir = scratch("summary", "").parent().unwrap().join("out");
    let out = sim(&["run", SWARM, "--seed", "7", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let md = fs::read_to_string(dir.join("summary.md")).unwrap();
    let r = run(SWARM, &["--seed", "7"]);
    let block: String = knobs(&r)
        .iter()
        .map(|(n, v)| format!("{n} = {v}\n"))
        .collect();
    assert!(
        md.contains(&format!(
            "## World drawn by seed 7 (swarm)\n\n```toml\n{block}```\n"
        )),
        "{md}"
    );
}

#[test]
fn two_seeds_draw_visibly_different_worlds() {
    let a = run(SWARM, &["--seed", "1"]);
    let b = run(SWARM, &["--seed", "2"]);
    let (ka, kb): (BTreeMap<_, _>, BTreeMap<_, _>) = (
        knobs(&a).into_iter().collect(),
        knobs(&b).into_iter().collect(),
    );
    let differing = ka
        .iter()
        .filter(|(k, v)| kb.get(*k).is_some_and(|w| w != *v))
        .count();
    assert!(differing >= 10, "{ka:?}\n{kb:?}");
    assert_ne!(a.json["trace_hash"], b.json["trace_hash"]);
}

#[test]
fn a_fixed_scenario_reports_no_swarm() {
    let r = run("scenarios/raft/partition-heal.toml", &[]);
    assert!(r.json["swarm"].is_null());
    assert!(!r.stderr.contains("world drawn"));
}

/// The promise of the printed values: pasted into the file in place of the ranges, they
/// give the very same run (the same trace hash).
#[test]
fn the_printed_knobs_pin_the_world_when_pasted_into_a_fixed_scenario() {
    let head = "name = \"pin\"\nduration = \"10s\"\n\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\nprotocol = \"raft\"\n\n";
    let swarm = format!(
        "{head}[network]\nlatency = [\"1ms\", \"9ms\"]\nloss = [0.0, 0.2]\nduplicate = [0.0, 0.05]\n\n\
         [clocks]\nA = {{ offset = [\"-100ms\", \"100ms\"], drift_ppm = [-300, 300] }}\n\n\
         [nemesis]\nmode = \"swarm\"\nuntil = \"8s\"\n\
         partition = {{ every = [\"300ms\", \"2s\"], last = [\"100ms\", \"1s\"], shapes = [\"halves\", \"ring\", \"isolate\"] }}\n"
    );
    let swarm_file = scratch("pin-swarm", &swarm);
    for seed in ["3", "11"] {
        let drawn = run(swarm_file.to_str().unwrap(), &["--seed", seed]);
        let k: BTreeMap<String, String> = knobs(&drawn).into_iter().collect();
        assert_eq!(k.len(), 8, "{k:?}");
        let fixed = format!(
            "{head}[network]\nlatency = {}\nloss = {}\nduplicate = {}\n\n\
             [clocks]\nA = {{ offset = {}, drift_ppm = {} }}\n\n\
             [nemesis]\nuntil = \"8s\"\npartition = {{ every = {}, last = {}, shapes = {} }}\n",
            k["network.latency"],
            k["network.loss"],
            k["network.duplicate"],
            k["clocks.A.offset"],
            k["clocks.A.drift_ppm"],
            k["nemesis.partition.every"],
            k["nemesis.partition.last"],
            k["nemesis.partition.shapes"],
        );
        let fixed_file = scratch(&format!("pin-fixed-{seed}"), &fixed);
        let pinned = run(fixed_file.to_str().unwrap(), &["--seed", seed]);
        assert!(pinned.json["swarm"].is_null());
        assert_eq!(
            pinned.json["trace_hash"], drawn.json["trace_hash"],
            "seed {seed}: the fixed scenario\n{fixed}\nruns differently"
        );
        assert_eq!(pinned.json["faults"], drawn.json["faults"]);
    }
}

#[test]
fn a_range_without_swarm_mode_exits_2_at_its_line_and_column() {
    let text = "name = \"t\"\nduration = \"5s\"\n\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n\n[network]\nloss = [0.0, 0.1]\n";
    let file = scratch("no-swarm", text);
    let out = sim(&["run", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("s.toml:9:8: a range needs swarm mode"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn swarm_mode_with_nothing_to_draw_exits_2() {
    let text = "name = \"t\"\nduration = \"5s\"\n\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n\n[nemesis]\nmode = \"swarm\"\n";
    let file = scratch("nothing", text);
    let out = sim(&["run", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("s.toml:9:8: mode = \"swarm\" has nothing to draw"),
        "{stderr}"
    );
}

/// Fifty worlds, each with its own loss, latency, clocks, partitions, crashes and pauses: Raft's
/// safety holds in every one, and a leader appears within 3s of the final heal.
#[test]
fn raft_holds_in_fifty_swarm_worlds() {
    let mut worlds = Vec::new();
    for seed in 1..=50 {
        let r = run(SWARM, &["--seed", &seed.to_string()]);
        assert_eq!(
            r.json["verdict"],
            "pass",
            "seed {seed} failed in the world {:?}: {}",
            knobs(&r),
            r.json["invariants"]
        );
        worlds.push(knobs(&r));
    }
    let crashless = worlds
        .iter()
        .filter(|w| {
            w.iter()
                .any(|(n, v)| n == "nemesis.crash" && v == "\"off\"")
        })
        .count();
    assert!(
        (5..=40).contains(&crashless),
        "{crashless} of 50 worlds without crashes (chance = 0.6)"
    );
}

/// The failing swarm lesson: the naive fail-over splits its brain in most worlds, not only the
/// scripted one; its calm worlds pass.
#[test]
fn naive_failover_splits_its_brain_in_most_swarm_worlds() {
    let file = "scenarios/failover/naive-swarm.toml";
    let verdicts: Vec<String> = (1..=20)
        .map(|seed| {
            run(file, &["--seed", &seed.to_string()]).json["verdict"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let failed = verdicts.iter().filter(|v| *v == "violation").count();
    assert!((10..20).contains(&failed), "{verdicts:?}");
    assert_eq!(verdicts[0], "pass", "seed 1 draws a calm world");
    assert_eq!(verdicts[1], "violation", "seed 2, the default, splits");
}
