//! The fuzz targets' inputs as ordinary tests, on stable Rust: every regression input (a crash
//! fuzzing once found, kept under `fuzz/regressions/<target>/`), every seed and, when present,
//! every corpus file, fed through the targets' own code (`fuzz/src/entries.rs`, compiled in
//! here). What fuzzing checks, these check on every `cargo test`: no input panics, and a
//! valid one still runs to a verdict within tight limits.
//!
//! Also the deepest inputs by construction: nesting far beyond any real file, which once
//! overflowed the stack (exit 134) and must now be a located error (exit 2).

use crate::common;

#[path = "../fuzz/src/entries.rs"]
#[allow(dead_code)]
mod entries;

use std::fs;
use std::path::{Path, PathBuf};

use common::{root, sim};
use entries::Importer;

/// The files directly under `dir` (none when it does not exist), in name order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Every input kept for `target`: regressions, seeds, and the local corpus if seeded.
fn inputs(target: &str) -> Vec<PathBuf> {
    ["regressions", "seeds", "corpus"]
        .iter()
        .flat_map(|kind| files(&root().join("fuzz").join(kind).join(target)))
        .collect()
}

#[test]
fn every_scenario_input_parses_or_is_refused_and_valid_ones_run() {
    let mut inputs = inputs("scenario");
    // The bundled scenarios are the scenario target's first seeds.
    let mut stack = vec![root().join("scenarios")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "toml")
                && p.file_name().unwrap() != "regressions.toml"
            {
                inputs.push(p);
            }
        }
    }
    // A corpus file may vanish while a fuzzer reduces its corpus: skipped.
    let valid = inputs
        .iter()
        .filter_map(|p| fs::read(p).ok())
        .filter(|bytes| entries::scenario(bytes))
        .count();
    assert!(
        valid >= 50,
        "the bundled scenarios are valid: {valid} of {}",
        inputs.len()
    );
}

#[test]
fn generated_scenarios_kept_as_regressions_or_samples_run() {
    // `run_generated` inputs are kept rendered (TOML), so they need no `arbitrary` here; the
    // seeds are samples of what the generator writes.
    let kept: Vec<PathBuf> = ["regressions", "seeds"]
        .iter()
        .flat_map(|kind| files(&root().join("fuzz").join(kind).join("run_generated")))
        .collect();
    assert!(!kept.is_empty());
    for p in kept {
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            entries::scenario_text(&text),
            "{} is a valid scenario",
            p.display()
        );
    }
}

#[test]
fn every_history_input_is_read_or_refused() {
    for (target, importer) in [
        ("history_json", Importer::Json),
        ("history_jepsen", Importer::Jepsen),
        ("history_edn", Importer::Edn),
    ] {
        for bytes in inputs(target).iter().filter_map(|p| fs::read(p).ok()) {
            entries::history(importer, &bytes);
        }
    }
}

#[test]
fn the_third_party_histories_are_read_by_their_importer() {
    let Some(dir) = [
        std::env::var_os("SIM_LIN_DATA").map(PathBuf::from),
        Some(root().join("../shared/data/linearizability")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("MANIFEST.tsv").is_file()) else {
        eprintln!("*** linearizability data set not found (SIM_LIN_DATA): SKIPPED ***");
        return;
    };
    let mut stack = vec![dir];
    let mut read = 0;
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let importer = match p.extension().and_then(|e| e.to_str()) {
                Some("edn") => Importer::Edn,
                Some("log") => Importer::Jepsen,
                _ => continue,
            };
            // The large ones only parse here: the checker's budget is the fuzz one.
            if fs::metadata(&p).unwrap().len() <= 256 * 1024 {
                read += usize::from(entries::history(importer, &fs::read(&p).unwrap()));
            }
        }
    }
    assert!(read > 0);
}

/// `sim ARGS FILE` on `text` written to a scratch file: the exit code and stderr.
fn sim_on(args: &[&str], name: &str, text: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("sim-fuzzreg-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    let mut all = args.to_vec();
    let p = path.display().to_string();
    all.push(&p);
    let out = sim(&all);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nesting_far_deeper_than_any_history_is_a_located_error_not_a_stack_overflow() {
    let d = 100_000;
    let deep = |open: &str, close: &str| open.repeat(d) + &close.repeat(d);
    let cases = [
        ("deep.edn", deep("[", "]")),
        ("deep-set.edn", deep("#{", "}")),
        ("deep-tags.edn", "#a ".repeat(d) + "1"),
        (
            "deep-discards.edn",
            "[".to_string() + &"#_ ".repeat(d) + "1]",
        ),
        (
            "deep.json",
            format!("{{\"format\":\"sim-history\",\"ops\":{}}}", deep("[", "]")),
        ),
        (
            "deep.log",
            format!(
                "INFO  jepsen.util - 0\t:invoke\t:write\t{}\n",
                "(".repeat(d)
            ),
        ),
    ];
    for (name, text) in cases {
        let (code, err) = sim_on(&["check"], name, &text);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(
            err.contains(&format!("{name}:1:"))
                && err.contains("expected at most 128 levels of nesting"),
            "{name}: {err}"
        );
    }
}

#[test]
fn nesting_far_deeper_than_any_scenario_is_a_located_error_not_a_stack_overflow() {
    let d = 100_000;
    for (name, text) in [
        (
            "deep-array.toml",
            format!("a = {}{}\n", "[".repeat(d), "]".repeat(d)),
        ),
        (
            "deep-table.toml",
            format!("a = {}1{}\n", "{b=".repeat(d), "}".repeat(d)),
        ),
    ] {
        let (code, err) = sim_on(&["run"], name, &text);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains("nested less deeply"), "{name}: {err}");
    }
}
