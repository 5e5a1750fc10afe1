//! The two-phase commit lessons through the `sim` binary: who prepared, who voted what, who
//! decided what and when, which participant applied or rolled back, and which invariant fails
//! where the design is broken.

use crate::common;

use common::{MS, Run, S, lesson_variant, run, sim};

/// `sim replay` of a lesson's own seed between `from` and `to`: the narrated lines.
fn replay(file: &str, from: &str, to: &str) -> Vec<String> {
    common::replay(file, &["--from", from, "--to", to])
}

/// The lines that mention transaction `txn` (`t c1#51`): its messages, the facts stated about
/// it (which name it `{"client":1,"seq":51}`) and its client's request and answer (`(#51)`).
fn about<'a>(lines: &'a [String], txn: &str) -> Vec<&'a str> {
    let (client, seq) = txn[3..].split_once('#').unwrap();
    let needles = [
        format!("{txn}:"),
        format!("{txn})"),
        format!(r#"{{"client":{client},"seq":{seq}}}"#),
        format!("client {client} "),
    ];
    let request = format!("(#{seq})");
    lines
        .iter()
        .filter(|l| {
            needles[..3].iter().any(|n| l.contains(n.as_str()))
                || (l.contains(needles[3].as_str()) && l.contains(&request))
        })
        .map(|l| l.as_str())
        .collect()
}

/// The first transaction a line matching `pred` names (`t c1#51`).
fn first_txn(lines: &[String], pred: impl Fn(&str) -> bool) -> String {
    let line = lines
        .iter()
        .find(|l| pred(l))
        .unwrap_or_else(|| panic!("no such line in\n{}", lines.join("\n")));
    let at = line.find("(t c").expect("a transaction id") + 1;
    line[at..].split([':', ')']).next().unwrap().to_string()
}

/// Where the line saying `what` about `txn` falls in `lines`.
fn position(lines: &[&str], what: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line with {what:?} in\n{}", lines.join("\n")))
}

const SAFETY: [&str; 4] = [
    "atomicity",
    "conservation",
    "no_negative_balance",
    "no_double_apply",
];

fn transactions(r: &Run) -> &serde_json::Value {
    &r.json["transactions"]
}

#[test]
fn happy_transfers_go_through_both_phases_and_every_invariant_holds() {
    let file = "scenarios/txn/2pc-happy.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    assert_eq!(r.status("resolved_within"), "pass");
    let t = transactions(&r);
    assert!(t["committed"].as_u64().unwrap() > 50, "{t}");
    assert_eq!(t["decided_both_ways"], 0);
    assert_eq!(t["in_doubt_at_end"].as_array().unwrap().len(), 0);
    // Nobody is in doubt for long without faults: a few round trips at most.
    for node in ["A", "B"] {
        assert!(
            t["in_doubt"][node]["max_ns"].as_u64().unwrap() < 50 * MS,
            "{t}"
        );
    }
    // The first committed transfer's phases, in order.
    let lines = replay(file, "0s", "1s");
    let txn = first_txn(&lines, |l| l.contains("TC → A Commit(t"));
    let story = about(&lines, &txn);
    let prepare_a = position(&story, &format!("TC → A Prepare({txn}:"));
    let prepare_b = position(&story, &format!("TC → B Prepare({txn}:"));
    let yes_a = position(&story, &format!("A → TC Vote yes ({txn})"));
    let yes_b = position(&story, &format!("B → TC Vote yes ({txn})"));
    let commit = position(&story, &format!("TC → A Commit({txn})"));
    let ack = position(&story, &format!("A → TC Ack({txn})"));
    assert!(prepare_a.max(prepare_b) < yes_a.min(yes_b), "{story:#?}");
    assert!(yes_a.max(yes_b) < commit && commit < ack, "{story:#?}");
}

#[test]
fn a_participant_short_of_funds_votes_no_and_the_other_rolls_back() {
    let file = "scenarios/txn/2pc-participant-votes-no.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    let t = transactions(&r);
    assert!(t["aborted"].as_u64().unwrap() > 5, "{t}");
    let lines = replay(file, "0s", "5s");
    let txn = first_txn(&lines, |l| l.contains("less than"));
    let story = about(&lines, &txn);
    let no = position(&story, "Vote no");
    assert!(
        story[no].contains("holds") && story[no].contains("less than"),
        "{}",
        story[no]
    );
    let refuser = story[no].split_whitespace().nth(1).unwrap().to_string();
    let other = if refuser == "A" { "B" } else { "A" };
    // The coordinator aborts everywhere; the participant that voted yes rolls back.
    let abort = position(&story, &format!("TC → {other} Abort({txn})"));
    assert!(no < abort);
    assert!(
        story
            .iter()
            .any(|l| l.contains(&format!("{other} states RolledBack"))),
        "{story:#?}"
    );
    assert!(!story.iter().any(|l| l.contains("Applied")), "{story:#?}");
    assert!(
        story
            .iter()
            .any(|l| l.contains("fail: aborted:") && l.contains("less than")),
        "the client is told why: {story:#?}"
    );
}

#[test]
fn a_crashed_coordinator_leaves_its_participants_in_doubt_holding_their_locks() {
    let file = "scenarios/txn/2pc-coordinator-crash-blocks.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 3, "a liveness failure exits 3: {}", r.stderr);
    assert!(r.expectation_met());
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "safety holds: {name}");
    }
    assert_eq!(r.status("resolved_within"), "violation");
    // Both participants are still prepared at the end, asking a coordinator that is down.
    let t = transactions(&r);
    let stuck = t["in_doubt_at_end"].as_array().unwrap();
    let nodes: Vec<&str> = stuck.iter().map(|s| s["node"].as_str().unwrap()).collect();
    assert!(nodes.contains(&"A") && nodes.contains(&"B"), "{t}");
    for s in stuck {
        // Prepared by the prepares TC sent just before it fell (in flight at 2s), and blocked
        // from then to the end of the run.
        assert!(s["since_ns"].as_u64().unwrap() <= 2 * S + 10 * MS, "{s}");
        assert!(s["for_ns"].as_u64().unwrap() >= 4 * S - 10 * MS, "{s}");
    }
    let lines = replay(file, "2s", "6s");
    let txn = format!("t {}", stuck[0]["txn"].as_str().unwrap());
    let story = about(&lines, &txn);
    let asked = story
        .iter()
        .filter(|l| l.contains("Inquiry") && l.contains("dropped: TC is down"))
        .count();
    assert!(asked >= 20, "{story:#?}");
    // Its locks turn later transfers away: nothing is applied after the crash.
    assert!(
        !lines.iter().any(|l| l.contains("states Applied")),
        "nothing commits while TC is down"
    );
}

#[test]
fn without_a_decision_log_the_restarted_coordinator_aborts_a_transfer_half_committed() {
    let file = "scenarios/txn/2pc-no-decision-log.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("atomicity"), "violation");
    let message = r.invariant("atomicity")["violation"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    let lines = replay(file, "1.9s", "3.1s");
    // The transfer TC committed just as the cut fell: A applied it, B never heard.
    let txn = first_txn(&lines, |l| {
        l.contains("TC → B Commit(t") && l.contains("dropped: the partition cuts the link")
    });
    assert!(message.contains(&txn[2..]), "{message} names {txn}");
    let story = about(&lines, &txn);
    let committed = position(&story, "TC states Decided(commit true");
    let applied = position(&story, "A states Applied");
    let aborted = position(&story, "TC states Decided(commit false");
    let rolled_back = position(&story, "B states RolledBack");
    assert!(
        committed < applied && applied < aborted && aborted < rolled_back,
        "{story:#?}"
    );
    assert!(
        story[aborted].trim_start().starts_with("3.000000s"),
        "the abort comes with the restart at 3s: {}",
        story[aborted]
    );
}

#[test]
fn cooperative_termination_finishes_from_the_participant_that_knows() {
    let file = "scenarios/txn/2pc-cooperative-termination.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    let lines = replay(file, "1.9s", "5s");
    let txn = first_txn(&lines, |l| {
        l.contains("TC → B Commit(t") && l.contains("dropped: the partition cuts the link")
    });
    let story = about(&lines, &txn);
    // TC is down for good; B asks A, A answers with the commit it applied, B applies it.
    let asked = position(&story, &format!("B → A Inquiry({txn}"));
    let told = position(&story, &format!("A → B Commit({txn})"));
    let applied = position(&story, "B states Applied");
    assert!(asked < told && told < applied, "{story:#?}");
}

#[test]
fn a_backup_coordinator_cut_off_decides_against_the_coordinator() {
    let file = "scenarios/txn/2pc-backup-coordinator-split.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("atomicity"), "violation");
    let (at, _) = r.line("TC2 is master (epoch 2)");
    assert!(
        at > 2 * S && at < 3 * S,
        "the backup takes over after the timeout"
    );
    assert!(transactions(&r)["decided_both_ways"].as_u64().unwrap() >= 1);
    let lines = replay(file, "1.9s", "3s");
    let txn = first_txn(&lines, |l| {
        l.contains("TC → B Commit(t") && l.contains("dropped: the partition cuts the link")
    });
    let story = about(&lines, &txn);
    let commit = position(&story, "TC states Decided(commit true");
    let a_applies = position(&story, "A states Applied");
    let abort = position(&story, "TC2 states Decided(commit false");
    let b_rolls_back = position(&story, "B states RolledBack");
    assert!(
        commit < a_applies && commit < abort && abort < b_rolls_back,
        "{story:#?}"
    );
}

#[test]
fn with_the_decision_on_raft_the_partition_leaves_one_decision_on_both_sides() {
    let file = "scenarios/txn/2pc-decision-on-raft.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.status("resolved_within"), "pass");
    assert_eq!(transactions(&r)["decided_both_ways"], 0);
    // TC2 leads the group when the partition puts it with A; the majority side elects TC1.
    let (first, _) = r.line("TC2 becomes leader of term 1");
    let (second, _) = r.line("TC1 becomes leader of term 2");
    assert!(first < 2 * S && second > 2 * S && second < 3 * S);

    let lines = replay(file, "1.9s", "4.1s");
    // A transfer TC2 had both votes for when the partition fell: its commit reached the
    // majority's logs, not TC2's commit index, so TC2 never sent it; TC1's first entry
    // commits it, and TC1 sends it to both.
    let txn = first_txn(&lines, |l| {
        l.contains("TC1 → A Commit(t") && l.contains("dropped: the partition cuts the link")
    });
    let story = about(&lines, &txn);
    let prepared = position(&story, "A states Prepared");
    let b_applies = position(&story, "B states Applied");
    let a_applies = position(&story, "A states Applied");
    assert!(prepared < b_applies && b_applies < a_applies, "{story:#?}");
    assert!(
        !story.iter().any(|l| l.contains("RolledBack")),
        "one decision on both sides: {story:#?}"
    );
    assert!(
        !story
            .iter()
            .any(|l| l.contains("TC2 → ") && (l.contains("Commit(") || l.contains("Abort("))),
        "the cut-off leader sends no decision it could not commit: {story:#?}"
    );
    let a_at = story[a_applies].trim_start();
    assert!(
        a_at.starts_with("4.0"),
        "A learns it after the heal at 4s: {a_at}"
    );
    let asked = story
        .iter()
        .filter(|l| l.contains("A → TC2 Inquiry") && l.contains("delivered"))
        .count();
    assert!(
        asked >= 2,
        "A asks TC2, on its side, which stays silent: {story:#?}"
    );
}

#[test]
fn with_the_decision_on_raft_a_crashed_coordinator_blocks_nobody() {
    let file = "scenarios/txn/2pc-raft-leader-crash.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    assert_eq!(
        r.status("resolved_within"),
        "pass",
        "where one coordinator's crash blocks"
    );
    r.line("crash TC2 (crash leader)");
    let (elected, _) = r.line("TC3 becomes leader of term 2");
    assert!(
        elected > 2 * S && elected < 2 * S + 500 * MS,
        "the group elects within 500ms"
    );
    let lines = replay(file, "3s", "6s");
    let commits = lines
        .iter()
        .filter(|l| l.contains("TC3 states Decided(commit true"))
        .count();
    assert!(commits > 50, "TC3 goes on committing transfers: {commits}");
    assert!(!lines.iter().any(|l| l.contains("TC2 →")));

    // The clients' side: from a second after the crash every transfer is answered here; with
    // one coordinator, none is.
    let detail = r.invariant("answered_within")["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            " operations invoked from 3.000s (1s after the last fault at 2.000s) answered"
        ),
        "{detail}"
    );
    let blocks = lesson_variant(
        "scenarios/txn/2pc-coordinator-crash-blocks.toml",
        "resolved_within = \"2s\"\n",
        "resolved_within = \"2s\"\nanswered_within = \"1s\"\n",
        "2pc-coordinator-crash-blocks-answered",
    );
    let blocked = run(&blocks, &[]);
    assert_eq!(
        blocked.code, 3,
        "liveness fails, safety holds: {}",
        blocked.stderr
    );
    let (_, _, message, evidence) = blocked.violation("answered_within");
    assert!(
        message.contains(" operations invoked from 3.000s (1s after the last fault at 2.000s) were never answered"),
        "{message}"
    );
    assert_eq!(
        evidence.last().unwrap(),
        "0 answered ok, 0 refused (fail)",
        "nobody is served without the coordinator"
    );
}

#[test]
fn under_a_random_nemesis_the_decision_on_raft_stays_safe_and_settles() {
    let r = run("scenarios/txn/2pc-raft-nemesis.toml", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    assert_eq!(r.status("election_safety"), "pass");
    assert_eq!(r.status("resolved_within"), "pass");
    let committed = transactions(&r)["committed"].as_u64().unwrap();
    assert!(
        committed > 10,
        "transfers go through the faults: {committed}"
    );
}

#[test]
fn under_a_random_nemesis_the_correct_design_stays_safe_and_settles() {
    let r = run("scenarios/txn/2pc-nemesis.toml", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for name in SAFETY {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    assert_eq!(r.status("resolved_within"), "pass");
}

#[test]
fn a_bad_protocol_setting_exits_2_at_its_key() {
    let dir = std::env::temp_dir().join(format!("sim-2pc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let happy =
        std::fs::read_to_string(common::root().join("scenarios/txn/2pc-happy.toml")).unwrap();
    for (setting, said) in [
        (
            "coordinator = 5",
            "coordinator: must be the index of a node of the cluster, 0 to 2 (got 5)",
        ),
        (
            "inquiry_interval = \"0s\"",
            "inquiry_interval: must be greater than zero (got 0s)",
        ),
        (
            "coordinators = 3\ndecision_on = \"raft\"",
            "coordinators: must leave at least one participant: fewer than the cluster's 3 \
             nodes (got 3)",
        ),
    ] {
        let file = dir.join("bad.toml");
        let text = happy.replace("balance = 100\n", &format!("balance = 100\n{setting}\n"));
        std::fs::write(&file, text).unwrap();
        let out = sim(&["run", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        // The setting goes on the line after `balance` (1-based: its index + 2).
        let line = happy.lines().position(|l| l == "balance = 100").unwrap() + 2;
        assert!(err.contains(&format!("bad.toml:{line}:1: {said}")), "{err}");
    }
}
