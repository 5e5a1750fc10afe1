//! Virtual clients as endpoints of the simulated network: their links to the nodes, and the
//! world's bookkeeping for each (state, stream, timers).
//!
//! The rules, chosen to keep clients out of the way of everything that existed before them:
//! - **Own streams.** A client's handlers draw from `Stream::Client(i)`; the messages between
//!   client `i` and any node (requests and replies both) draw loss and latency from
//!   `Stream::ClientLink(i)`. Node-to-node messages never touch either, so adding clients never
//!   changes a latency drawn between nodes, and a world without clients draws exactly what it
//!   drew before clients existed.
//! - **Clients sit beside every node.** Partitions cut node-to-node links only; a client can
//!   always reach every node, and be reached by it. `loss` and the latency distribution apply to
//!   client links as to any link; duplication does not (a client link delivers at most once);
//!   links are FIFO unless `reorder` is on.
//! - **Process faults apply at the node end.** A request arriving at a crashed node is dropped
//!   (`node_down`); one arriving at a paused node waits for the resume, like a node message.
//!   Clients themselves never crash or pause, and their clocks are perfect.

use std::convert::Infallible;
use std::marker::PhantomData;

use crate::node::{Client, ClientApi, ClientCtx, Nanos, NodeId, Reply, RequestId, Rng, Stream};

use super::network::{Latency, LinkModel};

/// The client type of a world that has none, for a protocol serving interface `A`. It cannot
/// be built, so a world of `NoClients` holds an empty list and every client code path is dead.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Kv;
/// use sim::protocols::raft::{Raft, RaftConfig};
/// use sim::world::{NoClients, World};
/// // `World::new` is a world of `NoClients`: its client list is empty.
/// let world: World<Raft, (), NoClients<Kv>> = World::new(world_spec(3, 1, 100 * MS), RaftConfig::default(), ());
/// assert!(world.clients().is_empty());
/// ```
#[derive(Debug)]
pub struct NoClients<A>(Infallible, PhantomData<A>);

impl<A: ClientApi> Client for NoClients<A> {
    type Api = A;
    type Timer = ();

    fn on_start(&mut self, _: &mut ClientCtx<'_, Self>) {
        match self.0 {}
    }
    fn on_reply(&mut self, _: &mut ClientCtx<'_, Self>, _: NodeId, _: RequestId, _: Reply<A>) {
        match self.0 {}
    }
    fn on_timer(&mut self, _: &mut ClientCtx<'_, Self>, _: ()) {
        match self.0 {}
    }
}

/// Which way a message crosses a client link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    /// A request, client to node.
    ToNode,
    /// A reply, node to client.
    ToClient,
}

/// The links between clients and nodes: one stream and one FIFO tail per direction per pair.
pub(super) struct ClientLinks {
    latency: Latency,
    loss: f64,
    reorder: bool,
    nodes: usize,
    rngs: Vec<Rng>,
    /// Per client: the latest arrival toward each node, then from each node.
    fifo_tail: Vec<Nanos>,
}

impl ClientLinks {
    pub(super) fn new(model: &LinkModel, clients: usize, nodes: usize, seed: u64) -> Self {
        ClientLinks {
            latency: model.latency.clone(),
            loss: model.loss,
            reorder: model.reorder,
            nodes,
            rngs: (0..clients as u32)
                .map(|i| Rng::derive(seed, Stream::ClientLink(i)))
                .collect(),
            fifo_tail: vec![0; clients * nodes * 2],
        }
    }

    /// When a message sent now between `client` and `node` arrives; `None` if it is lost.
    /// Loss and latency are both drawn every time, in that order, so one message's fate never
    /// shifts the draws of the next.
    pub(super) fn send(
        &mut self,
        client: u32,
        node: u32,
        direction: Direction,
        now: Nanos,
    ) -> Option<Nanos> {
        let rng = &mut self.rngs[client as usize];
        let lost = rng.chance(self.loss);
        let at = now.saturating_add(self.latency.sample(rng));
        if lost {
            return None;
        }
        if self.reorder {
            return Some(at);
        }
        let base = client as usize * self.nodes * 2;
        let link = match direction {
            Direction::ToNode => base + node as usize,
            Direction::ToClient => base + self.nodes + node as usize,
        };
        let tail = &mut self.fifo_tail[link];
        *tail = (*tail).max(at);
        Some(*tail)
    }
}

/// A pending client timer: its name and its one live queue entry.
pub(super) struct ClientTimer<T> {
    pub timer: T,
    pub token: u64,
}

/// What the world keeps for one client besides its state.
pub(super) struct ClientSlot<T> {
    pub rng: Rng,
    pub timers: Vec<ClientTimer<T>>,
}

impl<T> ClientSlot<T> {
    pub(super) fn new(seed: u64, index: u32) -> Self {
        ClientSlot {
            rng: Rng::derive(seed, Stream::Client(index)),
            timers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn uniform() -> LinkModel {
        LinkModel {
            latency: Latency::Uniform {
                min: MS,
                max: 20 * MS,
            },
            ..LinkModel::default()
        }
    }

    #[test]
    fn client_links_are_fifo_per_direction_and_draw_from_their_own_stream() {
        let mut links = ClientLinks::new(&uniform(), 2, 3, 5);
        let mut last = 0;
        for t in 0..100 {
            let at = links.send(0, 1, Direction::ToNode, t * 100_000).unwrap();
            assert!(at >= last, "a request overtook an earlier one");
            last = at;
        }
        // Client 1's draws do not depend on client 0's traffic.
        let mut fresh = ClientLinks::new(&uniform(), 2, 3, 5);
        assert_eq!(
            links.send(1, 0, Direction::ToClient, 0),
            fresh.send(1, 0, Direction::ToClient, 0)
        );
    }

    #[test]
    fn loss_applies_to_client_links() {
        let lossy = LinkModel {
            loss: 1.0,
            ..LinkModel::default()
        };
        let mut links = ClientLinks::new(&lossy, 1, 1, 1);
        assert_eq!(links.send(0, 0, Direction::ToNode, 0), None);
        let mut links = ClientLinks::new(&LinkModel::default(), 1, 1, 1);
        assert_eq!(links.send(0, 0, Direction::ToClient, 0), Some(MS));
    }
}
