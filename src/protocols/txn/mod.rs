//! Distributed transactions on bank transfers: the family of two-phase commit and TCC.
//!
//! The classroom example: move 100 from an account held by database node A to one held by node
//! B. Every protocol of the family serves the same client interface ([`Bank`]: transfers and
//! reads of every balance) and states the same facts ([`BankFact`]: balances opened, amounts
//! held and released, changes applied, outcomes decided), so that one set of invariants judges
//! them all.
//!
//! Accounts are numbered from 0; a protocol's config says how many there are, what each holds
//! at first and which node holds which. A transfer's id is its client's [`RequestId`](crate::node::RequestId): retries
//! of one transfer share it, which is what lets participants recognise a repeated message.

pub mod bank;
pub mod invariants;
pub(crate) mod metrics;
mod situations;
pub mod tcc;
pub mod two_phase_commit;
pub mod workload;

pub use bank::{Account, Bank, BankFact, BankOp, BankOutput, TxnId};
pub use workload::{BankClient, BankDraw, BankOptions};
