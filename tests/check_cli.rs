//! `sim check`: exit codes, the JSON report, the HTML picture and input errors, end to end.

use crate::common;

use std::path::PathBuf;

use common::sim;
use serde_json::Value;

/// Writes `text` to a fresh file under the test's temporary directory.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check_cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn history(model: &str, ops: &[&str]) -> String {
    format!(
        "{{\"format\":\"sim-history\",\"version\":1,\"time_unit\":\"ns\",\"model\":{model},\"ops\":[\n{}\n]}}\n",
        ops.join(",\n")
    )
}

const KV: &str = r#"{"kind":"kv","init":null}"#;
const WRITE_X1: &str =
    r#"{"process":0,"key":"x","f":"write","value":1,"invoke":0,"complete":10,"type":"ok"}"#;
const READ_X1: &str =
    r#"{"process":1,"key":"x","f":"read","invoke":20,"complete":30,"type":"ok","output":1}"#;
const READ_X2: &str =
    r#"{"process":1,"key":"x","f":"read","invoke":20,"complete":30,"type":"ok","output":2}"#;
const READ_Y_ABSENT: &str =
    r#"{"process":2,"key":"y","f":"read","invoke":5,"complete":6,"type":"ok","output":null}"#;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check(args: &[&str]) -> Out {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = sim(&all);
    Out {
        code: out.status.code().expect("an exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(out: &Out) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}):\n{}\n{}", out.stdout, out.stderr))
}

#[test]
fn a_linearizable_history_exits_0_and_says_so() {
    let path = file("ok.json", &history(KV, &[WRITE_X1, READ_Y_ABSENT, READ_X1]));
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("linearizable: "), "{}", out.stdout);
    assert!(
        out.stdout.contains("3 operations, 2 partitions"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_stale_read_exits_1_with_the_explanation() {
    let path = file("stale.json", &history(KV, &[WRITE_X1, READ_X2]));
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("not linearizable: "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("cannot place"), "{}", out.stdout);
}

#[test]
fn json_reports_the_verdict_model_and_each_key() {
    let path = file(
        "stale-json.json",
        &history(KV, &[WRITE_X1, READ_Y_ABSENT, READ_X2]),
    );
    let out = check(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 1);
    let j = json(&out);
    assert_eq!(j["verdict"], "not_linearizable");
    assert_eq!(j["format"], "sim-history JSON");
    assert_eq!(j["model"]["kind"], "kv");
    assert_eq!(j["model"]["init"], Value::Null);
    assert_eq!(j["ops"], 3);
    let parts = j["partitions"].as_array().unwrap();
    let by_key = |k: &str| parts.iter().find(|p| p["key"] == k).unwrap();
    assert_eq!(by_key("x")["verdict"], "not_linearizable");
    assert_eq!(by_key("x")["stuck"], 2, "the read of 2 is op #2");
    // One bad key proves the verdict: keys after it in key order are left, and say why.
    assert_eq!(by_key("y")["verdict"], "unknown");
    let why = by_key("y")["reason"].as_str().unwrap();
    assert!(why.contains("not searched: key \"x\""), "{why}");
    assert!(j["explanation"].as_str().unwrap().contains("cannot place"));
}

#[test]
fn model_overrides_the_files_model_and_a_missing_model_is_an_error() {
    let path = file("no-model.json", &history("null", &[WRITE_X1, READ_X1]));
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("names no model; pass --model"),
        "{}",
        out.stderr
    );
    let out = check(&[path.to_str().unwrap(), "--model", "register", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json(&out)["model"]["kind"], "register");
}

#[test]
fn html_writes_a_self_contained_picture() {
    let path = file("pic.json", &history(KV, &[WRITE_X1, READ_X2]));
    let pic = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check_cli/pic.html");
    let _ = std::fs::remove_file(&pic);
    let out = check(&[path.to_str().unwrap(), "--html", pic.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    let page = std::fs::read_to_string(&pic).expect("the picture is written");
    assert!(page.contains("<svg"));
    assert!(page.contains("not linearizable"));
    assert!(out.stdout.contains("picture: "), "{}", out.stdout);
}

#[test]
fn a_limit_hit_first_exits_3_unknown() {
    // Ten overlapping writes and a read: more than one step of search.
    let mut ops: Vec<String> = (0..10)
        .map(|p| {
            format!(
                r#"{{"process":{p},"key":"x","f":"write","value":{p},"invoke":{p},"complete":100,"type":"ok"}}"#
            )
        })
        .collect();
    ops.push(
        r#"{"process":20,"key":"x","f":"read","invoke":50,"complete":200,"type":"ok","output":3}"#
            .into(),
    );
    let refs: Vec<&str> = ops.iter().map(String::as_str).collect();
    let path = file("hard.json", &history(KV, &refs));
    let p = path.to_str().unwrap();
    assert_eq!(check(&[p]).code, 0);
    let out = check(&[p, "--max-steps", "2", "--json"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let j = json(&out);
    assert_eq!(j["verdict"], "unknown");
    assert!(j["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let out = check(&[p, "--timeout", "0s"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("unknown"), "{}", out.stdout);
}

#[test]
fn a_bad_file_names_line_and_column_and_exits_2() {
    let bad = history(
        KV,
        &[
            WRITE_X1,
            r#"{"process":1,"key":"x","f":"frob","invoke":1,"complete":2,"type":"ok"}"#,
        ],
    );
    let path = file("bad.json", &bad);
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    let expected = format!(
        "{}:3:28: expected an f of \"read\", \"write\", \"append\", \"cas\", \"txn\", \"acquire\", \"release\", \"transfer\" or \"read-all\", found the string \"frob\"",
        path.display()
    );
    assert_eq!(out.stderr.trim(), expected);
    let edn = file(
        "bad.edn",
        "[{:process 0, :type :invoke, :f :read}\n {:process 0 :type :ok :f :write}]",
    );
    let out = check(&[edn.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("bad.edn:2:2: expected a read completion"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_format_or_a_missing_file_exits_2() {
    let path = file("what.txt", "hello, world\n");
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("what.txt:1:1: expected a history: sim-history JSON"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Jepsen log") && out.stderr.contains("EDN"));
    let out = check(&["/nonexistent/history.json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("cannot read the file"),
        "{}",
        out.stderr
    );
    let out = check(&[path.to_str().unwrap(), "--timeout", "soon"]);
    assert_eq!(out.code, 2, "clap rejects a bad duration");
}

#[test]
fn an_empty_history_is_linearizable_with_a_note() {
    let path = file("empty.edn", "; nothing happened\n[]\n");
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("the history is empty"),
        "{}",
        out.stdout
    );
}

/// x and y start at 0; p1 sets both to 1 in one transaction while p2 reads x = 1 and y = 0:
/// a torn read no single instant explains (per key, each read alone would fit).
const TORN_READ: &str = "[{:process 0 :type :invoke :f :txn :value [[:w :x 0] [:w :y 0]]}
 {:process 0 :type :ok     :f :txn :value [[:w :x 0] [:w :y 0]]}
 {:process 1 :type :invoke :f :txn :value [[:w :x 1] [:w :y 1]]}
 {:process 2 :type :invoke :f :txn :value [[:r :x nil] [:r :y nil]]}
 {:process 2 :type :ok     :f :txn :value [[:r :x 1] [:r :y 0]]}
 {:process 1 :type :ok     :f :txn :value [[:w :x 1] [:w :y 1]]}]
";

#[test]
fn knossos_multi_register_histories_are_judged_as_one_object_per_joined_registers() {
    let torn = file("torn.edn", TORN_READ);
    let out = check(&[torn.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let j = json(&out);
    assert_eq!(j["model"]["kind"], "multi-register", "detected from :txn");
    assert_eq!(j["partitions"][0]["key"], "x+y");
    assert_eq!(j["partitions"][0]["stuck"], 2, "the read is op #2");
    let out = check(&[torn.to_str().unwrap()]);
    assert!(
        out.stdout.contains("txn [r x, r y] -> [r x 1, r y 0]"),
        "the explanation shows what was read: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("the registers were {x=0 y=0} or {x=1 y=1}"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("=> {x=0 y=0}"), "{}", out.stdout);
    let whole = file("whole.edn", &TORN_READ.replace("[:r :y 0]", "[:r :y 1]"));
    let out = check(&[whole.to_str().unwrap(), "--model", "multi-register"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("(multi-register, initially 0)"),
        "{}",
        out.stdout
    );
}

#[test]
fn knossos_mutex_histories_are_judged() {
    let twice = "{:process 0 :type :invoke :f :acquire}\n{:process 0 :type :ok :f :acquire}\n\
                 {:process 1 :type :invoke :f :acquire}\n{:process 1 :type :ok :f :acquire}\n";
    let path = file("held-twice.edn", twice);
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("(mutex, initially free)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the mutex was already held"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("#0 p0 acquire -> ok  [0, 1]") && out.stdout.contains("=> held"),
        "the prefix shows the mutex's state: {}",
        out.stdout
    );
    let handed = twice.replace(
        "{:process 1 :type :invoke",
        "{:process 0 :type :invoke :f :release}\n{:process 0 :type :info :f :release}\n{:process 1 :type :invoke",
    );
    let path = file("handed-over.edn", &handed);
    let out = check(&[path.to_str().unwrap(), "--model", "mutex"]);
    assert_eq!(
        out.code, 0,
        "a release of unknown outcome may have freed it: {}",
        out.stdout
    );
    // The register models do not have acquire: bad input, not a violation.
    let out = check(&[path.to_str().unwrap(), "--model", "cas-register"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("does not support acquire"),
        "{}",
        out.stderr
    );
}

/// The data set lives outside the repository: without DIR or `$SIM_LIN_DATA`, `sim bench check`
/// says where it looks and exits 2 instead of guessing a path; with the variable it reads there.
#[test]
fn bench_check_without_a_data_set_is_bad_usage_and_the_variable_names_one() {
    let run = |data: Option<&std::path::Path>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sim"));
        cmd.args(["bench", "check", "--runs", "1"])
            .env_remove("SIM_LIN_DATA");
        if let Some(dir) = data {
            cmd.env("SIM_LIN_DATA", dir);
        }
        cmd.output().expect("the sim binary runs")
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no data set") && err.contains("SIM_LIN_DATA"),
        "{err}"
    );

    let dir = std::env::temp_dir().join(format!("sim-bench-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = run(Some(&dir));
    assert_eq!(
        out.status.code(),
        Some(2),
        "an empty directory has no manifest"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MANIFEST.tsv: cannot read"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_one_sentence_why_is_in_the_terminal_report_and_the_json() {
    let path = file(
        "why.json",
        &history(KV, &[WRITE_X1, READ_Y_ABSENT, READ_X2]),
    );
    let human = check(&[path.to_str().unwrap()]);
    assert_eq!(human.code, 1, "{}{}", human.stdout, human.stderr);
    // Second line after the header: the sentence the history picture shows, naming the read
    // that cannot be placed, what it returned and what the key held wherever it could go.
    let why_line = human
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("  why: "))
        .unwrap_or_else(|| panic!("no why line:\n{}", human.stdout));
    assert!(why_line.contains("read"), "{why_line}");
    assert!(why_line.contains("returned 2"), "{why_line}");
    assert!(why_line.contains("x was 1"), "{why_line}");
    assert!(why_line.ends_with('.'), "one sentence: {why_line}");
    let j = json(&check(&[path.to_str().unwrap(), "--json"]));
    assert_eq!(j["why"].as_str(), Some(why_line), "the same sentence");
    let parts = j["partitions"].as_array().unwrap();
    let x = parts.iter().find(|p| p["key"] == "x").unwrap();
    assert_eq!(x["why"].as_str(), Some(why_line));
    let y = parts.iter().find(|p| p["key"] == "y").unwrap();
    assert_eq!(y["why"], Value::Null, "an unsearched key has no culprit");
    // A linearizable history has nothing to explain.
    let ok = file("why-ok.json", &history(KV, &[WRITE_X1, READ_X1]));
    let out = check(&[ok.to_str().unwrap()]);
    assert_eq!(out.code, 0);
    assert!(!out.stdout.contains("why:"), "{}", out.stdout);
    let j = json(&check(&[ok.to_str().unwrap(), "--json"]));
    assert_eq!(j["why"], Value::Null);
}
