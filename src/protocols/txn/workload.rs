//! The bank workload (`[workload] kind = "bank"`): closed-loop clients that transfer money
//! between accounts and read every balance.
//!
//! Each operation is a read with probability `reads`, otherwise a transfer between two
//! different accounts drawn uniformly, of an amount drawn uniformly from `amount` — some larger
//! than a balance, which a participant must refuse.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ClientId, ConfigError, Rng};
use crate::workload::closed_loop::{ClosedLoop, Draw, into_operations, operations};
use crate::workload::history::{Call, History, Output, TimeUnit};
use crate::workload::script::{first_foreign, for_client};
use crate::workload::{ScriptOp, Workload, WorkloadSpec};

use super::bank::{Account, Bank, BankOp, BankOutput};

const DEFAULT_ACCOUNTS: u32 = 2;
const DEFAULT_AMOUNT: [u64; 2] = [1, 150];
const DEFAULT_READS: f64 = 0.2;

/// The bank kind's own `[workload]` keys.
///
/// ```
/// use sim::protocols::txn::BankOptions;
/// // `[workload]` of a bank scenario, beside the common keys.
/// let options: BankOptions = toml::from_str("clients = 2\naccounts = 4\namount = [1, 500]").unwrap();
/// assert_eq!((options.accounts, options.amount, options.reads), (Some(4), Some([1, 500]), None));
/// ```
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
// The schema's description: the first line above, without the example.
#[schemars(description = "The bank kind's own `[workload]` keys.")]
pub struct BankOptions {
    /// How many accounts clients move money between, numbered from 0 (account 0 could be A's
    /// payment account, account 1 B's savings fund); at least 2. The protocol's `accounts`
    /// should be the same: a transfer naming an account the bank does not hold is refused.
    /// Default 2.
    pub accounts: Option<u32>,
    /// Each transfer's amount is drawn uniformly from [low, high], e.g. [1, 150]; amounts
    /// above a balance must be refused. Default [1, 150].
    pub amount: Option<[u64; 2]>,
    /// The share of operations that read every balance, from 0 to 1. Default 0.2.
    pub reads: Option<f64>,
}

impl BankOptions {
    fn accounts(&self) -> u32 {
        self.accounts.unwrap_or(DEFAULT_ACCOUNTS)
    }
    fn amount(&self) -> [u64; 2] {
        self.amount.unwrap_or(DEFAULT_AMOUNT)
    }
    fn reads(&self) -> f64 {
        self.reads.unwrap_or(DEFAULT_READS)
    }
}

/// What a bank client draws.
///
/// ```
/// use sim::node::{ClientId, Rng, Stream};
/// use sim::protocols::txn::{BankDraw, BankOp, BankOptions};
/// use sim::workload::closed_loop::Draw;
/// // Transfers only, always between two different accounts, amounts from the range.
/// let mut draw = BankDraw::new(&BankOptions { reads: Some(0.0), amount: Some([10, 20]), ..Default::default() });
/// let mut rng = Rng::derive(1, Stream::Client(0));
/// for seq in 1..=50 {
///     let BankOp::Transfer { from, to, amount } = draw.draw(&mut rng, ClientId(0), seq) else { panic!("a read") };
///     assert!(from != to && (10..=20).contains(&amount));
/// }
/// ```
#[derive(Clone, Debug)]
pub struct BankDraw {
    accounts: u32,
    amount: [u64; 2],
    reads: f64,
}

impl BankDraw {
    /// Draws as `options` say.
    ///
    /// ```
    /// use sim::node::{ClientId, Rng, Stream};
    /// use sim::protocols::txn::{BankDraw, BankOp, BankOptions};
    /// use sim::workload::closed_loop::Draw;
    /// let mut reads_only = BankDraw::new(&BankOptions { reads: Some(1.0), ..Default::default() });
    /// assert_eq!(reads_only.draw(&mut Rng::derive(1, Stream::Client(0)), ClientId(0), 1), BankOp::Read);
    /// ```
    pub fn new(options: &BankOptions) -> Self {
        BankDraw {
            accounts: options.accounts(),
            amount: options.amount(),
            reads: options.reads(),
        }
    }
}

/// A virtual bank client.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::ClientId;
/// use sim::protocols::txn::{BankClient, BankDraw, BankOptions};
/// use sim::workload::closed_loop::ClosedLoop;
/// let client: BankClient = ClosedLoop::drawing(ClientId(0), &kv_spec(), BankDraw::new(&BankOptions::default()));
/// assert!(client.operations().is_empty());
/// ```
pub type BankClient = ClosedLoop<BankDraw>;

impl Draw for BankDraw {
    type Api = Bank;

    /// A read with probability `reads`; otherwise the source, the target (another account),
    /// then the amount.
    fn draw(&mut self, rng: &mut Rng, _: ClientId, _: u64) -> BankOp {
        if rng.chance(self.reads) {
            return BankOp::Read;
        }
        let n = u64::from(self.accounts);
        let from = rng.below(n);
        let to = (from + 1 + rng.below(n - 1)) % n;
        BankOp::Transfer {
            from: Account(from as u32),
            to: Account(to as u32),
            amount: rng.between(self.amount[0], self.amount[1]),
        }
    }

    fn call(op: &BankOp) -> (Option<String>, Call) {
        let call = match op {
            BankOp::Transfer { from, to, amount } => Call::Transfer {
                from: from.0,
                to: to.0,
                amount: *amount,
            },
            BankOp::Read => Call::ReadAll,
        };
        (None, call)
    }

    fn output(output: &BankOutput) -> Output {
        match output {
            BankOutput::Transferred => Output::Done,
            BankOutput::Balances { balances } => Output::Balances(balances.clone()),
        }
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<BankOp> {
        match (key, call) {
            (None, Call::Transfer { from, to, amount }) => Some(BankOp::Transfer {
                from: Account(*from),
                to: Account(*to),
                amount: *amount,
            }),
            (None, Call::ReadAll) => Some(BankOp::Read),
            _ => None,
        }
    }
}

impl Workload for Bank {
    const KIND: &'static str = "bank";
    type Options = BankOptions;
    type Client = BankClient;

    fn validate(options: &BankOptions, _: &WorkloadSpec, _: usize) -> Result<(), ConfigError> {
        if options.accounts() < 2 {
            return Err(ConfigError::new(
                "accounts",
                "a transfer needs two accounts: at least 2",
            ));
        }
        let [low, high] = options.amount();
        if low == 0 || low > high {
            return Err(ConfigError::new(
                "amount",
                format!(
                    "expected [low, high] with 1 ≤ low ≤ high, e.g. [1, 150]; found [{low}, {high}]"
                ),
            ));
        }
        let reads = options.reads();
        if !(0.0..=1.0).contains(&reads) {
            return Err(ConfigError::new(
                "reads",
                format!("a share from 0 to 1, e.g. 0.2; found {reads}"),
            ));
        }
        Ok(())
    }

    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        first_foreign::<BankDraw>(script)
    }

    fn clients(
        spec: &WorkloadSpec,
        options: &BankOptions,
        script: Option<&[ScriptOp]>,
    ) -> Vec<BankClient> {
        (0..spec.clients)
            .map(|i| {
                let draw = BankDraw::new(options);
                match script {
                    Some(script) => ClosedLoop::scripted(
                        ClientId(i),
                        spec,
                        draw,
                        for_client::<BankDraw>(script, i)
                            .expect("`foreign` has checked the script"),
                    ),
                    None => ClosedLoop::drawing(ClientId(i), spec, draw),
                }
            })
            .collect()
    }

    fn history(clients: &[BankClient]) -> History {
        History {
            ops: operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    fn into_history(clients: Vec<BankClient>) -> History {
        History {
            ops: into_operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }
}
