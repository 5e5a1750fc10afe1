//! The replicated key-value state machine, and its session table (Raft §8).
//!
//! Commands are applied in log order. A client numbers its operations and a retry keeps the
//! number, so the state machine remembers, per client, the last sequence number it applied and
//! that operation's result: a command whose number it has already applied is not applied again,
//! and answers with the first result. The rule kept: a write applies at most once per request
//! id, whatever the log holds.
//!
//! All of it is volatile: a restarted server rebuilds it by applying the committed log again.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::{ClientId, Op, OpResult, RequestId};

/// The last operation applied for one client.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Session {
    seq: u64,
    result: OpResult,
}

/// The replicated state machine: a key-value map, plus each client's last applied request so that
/// a retried request is answered from memory instead of being applied twice.
#[derive(Clone, Debug, Default)]
pub(crate) struct KvStore {
    data: BTreeMap<Arc<str>, Arc<str>>,
    sessions: BTreeMap<ClientId, Session>,
}

impl KvStore {
    /// Applies `op` for `request` unless that request (or a later one of the same client) was
    /// applied already; returns the result the client should see: the original one for a
    /// retry, `None` for a request older than the client's latest, which nobody waits for.
    pub(crate) fn apply(&mut self, request: RequestId, op: &Op) -> Option<OpResult> {
        if let Some(session) = self.sessions.get(&request.client) {
            if session.seq == request.seq {
                return Some(session.result.clone());
            }
            if session.seq > request.seq {
                return None;
            }
        }
        let result = self.execute(op);
        let session = Session {
            seq: request.seq,
            result: result.clone(),
        };
        self.sessions.insert(request.client, session);
        Some(result)
    }

    /// The result already recorded for `request`, if it was the client's last one applied.
    pub(crate) fn applied_result(&self, request: RequestId) -> Option<&OpResult> {
        self.sessions
            .get(&request.client)
            .filter(|s| s.seq == request.seq)
            .map(|s| &s.result)
    }

    /// Whether `request` is older than the client's latest applied request.
    pub(crate) fn is_superseded(&self, request: RequestId) -> bool {
        self.sessions
            .get(&request.client)
            .is_some_and(|s| s.seq > request.seq)
    }

    /// Reads a key from the applied state.
    pub(crate) fn get(&self, key: &str) -> OpResult {
        OpResult::Value {
            value: self.data.get(key).cloned(),
        }
    }

    fn execute(&mut self, op: &Op) -> OpResult {
        match op {
            Op::Get { key } => self.get(key),
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                OpResult::Done
            }
            Op::Append { key, value } => {
                // Values are shared, immutable text: an append builds the new value.
                let old = self.data.get(key).map_or("", |v| &**v);
                let joined: Arc<str> = [old, &**value].concat().into();
                self.data.insert(key.clone(), joined);
                OpResult::Done
            }
            Op::Cas { key, expect, new } => {
                let swapped = self.data.get(key).is_some_and(|v| v == expect);
                if swapped {
                    self.data.insert(key.clone(), new.clone());
                }
                OpResult::Cas { swapped }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: u32, seq: u64) -> RequestId {
        RequestId {
            client: ClientId(client),
            seq,
        }
    }

    fn append(key: &str, value: &str) -> Op {
        Op::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    fn value(v: Option<&str>) -> OpResult {
        OpResult::Value {
            value: v.map(Arc::from),
        }
    }

    #[test]
    fn section_8_a_retried_write_applies_once_and_answers_with_the_first_result() {
        let mut kv = KvStore::default();
        assert_eq!(kv.apply(req(0, 1), &append("x", "a")), Some(OpResult::Done));
        assert_eq!(kv.apply(req(0, 1), &append("x", "a")), Some(OpResult::Done));
        assert_eq!(kv.get("x"), value(Some("a")), "applied once, not \"aa\"");

        let cas = Op::Cas {
            key: "x".into(),
            expect: "a".into(),
            new: "b".into(),
        };
        let first = kv.apply(req(0, 2), &cas);
        assert_eq!(first, Some(OpResult::Cas { swapped: true }));
        assert_eq!(
            kv.apply(req(0, 2), &cas),
            first,
            "the retry gets the original answer, not swapped: false"
        );
        assert_eq!(kv.applied_result(req(0, 2)), first.as_ref());
        assert_eq!(kv.apply(req(0, 1), &append("x", "a")), None, "superseded");
        assert!(kv.is_superseded(req(0, 1)));
        assert_eq!(kv.get("x"), value(Some("b")));
    }

    #[test]
    fn clients_have_separate_sessions_and_operations_mean_what_they_say() {
        let mut kv = KvStore::default();
        assert_eq!(
            kv.apply(req(0, 1), &Op::Get { key: "k".into() }),
            Some(value(None))
        );
        let put = Op::Put {
            key: "k".into(),
            value: "1".into(),
        };
        kv.apply(req(1, 1), &put);
        kv.apply(req(0, 2), &append("k", "2"));
        let stale_cas = Op::Cas {
            key: "k".into(),
            expect: "1".into(),
            new: "9".into(),
        };
        assert_eq!(
            kv.apply(req(1, 2), &stale_cas),
            Some(OpResult::Cas { swapped: false })
        );
        assert_eq!(kv.get("k"), value(Some("12")));
        assert_eq!(kv.applied_result(req(0, 1)), None, "client 0 moved on");
    }
}
