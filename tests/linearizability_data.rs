//! Third-party histories with published verdicts (`../shared/data/linearizability`): every file
//! goes through the real importers and checker and must get the verdict its project asserts.
//!
//! The data lives outside the repository. It is looked for in `$SIM_LIN_DATA`, then beside the
//! repository, then at `/work/shared/data/linearizability`; when none exists the tests say so
//! loudly and pass, so that a clean clone elsewhere still builds and tests.

use std::path::PathBuf;

use crate::common;

use sim::check::linearizable::{Limits, LinVerdict, check};
use sim::workload::history::import::import;

/// One MANIFEST.tsv row.
struct Entry {
    file: String,
    ops: usize,
    expected_ok: bool,
}

fn data_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SIM_LIN_DATA").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/linearizability")),
        Some(PathBuf::from("/work/shared/data/linearizability")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("MANIFEST.tsv").is_file());
    if found.is_none() {
        eprintln!(
            "\n*** linearizability data set not found: set SIM_LIN_DATA to the directory holding \
             MANIFEST.tsv. These tests were SKIPPED. ***\n"
        );
    }
    found
}

fn manifest(dir: &std::path::Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv reads");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Entry {
                file: cols[0].to_string(),
                ops: cols[2].parse().expect("an ops count"),
                expected_ok: match cols[3] {
                    "ok" => true,
                    "violation" => false,
                    other => panic!("unknown expected verdict {other}"),
                },
            }
        })
        .collect()
}

#[test]
fn every_file_imports_with_the_manifests_operation_count() {
    let Some(dir) = data_dir() else { return };
    let entries = manifest(&dir);
    assert!(
        entries.len() >= 100,
        "the manifest lists the whole data set"
    );
    let mut wrong = Vec::new();
    for e in &entries {
        let text = std::fs::read_to_string(dir.join(&e.file)).expect("the file reads");
        let (_, history) = import(&text, None).unwrap_or_else(|err| panic!("{}:{err}", e.file));
        if history.ops.len() != e.ops {
            wrong.push(format!(
                "{}: {} ops, manifest says {}",
                e.file,
                history.ops.len(),
                e.ops
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_file_gets_its_published_verdict() {
    let Some(dir) = data_dir() else { return };
    let mut wrong = Vec::new();
    for e in manifest(&dir) {
        let text = std::fs::read_to_string(dir.join(&e.file)).expect("the file reads");
        let (_, history) = import(&text, None).expect("imports");
        let model = history
            .model
            .clone()
            .expect("every importer implies a model");
        // A runaway search must not take the machine with it: one minute per file at most.
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let too_long = move || start.elapsed().as_secs() >= 60;
        let limits = Limits {
            max_steps: None,
            cancel: Some(&too_long),
            verdict_only: false,
        };
        let analysis =
            check(&history, &model, &limits).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let expected = if e.expected_ok {
            LinVerdict::Linearizable
        } else {
            LinVerdict::NotLinearizable
        };
        if analysis.verdict != expected {
            wrong.push(format!(
                "{}: got {:?}, expected {expected:?}",
                e.file, analysis.verdict
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// One file of each format and verdict, through the binary: the exit code is the verdict.
#[test]
fn the_binary_exits_with_the_published_verdict() {
    let Some(dir) = data_dir() else { return };
    for (file, code) in [
        ("jepsen/etcd_000.log", 1),
        ("jepsen/etcd_002.log", 0),
        ("kv/c10-ok.txt", 0),
        ("kv/c10-bad.txt", 1),
        ("knossos/cas-register/bad/bad-analysis.edn", 1),
        ("knossos/cas-register/good/memstress3-1.edn", 0),
    ] {
        let path = dir.join(file);
        let out = common::sim(&["check", path.to_str().unwrap(), "--json"]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let verdict = if code == 0 {
            "linearizable"
        } else {
            "not_linearizable"
        };
        assert_eq!(json["verdict"], verdict, "{file}");
    }
}

/// `sim bench check` agrees with the manifest on a few files and prints the comparison.
#[test]
fn the_bench_compares_with_porcupine_and_passes_when_verdicts_match() {
    let Some(dir) = data_dir() else { return };
    let out = common::sim(&[
        "bench",
        "check",
        dir.to_str().unwrap(),
        "--filter",
        "etcd_00",
        "--runs",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("file"), "{stdout}");
    assert!(stdout.contains("porcupine ms"));
    assert!(stdout.contains("jepsen/etcd_004.log"));
    assert!(stdout.contains("of 5 verdicts match"), "{stdout}");
}
