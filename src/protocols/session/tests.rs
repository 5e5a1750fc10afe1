//! One node driven by hand: the primary versions and replicates writes, a replica forwards
//! them and serves reads, holds a read behind its token and redirects it, and anti-entropy
//! repairs what replication lost.

use super::*;
use crate::node::{ClientId, DiskWrite, Effect, Rng, Stream};

const MS: u64 = 1_000_000;

fn node(id: u32, config: SessionConfig) -> SessionNode {
    SessionNode::new(NodeId(id), &[], &config, None)
}

fn step(
    n: &mut SessionNode,
    f: impl FnOnce(&mut SessionNode, &mut Ctx<'_, SessionNode>),
) -> Vec<Effect<SessionNode>> {
    let mut rng = Rng::derive(0, Stream::Node(n.id.0));
    let mut effects = Vec::new();
    let peers: Vec<NodeId> = (0..3).filter(|&i| i != n.id.0).map(NodeId).collect();
    f(n, &mut Ctx::new(n.id, &peers, 0, 0, &mut rng, &mut effects));
    effects
}

fn req(seq: u64, op: SessionOp) -> ClientRequest<Session> {
    ClientRequest {
        id: RequestId {
            client: ClientId(0),
            seq,
        },
        op,
    }
}

fn write(seq: u64, value: &str) -> ClientRequest<Session> {
    req(
        seq,
        SessionOp::Write {
            key: "x".into(),
            value: value.into(),
        },
    )
}

fn read(seq: u64, after: u64) -> ClientRequest<Session> {
    req(
        seq,
        SessionOp::Read {
            key: "x".into(),
            after,
        },
    )
}

fn replies(effects: &[Effect<SessionNode>]) -> Vec<Reply<Session>> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply { reply, .. } => Some(reply.clone()),
            _ => None,
        })
        .collect()
}

/// The messages sent, each with its receiver's index.
fn sends(effects: &[Effect<SessionNode>]) -> Vec<(u32, Msg)> {
    crate::node::testing::sent(effects)
        .into_iter()
        .map(|(to, msg)| (to.0, msg))
        .collect()
}

fn entry(version: u64, value: &str) -> Entry {
    Entry {
        key: "x".into(),
        version,
        value: value.into(),
    }
}

#[test]
fn the_primary_versions_a_write_answers_and_replicates_without_waiting() {
    let mut primary = node(0, SessionConfig::default());
    let effects = step(&mut primary, |n, ctx| n.on_request(ctx, write(1, "a")));
    assert_eq!(
        replies(&effects),
        [Reply::Ok(SessionOutput::Written { version: 1 })]
    );
    assert_eq!(
        sends(&effects),
        [
            (1, Msg::Replicate(vec![entry(1, "a")])),
            (2, Msg::Replicate(vec![entry(1, "a")]))
        ]
    );
    // The log entry is written before the answer and the sends.
    let first = effects
        .iter()
        .position(|e| matches!(e, Effect::Persist(DiskWrite::Append(_))))
        .unwrap();
    let reply = effects
        .iter()
        .position(|e| matches!(e, Effect::Reply { .. }))
        .unwrap();
    assert!(first < reply);
    // A retried write keeps its version.
    let again = step(&mut primary, |n, ctx| n.on_request(ctx, write(1, "a")));
    assert_eq!(
        replies(&again),
        [Reply::Ok(SessionOutput::Written { version: 1 })]
    );
    assert!(sends(&again).is_empty());
}

#[test]
fn a_replica_forwards_a_write_and_holds_it_before_answering() {
    let mut replica = node(1, SessionConfig::default());
    let effects = step(&mut replica, |n, ctx| n.on_request(ctx, write(1, "a")));
    assert!(replies(&effects).is_empty());
    assert!(matches!(&sends(&effects)[..], [(0, Msg::Forward { .. })]));
    let request = write(1, "a").id;
    let effects = step(&mut replica, |n, ctx| {
        n.on_message(
            ctx,
            NodeId(0),
            Msg::Ack {
                request,
                entry: entry(3, "a"),
            },
        )
    });
    assert_eq!(replica.version("x"), 3);
    assert_eq!(
        replies(&effects),
        [Reply::Ok(SessionOutput::Written { version: 3 })]
    );
}

#[test]
fn a_replica_behind_the_token_holds_the_read_until_it_catches_up_or_redirects() {
    let mut replica = node(1, SessionConfig::default());
    // No token: an old (empty) answer at once.
    let effects = step(&mut replica, |n, ctx| n.on_request(ctx, read(1, 0)));
    assert_eq!(
        replies(&effects),
        [Reply::Ok(SessionOutput::Read {
            value: None,
            version: 0
        })]
    );
    // Token 2: held, then answered when version 2 arrives.
    let effects = step(&mut replica, |n, ctx| n.on_request(ctx, read(2, 2)));
    assert!(replies(&effects).is_empty());
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SetTimer { after, .. } if *after == 100 * MS))
    );
    let effects = step(&mut replica, |n, ctx| {
        n.on_message(ctx, NodeId(0), Msg::Replicate(vec![entry(1, "a")]))
    });
    assert!(
        replies(&effects).is_empty(),
        "version 1 is still behind the token"
    );
    let effects = step(&mut replica, |n, ctx| {
        n.on_message(ctx, NodeId(0), Msg::Replicate(vec![entry(2, "b")]))
    });
    assert_eq!(
        replies(&effects),
        [Reply::Ok(SessionOutput::Read {
            value: Some("b".into()),
            version: 2
        })]
    );
    // Token 5, never reached: after token_wait the client is sent to the primary.
    step(&mut replica, |n, ctx| n.on_request(ctx, read(3, 5)));
    let id = read(3, 5).id;
    let effects = step(&mut replica, |n, ctx| n.on_timer(ctx, Timer::Held(id)));
    assert_eq!(
        replies(&effects),
        [Reply::NotLeader {
            leader: Some(NodeId(0))
        }]
    );
}

#[test]
fn an_older_version_never_replaces_a_newer_one() {
    let mut replica = node(2, SessionConfig::default());
    step(&mut replica, |n, ctx| {
        n.on_message(ctx, NodeId(0), Msg::Replicate(vec![entry(4, "d")]))
    });
    let effects = step(&mut replica, |n, ctx| {
        n.on_message(ctx, NodeId(0), Msg::Replicate(vec![entry(2, "b")]))
    });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(replica.version("x"), 4);
}

#[test]
fn anti_entropy_sends_everything_and_the_peer_answers_with_what_the_sender_lacks() {
    let config = SessionConfig {
        anti_entropy: Some(crate::node::Duration::from_millis(200)),
        ..SessionConfig::default()
    };
    let mut behind = node(1, config.clone());
    let effects = step(&mut behind, |n, ctx| n.on_start(ctx));
    assert!(effects.iter().any(
        |e| matches!(e, Effect::SetTimer { timer: Timer::AntiEntropy, after } if *after == 200 * MS)
    ));
    let effects = step(&mut behind, |n, ctx| n.on_timer(ctx, Timer::AntiEntropy));
    let digest = sends(&effects);
    assert!(matches!(&digest[..], [(_, Msg::Digest(d))] if d.is_empty()));
    let mut ahead = node(2, config);
    step(&mut ahead, |n, ctx| {
        n.on_message(ctx, NodeId(0), Msg::Replicate(vec![entry(3, "c")]))
    });
    let effects = step(&mut ahead, |n, ctx| {
        n.on_message(ctx, NodeId(1), Msg::Digest(Vec::new()))
    });
    assert_eq!(sends(&effects), [(1, Msg::Patch(vec![entry(3, "c")]))]);
    step(&mut behind, |n, ctx| {
        n.on_message(ctx, NodeId(2), Msg::Patch(vec![entry(3, "c")]))
    });
    assert_eq!(behind.version("x"), 3);
}

#[test]
fn a_restarted_node_reads_its_log_back() {
    let mut primary = node(0, SessionConfig::default());
    let effects = step(&mut primary, |n, ctx| n.on_request(ctx, write(1, "a")));
    let log: Vec<Record> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Persist(DiskWrite::Append(record)) => Some(record.clone()),
            _ => None,
        })
        .collect();
    let disk = crate::node::Disk { state: (), log };
    let mut again = SessionNode::new(NodeId(0), &[], &SessionConfig::default(), Some(&disk));
    assert_eq!(again.version("x"), 1);
    // The next write takes the next version, and the retried one keeps its own.
    let effects = step(&mut again, |n, ctx| n.on_request(ctx, write(2, "b")));
    assert_eq!(
        replies(&effects),
        [Reply::Ok(SessionOutput::Written { version: 2 })]
    );
    let effects = step(&mut again, |n, ctx| n.on_request(ctx, write(1, "a")));
    assert_eq!(
        replies(&effects),
        [Reply::Ok(SessionOutput::Written { version: 1 })]
    );
}
