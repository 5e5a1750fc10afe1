//! What the generals send and state: the two orders, the one message (an order with the chain
//! of generals it came through), the two timers and the facts the invariants read.

use serde::{Deserialize, Serialize};

use crate::node::NodeId;

/// An order: attack or retreat (seed text 004: 「共同进攻还是共同撤退」).
///
/// ```
/// use sim::protocols::byzantine::Order;
/// assert_eq!(Order::default(), Order::Retreat, "what a missing order counts as");
/// assert_eq!(serde_json::to_string(&Order::Attack).unwrap(), r#""attack""#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Attack together.
    Attack,
    /// Retreat together: also what a lieutenant takes for an order it never received, and
    /// what a tie decides.
    #[default]
    Retreat,
}

impl Order {
    /// `attack` or `retreat`, as the story prints it.
    ///
    /// ```
    /// use sim::protocols::byzantine::Order;
    /// assert_eq!(Order::Attack.word(), "attack");
    /// ```
    pub fn word(self) -> &'static str {
        match self {
            Order::Attack => "attack",
            Order::Retreat => "retreat",
        }
    }
}

/// The one message of oral messages: `path` is the chain of generals the order came through,
/// the commander first and the sender last. `[A]` is the commander's own order; `[A, B]` is B
/// saying "A told me `order`"; `[A, B, C]` is C saying "B told me that A told him `order`".
/// Oral messages are not signed: a traitor can say anything about what it heard, but the
/// receiver knows who sent it (the paper's assumption A2), so a path whose last general is not
/// the sender is ignored.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::byzantine::{Msg, Order};
/// // As the trace holds it.
/// let relay = Msg::Order { path: vec![NodeId(0), NodeId(2)], order: Order::Attack };
/// assert_eq!(
///     serde_json::to_string(&relay).unwrap(),
///     r#"{"order":{"path":[0,2],"order":"attack"}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// An order, first-hand from the commander or relayed.
    Order {
        /// The generals it came through, the commander first, the sender last.
        path: Vec<NodeId>,
        /// What the sender says it was told (or, from the commander, orders).
        order: Order,
    },
}

/// The two timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The commander sends its order (at `command_at`).
    Command,
    /// A lieutenant decides on what it heard (at `decide_at`).
    Decide,
}

/// What the generals state for the invariants and the story.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::byzantine::{Fact, Order};
/// let decided = Fact::Decided {
///     order: Order::Retreat,
///     votes: vec![(NodeId(0), Order::Attack), (NodeId(2), Order::Retreat)],
/// };
/// assert_eq!(
///     serde_json::to_string(&decided).unwrap(),
///     r#"{"decided":{"order":"retreat","votes":[[0,"attack"],[2,"retreat"]]}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// The commander sent its orders: `order` is its own (what a loyal commander tells
    /// everyone), `sent` what each lieutenant was actually told.
    Commanded {
        /// The commander's order.
        order: Order,
        /// What each lieutenant was told, in cluster order: all `order` unless the commander
        /// is a traitor.
        sent: Vec<(NodeId, Order)>,
    },
    /// A lieutenant decided: `votes` are the values it took the majority of (the paper's
    /// v1 … vn−1): the commander's order as it heard it, then, for each other lieutenant, what
    /// that lieutenant's word came to (for OM(1), what it relayed; deeper, the majority of its
    /// own sub-round).
    Decided {
        /// The order it will follow.
        order: Order,
        /// Each general's vote, the commander first.
        votes: Vec<(NodeId, Order)>,
    },
}
