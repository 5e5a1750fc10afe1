//! The JSON Schema of scenario files (`sim schema`), generated from the types that parse them.
//!
//! schemars describes `raw`; this module adds what only the catalogues know: the protocol
//! names `cluster.protocol` accepts and, for each protocol, the schema of its `[protocol]`
//! table, chosen by an `if cluster.protocol == X then protocol: X's schema` so an editor checks
//! the right keys; and the `[check]` key of every invariant that takes a bound, a protocol's own
//! ones refused by the same `if` in scenarios of the other protocols. TOML has no null, so the
//! `null` schemars allows for optional keys is removed.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::check::{self, BoundInfo};
use crate::node::{Duration, Kv};
use crate::protocols::ProtocolInfo;
use crate::workload::Workload;
use crate::workload::kind::KV_KEYS;

use super::raw::ScenarioFile;

const DESCRIPTION: &str = "A scenario for sim, the deterministic distributed-systems simulator: \
    a cluster, the protocol it runs, its network and clocks, the faults it suffers and what to \
    check. Unknown keys are errors.";

/// The JSON Schema (draft 2020-12) of scenario files whose protocol is one of `protocols`.
///
/// ```
/// use sim::run::registry::Registry;
/// let schema = sim::scenario::json_schema(&Registry::builtin().catalog());
/// assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
/// assert!(schema["properties"]["cluster"].is_object());
/// ```
pub fn json_schema(protocols: &[ProtocolInfo]) -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let duration = generator.subschema_for::<Duration>().to_value();
    let mut schema = generator.into_root_schema_for::<ScenarioFile>().to_value();
    let root = schema
        .as_object_mut()
        .expect("a derived struct's schema is an object");
    root.insert("title".into(), json!("sim scenario"));
    root.insert("description".into(), json!(DESCRIPTION));
    add_bounds(root, &duration, protocols);
    add_protocols(root, protocols);
    tidy(&mut schema);
    schema
}

/// `[check] <name> = "2s"` for every invariant that takes a bound: the common ones, and each
/// protocol's own (which `add_protocols` refuses in the other protocols' scenarios).
fn add_bounds(root: &mut Map<String, Value>, duration: &Value, protocols: &[ProtocolInfo]) {
    let mut keys: BTreeMap<&str, String> = BTreeMap::new();
    for entry in check::catalog() {
        if let Some(bound) = entry.info.bound {
            keys.entry(entry.info.name)
                .or_insert_with(|| bound.description.to_string());
        }
    }
    for (name, (bound, owners)) in own_bounds(protocols) {
        keys.entry(name).or_insert_with(|| {
            format!(
                "{} Only with protocol {}.",
                bound.description,
                owners.join(" or ")
            )
        });
    }
    let properties = root
        .get_mut("$defs")
        .and_then(|defs| defs.pointer_mut("/Check/properties"))
        .and_then(Value::as_object_mut);
    if let Some(properties) = properties {
        for (name, description) in keys {
            let mut key = duration.clone();
            key["description"] = json!(description);
            properties.insert(name.to_string(), key);
        }
    }
}

/// The invariants that take a bound among the protocols' own, by name, with the protocols
/// that define each.
fn own_bounds(
    protocols: &[ProtocolInfo],
) -> BTreeMap<&'static str, (BoundInfo, Vec<&'static str>)> {
    let mut own: BTreeMap<&str, (BoundInfo, Vec<&str>)> = BTreeMap::new();
    for p in protocols {
        for entry in (p.invariants)() {
            if let Some(bound) = entry.info.bound {
                own.entry(entry.info.name)
                    .or_insert((bound, Vec::new()))
                    .1
                    .push(p.name);
            }
        }
    }
    own
}

fn add_protocols(root: &mut Map<String, Value>, protocols: &[ProtocolInfo]) {
    if protocols.is_empty() {
        return;
    }
    let names: Vec<&str> = protocols.iter().map(|p| p.name).collect();
    let cluster_protocol = root
        .get_mut("$defs")
        .and_then(|defs| defs.pointer_mut("/Cluster/properties/protocol"));
    if let Some(name) = cluster_protocol {
        name["enum"] = json!(names);
    }
    let own_bounds = own_bounds(protocols);
    let mut refs = Vec::new();
    let mut conditions = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for p in protocols {
        let config = embed(
            root,
            p.name,
            &format!("protocol.{}", p.name),
            (p.config_schema)(),
        );
        let reference = json!({ "$ref": format!("#/$defs/{config}") });
        let mut then = json!({ "properties": { "protocol": reference.clone() } });
        if !kinds.contains(&p.workload_kind) {
            kinds.push(p.workload_kind);
        }
        // `[workload]` is the common table and the kind's own keys, nothing else: the keys
        // both refs evaluate are all it may hold.
        let mut parts = vec![json!({ "$ref": "#/$defs/Workload" })];
        let options = (p.workload_schema)();
        if options
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|props| !props.is_empty())
        {
            let name = format!("workload.{}", p.workload_kind);
            let name = embed(root, &name, &name, options);
            parts.push(json!({ "$ref": format!("#/$defs/{name}") }));
        }
        let mut workload = json!({ "allOf": parts, "unevaluatedProperties": false });
        if p.workload_kind != Kv::KIND {
            let kv_keys: Vec<Value> = KV_KEYS.iter().map(|k| json!({ "required": [k] })).collect();
            workload["not"] = json!({ "anyOf": kv_keys });
        }
        then["properties"]["workload"] = workload;
        // Another protocol's bounded invariant is no key of this protocol's [check].
        let foreign: Map<String, Value> = own_bounds
            .iter()
            .filter(|(_, (_, owners))| !owners.contains(&p.name))
            .map(|(name, _)| (name.to_string(), Value::Bool(false)))
            .collect();
        if !foreign.is_empty() {
            then["properties"]["check"] = json!({ "properties": foreign });
        }
        conditions.push(json!({
            "if": {
                "properties": { "cluster": {
                    "properties": { "protocol": { "const": p.name } },
                    "required": ["protocol"]
                } },
                "required": ["cluster"]
            },
            "then": then
        }));
        refs.push(reference);
    }
    let table = root
        .get_mut("properties")
        .and_then(|props| props.get_mut("protocol"));
    if let Some(table) = table {
        table["anyOf"] = Value::Array(refs);
    }
    root.insert("allOf".into(), Value::Array(conditions));
    let workload_kind = root
        .get_mut("$defs")
        .and_then(|defs| defs.pointer_mut("/Workload/properties/kind"));
    if let Some(kind) = workload_kind {
        kind["enum"] = json!(kinds);
    }
}

/// Copies a protocol's config schema (or a workload kind's options) into the root's `$defs`
/// as `name` and returns the name. Its own definitions move with it under `prefix`
/// (`raft.Duration`), and its references are rewritten to match, so two can never clash.
fn embed(
    root: &mut Map<String, Value>,
    prefix: &str,
    name: &str,
    schema: schemars::Schema,
) -> String {
    let name = name.to_string();
    let mut config = schema.to_value();
    let own_defs = config
        .as_object_mut()
        .and_then(|o| {
            o.remove("$schema");
            o.remove("$defs")
        })
        .and_then(|d| match d {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    let defs = root
        .entry("$defs")
        .or_insert_with(|| Value::Object(Map::new()));
    for (def, mut value) in own_defs {
        rewrite_refs(&mut value, prefix, &name);
        defs[format!("{prefix}.{def}")] = value;
    }
    rewrite_refs(&mut config, prefix, &name);
    defs[name.clone()] = config;
    name
}

/// Points a protocol schema's references at where `embed` put their targets.
fn rewrite_refs(value: &mut Value, prefix: &str, root_name: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if r == "#" {
                            *r = format!("#/$defs/{root_name}");
                        } else if let Some(def) = r.strip_prefix("#/$defs/") {
                            *r = format!("#/$defs/{prefix}.{def}");
                        }
                    }
                    (_, v) => rewrite_refs(v, prefix, root_name),
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                rewrite_refs(v, prefix, root_name);
            }
        }
        _ => {}
    }
}

/// Removes `null` from `type` lists and `anyOf` alternatives, and joins the lines of doc
/// comments in descriptions (a blank line still separates paragraphs).
fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get_mut("description") {
                *text = unwrap_lines(text);
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alternatives)) = map.get_mut("anyOf") {
                let before = alternatives.len();
                alternatives.retain(|a| a.get("type").is_none_or(|t| t != "null"));
                if alternatives.len() < before && alternatives.len() == 1 {
                    let only = alternatives.remove(0);
                    map.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (k, v) in inner {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            for v in map.values_mut() {
                tidy(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    use schemars::JsonSchema;
    use serde::Deserialize;

    use crate::node::Duration;

    #[derive(Deserialize, JsonSchema, Default)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct PingConfig {
        /// How often to ping.
        interval: Option<Duration>,
    }

    fn ping() -> ProtocolInfo {
        ProtocolInfo {
            name: "ping",
            summary: "a test protocol",
            default_invariants: &[],
            config_schema: || schemars::schema_for!(PingConfig),
            invariants: Vec::new,
            narrate_message: |_, _| None,
            workload_kind: "kv",
            linearizable: true,
            traitors: false,
            workload_schema: || schemars::schema_for!(crate::workload::kind::NoOptions),
        }
    }

    fn resolve<'a>(schema: &'a Value, reference: &Value) -> &'a Value {
        let path = reference["$ref"].as_str().expect("a $ref");
        let pointer = path.strip_prefix('#').expect("a local ref");
        schema.pointer(pointer).expect("the ref resolves")
    }

    #[test]
    fn no_description_carries_a_doc_example() {
        // schemars takes a type's doc comment as its description: a type with a doc example
        // needs `#[schemars(description = ...)]`, or editors show Rust code as help.
        let schema = json_schema(&crate::protocols::catalog()).to_string();
        assert!(
            !schema.contains("```"),
            "a doc example leaked into the schema"
        );
    }

    #[test]
    fn schema_is_titled_2020_12_and_lists_every_table() {
        let schema = json_schema(&[]);
        let text = serde_json::to_string(&schema).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, schema);
        assert_eq!(schema["title"], "sim scenario");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let props = schema["properties"].as_object().unwrap();
        for key in [
            "name", "duration", "cluster", "network", "clocks", "faults", "nemesis", "workload",
            "check", "expect", "protocol",
        ] {
            assert!(props.contains_key(key), "{key} missing");
        }
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(required, ["name", "duration", "cluster"]);
        assert!(!text.contains("\"null\""), "TOML has no null");
        let leader_within = &schema["$defs"]["Check"]["properties"]["leader_within"];
        assert!(
            !leader_within["description"]
                .as_str()
                .unwrap()
                .contains('\n')
        );
    }

    #[test]
    fn unknown_keys_are_forbidden_in_every_table() {
        let schema = json_schema(&[]);
        assert_eq!(schema["additionalProperties"], false);
        for table in [
            "Cluster",
            "Network",
            "Fault",
            "Nemesis",
            "Check",
            "Expect",
            "ClockEntry",
            "Mix",
        ] {
            assert_eq!(
                schema["$defs"][table]["additionalProperties"], false,
                "{table}"
            );
        }
        let fault = &schema["$defs"]["Fault"];
        assert_eq!(
            fault["oneOf"].as_array().unwrap().len(),
            11,
            "one action each, byzantine the eleventh"
        );
        assert!(
            !fault["dependentSchemas"]["for"]
                .to_string()
                .contains("byzantine"),
            "a traitor is for good: no `for`"
        );
        assert_eq!(fault["dependentRequired"]["delay"], json!(["by"]));
        assert_eq!(
            fault["dependentSchemas"]["by"],
            json!({ "anyOf": [{ "required": ["clock_jump"] }, { "required": ["delay"] }] })
        );
        let description = &schema["$defs"]["Cluster"]["properties"]["nodes"]["description"];
        assert!(description.as_str().unwrap().contains("n1 to n5"));
    }

    #[test]
    fn a_protocols_schema_appears_under_its_if_then() {
        let schema = json_schema(&[ping()]);
        assert_eq!(
            schema["$defs"]["Cluster"]["properties"]["protocol"]["enum"],
            json!(["ping"])
        );
        let rule = &schema["allOf"][0];
        assert_eq!(
            rule["if"]["properties"]["cluster"]["properties"]["protocol"]["const"],
            "ping"
        );
        let config = resolve(&schema, &rule["then"]["properties"]["protocol"]);
        assert_eq!(config["additionalProperties"], false);
        assert_eq!(
            config["properties"]["interval"]["description"],
            "How often to ping."
        );
        // The protocol's own definitions moved with it, and its references follow.
        let interval = &config["properties"]["interval"];
        assert_eq!(resolve(&schema, interval)["type"], "string");
        let any_of = schema["properties"]["protocol"]["anyOf"]
            .as_array()
            .unwrap();
        assert_eq!(any_of.len(), 1);
        assert_eq!(resolve(&schema, &any_of[0]), config);
    }

    #[derive(Deserialize, JsonSchema, Default)]
    #[allow(dead_code)]
    struct PongOptions {
        /// Rounds each client plays.
        rounds: Option<u32>,
    }

    #[test]
    fn a_workload_holds_the_common_keys_and_its_kinds_own_and_nothing_else() {
        let pong = ProtocolInfo {
            name: "pong",
            workload_kind: "pong",
            workload_schema: || schemars::schema_for!(PongOptions),
            ..ping()
        };
        let schema = json_schema(&[ping(), pong]);
        assert_eq!(
            schema["$defs"]["Workload"]["properties"]["kind"]["enum"],
            json!(["kv", "pong"])
        );
        // A key-value protocol: the common table (with mix and keys), closed.
        let kv = &schema["allOf"][0]["then"]["properties"]["workload"];
        assert_eq!(kv["allOf"], json!([{ "$ref": "#/$defs/Workload" }]));
        assert_eq!(kv["unevaluatedProperties"], false);
        assert!(kv.get("not").is_none());
        // Another kind: its own keys too, and not the key-value ones.
        let own = &schema["allOf"][1]["then"]["properties"]["workload"];
        let parts = own["allOf"].as_array().unwrap();
        assert_eq!(parts.len(), 2);
        let options = resolve(&schema, &parts[1]);
        assert_eq!(
            options["properties"]["rounds"]["description"],
            "Rounds each client plays."
        );
        assert_eq!(own["unevaluatedProperties"], false);
        assert_eq!(
            own["not"]["anyOf"],
            json!([{ "required": ["mix"] }, { "required": ["keys"] }])
        );
    }

    #[test]
    fn a_bounded_invariant_is_a_check_key_only_for_the_protocols_that_define_it() {
        let schema = json_schema(&[]);
        let check = &schema["$defs"]["Check"];
        assert_eq!(check["additionalProperties"], false);
        let leader_within = &check["properties"]["leader_within"];
        assert_eq!(leader_within["$ref"], "#/$defs/Duration");
        assert!(
            leader_within["description"]
                .as_str()
                .unwrap()
                .starts_with("The liveness bound: some node must lead a majority's term")
        );

        let mut txn = ping();
        txn.name = "txn";
        txn.invariants = || vec![crate::check::tests::settles_within()];
        let schema = json_schema(&[ping(), txn]);
        let settles = &schema["$defs"]["Check"]["properties"]["settles_within"];
        assert_eq!(settles["$ref"], "#/$defs/Duration");
        assert_eq!(
            settles["description"],
            "How long after the last fault every transfer must settle. Only with protocol txn."
        );
        // A ping scenario's [check] refuses it; a txn scenario's takes it.
        let ping_rule = &schema["allOf"][0];
        assert_eq!(
            ping_rule["if"]["properties"]["cluster"]["properties"]["protocol"]["const"],
            "ping"
        );
        assert_eq!(
            ping_rule["then"]["properties"]["check"]["properties"]["settles_within"],
            false
        );
        assert!(schema["allOf"][1]["then"]["properties"]["check"].is_null());
    }
}
