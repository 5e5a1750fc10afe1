use super::*;
use crate::protocols::naive_failover::NaiveFailover;

/// Naive fail-over under partitions: some seeds end with two masters.
const SPLIT: &str = crate::sweep::runner::tests::MIXED;

fn out_dir(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sim-testing-{}-{test}", std::process::id()))
}

#[test]
fn the_lowest_failing_seed_is_shrunk_written_and_told_the_same_for_any_number_of_threads() {
    let run = |jobs| {
        Sweep::<NaiveFailover>::new(SPLIT)
            .seeds((1..31).rev())
            .jobs(jobs)
            .replay_with("cargo run --release --")
            .out_dir(out_dir("split"))
            .try_run()
            .expect_err("a seed splits the brain")
    };
    let failed = run(3);
    assert_eq!(*failed, *run(1), "the same seed, the same story");
    assert_eq!(failed.file, "naive-failover.toml");
    assert!(
        ["election_safety", "no_split_brain"].contains(&failed.invariant.as_str()),
        "{failed}"
    );
    let file = failed.written.display().to_string();
    assert!(
        file.ends_with(&format!("mixed-seed-{}.toml", failed.seed)),
        "{file}"
    );
    let shrunk = failed.shrunk.as_ref().expect("shrunk");
    assert!(shrunk.contains("on its own"), "{shrunk}");
    assert_eq!(
        failed.replay,
        format!("cargo run --release -- run {file} --seed {}", failed.seed)
    );
    // The written scenario fails on its own, with the seed in it.
    let registry = Registry::builtin();
    let back = registry.load(&failed.written).unwrap();
    assert_eq!(back.seed, failed.seed);
    let out = registry
        .run(&back, &crate::run::RunOptions::default(), None)
        .unwrap();
    assert_eq!(out.report.verdict, crate::run::Verdict::Violation);
    let message = failed.to_string();
    for part in [
        format!(
            "seed {} of naive-failover.toml fails {}",
            failed.seed, failed.invariant
        ),
        format!("  message    {}", failed.message),
        format!("  shrunk     {file} (faults "),
        format!("  replay     {}", failed.replay),
        "of virtual time".to_string(),
    ] {
        assert!(message.contains(&part), "{part:?} in\n{message}");
    }
    let _ = std::fs::remove_dir_all(out_dir("split"));
}

#[test]
fn a_sweep_in_which_every_seed_holds_says_what_it_ran() {
    let sound = SPLIT.replace("[nemesis]", "[nemesis_off]");
    let sound = sound
        .lines()
        .filter(|l| !l.starts_with("until") && !l.starts_with("partition") && *l != "[nemesis_off]")
        .collect::<Vec<_>>()
        .join("\n");
    let passed = sweep::<NaiveFailover>(&sound, [5, 1, 3, 3]);
    assert_eq!(passed.seeds, 3);
    assert!(passed.events > 0);
    assert_eq!(passed.checked, ["election_safety", "no_split_brain"]);
}

/// A protocol that does nothing, named `idle`.
struct Idle;

#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct IdleConfig {}

impl Protocol for Idle {
    const NAME: &'static str = "idle";
    const SUMMARY: &'static str = "does nothing";
    type Msg = ();
    type Timer = ();
    type Config = IdleConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();
    fn new(
        _: crate::node::NodeId,
        _: &[crate::node::NodeId],
        _: &IdleConfig,
        _: Option<&crate::node::DiskOf<Self>>,
    ) -> Self {
        Idle
    }
    fn on_start(&mut self, _: &mut crate::node::Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut crate::node::Ctx<'_, Self>, _: crate::node::NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut crate::node::Ctx<'_, Self>, _: ()) {}
}

#[test]
#[should_panic(expected = "the scenario runs `naive-failover`, not `idle`")]
fn a_scenario_of_another_protocol_is_a_mistake_in_the_test() {
    sweep::<Idle>(SPLIT, 0..1);
}
