//! The Raft scenarios built to reach a rare state (issue 14, part 2): each must keep reaching
//! it, at its pinned seed and on most seeds, or it no longer tests what its description claims.
//! The states are read from `sim replay --json`, as a student would find them in the trace.

use crate::common;

use common::{MS, S};
use serde_json::Value;

/// One narrated event of a replay: when, and its line.
struct Event {
    at: u64,
    text: String,
}

fn replay(file: &str, seed: u64) -> Vec<Event> {
    common::replay(file, &["--seed", &seed.to_string(), "--json"])
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("one JSON object per line"))
        .filter_map(|e| {
            Some(Event {
                at: e["t_ns"].as_u64()?,
                text: e["text"].as_str()?.to_string(),
            })
        })
        .collect()
}

/// A delivered `"X → Y Kind(term T, …) delivered after …"` as (X, Y, T), for one kind.
fn delivered<'a>(line: &'a str, kind: &str) -> Option<(&'a str, &'a str, u64)> {
    if !line.contains(" delivered after ") {
        return None;
    }
    let (route, rest) = line.split_once(&format!(" {kind}(term "))?;
    let (from, to) = route.split_once(" → ")?;
    let term = rest.split([',', ')']).next()?.parse().ok()?;
    Some((from, to, term))
}

/// The node a narrated line is about: its first word ("B stands for election in term 15").
fn subject(line: &str) -> &str {
    line.split(' ').next().unwrap_or("")
}

/// Every granted vote delivered to a node standing in a *later* term than the vote's: (when,
/// voter, candidate, the vote's term, the term the candidate stands in).
fn stale_votes(events: &[Event]) -> Vec<(u64, String, String, u64, u64)> {
    let mut standing: Vec<(String, u64)> = Vec::new();
    let mut found = Vec::new();
    for e in events {
        let who = subject(&e.text).to_string();
        if let Some(term) = e
            .text
            .strip_prefix(&format!("{who} stands for election in term "))
        {
            standing.retain(|(n, _)| *n != who);
            standing.push((who, term.parse().expect("a term")));
        } else if e.text.contains(" becomes leader") || e.text.contains(" is a follower") {
            standing.retain(|(n, _)| *n != who);
        } else if e.text.contains("VoteReply(term ") && e.text.contains("granted)") {
            let Some((voter, candidate, term)) = delivered(&e.text, "VoteReply") else {
                continue;
            };
            if let Some((_, stands)) = standing.iter().find(|(n, t)| n == candidate && *t > term) {
                found.push((e.at, voter.into(), candidate.into(), term, *stands));
            }
        }
    }
    found
}

/// Every vote request delivered to a voter that voted for someone else in that same term and
/// restarted since: (when, voter, asking candidate, term, the voter's answer line).
fn asked_again_after_restart(events: &[Event]) -> Vec<(u64, String, String, u64, String)> {
    // Per voter: (whom it voted for, term, restarted since).
    let mut votes: Vec<(String, String, u64, bool)> = Vec::new();
    let mut found = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let who = subject(&e.text).to_string();
        if let Some(rest) = e.text.strip_prefix(&format!("{who} votes for ")) {
            let (candidate, term) = rest.split_once(" in term ").expect("votes for X in term T");
            votes.retain(|v| v.0 != who);
            votes.push((who, candidate.into(), term.parse().expect("a term"), false));
        } else if e.text == format!("{who} restarts") {
            for v in votes.iter_mut().filter(|v| v.0 == who) {
                v.3 = true;
            }
        } else if let Some((asker, voter, term)) = delivered(&e.text, "RequestVote") {
            let asked_again = votes
                .iter()
                .any(|v| v.0 == voter && v.1 != asker && v.2 == term && v.3);
            let answer = events[i + 1..]
                .iter()
                .find(|a| a.text.starts_with(&format!("{voter} → {asker} VoteReply(")))
                .map(|a| a.text.clone());
            if let (true, Some(answer)) = (asked_again, answer) {
                found.push((e.at, voter.into(), asker.into(), term, answer));
            }
        }
    }
    found
}

const STALE: &str = "scenarios/raft/vote-reply-outlives-its-election.toml";
const RESTART: &str = "scenarios/raft/voter-restarts-mid-election.toml";

#[test]
fn a_granted_vote_reaches_its_candidate_after_the_election_it_was_for() {
    let events = replay(STALE, 1);
    let stale = stale_votes(&events);
    assert_eq!(
        stale.first(),
        Some(&(3_231_054_716, "C".into(), "B".into(), 13, 15)),
        "as the description tells it: C's vote for B in term 13 arrives while B stands in 15"
    );
    // B ignores it: it never leads term 15, and the run holds every invariant.
    assert!(
        !events
            .iter()
            .any(|e| e.text == "B becomes leader of term 15"),
        "a vote for term 13 does not elect B in term 15"
    );
    assert!(events.last().unwrap().at > 15 * S);
}

#[test]
fn a_restarted_voter_is_asked_again_in_the_term_it_voted_in_and_refuses() {
    let events = replay(RESTART, 2);
    let again = asked_again_after_restart(&events);
    let (at, voter, asker, term, answer) = again.first().expect("the state is reached");
    assert_eq!((voter.as_str(), asker.as_str(), *term), ("A", "B", 27));
    assert_eq!(*at / MS, 8_504, "B's request arrives 27ms after A restarts");
    assert!(
        events
            .iter()
            .any(|e| e.text == "crash A for 2ms (nemesis)" && e.at / MS == 8_475),
        "A crashed 9ms after voting"
    );
    assert_eq!(
        answer,
        "A → B VoteReply(term 27, refused: already voted for A in term 27) sent"
    );
    // Every such second request, at this seed, is refused: votedFor survived every restart.
    for (_, voter, _, term, answer) in &again {
        assert!(
            answer.contains("refused: already voted for")
                && answer.ends_with(&format!("in term {term}) sent")),
            "{voter}: {answer}"
        );
    }
}

#[test]
fn both_scenarios_reach_their_rare_state_on_most_seeds() {
    // Measured on seeds 1-100: 90 and 62. The bundled swarm sweeps reach these states on about
    // one seed in fifty, and none, which is why the bugs that need them escaped.
    let seeds = 1..=20;
    let stale = seeds
        .clone()
        .filter(|&s| !stale_votes(&replay(STALE, s)).is_empty())
        .count();
    let again = seeds
        .filter(|&s| !asked_again_after_restart(&replay(RESTART, s)).is_empty())
        .count();
    assert!(
        stale >= 14,
        "{stale} of 20 seeds reach a stale granted vote"
    );
    assert!(
        again >= 8,
        "{again} of 20 seeds ask a restarted voter again"
    );
}
