//! Who answered each client operation: the node whose reply ended it, read off the trace's
//! records as the run goes, and written into the history (`Operation::node`) at the end.
//!
//! The clients do not record it themselves: every workload kind would have to, and a client
//! knows node indices, not names. The records already say it — a client completes an operation
//! in the handler of the reply that ends it, so the reply delivered to that client at the same
//! instant is the answer. A completion with no reply at its instant (a timeout, `info`) has no
//! node. Reading records changes nothing in the run: the trace and its hash are the same.

use crate::node::{Completion, Nanos, Protocol};
use crate::workload::history::History;
use crate::world::trace::{Event, Record};

/// Per client: each operation's invocation instant and the node that answered it, in order;
/// and the last reply delivered to it (node, instant).
#[derive(Default)]
pub(crate) struct Answers {
    clients: Vec<ClientAnswers>,
}

#[derive(Default)]
struct ClientAnswers {
    ops: Vec<(Nanos, Option<u32>)>,
    last_reply: Option<(u32, Nanos)>,
}

impl Answers {
    fn client(&mut self, client: u32) -> &mut ClientAnswers {
        let i = client as usize;
        if self.clients.len() <= i {
            self.clients.resize_with(i + 1, ClientAnswers::default);
        }
        &mut self.clients[i]
    }

    /// Follows one record: invocations, replies delivered and completions.
    pub(crate) fn on_record<P: Protocol>(&mut self, record: &Record<'_, P>) {
        match &record.event {
            Event::Invoke { client, .. } => self.client(*client).ops.push((record.at, None)),
            Event::ReplyDeliver { from, client, .. } => {
                self.client(*client).last_reply = Some((*from, record.at));
            }
            Event::Complete {
                client, completion, ..
            } => {
                let c = self.client(*client);
                let answered = !matches!(completion, Completion::Info);
                if let (true, Some((node, at)), Some(op)) =
                    (answered, c.last_reply, c.ops.last_mut())
                    && at == record.at
                {
                    op.1 = Some(node);
                }
            }
            _ => {}
        }
    }

    /// Names the answering node of each operation of `history` (matched by client and
    /// invocation instant; `names` are the nodes in cluster order).
    pub(crate) fn name(&self, history: &mut History, names: &[String]) {
        let mut next = vec![0usize; self.clients.len()];
        for op in &mut history.ops {
            let Some(c) = self.clients.get(op.process as usize) else {
                continue;
            };
            let cursor = &mut next[op.process as usize];
            // A client's operations are in invocation order, as the history's are per client.
            while *cursor < c.ops.len() && c.ops[*cursor].0 < op.invoke {
                *cursor += 1;
            }
            if let Some(&(at, Some(node))) = c.ops.get(*cursor)
                && at == op.invoke
            {
                op.node = names.get(node as usize).cloned();
                *cursor += 1;
            }
        }
    }
}
