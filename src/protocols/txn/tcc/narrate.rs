//! TCC's messages in words, for `sim replay` and the story: `Try(c0#3: freeze 100 on
//! account 0)`, `TryAck(c0#3, account 0: refused, it holds 40 of 100)`, `Confirm(c0#3: credit
//! 100 to account 1)`, `Cancel(c0#3: release 100 frozen on account 0)`.
//!
//! It reads the trace form of [`Msg`](super::Msg) (its `snake_case` serialization), not the
//! type, because a trace outlives the build that wrote it; a message it cannot read is left to
//! the generic form (`None`).

use serde_json::Value;

/// A TCC message in words, or `None` for the generic form.
pub(super) fn message(msg: &Value, _nodes: &[String]) -> Option<String> {
    let (name, m) = variant(msg)?;
    Some(match name {
        "try" => {
            let b = branch(m)?;
            let what = if b.debit { "freeze" } else { "reserve" };
            format!(
                "Try({}: {what} {} on account {})",
                b.txn, b.amount, b.account
            )
        }
        "confirm" => {
            let b = branch(m)?;
            if b.debit {
                format!(
                    "Confirm({}: deduct the frozen {} from account {})",
                    b.txn, b.amount, b.account
                )
            } else {
                format!(
                    "Confirm({}: credit {} to account {})",
                    b.txn, b.amount, b.account
                )
            }
        }
        "cancel" => {
            let b = branch(m)?;
            let what = if b.debit { "frozen" } else { "reserved" };
            format!(
                "Cancel({}: release {} {what} on account {})",
                b.txn, b.amount, b.account
            )
        }
        "try_ack" | "confirm_ack" | "cancel_ack" => {
            let b = branch(m.get("branch")?)?;
            let done = match name {
                "try_ack" if b.debit => "frozen",
                "try_ack" => "reserved",
                "confirm_ack" if b.debit => "deducted",
                "confirm_ack" => "credited",
                _ => "cancelled",
            };
            let outcome = match m.get("refused") {
                None => done.to_string(),
                Some(why) => format!("refused, {}", refusal(why, b.amount)?),
            };
            let label = match name {
                "try_ack" => "TryAck",
                "confirm_ack" => "ConfirmAck",
                _ => "CancelAck",
            };
            format!("{label}({}, account {}: {outcome})", b.txn, b.account)
        }
        "read" => format!("Read({})", txn(m.get("read")?)?),
        "balances" => {
            let list: Vec<String> = m
                .get("balances")?
                .as_array()?
                .iter()
                .map(|pair| {
                    let p = pair.as_array()?;
                    Some(format!(
                        "account {} = {}",
                        p.first()?.as_u64()?,
                        p.get(1)?.as_i64()?
                    ))
                })
                .collect::<Option<_>>()?;
            format!("Balances({}: {})", txn(m.get("read")?)?, list.join(", "))
        }
        _ => return None,
    })
}

struct Told {
    txn: String,
    account: u64,
    amount: u64,
    debit: bool,
}

fn branch(m: &Value) -> Option<Told> {
    Some(Told {
        txn: txn(m.get("txn")?)?,
        account: m.get("account")?.as_u64()?,
        amount: m.get("amount")?.as_u64()?,
        debit: m.get("debit")?.as_bool()?,
    })
}

/// A request id as the story writes it: `c0#3`.
fn txn(v: &Value) -> Option<String> {
    Some(format!(
        "c{}#{}",
        v.get("client")?.as_u64()?,
        v.get("seq")?.as_u64()?
    ))
}

fn refusal(why: &Value, amount: u64) -> Option<String> {
    if let Some(s) = why.as_str() {
        return Some(
            match s {
                "already_cancelled" => "already cancelled: a try after its cancel",
                "nothing_to_cancel" => "nothing to cancel: the try never arrived",
                "not_tried" => "nothing was tried",
                "already_settled" => "already settled the other way",
                _ => return None,
            }
            .to_string(),
        );
    }
    let (name, f) = variant(why)?;
    match name {
        "insufficient_funds" => Some(format!(
            "it holds {} of {amount}",
            f.get("balance")?.as_i64()?
        )),
        _ => None,
    }
}

/// `{"name": body}`, serde's form of an enum variant with data.
fn variant(v: &Value) -> Option<(&str, &Value)> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (k, body) = o.iter().next()?;
    Some((k.as_str(), body))
}

#[cfg(test)]
mod tests {
    use super::super::{Branch, Msg, Refusal};
    use crate::node::{ClientId, RequestId};
    use crate::protocols::txn::Account;

    fn told(msg: Msg) -> String {
        super::message(&serde_json::to_value(msg).unwrap(), &[]).expect("told")
    }

    fn b(account: u32, debit: bool) -> Branch {
        Branch {
            txn: RequestId {
                client: ClientId(0),
                seq: 3,
            },
            account: Account(account),
            amount: 100,
            debit,
        }
    }

    #[test]
    fn every_phase_is_told_with_its_transfer_amount_and_account() {
        assert_eq!(
            told(Msg::Try(b(0, true))),
            "Try(c0#3: freeze 100 on account 0)"
        );
        assert_eq!(
            told(Msg::Try(b(1, false))),
            "Try(c0#3: reserve 100 on account 1)"
        );
        assert_eq!(
            told(Msg::Confirm(b(0, true))),
            "Confirm(c0#3: deduct the frozen 100 from account 0)"
        );
        assert_eq!(
            told(Msg::Confirm(b(1, false))),
            "Confirm(c0#3: credit 100 to account 1)"
        );
        assert_eq!(
            told(Msg::Cancel(b(0, true))),
            "Cancel(c0#3: release 100 frozen on account 0)"
        );
        assert_eq!(
            told(Msg::Read {
                read: b(0, true).txn
            }),
            "Read(c0#3)"
        );
        assert_eq!(
            told(Msg::Balances {
                read: b(0, true).txn,
                balances: vec![(Account(0), 100), (Account(2), -5)]
            }),
            "Balances(c0#3: account 0 = 100, account 2 = -5)"
        );
    }

    #[test]
    fn acks_say_what_was_done_or_why_it_was_refused() {
        let ack = |branch, refused| Msg::TryAck { branch, refused };
        assert_eq!(
            told(ack(b(0, true), None)),
            "TryAck(c0#3, account 0: frozen)"
        );
        assert_eq!(
            told(ack(
                b(0, true),
                Some(Refusal::InsufficientFunds { balance: 40 })
            )),
            "TryAck(c0#3, account 0: refused, it holds 40 of 100)"
        );
        assert_eq!(
            told(ack(b(1, false), Some(Refusal::AlreadyCancelled))),
            "TryAck(c0#3, account 1: refused, already cancelled: a try after its cancel)"
        );
        assert_eq!(
            told(Msg::ConfirmAck {
                branch: b(1, false),
                refused: None
            }),
            "ConfirmAck(c0#3, account 1: credited)"
        );
        assert_eq!(
            told(Msg::CancelAck {
                branch: b(0, true),
                refused: Some(Refusal::NothingToCancel)
            }),
            "CancelAck(c0#3, account 0: refused, nothing to cancel: the try never arrived)"
        );
    }
}
