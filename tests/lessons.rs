//! Every bundled scenario, run through the `sim` binary, tells the story it promises: who led,
//! in which term, what failed when — not just "it passed".

use crate::common;

use common::{MS, Run, S, run};

/// Every scenario under scenarios/ meets its [expect]; the test names any that does not.
#[test]
fn every_bundled_scenario_meets_its_expectation() {
    let mut files: Vec<_> = std::fs::read_dir(common::root().join("scenarios"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .filter(|d| d.is_dir()) // scenarios/regressions.toml is not a scenario
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(common::root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let r = run(&rel, &[]);
        assert!(
            !r.json["description"].as_str().unwrap().is_empty(),
            "{rel} has no description"
        );
        assert!(r.json["expect"].is_object(), "{rel} has no [expect]");
        if !r.expectation_met() {
            failures.push(format!("{rel}: {}", r.json["expect"]["problems"]));
        }
        let expected_code = match r.json["verdict"].as_str().unwrap() {
            "pass" => 0,
            _ if r.json["invariants"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["property"] == "safety" && i["status"] == "violation") =>
            {
                1
            }
            _ => 3,
        };
        assert_eq!(r.code, expected_code, "{rel}: exit code");
    }
    assert!(
        failures.is_empty(),
        "expectations not met:\n{}",
        failures.join("\n")
    );
}

#[test]
fn basic_election_elects_one_leader_in_term_one() {
    let r = run("scenarios/raft/basic-election.toml", &[]);
    let leaders = r.leaders();
    assert_eq!(leaders.len(), 1, "{:?}", r.story());
    assert_eq!(leaders[0].term, 1);
    assert!(
        leaders[0].at < 400 * MS,
        "elected within one or two election timeouts"
    );
    assert_eq!(r.json["elections"]["highest_term"], 1);
    assert_eq!(r.status("leader_within"), "pass");
    assert!(r.step_downs().is_empty());
}

#[test]
fn leader_crash_brings_a_new_leader_in_a_higher_term() {
    let r = run("scenarios/raft/leader-crash.toml", &[]);
    let leaders = r.leaders();
    let first = &leaders[0];
    let (crash_at, crash) = r.line("crash ");
    assert_eq!(crash_at, 2 * S);
    assert_eq!(crash, format!("crash {} (crash leader)", first.node));
    let next = leaders
        .iter()
        .find(|l| l.at > crash_at)
        .expect("a leader after the crash");
    assert_ne!(next.node, first.node);
    assert!(next.term > first.term);
    assert!(next.at < crash_at + S, "within a second of the crash");
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.status("leader_within"), "pass");
}

#[test]
fn split_vote_ends_without_a_leader_and_a_later_term_resolves_it() {
    let r = run("scenarios/raft/split-vote.toml", &[]);
    let story = r.story();
    assert_eq!(
        story[0].1,
        "term 1 ends without a leader (candidates: A, D)"
    );
    let leaders = r.leaders();
    assert_eq!(leaders.len(), 1);
    assert_eq!((leaders[0].node.as_str(), leaders[0].term), ("D", 2));
    assert_eq!(r.json["elections"]["failed"], 1);
    assert_eq!(r.status("election_safety"), "pass");
}

#[test]
fn partition_heal_elects_in_the_majority_and_the_old_leader_steps_down_by_check_quorum() {
    let r = run("scenarios/raft/partition-heal.toml", &[]);
    let old = r.leaders()[0].clone();
    let (cut_at, cut) = r.line("partition {");
    assert_eq!(cut_at, 2 * S);
    // The old leader is in the two-node minority.
    let minority = cut
        .split(" | ")
        .next()
        .unwrap()
        .trim_start_matches("partition ");
    assert!(
        minority.contains(&old.node) && minority.matches(',').count() == 1,
        "{cut}"
    );
    let new = r
        .leaders()
        .into_iter()
        .find(|l| l.at > cut_at)
        .expect("a new leader");
    assert!(
        new.at < 6 * S && new.term > old.term && !minority.contains(&new.node),
        "{new:?}"
    );
    let (heal_at, _) = r.line("heal partition");
    assert_eq!(heal_at, 6 * S);
    // Check-quorum: cut off from the majority, the old leader steps down by itself within two
    // minimum election timeouts, in its own term, long before the heal.
    let down = r.step_downs();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0].node, old.node);
    assert_eq!((down[0].from_term, down[0].to_term), (old.term, old.term));
    assert!(
        down[0].at > cut_at && down[0].at <= cut_at + 300 * MS,
        "{down:?}"
    );
    // Pre-vote: nobody in the minority raised its term, so the heal deposes no one.
    assert_eq!(r.leaders().last().unwrap().node, new.node);
    assert_eq!(r.json["elections"]["highest_term"], new.term);
    for inv in ["election_safety", "no_split_brain", "leader_within"] {
        assert_eq!(r.status(inv), "pass", "{inv}");
    }
}

#[test]
fn a_paused_leader_wakes_believing_it_leads_refuses_the_votes_and_steps_down() {
    let r = run("scenarios/raft/leader-gc-pause.toml", &[]);
    let old = r.leaders()[0].clone();
    assert_eq!(
        r.line("pause ").1,
        format!("pause {} (pause leader) for 1s", old.node)
    );
    let new = r
        .leaders()
        .into_iter()
        .find(|l| l.at > 2 * S)
        .expect("a new leader during the pause");
    assert!(new.at < 3 * S && new.term > old.term);
    assert_eq!(r.line("resume ").0, 3 * S);
    let down = r.step_downs();
    assert_eq!(down[0].node, old.node, "the old leader steps down first");
    assert!(down[0].at >= 3 * S && down[0].from_term == old.term);
    assert_eq!(down[0].to_term, new.term);
    // It refused the new leader's vote requests, still leading, before its AppendEntries came.
    let out = common::sim(&[
        "replay",
        "scenarios/raft/leader-gc-pause.toml",
        "--from",
        "3s",
        "--to",
        "3s",
    ]);
    let replay = String::from_utf8(out.stdout).unwrap();
    let refused = format!(
        "{} → {} VoteReply(term {}, refused: heard from leader {} within the minimum election timeout) sent",
        old.node, new.node, old.term, old.node
    );
    let at = |needle: &str| {
        replay
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}\n{replay}"))
    };
    assert!(at(&refused) < at(&format!("{} is a follower in term {}", old.node, new.term)));
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.status("no_split_brain"), "pass");
}

#[test]
fn clock_skew_leaves_safety_intact() {
    let r = run("scenarios/raft/clock-skew.toml", &[]);
    assert_eq!(r.line("clock of C jumps").1, "clock of C jumps -400ms");
    assert!(
        r.story().iter().any(|(_, t)| t.contains("(partition ")),
        "the nemesis struck"
    );
    assert_eq!(r.line("final heal").0, 15 * S);
    for inv in ["election_safety", "no_split_brain", "leader_within"] {
        assert_eq!(r.status(inv), "pass", "{inv}");
    }
}

#[test]
fn a_lease_on_the_wall_clock_outlives_a_backward_step_into_split_brain() {
    let r = run("scenarios/raft/lease-wall-clock-step.toml", &[]);
    let old = r.leaders()[0].clone();
    assert_eq!(
        r.line("jumps").1,
        format!(
            "clock of {} jumps -400ms (clock jump leader by -400ms)",
            old.node
        )
    );
    let new = r.leaders().into_iter().find(|l| l.at > 3 * S).unwrap();
    let v = &r.invariant("no_split_brain")["violation"];
    let at = v["at_ns"].as_u64().unwrap();
    assert!(
        at > 3 * S + 150 * MS && at < 3 * S + 535 * MS,
        "after the followers time out, inside the stretched lease: {at}"
    );
    assert_eq!(split_brain_nodes(&r), [old.node.clone(), new.node.clone()]);
    let evidence = v["evidence"][0].as_str().unwrap();
    assert!(
        evidence.contains("term 1") && evidence.contains("until its clock reads"),
        "{evidence}"
    );
    assert!(
        r.step_downs().iter().all(|d| d.at > at),
        "nobody stepped down first"
    );
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.code, 1);
}

#[test]
fn a_lease_on_the_monotonic_clock_ignores_the_same_step() {
    let broken = run("scenarios/raft/lease-wall-clock-step.toml", &[]);
    let r = run("scenarios/raft/lease-monotonic-clock-step.toml", &[]);
    assert_eq!(r.line("jumps").1, broken.line("jumps").1, "the same step");
    assert_eq!(
        r.leaders()[0],
        broken.leaders()[0],
        "the same leader, elected the same way"
    );
    let new = r.leaders().into_iter().find(|l| l.at > 3 * S).unwrap();
    assert!(new.at > 3 * S + 150 * MS);
    assert_eq!(r.status("no_split_brain"), "pass");
    assert_eq!(r.code, 0);
}

#[test]
fn without_pre_vote_a_rejoining_follower_deposes_a_healthy_leader() {
    let r = run("scenarios/raft/rejoin-disrupts.toml", &[]);
    let leader = r.leaders()[0].clone();
    let (cut_at, cut) = r.line("partition {");
    assert_eq!(cut_at, 2 * S);
    let alone = cut
        .trim_start_matches("partition {")
        .split('}')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(alone, leader.node, "a follower is cut off: {cut}");
    // Cut off, it stands in term after term that nobody hears.
    let (_, failed) = r.line("end without a leader");
    assert!(failed.starts_with("terms 2-"), "{failed}");
    let (heal_at, _) = r.line("heal partition");
    assert_eq!(heal_at, 4 * S);
    let down = r.step_downs();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0].node, leader.node, "the healthy leader is deposed");
    assert!(down[0].at > heal_at && down[0].at < heal_at + 100 * MS);
    assert!(down[0].to_term > 2, "by the rejoiner's term: {down:?}");
    let v = &r.invariant("stable_leader")["violation"];
    assert_eq!(v["at_ns"].as_u64().unwrap(), down[0].at);
    for inv in ["election_safety", "no_split_brain"] {
        assert_eq!(r.status(inv), "pass", "{inv}");
    }
    assert_eq!(r.code, 3, "a liveness failure");
}

#[test]
fn with_pre_vote_the_rejoining_follower_just_follows() {
    let broken = run("scenarios/raft/rejoin-disrupts.toml", &[]);
    let r = run("scenarios/raft/rejoin-with-pre-vote.toml", &[]);
    assert_eq!(r.line("partition {").1, broken.line("partition {").1);
    assert_eq!(r.leaders().len(), 1, "{:?}", r.story());
    assert!(r.step_downs().is_empty());
    assert_eq!(
        r.json["elections"]["highest_term"], 1,
        "nobody raised a term"
    );
    assert_eq!(r.status("stable_leader"), "pass");
    assert_eq!(r.code, 0);
}

#[test]
fn without_randomness_elections_keep_splitting() {
    let r = run("scenarios/raft/no-randomness.toml", &[]);
    assert!(r.leaders().is_empty());
    let terms = r.json["elections"]["highest_term"].as_u64().unwrap();
    assert!(terms >= 30, "a new term every 150 ms: {terms}");
    assert_eq!(r.json["elections"]["failed"].as_u64().unwrap(), terms);
    // All time out at once, at 150 ms, and stand after one round of pre-votes; the line is
    // stamped when its last term ends, before the violation at 2s that the next line tells.
    let (at, text) = r.line("end without a leader");
    assert!(text.starts_with("terms 1-"), "{text}");
    assert!(text.contains("elections from 0.15"), "{text}");
    assert!(at > 150 * MS && at < 2 * S, "{at}");
    let story = r.story();
    let i = story.iter().position(|l| l.1 == text).unwrap();
    assert!(
        story[i + 1].1.contains("VIOLATION leader_within"),
        "{story:?}"
    );
    assert_eq!(r.status("leader_within"), "violation");
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.code, 3, "a liveness failure");
}

fn split_brain_nodes(r: &Run) -> Vec<String> {
    let v = &r.invariant("no_split_brain")["violation"];
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_slow_clock_stretches_the_old_leaders_lease_into_split_brain() {
    let r = run("scenarios/raft/lease-clock-drift.toml", &[]);
    let old = r.leaders()[0].clone();
    assert_eq!(
        r.line("drifts").1,
        format!(
            "clock of {} drifts -500000ppm (clock drift leader -500000ppm)",
            old.node
        )
    );
    let new = r.leaders().into_iter().find(|l| l.at > 3 * S).unwrap();
    let v = &r.invariant("no_split_brain")["violation"];
    let at = v["at_ns"].as_u64().unwrap();
    assert!(
        at > 3 * S && at < 3 * S + 300 * MS,
        "while the old lease still runs: {at}"
    );
    assert_eq!(split_brain_nodes(&r), [old.node.clone(), new.node.clone()]);
    assert!(v["evidence"][0].as_str().unwrap().contains("term 1"));
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.code, 1);
}

#[test]
fn granting_votes_while_a_leader_is_alive_breaks_the_lease() {
    let r = run("scenarios/raft/lease-without-vote-stickiness.toml", &[]);
    let old = r.leaders()[0].clone();
    assert!(r.line("bridged by").0 == 2 * S);
    let new = r.leaders().into_iter().find(|l| l.at > 2 * S).unwrap();
    assert_eq!(split_brain_nodes(&r), [old.node.clone(), new.node.clone()]);
    let at = r.invariant("no_split_brain")["violation"]["at_ns"]
        .as_u64()
        .unwrap();
    let down = r
        .step_downs()
        .into_iter()
        .find(|d| d.node == old.node)
        .unwrap();
    assert!(
        at < down.at,
        "the new leader held authority before the old one stepped down"
    );
    assert_eq!(r.status("election_safety"), "pass");
}

#[test]
fn vote_stickiness_keeps_the_bridge_loyal_and_the_lease_alone() {
    let r = run("scenarios/raft/lease-with-vote-stickiness.toml", &[]);
    let leaders = r.leaders();
    assert_eq!(
        leaders.len(),
        1,
        "the cut-off half never wins: {:?}",
        r.story()
    );
    assert!(r.step_downs().is_empty());
    assert_eq!(r.status("no_split_brain"), "pass");
}

#[test]
fn naive_failover_makes_two_masters() {
    let r = run("scenarios/failover/naive-split-brain.toml", &[]);
    assert_eq!(
        r.line("is master (epoch 0)").1,
        "master is master (epoch 0)"
    );
    let (promoted, _) = r.line("standby is master (epoch 1)");
    assert_eq!(
        promoted,
        S + 300 * MS,
        "three missed 100 ms pings after the cut"
    );
    let v = &r.invariant("no_split_brain")["violation"];
    assert_eq!(v["at_ns"].as_u64().unwrap(), promoted);
    assert_eq!(split_brain_nodes(&r), ["master", "standby"]);
    assert_eq!(
        r.status("election_safety"),
        "pass",
        "epochs differ; only a quorum would help"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn a_gc_pause_makes_a_live_node_suspected() {
    let r = run("scenarios/failover/heartbeat-false-suspicion.toml", &[]);
    assert_eq!(
        r.line("suspect A"),
        (2 * S + 300 * MS, "B, C, D suspect A".to_string())
    );
    let v = &r.invariant("strong_accuracy")["violation"];
    assert_eq!(
        v["message"],
        "B suspected A, but A had not crashed (it was paused)"
    );
    // Waking up, A has heard nobody for a second: it suspects everyone, then trusts them again.
    assert_eq!(
        r.line("A suspects"),
        (3 * S, "A suspects B, C, D".to_string())
    );
    assert!(r.line("trusts A again").0 < 3 * S + 10 * MS);
    // The real crash at 5s is detected by all three survivors.
    let fd = &r.json["failure_detector"];
    assert_eq!(fd["detections"], 3);
    assert!(fd["false_suspicions"].as_u64().unwrap() >= 6);
    assert!(
        fd["detection_ns_max"].as_u64().unwrap() <= 400 * MS,
        "timeout + one interval"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn the_heartbeat_meshes_deliver_exactly_their_counts() {
    for (file, nodes, delivered) in [
        ("scenarios/bench/mesh-5.toml", 5, 200_000),
        ("scenarios/bench/mesh-20.toml", 20, 380_000),
    ] {
        let r = run(file, &[]);
        assert_eq!(r.json["nodes"].as_array().unwrap().len(), nodes);
        assert_eq!(r.json["messages"]["delivered"], delivered, "{file}");
        assert_eq!(r.json["messages"]["dropped"], 0, "{file}");
        assert_eq!(r.json["verdict"], "pass");
    }
}

/// Who led which term, as (node, term).
fn terms_led(r: &Run) -> Vec<(String, u64)> {
    r.leaders().into_iter().map(|l| (l.node, l.term)).collect()
}

fn violation_nodes(r: &Run, name: &str) -> Vec<String> {
    r.invariant(name)["violation"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// Raft §5.4.2, Figure 8: counting replicas of an old-term entry commits an entry that a later
/// leader overwrites.
#[test]
fn figure_8_the_any_term_rule_loses_a_committed_entry_at_index_1() {
    let r = run("scenarios/raft/figure8.toml", &[]);
    let story = [
        ("S1".to_string(), 1),
        ("S5".to_string(), 2),
        ("S1".to_string(), 5),
        ("S5".to_string(), 7),
    ];
    assert_eq!(terms_led(&r), story);
    let lc = &r.invariant("leader_completeness")["violation"];
    assert_eq!(
        lc["message"],
        "S5 leads term 7 without the entry at index 1 (term 1) that S1 committed in term 5: \
         it holds an entry of term 2 there"
    );
    assert_eq!(violation_nodes(&r, "leader_completeness"), ["S5", "S1"]);
    let sms = &r.invariant("state_machine_safety")["violation"];
    assert_eq!(
        sms["message"],
        "S5 applied an entry of term 2 at index 1, where S1 had applied one of term 1"
    );
    assert_eq!(violation_nodes(&r, "state_machine_safety"), ["S1", "S5"]);
    let s5_leads = r.leaders()[3].at;
    assert_eq!(
        lc["at_ns"].as_u64().unwrap(),
        s5_leads,
        "caught as S5 takes over"
    );
    assert!(sms["at_ns"].as_u64().unwrap() > s5_leads);
    assert_eq!(r.status("log_matching"), "pass");
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.code, 1);
}

#[test]
fn figure_8_the_current_term_rule_survives_the_same_schedule() {
    let broken = run("scenarios/raft/figure8.toml", &[]);
    let r = run("scenarios/raft/figure8-current-term.toml", &[]);
    assert_eq!(
        terms_led(&r),
        terms_led(&broken),
        "the same elections, in the same terms"
    );
    assert_eq!(r.json["faults"], broken.json["faults"], "the same faults");
    for name in [
        "state_machine_safety",
        "leader_completeness",
        "log_matching",
    ] {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    assert_eq!(r.code, 0);
}

#[test]
fn every_fault_at_once_leaves_raft_safe_and_linearizable() {
    // Seed 7 draws every kind: a delay spike, a pause, a bridge partition, a crash and a clock
    // step all strike within the first three seconds.
    let r = run("scenarios/raft/swarm-all-faults.toml", &["--seed", "7"]);
    assert_eq!(
        r.line("slow the links of").1,
        "slow the links of B by 69ms (delay random by 69ms) for 573ms"
    );
    assert_eq!(r.line("the links of B lose").0, 2_333 * MS);
    // E's crash at 6.6s takes the one write whose 1-5ms sync had not ended.
    assert_eq!(
        r.line("unsynced"),
        (6_609 * MS, "E loses 1 unsynced disk write".to_string())
    );
    for kind in ["pause E", "bridged by D", "crash D", "clock of A jumps"] {
        assert!(
            r.story()
                .iter()
                .any(|(t, l)| l.contains(kind) && *t < 3 * S),
            "{kind}"
        );
    }
    // Leaders come and go (B in term 1, D in term 3, B again in term 7 …), never two per term.
    let terms: Vec<u64> = r.leaders().iter().map(|l| l.term).collect();
    assert!(
        terms.len() >= 3 && terms.windows(2).all(|w| w[0] < w[1]),
        "{terms:?}"
    );
    for inv in [
        "election_safety",
        "log_matching",
        "state_machine_safety",
        "one_vote_per_term",
        "linearizable",
        "leader_within",
    ] {
        assert_eq!(r.status(inv), "pass", "{inv}");
    }
    assert!(r.expectation_met());
}
