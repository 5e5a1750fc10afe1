//! The README runs as written: every TOML block in it is checked, and every command of its
//! command table exists with the flags the table gives it.
//!
//! How a TOML block is checked is said by an HTML comment on the line just before its fence
//! (invisible on GitHub), one of:
//!
//! - `<!-- check: scenario -->`: a whole scenario file. It must parse, run at its own seed and
//!   meet its own `[expect]`.
//! - `<!-- check: merged into scenarios/X.toml -->`: a fragment. Its tables are merged key by key
//!   into that bundled scenario (the fragment's keys win); the result must parse and run.
//! - `<!-- check: regression entry -->`: `[[regression]]` entries. They are written as the
//!   regression file of a scratch catalogue holding the scenarios they name, and `sim lessons`
//!   on it must exit 0: each recorded verdict and trace hash is the one the seed gives today.
//!
//! A TOML block without a marker, or a marker with no TOML block after it, fails the test: no
//! example escapes.

use crate::common;

use std::fs;
use std::path::PathBuf;

use sim::run::{RunOptions, run};
use sim::scenario::Scenario;

/// A fenced TOML block of the README and how it says it is checked.
struct Block {
    /// The 1-based line of the opening fence.
    line: usize,
    check: String,
    text: String,
}

fn readme() -> String {
    fs::read_to_string(common::root().join("README.md")).expect("README.md reads")
}

/// The text of a `<!-- check: ... -->` marker line, if the line is one.
fn marker(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("<!-- check:")?
        .strip_suffix("-->")
        .map(str::trim)
}

/// Every fenced block whose info string is `toml` (any case), with its marker.
fn toml_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut pending: Option<(usize, &str)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(check) = marker(line) {
            if let Some((at, _)) = pending {
                panic!("README.md:{at}: a check marker with no TOML block after it");
            }
            pending = Some((i + 1, check));
            i += 1;
            continue;
        }
        let Some(info) = line.trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i;
        let body_end = lines[i + 1..]
            .iter()
            .position(|l| l.trim_start().starts_with("```"))
            .map(|n| i + 1 + n)
            .unwrap_or_else(|| panic!("README.md:{}: a code block never closed", start + 1));
        if info.trim().eq_ignore_ascii_case("toml") {
            let check = match pending.take() {
                Some((at, check)) if at == start => check.to_string(),
                _ => panic!(
                    "README.md:{}: a TOML block without a `<!-- check: ... -->` marker on the \
                     line before it (scenario, merged into FILE, or regression entry)",
                    start + 1
                ),
            };
            blocks.push(Block {
                line: start + 1,
                check,
                text: lines[start + 1..body_end].join("\n") + "\n",
            });
        } else if let Some((at, _)) = pending {
            panic!("README.md:{at}: a check marker before a block that is not TOML");
        }
        i = body_end + 1;
    }
    if let Some((at, _)) = pending {
        panic!("README.md:{at}: a check marker with no TOML block after it");
    }
    blocks
}

/// Merges `fragment` into `base`: tables key by key, anything else replaced.
fn merge(base: &mut toml::Table, fragment: toml::Table) {
    for (key, value) in fragment {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(f)) => merge(b, f),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Parses and runs a scenario at its own seed; returns whether it met its `[expect]`.
fn parse_and_run(name: &str, text: &str) -> Option<bool> {
    let scenario = Scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&scenario, &RunOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    out.report.expect.map(|e| {
        assert!(
            e.met || !e.problems.is_empty(),
            "{name}: unmet, but no reason given"
        );
        if !e.met {
            eprintln!("{name}: [expect] unmet: {}", e.problems.join("; "));
        }
        e.met
    })
}

fn check_scenario(block: &Block) {
    let name = format!("README.md:{} (scenario)", block.line);
    assert_eq!(
        parse_and_run(&name, &block.text),
        Some(true),
        "{name}: a whole scenario must say what it expects and meet it"
    );
}

fn check_merged(block: &Block, base_file: &str) {
    let name = format!("README.md:{} (merged into {base_file})", block.line);
    let base_text = fs::read_to_string(common::root().join(base_file))
        .unwrap_or_else(|e| panic!("{name}: cannot read the base scenario: {e}"));
    let mut base: toml::Table = toml::from_str(&base_text).expect("a bundled scenario is TOML");
    let fragment: toml::Table =
        toml::from_str(&block.text).unwrap_or_else(|e| panic!("{name}: not TOML: {e}"));
    assert!(
        !fragment.is_empty(),
        "{name}: an empty fragment checks nothing"
    );
    merge(&mut base, fragment);
    let merged = toml::to_string(&base).expect("a TOML table serializes");
    parse_and_run(&name, &merged);
}

fn check_regressions(block: &Block) {
    let name = format!("README.md:{} (regression entry)", block.line);
    let parsed: toml::Table =
        toml::from_str(&block.text).unwrap_or_else(|e| panic!("{name}: not TOML: {e}"));
    let entries = parsed
        .get("regression")
        .and_then(toml::Value::as_array)
        .unwrap_or_else(|| panic!("{name}: no [[regression]] entry"));
    let dir =
        std::env::temp_dir().join(format!("sim-readme-{}-{}", std::process::id(), block.line));
    let _ = fs::remove_dir_all(&dir);
    for entry in entries {
        let scenario = entry
            .get("scenario")
            .and_then(toml::Value::as_str)
            .unwrap_or_else(|| panic!("{name}: an entry without a scenario"));
        let to = dir.join(scenario);
        fs::create_dir_all(to.parent().expect("a scenario path has a parent")).unwrap();
        fs::copy(common::root().join("scenarios").join(scenario), &to)
            .unwrap_or_else(|e| panic!("{name}: scenarios/{scenario}: {e}"));
    }
    fs::write(dir.join("regressions.toml"), &block.text).unwrap();
    let out = common::sim(&["lessons", dir.to_str().expect("a UTF-8 temp path")]);
    let code = out.status.code();
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(
        code,
        Some(0),
        "{name}: `sim lessons` on it must pass: a recorded verdict or hash that moved is a \
         README that lies (update it from `sim lessons`' table)\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_toml_block_of_the_readme_is_checked_and_holds() {
    let blocks = toml_blocks(&readme());
    assert!(
        blocks.iter().any(|b| b.check == "scenario"),
        "the README shows a whole scenario"
    );
    for block in &blocks {
        match block.check.as_str() {
            "scenario" => check_scenario(block),
            "regression entry" => check_regressions(block),
            other => match other.strip_prefix("merged into ") {
                Some(base) => check_merged(block, base.trim()),
                None => panic!(
                    "README.md:{}: unknown check `{other}` (scenario, merged into FILE, \
                     regression entry)",
                    block.line
                ),
            },
        }
    }
}

#[test]
fn a_toml_block_without_a_marker_is_refused() {
    let unmarked = "text\n\n```toml\nname = \"x\"\n```\n";
    let caught = std::panic::catch_unwind(|| toml_blocks(unmarked));
    assert!(caught.is_err(), "an unmarked TOML block must fail the test");
    let marked = "<!-- check: scenario -->\n```TOML\nname = \"x\"\n```\n```sh\nls\n```\n";
    let blocks = toml_blocks(marked);
    assert_eq!(blocks.len(), 1);
    assert_eq!((blocks[0].line, blocks[0].check.as_str()), (2, "scenario"));
    assert_eq!(blocks[0].text, "name = \"x\"\n");
    let dangling = "<!-- check: scenario -->\nprose\n";
    assert!(std::panic::catch_unwind(|| toml_blocks(dangling)).is_err());
}

#[test]
fn a_fragment_merges_table_by_table() {
    let mut base: toml::Table =
        toml::from_str("seed = 1\n[network]\nloss = 0.1\nreorder = true\n").unwrap();
    merge(
        &mut base,
        toml::from_str("[network]\nloss = 0.2\n[nemesis]\nmode = \"swarm\"\n").unwrap(),
    );
    assert_eq!(
        base,
        toml::from_str::<toml::Table>(
            "seed = 1\n[network]\nloss = 0.2\nreorder = true\n[nemesis]\nmode = \"swarm\"\n"
        )
        .unwrap()
    );
}

/// The rows of the table headed `| command | does |`, which must be one table: a blank line
/// inside it would render the rest as a second table (or as text).
fn command_rows(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim() == "| command | does |")
        .expect("the README has a `| command | does |` table");
    let rows: Vec<String> = lines[header + 2..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.to_string())
        .collect();
    let end = header + 2 + rows.len();
    let stray: Vec<&&str> = lines[end..]
        .iter()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `sim "))
        .collect();
    assert!(
        stray.is_empty(),
        "README.md: command rows after the table ended at line {end} (a blank line splits \
         it): {stray:?}"
    );
    rows
}

/// The subcommand names a clap help text lists under `Commands:`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn help(path: &[&str]) -> String {
    let mut args = path.to_vec();
    args.push("--help");
    let out = common::sim(&args);
    assert_eq!(out.status.code(), Some(0), "sim {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_command_of_sim_is_in_the_readme_table() {
    let rows = command_rows(&readme());
    let listed = |command: &str| {
        rows.iter().any(|r| {
            r.starts_with(&format!("| `sim {command} "))
                || r.starts_with(&format!("| `sim {command}`"))
        })
    };
    for command in subcommands(&help(&[])).iter().filter(|c| *c != "help") {
        assert!(
            listed(command),
            "`sim {command}` is missing from the README's command table"
        );
        for sub in subcommands(&help(&[command]))
            .iter()
            .filter(|c| *c != "help")
        {
            assert!(
                listed(&format!("{command} {sub}")),
                "`sim {command} {sub}` is missing from the README's command table"
            );
        }
    }
}

#[test]
fn every_command_in_the_readme_table_exists_with_its_flags() {
    let rows = command_rows(&readme());
    assert!(rows.len() >= 10, "the command table lists the commands");
    for row in &rows {
        let cell = row
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("a command row starts with `sim …`: {row}"));
        let words: Vec<&str> = cell.split_whitespace().collect();
        assert_eq!(words[0], "sim", "{row}");
        let mut path = vec![words[1]];
        assert!(
            subcommands(&help(&[])).iter().any(|c| c == words[1]),
            "`sim {}` is in the README's table but not in `sim --help`",
            words[1]
        );
        // A second lower-case word is a sub-subcommand (`bench check`) or a value (`list …`).
        if let Some(next) = words
            .get(2)
            .filter(|w| w.starts_with(|c: char| c.is_lowercase()))
        {
            let parent = help(&path);
            if next.contains('|') {
                for value in next.split("\\|") {
                    assert!(
                        parent.contains(value),
                        "`sim {} {value}`: not in its help",
                        words[1]
                    );
                }
            } else {
                assert!(
                    subcommands(&parent).iter().any(|c| c == next),
                    "`sim {} {next}` is in the README's table but not in `sim {} --help`",
                    words[1],
                    words[1]
                );
                path.push(next);
            }
        }
        let own = help(&path);
        for flag in words.iter().filter_map(|w| {
            let w = w.trim_start_matches('[');
            w.starts_with("--")
                .then(|| w.trim_end_matches([']', '.']).to_string())
        }) {
            let needle = format!("{flag} ");
            let at_end = format!("{flag}\n");
            assert!(
                own.contains(&needle) || own.contains(&at_end) || own.contains(&format!("{flag}=")),
                "the README gives `sim {}` the flag {flag}, which its help does not list",
                path.join(" ")
            );
        }
    }
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every text file of the project a citation may sit in, as (path, text).
fn project_texts() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "rs" || e == "md" || e == "toml")
            {
                let text = fs::read_to_string(&path).unwrap_or_default();
                out.push((path.display().to_string(), text));
            }
        }
    }
    let root = common::root();
    let mut out = Vec::new();
    for dir in ["src", "tests", "benches", "docs", "scenarios"] {
        walk(&root.join(dir), &mut out);
    }
    for file in ["Cargo.toml", "README.md"] {
        let path: PathBuf = root.join(file);
        out.push((file.to_string(), fs::read_to_string(&path).expect("reads")));
    }
    out
}

/// The documentation's examples compile merged into one crate (edition 2024), from a temporary
/// directory: an example that includes a file by a relative path fails that compilation, and
/// rustdoc then silently compiles all of them one by one (647 examples: 266 s in CI instead of
/// about 50). So every `include!` in an example names its file from `CARGO_MANIFEST_DIR`.
#[test]
fn every_include_in_a_doc_example_is_absolute() {
    let mut relative = Vec::new();
    let mut includes = 0;
    for (path, text) in project_texts() {
        if !path.ends_with(".rs") || !path.contains("/src/") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let doc = line.trim_start();
            if !(doc.starts_with("///") || doc.starts_with("//!")) {
                continue;
            }
            for call in ["include!(", "include_str!(", "include_bytes!("] {
                for (at, _) in doc.match_indices(call) {
                    includes += 1;
                    let argument = &doc[at + call.len()..];
                    // A string literal is a path relative to the file holding the example.
                    if argument.trim_start().starts_with('"') {
                        relative.push(format!("{path}:{}: {}", n + 1, doc.trim()));
                    }
                }
            }
        }
    }
    assert!(
        includes > 150,
        "found only {includes} includes in examples: the scan is broken"
    );
    assert!(
        relative.is_empty(),
        "examples that include a file by a relative path (use \
         concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/src/...\")):\n{}",
        relative.join("\n")
    );
}

#[test]
fn every_citation_of_the_architecture_names_one_of_its_sections() {
    let doc = fs::read_to_string(common::root().join("docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md exists");
    let anchors: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect();
    let outside = concat!("DESIGN", ".md");
    let citation = concat!("ARCHITECTURE", ".md#");
    let mut cited = 0;
    for (path, text) in project_texts() {
        assert!(
            !text.contains(outside),
            "{path} cites {outside}, which is not in the repository: cite docs/ARCHITECTURE.md"
        );
        for (at, _) in text.match_indices(citation) {
            let rest = &text[at + citation.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            assert!(
                anchors.contains(&name),
                "{path} cites docs/{citation}{name}, which is no heading there"
            );
            cited += 1;
        }
    }
    assert!(
        cited >= 9,
        "the code cites the architecture ({cited} citations)"
    );
    assert_eq!(anchor("The node API"), "the-node-api");
    assert_eq!(anchor("What a run is"), "what-a-run-is");
}

/// The layers table of docs/ARCHITECTURE.md, top layer first: each folder with the layers its
/// cell says it imports (`None`: "every layer below").
fn documented_layers(doc: &str) -> Vec<(String, Option<Vec<String>>)> {
    let rows: Vec<(String, String)> = doc
        .lines()
        .skip_while(|l| !l.starts_with("| folder | owns | imports from |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').trim_end_matches('/').to_string(),
                cells[3].to_string(),
            )
        })
        .collect();
    assert!(
        rows.len() >= 10,
        "docs/ARCHITECTURE.md has the layers table"
    );
    rows.into_iter()
        .map(|(name, cell)| {
            let imports = (cell != "every layer below").then(|| {
                let mut named: Vec<String> = cell
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect();
                named.sort();
                named
            });
            (name, imports)
        })
        .collect()
}

/// The layers a folder of `src/` imports, read off its `crate::` paths, sorted.
fn imported_layers(folder: &str, layers: &[String]) -> Vec<String> {
    let texts: Vec<String> = project_texts()
        .into_iter()
        .filter(|(path, _)| path.contains(&format!("/src/{folder}/")))
        .map(|(_, text)| text)
        .collect();
    assert!(!texts.is_empty(), "src/{folder}/ has files");
    let mut used: Vec<String> = layers
        .iter()
        .filter(|other| *other != folder)
        .filter(|other| {
            let path = format!("crate::{other}");
            texts.iter().any(|t| {
                t.match_indices(&path).any(|(at, _)| {
                    !t[at + path.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            })
        })
        .cloned()
        .collect();
    used.sort();
    used
}

#[test]
fn the_layers_import_exactly_what_the_architecture_says() {
    let doc = fs::read_to_string(common::root().join("docs/ARCHITECTURE.md")).unwrap();
    let table = documented_layers(&doc);
    let names: Vec<String> = table.iter().map(|(n, _)| n.clone()).collect();
    for (i, (folder, documented)) in table.iter().enumerate() {
        let used = imported_layers(folder, &names);
        for layer in &used {
            assert!(
                names[i + 1..].contains(layer),
                "src/{folder}/ imports crate::{layer}, which is not below it: a layer imports \
                 only from the layers under it (docs/ARCHITECTURE.md, Layers)"
            );
        }
        if let Some(documented) = documented {
            assert_eq!(
                &used, documented,
                "src/{folder}/: the layers it imports (left) differ from docs/ARCHITECTURE.md's \
                 table (right); fix whichever is wrong"
            );
        }
    }
}

/// The protocols of `src/protocols/`, as `crate::protocols::` paths name them.
const PROTOCOLS: [&str; 6] = [
    "raft",
    "heartbeat",
    "naive_failover",
    "replica",
    "txn::two_phase_commit",
    "txn::tcc",
];

/// Each (file under `src/protocols/`, protocol it names by a `crate::protocols::` path) where
/// the protocol is not the file's own. The registry (`src/protocols/mod.rs`) names them all.
fn cross_protocol_imports() -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    for (path, text) in project_texts() {
        let Some(rel) = path.split("/src/protocols/").nth(1) else {
            continue;
        };
        if rel == "mod.rs" {
            continue;
        }
        let own = rel.trim_end_matches(".rs").replace('/', "::");
        for other in PROTOCOLS {
            if own == other || own.starts_with(&format!("{other}::")) {
                continue;
            }
            let needle = format!("crate::protocols::{other}");
            let named = text.match_indices(&needle).any(|(at, _)| {
                !text[at + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if named {
                found.push((rel.to_string(), other));
            }
        }
    }
    found
}

/// A protocol never imports another (`src/protocols/mod.rs`), with one documented exception:
/// two-phase commit's `decision_on = "raft"` runs the `raft` protocol itself as its
/// coordinators' group (`two_phase_commit/raft_group.rs` says why). Nothing else may follow.
#[test]
fn a_protocol_imports_no_other_protocol_but_two_phase_commit_its_raft_group() {
    let found = cross_protocol_imports();
    for (file, other) in &found {
        assert!(
            file.starts_with("txn/two_phase_commit/") && *other == "raft",
            "src/protocols/{file} imports crate::protocols::{other}: a protocol never imports \
             another (the one exception is two-phase commit's Raft group)"
        );
    }
    assert!(
        found
            .iter()
            .any(|(file, _)| file == "txn/two_phase_commit/raft_group.rs"),
        "the exception is where it is documented: {found:?}"
    );
}
