//! What the tests of deploy/ share: a stand-in for the machine a deploy file's commands run on
//! (this repository's scenarios in the working directory, this build's `sim` at hand), a shell
//! script run there with only the environment the file gives it, and the check every merge of
//! shards must pass: the unsharded sweep's table and exit code.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{code, root, show, sim, text};

/// A scenario sim refuses at line 2 (exit 2): a duration must be a string such as "2s".
pub const BAD_SCENARIO: &str = "name = \"bad\"\nduration = 3\n";

/// The directory of the `sim` under test (what an image's PATH or a build step provides).
pub fn sim_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_sim"))
        .parent()
        .expect("sim is in a directory")
        .to_path_buf()
}

/// A working directory holding this repository's `scenarios/`, as an image or a checkout does.
pub fn workdir(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    std::os::unix::fs::symlink(root().join("scenarios"), dir.join("scenarios")).unwrap();
    dir.to_path_buf()
}

/// `argv` (a shell, its flags and the script) run in `cwd` with the variables `env` and nothing
/// else of this process's environment but a PATH on which this build's `sim` comes first.
pub fn script(argv: &[String], cwd: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", sim_dir().display()),
        )
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The merged shards print the table `sim sweep` prints for the same seeds in one process, byte
/// for byte, and end with its exit code.
pub fn assert_merge_is_the_unsharded_sweep(merged: &Output, scenario: &str, seeds: &str) {
    let whole = sim(&["sweep", scenario, "--seeds", seeds]);
    assert!(
        [0, 1, 3].contains(&code(&whole)),
        "the unsharded sweep: {}",
        show(&whole)
    );
    assert_eq!(
        code(merged),
        code(&whole),
        "merge: {}\nunsharded: {}",
        show(merged),
        show(&whole)
    );
    assert_eq!(
        text(&merged.stdout),
        text(&whole.stdout),
        "{}",
        show(merged)
    );
}
