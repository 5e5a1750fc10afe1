//! The primary-backup example (examples/primary-backup/), a protocol written outside `src/`:
//! through the test harness (`sim::testing`), where the sound design holds over many seeds and
//! the bugged one fails with a message that says what, when, which seed, where the shrunk
//! scenario is and how to replay it; and through the example's own binary.

#[path = "../examples/primary-backup/invariant.rs"]
mod invariant;
#[path = "../examples/primary-backup/protocol.rs"]
mod protocol;

use crate::common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::Command;

use protocol::PrimaryBackup;
use sim::node::Status;
use sim::run::RunOptions;
use sim::run::registry::Registry;
use sim::testing::Sweep;

const SOUND: &str = "examples/primary-backup/scenario.toml";
const BUGGED: &str = "examples/primary-backup/bugged.toml";
const REPLAY: &str = "cargo run --release --example primary-backup --";

/// Cargo runs tests from the package's root: a scenario path relative to it is what a reader
/// of the message would type.
fn path(file: &str) -> String {
    assert_eq!(std::env::current_dir().unwrap(), common::root());
    file.to_string()
}

#[test]
fn the_sound_design_loses_no_acknowledged_write_over_200_seeds() {
    let passed = Sweep::<PrimaryBackup>::new(&path(SOUND))
        .seeds(0..200)
        .replay_with(REPLAY)
        .run();
    assert_eq!(passed.seeds, 200);
    assert_eq!(
        passed.checked,
        ["election_safety", "acked_writes_survive", "linearizable"]
    );
}

#[test]
fn in_the_sound_run_the_backup_takes_over_with_every_acknowledged_write() {
    let registry = Registry::builtin().with::<PrimaryBackup>();
    let scenario = registry.load(&common::root().join(SOUND)).unwrap();
    let options = RunOptions {
        capture: true,
        ..RunOptions::default()
    };
    let out = registry.run(&scenario, &options, None).unwrap();
    assert_eq!(
        out.report.exit_code(),
        sim::run::exit::ExitCode::Held,
        "{:?}",
        out.report.invariants
    );
    let acked = &out.report.invariants[1];
    assert_eq!(acked.name, "acked_writes_survive");
    assert_eq!(acked.status, Status::Pass);
    let detail = acked.detail.as_deref().unwrap();
    let count: u64 = detail.split(' ').next().unwrap().parse().unwrap();
    assert!(count > 10, "the clients' writes were answered: {detail}");
    // The fail-over happened, as facts of the protocol's own in the trace.
    let records = out.records.unwrap();
    let promoted: Vec<&String> = records
        .iter()
        .filter(|l| l.contains(r#""promoted""#))
        .collect();
    assert_eq!(promoted.len(), 1, "one take-over");
    assert!(
        promoted[0].contains(r#""node":"B""#) && promoted[0].contains(r#""epoch":2"#),
        "{}",
        promoted[0]
    );
}

#[test]
fn the_bugged_design_fails_the_harness_with_a_message_that_replays_it() {
    let caught = catch_unwind(AssertUnwindSafe(|| {
        Sweep::<PrimaryBackup>::new(&path(BUGGED))
            .seeds(0..50)
            .replay_with(REPLAY)
            .run()
    }));
    let payload = caught.expect_err("the bugged primary loses an acknowledged write");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted panic message");
    let seed: u64 = message
        .strip_prefix("seed ")
        .and_then(|m| m.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("the message starts with the seed:\n{message}"));
    let written = format!("target/sim-failures/primary-backup-bugged-seed-{seed}.toml");
    for part in [
        format!(
            "seed {seed} of {} fails acked_writes_survive at ",
            path(BUGGED)
        ),
        "  invariant  acked_writes_survive\n".to_string(),
        "  message    A acknowledged write #".to_string(),
        "but B took over in epoch 2".to_string(),
        "an acknowledged write is lost\n".to_string(),
        "s of virtual time\n".to_string(),
        format!("  seed       {seed}\n"),
        format!("  shrunk     {written} (faults "),
        format!("  replay     {REPLAY} run {written} --seed {seed}"),
    ] {
        assert!(message.contains(&part), "{part:?} in:\n{message}");
    }
    // The shrunk scenario fails on its own, on the same invariant.
    let registry = Registry::builtin().with::<PrimaryBackup>();
    let shrunk = registry
        .load(&common::root().join(&written))
        .expect("the shrunk scenario reads back");
    assert_eq!(shrunk.seed, seed);
    let out = registry.run(&shrunk, &RunOptions::default(), None).unwrap();
    let failed: Vec<&str> = out
        .report
        .invariants
        .iter()
        .filter(|i| matches!(i.status, Status::Violated(_)))
        .map(|i| i.name.as_str())
        .collect();
    assert!(failed.contains(&"acked_writes_survive"), "{failed:?}");
}

/// The example's binary, which a plain `cargo test` builds beside the tests and
/// `scripts/test.sh` builds first (`cargo test --test e2e` alone does not): `None` when it was
/// not built.
fn example_binary() -> Option<PathBuf> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let bin = deps
        .parent()?
        .join("examples")
        .join(format!("primary-backup{}", std::env::consts::EXE_SUFFIX));
    bin.exists().then_some(bin)
}

#[test]
fn the_example_binary_runs_its_scenario_through_the_whole_cli() {
    let Some(bin) = example_binary() else {
        // Under CI a skip would pass silently: there the binary must be there.
        assert!(
            std::env::var_os("CI").is_none(),
            "the primary-backup example is not built (scripts/test.sh builds it)"
        );
        eprintln!(
            "skipped: the primary-backup example is not built (scripts/test.sh, or a plain \
             cargo test, builds it)"
        );
        return;
    };
    let run = |args: &[&str]| {
        Command::new(&bin)
            .args(args)
            .current_dir(common::root())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let sound = run(&["run", SOUND]);
    let text = String::from_utf8_lossy(&sound.stdout);
    assert_eq!(sound.status.code(), Some(0), "{text}");
    assert!(text.contains("acked_writes_survive"), "{text}");
    let bugged = run(&["sweep", BUGGED, "--seeds", "0..20"]);
    let text = String::from_utf8_lossy(&bugged.stdout);
    assert_eq!(bugged.status.code(), Some(1), "{text}");
    assert!(text.contains("acked_writes_survive"), "{text}");
    // Its replay lines name this program, not `sim`, which does not know its protocol.
    let program = bin.display().to_string();
    assert!(
        text.contains(&format!("replay      {program} run {BUGGED} --seed ")),
        "{text}"
    );
    assert!(!text.contains("sim run "), "{text}");
    // Its messages are told in its own words.
    let replay = run(&["replay", SOUND, "--seed", "1"]);
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(text.contains("Replicate(#1 "), "{text}");
    // Its two scenarios are lessons: each shows what its [expect] says.
    let lessons = run(&["lessons", "examples/primary-backup"]);
    let text = String::from_utf8_lossy(&lessons.stdout);
    assert_eq!(lessons.status.code(), Some(0), "{text}");
    assert!(text.contains("lessons: 2 run, 2 met"), "{text}");
    // The whole catalogue knows it: `list` and `schema` too.
    let list = run(&["list", "protocols"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("primary-backup"));
    let schema = run(&["schema"]);
    assert!(String::from_utf8_lossy(&schema.stdout).contains("failover_after"));
}
