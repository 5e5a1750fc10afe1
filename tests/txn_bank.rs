//! The bank workload and the txn family's invariants, end to end, on a toy bank: one node, the
//! vault, holds every account and moves money in one step. Correct, it passes every invariant;
//! each `bug` breaks the one invariant it is named for.

use schemars::JsonSchema;
use serde::Deserialize;

use sim::node::{
    ClientRequest, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, Reply, RequestId,
};
use sim::run::registry::Registry;
use sim::run::{RunOptions, RunOutput, Verdict};
use sim::workload::history::{Call, Outcome, Output};

use sim::protocols::txn::invariants;
use sim::protocols::txn::{Account, Bank, BankFact, BankOp, BankOutput};

/// One node holds every account; the others send clients to it.
struct Vault {
    id: NodeId,
    balances: Vec<i64>,
    bug: Bug,
    /// Transfers done, by request, so that a retry is answered, not done again.
    done: Vec<(RequestId, bool)>,
    /// With `Bug::Stall`: transfers frozen and never settled.
    stalled: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Bug {
    /// A correct vault.
    #[default]
    None,
    /// Debits the source, then rolls the credit back (atomicity, conservation).
    DebitOnly,
    /// Credits the target twice (no_double_apply, conservation).
    DoubleCredit,
    /// Pays out without checking the balance (no_negative_balance).
    Overdraft,
    /// Reads report the target's balance before the transfer (conservation's read check).
    TornRead,
    /// Freezes the first transfer's amount and never settles it (resolved_within).
    Stall,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct VaultConfig {
    bug: Bug,
}

const OPENING: i64 = 100;
const ACCOUNTS: usize = 2;

impl Vault {
    fn transfer(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        id: RequestId,
        from: Account,
        to: Account,
        amount: u64,
    ) -> bool {
        let amount = amount as i64;
        let (f, t) = (from.0 as usize, to.0 as usize);
        if f >= ACCOUNTS
            || t >= ACCOUNTS
            || (self.balances[f] < amount && self.bug != Bug::Overdraft)
        {
            return false;
        }
        if self.bug == Bug::Stall && !self.stalled {
            self.stalled = true;
            ctx.fact(BankFact::Held {
                txn: id,
                account: from,
                amount: amount as u64,
                debit: true,
            });
            self.balances[f] -= amount;
            return true;
        }
        self.balances[f] -= amount;
        ctx.fact(BankFact::Applied {
            txn: id,
            account: from,
            delta: -amount,
            balance: self.balances[f],
        });
        if self.bug == Bug::DebitOnly {
            ctx.fact(BankFact::RolledBack {
                txn: id,
                account: to,
            });
            return true;
        }
        self.balances[t] += amount;
        ctx.fact(BankFact::Applied {
            txn: id,
            account: to,
            delta: amount,
            balance: self.balances[t],
        });
        if self.bug == Bug::DoubleCredit {
            self.balances[t] += amount;
            ctx.fact(BankFact::Applied {
                txn: id,
                account: to,
                delta: amount,
                balance: self.balances[t],
            });
        }
        true
    }
}

impl Protocol for Vault {
    const NAME: &'static str = "vault";
    const SUMMARY: &'static str = "one node holds every account (a test bank)";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[
        "atomicity",
        "conservation",
        "no_negative_balance",
        "no_double_apply",
    ];
    type Msg = ();
    type Timer = ();
    type Config = VaultConfig;
    type Durable = ();
    type Api = Bank;
    type Fact = BankFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::atomicity(),
            invariants::conservation_and_reads(),
            invariants::no_negative_balance(),
            invariants::no_double_apply(),
            invariants::resolved_within(),
        ]
    }

    fn new(id: NodeId, _: &[NodeId], config: &VaultConfig, _: Option<&DiskOf<Self>>) -> Self {
        Vault {
            id,
            balances: vec![OPENING; ACCOUNTS],
            bug: config.bug,
            done: Vec::new(),
            stalled: false,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.id == NodeId(0) {
            for a in 0..ACCOUNTS {
                ctx.fact(BankFact::Opened {
                    account: Account(a as u32),
                    balance: OPENING,
                });
            }
        }
    }

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, (): ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, (): ()) {}

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Bank>) {
        if self.id != NodeId(0) {
            ctx.reply(
                request.id,
                Reply::NotLeader {
                    leader: Some(NodeId(0)),
                },
            );
            return;
        }
        let reply = match request.op {
            BankOp::Read => {
                let mut balances = self.balances.clone();
                if self.bug == Bug::TornRead {
                    balances[1] -= 1;
                }
                Reply::Ok(BankOutput::Balances { balances })
            }
            BankOp::Transfer { from, to, amount } => {
                let ok = match self.done.iter().find(|(id, _)| *id == request.id) {
                    Some(&(_, ok)) => ok,
                    None => {
                        let ok = self.transfer(ctx, request.id, from, to, amount);
                        self.done.push((request.id, ok));
                        ok
                    }
                };
                if ok {
                    Reply::Ok(BankOutput::Transferred)
                } else {
                    Reply::Fail {
                        reason: "insufficient funds".into(),
                    }
                }
            }
        };
        ctx.reply(request.id, reply);
    }
}

fn scenario_text(bug: &str, extra_check: &str) -> String {
    format!(
        "name = \"vault\"\nduration = \"5s\"\n[cluster]\nnodes = 3\nprotocol = \"vault\"\n\
         [protocol]\nbug = \"{bug}\"\n\
         [workload]\nkind = \"bank\"\nclients = 3\nrate = \"20/s\"\naccounts = 2\n\
         amount = [1, 150]\nreads = 0.3\n[check]\n{extra_check}"
    )
}

fn run(bug: &str, extra_check: &str) -> RunOutput {
    let registry = Registry::builtin().with::<Vault>();
    let text = scenario_text(bug, extra_check);
    let scenario = registry.scenario("vault.toml", &text).unwrap();
    registry
        .run(&scenario, &RunOptions::default(), None)
        .unwrap()
}

/// The invariants that failed, by name.
fn failed(out: &RunOutput) -> Vec<String> {
    out.report
        .invariants
        .iter()
        .filter(|i| matches!(i.status, sim::node::Status::Violated(_)))
        .map(|i| i.name.clone())
        .collect()
}

#[test]
fn bank_clients_transfer_and_read_and_a_correct_bank_holds_every_invariant() {
    let out = run("none", "resolved_within = \"1s\"\n");
    assert_eq!(out.report.verdict, Verdict::Pass, "{:?}", failed(&out));
    let history = out.history.unwrap();
    let transfers = history
        .ops
        .iter()
        .filter(|o| matches!(o.call, Call::Transfer { .. }));
    let refused = transfers
        .clone()
        .filter(|o| o.outcome == Outcome::Fail)
        .count();
    let done = transfers
        .filter(|o| o.outcome == Outcome::Ok(Output::Done))
        .count();
    let reads: Vec<&Vec<i64>> = history
        .ops
        .iter()
        .filter_map(|o| match &o.outcome {
            Outcome::Ok(Output::Balances(b)) => Some(b),
            _ => None,
        })
        .collect();
    // 3 clients at 20/s for 5 s: a few hundred operations, of every kind.
    assert!(
        done > 50 && refused > 5 && reads.len() > 30,
        "{done} {refused} {}",
        reads.len()
    );
    assert!(
        reads
            .iter()
            .all(|b| b.len() == 2 && b.iter().sum::<i64>() == 200)
    );
    let names: Vec<&str> = out
        .report
        .invariants
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "atomicity",
            "conservation",
            "no_negative_balance",
            "no_double_apply",
            "resolved_within 1s"
        ]
    );
}

#[test]
fn each_invariant_catches_the_bug_it_is_named_for() {
    let cases = [
        ("debit_only", vec!["atomicity", "conservation"]),
        ("double_credit", vec!["conservation", "no_double_apply"]),
        ("overdraft", vec!["no_negative_balance"]),
        ("torn_read", vec!["conservation"]),
    ];
    for (bug, expected) in cases {
        let out = run(bug, "");
        assert_eq!(failed(&out), expected, "bug {bug}");
    }
    // The evidence says what happened in words, not as a data structure.
    let out = run("debit_only", "");
    let sim::node::Status::Violated(v) = &out.report.invariants[1].status else {
        unreachable!()
    };
    assert!(v.evidence[0].ends_with(" on account 1"), "{:?}", v.evidence);
    assert!(v.evidence[0].contains(" rolled back c"), "{:?}", v.evidence);
    assert!(
        v.evidence[1].starts_with("balances account 0: "),
        "{:?}",
        v.evidence
    );
    // The frozen amount is missing from every read after it, too: reads of a design that
    // means them as snapshots must sum to the total.
    let out = run("stall", "resolved_within = \"1s\"\n");
    assert_eq!(failed(&out), ["conservation", "resolved_within 1s"]);
    let message = &out.report.invariants[4].status;
    let sim::node::Status::Violated(v) = message else {
        unreachable!()
    };
    assert!(v.message.contains("still unsettled"), "{}", v.message);
    assert_eq!(
        v.evidence,
        ["account 0 is still holding a frozen or reserved amount"]
    );
}

#[test]
fn the_bank_workload_refuses_bad_options_where_they_are_written() {
    let registry = Registry::builtin().with::<Vault>();
    let error = |workload_extra: &str| {
        let text = scenario_text("none", "").replace("reads = 0.3\n", workload_extra);
        match registry.scenario("vault.toml", &text) {
            Err(e) => e.to_string(),
            Ok(s) => registry
                .run(&s, &RunOptions::default(), None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        }
    };
    assert_eq!(
        error("reads = 2.0\n"),
        "vault.toml:14:1: reads: a share from 0 to 1, e.g. 0.2; found 2"
    );
    assert_eq!(
        error("mix = { get = 1 }\n"),
        "vault.toml:14:1: `mix` belongs to the kv workload, and vault's clients run the bank \
         workload; a bank workload takes kind, clients, rate, timeout, retry, start, stop, \
         script, accounts, amount, reads"
    );
    let text = scenario_text("none", "invariants = [\"atomicity\", \"linearizable\"]\n");
    assert_eq!(
        registry
            .scenario("vault.toml", &text)
            .unwrap_err()
            .to_string(),
        "vault.toml:16:28: linearizable judges histories of reads and writes, and vault's \
         clients run the bank workload: its own invariants judge them"
    );
}

#[test]
fn a_bank_script_replays_its_transfers_and_reads_back_the_same() {
    let registry = Registry::builtin().with::<Vault>();
    let text = |entries: &str| {
        format!(
            "name = \"vault\"\nduration = \"2s\"\n[cluster]\nnodes = 3\nprotocol = \"vault\"\n\
             [workload]\nkind = \"bank\"\nscript = [\n{entries}]\n"
        )
    };
    let scenario = registry
        .scenario(
            "s.toml",
            &text(
                "  { client = 0, at = \"100ms\", op = \"transfer\", from = 0, to = 1, amount = 30 },\n\
                 { client = 1, at = \"200ms\", op = \"read-all\" },\n",
            ),
        )
        .unwrap();
    let out = registry
        .run(&scenario, &RunOptions::default(), None)
        .unwrap();
    let history = out.history.unwrap();
    let seen: Vec<(&Call, &Outcome)> = history.ops.iter().map(|o| (&o.call, &o.outcome)).collect();
    assert_eq!(
        seen,
        [
            (
                &Call::Transfer {
                    from: 0,
                    to: 1,
                    amount: 30
                },
                &Outcome::Ok(Output::Done)
            ),
            (
                &Call::ReadAll,
                &Outcome::Ok(Output::Balances(vec![70, 130]))
            ),
        ]
    );
    // The history makes the same script again, and the scenario writes it back as it reads.
    let script = sim::workload::script::from_history(&history).unwrap();
    assert_eq!(Some(&script), scenario.script.as_ref());
    let written = scenario.to_toml().unwrap();
    assert!(
        written.contains("op = \"transfer\", from = 0, to = 1, amount = 30"),
        "{written}"
    );
    let again = registry.scenario("s.toml", &written).unwrap();
    assert_eq!(again.script, scenario.script);

    // A key-value operation is no bank operation: refused where it is written.
    let kv = registry
        .scenario(
            "s.toml",
            &text("  { client = 0, at = \"1s\", op = \"get\", key = \"k0\" },\n"),
        )
        .unwrap();
    assert_eq!(
        registry
            .run(&kv, &RunOptions::default(), None)
            .err()
            .unwrap()
            .to_string(),
        "s.toml:9:28: a get is no operation of vault's clients, which run the bank workload"
    );
}
