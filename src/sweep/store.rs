//! The `--out DIR` of a sweep: what makes it resumable, and what `sim merge` reads.
//!
//! `DIR/sweep.json` names the sweep (scenario file, a hash of its bytes, seed range, shard);
//! `DIR/results.jsonl` holds one [`SeedResult`] per line, appended and flushed as each seed
//! finishes, so an interruption — SIGINT, a killed pod — loses at most the seeds still running.
//! A line cut short by a kill mid-write has no newline yet: it is ignored (and cut off the file),
//! and its seed runs again. Running the same sweep into the same DIR resumes it; a different
//! scenario or range there is refused unless `--force`, which starts over.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{SeedRange, SeedResult, Shard};

/// The name of a sweep directory's manifest, a [`Manifest`] as JSON.
pub(crate) const SWEEP_FILE: &str = "sweep.json";
/// The name of a sweep directory's results: one [`SeedResult`] JSON line per finished seed,
/// appended as seeds finish, so an interrupted sweep resumes where it stopped.
pub(crate) const RESULTS_FILE: &str = "results.jsonl";
/// The `format` of `sweep.json`.
pub(crate) const FORMAT: &str = "sim-sweep/1";

/// `sweep.json`: which sweep a directory holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Always [`FORMAT`]: a directory written by another layout is refused, not misread.
    pub(crate) format: String,
    /// The scenario file as given on the command line (replay lines name it).
    pub(crate) file: String,
    /// The scenario's `name`.
    pub(crate) scenario: String,
    /// [`super::scenario_hash`] of the file's bytes.
    pub(crate) scenario_hash: String,
    /// The range of seeds this sweep covers.
    pub(crate) seeds: SeedRange,
    /// The shard (`--shard I/N`) this directory holds; `None` for the whole range.
    pub(crate) shard: Option<Shard>,
    /// Whether the last sweep into this directory ran with `--fail-fast`.
    pub(crate) fail_fast: bool,
    /// The `--limit NAME=VALUE` overrides every seed ran with, as given: a seed's verdict
    /// depends on them, so a resume with others is another sweep. Absent when there were none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) limits: Vec<String>,
}

impl Manifest {
    /// Why `other` is not the same sweep as `self`, if it is not.
    pub(crate) fn differs(&self, other: &Manifest) -> Option<String> {
        if self.scenario_hash != other.scenario_hash {
            return Some(format!(
                "it holds a sweep of another scenario ({} with hash {}; this is {} with hash {})",
                other.file, other.scenario_hash, self.file, self.scenario_hash
            ));
        }
        if self.seeds != other.seeds {
            return Some(format!(
                "it holds a sweep of seeds {}, not {}",
                other.seeds, self.seeds
            ));
        }
        if self.limits != other.limits {
            let show = |l: &[String]| match l {
                [] => "no --limit".to_string(),
                l => l
                    .iter()
                    .map(|a| format!("--limit {a}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            return Some(format!(
                "it holds a sweep run with {}, not {}",
                show(&other.limits),
                show(&self.limits)
            ));
        }
        if self.shard != other.shard {
            let show =
                |s: Option<Shard>| s.map_or("no shard".to_string(), |s| format!("shard {s}"));
            return Some(format!(
                "it holds {}, not {}",
                show(other.shard),
                show(self.shard)
            ));
        }
        None
    }
}

/// An open `--out` directory, ready to append results.
pub(crate) struct Store {
    results_path: PathBuf,
    results: File,
}

impl Store {
    /// Opens `dir` for the sweep `manifest`. Returns the results already there (a resume), or
    /// none when the directory is new or `force` starts over.
    pub(crate) fn open(
        dir: &Path,
        manifest: &Manifest,
        force: bool,
    ) -> Result<(Store, Vec<SeedResult>), String> {
        let show = |p: &Path| p.display().to_string();
        fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create the directory: {e}", show(dir)))?;
        let sweep_path = dir.join(SWEEP_FILE);
        let results_path = dir.join(RESULTS_FILE);
        let mut earlier = Vec::new();
        if force {
            remove_if_present(&results_path)?;
        } else if sweep_path.exists() {
            let found = read_manifest(&sweep_path)?;
            if let Some(why) = manifest.differs(&found) {
                return Err(format!(
                    "{}: {why}; pass --force to start over there, or choose another --out",
                    show(dir)
                ));
            }
            if results_path.exists() {
                let (results, valid) = read_results(&results_path, manifest)?;
                cut_to(&results_path, valid)?;
                earlier = results;
            }
        } else if results_path.exists() {
            return Err(format!(
                "{}: exists without {SWEEP_FILE}, so it cannot be resumed; pass --force to start over",
                show(&results_path)
            ));
        }
        let text = serde_json::to_string_pretty(manifest).map_err(|e| e.to_string())? + "\n";
        fs::write(&sweep_path, text)
            .map_err(|e| format!("{}: cannot write: {e}", show(&sweep_path)))?;
        let results = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&results_path)
            .map_err(|e| format!("{}: cannot open: {e}", show(&results_path)))?;
        Ok((
            Store {
                results_path,
                results,
            },
            earlier,
        ))
    }

    /// Appends one result as a line and flushes it (one `write` call: a kill leaves at most one
    /// line without its newline).
    pub(crate) fn append(&mut self, result: &SeedResult) -> Result<(), String> {
        let line = result.to_line() + "\n";
        self.results
            .write_all(line.as_bytes())
            .and_then(|()| self.results.flush())
            .map_err(|e| format!("{}: cannot append: {e}", self.results_path.display()))
    }
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: cannot remove: {e}", path.display())),
    }
}

/// Drops a torn last line, so that appending starts on a fresh line.
fn cut_to(path: &Path, len: u64) -> Result<(), String> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    file.set_len(len).map_err(|e| {
        format!(
            "{}: cannot truncate its torn last line: {e}",
            path.display()
        )
    })
}

/// Reads `sweep.json`.
pub(crate) fn read_manifest(path: &Path) -> Result<Manifest, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a sweep manifest ({e}); expected the sweep.json that `sim sweep --out` writes",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if m.format != FORMAT {
        return Err(format!(
            "{}: format `{}`, expected `{FORMAT}`",
            path.display(),
            m.format
        ));
    }
    Ok(m)
}

/// Reads `results.jsonl`: every complete line must be a result of a seed of this sweep. A last
/// line with no newline was torn by a kill and is ignored. Returns the results and the length of
/// the valid prefix in bytes.
pub(crate) fn read_results(
    path: &Path,
    manifest: &Manifest,
) -> Result<(Vec<SeedResult>, u64), String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse_results(&bytes, manifest)
        .map_err(|(line, why)| format!("{}:{line}: {why}", path.display()))
}

/// [`read_results`] on bytes; an error is (line number, what is wrong).
fn parse_results(
    bytes: &[u8],
    manifest: &Manifest,
) -> Result<(Vec<SeedResult>, u64), (usize, String)> {
    let mut results = Vec::new();
    let mut valid = 0usize;
    for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let Some(body) = line.strip_suffix(b"\n") else {
            break; // torn by a kill mid-write: that seed runs again
        };
        let number = i + 1;
        if !body.iter().all(u8::is_ascii_whitespace) {
            let result: SeedResult = serde_json::from_slice(body).map_err(|e| {
                (
                    number,
                    format!("column {}: not a seed result ({e})", e.column()),
                )
            })?;
            let in_shard = manifest.seeds.contains(result.seed)
                && manifest
                    .shard
                    .is_none_or(|s| (result.seed - manifest.seeds.start) % s.count == s.index);
            if !in_shard {
                let shard = manifest
                    .shard
                    .map(|s| format!(" shard {s}"))
                    .unwrap_or_default();
                return Err((
                    number,
                    format!(
                        "seed {} is not in this sweep ({}{shard})",
                        result.seed, manifest.seeds
                    ),
                ));
            }
            results.push(result);
        }
        valid += line.len();
    }
    Ok((results, valid as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::results::tests::result;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            file: "s.toml".into(),
            scenario: "s".into(),
            scenario_hash: "00".into(),
            seeds: SeedRange { start: 1, end: 11 },
            shard: None,
            fail_fast: false,
            limits: Vec::new(),
        }
    }

    fn lines(seeds: &[u64]) -> String {
        seeds
            .iter()
            .map(|&s| result(s, &[]).to_line() + "\n")
            .collect()
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut() {
        let mut text = lines(&[1, 2]);
        let whole = text.len() as u64;
        text.push_str(&result(3, &[]).to_line()[..20]);
        let (results, valid) = parse_results(text.as_bytes(), &manifest()).unwrap();
        assert_eq!(results.iter().map(|r| r.seed).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(valid, whole);
    }

    #[test]
    fn a_corrupt_complete_line_or_a_foreign_seed_is_an_error_with_its_line() {
        let text = lines(&[1]) + "{not json}\n";
        let (line, why) = parse_results(text.as_bytes(), &manifest()).unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("not a seed result"), "{why}");
        let text = lines(&[1, 42]);
        let (line, why) = parse_results(text.as_bytes(), &manifest()).unwrap_err();
        assert_eq!(line, 2);
        assert!(
            why.contains("seed 42 is not in this sweep (1..11)"),
            "{why}"
        );
        let mut m = manifest();
        m.shard = Some(Shard { index: 1, count: 2 });
        let (_, why) = parse_results(lines(&[2, 3]).as_bytes(), &m).unwrap_err();
        assert!(
            why.contains("seed 3 is not in this sweep (1..11 shard 1/2)"),
            "{why}"
        );
    }

    #[test]
    fn another_scenario_range_or_shard_is_another_sweep() {
        let m = manifest();
        assert_eq!(m.differs(&m.clone()), None);
        let mut other = m.clone();
        other.scenario_hash = "ff".into();
        assert!(m.differs(&other).unwrap().contains("another scenario"));
        let mut other = m.clone();
        other.seeds.end = 12;
        assert!(
            m.differs(&other)
                .unwrap()
                .contains("seeds 1..12, not 1..11")
        );
        let mut other = m.clone();
        other.shard = Some(Shard { index: 0, count: 2 });
        assert!(
            m.differs(&other)
                .unwrap()
                .contains("shard 0/2, not no shard")
        );
        let mut other = m.clone();
        other.fail_fast = true;
        assert_eq!(
            m.differs(&other),
            None,
            "--fail-fast may change between resumes"
        );
    }

    #[test]
    fn other_limits_are_another_sweep_and_none_are_not_written() {
        let m = manifest();
        let mut other = m.clone();
        other.limits = vec!["events=5000".into()];
        assert_eq!(
            m.differs(&other).unwrap(),
            "it holds a sweep run with --limit events=5000, not no --limit"
        );
        assert!(
            other
                .differs(&m)
                .unwrap()
                .ends_with("not --limit events=5000")
        );
        // A manifest from before `--limit` existed reads as one without.
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("limits"), "{json}");
        let back: Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let json = serde_json::to_string(&other).unwrap();
        assert!(json.contains(r#""limits":["events=5000"]"#), "{json}");
    }
}
