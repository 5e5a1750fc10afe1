//! The key-value lessons on Raft, through the `sim` binary: who led, when the fault struck, which
//! read could not be placed — and that a history the simulator writes is one `sim check` judges
//! the same way.

use crate::common;

use std::path::PathBuf;

use common::{MS, Run, S, lesson_variant, run, sim};

fn terms_led(r: &Run) -> Vec<(String, u64)> {
    r.leaders().into_iter().map(|l| (l.node, l.term)).collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-kv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The operation counts of the story's closing line: (total, ok, fail, info).
fn client_counts(r: &Run) -> (u64, u64, u64, u64) {
    let (_, line) = r.line("clients:");
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (nums[0], nums[1], nums[2], nums[3])
}

/// The stuck read of a linearizability violation: (what it returned, what it could have seen).
fn stuck_read(r: &Run) -> String {
    let evidence = r.invariant("linearizable")["violation"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let i = evidence
        .iter()
        .position(|l| l.contains("cannot place:"))
        .unwrap_or_else(|| panic!("no stuck operation in {evidence:#?}"));
    format!("{}\n{}", evidence[i], evidence[i + 1])
}

#[test]
fn log_reads_stay_linearizable_through_partitions_crashes_pauses_and_clock_jumps() {
    let r = run("scenarios/raft/kv-linearizable.toml", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in [
        "linearizable",
        "log_matching",
        "state_machine_safety",
        "leader_completeness",
        "election_safety",
    ] {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    let faults = r.json["faults"].as_array().unwrap();
    for kind in ["partition", "crash", "pause", "clock of"] {
        assert!(
            faults
                .iter()
                .any(|f| f["text"].as_str().unwrap().starts_with(kind)),
            "the nemesis never struck with {kind}"
        );
    }
    assert!(r.leaders().len() >= 5, "leaders come and go");
    let (total, ok, _, _) = client_counts(&r);
    assert!(total > 1_000 && ok * 10 > total * 9, "{total} ops, {ok} ok");
    let detail = r.invariant("linearizable")["detail"].as_str().unwrap();
    assert!(detail.contains("over 4 keys"), "{detail}");
}

#[test]
fn follower_reads_return_a_value_overwritten_by_the_new_majority() {
    let r = run("scenarios/raft/kv-follower-read.toml", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(terms_led(&r), [("D".into(), 1), ("E".into(), 2)]);
    assert_eq!(r.line("partition").0, 2 * S);
    let v = &r.invariant("linearizable")["violation"];
    let at = v["at_ns"].as_u64().unwrap();
    assert!(
        at > r.leaders()[1].at && at < 4 * S,
        "caught while D is cut off, after E leads: {at}"
    );
    assert!(v["message"].as_str().unwrap().contains("key k0"));
    let stuck = stuck_read(&r);
    assert!(
        stuck.contains("read k0 -> \"c4-33\"") && stuck.contains("can only be \"c0-32\""),
        "{stuck}"
    );
    for name in ["log_matching", "state_machine_safety", "election_safety"] {
        assert_eq!(r.status(name), "pass", "the logs stay safe: {name}");
    }
}

#[test]
fn lease_reads_on_a_slow_clock_outlive_the_lease() {
    let r = run("scenarios/raft/kv-lease-read-skew.toml", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(terms_led(&r), [("B".into(), 1), ("D".into(), 2)]);
    let d_leads = r.leaders()[1].at;
    assert!(d_leads > 3 * S && d_leads < 3 * S + 200 * MS);
    let at = r.invariant("linearizable")["violation"]["at_ns"]
        .as_u64()
        .unwrap();
    // B's lease of 0.9 x 150ms, on a clock at half speed, lasts 270ms of real time after 3s.
    assert!(
        at > d_leads && at < 3 * S + 270 * MS,
        "a stale lease read at {at}"
    );
    assert!(stuck_read(&r).contains("read k0 ->"));
    assert_eq!(r.status("state_machine_safety"), "pass");
}

#[test]
fn lease_reads_with_honest_clocks_hold() {
    let skew = run("scenarios/raft/kv-lease-read-skew.toml", &[]);
    let r = run("scenarios/raft/kv-lease-read.toml", &[]);
    assert_eq!(r.code, 0);
    assert_eq!(terms_led(&r), terms_led(&skew), "the same elections");
    assert_eq!(r.status("linearizable"), "pass");
    let (total, ok, fail, info) = client_counts(&r);
    assert!(total > 900, "{total}");
    assert_eq!((ok, fail, info), (total, 0, 0));
}

/// `--out` writes the history; `sim check` reaches the run's own verdict on it.
#[test]
fn a_written_history_gets_the_same_verdict_from_sim_check() {
    for (file, code) in [
        ("scenarios/raft/kv-lease-read.toml", 0),
        ("scenarios/raft/kv-follower-read.toml", 1),
    ] {
        let dir = scratch(file.rsplit('/').next().unwrap());
        let r = run(file, &["--out", dir.to_str().unwrap()]);
        assert_eq!(r.code, code, "{file}");
        let history = dir.join("history.json");
        let out = sim(&["check", history.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_file(dir.join("trace.jsonl")).unwrap();
        std::fs::remove_file(dir.join("summary.md")).unwrap();
        let again = sim(&["run", file, "--out", dir.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&again.stderr);
        assert_eq!(
            again.status.code(),
            Some(2),
            "refuses to overwrite history.json"
        );
        assert!(err.contains("history.json: already exists"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// `linearizable` judges clients; a scenario without them cannot ask for it.
#[test]
fn linearizable_without_a_workload_is_a_located_error() {
    let dir = scratch("no-workload");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        "name = \"x\"\nduration = \"1s\"\n\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n\n\
         [check]\ninvariants = [\"election_safety\", \"linearizable\"]\n",
    )
    .unwrap();
    let out = sim(&["run", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s.toml:9:34:") && err.contains("no clients"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The fix for follower reads: a read index confirmed by a heartbeat round. The cut-off leader
/// answers no read it cannot confirm, and the history holds.
#[test]
fn read_index_reads_hold_where_follower_reads_fail() {
    let stale = run("scenarios/raft/kv-follower-read.toml", &[]);
    let r = run("scenarios/raft/kv-read-index.toml", &[]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.leaders()[0].node,
        stale.leaders()[0].node,
        "D leads term 1"
    );
    assert_eq!(r.line("partition").0, 2 * S);
    let second = &r.leaders()[1];
    assert_eq!(second.term, 2);
    assert_ne!(second.node, "D");
    assert_eq!(r.status("linearizable"), "pass");
    let (total, ok, _, _) = client_counts(&r);
    assert!(total > 400 && ok + 2 >= total, "{total} ops, {ok} ok");
}

/// What a linearizable read costs (Raft thesis §6.4.1): the same clients and the same crashes,
/// reads under a leader lease against ReadIndex. Both stay linearizable and both are answered
/// by the leaders alone; the lease answers in one client round trip (2 ms on 1 ms links),
/// ReadIndex adds a heartbeat round (4 ms) and misses the 3 ms bound on the median read.
#[test]
fn a_lease_read_costs_one_round_trip_and_a_read_index_read_two() {
    let lease = run("scenarios/raft/read-cost-lease.toml", &[]);
    let index = run("scenarios/raft/read-cost-read-index.toml", &[]);
    assert_eq!(lease.code, 0, "{}", lease.stderr);
    assert_eq!(index.code, 3, "a bound missed is a liveness failure");
    // The nemesis crashes the leader B at 7.717s in both runs; C leads term 2.
    let led = [("B".to_string(), 1), ("C".to_string(), 2)];
    assert_eq!(terms_led(&lease), led);
    assert_eq!(terms_led(&index), led);
    assert_eq!(lease.line("crash B").0, index.line("crash B").0);
    for r in [&lease, &index] {
        for name in ["linearizable", "state_machine_safety", "election_safety"] {
            assert_eq!(r.status(name), "pass", "{name}");
        }
    }
    let detail = lease.invariant("median_read_within")["detail"]
        .as_str()
        .unwrap();
    assert!(
        detail.starts_with("median 2ms over "),
        "one client round trip: {detail}"
    );
    let (at, _, message, evidence) = index.violation("median_read_within");
    assert_eq!(at, 10 * S, "judged when the run ends");
    assert!(
        message.starts_with("the median read took 4ms, over the bound of 3ms: 0 of "),
        "{message}"
    );
    assert!(
        evidence[0].starts_with("fastest 4ms, 10th percentile 4ms, 90th percentile 4ms,"),
        "{evidence:?}"
    );
    let answered = evidence[1].strip_prefix("answered by ").unwrap();
    assert!(
        answered.starts_with("B (")
            && answered.contains(", C (")
            && answered.matches('(').count() == 2,
        "only the two leaders answer reads: {answered}"
    );
}

/// `answered_within`: a history of timeouts is linearizable, so only a bound on client progress
/// fails a store that stops answering. Cut into minorities for good, the read-index cluster
/// stays safe and serves nobody; healed, it serves every operation a second later.
#[test]
fn a_cluster_cut_into_minorities_stays_linearizable_and_answers_nobody() {
    let cut = lesson_variant(
        "scenarios/raft/kv-read-index.toml",
        "partition = { isolate = \"leader\" }\n\n[[faults]]\nat = \"4s\"\nheal = true\n",
        "partition = [[\"A\", \"B\"], [\"C\", \"D\"]]\n",
        "kv-read-index-minorities",
    );
    let r = run(&cut, &[]);
    assert_eq!(r.code, 3, "a liveness property failed: {}", r.stderr);
    for name in ["linearizable", "state_machine_safety", "election_safety"] {
        assert_eq!(r.status(name), "pass", "safe all the same: {name}");
    }
    let (at, nodes, message, evidence) = r.violation("answered_within");
    let judged: u64 = message.split(' ').next().unwrap().parse().unwrap();
    assert!(judged > 10, "{message}");
    assert_eq!(
        message,
        format!(
            "{judged} of the {judged} operations invoked from 3.000s (1s after the last fault at \
             2.000s) were never answered: their clients gave up"
        )
    );
    assert!(nodes.is_empty());
    assert!(
        at > 3 * S + 500 * MS && at < 4 * S,
        "the first gave up at {at}"
    );
    assert_eq!(
        evidence.len(),
        7,
        "five operations, the rest counted, the tally"
    );
    for line in &evidence[..5] {
        assert!(
            line.contains(" -> unknown  [") && line.ends_with("] (timed out)"),
            "{line}"
        );
    }
    assert_eq!(evidence[5], format!("and {} more", judged - 5));
    assert_eq!(evidence[6], "0 answered ok, 0 refused (fail)");

    let healed = run("scenarios/raft/kv-read-index.toml", &[]);
    assert_eq!(healed.code, 0, "{}", healed.stderr);
    let detail = healed.invariant("answered_within")["detail"]
        .as_str()
        .unwrap();
    let (served, rest) = detail.split_once(' ').unwrap();
    let served: u64 = served.parse().unwrap();
    assert!(served > 50, "{detail}");
    assert_eq!(
        rest,
        format!(
            "operations invoked from 5.000s (1s after the last fault at 4.000s) answered, \
             {served} of them ok"
        )
    );
}
