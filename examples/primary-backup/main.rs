//! A primary-backup key-value store written outside `src/`, on sim's public API only: its own
//! messages, facts, invariant and narration (`protocol.rs`, `invariant.rs`), run through the
//! whole `sim` command line by the one line of `main` below.
//!
//! ```text
//! cargo run --release --example primary-backup -- run examples/primary-backup/scenario.toml
//! cargo run --release --example primary-backup -- sweep examples/primary-backup/bugged.toml --seeds 0..50
//! ```

mod invariant;
mod protocol;

use protocol::PrimaryBackup;
use sim::run::registry::Registry;

fn main() {
    std::process::exit(sim::cli::main_with(
        Registry::builtin().with::<PrimaryBackup>(),
    ));
}
