//! A second copy of a run, kept beside `sim step`'s cursor, that can show a node's state as
//! the protocol describes it (`Protocol::describe_state`).
//!
//! The stepper tells a run from its captured trace; the trace does not hold protocol state, so
//! the probe builds the very world `run::run` builds — same spec, seed, configuration and
//! clients — and advances it with the cursor. It observes nothing (its observer is `()`), so it
//! cannot change the run; a test pins that its trace hash at the end is the run's.

use crate::node::{Nanos, Protocol};
use crate::scenario::Scenario;
use crate::workload::Workload;
use crate::world::World;

use super::RunError;

/// A run that advances on demand and describes its nodes.
pub(crate) trait Probe {
    /// Runs every event due at or before `at` (never backwards: an earlier `at` does nothing).
    fn advance_to(&mut self, at: Nanos);
    /// Node `node`'s state in lines, as its protocol describes it; `None` while it is crashed.
    fn describe(&self, node: usize) -> Option<Vec<String>>;
    /// The trace hash of what ran so far (equal to the run's once it has run to the end).
    #[cfg_attr(not(test), allow(dead_code))]
    fn trace_hash(&self) -> String;
}

struct WorldProbe<P: Protocol>
where
    P::Api: Workload,
{
    world: World<P, (), <P::Api as Workload>::Client>,
    names: Vec<String>,
}

impl<P: Protocol> Probe for WorldProbe<P>
where
    P::Api: Workload,
{
    fn advance_to(&mut self, at: Nanos) {
        self.world.run_until(at.saturating_add(1));
    }

    fn describe(&self, node: usize) -> Option<Vec<String>> {
        let state = self.world.node(u32::try_from(node).ok()?)?;
        Some(state.describe_state(&self.names))
    }

    fn trace_hash(&self) -> String {
        self.world.trace_hash()
    }
}

/// The probe of `scenario` at `seed`, built as `run_protocol` builds its world. The scenario
/// must have run once already (`run::run` validates what this takes for granted).
pub(crate) fn probe<P: Protocol>(scenario: &Scenario, seed: u64) -> Result<Box<dyn Probe>, RunError>
where
    P::Api: Workload,
{
    let config: P::Config = scenario.protocol_config()?;
    let workload_options = scenario.workload_options()?;
    let clients = match &scenario.workload {
        Some(w) => <P::Api as Workload>::clients(w, &workload_options, scenario.script.as_deref()),
        None => Vec::new(),
    };
    let (spec, _) = scenario.draw_world(seed);
    let world = World::with_clients(spec, config, (), clients);
    Ok(Box::new(WorldProbe::<P> {
        world,
        names: scenario.nodes.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::run::{RunOptions, registry::installed};
    use crate::scenario::Scenario;

    #[test]
    fn the_probe_runs_the_very_run_of_run_run() {
        for file in [
            "scenarios/raft/leader-crash.toml",
            "scenarios/raft/kv-linearizable.toml",
            "scenarios/txn/tcc-empty-rollback.toml",
        ] {
            let scenario = Scenario::load(Path::new(file)).unwrap();
            let options = RunOptions {
                seed: Some(3),
                ..RunOptions::default()
            };
            let report = crate::run::run(&scenario, &options).unwrap().report;
            let mut probe = installed().probe(&scenario, 3).unwrap();
            probe.advance_to(scenario.duration / 2);
            probe.advance_to(u64::MAX - 1);
            assert_eq!(probe.trace_hash(), report.trace_hash, "{file}");
        }
    }
}
