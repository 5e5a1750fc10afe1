//! What the peers of `lease-master` send each other, their timers, what they keep on disk, the
//! facts a master states, and the messages told in words for `sim replay`.

use serde::Serialize;

use crate::node::LocalNanos;

/// The messages of `lease-master`: the text's 「我要成为 Master」 request and its answer.
///
/// ```
/// use sim::protocols::lease_master::Msg;
/// // As the trace holds them.
/// let ask = Msg::Request { epoch: 2, round: 5, renewal: true };
/// assert_eq!(serde_json::to_string(&ask).unwrap(), r#"{"Request":{"epoch":2,"round":5,"renewal":true}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// "I want to be master in `epoch`" — a candidacy, or (`renewal`) the master asking to stay
    /// master before its lease runs out.
    Request {
        /// The reign asked for: a new one (one above the highest the candidate knows), or the
        /// master's own for a renewal.
        epoch: u64,
        /// Numbers the asker's requests, so an answer to an old one is not counted.
        round: u64,
        /// Whether the master is renewing its own lease.
        renewal: bool,
    },
    /// The answer to a `Request`.
    Grant {
        /// The `round` answered.
        round: u64,
        /// Whether the lease is granted: the grantor has promised no one else until its own
        /// clock has measured the lease plus the drift bound.
        granted: bool,
        /// Granted: the epoch granted. Refused: the highest epoch the grantor has seen.
        epoch: u64,
    },
}

/// The timers of `lease-master`.
///
/// ```
/// use sim::protocols::lease_master::Timer;
/// assert_eq!(serde_json::to_string(&Timer::Renew).unwrap(), r#""Renew""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// On a peer that is not master: its promise has run out (plus a random backoff), so it
    /// asks to become master; or a candidacy that got no majority is retried.
    Elect,
    /// On the master: the lease has `renew_before` left, so it asks to renew it (and again, a
    /// little later, while no renewal has succeeded).
    Renew,
    /// On the master: its lease runs out now on its own clock; it stops acting as master.
    Expire,
}

/// What a peer keeps on disk: the highest epoch it granted (or stood for) and the highest it
/// has seen. Granting at most once per epoch, across restarts, keeps one master per epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Disk {
    /// The highest epoch this peer granted a new lease in, its own candidacies included.
    pub granted: u64,
    /// The highest epoch this peer has seen.
    pub seen: u64,
}

/// The facts a master states.
///
/// ```
/// use sim::protocols::lease_master::LeaseFact;
/// let f = LeaseFact::Acting { epoch: 1, until: 500_000_000, renewed: false };
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"Acting":{"epoch":1,"until":500000000,"renewed":false}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum LeaseFact {
    /// A majority granted the lease (or renewed it): the node acts as master until its lease
    /// clock reads `until`.
    Acting {
        /// Its reign.
        epoch: u64,
        /// The end of its lease, on its own lease clock.
        until: LocalNanos,
        /// A renewal of the lease it held, rather than a new reign.
        renewed: bool,
    },
    /// The lease ran out on the master's own clock: it stops acting as master.
    Stopped {
        /// The reign that ended.
        epoch: u64,
    },
}

/// `Msg`s in words, from their trace form.
pub(crate) fn narrate(msg: &serde_json::Value) -> Option<String> {
    if let Some(r) = msg.get("Request") {
        let epoch = r.get("epoch")?.as_u64()?;
        let round = r.get("round")?.as_u64()?;
        return Some(if r.get("renewal")?.as_bool()? {
            format!("Request(renew my lease of epoch {epoch}, round {round})")
        } else {
            format!("Request(I want to be master in epoch {epoch}, round {round})")
        });
    }
    let g = msg.get("Grant")?;
    let epoch = g.get("epoch")?.as_u64()?;
    let round = g.get("round")?.as_u64()?;
    Some(if g.get("granted")?.as_bool()? {
        format!("Grant(epoch {epoch} granted, round {round})")
    } else {
        format!("Grant(refused: promised to another, highest epoch seen {epoch}, round {round})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_told_in_words() {
        let cases = [
            (
                Msg::Request {
                    epoch: 3,
                    round: 1,
                    renewal: false,
                },
                "Request(I want to be master in epoch 3, round 1)",
            ),
            (
                Msg::Request {
                    epoch: 3,
                    round: 2,
                    renewal: true,
                },
                "Request(renew my lease of epoch 3, round 2)",
            ),
            (
                Msg::Grant {
                    round: 2,
                    granted: true,
                    epoch: 3,
                },
                "Grant(epoch 3 granted, round 2)",
            ),
            (
                Msg::Grant {
                    round: 2,
                    granted: false,
                    epoch: 4,
                },
                "Grant(refused: promised to another, highest epoch seen 4, round 2)",
            ),
        ];
        for (msg, words) in cases {
            let value = serde_json::to_value(&msg).unwrap();
            assert_eq!(narrate(&value).as_deref(), Some(words));
        }
    }
}
