//! `sim merge`: shard directories back into one sweep.
//!
//! The directories must be the shards of one sweep — the same scenario bytes (hash) and seed
//! range, every shard of the same count exactly once — and each must be complete. Because a
//! [`Summary`] depends only on the set of results, the merged table is the one the unsharded
//! sweep prints, byte for byte. Under `--fail-fast` a shard is complete once it holds every seed
//! up to its own first failure; the merged summary then cuts at the lowest failure of all, which
//! every other shard has run past: again the unsharded answer.

use std::path::{Path, PathBuf};

use super::store::{self, Manifest, RESULTS_FILE, SWEEP_FILE};
use super::{SeedResult, Shard, Summary};

/// Merged shards: the whole sweep, and each shard's own summary (for JUnit).
#[derive(Debug)]
pub(crate) struct Merged {
    /// The whole sweep: every shard's results together, as if one process had run them.
    pub(crate) whole: Summary,
    /// In shard order.
    pub(crate) shards: Vec<Summary>,
}

/// One directory as read.
struct Part {
    dir: PathBuf,
    manifest: Manifest,
    shard: Shard,
    results: Vec<SeedResult>,
}

/// Reads and checks the shard directories, then merges them.
pub(crate) fn merge(dirs: &[PathBuf]) -> Result<Merged, String> {
    let mut parts = dirs
        .iter()
        .map(|d| read_part(d))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = parts.first() else {
        return Err("expected at least one directory written by `sim sweep --out`".to_string());
    };
    let (reference, count) = (first.manifest.clone(), first.shard.count);
    for p in &parts {
        if let Some(why) = reference.differs_ignoring_shard(&p.manifest) {
            return Err(format!(
                "{}: not a shard of the same sweep as {}: {why}",
                show(&p.dir),
                show(&first.dir)
            ));
        }
        if p.shard.count != count {
            return Err(format!(
                "{}: shard {} is one of {}, but {} is one of {count}",
                show(&p.dir),
                p.shard,
                p.shard.count,
                show(&first.dir)
            ));
        }
    }
    parts.sort_by_key(|p| p.shard.index);
    for pair in parts.windows(2) {
        if pair[0].shard == pair[1].shard {
            return Err(format!(
                "{} and {} both hold shard {}",
                show(&pair[0].dir),
                show(&pair[1].dir),
                pair[0].shard
            ));
        }
    }
    if let Some(missing) = (0..count).find(|&i| parts.iter().all(|p| p.shard.index != i)) {
        return Err(format!(
            "shard {missing}/{count} is missing: pass the --out directory of every shard (got {})",
            parts.len()
        ));
    }
    for p in &parts {
        check_complete(p)?;
    }
    let fail_fast = parts.iter().any(|p| p.manifest.fail_fast);
    let summary = |shard: Option<Shard>, results: Vec<SeedResult>| {
        let mut s = Summary::new(
            &reference.file,
            &reference.scenario,
            reference.seeds,
            shard,
            results,
            fail_fast,
        );
        s.limits = reference.limits.clone();
        s
    };
    let shards = parts
        .iter()
        .map(|p| summary(p.manifest.shard, p.results.clone()))
        .collect();
    let all = parts.into_iter().flat_map(|p| p.results).collect();
    Ok(Merged {
        whole: summary(None, all),
        shards,
    })
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

fn read_part(dir: &Path) -> Result<Part, String> {
    let manifest_path = dir.join(SWEEP_FILE);
    if !manifest_path.exists() {
        return Err(format!(
            "{}: no {SWEEP_FILE} here; expected a directory written by `sim sweep --out`",
            show(dir)
        ));
    }
    let manifest = store::read_manifest(&manifest_path)?;
    let results_path = dir.join(RESULTS_FILE);
    let results = if results_path.exists() {
        store::read_results(&results_path, &manifest)?.0
    } else {
        Vec::new()
    };
    Ok(Part {
        dir: dir.to_path_buf(),
        shard: manifest.shard.unwrap_or(Shard::WHOLE),
        manifest,
        results,
    })
}

/// Every seed of the shard is there — or, under fail-fast, every seed up to its first failure.
fn check_complete(p: &Part) -> Result<(), String> {
    let mut done: Vec<u64> = p.results.iter().map(|r| r.seed).collect();
    done.sort_unstable();
    done.dedup();
    let first_failure = p
        .results
        .iter()
        .filter(|r| r.failed())
        .map(|r| r.seed)
        .min();
    let cut = if p.manifest.fail_fast {
        first_failure
    } else {
        None
    };
    let needed = p
        .manifest
        .seeds
        .seeds(p.manifest.shard)
        .take_while(|&s| cut.is_none_or(|c| s <= c));
    let mut missing = needed.filter(|s| done.binary_search(s).is_err());
    if let Some(seed) = missing.next() {
        let more = missing.count();
        return Err(format!(
            "{}: shard {} is incomplete: seed {seed}{} not run; run the same `sim sweep` command again to finish it",
            show(&p.dir),
            p.shard,
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

impl Manifest {
    /// [`Manifest::differs`], except for the shard.
    fn differs_ignoring_shard(&self, other: &Manifest) -> Option<String> {
        let other = Manifest {
            shard: self.shard,
            ..other.clone()
        };
        self.differs(&other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SeedRange;
    use crate::sweep::results::tests::result;
    use crate::sweep::store::FORMAT;

    fn write_shard(
        root: &Path,
        name: &str,
        shard: Option<Shard>,
        seeds: &[u64],
        fail_fast: bool,
    ) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let m = Manifest {
            format: FORMAT.into(),
            file: "s.toml".into(),
            scenario: "s".into(),
            scenario_hash: "ab".into(),
            seeds: SeedRange { start: 0, end: 8 },
            shard,
            fail_fast,
            limits: Vec::new(),
        };
        std::fs::write(dir.join(SWEEP_FILE), serde_json::to_string(&m).unwrap()).unwrap();
        let lines: String = seeds
            .iter()
            .map(|&s| {
                result(
                    s,
                    if s == 5 || s == 6 {
                        &["no_split_brain"]
                    } else {
                        &[]
                    },
                )
                .to_line()
                    + "\n"
            })
            .collect();
        std::fs::write(dir.join(RESULTS_FILE), lines).unwrap();
        dir
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sim-merge-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn shards_merge_into_the_unsharded_table() {
        let root = tmp("ok");
        let whole = write_shard(&root, "whole", None, &[0, 1, 2, 3, 4, 5, 6, 7], false);
        let a = write_shard(
            &root,
            "a",
            Some(Shard { index: 0, count: 2 }),
            &[0, 2, 4, 6],
            false,
        );
        let b = write_shard(
            &root,
            "b",
            Some(Shard { index: 1, count: 2 }),
            &[7, 5, 3, 1],
            false,
        );
        let merged = merge(&[b, a]).unwrap();
        assert_eq!(
            merged.whole.render_text(),
            merge(&[whole]).unwrap().whole.render_text()
        );
        assert_eq!(merged.shards.len(), 2);
        assert_eq!(merged.shards[0].shard, Some(Shard { index: 0, count: 2 }));
        assert_eq!(merged.whole.failed(), 2);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn fail_fast_shards_merge_into_the_unsharded_fail_fast_answer() {
        let root = tmp("ff");
        let whole = write_shard(&root, "whole", None, &[0, 1, 2, 3, 4, 5], true);
        let a = write_shard(
            &root,
            "a",
            Some(Shard { index: 0, count: 2 }),
            &[0, 2, 4, 6],
            true,
        );
        let b = write_shard(
            &root,
            "b",
            Some(Shard { index: 1, count: 2 }),
            &[1, 3, 5],
            true,
        );
        let merged = merge(&[a, b]).unwrap().whole;
        assert_eq!(merged.stopped_at, Some(5));
        assert_eq!(
            merged.render_text(),
            merge(&[whole]).unwrap().whole.render_text()
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn missing_duplicate_incomplete_or_foreign_shards_are_refused_by_name() {
        let root = tmp("bad");
        let a = write_shard(
            &root,
            "a",
            Some(Shard { index: 0, count: 2 }),
            &[0, 2, 4, 6],
            false,
        );
        let a2 = write_shard(
            &root,
            "a2",
            Some(Shard { index: 0, count: 2 }),
            &[0, 2, 4, 6],
            false,
        );
        let short = write_shard(
            &root,
            "short",
            Some(Shard { index: 1, count: 2 }),
            &[1, 3],
            false,
        );
        let e = merge(std::slice::from_ref(&a)).unwrap_err();
        assert!(e.contains("shard 1/2 is missing"), "{e}");
        let e = merge(&[a.clone(), a2]).unwrap_err();
        assert!(e.contains("both hold shard 0/2"), "{e}");
        let e = merge(&[a.clone(), short]).unwrap_err();
        assert!(
            e.contains("short: shard 1/2 is incomplete: seed 5 and 1 more not run"),
            "{e}"
        );
        let three = write_shard(
            &root,
            "three",
            Some(Shard { index: 1, count: 3 }),
            &[1, 4, 7],
            false,
        );
        let e = merge(&[a.clone(), three]).unwrap_err();
        assert!(e.contains("three: shard 1/3 is one of 3"), "{e}");
        let other = write_shard(
            &root,
            "other",
            Some(Shard { index: 1, count: 2 }),
            &[1, 3, 5, 7],
            false,
        );
        let text = std::fs::read_to_string(other.join(SWEEP_FILE))
            .unwrap()
            .replace("\"ab\"", "\"cd\"");
        std::fs::write(other.join(SWEEP_FILE), text).unwrap();
        let e = merge(&[a, other]).unwrap_err();
        assert!(
            e.contains("other: not a shard of the same sweep") && e.contains("another scenario"),
            "{e}"
        );
        let e = merge(&[root.join("nowhere")]).unwrap_err();
        assert!(e.contains("nowhere: no sweep.json here"), "{e}");
        let _ = std::fs::remove_dir_all(root);
    }
}
