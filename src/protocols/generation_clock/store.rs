//! The storage's key-value map: what a master's operations do to it.

use std::collections::BTreeMap;

use crate::node::{Op, OpResult};

/// Carries `op` out on `data` and answers its result.
pub(crate) fn execute(data: &mut BTreeMap<String, String>, op: &Op) -> OpResult {
    match op {
        Op::Get { key } => OpResult::Value {
            value: data.get(&**key).map(|v| v.as_str().into()),
        },
        Op::Put { key, value } => {
            data.insert(key.to_string(), value.to_string());
            OpResult::Done
        }
        Op::Append { key, value } => {
            data.entry(key.to_string()).or_default().push_str(value);
            OpResult::Done
        }
        Op::Cas { key, expect, new } => {
            let swapped = data.get(&**key).map(String::as_str) == Some(&**expect);
            if swapped {
                data.insert(key.to_string(), new.to_string());
            }
            OpResult::Cas { swapped }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_appends_and_swaps_change_the_map() {
        let mut data = BTreeMap::new();
        execute(
            &mut data,
            &Op::Put {
                key: "k".into(),
                value: "a".into(),
            },
        );
        execute(
            &mut data,
            &Op::Append {
                key: "k".into(),
                value: "b".into(),
            },
        );
        let swap = Op::Cas {
            key: "k".into(),
            expect: "ab".into(),
            new: "c".into(),
        };
        assert_eq!(execute(&mut data, &swap), OpResult::Cas { swapped: true });
        assert_eq!(
            execute(&mut data, &Op::Get { key: "k".into() }),
            OpResult::Value {
                value: Some("c".into())
            }
        );
    }
}
