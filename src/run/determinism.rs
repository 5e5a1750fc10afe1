//! Determinism, checked rather than assumed (the madsim habit): run a seed twice, compare the
//! traces record by record, and name the first record that differs.

/// Where two traces first part ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Divergence {
    /// The 0-based record number.
    pub(crate) record: usize,
    /// That record in the first run (`None`: that run had already ended).
    pub(crate) first: Option<String>,
    /// The same record in the second run (`None`: that run had already ended).
    pub(crate) second: Option<String>,
}

/// The first record at which two captured traces differ, if any.
pub(crate) fn first_divergence(first: &[String], second: &[String]) -> Option<Divergence> {
    let record = first
        .iter()
        .zip(second)
        .position(|(a, b)| a != b)
        .or((first.len() != second.len()).then(|| first.len().min(second.len())))?;
    Some(Divergence {
        record,
        first: first.get(record).cloned(),
        second: second.get(record).cloned(),
    })
}

/// `t=1.234567s node=A deliver` for a trace line, or a note that the run had ended.
pub(crate) fn describe(line: Option<&str>) -> String {
    let Some(value) = line.and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok()) else {
        return "(this run had already ended)".to_string();
    };
    let t = value["t"].as_u64().unwrap_or(0);
    format!(
        "t={} node={} {}",
        crate::node::format_duration(t),
        value.get("node").and_then(|n| n.as_str()).unwrap_or("-"),
        value["kind"].as_str().unwrap_or("?")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use schemars::JsonSchema;
    use serde::Deserialize;

    use super::*;
    use crate::node::{Ctx, DiskOf, NodeId, Protocol};
    use crate::run::trace_file;
    use crate::world::{Clock, Cluster, LinkModel, Observer, Record, World, WorldSpec};

    /// A protocol with the bug a simulator exists to catch: hidden state shared across runs
    /// (here a global counter, as a `HashMap` iteration order or a wall-clock read would be).
    struct Leaky;
    static LEAK: AtomicU64 = AtomicU64::new(0);

    #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
    struct NoConfig {}

    impl Protocol for Leaky {
        const NAME: &'static str = "leaky";
        const SUMMARY: &'static str = "nondeterministic on purpose";
        type Msg = u64;
        type Timer = ();
        type Config = NoConfig;
        type Durable = ();
        type Api = crate::node::Kv;
        type Fact = crate::node::NoFacts;
        type Record = ();
        fn new(_: NodeId, _: &[NodeId], _: &NoConfig, _: Option<&DiskOf<Self>>) -> Self {
            Leaky
        }
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(1_000_000, ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            // The fifth tick of each run (A at 3 ms) sends something that differs between runs.
            let n = LEAK.fetch_add(1, Ordering::Relaxed);
            ctx.broadcast(if n % 20 == 4 { n } else { 0 });
            ctx.set_timer(1_000_000, ());
        }
    }

    #[derive(Default)]
    struct Capture(Vec<String>);
    impl Observer<Leaky> for Capture {
        fn on_record(&mut self, r: &Record<'_, Leaky>, cluster: &Cluster) {
            self.0.push(trace_file::line(r, cluster));
        }
    }

    fn capture() -> (Vec<String>, String) {
        let spec = WorldSpec {
            seed: 3,
            names: vec!["A".into(), "B".into()],
            duration: 20_000_000,
            max_events: 10_000,
            link: LinkModel::default(),
            clocks: vec![Clock::honest(); 2],
            faults: vec![],
            timing: Default::default(),
        };
        let mut w = World::new(spec, NoConfig {}, Capture::default());
        w.run();
        let hash = w.trace_hash();
        (w.into_observer().0, hash)
    }

    #[test]
    fn hidden_state_is_caught_and_the_first_differing_record_named() {
        let (a, hash_a) = capture();
        let (b, hash_b) = capture();
        assert_ne!(hash_a, hash_b, "the trace hash sees the difference");
        let d = first_divergence(&a, &b).expect("the runs differ");
        assert_eq!(
            a[..d.record],
            b[..d.record],
            "everything before it is identical"
        );
        let first = d.first.unwrap();
        assert!(first.contains(r#""kind":"send""#), "{first}");
        assert_eq!(
            describe(Some(&first)),
            "t=3ms node=A send",
            "A's third tick, the fifth of the run"
        );
    }

    #[test]
    fn identical_traces_have_no_divergence_and_a_shorter_one_diverges_at_its_end() {
        let a: Vec<String> = vec!["x".into(), "y".into()];
        assert_eq!(first_divergence(&a, &a), None);
        let d = first_divergence(&a, &a[..1]).unwrap();
        assert_eq!((d.record, d.second), (1, None));
        assert_eq!(describe(None), "(this run had already ended)");
    }
}
