//! Oral messages in words, for `sim replay` and the story: `A orders attack` for the
//! commander's own order, `B relays: A said attack`, `C relays: B said A said retreat`.
//!
//! It reads the trace form of [`Msg`](super::Msg), not the type, because a trace outlives the
//! build that wrote it; a message it cannot read is left to the generic form (`None`).

use serde_json::Value as Json;

/// An oral message in words, or `None` for the generic form.
pub(super) fn message(msg: &Json, names: &[String]) -> Option<String> {
    let m = msg.get("order")?;
    let order = m.get("order")?.as_str()?;
    let path: Vec<String> = m
        .get("path")?
        .as_array()?
        .iter()
        .map(|n| name(n, names))
        .collect::<Option<_>>()?;
    let (sender, chain) = path.split_last()?;
    if chain.is_empty() {
        return Some(format!("{sender} orders {order}"));
    }
    let said: Vec<String> = chain.iter().rev().map(|g| format!("{g} said")).collect();
    Some(format!("{sender} relays: {} {order}", said.join(" ")))
}

fn name(n: &Json, names: &[String]) -> Option<String> {
    let i = usize::try_from(n.as_u64()?).ok()?;
    Some(names.get(i).cloned().unwrap_or_else(|| format!("node {i}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeId;
    use crate::protocols::byzantine::{Msg, Order};

    fn told(path: &[u32], order: Order) -> Option<String> {
        let msg = Msg::Order {
            path: path.iter().map(|&i| NodeId(i)).collect(),
            order,
        };
        let names: Vec<String> = ["A", "B", "C", "D"].map(String::from).to_vec();
        message(&serde_json::to_value(msg).unwrap(), &names)
    }

    #[test]
    fn orders_and_relays_read_as_the_chain_of_who_said_what() {
        assert_eq!(told(&[0], Order::Attack).unwrap(), "A orders attack");
        assert_eq!(
            told(&[0, 1], Order::Retreat).unwrap(),
            "B relays: A said retreat"
        );
        assert_eq!(
            told(&[0, 1, 2], Order::Attack).unwrap(),
            "C relays: B said A said attack"
        );
        assert_eq!(message(&serde_json::json!({"other": 1}), &[]), None);
    }
}
