//! `reports/mutants.md`: per mutant, whether the sweeps caught it, where first, by which
//! invariant and how often; whether the hash pins did; then the share caught, and every escaped
//! mutant with why it escapes.

use std::fmt::Write;

use crate::report::text::thousands;

use super::campaign::{Pins, Sweep, UnitTests};
use super::catalogue::Mutant;

/// One mutant's fate.
pub(crate) struct Outcome {
    pub mutant: Mutant,
    /// `Err`: the mutant does not build (the compiler's first errors).
    pub result: Result<Found, String>,
}

/// What a built mutant met.
pub(crate) struct Found {
    /// One per swept scenario, in the campaign's order.
    pub sweeps: Vec<Sweep>,
    pub pins: Pins,
    /// The unit tests of its protocol's module, with `--unit-tests` (`Err`: they do not build).
    pub unit: Option<Result<UnitTests, String>>,
}

impl Found {
    /// The sweep that caught the mutant most often (ties: the earlier scenario), if any did.
    pub(crate) fn best(&self) -> Option<&Sweep> {
        self.sweeps.iter().filter(|s| s.failing > 0).fold(
            None,
            |best: Option<&Sweep>, s| match best {
                Some(b) if b.failing >= s.failing => Some(b),
                _ => Some(s),
            },
        )
    }

    fn pinned(&self) -> bool {
        self.pins.lessons_unmet + self.pins.regressions_moved > 0
    }

    /// Whether a unit test of its protocol failed on it.
    fn unit_caught(&self) -> bool {
        matches!(&self.unit, Some(Ok(u)) if !u.failed.is_empty())
    }

    /// The report's `unit tests` cell.
    fn unit_cell(&self) -> String {
        match &self.unit {
            None => String::new(),
            Some(Err(e)) => cell(e),
            Some(Ok(u)) if u.failed.is_empty() => format!("all {} pass", u.run),
            Some(Ok(u)) => {
                let first: Vec<String> = u
                    .failed
                    .iter()
                    .take(2)
                    .map(|t| format!("`{}`", t.rsplit("::").next().unwrap_or(t)))
                    .collect();
                let more = u.failed.len().saturating_sub(first.len());
                format!(
                    "**{} of {} fail**: {}{}",
                    u.failed.len(),
                    u.run,
                    first.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
        }
    }
}

/// How the campaign was run, for the report's first lines.
pub(crate) struct Setup<'a> {
    pub seeds: &'a str,
    pub scenarios: &'a [String],
    pub profile: &'a str,
    pub revision: &'a str,
}

fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        "—".into()
    } else {
        format!("{:.0} %", 100.0 * n as f64 / of as f64)
    }
}

/// The whole report, in Markdown.
pub(crate) fn render(setup: &Setup<'_>, outcomes: &[Outcome]) -> String {
    let built: Vec<(&Mutant, &Found)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|f| (&o.mutant, f)))
        .collect();
    let caught = built.iter().filter(|(_, f)| f.best().is_some()).count();
    let pinned = built.iter().filter(|(_, f)| f.pinned()).count();
    let mut md = String::new();
    let _ = writeln!(md, "# Mutation campaign\n");
    let _ = writeln!(
        md,
        "Written by `sim mutants` (revision {}). Each mutant is a hand-written classic bug \
         (`mutants/<protocol>/<name>.patch`, with the rule of the paper it breaks), applied to a \
         copy of the source, built with the `{}` profile{}, and swept over seeds `{}` of every \
         bundled scenario of its protocol that expects a pass ({} scenarios). A mutant is \
         **caught by the sweeps** when some seed of some scenario does not pass (a violated \
         invariant, a liveness failure or a panic). A mutant's seeds run with an event budget, \
         `--limit events=`, of {} times the most events any seed of the unmutated code took on \
         that scenario (at least {}): a seed past it is counted as caught by `event_limit`, \
         since no correct seed came near it, and a message storm cannot stall the campaign. The \
         hash pins of `sim lessons` are counted apart: any change to the code moves them, so \
         they catch nearly everything and prove little about the checks.\n",
        setup.revision,
        setup.profile,
        if setup.profile == "mutants" {
            " (debug assertions off: only the checkers can catch it)"
        } else {
            " (debug assertions on)"
        },
        setup.seeds,
        setup.scenarios.len(),
        super::campaign::EVENT_BUDGET_FACTOR,
        thousands(super::campaign::EVENT_BUDGET_FLOOR),
    );
    // With `--unit-tests`, the unit tests are a column and a share of their own.
    let tested = built.iter().any(|(_, f)| f.unit.is_some());
    let unit_share = if tested {
        let by_tests = built.iter().filter(|(_, f)| f.unit_caught()).count();
        let either = built
            .iter()
            .filter(|(_, f)| f.unit_caught() || f.best().is_some())
            .count();
        format!(
            "; by the unit tests of its protocol: {by_tests} ({}); by the sweeps or those tests: \
             {either} ({})",
            percent(by_tests, built.len()),
            percent(either, built.len())
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        md,
        "**Caught by the sweeps: {caught} of {} mutants that build ({})**; by the hash pins: {pinned} ({}){unit_share}. Mutants that do not build: {}.\n",
        built.len(),
        percent(caught, built.len()),
        percent(pinned, built.len()),
        outcomes.len() - built.len()
    );
    let (unit_head, unit_rule) = if tested {
        (" unit tests |", " --- |")
    } else {
        ("", "")
    };
    let _ = writeln!(
        md,
        "| mutant | rule broken | sweeps | first failing seed | caught by | failing seeds | pins |{unit_head}"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- |{unit_rule}");
    for o in outcomes {
        let m = &o.mutant;
        let name = format!("`{}`", m.name);
        match &o.result {
            Err(_) => {
                let _ = writeln!(
                    md,
                    "| {name} | {} | does not build | | | | |{}",
                    cell(&m.rule),
                    if tested { " |" } else { "" }
                );
            }
            Ok(found) => {
                let pins = if found.pinned() {
                    format!(
                        "{} lessons, {} hashes",
                        found.pins.lessons_unmet, found.pins.regressions_moved
                    )
                } else {
                    "none moved".into()
                };
                let unit = if tested {
                    format!(" {} |", found.unit_cell())
                } else {
                    String::new()
                };
                match found.best() {
                    Some(best) => {
                        let by: Vec<String> = best
                            .invariants
                            .iter()
                            .map(|(n, c)| format!("{n} ({c})"))
                            .collect();
                        let scenarios = found.sweeps.iter().filter(|s| s.failing > 0).count();
                        let _ = writeln!(
                            md,
                            "| {name} | {} | **caught** in {scenarios} of {} | `{}` seed {} | {} | {} of {} | {pins} |{unit}",
                            cell(&m.rule),
                            found.sweeps.len(),
                            best.file,
                            best.first_seed.map_or("?".into(), |s| s.to_string()),
                            by.join(", "),
                            best.failing,
                            best.run
                        );
                    }
                    None => {
                        let _ = writeln!(
                            md,
                            "| {name} | {} | escaped | | | 0 | {pins} |{unit}",
                            cell(&m.rule)
                        );
                    }
                }
            }
        }
    }
    let escaped: Vec<&(&Mutant, &Found)> =
        built.iter().filter(|(_, f)| f.best().is_none()).collect();
    if !escaped.is_empty() {
        let _ = writeln!(md, "\n## Escaped\n");
        for (m, f) in escaped {
            let why = m
                .escapes
                .as_deref()
                .unwrap_or("not yet explained (add an `escapes:` line to the patch)");
            let tests = if f.unit_caught() {
                format!(" (The unit tests catch it: {}.)", f.unit_cell())
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "- `{}` — {} Why it escapes: {why}{tests}",
                m.name, m.bug
            );
        }
    }
    let unviable: Vec<(&Mutant, &String)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|e| (&o.mutant, e)))
        .collect();
    if !unviable.is_empty() {
        let _ = writeln!(md, "\n## Do not build\n");
        for (m, e) in unviable {
            let _ = writeln!(md, "- `{}`: {}", m.name, cell(e));
        }
    }
    let _ = writeln!(md, "\n## Which scenarios catch what\n");
    let _ = writeln!(md, "| scenario | mutants caught |");
    let _ = writeln!(md, "| --- | --- |");
    for file in setup.scenarios {
        let names: Vec<String> = built
            .iter()
            .filter(|(_, f)| f.sweeps.iter().any(|s| &s.file == file && s.failing > 0))
            .map(|(m, _)| format!("`{}`", m.name))
            .collect();
        let _ = writeln!(
            md,
            "| `{file}` | {} {} |",
            names.len(),
            if names.is_empty() {
                String::new()
            } else {
                format!("({})", names.join(", "))
            }
        );
    }
    md
}

/// Text made safe for one Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn mutant(name: &str, escapes: Option<&str>) -> Mutant {
        Mutant {
            name: name.into(),
            protocol: "raft".into(),
            rule: "§5.2 | one vote".into(),
            bug: "Votes twice.".into(),
            escapes: escapes.map(String::from),
            path: PathBuf::from(format!("mutants/raft/{name}.patch")),
            files: vec!["src/protocols/raft/mod.rs".into()],
        }
    }

    fn sweep(file: &str, failing: u64, first: Option<u64>) -> Sweep {
        Sweep {
            file: file.into(),
            run: 1000,
            failing,
            panicked: 0,
            first_seed: first,
            invariants: if failing > 0 {
                vec![("election_safety".into(), failing)]
            } else {
                vec![]
            },
            events_max: 40_000,
        }
    }

    #[test]
    fn the_report_gives_the_share_caught_and_explains_every_escape() {
        let pins = |n| Pins {
            lessons_unmet: n,
            regressions_moved: n,
        };
        let outcomes = vec![
            Outcome {
                mutant: mutant("caught-twice", None),
                result: Ok(Found {
                    sweeps: vec![
                        sweep("raft/a.toml", 3, Some(40)),
                        sweep("raft/b.toml", 7, Some(12)),
                    ],
                    pins: pins(2),
                    unit: None,
                }),
            },
            Outcome {
                mutant: mutant("slips-through", Some("no scenario restarts a voter")),
                result: Ok(Found {
                    sweeps: vec![sweep("raft/a.toml", 0, None), sweep("raft/b.toml", 0, None)],
                    pins: pins(1),
                    unit: None,
                }),
            },
            Outcome {
                mutant: mutant("broken", None),
                result: Err("error[E0308]: mismatched types".into()),
            },
        ];
        let scenarios = ["raft/a.toml".to_string(), "raft/b.toml".to_string()];
        let md = render(
            &Setup {
                seeds: "1..1001",
                scenarios: &scenarios,
                profile: "mutants",
                revision: "abc",
            },
            &outcomes,
        );
        assert!(
            md.contains("**Caught by the sweeps: 1 of 2 mutants that build (50 %)**"),
            "{md}"
        );
        assert!(md.contains("Mutants that do not build: 1."), "{md}");
        // The best catcher is the scenario that fails most often, with its first seed.
        assert!(
            md.contains(
                "| **caught** in 2 of 2 | `raft/b.toml` seed 12 | election_safety (7) | 7 of 1000 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("§5.2 \\| one vote"),
            "a pipe in a rule must not break the table: {md}"
        );
        assert!(
            md.contains(
                "- `slips-through` — Votes twice. Why it escapes: no scenario restarts a voter"
            ),
            "{md}"
        );
        assert!(
            md.contains("| `raft/a.toml` | 1 (`caught-twice`) |"),
            "{md}"
        );
        assert!(md.contains("- `broken`: error[E0308]"), "{md}");
    }

    #[test]
    fn with_unit_tests_they_are_a_column_and_a_share_of_their_own() {
        let none = Pins {
            lessons_unmet: 0,
            regressions_moved: 0,
        };
        let escaped = vec![sweep("raft/a.toml", 0, None)];
        let outcomes = vec![
            Outcome {
                mutant: mutant("weak-digest", Some("every node computes the same digest")),
                result: Ok(Found {
                    sweeps: escaped.clone(),
                    pins: none,
                    unit: Some(Ok(UnitTests {
                        run: 150,
                        failed: vec!["protocols::raft::log::tests::a_digest_keeps_apart".into()],
                    })),
                }),
            },
            Outcome {
                mutant: mutant("swept", None),
                result: Ok(Found {
                    sweeps: vec![sweep("raft/a.toml", 5, Some(3))],
                    pins: none,
                    unit: Some(Ok(UnitTests {
                        run: 150,
                        failed: vec![],
                    })),
                }),
            },
            Outcome {
                mutant: mutant("untested", None),
                result: Ok(Found {
                    sweeps: escaped,
                    pins: none,
                    unit: Some(Err("the unit tests do not build: error[E0061]".into())),
                }),
            },
        ];
        let md = render(
            &Setup {
                seeds: "1..1001",
                scenarios: &["raft/a.toml".to_string()],
                profile: "mutants",
                revision: "abc",
            },
            &outcomes,
        );
        assert!(
            md.contains(
                "**Caught by the sweeps: 1 of 3 mutants that build (33 %)**; by the hash pins: 0 (0 %); \
                 by the unit tests of its protocol: 1 (33 %); by the sweeps or those tests: 2 (67 %)."
            ),
            "{md}"
        );
        assert!(md.contains("| pins | unit tests |\n"), "{md}");
        assert!(
            md.contains("| none moved | **1 of 150 fail**: `a_digest_keeps_apart` |"),
            "{md}"
        );
        assert!(md.contains("| none moved | all 150 pass |"), "{md}");
        assert!(
            md.contains("| none moved | the unit tests do not build: error[E0061] |"),
            "{md}"
        );
        assert!(
            md.contains(
                "Why it escapes: every node computes the same digest (The unit tests catch it: \
                 **1 of 150 fail**: `a_digest_keeps_apart`.)"
            ),
            "{md}"
        );
    }
}
