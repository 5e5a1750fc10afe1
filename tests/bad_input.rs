//! Hostile input through the `sim` binary: every file that is not what it should be — nested
//! 20,000 deep, binary garbage, a repeated key — exits 2 with `file:line:col` and what was
//! expected, never a stack overflow (exit 134) or a panic (101).

use crate::common;

use std::path::PathBuf;

use common::sim;

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad_input");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sim_on(command: &str, path: &std::path::Path, extra: &[&str]) -> Out {
    let mut args = vec![command, path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = sim(&args);
    Out {
        code: out.status.code().expect("an exit code, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts exit 2 and one stderr line `path:line:col: message...` starting with `message`.
#[track_caller]
fn refused_at(out: &Out, path: &std::path::Path, line: u32, col: u32, message: &str) {
    assert_eq!(
        out.code, 2,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    let expected = format!("{}:{line}:{col}: {message}", path.display());
    assert!(
        out.stderr.starts_with(&expected),
        "expected {expected:?}\nfound    {:?}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

const TOO_DEEP: &str = "expected at most 128 levels of nesting";

#[test]
fn edn_nested_20000_deep_exits_2_at_the_level_too_many() {
    let path = file("deep.edn", "[".repeat(20_000).as_bytes());
    refused_at(&sim_on("check", &path, &[]), &path, 1, 129, TOO_DEEP);
    // Closed brackets, maps and tags are refused alike.
    let closed = "[{:a ".repeat(10_000) + &"}]".repeat(10_000);
    let path = file("deep-closed.edn", closed.as_bytes());
    refused_at(&sim_on("check", &path, &[]), &path, 1, 1 + 5 * 64, TOO_DEEP);
    let tags = "\n".to_string() + &"#x ".repeat(20_000) + "1";
    let path = file("deep-tags.edn", tags.as_bytes());
    refused_at(
        &sim_on("check", &path, &[]),
        &path,
        2,
        1 + 3 * 128,
        TOO_DEEP,
    );
}

#[test]
fn json_nested_20000_deep_exits_2_at_the_level_too_many() {
    let text = "{\"format\":\"sim-history\",\n\"ops\":".to_string()
        + &"[".repeat(20_000)
        + &"]".repeat(20_000)
        + "}";
    let path = file("deep.json", text.as_bytes());
    // The object is level 1; the 128th `[` opens level 129.
    refused_at(&sim_on("check", &path, &[]), &path, 2, 7 + 127, TOO_DEEP);
}

#[test]
fn a_jepsen_argument_nested_20000_deep_exits_2() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
                INFO  jepsen.util - 0\t:ok\t:read\t"
        .to_string()
        + &"[".repeat(20_000)
        + "\n";
    let path = file("deep.log", text.as_bytes());
    refused_at(&sim_on("check", &path, &[]), &path, 2, 33 + 128, TOO_DEEP);
}

#[test]
fn a_scenario_nested_20000_deep_exits_2() {
    let text = "name = \"deep\"\nduration = ".to_string() + &"[".repeat(20_000);
    let path = file("deep.toml", text.as_bytes());
    let out = sim_on("run", &path, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(&format!("{}:2:", path.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nested less deeply"), "{}", out.stderr);
}

/// A deterministic stream of bytes (xorshift), so a failure names the same file every run.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_garbage_is_located_by_check_and_by_run() {
    // Random bytes: the first one that is not UTF-8 (or a control character) is located.
    for seed in 1..=4u64 {
        let bytes = garbage(seed, 4096);
        for command in ["check", "run"] {
            let path = file(&format!("garbage-{seed}-{command}.bin"), &bytes);
            let out = sim_on(command, &path, &[]);
            assert_eq!(out.code, 2, "{command} seed {seed}: {}", out.stderr);
            let line = out.stderr.lines().next().unwrap_or("");
            let rest = line
                .strip_prefix(&format!("{}:", path.display()))
                .unwrap_or_else(|| panic!("{command}: no file name in {line:?}"));
            let mut parts = rest.splitn(3, ':');
            let (l, c) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(
                l.parse::<u32>().is_ok() && c.parse::<u32>().is_ok(),
                "{command}: no line:col in {line:?}"
            );
            assert!(line.contains("(a binary file?)"), "{command}: {line}");
        }
    }
    // Invalid UTF-8 after valid lines, and NUL bytes in otherwise valid text.
    let path = file(
        "latin1.edn",
        b"[{:process 0, :type :invoke,\n  :f :write, :value \"caf\xe9\"}]",
    );
    refused_at(
        &sim_on("check", &path, &[]),
        &path,
        2,
        25,
        "expected UTF-8 text, found the byte 0xE9 (a binary file?)",
    );
    let path = file("nul.json", b"{\"format\":\"sim-history\",\0\"version\":1}");
    refused_at(
        &sim_on("check", &path, &[]),
        &path,
        1,
        25,
        "expected text, found the control character U+0000",
    );
    let path = file("nul.toml", b"name = \"x\"\n\0\0\0\0");
    refused_at(
        &sim_on("run", &path, &[]),
        &path,
        2,
        1,
        "expected text (a TOML scenario), found the control character U+0000",
    );
    let path = file("latin1.toml", b"name = \"caf\xe9\"\n");
    refused_at(
        &sim_on("run", &path, &[]),
        &path,
        1,
        12,
        "expected UTF-8 text (a TOML scenario), found the byte 0xE9",
    );
    // A sweep reads the scenario the same way: the byte is located, not just "not UTF-8".
    refused_at(
        &sim_on("sweep", &path, &["--seeds", "1..3"]),
        &path,
        1,
        12,
        "expected UTF-8 text (a TOML scenario), found the byte 0xE9",
    );
}

#[test]
fn a_duplicated_scenario_key_is_named_with_its_line_and_column() {
    let path = file(
        "dup.toml",
        b"name = \"a\"\nduration = \"1s\"\n\n[cluster]\nnodes = 3\nprotocol = \"raft\"\nnodes = 5\n",
    );
    refused_at(
        &sim_on("run", &path, &[]),
        &path,
        7,
        1,
        "invalid TOML: duplicate key `nodes`",
    );
}

#[test]
fn html_never_overwrites_an_existing_file_without_force() {
    let history = file(
        "h.edn",
        b"[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok :f :write :value 1}]",
    );
    let pic = file("existing.html", b"precious");
    let out = sim_on("check", &history, &["--html", pic.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr.trim(),
        format!(
            "{}: already exists; pass --force to replace it, or choose another --html file",
            pic.display()
        )
    );
    assert_eq!(std::fs::read(&pic).unwrap(), b"precious", "left untouched");
    let out = sim_on(
        "check",
        &history,
        &["--html", pic.to_str().unwrap(), "--force"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = std::fs::read_to_string(&pic).unwrap();
    assert!(page.contains("<svg"), "replaced by the picture");
}
