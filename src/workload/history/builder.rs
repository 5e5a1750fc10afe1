//! Pairs invocations with completions, process by process, for the event-log importers.
//!
//! Jepsen, Knossos and Porcupine files are logs of events: `invoke`, then later `ok`, `fail` or
//! `info` from the same process. A process runs one operation at a time, so its next completion
//! closes its open invocation. Time is the event's position in the log ([`TimeUnit::Event`]).
//! An invocation never completed becomes `Info` with no completion: it may have taken effect at
//! any later instant, or never.

use std::collections::BTreeMap;

use super::datum::{ParseError, Pos};
use super::{Call, Operation, Outcome};

/// The operation kinds, for checking that a completion matches its invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
    Append,
    Cas,
    Txn,
    Acquire,
    Release,
    Transfer,
    ReadAll,
}

impl Kind {
    pub(crate) fn of(call: &Call) -> Kind {
        match call {
            Call::Read => Kind::Read,
            Call::Write(_) => Kind::Write,
            Call::Append(_) => Kind::Append,
            Call::Cas { .. } => Kind::Cas,
            Call::Txn(_) => Kind::Txn,
            Call::Acquire => Kind::Acquire,
            Call::Release => Kind::Release,
            Call::Transfer { .. } => Kind::Transfer,
            Call::ReadAll => Kind::ReadAll,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Append => "append",
            Kind::Cas => "cas",
            Kind::Txn => "txn",
            Kind::Acquire => "acquire",
            Kind::Release => "release",
            Kind::Transfer => "transfer",
            Kind::ReadAll => "read-all",
        }
    }
}

#[derive(Default)]
pub(crate) struct Builder {
    ops: Vec<Operation>,
    /// Each process's open invocation: its index in `ops` and where it was written.
    open: BTreeMap<u64, (usize, Pos)>,
    events: u64,
}

impl Builder {
    fn tick(&mut self) -> u64 {
        let t = self.events;
        self.events += 1;
        t
    }

    pub(crate) fn invoke(
        &mut self,
        at: Pos,
        process: u64,
        key: Option<String>,
        call: Call,
    ) -> Result<(), ParseError> {
        if let Some((_, earlier)) = self.open.get(&process) {
            return Err(ParseError::new(
                at,
                format!(
                    "expected a completion for process {process}'s invocation at {earlier} \
                     before its next invocation (a process runs one operation at a time)"
                ),
            ));
        }
        let invoke = self.tick();
        self.open.insert(process, (self.ops.len(), at));
        self.ops.push(Operation {
            process,
            key,
            call,
            invoke,
            complete: None,
            outcome: Outcome::Info,
            node: None,
        });
        Ok(())
    }

    /// The open invocation of `process`, which must be of `kind`.
    pub(crate) fn open_call(&self, at: Pos, process: u64, kind: Kind) -> Result<&Call, ParseError> {
        let Some(&(index, invoked_at)) = self.open.get(&process) else {
            return Err(ParseError::new(
                at,
                format!(
                    "expected an invocation by process {process} before this completion; \
                     it has no operation open"
                ),
            ));
        };
        let call = &self.ops[index].call;
        let open = Kind::of(call);
        if open != kind {
            return Err(ParseError::new(
                at,
                format!(
                    "expected a {} completion (process {process}'s open operation at \
                     {invoked_at} is a {}), found a {}",
                    open.name(),
                    open.name(),
                    kind.name()
                ),
            ));
        }
        Ok(call)
    }

    /// Closes the open invocation of `process` with `outcome`, at this event.
    /// Call [`Builder::open_call`] first: it is the check that one is open.
    pub(crate) fn complete(&mut self, process: u64, outcome: Outcome) {
        let complete = self.tick();
        if let Some((index, _)) = self.open.remove(&process) {
            let op = &mut self.ops[index];
            op.complete = Some(complete);
            op.outcome = outcome;
        }
    }

    /// The operations in invocation order; whatever is still open stays `Info`, never completed.
    pub(crate) fn finish(self) -> Vec<Operation> {
        self.ops
    }
}
