#!/usr/bin/env bash
# Runs each fuzz target for a fixed time, one after the other (one core each), and reports
# executions, coverage and findings per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]    default: 60 seconds, every target
#
# Needs nightly Rust and cargo-fuzz (`rustup toolchain install nightly --profile minimal`,
# `cargo install cargo-fuzz`). Seeds fuzz/corpus/ first when it is missing (scripts/fuzz-seed.sh).
# A finding is a file under fuzz/artifacts/<target>/: replay it with
# `cargo +nightly fuzz run <target> <file>`, copy it under fuzz/regressions/<target>/ and fix
# it; tests/fuzz_regressions.rs then feeds it through the same code on every `cargo test`.
# Exit status: 0 when nothing was found, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(scenario history_json history_jepsen history_edn run_generated)
fi
[ -d fuzz/corpus/scenario ] || scripts/fuzz-seed.sh >/dev/null
cargo +nightly fuzz build >/dev/null 2>fuzz/build.log || {
  cat fuzz/build.log >&2
  exit 2
}
found=0
printf '%-16s %8s %12s %10s %8s %6s %9s\n' target seconds execs execs/s cov ft findings
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  log="fuzz/$t.log"
  # -rss_limit_mb and -malloc_limit_mb make unbounded memory a finding; -timeout a hang one.
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 >"$log" 2>&1
  after=$(find "fuzz/artifacts/$t" -type f | wc -l)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  rate=$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))
  new=$((after - before))
  [ "$new" -gt 0 ] && found=1
  printf '%-16s %8s %12s %10s %8s %6s %9s\n' "$t" "$seconds" "${execs:-?}" "$rate" "${cov:-?}" "${ft:-?}" "$new"
  if [ "$new" -gt 0 ]; then
    grep -E 'ERROR: libFuzzer|panicked at|deadly signal|out-of-memory|timeout' "$log" | head -3 | sed 's/^/    /'
    find "fuzz/artifacts/$t" -type f -newer "fuzz/build.log" | sed 's/^/    /'
  fi
done
exit "$found"
