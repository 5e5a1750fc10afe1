//! deploy/github-actions-sweep.yml, run here: each matrix job's shard step, read out of the
//! workflow with its `${{ }}` expressions evaluated and run by bash as the runner runs it, in a
//! workspace of its own; its --out directory passed on as upload-artifact and download-artifact
//! pass it (one directory per artifact under the download path); then the merge job's step,
//! which must print the unsharded sweep's table and fail the workflow exactly when a seed failed.
//! Only the seed range (and the scenario, for the failures) is set by the tests.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::deploy::{BAD_SCENARIO, assert_merge_is_the_unsharded_sweep, script, sim_dir, workdir};
use common::yaml::Yaml;
use common::{code, root, scratch, show, sim, text};

const WORKFLOW: &str = "deploy/github-actions-sweep.yml";

/// The workflow's parts these tests run.
struct Workflow {
    /// The top-level env, expressions evaluated as on a scheduled run (no inputs).
    env: Vec<(String, String)>,
    matrix: Vec<String>,
    shard_step: Yaml,
    upload: Yaml,
    download: Yaml,
    merge_step: Yaml,
    junit_report: String,
}

fn workflow() -> Workflow {
    let src = fs::read_to_string(root().join(WORKFLOW)).unwrap();
    let docs = Yaml::documents(&src);
    assert_eq!(docs.len(), 1);
    let wf = &docs[0];
    let inputs = wf.at("on.workflow_dispatch.inputs");
    let env = match wf.get("env") {
        Yaml::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.clone(), evaluate_env(v.str(), inputs)))
            .collect(),
        other => panic!("env: {other:?}"),
    };
    let shard = wf.at("jobs.shard");
    let strategy = shard.get("strategy");
    assert_eq!(
        strategy.get("fail-fast").str(),
        "false",
        "every shard finishes even when another fails"
    );
    let merge = wf.at("jobs.merge");
    assert_eq!(
        merge.get("needs").str(),
        "shard",
        "the merge waits for every shard"
    );
    let steps = |job: &Yaml| job.get("steps").seq().to_vec();
    let (shard_steps, merge_steps) = (steps(shard), steps(merge));
    let run_with = |steps: &[Yaml], needle: &str| {
        let found: Vec<Yaml> = steps
            .iter()
            .filter(|s| s.try_get("run").is_some_and(|r| r.str().contains(needle)))
            .cloned()
            .collect();
        assert_eq!(found.len(), 1, "one step runs {needle:?}");
        found[0].clone()
    };
    let uses = |steps: &[Yaml], action: &str| {
        let found: Vec<Yaml> = steps
            .iter()
            .filter(|s| {
                s.try_get("uses")
                    .is_some_and(|u| u.str().starts_with(&format!("{action}@")))
            })
            .cloned()
            .collect();
        assert!(!found.is_empty(), "a step uses {action}");
        found
    };
    // Both jobs build the sim their steps run.
    for steps in [&shard_steps, &merge_steps] {
        run_with(steps, "cargo build --release");
    }
    let junit_report = uses(&merge_steps, "mikepenz/action-junit-report")[0]
        .at("with.report_paths")
        .str()
        .to_string();
    Workflow {
        env,
        matrix: strategy
            .at("matrix.shard")
            .strs()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        shard_step: run_with(&shard_steps, "sim sweep"),
        upload: uses(&shard_steps, "actions/upload-artifact")[0].clone(),
        download: uses(&merge_steps, "actions/download-artifact")[0].clone(),
        merge_step: run_with(&merge_steps, "sim merge"),
        junit_report,
    }
}

/// A top-level env value: a literal, or `${{ github.event.inputs.NAME || 'DEFAULT' }}`, which on
/// a scheduled run (no inputs) is DEFAULT, and which must agree with the input's own default.
fn evaluate_env(value: &str, inputs: &Yaml) -> String {
    let Some(expr) = value.strip_prefix("${{").and_then(|v| v.strip_suffix("}}")) else {
        assert!(!value.contains("${{"), "an expression inside {value:?}");
        return value.to_string();
    };
    let (input, fallback) = expr
        .trim()
        .split_once(" || ")
        .unwrap_or_else(|| panic!("{value:?}: only `inputs.X || 'default'` is read here"));
    let name = input.strip_prefix("github.event.inputs.").unwrap();
    let fallback = fallback.trim_matches('\'');
    assert_eq!(
        inputs.at(&format!("{name}.default")).str(),
        fallback,
        "a dispatched run and a scheduled run sweep the same seeds by default"
    );
    fallback.to_string()
}

/// `${{ matrix.shard }}` and `${{ env.NAME }}` in `s`, for matrix job `shard`; nothing else.
fn substitute(s: &str, shard: Option<&str>, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let close = rest[i..].find("}}").expect("an expression closes") + i;
        let expr = rest[i + 3..close].trim();
        let value = match expr.split_once('.') {
            Some(("matrix", "shard")) => shard.expect("a matrix job").to_string(),
            Some(("env", name)) => env.iter().find(|(k, _)| k == name).unwrap().1.clone(),
            _ => panic!("the expression {expr:?} is not read here"),
        };
        out.push_str(&value);
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

/// A job's workspace: a checkout (the scenarios) after its `cargo build --release` step.
fn workspace(dir: &Path) -> PathBuf {
    let ws = workdir(dir);
    fs::create_dir_all(ws.join("target/release")).unwrap();
    std::os::unix::fs::symlink(sim_dir().join("sim"), ws.join("target/release/sim")).unwrap();
    ws
}

/// A `run:` step as the runner runs it: `shell: bash` is `bash --noprofile --norc -eo pipefail`,
/// no shell is `bash -e`, each on a file holding the script.
fn run_step(step: &Yaml, shard: Option<&str>, ws: &Path, env: &[(String, String)]) -> Output {
    let body = substitute(step.get("run").str(), shard, env);
    let file = ws.join(format!("step-{}.sh", shard.unwrap_or("merge")));
    fs::write(&file, body).unwrap();
    let mut argv: Vec<String> = match step.try_get("shell").map(Yaml::str) {
        Some("bash") => vec!["bash", "--noprofile", "--norc", "-eo", "pipefail"],
        None => vec!["bash", "-e"],
        Some(other) => panic!("shell {other} is not read here"),
    }
    .into_iter()
    .map(String::from)
    .collect();
    argv.push(file.display().to_string());
    script(&argv, ws, env).output().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// What one workflow run did: each shard step's output, and the merge step's (None when a shard
/// job failed, so `needs: shard` skips the merge job).
struct RunResult {
    shards: Vec<Output>,
    merge: Option<Output>,
    merge_ws: PathBuf,
}

/// Runs the workflow with `set` replacing top-level env values.
fn run_workflow(wf: &Workflow, dir: &Path, set: &[(&str, &str)]) -> RunResult {
    let env: Vec<(String, String)> = wf
        .env
        .iter()
        .map(|(k, v)| {
            let set = set.iter().find(|(n, _)| n == k).map(|(_, v)| v.to_string());
            (k.clone(), set.unwrap_or_else(|| v.clone()))
        })
        .collect();
    for (name, _) in set {
        assert!(
            env.iter().any(|(k, _)| k == name),
            "{name} is not in the workflow's env"
        );
    }
    let artifacts = dir.join("artifacts");
    let mut shards = Vec::new();
    for shard in &wf.matrix {
        let ws = workspace(&dir.join(format!("shard-job-{shard}")));
        let out = run_step(&wf.shard_step, Some(shard), &ws, &env);
        if code(&out) == 0 {
            // upload-artifact: the directory's contents under the artifact's name.
            let with = wf.upload.get("with");
            let path = ws.join(substitute(with.get("path").str(), Some(shard), &env));
            assert_eq!(with.get("if-no-files-found").str(), "error");
            assert!(path.join("results.jsonl").exists(), "{}", show(&out));
            let name = substitute(with.get("name").str(), Some(shard), &env);
            copy_dir(&path, &artifacts.join(name));
        }
        shards.push(out);
    }
    let merge_ws = workspace(&dir.join("merge-job"));
    if shards.iter().any(|o| code(o) != 0) {
        return RunResult {
            shards,
            merge: None,
            merge_ws,
        };
    }
    // download-artifact by pattern: one directory per artifact, named after it, under path.
    let with = wf.download.get("with");
    assert!(with.try_get("merge-multiple").is_none());
    let prefix = with
        .get("pattern")
        .str()
        .strip_suffix('*')
        .expect("a pattern `prefix*`");
    for entry in fs::read_dir(&artifacts).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with(prefix) {
            copy_dir(
                &artifacts.join(&name),
                &merge_ws.join(with.get("path").str()).join(&name),
            );
        }
    }
    let merge = run_step(&wf.merge_step, None, &merge_ws, &env);
    RunResult {
        shards,
        merge: Some(merge),
        merge_ws,
    }
}

fn env_value<'a>(wf: &'a Workflow, name: &str) -> &'a str {
    &wf.env.iter().find(|(k, _)| k == name).unwrap().1
}

#[test]
fn the_matrix_shards_and_the_merge_job_print_the_unsharded_table() {
    let wf = workflow();
    let shards: usize = env_value(&wf, "SHARDS").parse().unwrap();
    let indices: Vec<String> = (0..shards).map(|i| i.to_string()).collect();
    assert_eq!(wf.matrix, indices, "the matrix is 0..SHARDS");
    assert_eq!(env_value(&wf, "SEEDS"), "1..10001");
    let scenario = env_value(&wf, "SCENARIO").to_string();
    let dir = scratch("gha-sweep");
    let seeds = format!("1..{}", 100 * shards + 1);
    let run = run_workflow(&wf, &dir, &[("SEEDS", &seeds)]);
    for (i, out) in run.shards.iter().enumerate() {
        assert_eq!(code(out), 0, "{}", show(out));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(&format!("shard {i}/{shards} · 100 seeds")),
            "{stdout}"
        );
    }
    let merged = run.merge.expect("the merge job runs");
    assert_merge_is_the_unsharded_sweep(&merged, &scenario, &seeds);
    // The JUnit report the publish step reads is where the merge wrote it.
    assert!(run.merge_ws.join(&wf.junit_report).exists());
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn failing_seeds_pass_the_shard_jobs_and_fail_the_merge_job_and_bad_input_fails_its_shard() {
    let wf = workflow();
    let dir = scratch("gha-exit-codes");
    let scenario = "scenarios/failover/naive-swarm.toml";
    let run = run_workflow(
        &wf,
        &dir.join("failing"),
        &[("SCENARIO", scenario), ("SEEDS", "1..41")],
    );
    for out in &run.shards {
        assert_eq!(code(out), 0, "an answer is not a failed job: {}", show(out));
    }
    let merged = run.merge.expect("the merge job runs");
    assert_eq!(code(&merged), 1, "a failing seed fails the workflow");
    assert_merge_is_the_unsharded_sweep(&merged, scenario, "1..41");
    assert!(run.merge_ws.join(&wf.junit_report).exists());

    // Bad input: every shard job fails with sim's exit 2 and the merge job is skipped.
    fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    fs::write(&bad, BAD_SCENARIO).unwrap();
    let run = run_workflow(
        &wf,
        &dir.join("bad"),
        &[("SCENARIO", bad.to_str().unwrap())],
    );
    for out in &run.shards {
        assert_eq!(code(out), 2, "{}", show(out));
        assert!(text(&out.stderr).contains("bad.toml:2:"), "{}", show(out));
    }
    assert!(run.merge.is_none());
    assert_eq!(
        code(&sim(&["sweep", bad.to_str().unwrap(), "--seeds", "1..9"])),
        2
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn the_yaml_reader_reads_the_subset_the_deploy_files_use_and_refuses_the_rest() {
    let src = "\
# a comment
top:
  list: [0, 'a''b', \"c # d\"]   # trailing
  steps:
    - name: one
      run: |
        echo \"# not a comment\"

        exit 0
    - plain # comment
  same:
  - x
---
second: '2'
";
    let docs = Yaml::documents(src);
    assert_eq!(docs.len(), 2);
    let top = docs[0].get("top");
    assert_eq!(top.get("list").strs(), ["0", "a'b", "c # d"]);
    let steps = top.get("steps").seq();
    assert_eq!(steps[0].get("name").str(), "one");
    assert_eq!(
        steps[0].get("run").str(),
        "echo \"# not a comment\"\n\nexit 0\n"
    );
    assert_eq!(steps[1].str(), "plain");
    assert_eq!(top.get("same").strs(), ["x"]);
    assert_eq!(docs[1].get("second").str(), "2");
    for outside in [
        "a: &anchor 1\n",
        "a: {b: 1}\n",
        "a: >\n  folded\n",
        "a: 1\na: 2\n",
    ] {
        let refused = std::panic::catch_unwind(|| Yaml::documents(outside));
        assert!(refused.is_err(), "{outside:?} must be refused");
    }
}
