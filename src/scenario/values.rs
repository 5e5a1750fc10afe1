//! Values with more than one spelling, and the wrapper that remembers where a value was written.
//!
//! Each type here has a hand-written `Deserialize` whose visitor says exactly what it expected
//! (serde's untagged enums can only say "did not match any variant") and a matching
//! hand-written `JsonSchema` (a `oneOf` of the spellings). They check a value's shape only;
//! what it means (does node `X` exist? is min ≤ max?) is checked after parsing, in `convert`,
//! against the spans kept by [`Located`].

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::node::Duration;

/// The most nodes a cluster may have: the network keeps state per directed link.
pub(super) const MAX_NODES: usize = 1000;

/// A node name: letters, digits, `_`, `.` and `-`.
pub(super) const NODE_NAME_PATTERN: &str = "^[A-Za-z0-9_.-]+$";

/// The target words; no node may be named one of them.
pub(super) const TARGET_WORDS: [&str; 5] = [
    "leader",
    "random",
    "random-follower",
    "minority",
    "majority",
];

// ---- Located ----------------------------------------------------------------------------------

/// A value and the byte range of the file it was written at.
#[derive(Clone, Debug)]
pub(super) struct Located<T> {
    pub span: Range<usize>,
    pub value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = toml::Spanned::<T>::deserialize(d)?;
        Ok(Located {
            span: spanned.span(),
            value: spanned.into_inner(),
        })
    }
}

/// The schema of the value: where it was written is no business of the file's schema.
impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

// ---- Probability ------------------------------------------------------------------------------

/// A number in [0, 1]. `0` and `1` may be written as integers.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(super) struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Probability;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a probability: a number between 0 and 1, such as 0.05")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Probability, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(Probability(v))
                } else {
                    Err(E::custom(format!(
                        "{v} is not a probability: expected a number between 0 and 1, such as 0.05"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Probability, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Probability, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl JsonSchema for Probability {
    fn schema_name() -> Cow<'static, str> {
        "Probability".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "A probability between 0 and 1."
        })
    }
}

// ---- Rate -------------------------------------------------------------------------------------

/// The fastest rate a client may be given: a mean think time of one microsecond.
pub(super) const MAX_RATE_PER_SEC: f64 = 1_000_000.0;

/// Operations per unit of time, written `"20/s"`, `"0.5/s"`, `"5/ms"` or `"120/min"`; held as
/// operations per second, more than zero and at most [`MAX_RATE_PER_SEC`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rate(pub f64);

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let expected = "expected a rate such as \"20/s\", \"5/ms\" or \"120/min\"";
        let Some((count, unit)) = text.split_once('/') else {
            return Err(format!("`{text}` is not a rate: {expected}"));
        };
        let per_sec = match unit.trim() {
            "s" => 1.0,
            "ms" => 1_000.0,
            "min" => 1.0 / 60.0,
            other => {
                return Err(format!(
                    "`{other}` is not a unit of rate: expected s, ms or min ({expected})"
                ));
            }
        };
        let count: f64 = count
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a rate: {expected}"))?;
        let rate = count * per_sec;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!(
                "a rate must be more than zero, not `{text}`: {expected}"
            ));
        }
        if rate > MAX_RATE_PER_SEC {
            return Err(format!(
                "`{text}` is too fast: at most {MAX_RATE_PER_SEC}/s per client"
            ));
        }
        Ok(Rate(rate))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as \"20/s\", \"5/ms\" or \"120/min\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^ *[0-9]+(\\.[0-9]+)? */ *(s|ms|min) *$",
            "description": "Operations per unit of time, more than zero: \"20/s\", \"5/ms\", \"120/min\"."
        })
    }
}

// ---- Bounds -----------------------------------------------------------------------------------

/// A range written `[min, max]`. Whether min ≤ max is checked after parsing, at its span.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds<T> {
    pub min: T,
    pub max: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Bounds<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Bounds<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a range of two values [min, max], such as [\"1s\", \"3s\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bounds<T>, A::Error> {
                let min = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let max = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let mut len = 2;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    len += 1;
                }
                if len > 2 {
                    return Err(de::Error::invalid_length(len, &self));
                }
                Ok(Bounds { min, max })
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Bounds<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Bounds_of_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "items": generator.subschema_for::<T>(),
            "minItems": 2,
            "maxItems": 2,
            "description": "A range [min, max], min ≤ max; each draw is uniform in it."
        })
    }
}

// ---- OneOrRange -------------------------------------------------------------------------------

/// A world knob: one value, or (in swarm mode) a range `[min, max]` each seed draws from.
/// Whether a range is allowed here, and min ≤ max, are checked after parsing.
#[derive(Clone, Copy, Debug)]
pub(super) enum OneOrRange<T> {
    One(T),
    Range(Bounds<T>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrRange<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> V<T> {
            fn one<E: de::Error>(d: impl Deserializer<'de, Error = E>) -> Result<OneOrRange<T>, E> {
                T::deserialize(d).map(OneOrRange::One)
            }
        }
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrRange<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, or (with [nemesis] mode = \"swarm\") a range [min, max]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrRange<T>, E> {
                Self::one(de::value::StrDeserializer::new(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OneOrRange<T>, E> {
                Self::one(de::value::BoolDeserializer::new(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OneOrRange<T>, E> {
                Self::one(de::value::F64Deserializer::new(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrRange<T>, E> {
                Self::one(de::value::I64Deserializer::new(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrRange<T>, E> {
                Self::one(de::value::U64Deserializer::new(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrRange<T>, A::Error> {
                Bounds::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(OneOrRange::Range)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for OneOrRange<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrRange_of_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({
            "oneOf": [
                one,
                {
                    "type": "array",
                    "items": one,
                    "minItems": 2,
                    "maxItems": 2,
                    "description": "With [nemesis] mode = \"swarm\": a range [min, max], min ≤ max; each seed draws one value in it."
                }
            ]
        })
    }
}

// ---- Nodes ------------------------------------------------------------------------------------

/// `[cluster] nodes`: names, or a count.
#[derive(Clone, Debug)]
pub(super) enum Nodes {
    Count(i64),
    Names(Vec<Located<NodeName>>),
}

/// One name in `nodes = [...]`.
#[derive(Clone, Debug)]
pub(super) struct NodeName(pub String);

impl<'de> Deserialize<'de> for NodeName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NodeName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a node name, a string such as \"A\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeName, E> {
                Ok(NodeName(v.to_string()))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Nodes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a list of node names such as [\"A\", \"B\", \"C\"], or a node count such as 5",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Nodes, E> {
                Ok(Nodes::Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Nodes, E> {
                Ok(Nodes::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Nodes, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(Nodes::Names(names))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Nodes {
    fn schema_name() -> Cow<'static, str> {
        "Nodes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "oneOf": [
                {
                    "type": "array",
                    "description": "The node names, unique; none may be a target word (leader, random, random-follower, minority, majority).",
                    "items": { "type": "string", "pattern": NODE_NAME_PATTERN },
                    "minItems": 1,
                    "maxItems": MAX_NODES,
                    "uniqueItems": true
                },
                {
                    "type": "integer",
                    "description": "A node count: 5 names the nodes n1 to n5.",
                    "minimum": 1,
                    "maximum": MAX_NODES
                }
            ]
        })
    }
}

// ---- Targets ----------------------------------------------------------------------------------

/// A fault target as written: a node name or a target word. Names are resolved after parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TargetWord {
    Node(String),
    Leader,
    Random,
    RandomFollower,
    Minority,
    Majority,
}

const TARGET_EXPECTED: &str =
    "a target: a node name, or one of leader, random, random-follower, minority, majority";

fn target_word(v: &str) -> TargetWord {
    match v {
        "leader" => TargetWord::Leader,
        "random" => TargetWord::Random,
        "random-follower" => TargetWord::RandomFollower,
        "minority" => TargetWord::Minority,
        "majority" => TargetWord::Majority,
        name => TargetWord::Node(name.to_string()),
    }
}

impl<'de> Deserialize<'de> for TargetWord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TargetWord;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(TARGET_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TargetWord, E> {
                Ok(target_word(v))
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for TargetWord {
    fn schema_name() -> Cow<'static, str> {
        "Target".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Who a fault hits: a node name; `leader` (the node currently leading), `random` (one node drawn from the fault stream), `random-follower` (one node that is not the leader), `minority` (⌊(n−1)/2⌋ random nodes) or `majority` (⌊n/2⌋+1 random nodes).",
            "anyOf": [
                { "enum": TARGET_WORDS },
                { "pattern": NODE_NAME_PATTERN }
            ]
        })
    }
}

/// `cut`'s `from` and `to`: one target or a list.
#[derive(Clone, Debug)]
pub(super) enum TargetList {
    One(TargetWord),
    Many(Vec<Located<TargetWord>>),
}

impl<'de> Deserialize<'de> for TargetList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TargetList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a target or a list of targets, such as \"A\" or [\"A\", \"B\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TargetList, E> {
                Ok(TargetList::One(target_word(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TargetList, A::Error> {
                let mut targets = Vec::new();
                while let Some(t) = seq.next_element()? {
                    targets.push(t);
                }
                Ok(TargetList::Many(targets))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for TargetList {
    fn schema_name() -> Cow<'static, str> {
        "Targets".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let target = generator.subschema_for::<TargetWord>();
        json_schema!({
            "oneOf": [
                target,
                { "type": "array", "items": target, "minItems": 1 }
            ]
        })
    }
}

// ---- Partitions -------------------------------------------------------------------------------

/// `partition` in a `[[faults]]` entry.
#[derive(Clone, Debug)]
pub(super) enum PartitionSpec {
    Halves,
    MajorityMinority,
    Ring,
    /// Explicit groups, each a list of targets.
    Groups(Vec<Located<Group>>),
    Isolate(Located<TargetWord>),
    Bridge(Located<TargetWord>),
}

/// One group of an explicit partition.
#[derive(Clone, Debug)]
pub(super) struct Group(pub Vec<Located<TargetWord>>);

impl<'de> Deserialize<'de> for Group {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Group;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a group: a list of targets such as [\"A\", \"B\"] \
                     (partition = [[\"A\", \"B\"], [\"C\", \"D\"]])",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Group, A::Error> {
                let mut targets = Vec::new();
                while let Some(t) = seq.next_element()? {
                    targets.push(t);
                }
                Ok(Group(targets))
            }
        }
        d.deserialize_seq(V)
    }
}

/// `partition = { isolate = ... }` or `{ bridge = ... }`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionTable {
    isolate: Option<Located<TargetWord>>,
    bridge: Option<Located<TargetWord>>,
}

const SHAPES_EXPECTED: &str = "\"halves\", \"majority-minority\" or \"ring\"";

impl<'de> Deserialize<'de> for PartitionSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PartitionSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a partition: groups such as [[\"A\", \"B\"], [\"C\"]], a shape ({SHAPES_EXPECTED}), \
                     or a table {{ isolate = TARGET }} or {{ bridge = TARGET }}"
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PartitionSpec, E> {
                match v {
                    "halves" => Ok(PartitionSpec::Halves),
                    "majority-minority" => Ok(PartitionSpec::MajorityMinority),
                    "ring" => Ok(PartitionSpec::Ring),
                    "isolate" | "bridge" => Err(E::custom(format!(
                        "`{v}` needs a node: write partition = {{ {v} = \"leader\" }} (or a node name)"
                    ))),
                    other => Err(E::custom(format!(
                        "unknown partition shape `{other}`; expected {SHAPES_EXPECTED}, explicit groups \
                         such as [[\"A\", \"B\"], [\"C\"]], or {{ isolate = TARGET }} / {{ bridge = TARGET }}"
                    ))),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PartitionSpec, A::Error> {
                let mut groups = Vec::new();
                while let Some(g) = seq.next_element()? {
                    groups.push(g);
                }
                Ok(PartitionSpec::Groups(groups))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PartitionSpec, A::Error> {
                let table = PartitionTable::deserialize(MapAccessDeserializer::new(map))?;
                match (table.isolate, table.bridge) {
                    (Some(t), None) => Ok(PartitionSpec::Isolate(t)),
                    (None, Some(t)) => Ok(PartitionSpec::Bridge(t)),
                    _ => Err(de::Error::custom(
                        "a partition table takes exactly one of `isolate` or `bridge`",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PartitionSpec {
    fn schema_name() -> Cow<'static, str> {
        "Partition".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let target = generator.subschema_for::<TargetWord>();
        json_schema!({
            "oneOf": [
                {
                    "description": "Explicit groups of targets; nodes not listed form one more group.",
                    "type": "array",
                    "items": { "type": "array", "items": target, "minItems": 1 },
                    "minItems": 1
                },
                {
                    "description": "`halves`: a random split into ⌊n/2⌋ and ⌈n/2⌉ nodes; `majority-minority`: a random minority cut from the majority; `ring`: nodes in a random ring, each seeing only its nearest neighbours.",
                    "enum": ["halves", "majority-minority", "ring"]
                },
                {
                    "description": "One node cut from all others.",
                    "type": "object",
                    "properties": { "isolate": target },
                    "required": ["isolate"],
                    "additionalProperties": false
                },
                {
                    "description": "Two halves that cannot see each other, plus this node, which sees both.",
                    "type": "object",
                    "properties": { "bridge": target },
                    "required": ["bridge"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

// ---- Latency ----------------------------------------------------------------------------------

/// `[network] latency`: a duration (constant) or a distribution table.
#[derive(Clone, Debug)]
pub(super) enum LatencySpec {
    Constant(OneOrRange<Duration>),
    Dist(Dist),
}

/// A one-way latency distribution, chosen by `dist`.
#[derive(Clone, Debug, serde::Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub(super) enum Dist {
    /// Every message takes exactly `value`.
    Constant {
        /// The latency of every message.
        value: OneOrRange<Duration>,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// The smallest latency.
        min: OneOrRange<Duration>,
        /// The largest latency.
        max: OneOrRange<Duration>,
    },
    /// Normal, clamped at zero.
    Normal {
        /// The mean latency.
        mean: OneOrRange<Duration>,
        /// The standard deviation.
        stddev: OneOrRange<Duration>,
    },
    /// `median * exp(sigma * Z)`: a long right tail.
    #[serde(rename = "lognormal")]
    LogNormal {
        /// The median latency.
        median: OneOrRange<Duration>,
        /// The spread of the tail (the standard deviation of the log), ≥ 0.
        sigma: OneOrRange<f64>,
    },
    /// `min + Exp(mean)`: a floor plus a memoryless tail.
    Exponential {
        /// The mean of the exponential part.
        mean: OneOrRange<Duration>,
        /// The floor added to every draw; default 0.
        min: Option<OneOrRange<Duration>>,
    },
}

impl<'de> Deserialize<'de> for LatencySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LatencySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a latency: a duration such as \"5ms\", or a distribution such as \
                     { dist = \"uniform\", min = \"1ms\", max = \"10ms\" } \
                     (in swarm mode, a range such as [\"1ms\", \"10ms\"] wherever a duration goes)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LatencySpec, E> {
                v.parse()
                    .map(|d| LatencySpec::Constant(OneOrRange::One(d)))
                    .map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<LatencySpec, A::Error> {
                Bounds::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(|b| LatencySpec::Constant(OneOrRange::Range(b)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LatencySpec, A::Error> {
                Dist::deserialize(MapAccessDeserializer::new(map)).map(LatencySpec::Dist)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for LatencySpec {
    fn schema_name() -> Cow<'static, str> {
        "Latency".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let constant = generator.subschema_for::<OneOrRange<Duration>>();
        let dist = generator.subschema_for::<Dist>();
        json_schema!({ "oneOf": [constant, dist] })
    }
}

// ---- [protocol] -------------------------------------------------------------------------------

/// The `[protocol]` table, accepted as any table here: its keys belong to the protocol, which
/// checks them in `Scenario::protocol_config`.
#[derive(Clone, Copy, Debug)]
pub(super) struct ProtocolTable;

impl<'de> Deserialize<'de> for ProtocolTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProtocolTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the protocol's settings, a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProtocolTable, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ProtocolTable)
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for ProtocolTable {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "ProtocolTable".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }
}
