//! Raft's own invariant, over the messages its servers handle (the common ones, in
//! `check/`, read only what servers report):
//!
//! - `adopts_newer_term` (safety): Figure 2, Rules for All Servers — "if RPC request or response
//!   contains term T > currentTerm: set currentTerm = T, convert to follower (§5.1)". A server
//!   that handles an AppendEntries request, its reply, or a vote reply carrying a term above the
//!   last it reported must report that term (a `role` in it) before its next step. Which
//!   messages carry a binding term is read here from the messages themselves, apart from the
//!   server's own code: a bug there cannot also hide from the check.
//!
//!   Not checked, because a correct server may rightly keep its term: a vote request (under
//!   vote stickiness a server that still hears its leader disregards it, term included — thesis
//!   §4.2.3 — and whether it does is the server's state, not the message's), a pre-vote request
//!   (its term is only proposed, thesis §9.6) and a granted pre-vote (it echoes that proposed
//!   term).

use std::any::Any;

use super::Msg;
use crate::node::{
    InvariantInfo, Nanos, Observation, ObservationKinds, Property, ProtocolInvariant, Role,
    RunView, Status, Violation, format_instant,
};

/// The entry `Raft::invariants()` lists.
pub(super) fn adopts_newer_term() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "adopts_newer_term",
            property: Property::Safety,
            definition: "A server that handles a message carrying a term above its own adopts \
                it (Raft Figure 2, Rules for All Servers; §5.1): after an AppendEntries request, \
                an AppendEntries reply or a vote reply in term T, the server reports term T or \
                higher (a `role`) before its next step — its next message, timer, client request \
                or restart. Vote requests and pre-vote messages are not counted: a server that \
                still hears its leader rightly ignores a vote request (thesis §4.2.3), and a \
                pre-vote only proposes its term (§9.6).",
            bound: None,
        },
        build: |nodes, _| Box::new(AdoptsNewerTerm::new(nodes)),
    }
}

/// The term a handled message obliges its receiver to reach, and what the message is called
/// in the evidence; `None` for a message a correct server may handle without adopting its term.
fn binding_term(msg: &Msg) -> Option<(u64, &'static str)> {
    match *msg {
        Msg::RequestVote { .. } => None,
        Msg::VoteReply {
            granted: true,
            pre_vote: true,
            ..
        } => None,
        Msg::VoteReply {
            term,
            pre_vote: true,
            ..
        } => Some((term, "refused pre-vote")),
        Msg::VoteReply { term, .. } => Some((term, "vote reply")),
        Msg::AppendEntries { term, .. } => Some((term, "AppendEntries")),
        Msg::AppendReply { term, .. } => Some((term, "AppendEntries reply")),
    }
}

/// What a server last reported: its role and term, and when.
#[derive(Clone, Copy, Debug)]
struct Reported {
    role: Role,
    term: u64,
    at: Nanos,
}

/// A term a server owes: the message that carried it.
#[derive(Clone, Copy, Debug)]
struct Owed {
    term: u64,
    at: Nanos,
    from: u32,
    what: &'static str,
}

/// The `adopts_newer_term` invariant.
pub(crate) struct AdoptsNewerTerm {
    /// Per server, its last `role` report.
    reported: Vec<Option<Reported>>,
    /// Per server, the term the message of its current step obliges it to reach.
    owed: Vec<Option<Owed>>,
    violation: Option<Violation>,
}

impl AdoptsNewerTerm {
    fn new(nodes: usize) -> Self {
        AdoptsNewerTerm {
            reported: vec![None; nodes],
            owed: vec![None; nodes],
            violation: None,
        }
    }

    fn grow(&mut self, node: u32) -> usize {
        let n = node as usize;
        if self.reported.len() <= n {
            self.reported.resize(n + 1, None);
            self.owed.resize(n + 1, None);
        }
        n
    }

    fn term(&self, n: usize) -> u64 {
        self.reported[n].map_or(0, |r| r.term)
    }

    /// The step that handled the message is over at `at`: has the server caught up?
    fn settle(&mut self, at: Nanos, node: u32, view: &dyn RunView) {
        let n = self.grow(node);
        let Some(owed) = self.owed[n].take() else {
            return;
        };
        if self.term(n) >= owed.term || self.violation.is_some() {
            return;
        }
        let name = view.name(node);
        let mut evidence = Vec::new();
        if let Some(r) = self.reported[n] {
            evidence.push(format!(
                "{}  {name} is {} in term {}",
                format_instant(r.at),
                r.role.name(),
                r.term
            ));
        }
        let term = self.term(n);
        evidence.push(format!(
            "{}  {name} handles {}'s {} in term {}",
            format_instant(owed.at),
            view.name(owed.from),
            owed.what,
            owed.term
        ));
        evidence.push(format!(
            "{}  {name} takes its next step still in term {term}",
            format_instant(at)
        ));
        self.violation = Some(Violation {
            at,
            nodes: vec![name.to_string()],
            message: format!(
                "{name} handled {}'s {} in term {} but stayed in term {term}: a server that \
                 sees a higher term adopts it",
                view.name(owed.from),
                owed.what,
                owed.term
            ),
            evidence,
        });
    }
}

impl crate::node::Invariant for AdoptsNewerTerm {
    fn name(&self) -> String {
        "adopts_newer_term".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, _: &dyn RunView) {
        if let Observation::Role { role, term } = *obs {
            let n = self.grow(node);
            self.reported[n] = Some(Reported { role, term, at });
        }
    }

    fn reads_steps(&self) -> bool {
        true
    }

    fn on_step(
        &mut self,
        at: Nanos,
        node: u32,
        message: Option<(u32, &dyn Any)>,
        view: &dyn RunView,
    ) {
        self.settle(at, node, view);
        let Some((from, msg)) = message else { return };
        let Some((term, what)) = msg.downcast_ref::<Msg>().and_then(binding_term) else {
            return;
        };
        let n = self.grow(node);
        if term > self.term(n) {
            self.owed[n] = Some(Owed {
                term,
                at,
                from,
                what,
            });
        }
    }

    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        for node in 0..self.owed.len() as u32 {
            self.settle(now, node, view);
        }
    }

    fn status(&self) -> Status {
        match &self.violation {
            Some(v) => Status::Violated(v.clone()),
            None => Status::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Invariant;
    use crate::node::testing::View;

    fn view() -> View {
        View::new(&["A", "B", "C"], 100)
    }

    fn role(role: Role, term: u64) -> Observation {
        Observation::Role { role, term }
    }

    fn reply(term: u64) -> Msg {
        Msg::AppendReply {
            term,
            success: false,
            match_index: 0,
            round: 0,
        }
    }

    #[test]
    fn a_leader_that_ignores_a_higher_term_in_a_reply_is_caught_at_its_next_step() {
        let view = view();
        let mut check = AdoptsNewerTerm::new(3);
        check.on_observation(10, 0, &role(Role::Leader, 3), &view);
        check.on_step(20, 0, Some((1, &reply(5) as &dyn Any)), &view);
        assert_eq!(check.status(), Status::Pass, "the step is not over yet");
        check.on_step(30, 0, None, &view);
        let Status::Violated(v) = check.status() else {
            panic!("a leader kept its term after a reply in a higher one");
        };
        assert_eq!(v.at, 30);
        assert_eq!(v.nodes, ["A"]);
        assert!(
            v.message
                .starts_with("A handled B's AppendEntries reply in term 5 but stayed in term 3"),
            "{}",
            v.message
        );
        assert_eq!(v.evidence.len(), 3, "{:?}", v.evidence);
    }

    #[test]
    fn a_server_that_steps_down_in_the_same_step_passes() {
        let view = view();
        let mut check = AdoptsNewerTerm::new(3);
        check.on_observation(10, 0, &role(Role::Leader, 3), &view);
        check.on_step(20, 0, Some((1, &reply(5) as &dyn Any)), &view);
        check.on_observation(20, 0, &role(Role::Follower, 5), &view);
        check.on_step(30, 0, None, &view);
        check.on_end(&view);
        assert_eq!(check.status(), Status::Pass);
    }

    #[test]
    fn the_last_step_of_a_run_is_settled_at_its_end() {
        let view = view();
        let mut check = AdoptsNewerTerm::new(3);
        check.on_observation(10, 2, &role(Role::Follower, 1), &view);
        let append = Msg::AppendEntries {
            term: 2,
            prev_log_index: 0,
            prev_log_term: 0,
            entries: Vec::new(),
            leader_commit: 0,
            round: 1,
        };
        check.on_step(20, 2, Some((0, &append as &dyn Any)), &view);
        check.on_end(&view);
        let Status::Violated(v) = check.status() else {
            panic!("the run's last step escaped");
        };
        assert!(v.message.contains("C handled A's AppendEntries in term 2"));
    }

    #[test]
    fn vote_requests_and_proposed_terms_bind_nobody() {
        let view = view();
        let mut check = AdoptsNewerTerm::new(3);
        check.on_observation(10, 1, &role(Role::Follower, 4), &view);
        let vote = |pre_vote| Msg::RequestVote {
            term: 9,
            last_log_index: 0,
            last_log_term: 0,
            pre_vote,
        };
        let granted_pre_vote = Msg::VoteReply {
            term: 9,
            granted: true,
            pre_vote: true,
            refused: None,
        };
        for msg in [vote(false), vote(true), granted_pre_vote] {
            check.on_step(20, 1, Some((2, &msg as &dyn Any)), &view);
        }
        check.on_step(30, 1, None, &view);
        assert_eq!(check.status(), Status::Pass);
        // A lower or equal term binds nobody either.
        check.on_step(40, 1, Some((2, &reply(4) as &dyn Any)), &view);
        check.on_end(&view);
        assert_eq!(check.status(), Status::Pass);
    }
}
