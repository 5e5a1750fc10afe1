//! `sim merge DIR... [--junit F] [--force] [--json]`: the `--out` directories of a sharded sweep,
//! checked to be the shards of one sweep and complete, printed as the unsharded sweep prints
//! (byte-identical stdout). The JUnit file has one suite per shard. Exit codes as `sim sweep`.

use std::path::PathBuf;

use clap::Args;

use crate::run::exit::{self, ExitCode};
use crate::sweep::merge::merge as merge_dirs;

#[derive(Args, Debug)]
pub(crate) struct MergeArgs {
    /// The --out directories of the shards (every shard of one sweep, each complete).
    #[arg(required = true, value_name = "DIR")]
    pub(crate) dirs: Vec<PathBuf>,
    /// Write a JUnit XML report here (one suite per shard).
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Replace an existing --junit file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print one JSON document on stdout (the table goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn merge(args: MergeArgs) -> i32 {
    if let Some(path) = &args.junit
        && !args.force
        && path.exists()
    {
        eprintln!(
            "sim merge: {}: already exists; pass --force to replace it",
            path.display()
        );
        return ExitCode::BadInput.code();
    }
    let merged = match merge_dirs(&args.dirs) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("sim merge: {e}");
            return ExitCode::BadInput.code();
        }
    };
    let code = super::sweep::report(
        &merged.whole,
        &merged.shards,
        args.json,
        args.junit.as_deref(),
        args.force,
    );
    exit::worst([code, merged.whole.exit_code()]).code()
}
