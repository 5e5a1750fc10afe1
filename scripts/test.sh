#!/usr/bin/env bash
# Every test, with every debug_assert! and integer-overflow check on: README.md's test command,
# and what .ci/run runs.
#
#   scripts/test.sh [TEST-ARGS ...]    TEST-ARGS go to each test harness (a name filter, say)
#
# Three cargo commands, because the three kinds of test want different builds:
#   1. the unit tests beside the code (`--lib`; the binary has none), in the dev profile:
#      unoptimised, which compiles the crate with its tests in about half the CPU time of an
#      optimised build, and they run in seconds all the same;
#   2. the end-to-end tests of the `sim` binary (tests/e2e.rs, one test binary), optimised with
#      the assertions on (Cargo.toml's `checked` profile): they sweep hundreds of seeds. The
#      examples are built first, as executables, because tests/primary_backup.rs runs one;
#   3. the documentation's examples, in the same profile, compiled merged into one crate.
# Exit status: cargo's (0 when every test passed).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --lib -- "$@"
cargo build --locked --profile checked --examples
cargo test --locked --profile checked --test e2e -- "$@"
cargo test --locked --profile checked --doc -- "$@"
