//! Raft's messages in words, for `sim replay`: `RequestVote(term 2, last log 5 of term 1)`,
//! `VoteReply(term 3, refused: already voted for A in term 3)`, `AppendEntries(term 3,
//! heartbeat, prev 4 of term 2, commit 4)`.
//!
//! It reads the trace form of [`Msg`](super::Msg) and [`Refusal`](super::Refusal) (their
//! `snake_case` serialization), not the types, because a trace outlives the build that wrote
//! it. A message it cannot read (a field missing or of another type) is left to the generic
//! form: `None`. The leader's `round` is left out: it numbers lease rounds, which a reader of a
//! replay does not follow.

use serde_json::Value;

/// A Raft message in words, or `None` for the generic form.
pub(super) fn message(msg: &Value, nodes: &[String]) -> Option<String> {
    let (name, m) = variant(msg)?;
    let n = |k: &str| m.get(k).and_then(Value::as_u64);
    let b = |k: &str| m.get(k).and_then(Value::as_bool);
    let pre = |yes: bool| if yes { "Pre" } else { "" };
    Some(match name {
        "request_vote" => format!(
            "{}(term {}, last log {} of term {})",
            if b("pre_vote")? {
                "PreVote"
            } else {
                "RequestVote"
            },
            n("term")?,
            n("last_log_index")?,
            n("last_log_term")?
        ),
        "vote_reply" => format!(
            "{}VoteReply(term {}, {})",
            pre(b("pre_vote")?),
            n("term")?,
            match (b("granted")?, m.get("refused")) {
                (true, _) => "granted".to_string(),
                (false, Some(why)) => format!("refused: {}", refusal(why, nodes)?),
                (false, None) => "refused".to_string(),
            }
        ),
        "append_entries" => {
            let entries = m.get("entries")?.as_array()?.len();
            let what = match entries {
                0 => "heartbeat".to_string(),
                1 => "1 entry".to_string(),
                k => format!("{k} entries"),
            };
            format!(
                "AppendEntries(term {}, {what}, prev {} of term {}, commit {})",
                n("term")?,
                n("prev_log_index")?,
                n("prev_log_term")?,
                n("leader_commit")?
            )
        }
        "append_reply" if b("success")? => format!(
            "AppendReply(term {}, ok, match {})",
            n("term")?,
            n("match_index")?
        ),
        "append_reply" => format!(
            "AppendReply(term {}, rejected, may match up to {})",
            n("term")?,
            n("match_index")?
        ),
        _ => return None,
    })
}

/// Why a voter refused a vote, in words (see [`Refusal`](super::Refusal)).
fn refusal(why: &Value, nodes: &[String]) -> Option<String> {
    let (reason, f) = variant(why)?;
    let n = |k: &str| f.get(k).and_then(Value::as_u64);
    let name = |id: u64| {
        nodes
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    };
    Some(match reason {
        "leader_alive" => match n("leader") {
            Some(leader) => format!(
                "heard from leader {} within the minimum election timeout",
                name(leader)
            ),
            None => "restarted within the minimum election timeout".to_string(),
        },
        "stale_term" => format!("stale term, the voter is in term {}", n("term")?),
        "already_voted" => format!(
            "already voted for {} in term {}",
            name(n("candidate")?),
            n("term")?
        ),
        "log_behind" => format!(
            "candidate's log is behind: its last entry {} of term {}, the voter's {} of term {}",
            n("candidate_index")?,
            n("candidate_term")?,
            n("voter_index")?,
            n("voter_term")?
        ),
        _ => return None,
    })
}

/// `{"name": {...}}`, serde's form of an enum variant with fields: its name and its fields.
fn variant(v: &Value) -> Option<(&str, &Value)> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (k, body) = o.iter().next()?;
    body.is_object().then_some((k.as_str(), body))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Command, Entry, Msg, Raft, Refusal};
    use crate::node::{NodeId, Protocol};

    fn names() -> Vec<String> {
        ["A", "B", "C"].map(String::from).to_vec()
    }

    /// A message as the trace holds it, told by Raft.
    fn told(msg: &Msg) -> Option<String> {
        let trace_form = serde_json::to_value(msg).unwrap();
        Raft::narrate_message(&trace_form, &names())
    }

    fn entry(index: u64) -> Entry {
        Entry {
            index,
            term: 3,
            command: std::sync::Arc::new(Command::Noop),
        }
    }

    fn append(entries: Vec<Entry>) -> Msg {
        Msg::AppendEntries {
            term: 3,
            prev_log_index: 4,
            prev_log_term: 2,
            entries,
            leader_commit: 4,
            round: 9,
        }
    }

    #[test]
    fn appends_say_how_many_entries_they_carry_and_where_they_fit() {
        assert_eq!(
            told(&append(vec![])).unwrap(),
            "AppendEntries(term 3, heartbeat, prev 4 of term 2, commit 4)"
        );
        assert_eq!(
            told(&append(vec![entry(5)])).unwrap(),
            "AppendEntries(term 3, 1 entry, prev 4 of term 2, commit 4)"
        );
        assert_eq!(
            told(&append(vec![entry(5), entry(6)])).unwrap(),
            "AppendEntries(term 3, 2 entries, prev 4 of term 2, commit 4)"
        );
        let reply = |success| Msg::AppendReply {
            term: 3,
            success,
            match_index: 6,
            round: 9,
        };
        assert_eq!(
            told(&reply(true)).unwrap(),
            "AppendReply(term 3, ok, match 6)"
        );
        assert_eq!(
            told(&reply(false)).unwrap(),
            "AppendReply(term 3, rejected, may match up to 6)"
        );
    }

    #[test]
    fn votes_and_pre_votes_are_told_apart() {
        let ask = |pre_vote| Msg::RequestVote {
            term: 2,
            last_log_index: 5,
            last_log_term: 1,
            pre_vote,
        };
        assert_eq!(
            told(&ask(false)).unwrap(),
            "RequestVote(term 2, last log 5 of term 1)"
        );
        assert_eq!(
            told(&ask(true)).unwrap(),
            "PreVote(term 2, last log 5 of term 1)"
        );
        let granted = |pre_vote| Msg::VoteReply {
            term: 2,
            granted: true,
            pre_vote,
            refused: None,
        };
        assert_eq!(told(&granted(false)).unwrap(), "VoteReply(term 2, granted)");
        assert_eq!(
            told(&granted(true)).unwrap(),
            "PreVoteReply(term 2, granted)"
        );
    }

    #[test]
    fn a_refused_vote_says_why() {
        let refused = |why| Msg::VoteReply {
            term: 3,
            granted: false,
            pre_vote: false,
            refused: Some(why),
        };
        let cases = [
            (
                Refusal::AlreadyVoted {
                    candidate: NodeId(0),
                    term: 3,
                },
                "VoteReply(term 3, refused: already voted for A in term 3)",
            ),
            (
                Refusal::LogBehind {
                    candidate_index: 4,
                    candidate_term: 1,
                    voter_index: 6,
                    voter_term: 2,
                },
                "VoteReply(term 3, refused: candidate's log is behind: its last entry 4 of term 1, the voter's 6 of term 2)",
            ),
            (
                Refusal::StaleTerm { term: 5 },
                "VoteReply(term 3, refused: stale term, the voter is in term 5)",
            ),
            (
                Refusal::LeaderAlive {
                    leader: Some(NodeId(0)),
                },
                "VoteReply(term 3, refused: heard from leader A within the minimum election timeout)",
            ),
            (
                Refusal::LeaderAlive { leader: None },
                "VoteReply(term 3, refused: restarted within the minimum election timeout)",
            ),
        ];
        for (why, text) in cases {
            assert_eq!(told(&refused(why)).unwrap(), text);
        }
    }

    #[test]
    fn what_it_cannot_read_is_left_to_the_generic_form() {
        // A field missing (a trace from another version), another protocol's message, a bare
        // value: none of them is guessed at.
        for msg in [
            json!({"append_entries": {"term": 3}}),
            json!({"ping": {"seq": 3}}),
            json!({"seq": 4, "round": 10}),
            json!("hello"),
        ] {
            assert_eq!(Raft::narrate_message(&msg, &names()), None, "{msg}");
        }
        // An unknown refusal reason leaves the whole reply to the generic form, not half told.
        let odd = json!({"vote_reply": {"term": 3, "granted": false, "pre_vote": false,
            "refused": {"moon_phase": {}}}});
        assert_eq!(Raft::narrate_message(&odd, &names()), None);
    }

    #[test]
    fn the_catalogue_carries_raft_s_narration() {
        // `sim replay` finds a protocol's narration through the catalogue, by the trace's
        // protocol name: Raft's entry must lead here.
        let raft = crate::protocols::catalog()
            .into_iter()
            .find(|p| p.name == Raft::NAME)
            .expect("raft is catalogued");
        let msg = serde_json::to_value(append(vec![])).unwrap();
        assert_eq!(
            (raft.narrate_message)(&msg, &names()).unwrap(),
            "AppendEntries(term 3, heartbeat, prev 4 of term 2, commit 4)"
        );
    }
}
