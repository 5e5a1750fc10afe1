//! Two-phase commit's messages in words, for `sim replay` and the story: the phases show as
//! `Prepare(t c0#3: account 0 -100)`, `Vote yes (t c0#3)`, `Commit(t c0#3)`, `Ack(t c0#3)`.

use serde_json::Value;

/// A transaction id as the trace holds it (`{"client":0,"seq":3}`) → `t c0#3`.
fn txn(v: &Value) -> Option<String> {
    Some(format!(
        "t c{}#{}",
        v.get("client")?.as_u64()?,
        v.get("seq")?.as_u64()?
    ))
}

fn changes(v: &Value) -> Option<String> {
    let parts: Option<Vec<String>> = v
        .as_array()?
        .iter()
        .map(|c| {
            let delta = c.get("delta")?.as_i64()?;
            Some(format!(
                "account {} {}{}",
                c.get("account")?.as_u64()?,
                if delta < 0 { "-" } else { "+" },
                delta.unsigned_abs()
            ))
        })
        .collect();
    Some(parts?.join(", "))
}

fn refusal(v: &Value) -> Option<String> {
    if v.as_str() == Some("aborted") {
        return Some("already given up".into());
    }
    if let Some(r) = v.get("insufficient_funds") {
        return Some(format!(
            "account {} holds {}, less than {}",
            r.get("account")?,
            r.get("balance")?,
            r.get("amount")?
        ));
    }
    let r = v.get("locked")?;
    Some(format!(
        "account {} locked by {}",
        r.get("account")?,
        txn(r.get("by")?)?
    ))
}

fn record(v: &Value) -> Option<String> {
    if let Some(b) = v.get("begin") {
        let t = b.get("transfer")?;
        return Some(format!(
            "Begin {}: account {} -> account {}, {}",
            txn(b.get("txn")?)?,
            t.get("from")?,
            t.get("to")?,
            t.get("amount")?
        ));
    }
    if let Some(d) = v.get("decision") {
        let word = if d.get("commit")?.as_bool()? {
            "Commit"
        } else {
            "Abort"
        };
        return Some(format!("{word} {}", txn(d.get("txn")?)?));
    }
    let e = v.get("end")?;
    Some(format!("End {}", txn(e.get("txn")?)?))
}

/// One message in words; `None` for a shape this protocol does not send.
pub(crate) fn message(msg: &Value, names: &[String]) -> Option<String> {
    if msg.as_str() == Some("alive") {
        return Some("Alive".into());
    }
    let (kind, body) = msg.as_object()?.iter().next()?;
    let t = || body.get("txn").and_then(txn);
    Some(match kind.as_str() {
        "prepare" => {
            if body.get("read")?.as_bool()? {
                format!("Prepare(read {}: lock every account, shared)", t()?)
            } else {
                format!("Prepare({}: {})", t()?, changes(body.get("changes")?)?)
            }
        }
        "vote" => match body.get("refusal")? {
            Value::Null => {
                let balances = body.get("balances")?.as_array()?;
                if balances.is_empty() {
                    format!("Vote yes ({})", t()?)
                } else {
                    let read: Option<Vec<String>> = balances
                        .iter()
                        .map(|b| Some(format!("account {} = {}", b.get(0)?, b.get(1)?)))
                        .collect();
                    format!("Vote yes ({}: {})", t()?, read?.join(", "))
                }
            }
            r => format!("Vote no ({}: {})", t()?, refusal(r)?),
        },
        "decision" => {
            let word = if body.get("commit")?.as_bool()? {
                "Commit"
            } else {
                "Abort"
            };
            format!("{word}({})", t()?)
        }
        "ack" => format!("Ack({})", t()?),
        "inquiry" => format!("Inquiry({}: what was decided?)", t()?),
        "uncertain" => format!("Uncertain({}: in doubt too)", t()?),
        "sync" => format!("Sync({})", record(body.get("record")?)?),
        // The coordinator group's Raft, in Raft's own words.
        "raft" => {
            use crate::node::Protocol;
            crate::protocols::raft::Raft::narrate_message(body, names)?
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::message;
    use crate::node::{ClientId, RequestId};
    use crate::protocols::txn::Account;

    use super::super::messages::{Change, Msg, Record, Refusal, Transfer};

    fn told(msg: Msg) -> String {
        message(&serde_json::to_value(&msg).unwrap(), &[]).expect("every message is told")
    }

    #[test]
    fn every_message_reads_as_its_phase() {
        let txn = RequestId {
            client: ClientId(0),
            seq: 3,
        };
        let debit = Change {
            account: Account(0),
            delta: -100,
        };
        assert_eq!(
            told(Msg::Prepare {
                txn,
                changes: vec![debit],
                read: false,
                participants: vec![],
            }),
            "Prepare(t c0#3: account 0 -100)"
        );
        assert_eq!(
            told(Msg::Prepare {
                txn,
                changes: vec![],
                read: true,
                participants: vec![],
            }),
            "Prepare(read t c0#3: lock every account, shared)"
        );
        assert_eq!(
            told(Msg::Vote {
                txn,
                refusal: None,
                balances: vec![]
            }),
            "Vote yes (t c0#3)"
        );
        assert_eq!(
            told(Msg::Vote {
                txn,
                refusal: None,
                balances: vec![(Account(1), 40)]
            }),
            "Vote yes (t c0#3: account 1 = 40)"
        );
        assert_eq!(
            told(Msg::Vote {
                txn,
                refusal: Some(Refusal::InsufficientFunds {
                    account: Account(0),
                    balance: 50,
                    amount: 100
                }),
                balances: vec![]
            }),
            "Vote no (t c0#3: account 0 holds 50, less than 100)"
        );
        assert_eq!(
            told(Msg::Vote {
                txn,
                refusal: Some(Refusal::Locked {
                    account: Account(1),
                    by: RequestId {
                        client: ClientId(2),
                        seq: 7
                    }
                }),
                balances: vec![]
            }),
            "Vote no (t c0#3: account 1 locked by t c2#7)"
        );
        assert_eq!(
            told(Msg::Vote {
                txn,
                refusal: Some(Refusal::Aborted),
                balances: vec![]
            }),
            "Vote no (t c0#3: already given up)"
        );
        assert_eq!(told(Msg::Decision { txn, commit: true }), "Commit(t c0#3)");
        assert_eq!(told(Msg::Decision { txn, commit: false }), "Abort(t c0#3)");
        assert_eq!(told(Msg::Ack { txn }), "Ack(t c0#3)");
        assert_eq!(
            told(Msg::Inquiry { txn }),
            "Inquiry(t c0#3: what was decided?)"
        );
        assert_eq!(
            told(Msg::Uncertain { txn }),
            "Uncertain(t c0#3: in doubt too)"
        );
        assert_eq!(
            told(Msg::Sync {
                record: Record::Begin {
                    txn,
                    transfer: Transfer {
                        from: Account(0),
                        to: Account(1),
                        amount: 100
                    },
                    parts: vec![]
                }
            }),
            "Sync(Begin t c0#3: account 0 -> account 1, 100)"
        );
        assert_eq!(
            told(Msg::Sync {
                record: Record::Decision { txn, commit: true }
            }),
            "Sync(Commit t c0#3)"
        );
        assert_eq!(
            told(Msg::Sync {
                record: Record::End { txn }
            }),
            "Sync(End t c0#3)"
        );
        assert_eq!(told(Msg::Alive), "Alive");
        assert_eq!(message(&json!({"other": {}}), &[]), None);
    }
}
