#!/usr/bin/env bash
# Runs each fuzz target for a fixed time, one per core (FUZZ_JOBS=N: N at a time), and reports
# executions, coverage and findings per target.
#
#   scripts/fuzz.sh [--ci | --nightly] [SECONDS] [TARGET ...]    default: 60 seconds, every target
#                                                                SECONDS 0: build, run nothing
#
# How the targets are built:
#   (default)  stable Rust, no cargo-fuzz: libFuzzer (from the libfuzzer-sys crate, compiled with
#              the system's C++ compiler) and the SanitizerCoverage instrumentation stable rustc
#              accepts, as `cargo fuzz build --sanitizer none` passes it; fuzz/Cargo.toml's
#              `fuzz` profile (opt-level 3, every debug_assert! and overflow check on).
#   --ci       the same with the `fuzz-ci` profile (opt-level 1, no debug info) and without
#              comparison tracing and stack depth: less build time, up to half the executions
#              per second; for a run of seconds in CI.
#   --nightly  `cargo +nightly fuzz` with AddressSanitizer (`rustup toolchain install nightly
#              --profile minimal`, `cargo install cargo-fuzz`): for unsafe code in dependencies.
#
# Before running, seeds fuzz/corpus/ when it is missing (scripts/fuzz-seed.sh; SIM names the `sim` binary
# it runs, default target/release/sim). A finding is a file under fuzz/artifacts/<target>/:
# replay it with `fuzz/target/<host>/fuzz/<target> <file>` (or `cargo +nightly fuzz run <target>
# <file>`), copy it under fuzz/regressions/<target>/ and fix it; tests/fuzz_regressions.rs then
# feeds it through the same code on every `cargo test`.
# Exit status: 0 when nothing was found, 1 on a finding, 2 when the build fails or a target is
# not coverage-instrumented.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
mode=stable
profile=fuzz
case "${1:-}" in
  --ci) profile=fuzz-ci; shift ;;
  --nightly) mode=nightly; shift ;;
  -*) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(scenario history_json history_jepsen history_edn run_generated)
fi
[[ "$seconds" =~ ^[0-9]+$ ]] || {
  echo "SECONDS must be a number of seconds (0: build only), got '$seconds'" >&2
  exit 2
}

start=$SECONDS
if [ "$mode" = nightly ]; then
  build=(cargo +nightly fuzz build)
else
  # The host triple given as --target keeps RUSTFLAGS off build scripts and proc macros, which
  # would not link against libFuzzer's coverage callbacks. The flags are those cargo-fuzz passes
  # with `--sanitizer none`: edge coverage as inline 8-bit counters with their PC table (what
  # libFuzzer's cov:/ft: count), comparison operands (so it can solve `==` on input bytes) and
  # stack depth (both left out under --ci, below), and `--cfg fuzzing` for code that knows it
  # is fuzzed.
  host=$(rustc -vV | sed -n 's/^host: //p')
  RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table"
  # A run of seconds (--ci) cannot profit from comparison tracing, which helps libFuzzer solve
  # `==` on input bytes over minutes, and it costs build time on CI's critical path; it keeps
  # edge coverage, which is what finds new inputs in seconds.
  if [ "$profile" = fuzz ]; then
    RUSTFLAGS="$RUSTFLAGS -Cllvm-args=-sanitizer-coverage-trace-compares \
-Cllvm-args=-sanitizer-coverage-stack-depth"
  fi
  export RUSTFLAGS
  build=(cargo build --locked --manifest-path fuzz/Cargo.toml --profile "$profile" --target "$host" --bins)
fi
"${build[@]}" >/dev/null 2>fuzz/build.log || {
  cat fuzz/build.log >&2
  exit 2
}
echo "fuzz: built ($mode, $((SECONDS - start))s${host:+, profile $profile})" >&2
[ "$seconds" -gt 0 ] || exit 0
[ -d fuzz/corpus/scenario ] || scripts/fuzz-seed.sh >/dev/null || exit 2
mkdir -p fuzz/artifacts

# One fuzzer per core (FUZZ_JOBS overrides): each target runs for SECONDS on its own core, so
# five targets take three rounds on two cores, not five.
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || {
  echo "FUZZ_JOBS must be a positive number, got '$jobs'" >&2
  exit 2
}
# -rss_limit_mb and -malloc_limit_mb make unbounded memory a finding; -timeout a hang one.
# libFuzzer sees single mallocs only through a sanitizer's hooks: in the stable build only the
# resident-memory limit holds (checked: a 40 MB limit leaves an oom- input under artifacts).
options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024
  -print_final_stats=1)
fuzz_one() { # target: runs it, its output in fuzz/<target>.log
  local t=$1 log="fuzz/$1.log"
  if [ "$mode" = nightly ]; then
    cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- "${options[@]}" >"$log" 2>&1
  else
    "fuzz/target/$host/$profile/$t" "fuzz/corpus/$t" "${options[@]}" \
      -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  fi
}
declare -A before
running=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  before[$t]=$(find "fuzz/artifacts/$t" -type f | wc -l)
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  # A finding exits nonzero: it is counted below from fuzz/artifacts/, not from the status.
  fuzz_one "$t" &
  running=$((running + 1))
done
wait || true

found=0
printf '%-16s %8s %12s %10s %8s %6s %9s\n' target seconds execs execs/s cov ft findings
for t in "${targets[@]}"; do
  log="fuzz/$t.log"
  # Without instrumentation libFuzzer still runs, blind: it says so, and has no counters to load.
  if ! grep -q 'INFO: Loaded 1 modules *([1-9][0-9]* inline 8-bit counters)' "$log"; then
    echo "fuzz: $t is not coverage-instrumented (no inline 8-bit counters in $log)" >&2
    exit 2
  fi
  after=$(find "fuzz/artifacts/$t" -type f | wc -l)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  rate=$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))
  new=$((after - ${before[$t]}))
  [ "$new" -gt 0 ] && found=1
  printf '%-16s %8s %12s %10s %8s %6s %9s\n' "$t" "$seconds" "${execs:-?}" "$rate" "${cov:-?}" "${ft:-?}" "$new"
  if [ "$new" -gt 0 ]; then
    grep -E 'ERROR: libFuzzer|panicked at|deadly signal|out-of-memory|timeout' "$log" | head -3 | sed 's/^/    /'
    find "fuzz/artifacts/$t" -type f -newer "fuzz/build.log" | sed 's/^/    /'
  fi
done
echo "fuzz: done in $((SECONDS - start))s" >&2
exit "$found"
