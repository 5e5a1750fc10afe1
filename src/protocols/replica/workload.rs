//! The register workload (`[workload] kind = "register"`): closed-loop clients that read and
//! write a few keys of Dynamo-style replicas, each put carrying the context of the client's
//! last read of its key.
//!
//! Each operation is a get with probability `reads`, otherwise a put of a value unique to the
//! operation (`c<client>-<seq>`, as the key-value clients write), on a key drawn uniformly from
//! `registers` keys (`x` when there is one, else `x0`, `x1`, …).

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ClientId, Completion, ConfigError, Rng};
use crate::workload::closed_loop::{ClosedLoop, Draw, operations};
use crate::workload::history::{Call, History, ModelKind, ModelSpec, Output, TimeUnit, Value};
use crate::workload::script::{first_foreign, for_client};
use crate::workload::{ScriptOp, Workload, WorkloadSpec};

use super::clocks::VectorClock;
use super::register::{Register, RegisterOp, RegisterOutput};

const DEFAULT_REGISTERS: u32 = 1;
const DEFAULT_READS: f64 = 0.5;

/// Which node a register client sends its requests to first.
///
/// ```
/// use sim::protocols::replica::Home;
/// let own: Home = serde_json::from_str("\"own\"").unwrap();
/// assert_eq!(own, Home::Own);
/// assert_eq!(Home::default(), Home::Any);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "Which node a register client sends its requests to first.")]
pub enum Home {
    /// A node drawn from the client's own stream (then whichever served it last).
    #[default]
    Any,
    /// Client i beside node i mod n, as in the textbook picture where each replica has its
    /// own writer: c0 writes at the first node, c1 at the second, ….
    Own,
}

/// The register kind's own `[workload]` keys.
///
/// ```
/// use sim::protocols::replica::{Home, RegisterOptions};
/// // `[workload]` with `registers = 2` and `home = "own"`, beside the common keys.
/// let options: RegisterOptions = toml::from_str("clients = 3\nregisters = 2\nhome = \"own\"").unwrap();
/// assert_eq!((options.registers, options.home, options.reads), (Some(2), Some(Home::Own), None));
/// ```
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
// The schema's description: the first line above, without the example.
#[schemars(description = "The register kind's own `[workload]` keys.")]
pub struct RegisterOptions {
    /// How many keys clients read and write: `x` when 1, else `x0`, `x1`, …; at least 1.
    /// Default 1.
    pub registers: Option<u32>,
    /// The share of operations that are gets, from 0 to 1. Default 0.5.
    pub reads: Option<f64>,
    /// "any" (default): each client starts at a node drawn from its stream; "own": client i
    /// sends to node i mod n first, a writer beside each replica.
    pub home: Option<Home>,
}

impl RegisterOptions {
    fn registers(&self) -> u32 {
        self.registers.unwrap_or(DEFAULT_REGISTERS)
    }
    fn reads(&self) -> f64 {
        self.reads.unwrap_or(DEFAULT_READS)
    }
}

/// The name of register `i` of `n`.
fn register_name(i: u64, n: u32) -> Arc<str> {
    if n == 1 {
        "x".into()
    } else {
        format!("x{i}").into()
    }
}

/// What a register client draws, and the context it keeps per key: the merge of the clocks of
/// what it last read there.
///
/// ```
/// use sim::node::{ClientId, Completion};
/// use sim::protocols::replica::{RegisterDraw, RegisterOp, RegisterOptions, RegisterOutput, Version, VectorClock};
/// use sim::workload::closed_loop::Draw;
/// let mut draw = RegisterDraw::new(&RegisterOptions::default());
/// // It read two siblings of x; its next put of x supersedes both.
/// let read = RegisterOutput::Read { versions: vec![
///     Version { value: "2".into(), clock: VectorClock::from_counts(&[2, 0, 0]) },
///     Version { value: "5".into(), clock: VectorClock::from_counts(&[1, 0, 1]) },
/// ] };
/// draw.learn(&RegisterOp::Get { key: "x".into() }, &Completion::Ok(read));
/// let mut put = RegisterOp::Put { key: "x".into(), value: "c0-3".into(), context: VectorClock::new() };
/// draw.prepare(&mut put);
/// assert!(matches!(put, RegisterOp::Put { context, .. } if context.to_string() == "[2,0,1]"));
/// ```
#[derive(Clone, Debug)]
pub struct RegisterDraw {
    registers: u32,
    reads: f64,
    home: Home,
    /// Per key, the context of the client's last read.
    context: BTreeMap<Arc<str>, VectorClock>,
}

impl RegisterDraw {
    /// Draws as `options` say.
    ///
    /// ```
    /// use sim::node::{ClientId, Rng, Stream};
    /// use sim::protocols::replica::{RegisterDraw, RegisterOp, RegisterOptions};
    /// use sim::workload::closed_loop::Draw;
    /// let mut only_gets = RegisterDraw::new(&RegisterOptions { reads: Some(1.0), ..Default::default() });
    /// let op = only_gets.draw(&mut Rng::derive(1, Stream::Client(0)), ClientId(0), 1);
    /// assert_eq!(op, RegisterOp::Get { key: "x".into() });
    /// ```
    pub fn new(options: &RegisterOptions) -> Self {
        RegisterDraw {
            registers: options.registers(),
            reads: options.reads(),
            home: options.home.unwrap_or_default(),
            context: BTreeMap::new(),
        }
    }

    fn context_of(&self, key: &str) -> VectorClock {
        self.context.get(key).cloned().unwrap_or_default()
    }
}

/// A virtual register client.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::ClientId;
/// use sim::protocols::replica::{RegisterClient, RegisterDraw, RegisterOptions};
/// use sim::workload::closed_loop::ClosedLoop;
/// let draw = RegisterDraw::new(&RegisterOptions::default());
/// let client: RegisterClient = ClosedLoop::drawing(ClientId(0), &kv_spec(), draw);
/// assert!(client.operations().is_empty());
/// ```
pub type RegisterClient = ClosedLoop<RegisterDraw>;

impl Draw for RegisterDraw {
    type Api = Register;

    /// The kind (get with probability `reads`), then the key.
    fn draw(&mut self, rng: &mut Rng, client: ClientId, seq: u64) -> RegisterOp {
        let get = rng.chance(self.reads);
        let key = register_name(rng.below(u64::from(self.registers)), self.registers);
        if get {
            return RegisterOp::Get { key };
        }
        let context = self.context_of(&key);
        RegisterOp::Put {
            key,
            value: format!("c{}-{seq}", client.0).into(),
            context,
        }
    }

    /// A read sets the key's context to the merge of what it returned; a write's outcome
    /// teaches nothing (the client has not read what it made).
    fn learn(&mut self, op: &RegisterOp, completion: &Completion<Register>) {
        if let (RegisterOp::Get { key }, Completion::Ok(read @ RegisterOutput::Read { .. })) =
            (op, completion)
        {
            self.context.insert(key.clone(), read.context());
        }
    }

    fn call(op: &RegisterOp) -> (Option<String>, Call) {
        let call = match op {
            RegisterOp::Get { .. } => Call::Read,
            RegisterOp::Put { value, .. } => Call::Write(Value::Str(value.to_string())),
        };
        (Some(op.key().to_string()), call)
    }

    /// A read of one version is a value, of none nil, of several siblings; a put is done
    /// (a conflict too: it took effect where it was written).
    fn output(output: &RegisterOutput) -> Output {
        match output {
            RegisterOutput::Read { versions } => match &versions[..] {
                [] => Output::Value(None),
                [one] => Output::Value(Some(Value::Str(one.value.to_string()))),
                many => Output::Siblings(
                    many.iter()
                        .map(|v| Value::Str(v.value.to_string()))
                        .collect(),
                ),
            },
            RegisterOutput::Written { .. } | RegisterOutput::Conflict { .. } => Output::Done,
        }
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<RegisterOp> {
        let key: Arc<str> = key?.into();
        match call {
            Call::Read => Some(RegisterOp::Get { key }),
            Call::Write(Value::Str(value)) => Some(RegisterOp::Put {
                key,
                value: value.as_str().into(),
                context: VectorClock::new(),
            }),
            _ => None,
        }
    }

    fn prepare(&self, op: &mut RegisterOp) {
        if let RegisterOp::Put { key, context, .. } = op {
            *context = self.context_of(key);
        }
    }

    fn home(&self, client: ClientId, nodes: u32) -> Option<u32> {
        (self.home == Home::Own).then(|| client.0 % nodes)
    }
}

impl Workload for Register {
    const KIND: &'static str = "register";
    const LINEARIZABLE: bool = true;
    type Options = RegisterOptions;
    type Client = RegisterClient;

    fn validate(options: &RegisterOptions, _: &WorkloadSpec, _: usize) -> Result<(), ConfigError> {
        if options.registers() == 0 {
            return Err(ConfigError::new(
                "registers",
                "at least 1 key to read and write",
            ));
        }
        let reads = options.reads();
        if !(0.0..=1.0).contains(&reads) {
            return Err(ConfigError::new(
                "reads",
                format!("a share from 0 to 1, e.g. 0.5; found {reads}"),
            ));
        }
        Ok(())
    }

    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        first_foreign::<RegisterDraw>(script)
    }

    fn clients(
        spec: &WorkloadSpec,
        options: &RegisterOptions,
        script: Option<&[ScriptOp]>,
    ) -> Vec<RegisterClient> {
        (0..spec.clients)
            .map(|i| {
                let draw = RegisterDraw::new(options);
                match script {
                    Some(script) => ClosedLoop::scripted(
                        ClientId(i),
                        spec,
                        draw,
                        for_client::<RegisterDraw>(script, i)
                            .expect("`foreign` has checked the script"),
                    ),
                    None => ClosedLoop::drawing(ClientId(i), spec, draw),
                }
            })
            .collect()
    }

    /// Judged as a map of registers, a read of siblings by the sibling-aware rule (one of them
    /// must be the register's value).
    fn history(clients: &[RegisterClient]) -> History {
        History {
            ops: operations(clients),
            time_unit: TimeUnit::Nanos,
            model: Some(ModelSpec {
                kind: ModelKind::Kv,
                init: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Stream;

    #[test]
    fn draws_gets_and_unique_puts_over_the_registers() {
        let options = RegisterOptions {
            registers: Some(3),
            reads: Some(0.5),
            home: None,
        };
        let mut draw = RegisterDraw::new(&options);
        let mut rng = Rng::derive(1, Stream::Client(0));
        let ops: Vec<RegisterOp> = (1..=200)
            .map(|s| draw.draw(&mut rng, ClientId(4), s))
            .collect();
        let gets = ops
            .iter()
            .filter(|o| matches!(o, RegisterOp::Get { .. }))
            .count();
        assert!((60..140).contains(&gets), "about half gets: {gets}");
        let keys: std::collections::BTreeSet<&str> = ops.iter().map(|o| &**o.key()).collect();
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), ["x0", "x1", "x2"]);
        let put = ops
            .iter()
            .position(|o| matches!(o, RegisterOp::Put { .. }))
            .unwrap();
        let RegisterOp::Put { value, .. } = &ops[put] else {
            unreachable!()
        };
        assert_eq!(&**value, format!("c4-{}", put + 1));
    }

    #[test]
    fn a_put_carries_the_context_of_the_last_read_of_its_key_only() {
        let mut draw = RegisterDraw::new(&RegisterOptions {
            reads: Some(0.0),
            ..RegisterOptions::default()
        });
        let read = RegisterOutput::Read {
            versions: vec![super::super::Version {
                value: "c1-1".into(),
                clock: VectorClock::from_counts(&[0, 1]),
            }],
        };
        draw.learn(&RegisterOp::Get { key: "y".into() }, &Completion::Ok(read));
        let mut rng = Rng::derive(1, Stream::Client(0));
        let RegisterOp::Put { context, .. } = draw.draw(&mut rng, ClientId(0), 1) else {
            panic!("reads = 0 drew a get")
        };
        assert_eq!(context, VectorClock::new(), "x was never read");
        let mut put = RegisterOp::Put {
            key: "y".into(),
            value: "v".into(),
            context: VectorClock::new(),
        };
        draw.prepare(&mut put);
        assert!(
            matches!(put, RegisterOp::Put { context, .. } if context == VectorClock::from_counts(&[0, 1]))
        );
    }

    #[test]
    fn siblings_read_as_siblings_in_the_history() {
        let version = |v: &str| super::super::Version {
            value: v.into(),
            clock: VectorClock::new(),
        };
        let two = RegisterOutput::Read {
            versions: vec![version("2"), version("5")],
        };
        assert_eq!(
            RegisterDraw::output(&two),
            Output::Siblings(vec![Value::Str("2".into()), Value::Str("5".into())])
        );
        let none = RegisterOutput::Read { versions: vec![] };
        assert_eq!(RegisterDraw::output(&none), Output::Value(None));
    }

    #[test]
    fn a_client_with_a_home_starts_at_its_own_node() {
        let own = RegisterDraw::new(&RegisterOptions {
            home: Some(Home::Own),
            ..RegisterOptions::default()
        });
        assert_eq!(own.home(ClientId(4), 3), Some(1));
        assert_eq!(
            RegisterDraw::new(&RegisterOptions::default()).home(ClientId(4), 3),
            None
        );
    }
}
