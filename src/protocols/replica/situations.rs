//! The replica family's named situations for `sim find` (see `node::situation`), read from
//! the `ReplicaFact`s both vector-clock replicas and the quorum store state: what each replica
//! holds, and the conflicts it found.

use serde_json::Value;

use crate::node::situation::{Found, Situation, kind, node, time};

/// The situations of every replica protocol, in the order `sim find --list` shows them.
pub(crate) fn all() -> Vec<Situation> {
    vec![
        Situation {
            name: "siblings",
            definition: "a replica holds two or more concurrent versions of one key (siblings) \
                and a read returns them all",
            detect: siblings,
        },
        Situation {
            name: "conflict",
            definition: "a replica receives a write concurrent with the version it holds and \
                keeps one of the two: the other write is lost",
            detect: conflict,
        },
    ]
}

/// A replica fact's fields, when `r` is one named `name`.
fn replica_fact<'a>(r: &'a Value, name: &str) -> Option<&'a Value> {
    let f = r.get("fact")?;
    (kind(r) == "fact" && f.get("fact")?.as_str()? == name).then_some(f)
}

/// A version in words: `x=5 [1,0,1]`.
fn version(key: &Value, v: &Value) -> String {
    format!(
        "{}={} {}",
        key.as_str().unwrap_or("?"),
        v["value"].as_str().unwrap_or("?"),
        v["clock"]
    )
}

fn siblings(records: &[Value]) -> Option<Found> {
    records.iter().find_map(|r| {
        let f = replica_fact(r, "holds")?;
        let versions = f.get("versions")?.as_array()?;
        (versions.len() >= 2).then(|| Found {
            at: time(r),
            text: format!(
                "{} holds {} siblings: {}",
                node(r),
                versions.len(),
                versions
                    .iter()
                    .map(|v| version(&f["key"], v))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        })
    })
}

fn conflict(records: &[Value]) -> Option<Found> {
    records.iter().find_map(|r| {
        let f = replica_fact(r, "conflict")?;
        Some(Found {
            at: time(r),
            text: format!(
                "{} keeps {} and drops the concurrent {}",
                node(r),
                version(&f["key"], &f["kept"]),
                version(&f["key"], &f["refused"])
            ),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn two_versions_held_are_siblings_and_one_is_not() {
        let holds = |n: usize| {
            let versions: Vec<Value> = (0..n)
                .map(|i| json!({"clock": [i], "value": i.to_string()}))
                .collect();
            json!({"kind": "fact", "node": "B", "t": 4, "fact": {"fact": "holds", "key": "x", "versions": versions}})
        };
        assert_eq!(siblings(&[holds(1)]), None);
        let found = siblings(&[holds(1), holds(2)]).unwrap();
        assert_eq!(found.text, "B holds 2 siblings: x=0 [0] and x=1 [1]");
        let c = json!({"kind": "fact", "node": "B", "t": 9, "fact": {"fact": "conflict", "key": "x",
            "kept": {"clock": [1, 0, 1], "value": "5"}, "refused": {"clock": [2], "value": "2"}}});
        assert_eq!(conflict(&[holds(1), c]).map(|f| f.at), Some(9));
    }
}
